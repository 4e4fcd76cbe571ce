"""Image-to-image translation: paired (``Pix2Pix``) and unpaired (``CycleGAN``).

Both are recipes over the one engine. The data is conditional: a batch is ``(target, source)``,
the engine calls ``G(z, source)`` (``z`` is empty: ``latent_dim`` 0) and ``D(x, source)``. What
the recipes add to the plain game lives in an :class:`~gankit.train.objective.Objective`:

- pix2pix (Isola et al. 2017): ``l1_weight * |G(a) - b|`` beside the adversarial loss; with
  ``gan_weight=0`` the same U-Net trains on L1 alone (the ablation that shows what D adds);
- CycleGAN (Zhu et al. 2017): cycle ``|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|`` and identity
  ``|G_AB(b) - b| + |G_BA(a) - a|`` terms, and D trained on a history pool of 50 fakes per domain
  whose contents are checkpointed (bit-identical resume).

Example:
    >>> from gankit import Pix2Pix
    >>> model = Pix2Pix().fit("mnist-edges", steps=2000, out="runs/edges")     # doctest: +SKIP
    >>> digits = model.apply(edge_images)     # uint8 (N, 1, 32, 32)            # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.data.images import convert_channels
from gankit.data.paired import (
    PAIRED_DATASETS,
    UNPAIRED_DATASETS,
    PairedData,
    UnpairedData,
    _domain_folders,
    load_paired_folder,
    load_unpaired_folders,
)
from gankit.errors import GankitError
from gankit.io import load_module, load_tensors, save_module
from gankit.metrics.classifier import (
    DigitClassifier,
    DigitClassifierConfig,
    shift_and_rotate,
    train_digit_classifier,
)
from gankit.nn import TRANSLATORS
from gankit.nn.translation import CycleGANConfig, Pix2PixConfig
from gankit.tasks.base import Preset, Translator
from gankit.train import TrainConfig
from gankit.train.objective import Objective
from gankit.viz import save_image_grid, to_uint8

_PREVIEW = 8  # pairs drawn in the sample grids
_EVAL_PAIRS = 1000  # pairs the report scores
# CycleGAN's frozen classifiers: fitted on domain A's labels, and adapted to domain B.
_SEMANTIC_WEIGHTS = {"A": "semantic.safetensors", "B": "semantic_b.safetensors"}


# ----------------------------------------------------------------------------- objectives


class Pix2PixObjective(Objective):
    """pix2pix's G loss: adversarial x ``gan_weight`` + ``l1_weight`` x mean |G(a) - b|."""

    def __init__(self, l1_weight: float = 100.0, gan_weight: float = 1.0) -> None:
        self.l1_weight = l1_weight
        self.gan_weight = gan_weight

    def g_terms(self, trainer: Any, real: Tensor, fake: Tensor, cond: Tensor) -> dict[str, Tensor]:
        return {"l1": self.l1_weight * (fake - real).abs().mean()}

    def adversarial_weight(self, step: int) -> float:
        return self.gan_weight


class ImagePool:
    """A history of generated images (Shrivastava et al. 2017; CycleGAN's 50-image buffer).

    Until the pool is full each fake is stored and passed through; afterwards each fake is, with
    probability 1/2, swapped with a random stored one (D sees the old one), else passed through.
    D then remembers what G did a while ago, which damps oscillation. All choices come from the
    pool's own seeded generator; :meth:`state_tensors` holds the images, fill count and RNG, so a
    resumed run makes the same choices. Storage is preallocated on CPU, which keeps the
    checkpointed shapes fixed.

    Example:
        >>> pool = ImagePool(2, (1, 4, 4), seed=0)
        >>> pool.query(torch.ones(3, 1, 4, 4)).shape
        torch.Size([3, 1, 4, 4])
    """

    def __init__(self, size: int, shape: tuple[int, ...], seed: int) -> None:
        self.size = size
        self.images = torch.zeros(size, *shape)
        self.count = torch.zeros((), dtype=torch.int64)
        self.rng = torch.Generator().manual_seed(seed)

    def query(self, fakes: Tensor) -> Tensor:
        if self.size == 0:
            return fakes
        out = fakes.detach().clone()
        for i in range(len(fakes)):
            if self.count < self.size:
                self.images[int(self.count)] = fakes[i].detach().cpu()
                self.count += 1
            elif torch.rand((), generator=self.rng) < 0.5:
                j = int(torch.randint(self.size, (), generator=self.rng))
                out[i] = self.images[j].to(out.device)
                self.images[j] = fakes[i].detach().cpu()
        return out

    def state_tensors(self) -> dict[str, Tensor]:
        return {"images": self.images, "count": self.count, "rng": self.rng.get_state()}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        self.images = tensors["images"].clone()
        self.count = tensors["count"].clone()
        self.rng.set_state(tensors["rng"])


# Wide enough to hold most of a digit's strokes (the RMS radius of a 7 is about 1/3 of its
# height), narrow enough that 8 x 8 cells still resolve the strokes.
_STRUCTURE_SPAN = 1.5


