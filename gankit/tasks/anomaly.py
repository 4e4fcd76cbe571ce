"""Anomaly detection: ``AnomalyDetector``, a GAN trained on normal data only that scores new inputs.

The recipe (f-AnoGAN, Schlegl et al. 2019, with the encoder trained jointly as in BiGAN/ALI):
G, D and an encoder E that inverts G (:mod:`gankit.nn.inversion`) train in the engine's one game;
G's loss adds ``|G(E(x)) - x|^2`` and ``|f(G(E(x))) - f(x)|^2`` on real normals (``f``: D's
features), so E learns to invert G and G to reach every normal sample. An input far from what the
game learned is abnormal. A score is built from named parts:

- ``pixel``: the reconstruction residual ``|G(E(x)) - x|^2`` (per-pixel, per-column);
- ``feature``: the same residual in D's feature space;
- ``latent``: ``|E(x)|^2``, how far x's code lies from the prior;
- ``knn``: the mean distance, in D's feature space, to the ``k`` nearest training normals (kept
  in the model directory as a feature bank).

Parts join with ``+`` (``"pixel+knn"``): each is standardised by its mean and standard deviation
on held-out normals (``holdout`` of the normal data, never trained on), so a score reads "this
many held-out standard deviations above normal" and the parts weigh the same. ``threshold(fpr)``
is the held-out scores' ``1 - fpr`` quantile. ``knn`` is the default: it had the best validation
AUROC on MNIST (docs/anomaly.md); the ``table`` preset uses ``pixel+knn``.

Data: MNIST or any labelled image data with ``normal_class`` (the other classes of the same
split become validation anomalies for the report), a folder of normal images, or a numeric table
(a CSV path, a DataFrame, a 2-D array; columns are standardised).

Example:
    >>> from gankit.data import load_digits
    >>> tiny = {"width": 8, "latent_dim": 8}
    >>> detector = AnomalyDetector(normal_class=0, resolution=16, model=tiny, batch_size=16)
    >>> detector = detector.fit("digits", steps=2, quiet=True)
    >>> images = load_digits(16).images[:5]
    >>> detector.score(images).shape, detector.explain(images).shape  # a score, a heatmap each
    (torch.Size([5]), torch.Size([5, 16, 16]))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import Tensor, nn

from gankit.config import replace
from gankit.data import ImageData, open_dataset
from gankit.data.folder import read_image
from gankit.data.images import resize_images
from gankit.errors import GankitError
from gankit.io import atomic_write_bytes, load_tensors, save_tensors
from gankit.nn import Architecture
from gankit.nn.generate import generate
from gankit.nn.inversion import InversionConfig, build_inversion
from gankit.tasks.base import Preset, Translator
from gankit.tasks.image_translation import as_images
from gankit.train import TrainConfig
from gankit.train.objective import Objective, Players
from gankit.viz import save_image_grid, to_uint8

PARTS = ("pixel", "feature", "latent", "knn")
EXTRAS = "detector.safetensors"  # the feature bank and the held-out normals' parts
DEFAULT_HOLDOUT = 0.1  # share of the normal data kept out of training to calibrate scores
_VALIDATION_ANOMALIES = 2000  # other-class samples of the training split the report scores
_MNIST_RESOLUTION = 28
_FIGURE_EXAMPLES = 8


def parse_score(score: str) -> tuple[str, ...]:
    """The parts of a score name (``"pixel+knn"`` -> ("pixel", "knn")); unknown parts refused.

    Example:
        >>> parse_score("pixel+knn")
        ('pixel', 'knn')
    """
    parts = tuple(part.strip() for part in str(score).split("+"))
    unknown = [part for part in parts if part not in PARTS]
    if unknown or len(set(parts)) != len(parts):
        raise GankitError(
            f"unknown anomaly score {score!r}; a score is one or more of {', '.join(PARTS)} "
            "joined with + (e.g. pixel+knn), each part once"
        )
    return parts


def auroc(normal: Tensor, anomalous: Tensor) -> float:
    """Area under the ROC curve: P(anomalous score > normal score), ties counting one half.

    Example:
        >>> auroc(torch.tensor([0.0, 1.0]), torch.tensor([2.0, 0.5]))
        0.75
    """
    normal, anomalous = normal.double().flatten(), anomalous.double().flatten()
    if not len(normal) or not len(anomalous):
        raise GankitError("AUROC needs at least one normal and one anomalous score")
    values = torch.cat([normal, anomalous])
    # Mid-ranks (1-based) handle ties: the Mann-Whitney U statistic.
    order = values.argsort()
    ranks = torch.empty_like(values)
    ranks[order] = torch.arange(1, len(values) + 1, dtype=values.dtype)
    unique, inverse = values.unique(return_inverse=True)
    sums = torch.zeros(len(unique), dtype=values.dtype).index_add_(0, inverse, ranks)
    counts = torch.zeros(len(unique), dtype=values.dtype).index_add_(
        0, inverse, torch.ones_like(ranks)
    )
    ranks = (sums / counts)[inverse]
    u = ranks[len(normal) :].sum() - len(anomalous) * (len(anomalous) + 1) / 2
    return float(u / (len(normal) * len(anomalous)))


# ----------------------------------------------------------------------------- data


@dataclass(frozen=True, eq=False)
class NormalSamples:
    """Normal samples in the networks' range: the part the engine trains on (``len``/``batch``),
    the held-out part that calibrates scores, and, when the data had other classes, validation
    anomalies for the report (None otherwise)."""

    train: Tensor  # (N, C, H, W) in [-1, 1], or (N, d) standardised columns
    holdout: Tensor
    anomalies: Tensor | None
    name: str

    def __len__(self) -> int:
        return len(self.train)

    def batch(self, index: Tensor) -> Tensor:
        return self.train[index]


def _split(n: int, holdout: float, seed: int) -> tuple[Tensor, Tensor]:
    """A seeded permutation of ``n`` rows cut into (train, held-out) indices."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    cut = n - max(1, round(n * holdout))
    if cut < 1:
        raise GankitError(f"{n} normal sample(s) are too few to hold some out; give more")
    return order[:cut], order[cut:]


