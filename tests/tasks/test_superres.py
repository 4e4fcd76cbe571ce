"""SuperResolution: both training phases on the engine, save/load, tiled inference, CLI, errors."""

import numpy as np
import pytest
import torch
from PIL import Image

import gankit
from gankit.cli import main
from gankit.data.superres import SRPatches, training_images
from gankit.errors import GankitError
from gankit.tasks import Translator
from gankit.tasks.superres import SuperResolution, VGGFeatures, upscale_tiled
from gankit.train import Trainer
from gankit.viz import to_uint8

TINY = {"width": 8, "blocks": 1, "growth": 4, "d_width": 8, "d_stages": 2}
# Receptive-field radius of the TINY generator in LR pixels: head 1 + 3 dense blocks x 5 convs +
# trunk_out 1 + upsampler 1, and 2 for the bicubic skip.
TINY_RADIUS = 20


@pytest.fixture(scope="module")
def patches():
    return SRPatches.from_images(training_images(["chelsea"]), scale=2, patch=16)


def _task(**model):
    return SuperResolution(
        "esrgan",
        scale=2,
        patch=16,
        model={**TINY, **model},
        batch_size=4,
        steps=3,
        health=False,
        log_every=1,
    )


@pytest.fixture(scope="module")
def trained(patches, tmp_path_factory):
    out = tmp_path_factory.mktemp("sr") / "run"
    gan = _task(pretrain_steps=1).fit(patches, out=out, quiet=True)
    return gan, out


def _lr_image(h=30, w=22):
    return torch.randint(0, 256, (3, h, w), generator=torch.Generator().manual_seed(1)).to(
        torch.uint8
    )


def test_one_step_of_each_phase(patches):
    gan = _task(pretrain_steps=1)
    data, gan.data_info = gan.open_data(patches)
    gan._build()
    trainer = Trainer(gan.G, gan.D, data, gan.train_config, objective=gan.objective())
    d_before = {k: v.clone() for k, v in gan.D.state_dict().items()}
    g_before = {k: v.clone() for k, v in gan.G.state_dict().items()}

    stats = trainer.train_step()  # step 0: pixel pre-training, D neither trains nor judges
    trainer.step += 1
    assert set(stats) == {"g_l1", "g_grad_norm"}
    assert all(torch.equal(v, gan.D.state_dict()[k]) for k, v in d_before.items())
    assert any(not torch.equal(v, gan.G.state_dict()[k]) for k, v in g_before.items())

    stats = trainer.train_step()  # step 1: L1 + perceptual (D features) + relativistic GAN
    assert {"d_loss", "g_loss", "g_l1", "g_perceptual"} <= set(stats)
    assert all(torch.isfinite(v) for v in stats.values())
    assert any(not torch.equal(v, gan.D.state_dict()[k]) for k, v in d_before.items())


def test_pretraining_beats_bicubic_on_fixed_patches(patches):
    gan = SuperResolution(
        "psnr", scale=2, patch=16, model=TINY, batch_size=8, steps=40, health=False, lr_g=1e-3
    )
    data, gan.data_info = gan.open_data(patches)
    gan._build()
    trainer = Trainer(gan.G, gan.D, data, gan.train_config, objective=gan.objective())
    hr, lr = data.batch(torch.linspace(0, len(data) - 1, 64).long())

    def l1() -> float:
        with torch.no_grad():
            return (gan.G(torch.zeros(len(lr), 0), lr) - hr).abs().mean().item()

    bicubic = l1()  # the untrained G is bicubic interpolation exactly
    for _ in range(40):
        trainer.train_step()
        trainer.step += 1
    assert l1() < 0.995 * bicubic  # deterministic: 0.990 on 1 thread


def test_save_load_gives_identical_upscales(trained):
    gan, out = trained
    assert (out / "G_ema.safetensors").is_file() and (out / "samples").is_dir()
    loaded = gankit.load(out)
    assert isinstance(loaded, SuperResolution) and loaded.config.scale == 2
    image = _lr_image()
    sr = gan.upscale(image)
    assert sr.shape == (3, 60, 44) and sr.dtype == torch.uint8
    assert torch.equal(sr, loaded.upscale(image))
    assert "set5" in (out / "metrics.json").read_text()


