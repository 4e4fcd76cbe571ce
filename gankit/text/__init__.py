"""Text for conditional generation: offline sentence encoders and the reference a model keeps.

Example:
    >>> from gankit.text import open_encoder
    >>> open_encoder().encode(["a thin slanted seven"]).shape
    torch.Size([1, 384])
"""

from gankit.text.encoder import (
    DEFAULT_ENCODER,
    ENCODER_ENV,
    EncoderRef,
    SentenceEncoder,
    encoder_for,
    open_encoder,
)

__all__ = [
    "DEFAULT_ENCODER",
    "ENCODER_ENV",
    "EncoderRef",
    "SentenceEncoder",
    "encoder_for",
    "open_encoder",
]
