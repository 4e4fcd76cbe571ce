"""Unpaired image-to-image translation (CycleGAN, Zhu et al. 2017): ``CycleGAN``.

A recipe over the one engine (:class:`~gankit.tasks.image_translation.ImageTranslator`): G holds
the two generators ``G_AB`` and ``G_BA``, D the two discriminators, and a batch carries one image
of each domain side by side in its channels. :class:`CycleObjective` adds the cycle
``|G_BA(G_AB(a)) - a| + |G_AB(G_BA(b)) - b|`` and identity ``|G_AB(b) - b| + |G_BA(a) - a|``
terms, optionally structure consistency (:func:`gankit.data.ink.structure_map`) and CyCADA's
semantic term (:mod:`gankit.tasks.semantic_classifier`), and trains D on a history pool of 50
fakes per domain (:class:`~gankit.train.image_pool.ImagePool`) whose contents are checkpointed
(bit-identical resume).

Example:
    >>> from gankit import CycleGAN
    >>> model = CycleGAN().fit("digits-mnist", steps=3000)                  # doctest: +SKIP
    >>> mnist_like = model.apply(digit_images, direction="AB")             # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from gankit.data.ink import structure_map
from gankit.data.paired import (
    UNPAIRED_DATASETS,
    UnpairedData,
    _domain_folders,
    load_unpaired_folders,
)
from gankit.errors import GankitError
from gankit.imageops import to_gray
from gankit.io import load_module, load_tensors, save_module
from gankit.metrics.classifier import DigitClassifier, DigitClassifierConfig
from gankit.nn.translation import CycleGANConfig
from gankit.tasks.base import Preset
from gankit.tasks.image_translation import EVAL_PAIRS, PREVIEW, ImageTranslator, grid_rows
from gankit.tasks.semantic_classifier import (
    adapt_semantic_classifier,
    semantic_jitter,
    semantic_view,
    train_semantic_classifier,
)
from gankit.train import TrainConfig
from gankit.train.image_pool import ImagePool
from gankit.train.objective import Objective, Players
from gankit.viz import save_image_grid, to_uint8

# CycleGAN's frozen classifiers: fitted on domain A's labels, and adapted to domain B.
_SEMANTIC_WEIGHTS = {"A": "semantic.safetensors", "B": "semantic_b.safetensors"}


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

    def g_terms(
        self, players: Players, real: Tensor, fake: Tensor, cond: Tensor
    ) -> dict[str, Tensor]:
        G = getattr(players.G, "module", players.G)  # unwrap DistributedDataParallel
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
            reader, read = self.classifier_b.to(translated.device), to_gray(translated)
        if self.jitter_rng is not None:
            read = semantic_jitter(read, self.jitter_rng)
        return F.cross_entropy(reader(read), target)

    def _structure_distance(self, translated: Tensor, source: Tensor) -> Tensor:
        options = (self.config.structure_size, self.config.structure_align)
        options += (self.config.structure_deskew,)
        # Squared distance of unit-norm maps: 2 x (1 - their correlation), from 0 to 4.
        difference = structure_map(translated, *options) - structure_map(source, *options)
        return difference.square().sum((1, 2, 3)).mean()

    def fake_for_d(self, players: Players, fake: Tensor) -> Tensor:
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


class CycleGAN(ImageTranslator):
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
        preview = torch.arange(min(PREVIEW, len(dataset)))
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
        """:meth:`~gankit.tasks.base.GANTask.from_config`; a config older than ``semantic_jitter``
        keeps it off.

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
        rows = grid_rows(
            to_uint8(a), self._run(G.G_AB, a, PREVIEW), to_uint8(b), self._run(G.G_BA, b, PREVIEW)
        )
        save_image_grid(rows, path, nrow=len(a))  # rows: a, G_AB(a), b, G_BA(b)

    def evaluate(self, dataset: UnpairedData) -> dict[str, Any]:
        n = min(len(dataset.domain_a), len(dataset.domain_b), EVAL_PAIRS)
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
