"""TabularGAN end to end: fit, sample (conditionally), save/load, CLI, report, bad input."""

import io
import json

import numpy as np
import pandas as pd
import pytest
import torch

from gankit import GankitError, TabularGAN, load
from gankit.cli import main
from gankit.data import default_data_root
from gankit.data.tabular import demo_table as mixed_frame

# A few steps of a small model: enough to exercise every path in about a second.
TINY = {"steps": 6, "batch_size": 40, "log_every": 3, "sample_every": 3, "checkpoint_every": 3}
TINY_MODEL = {"g_hidden": [32], "d_hidden": [32], "latent_dim": 16, "pack": 4}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return mixed_frame(400)


@pytest.fixture(scope="module")
def fitted(table) -> TabularGAN:
    return TabularGAN(model=TINY_MODEL, **TINY).fit(table, quiet=True)


def test_samples_keep_columns_dtypes_categories_nulls_and_ranges(fitted, table):
    rows = fitted.sample(600, seed=0)
    assert list(rows.columns) == list(table.columns) and len(rows) == 600
    assert rows.dtypes.to_dict() == table.dtypes.to_dict()
    assert rows["tier"].cat.categories.tolist() == ["gold", "silver"]
    assert set(rows["city"].dropna()) <= {"Oslo", "Lima", "Pune"}
    assert set(rows["children"]) <= set(table["children"])
    for column in ("income", "age", "visits", "joined"):
        values = rows[column].dropna()
        assert table[column].min() <= values.min() and values.max() <= table[column].max()
    assert (rows["visits"] == rows["visits"].round()).all()
    assert (rows["age"].dropna() == rows["age"].dropna().round()).all()
    # Only the columns that had nulls may have them.
    assert rows.columns[rows.isna().any()].tolist() <= ["age", "city"]
    pd.to_datetime(rows["day"], format="%Y-%m-%d")  # string dates keep their format


def test_same_seed_same_rows(fitted):
    pd.testing.assert_frame_equal(fitted.sample(50, seed=3), fitted.sample(50, seed=3))
    assert not fitted.sample(50, seed=3).equals(fitted.sample(50, seed=4))


def test_conditional_sampling_gives_exactly_the_asked_values(fitted):
    rows = fitted.sample(300, seed=1, conditions={"city": "Pune"})
    assert (rows["city"] == "Pune").all()
    both = fitted.sample(40, seed=1, conditions={"member": True, "tier": "silver"})
    assert both["member"].all() and (both["tier"] == "silver").all() and len(both) == 40


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"city": "Rome"}, "column 'city' has value 'Rome'"),
        ({"town": "Oslo"}, "unknown column 'town'"),
        ({"income": 1.0}, "only discrete columns"),
    ],
)
def test_bad_conditions_name_the_column(fitted, conditions, message):
    with pytest.raises(GankitError, match=message):
        fitted.sample(5, conditions=conditions)


def test_save_and_load_reproduce_samples_without_pickles(fitted, tmp_path):
    fitted.save(tmp_path / "m")
    files = sorted(p.name for p in (tmp_path / "m").iterdir())
    assert files == [
        "D.safetensors",
        "G.safetensors",
        "G_ema.safetensors",
        "config.json",
        "transformer.json",
    ]
    loaded = load(tmp_path / "m")
    assert isinstance(loaded, TabularGAN)
    pd.testing.assert_frame_equal(loaded.sample(80, seed=7), fitted.sample(80, seed=7))
    conditioned = loaded.sample(20, seed=7, conditions={"city": "Lima"})
    pd.testing.assert_frame_equal(
        conditioned, fitted.sample(20, seed=7, conditions={"city": "Lima"})
    )


def test_fit_with_out_writes_a_resumable_run_and_report(table, tmp_path):
    out = tmp_path / "run"
    small = table[["income", "visits", "city", "member"]]
    gan = TabularGAN(model=TINY_MODEL, **TINY).fit(small, out=out, quiet=True)
    report = (out / "report.md").read_text()
    assert "quality" in report and "privacy_ratio" in report
    assert any((out / "samples").iterdir())
    resumed = TabularGAN(model=TINY_MODEL, **TINY).fit(
        small, steps=9, out=out, resume=True, quiet=True
    )
    assert resumed.history["steps"] == 9 and gan.history["steps"] == 6


