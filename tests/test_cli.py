"""The gankit command: every verb end to end on every task, the deprecated spellings, and one-line
errors for bad input."""

import json
from dataclasses import fields

import pandas as pd
import pytest
import torch
from PIL import Image

from gankit.cli import build_parser, main
from gankit.data import load_digits
from gankit.data.paired import canny_edges
from gankit.data.tabular import demo_table
from gankit.tasks import TASKS
from gankit.train import TrainConfig


@pytest.fixture(scope="session")
def digit_folder(tmp_path_factory):
    """64 digits as PNGs in one folder: unlabelled, so the end-of-run report trains no classifier
    (which would take most of a tiny run's time)."""
    root = tmp_path_factory.mktemp("data")
    return str(root / _digits(root))


@pytest.fixture(scope="session")
def tiny(tiny_train_args, digit_folder):
    return [*tiny_train_args, "--data", digit_folder, "--checkpoint-every", "2"]


@pytest.fixture(scope="module")
def run(tmp_path_factory, tiny):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["train", *tiny, "--steps", "3", "--out", str(out)]) == 0
    return out


def test_train_writes_a_model_directory(run, capsys):
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 3
    assert (run / "report.md").is_file()


def test_sample_grid_and_individual_pngs(run, tmp_path, capsys):
    grid, folder = tmp_path / "grid.png", tmp_path / "pngs"
    assert main(["sample", str(run), "-n", "5", "--grid", str(grid), "--out-dir", str(folder)]) == 0
    assert Image.open(grid).size[0] > 16
    pngs = sorted(folder.glob("*.png"))
    assert len(pngs) == 5 and Image.open(pngs[0]).size == (16, 16)
    # -o picks by suffix: a file is the grid, no suffix a folder; same seed, same pixels.
    assert main(["sample", str(run), "-n", "5", "-o", str(tmp_path / "o.png")]) == 0
    assert (tmp_path / "o.png").read_bytes() == grid.read_bytes()
    assert main(["sample", str(run), "-n", "5", "-o", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / pngs[0].name).read_bytes() == pngs[0].read_bytes()


def test_info_describes_the_run(run, capsys):
    assert main(["info", str(run)]) == 0
    text = capsys.readouterr().out
    assert "task images" in text and "latest checkpoint: step-000003" in text
    assert 'inference: "generate"' in text and 'output: "images"' in text


def test_resume_continues_to_more_steps(tmp_path, capsys, tiny):
    out = tmp_path / "run"
    assert main(["train", *tiny, "--steps", "2", "--out", str(out)]) == 0
    assert main(["resume", str(out), "--steps", "4", "--quiet"]) == 0
    assert "now at step 4" in capsys.readouterr().out
    assert (out / "train_state" / "step-000004").is_dir()


def test_presets_lists_every_preset_or_one_tasks(capsys):
    assert main(["presets"]) == 0
    text = capsys.readouterr().out
    for name in ("default", "dcgan", "resnet-sn", "toy-mlp", "esrgan", "ctgan"):
        assert name in text
    assert main(["presets", "--task", "toy"]) == 0
    text = capsys.readouterr().out
    assert "toy-mlp" in text and "dcgan" not in text


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["train", "--data", "/no/such/folder", "--steps", "1"], "/no/such/folder"),
        (["train", "--steps", "0"], "steps must be a positive integer"),
        (["train", "--lr-g", "nan", "--steps", "1"], "lr_g"),
        (["train", "--set", "ema_bta=0.9"], "ema_bta"),
        (["train", "--set", "novalue"], "KEY=VALUE"),
        (["train", "--data", "digits", "--loss", "wgan"], "unknown loss 'wgan'"),
        (["train", "--data", "digits", "--optimizer", "sgd"], "optimizer must be one of"),
        (["train", "--set", "betas=[0.5,1.5]"], "betas must be two numbers"),
        (["sample", "/no/such/run", "--grid", "x.png"], "/no/such/run"),
        (["apply", "/no/such/run", ".", "-o", "out"], "/no/such/run"),
        (["resume", "/no/such/run"], "/no/such/run"),
        (["info", "/no/such/run"], "/no/such/run"),
    ],
)
def test_bad_input_is_one_clear_line(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gankit: error:") and needle in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--task", "toy", "--data", "ring", "--conditional"], "'toy' does not take --conditional"),
        (["--task", "images", "--crop", "12"], "'images' does not take --crop"),
        (["--task", "tabular", "--resolution", "16"], "'tabular' does not take --resolution"),
        (["--task", "toy", "--text-encoder", "enc"], "'toy' does not take --text-encoder"),
        (["--task", "images", "--target", "city"], "'images' does not take --target"),
        (["--task", "cyclegan", "--scale", "2"], "'cyclegan' does not take --scale"),
        (["--task", "images", "--channels", "1,3"], "--channels takes one number"),
        (["--task", "tabular", "--target", "a", "--set", "model.target=b"], "disagree"),
    ],
)
def test_an_option_the_task_does_not_take_is_refused(argv, needle, capsys, tmp_path):
    assert main(["train", *argv, "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gankit: error:") and needle in err and len(err.splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_sample_needs_a_destination(run, capsys):
    assert main(["sample", str(run)]) == 2
    assert "--grid" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv,needle",
    [
        (["--calibrate", "-o", "x.png"], "--calibrate is not an option of a 'images' model"),
        (["--condition", "7", "-o", "x.png"], "takes no condition"),
        (["--text", "a zero", "-o", "x.png"], "--text is for models conditioned on a text"),
        (["-o", "rows.csv"], "makes images: write them to a PNG grid"),
        (["--interpolate", "z", "-o", "walks"], "writes one picture"),
    ],
)
def test_sample_options_the_model_does_not_take_are_refused(run, argv, needle, capsys, tmp_path):
    assert main(["sample", str(run), *argv]) == 2
    assert needle in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_each_verb_refuses_the_other_shape_and_names_the_right_verb(run, tmp_path, capsys):
    assert main(["apply", str(run), str(tmp_path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "a generator: use `gankit sample" in err and "is for translators" in err


@pytest.mark.parametrize(
    "argv,note,needle",
    [
        (["tabular", "fit", "nothere.csv"], "use `gankit train --task tabular`", "nothere.csv"),
        (["tabular", "sample", "/no/run", "-o", "x.csv"], "use `gankit sample`", "/no/run"),
        (["translate", "train", "--data", "x"], "use `gankit train`", "needs --task"),
        (["translate", "apply", "/no/run", ".", "out"], "use `gankit apply", "/no/run"),
        (["upscale", "/no/run", "in.png", "-o", "o.png"], "use `gankit apply", "/no/run"),
        (["upscale", "train", "--data", "/no/photos"], "use `gankit train --task", "/no/photos"),
        (["eval", "train-extractor", "--data", "digits"], "use `gankit extractor train`", "--out"),
        (["eval", "convert-inception", "a.pth"], "use `gankit extractor convert", "SRC.pth"),
    ],
)
def test_deprecated_spellings_map_onto_the_verbs_with_a_note(
    argv, note, needle, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"gankit: note: `gankit {argv[0]}" in err and f"is deprecated; {note}" in err
    assert needle in err.splitlines()[-1]


def test_help_lists_the_verbs(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for verb in ("train", "resume", "sample", "apply", "eval", "extractor", "info", "presets"):
        assert f"    {verb} " in text or f"    {verb}\n" in text, verb
    assert "deprecated: use gankit train --task tabular" in text


def _parser_of(verb):
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[verb]


def test_every_training_option_has_help_and_a_flag_or_set():
    train = _parser_of("train")
    flags = {action.dest: action for action in train._actions}
    set_help = flags["set"].help
    for spec in fields(TrainConfig):
        assert spec.metadata.get("help"), f"{spec.name} has no help text"
        if spec.name in flags:
            assert flags[spec.name].help.startswith(spec.metadata["help"])
        else:
            assert spec.name in set_help and "--set" in spec.metadata["help"], spec.name
    assert "--r1" in flags["r1_gamma"].option_strings  # the spelling earlier releases had


# ------------------------------------------------------------------------ every task, one shape


def _write(folder, images):
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        Image.fromarray(image[0].numpy()).save(folder / f"d{i:02d}.png")


def _digits(root):
    _write(root / "digits", load_digits(16).images[:64])
    return "digits"


def _pairs(root):
    digits = load_digits(16).images[:12]
    _write(root / "pairs" / "A", canny_edges(digits))
    _write(root / "pairs" / "B", digits)
    return "pairs"


def _domains(root):
    digits = load_digits(16)
    low = digits.labels < 5
    _write(root / "domains" / "A", digits.images[low][:12])
    _write(root / "domains" / "B", digits.images[~low][:12])
    return "domains"


def _table(root):
    demo_table(64)[["income", "children", "city", "member"]].to_csv(root / "t.csv", index=False)
    return "t.csv"


def _small_png(root):
    pixels = torch.randint(0, 256, (12, 10, 3), generator=torch.Generator().manual_seed(1))
    Image.fromarray(pixels.to(torch.uint8).numpy()).save(root / "small.png")


def _models(**settings):
    return [arg for key, value in settings.items() for arg in ("--set", f"model.{key}={value}")]


_IMAGES = ["--resolution", "16", *_models(g_width=8, d_width=8)]
_TRANSLATOR = ["--resolution", "16", "--channels", "1", "--batch-size", "4"]
_TRANSLATOR += _models(width=4, d_width=4, depth=4, d_layers=1)

# task: (training data writer, train options, the use of the model at RUN, the file that use
#        writes, and, where there was one, the deprecated spelling of that use and what it writes)
TASK_CASES = {
    "images": (
        _digits, _IMAGES, ["sample", "RUN", "-n", "4", "-o", "pngs"], "pngs/sample-00003.png"
    ),
    "text-images": (
        None,
        ["--data", "digits", *_IMAGES, *_models(condition_embed=16)],
        ["sample", "RUN", "-n", "2", "--condition", "a thick zero", "-o", "z.png"],
        "z.png",
    ),
    "toy": (
        None,
        ["--data", "ring", *_models(hidden=16)],
        ["sample", "RUN", "-n", "50", "-o", "points.csv"],
        "points.csv",
    ),
    "tabular": (
        _table,
        ["--discrete", "children", "--batch-size", "8"]
        + _models(g_hidden=[16], d_hidden=[16], latent_dim=8, pack=4),
        ["sample", "RUN", "-n", "30", "--condition", "city=Lima", "-o", "rows.csv"],
        "rows.csv",
        (["tabular", "sample", "RUN", "-n", "30", "--condition", "city=Lima", "-o", "old.csv"],
         "old.csv"),
    ),
    "pix2pix": (
        _pairs,
        _TRANSLATOR,
        ["apply", "RUN", "pairs/A", "-o", "out"],
        "out/d11.png",
        (["translate", "apply", "RUN", "pairs/A", "old"], "old/d11.png"),
    ),
    "cyclegan": (
        _domains,
        _TRANSLATOR,
        ["apply", "RUN", "domains/B", "--direction", "BA", "-o", "out"],
        "out/d00.png",
    ),
    "superres": (
        None,
        ["--scale", "2", "--patch", "16", "--zoom", "1.5", "--pretrain-steps", "1", "--no-health"]
        + ["--batch-size", "4", *_models(width=8, blocks=1, growth=4, d_width=8, d_stages=2)],
        ["apply", "RUN", "small.png", "-o", "big.png"],
        "big.png",
        (["upscale", "RUN", "small.png", "-o", "old.png"], "old.png"),
    ),
    "anomaly": (
        _digits,
        ["--resolution", "16", "--batch-size", "8", *_models(width=8, latent_dim=8)],
        ["apply", "RUN", "digits", "-o", "scores.csv"],
        "scores.csv",
    ),
}  # fmt: skip
TASK_CASES["single-image"] = (
    None,
    ["--max-side", "24", "--batch-size", "1"]
    + _models(stages=2, min_side=12, g_width=4, d_width=4, d_layers=2),
    ["sample", "RUN", "-n", "2", "--size", "24x40", "--tileable", "-o", "tiles"],
    "tiles/sample-00001.png",
)


def _tones(root):
    from gankit.data.audio import demo_tones, write_wav

    clips = demo_tones(32)
    for i, (clip, label) in enumerate(zip(clips.waves, clips.labels, strict=True)):
        write_wav(root / "tones" / clips.class_names[label] / f"t{i:02d}.wav", clip)
    return "tones"


TASK_CASES["audio"] = (
    _tones,
    ["--resolution", "16", "--batch-size", "8", *_models(g_width=8, d_width=8)],
    ["sample", "RUN", "--label", "high", "-n", "2", "-o", "clips"],
    "clips/sample-00001.wav",
)


def _at(argv, run):
    return [run if arg == "RUN" else arg for arg in argv]


def test_task_cases_cover_every_task():
    assert set(TASK_CASES) == set(TASKS)


@pytest.mark.parametrize("task", list(TASK_CASES))
def test_every_task_trains_and_is_used_through_the_one_shape(task, tmp_path, monkeypatch, capsys):
    write_data, options, use, written, *legacy = TASK_CASES[task]
    monkeypatch.chdir(tmp_path)
    data = ["--data", write_data(tmp_path)] if write_data else []
    _small_png(tmp_path)
    argv = ["train", "--task", task, *data, *options, "--steps", "2", "--quiet", "--out", "run"]
    assert main(argv) == 0, capsys.readouterr().err
    assert json.loads((tmp_path / "run" / "config.json").read_text())["task"] == task
    assert main(_at(use, "run")) == 0, capsys.readouterr().err
    assert (tmp_path / written).is_file()
    if written.endswith(".csv") and "-n" in use:  # sampled rows (a detector writes scores)
        rows = pd.read_csv(written)
        assert len(rows) == int(use[use.index("-n") + 1])
        assert "city" not in rows or (rows["city"] == "Lima").all()
    for old_argv, old_written in legacy:  # the deprecated spelling: the same output, and a note
        capsys.readouterr()
        assert main(_at(old_argv, "run")) == 0
        assert "deprecated; use `gankit " in capsys.readouterr().err
        assert (tmp_path / old_written).read_bytes() == (tmp_path / written).read_bytes()


def test_train_without_data_uses_the_data_gankit_ships_for_the_task(tmp_path, capsys):
    out = tmp_path / "ring"
    argv = ["train", "--task", "toy", "--steps", "1", "--batch-size", "8", "--quiet", "--out"]
    assert main([*argv, str(out), "--set", "model.hidden=8"]) == 0
    assert json.loads((out / "config.json").read_text())["data"]["source"] == "ring"
    assert main(["train", "--task", "tabular", "--out", str(tmp_path / "t")]) == 2
    assert "needs the table" in capsys.readouterr().err
