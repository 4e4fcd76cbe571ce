"""Single-image GANs: ``SingleImageGAN`` learns one photograph's patches and draws new images of
it at any size, and seamless tileable textures (ConSinGAN-style, over the shared engine).

The recipe (Hinz et al. 2021, ConSinGAN), as an :class:`~gankit.train.objective.Objective`:

- the generator grows coarse to fine (:mod:`gankit.nn.singan`); training time is split evenly
  between the stages, and the objective's :meth:`~SingleImageObjective.begin_step` switches to the
  next stage when its time comes (copying the previous block into it and setting its noise
  amplitude from the reconstruction error so far);
- the newest ``concurrent`` stages train together, each older one at ``lr_scale`` times the
  learning rate of the one above (:meth:`~SingleImageObjective.g_lr_factors`);
- a hinge-loss patch critic, one critic update per generator update, batch 1, Adam 1e-3
  (ConSinGAN's WGAN-GP with 3 critic updates at 5e-4 learnt less per CPU second; see the
  presets), plus ``reconstruction_weight`` x the MSE between the generator's output
  for one fixed noise image and the training image: it anchors the coarse layout and gives each
  stage's noise its scale.

The ``texture`` preset trains with circular padding, so every sample tiles without seams;
``generate(..., tileable=True)`` makes any model's samples periodic.

Example:
    >>> from gankit import SingleImageGAN
    >>> tiny = {"stages": 2, "min_side": 12, "g_width": 8, "d_width": 8}
    >>> gan = SingleImageGAN(max_side=32, model=tiny).fit("chelsea", steps=2, quiet=True)
    >>> gan.generate(3, seed=0).shape  # uint8 at the training size (chelsea: 300 x 451 -> 21 x 32)
    torch.Size([3, 3, 21, 32])
    >>> gan.generate(1, seed=0, size=(24, 64), tileable=True).shape  # any size, tileable
    torch.Size([1, 3, 24, 64])
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import Tensor, nn

from gankit.data.folder import decode_image
from gankit.data.superres import TRAINING_IMAGES, training_images
from gankit.errors import GankitError
from gankit.imageops import bicubic_resize
from gankit.metrics.single_image import seam_ratio, single_image_report
from gankit.nn import Architecture
from gankit.nn.generate import draw_latents
from gankit.nn.singan import SinGANConfig, SinGANGenerator, build_singan, stage_shapes
from gankit.tasks.base import Generator, Preset, check_count
from gankit.train import TrainConfig
from gankit.train.objective import Objective, Players
from gankit.viz import save_image_grid, to_uint8

SINGLE_IMAGE_ARCHITECTURES = {"consingan": Architecture(SinGANConfig, build_singan)}
MAX_PIXELS = 40_000_000  # larger files are refused before decoding (downscale them first)
_EVAL_SAMPLES = 50  # SinGAN's diversity is over 50 samples
_PREVIEW = 8


class SingleImage:
    """One training image as a pyramid of real images, one per stage, in [-1, 1].

    The trainer draws ``sample(n, generator)``: the active stage's image ``n`` times (the
    objective sets :attr:`stage`). ``image`` is the finest level, uint8 ``(3, H, W)``.
    """

    conditional = False

    def __init__(self, image: Tensor, name: str, config: SinGANConfig) -> None:
        self.image = image
        self.name = name
        unit = image.float()[None] / 127.5 - 1.0
        self.reals = [
            unit if shape == tuple(image.shape[-2:]) else bicubic_resize(unit, shape).clamp(-1, 1)
            for shape in stage_shapes(config)
        ]
        self.stage = len(self.reals) - 1

    def __len__(self) -> int:
        return 1

    def sample(self, n: int, generator: torch.Generator) -> Tensor:
        return self.reals[self.stage].expand(n, -1, -1, -1)


class SingleImageObjective(Objective):
    """ConSinGAN's stage schedule, learning-rate scaling and reconstruction term; see the module
    notes. Stage ``k`` trains from step ``k * steps / stages`` on."""

    def __init__(self, G: SinGANGenerator, data: SingleImage, steps: int) -> None:
        self.G = G
        self.data = data
        self.steps = steps

    def stage_at(self, step: int) -> int:
        stages = self.G.config.stages
        return min(stages - 1, step * stages // self.steps)

    def begin_step(self, step: int) -> None:
        stage = self.stage_at(step)
        self.data.stage = stage
        self.G.start_stage(stage, self.data.reals[stage].to(self.G.noise_amp.device))

    def g_lr_factors(self, step: int) -> list[float]:
        return self.G.lr_factors(self.stage_at(step))

    def g_terms(
        self, players: Players, real: Tensor | None, fake: Tensor, cond: Any
    ) -> dict[str, Tensor]:
        weight = self.G.config.reconstruction_weight
        if weight == 0:
            return {}
        target = self.data.reals[self.data.stage].to(fake.device)
        return {"reconstruction": weight * (self.G.reconstruct() - target).square().mean()}


def _single_image_train(**overrides: Any) -> TrainConfig:
    # Hinge loss, one critic update per step, Adam 1e-3: on the validation image (scikit-learn's
    # china at 64 px, seed 0, equal CPU: 76 vs 80 s) patch SWD 224 against 340 for ConSinGAN's
    # WGAN-GP (gp 0.1, 3 critic updates, 5e-4, 750 steps), and visibly sharper structure. On a
    # CPU budget the cheaper steps buy more generator updates (docs/single_image.md).
    settings = dict(
        steps=4000,
        batch_size=1,
        loss="hinge",
        n_critic=1,
        lr_g=1e-3,
        lr_d=1e-3,
        betas=(0.5, 0.999),
        ema_beta=0.0,  # ConSinGAN keeps no average; stages are copied in, which EMA would blur
        log_every=50,
        sample_every=800,
        checkpoint_every=800,
        health=False,  # its probes judge batches of many images; here a batch is one image
    )
    return TrainConfig(**{**settings, **overrides})


SINGLE_IMAGE_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "consingan",
            "ConSinGAN-style, CPU-sized: 5 stages from a shorter side of 20 px, width 32, 3 "
            "stages trained concurrently (learning rate x0.1 per stage of age), reconstruction "
            "weight 10, hinge-loss patch critic, Adam 1e-3; 800 steps per stage.",
            "consingan",
            {},
            _single_image_train(),
        ),
        Preset(
            "texture",
            "The consingan recipe with circular padding in every convolution and wrap-around "
            "upsampling: samples tile without seams, at any size.",
            "consingan",
            {"tileable": True},
            _single_image_train(),
        ),
    )
}


def read_training_image(source: Any, gray: bool = False) -> tuple[Tensor, str]:
    """The colour image to train on, uint8 ``(3, H, W)``, and its name.

    ``source`` is an image file (PNG/JPEG/...), the name of a photograph installed packages ship
    (``brick``, ``grass``, ``gravel``, ``chelsea``, ...), a uint8 tensor ``(3, H, W)`` or a uint8
    array ``(H, W, 3)``. Gray images (unless ``gray``: then they train as RGB with equal
    channels), files over :data:`MAX_PIXELS` and damaged files are refused with one message
    naming them.
    """
    if isinstance(source, str) and source in TRAINING_IMAGES:
        image, name = training_images([source])[0], source
    elif isinstance(source, str | Path):
        path = Path(source).expanduser()
        if not path.is_file():
            raise GankitError(
                f"training image {str(source)!r} is neither an image file nor a shipped "
                f"photograph ({', '.join(TRAINING_IMAGES)})"
            )
        _check_file_size(path)
        image, name = decode_image(path, 3, str(path)), path.stem
    elif isinstance(source, np.ndarray) and source.dtype == np.uint8 and source.ndim == 3:
        image, name = torch.from_numpy(np.ascontiguousarray(source.transpose(2, 0, 1))), "array"
    elif isinstance(source, Tensor) and source.dtype == torch.uint8 and source.dim() == 3:
        image, name = source, "tensor"
    else:
        raise GankitError(
            "SingleImageGAN trains on one colour image: a file path, a shipped photograph's name, "
            "a uint8 tensor (3, H, W) or a uint8 array (H, W, 3); got "
            f"{type(source).__name__} {tuple(getattr(source, 'shape', ()))}"
        )
    if image.shape[0] != 3:
        raise GankitError(f"training image {name} has {image.shape[0]} channels; give it RGB (3)")
    if not gray and torch.equal(image[0], image[1]) and torch.equal(image[1], image[2]):
        raise GankitError(
            f"training image {name} is grayscale; single-image models learn colour images: "
            "give a colour photograph, or pass gray=True (--gray) to train on it as it is"
        )
    return image, name


def _check_file_size(path: Path) -> None:
    try:
        with Image.open(path) as header:  # reads the header only
            width, height = header.size
    except Exception:  # noqa: BLE001 - decode_image names the problem below
        return
    if width * height > MAX_PIXELS:
        raise GankitError(
            f"{path} is {width}x{height} pixels, more than {MAX_PIXELS:,}; single-image models "
            "train at a few hundred pixels: downscale it first"
        )


def fit_to_side(image: Tensor, max_side: int) -> Tensor:
    """``image`` (uint8, 3, H, W) shrunk (antialiased bicubic) so its longer side is at most
    ``max_side``; smaller images are kept as they are."""
    h, w = image.shape[-2:]
    if max(h, w) <= max_side:
        return image
    factor = max_side / max(h, w)
    size = (max(1, round(h * factor)), max(1, round(w * factor)))
    resized = bicubic_resize(image.float()[None], size)[0]
    return resized.round().clamp(0, 255).to(torch.uint8)


class SingleImageGAN(Generator):
    """Learn one colour image; draw new images of it at any size, optionally tileable.

    ``gray=True`` accepts a grayscale image (refused by default, as a likely mistake).
    ``max_side`` (default 128) is the longer side the image is trained at (larger images are
    shrunk); ``model`` overrides :class:`~gankit.nn.singan.SinGANConfig` settings (stages, widths,
    concurrent stages, lr_scale, reconstruction_weight, tileable); other keywords override
    :class:`~gankit.train.TrainConfig` fields (``steps`` is the total over all stages).

    ``generate(n, seed=0, size=(h, w), tileable=None)`` returns uint8 ``(n, 3, h, w)`` (default:
    the training size); ``tileable=True`` makes every sample periodic (seamless when tiled),
    False turns it off, None keeps what the model was trained with.
    """

    task = "single-image"
    presets = SINGLE_IMAGE_PRESETS
    default_preset = "consingan"
    default_data = "chelsea"
    architectures = SINGLE_IMAGE_ARCHITECTURES
    generate_options = ("size", "tileable")

    def __init__(
        self,
        preset: str | None = None,
        max_side: int | None = None,
        gray: bool | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, model=model, **train)
        if max_side is not None and (not isinstance(max_side, int) or max_side < 8):
            raise GankitError(f"max_side must be an integer >= 8, got {max_side!r}")
        self.max_side = max_side
        self.gray = gray
        self._data: SingleImage | None = None

    # ------------------------------------------------------------------ data
    def open_data(self, data: Any) -> tuple[SingleImage, dict[str, Any]]:
        max_side = self.max_side or self.data_info.get("max_side") or 128
        gray = self.gray if self.gray is not None else self.data_info.get("gray", False)
        source = self.default_data if data is None else data
        image, name = read_training_image(source, gray)
        original = tuple(image.shape[-2:])
        image = fit_to_side(image, max_side)
        h, w = image.shape[-2:]
        min_side = {**self.preset.model, **self.model_overrides}.get(
            "min_side", SinGANConfig.min_side
        )
        if min(h, w) < min_side:
            raise GankitError(
                f"training image {name} is {h}x{w} pixels at max_side {max_side}; the coarsest "
                f"stage needs a shorter side of at least {min_side}: use a larger image (or a "
                "larger max_side, or a smaller model min_side)"
            )
        info = {
            "source": str(source) if isinstance(source, str | Path) else None,
            "name": name,
            "size": 1,
            "max_side": max_side,
            "gray": gray,
            "height": h,
            "width": w,
            "original_size": list(original),
        }
        self.data_info = info
        settings = {**self.preset.model, **self.model_overrides, "height": h, "width": w}
        config = SinGANConfig(**settings)
        self._data = SingleImage(image, name, config)
        return self._data, info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        return {"height": data_info["height"], "width": data_info["width"]}

    @property
    def config(self) -> SinGANConfig:
        """The architecture and recipe actually built (defaults filled in)."""
        self._require_trained()
        return self.architecture_config

    def objective(self) -> SingleImageObjective:
        steps, stages = self.train_config.steps, self.config.stages
        if steps < stages:
            raise GankitError(
                f"{steps} steps cannot train {stages} stages; give at least one step per stage "
                f"(--steps {stages} or more; the preset uses {self.preset.train.steps})"
            )
        return SingleImageObjective(self.G, self._data, steps)

    # -------------------------------------------------------------- inference
    def _check_size(self, size: Any) -> tuple[int, int] | None:
        if size is None:
            return None
        ok = (
            isinstance(size, tuple | list)
            and len(size) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in size)
        )
        if not ok:
            raise GankitError(f"size must be (height, width) in pixels, got {size!r}")
        coarsest = stage_shapes(self.config, tuple(size))[0]
        if min(coarsest) < 3 or max(size) > 4096:
            low = math.ceil(3 * min(self.config.height, self.config.width) / self.config.min_side)
            raise GankitError(
                f"size {tuple(size)} is out of range: each side must be between {low} (the "
                "coarsest stage needs 3 pixels) and 4096"
            )
        return (size[0], size[1])

    @torch.no_grad()
    def generate_raw(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: Any = None,
        truncation: float | None = None,
        ema: bool = True,
        size: tuple[int, int] | None = None,
        tileable: bool | None = None,
    ) -> Tensor:
        """Samples in [-1, 1], float ``(n, 3, h, w)``; the arguments of :meth:`generate`."""
        check_count(n)
        G = self._inference_generator(ema)
        self.encode_condition(condition, n)
        size = self._check_size(size)
        if tileable is not None and not isinstance(tileable, bool):
            raise GankitError(f"tileable must be True, False or None, got {tileable!r}")
        device = next(G.parameters()).device
        rng = torch.Generator().manual_seed(seed)
        dim = G.noise_size(size)
        was_training = G.training
        G.eval()
        try:
            # One sample at a time: a large size's noise is tens of MB per sample.
            outputs = [
                G.synthesize(draw_latents(rng, 1, dim, truncation).to(device), size, tileable)
                for _ in range(n)
            ]
        finally:
            G.train(was_training)
        return torch.cat(outputs).float().cpu()

    def generate(
        self,
        n: int,
        *,
        seed: int = 0,
        condition: Any = None,
        truncation: float | None = None,
        ema: bool = True,
        size: tuple[int, int] | None = None,
        tileable: bool | None = None,
        watermark: str | bytes | None = None,
    ) -> Tensor:
        """``n`` new images, uint8 ``(n, 3, h, w)``: the training size, or ``size=(h, w)``;
        ``tileable=True``: each tiles seamlessly; ``watermark=key``: each carries the key's
        provenance mark. Same arguments, same images."""
        raw = self.generate_raw(
            n,
            seed=seed,
            condition=condition,
            truncation=truncation,
            ema=ema,
            size=size,
            tileable=tileable,
        )
        return self.with_mark(to_uint8(raw), watermark)

    def describe(self) -> dict[str, Any]:
        built = self.architecture_config is not None
        return {
            **super().describe(),
            "output": "images",
            "channels": 3,
            "resolution": [self.config.height, self.config.width] if built else None,
            "sizes": "any (generate size=(h, w), gankit sample --size HxW)",
            "tileable": self.config.tileable if built else None,
        }

    def render(self, G: nn.Module, path: Path) -> None:
        real = self._data.reals[self._data.stage] if self._data is not None else None
        z = torch.randn(_PREVIEW - 1, G.latent_dim, generator=torch.Generator().manual_seed(0))
        fakes = G(z.to(next(G.parameters()).device))
        images = torch.cat([real, fakes.detach().cpu()]) if real is not None else fakes
        save_image_grid(to_uint8(images), path, nrow=_PREVIEW)

    def evaluate(self, dataset: SingleImage) -> dict[str, Any]:
        """Patch SWD per scale, diversity and copies over 50 samples; the seam of tileable ones."""
        image = dataset.reals[-1][0]
        samples = self.generate_raw(_EVAL_SAMPLES, seed=12345)
        tiles = self.generate_raw(8, seed=12345, tileable=True)
        report = single_image_report(samples, image)
        report["seam_ratio_tileable"] = round(float(seam_ratio(tiles).mean()), 4)
        report["seam_ratio_training_image"] = round(float(seam_ratio(image[None])[0]), 4)
        return {"single_image": report}
