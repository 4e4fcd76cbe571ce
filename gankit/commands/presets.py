"""``gankit presets``: the named configurations of every task (or of one) and what they are."""

from __future__ import annotations

import argparse
from typing import Any

from gankit.tasks import TASKS


def run(args: argparse.Namespace) -> None:
    """Print each preset's task, name and description; the default one is marked."""
    tasks = {args.task: TASKS[args.task]} if args.task else TASKS
    rows = [(task, name, cls) for task, cls in tasks.items() for name in cls.presets]
    task_width = max(len(task) for task, _, _ in rows)
    name_width = max(len(name) for _, name, _ in rows)
    for task, name, cls in rows:
        default = " (default)" if name == cls.default_preset else ""
        print(f"{task:{task_width}s}  {name:{name_width}s}{default}")
        print(f"{'':{task_width}s}  {cls.presets[name].description}")


def add_parser(sub: Any) -> None:
    """Add ``gankit presets`` to the ``gankit`` sub-parsers ``sub``."""
    parser = sub.add_parser("presets", help="list the named presets of every task")
    parser.add_argument("--task", default=None, choices=tuple(TASKS), help="only this task's")
    parser.set_defaults(func=run)
