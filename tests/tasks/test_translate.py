"""Pix2Pix and CycleGAN: one engine step, logged loss terms, save/load, bitwise resume, the CLI."""

import json

import numpy as np
import pytest
import torch
from PIL import Image

from gankit import CycleGAN, GankitError, Pix2Pix, load
from gankit.cli import main
from gankit.data import load_digits
from gankit.data.ink import structure_map
from gankit.data.paired import PairedData, UnpairedData, canny_edges
from gankit.io import load_tensors, save_tensors
from gankit.metrics.classifier import DigitClassifier, DigitClassifierConfig
from gankit.metrics.image_quality import ssim
from gankit.nn import TRANSLATORS, config_from_dict
from gankit.nn.translation import CycleGANConfig
from gankit.tasks.cyclegan import CycleObjective
from gankit.tasks.semantic_classifier import (
    adapt_semantic_classifier,
    semantic_view,
    train_semantic_classifier,
)
from gankit.train.engine import state_tensors
from gankit.viz import to_uint8

TINY = {"width": 4, "d_width": 4, "depth": 4, "d_layers": 1}  # 16-px images, 16x16 patches
TRAIN = {"batch_size": 4, "log_every": 1, "sample_every": 2, "checkpoint_every": 2}


@pytest.fixture(scope="module")
def edge_pairs():
    """Real data, tiny: Canny edges (A) of scikit-learn digits (B) at 16 px."""
    digits = load_digits(16).images[:64]
    return PairedData(canny_edges(digits), digits, "digit-edges", flip=False)


@pytest.fixture(scope="module")
def two_domains():
    """Domain A: digits 0-4, domain B: digits 5-9 (real images, no pairing)."""
    digits = load_digits(16)
    low = digits.labels < 5
    return UnpairedData(digits.images[low][:40], digits.images[~low][:48], "low-high")


def _stats(run):
    return [json.loads(line) for line in (run / "stats.jsonl").read_text().splitlines()]


def test_pix2pix_trains_logs_l1_and_round_trips(edge_pairs, tmp_path):
    model = Pix2Pix(model=TINY, **TRAIN)
    model.fit(edge_pairs, steps=2, out=tmp_path, quiet=True)
    stats = _stats(tmp_path)
    assert {"g_loss", "g_l1", "d_loss"} <= set(stats[-1])
    assert stats[-1]["g_l1"] > 0
    assert (tmp_path / "samples" / "step-000002.png").is_file()
    metrics = json.loads((tmp_path / "metrics.json").read_text())["translation"]
    assert metrics["pairs"] == 64
    # The report scores this model's outputs against the true digits (a 2-step model is far off).
    target, source = edge_pairs.batch(torch.arange(64))
    output, truth = model.apply(source), to_uint8(target)
    assert metrics["ssim"] == round(float(ssim(output, truth).mean()), 4) < 0.9
    assert float(ssim(truth, truth).mean()) == pytest.approx(1.0)
    reloaded = load(tmp_path)
    assert type(reloaded) is Pix2Pix
    sources = edge_pairs.sources[:5]
    out = model.apply(sources)
    assert out.dtype == torch.uint8 and out.shape == (5, 1, 16, 16)
    assert torch.equal(reloaded.apply(sources), out)
    assert torch.equal(reloaded.apply(sources, ema=False), model.apply(sources, ema=False))
    # float input in [-1, 1] gives the same as uint8
    assert torch.equal(model.apply(sources.float() / 127.5 - 1), out)


def test_pix2pix_learns_the_pairs(edge_pairs):
    # 40 steps on 64 pairs: L1 to the true digits falls well below where it started.
    model = Pix2Pix("l1-only", model={**TINY, "width": 8}, batch_size=16, log_every=10, lr_g=1e-3)
    model.fit(edge_pairs, steps=1, quiet=True)
    truth = edge_pairs.targets.float()
    before = (model.apply(edge_pairs.sources).float() - truth).abs().mean()
    model.fit(edge_pairs, steps=40, quiet=True)
    after = (model.apply(edge_pairs.sources).float() - truth).abs().mean()
    assert after < 0.75 * before  # 0.65 seen