def _soften(ink: Tensor, sigma: float) -> Tensor:
    """Separable Gaussian blur with standard deviation ``sigma`` pixels (zero padding)."""
    radius = int(3 * sigma) + 1
    taps = torch.arange(-radius, radius + 1, dtype=ink.dtype, device=ink.device)
    kernel = torch.exp(-(taps**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    ink = F.conv2d(ink, kernel.view(1, 1, 1, -1), padding=(0, radius))
    return F.conv2d(ink, kernel.view(1, 1, -1, 1), padding=(radius, 0))


def aligned_ink(images: Tensor, size: int, deskew: bool = False) -> Tensor:
    """Images in [-1, 1] (N, C, H, W) -> their ink (0..1) in its own frame, (N, 1, size, size).

    The frame is centred on the ink's centroid and spans +-1.5 RMS radii (moment normalisation);
    ``deskew`` also blurs the strokes, undoes the slant and scales each axis halfway to the ink's
    own extent (see :func:`structure_map`, which pools this frame to its low-frequency map).

    Example:
        >>> bar = -torch.ones(1, 1, 32, 32)
        >>> bar[..., 2:10, 2:6] = 1.0            # a bar in a corner comes out centred
        >>> ink = aligned_ink(bar, 16)
        >>> ink.shape, bool(ink[..., 6:10, 6:10].mean() > 0.5)
        (torch.Size([1, 1, 16, 16]), True)
    """
    ink = (images.mean(1, keepdim=True) + 1) / 2  # (N, 1, H, W) in [0, 1]
    n, _, h, w = ink.shape
    if deskew:
        ink = _soften(ink, h / 32)
    ys = torch.linspace(-1, 1, h, device=ink.device).view(1, -1, 1)
    xs = torch.linspace(-1, 1, w, device=ink.device).view(1, 1, -1)
    # Moments of the brightness above the image's mean only: a uniform ground (a generator's
    # -0.9 instead of -1) would otherwise pull the frame to the centre and widen it.
    strokes = (ink - ink.mean((2, 3), keepdim=True)).clamp_min(0)[:, 0]  # (N, H, W)
    mass = strokes.sum((1, 2)).clamp_min(1e-6)

    def moment(f: Tensor) -> Tensor:
        return (strokes * f).sum((1, 2)) / mass

    cy, cx = moment(ys), moment(xs)
    dy, dx = ys - cy.view(-1, 1, 1), xs - cx.view(-1, 1, 1)
    var_y, var_x = moment(dy**2), moment(dx**2)
    radius = (var_y + var_x).clamp_min(1e-4).sqrt()
    scale_y = scale_x = radius
    shear = torch.zeros_like(radius)
    if deskew:
        # Halfway (geometric mean) between the isotropic radius and each axis's own extent.
        scale_y = (radius * (2 * var_y).clamp_min(1e-4).sqrt()).sqrt()
        scale_x = (radius * (2 * var_x).clamp_min(1e-4).sqrt()).sqrt()
        shear = moment(dx * dy) / var_y.clamp_min(1e-4)
    # The frame spans +-_STRUCTURE_SPAN radii around the centroid; output (u, v) reads
    # input (cx + span * (scale_x * u + shear * scale_y * v), cy + span * scale_y * v).
    span_x, span_y = _STRUCTURE_SPAN * scale_x, _STRUCTURE_SPAN * scale_y
    zero = torch.zeros_like(radius)
    theta = torch.stack(
        [torch.stack([span_x, shear * span_y, cx], 1), torch.stack([zero, span_y, cy], 1)], 1
    )  # (N, 2, 3): output frame -> input coordinates
    grid = F.affine_grid(theta, [n, 1, size, size], align_corners=False)
    return F.grid_sample(ink, grid, align_corners=False)


def structure_map(
    images: Tensor, size: int = 8, align: bool = True, deskew: bool = False
) -> Tensor:
    """The low-frequency shape of images in [-1, 1]: (N, C, H, W) -> unit-norm (N, 1, size, size).

    Colour, brightness and contrast are removed (channel mean, zero mean, unit norm), so only
    *where* the image is bright at ``size`` x ``size`` pixels remains. With ``align`` the map is
    taken in each image's own frame: centred on its brightness centroid and scaled by its RMS
    radius (moment normalisation, the classic way digits are put in a common frame), so a
    translation may also move and resize what it draws, but not reshape it. Brightness is read
    as ink: align suits light strokes on a dark ground (digits, sketches).

    ``deskew`` (with ``align``) goes further, as classic digit normalisation does: the strokes
    are blurred by 1/32 of the image height first (a thick stroke and a thin one then look
    alike), the frame is sheared to undo the slant (the xy ink moment) and scaled per axis
    halfway to the ink's own height and width. Slant, aspect and stroke width are then style,
    and scikit-learn digits find MNIST digits of their own class by map more often
    (bench/translate_digits.py prints how often).

    CycleGAN's structure term compares ``structure_map(G(x))`` with ``structure_map(x)``: the
    cycle loss alone lets G turn a 7 into a 9 as long as G_BA turns it back (the information
    hides in faint detail), but a 9 and a 7 differ in the low-frequency map.

    Example:
        >>> bars = -torch.ones(3, 1, 32, 32)
        >>> bars[0, :, 12:20, 14:18] = 1.0       # an upright bar
        >>> bars[1, :, 4:28, 10:22] = 1.0        # the same bar, three times larger
        >>> bars[2, :, 14:18, 12:20] = 1.0       # a lying bar
        >>> maps = structure_map(bars)
        >>> maps.shape
        torch.Size([3, 1, 8, 8])
        >>> [round(float((maps[0] * maps[i]).sum()), 2) for i in (1, 2)]  # correlations
        [0.99, 0.07]
    """
    if align:
        ink = aligned_ink(images, 4 * size, deskew)
    else:
        ink = (images.mean(1, keepdim=True) + 1) / 2  # (N, 1, H, W) in [0, 1]
    low = F.adaptive_avg_pool2d(ink, size)
    low = low - low.mean((2, 3), keepdim=True)
    return low / low.flatten(1).norm(dim=1).clamp_min(1e-6).view(-1, 1, 1, 1)


# The digit classifier's input size: the aligned frame is drawn straight at it.
_SEMANTIC_FRAME = 28


# The semantic classifiers' augmentation: shifts up to 2 px and turns up to 10 degrees, in
# training and, with semantic_jitter, when they read a translation.
_JITTER_SHIFT = 2.0
_JITTER_ROTATION = 10.0


def semantic_view(images: Tensor) -> Tensor:
    """What CycleGAN's semantic classifier reads: the deskewed ink frame at 28 px, in [-1, 1].

    The frame (:func:`aligned_ink` with ``deskew``) removes position, size, slant and stroke
    width, which is most of what tells one domain's digits from another's; a classifier trained
    on one domain through this view then carries over to the other far better than one trained
    on the images as they are (bench/translate_digits.py prints both for scikit-learn digits
    -> MNIST).

    Example:
        >>> semantic_view(torch.rand(2, 3, 32, 32) * 2 - 1).shape
        torch.Size([2, 1, 28, 28])
    """
    return aligned_ink(images, _SEMANTIC_FRAME, deskew=True) * 2 - 1


def train_semantic_classifier(
    images: Tensor, labels: Tensor, num_classes: int, steps: int, seed: int
) -> DigitClassifier:
    """A frozen classifier of uint8 ``images`` (N, C, H, W) by ``labels``, through the view.

    It reads :func:`semantic_view`. Shifts of up to 2 px and turns of up to 10 degrees widen
    the few thousand images a domain may hold; the same seed gives the same weights (CPU).
    Every parameter is frozen and the model comes back in eval mode: the semantic term moves
    G, never the classifier.

    Example:
        >>> images = torch.randint(0, 256, (16, 1, 32, 32), dtype=torch.uint8)
        >>> model = train_semantic_classifier(images, torch.arange(16) % 2, 2, steps=2, seed=0)
        >>> model(semantic_view(images.float() / 127.5 - 1)).shape
        torch.Size([16, 2])
    """
    with torch.no_grad():
        views = torch.cat([semantic_view(chunk.float() / 127.5 - 1) for chunk in images.split(512)])
    model = train_digit_classifier(
        views,
        labels,
        steps=steps,
        seed=seed,
        batch_size=64,
        config=DigitClassifierConfig(num_classes=num_classes),
        max_shift=_JITTER_SHIFT,
        max_rotation=_JITTER_ROTATION,
    )
    return model.requires_grad_(False)


def adapt_semantic_classifier(
    classifier: DigitClassifier,
    images: Tensor,
    steps: int,
    seed: int,
    keep: float = 0.5,
    rounds: int = 1,
) -> DigitClassifier:
    """A classifier of the other domain's unlabelled uint8 ``images``, taught by ``classifier``.

    Self-training with class-balanced selection (Zou et al. 2018): ``classifier`` labels every
    image through :func:`semantic_view`; of the images it gives each class, the most confident
    ``keep`` share become the training set of a new classifier. The new one has seen only the
    other domain's images, and reads them as they are (gray, :func:`_gray`), not through the
    view: it learns a class the way that domain draws it, position, size and stroke included,
    so a translation must look like that domain's digit to satisfy it. No label of that domain
    is used. Augmentation and seeding are those of :func:`train_semantic_classifier`.

    Each further round (``rounds`` > 1) relabels the images with the previous student, which
    already reads the domain as it is drawn, and keeps 0.2 more of each class (up to all of
    it), with steps in proportion to the images kept so every round makes the same passes over
    them. On digits -> MNIST, three rounds name 95.7 % of the MNIST test digits against 94.2 %
    for one (a diagnostic with MNIST's test labels; docs/BENCHMARKS.md).

    Example:
        >>> images = torch.randint(0, 256, (32, 1, 32, 32), dtype=torch.uint8)
        >>> teacher = train_semantic_classifier(images, torch.arange(32) % 2, 2, steps=2, seed=0)
        >>> student = adapt_semantic_classifier(teacher, images, steps=2, seed=0, rounds=2)
        >>> student(_gray(images.float() / 127.5 - 1)).shape
        torch.Size([32, 2])
    """
    if isinstance(rounds, bool) or not isinstance(rounds, int) or rounds < 1:
        raise GankitError(
            f"adapt_semantic_classifier rounds must be an integer >= 1, got {rounds!r}"
        )
    if not 0 < keep <= 1:  # also refuses NaN
        raise GankitError(f"adapt_semantic_classifier keep must be in (0, 1], got {keep!r}")
    teacher, view, share = classifier, semantic_view, keep
    for _ in range(rounds):
        device = next(teacher.parameters()).device
        with torch.no_grad():
            probabilities = torch.cat(
                [
                    teacher(view(chunk.to(device).float() / 127.5 - 1)).softmax(1).cpu()
                    for chunk in images.split(4096)
                ]
            )
        confidence, labels = probabilities.max(1)
        chosen = []
        for label in labels.unique():
            members = (labels == label).nonzero().flatten()
            count = max(1, round(share * len(members)))
            chosen.append(members[confidence[members].argsort(descending=True)[:count]])
        chosen = torch.cat(chosen).sort().values
        teacher = train_digit_classifier(
            _gray(images[chosen].float() / 127.5 - 1),
            labels[chosen],
            steps=max(1, round(steps * share / keep)),
            seed=seed,
            batch_size=64,
            config=classifier.config,
            max_shift=_JITTER_SHIFT,
            max_rotation=_JITTER_ROTATION,
        ).requires_grad_(False)
        view, share = _gray, min(1.0, share + 0.2)
    return teacher


def _gray(images: Tensor) -> Tensor:
    """(N, C, H, W) -> (N, 1, H, W): the channel mean, which the digit classifier reads."""
    return images.mean(1, keepdim=True)


class CycleObjective(Objective):
    """CycleGAN's extra G terms (cycle, identity, structure, semantic) and D's image pools.

    The engine's adversarial loss is the *mean* over both discriminators' patches; the paper sums
    the two directions and uses an MSE without LSGAN's 1/2. :meth:`adversarial_weight` restores
    the paper's ratio to ``cycle_weight`` (2 for the sum, x2 more for least squares).
    """

    def __init__(
        self,
        config: CycleGANConfig,
        loss: str,
        seed: int,
        classifier: DigitClassifier | None = None,
        classifier_b: DigitClassifier | None = None,
    ) -> None:
        if config.semantic_weight > 0 and classifier is None:
            raise GankitError("cyclegan semantic_weight > 0 needs the frozen domain-A classifier")
        if config.semantic_weight > 0 and config.semantic_adapt and classifier_b is None:
            raise GankitError("cyclegan semantic_adapt needs the classifier adapted to domain B")
        self.config = config
        self.classifier = classifier
        self.classifier_b = classifier_b
        self.channels = (config.channels_a, config.channels_b)
        size = (config.resolution, config.resolution)
        self.pools = {
            "A": ImagePool(config.pool_size, (config.channels_a, *size), seed * 2 + 101),
            "B": ImagePool(config.pool_size, (config.channels_b, *size), seed * 2 + 102),
        }
        self.gan_weight = 2.0 * (2.0 if loss == "least-squares" else 1.0)
        # Only a run that jitters holds (and checkpoints) the jitter's RNG: a checkpoint written
        # before semantic_jitter, or without it, has no such state to restore.
        self.jitter_rng = (
            torch.Generator().manual_seed(seed * 2 + 103)
            if config.semantic_weight > 0 and config.semantic_jitter
            else None
        )

    def _halves(self, x: Tensor) -> tuple[Tensor, Tensor]:
        return x[:, : self.channels[0]], x[:, self.channels[0] :]

    def g_terms(self, trainer: Any, real: Tensor, fake: Tensor, cond: Tensor) -> dict[str, Tensor]:
        G = getattr(trainer.G, "module", trainer.G)  # unwrap DistributedDataParallel
        real_a, real_b = self._halves(cond)
        fake_a, fake_b = self._halves(fake)  # fake_a = G_BA(b), fake_b = G_AB(a)
        z = fake.new_zeros(len(fake), 0)
        cycle = (G.G_BA(z, fake_b) - real_a).abs().mean() + (
            G.G_AB(z, fake_a) - real_b
        ).abs().mean()
        terms = {"cycle": self.config.cycle_weight * cycle}
        if self.config.identity_weight > 0:
            identity = (G.G_AB(z, real_b) - real_b).abs().mean()
            identity = identity + (G.G_BA(z, real_a) - real_a).abs().mean()
            weight = self.config.identity_weight * self.config.cycle_weight
            terms["identity"] = weight * identity
        if self.config.structure_weight > 0:
            terms["structure"] = self.config.structure_weight * (
                self._structure_distance(fake_b, real_a) + self._structure_distance(fake_a, real_b)
            )
        if self.config.semantic_weight > 0:
            terms["semantic"] = self.config.semantic_weight * self._semantic_loss(fake_b, real_a)
        return terms

    def _semantic_loss(self, translated: Tensor, source: Tensor) -> Tensor:
        """CyCADA's semantic consistency, A -> B only: G_AB(a) must get the class a gets.

        The target is the domain-A classifier's own label for the source, as in CyCADA (on
        domain A it is nearly always the true label); the translation is read by the classifier
        adapted to B if there is one, under a random shift and turn with ``semantic_jitter``
        (on digits -> MNIST, three rounds of adaptation: class preservation 0.940 against 0.926
        without, 4,000 steps; docs/BENCHMARKS.md). B -> A is left out: the labels a domain-A
        classifier gives domain B are wrong more often, and a G_BA pushed to a wrong class would
        teach G_AB, through the cycle, to change classes.
        """
        classifier = self.classifier.to(translated.device)
        with torch.no_grad():
            target = classifier(semantic_view(source)).argmax(1)
        if self.classifier_b is None:
            reader, read = classifier, semantic_view(translated)
        else:
            reader, read = self.classifier_b.to(translated.device), _gray(translated)
        if self.jitter_rng is not None:
            read = shift_and_rotate(read, self.jitter_rng, _JITTER_SHIFT, _JITTER_ROTATION)
        return F.cross_entropy(reader(read), target)

    def _structure_distance(self, translated: Tensor, source: Tensor) -> Tensor:
        options = (self.config.structure_size, self.config.structure_align)
        options += (self.config.structure_deskew,)
        # Squared distance of unit-norm maps: 2 x (1 - their correlation), from 0 to 4.
        difference = structure_map(translated, *options) - structure_map(source, *options)
        return difference.square().sum((1, 2, 3)).mean()

    def fake_for_d(self, trainer: Any, fake: Tensor) -> Tensor:
        fake_a, fake_b = self._halves(fake)
        return torch.cat([self.pools["A"].query(fake_a), self.pools["B"].query(fake_b)], dim=1)

    def adversarial_weight(self, step: int) -> float:
        return self.gan_weight

    def state_tensors(self) -> dict[str, Tensor]:
        pools = {
            f"pool_{domain}.{name}": value
            for domain, pool in self.pools.items()
            for name, value in pool.state_tensors().items()
        }
        if self.jitter_rng is None:
            return pools
        return {**pools, "semantic_jitter_rng": self.jitter_rng.get_state()}

    def load_state_tensors(self, tensors: dict[str, Tensor]) -> None:
        for domain, pool in self.pools.items():
            prefix = f"pool_{domain}."
            pool.load_state_tensors(
                {k[len(prefix) :]: v for k, v in tensors.items() if k.startswith(prefix)}
            )
        if self.jitter_rng is not None:
            self.jitter_rng.set_state(tensors["semantic_jitter_rng"])


# ----------------------------------------------------------------------------- shared task code


def _as_images(images: Any, channels: int, what: str) -> Tensor:
    """uint8 / [-1, 1] float images (N, C, H, W) or (C, H, W), tensor or numpy, -> float [-1, 1]."""
    if isinstance(images, np.ndarray):
        images = torch.from_numpy(images)
    if not isinstance(images, Tensor):
        raise GankitError(f"{what} must be a torch tensor or numpy array, got {type(images)}")
    if images.dim() == 3:
        images = images.unsqueeze(0)
    if images.dim() != 4 or images.shape[1] != channels:
        raise GankitError(
            f"{what} must be images (N, {channels}, H, W) for this model, got shape "
            f"{tuple(images.shape)}"
        )
    if images.dtype == torch.uint8:
        return images.float() / 127.5 - 1.0
    images = images.float()
    if images.numel() and (images.min() < -1.001 or images.max() > 1.001):
        raise GankitError(
            f"{what}: float images must lie in [-1, 1] (or pass uint8 0..255), got "
            f"{images.min().item():.3g}..{images.max().item():.3g}"
        )
    return images


def _grid_rows(*rows: Tensor) -> Tensor:
    """uint8 image rows (N, C, H, W) stacked for one grid, with channels made to agree."""
    channels = max(row.shape[1] for row in rows)
    return torch.cat([convert_channels(row, channels) for row in rows])


class _ImageTranslator(Translator):
    """What Pix2Pix and CycleGAN share: no noise, images in, images out."""

    architectures = TRANSLATORS

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, model=model, **train)
        if resolution is not None and (
            isinstance(resolution, bool) or not isinstance(resolution, int) or resolution < 1
        ):
            raise GankitError(f"resolution must be a positive number of pixels, got {resolution!r}")
        self.resolution = resolution
        self._preview: tuple[Tensor, Tensor] | None = None

    def _resolution(self) -> int:
        return self.resolution or self.data_info.get("resolution") or 32

    def _run(self, G: nn.Module, images: Tensor, batch_size: int) -> Tensor:
        """G on float images in chunks, in eval mode (dropout off), as uint8."""
        was_training = G.training
        G.eval()
        device = next(G.parameters()).device
        try:
            with torch.no_grad():
                out = [
                    to_uint8(G(chunk.new_zeros(len(chunk), 0), chunk).cpu())
                    for chunk in images.to(device).split(batch_size)
                ]
        finally:
            G.train(was_training)
        return torch.cat(out)

    def apply(
        self,
        inputs: Any,
        *,
        direction: str | None = None,
        ema: bool = True,
        batch_size: int = 64,
    ) -> Tensor:
        """Translate images (uint8 0..255 or float in [-1, 1], (N, C, H, W)) to uint8 images.

        Any size divisible by ``2**depth`` works (the U-Net is fully convolutional); the same
        input always gives the same output (dropout is off outside training).
        """
        direction = self.check_direction(direction)
        G = self._direction_generator(self._inference_generator(ema), direction)
        source = _as_images(inputs, G.config.in_channels, f"images to translate {direction}")
        return self._run(G, source, batch_size)

    def _direction_generator(self, G: nn.Module, direction: str) -> nn.Module:
        """The network that translates in ``direction`` (pix2pix: G itself)."""
        return G

    def describe(self) -> dict[str, Any]:
        return {
            **super().describe(),
            "resolution": self.data_info.get("resolution"),
            "channels": self.data_info.get("channels"),
            "input": "images",
            "output": "images",
        }


# ----------------------------------------------------------------------------- pix2pix


def _p2p_train(**overrides: Any) -> TrainConfig:
    values = {"steps": 3000, "batch_size": 32, "lr_g": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999)}
    return TrainConfig(**{"ema_beta": 0.0, "sample_every": 500, **values, **overrides})


