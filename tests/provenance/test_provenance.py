"""Provenance marks: keys, marking and verification, robustness to the listed attacks, the API,
the CLI (`gankit sample --mark`, `gankit provenance`) and the server's --mark."""

from __future__ import annotations

import numpy as np
import pytest
import skimage.data
import torch
from PIL import Image

from gankit import GankitError, ImageGAN, ToyGAN
from gankit.cli import main as gankit
from gankit.provenance import (
    ATTACKS,
    Marker,
    MarkerConfig,
    load_marker,
    mark,
    p_value,
    payload,
    read_bits,
    read_key,
    save_marker,
    threshold,
    verify,
    write_new_key,
)
from gankit.provenance.train import train_marker

KEY = "a provenance key for the tests"
OTHER_KEY = "another key, not the one used"


@pytest.fixture(scope="module")
def photos() -> torch.Tensor:
    """The four 256 px quarters of a bundled photograph (the marker never trained on it)."""
    astronaut = torch.from_numpy(skimage.data.astronaut().copy()).permute(2, 0, 1)
    crops = [astronaut[:, y : y + 256, x : x + 256] for y in (0, 256) for x in (0, 256)]
    return torch.stack(crops).contiguous()


@pytest.fixture(scope="module")
def marked(photos) -> torch.Tensor:
    return mark(photos, KEY)


def _psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = (a.float() - b.float()).pow(2).mean()
    return float(10 * torch.log10(255**2 / mse))


def test_the_payload_is_48_bits_fixed_by_the_key():
    bits = payload(KEY)
    assert bits.shape == (48,) and set(bits.tolist()) <= {0, 1}
    assert torch.equal(bits, payload(KEY.encode()))
    assert (bits != payload(OTHER_KEY)).sum() > 10


def test_binomial_tail_and_the_threshold_at_a_false_positive_rate():
    assert p_value(0) == 1.0 and p_value(48) == 2.0**-48
    assert p_value(24) == pytest.approx(0.5573, abs=1e-4)
    assert threshold(1e-6) == 41  # Stable Signature's count at this rate
    assert p_value(threshold(1e-3)) <= 1e-3 < p_value(threshold(1e-3) - 1)
    with pytest.raises(GankitError, match="between 0 and 1"):
        threshold(0)


def test_marked_photos_verify_and_keep_the_psnr(photos, marked):
    assert marked.shape == photos.shape and marked.dtype == torch.uint8
    assert _psnr(marked, photos) >= 38.5
    assert all(v.marked and v.matches >= 41 for v in verify(marked, KEY))


def test_a_wrong_key_and_unmarked_images_are_rejected(photos, marked):
    assert not any(v.marked for v in verify(marked, OTHER_KEY))
    verdicts = verify(photos, KEY)
    assert not any(v.marked for v in verdicts)
    assert all(v.p_value > 1e-6 for v in verdicts)


@pytest.mark.parametrize("attack", ["png", "jpeg75", "jpeg50", "crop10", "bright+20", "bright-20"])
def test_the_mark_survives_everyday_handling(marked, attack):
    attacked = ATTACKS[attack](marked, 0)
    matches = [v.matches for v in verify(attacked, KEY)]
    assert min(matches) >= 40, matches


@pytest.mark.parametrize("attack", ["resize0.5", "noise0.02"])
def test_harder_attacks_keep_most_bits(marked, attack):
    bits = read_bits(ATTACKS[attack](marked, 0))
    assert (bits == payload(KEY)).float().mean() >= 0.85


def test_attacks_keep_shapes_except_the_crop(marked):
    for name, attack in ATTACKS.items():
        out = attack(marked, 0)
        assert out.dtype == torch.uint8
        expected = (4, 3, 230, 230) if name == "crop10" else tuple(marked.shape)
        assert tuple(out.shape) == expected, name


def test_bad_images_get_one_clear_message():
    with pytest.raises(GankitError, match="too small"):
        mark(torch.zeros(1, 3, 8, 8, dtype=torch.uint8), KEY)
    with pytest.raises(GankitError, match="uint8 images"):
        verify(torch.zeros(1, 3, 32, 32), KEY)
    with pytest.raises(GankitError, match="1 \\(gray\\) or 3"):
        verify(torch.zeros(1, 4, 32, 32, dtype=torch.uint8), KEY)
    with pytest.raises(GankitError, match="at least 16"):
        payload("short")


def test_key_files(tmp_path):
    path = tmp_path / "mark.key"
    write_new_key(path)
    key = read_key(path)
    assert len(key) == 64 and path.stat().st_mode & 0o077 == 0
    with pytest.raises(GankitError, match="never overwritten"):
        write_new_key(path)
    with pytest.raises(GankitError, match="keygen"):
        read_key(tmp_path / "missing.key")
    (tmp_path / "empty.key").write_text("\n")
    with pytest.raises(GankitError, match="empty"):
        read_key(tmp_path / "empty.key")


def test_a_tiny_marker_trains_saves_and_reads_back_its_bits(tmp_path):
    gen = torch.Generator().manual_seed(0)
    # Smooth textures: a low-resolution noise field blown up, so the carriers' band is quiet.
    images = [
        torch.nn.functional.interpolate(
            torch.rand(1, 1, 8, 8, generator=gen), size=64, mode="bilinear"
        )[0]
        .mul(255)
        .to(torch.uint8)
        for _ in range(4)
    ]
    marker, log = train_marker(images, MarkerConfig(), steps=30, batch_size=4, crop=32)
    assert len(log) == 1 and 0 <= log[0]["bit_accuracy"] <= 1
    save_marker(marker, tmp_path)
    again = load_marker(tmp_path)
    assert all(
        torch.equal(a, b) for a, b in zip(marker.parameters(), again.parameters(), strict=True)
    )
    batch = torch.stack(images).expand(-1, 3, -1, -1).contiguous()
    marked = mark(batch, KEY, psnr=36, marker=again)
    assert all(v.marked for v in verify(marked, KEY, marker=again))
    with pytest.raises(GankitError, match="holds no marker"):
        load_marker(tmp_path / "nothing")


