"""The pure part of the formula editor (no widgets): what a draft formula changes, its
background build, and readable gradient text. Kept apart so it is testable without Qt and the
editor file stays small."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

PREVIEW_POINTS = 121
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")


def pretty(text: str) -> str:
    """sympy's printing made readable: ``-400*p*(-p**2 + q)`` -> ``−400·p·(−p² + q)``."""
    text = re.sub(r"\*\*(-?\d+)\b", lambda m: m.group(1).translate(_SUPERSCRIPT), text)
    return text.replace("**", "^").replace("*", "·").replace("-", "−")


@dataclass(frozen=True)
class Analysis:
    """What the background build found for one draft (read-only arrays).

    curve_x, curve_y: (PREVIEW_POINTS,) the full loss along the first parameter over its
    view range, the others held at ``start``."""

    text: str
    param_names: tuple[str, ...]
    used_columns: tuple[str, ...]
    gradient_text: tuple[str, ...]
    start: tuple[float, ...]
    loss_at_start: float
    n_samples: int
    curve_x: np.ndarray
    curve_y: np.ndarray


def analyse(text: str, settings: Mapping[str, Any], data_path: str | None,
            start: tuple[float, ...] | None) -> Analysis | Exception:
    """Build the draft problem (background thread) and sample its loss; errors are returned."""
    from gdviz.core.problems.registry import make_problem

    try:
        problem = make_problem("custom", dict(settings), data_path)
        p = problem.n_params
        point = np.array(start if start is not None and len(start) == p
                         else problem.default_init, dtype=np.float64)
        lo, hi = (float(v) for v in problem.view_range[0])
        xs = np.linspace(min(lo, point[0]), max(hi, point[0]), PREVIEW_POINTS)
        grid = np.repeat(point[None, :], PREVIEW_POINTS, axis=0)
        grid[:, 0] = xs
        ys = np.asarray(problem.loss(grid), dtype=np.float64)
        xs.flags.writeable = False
        ys.flags.writeable = False
        return Analysis(text, problem.param_names, problem.used_columns, problem.gradient_text,
                        tuple(float(v) for v in point), float(problem.loss(point)),
                        problem.n_samples, xs, ys)
    except Exception as err:  # FormulaError, ConfigError, or what nobody anticipated
        return err


def formula_changes(settings: Mapping[str, Any], names: tuple[str, ...], text: str,
                    draft_names: tuple[str, ...], positional: bool) -> list[tuple[str, str]]:
    """The settings to change, in a safe order, to apply formula ``text``.

    ``names``: the applied problem's parameters; ``draft_names``: the draft's parameters in
    order of first appearance; ``positional``: start values or ranges are set by position.
    Each change is valid on its own (applied one at a time), so ``expr`` comes last:
    * same parameters: an explicit order is kept; with start values or ranges set, the old
      order is made explicit so the values stay with their names;
    * other parameters: the old order, start values and ranges no longer fit and are cleared.
    """
    changes: list[tuple[str, str]] = []
    if set(draft_names) == set(names):
        if positional and not settings["params"].strip() and draft_names != names:
            changes.append(("params", ", ".join(names)))
    else:
        changes += [(key, "") for key in ("params", "init", "ranges") if settings[key].strip()]
    changes.append(("expr", text))
    return changes


def gradient_html(lines: tuple[str, ...]) -> str:
    """One row per parameter, ``∂ℓ/∂w =`` in its own column: a long derivative wraps under its
    own start instead of under the label."""
    rows = []
    for line in lines:
        head, _, tail = line.partition(" = ")
        rows.append(f"<tr><td style='white-space:pre; color:#1a3a8f'>{html.escape(head)} ="
                    f"</td><td>{html.escape(tail)}</td></tr>")
    return f"<table cellspacing='0' cellpadding='1'>{''.join(rows)}</table>"
