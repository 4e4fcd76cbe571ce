"""The inference routes' work, run on a worker thread: request in, output files (or a verdict) out.

``generate`` draws exactly what ``gankit sample MODEL --seed S -n N`` draws for each seed and
encodes it with the same encoders (:mod:`gankit.encode`), so the files are byte-identical to the
command's: ``layout="images"`` to ``--out-dir`` (``sample-00000.png`` ...), ``layout="grid"`` to
``--grid``; ``apply`` reads an upload as ``gankit apply`` reads a file; ``detect_upload`` scores
one as ``gankit provenance detect`` scores a file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

from gankit import encode
from gankit.provenance import detect, mark
from gankit.serve.errors import RequestError
from gankit.serve.files import OutputFile
from gankit.serve.limits import MAX_SEED, ServeLimits
from gankit.serve.models import ServedModel
from gankit.serve.uploads import read_upload
from gankit.tasks.base import Generator, Translator
from gankit.tasks.inputs import translator_inputs
from gankit.viz import image_grid

Seed = Annotated[StrictInt, Field(ge=0, le=MAX_SEED)]
Scalar = StrictStr | StrictInt
ColumnValue = StrictStr | StrictInt | StrictFloat | StrictBool | None


class GenerateRequest(BaseModel):
    """The body of ``POST /v1/models/{name}/generate`` (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    n: StrictInt = Field(16, ge=1, description="samples per seed")
    seed: Seed | None = Field(None, description="one seed (default 0)")
    seeds: list[Seed] | None = Field(None, min_length=1, description="several seeds: n each")
    truncation: Annotated[float, Field(gt=0, allow_inf_nan=False)] | None = None
    condition: Scalar | list[Scalar] | dict[str, ColumnValue] | None = Field(
        None,
        description="a class (name or index) or a sentence, a list cycled over the samples, or "
        "{column: value} for a table",
    )
    format: StrictStr | None = Field(None, description="default: the output kind's first format")
    layout: Literal["images", "grid"] = "images"
    response: Literal["b64_json", "binary"] = "b64_json"
    ema: StrictBool = True
    options: dict[str, StrictBool | StrictInt | StrictFloat | StrictStr] = Field(
        default_factory=dict, description="options of this model's generate (tabular: calibrate)"
    )


def check_shape(served: ServedModel, shape: type, route: str) -> None:
    """Refuse a generate request to a translator and an apply request to a generator."""
    if not isinstance(served.model, shape):
        other = "apply" if route == "generate" else "generate"
        raise RequestError(
            400,
            f"model {served.name!r} is a {served.described['inference']!r} model: POST "
            f"/v1/models/{served.name}/{other} instead",
        )


def _seeds(request: GenerateRequest, limits: ServeLimits) -> list[int]:
    if request.seed is not None and request.seeds is not None:
        raise RequestError(422, "give seed or seeds, not both")
    seeds = request.seeds or [request.seed or 0]
    if request.n * len(seeds) > limits.max_n:
        raise RequestError(
            422,
            f"n x seeds is {request.n * len(seeds)} samples; this server draws at most "
            f"{limits.max_n} per request",
        )
    return seeds


def _condition(gan: Generator, request: GenerateRequest) -> Any:
    """The request's condition as ``generate`` takes it; a list cycles, as repeated
    ``--condition`` does on the command line."""
    condition, kind = request.condition, gan.condition_kind
    if condition is None:
        return None
    if kind is None:
        raise RequestError(422, "this model is unconditional; drop condition")
    if kind == "columns" and not isinstance(condition, dict):
        raise RequestError(422, "this model takes condition as {column: value}")
    if kind != "columns" and isinstance(condition, dict):
        raise RequestError(422, f"this model takes a {kind} (or a list of them) as condition")
    if isinstance(condition, list):
        if not condition:
            raise RequestError(422, f"condition is an empty list; give at least one {kind}")
        return gan.parse_condition(condition, request.n)
    return condition


def _format(output: str, request: GenerateRequest) -> str:
    formats = encode.FORMATS[output]
    fmt = request.format or formats[0]
    if fmt not in formats:
        raise RequestError(
            422, f"format {fmt!r} is not one for {output}; choose one of {', '.join(formats)}"
        )
    if request.layout == "grid" and (output != "images" or fmt == "npy"):
        raise RequestError(422, "layout 'grid' is for png or webp images; use layout 'images'")
    return fmt


def _encode(
    samples: Any, output: str, fmt: str, layout: str, columns: int | None
) -> list[tuple[str, bytes]]:
    """(file name, bytes) for the samples of one seed, as ``gankit sample`` would write them."""
    if output == "images" and fmt != "npy":
        if layout == "grid":
            return [(f"grid.{fmt}", encode.image_bytes(image_grid(samples, columns), fmt))]
        return [
            (f"sample-{i:05d}.{fmt}", encode.image_bytes(image, fmt))
            for i, image in enumerate(samples)
        ]
    if fmt == "npy":
        return [("samples.npy", encode.npy_bytes(samples))]
    writers = {
        ("points", "csv"): encode.points_csv,
        ("points", "json"): encode.points_json,
        ("table", "csv"): encode.table_csv,
        ("table", "json"): encode.table_json,
    }
    return [(f"{'points' if output == 'points' else 'rows'}.{fmt}", writers[output, fmt](samples))]


def generate(
    served: ServedModel,
    request: GenerateRequest,
    limits: ServeLimits,
    mark_key: str | bytes | None = None,
) -> list[OutputFile]:
    """The files a generate request asks for: one set per seed, under ``seed-S/``; images carry
    the provenance mark of ``mark_key`` when the server marks its outputs."""
    gan = served.model
    seeds = _seeds(request, limits)
    condition = _condition(gan, request)
    output = served.described["output"]
    fmt = _format(output, request)
    unknown = sorted(set(request.options) - set(gan.generate_options))
    if unknown:
        raise RequestError(
            422,
            f"unknown option(s) {', '.join(unknown)} for this model; its options: "
            f"{', '.join(gan.generate_options) or 'none'}",
        )
    if request.truncation is not None and not gan.supports_truncation:
        raise RequestError(422, "this model does not support truncation (it would drop modes)")
    options = dict(request.options)
    if mark_key is not None and output == "images":
        options["watermark"] = mark_key
    files = []
    for seed in seeds:
        samples = gan.generate(
            request.n,
            seed=seed,
            condition=condition,
            truncation=request.truncation,
            ema=request.ema,
            **options,
        )
        for name, data in _encode(
            samples, output, fmt, request.layout, gan.grid_columns(condition)
        ):
            files.append(OutputFile(f"seed-{seed}/{name}", encode.MEDIA_TYPES[fmt], data, seed))
    return files


# Formats an apply answer can take (translators output images).
APPLY_FORMATS = ("png", "webp")


def apply(
    served: ServedModel,
    data: bytes,
    direction: str | None,
    fmt: str,
    ema: bool,
    limits: ServeLimits,
    mark_key: str | bytes | None = None,
) -> list[OutputFile]:
    """The translated upload, read as ``gankit apply`` reads a file, as one image file (with the
    provenance mark of ``mark_key`` when the server marks its outputs)."""
    translator: Translator = served.model
    if fmt not in APPLY_FORMATS:
        raise RequestError(422, f"format {fmt!r}: choose one of {', '.join(APPLY_FORMATS)}")
    direction = translator.check_direction(direction)
    image = read_upload(data, translator.input_channels(direction), limits)
    output = translator.apply(translator_inputs(translator, [image]), direction=direction, ema=ema)
    if mark_key is not None:
        output = mark(output, mark_key)
    return [
        OutputFile(f"output.{fmt}", encode.MEDIA_TYPES[fmt], encode.image_bytes(output[0], fmt))
    ]


def detect_upload(data: bytes, threshold: float, limits: ServeLimits) -> dict[str, Any]:
    """P(generated) of the upload by gankit's shipped detector of generated images, and the
    decision at ``threshold`` (as ``gankit provenance detect`` prints them)."""
    if not 0 < threshold < 1:
        raise RequestError(422, f"threshold {threshold!r}: choose a number between 0 and 1")
    image = read_upload(data, 3, limits)
    (probability,) = detect(image.unsqueeze(0)).tolist()
    return {
        "p_generated": probability,
        "generated": probability >= threshold,
        "threshold": threshold,
    }