def _class_index(data: ImageData, normal_class: int | str) -> int:
    names = data.class_names
    if str(normal_class) in names:
        return names.index(str(normal_class))
    if isinstance(normal_class, int) and 0 <= normal_class < len(names):
        return normal_class
    raise GankitError(
        f"normal class {normal_class!r} is not a class of dataset '{data.name}'; its classes: "
        f"{', '.join(names) or 'none (unlabelled data: drop --normal-class)'}"
    )


def _table(data: Any) -> pd.DataFrame | None:
    """``data`` as a numeric DataFrame when it is a table (CSV path, DataFrame, 2-D array)."""
    if isinstance(data, str | Path) and Path(data).suffix.lower() == ".csv":
        path = Path(data).expanduser()
        if not path.is_file():
            raise GankitError(f"table {path} not found; pass a CSV file of normal rows")
        try:
            return pd.read_csv(path)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
            raise GankitError(f"{path} is not a readable CSV file ({err})") from None
    if isinstance(data, pd.DataFrame):
        return data
    if isinstance(data, np.ndarray | Tensor) and data.ndim == 2:
        array = data.numpy() if isinstance(data, Tensor) else data
        return pd.DataFrame(array, columns=[f"x{i}" for i in range(array.shape[1])])
    return None


def _numeric(frame: pd.DataFrame, columns: list[str], what: str) -> Tensor:
    """The ``columns`` of ``frame`` as float64 (N, d), refusing missing, text and NaN by name."""
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise GankitError(f"{what} lacks column(s) {', '.join(map(str, missing))}")
    values = []
    for column in columns:
        series = frame[column]
        if not (pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series)):
            raise GankitError(
                f"{what}: column {column!r} is not numeric ({series.dtype}); the detector takes "
                "numbers only: encode or drop it"
            )
        values.append(series.to_numpy(dtype=np.float64))
    array = np.stack(values, axis=1) if values else np.zeros((len(frame), 0))
    bad = ~np.isfinite(array)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise GankitError(
            f"{what}: {int(bad.sum())} value(s) are NaN or infinite (first: row {row}, column "
            f"{columns[col]!r}); fill or drop them"
        )
    return torch.from_numpy(array)