_P2P_SMALL = {"width": 32, "d_width": 32, "d_layers": 2}

PIX2PIX_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "default",
            "CPU-first pix2pix for small images (32-64 px): U-Net (width 32), PatchGAN with 34x34 "
            "patches, non-saturating loss + 100 x L1, Adam 2e-4 (0.5, 0.999), batch 32.",
            "pix2pix",
            _P2P_SMALL,
            _p2p_train(),
        ),
        Preset(
            "l1-only",
            "Ablation: the default U-Net trained on L1 alone (gan_weight 0; D is never used). "
            "Compare it with `default` to see what the adversarial term adds.",
            "pix2pix",
            {**_P2P_SMALL, "gan_weight": 0.0},
            _p2p_train(),
        ),
        Preset(
            "pix2pix",
            "Isola et al. 2017 for 256-px images: U-Net depth 8 (width 64), 70x70 PatchGAN, "
            "batch norm, dropout 0.5, non-saturating loss + 100 x L1, batch 1.",
            "pix2pix",
            {"depth": 8, "width": 64, "d_width": 64, "d_layers": 3},
            _p2p_train(steps=200_000, batch_size=1, sample_every=2000, checkpoint_every=2000),
        ),
    )
}


class Pix2Pix(_ImageTranslator):
    """Paired translation A -> B from aligned pairs (``mnist-edges``, ``photos-colour``, a folder,
    a PairedData).

    A folder holds ``A/`` and ``B/`` with matching file names, or side-by-side AB images.
    ``resolution`` is the size images are loaded at and ``crop`` the random training crop (e.g.
    286 and 256 as in the paper); ``channels`` the (source, target) channels of folder data.

    Example:
        >>> model = Pix2Pix(resolution=64, channels=(1, 3))   # doctest: +SKIP
        >>> model.fit("sketches/", steps=5000)                # doctest: +SKIP
        >>> model.apply(sketch_uint8).shape      # doctest: +SKIP
        torch.Size([4, 3, 64, 64])
    """

    task = "pix2pix"
    presets = PIX2PIX_PRESETS
    default_preset = "default"

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        crop: int | None = None,
        channels: tuple[int, int] | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, resolution, model=model, **train)
        self.crop = crop
        self.channels = tuple(channels) if channels is not None else None

    def open_data(self, data: Any) -> tuple[PairedData, dict[str, Any]]:
        if data is None:
            raise GankitError(
                "no training data given; pass mnist-edges, photos-colour, a folder with A/ and "
                "B/ (matching names) or side-by-side AB images, or a PairedData"
            )
        if isinstance(data, PairedData):
            dataset, source = data, None
        elif str(data) in PAIRED_DATASETS:
            dataset, source = PAIRED_DATASETS[str(data)](), str(data)
        else:
            path = Path(str(data)).expanduser()
            source = str(path.resolve()) if path.exists() else str(data)
            channels = self.channels or tuple(self.data_info.get("channels", (3, 3)))
            crop = self.crop or self.data_info.get("crop")
            # Images load at load_size, then train on random crops of `crop` (paper: 286, 256).
            load_size = self.resolution or self.data_info.get("load_size") or 32
            dataset = load_paired_folder(path, load_size, channels, crop=crop)
        self._preview = dataset.batch(torch.arange(min(_PREVIEW, len(dataset))))
        info = {
            "source": source,
            "name": dataset.name,
            "size": len(dataset),
            "resolution": dataset.size,
            "load_size": dataset.sources.shape[2],
            "crop": dataset.crop,
            "channels": [dataset.sources.shape[1], dataset.targets.shape[1]],
        }
        return dataset, info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        in_channels, out_channels = data_info["channels"]
        return {
            "resolution": data_info["resolution"],
            "in_channels": in_channels,
            "out_channels": out_channels,
        }

    def objective(self) -> Pix2PixObjective:
        config = Pix2PixConfig(**(self.model_config or {}))
        return Pix2PixObjective(config.l1_weight, config.gan_weight)

    def render(self, G: nn.Module, path: Path) -> None:
        if self._preview is None:
            return
        target, source = self._preview
        rows = _grid_rows(to_uint8(source), self._run(G, source, _PREVIEW), to_uint8(target))
        save_image_grid(rows, path, nrow=len(source))  # rows: source, output, target

    def evaluate(self, dataset: PairedData) -> dict[str, Any]:
        from gankit.metrics.image_quality import psnr, ssim

        n = min(len(dataset), _EVAL_PAIRS)
        target, source = dataset.batch(torch.arange(n))
        output = self.apply(source)
        truth = to_uint8(target)
        return {
            "translation": {
                "pairs": n,
                "note": "first pairs of the training data; evaluate(held_out_pairs) scores others",
                "l1": round(float((output.float() - truth.float()).abs().mean() / 127.5), 4),
                "psnr": round(float(psnr(output, truth).clamp(max=100).mean()), 3),
                "ssim": round(float(ssim(output, truth).mean()), 4),
            }
        }