def test_generate_with_a_watermark_marks_every_image():
    gan = ImageGAN(resolution=32, batch_size=8, model={"g_width": 8, "d_width": 8})
    gan.fit("digits", steps=1, quiet=True)
    plain = gan.generate(4, seed=1)
    marked = gan.generate(4, seed=1, watermark=KEY)
    assert marked.shape == plain.shape and not torch.equal(marked, plain)
    assert _psnr(marked, plain) >= 38.5
    assert torch.equal(marked, mark(plain, KEY))
    assert torch.equal(gan.sample(4, 1, watermark=KEY), marked)
    toy = ToyGAN(model={"hidden": 8}, batch_size=8).fit("ring", steps=1, quiet=True)
    with pytest.raises(GankitError, match="marks are for images"):
        toy.generate(4, watermark=KEY)


def _png(image: torch.Tensor, path) -> None:
    Image.fromarray(image.permute(1, 2, 0).numpy()).save(path)


def test_cli_keygen_and_verify(tmp_path, photos, marked, capsys):
    key = tmp_path / "mark.key"
    assert gankit(["provenance", "keygen", "-o", str(key)]) == 0
    ours = mark(photos[:1], read_key(key))
    _png(ours[0], tmp_path / "marked.png")
    _png(photos[0], tmp_path / "plain.png")
    jpeg = tmp_path / "marked.jpg"
    Image.open(tmp_path / "marked.png").save(jpeg, quality=50)
    capsys.readouterr()
    files = [str(tmp_path / "marked.png"), str(jpeg)]
    assert gankit(["provenance", "verify", *files, "--key", str(key)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and all(": MARKED (at FPR 1e-06, needs 41)" in line for line in out)
    plain = str(tmp_path / "plain.png")
    assert gankit(["provenance", "verify", plain, "--key", str(key), "--json"]) == 1
    assert '"marked": false' in capsys.readouterr().out
    (tmp_path / "broken.png").write_bytes(b"not an image")
    Image.new("RGB", (8, 8)).save(tmp_path / "tiny.png")
    bad = [str(tmp_path / "broken.png"), str(tmp_path / "tiny.png"), files[0]]
    assert gankit(["provenance", "verify", *bad, "--key", str(key)]) == 2
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "too small" in captured.err
    assert ": MARKED" in captured.out  # the readable image is still checked
    assert gankit(["provenance", "verify", files[0], "--key", str(tmp_path / "nokey")]) == 2
    assert gankit(["provenance", "verify", *files, "--key", str(key), "--fpr", "0"]) == 2
    assert capsys.readouterr().err.count("between 0 and 1") == 1


def test_cli_sample_mark_writes_marked_pngs(tmp_path, capsys):
    gan = ImageGAN(resolution=32, batch_size=8, model={"g_width": 8, "d_width": 8})
    run = gan.fit("digits", steps=1, quiet=True).save(tmp_path / "run")
    key = tmp_path / "mark.key"
    gankit(["provenance", "keygen", "-o", str(key)])
    out = tmp_path / "pngs"
    argv = ["sample", str(run), "-n", "3", "-o", str(out), "--mark", str(key)]
    assert gankit(argv) == 0
    assert "with the provenance mark" in capsys.readouterr().out
    written = torch.stack(
        [torch.from_numpy(np.array(Image.open(p))) for p in sorted(out.iterdir())]
    )
    expected = gan.generate(3, seed=0, watermark=read_key(key))
    assert torch.equal(written.reshape(expected.shape), expected)
    # The key is stored nowhere gankit writes: not in the model directory, not in the PNGs.
    secret = key.read_bytes().strip()
    assert secret not in (run / "config.json").read_bytes()
    assert all(secret not in p.read_bytes() for p in out.iterdir())


def test_serve_marks_every_image(tmp_path):
    import base64

    from fastapi.testclient import TestClient

    from gankit import encode
    from gankit.serve import create_app

    gan = ImageGAN(resolution=32, batch_size=8, model={"g_width": 8, "d_width": 8})
    run = gan.fit("digits", steps=1, quiet=True).save(tmp_path / "digits")
    with TestClient(create_app([run], mark_key=KEY)) as client:
        answer = client.post("/v1/models/digits/generate", json={"n": 2, "seed": 3})
        refused = client.post(
            "/v1/models/digits/generate", json={"n": 1, "options": {"watermark": OTHER_KEY}}
        )
    assert answer.status_code == 200, answer.text
    files = {f["name"]: base64.b64decode(f["b64_json"]) for f in answer.json()["files"]}
    expected = gan.generate(2, seed=3, watermark=KEY)
    assert files["seed-3/sample-00001.png"] == encode.image_bytes(expected[1], "png")
    assert refused.status_code == 422  # a client cannot choose the key
    with pytest.raises(GankitError, match="at least 16"):
        create_app([run], mark_key="short")


def test_the_shipped_marker_loads():
    marker = load_marker()
    assert isinstance(marker, Marker) and marker.config.bits == 48
    assert not marker.training
