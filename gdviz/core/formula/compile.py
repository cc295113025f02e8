"""Differentiate a parsed formula exactly and compile loss and gradient to vectorised numpy.

Steps, and why each is safe and bounded:
1. ``symbolic.to_sympy`` builds sympy objects from our AST (no text parsing by sympy). The
   parser has already bounded size, depth and every constant, so building cannot explode.
2. ``sympy.diff`` per parameter. sympy has no timeout, so building + differentiating +
   compiling run under ``deadline.call_with_deadline``: past ``TIME_BUDGET`` seconds the
   formula is refused with a message.
3. Light tidying (``factor_terms`` on small derivatives, kept only if shorter) in the first
   half of the budget; never ``simplify``, whose cost on powers of sums is unbounded. If the
   time is up, the plain derivatives are used.
4. ``sympy.lambdify(modules="numpy")`` generates code from *these sympy objects*: identifiers
   are our ``v000, v001, ...``, functions come from a fixed table, numbers are printed by
   sympy. Large integers are turned into floats first so numpy never sees a huge Python int.

The compiled functions broadcast params (..., p) against data columns (k,) to (..., k) and
silence floating-point warnings: overflow becomes inf/nan, which the runner reports as a
diverged run.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp
from sympy.printing.str import StrPrinter

from gdviz.core.formula.deadline import DeadlineExceeded, call_with_deadline
from gdviz.core.formula.limits import MAX_GRADIENT_NODES, TIME_BUDGET
from gdviz.core.formula.nodes import FormulaError
from gdviz.core.formula.numeric import NUMPY_FUNCTIONS
from gdviz.core.formula.parser import Formula, parse_formula
from gdviz.core.formula.symbolic import to_sympy

_BAD_ATOMS = (sp.I, sp.zoo, sp.oo, -sp.oo, sp.nan)
_INT_LIMIT = 2**53
_TIDY_MAX_SIZE = 60  # factor_terms + count_ops on bigger ones cost more than they give


@dataclass(frozen=True)
class CompiledFormula:
    """A formula with its exact gradient, ready to evaluate.

    Attributes:
        param_names:    the parameters, in the order of every params vector
        column_names:   the data columns the formula uses, in the order ``columns`` are given
        expr_text:      the loss as sympy prints it, with the user's names
        gradient_text:  one line per parameter: ``"∂ℓ/∂w = 2*x*(b + w*x - y)"``
        derivative_text: the right-hand sides alone
        simplified:     False when the time budget left no time to tidy the derivatives
        seconds:        time spent differentiating and compiling
    """

    param_names: tuple[str, ...]
    column_names: tuple[str, ...]
    expr_text: str
    gradient_text: tuple[str, ...]
    derivative_text: tuple[str, ...]
    simplified: bool
    seconds: float
    _loss: Any = field(repr=False, compare=False, default=None)
    _grads: Any = field(repr=False, compare=False, default=None)
    # the sympy derivatives and argument symbols (params, then columns), kept for the Hessian
    # (formula/hessian.py differentiates them again, on first use)
    grad_exprs: tuple = field(repr=False, compare=False, default=())
    arg_symbols: tuple = field(repr=False, compare=False, default=())

    def _args(self, params: np.ndarray, columns: Sequence[np.ndarray]) -> list[np.ndarray]:
        params = np.asarray(params, dtype=np.float64)
        p = len(self.param_names)
        if params.ndim == 0 or params.shape[-1] != p:
            raise ValueError(f"params must have shape (..., {p}), got {params.shape}")
        if len(columns) != len(self.column_names):
            raise ValueError(f"expected {len(self.column_names)} data columns, "
                             f"got {len(columns)}")
        return [params[..., i, None] for i in range(p)] + \
            [np.asarray(c, dtype=np.float64) for c in columns]

    def losses(self, params: np.ndarray, columns: Sequence[np.ndarray], k: int) -> np.ndarray:
        """Per-sample losses: params (..., p), columns m arrays of shape (k,) -> (..., k)."""
        args = self._args(params, columns)
        out = np.empty(np.shape(params)[:-1] + (k,))
        with np.errstate(all="ignore"):
            out[...] = self._loss(*args)
        return out

    def grads(self, params: np.ndarray, columns: Sequence[np.ndarray], k: int) -> np.ndarray:
        """Per-sample gradients: params (..., p), columns (k,) each -> (..., k, p)."""
        args = self._args(params, columns)
        p = len(self.param_names)
        out = np.empty(np.shape(params)[:-1] + (k, p))
        with np.errstate(all="ignore"):
            for j, value in enumerate(self._grads(*args)):
                out[..., j] = value  # constants (e.g. 2) broadcast to the full shape
        return out


class _NamePrinter(StrPrinter):
    """sympy's str printer showing the user's names instead of our identifiers (printing
    only; no expression is rebuilt, so a tidied form like 2*(b + w*x - y) survives)."""

    def __init__(self, names: dict[str, str]) -> None:
        super().__init__()
        self._names = names

    def _print_Symbol(self, expr: sp.Symbol) -> str:
        return self._names.get(expr.name, expr.name)


def _check_values(expr: sp.Expr, what: str) -> None:
    if any(expr.has(atom) for atom in _BAD_ATOMS):
        raise FormulaError(f"the {what} is undefined or complex for every value (it reduces "
                           "to a division by zero, an infinity or an imaginary number)")


def _floatify(expr: sp.Expr) -> sp.Expr:
    """Huge exact integers/rationals -> floats, so generated code holds no giant int."""
    big = {a: sp.Float(a) for a in expr.atoms(sp.Rational)
           if abs(a.p) > _INT_LIMIT or a.q > _INT_LIMIT}
    return expr.xreplace(big) if big else expr


def dag_size(expr: sp.Expr) -> int:
    """Distinct sub-expressions of ``expr`` (what common-subexpression elimination keeps);
    linear time, unlike ``count_ops`` which re-counts shared subtrees."""
    seen: set[sp.Basic] = set()
    stack = [expr]
    while stack:
        node = stack.pop()
        if node not in seen:
            seen.add(node)
            stack.extend(node.args)
    return len(seen)


def _tidy(grads: list[sp.Expr]) -> list[sp.Expr]:
    """``factor_terms`` where it makes a small derivative shorter (2*b + 2*w*x - 2*y ->
    2*(b + w*x - y)); large ones are left alone."""
    out = []
    for g in grads:
        if dag_size(g) <= _TIDY_MAX_SIZE:
            tidied = sp.factor_terms(g)
            g = tidied if sp.count_ops(tidied) < sp.count_ops(g) else g
        out.append(g)
    return out


def _timed(func, seconds: float, why: str):
    try:
        return call_with_deadline(func, seconds)
    except DeadlineExceeded:
        raise FormulaError(f"{why} takes longer than {TIME_BUDGET:g} s; simplify the "
                           "formula") from None


_warm = [False]


def _warm_up() -> None:
    """Pay sympy's one-time costs (lazy imports in lambdify, cse, printers: ~0.3 s) outside
    the time budget, so a user's first formula is not judged by them."""
    text = "sigmoid(a*b) + softplus(a) + relu(a) + abs(a) + min(a, b) + log1p(a) + exp(a)"
    _warm[0] = True
    compile_formula(parse_formula(text), ["a"], ["b"], budget=60.0)