# ----------------------------------------------------------------------------- CycleGAN


def _cycle_train(**overrides: Any) -> TrainConfig:
    values = {"steps": 5000, "batch_size": 16, "lr_g": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999)}
    return TrainConfig(
        **{"loss": "least-squares", "ema_beta": 0.0, "sample_every": 500, **values, **overrides}
    )


CYCLEGAN_PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "default",
            "CPU-first CycleGAN for small images (32-64 px): two U-Nets (width 32), two PatchGANs "
            "with 34x34 patches, instance norm, LSGAN + 10 x cycle + 5 x identity, 50-image "
            "pools, Adam 2e-4 (0.5, 0.999), batch 16.",
            "cyclegan",
            {"width": 32, "d_width": 32, "d_layers": 2},
            _cycle_train(),
        ),
        Preset(
            "structure",
            "The default plus structure consistency (weight 2, moment-aligned 8x8 maps): for "
            "translations that must keep the drawn shape (digits, sketches; light strokes on a "
            "dark ground). On digits -> MNIST it kept the class more often than plain CycleGAN "
            "at an equal FD (measured in docs/translate.md).",
            "cyclegan",
            {"width": 32, "d_width": 32, "d_layers": 2, "structure_weight": 2.0},
            _cycle_train(),
        ),
        Preset(
            "semantic",
            "Structure consistency in the deskewed frame plus CyCADA's semantic term (weight 2), "
            "read by a domain-B classifier self-trained in 5 rounds, under a random shift and "
            "turn; needs domain A's labels (digits-mnist has them). On digits -> MNIST at width "
            "16 it kept the class of 96-97 % of the digits (docs/translate.md).",
            "cyclegan",
            {
                "width": 32,
                "d_width": 32,
                "d_layers": 2,
                "structure_weight": 2.0,
                "structure_deskew": True,
                "semantic_weight": 2.0,
                "semantic_adapt": True,
                "semantic_rounds": 5,
            },
            _cycle_train(),
        ),
        Preset(
            "cyclegan",
            "Zhu et al. 2017 losses and optimiser for 256-px images, with U-Net generators (depth "
            "8, width 64; the paper's U-Net variant), 70x70 PatchGANs, batch 1, linear lr decay.",
            "cyclegan",
            {"depth": 8, "width": 64, "d_width": 64, "d_layers": 3},
            _cycle_train(
                steps=200_000,
                batch_size=1,
                lr_schedule="linear",
                sample_every=2000,
                checkpoint_every=2000,
            ),
        ),
    )
}