# ----------------------------------------------------------------------------- the game


class InversionObjective(Objective):
    """The encoder's terms in G's loss: pixel and D-feature residuals of ``G(E(real))``."""

    g_needs_real = True

    def __init__(self, config: InversionConfig) -> None:
        self.config = config

    def g_terms(
        self, players: Players, real: Tensor | None, fake: Tensor, cond: Tensor | None
    ) -> dict[str, Tensor]:
        G = getattr(players.G, "module", players.G)  # unwrap DDP
        D = getattr(players.D, "module", players.D)
        rebuilt = G.reconstruct(real)
        terms = {}
        if self.config.pixel_weight > 0:
            terms["pixel"] = self.config.pixel_weight * (rebuilt - real).square().mean()
        if self.config.feature_weight > 0:
            with torch.no_grad():
                real_features = D.features(real)
            distance = (D.features(rebuilt) - real_features).square().mean()
            terms["feature"] = self.config.feature_weight * distance
        return terms


# ----------------------------------------------------------------------------- the task

_TRAIN = TrainConfig(
    steps=1500,
    batch_size=64,
    lr_g=2e-4,
    lr_d=2e-4,
    betas=(0.5, 0.99),
    r1_gamma=1.0,
    reg_interval=16,
    ema_beta=0.99,
    sample_every=500,
    checkpoint_every=500,
    log_every=50,
)

ANOMALY_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "default",
            "Images (or vectors): DCGAN G/D of width 16 (MLPs for tables) with an encoder trained "
            "jointly to invert G; score `knn` (distance to the 5 nearest training normals in D's "
            "feature space), the best on MNIST validation digits.",
            "inversion",
            {},
            _TRAIN,
        ),
        Preset(
            "table",
            "Numeric tables: MLP G/D/encoder of 2 x 64 units, an 8-dimensional code, score "
            "`pixel+knn` (the column residual and the feature k-NN, standardised and summed).",
            "inversion",
            {"width": 64, "latent_dim": 8, "score": "pixel+knn"},
            replace(_TRAIN, steps=2000, r1_gamma=0.0),
        ),
    )
}