def test_pix2pix_trains_on_the_built_in_photo_tiles_gray_to_rgb(tmp_path):
    model = Pix2Pix(model=TINY, **TRAIN)
    model.fit("photos-colour", steps=2, out=tmp_path, quiet=True)
    assert model.data_info["channels"] == [1, 3] and model.data_info["source"] == "photos-colour"
    gray = torch.zeros(2, 1, 32, 32, dtype=torch.uint8)
    assert load(tmp_path).apply(gray).shape == (2, 3, 32, 32)


def test_l1_only_never_touches_d(edge_pairs, tmp_path):
    model = Pix2Pix("l1-only", model=TINY, **TRAIN)
    torch.manual_seed(0)
    model.fit(edge_pairs, steps=1, quiet=True)
    d_before = {k: v.clone() for k, v in model.D.state_dict().items()}
    model.fit(edge_pairs, steps=3, quiet=True)
    assert all(torch.equal(d_before[k], v) for k, v in model.D.state_dict().items())


def test_cyclegan_trains_logs_cycle_and_identity(two_domains, tmp_path):
    model = CycleGAN(model={**TINY, "pool_size": 6}, **TRAIN)
    model.fit(two_domains, steps=2, out=tmp_path, quiet=True)
    last = _stats(tmp_path)[-1]
    assert {"g_loss", "g_cycle", "g_identity", "d_loss"} <= set(last)
    reloaded = load(tmp_path)
    a = two_domains.domain_a[:3]
    for direction in ("AB", "BA"):
        translated = model.apply(a, direction=direction)
        assert torch.equal(reloaded.apply(a, direction=direction), translated)
    assert not torch.equal(model.apply(a, direction="AB"), model.apply(a, direction="BA"))
    with pytest.raises(GankitError, match="direction must be one of AB, BA"):
        model.apply(a, direction="AA")
    with pytest.raises(GankitError, match=r"images \(N, 1, H, W\)"):
        model.apply(torch.zeros(2, 3, 16, 16, dtype=torch.uint8))
    assert not hasattr(model, "sample")  # a translator applies; it draws no samples


def _checkpoint(run, step):
    folder = run / "train_state" / f"step-{step:06d}"
    return {p.name: load_tensors(p) for p in folder.glob("*.safetensors")}


def test_cyclegan_resume_is_bit_identical_including_the_pool(two_domains, tmp_path):
    options = {"model": {**TINY, "pool_size": 6}, **TRAIN, "health": False}
    CycleGAN(**options).fit(two_domains, steps=6, out=tmp_path / "straight", quiet=True)
    CycleGAN(**options).fit(two_domains, steps=2, out=tmp_path / "resumed", quiet=True)
    load(tmp_path / "resumed").fit(
        two_domains, steps=6, out=tmp_path / "resumed", resume=True, quiet=True
    )
    straight, resumed = _checkpoint(tmp_path / "straight", 6), _checkpoint(tmp_path / "resumed", 6)
    assert set(straight) == set(resumed) and "objective.safetensors" in straight
    for name, tensors in straight.items():
        for key, value in tensors.items():
            assert torch.equal(value, resumed[name][key]), (name, key)
    pool = straight["objective.safetensors"]
    assert pool["pool_A.count"] == 6 and pool["pool_A.images"].abs().sum() > 0


def _frames(*boxes):
    """Dark 32-px images with one bright rectangle each: (top, bottom, left, right)."""
    images = -torch.ones(len(boxes), 1, 32, 32)
    for image, (top, bottom, left, right) in zip(images, boxes, strict=True):
        image[:, top:bottom, left:right] = 1.0
    return images


