"""Frozen dataclass configs that refuse unknown keys.

Every config in gankit (architectures, training, presets) is a frozen dataclass. Building one from a
dict goes through :func:`from_dict`, so a typo fails loudly with the list of valid keys instead of
silently creating a new setting.
"""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from gankit.errors import GankitError

C = TypeVar("C")


def field_names(cls: type) -> list[str]:
    """Names of the fields of dataclass ``cls``, in declaration order."""
    return [f.name for f in dataclasses.fields(cls)]


def check_keys(cls: type, keys: Any, what: str | None = None) -> None:
    """Raise :class:`GankitError` if any of ``keys`` is not a field of ``cls``."""
    valid = field_names(cls)
    unknown = sorted(set(keys) - set(valid))
    if unknown:
        name = what or cls.__name__
        raise GankitError(
            f"unknown {name} key(s) {', '.join(map(repr, unknown))}; valid keys: {', '.join(valid)}"
        )


def from_dict(cls: type[C], values: dict[str, Any], what: str | None = None) -> C:
    """Build dataclass ``cls`` from ``values``; unknown keys are an error naming the valid ones.

    Lists become tuples so the result stays hashable and equal to the original after a JSON
    round trip.

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Opt:
        ...     lr: float = 1e-3
        >>> from_dict(Opt, {"lr": 0.1})
        Opt(lr=0.1)
    """
    check_keys(cls, values, what)
    clean = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        return cls(**clean)
    except (TypeError, ValueError) as err:
        raise GankitError(f"invalid {what or cls.__name__}: {err}") from None


def replace(config: C, what: str | None = None, **overrides: Any) -> C:
    """Copy of frozen ``config`` with ``overrides`` applied; unknown keys are an error."""
    check_keys(type(config), overrides, what)
    try:
        return dataclasses.replace(config, **overrides)
    except (TypeError, ValueError) as err:
        raise GankitError(f"invalid {what or type(config).__name__}: {err}") from None


def to_dict(config: Any) -> dict[str, Any]:
    """JSON-ready dict of a dataclass config (tuples become lists)."""
    return {
        k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(config).items()
    }