@pytest.mark.parametrize("preset", sorted(SuperResolution.presets))
def test_every_preset_trains_saves_and_reloads(preset, patches, tmp_path):
    gan = SuperResolution(
        preset, scale=2, patch=16, model=TINY, batch_size=4, health=False, sample_every=2
    )
    gan.fit(patches, steps=2, out=tmp_path / "run", quiet=True)
    assert (tmp_path / "run" / "samples" / "step-000002.png").is_file()
    image = _lr_image()
    assert torch.equal(gankit.load(tmp_path / "run").upscale(image), gan.upscale(image))


def test_tiled_inference_equals_whole_image(trained):
    gan, _ = trained
    G = gan.G_ema.eval()
    lr = _lr_image(40, 36).float()[None] / 127.5 - 1
    whole = G(torch.zeros(1, 0), lr)
    tiled = upscale_tiled(G, lr, 2, tile=16, overlap=TINY_RADIUS)
    assert torch.allclose(tiled, whole, atol=1e-5)
    seams = upscale_tiled(G, lr, 2, tile=16, overlap=0)
    assert not torch.allclose(seams, whole, atol=1e-5)  # the test really exercises tiling
    # The default overlap (16 px) is smaller than this radius; seams stay below one 8-bit level.
    assert (upscale_tiled(G, lr, 2, tile=16) - whole).abs().max() < 1 / 127.5
    # Inference keeps no autograd graph, even for a G that trains (memory stays per tile).
    assert not upscale_tiled(gan.G, lr, 2, tile=16).requires_grad


def test_upscale_accepts_files_arrays_and_gray(trained, tmp_path):
    gan, _ = trained
    image = _lr_image()
    path = tmp_path / "in.png"
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(path)
    expected = gan.upscale(image)
    assert torch.equal(gan.upscale(path), expected)
    assert torch.equal(gan.upscale(image.permute(1, 2, 0).numpy()), expected)
    assert gan.upscale(image[:1]).shape == (3, 60, 44)


def test_self_ensemble_averages_the_eight_turned_back_views(trained):
    gan, _ = trained
    G = gan.G_ema.eval()
    image = _lr_image(12, 10)
    lr = image.float()[None] / 127.5 - 1
    z = torch.zeros(1, 0)
    views = []
    for flip in (False, True):
        for k in range(4):
            x = torch.rot90(lr.flip(-1) if flip else lr, k, dims=(-2, -1))
            y = torch.rot90(G(z, x), -k, dims=(-2, -1))
            views.append(y.flip(-1) if flip else y)
    expected = to_uint8(torch.stack(views).mean(0)[0])
    ensemble = gan.upscale(image, self_ensemble=True)
    assert ensemble.shape == (3, 24, 20)
    assert (ensemble.int() - expected.int()).abs().max() <= 1  # summation order only
    assert not torch.equal(ensemble, gan.upscale(image))  # G is not flip-invariant
    # A flipped input gives the flipped output: the ensemble is exactly equivariant.
    flipped = gan.upscale(image.flip(-1).contiguous(), self_ensemble=True)
    assert (flipped.flip(-1).int() - ensemble.int()).abs().max() <= 1


def test_clear_errors(trained, tmp_path):
    gan, _ = trained
    with pytest.raises(GankitError, match="not found"):
        gankit.load(tmp_path / "missing")
    text = tmp_path / "readme.png"
    text.write_text("not an image")
    with pytest.raises(GankitError, match="not an image"):
        gan.upscale(text)
    corrupt = tmp_path / "corrupt.png"
    Image.fromarray(torch.randint(0, 256, (64, 64, 3), dtype=torch.uint8).numpy()).save(corrupt)
    corrupt.write_bytes(corrupt.read_bytes()[:3000])
    with pytest.raises(GankitError, match="corrupt.png"):
        gan.upscale(corrupt)
    with pytest.raises(GankitError, match="uint8"):
        gan.upscale(torch.zeros(3, 8, 8))
    with pytest.raises(GankitError, match="uint8"):
        gan.upscale(np.random.default_rng(0).random((8, 8, 3)))  # floats would come back black
    assert isinstance(gan, Translator) and not hasattr(gan, "sample")  # it draws no samples
    with pytest.raises(GankitError, match="neither"):
        _task().fit(tmp_path / "no-such-folder")