class AnomalyDetector(Translator):
    """Learn what normal looks like; ``score(x)`` says how abnormal each input is (higher: more).

    ``normal_class`` keeps one class of labelled image data (MNIST's digit 8: ``8``); ``holdout``
    (default 0.1; a reloaded model keeps its own) is the share of the normal data kept out of
    training to calibrate scores and thresholds; ``resolution`` and ``channels`` fix the image
    size (default: 28 for MNIST, else 32) and colour; ``model`` overrides
    :class:`~gankit.nn.inversion.InversionConfig` settings (``score``, ``k``, widths); any other
    keyword overrides a :class:`~gankit.train.TrainConfig` field. ``apply`` is ``score``: the
    translator verb of the CLI.

    Example:
        >>> AnomalyDetector(normal_class=8, steps=800).train_config.steps
        800
    """

    task = "anomaly"
    presets = ANOMALY_PRESETS
    default_preset = "default"
    architectures = {"inversion": Architecture(InversionConfig, build_inversion)}

    def __init__(
        self,
        preset: str | None = None,
        normal_class: int | str | None = None,
        resolution: int | None = None,
        channels: int | None = None,
        holdout: float | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, model=model, **train)
        if holdout is not None and not 0 < holdout < 1:
            raise GankitError(f"holdout must be a fraction in (0, 1), got {holdout!r}")
        self.normal_class = normal_class
        self.resolution = resolution
        self.channels = channels
        self.holdout = holdout
        self.bank: Tensor | None = None  # D features of training normals (bank, F)
        self.calibration: Tensor | None = None  # held-out normals' parts (n, len(PARTS))

    # ------------------------------------------------------------------ data
    def open_data(self, data: Any) -> tuple[NormalSamples, dict[str, Any]]:
        if data is None:
            raise GankitError(
                "no normal data given; pass mnist (with normal_class / --normal-class), an image "
                "folder of normal images, or a numeric table (CSV file, DataFrame, 2-D array)"
            )
        seed = self.train_config.seed
        # A reloaded model (resume, fine-tuning) keeps the split it was trained with.
        holdout = self.holdout or self.data_info.get("holdout") or DEFAULT_HOLDOUT
        table = _table(data)
        if table is not None:
            return self._open_table(table, data, seed, holdout)
        normal_class = self.normal_class
        if normal_class is None:
            normal_class = self.data_info.get("normal_class")
        images, source, anomalies = self._open_images(data, normal_class)
        if not len(images):
            raise GankitError("the normal data holds no images; pass a folder with images")
        train, held = _split(len(images), holdout, seed)
        as_float = images.float() / 127.5 - 1.0  # (N, C, H, W) in [-1, 1]
        if anomalies is not None:
            pick = torch.randperm(len(anomalies), generator=torch.Generator().manual_seed(seed))
            anomalies = anomalies[pick[:_VALIDATION_ANOMALIES]].float() / 127.5 - 1.0
        name = str(getattr(data, "name", source))
        info = {
            "source": source,
            "name": name if normal_class is None else f"{name} class {normal_class}",
            "size": len(train),
            "kind": "image",
            "resolution": images.shape[-1],
            "channels": images.shape[1],
            "normal_class": normal_class,
            "holdout": holdout,
        }
        return NormalSamples(as_float[train], as_float[held], anomalies, info["name"]), info

    def _open_images(
        self, data: Any, normal_class: int | str | None
    ) -> tuple[Tensor, str | None, Tensor | None]:
        """uint8 normal images, the source to record, and the other classes' images (or None)."""
        resolution = self.resolution or self.data_info.get("resolution")
        channels = self.channels or self.data_info.get("channels")
        if isinstance(data, ImageData):
            dataset, source = data, None
            if resolution and dataset.resolution != resolution:
                dataset = ImageData(
                    resize_images(dataset.images, resolution),
                    dataset.labels,
                    dataset.class_names,
                    dataset.name,
                )
        elif isinstance(data, str | Path):
            source = str(data)
            if Path(source).expanduser().exists():
                source = str(Path(source).expanduser().resolve())
            mnist = "mnist" in Path(source).name.lower()
            dataset = open_dataset(source, resolution or (_MNIST_RESOLUTION if mnist else 32))
        else:
            raise GankitError(
                f"cannot train on {type(data).__name__}; pass a dataset name, an image folder, "
                "ImageData, or a numeric table (CSV path, DataFrame, 2-D array)"
            )
        images = dataset.images
        if channels and images.shape[1] != channels:
            from gankit.data.images import convert_channels

            images = convert_channels(images, channels)
        if normal_class is None:
            return images, source, None
        if dataset.labels is None:
            raise GankitError(
                f"dataset '{dataset.name}' has no class labels, so normal_class "
                f"{normal_class!r} cannot pick the normal images; drop it (all images are normal)"
            )
        normal = dataset.labels == _class_index(dataset, normal_class)
        return images[normal], source, images[~normal]

    def _open_table(
        self, table: pd.DataFrame, data: Any, seed: int, holdout: float
    ) -> tuple[NormalSamples, dict[str, Any]]:
        if self.normal_class is not None:
            raise GankitError("normal_class picks images of one class; a table is all normal rows")
        columns = [str(c) for c in table.columns]
        table = table.set_axis(columns, axis=1)
        values = _numeric(table, columns, "the normal table")
        if len(values) < 2 or not columns:
            raise GankitError("the normal table needs at least 2 rows and 1 numeric column")
        train, held = _split(len(values), holdout, seed)
        mean = values[train].mean(0)
        std = values[train].std(0).clamp_min(1e-8)
        scaled = ((values - mean) / std).float()
        source = str(Path(data).expanduser().resolve()) if isinstance(data, str | Path) else None
        info = {
            "source": source,
            "name": Path(source).name if source else "table",
            "size": len(train),
            "kind": "vector",
            "columns": columns,
            "mean": mean.tolist(),
            "std": std.tolist(),
            "holdout": holdout,
        }
        return NormalSamples(scaled[train], scaled[held], None, info["name"]), info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        if data_info.get("kind") == "vector":
            return {"kind": "vector", "data_dim": len(data_info["columns"])}
        return {
            "kind": "image",
            "resolution": data_info["resolution"],
            "channels": data_info["channels"],
        }

    @property
    def config(self) -> InversionConfig:
        """The networks' and scores' settings actually built (defaults filled in)."""
        self._require_trained()
        return self.architecture_config

    def objective(self) -> InversionObjective:
        return InversionObjective(self.config)

    # ------------------------------------------------------------ calibration
    def prepare_inference(self, dataset: NormalSamples) -> None:
        """Keep D's features of (up to ``bank_size``) training normals for ``knn``, then score
        the held-out normals: their parts calibrate every score and threshold."""
        config = self.config
        rng = torch.Generator().manual_seed(self.train_config.seed)
        keep = torch.randperm(len(dataset.train), generator=rng)[: config.bank_size].sort().values
        self.bank = self._features(dataset.train[keep])
        self.calibration = self._parts(dataset.holdout, ema=True)

    @torch.no_grad()
    def _features(self, x: Tensor, batch_size: int = 512) -> Tensor:
        D = self.D
        was_training = D.training
        D.eval()
        try:
            return torch.cat([D.features(chunk) for chunk in x.split(batch_size)])
        finally:
            D.train(was_training)

    @torch.no_grad()
    def _parts(self, x: Tensor, ema: bool, batch_size: int = 256) -> Tensor:
        """Every score part for model-range inputs ``x``: (N, len(PARTS)), columns as PARTS."""
        G = self._inference_generator(ema)
        if self.bank is None:
            raise GankitError("this detector has no feature bank; fit it or load a saved one")
        was_training = G.training, self.D.training
        G.eval()
        self.D.eval()
        rows = []
        try:
            for chunk in x.split(batch_size):
                z = G.encode(chunk)
                rebuilt = G(z)
                features = self.D.features(chunk)
                pixel = (rebuilt - chunk).square().flatten(1).mean(1)
                feature = (self.D.features(rebuilt) - features).square().mean(1)
                latent = z.square().mean(1)
                distances = torch.cdist(features, self.bank)  # (B, bank)
                k = min(self.config.k, distances.shape[1])
                knn = distances.topk(k, dim=1, largest=False).values.mean(1)
                rows.append(torch.stack([pixel, feature, latent, knn], dim=1))
        finally:
            G.train(was_training[0])
            self.D.train(was_training[1])
        return torch.cat(rows)

    def _combine(self, parts: Tensor, score: str | None) -> Tensor:
        """The named score from raw parts: each standardised on the held-out normals, summed."""
        names = parse_score(score or self.config.score)
        columns = [PARTS.index(name) for name in names]
        mean = self.calibration[:, columns].mean(0)
        std = self.calibration[:, columns].std(0).clamp_min(1e-12)
        return ((parts[:, columns] - mean) / std).sum(1)

    # -------------------------------------------------------------- inputs
    def _inputs(self, inputs: Any) -> Tensor:
        """User inputs as model-range tensors, checked: images or table rows."""
        self._require_trained()
        if self.data_info.get("kind") == "vector":
            x = self._rows(inputs)
        else:
            x = self._images(inputs)
        if not len(x):
            raise GankitError("nothing to score: the input holds no samples")
        if not torch.isfinite(x).all():
            raise GankitError(
                "inputs contain NaN or infinite values; the detector cannot score them"
            )
        return x

    def _images(self, inputs: Any) -> Tensor:
        channels, size = self.data_info["channels"], self.data_info["resolution"]
        if isinstance(inputs, str | Path):
            inputs = [inputs]
        if isinstance(inputs, list | tuple):
            if not inputs:
                raise GankitError("nothing to score: the list of images is empty")
            images = [
                read_image(item, channels) if isinstance(item, str | Path) else item
                for item in inputs
            ]
            if not all(isinstance(image, Tensor) and image.dim() == 3 for image in images):
                raise GankitError("a list to score must hold image paths or (C, H, W) tensors")
            inputs = torch.cat([_resized(image[None], size) for image in images])
        if isinstance(inputs, np.ndarray):
            inputs = torch.from_numpy(inputs)
        if isinstance(inputs, Tensor) and inputs.dim() in (3, 4):
            inputs = _resized(inputs if inputs.dim() == 4 else inputs[None], size)
        x = as_images(inputs, channels, "images to score")
        if x.shape[-2:] != (size, size):
            raise GankitError(
                f"images to score must be {size}x{size} (the training size) or uint8 to be "
                f"resized, got {tuple(x.shape[-2:])}"
            )
        return x

    def _rows(self, inputs: Any) -> Tensor:
        columns = self.data_info["columns"]
        if isinstance(inputs, str | Path) and Path(inputs).suffix.lower() == ".csv":
            inputs = _table(inputs)
        if isinstance(inputs, np.ndarray | Tensor):
            array = inputs.numpy() if isinstance(inputs, Tensor) else inputs
            if array.ndim == 1:
                array = array[None]
            if array.ndim != 2 or array.shape[1] != len(columns):
                raise GankitError(
                    f"rows to score must be (N, {len(columns)}) for this model (columns "
                    f"{', '.join(columns)}), got shape {tuple(array.shape)}"
                )
            inputs = pd.DataFrame(array, columns=columns)
        if not isinstance(inputs, pd.DataFrame):
            raise GankitError(
                "a table detector scores a DataFrame, a CSV path or an (N, d) array, got "
                f"{type(inputs).__name__}"
            )
        values = _numeric(
            inputs.set_axis([str(c) for c in inputs.columns], axis=1), columns, "rows"
        )
        mean, std = torch.tensor(self.data_info["mean"]), torch.tensor(self.data_info["std"])
        return ((values - mean) / std).float()

    # -------------------------------------------------------------- inference
    def apply(
        self,
        inputs: Any,
        *,
        direction: str | None = None,
        ema: bool = True,
        score: str | None = None,
        batch_size: int = 256,
    ) -> Tensor:
        """One anomaly score per input (float32 (N,), higher: more abnormal); see :meth:`score`."""
        self.check_direction(direction)
        self._require_trained()
        parse_score(score or self.config.score)
        x = self._inputs(inputs)
        return self._combine(self._parts(x, ema, batch_size), score).float()

    def score(self, inputs: Any, *, score: str | None = None, ema: bool = True) -> Tensor:
        """Anomaly scores: images (uint8 or [-1, 1] floats (N, C, H, W), paths) or table rows
        (DataFrame, CSV path, (N, d) array). ``score`` picks another combination of parts than
        the model's (``"pixel+knn"``); scores are in held-out-normal standard deviations.

        Example:
            >>> import numpy as np
            >>> rows = np.random.default_rng(0).normal(size=(64, 3))  # normal rows, 3 columns
            >>> detector = AnomalyDetector("table", batch_size=16).fit(rows, steps=2, quiet=True)
            >>> detector.score(rows[:4] + 10).shape  # far from normal: high scores
            torch.Size([4])
        """
        return self.apply(inputs, score=score, ema=ema)

    def threshold(self, fpr: float = 0.01, *, score: str | None = None) -> float:
        """The score above which an input is flagged, so that a share ``fpr`` of normal inputs
        is: the ``1 - fpr`` quantile of the held-out normals' scores."""
        self._require_trained()
        if not 0 < fpr < 1:
            raise GankitError(f"fpr must be a fraction in (0, 1), got {fpr!r}")
        scores = self._combine(self.calibration, score).double()
        return float(torch.quantile(scores, 1 - fpr))

    @torch.no_grad()
    def explain(self, inputs: Any, *, ema: bool = True) -> Tensor:
        """Where each input differs from its reconstruction ``G(E(x))``: per-pixel squared
        residuals (N, H, W) (mean over channels) for images, per-column (N, d) for tables."""
        x = self._inputs(inputs)
        G = self._inference_generator(ema)
        was_training = G.training
        G.eval()
        try:
            residual = torch.cat([(G.reconstruct(c) - c).square() for c in x.split(256)])
        finally:
            G.train(was_training)
        return residual.mean(1) if residual.dim() == 4 else residual

    def network(self, *, direction: str | None = None, ema: bool = True) -> nn.Module:
        raise GankitError(
            "an anomaly detector cannot be exported to ONNX: its score needs the feature bank and "
            "the calibration beside the networks; score with `gankit apply MODEL INPUT -o "
            "scores.csv` or AnomalyDetector.score"
        )

    def input_channels(self, direction: str | None = None) -> int:
        self.check_direction(direction)
        return self.data_info.get("channels") or 1

    def describe(self) -> dict[str, Any]:
        vector = self.data_info.get("kind") == "vector"
        described = {
            **super().describe(),
            "input": "table" if vector else "images",
            "output": "scores",
            "score": self.architecture_config.score if self.architecture_config else None,
            "parts": list(PARTS),
        }
        if vector:
            described["columns"] = list(self.data_info.get("columns", []))
        else:
            described["resolution"] = self.data_info.get("resolution")
            described["channels"] = self.data_info.get("channels")
        return described

    # ------------------------------------------------------------- save/load
    def save_extras(self, out: Path) -> None:
        save_tensors(out / EXTRAS, {"bank": self.bank, "calibration": self.calibration})

    def load_extras(self, path: Path) -> None:
        tensors = load_tensors(path / EXTRAS)
        widths = {"bank": self.bank_width(), "calibration": len(PARTS)}
        for name, width in widths.items():
            found = tensors.get(name)
            if found is None or found.dim() != 2 or found.shape[1] != width or not len(found):
                raise GankitError(
                    f"{path / EXTRAS}: {name!r} is missing or not (N, {width}); the file is "
                    "damaged or belongs to another model"
                )
        self.bank, self.calibration = tensors["bank"], tensors["calibration"]

    def bank_width(self) -> int:
        """Width of D's features for one input (the feature bank's columns)."""
        if self.data_info.get("kind") == "vector":
            shape = (1, len(self.data_info["columns"]))
        else:
            size = self.data_info["resolution"]
            shape = (1, self.data_info["channels"], size, size)
        with torch.no_grad():
            return self._features(torch.zeros(shape)).shape[1]

    # ---------------------------------------------------------------- report
    def render(self, G: nn.Module, path: Path) -> None:
        if self.data_info.get("kind") == "vector":
            return
        # Rows: samples of G, then nothing else (reconstructions need held-out data: the report).
        save_image_grid(to_uint8(generate(G, 32, seed=0)), path, nrow=8)

    def evaluate(self, dataset: NormalSamples) -> dict[str, Any]:
        """Held-out normals' score spread and, with validation anomalies, AUROC per score."""
        normal = self._parts(dataset.holdout, ema=True)
        found: dict[str, Any] = {
            "score": self.config.score,
            "held_out_normals": len(dataset.holdout),
            "threshold_fpr_0.01": round(self.threshold(0.01), 4),
        }
        if dataset.anomalies is not None and len(dataset.anomalies):
            anomalous = self._parts(dataset.anomalies, ema=True)
            found["validation_anomalies"] = len(dataset.anomalies)
            for name in (*PARTS, "pixel+knn"):
                value = auroc(self._combine(normal, name), self._combine(anomalous, name))
                found[f"auroc_{name}"] = round(value, 4)
        return {"anomaly": found}

    def write_report(self, out_dir: Path, dataset: NormalSamples) -> None:
        """The shared report, then the ROC curve, the score histograms and example heatmaps."""
        super().write_report(out_dir, dataset)
        figures = draw_report(self, dataset, out_dir)
        lines = ["", "## figures", ""] + [
            f"![{name}]({path.name})" for name, path in figures.items()
        ]
        report = out_dir / "report.md"
        atomic_write_bytes(report, report.read_bytes() + ("\n".join(lines) + "\n").encode())


