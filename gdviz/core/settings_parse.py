"""Parse and check user-typed values (CLI strings, GUI fields, JSON) against declared specs.

Shared by problem settings, optimizer hyperparameters and schedule parameters, so that every
front end produces the same messages.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gdviz.core.errors import ConfigError, format_number

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_float(text: Any, what: str) -> float:
    """A float from a number or a string; a ConfigError naming ``what`` otherwise."""
    if isinstance(text, bool):
        raise ConfigError(f"{what} must be a number, got {text}")
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(str(text).strip())
    except ValueError:
        raise ConfigError(f"{what} must be a number, got {text!r}") from None


def parse_int(text: Any, what: str) -> int:
    if isinstance(text, bool):
        raise ConfigError(f"{what} must be a whole number, got {text}")
    if isinstance(text, int):
        return text
    if isinstance(text, float):
        if text.is_integer():
            return int(text)
        raise ConfigError(f"{what} must be a whole number, got {format_number(text)}")
    try:
        return int(str(text).strip())
    except ValueError:
        raise ConfigError(f"{what} must be a whole number, got {text!r}") from None


def parse_bool(text: Any, what: str) -> bool:
    if isinstance(text, bool):
        return text
    if isinstance(text, (int, float)) and text in (0, 1):
        return bool(text)
    s = str(text).strip().lower()
    if s in _TRUE:
        return True
    if s in _FALSE:
        return False
    raise ConfigError(f"{what} must be true or false, got {text!r}")


def parse_floats(text: Any, what: str, length: int | None = None) -> tuple[float, ...]:
    """A tuple of floats from ``"0.9,0.999"`` or a sequence."""
    if isinstance(text, str):
        parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    elif isinstance(text, (list, tuple)):
        parts = list(text)
    else:
        parts = [text]
    values = tuple(parse_float(p, what) for p in parts)
    if length is not None and len(values) != length:
        raise ConfigError(f"{what} needs {length} comma-separated numbers, got {len(values)}")
    return values


def check_range(value: float, what: str, minimum: float | None, maximum: float | None,
                finite: bool = True) -> None:
    """Raise a ConfigError unless minimum <= value <= maximum (and finite, if asked)."""
    if finite and not math.isfinite(value):
        raise ConfigError(f"{what} must be a finite number, got {format_number(value)}")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{what} must be at least {format_number(minimum)}, "
                          f"got {format_number(value)}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{what} must be at most {format_number(maximum)}, "
                          f"got {format_number(value)}")


def parse_value(kind: Any, raw: Any, what: str) -> Any:
    """Parse ``raw`` as ``kind``: int, float, bool, "floats", "pair" (two floats), str,
    "optional_int" or "optional_float" (a number, or None from ``None``, ``""`` or ``"none"``)."""
    if kind is int:
        return parse_int(raw, what)
    if kind in ("optional_int", "optional_float"):
        if raw is None or str(raw).strip().lower() in ("", "none"):
            return None
        return parse_int(raw, what) if kind == "optional_int" else parse_float(raw, what)
    if kind is float:
        return parse_float(raw, what)
    if kind is bool:
        return parse_bool(raw, what)
    if kind == "floats":
        return parse_floats(raw, what)
    if kind == "pair":
        return parse_floats(raw, what, length=2)
    if kind is str:
        return str(raw)
    raise TypeError(f"unknown setting kind {kind!r}")


def validate_specs(specs: tuple, raw: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """Validate ``raw`` against specs with ``name, default, kind, minimum, maximum``.

    Unknown names are refused; missing names take their defaults. Returns a plain dict in the
    order of ``specs``.
    """
    known = {s.name: s for s in specs}
    for key in raw:
        if key not in known:
            names = ", ".join(known) or "none"
            raise ConfigError(f"{owner} has no setting {key!r} (its settings: {names})")
    out: dict[str, Any] = {}
    for spec in specs:
        what = f"{owner} {spec.name}"
        value = parse_value(spec.kind, raw[spec.name], what) if spec.name in raw else spec.default
        items = value if isinstance(value, tuple) else (value,)
        for item in items:
            if isinstance(item, (int, float)) and not isinstance(item, bool):
                check_range(float(item), what, spec.minimum, spec.maximum)
        out[spec.name] = value
    return out
