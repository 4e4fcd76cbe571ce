"""One FD curve plot from every recorded MNIST wall-clock section (bench/mnist_wallclock.py).

Each budget of the equal-time comparison takes a long quiet run (the 600-s grid is two hours), so
budgets are recorded in separate sections. This script reads the per-seed FD and mean images seen
of every contender at every budget from the sections of docs/BENCHMARKS.md titled "MNIST, each
contender alone ..." that were recorded at a clean commit with the newest section's judge (FD
under another judge is on another scale), and draws FD against seconds and against images seen
in one plot (``plot_curves`` of the recording script). A grid recorded in parts (a few contenders
per section) comes together the same way. It trains and judges nothing; it prints the sections it
read and those it left out, and one merged table per budget.

    python bench/mnist_curves.py            # writes docs/img/mnist_curves_all_budgets.png
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import protocol  # noqa: E402
from _record import BENCHMARKS_MD, ROOT  # noqa: E402
from mnist_wallclock import plot_curves  # noqa: E402

_TITLE = "## MNIST, each contender alone with "


def recorded_runs(markdown: str) -> tuple[list[dict], list[str], list[str]]:
    """Per-seed runs ``{name, seconds, fd, images_seen}`` of the clean MNIST wall-clock sections
    in ``markdown`` judged like the newest one; the titles of the sections read, and of the clean
    ones left out for another judge. A later section's (contender, budget) replaces an earlier
    one's."""
    sections = []
    for section in markdown.split("\n## ")[1:]:
        title, _, body = section.partition("\n")
        clean = re.search(r"^- date: .*\(clean tree\)", body, re.MULTILINE)
        if ("## " + title).startswith(_TITLE) and clean:
            judge = re.search(r"^- judges: (.*)$", body, re.MULTILINE)
            sections.append((title, judge.group(1) if judge else None, body))
    newest_judge = sections[-1][1] if sections else None
    runs: dict[tuple[str, float], list[dict]] = {}
    titles, other_judge = [], []
    for title, judge, body in sections:
        if judge != newest_judge:
            other_judge.append(title)
            continue
        titles.append(title)
        for seconds, table in re.findall(r"\*\*(\d+) s\*\*\n\n((?:\|.*\n)+)", body):
            header, _, *rows = table.strip().splitlines()
            columns = [c.strip() for c in header.strip("|").split("|")]
            for row in rows:
                cells = dict(
                    zip(columns, (c.strip() for c in row.strip("|").split("|")), strict=True)
                )
                name = cells["contender"]
                runs[name, float(seconds)] = [
                    {
                        "name": name,
                        "seconds": float(seconds),
                        "fd": float(fd),
                        "images_seen": float(cells["images seen"]),
                    }
                    for fd in cells["FD per seed"].split(" / ")
                ]
    return [run for seeds in runs.values() for run in seeds], titles, other_judge


def merged_tables(runs: list[dict]) -> str:
    """One table per budget over every section read: FD mean ± std and per seed, images seen,
    and each contender's mean FD as a fraction of every other's (the issue's goals are ratios).
    A grid recorded in parts is read here as one."""
    parts = []
    for seconds in sorted({r["seconds"] for r in runs}):
        here = [r for r in runs if r["seconds"] == seconds]
        names = list(dict.fromkeys(r["name"] for r in here))
        fd = {n: statistics.fmean(r["fd"] for r in here if r["name"] == n) for n in names}
        rows = [
            f"**{seconds:g} s**",
            "",
            "| contender | FD ↓ | FD per seed | images seen | mean FD / each contender's |",
            "|---|---|---|---:|---|",
        ]
        for name in names:
            mine = [r for r in here if r["name"] == name]
            ratios = ", ".join(f"{fd[name] / fd[o]:.2f} × {o}" for o in names if o != name)
            rows.append(
                f"| {name} | {protocol.mean_std([r['fd'] for r in mine], digits=1)} | "
                f"{' / '.join(format(r['fd'], '.1f') for r in mine)} | "
                f"{statistics.fmean(r['images_seen'] for r in mine):,.0f} | {ratios or '–'} |"
            )
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    default = ROOT / "docs" / "img" / "mnist_curves_all_budgets.png"
    parser.add_argument("--out", default=str(default))
    args = parser.parse_args()
    runs, titles, other_judge = recorded_runs(BENCHMARKS_MD.read_text())
    if not runs:
        raise SystemExit(f"no clean section starting {_TITLE[3:]!r} in {BENCHMARKS_MD}")
    plot_curves(runs, Path(args.out))
    budgets = sorted({run["seconds"] for run in runs})
    print(f"{args.out}: budgets {', '.join(f'{b:g} s' for b in budgets)} from the sections")
    for title in titles:
        print(f'  "{title}"')
    for title in other_judge:
        print(f'  left out (another judge): "{title}"')
    print(merged_tables(runs))


if __name__ == "__main__":
    main()