def test_local_vgg_weights_file(tmp_path, patches):
    from torchvision.models.vgg import cfgs, make_layers

    from gankit.io import save_tensors

    with pytest.raises(GankitError, match="VGG19"):
        VGGFeatures(tmp_path / "missing.safetensors")
    state = make_layers(cfgs["E"]).state_dict()
    weights = tmp_path / "vgg19.safetensors"
    save_tensors(weights, state)  # keys without torchvision's "features." prefix
    with pytest.raises(GankitError, match="VGG19 features"):
        VGGFeatures(weights)
    save_tensors(weights, {f"features.{k}": v for k, v in state.items()})
    features = VGGFeatures(weights)
    assert features(torch.zeros(1, 3, 32, 32))[0].shape == (1, 512, 2, 2)
    gan = _task(pretrain_steps=0, perceptual=str(weights))
    data, gan.data_info = gan.open_data(patches)
    gan._build()
    trainer = Trainer(gan.G, gan.D, data, gan.train_config, objective=gan.objective())
    assert torch.isfinite(trainer.train_step()["g_perceptual"])


def test_cli_train_and_upscale(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--task", "superres", "--scale", "2", "--patch", "16", "--batch-size", "4"]
    args += ["--steps", "2", "--pretrain-steps", "1", "--out", str(out), "--quiet"]
    for key, value in {**TINY, "health": "false"}.items():
        prefix = "" if key == "health" else "model."
        args += ["--set", f"{prefix}{key}={value}"]
    assert main(args) == 0
    image = tmp_path / "small.png"
    Image.fromarray(_lr_image().permute(1, 2, 0).numpy()).save(image)
    assert main(["apply", str(out), str(image), "-o", str(tmp_path / "big.png")]) == 0
    assert Image.open(tmp_path / "big.png").size == (44, 60)
    assert main(["sample", str(out), "--grid", str(tmp_path / "g.png"), "--truncation", "1"]) == 2
    assert f"a translator: use `gankit apply {out}" in capsys.readouterr().err
    plus = tmp_path / "plus.png"
    assert main(["apply", str(out), str(image), "-o", str(plus), "--self-ensemble"]) == 0
    assert np.array_equal(
        np.asarray(Image.open(plus)).transpose(2, 0, 1),
        gankit.load(out).upscale(image, self_ensemble=True).numpy(),
    )
    capsys.readouterr()
    assert main(["apply", str(tmp_path / "nope"), str(image), "-o", "x.png"]) == 2
    assert "not found" in capsys.readouterr().err
    assert main(["apply", str(out), str(tmp_path / "missing.png"), "-o", "x.png"]) == 2
    assert "missing.png" in capsys.readouterr().err
    assert main(["apply", str(out), str(image), "-o", str(tmp_path / "big.jpg")]) == 2
    assert "writes PNG" in capsys.readouterr().err and not (tmp_path / "big.jpg").exists()


def test_shipped_photos_and_zoom_are_recorded_and_legacy_runs_keep_theirs():
    from gankit.data.superres import ORIGINAL_PHOTOS, available_training_images
    from gankit.tasks.superres import ZOOM

    fresh = SuperResolution("psnr", scale=4, patch=32)
    data, info = fresh.open_data("photos")
    assert info["zoom"] == data.zoom == ZOOM
    assert info["photos"] == available_training_images() and len(data.images) == len(info["photos"])
    assert info["name"] == "photos"  # several packages' photographs, not only scikit-image's
    # A run saved before the zoom and the optional photos resumes on exactly what it had.
    legacy = SuperResolution("psnr", scale=4, patch=32)
    legacy.data_info = {"source": "photos", "scale": 4, "patch": 32}
    data, info = legacy.open_data(None)
    assert info["zoom"] == data.zoom == 1.0 and info["photos"] == list(ORIGINAL_PHOTOS)
    legacy.zoom = 1.5  # asked for: a resume may change it like any data option
    assert legacy.open_data(None)[1]["zoom"] == 1.5
