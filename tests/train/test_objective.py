"""The Objective hook: task terms reach the losses, pre-training skips D, state survives resume;
objectives see the game through Players; D's logged stats average its n_critic updates."""

import dataclasses

import pytest
import torch
from test_engine import TINY_DCGAN, assert_same_state

from gankit.nn import build_gan
from gankit.train import Callback, Objective, TrainConfig, Trainer
from gankit.train.objective import Players


class Recorder(Callback):
    def __init__(self):
        self.records = []

    def on_log(self, trainer, record):
        self.records.append(record)


class Brighten(Objective):
    """Pixel-only pre-training for ``warmup`` steps, then adversarial; a G term and a D term."""

    def __init__(self, warmup=0, d_weight=0.0):
        self.warmup, self.d_weight = warmup, d_weight

    def g_terms(self, players, real, fake, cond):
        return {"bright": (fake - 1.0).abs().mean()}

    def d_terms(self, players, real, fake, cond):
        return {"extra": self.d_weight * players.D(real).pow(2).mean()} if self.d_weight else {}

    def adversarial_weight(self, step):
        return 0.0 if step < self.warmup else 1.0


class HistoryPool(Objective):
    """A fixed-size pool of past fakes drawn with the global RNG, like CycleGAN's image pool."""

    def __init__(self, size=8):
        self.pool = torch.zeros(size, 1, 16, 16)
        self.filled = torch.zeros((), dtype=torch.long)

    def fake_for_d(self, players, fake):
        n = min(int(self.filled), len(fake))
        mixed = fake.clone()
        if n:
            picks = torch.randint(int(self.filled), (n,))
            mixed[:n] = self.pool[picks]
        keep = min(len(self.pool), len(fake))
        self.pool[:keep] = fake[:keep].detach()
        self.filled = torch.tensor(keep)
        return mixed

    def state_tensors(self):
        return {"pool": self.pool, "filled": self.filled}

    def load_state_tensors(self, tensors):
        self.pool, self.filled = tensors["pool"].clone(), tensors["filled"].clone()


def make(data, objective, run_dir=None, callbacks=(), **train):
    torch.manual_seed(0)
    G, D, _ = build_gan("dcgan", TINY_DCGAN)
    options = {"steps": 6, "batch_size": 16, "log_every": 1, "checkpoint_every": 3, **train}
    return Trainer(
        G,
        D,
        data,
        TrainConfig(**options),
        run_dir=run_dir,
        callbacks=callbacks,
        objective=objective,
    )


def test_pretraining_phase_leaves_d_alone_and_logs_the_g_term(digits16):
    recorder = Recorder()
    trainer = make(digits16, Brighten(warmup=4), callbacks=[recorder])
    d_before = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    trainer.fit()
    pretrain, adversarial = recorder.records[:4], recorder.records[4:]
    assert all("g_bright" in r and "d_loss" not in r and "g_loss" not in r for r in pretrain)
    assert all("d_loss" in r and "g_loss" in r and "g_bright" in r for r in adversarial)
    # Pixel pre-training alone moves G towards its target.
    assert pretrain[-1]["g_bright"] < pretrain[0]["g_bright"]
    changed = [k for k, v in trainer.D.state_dict().items() if not torch.equal(v, d_before[k])]
    assert changed, "D trains once the adversarial phase starts"


def test_d_stays_frozen_while_adversarial_weight_is_zero(digits16):
    trainer = make(digits16, Brighten(warmup=100), steps=3)
    d_before = {k: v.clone() for k, v in trainer.D.state_dict().items()}
    trainer.fit()
    assert all(torch.equal(v, d_before[k]) for k, v in trainer.D.state_dict().items())
    assert trainer.d_updates == 0


def test_d_terms_are_added_and_logged(digits16):
    plain, extra = Recorder(), Recorder()
    make(digits16, Brighten(), callbacks=[plain], steps=2).fit()
    make(digits16, Brighten(d_weight=10.0), callbacks=[extra], steps=2).fit()
    assert "d_extra" in extra.records[0] and "d_extra" not in plain.records[0]
    assert extra.records[0]["d_extra"] > 0


def test_objective_state_is_checkpointed_and_resumes_bit_for_bit(digits16, tmp_path):
    straight = make(digits16, HistoryPool(), tmp_path / "a")
    straight.fit()
    half = make(digits16, HistoryPool(), tmp_path / "b", steps=3)
    half.fit()
    assert (tmp_path / "b" / "train_state" / "step-000003" / "objective.safetensors").is_file()
    torch.manual_seed(99)
    resumed = make(digits16, HistoryPool(), tmp_path / "b")
    assert resumed.resume()
    assert int(resumed.objective.filled) > 0
    resumed.fit()
    assert_same_state(straight, resumed)
    assert torch.equal(straight.objective.pool, resumed.objective.pool)


def test_stats_that_appear_mid_interval_are_averaged_over_their_own_steps(digits16):
    # Pre-training ends after step 3 of a 4-step log interval: d_loss exists on one step only
    # and must be that step's value, not a quarter of it.
    every_step, interval = Recorder(), Recorder()
    make(digits16, Brighten(warmup=3), callbacks=[every_step], steps=4, log_every=1).fit()
    make(digits16, Brighten(warmup=3), callbacks=[interval], steps=4, log_every=4).fit()
    assert interval.records[0]["d_loss"] == pytest.approx(every_step.records[3]["d_loss"])
    bright = [r["g_bright"] for r in every_step.records]
    assert interval.records[0]["g_bright"] == pytest.approx(sum(bright) / 4)


class SeesPlayers(Objective):
    """Records the view each call gets."""

    def __init__(self):
        self.seen = []

    def g_terms(self, players, real, fake, cond):
        self.seen.append(players)
        return {}

    def d_terms(self, players, real, fake, cond):
        self.seen.append(players)
        return {}


def test_objectives_get_a_frozen_view_of_the_step_not_the_trainer(digits16):
    objective = SeesPlayers()
    trainer = make(digits16, objective, steps=2, n_critic=2)
    trainer.fit()
    assert [players.step for players in objective.seen] == [0, 0, 0, 1, 1, 1]  # 2 D + 1 G a step
    players = objective.seen[-1]
    assert isinstance(players, Players) and not isinstance(players, Trainer)
    assert players.G is trainer.G and players.D is trainer.D and players.loss is trainer.loss
    with pytest.raises(dataclasses.FrozenInstanceError):
        players.step = 5


def test_logged_d_stats_are_the_mean_of_the_n_critic_updates(digits16, monkeypatch):
    updates, recorder = [], Recorder()
    trainer = make(digits16, Objective(), callbacks=[recorder], steps=2, n_critic=2)
    d_update = trainer._d_update

    def recorded(players):
        stats = d_update(players)
        updates.append(stats)
        return stats

    monkeypatch.setattr(trainer, "_d_update", recorded)
    trainer.fit()
    assert len(updates) == 4 and len(recorder.records) == 2
    for step, record in enumerate(recorder.records):
        first, second = updates[2 * step : 2 * step + 2]
        assert first["d_loss"] != second["d_loss"]
        for name in ("d_loss", "d_acc_real", "d_grad_norm"):
            mean = (first[name] + second[name]) / 2
            assert record[name] == pytest.approx(float(mean), rel=1e-6)
