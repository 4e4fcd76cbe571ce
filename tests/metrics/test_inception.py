"""FID Inception-v3: features and resize agree with torch-fidelity; weights load only safely.

No published Inception weights exist on this machine (nothing downloads), so the network is
checked with random weights saved twice: as .pth for torch-fidelity's own extractor and as
.safetensors for gankit's. Agreement under any weights shows the same layers, the same order of
operations and the same input protocol; the published weights only change the numbers.
"""

import json
import pickle
from pathlib import Path

import pytest
import torch

from gankit.cli import main
from gankit.data import load_digits
from gankit.data.images import resize_images
from gankit.errors import GankitError
from gankit.io import load_tensors, save_tensors
from gankit.metrics import build_extractor, frechet_distance
from gankit.metrics.evaluate import evaluate_images
from gankit.metrics.inception import (
    RESIZE_MODE,
    InceptionV3FID,
    convert_inception_weights,
    load_inception,
    tf1_bilinear_resize,
)

tf_inception = pytest.importorskip("torch_fidelity.feature_extractor_inceptionv3")
tf_interpolate = pytest.importorskip("torch_fidelity.interpolate_compat_tensorflow")
tf_fid = pytest.importorskip("torch_fidelity.metric_fid")


def _random_state() -> dict[str, torch.Tensor]:
    """Random weights that keep activations near unit scale through all 94 convolutions.

    PyTorch's default init shrinks the signal ~2.5x per layer, which would leave pool3 features
    near 1e-10 and let any comparison pass; He-normal convolutions and jittered batch-norm
    statistics give O(1) features, so a wrong op or a wrong order shows.
    """
    generator = torch.Generator().manual_seed(0)
    state = InceptionV3FID().state_dict()
    for name, tensor in state.items():
        if name.endswith("conv.weight"):
            std = (2.0 / tensor[0].numel()) ** 0.5
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * std)
        elif name.endswith("running_var"):
            tensor.copy_(torch.rand(tensor.shape, generator=generator) + 0.5)
        elif name.endswith("bn.weight"):
            tensor.copy_(torch.rand(tensor.shape, generator=generator) * 0.4 + 0.8)
        else:  # batch-norm means and biases, fc
            tensor.copy_(torch.randn(tensor.shape, generator=generator) * 0.1)
    return state


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    """The same random weights as gankit .safetensors and as a torch-fidelity-style .pth."""
    folder = tmp_path_factory.mktemp("inception")
    state = _random_state()
    save_tensors(folder / "inception.safetensors", state)
    torch.save(state, folder / "plain.pth")
    # torch-fidelity reads its .pth with an unrestricted torch.load: fine for a file this test
    # wrote itself, and the very thing gankit's loader refuses to do with user files.
    reference = tf_inception.FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(folder / "plain.pth")
    )
    # Its state dict carries BatchNorm's num_batches_tracked, as trained-model .pth files do.
    torch.save(reference.state_dict(), folder / "inception.pth")
    return {
        "safetensors": folder / "inception.safetensors",
        "pth": folder / "inception.pth",
        "state": state,
        "reference": reference,
    }


def _photos(size: int) -> torch.Tensor:
    """Two real RGB photographs (scikit-image samples), centre-cropped, as uint8 (2, 3, s, s)."""
    from skimage import data

    crops = [data.astronaut()[:512, :512], data.chelsea()[:, 75:375]]
    photos = [
        resize_images(torch.from_numpy(c).permute(2, 0, 1)[None].contiguous(), size) for c in crops
    ]
    return torch.cat(photos)


@pytest.fixture(scope="module")
def features(weights):
    """Pool3 features of 28-px gray digits and 64-px RGB photos, from gankit and torch-fidelity."""
    digits = load_digits(28).images[:8]  # uint8 (8, 1, 28, 28): 4 "real", 4 "fake"
    photos = _photos(64)
    extractor = build_extractor("inception", path=weights["safetensors"])
    reference = weights["reference"]
    with torch.no_grad():
        return {
            # gankit reads generator-range floats for the digits and uint8 for the photos.
            "ours_gray": extractor.extract(digits.float() / 127.5 - 1),
            "theirs_gray": reference(digits.expand(-1, 3, -1, -1))[0],
            "ours_rgb": extractor.extract(photos),
            "theirs_rgb": reference(photos)[0],
        }


