"""The exact Hessian of a compiled formula: its sympy gradient differentiated once more.

``compile_hessian(compiled)`` differentiates each derivative that ``compile.compile_formula``
kept (``CompiledFormula.grad_exprs``) with respect to every parameter from its own on (the
Hessian is symmetric, so p(p+1)/2 expressions), checks them as the gradient is checked and
compiles them with ``lambdify`` (common subexpressions shared), all within a time budget,
since sympy has no timeout of its own. It runs on first use (a run with ``--curvature`` or
``newton``, the Curvature view), not when the formula is typed.

Non-smooth functions follow the gradient's convention: step and sign (the derivatives of
relu, min, max, abs) have derivative 0, so the Hessian has a value everywhere but exactly at
a kink (where it uses that convention too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from gdviz.core.formula.compile import CompiledFormula, _check_values, _floatify, dag_size
from gdviz.core.formula.deadline import DeadlineExceeded, call_with_deadline
from gdviz.core.formula.limits import MAX_GRADIENT_NODES, TIME_BUDGET
from gdviz.core.formula.nodes import FormulaError
from gdviz.core.formula.numeric import NUMPY_FUNCTIONS

# Differentiating p(p + 1)/2 expressions costs up to ~p/2 times the gradient: twice the
# gradient's budget (the Hessian is asked for once per problem, not on every keystroke).
HESSIAN_BUDGET = 2.0 * TIME_BUDGET


@dataclass(frozen=True)
class CompiledHessian:
    """The upper triangle of the Hessian of one formula, compiled.

    ``pairs``: the (i, j), i <= j, of each compiled entry, in order. ``constant``: True when
    no second derivative depends on a parameter (the formula is quadratic in its parameters;
    the data columns may appear), so the Hessian is the same at every point.
    """

    n_params: int
    pairs: tuple[tuple[int, int], ...]
    _entries: Any
    constant: bool = False

    def summed(self, params: np.ndarray, columns: Sequence[np.ndarray], k: int) -> np.ndarray:
        """Σ over the k samples of the per-sample Hessians: params (..., p), columns m arrays
        of shape (k,) -> (..., p, p) (symmetric)."""
        params = np.asarray(params, dtype=np.float64)
        p = self.n_params
        if params.ndim == 0 or params.shape[-1] != p:
            raise ValueError(f"params must have shape (..., {p}), got {params.shape}")
        args = [params[..., i, None] for i in range(p)] + \
            [np.asarray(c, dtype=np.float64) for c in columns]
        lead = params.shape[:-1]
        out = np.empty(lead + (p, p))
        with np.errstate(all="ignore"):
            for (i, j), value in zip(self.pairs, self._entries(*args)):
                total = np.broadcast_to(value, lead + (k,)).sum(axis=-1)
                out[..., i, j] = total
                out[..., j, i] = total
        return out


def compile_hessian(compiled: CompiledFormula, budget: float = HESSIAN_BUDGET
                    ) -> CompiledHessian:
    """Differentiate ``compiled``'s gradient once more and compile the Hessian.

    Raises FormulaError when a second derivative is undefined everywhere, has more than
    ``MAX_GRADIENT_NODES`` distinct parts, or the work takes longer than ``budget`` seconds.
    """
    p = len(compiled.param_names)
    psyms = compiled.arg_symbols[:p]
    pairs = tuple((i, j) for i in range(p) for j in range(i, p))

    def differentiate() -> list[sp.Expr]:
        entries = [sp.diff(compiled.grad_exprs[i], psyms[j]) for i, j in pairs]
        for entry in entries:
            _check_values(entry, "second derivative")
            if entry.has(sp.Derivative):
                raise FormulaError("the formula has no second derivative gdviz can compute")
        if sum(dag_size(e) for e in entries) > MAX_GRADIENT_NODES:
            raise FormulaError(f"the Hessian has more than {MAX_GRADIENT_NODES} distinct "
                               "parts; simplify the formula")
        return entries

    def generate():
        entries = differentiate()
        modules = [NUMPY_FUNCTIONS, "numpy"]
        constant = not any(e.free_symbols & set(psyms) for e in entries)
        return sp.lambdify(list(compiled.arg_symbols), [_floatify(e) for e in entries],
                           modules=modules, cse=True, docstring_limit=0), constant

    try:
        entries, constant = call_with_deadline(generate, budget)
    except DeadlineExceeded:
        raise FormulaError(f"the formula's Hessian takes longer than {budget:g} s to derive; "
                           "simplify the formula") from None
    return CompiledHessian(p, pairs, entries, constant)
