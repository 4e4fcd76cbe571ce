"""The training engine: resume bit for bit, checkpoints, signals, every loss and regularizer."""

import os
import signal

import pytest
import torch

from gankit.errors import GankitError
from gankit.losses import LOSSES
from gankit.nn import build_gan
from gankit.train import Callback, TrainConfig, Trainer, TrainingInterrupted, state_tensors
from gankit.train.state import LATEST, STATE_DIR, latest_checkpoint

TINY_DCGAN = {"resolution": 16, "channels": 1, "latent_dim": 8, "g_width": 8, "d_width": 8}


def make_trainer(data, run_dir=None, arch="dcgan", model=TINY_DCGAN, **train):
    torch.manual_seed(0)
    G, D, _ = build_gan(arch, model)
    options = {"steps": 8, "batch_size": 16, "log_every": 2, "checkpoint_every": 4, **train}
    return Trainer(G, D, data, TrainConfig(**options), run_dir=run_dir)


def assert_same_state(a, b):
    left, right = state_tensors(a), state_tensors(b)
    assert left.keys() == right.keys()
    unequal = [k for k in left if not torch.equal(left[k], right[k])]
    assert unequal == [], f"{len(unequal)} tensors differ, e.g. {unequal[:3]}"


# Batch norm, minibatch-std, lazy R1 + R2, EMA, augmentation (global RNG), accumulation, n_critic.
HARD_CONFIG = {
    "r1_gamma": 1.0,
    "r2_gamma": 0.5,
    "reg_interval": 3,
    "augment": "translation,cutout",
    "n_critic": 2,
    "accum_steps": 2,
}


def test_resume_continues_bit_for_bit(digits16, tmp_path):
    straight = make_trainer(digits16, tmp_path / "a", steps=8, **HARD_CONFIG)
    straight.fit()
    first_half = make_trainer(digits16, tmp_path / "b", steps=4, **HARD_CONFIG)
    first_half.fit()
    torch.manual_seed(123)  # scramble the global RNG: resume must restore it
    resumed = make_trainer(digits16, tmp_path / "b", steps=8, **HARD_CONFIG)
    assert resumed.resume()
    assert resumed.step == 4
    resumed.fit()
    assert_same_state(straight, resumed)


def test_resume_with_gradient_penalty_and_toy_data(ring, tmp_path):
    options = {"loss": "wasserstein", "gp_weight": 10.0, "steps": 6, "checkpoint_every": 3}
    model = {"data_dim": 2, "hidden": 32}
    straight = make_trainer(ring, tmp_path / "a", arch="mlp", model=model, **options)
    straight.fit()
    half = make_trainer(ring, tmp_path / "b", arch="mlp", model=model, **{**options, "steps": 3})
    half.fit()
    resumed = make_trainer(ring, tmp_path / "b", arch="mlp", model=model, **options)
    resumed.resume()
    resumed.fit()
    assert_same_state(straight, resumed)


def test_checkpoints_keep_newest_and_latest_points_to_complete_dir(digits16, tmp_path):
    trainer = make_trainer(digits16, tmp_path, steps=10, checkpoint_every=2, keep_checkpoints=2)
    trainer.fit()
    root = tmp_path / STATE_DIR
    assert sorted(p.name for p in root.glob("step-*")) == ["step-000008", "step-000010"]
    assert (root / LATEST).read_text().strip() == "step-000010"
    assert latest_checkpoint(tmp_path) == root / "step-000010"
    assert not list(root.glob(".*tmp"))  # no temporary directories left behind


def test_latest_pointing_to_missing_dir_is_a_clear_error(digits16, tmp_path):
    make_trainer(digits16, tmp_path, steps=4).fit()
    (tmp_path / STATE_DIR / LATEST).write_text("step-999999\n")
    with pytest.raises(GankitError, match="step-999999"):
        make_trainer(digits16, tmp_path).resume()


def test_checkpoint_of_other_architecture_is_refused(digits16, tmp_path):
    make_trainer(digits16, tmp_path, steps=4).fit()
    other = make_trainer(digits16, tmp_path, model={**TINY_DCGAN, "g_width": 16})
    with pytest.raises(GankitError, match="shape"):
        other.resume()


class _SignalAt(Callback):
    def __init__(self, step, signum):
        self.step, self.signum = step, signum

    def on_step_end(self, trainer):
        if trainer.step == self.step:
            os.kill(os.getpid(), self.signum)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_cleanly_with_a_checkpoint(digits16, tmp_path, signum):
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    trainer = make_trainer(digits16, tmp_path, steps=50, checkpoint_every=100)
    trainer.callbacks.append(_SignalAt(3, signum))
    with pytest.raises(TrainingInterrupted, match="gankit resume"):
        trainer.fit()
    assert trainer.step == 3
    assert latest_checkpoint(tmp_path).name == "step-000003"
    assert {sig: signal.getsignal(sig) for sig in before} == before  # handlers restored


def test_own_signal_after_another_ranks_stop_is_not_a_second_ctrl_c(digits16, tmp_path):
    # Distributed, the agreement stops this rank for another rank's Ctrl-C; torchrun's copy of
    # the signal for this rank may arrive only while it saves the final checkpoint.
    trainer = make_trainer(digits16, tmp_path, steps=50, checkpoint_every=100)
    save = trainer.save_checkpoint

    class AgreedStopAt(Callback):
        def on_step_end(self, trainer):
            if trainer.step == 3:
                trainer._stop_requested = True  # what _agree_on_stops sets

    def signalled_while_saving():
        os.kill(os.getpid(), signal.SIGINT)
        return save()

    trainer.callbacks.append(AgreedStopAt())
    trainer.save_checkpoint = signalled_while_saving
    with pytest.raises(TrainingInterrupted, match="gankit resume"):
        trainer.fit()
    assert latest_checkpoint(tmp_path).name == "step-000003"


