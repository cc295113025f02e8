"""User-typed formulas: a whitelist parser, limits, exact gradients via sympy, numpy kernels.

A formula is data, never code: text is tokenized and parsed into our own AST
(``parser.parse_formula``), checked against ``limits``, converted to sympy objects built
programmatically (never ``sympify``/``eval``), differentiated, and compiled with
``sympy.lambdify`` from those objects.

For a formula editor:
* ``parse_formula(text)`` is fast (no sympy) — call it on every keystroke. A FormulaError
  has ``.position`` (1-based column, None if the whole text is to blame), ``.length``
  (characters to underline), ``.reason`` (message without prefixes) and ``str(err)``.
* ``analyze(text, columns, params)`` resolves names and differentiates (imports sympy on
  first use, up to ~1 s): the result has ``param_names``, ``column_names``, ``expr_text`` and
  ``gradient_text`` (``"∂ℓ/∂w = 2*x*(b + w*x - y)"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from gdviz.core.formula.nodes import FUNCTIONS, RANDOM_FUNCTIONS, FormulaError
from gdviz.core.formula.parser import Formula, parse_formula
from gdviz.core.formula.resolve import resolve_names

if TYPE_CHECKING:
    from gdviz.core.formula.compile import CompiledFormula

__all__ = ["FUNCTIONS", "RANDOM_FUNCTIONS", "Formula", "FormulaError", "analyze",
           "parse_formula", "resolve_names"]


def analyze(text: str, columns: Sequence[str] = (), params: str | None = None
            ) -> CompiledFormula:
    """Parse, resolve names against data ``columns`` and compile ``text`` with its gradient.

    Raises FormulaError; errors in ``text`` point into it (``setting`` None), errors in
    ``params`` carry ``setting="params"``.
    """
    from gdviz.core.formula.compile import compile_formula  # sympy: imported on first use

    formula = parse_formula(text)
    names, used = resolve_names(formula, columns, params)
    return compile_formula(formula, names, used)
