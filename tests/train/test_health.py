"""Health monitor alarms, NaN/Inf rollback and adaptive augmentation, on tiny real runs."""

import json
import math
from dataclasses import replace

import pytest
import torch

from gankit.errors import GankitError
from gankit.io import read_json
from gankit.nn import build_gan
from gankit.train import Callback, JsonlStats, TrainConfig, Trainer, state_tensors
from gankit.train.engine import TrainingDiverged
from gankit.train.health import ALARMS, HealthConfig, HealthMonitor, coverage, parse_stop
from gankit.train.state import latest_checkpoint, read_checkpoint

# Alarm windows shrunk to the length of a test run; the logic is the default one.
FAST = HealthConfig(warmup_steps=50, d_win_steps=100, collapse_steps=200)


def toy_trainer(ring, run_dir=None, callbacks=(), hidden=32, **train):
    torch.manual_seed(0)
    G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": hidden})
    options = {"steps": 300, "batch_size": 64, "log_every": 25, "checkpoint_every": 100, **train}
    return Trainer(G, D, ring, TrainConfig(**options), run_dir=run_dir, callbacks=callbacks)


def fired(ring, config=FAST, **train):
    monitor = HealthMonitor(config, echo=False)
    toy_trainer(ring, callbacks=[monitor], **train).fit()
    return monitor.fired


# --------------------------------------------------------------------- alarms


def test_d_winning_fires_when_d_overpowers_a_frozen_generator(ring):
    assert "d_winning" in fired(ring, steps=200, lr_g=1e-6, lr_d=1e-2, ema_beta=0.0)


def test_mode_collapse_fires_when_g_outruns_d(ring):
    # lr_g 50x lr_d: G jumps to whatever point D currently likes best, a textbook collapse.
    assert "mode_collapse" in fired(ring, lr_g=5e-3, lr_d=1e-4, ema_beta=0.0)


def test_healthy_run_stays_quiet(ring):
    # The toy-mlp recipe (R1, TTUR-free Adam 1e-3) on the ring trains without incident; it
    # reaches all 8 modes by step 250, where the mode-dropping check starts here.
    alarms = fired(
        ring, HealthConfig(mode_warmup_steps=250), steps=500, hidden=64, batch_size=128,
        lr_g=1e-3, lr_d=1e-3, betas=(0.5, 0.99), r1_gamma=0.1, log_every=50,
    )  # fmt: skip
    assert alarms == {}


def test_mode_dropping_catches_a_partial_drop_that_diversity_misses(ring):
    # Plain NS GAN at a constant lr, no R1, no EMA: G spreads over the ring but lands on only 2-4
    # of its 8 modes. Its diversity recovers to ~0.8 of the data's, so mode_collapse goes quiet.
    monitor = HealthMonitor(replace(FAST, mode_warmup_steps=200), echo=False)
    records = []
    spy = type("Spy", (Callback,), {"on_log": lambda s, t, r: records.append(dict(r))})()
    toy_trainer(ring, callbacks=[monitor, spy], ema_beta=0.0).fit()
    last = records[-1]
    assert last["diversity"] > 0.5 and "mode_collapse" not in last.get("alarms", {})
    assert (
        last["modes_hit"] <= 4
        and "of the 8 modes that as many real samples land on" in (last["alarms"]["mode_dropping"])
    )
    assert 0 < last["mode_entropy"] < 1 and last["modes_real"] == 8


def test_mode_probe_counts_modes_with_a_given_labeller_and_judges_coverage():
    from gankit.train.health import _mode_histogram

    hit, entropy = _mode_histogram(torch.tensor([0, 0, 1, 1, -1]))
    assert hit == 2 and entropy == pytest.approx(math.log(2))
    assert _mode_histogram(torch.tensor([-1, -1])) == (0, 0.0)
    # One record is enough here (mode_drop_records=1): this test is about the coverage threshold.
    monitor = HealthMonitor(HealthConfig(mode_warmup_steps=100, mode_drop_records=1), echo=False)
    probe = {"modes_real": 25}
    early = {"step": 50, "modes_hit": 10, "mode_coverage": 0.4, **probe}
    assert "mode_dropping" not in monitor.judge(early)  # still finding the modes
    fine = {"step": 150, "modes_hit": 23, "mode_coverage": 0.92, **probe}
    assert "mode_dropping" not in monitor.judge(fine)
    dropped = {"step": 200, "modes_hit": 22, "mode_coverage": 0.88, **probe}
    message = monitor.judge(dropped)["mode_dropping"]
    assert message.startswith("G's probe samples land on 22 of the 25 modes")
    with pytest.raises(GankitError, match="mode_drop must be in"):
        HealthConfig(mode_drop=1.0)


