"""gankit serve's API through FastAPI's test client: every route, every task kind, bad input.

Outputs are compared byte for byte with what ``gankit sample`` and ``gankit apply`` write for
the same seed or image.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import threading
import zipfile
import zlib

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from gankit import GankitError
from gankit.cli import main as gankit
from gankit.serve import ServeLimits, create_app

KEY = "correct horse battery staple"


@pytest.fixture(scope="module")
def client(model_dirs):
    with TestClient(create_app(list(model_dirs.values()))) as client:
        yield client


def _files(answer) -> dict[str, bytes]:
    assert answer.status_code == 200, answer.text
    return {f["name"]: base64.b64decode(f["b64_json"]) for f in answer.json()["files"]}


def _error(answer, status: int) -> str:
    assert answer.status_code == status, answer.text
    message = answer.json()["error"]
    assert isinstance(message, str) and message
    return message


def _png(width: int, height: int, mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, (width, height), 90).save(buffer, format="PNG")
    return buffer.getvalue()


# ------------------------------------------------------------------ listing and health
def test_healthz_and_models_list_what_each_accepts(client, model_dirs):
    assert client.get("/healthz").json()["status"] == "ok"
    listed = {entry["name"]: entry for entry in client.get("/v1/models").json()}
    assert set(listed) == set(model_dirs)
    digits = listed["digits"]
    weights = (model_dirs["digits"] / "G_ema.safetensors").read_bytes()
    assert digits["sha256"]["G_ema.safetensors"] == hashlib.sha256(weights).hexdigest()
    assert digits["inference"] == "generate" and digits["accepts"]["output"] == "images"
    assert listed["digits-cond"]["accepts"]["condition"] == "class"
    assert len(listed["digits-cond"]["accepts"]["classes"]) == 10
    assert listed["table"]["accepts"]["condition"] == "columns"
    assert {c["name"] for c in listed["table"]["accepts"]["columns"]} >= {"city"}
    assert listed["cycle"]["accepts"]["directions"] == ["AB", "BA"]
    assert listed["sr"]["accepts"]["scale"] == 2
    assert all(entry["gankit_version"] for entry in listed.values())


# ------------------------------------------------------------------ generators
def test_images_equal_gankit_sample_for_the_same_seed(client, model_dirs, tmp_path):
    gankit(["sample", str(model_dirs["digits"]), "--seed", "7", "-n", "5", "--out-dir",
            str(tmp_path / "pngs"), "--grid", str(tmp_path / "grid.png")])  # fmt: skip
    files = _files(client.post("/v1/models/digits/generate", json={"n": 5, "seed": 7}))
    expected = {f"seed-7/{p.name}": p.read_bytes() for p in (tmp_path / "pngs").iterdir()}
    assert files == expected
    grid = _files(
        client.post("/v1/models/digits/generate", json={"n": 5, "seed": 7, "layout": "grid"})
    )
    assert grid == {"seed-7/grid.png": (tmp_path / "grid.png").read_bytes()}


def test_class_condition_grid_and_formats(client, model_dirs, tmp_path):
    gankit(["sample", str(model_dirs["digits-cond"]), "--seed", "2", "-n", "20", "--grid",
            str(tmp_path / "all.png")])  # fmt: skip
    body = {"n": 20, "seed": 2, "layout": "grid"}
    files = _files(client.post("/v1/models/digits-cond/generate", json=body))
    assert files["seed-2/grid.png"] == (tmp_path / "all.png").read_bytes()  # a column per class
    gankit(["sample", str(model_dirs["digits-cond"]), "--seed", "2", "-n", "4", "--condition",
            "3", "--condition", "5", "--out-dir", str(tmp_path / "cycled")])  # fmt: skip
    body = {"n": 4, "seed": 2, "condition": ["3", "5"]}
    files = _files(client.post("/v1/models/digits-cond/generate", json=body))
    assert files == {f"seed-2/{p.name}": p.read_bytes() for p in (tmp_path / "cycled").iterdir()}
    npy = _files(client.post("/v1/models/digits-cond/generate", json={**body, "format": "npy"}))
    array = np.load(io.BytesIO(npy["seed-2/samples.npy"]), allow_pickle=False)
    assert array.shape == (4, 1, 16, 16) and array.dtype == np.uint8
    webp = _files(client.post("/v1/models/digits-cond/generate", json={**body, "format": "webp"}))
    png = Image.open(io.BytesIO(files["seed-2/sample-00000.png"]))
    lossless = Image.open(io.BytesIO(webp["seed-2/sample-00000.webp"]))
    assert np.array_equal(np.asarray(png.convert("RGB")), np.asarray(lossless.convert("RGB")))


def test_several_seeds_and_binary_answers(client):
    body = {"n": 2, "seeds": [1, 2]}
    files = _files(client.post("/v1/models/digits/generate", json=body))
    assert sorted(files) == [f"seed-{s}/sample-0000{i}.png" for s in (1, 2) for i in (0, 1)]
    answer = client.post("/v1/models/digits/generate", json={**body, "response": "binary"})
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    assert {name: archive.read(name) for name in archive.namelist()} == files
    again = client.post("/v1/models/digits/generate", json={**body, "response": "binary"})
    assert again.content == answer.content  # the same request, the same bytes
    one = client.post(
        "/v1/models/digits/generate",
        json={"n": 2, "seed": 1, "layout": "grid", "response": "binary"},
    )
    assert one.headers["content-type"] == "image/png" and one.content[:4] == b"\x89PNG"


def test_points_and_tables_equal_the_command_line(client, model_dirs, tmp_path):
    gankit(["sample", str(model_dirs["ring"]), "--seed", "4", "-n", "30", "-o",
            str(tmp_path / "points.csv")])  # fmt: skip
    files = _files(client.post("/v1/models/ring/generate", json={"n": 30, "seed": 4}))
    assert files == {"seed-4/points.csv": (tmp_path / "points.csv").read_bytes()}
    points = _files(
        client.post("/v1/models/ring/generate", json={"n": 30, "seed": 4, "format": "json"})
    )
    assert len(json.loads(points["seed-4/points.json"])) == 30
    gankit(["sample", str(model_dirs["table"]), "--seed", "5", "-n", "12", "--condition",
            "city=Oslo", "-o", str(tmp_path / "rows.csv")])  # fmt: skip
    body = {"n": 12, "seed": 5, "condition": {"city": "Oslo"}}
    files = _files(client.post("/v1/models/table/generate", json=body))
    assert files == {"seed-5/rows.csv": (tmp_path / "rows.csv").read_bytes()}
    records = _files(client.post("/v1/models/table/generate", json={**body, "format": "json"}))
    frame = pd.DataFrame(json.loads(records["seed-5/rows.json"]))
    assert len(frame) == 12 and set(frame["city"]) == {"Oslo"}
    calibrated = {"n": 12, "seed": 5, "options": {"calibrate": False}}
    assert client.post("/v1/models/table/generate", json=calibrated).status_code == 200


def test_text_condition(client, model_dirs):
    if "captions" not in model_dirs:
        pytest.skip("needs the `text` extra (sentence encoder)")
    body = {"n": 3, "seed": 1, "condition": "a thin right-slanted seven"}
    files = _files(client.post("/v1/models/captions/generate", json=body))
    assert len(files) == 3
    assert (
        client.post("/v1/models/captions/generate", json={**body, "condition": 7}).status_code
        == 422
    )


# ------------------------------------------------------------------ translators
@pytest.mark.parametrize(("name", "direction"), [("edges", None), ("cycle", "BA"), ("sr", None)])
def test_apply_equals_gankit_apply(client, model_dirs, tmp_path, name, direction):
    source = tmp_path / "in.png"
    pixels = np.random.default_rng(0).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(source)
    flags = ["--direction", direction] if direction else []
    gankit(["apply", str(model_dirs[name]), str(source), "-o", str(tmp_path / "out.png"), *flags])
    form = {"direction": direction} if direction else {}
    answer = client.post(
        f"/v1/models/{name}/apply", files={"image": ("in.png", source.read_bytes())}, data=form
    )
    assert _files(answer) == {"output.png": (tmp_path / "out.png").read_bytes()}
    binary = client.post(
        f"/v1/models/{name}/apply",
        files={"image": ("in.png", source.read_bytes())},
        data={**form, "response": "binary"},
    )
    assert binary.content == (tmp_path / "out.png").read_bytes()


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/v1/models/nope/generate", {"n": 1}, 404, "no model named 'nope'"),
        ("/v1/models/digits/generate", {"n": 100_000}, 422, "at most 256"),
        ("/v1/models/digits/generate", {"n": 0}, 422, "n:"),
        ("/v1/models/digits/generate", {"n": 2, "seed": -1}, 422, "seed:"),
        ("/v1/models/digits/generate", {"n": 2, "seed": "7"}, 422, "seed:"),
        ("/v1/models/digits/generate", {"n": 2, "seed": 1.5}, 422, "seed:"),
        ("/v1/models/digits/generate", {"n": 2, "seed": 2**64}, 422, "seed:"),
        ("/v1/models/digits/generate", {"seed": 1, "seeds": [2]}, 422, "not both"),
        ("/v1/models/digits/generate", {"n": 200, "seeds": [1, 2]}, 422, "400 samples"),
        ("/v1/models/digits/generate", {"condition": 3}, 422, "unconditional"),
        ("/v1/models/digits-cond/generate", {"condition": "eleven"}, 422, "eleven"),
        ("/v1/models/digits-cond/generate", {"condition": {"city": "Oslo"}}, 422, "a class"),
        ("/v1/models/table/generate", {"condition": {"nope": 1}}, 422, "nope"),
        ("/v1/models/table/generate", {"condition": {"city": "Atlantis"}}, 422, "Atlantis"),
        ("/v1/models/table/generate", {"condition": "city=Oslo"}, 422, "{column: value}"),
        ("/v1/models/table/generate", {"options": {"fast": True}}, 422, "fast"),
        ("/v1/models/digits/generate", {"format": "gif"}, 422, "png, webp, npy"),
        ("/v1/models/ring/generate", {"layout": "grid"}, 422, "grid"),
        ("/v1/models/digits/generate", {"truncation": -1}, 422, "truncation:"),
        ("/v1/models/digits/generate", {"count": 3}, 422, "count:"),
        ("/v1/models/edges/generate", {"n": 1}, 400, "/v1/models/edges/apply"),
    ],
)
def test_bad_generate_requests(client, path, body, status, says):
    assert says in _error(client.post(path, json=body), status)


def test_bad_bodies_and_routes(client):
    answer = client.post(
        "/v1/models/digits/generate",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    _error(answer, 422)
    _error(client.get("/v1/nothing-here"), 404)
    _error(client.get("/v1/models/digits/generate"), 405)


def _noise_png() -> bytes:
    buffer = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


def _bomb_png(width: int, height: int) -> bytes:
    """A PNG header claiming ``width`` x ``height`` pixels with almost no data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