def _resized(images: Tensor, size: int) -> Tensor:
    """uint8 images (N, C, H, W) resized to ``size`` square (unchanged when they are)."""
    if images.dtype != torch.uint8 or images.shape[-2:] == (size, size):
        return images
    return resize_images(images, size)


def draw_report(detector: AnomalyDetector, dataset: NormalSamples, out_dir: Path) -> dict:
    """ROC curve, score histograms and heatmaps into ``out_dir``; returns {title: path}."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    normal = detector._combine(detector._parts(dataset.holdout, ema=True), None)
    anomalous = None
    if dataset.anomalies is not None and len(dataset.anomalies):
        anomalous = detector._combine(detector._parts(dataset.anomalies, ema=True), None)
    figures: dict[str, Path] = {}

    def save(fig: Any, name: str, title: str) -> None:
        import io

        buffer = io.BytesIO()
        fig.tight_layout()
        fig.savefig(buffer, format="png", dpi=100)
        plt.close(fig)
        atomic_write_bytes(out_dir / name, buffer.getvalue())
        figures[title] = out_dir / name

    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.hist(normal.numpy(), bins=40, alpha=0.6, density=True, label="held-out normals")
    if anomalous is not None:
        ax.hist(anomalous.numpy(), bins=40, alpha=0.6, density=True, label="validation anomalies")
    ax.axvline(detector.threshold(0.01), color="k", ls="--", lw=1, label="threshold, FPR 1%")
    ax.set_xlabel(f"score ({detector.config.score})")
    ax.legend(fontsize=7)
    save(fig, "scores.png", "score histograms")

    if anomalous is not None:
        thresholds = torch.cat([normal, anomalous]).sort(descending=True).values
        tpr = (anomalous[None] >= thresholds[:, None]).double().mean(1)
        fpr = (normal[None] >= thresholds[:, None]).double().mean(1)
        fig, ax = plt.subplots(figsize=(4, 4))
        ax.plot(fpr.numpy(), tpr.numpy(), label=f"AUROC {auroc(normal, anomalous):.3f}")
        ax.plot([0, 1], [0, 1], color="gray", lw=0.5)
        ax.set_xlabel("false positive rate")
        ax.set_ylabel("true positive rate")
        ax.legend(loc="lower right")
        save(fig, "roc.png", "ROC curve (validation)")

    if detector.data_info.get("kind") != "vector":
        examples = dataset.holdout[:_FIGURE_EXAMPLES]
        if anomalous is not None:
            examples = torch.cat([examples, dataset.anomalies[:_FIGURE_EXAMPLES]])
        heat = detector.explain(examples)
        heat = (heat / heat.amax().clamp_min(1e-12) * 2 - 1)[:, None]  # (N, 1, H, W) in [-1, 1]
        channels = examples.shape[1]
        shown = torch.cat([to_uint8(examples), to_uint8(heat).expand(-1, channels, -1, -1)])
        save_image_grid(shown, out_dir / "heatmaps.png", nrow=len(examples))
        title = "inputs (top) and residual heatmaps (bottom); held-out normals first"
        figures[title] = out_dir / "heatmaps.png"
    return figures
