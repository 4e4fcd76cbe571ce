"""What an exported file holds, what the exporter refuses, and the `gankit export` command."""

from __future__ import annotations

import copy
import hashlib
import json
import shutil

import onnx
import pytest
import torch
from families import FAMILIES, RECIPES
from PIL import Image

from gankit import GankitError
from gankit.cli import main
from gankit.export import export, load_onnx, open_model, quantize_int8, to_onnx
from gankit.export.metadata import KEYS
from gankit.nn.layers import sn


def _props(path) -> dict[str, str]:
    return {p.key: p.value for p in onnx.load(str(path)).metadata_props}


def test_metadata_says_what_the_file_is(exported):
    model = exported("dcgan-cbn-projection")
    proto = onnx.load(str(model.paths[0]))
    props = _props(model.paths[0])
    weights = (model.folder / "G_ema.safetensors").read_bytes()
    assert props[KEYS.weights_sha256] == hashlib.sha256(weights).hexdigest()
    assert (props[KEYS.task], props[KEYS.preset]) == FAMILIES["dcgan-cbn-projection"]
    assert props[KEYS.latent_dim] == str(model.gan.G_ema.latent_dim)
    assert props[KEYS.version] and props[KEYS.value_range].startswith("[-1, 1]")
    meanings = json.loads(props[KEYS.inputs])["inputs"]
    assert set(meanings) == {"z", "condition"} and "class index" in meanings["condition"]
    assert [value.name for value in proto.graph.input] == ["z", "condition"]
    assert all(value.doc_string for value in proto.graph.input)
    assert proto.graph.input[0].type.tensor_type.shape.dim[0].dim_param == "batch"
    assert max(entry.version for entry in proto.opset_import if entry.domain == "") >= 17
    assert {node.domain for node in proto.graph.node} <= {"", "ai.onnx"}
    onnx.checker.check_model(proto, full_check=True)


def test_a_model_in_memory_has_the_hash_of_its_saved_weights(exported, tmp_path):
    model = exported("toy-mlp")
    path = to_onnx(model.gan, tmp_path / "toy.onnx")[0]
    assert _props(path)[KEYS.weights_sha256] == _props(model.paths[0])[KEYS.weights_sha256]


def test_translators_have_dynamic_height_and_width(exported):
    for path in exported("unet-cyclegan").paths:
        dims = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim
        assert [d.dim_param for d in dims] == ["batch", "", "height", "width"]


def test_cyclegan_writes_one_file_per_direction_each_refusing_the_other(exported, tmp_path):
    model = exported("unet-cyclegan")
    assert [p.name for p in model.paths] == ["unet-cyclegan-AB.onnx", "unet-cyclegan-BA.onnx"]
    assert [r.directions for r in model.runners] == [("AB",), ("BA",)]
    with pytest.raises(GankitError, match="direction must be one of AB"):
        model.runners[0].apply(RECIPES["cyclegan"].inputs(), direction="BA")
    (one,) = to_onnx(model.folder, tmp_path / "ba.onnx", direction="BA")
    assert _props(one)[KEYS.direction] == "BA"


def test_the_tabular_transformer_travels_beside_the_file(exported, tmp_path):
    model = exported("tabular")
    beside = model.paths[0].with_name("tabular.transformer.json")
    assert json.loads(beside.read_text()) == json.loads(
        (model.folder / "transformer.json").read_text()
    )
    lonely = tmp_path / "alone.onnx"
    shutil.copyfile(model.paths[0], lonely)
    with pytest.raises(GankitError, match="needs tabular.transformer.json beside it"):
        load_onnx(lonely)


def test_spectral_norm_is_baked_into_the_weights(exported, tmp_path):
    gan = copy.deepcopy(exported("toy-mlp").gan)
    sn(gan.G_ema.net[0])  # a parametrised layer in G: tracing cannot follow its power iteration
    gan.G_ema.eval()
    path = to_onnx(gan, tmp_path / "sn.onnx")[0]
    inits = {init.name for init in onnx.load(str(path)).graph.initializer}
    assert inits and not any("parametrizations" in name for name in inits)
    expected = gan.generate_raw(8, seed=1)
    torch.testing.assert_close(load_onnx(path).generate_raw(8, seed=1), expected, atol=1e-5, rtol=0)


def test_opset_17_also_passes(exported, tmp_path):
    model = exported("rrdb-superres")  # the bicubic skip's Resize is the op most likely to move
    path = to_onnx(model.folder, tmp_path / "sr17.onnx", opset=17)[0]
    image = torch.randint(0, 256, (3, 10, 14), dtype=torch.uint8)
    same = (load_onnx(path).apply(image) == model.gan.apply(image)).float().mean()
    assert same >= 0.999


def test_int8_copy_keeps_metadata_and_runs(exported, tmp_path):
    model = exported("dcgan")
    path = quantize_int8(model.paths[0], tmp_path / "dcgan.int8.onnx")
    props = _props(path)
    assert props[KEYS.quantized] == "int8-dynamic"
    assert props[KEYS.weights_sha256] == _props(model.paths[0])[KEYS.weights_sha256]
    images = load_onnx(path).generate(4, seed=0)
    assert images.shape == model.gan.generate(4, seed=0).shape


# ------------------------------------------------------------------------------ bad input