def test_mode_dropping_ignores_a_one_record_dip_and_fires_on_a_sustained_drop():
    monitor = HealthMonitor(HealthConfig(mode_warmup_steps=100), echo=False)
    full = {"modes_hit": 8, "modes_real": 8, "mode_coverage": 1.0}
    dip = {"modes_hit": 7, "modes_real": 8, "mode_coverage": 0.875}
    records = [full, dip, full, dip, dip, dip, full]
    judged = [monitor.judge({"step": 100 * (i + 1), **r}) for i, r in enumerate(records)]
    dropping = ["mode_dropping" in alarms for alarms in judged]
    # The lone dip at step 200 stays quiet; the drop from step 400 fires from its 2nd record on.
    assert dropping == [False, False, False, False, True, True, False]
    assert monitor.fired == {"mode_dropping": 1}
    # A dip whose first record falls in the warm-up does not count towards the streak.
    late = HealthMonitor(HealthConfig(mode_warmup_steps=200), echo=False)
    assert not late.judge({"step": 100, **dip}) and not late.judge({"step": 200, **dip})
    assert "mode_dropping" in late.judge({"step": 300, **dip})
    three = HealthMonitor(HealthConfig(mode_warmup_steps=0, mode_drop_records=3), echo=False)
    assert [bool(three.judge({"step": s, **dip})) for s in (1, 2, 3)] == [False, False, True]
    with pytest.raises(GankitError, match="mode_drop_records .* cannot exceed history"):
        HealthConfig(mode_drop_records=30)
    for bad in (0, 1.5, True):  # a fraction would reach a slice as a bare TypeError
        with pytest.raises(GankitError, match="mode_drop_records must be an integer >= 1"):
            HealthConfig(mode_drop_records=bad)


def _monitor_with_history(values):
    monitor = HealthMonitor(echo=False)
    monitor.history = [{"step": 50 * (i + 1), **v} for i, v in enumerate(values)]
    return monitor


def test_grad_explosion_and_loss_divergence_compare_with_recent_medians():
    calm = [{"d_grad_norm": 1.0, "g_grad_norm": 0.5, "g_loss": 0.8}] * 6
    spike = {"step": 350, "d_grad_norm": 40.0, "g_grad_norm": 0.5, "g_loss": 4.0}
    monitor = _monitor_with_history([*calm, spike])
    assert "40x its recent median" in ALARMS["grad_explosion"].check(monitor, spike)
    assert "g_loss rose to 4" in ALARMS["loss_divergence"].check(monitor, spike)
    normal = {"step": 350, "d_grad_norm": 1.5, "g_grad_norm": 0.6, "g_loss": 1.1}
    monitor = _monitor_with_history([*calm, normal])
    assert ALARMS["grad_explosion"].check(monitor, normal) is None
    assert ALARMS["loss_divergence"].check(monitor, normal) is None


def test_alarms_reach_stats_jsonl_and_health_stop_ends_training_early(ring, tmp_path):
    monitor = HealthMonitor(FAST, stop_on="d_winning", echo=False)
    stats = JsonlStats(tmp_path / "stats.jsonl")
    trainer = toy_trainer(
        ring, tmp_path, [monitor, stats], steps=2000, lr_g=1e-6, lr_d=1e-2, ema_beta=0.0
    )
    trainer.fit()
    assert trainer.step < 2000 and trainer.stop_reason.startswith("health_stop on d_winning")
    assert latest_checkpoint(tmp_path).name == f"step-{trainer.step:06d}"  # a normal end
    records = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    last = records[-1]
    assert "D is winning; try raise r1_gamma" in last["alarms"]["d_winning"]
    assert {"diversity", "coverage", "d_acc_pair", "d_grad_norm", "g_grad_norm"} <= last.keys()


def test_monitor_leaves_training_bit_for_bit_unchanged_and_resumes_its_state(ring, tmp_path):
    plain = toy_trainer(ring, steps=60, log_every=20)
    plain.fit()
    monitor = HealthMonitor(FAST, echo=False)
    watched = toy_trainer(ring, tmp_path, [monitor], steps=60, log_every=20, checkpoint_every=60)
    watched.fit()
    left, right = state_tensors(plain), state_tensors(watched)
    assert all(torch.equal(left[k], right[k]) for k in left)
    _, meta = read_checkpoint(latest_checkpoint(tmp_path), ())
    restored = HealthMonitor(FAST, echo=False)
    restored.load_state_dict(json.loads(json.dumps(meta["callbacks"]["HealthMonitor"])))
    assert restored.history == monitor.history and restored.state == monitor.state


def test_bad_health_stop_names_the_valid_alarms():
    assert parse_stop("any") == frozenset(ALARMS)
    with pytest.raises(GankitError, match="valid: any, d_winning"):
        parse_stop("d_wining")