@pytest.mark.parametrize(
    ("upload", "status", "says"),
    [
        (_png(2000, 1000, "L"), 413, "2000x1000"),  # over max_pixels (a real, compressible file)
        (_bomb_png(100_000, 100_000), 413, "too large"),  # a decompression bomb's header
        (b"GIF89a not really", 415, "PNG, JPEG"),
        (b"", 400, "empty"),
        (_noise_png()[:2000], 400, "damaged"),
    ],
    ids=["too-many-pixels", "decompression-bomb", "not-an-image", "empty", "truncated"],
)
def test_bad_uploads(client, upload, status, says):
    answer = client.post("/v1/models/edges/apply", files={"image": ("x.png", upload)})
    assert says in _error(answer, status)


def test_bad_apply_requests(client):
    image = {"image": ("x.png", _png(16, 16))}
    assert "AB, BA" in _error(
        client.post("/v1/models/cycle/apply", files=image, data={"direction": "CD"}), 422
    )
    _error(client.post("/v1/models/edges/apply", files=image, data={"format": "npy"}), 422)
    _error(client.post("/v1/models/digits/apply", files=image), 400)
    _error(client.post("/v1/models/edges/apply", data={"direction": "AB"}), 422)  # no image


def test_body_limit(model_dirs):
    app = create_app([model_dirs["edges"]], max_upload_bytes=1000)
    with TestClient(app) as small:
        upload = {"image": ("x.png", np.random.default_rng(0).bytes(2000))}
        assert "1000" in _error(small.post("/v1/models/edges/apply", files=upload), 413)
        big = {"image": ("x.png", b"\0" * 200_000)}
        _error(small.post("/v1/models/edges/apply", files=big), 413)
        # A streamed (chunked) body has no Content-Length: it is counted as it arrives.
        chunks = (b"x" * 4096 for _ in range(100))
        headers = {"content-type": "application/json"}
        streamed = small.post("/v1/models/edges/generate", content=chunks, headers=headers)
        assert "larger than" in _error(streamed, 413)


