"""The package's layers (../shared/DESIGN.md): lower layers never import higher ones, no module
imports the package root back, and every module imports on its own (no import cycle).

The import graph is read from the source (AST), so a lazy import inside a function counts as
much as one at the top: it is the same dependency, only deferred.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import gankit

PACKAGE = Path(gankit.__file__).parent

# The foundation every layer may use: the version, errors, config parsing, file formats and the
# image helpers below both nn/ and data/.
BASE = {"_version", "errors", "config", "io", "imageops"}
# What each layer may import besides itself. A layer is a module's first name under gankit/
# ("nn" for gankit.nn.rrdb, "io" for gankit.io); "__init__" is the package root.
ALLOWED: dict[str, set[str]] = {
    "_version": set(),
    "errors": set(),
    "config": {"errors"},
    "io": {"errors", "config", "_version"},
    "imageops": {"errors"},
    "viz": BASE,
    # Samples as file bytes, shared by `gankit sample` and `gankit serve`.
    "encode": BASE | {"viz"},
    # Building blocks and data: siblings, each on the foundation alone.
    "nn": BASE,
    "losses": BASE,
    "augment": BASE,
    "text": BASE,
    "data": BASE | {"viz"},
    # The engine knows G, D, losses, augmentation and data; never the metrics or a task.
    "train": BASE | {"viz", "nn", "losses", "augment", "data"},
    # Metrics take tensors (and the extractors' networks and datasets); never the engine or a task.
    "metrics": BASE | {"viz", "nn", "data"},
    # Provenance marks (gankit.provenance) sit on the foundation; tasks mark what they generate.
    "provenance": BASE,
    "tasks": BASE
    | {"viz", "nn", "losses", "augment", "text", "data", "train", "metrics"}
    | {"provenance"},
    "export": BASE | {"viz", "nn", "data", "metrics", "tasks"},
    "serve": BASE | {"viz", "encode", "nn", "data", "metrics", "tasks", "export", "provenance"},
    # Synthetic data for a downstream model: tasks draw it, metrics' classifiers judge it.
    "synthetic": BASE | {"viz", "nn", "data", "metrics", "tasks"},
    "commands": BASE
    | {"viz", "encode", "nn", "losses", "augment", "text", "data", "train", "metrics", "tasks"}
    | {"export", "serve", "synthetic", "provenance"},
    "cli": BASE
    | {"viz", "encode", "nn", "losses", "augment", "text", "data", "train", "metrics", "tasks"}
    | {"export", "serve", "commands", "synthetic"},
    "__init__": {"_version", "errors", "tasks", "synthetic"},
}

# Known breaches being fixed in other branches of issue 19; remove each entry once merged.
KNOWN_EXCEPTIONS: set[tuple[str, str]] = set()
EXEMPT_MODULES: set[str] = set()
# Modules whose lazy imports still name something that moved (none at present).
STALE: set[str] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _import_statements(name: str) -> list[tuple[int, str, str | None]]:
    """(line, gankit module, imported name or None) for every import in module ``name``.

    ``from gankit.x import y`` gives ``(gankit.x.y, None)`` when y is a module, else
    ``(gankit.x, "y")``; relative imports are resolved against ``name``'s package.
    """
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                child = f"{base}.{alias.name}"
                found.append(
                    (node.lineno, child, None)
                    if child in MODULES
                    else (node.lineno, base, alias.name)
                )
    return [entry for entry in found if entry[1].split(".")[0] == "gankit"]


def _imports(name: str) -> list[tuple[int, str]]:
    """(line, gankit module) for every import in module ``name``."""
    return [(line, module) for line, module, _ in _import_statements(name)]


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_layer_is_in_the_table():
    layers = {_layer(name) for name in MODULES}
    assert layers <= set(ALLOWED), f"add {sorted(layers - set(ALLOWED))} to ALLOWED"


def test_no_module_imports_the_package_root_back():
    offenders = [
        f"{name}:{line}"
        for name in MODULES
        if name != "gankit"
        for line, module in _imports(name)
        if module == "gankit"
    ]
    assert not offenders, (
        "these import the package root (which imports every task): "
        f"{offenders}; import gankit._version or the defining module instead"
    )


def test_lower_layers_never_import_higher_ones():
    breaches = []
    for name in MODULES:
        if name in EXEMPT_MODULES:
            continue
        layer = _layer(name)
        for line, module in _imports(name):
            target = _layer(module)
            if target == layer or target in ALLOWED[layer]:
                continue
            if (name, module) not in KNOWN_EXCEPTIONS:
                breaches.append(f"{name}:{line} imports {module} ({layer} -> {target})")
    assert not breaches, "\n".join(breaches)


def test_known_exceptions_still_exist():
    """An exception that no longer applies is deleted, so the table cannot hide a new breach."""
    stale = [pair for pair in KNOWN_EXCEPTIONS if pair[1] not in dict(_imports(pair[0])).values()]
    stale += [name for name in EXEMPT_MODULES if name not in MODULES]
    assert not stale, f"remove from the exceptions: {stale}"


def test_every_import_names_something_that_exists():
    """A lazy import inside a function of a module or name that moved fails only when called."""
    missing = []
    for name in MODULES:
        for line, module, attr in _import_statements(name):
            if module not in MODULES:
                missing.append((name, line, module))
            elif attr is not None and not hasattr(importlib.import_module(module), attr):
                missing.append((name, line, f"{module}.{attr}"))
    unexpected = [f"{n}:{line} imports {what}" for n, line, what in missing if n not in STALE]
    assert not unexpected, "\n".join(unexpected)
    stale = set(STALE) - {n for n, _, _ in missing}
    assert not stale, f"remove from STALE: {sorted(stale)}"


def test_every_module_imports_on_its_own():
    """Each module imported first, in a fresh module table: an import cycle fails here.

    One subprocess for all (torch is loaded once); gankit's modules are dropped between imports.
    """
    script = (
        "import importlib, sys\n"
        "failed = []\n"
        f"for name in {sorted(MODULES)!r}:\n"
        "    for loaded in [m for m in sys.modules if m == 'gankit' or m.startswith('gankit.')]:\n"
        "        del sys.modules[loaded]\n"
        "    try:\n"
        "        importlib.import_module(name)\n"
        "    except Exception as err:\n"
        "        failed.append(f'{name}: {type(err).__name__}: {err}')\n"
        "print('\\n'.join(failed))\n"
        "sys.exit(1 if failed else 0)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PACKAGE.parent)}
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