def test_coverage_counts_real_neighbourhoods_holding_a_fake():
    real = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    assert coverage(real, real[:2] + 0.01, k=1) == 0.5  # the far mode is missing
    assert coverage(real, real, k=1) == 1.0


# ------------------------------------------------------------------- rollback


class PoisonD(Callback):
    """Fills D's first weight with NaN at the end of the given steps (the next step blows up)."""

    def __init__(self, steps):
        self.steps = set(steps)
        self.messages = []
        self.clean_weight = None

    def on_step_end(self, trainer):
        if trainer.step in self.steps:
            weight = next(trainer.D.parameters())
            self.clean_weight = weight.detach().clone()
            with torch.no_grad():
                weight.fill_(float("nan"))

    def on_rollback(self, trainer, message):
        self.messages.append(message)


def test_nan_rolls_back_to_the_snapshot_lowers_lr_and_training_goes_on(ring, tmp_path):
    poison = PoisonD([5])
    monitor = HealthMonitor(FAST, echo=False)
    stats = JsonlStats(tmp_path / "stats.jsonl")
    trainer = toy_trainer(
        ring, tmp_path, [poison, monitor, stats], steps=20, snapshot_every=1, log_every=5
    )
    restored = []
    trainer.callbacks.append(
        type("Spy", (Callback,), {"on_rollback": lambda s, t, m: restored.append(
            next(t.D.parameters()).detach().clone())})()
    )  # fmt: skip
    trainer.fit()
    assert trainer.step == 20 and trainer.rollbacks == 1
    assert torch.equal(restored[0], poison.clean_weight)  # the step-5 snapshot, not NaN
    assert "became nan at step 6: rolled back to step 5 (rollback 1/3)" in poison.messages[0]
    for optimizer in (trainer.opt_G, trainer.opt_D):
        assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-4 * 0.5)
    assert all(torch.isfinite(p).all() for p in trainer.D.parameters())
    records = [json.loads(line) for line in (tmp_path / "stats.jsonl").read_text().splitlines()]
    assert "nan_rollback" in records[1]["alarms"] and records[-1]["rollbacks"] == 1
    # The lowered learning rate and the count survive a resume.
    again = toy_trainer(ring, tmp_path, steps=20)
    again.resume()
    assert again.rollbacks == 1 and again.opt_D.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_too_many_rollbacks_stop_with_a_message_and_a_finite_checkpoint(ring, tmp_path):
    trainer = toy_trainer(
        ring, tmp_path, [PoisonD(range(3, 100))], steps=50, rollback_limit=2, snapshot_every=2
    )
    with pytest.raises(TrainingDiverged, match="after 2 rollbacks; training diverged; the last"):
        trainer.fit()
    tensors, meta = read_checkpoint(latest_checkpoint(tmp_path), ("D", "G"))
    assert meta["rollbacks"] == 2
    assert all(torch.isfinite(t).all() for state in tensors.values() for t in state.values())
    assert latest_checkpoint(tmp_path).name == f"step-{trainer.step:06d}"


# ------------------------------------------------------------ adaptive augment


def test_ada_raises_p_while_d_overfits_and_resumes_bit_for_bit(digits16, tmp_path):
    model = {"resolution": 16, "channels": 1, "latent_dim": 8, "g_width": 8, "d_width": 8}
    options = {
        "batch_size": 16,
        "log_every": 2,
        "checkpoint_every": 4,
        "ada_target": 0.05,  # below any plausible r_t of a D that already overfits
        "ada_interval": 1,
        "ada_kimg": 0.1,
        "lr_d": 1e-2,
    }

    def make(run, steps):
        torch.manual_seed(0)
        G, D, _ = build_gan("dcgan", model)
        run.mkdir(exist_ok=True)
        stats = JsonlStats(run / "stats.jsonl")
        cfg = TrainConfig(steps=steps, **options)
        return Trainer(G, D, digits16, cfg, run_dir=run, callbacks=[stats])

    straight = make(tmp_path / "a", 8)
    straight.fit()
    assert straight.ada.p > 0
    records = [json.loads(x) for x in (tmp_path / "a" / "stats.jsonl").read_text().splitlines()]
    assert records[-1]["aug_p"] > 0
    half = make(tmp_path / "b", 4)
    half.fit()
    assert read_json(latest_checkpoint(tmp_path / "b") / "trainer.json")["ada"]["p"] > 0
    resumed = make(tmp_path / "b", 8)
    resumed.resume()
    resumed.fit()
    assert resumed.ada.p == straight.ada.p
    left, right = state_tensors(straight), state_tensors(resumed)
    assert all(torch.equal(left[k], right[k]) for k in left)


def test_every_alarm_is_documented_in_the_stability_guide():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[2] / "docs" / "stability.md").read_text()
    assert all(f"| `{name}` |" in guide for name in ALARMS)
