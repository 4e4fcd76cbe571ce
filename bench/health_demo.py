"""Three deliberately broken runs on the ring, to show each health alarm on real statistics.

* ``d_winning``: G barely learns (lr_g 1e-6) while D trains at 1e-2.
* ``mode_collapse``: G learns 50x faster than D and keeps jumping to D's favourite point.
* ``nan_rollback``: a healthy run whose D weights are overwritten with NaN at step 700.

Default HealthConfig thresholds throughout. Writes docs/img/health-alarms.png and prints the
alarms each run raised (about half a minute on one core):

    python bench/health_demo.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _record import ROOT  # noqa: E402

from gankit.data import toy_mixture  # noqa: E402
from gankit.nn import build_gan  # noqa: E402
from gankit.train import Callback, TrainConfig, Trainer  # noqa: E402
from gankit.train.health import HealthMonitor  # noqa: E402


class Records(Callback):
    def __init__(self) -> None:
        self.records: list[dict] = []

    def on_log(self, trainer: Trainer, record: dict) -> None:
        self.records.append(dict(record))


class NaNAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_step_end(self, trainer: Trainer) -> None:
        if trainer.step == self.step:
            with torch.no_grad():
                next(trainer.D.parameters()).fill_(float("nan"))


RUNS = {
    "d_winning": ({"lr_g": 1e-6, "lr_d": 1e-2}, None),
    "mode_collapse": ({"lr_g": 5e-3, "lr_d": 1e-4}, None),
    "nan_rollback": ({"lr_g": 1e-3, "lr_d": 1e-3, "r1_gamma": 0.1}, 700),
}


def run(overrides: dict, nan_at: int | None) -> tuple[list[dict], dict]:
    torch.manual_seed(0)
    G, D, _ = build_gan("mlp", {"data_dim": 2, "hidden": 64})
    config = TrainConfig(steps=1500, batch_size=64, log_every=25, ema_beta=0.0, **overrides)
    records, monitor = Records(), HealthMonitor(echo=True)
    callbacks = [monitor, records] + ([NaNAt(nan_at)] if nan_at else [])
    Trainer(G, D, toy_mixture("ring", n=20_000), config, callbacks=callbacks).fit()
    return records.records, monitor.fired


def main() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    torch.set_num_threads(1)
    fig, axes = plt.subplots(1, len(RUNS), figsize=(13, 3.6))
    for ax, (name, (overrides, nan_at)) in zip(axes, RUNS.items(), strict=True):
        records, fired = run(overrides, nan_at)
        print(f"{name}: alarms fired {fired}")
        steps = [r["step"] for r in records]
        for key in ("d_acc_pair", "diversity", "coverage"):
            ax.plot(steps, [r.get(key, float("nan")) for r in records], label=key)
        alarm_steps = [r["step"] for r in records if name in r.get("alarms", {})]
        ax.scatter(alarm_steps, [1.25] * len(alarm_steps), c="red", marker="|", s=60)
        ax.set_title(f"{name} (red: alarm active)", fontsize=9)
        ax.set_ylim(0, 1.35)
        ax.set_xlabel("step")
        ax.legend(fontsize=7, loc="lower left")
    fig.tight_layout()
    out = ROOT / "docs" / "img" / "health-alarms.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=90)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
