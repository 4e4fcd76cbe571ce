"""Every task on a CUDA device: training, mixed precision, bitwise resume, GPU save / CPU load.

Run with ``pytest -m gpu`` (``make test-gpu``) on a machine with a GPU; the default suite skips
them. They exist because CPU-only tests cannot see a tensor left on the wrong device.
"""

import json
import os

import pytest
import torch

# cuBLAS picks reduction orders per workspace; a fixed workspace makes the resume test exact.
# Must be set before cuBLAS starts, which no test before this module's does.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

from test_contract import CASES, RECIPES  # noqa: E402
from test_presets import tiny  # noqa: E402
from test_superres import TINY as SR_TINY  # noqa: E402
from test_superres import _lr_image  # noqa: E402
from test_translate import TINY as TRANSLATE_TINY  # noqa: E402
from test_translate import TRAIN as TRANSLATE_TRAIN  # noqa: E402

from gankit import CycleGAN, ImageGAN, Pix2Pix, SuperResolution, load  # noqa: E402
from gankit.data import load_digits  # noqa: E402
from gankit.data.paired import PairedData, UnpairedData, canny_edges  # noqa: E402
from gankit.data.superres import SRPatches, training_images  # noqa: E402
from gankit.tasks import Generator  # noqa: E402
from gankit.tasks.superres import upscale_tiled  # noqa: E402
from gankit.train.health import HealthConfig, HealthMonitor  # noqa: E402

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]


@pytest.fixture(autouse=True)
def _no_tf32():
    # TF32 matmuls/convolutions (PyTorch's default on Ampere and later) change results by ~1e-3,
    # beyond the tolerances below; these tests compare numbers, not speed.
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    yield
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _weights_equal_on_cpu(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k].cpu(), sb[k].cpu()) for k in sa)


def _stats(run):
    return [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("task,preset", CASES)
def test_every_preset_trains_on_cuda_and_reloads_on_cpu(task, preset, tmp_path):
    gan, data = tiny(task, preset, device="cuda")
    gan.fit(data, steps=4, out=tmp_path / "run", quiet=True)  # health monitor on, probing
    assert gan.history["device"].startswith("cuda")
    assert next(gan.G.parameters()).is_cuda
    reloaded = load(tmp_path / "run")
    assert not next(reloaded.G.parameters()).is_cuda
    for name in ("G", "G_ema", "D"):
        assert _weights_equal_on_cpu(getattr(gan, name), getattr(reloaded, name)), name
    # Inference works from the GPU model and the CPU reload alike (same type, shape, dtype).
    if isinstance(gan, Generator):
        on_gpu, on_cpu = gan.generate(8, seed=3), reloaded.generate(8, seed=3)
    else:
        inputs = RECIPES[task].inputs()
        on_gpu, on_cpu = gan.apply(inputs), reloaded.apply(inputs)
    assert type(on_gpu) is type(on_cpu) and len(on_gpu) == len(on_cpu)


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_trains_with_finite_losses(precision, tmp_path):
    gan, data = tiny("images", "default", device="cuda", precision=precision)
    gan.fit(data, steps=20, out=tmp_path, quiet=True)
    stats = _stats(tmp_path)
    assert len(stats) == 20
    assert all(torch.isfinite(torch.tensor([s["g_loss"], s["d_loss"]])).all() for s in stats)
    assert "rollbacks" not in gan.history


def test_resume_on_cuda_continues_bit_for_bit(tmp_path):
    torch.use_deterministic_algorithms(True)
    try:
        options = {"device": "cuda", "health": False}
        straight, data = tiny("images", "default", **options)
        straight.fit(data, steps=4, out=tmp_path / "straight", quiet=True)
        first, _ = tiny("images", "default", **options)
        first.fit(data, steps=2, out=tmp_path / "resumed", quiet=True)
        resumed = load(tmp_path / "resumed").fit(
            data, steps=4, out=tmp_path / "resumed", resume=True, quiet=True
        )
    finally:
        torch.use_deterministic_algorithms(False)
    assert resumed.history["device"].startswith("cuda")
    for name in ("G", "G_ema", "D"):
        assert _weights_equal_on_cpu(getattr(straight, name), getattr(resumed, name)), name


def test_health_probe_hands_cpu_tensors_to_a_mode_labeller(tmp_path):
    seen = []

    def labeller(images: torch.Tensor) -> torch.Tensor:
        seen.append(images.device.type)
        return torch.zeros(len(images), dtype=torch.long)

    monitor = HealthMonitor(HealthConfig(warmup_steps=1), modes=labeller, echo=False)
    gan, data = tiny("images", "default", device="cuda", log_every=2)
    gan.fit(data, steps=4, quiet=True, callbacks=[monitor])
    assert len(seen) >= 2 and set(seen) == {"cpu"}  # the real probe and G's probes
    assert "modes_hit" in monitor.history[-1]


def test_translators_train_on_cuda_and_apply_on_cpu_after_reload(tmp_path):
    digits = load_digits(16)
    paired = PairedData(canny_edges(digits.images[:32]), digits.images[:32], "edges", flip=False)
    low = digits.labels < 5
    unpaired = UnpairedData(digits.images[low][:24], digits.images[~low][:24], "low-high")
    for cls, data, apply in (
        (Pix2Pix, paired, lambda m, x: m.apply(x)),
        (CycleGAN, unpaired, lambda m, x: m.apply(x, direction="AB")),
    ):
        run = tmp_path / cls.__name__
        model = cls(model=TRANSLATE_TINY, device="cuda", **TRANSLATE_TRAIN)
        model.fit(data, steps=2, out=run, quiet=True)
        assert model.history["device"].startswith("cuda")
        reloaded = load(run)
        source = digits.images[:5]
        on_gpu, on_cpu = apply(model, source), apply(reloaded, source)
        assert on_gpu.shape == on_cpu.shape == (5, 1, 16, 16)
        # Same weights, other device: at most one 8-bit level apart.
        assert (on_gpu.int() - on_cpu.int()).abs().max() <= 1


def test_superres_on_cuda_tiles_like_whole_image(tmp_path):
    patches = SRPatches.from_images(training_images(["chelsea"]), scale=2, patch=16)
    gan = SuperResolution(
        "esrgan", scale=2, patch=16, model={**SR_TINY, "pretrain_steps": 1}, batch_size=4,
        steps=3, health=False, log_every=1, device="cuda",
    )  # fmt: skip
    gan.fit(patches, out=tmp_path / "run", quiet=True)
    G = gan.G_ema.eval()
    assert next(G.parameters()).is_cuda
    lr = (_lr_image(40, 36).float()[None] / 127.5 - 1).cuda()
    with torch.no_grad():
        whole = G(torch.zeros(1, 0, device="cuda"), lr)
        tiled = upscale_tiled(G, lr, 2, tile=16, overlap=20)
    assert torch.allclose(tiled, whole, atol=1e-4)
    image = _lr_image()
    up_gpu, up_cpu = gan.apply(image), load(tmp_path / "run").apply(image)
    assert up_gpu.shape == up_cpu.shape == (3, 60, 44)
    assert (up_gpu.int() - up_cpu.int()).abs().max() <= 1


def test_conditional_sampling_on_cuda_by_label(tmp_path):
    gan = ImageGAN(
        "default-cond", resolution=16, model={"g_width": 8, "d_width": 8}, batch_size=8,
        device="cuda", log_every=1,
    )  # fmt: skip
    gan.fit("digits", steps=2, quiet=True)
    images = gan.generate(10, seed=0, condition=[7] * 10)
    assert images.shape == (10, 1, 16, 16) and images.dtype == torch.uint8