@pytest.mark.parametrize("size", [(28, 28), (64, 64), (300, 300), (17, 40), (299, 299)])
def test_resize_matches_torch_fidelity(size):
    images = torch.rand(2, 3, *size, generator=torch.Generator().manual_seed(1)) * 255
    theirs = tf_interpolate.interpolate_bilinear_2d_like_tensorflow1x(
        images, size=(299, 299), align_corners=False
    )
    ours = tf1_bilinear_resize(images, 299)
    assert ours.shape == (2, 3, 299, 299)
    torch.testing.assert_close(ours, theirs, rtol=0, atol=1e-4)
    if size == (299, 299):
        assert torch.equal(ours, images)
    elif size[0] < 100:
        # Not F.interpolate (pytorch-fid's resize): TF1's grid has no half-pixel shift.
        half_pixel = torch.nn.functional.interpolate(images, (299, 299), mode="bilinear")
        assert (ours - half_pixel).abs().max() > 1.0


@pytest.mark.parametrize("kind", ["gray", "rgb"])
def test_features_match_torch_fidelity(features, kind):
    ours, theirs = features[f"ours_{kind}"], features[f"theirs_{kind}"]
    assert ours.shape == theirs.shape and ours.shape[1] == 2048
    assert theirs.std() > 0.1  # the random weights give O(1) features, not vanishing ones
    torch.testing.assert_close(ours, theirs, rtol=1e-5, atol=1e-5)


def _fid_few_samples(a: torch.Tensor, b: torch.Tensor) -> float:
    """Exact FID when there are fewer samples than dimensions, in float64.

    With centred features A (n_a, D), B (n_b, D): S_a = A'A / (n_a - 1), and the non-zero
    eigenvalues of S_a S_b are the squared singular values of A B' / sqrt((n_a-1)(n_b-1)), so
    Tr sqrt(S_a S_b) is that small matrix's nuclear norm: no 2048 x 2048 sqrtm needed.
    """
    a, b = a.double(), b.double()
    a0, b0 = a - a.mean(0), b - b.mean(0)
    scale = ((len(a) - 1) * (len(b) - 1)) ** 0.5
    trace_sqrt = torch.linalg.svdvals(a0 @ b0.T).sum() / scale
    diff = a.mean(0) - b.mean(0)
    traces = (a0**2).sum() / (len(a) - 1) + (b0**2).sum() / (len(b) - 1)
    return float(diff @ diff + traces - 2 * trace_sqrt)


def test_fid_from_both_feature_sets_agrees(features):
    ours, theirs = features["ours_gray"], features["theirs_gray"]
    fid_ours = _fid_few_samples(ours[:4], ours[4:])
    assert fid_ours > 1.0  # different digits are far apart: the check below is not 0 == 0
    assert fid_ours == pytest.approx(_fid_few_samples(theirs[:4], theirs[4:]), abs=1e-3)


@pytest.mark.slow
def test_fid_formulas_on_inception_features(features):
    """gankit's and torch-fidelity's FID functions on 2048-d features (two 2048 x 2048 sqrtms).

    With 4 samples per set the covariances are singular: torch-fidelity (eigenvalues) matches the
    exact value to ~1e-4; gankit's sqrtm falls back to an eps=1e-6 ridge on both covariances,
    which adds ~2 * 2048 * 1e-6 to the traces, a few 1e-3 here and nothing at FID's usual
    N >= 2048 (the 1e-3 agreement on full-rank features is in test_torch_fidelity.py).
    """
    ours, theirs = features["ours_gray"], features["theirs_gray"]
    exact = _fid_few_samples(theirs[:4], theirs[4:])
    stats = [tf_fid.fid_features_to_statistics(f) for f in (theirs[:4], theirs[4:])]
    fid_theirs = tf_fid.fid_statistics_to_metric(*stats, verbose=False)[tf_fid.KEY_METRIC_FID]
    assert fid_theirs == pytest.approx(exact, abs=1e-3)
    assert frechet_distance(ours[:4], ours[4:]) == pytest.approx(exact, abs=1e-2)


def test_missing_weights_say_what_to_pass(tmp_path):
    with pytest.raises(GankitError, match="--inception-weights") as err:
        build_extractor("inception")
    assert "convert-inception" in str(err.value) and "never downloads" in str(err.value)
    with pytest.raises(GankitError, match="not found"):
        build_extractor("inception", path=tmp_path / "nope.safetensors")


def test_pth_is_never_loaded_directly(weights):
    with pytest.raises(GankitError, match="only .safetensors"):
        load_inception(weights["pth"])


