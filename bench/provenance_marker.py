"""Train the marker gankit ships (gankit/provenance/marker.safetensors): the reproducible command.

    python bench/provenance_marker.py --out gankit/provenance --steps 600 --threads 1

Training images: 64 px crops of the Set14 photographs (``$GANKIT_DATA/sr_benchmarks/Set14``)
and of scikit-image's bundled photographs other than those ``bench/provenance.py`` evaluates on
(:data:`TEST_PHOTOS`). Prints the loss and bit
accuracy every 100 steps and the CPU seconds spent.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import protocol
import torch

from gankit.data.folder import find_images, read_image
from gankit.provenance.marker import MarkerConfig, save_marker
from gankit.provenance.train import train_marker

DATA = Path(os.environ.get("GANKIT_DATA", Path(__file__).resolve().parents[1] / "../shared/data"))
# scikit-image photographs: evaluated on in bench/provenance.py, never trained on.
TEST_PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "retina", "immunohistochemistry")
TRAIN_PHOTOS = ("camera", "brick", "grass", "gravel", "page", "moon", "coins", "text", "clock")


def skimage_photo(name: str) -> torch.Tensor:
    """A scikit-image sample photograph as uint8 (C, H, W)."""
    import skimage.data

    array = torch.from_numpy(getattr(skimage.data, name)().copy())
    return array.unsqueeze(0) if array.dim() == 2 else array[..., :3].permute(2, 0, 1)


def training_images() -> list[torch.Tensor]:
    """The Set14 photographs and scikit-image's training photographs (uint8 (C, H, W)).

    MNIST digits are not among them: at 32 px a digit has too few textured pixels to carry 48
    bits at 39 dB (measured: bit accuracy 0.51 even on unattacked digits, docs/provenance.md),
    and mixing them in lowered the accuracy on photographs.
    """
    photos = [read_image(path, 3) for path in find_images(DATA / "sr_benchmarks" / "Set14")]
    return photos + [skimage_photo(name) for name in TRAIN_PHOTOS]


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="folder for marker.json + .safetensors")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--crop", type=int, default=64, help="side of the training patches")
    parser.add_argument("--psnr", type=float, default=39.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = training_images()
    start, wall = cpu_seconds(), time.time()

    def report(entry: dict[str, float]) -> None:
        spent = cpu_seconds() - start
        print(
            f"step {entry['step']:5d}  loss {entry['loss']:.4f}  bit accuracy "
            f"{entry['bit_accuracy']:.4f}  cpu {spent:.0f}s  wall {time.time() - wall:.0f}s",
            flush=True,
        )

    config = MarkerConfig(psnr=args.psnr, seed=args.seed)
    marker, _ = train_marker(
        images,
        config,
        steps=args.steps,
        batch_size=args.batch_size,
        crop=args.crop,
        seed=args.seed,
        on_log=report,
    )
    save_marker(marker, args.out)
    print(f"wrote the marker to {args.out}; training took {cpu_seconds() - start:.0f} CPU s")
    # The protocol's last line: what bench/provenance.py records when it runs this as a contender.
    protocol.emit({"steps": args.steps, "images_seen": args.steps * args.batch_size})


if __name__ == "__main__":
    main()
