"""Detector of generated images: AUROC on gankit models it never saw, clean and after attacks.

Two domains, each with generators the detector trains against ("seen") and generators it is
tested on ("unseen": other presets, other seeds, other step counts):

- ``mnist``: 32 px gray MNIST digits (28 px padded to 32, as gankit's ImageGAN reads MNIST);
  the detector's test reals are MNIST *test* digits.
- ``colour``: 32 px RGB patches of the photographs gankit ships for super-resolution
  (:data:`gankit.data.superres.TRAINING_IMAGES`, each shrunk to a shorter side of 96 px first so a
  patch holds a scene, not a texture); the generators and the detector's training reals use 12
  photographs, the detector's test reals come from the other 4, never seen by anyone.

Every generator is an :class:`gankit.ImageGAN` trained on 1 thread and cached in
``$DETECTOR_MODELS`` (default /tmp/detector-models; training is deterministic, so a cached model
is the one this script would train: its recorded training cost is reported with it). The
detector is trained ``--seeds`` times (``gankit.provenance.train_detector``, attacks as
augmentation) and each is scored on 500 images of every unseen model and 1,000 test reals, after
each of :data:`gankit.provenance.ATTACKS`.

    python bench/provenance_detector.py                 # record (committed tree)
    python bench/provenance_detector.py --no-record     # print only
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402

RESOLUTION = 32
MODELS = Path(os.environ.get("DETECTOR_MODELS", "/tmp/detector-models"))


@dataclass(frozen=True)
class Source:
    """One generator: a preset trained for ``steps`` from ``seed`` on a domain."""

    domain: str
    preset: str
    seed: int
    steps: int
    seen: bool  # the detector trains against it
    model: tuple[tuple[str, int], ...] = ()  # architecture overrides
    batch_size: int | None = None

    @property
    def name(self) -> str:
        return f"{self.domain}-{self.preset}-s{self.seed}-{self.steps}"

    @property
    def why(self) -> str:
        """What makes an unseen generator new to the detector."""
        seen = [s for s in SOURCES if s.seen and s.domain == self.domain]
        if self.seen:
            return "seen"
        if all(s.preset != self.preset for s in seen):
            return "other preset"
        return "other seed, other steps"


# A ResNet G of width 32 (the preset's is 128: 8 CPU s a step here) with batch 32.
_SMALL_RESNET = {"model": (("width", 32),), "batch_size": 32}
SOURCES = (
    Source("mnist", "default", 0, 300, True),
    Source("mnist", "dcgan", 0, 300, True),
    Source("mnist", "default", 1, 100, True),
    Source("mnist", "default", 2, 600, False),
    Source("mnist", "dcgan", 3, 150, False),
    Source("mnist", "default-cond", 0, 300, False),
    Source("mnist", "resnet-sn", 0, 200, False, **_SMALL_RESNET),
    Source("colour", "default", 0, 300, True),
    Source("colour", "dcgan", 0, 200, True),
    Source("colour", "default", 1, 500, False),
    Source("colour", "resnet-sn", 0, 150, False, **_SMALL_RESNET),
)
DOMAINS = ("mnist", "colour")
# The shipped photographs whose patches the colour detector is tested on (never trained on).
COLOUR_TEST_PHOTOS = ("coffee", "grass", "china", "camera")
COLOUR_SHORT_SIDE = 96
COLOUR_STRIDE = 8


def colour_patches(test: bool) -> torch.Tensor:
    """32 px RGB patches (N, 3, 32, 32) of the training photographs (``test``: the held-out 4)."""
    from gankit.data.images import resize_images
    from gankit.data.superres import TRAINING_IMAGES, training_images

    names = [n for n in TRAINING_IMAGES if (n in COLOUR_TEST_PHOTOS) == test]
    patches = []
    for photo in training_images(names):
        height, width = photo.shape[-2:]
        scale = COLOUR_SHORT_SIDE / min(height, width)
        small = resize_images(photo[None], (round(height * scale), round(width * scale)))[0]
        # (3, H, W) -> (3, rows, cols, 32, 32) -> (rows * cols, 3, 32, 32)
        grid = small.unfold(1, RESOLUTION, COLOUR_STRIDE).unfold(2, RESOLUTION, COLOUR_STRIDE)
        patches.append(grid.permute(1, 2, 0, 3, 4).reshape(-1, 3, RESOLUTION, RESOLUTION))
    return torch.cat(patches)


def real_images(domain: str, split: str) -> torch.Tensor:
    """uint8 real images of ``domain``: ``train`` (what the GANs saw) or ``test``."""
    return training_data(domain, split).images


def training_data(domain: str, split: str = "train"):
    """The ``domain``'s real images as an ImageData (MNIST with its labels, for ``-cond``)."""
    from gankit.data import ImageData
    from gankit.data.mnist import default_data_root, load_mnist

    if domain == "mnist":
        # 28 px digits padded to 32, as gankit's ImageGAN reads MNIST.
        return load_mnist(default_data_root() / "mnist", split, RESOLUTION)
    return ImageData(colour_patches(test=split == "test"), None, (), f"photo-patches-{split}")


def generator_worker(name: str) -> None:
    """Train one generator (or find it cached) and report what its training cost."""
    from gankit import ImageGAN
    from gankit.io import write_json

    source = next(s for s in SOURCES if s.name == name)
    out = MODELS / name
    cost_file = out / "training.json"
    if not cost_file.is_file():
        data = training_data(source.domain)
        train = {"batch_size": source.batch_size} if source.batch_size else {}
        gan = ImageGAN(
            preset=source.preset,
            resolution=RESOLUTION,
            model=dict(source.model),
            seed=source.seed,
            **train,
        )
        started, cpu = time.perf_counter(), time.process_time()
        gan.fit(data, steps=source.steps, quiet=True)
        cost = {
            "train_cpu_s": round(time.process_time() - cpu, 1),
            "train_wall_s": round(time.perf_counter() - started, 1),
            "steps": source.steps,
            "images_seen": source.steps * gan.train_config.batch_size,
        }
        gan.save(out)
        write_json(cost_file, cost)
        cost["cached"] = False
    else:
        cost = {**json.loads(cost_file.read_text()), "cached": True}
    protocol.emit(cost)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    protocol.add_arguments(parser)
    parser.add_argument("--generator", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.generator:
        generator_worker(args.generator)
        return


if __name__ == "__main__":
    main()