def test_unconditional_table_without_discrete_columns(tmp_path):
    numbers = pd.DataFrame({"x": np.linspace(0, 1, 200), "y": np.linspace(5, 50, 200)})
    gan = TabularGAN(model=TINY_MODEL, **TINY).fit(numbers, quiet=True)
    rows = gan.sample(30, seed=0)
    assert rows.shape == (30, 2) and rows["x"].between(0, 1).all()


def test_cli_fit_and_sample(tmp_path, capsys):
    csv = tmp_path / "data.csv"
    mixed_frame(300)[["income", "children", "city", "day"]].to_csv(csv, index=False)
    run = tmp_path / "runs" / "t"
    sets = [f"--set={k}={v}" for k, v in TINY.items() if k != "steps"]
    model = ["--set=model.g_hidden=[32]", "--set=model.d_hidden=[32]", "--set=model.pack=4"]
    argv = ["train", "--task", "tabular", "--data", str(csv), "--out", str(run), "--steps", "4"]
    argv += ["--target", "city"]
    assert main([*argv, *sets, *model]) == 0
    assert load(run).transformer.target == "city"
    out_csv = tmp_path / "out.csv"
    code = main(["sample", str(run), "-n", "25", "-o", str(out_csv), "--condition", "city=Lima"])
    assert code == 0
    rows = pd.read_csv(out_csv)
    assert len(rows) == 25 and (rows["city"] == "Lima").all()
    assert rows.columns.tolist() == ["income", "children", "city", "day"]
    # A model with a target samples calibrated unless told not to (same seed: same as the API).
    for flag, calibrate in (([], True), (["--no-calibrate"], False)):
        assert main(["sample", str(run), "-n", "30", "-o", str(out_csv), *flag]) == 0
        expected = load(run).sample(30, seed=0, calibrate=calibrate)
        pd.testing.assert_frame_equal(
            pd.read_csv(out_csv), pd.read_csv(io.StringIO(expected.to_csv(index=False)))
        )
    assert main(["sample", str(run), "--grid", str(tmp_path / "g.png")]) == 2
    assert "makes table rows: write them to a CSV file" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00"), "is not a CSV file"),
        (lambda p: p.write_text("a,b\n,1\n,2\n,3\n"), "column 'a' holds only missing values"),
        (lambda p: p.write_text("a,b\n1,x\n2,y\nthree,z\n4,w\n"), "column 'a' mixes numbers"),
    ],
)
def test_cli_bad_input_is_one_clear_line(tmp_path, capsys, make, message):
    csv = tmp_path / "data.csv"
    make(csv)
    argv = ["train", "--task", "tabular", "--data", str(csv), "--out", str(tmp_path / "r")]
    assert main([*argv, "--steps", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("gankit: error:") and message in err and "\n" not in err


def test_cli_unknown_target_is_one_clear_line(tmp_path, capsys):
    csv = tmp_path / "data.csv"
    mixed_frame(100).to_csv(csv, index=False)
    fit = ["train", "--task", "tabular", "--data", str(csv)]
    argv = [*fit, "--out", str(tmp_path / "r"), "--target", "salary"]
    assert main([*argv, "--steps", "2"]) == 2
    err = capsys.readouterr().err.strip()
    assert "model target 'salary' is not a column" in err and "\n" not in err
    both = ["--target", "city", "--set", "model.target=tier"]
    assert main([*fit, "--out", str(tmp_path / "r2"), *both]) == 2
    assert "disagree" in capsys.readouterr().err


def test_report_measures_fidelity_privacy_and_utility(fitted, table):
    holdout = mixed_frame(200, seed=1)
    result = fitted.report(table, holdout=holdout, target="member", positive=True, n=300)
    assert 0 <= result["quality"] <= 1 and 0 <= result["column_shapes"] <= 1
    # The demo table's columns are independent: sdmetrics finds no pair with a real association.
    assert result["column_pair_trends"] is None
    assert result["dcr_baseline"] == "holdout" and result["privacy_ratio"] > 0
    assert set(result["tstr"]) == {"accuracy", "f1", "auc"}
    assert 0.5 <= result["trtr"]["accuracy"] <= 1


ADULT = default_data_root() / "adult" / "adult.data"


@pytest.mark.skipif(not ADULT.is_file(), reason=f"UCI Adult not found at {ADULT}")
def test_adult_slice_round_trip():
    names = [
        "age", "workclass", "fnlwgt", "education", "education-num", "marital-status",
        "occupation", "relationship", "race", "sex", "capital-gain", "capital-loss",
        "hours-per-week", "native-country", "income",
    ]  # fmt: skip
    adult = pd.read_csv(ADULT, header=None, names=names, skipinitialspace=True, nrows=2000)
    gan = TabularGAN(model=TINY_MODEL, **TINY).fit(adult, quiet=True)
    kinds = gan.data_info["kinds"]
    assert kinds["age"] == "integer" and kinds["native-country"] == "categorical"
    rows = gan.sample(500, seed=0, conditions={"sex": "Female"})
    assert rows.dtypes.to_dict() == adult.dtypes.to_dict() and (rows["sex"] == "Female").all()
    assert rows["capital-gain"].between(0, adult["capital-gain"].max()).all()


def test_fit_needs_a_table():
    with pytest.raises(GankitError, match="DataFrame or a CSV path"):
        TabularGAN().fit(42)
    with pytest.raises(GankitError, match="no weights yet"):
        TabularGAN().sample(3)


def test_fitting_another_table_refits_the_transformer_and_rebuilds(table):
    gan = TabularGAN(model=TINY_MODEL, **TINY).fit(table[["income", "city"]], quiet=True)
    gan.fit(table[["visits", "member"]], quiet=True)
    rows = gan.sample(20, seed=0)
    assert rows.columns.tolist() == ["visits", "member"] and rows["member"].dtype == bool


def test_frequency_weight_adds_the_span_frequency_term_to_g(table, tmp_path):
    model = {**TINY_MODEL, "frequency_weight": 0.5}
    TabularGAN(model=model, **TINY).fit(table, out=tmp_path / "run", quiet=True)
    lines = (tmp_path / "run" / "stats.jsonl").read_text().splitlines()
    stats = [json.loads(line) for line in lines]
    assert all(s["g_frequency"] >= 0 for s in stats if "g_frequency" in s)
    assert any(s.get("g_frequency", 0) > 0 for s in stats)
    plain = tmp_path / "plain"
    TabularGAN(model=TINY_MODEL, **TINY).fit(table, out=plain, quiet=True)
    assert "g_frequency" not in (plain / "stats.jsonl").read_text()


def test_frequency_term_also_trains_a_table_without_discrete_columns(table, tmp_path):
    # Unconditional training under a loss that needs no reals: the term asks the engine for them.
    model = {**TINY_MODEL, "frequency_weight": 0.5}
    numeric = table[["income", "visits"]]
    TabularGAN(model=model, **TINY).fit(numeric, out=tmp_path / "run", quiet=True)
    lines = (tmp_path / "run" / "stats.jsonl").read_text().splitlines()
    assert any("g_frequency" in json.loads(line) for line in lines)


def _labelled(rows: int = 400) -> pd.DataFrame:
    """``label`` is ``high`` exactly when ``x > 0``; ``c`` is noise."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=rows)
    c = rng.choice(["u", "v", "w"], rows)
    return pd.DataFrame({"x": x, "c": c, "label": np.where(x > 0, "high", "low")})


def test_target_classifier_reads_the_other_columns_and_scores_g_rows(tmp_path):
    df = _labelled()
    model = {**TINY_MODEL, "target": "label", "target_weight": 1.0}
    gan = TabularGAN(model=model, **TINY).fit(df, out=tmp_path / "run", quiet=True)
    stats = [
        json.loads(line) for line in (tmp_path / "run" / "stats.jsonl").read_text().splitlines()
    ]
    assert any(s.get("g_target", 0) > 0 for s in stats)
    terms = gan.objective()
    encoded = gan.transformer.transform(df)
    rows = torch.from_numpy(encoded)
    start, size = terms.classifier.start, terms.classifier.size
    predicted = terms.classifier(rows).argmax(dim=1)
    assert (predicted == rows[:, start : start + size].argmax(dim=1)).float().mean() > 0.9
    # Rows whose label contradicts their x cost G more than the real rows do; the classifier
    # itself never sees the label.
    flipped = rows.clone()
    flipped[:, start : start + size] = rows[:, start : start + size].flip(1)
    assert torch.equal(terms.classifier(flipped), terms.classifier(rows))
    real_term = terms.g_terms(None, None, rows, None)["target"]
    assert terms.g_terms(None, None, flipped, None)["target"] > real_term + 1.0


def test_a_target_is_drawn_with_the_condition_it_goes_with(tmp_path):
    # ``label`` is fixed by ``c``: G is told both, so a condition on c decides the label even
    # for an untrained G, and unconditional rows keep the label's share.
    rng = np.random.default_rng(0)
    c = rng.choice(["u", "v"], 400, p=[0.3, 0.7])
    df = pd.DataFrame({"x": rng.normal(size=400), "c": c, "label": np.where(c == "u", "a", "b")})
    model = {**TINY_MODEL, "target": "label"}
    gan = TabularGAN(model=model, **TINY).fit(df, out=tmp_path / "run", quiet=True)
    assert gan.objective() is None  # target_weight 0 (the default): no classifier
    assert (gan.sample(300, seed=0, conditions={"c": "u"})["label"] == "a").all()
    assert (gan.sample(300, seed=0, conditions={"c": "v"})["label"] == "b").all()
    rows = load(tmp_path / "run").sample(4000, seed=1)
    assert (rows["label"] == "a").mean() == pytest.approx((c == "u").mean(), abs=0.02)


@pytest.mark.parametrize(
    ("target", "message"),
    [("nope", "model target 'nope' is not a column"), ("x", "'x' is continuous")],
)
def test_target_must_be_a_discrete_column(target, message, tmp_path):
    gan = TabularGAN(model={**TINY_MODEL, "target": target}, **TINY)
    with pytest.raises(GankitError, match=message):
        gan.fit(_labelled(), out=tmp_path / "run", quiet=True)
    assert not (tmp_path / "run" / "config.json").exists()  # the corrected retry may use --out


def test_a_resumed_run_refuses_another_target(tmp_path):
    df = mixed_frame(200)
    TabularGAN(model=TINY_MODEL, **TINY).fit(df, out=tmp_path / "run", quiet=True)
    again = TabularGAN(model={**TINY_MODEL, "target": "tier"}, **TINY)
    with pytest.raises(GankitError, match="started with model.target=''; resume it with the same"):
        again.fit(df, steps=9, out=tmp_path / "run", resume=True, quiet=True)
    assert load(tmp_path / "run").model_config.get("target", "") == ""
    # A transformer.json from before targets were held in the conditions resumes as it is.
    path = tmp_path / "run" / "transformer.json"
    state = json.loads(path.read_text())
    del state["target"], state["target_counts"]
    path.write_text(json.dumps(state))
    again.fit(df, steps=9, out=tmp_path / "run", resume=True, quiet=True)
    assert again.history["steps"] == 9 and again.transformer.target == ""


def test_a_condition_on_the_target_is_given_to_g_with_the_other_condition(tmp_path):
    # The data never pairs c=u with label a; asked for both, G must be told both (hard
    # conditioning makes any pair), not a label drawn given u and then rejected.
    rng = np.random.default_rng(0)
    c = rng.choice(["u", "v"], 400, p=[0.2, 0.8])
    label = np.where(c == "u", "b", rng.choice(["a", "b"], 400))
    df = pd.DataFrame({"x": rng.normal(size=400), "c": c, "label": label})
    gan = TabularGAN(model={**TINY_MODEL, "target": "label"}, **TINY).fit(df, quiet=True)
    rows = gan.sample(50, seed=0, conditions={"c": "u", "label": "a"})
    assert (rows["c"] == "u").all() and (rows["label"] == "a").all()


def _tied(rows: int = 400) -> pd.DataFrame:
    """``label`` is ``a`` exactly when ``c`` is ``u``; ``x`` is noise."""
    rng = np.random.default_rng(0)
    c = rng.choice(["u", "v"], rows, p=[0.3, 0.7])
    return pd.DataFrame({"x": rng.normal(size=rows), "c": c, "label": np.where(c == "u", "a", "b")})


@pytest.fixture(scope="module")
def targeted(tmp_path_factory) -> TabularGAN:
    out = tmp_path_factory.mktemp("targeted") / "run"
    return TabularGAN(model={**TINY_MODEL, "target": "label"}, **TINY).fit(
        _tied(), out=out, quiet=True
    )


def test_calibrated_sampling_gives_values_to_the_class_the_table_gives_them(targeted):
    # A G trained for 6 steps pairs c and label at random; the table never has ("u", "b") or
    # ("v", "a"), so calibrated rows keep those only where the pool (3 times the rows) is short
    # of rows with a pair the table has. The label keeps its share.
    plain = targeted.sample(2000, seed=0, calibrate=False)
    rows = targeted.sample(2000, seed=0)  # the default with a named target

    def broken(frame):
        return ((frame["c"] == "u") != (frame["label"] == "a")).mean()

    assert broken(plain) > 0.4 and broken(rows) < 0.1
    assert (rows["label"] == "a").mean() == pytest.approx((plain["label"] == "a").mean(), abs=0.02)
    pd.testing.assert_frame_equal(rows, targeted.sample(2000, seed=0))  # same seed, same rows
    assert not rows.equals(targeted.sample(2000, seed=1))


def test_calibration_is_off_under_conditions_and_without_span_counts(targeted, tmp_path):
    rows = targeted.sample(200, seed=0, conditions={"c": "v"})
    assert (rows["c"] == "v").all()
    with pytest.raises(GankitError, match="no conditions"):
        targeted.sample(200, seed=0, conditions={"c": "v"}, calibrate=True)
    # A model directory from before calibrated sampling: its transformer.json has no counts.
    out = targeted.save(tmp_path / "old")
    state = json.loads((out / "transformer.json").read_text())
    del state["span_counts"]
    (out / "transformer.json").write_text(json.dumps(state))
    old = load(out)
    pd.testing.assert_frame_equal(old.sample(100, seed=0), old.sample(100, seed=0, calibrate=False))
    with pytest.raises(GankitError, match="span counts"):
        old.sample(100, seed=0, calibrate=True)


def test_calibrated_sampling_of_fewer_rows_than_classes_leaves_a_class_out(targeted):
    # A class with one or two rows in the pool of 3 n rows can round to none kept.
    for n in (1, 2, 5):
        for seed in range(4):
            assert len(targeted.sample(n, seed=seed)) == n


@pytest.mark.parametrize("n", [True, 2.0, 0, "5"])
def test_calibrated_sampling_refuses_a_bad_row_count_by_its_own_value(targeted, n):
    # The pool is POOL_FACTOR * n rows: the error must name n, not the pool's size.
    with pytest.raises(GankitError, match=f"got {n!r}$"):
        targeted.sample(n, seed=0)


def test_calibrated_sampling_draws_pools_block_by_block(targeted, monkeypatch):
    # Many rows are kept block by block, so a pool never holds more than 3 blocks of rows.
    import gankit.tasks.tabular as tabular_task

    monkeypatch.setattr(tabular_task, "_CALIBRATED_BLOCK", 100)
    asked = []
    raw = targeted.generate_raw
    monkeypatch.setattr(targeted, "generate_raw", lambda n, **kw: asked.append(n) or raw(n, **kw))
    rows = targeted.sample(250, seed=0)
    assert len(rows) == 250 and asked == [300, 300, 150]
    pd.testing.assert_frame_equal(rows, targeted.sample(250, seed=0))
    # Each block draws its own pool: two blocks of one seed must not repeat each other's rows.
    first, second = rows.iloc[:100].reset_index(drop=True), rows.iloc[100:200]
    assert not first.equals(second.reset_index(drop=True))
    assert ((rows["c"] == "u") != (rows["label"] == "a")).mean() < 0.1


def test_a_table_smaller_than_the_preset_batch_trains_in_whole_packs_with_a_warning(table):
    small = table.iloc[:127]
    options = {k: v for k, v in TINY.items() if k != "batch_size"}
    with pytest.warns(UserWarning, match="127 rows, fewer than the preset's batch_size 300"):
        gan = TabularGAN(model=TINY_MODEL, **options).fit(small, quiet=True)
    assert gan.train_config.batch_size == 124  # packs of 4 (the model's, not the preset's 10)
    assert len(gan.sample(10, seed=0)) == 10
    # A batch the user chose is kept, and the engine says it does not fit.
    with pytest.raises(GankitError, match="fewer than batch_size 300"):
        TabularGAN(model=TINY_MODEL, **options, batch_size=300).fit(small, quiet=True)


def test_calibrated_sampling_takes_a_negative_seed_as_generate_does(targeted):
    # torch takes seed -1 (as 2**64 - 1); the calibrated block's seed streams must too.
    rows = targeted.sample(20, seed=-1)
    pd.testing.assert_frame_equal(rows, targeted.sample(20, seed=-1))
    assert not rows.equals(targeted.sample(20, seed=0))


def test_a_shrunk_batch_is_the_small_tables_alone(table):
    # The shrink fits one table: a bigger table fitted next on the same object gets the preset's
    # batch back, and a small one is measured against the preset's batch, not the shrunk one.
    options = {k: v for k, v in TINY.items() if k != "batch_size"}
    gan = TabularGAN(model=TINY_MODEL, **options)
    with pytest.warns(UserWarning, match="127 rows") as record:
        gan.fit(table.iloc[:127], quiet=True)
    # The warning points at the caller's line, not at gankit's insides.
    [shrink] = [w for w in record if "127 rows" in str(w.message)]
    assert gan.train_config.batch_size == 124 and shrink.filename == __file__
    gan.fit(table, quiet=True)
    assert gan.train_config.batch_size == 300
    with pytest.warns(UserWarning, match="fewer than the preset's batch_size 300"):
        gan.fit(table.iloc[:127], quiet=True)


@pytest.mark.parametrize(("pack", "message"), [(0, "pack=0"), ("ten", "invalid tabular config")])
def test_a_bad_pack_on_a_small_table_gets_the_config_error(table, pack, message):
    # Not a ZeroDivisionError or ValueError from shrinking the batch by it.
    options = {k: v for k, v in TINY.items() if k != "batch_size"}
    with pytest.raises(GankitError, match=message):
        TabularGAN(model={**TINY_MODEL, "pack": pack}, **options).fit(table.iloc[:50], quiet=True)


def test_a_preset_without_a_pack_shrinks_to_the_models_default_pack(table):
    from gankit.tasks.base import Preset
    from gankit.train import TrainConfig

    class Bare(TabularGAN):
        presets = {"bare": Preset("bare", "no pack given", "tabular", {}, TrainConfig(steps=2))}
        default_preset = "bare"

    with pytest.warns(UserWarning, match="training with batch_size 40"):  # TrainConfig's 64
        gan = Bare(model={k: v for k, v in TINY_MODEL.items() if k != "pack"}).fit(
            table.iloc[:47], quiet=True
        )
    assert gan.model_config["pack"] == 10 and gan.train_config.batch_size == 40


def test_a_loaded_model_keeps_its_saved_batch_when_trained_further(table, tmp_path):
    # config.json's batch is the run's, chosen or shrunk; another fit must not swap in the
    # preset's 300 (a resume would then not continue the same run).
    TabularGAN(model=TINY_MODEL, **TINY).fit(table, out=tmp_path / "run", quiet=True)
    gan = load(tmp_path / "run")
    gan.fit(table, steps=8, quiet=True)
    assert gan.train_config.batch_size == TINY["batch_size"]
