"""Decide which names in a formula are parameters and which are data columns.

Rules (documented for users in the custom problem's settings):
* a name that is a data column is data; every other name is a parameter;
* without an explicit ``params`` list, parameters are ordered by first appearance;
* with one, its order is used, every listed name must occur in the formula, and a name that is
  neither listed nor a column is an error (a typo would otherwise become a new parameter).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gdviz.core.formula.limits import MAX_PARAMS
from gdviz.core.formula.nodes import FUNCTIONS, RANDOM_FUNCTIONS, FormulaError, error_at
from gdviz.core.formula.parser import Formula
from gdviz.core.formula.tokens import check_name

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def split_names(text: str) -> list[tuple[str, int]]:
    """Comma-separated names with their 0-based offsets; FormulaError for a bad entry."""
    out: list[tuple[str, int]] = []
    offset = 0
    for part in text.split(","):
        name = part.strip()
        pos = offset + (len(part) - len(part.lstrip()))
        offset += len(part) + 1
        if not name:
            raise error_at("empty name in the comma-separated list", pos, 0)
        if not _NAME.fullmatch(name):
            raise error_at(f"{name!r} is not a name (letters, digits and _; not starting with "
                           "a digit)", pos, len(name))
        check_name(name, pos)
        if name in FUNCTIONS or name in RANDOM_FUNCTIONS:
            raise error_at(f"'{name}' is a function, not a parameter", pos, len(name))
        if any(name == seen for seen, _ in out):
            raise error_at(f"'{name}' is listed twice", pos, len(name))
        out.append((name, pos))
    return out


def resolve_names(formula: Formula, columns: Sequence[str] = (),
                  params: str | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(parameters, data columns used) of ``formula``.

    ``columns``: names of the available data columns. ``params``: the user's comma-separated
    parameter order, or None/blank for "every non-column name, in order of first appearance".
    Errors about ``params`` carry ``setting="params"``; others point into the formula.
    """
    available = set(columns)
    used_columns = tuple(n for n in formula.names if n in available)
    if params is not None and params.strip():
        try:
            listed = split_names(params)
        except FormulaError as err:
            raise err.for_setting("params") from None
        for name, pos in listed:
            if name in available:
                raise error_at(f"'{name}' is a data column, not a parameter", pos,
                               len(name)).for_setting("params")
            if name not in formula.positions:
                raise error_at(f"parameter '{name}' does not appear in the formula", pos,
                               len(name)).for_setting("params")
        names = tuple(name for name, _ in listed)
        for name in formula.names:
            if name not in available and name not in names:
                pos, length = formula.positions[name]
                cols = ", ".join(columns) or "none"
                raise error_at(f"unknown name '{name}': it is neither a listed parameter "
                               f"({', '.join(names)}) nor a data column ({cols})", pos, length)
    else:
        names = tuple(n for n in formula.names if n not in available)
    if not names:
        raise FormulaError("the formula has no parameter to optimize: every name in it is a "
                           "data column" if formula.names else
                           "the formula has no parameter to optimize (it contains no names)")
    if len(names) > MAX_PARAMS:
        pos, length = formula.positions.get(names[MAX_PARAMS], (None, 1))
        raise error_at(f"the formula has {len(names)} parameters; the limit is {MAX_PARAMS}",
                       pos, length)
    return names, used_columns
