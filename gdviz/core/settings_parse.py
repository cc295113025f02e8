"""Parse and check user-typed values (CLI strings, GUI fields, JSON) against declared specs.

Shared by problem settings, optimizer hyperparameters and schedule parameters, so that every
front end produces the same messages.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.text import shown

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


# What a number may look like, typed or read from a file: ASCII only (no superscript or
# other scripts' digits, which str.isdigit and int() accept), no "_" separators (int("1_0") is
# 10 in Python, a typo anywhere else), at most MAX_NUMBER_CHARS characters (a 5000-digit
# number is refused before any arithmetic), whole numbers within 64 bits.
MAX_NUMBER_CHARS = 64
MAX_INT = 2**63 - 1
_FLOAT = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)",
                    re.ASCII | re.IGNORECASE)
_INT = re.compile(r"[+-]?\d+", re.ASCII)


def _number_text(text: Any, what: str, pattern: re.Pattern, kind: str) -> str:
    raw = str(text).strip()
    if len(raw) > MAX_NUMBER_CHARS:
        raise ConfigError(f"{what} must be {kind} of at most {MAX_NUMBER_CHARS} characters, "
                          f"got one of {len(raw)}")
    if not pattern.fullmatch(raw):
        raise ConfigError(f"{what} must be {kind}, got '{shown(raw)}'")
    return raw


def parse_float(text: Any, what: str) -> float:
    """A float from a number or a string (``1.5``, ``-2e-3``, ``inf``: ASCII, no ``_``);
    a ConfigError naming ``what`` otherwise."""
    if isinstance(text, bool):
        raise ConfigError(f"{what} must be a number, got {text}")
    if isinstance(text, float):
        return text
    if isinstance(text, int):
        if abs(text) > MAX_INT:
            raise ConfigError(f"{what} is too large a number")
        return float(text)
    return float(_number_text(text, what, _FLOAT, "a number"))


def parse_int(text: Any, what: str) -> int:
    """A whole number from a number or a string (``12``, ``-3``: ASCII digits, no ``_``,
    within 64 bits); a ConfigError naming ``what`` otherwise."""
    if isinstance(text, bool):
        raise ConfigError(f"{what} must be a whole number, got {text}")
    if isinstance(text, float):
        if not text.is_integer():
            raise ConfigError(f"{what} must be a whole number, got {format_number(text)}")
        text = int(text)
    if not isinstance(text, int):
        text = int(_number_text(text, what, _INT, "a whole number"))
    if abs(text) > MAX_INT:
        raise ConfigError(f"{what} is too large a number (at most {MAX_INT})")
    return text


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
    raise ConfigError(f"{what} must be true or false, got '{shown(text, 40)}'")


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
