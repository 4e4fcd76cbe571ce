"""Column detection, the reversible table encoding and training-by-sampling."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from gankit.data.tabular import TableTransformer, infer_columns, read_csv, tabular_data
from gankit.data.tabular import demo_table as mixed_frame
from gankit.errors import GankitError


def test_kinds_are_detected_from_values_and_dtypes():
    specs = {s.name: s for s in infer_columns(mixed_frame())}
    kinds = {name: spec.kind for name, spec in specs.items()}
    assert kinds == {
        "income": "continuous",
        "age": "integer",
        "visits": "integer",
        "children": "categorical",
        "member": "boolean",
        "city": "categorical",
        "tier": "categorical",
        "joined": "datetime",
        "day": "datetime",
    }
    assert specs["city"].has_null and specs["age"].has_null and not specs["visits"].has_null
    assert specs["city"].categories == ("Lima", "Oslo", "Pune")
    assert specs["day"].date_format == "%Y-%m-%d"


def test_discrete_columns_and_metadata_override_the_guess():
    df = mixed_frame()
    specs = infer_columns(df, discrete_columns=["visits"], metadata={"children": "integer"})
    kinds = {s.name: s.kind for s in specs}
    assert kinds["visits"] == "categorical" and kinds["children"] == "integer"


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"a": [1.0, 2.0], "empty": [np.nan, np.nan]}), "column 'empty' holds only"),
        (pd.DataFrame({"zip": [1, "x", 3, 4]}), "column 'zip' mixes numbers and text"),
        (pd.DataFrame({"zip": ["1", "2", "3", "n/a"]}), "column 'zip' mixes numbers and text"),
    ],
)
def test_bad_columns_are_named(frame, message):
    with pytest.raises(GankitError, match=message):
        infer_columns(frame)


def test_metadata_errors_name_the_column():
    df = pd.DataFrame({"x": [0.5, 1.5, 2.5], "c": ["a", "b", "c"]})
    with pytest.raises(GankitError, match=r"column\(s\) \['nope'\]"):
        infer_columns(df, metadata={"nope": "integer"})
    with pytest.raises(GankitError, match="column 'x' is declared integer but holds fractions"):
        infer_columns(df, metadata={"x": "integer"})
    with pytest.raises(GankitError, match="column 'x': unknown kind 'number'"):
        infer_columns(df, metadata={"x": "number"})


def test_read_csv_refuses_files_that_are_not_csv(tmp_path):
    binary = tmp_path / "table.csv"
    binary.write_bytes(b"PAR1\x00\x01\x02binary")
    with pytest.raises(GankitError, match="is not a CSV file"):
        read_csv(binary)
    parquet = tmp_path / "table.parquet"
    parquet.write_text("a,b\n1,2\n")
    with pytest.raises(GankitError, match=r"is not a CSV file \(\.parquet\)"):
        read_csv(parquet)
    with pytest.raises(GankitError, match="not found"):
        read_csv(tmp_path / "missing.csv")
    good = tmp_path / "good.csv"
    good.write_text("a, b\n1, x\n2, y\n")
    assert read_csv(good).columns.tolist() == ["a", "b"]


def test_round_trip_keeps_dtypes_nulls_categories_and_values():
    df = mixed_frame()
    transformer = TableTransformer.fit(df, seed=0)
    encoded = transformer.transform(df)
    assert encoded.shape == (len(df), transformer.output_dim) and encoded.dtype == np.float32
    back = transformer.inverse_transform(encoded)
    assert list(back.columns) == list(df.columns)
    assert back.dtypes.to_dict() == df.dtypes.to_dict()
    pd.testing.assert_frame_equal(back.isna(), df.isna())
    for column in ("children", "member", "city", "tier", "day", "visits", "age"):
        pd.testing.assert_series_equal(back[column], df[column], check_exact=True)
    # Continuous values come back through (x - mu) / 4 sigma clipped to 0.99: close, not exact.
    assert np.allclose(back["income"], df["income"], rtol=1e-4, atol=1e-3)
    assert (back["joined"] - df["joined"]).abs().max() < pd.Timedelta("1s")


def test_point_masses_are_modes_of_their_own_and_decode_exactly():
    rng = np.random.default_rng(0)
    gain = np.where(rng.random(3000) < 0.9, 0.0, rng.lognormal(8, 1, 3000))  # 90 % exact zeros
    hours = np.where(rng.random(3000) < 0.5, 40.0, rng.normal(40, 10, 3000).round(1))
    df = pd.DataFrame({"gain": gain, "hours": hours})
    transformer = TableTransformer.fit(df)
    gain_encoder, hours_encoder = transformer.encoders
    assert gain_encoder.spikes.tolist() == [0.0] and hours_encoder.spikes.tolist()[0] == 40.0
    encoded = transformer.transform(df)
    zero_mode = transformer.column_spans[0][1].start  # the first mode of gain is the zero spike
    assert np.array_equal(encoded[:, zero_mode] == 1, gain == 0)
    assert (encoded[gain == 0, 0] == 0).all()  # a point mass has no offset
    # Whatever offset G writes, the spike's mode decodes to exactly the spike's value.
    noisy = encoded.copy()
    noisy[:, 0] = np.random.default_rng(1).uniform(-1, 1, len(df))
    back = transformer.inverse_transform(noisy)
    assert (back["gain"][gain == 0] == 0).all() and (back["hours"][hours == 40] == 40).all()


def test_point_masses_hidden_under_a_bigger_one_are_found_in_rounds():
    rng = np.random.default_rng(0)
    # 90 % zeros; of the rest, 15,024 is 12 % (1.2 % of the column) and the other gains are
    # spread over a hundred amounts, each a code of its own (Adult's 5,013 $ is never above 50K).
    rest = np.where(rng.random(1000) < 0.12, 15024.0, rng.integers(1, 100, 1000) * 97.0)
    gain = np.where(rng.random(8000) < 0.9, 0.0, np.resize(rest, 8000))
    weight = rng.normal(70, 12, 8000)  # a float column: no value repeats, so no point mass
    df = pd.DataFrame({"gain": gain, "weight": weight})
    transformer = TableTransformer.fit(df)
    spikes = transformer.encoders[0].spikes
    assert spikes[:2].tolist() == [0.0, 15024.0] and len(spikes) == 64  # at most 64, commonest
    assert transformer.encoders[1].spikes.tolist() == []
    back = transformer.inverse_transform(transformer.transform(df))
    assert (back["gain"][np.isin(gain, spikes)] == gain[np.isin(gain, spikes)]).all()


def test_a_column_of_few_values_is_all_point_masses():
    df = pd.DataFrame({"x": np.tile([0.5, 1.25, 7.0], 40)})
    transformer = TableTransformer.fit(df)
    assert sorted(transformer.encoders[0].spikes.tolist()) == [0.5, 1.25, 7.0]
    assert len(transformer.encoders[0].means) == 0
    back = transformer.inverse_transform(transformer.transform(df))
    pd.testing.assert_frame_equal(back, df)
    other = transformer.inverse_transform(transformer.transform(pd.DataFrame({"x": [1.0, 6.0]})))
    assert other["x"].tolist() == [1.25, 7.0]  # unseen values go to the nearest point mass


def test_a_small_table_s_float_column_has_no_point_masses():
    # Under 334 rows, 0.3 % of the column is less than one row: a value seen once is no spike.
    x = np.random.default_rng(0).normal(size=200)
    assert TableTransformer.fit(pd.DataFrame({"x": x})).encoders[0].spikes.tolist() == []


def test_decoded_numbers_stay_in_the_observed_range_and_integral():
    df = mixed_frame()
    transformer = TableTransformer.fit(df)
    noise = np.random.default_rng(1).uniform(-1, 1, (300, transformer.output_dim))
    back = transformer.inverse_transform(noise.astype(np.float32))
    for column in ("income", "visits", "age"):
        values = back[column].dropna()
        assert values.min() >= df[column].min() and values.max() <= df[column].max()
    assert (back["visits"] == back["visits"].round()).all() and back["visits"].dtype == np.int64
    assert set(back["city"].dropna()) <= {"Oslo", "Lima", "Pune"}


def test_json_round_trip_gives_the_same_encoding():
    df = mixed_frame()
    transformer = TableTransformer.fit(df, seed=3)
    restored = TableTransformer.from_json(json.loads(json.dumps(transformer.to_json())))
    assert np.array_equal(restored.transform(df), transformer.transform(df))
    assert restored.spans == transformer.spans and restored.slot_counts == transformer.slot_counts
    with pytest.raises(GankitError, match="not a gankit table transformer"):
        TableTransformer.from_json({"kind": "pickle", "version": 1})


def test_fit_is_seeded():
    df = mixed_frame()
    first = TableTransformer.fit(df, seed=5).to_json()
    assert first == TableTransformer.fit(df, seed=5).to_json()


def test_unknown_condition_value_names_the_column():
    transformer = TableTransformer.fit(mixed_frame())
    with pytest.raises(GankitError, match="column 'city' has value 'Rome'.*known values"):
        transformer.condition_slot("city", "Rome")
    with pytest.raises(GankitError, match="only discrete columns"):
        transformer.condition_slot("income", 3.0)
    assert transformer.condition_slot("member", True) == transformer.condition_slot("member", 1)


def test_training_by_sampling_matches_rows_to_conditions_and_lifts_rare_values():
    df = mixed_frame(1000)
    transformer = TableTransformer.fit(df)
    data = tabular_data(transformer, df)
    rows, cond = data.sample(4000, torch.Generator().manual_seed(0))
    assert cond.sum(dim=1).eq(1).all()
    positions = torch.tensor(transformer.cond_positions)
    assert (rows[:, positions] * cond).sum(dim=1).eq(1).all()  # every row has its condition
    # "Pune" is 10 % of rows; under log-frequency sampling its share when "city" is picked is
    # log(1 + ~95) / sum(log(1 + count)) ~ 0.25.
    pune = cond[:, transformer.condition_slot("city", "Pune")].sum()
    city = cond[:, [transformer.condition_slot("city", c) for c in ("Oslo", "Lima", "Pune")]].sum()
    assert 0.2 < float(pune / city) < 0.32
    again, _ = data.sample(4000, torch.Generator().manual_seed(0))
    assert torch.equal(rows, again)


def test_a_target_is_in_every_training_condition_and_drawn_as_in_the_data():
    df = mixed_frame(1000)
    transformer = TableTransformer.fit(df, target="tier")
    data = tabular_data(transformer, df)
    rows, cond = data.sample(4000, torch.Generator().manual_seed(0))
    positions = torch.tensor(transformer.cond_positions)
    tier = [transformer.condition_slot("tier", t) for t in ("gold", "silver")]
    # The drawn value plus the row's own tier (one slot when the drawn column is tier itself).
    assert cond[:, tier].sum(dim=1).eq(1).all() and cond.sum(dim=1).le(2).all()
    assert (rows[:, positions] * cond).sum(dim=1).eq(cond.sum(dim=1)).all()
    # Sampling: the tier is drawn given the other slot with the data's pair frequencies.
    sampler = transformer.condition_sampler()
    pune = transformer.condition_slot("city", "Pune")
    drawn = sampler.draw_target(torch.full((20000,), pune), torch.Generator().manual_seed(1))
    gold = float((drawn == tier[0]).float().mean())
    assert gold == pytest.approx((df.loc[df["city"] == "Pune", "tier"] == "gold").mean(), abs=0.02)
    assert torch.equal(
        sampler.draw_target(torch.tensor(tier), torch.Generator()), torch.tensor(tier)
    )
    restored = TableTransformer.from_json(json.loads(json.dumps(transformer.to_json())))
    assert restored.target_counts == transformer.target_counts and restored.target == "tier"


@pytest.mark.parametrize(
    ("target", "message"),
    [("nope", "model target 'nope' is not a column"), ("income", "'income' is continuous")],
)
def test_a_target_must_be_a_discrete_column(target, message):
    with pytest.raises(GankitError, match=message):
        TableTransformer.fit(mixed_frame(), target=target)


def test_tampered_target_counts_are_refused_by_name():
    state = TableTransformer.fit(mixed_frame(), target="tier").to_json()
    state["target_counts"] = state["target_counts"][:-1]
    with pytest.raises(GankitError, match="target counts must be"):
        TableTransformer.from_json(state)
    state = TableTransformer.fit(mixed_frame(), target="tier").to_json()
    state["target"] = "income"
    with pytest.raises(GankitError, match="target 'income' is not a discrete column"):
        TableTransformer.from_json(state)


def test_condition_modes_lift_rare_modes_of_numeric_columns():
    rng = np.random.default_rng(0)
    # 2 % of the rows have a large gain: a mode of its own, rare like a rare category.
    gain = np.where(rng.random(3000) < 0.98, 0.0, rng.normal(99_000, 500, 3000))
    df = pd.DataFrame({"gain": gain, "group": rng.choice(["a", "b"], 3000)})
    plain = TableTransformer.fit(df)
    modes = TableTransformer.fit(df, condition_modes=True)
    assert plain.cond_dim == 2 and modes.cond_dim == 2 + modes.column_spans[0][1].size
    # Users still condition on discrete columns only, at the slot the mode spans shift.
    assert modes.condition_slot("group", "b") == modes.cond_dim - 1
    with pytest.raises(GankitError, match="only discrete columns"):
        modes.condition_slot("gain", 0.0)
    data = tabular_data(modes, df)
    rows, cond = data.sample(6000, torch.Generator().manual_seed(0))
    positions = torch.tensor(modes.cond_positions)
    assert (rows[:, positions] * cond).sum(dim=1).eq(1).all()  # every row has its condition
    big = torch.from_numpy(modes.inverse_transform(rows.numpy())["gain"].to_numpy() > 50_000)
    assert float(big.float().mean()) > 0.1  # 2 % of the data, lifted by log-frequency sampling
    restored = TableTransformer.from_json(json.loads(json.dumps(modes.to_json())))
    assert restored.cond_positions == modes.cond_positions and restored.condition_modes


YEARS = {"years": "integer"}


def _levels(rng: np.random.Generator, rows: int = 200) -> pd.DataFrame:
    """``level`` (categorical) fixes ``years``; ``score`` varies within each level."""
    level = rng.choice(["primary", "school", "college"], rows)
    years = pd.Series(level).map({"primary": 6, "school": 12, "college": 16}).to_numpy()
    return pd.DataFrame({"years": years, "level": level, "score": rng.normal(size=rows)})


def test_a_column_fixed_by_a_discrete_one_is_looked_up_not_modelled(tmp_path):
    df = _levels(np.random.default_rng(0))
    # years has 3 values, which would make it a category: declared integer, it is a number.
    transformer = TableTransformer.fit(df, metadata=YEARS)
    alone = TableTransformer.fit(df.drop(columns="years"))
    assert transformer.output_dim == alone.output_dim  # years has no span of its own
    # Whatever level G makes, years is the real one for it: decode random one-hots.
    rows = np.random.default_rng(1).random((50, transformer.output_dim)).astype(np.float32)
    decoded = transformer.inverse_transform(rows)
    expected = decoded["level"].map({"primary": 6, "school": 12, "college": 16})
    assert decoded["years"].tolist() == expected.tolist() and decoded["years"].dtype == np.int64
    assert list(decoded.columns) == ["years", "level", "score"]
    back = transformer.inverse_transform(transformer.transform(df))
    pd.testing.assert_series_equal(back["years"], df["years"])
    # The dependency is part of the fitted state.
    path = tmp_path / "transformer.json"
    path.write_text(json.dumps(transformer.to_json()))
    loaded = TableTransformer.from_json(json.loads(path.read_text()))
    pd.testing.assert_frame_equal(loaded.inverse_transform(rows), decoded)


def test_a_dependency_that_does_not_hold_or_is_too_rare_is_left_alone():
    df = _levels(np.random.default_rng(0))
    broken = df.copy()
    broken.loc[0, "years"] = 7  # one row breaks it
    rare = df.copy()
    rare.loc[0, "level"] = "phd"  # a level seen once "fixes" years by chance only
    for frame in (broken, rare):
        transformer = TableTransformer.fit(frame, metadata=YEARS)
        assert transformer.output_dim > TableTransformer.fit(frame.drop(columns="years")).output_dim
        back = transformer.inverse_transform(transformer.transform(frame))
        pd.testing.assert_series_equal(back["years"], frame["years"])