class CycleGAN(_ImageTranslator):
    """Unpaired translation between domains A and B (``digits-mnist``, a folder, UnpairedData).

    A folder holds ``A/`` and ``B/`` (or ``trainA/`` and ``trainB/``) with any file names.

    Example:
        >>> model = CycleGAN().fit("digits-mnist", steps=3000)              # doctest: +SKIP
        >>> mnist_like = model.apply(digit_images, direction="AB")         # doctest: +SKIP
    """

    task = "cyclegan"
    presets = CYCLEGAN_PRESETS
    default_preset = "default"
    directions = ("AB", "BA")

    def __init__(
        self,
        preset: str | None = None,
        resolution: int | None = None,
        channels: tuple[int | None, int | None] | None = None,
        *,
        model: dict[str, Any] | None = None,
        **train: Any,
    ) -> None:
        super().__init__(preset, resolution, model=model, **train)
        self.channels = tuple(channels) if channels is not None else None
        # The semantic term's frozen classifiers (domain A's, and B's with semantic_adapt) and
        # the data they are fitted on.
        self.semantic: DigitClassifier | None = None
        self.semantic_b: DigitClassifier | None = None
        self._semantic_data: UnpairedData | None = None

    def open_data(self, data: Any) -> tuple[UnpairedData, dict[str, Any]]:
        if data is None:
            raise GankitError(
                "no training data given; pass digits-mnist, a folder with A/ and B/ "
                "(or trainA/ and trainB/), or an UnpairedData"
            )
        if isinstance(data, UnpairedData):
            dataset, source = data, None
        elif str(data) in UNPAIRED_DATASETS:
            dataset, source = UNPAIRED_DATASETS[str(data)](), str(data)
        else:
            path = Path(str(data)).expanduser()
            folders = _domain_folders(path) if path.is_dir() else None
            if folders is None:
                raise GankitError(
                    f"unknown unpaired data {str(data)!r}: not a built-in dataset "
                    f"({', '.join(UNPAIRED_DATASETS)}) and not a folder holding A/ and B/ "
                    "(or trainA/ and trainB/)"
                )
            source = str(path.resolve())
            channels = self.channels or tuple(self.data_info.get("channels", (None, None)))
            dataset = load_unpaired_folders(*folders, self._resolution(), channels)
        preview = torch.arange(min(_PREVIEW, len(dataset)))
        self._preview = dataset.batch(preview)
        self._semantic_data = dataset
        info = {
            "source": source,
            "name": dataset.name,
            "size": len(dataset),
            "sizes": [len(dataset.domain_a), len(dataset.domain_b)],
            "resolution": dataset.size,
            "channels": list(dataset.channels),
        }
        if dataset.labels_a is not None:
            info["classes_a"] = int(dataset.labels_a.max()) + 1  # the classifier's class count
        return dataset, info

    def arch_config(self, data_info: dict[str, Any]) -> dict[str, Any]:
        channels_a, channels_b = data_info["channels"]
        return {
            "resolution": data_info["resolution"],
            "channels_a": channels_a,
            "channels_b": channels_b,
        }

    def _build(self) -> None:
        super()._build()
        # New generators: the classifiers are fitted again for them.
        self.semantic = self.semantic_b = None

    def objective(self) -> CycleObjective:
        config = CycleGANConfig(**(self.model_config or {}))
        if config.semantic_weight > 0 and self.semantic is None:
            self._fit_semantic(config)
        return CycleObjective(
            config, self.train_config.loss, self.train_config.seed, self.semantic, self.semantic_b
        )

    def _fit_semantic(self, config: CycleGANConfig) -> None:
        """Fit the semantic term's classifiers on domain A's labels (before the game)."""
        data = self._semantic_data
        if data is None or data.labels_a is None:
            raise GankitError(
                f"cyclegan semantic_weight={config.semantic_weight:g} trains a classifier on "
                f"domain A's labels, but the data '{self.data_info.get('name')}' has none (image "
                "folders are unlabelled); use labelled data such as digits-mnist, or set "
                "semantic_weight=0"
            )
        seed = self.train_config.seed
        self.semantic = train_semantic_classifier(
            data.domain_a, data.labels_a, self.data_info["classes_a"], config.semantic_steps, seed
        )
        if config.semantic_adapt:
            self.semantic_b = adapt_semantic_classifier(
                self.semantic,
                data.domain_b,
                config.semantic_steps,
                seed,
                rounds=config.semantic_rounds,
            )

    def save_extras(self, out: Path) -> None:
        """The semantic term's classifiers, when it has them."""
        for domain, classifier in (("A", self.semantic), ("B", self.semantic_b)):
            if classifier is not None:
                save_module(classifier, out / _SEMANTIC_WEIGHTS[domain])

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> CycleGAN:
        """:meth:`~gankit.tasks.base.GANTask.from_config`; a config from before ``semantic_jitter`` keeps it off.

        Such a model was trained without the jitter, now on by default: a resumed run must go on
        as it began.
        """
        model = config.get("model")
        if isinstance(model, dict) and "semantic_jitter" not in model:
            config = {**config, "model": {**model, "semantic_jitter": False}}
        return super().from_config(config)

    def load_extras(self, path: Path) -> None:
        """The semantic term's classifiers come back from their weights."""
        used = {"A": self.model_config.get("semantic_weight", 0) > 0}
        used["B"] = used["A"] and self.model_config.get("semantic_adapt", False)
        for domain, attribute in (("A", "semantic"), ("B", "semantic_b")):
            if used[domain]:
                weights = path / _SEMANTIC_WEIGHTS[domain]
                # The class count the weights hold: data fine-tuned on after the classifier was
                # fitted may have other labels, or none. (A file without a head: the default,
                # and load_module names what is missing.)
                head = load_tensors(weights).get("head.weight")
                classes = len(head) if head is not None else DigitClassifierConfig().num_classes
                config = DigitClassifierConfig(num_classes=classes)
                classifier = DigitClassifier(config).requires_grad_(False).eval()
                load_module(classifier, weights)
                setattr(self, attribute, classifier)

    def _direction_generator(self, G: nn.Module, direction: str) -> nn.Module:
        return getattr(G, "G_" + direction)

    def render(self, G: nn.Module, path: Path) -> None:
        if self._preview is None:
            return
        pair, _ = self._preview
        channels_a = G.channels[0]
        a, b = pair[:, :channels_a], pair[:, channels_a:]
        rows = _grid_rows(
            to_uint8(a), self._run(G.G_AB, a, _PREVIEW), to_uint8(b), self._run(G.G_BA, b, _PREVIEW)
        )
        save_image_grid(rows, path, nrow=len(a))  # rows: a, G_AB(a), b, G_BA(b)

    def evaluate(self, dataset: UnpairedData) -> dict[str, Any]:
        n = min(len(dataset.domain_a), len(dataset.domain_b), _EVAL_PAIRS)
        pair, _ = dataset.batch(torch.arange(n))
        channels_a = dataset.channels[0]
        a, b = pair[:, :channels_a], pair[:, channels_a:]
        G = self._inference_generator(ema=True)

        def cycle_l1(x: Tensor, there: str, back: str) -> float:
            moved = self._run(getattr(G, "G_" + there), x, 64).float() / 127.5 - 1.0
            returned = self._run(getattr(G, "G_" + back), moved, 64).float() / 127.5 - 1.0
            return round(float((returned - x).abs().mean()), 4)

        return {
            "translation": {
                "images_per_domain": n,
                "cycle_l1_a": cycle_l1(a, "AB", "BA"),
                "cycle_l1_b": cycle_l1(b, "BA", "AB"),
            }
        }