def test_ignored_sigint_stays_ignored(digits16, tmp_path):
    live = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        trainer = make_trainer(digits16, tmp_path, steps=6, checkpoint_every=100)
        trainer.callbacks.append(_SignalAt(3, signal.SIGINT))
        trainer.fit()  # runs to the end: the parent asked for this process to ignore Ctrl-C
        assert trainer.step == 6
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, live)


def test_interrupt_on_a_checkpoint_step_saves_once(digits16, tmp_path, monkeypatch):
    import gankit.train.engine as engine

    saved = []
    write = engine.write_checkpoint
    monkeypatch.setattr(engine, "write_checkpoint", lambda *a: saved.append(a[1]) or write(*a))
    trainer = make_trainer(digits16, tmp_path, steps=50, checkpoint_every=4)
    trainer.callbacks.append(_SignalAt(4, signal.SIGINT))
    with pytest.raises(TrainingInterrupted):
        trainer.fit()
    assert saved == [4]


@pytest.mark.parametrize("loss", sorted(LOSSES))
def test_every_loss_trains_a_step(digits16, loss):
    trainer = make_trainer(digits16, steps=2, loss=loss)
    before = [p.clone() for p in trainer.G.parameters()]
    trainer.fit()
    assert any(not torch.equal(a, b) for a, b in zip(before, trainer.G.parameters(), strict=True))


def test_ema_lags_behind_generator(digits16):
    trainer = make_trainer(digits16, steps=30, ema_beta=0.99, ema_warmup=1)
    trainer.fit()
    g = torch.cat([p.flatten() for p in trainer.G.parameters()])
    ema = torch.cat([p.flatten() for p in trainer.G_ema.parameters()])
    assert not torch.equal(g, ema)
    no_ema = make_trainer(digits16, steps=3, ema_beta=0.0)
    no_ema.fit()
    for p, q in zip(no_ema.G.parameters(), no_ema.G_ema.parameters(), strict=True):
        assert torch.equal(p, q)


def test_diverging_loss_is_reported_with_advice(digits16):
    trainer = make_trainer(digits16, steps=3)
    with torch.no_grad():
        next(trainer.D.parameters()).fill_(float("nan"))
    with pytest.raises(GankitError, match="diverged"):
        trainer.fit()


def test_dataset_smaller_than_batch_is_refused(ring):
    from gankit.data.toy import toy_mixture

    with pytest.raises(GankitError, match="batch_size"):
        make_trainer(toy_mixture("ring", n=8), arch="mlp", model={"data_dim": 2}, batch_size=16)


def test_fp16_on_cpu_is_refused(digits16):
    with pytest.raises(GankitError, match="fp16"):
        make_trainer(digits16, precision="fp16", device="cpu")


@pytest.mark.parametrize(
    "bad",
    [
        {"steps": 0},
        {"lr_g": -1.0},
        {"lr_d": float("nan")},
        {"batch_size": 2.5},
        {"betas": (0.5, 1.5)},
        {"precision": "fp8"},
    ],
)
def test_invalid_options_are_refused(bad):
    with pytest.raises(GankitError):
        TrainConfig(**bad)


def test_same_seed_same_weights_other_seed_other_weights(digits16):
    def weights(seed):
        torch.manual_seed(seed)  # model init follows the seed too (tasks seed before building)
        G, D, _ = build_gan("dcgan", TINY_DCGAN)
        trainer = Trainer(G, D, digits16, TrainConfig(steps=3, batch_size=16, seed=seed))
        trainer.fit()
        return torch.cat([p.flatten() for p in trainer.G.parameters()])

    assert torch.equal(weights(1), weights(1))
    assert not torch.equal(weights(1), weights(2))


def test_time_budget_ends_training_early_as_a_normal_end(digits16, tmp_path):
    trainer = make_trainer(digits16, tmp_path, steps=10_000)
    trainer.fit(max_seconds=0.5)
    assert 0 < trainer.step < 10_000
    assert latest_checkpoint(tmp_path).name == f"step-{trainer.step:06d}"


def test_stats_are_logged_as_averages(digits16, tmp_path):
    from gankit.train import JsonlStats

    trainer = make_trainer(digits16, tmp_path, steps=4, log_every=2)
    trainer.callbacks.append(JsonlStats(tmp_path / "stats.jsonl"))
    per_step, train_step = [], trainer.train_step

    def recording_step():
        stats = train_step()
        per_step.append({k: float(v) for k, v in stats.items()})
        return stats

    trainer.train_step = recording_step
    trainer.fit()
    import json

    records = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [2, 4]
    assert {"d_loss", "g_loss", "d_acc_real", "d_acc_fake", "img_per_s"} <= records[0].keys()
    for record, steps in zip(records, (per_step[0:2], per_step[2:4]), strict=True):
        for key in ("d_loss", "g_loss", "d_acc_real"):
            assert record[key] == pytest.approx((steps[0][key] + steps[1][key]) / 2, rel=1e-6)
        assert record["d_loss"] != pytest.approx(steps[1]["d_loss"], rel=1e-6)  # not the last