def test_a_model_directory_without_weights_is_refused(exported, tmp_path):
    folder = tmp_path / "untrained"
    folder.mkdir()
    shutil.copyfile(exported("toy-mlp").folder / "config.json", folder / "config.json")
    with pytest.raises(GankitError, match="holds no G_ema.safetensors: export needs a trained"):
        to_onnx(folder, tmp_path / "x.onnx")


def test_an_unknown_format_is_refused(exported, tmp_path):
    with pytest.raises(GankitError, match="unknown export format 'tflite'; valid formats: onnx"):
        export(exported("toy-mlp").folder, tmp_path / "x.tflite", format="tflite")


@pytest.mark.parametrize("opset", [16, onnx.defs.onnx_opset_version() + 1, "18"])
def test_an_opset_the_installed_onnx_cannot_write_is_refused(exported, tmp_path, opset):
    with pytest.raises(GankitError, match="opset must be an integer from 17 to"):
        to_onnx(exported("toy-mlp").folder, tmp_path / "x.onnx", opset=opset)


def test_other_bad_input_is_refused_by_name(exported, tmp_path):
    folder = exported("toy-mlp").folder
    with pytest.raises(GankitError, match="has no directions"):
        to_onnx(folder, tmp_path / "x.onnx", direction="AB")
    with pytest.raises(GankitError, match="direction must be one of AB, BA"):
        to_onnx(exported("unet-cyclegan").folder, tmp_path / "x.onnx", direction="XY")
    with pytest.raises(GankitError, match="name the ONNX file"):
        to_onnx(folder, tmp_path / "x.onx")
    with pytest.raises(GankitError, match="unknown exporter"):
        to_onnx(folder, tmp_path / "x.onnx", exporter="tf2onnx")
    with pytest.raises(GankitError, match="not a gankit export"):
        plain = tmp_path / "plain.onnx"
        torch.onnx.export(torch.nn.Linear(2, 2).eval(), (torch.zeros(1, 2),), plain, dynamo=True)
        load_onnx(plain)
    with pytest.raises(GankitError, match="onnxruntime cannot load"):
        (tmp_path / "junk.onnx").write_bytes(b"not a model")
        load_onnx(tmp_path / "junk.onnx")
    with pytest.raises(GankitError, match="unknown backend"):
        open_model(folder, backend="tensorrt")


# ------------------------------------------------------------------------------ command


def test_export_then_sample_and_apply_on_onnxruntime_match_torch(exported, tmp_path, capsys):
    model = exported("dcgan")
    onnx_file = tmp_path / "d.onnx"
    assert main(["export", str(model.folder), "--format", "onnx", "-o", str(onnx_file)]) == 0
    assert f"wrote {onnx_file}" in capsys.readouterr().out
    for backend, source in (("torch", model.folder), ("onnxruntime", onnx_file)):
        argv = ["sample", str(source), "-n", "3", "--seed", "2", "--backend", backend]
        assert main([*argv, "-o", str(tmp_path / backend)]) == 0
    pngs = sorted(p.name for p in (tmp_path / "torch").iterdir())
    assert pngs and all(
        (tmp_path / "torch" / p).read_bytes() == (tmp_path / "onnxruntime" / p).read_bytes()
        for p in pngs
    )
    sr = exported("rrdb-superres")
    main(["export", str(sr.folder), "-o", str(tmp_path / "sr.onnx")])
    image = tmp_path / "small.png"
    Image.fromarray(torch.randint(0, 256, (12, 10, 3), dtype=torch.uint8).numpy()).save(image)
    for backend, source in (("torch", sr.folder), ("onnxruntime", tmp_path / "sr.onnx")):
        argv = ["apply", str(source), str(image), "--backend", backend]
        assert main([*argv, "-o", str(tmp_path / f"{backend}.png")]) == 0
    torch_png = (tmp_path / "torch.png").read_bytes()
    assert torch_png == (tmp_path / "onnxruntime.png").read_bytes()
    capsys.readouterr()
    assert main(["export", str(model.folder), "--format", "coreml", "-o", "d.ml"]) == 2
    assert "unknown export format" in capsys.readouterr().err
    assert main(["sample", str(model.folder), "--backend", "onnxruntime", "-o", "x.png"]) == 2
    assert "gankit export" in capsys.readouterr().err
    assert main(["sample", str(onnx_file), "-o", "x.png"]) == 2  # torch backend, an ONNX file
    assert "run it with --backend onnxruntime" in capsys.readouterr().err


def test_a_one_direction_file_reads_its_own_domain_s_channels(tmp_path):
    # Gray A, RGB B: the BA file alone must take 3-channel images (it once took A's 1).
    from gankit import CycleGAN
    from gankit.data import load_digits
    from gankit.data.paired import UnpairedData

    digits = load_digits(16).images
    gray, rgb = digits[:16], digits[16:32].repeat(1, 3, 1, 1)
    tiny = {"width": 4, "d_width": 4, "depth": 4, "d_layers": 1, "pool_size": 2}
    gan = CycleGAN(model={**tiny, "identity_weight": 0.0}, batch_size=4)
    gan.fit(UnpairedData(gray, rgb, "gray-rgb"), steps=1, quiet=True)
    assert (gan.input_channels("AB"), gan.input_channels("BA")) == (1, 3)
    (path,) = to_onnx(gan, tmp_path / "m.onnx", direction="BA")
    runner = load_onnx(path)
    assert runner.directions == ("BA",) and runner.input_channels("BA") == 3
    assert torch.equal(runner.apply(rgb[:2], direction="BA"), gan.apply(rgb[:2], direction="BA"))
