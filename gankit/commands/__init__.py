"""Sub-commands of ``gankit`` that belong to one task (translate, upscale, ...).

Each module here defines ``add_parser(sub)``, which adds its command to the ``gankit`` parser and
sets ``func`` on it; :func:`gankit.cli.build_parser` calls every module listed in ``COMMANDS``.
Errors are raised as :class:`gankit.errors.GankitError`; the CLI prints them as one line.
"""

from __future__ import annotations

import importlib
from typing import Any

# Imported when the parser is built, so `gankit --help` lists them.
COMMANDS: tuple[str, ...] = ("upscale", "translate")


def add_parsers(sub: Any) -> None:
    """Add every task command in ``COMMANDS`` to the ``gankit`` sub-parsers ``sub``."""
    for name in COMMANDS:
        importlib.import_module(f"gankit.commands.{name}").add_parser(sub)