def compile_formula(formula: Formula, params: Sequence[str], columns: Sequence[str] = (),
                    budget: float = TIME_BUDGET) -> CompiledFormula:
    """Differentiate ``formula`` with respect to ``params`` and compile it.

    ``params`` and ``columns`` together must cover ``formula.names`` (see
    ``resolve.resolve_names``). Raises FormulaError when the formula is complex-valued or
    undefined everywhere, or when building, differentiating and compiling it does not finish
    within ``budget`` seconds (derivatives are tidied only in the first half of the budget;
    past it they are used as sympy returns them).
    """
    if not _warm[0]:
        _warm_up()
    start = time.perf_counter()
    # Our own identifiers v000, v001, ... numbered in the sorted order of the user's names, so
    # sympy orders terms exactly as it would with the user's names (for readable text).
    every = list(params) + list(columns)
    rank = {name: i for i, name in enumerate(sorted(every))}
    symbols = {name: sp.Symbol(f"v{rank[name]:03d}") for name in every}
    missing = [n for n in formula.names if n not in symbols]
    if missing:
        raise ValueError(f"names not resolved: {missing}")
    psyms = [symbols[name] for name in params]
    args = psyms + [symbols[name] for name in columns]

    def differentiate() -> tuple[sp.Expr, list[sp.Expr]]:
        loss = to_sympy(formula.tree, symbols)
        _check_values(loss, "formula")
        grads = [sp.diff(loss, sym) for sym in psyms]
        for g in grads:
            _check_values(g, "gradient")
        if sum(dag_size(g) for g in grads) > MAX_GRADIENT_NODES:
            raise FormulaError(f"the gradient has more than {MAX_GRADIENT_NODES} distinct "
                               "parts; simplify the formula")
        return loss, grads

    loss, grads = _timed(differentiate, budget, "differentiating the formula")
    simplified = False
    remaining = start + budget / 2 - time.perf_counter()
    if remaining > 0:
        try:
            grads = call_with_deadline(lambda: _tidy(grads), remaining)
            simplified = True
        except DeadlineExceeded:
            pass  # keep the derivatives as sympy returned them

    def generate():
        modules = [NUMPY_FUNCTIONS, "numpy"]
        loss_fn = sp.lambdify(args, _floatify(loss), modules=modules, docstring_limit=0)
        grads_fn = sp.lambdify(args, [_floatify(g) for g in grads], modules=modules,
                               cse=True, docstring_limit=0)
        printer = _NamePrinter({symbols[n].name: n for n in every})
        texts = tuple(printer.doprint(g) for g in grads)
        return loss_fn, grads_fn, printer.doprint(loss), texts

    remaining = start + budget - time.perf_counter()
    loss_fn, grads_fn, expr_text, derivative_text = _timed(
        generate, remaining, "compiling the formula and its gradient")
    return CompiledFormula(
        param_names=tuple(params), column_names=tuple(columns), expr_text=expr_text,
        gradient_text=tuple(f"∂ℓ/∂{n} = {t}" for n, t in zip(params, derivative_text)),
        derivative_text=derivative_text, simplified=simplified,
        seconds=time.perf_counter() - start, _loss=loss_fn, _grads=grads_fn,
        grad_exprs=tuple(grads), arg_symbols=tuple(args))
