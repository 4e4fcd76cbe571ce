"""Generator/discriminator pairs for image-to-image translation, assembled from U-Net and PatchGAN.

- ``pix2pix``: a U-Net ``G(z, source) -> target`` and a conditional PatchGAN ``D(target, source)``.
- ``cyclegan``: two U-Nets (A->B, B->A) and two unconditional PatchGANs (one per domain), wrapped
  as *one* G module and *one* D module so the shared engine trains, averages (EMA), checkpoints
  and resumes them like any other pair. The condition and the "real" batch are both
  ``concat(a, b)`` along channels (see :class:`gankit.data.paired.UnpairedData`):
  ``G(z, concat(a, b)) = concat(G_BA(b), G_AB(a))`` (fake A, fake B), and
  ``D(concat(a, b)) = concat(D_A(a), D_B(b))`` patch logits, so one adversarial loss over D's
  output is the mean of the two directions' losses.

Example:
    >>> import torch
    >>> G, D = build_cyclegan(CycleGANConfig(resolution=32, width=4, d_width=4))
    >>> pair = torch.randn(2, 2, 32, 32)          # concat(a, b): 1 + 1 channels
    >>> G(torch.zeros(2, 0), pair).shape, D(pair, pair).shape
    (torch.Size([2, 2, 32, 32]), torch.Size([2, 8]))
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from gankit.errors import GankitError
from gankit.nn.patchgan import PatchDiscriminator, PatchGANConfig
from gankit.nn.unet import UNetConfig, UNetGenerator


@dataclass(frozen=True)
class Pix2PixConfig:
    """U-Net G and conditional PatchGAN D (pix2pix); see :class:`UNetConfig` and PatchGANConfig.

    ``d_layers=3`` gives 70x70 patches; on 32-px images 2 (34x34 patches) leaves D 6x6 decisions.
    """

    resolution: int = 32
    in_channels: int = 1
    out_channels: int = 1
    width: int = 64
    max_width: int = 512
    depth: int = 5
    norm: str = "batch"
    dropout: float = 0.5
    d_width: int = 64
    d_layers: int = 3
    d_norm: str = "batch"
    spectral_norm: bool = False
    # The recipe's loss weights travel with the modules, so config.json rebuilds the whole recipe.
    l1_weight: float = 100.0  # pix2pix's lambda
    gan_weight: float = 1.0  # 0: an L1-only U-Net (D is neither trained nor consulted)

    def __post_init__(self) -> None:
        self.unet(), self.patchgan()  # validates every field with the part's own message
        _check_weights(self, ("l1_weight", "gan_weight"))

    def unet(self) -> UNetConfig:
        return UNetConfig(
            resolution=self.resolution,
            in_channels=self.in_channels,
            out_channels=self.out_channels,
            width=self.width,
            max_width=self.max_width,
            depth=self.depth,
            norm=self.norm,
            dropout=self.dropout,
        )

    def patchgan(self) -> PatchGANConfig:
        return PatchGANConfig(
            in_channels=self.out_channels,
            cond_channels=self.in_channels,  # D judges (source, output) pairs
            width=self.d_width,
            n_layers=self.d_layers,
            norm=self.d_norm,
            spectral_norm=self.spectral_norm,
        )


def build_pix2pix(config: Pix2PixConfig) -> tuple[UNetGenerator, PatchDiscriminator]:
    """``(G, D)`` for paired translation."""
    return UNetGenerator(config.unet()), PatchDiscriminator(config.patchgan())


@dataclass(frozen=True)
class CycleGANConfig:
    """Two U-Nets and two PatchGANs (CycleGAN). ``channels_a`` / ``channels_b``: 1 or 3 each.

    Instance norm (CycleGAN's choice) and no dropout by default: the cycle loss already ties each
    output to its input, and an unpaired G has no use for pix2pix's noise.
    """

    resolution: int = 32
    channels_a: int = 1
    channels_b: int = 1
    width: int = 64
    max_width: int = 512
    depth: int = 5
    norm: str = "instance"
    dropout: float = 0.0
    d_width: int = 64
    d_layers: int = 3
    d_norm: str = "instance"
    spectral_norm: bool = False
    cycle_weight: float = 10.0  # lambda of the cycle loss (per direction, as in the paper)
    identity_weight: float = 0.5  # times cycle_weight; needs channels_a == channels_b
    pool_size: int = 50  # history of fakes shown to D (Shrivastava et al. 2017); 0 = none
    # Structure consistency (gankit.data.ink.structure_map): each translation must keep
    # its source's low-frequency shape, compared at structure_size^2 pixels after removing
    # brightness and contrast and, with structure_align, position and scale (ink moments);
    # structure_deskew also removes slant and half the aspect ratio from the frame and softens
    # the strokes first (stroke width and slant are style, not shape).
    structure_weight: float = 0.0
    structure_size: int = 8
    structure_align: bool = True
    structure_deskew: bool = False
    # Semantic consistency (CyCADA, Hoffman et al. 2018; see
    # gankit.tasks.semantic_classifier.semantic_view): a classifier trained before the game on
    # domain A's own labels (semantic_steps Adam steps) and then frozen asks each translation
    # to keep the class it gives the source. Needs labelled domain A; 0 uses no labels at all.
    # semantic_adapt reads the translations into B with a second classifier, fitted on domain
    # B's images as they are, labelled by the first (the most confident half of each class;
    # self-training, no B labels): it reads classes as B draws them. semantic_rounds > 1
    # repeats the self-training with the previous B classifier as the teacher
    # (gankit.tasks.semantic_classifier.adapt_semantic_classifier). semantic_jitter reads each
    # translation under a random shift (<= 2 px) and turn (<= 10 degrees), the augmentation
    # the classifiers were trained with, so G cannot satisfy them with pixel-exact detail that
    # no real digit of the class has.
    semantic_weight: float = 0.0
    semantic_steps: int = 600
    semantic_adapt: bool = False
    semantic_rounds: int = 1
    semantic_jitter: bool = True

    def __post_init__(self) -> None:
        self.unet("AB"), self.unet("BA"), self.patchgan("A")  # validates the fields
        _check_weights(
            self, ("cycle_weight", "identity_weight", "structure_weight", "semantic_weight")
        )
        for name in ("semantic_steps", "semantic_rounds"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise GankitError(f"cyclegan {name} must be an integer >= 1, got {value!r}")
        if not isinstance(self.pool_size, int) or self.pool_size < 0:
            raise GankitError(f"cyclegan pool_size must be an integer >= 0, got {self.pool_size!r}")
        if (
            isinstance(self.structure_size, bool)
            or not isinstance(self.structure_size, int)
            or not 2 <= self.structure_size <= self.resolution
        ):
            raise GankitError(
                f"cyclegan structure_size must be an integer from 2 to the resolution "
                f"({self.resolution}), got {self.structure_size!r}"
            )
        for name in ("structure_align", "structure_deskew", "semantic_adapt", "semantic_jitter"):
            if not isinstance(getattr(self, name), bool):
                raise GankitError(
                    f"cyclegan {name} must be true or false, got {getattr(self, name)!r}"
                )
        if self.structure_deskew and not self.structure_align:
            raise GankitError(
                "cyclegan structure_deskew refines the aligned frame, so it needs "
                "structure_align=true"
            )
        if self.semantic_rounds > 1 and not self.semantic_adapt:
            raise GankitError(
                "cyclegan semantic_rounds repeats the self-training of the domain-B classifier, "
                "so it needs semantic_adapt=true"
            )
        if self.identity_weight > 0 and self.channels_a != self.channels_b:
            raise GankitError(
                f"the identity loss compares G_AB(b) with b, so it needs channels_a == "
                f"channels_b (got {self.channels_a} and {self.channels_b}); set identity_weight=0"
            )

    def unet(self, direction: str) -> UNetConfig:
        a, b = self.channels_a, self.channels_b
        in_ch, out_ch = (a, b) if direction == "AB" else (b, a)
        return UNetConfig(
            resolution=self.resolution,
            in_channels=in_ch,
            out_channels=out_ch,
            width=self.width,
            max_width=self.max_width,
            depth=self.depth,
            norm=self.norm,
            dropout=self.dropout,
        )

    def patchgan(self, domain: str) -> PatchGANConfig:
        channels = self.channels_a if domain == "A" else self.channels_b
        return PatchGANConfig(
            in_channels=channels,
            width=self.d_width,
            n_layers=self.d_layers,
            norm=self.d_norm,
            spectral_norm=self.spectral_norm,
        )


def _check_weights(config: object, names: tuple[str, ...]) -> None:
    for name in names:
        value = getattr(config, name)
        if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise GankitError(f"{name} must be a finite number >= 0, got {value!r}")


def _split(x: Tensor, channels_a: int, channels_b: int) -> tuple[Tensor, Tensor]:
    if x.shape[1] != channels_a + channels_b:
        raise GankitError(
            f"CycleGAN modules take concat(a, b) with {channels_a} + {channels_b} channels, got "
            f"shape {tuple(x.shape)}"
        )
    return x[:, :channels_a], x[:, channels_a:]


class CycleGenerator(nn.Module):
    """``G(z, concat(a, b)) -> concat(G_BA(b), G_AB(a))``: both translations in one module."""

    latent_dim = 0

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        self.channels = (config.channels_a, config.channels_b)
        self.G_AB = UNetGenerator(config.unet("AB"))
        self.G_BA = UNetGenerator(config.unet("BA"))

    def forward(self, z: Tensor, pair: Tensor) -> Tensor:
        a, b = _split(pair, *self.channels)
        return torch.cat([self.G_BA(z, b), self.G_AB(z, a)], dim=1)  # (fake A, fake B)

    def translate(self, images: Tensor, direction: str) -> Tensor:
        """One direction only: ``"AB"`` maps domain A images to B, ``"BA"`` the reverse."""
        G = {"AB": self.G_AB, "BA": self.G_BA}[direction]
        return G(images.new_zeros(len(images), 0), images)


class CycleDiscriminator(nn.Module):
    """``D(concat(a, b)) -> concat(D_A(a), D_B(b))`` patch logits; the condition is ignored."""

    def __init__(self, config: CycleGANConfig) -> None:
        super().__init__()
        self.channels = (config.channels_a, config.channels_b)
        self.D_A = PatchDiscriminator(config.patchgan("A"))
        self.D_B = PatchDiscriminator(config.patchgan("B"))

    def forward(self, pair: Tensor, cond: Tensor | None = None) -> Tensor:
        a, b = _split(pair, *self.channels)
        return torch.cat([self.D_A(a), self.D_B(b)], dim=1)  # (B, 2 * patches)


def build_cyclegan(config: CycleGANConfig) -> tuple[CycleGenerator, CycleDiscriminator]:
    """``(G, D)`` for unpaired translation: both directions in each module."""
    return CycleGenerator(config), CycleDiscriminator(config)
