"""Loading never runs code and refuses files that do not fit, with one clear message.

The malicious files carry a pickle payload that creates a marker file when unpickled; each test
first proves the payload is live (unpickling a copy does create a marker), then asserts that
gankit refused the file and the marker does not exist: 0 code executed.
"""

from __future__ import annotations

import json
import pickle
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from reliability_helpers import assert_clean_error, run_cli
from safetensors.torch import save_file

import gankit
from gankit.errors import GankitError
from gankit.io import FORMAT_VERSION, load_tensors
from gankit.train.state import latest_checkpoint


class _Payload:
    """Unpickling this runs ``exec``: the file it names is created."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (exec, (f"open({self.marker!r}, 'w').close()",))


def pickle_bytes(marker: Path) -> bytes:
    return pickle.dumps({"weight": _Payload(marker)})


def torch_pt_bytes(marker: Path, tmp: Path) -> bytes:
    """A ``.pt`` as ``torch.save`` writes it (zip + pickle), with the same payload inside."""
    torch.save({"weight": _Payload(marker)}, tmp / "payload.pt")
    return (tmp / "payload.pt").read_bytes()


PAYLOADS: dict[str, Callable[[Path, Path], bytes]] = {
    "pickle": lambda marker, tmp: pickle_bytes(marker),
    "torch.save": torch_pt_bytes,
}


@pytest.fixture
def model(reference_run: Path, tmp_path: Path) -> Path:
    """A private copy of a trained model directory (with checkpoints) to tamper with."""
    return Path(shutil.copytree(reference_run, tmp_path / "model"))


@pytest.mark.parametrize("kind", PAYLOADS)
def test_payload_is_live(kind, tmp_path):
    """The control: the payload does run when a pickle loader opens it."""
    marker = tmp_path / "ran"
    data = PAYLOADS[kind](marker, tmp_path)
    if kind == "pickle":
        pickle.loads(data)
    else:
        (tmp_path / "live.pt").write_bytes(data)
        torch.load(tmp_path / "live.pt", weights_only=False)
    assert marker.exists()


# (file to replace inside the model directory, command to run, text the error names)
TARGETS = [
    ("G.safetensors", "sample", "G.safetensors"),
    ("G_ema.safetensors", "load", "G_ema.safetensors"),
    ("D.safetensors", "load", "D.safetensors"),
    ("config.json", "info", "config.json"),
    ("train_state/{latest}/optim_G.safetensors", "resume", "optim_G.safetensors"),
    ("train_state/{latest}/rng.safetensors", "resume", "rng.safetensors"),
    ("train_state/{latest}/trainer.json", "resume", "trainer.json"),
]


def run_command(command: str, model: Path, capsys) -> tuple[int, str]:
    """Load ``model`` through ``command``: a CLI command, or ``load`` for the Python API."""
    if command == "load":
        try:
            gankit.load(model)
        except GankitError as err:
            return 2, f"gankit: error: {err}"
        return 0, ""
    argv = {
        "sample": ["sample", str(model), "--grid", str(model / "grid.png")],
        "info": ["info", str(model)],
        "resume": ["resume", str(model), "--steps", "31", "--quiet"],
    }[command]
    code, _, err = run_cli(argv, capsys)
    return code, err


@pytest.mark.parametrize("kind", PAYLOADS)
@pytest.mark.parametrize("target,command,needle", TARGETS, ids=[t[0] for t in TARGETS])
def test_pickle_in_place_of_a_model_file_is_refused(
    kind, target, command, needle, model, tmp_path, capsys
):
    marker = tmp_path / "code-ran"
    path = model / target.format(latest=latest_checkpoint(model).name)
    path.write_bytes(PAYLOADS[kind](marker, tmp_path))
    code, err = run_command(command, model, capsys)
    assert_clean_error(code, err, needle)
    assert not marker.exists(), "the payload ran"


def test_pt_file_beside_missing_safetensors_is_not_used(model, tmp_path, capsys):
    marker = tmp_path / "code-ran"
    (model / "G.safetensors").unlink()
    (model / "G.pt").write_bytes(torch_pt_bytes(marker, tmp_path))
    code, err = run_command("sample", model, capsys)
    assert_clean_error(code, err, "G.safetensors")
    assert not marker.exists()


def test_load_tensors_refuses_a_pt_file(tmp_path):
    marker = tmp_path / "code-ran"
    (tmp_path / "weights.pt").write_bytes(torch_pt_bytes(marker, tmp_path))
    with pytest.raises(GankitError, match="safetensors"):
        load_tensors(tmp_path / "weights.pt")
    assert not marker.exists()


def test_no_pickle_loader_anywhere_in_gankit():
    """The cheapest guarantee: no code path that could unpickle code exists in the package.

    The one exception is ``torch.load(..., weights_only=True)`` (the Inception converter): its
    restricted unpickler builds tensors and containers only and refuses any other global.
    """
    unsafe = re.compile(
        r"torch\.load\((?!.*weights_only=True)|pickle\.loads?\(|import (c?pickle|dill|joblib)"
        r"|allow_pickle\s*=\s*True"
    )
    package = Path(gankit.__file__).parent
    hits = [
        f"{path.relative_to(package)}:{n}"
        for path in package.rglob("*.py")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if unsafe.search(line)
    ]
    assert hits == []


def _retyped(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    name = next(iter(state))
    return {**state, name: state[name].double()}


def _reshaped(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    name = next(iter(state))
    return {**state, name: state[name].reshape(1, -1)}


def _missing(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return dict(list(state.items())[1:])


def _extra(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {**state, "backdoor.weight": torch.zeros(3)}


def _half(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.half() if v.is_floating_point() else v.to(torch.int16) for k, v in state.items()}


CHANGES = {
    "dtype": _retyped,
    "shape": _reshaped,
    "missing": _missing,
    "extra": _extra,
    "half": _half,
}


def _checkpoint_cases():
    for stem in ("G", "optim_G", "rng"):
        for name in CHANGES:
            yield pytest.param(stem, name, id=f"{stem}-{name}")


@pytest.mark.parametrize("stem,change", list(_checkpoint_cases()))
def test_safetensors_that_do_not_fit_are_refused(stem, change, model, capsys):
    """Valid safetensors with the wrong contents: as weights (sample) or in a checkpoint."""
    if stem == "G":
        path, command = model / "G.safetensors", "sample"
    else:
        path, command = latest_checkpoint(model) / f"{stem}.safetensors", "resume"
    save_file(CHANGES[change](load_tensors(path)), path)
    code, err = run_command(command, model, capsys)
    assert_clean_error(code, err, stem)


def _set(key: str, value) -> Callable[[dict], dict]:
    return lambda config: {**config, key: value}


def _drop(key: str) -> Callable[[dict], dict]:
    return lambda config: {k: v for k, v in config.items() if k != key}


def _nested(section: str, key: str, value) -> Callable[[dict], dict]:
    return lambda config: {**config, section: {**config[section], key: value}}


# Broken headers: every command that reads a model directory refuses them, `gankit info` too.
HEADERS = {
    "newer format": (_set("format_version", FORMAT_VERSION + 1), "upgrade gankit"),
    "format as text": (_set("format_version", "1"), "format_version"),
    "format zero": (_set("format_version", 0), "format_version"),
    "format true": (_set("format_version", True), "format_version"),
    "no format": (_drop("format_version"), "format_version"),
    "no task": (_drop("task"), "task"),
    "task not a name": (_set("task", ["images"]), "task"),
}

# Contents a model cannot be rebuilt from: refused by what rebuilds it (sample, resume, load).
CONTENTS = {
    "unknown train key": (_nested("train", "lr_gg", 0.1), "lr_gg", []),
    "unknown model key": (_nested("model", "g_wdith", 8), "g_wdith", []),
    "bad train value": (_nested("train", "batch_size", -8), "batch_size", []),
    "train not a dict": (_set("train", [1, 2]), "train", []),
    "unknown task": (_set("task", "video"), "video", []),
    "unknown preset": (_set("preset", "stylegan9"), "stylegan9", []),
    "unknown key": (_set("evil_hook", "os.system"), "evil_hook", []),
    "model not a dict": (_set("model", "dcgan"), "model", []),
    "no preset": (_drop("preset"), "preset", []),
    "no train": (_drop("train"), "train", []),
    "no model": (_drop("model"), "model", []),
    "no data": (_drop("data"), "data", []),
}


def _config_cases():
    for case, (change, needle) in HEADERS.items():
        for command in ("sample", "info", "resume", "load"):
            yield pytest.param(change, needle, command, id=f"{case}-{command}")
    for case, (change, needle, marks) in CONTENTS.items():
        for command in ("sample", "resume", "load"):
            yield pytest.param(change, needle, command, marks=marks, id=f"{case}-{command}")


@pytest.mark.parametrize("change,needle,command", list(_config_cases()))
def test_config_that_does_not_fit_is_refused(change, needle, command, model, capsys):
    config_path = model / "config.json"
    config_path.write_text(json.dumps(change(json.loads(config_path.read_text()))))
    code, err = run_command(command, model, capsys)
    assert_clean_error(code, err, needle)


@pytest.mark.parametrize(
    "content", [b"", b"[1, 2]", b"\xff\xfe\x00garbage", b'{"task": "images"'], ids=repr
)
def test_config_that_is_not_a_config_is_refused(content, model, capsys):
    (model / "config.json").write_bytes(content)
    code, err = run_command("sample", model, capsys)
    assert_clean_error(code, err, "config.json")