def test_wrong_shapes_and_keys_are_refused(weights, tmp_path):
    imagenet = dict(weights["state"])  # torchvision's ImageNet Inception has 1000 logits
    imagenet["fc.weight"] = torch.zeros(1000, 2048)
    imagenet["fc.bias"] = torch.zeros(1000)
    save_tensors(tmp_path / "imagenet.safetensors", imagenet)
    with pytest.raises(GankitError, match=r"fc\.(weight|bias).*shape"):
        load_inception(tmp_path / "imagenet.safetensors")
    renamed = {k.replace("Mixed_7c", "Mixed_7d"): v for k, v in weights["state"].items()}
    save_tensors(tmp_path / "renamed.safetensors", renamed)
    with pytest.raises(GankitError, match="missing.*Mixed_7c.*unexpected.*Mixed_7d"):
        load_inception(tmp_path / "renamed.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"not weights")
    with pytest.raises(GankitError, match="not a valid safetensors"):
        load_inception(tmp_path / "junk.safetensors")


def test_convert_pth_round_trips(weights, tmp_path):
    out = tmp_path / "converted.safetensors"
    convert_inception_weights(weights["pth"], out)
    converted = load_tensors(out)
    assert converted.keys() == weights["state"].keys()  # BN counters dropped, nothing else
    assert all(torch.equal(converted[k], v) for k, v in weights["state"].items())
    with pytest.raises(GankitError, match="1000 classes"):
        imagenet = dict(weights["state"], **{"fc.weight": torch.zeros(1000, 2048)})
        torch.save(imagenet, tmp_path / "imagenet.pth")
        convert_inception_weights(tmp_path / "imagenet.pth", tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


class _Payload:
    """Pickles as "call Path.touch(marker)": code that runs the moment a pickle is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("container", ["torch.save zip", "raw pickle"])
def test_malicious_pickle_is_refused_and_nothing_runs(tmp_path, container):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    payload = {"fc.weight": torch.zeros(1), "payload": _Payload(marker)}
    if container == "raw pickle":  # the legacy (pre-1.6) .pth layout is a bare pickle stream
        evil.write_bytes(pickle.dumps(payload, protocol=2))
    else:
        torch.save(payload, evil)
    with pytest.raises(GankitError, match="refused by the safe loader.*never runs code"):
        convert_inception_weights(evil, tmp_path / "out.safetensors")
    assert not marker.exists() and not (tmp_path / "out.safetensors").exists()
    # The payload is live: an unrestricted load (what torch-fidelity does) runs it.
    if container == "raw pickle":
        pickle.loads(evil.read_bytes())
    else:
        torch.load(evil, weights_only=False)
    assert marker.exists()


def test_modes_needs_a_class_head(weights):
    extractor = build_extractor("inception", path=weights["safetensors"])
    images = torch.zeros(2, 1, 8, 8)
    with pytest.raises(GankitError, match="no class head"):
        evaluate_images(images, images, extractor, ("fd", "modes"))


def test_cli_convert_and_clear_errors(weights, tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    assert main(["eval", "convert-inception", str(weights["pth"]), str(out)]) == 0
    assert "sha256" in capsys.readouterr().out and out.is_file()
    assert main(["eval", "convert-inception", str(weights["pth"])]) == 2
    assert "SRC.pth OUT.safetensors" in capsys.readouterr().err
    assert main(["eval", "runs/x", "--extractor", "inception"]) == 2
    assert "--inception-weights" in capsys.readouterr().err
    assert main(["eval", "runs/x", "--inception-weights", str(tmp_path / "none.safetensors")]) == 2
    assert "not found" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_eval_with_inception_records_the_protocol(weights, tmp_path, tiny_train_args):
    run = tmp_path / "run"
    assert main(["train", *tiny_train_args, "--steps", "2", "--out", str(run)]) == 0
    argv = ["eval", str(run), "--extractor", "inception", "--n", "6", "--seed", "3"]
    assert (
        main([*argv, "--inception-weights", str(weights["safetensors"]), "--metrics", "fd,pr"]) == 0
    )
    result = json.loads((run / "metrics.json").read_text())["eval"]
    protocol = result["protocol"]
    assert protocol["resize"] == RESIZE_MODE == "tf1-bilinear-299"
    assert protocol["extractor_kind"] == "inception-v3-fid"
    assert (
        len(protocol["weights_sha256"]) == 64
        and protocol["weights_sha256"] in protocol["extractor"]
    )
    assert (protocol["n_real"], protocol["n_fake"], protocol["seed"]) == (6, 6, 3)
    assert result["metrics"]["feature_dim"] == 2048 and result["metrics"]["fd"] > 0
