"""The gankit version: the one place to bump it (pyproject.toml reads it from here).

A module of its own so that whoever records the version (config.json, extractor directories)
imports it without importing the package root, which imports every task.
"""

__version__ = "0.1.0"
