"""DP-SGD: the accountant against Opacus' own, refusals, and a private TabularGAN end to end."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from gankit import GankitError, TabularGAN, load
from gankit.data.tabular.private import TablePrivacy, dp_quantile, fit_private
from gankit.data.toy import toy_mixture
from gankit.nn import build_gan
from gankit.train import TrainConfig, Trainer
from gankit.train.privacy import DPSGD

pytest.importorskip("opacus")

TINY_MODEL = {"g_hidden": [32], "d_hidden": [32], "latent_dim": 16}
TINY = {"steps": 4, "batch_size": 50, "log_every": 2, "sample_every": 2, "checkpoint_every": 2}


def table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    job = rng.choice(["clerk", "nurse", "pilot"], n, p=[0.5, 0.4, 0.1]).astype(object)
    job[0] = "astronaut"  # one row: must not be released
    return pd.DataFrame({"age": rng.integers(18, 80, n), "pay": rng.lognormal(8, 1, n), "job": job})


def test_accountant_epsilon_matches_opacus_stepping_its_own_accountant():
    from opacus.accountants import RDPAccountant

    dp = DPSGD(epsilon=2.0, delta=1e-5, sample_rate=0.02, updates=300)
    accountant = RDPAccountant()
    for _ in range(300):
        accountant.step(noise_multiplier=dp.noise_multiplier, sample_rate=0.02)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = accountant.get_epsilon(1e-5)
    assert dp.spent(300) == pytest.approx(reference, rel=1e-9)
    assert 1.95 < dp.spent(300) <= 2.0  # calibrated to the target, not above it
    assert dp.spent(150) < dp.spent(300) and dp.spent(0) == 0.0


def test_trainer_refuses_batchnorm_and_input_gradient_penalties():
    data = toy_mixture("ring", n=200, seed=0)
    dp = DPSGD(3.0, 1e-5, 0.1, 10)
    G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": 8})
    with_bn = nn.Sequential(nn.Linear(2, 4), nn.BatchNorm1d(4), nn.Linear(4, 1))
    with pytest.raises(GankitError, match="BatchNorm"):
        Trainer(G, with_bn, data, TrainConfig(steps=2, batch_size=20), privacy=dp)
    with pytest.raises(GankitError, match="r1_gamma"):
        Trainer(G, D, data, TrainConfig(steps=2, batch_size=20, r1_gamma=1.0), privacy=dp)
    with pytest.raises(GankitError, match="rpgan"):
        Trainer(G, D, data, TrainConfig(steps=2, batch_size=20, loss="rpgan"), privacy=dp)


def test_private_trainer_learns_the_ring_scale_and_counts_every_update():
    torch.manual_seed(0)
    G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": 32})
    data = toy_mixture("ring", n=2000, seed=0)
    config = TrainConfig(steps=150, batch_size=100, health=False, lr_g=1e-3, lr_d=1e-3)
    dp = DPSGD(8.0, 1e-5, 100 / 2000, 150)
    trainer = Trainer(G, D, data, config, privacy=dp)
    trainer.fit()
    assert trainer.d_updates == 150 and dp.spent(150) <= 8.0
    with torch.no_grad():
        fake = trainer.G(torch.randn(500, G.latent_dim))
    radius = fake.norm(dim=1).mean().item()
    real_radius = data.batch(torch.arange(500)).norm(dim=1).mean().item()
    assert abs(radius - real_radius) < 0.5 * real_radius  # from ~0 at init towards the ring


def test_private_preprocessing_hides_a_one_row_category_and_uses_bounds():
    frame = table(3000)
    fitted = fit_private(frame, TablePrivacy(epsilon=3.0, bounds={"age": (0, 100)}))
    specs = {spec.name: spec for spec in fitted.transformer.columns}
    assert "astronaut" not in specs["job"].categories
    assert (specs["age"].minimum, specs["age"].maximum) == (0.0, 100.0)
    assert fitted.budget["queries"]["dp_quantiles"] == ["pay"]  # no bounds given: DP quantiles
    assert fitted.budget["preprocess_epsilon"] == pytest.approx(0.3)
    assert set(specs["job"].categories) == {"clerk", "nurse", "pilot"}
    prepared = fitted.prepare(frame)
    assert "astronaut" not in set(prepared["job"])
    x = np.random.default_rng(0).normal(size=5000)
    assert abs(dp_quantile(x, 0.5, 2.0, -10, 10, np.random.default_rng(1))) < 0.2


def test_private_tabular_gan_records_epsilon_and_round_trips(tmp_path):
    frame = table(3000)
    privacy = {"epsilon": 3, "delta": 1e-6, "bounds": {"age": [18, 80], "pay": [0, 1e5]}}
    gan = TabularGAN(privacy=privacy, model=TINY_MODEL, **TINY)
    assert gan.preset.name == "dp"
    gan.fit(frame, out=tmp_path / "run", quiet=True)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    spent = config["data"]["privacy"]["dp_sgd"]
    budget = config["data"]["privacy"]
    assert spent["d_updates"] == 4 and 0 < spent["epsilon_spent"] <= budget["dp_sgd_epsilon"]
    assert budget["preprocess_epsilon"] + budget["dp_sgd_epsilon"] == pytest.approx(3.0)
    assert "privacy_budget" in json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "dp_sgd" in (tmp_path / "run" / "report.md").read_text()
    rows = gan.generate(50, seed=0)
    assert list(rows.columns) == ["age", "pay", "job"] and rows["age"].between(18, 80).all()
    loaded = load(tmp_path / "run")
    assert loaded.privacy is not None and loaded.generate(50, seed=0).equals(rows)
    with pytest.raises(GankitError, match="calibrated for 4 D updates; continuing to 8"):
        loaded.fit(frame, out=tmp_path / "run", resume=True, steps=8, quiet=True)


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"model": {"target": "job"}}, "model.target"),
        ({"model": {"pack": 10}}, "model.pack"),
        ({"preset": "default"}, "r1_gamma|shared_rows"),
        ({"health": True}, "health"),
    ],
)
def test_private_tabular_gan_refuses_options_that_read_data_without_budget(options, named):
    with pytest.raises(GankitError, match=named):
        gan = TabularGAN(privacy={"epsilon": 1}, **{"steps": 2, "batch_size": 50, **options})
        gan.fit(table(), quiet=True)


def test_cli_trains_a_private_table_and_records_epsilon(tmp_path):
    from gankit.cli import main

    table(3000).to_csv(tmp_path / "t.csv", index=False)
    privacy = json.dumps({"epsilon": 2, "bounds": {"age": [18, 80], "pay": [0, 1e5]}})
    out = tmp_path / "run"
    argv = ["train", "--task", "tabular", "--data", str(tmp_path / "t.csv"), "--out", str(out)]
    argv += ["--privacy", privacy, "--steps", "2", "--batch-size", "50", "--quiet"]
    argv += ["--set", "model.g_hidden=[16]", "--set", "model.d_hidden=[16]"]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["preset"] == "dp" and config["data"]["privacy"]["epsilon"] == 2
    assert config["data"]["privacy"]["dp_sgd"]["epsilon_spent"] <= 2


def test_cli_trains_private_images_and_reports_epsilon(tmp_path):
    from gankit.cli import main

    out = tmp_path / "run"
    argv = ["train", "--data", "digits", "--resolution", "16", "--privacy", "10", "--steps", "2"]
    argv += ["--out", str(out), "--quiet", "--set", "model.g_width=8", "--set", "model.d_width=8"]
    assert main(argv) == 0
    config = json.loads((out / "config.json").read_text())
    assert config["preset"] == "dp" and config["data"]["privacy"]["delta"] == 1e-5
    assert 0 < config["data"]["privacy"]["dp_sgd"]["epsilon_spent"] <= 10
    assert "## privacy_budget" in (out / "report.md").read_text()


def test_private_image_gan_trains_d_by_dp_sgd_with_public_labels():
    from gankit import ImageGAN

    tiny = {"g_width": 8, "d_width": 8}
    gan = ImageGAN(resolution=16, privacy={"epsilon": 10}, conditional=True, model=tiny)
    gan.fit("digits", steps=2, quiet=True)
    assert gan.preset.name == "dp" and gan.model_config["d_batchnorm"] is False
    spent = gan.data_info["privacy"]["dp_sgd"]
    assert spent["d_updates"] == 2 and 0 < spent["epsilon_spent"] <= 10
    assert gan.generate(3, seed=0, condition=7).shape == (3, 1, 16, 16)
    with pytest.raises(GankitError, match="minibatch_std"):
        ImageGAN("default", privacy={"epsilon": 1})
    with pytest.raises(GankitError, match="epsilon"):
        ImageGAN(privacy={"epsilon": 1, "eps": 2})


def test_a_private_d_update_judges_batch_size_fakes_whatever_the_poisson_draw():
    # One added real sample may add its own clipped gradient only: were the fakes as many as the
    # drawn reals, it would add a fake's too (sensitivity 2C against noise calibrated for C).
    torch.manual_seed(0)
    G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": 8})
    seen = []
    D.register_forward_pre_hook(lambda module, args: seen.append(len(args[0])))
    data = toy_mixture("ring", n=200, seed=0)
    config = TrainConfig(steps=6, batch_size=20, health=False)
    trainer = Trainer(G, D, data, config, privacy=DPSGD(8.0, 1e-5, 20 / 200, 6))
    reals = []
    draw = trainer.data.sample
    trainer.data.sample = lambda n, generator: reals.append(draw(n, generator)) or reals[-1]
    trainer.fit()
    assert len(set(map(len, reals))) > 1  # Poisson batches vary in size
    assert seen[0::2] == [len(batch) + 20 for batch in reals]  # D updates: reals + 20 fakes
    assert seen[1::2] == [20] * 6  # G updates
