"""bench/mnist_curves.py: the curves plot reads clean recorded sections only."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from mnist_curves import merged_tables, recorded_runs  # noqa: E402

HEADER = (
    "| contender | FD ↓ | FD per seed | KID ↓ | precision ↑ | recall ↑ | classes | steps "
    "| images seen | CPU s | peak MB |\n|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
)


def section(budgets: str, code: str, rows: dict[int, str], judge: str = "aaaa") -> str:
    tables = "".join(f"**{s} s**\n\n{HEADER}{row}\n\n" for s, row in rows.items())
    return (
        f"\n## MNIST, each contender alone with 2 threads ({budgets}; seeds 0, 1)\n\n"
        f"- command: `python bench/mnist_wallclock.py`\n- date: 2026-12-07; code: {code}\n"
        f"- judges: MNIST judge `basic` sha256 {judge}\n\nJudge: a note.\n\n{tables}"
    )


def test_only_clean_sections_are_read_and_a_later_budget_replaces_an_earlier_one():
    row = "| gankit `default` | 15 ± 1 (n = 2) | {} | 1 | 0.7 | 0.6 | 10 | 4000 | {} | 600 | 1 |"
    clean, dirty = "commit abc (clean tree)", "commit abd+uncommitted (not citable)"
    markdown = "# Benchmarks\n" + "".join(
        [
            section("120 s, 300 s", clean, {120: row.format("60.0 / 62.0", 98000),
                                            300: row.format("16.0 / 14.0", 270000)}),
            section("600 s", dirty, {600: row.format("1.0 / 1.0", 1)}),
            section("300 s, 600 s", clean, {300: row.format("20.0 / 22.0", 280000),
                                            600: row.format("9.0 / 11.0", 520000)}),
            "\n## Another section\n\n- date: x; code: commit abf (clean tree)\n\n**60 s**\n\n",
        ]
    )  # fmt: skip
    runs, titles, other_judge = recorded_runs(markdown)
    assert [t.split("(")[1].split(";")[0] for t in titles] == ["120 s, 300 s", "300 s, 600 s"]
    assert other_judge == []
    found = sorted((r["seconds"], r["fd"], r["images_seen"]) for r in runs)
    assert found == [
        (120, 60, 98000), (120, 62, 98000), (300, 20, 280000), (300, 22, 280000),
        (600, 9, 520000), (600, 11, 520000),
    ]  # fmt: skip
    assert {r["name"] for r in runs} == {"gankit `default`"}


def test_sections_judged_by_another_judge_than_the_newest_are_left_out():
    row = "| {} | 15 ± 1 (n = 2) | {} | 1 | 0.7 | 0.6 | 10 | 4000 | 9 | 600 | 1 |"
    clean = "commit abc (clean tree)"
    markdown = "# Benchmarks\n" + "".join(
        [
            section("600 s", clean, {600: row.format("gankit `default`", "9.0 / 11.0")}, "old"),
            # a grid recorded in parts: one contender per section, the same judge
            section("1800 s", clean, {1800: row.format("gankit `default`", "5.0 / 6.0")}, "new"),
            section("1800 s", clean, {1800: row.format("peer", "30.0 / 40.0")}, "new"),
        ]
    )
    runs, titles, other_judge = recorded_runs(markdown)
    assert len(titles) == 2 and len(other_judge) == 1 and "600 s" in other_judge[0]
    assert sorted((r["name"], r["fd"]) for r in runs) == [
        ("gankit `default`", 5.0), ("gankit `default`", 6.0), ("peer", 30.0), ("peer", 40.0),
    ]  # fmt: skip

    table = merged_tables(runs)
    assert table.startswith("**1800 s**")
    assert "| gankit `default` | 5.5 ± 0.7 (n = 2, below the 3 seeds a headline needs) |" in table
    assert "| 5.0 / 6.0 | 9 | 0.16 × peer |" in table and "| 6.36 × gankit `default` |" in table
