"""Super-resolution x2/x4: ``SuperResolution`` (ESRGAN-style, over the shared engine).

The recipe of Wang et al. (2018), as an :class:`~gankit.train.objective.Objective`:

1. pixel pre-training: L1 alone for ``pretrain_steps`` (adversarial weight 0, D idle): the
   PSNR-oriented model;
2. then ``pixel_weight`` x L1 + ``perceptual_weight`` x feature distance + ``adversarial_weight``
   x the relativistic GAN loss (``rpgan``), starting from the pre-trained G.

The perceptual features come from D itself by default (``perceptual="discriminator"``): a network
gankit trains on exactly these HR patches, whose job is to tell real texture from SR output, with
no download and no extra training phase. A local VGG19 file (torchvision's layout, as
safetensors) can be passed instead; ESRGAN's conv5_4 features (before the ReLU) are used then.
Either way the distance is relative (``|f(sr) - f(hr)|_1 / |f(hr)|_1`` per feature map), so
the weights mean the same whatever the features' scale.

Data: random HR patches of the photographs installed packages ship
(:data:`gankit.data.superres.TRAINING_IMAGES`) or of a folder of your own, degraded on the fly by
antialiased bicubic downscaling. Inference is tiled with overlap, so any image size fits in memory.

Example:
    >>> from gankit import SuperResolution
    >>> tiny = {"width": 8, "blocks": 1, "growth": 4, "d_width": 8, "d_stages": 2}
    >>> sr = SuperResolution("esrgan", scale=4, patch=32, model=tiny, batch_size=2)
    >>> sr = sr.fit(steps=1, quiet=True)  # the shipped photographs; real runs: thousands of steps
    >>> small = torch.randint(0, 256, (3, 20, 30), dtype=torch.uint8)  # or a file path
    >>> sr.apply(small).shape  # uint8 (3, 4H, 4W)
    torch.Size([3, 80, 120])
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from gankit.data.folder import find_images
from gankit.data.superres import (
    ORIGINAL_PHOTOS,
    SRPatches,
    available_training_images,
    bicubic_upscale,
    degrade,
    load_benchmark,
    modcrop,
    read_rgb_image,
    training_images,
)
from gankit.errors import GankitError
from gankit.io import check_state, load_tensors
from gankit.metrics.image_quality import psnr_y, ssim_y
from gankit.nn import TRANSLATORS
from gankit.nn.rrdb import RRDBConfig
from gankit.tasks.base import Preset, Translator
from gankit.train import TrainConfig
from gankit.train.ema import make_ema
from gankit.train.objective import Objective, Players
from gankit.viz import save_image_grid, to_uint8

SHIPPED = "photos"  # the data name of the built-in training photographs
_PREVIEW = 4  # patches in the sample grids
_TILE, _OVERLAP = 128, 16  # LR pixels per inference tile, and the context added on each side
# Default largest random shrink of the HR sources: off, as zoom 2 and 3 gained nothing on the
# validation photos (docs/superres.md).
ZOOM = 1.0


# ----------------------------------------------------------------------------- perceptual


def _relative_l1(fake: list[Tensor], real: list[Tensor]) -> Tensor:
    """Mean over feature maps of ``|f_fake - f_real|_1 / |f_real|_1`` (scale-free)."""
    terms = [
        (f - r).abs().mean() / r.abs().mean().clamp_min(1e-8)
        for f, r in zip(fake, real, strict=True)
    ]
    return torch.stack(terms).mean()


class VGGFeatures(nn.Module):
    """VGG19 up to conv5_4 before its ReLU (ESRGAN's perceptual layer), from a local file.

    The file is torchvision's ``vgg19`` state dict (``features.*`` keys; ``classifier.*`` is
    ignored) saved as safetensors. Inputs in [-1, 1] are mapped to ImageNet's normalisation.
    """

    _MEAN = (0.485, 0.456, 0.406)
    _STD = (0.229, 0.224, 0.225)
    _LAST = 35  # features[:35] ends with conv5_4, before its ReLU

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        from torchvision.models.vgg import cfgs, make_layers

        if not Path(path).is_file():
            raise GankitError(
                f"perceptual weights file {path} not found; pass a local VGG19 state dict "
                "(torchvision layout) saved as .safetensors, or perceptual=discriminator"
            )
        self.layers = make_layers(cfgs["E"])[: self._LAST]  # VGG19's conv stack, no classifier
        found = {
            k[len("features.") :]: v
            for k, v in load_tensors(path).items()
            if k.startswith("features.") and int(k.split(".")[1]) < self._LAST
        }
        check_state(self.layers.state_dict(), found, f"{path} (VGG19 features)")
        self.layers.load_state_dict(found)
        self.requires_grad_(False).eval()
        self.register_buffer("mean", torch.tensor(self._MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(self._STD).view(1, 3, 1, 1))

    def forward(self, x: Tensor) -> list[Tensor]:
        return [self.layers(((x + 1) / 2 - self.mean) / self.std)]


class SRObjective(Objective):
    """ESRGAN's G terms and phases; see the module notes.

    Example:
        >>> objective = SRObjective(RRDBConfig(pretrain_steps=100))
        >>> objective.adversarial_weight(99), objective.adversarial_weight(100)
        (0.0, 0.01)
    """

    def __init__(self, config: RRDBConfig) -> None:
        self.config = config
        self.vgg = VGGFeatures(config.perceptual) if config.perceptual != "discriminator" else None

    def _adversarial_phase(self, step: int) -> bool:
        return self.config.adversarial_weight > 0 and step >= self.config.pretrain_steps

    def adversarial_weight(self, step: int) -> float:
        return self.config.adversarial_weight if self._adversarial_phase(step) else 0.0

    def g_terms(
        self, players: Players, real: Tensor, fake: Tensor, cond: Tensor
    ) -> dict[str, Tensor]:
        l1 = (fake - real).abs().mean()
        if not self._adversarial_phase(players.step):
            return {"l1": l1}
        terms = {"l1": self.config.pixel_weight * l1}
        if self.config.perceptual_weight > 0:
            if self.vgg is not None:
                features = self.vgg.to(fake.device)
            else:
                features = getattr(players.D, "module", players.D).features  # unwrap DDP
            with torch.no_grad():
                real_features = features(real)
            distance = _relative_l1(features(fake), real_features)
            terms["perceptual"] = self.config.perceptual_weight * distance
        return terms


# ----------------------------------------------------------------------------- inference


def _dihedral(k: int, flip: bool) -> tuple[Callable[[Tensor], Tensor], Callable[[Tensor], Tensor]]:
    """A flip then ``k`` quarter turns of (..., H, W) images, and the transform that undoes it."""

    def do(x: Tensor) -> Tensor:
        return torch.rot90(x.flip(-1) if flip else x, k, dims=(-2, -1))

    def undo(x: Tensor) -> Tensor:
        x = torch.rot90(x, -k, dims=(-2, -1))
        return x.flip(-1) if flip else x

    return do, undo


# The 8 symmetries of the square, identity first.
_DIHEDRAL = tuple(_dihedral(k, flip) for flip in (False, True) for k in range(4))


@torch.no_grad()
def upscale_tiled(
    G: nn.Module, lr: Tensor, scale: int, tile: int = _TILE, overlap: int = _OVERLAP
) -> Tensor:
    """``G`` on ``lr`` (1, C, h, w) tile by tile; returns (1, C, scale*h, scale*w).

    Each ``tile`` x ``tile`` block is run with ``overlap`` extra LR pixels of context on every side
    and only its own region is kept, so memory stays bounded and seams vanish: with an overlap at
    least G's receptive-field radius the result equals whole-image inference exactly.

    Example:
        >>> G = load(sr_model).G_ema  # an x2 RRDB generator
        >>> lr = torch.rand(1, 3, 30, 20) * 2 - 1
        >>> upscale_tiled(G, lr, scale=2, tile=16).shape
        torch.Size([1, 3, 60, 40])
    """
    if tile < 1 or overlap < 0:
        raise GankitError(f"tile must be >= 1 and overlap >= 0, got {tile} and {overlap}")
    _, channels, h, w = lr.shape
    out = lr.new_empty(1, channels, h * scale, w * scale)
    z = lr.new_zeros(1, 0)
    for top in range(0, h, tile):
        for left in range(0, w, tile):
            bottom, right = min(top + tile, h), min(left + tile, w)
            t0, l0 = max(top - overlap, 0), max(left - overlap, 0)
            b0, r0 = min(bottom + overlap, h), min(right + overlap, w)
            sr = G(z, lr[..., t0:b0, l0:r0])
            dy, dx = (top - t0) * scale, (left - l0) * scale
            rows, cols = (bottom - top) * scale, (right - left) * scale
            out[..., top * scale : bottom * scale, left * scale : right * scale] = sr[
                ..., dy : dy + rows, dx : dx + cols
            ]
    return out


def _as_rgb_uint8(image: Any) -> Tensor:
    """A path, uint8 tensor (C, H, W) or numpy (H, W[, C]) image -> RGB uint8 (3, H, W)."""
    if isinstance(image, str | Path):
        return read_rgb_image(image)
    if isinstance(image, np.ndarray) and image.dtype == np.uint8:
        # Only uint8 converts: a float array in [0, 1] cast to uint8 would come back black.
        array = image if image.ndim == 2 else image.transpose(2, 0, 1)
        image = torch.from_numpy(np.ascontiguousarray(array))
    if not isinstance(image, Tensor) or image.dtype != torch.uint8:
        raise GankitError(
            "upscale takes an image file path, a uint8 torch tensor (C, H, W) or a uint8 numpy "
            f"array (H, W, C); got {type(image).__name__} {getattr(image, 'dtype', '')}"
        )
    if image.dim() == 2:
        image = image.unsqueeze(0)
    if image.dim() != 3 or image.shape[0] not in (1, 3):
        raise GankitError(f"upscale needs a (3, H, W) or (1, H, W) image, got {tuple(image.shape)}")
    return image.expand(3, -1, -1) if image.shape[0] == 1 else image


# ----------------------------------------------------------------------------- the task


def _sr_train(**overrides: Any) -> TrainConfig:
    # ESRGAN: Adam (0.9, 0.99), relativistic D, batch 16; no augmentation (it would change what
    # "real texture" means), checkpoints often enough to keep the pre-trained model.
    settings = dict(
        batch_size=16,
        loss="rpgan",
        lr_g=2e-4,
        lr_d=2e-4,
        betas=(0.9, 0.99),
        ema_beta=0.999,
        sample_every=500,
        checkpoint_every=500,
        log_every=50,
    )
    return TrainConfig(**{**settings, **overrides})


SR_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "esrgan",
            "ESRGAN-style (Wang et al. 2018), CPU-sized: 2 RRDBs of width 32, pixel-shuffle "
            "upsampling, bicubic skip; L1 pre-training for half the steps, then L1 + "
            "D-feature perceptual loss + relativistic GAN loss.",
            "rrdb",
            {"pretrain_steps": 2000},
            _sr_train(steps=4000),
        ),
        Preset(
            "psnr",
            "The PSNR-oriented model: the same RRDB generator trained on L1 alone (no D), "
            "Adam lr 1e-3 (the pixel loss alone is stable at this rate and gets further in a "
            "short CPU budget).",
            "rrdb",
            {"adversarial_weight": 0.0, "perceptual_weight": 0.0},
            _sr_train(steps=2000, lr_g=1e-3),
        ),
    )
}


class SuperResolution(Translator):
    """Upscale images x2 or x4 with an RRDB generator trained ESRGAN-style.

    ``scale`` (2 or 4, default 4), ``patch`` (HR training patch side, default 96) and ``zoom``
    (largest random shrink of the HR sources, default :data:`ZOOM`; 1 = off) describe the
    data; ``model`` overrides :class:`~gankit.nn.rrdb.RRDBConfig` settings (architecture and loss
    weights); any other keyword overrides a :class:`~gankit.train.TrainConfig` field.

    Example:
        >>> sr = SuperResolution("psnr", scale=2, steps=500)
        >>> sr.scale, sr.train_config.steps
        (2, 500)
        >>> batch = torch.zeros(2, 3, 8, 8, dtype=torch.uint8)
        >>> load(sr_model).apply(batch).shape  # a trained x2 model: (N, 3, 2H, 2W)
        torch.Size([2, 3, 16, 16])
    """

    task = "superres"
    presets = SR_PRESETS
    default_preset = "esrgan"
    default_data = SHIPPED
    architectures = TRANSLATORS

    def __init__(
        self,
        preset: str | None = None,
        scale: int | None = None,
        patch: int | None = None,
        zoom: float | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, model=model, **train)
        self.scale = scale
        self.patch = patch
        self.zoom = zoom
        self._preview: tuple[Tensor, Tensor] | None = None

    # ------------------------------------------------------------------ data
    def open_data(self, data: Any) -> tuple[SRPatches, dict[str, Any]]:
        scale = self.scale or self.data_info.get("scale") or 4
        patch = self.patch or self.data_info.get("patch") or 96
        # Runs saved before zoom and the optional photos resume on what they had: zoom 1 and
        # ORIGINAL_PHOTOS.
        legacy = bool(self.data_info) and "zoom" not in self.data_info
        zoom = self.zoom or self.data_info.get("zoom") or (1.0 if legacy else ZOOM)
        source = SHIPPED if data is None else data
        photos = None
        if isinstance(source, SRPatches):
            dataset = source
            scale, patch, zoom, source = dataset.scale, dataset.patch, dataset.zoom, None
        elif source == SHIPPED:
            photos = self.data_info.get("photos") or (
                list(ORIGINAL_PHOTOS) if legacy else available_training_images()
            )
            dataset = SRPatches.from_images(
                training_images(photos), scale, patch, name=SHIPPED, zoom=zoom
            )
        else:
            folder = Path(str(source)).expanduser()
            if not folder.is_dir():
                raise GankitError(
                    f"SR training data {str(source)!r} is neither {SHIPPED!r} (the photographs "
                    "installed packages ship) nor a folder of images"
                )
            paths = find_images(folder)
            if not paths:
                raise GankitError(f"'{folder}' holds no images; add PNG/JPEG files")
            images = [read_rgb_image(p) for p in paths]
            source = str(folder.resolve())
            name = folder.resolve().name
            dataset = SRPatches.from_images(images, scale, patch, name=name, zoom=zoom)
        # Fixed preview patches, spread over the data, for the sample grids.
        index = torch.linspace(0, len(dataset) - 1, _PREVIEW).long()
        self._preview = dataset.batch(index)
        info = {
            "source": source,
            "name": dataset.name,
            "size": len(dataset),
            "images": len(dataset.images),
            "scale": scale,
            "patch": patch,
            "zoom": zoom,
            **({"photos": photos} if photos is not None else {}),
        }
        return dataset, info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        return {"scale": data_info["scale"]}

    @property
    def config(self) -> RRDBConfig:
        """The generator/recipe config actually built (defaults filled in)."""
        self._require_trained()
        return self.architecture_config

    def objective(self) -> SRObjective:
        return SRObjective(self.config)

    def start_from(self, model_dir: str | Path) -> SuperResolution:
        """Initialise G (and G_ema) with a trained model's G_ema before :meth:`fit`.

        ESRGAN starts its GAN phase from the PSNR-oriented model: train ``"psnr"``, then
        ``SuperResolution("esrgan", model={"pretrain_steps": 0}).start_from(psnr_dir).fit(...)``.
        The architectures must match (same scale, widths and blocks); D starts fresh.
        """
        source = SuperResolution.from_dir(model_dir)
        self.scale = self.scale or source.config.scale
        self.patch = self.patch or source.data_info.get("patch")
        self.data_info = {**source.data_info, "scale": self.scale}
        self._build()
        weights = source.G_ema.state_dict()
        check_state(self.G.state_dict(), weights, f"{model_dir} (G_ema, to start from)")
        self.G.load_state_dict(weights)
        self.G_ema = make_ema(self.G)
        return self

    # -------------------------------------------------------------- inference
    def apply(
        self,
        inputs: Any,
        *,
        direction: str | None = None,
        ema: bool = True,
        tile: int = _TILE,
        overlap: int = _OVERLAP,
        self_ensemble: bool = False,
    ) -> Tensor | list[Tensor]:
        """Upscale by the model's scale: one image, a uint8 batch (N, C, H, W) or a list of images.

        An image is a file path, a uint8 tensor (C, H, W) or a uint8 array (H, W, C); it comes back
        as uint8 (3, scale*H, scale*W), a batch as (N, 3, scale*H, scale*W), a list as a list.
        Large images are processed in tiles of ``tile`` LR pixels overlapping by ``overlap``.

        ``self_ensemble=True`` averages the upscales of the image's 8 flips and rotations, each
        turned back (EDSR's "+" inference, Lim et al. 2017): 8 times the compute for a steadier,
        slightly more faithful result from a PSNR-oriented model. A GAN model's invented detail
        differs between the 8 views, so averaging blurs it.
        """
        self.check_direction(direction)
        options = {"ema": ema, "tile": tile, "overlap": overlap, "self_ensemble": self_ensemble}
        if isinstance(inputs, list | tuple):
            return [self._upscale_one(image, **options) for image in inputs]
        if isinstance(inputs, Tensor) and inputs.dim() == 4:
            return torch.stack([self._upscale_one(image, **options) for image in inputs])
        return self._upscale_one(inputs, **options)

    def upscale(self, image: Any, **options: Any) -> Tensor:
        """One image upscaled: :meth:`apply` under its earlier name.

        Example:
            >>> load(sr_model).upscale(torch.zeros(3, 8, 12, dtype=torch.uint8)).shape
            torch.Size([3, 16, 24])
        """
        return self.apply(image, **options)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "scale": self.config.scale if self.architecture_config else self.scale,
            "input": "images",
            "output": "images",
        }

    def _upscale_one(
        self, image: Any, *, ema: bool, tile: int, overlap: int, self_ensemble: bool
    ) -> Tensor:
        G = self._inference_generator(ema)
        pixels = _as_rgb_uint8(image)
        device = next(G.parameters()).device
        was_training = G.training
        G.eval()
        try:
            lr = (pixels.float() / 127.5 - 1.0).unsqueeze(0).to(device)
            views = _DIHEDRAL if self_ensemble else _DIHEDRAL[:1]
            sr = sum(
                undo(upscale_tiled(G, do(lr), self.config.scale, tile, overlap))
                for do, undo in views
            ) / len(views)
        finally:
            G.train(was_training)
        return to_uint8(sr[0].cpu())

    def render(self, G: nn.Module, path: Path) -> None:
        if self._preview is None:
            return
        hr, lr = self._preview
        device = next(G.parameters()).device
        was_training = G.training
        G.eval()
        try:
            with torch.no_grad():
                sr = G(lr.new_zeros(len(lr), 0).to(device), lr.to(device)).cpu()
        finally:
            G.train(was_training)
        bicubic = bicubic_upscale((lr + 1) * 127.5, self.config.scale)
        # Rows: bicubic, model, ground truth.
        save_image_grid(torch.cat([bicubic, to_uint8(sr), to_uint8(hr)]), path, nrow=len(hr))

    def evaluate(self, dataset: SRPatches) -> dict[str, Any]:
        """PSNR-Y/SSIM-Y on Set5 against bicubic, when ``$GANKIT_DATA`` holds it."""
        try:
            images = load_benchmark("Set5")
        except GankitError as err:
            return {"set5": {"note": f"not evaluated: {err}"}}
        return {"set5": evaluate_benchmark(self, images)}


def evaluate_benchmark(
    model: SuperResolution, images: list[tuple[str, Tensor]], ema: bool = True
) -> dict[str, float]:
    """Mean PSNR-Y/SSIM-Y (border = scale) of ``model`` and of bicubic on HR ``images``.

    Each HR image is cropped to a multiple of the scale, degraded like the training data, and
    both the model's and bicubic's upscales are scored as saved 8-bit images.
    """
    scale = model.config.scale
    scores: dict[str, list[float]] = {
        k: [] for k in ("psnr", "ssim", "bicubic_psnr", "bicubic_ssim")
    }
    for _, image in images:
        hr = modcrop(image, scale)
        lr = degrade(hr[None], scale)
        sr = model.apply(lr[0].to(torch.uint8), ema=ema)
        bicubic = bicubic_upscale(lr, scale)[0]
        for prefix, out in (("", sr), ("bicubic_", bicubic)):
            scores[f"{prefix}psnr"].append(psnr_y(out, hr, border=scale).item())
            scores[f"{prefix}ssim"].append(ssim_y(out, hr, border=scale).item())
    return {name: round(float(np.mean(values)), 4) for name, values in scores.items()}