def test_structure_map_ignores_position_scale_and_contrast_but_not_shape():
    upright = _frames((12, 20, 14, 18))
    moved_bigger_fainter = _frames((2, 26, 3, 15)) * 0.5 - 0.5  # x3, shifted, half as bright
    lying = _frames((14, 18, 12, 20))
    maps = structure_map(torch.cat([upright, moved_bigger_fainter, lying]))
    assert maps.shape == (3, 1, 8, 8)
    assert torch.allclose(maps.flatten(1).norm(dim=1), torch.ones(3))
    same = (maps[0] * maps[1]).sum()
    other = (maps[0] * maps[2]).sum()
    assert same > 0.98 and other < 0.5
    # Without alignment a moved bar no longer matches itself.
    unaligned = structure_map(torch.cat([upright, moved_bigger_fainter]), align=False)
    assert (unaligned[0] * unaligned[1]).sum() < 0.5
    # Colour images: their luma is what counts.
    assert torch.allclose(structure_map(upright.expand(-1, 3, -1, -1)), maps[:1], atol=1e-6)


def test_structure_map_deskew_treats_slant_and_stroke_width_as_style():
    upright, thick, lying = _frames((6, 26, 14, 18), (6, 26, 12, 20), (14, 18, 6, 26)).split(1)
    slanted = -torch.ones(1, 1, 32, 32)
    for row in range(6, 26):
        shift = (26 - row) // 3  # the bar leans right going up
        slanted[0, 0, row, 11 + shift : 15 + shift] = 1.0
    bars = torch.cat([upright, slanted, thick, lying])
    plain = structure_map(bars).flatten(1)
    deskewed = structure_map(bars, deskew=True).flatten(1)
    assert torch.allclose(deskewed.norm(dim=1), torch.ones(4))
    # Slant and a doubled stroke width cost little once deskewed, much without.
    for other in (1, 2):
        assert deskewed[0] @ deskewed[other] > 0.9 > plain[0] @ plain[other]
    # Orientation is still shape: the lying bar stays far from the upright one.
    assert deskewed[0] @ deskewed[3] < 0.5


def test_structure_map_gradient_is_finite_on_blank_images():
    for deskew in (False, True):
        blank = torch.full((2, 1, 16, 16), -1.0, requires_grad=True)
        structure_map(blank, size=4, deskew=deskew).sum().backward()
        assert torch.isfinite(blank.grad).all()


def test_cyclegan_structure_term_is_logged_saved_and_validated(two_domains, tmp_path):
    options = {**TRAIN, "health": False, "seed": 3}
    term = {"structure_weight": 4.0, "structure_size": 4, "structure_deskew": True}
    with_term = CycleGAN(model={**TINY, **term}, **options)
    with_term.fit(two_domains, steps=2, out=tmp_path / "with", quiet=True)
    assert _stats(tmp_path / "with")[-1]["g_structure"] > 0
    CycleGAN(model=TINY, **options).fit(two_domains, steps=2, out=tmp_path / "plain", quiet=True)
    assert "g_structure" not in _stats(tmp_path / "plain")[-1]
    saved = load(tmp_path / "with").model_config
    assert saved["structure_weight"] == 4.0 and saved["structure_deskew"] is True
    with pytest.raises(GankitError, match="structure_size must be an integer from 2"):
        config_from_dict("cyclegan", {"structure_size": 1}, TRANSLATORS)
    with pytest.raises(GankitError, match="structure_weight must be a finite number"):
        config_from_dict("cyclegan", {"structure_weight": -1}, TRANSLATORS)
    with pytest.raises(GankitError, match="structure_align must be true or false"):
        config_from_dict("cyclegan", {"structure_align": "yes"}, TRANSLATORS)
    with pytest.raises(GankitError, match="structure_deskew must be true or false"):
        config_from_dict("cyclegan", {"structure_deskew": 1}, TRANSLATORS)
    with pytest.raises(GankitError, match="structure_deskew refines the aligned frame"):
        config_from_dict(
            "cyclegan", {"structure_deskew": True, "structure_align": False}, TRANSLATORS
        )


def test_structure_distance_accepts_restyling_and_rejects_reshaping():
    objective = CycleObjective(CycleGANConfig(structure_weight=1.0), "least-squares", seed=0)
    source = _frames((4, 28, 10, 22))
    restyled = _frames((10, 22, 13, 19)) * 0.8  # smaller, centred, dimmer: MNIST-like framing
    reshaped = _frames((13, 19, 4, 28))  # the same ink, lying down
    assert objective._structure_distance(restyled, source) < 0.05
    assert objective._structure_distance(reshaped, source) > 1.0


