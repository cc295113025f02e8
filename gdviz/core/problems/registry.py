"""The registry of problem families by name, and a cache of built problems.

Families register themselves in their modules (lessons.py, analytic.py, custom.py); this module
imports them lazily on first use so that importing gdviz.core stays cheap.
"""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Mapping
from typing import Any

from gdviz.core.errors import ConfigError
from gdviz.core.problems.base import Problem, ProblemSpec
from gdviz.core.settings_parse import validate_specs
from gdviz.core.text import shown

_REGISTRY: dict[str, ProblemSpec] = {}
_FAMILY_MODULES = ("gdviz.core.problems.lessons", "gdviz.core.problems.analytic")
_FAMILY_MODULES += ("gdviz.core.problems.custom", "gdviz.core.problems.mlp")
_loaded = False


def register(spec: ProblemSpec) -> ProblemSpec:
    """Add a problem family to the registry (called at import time of its module)."""
    _REGISTRY[spec.name] = spec
    return spec


def _ensure_loaded() -> None:
    global _loaded
    if not _loaded:
        _loaded = True
        for module in _FAMILY_MODULES:
            importlib.import_module(module)


def problem_specs() -> list[ProblemSpec]:
    """Every registered family: lessons first, then analytic functions, then custom."""
    _ensure_loaded()
    order = {"lesson": 0, "analytic": 1, "custom": 2}
    return sorted(_REGISTRY.values(), key=lambda s: order.get(s.family, 3))


def problem_names() -> list[str]:
    return [s.name for s in problem_specs()]


def get_spec(name: str) -> ProblemSpec:
    _ensure_loaded()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown problem {name!r}; choose from: {', '.join(problem_names())}"
        ) from None


def validate_problem_settings(name: str, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Parse and check settings for problem ``name``; defaults fill the missing ones."""
    spec = get_spec(name)
    return validate_specs(spec.settings, raw, f"problem {name!r}")


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(value)
    return value


def make_problem(name: str, settings: Mapping[str, Any] | None = None,
                 data_path: str | None = None) -> Problem:
    """Build (or fetch from the cache) problem ``name`` with validated ``settings``.

    ``data_path`` is a CSV file for the families that accept one. Building is cached by
    (name, settings, data file path + modification time + size), so the GUI, the runner and the
    surfaces share one instance and regenerate data only when something changed.
    """
    spec = get_spec(name)
    checked = validate_problem_settings(name, settings or {})
    stamp: tuple = ()
    if data_path is not None:
        if not spec.accepts_csv:
            raise ConfigError(f"problem {name!r} does not take a data file")
        try:
            st = os.stat(data_path)
        except OSError as err:
            raise ConfigError(f"cannot read data file {shown(data_path)}: "
                              f"{err.strerror}") from None
        stamp = (os.path.abspath(data_path), st.st_mtime_ns, st.st_size)
    key = tuple((k, _freeze(v)) for k, v in checked.items())
    return _build(name, key, data_path, stamp)


@functools.lru_cache(maxsize=32)
def _build(name: str, key: tuple, data_path: str | None, stamp: tuple) -> Problem:
    return get_spec(name).factory(dict(key), data_path)