# ------------------------------------------------------------------ the API key
def test_api_key_guards_every_route_but_healthz(model_dirs):
    with TestClient(create_app([model_dirs["digits"]], api_key=KEY)) as keyed:
        assert keyed.get("/healthz").status_code == 200
        for path in ("/v1/models", "/", "/static/app.js"):
            answer = keyed.get(path)
            assert "API key" in _error(answer, 401)
            assert answer.headers["www-authenticate"].startswith("Basic")
        body = {"n": 1}
        assert "wrong" in _error(
            keyed.post("/v1/models/digits/generate", json=body, headers={"X-API-Key": "guess"}), 401
        )
        basic = base64.b64encode(f"anyone:{KEY}".encode()).decode()
        for headers in (
            {"Authorization": f"Bearer {KEY}"},
            {"X-API-Key": KEY},
            {"Authorization": f"Basic {basic}"},
        ):
            assert (
                keyed.post("/v1/models/digits/generate", json=body, headers=headers).status_code
                == 200
            )


# ------------------------------------------------------------------ overload
def test_a_full_queue_answers_503_with_retry_after(model_dirs):
    app = create_app([model_dirs["digits"]], queue=1)
    gan = app.state.models["digits"].model
    started, release = threading.Event(), threading.Event()
    generate = gan.generate

    def slow(*args, **kwargs):
        started.set()
        release.wait(30)
        return generate(*args, **kwargs)

    gan.generate = slow
    with TestClient(app) as busy:
        first = {}
        worker = threading.Thread(
            target=lambda: first.update(r=busy.post("/v1/models/digits/generate", json={"n": 1}))
        )
        worker.start()
        assert started.wait(30)
        answer = busy.post("/v1/models/digits/generate", json={"n": 1})
        release.set()
        worker.join(30)
    assert "busy" in _error(answer, 503)
    assert int(answer.headers["retry-after"]) >= 1
    assert first["r"].status_code == 200


# ------------------------------------------------------------------ the page and the CLI
def test_the_page_loads_nothing_from_elsewhere(client):
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path in ("/static/app.js", "/static/app.css"):
        text = client.get(path).text
        assert "https://" not in text and "//cdn" not in text
    assert "https://" not in page.text


def test_settings_and_command_line_errors(model_dirs, tmp_path, capsys):
    with pytest.raises(GankitError, match="max_n"):
        ServeLimits(max_n=0)
    with pytest.raises(GankitError, match="unknown serve limit"):
        create_app([model_dirs["digits"]], max_m=3)
    with pytest.raises(GankitError, match="both be served as 'digits'"):
        create_app([model_dirs["digits"], model_dirs["digits"]])
    assert gankit(["serve", str(model_dirs["digits"]), "--api-key-file", str(tmp_path / "no")]) == 2
    assert "--api-key-file" in capsys.readouterr().err
    (tmp_path / "empty").write_text("\n")
    assert (
        gankit(["serve", str(model_dirs["digits"]), "--api-key-file", str(tmp_path / "empty")]) == 2
    )
    assert gankit(["serve", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err