def test_engine_state_includes_the_objective(two_domains):
    from gankit.train import TrainConfig, Trainer

    model = CycleGAN(model={**TINY, "pool_size": 2})
    model.data_info = model.open_data(two_domains)[1]
    model._build()
    trainer = Trainer(
        model.G, model.D, two_domains, TrainConfig(batch_size=2), objective=model.objective()
    )
    trainer.train_step()
    assert state_tensors(trainer)["objective.pool_B.count"] == 2


def test_presets_build_and_describe_themselves():
    for cls in (Pix2Pix, CycleGAN):
        for preset in cls.presets.values():
            assert preset.description and preset.arch == cls.task
            # The paper presets (depth 8) are for 256-px images; building them takes seconds.
            resolution = 256 if preset.model.get("depth") == 8 else 32
            config_from_dict(preset.arch, {**preset.model, "resolution": resolution}, TRANSLATORS)
        model = cls()
        model.data_info = {"resolution": 32, "channels": [1, 1]}
        model._build()
        assert model.G.latent_dim == 0


def _write_pairs(root, edges, digits, count):
    for i in range(count):
        for name, images in (("A", edges), ("B", digits)):
            (root / name).mkdir(parents=True, exist_ok=True)
            Image.fromarray(images[i, 0].numpy()).save(root / name / f"d{i:02d}.png")


def test_cli_train_and_apply_a_folder(edge_pairs, tmp_path, capsys):
    _write_pairs(tmp_path / "pairs", edge_pairs.sources, edge_pairs.targets, 12)
    run = tmp_path / "run"
    args = ["train", "--task", "pix2pix", "--data", str(tmp_path / "pairs")]
    args += ["--out", str(run), "--resolution", "16", "--channels", "1,1", "--batch-size", "4"]
    args += ["--steps", "2", "--quiet", "--set", "model.width=4", "--set", "model.d_width=4"]
    args += ["--set", "model.depth=4", "--set", "model.d_layers=1"]
    main(args)
    assert "trained 2 steps" in capsys.readouterr().out
    main(["apply", str(run), str(tmp_path / "pairs" / "A"), "-o", str(tmp_path / "out")])
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == [f"d{i:02d}.png" for i in range(12)]
    expected = load(run).apply(edge_pairs.sources[:1])
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "d00.png")), expected[0, 0])
    apply = ["apply", str(run), str(tmp_path / "pairs" / "A"), "-o"]
    assert main([*apply, str(tmp_path / "out2"), "--batch-size", "0"]) == 2
    assert "--batch-size must be at least 1" in capsys.readouterr().err
    Image.open(tmp_path / "pairs" / "A" / "d00.png").save(tmp_path / "pairs" / "A" / "d00.bmp")
    assert main([*apply, str(tmp_path / "out3")]) == 2  # d00.bmp and d00.png -> one d00.png
    assert "would both be written" in capsys.readouterr().err
    assert not (tmp_path / "out3").exists() or not any((tmp_path / "out3").iterdir())


def test_folder_run_with_crops_resumes_from_its_config(edge_pairs, tmp_path):
    _write_pairs(tmp_path / "pairs", edge_pairs.sources, edge_pairs.targets, 8)
    model = {**TINY, "depth": 2}  # 12-px crops: divisible by 2**2
    Pix2Pix(resolution=16, crop=12, channels=(1, 1), model=model, **TRAIN).fit(
        tmp_path / "pairs", steps=2, out=tmp_path / "run", quiet=True
    )
    again = load(tmp_path / "run")
    assert again.data_info["load_size"] == 16 and again.data_info["resolution"] == 12
    again.fit(steps=4, out=tmp_path / "run", resume=True, quiet=True)
    assert again.history["steps"] == 4
    assert again.apply(edge_pairs.sources[:2]).shape == (2, 1, 16, 16)  # any multiple of 4


