"""The verbs of the ``gankit`` command, one module each.

Each module has ``add_parser(sub)``, which adds its verb to the ``gankit`` sub-parsers and sets
``func`` (called with the parsed arguments); :func:`gankit.cli.build_parser` adds every module of
:data:`COMMANDS` in turn. Errors are raised as :class:`gankit.errors.GankitError`; the CLI prints
them as one line. ``options``, ``task_options`` and ``writers`` hold what several verbs share;
``legacy`` maps the spellings of earlier releases onto the verbs.
"""

from __future__ import annotations

from types import ModuleType

from gankit.commands import (
    apply,
    augment,
    evaluate,
    export,
    info,
    legacy,
    presets,
    provenance,
    resume,
    sample,
    serve,
    train,
)

# In the order `gankit --help` lists them; the deprecated spellings last.
COMMANDS: tuple[ModuleType, ...] = (
    train,
    resume,
    sample,
    apply,
    export,
    serve,
    evaluate,
    info,
    presets,
    augment,
    provenance,
)


def add_parsers(sub: object) -> None:
    """Add every verb of :data:`COMMANDS`, then the deprecated spellings, to ``sub``."""
    for command in COMMANDS:
        command.add_parser(sub)
    legacy.add_parsers(sub)