def test_cli_errors_are_one_line(edge_pairs, tmp_path, capsys):
    _write_pairs(tmp_path / "pairs", edge_pairs.sources, edge_pairs.targets, 3)
    (tmp_path / "pairs" / "B" / "d01.png").unlink()
    assert main(["train", "--task", "pix2pix", "--data", str(tmp_path / "pairs")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "d01" in err and "A/ only" in err
    assert main(["train", "--task", "cyclegan", "--data", str(tmp_path / "no")]) == 2
    assert "digits-mnist" in capsys.readouterr().err


@pytest.fixture(scope="module")
def labelled_domains():
    """Domain A: 40 digits 0-4 with their labels; domain B: 48 digits 5-9 (no labels used)."""
    digits = load_digits(16)
    low = digits.labels < 5
    a, b = digits.images[low][:40], digits.images[~low][:48]
    return UnpairedData(a, b, "low-high", labels_a=digits.labels[low][:40])


SEMANTIC = {"semantic_weight": 1.0, "semantic_steps": 3}


def test_cyclegan_semantic_term_is_logged_deterministic_and_saved(labelled_domains, tmp_path):
    options = {"model": {**TINY, **SEMANTIC}, **TRAIN, "health": False, "seed": 2}
    model = CycleGAN(**options).fit(labelled_domains, steps=2, out=tmp_path / "a", quiet=True)
    assert _stats(tmp_path / "a")[-1]["g_semantic"] > 0
    again = CycleGAN(**options).fit(labelled_domains, steps=2, quiet=True)
    for name, value in model.semantic.state_dict().items():
        assert torch.equal(value, again.semantic.state_dict()[name]), name
    assert not any(p.requires_grad for p in model.semantic.parameters())
    reloaded = load(tmp_path / "a")
    a = labelled_domains.domain_a[:5]
    view = semantic_view(a.float() / 127.5 - 1)
    assert torch.equal(reloaded.semantic(view), model.semantic(view))
    assert torch.equal(reloaded.apply(a), model.apply(a))
    # Continuing the saved run keeps its classifier rather than fitting a new one (marked, since
    # a refit with the same seed would give the same weights).
    reloaded.semantic.head.bias.add_(1.0)
    kept = {k: v.clone() for k, v in reloaded.semantic.state_dict().items()}
    reloaded.fit(labelled_domains, steps=3, out=tmp_path / "a", resume=True, quiet=True)
    assert all(torch.equal(v, reloaded.semantic.state_dict()[k]) for k, v in kept.items())


def test_a_semantic_model_fine_tuned_on_unlabelled_data_loads(
    labelled_domains, two_domains, tmp_path
):
    model = CycleGAN(model={**TINY, **SEMANTIC}, **TRAIN, health=False)
    model.fit(labelled_domains, steps=1, quiet=True)
    model.fit(two_domains, steps=2, quiet=True)  # same shape: fine-tunes, keeps the classifier
    reloaded = load(model.save(tmp_path / "m"))
    view = semantic_view(two_domains.domain_a[:4].float() / 127.5 - 1)
    assert torch.equal(reloaded.semantic(view), model.semantic(view))


def test_cyclegan_semantic_term_needs_domain_a_labels(two_domains, labelled_domains, tmp_path):
    with pytest.raises(GankitError, match="semantic_weight=1 trains a classifier on domain A's"):
        CycleGAN(model={**TINY, **SEMANTIC}, **TRAIN).fit(two_domains, steps=1, quiet=True)
    plain = CycleGAN(model=TINY, **TRAIN).fit(labelled_domains, steps=1, out=tmp_path, quiet=True)
    assert plain.semantic is None and "g_semantic" not in _stats(tmp_path)[-1]
    assert not (tmp_path / "semantic.safetensors").exists()
    # semantic_adapt only changes how the term reads; without the term it needs no labels.
    off = CycleGAN(model={**TINY, "semantic_adapt": True}, **TRAIN)
    assert off.fit(two_domains, steps=1, quiet=True).semantic_b is None
    with pytest.raises(GankitError, match="semantic_weight must be a finite number"):
        config_from_dict("cyclegan", {"semantic_weight": -1}, TRANSLATORS)
    with pytest.raises(GankitError, match="semantic_steps must be an integer >= 1"):
        config_from_dict("cyclegan", {"semantic_steps": 0}, TRANSLATORS)
    with pytest.raises(GankitError, match="semantic_rounds must be an integer >= 1, got 1.5"):
        config_from_dict("cyclegan", {"semantic_rounds": 1.5}, TRANSLATORS)
    with pytest.raises(GankitError, match="semantic_adapt must be true or false"):
        config_from_dict("cyclegan", {"semantic_adapt": 1}, TRANSLATORS)
    with pytest.raises(GankitError, match="semantic_jitter must be true or false"):
        config_from_dict("cyclegan", {"semantic_jitter": "yes"}, TRANSLATORS)
    with pytest.raises(GankitError, match="semantic_rounds .* needs semantic_adapt=true"):
        config_from_dict("cyclegan", {"semantic_rounds": 2}, TRANSLATORS)
    teacher = DigitClassifier(DigitClassifierConfig(num_classes=2))
    images = torch.zeros(4, 1, 16, 16, dtype=torch.uint8)
    for options, message in (({"rounds": 0}, "rounds must be an integer >= 1, got 0"),
                             ({"keep": 0.0}, r"keep must be in \(0, 1\], got 0.0")):  # fmt: skip
        with pytest.raises(GankitError, match=message):
            adapt_semantic_classifier(teacher, images, steps=1, seed=0, **options)


def test_cyclegan_adapted_semantic_term_saves_both_classifiers(labelled_domains, tmp_path):
    model = {**TINY, **SEMANTIC, "semantic_adapt": True, "semantic_rounds": 2}
    trained = CycleGAN(model=model, **TRAIN, health=False)
    trained.fit(labelled_domains, steps=2, out=tmp_path, quiet=True)
    assert _stats(tmp_path)[-1]["g_semantic"] > 0
    reloaded = load(tmp_path)
    assert reloaded.model_config["semantic_rounds"] == 2
    view = semantic_view(labelled_domains.domain_b[:6].float() / 127.5 - 1)
    for name in ("semantic", "semantic_b"):
        assert torch.equal(getattr(reloaded, name)(view), getattr(trained, name)(view)), name
    assert not torch.equal(reloaded.semantic_b(view), reloaded.semantic(view))


def test_the_semantic_preset_trains_its_recipe_on_labelled_domains(labelled_domains, tmp_path):
    model = {**TINY, "semantic_steps": 2}
    gan = CycleGAN("semantic", model=model, **TRAIN, health=False)
    gan.fit(labelled_domains, steps=1, out=tmp_path, quiet=True)
    config = load(tmp_path).model_config
    assert (config["semantic_weight"], config["semantic_rounds"], config["semantic_jitter"]) == (
        2.0,
        5,
        True,
    )
    assert gan.semantic_b is not None and _stats(tmp_path)[-1]["g_semantic"] > 0


def test_adapting_teaches_the_student_the_teachers_labels():
    """The adapted classifier learns what its teacher says, not the truth (no labels of B)."""
    bars = _frames(*[(8, 24, 14 + k % 3, 18 + k % 3) for k in range(8)])
    rings = _frames(*[(8, 24, 8 + k % 3, 24 - k % 3) for k in range(8)])
    rings[:, :, 12:20, 12:20] = -1.0
    images = ((torch.cat([bars, rings]) + 1) * 127.5).round().to(torch.uint8)
    labels = torch.arange(16) // 8
    teacher = train_semantic_classifier(images, labels, 2, steps=30, seed=0)
    # Flip the teacher's labels (swap its two logits): the student must learn them flipped.
    flipped = train_semantic_classifier(images, labels, 2, steps=30, seed=0)
    flipped.head.weight.copy_(flipped.head.weight.flip(0))
    flipped.head.bias.copy_(flipped.head.bias.flip(0))
    for source, expected in ((teacher, labels), (flipped, 1 - labels)):
        student = adapt_semantic_classifier(source, images, steps=30, seed=0)
        assert torch.equal(student(images.float() / 127.5 - 1).argmax(1), expected)
        # Later rounds are taught by the student: the teacher's labels carry through them.
        later = adapt_semantic_classifier(source, images, steps=30, seed=0, rounds=3)
        assert torch.equal(later(images.float() / 127.5 - 1).argmax(1), expected)
        assert not torch.equal(later.head.weight, student.head.weight)


def test_semantic_loss_prefers_a_translation_that_keeps_the_class():
    """A classifier that tells a bar from a ring scores a restyled bar low, a ring high."""
    bar = _frames((8, 24, 14, 18))
    ring = _frames((8, 24, 8, 24))
    ring[:, :, 12:20, 12:20] = -1.0
    images = torch.cat([bar, ring]).repeat(8, 1, 1, 1)
    as_uint8 = ((images + 1) * 127.5).round().to(torch.uint8)
    classifier = train_semantic_classifier(as_uint8, torch.arange(16) % 2, 2, steps=30, seed=0)
    objective = CycleObjective(
        CycleGANConfig(semantic_weight=1.0), "least-squares", seed=0, classifier=classifier
    )
    thinner_bar = _frames((4, 28, 15, 17))  # moved, longer, thinner: style, not class
    assert objective._semantic_loss(thinner_bar, bar) < objective._semantic_loss(ring, bar)

    # semantic_jitter reads each translation under a fresh seeded shift and turn; off, the
    # reading is fixed.
    def losses(jitter: bool) -> list[float]:
        config = CycleGANConfig(semantic_weight=1.0, semantic_jitter=jitter)
        objective = CycleObjective(config, "least-squares", seed=0, classifier=classifier)
        return [float(objective._semantic_loss(thinner_bar, bar)) for _ in range(3)]

    jittered = losses(True)
    assert jittered == losses(True) and len(set(jittered)) == 3
    assert len(set(losses(False))) == 1
    # The jittered reading still teaches G: the loss has a gradient in the translation.
    translated = thinner_bar.clone().requires_grad_(True)
    objective._semantic_loss(translated, bar).backward()
    assert translated.grad.abs().sum() > 0


def test_cyclegan_semantic_resume_is_bit_identical_including_the_jitter(labelled_domains, tmp_path):
    options = {"model": {**TINY, **SEMANTIC, "semantic_adapt": True}, **TRAIN, "health": False}
    CycleGAN(**options).fit(labelled_domains, steps=4, out=tmp_path / "straight", quiet=True)
    CycleGAN(**options).fit(labelled_domains, steps=2, out=tmp_path / "resumed", quiet=True)
    load(tmp_path / "resumed").fit(
        labelled_domains, steps=4, out=tmp_path / "resumed", resume=True, quiet=True
    )
    straight, resumed = _checkpoint(tmp_path / "straight", 4), _checkpoint(tmp_path / "resumed", 4)
    assert "semantic_jitter_rng" in straight["objective.safetensors"]
    for name, tensors in straight.items():
        for key, value in tensors.items():
            assert torch.equal(value, resumed[name][key]), (name, key)


def test_cyclegan_run_from_before_semantic_jitter_resumes_as_it_was_trained(
    labelled_domains, tmp_path
):
    """A run written before semantic_jitter (no key in config.json, no RNG in its checkpoint)
    resumes without the jitter, now on by default, bit for bit as an uninterrupted run."""
    model = {**TINY, **SEMANTIC, "semantic_jitter": False}
    options = {"model": model, **TRAIN, "health": False}
    CycleGAN(**options).fit(labelled_domains, steps=4, out=tmp_path / "straight", quiet=True)
    old = tmp_path / "old"
    CycleGAN(**options).fit(labelled_domains, steps=2, out=old, quiet=True)
    config = json.loads((old / "config.json").read_text())
    del config["model"]["semantic_jitter"]
    (old / "config.json").write_text(json.dumps(config))
    objective = old / "train_state" / "step-000002" / "objective.safetensors"
    tensors = load_tensors(objective)
    tensors.pop("semantic_jitter_rng", None)
    save_tensors(objective, tensors)
    resumed = load(old)
    assert resumed.model_config["semantic_jitter"] is False
    resumed.fit(labelled_domains, steps=4, out=old, resume=True, quiet=True)
    straight, resumed = _checkpoint(tmp_path / "straight", 4), _checkpoint(old, 4)
    for name, tensors in straight.items():
        for key, value in tensors.items():
            assert torch.equal(value, resumed[name][key]), (name, key)
