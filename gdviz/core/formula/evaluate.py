"""Evaluate a data formula (``y = 3*x + normal(0, 2)``) on numpy arrays to generate a dataset.

This is a small tree-walking interpreter over our own AST: no code is generated and nothing
is executed but the whitelisted numpy operations below. Random draws come from the caller's
seeded ``numpy.random.Generator``, in the order the calls appear in the formula, so the same
seed gives the same data.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from gdviz.core.formula.nodes import Binary, Call, Name, Node, Num, Unary, error_at, span
from gdviz.core.formula.numeric import relu, sigmoid, softplus

_UNARY = {
    "exp": np.exp, "log": np.log, "log1p": np.log1p, "sqrt": np.sqrt, "abs": np.abs,
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "tanh": np.tanh,
    "sigmoid": sigmoid, "softplus": softplus, "relu": relu,
}


def evaluate(tree: Node, env: Mapping[str, np.ndarray], n: int,
             rng: np.random.Generator) -> np.ndarray:
    """Values of ``tree`` for n rows: ``env`` maps names to (n,) arrays -> (n,) float64.

    Overflow gives inf/nan silently; the caller decides whether that is acceptable.
    Raises FormulaError for a negative std of ``normal``.
    """
    with np.errstate(all="ignore"):
        out = _eval(tree, env, n, rng)
    return np.broadcast_to(np.asarray(out, dtype=np.float64), (n,)).copy()


def _eval(node: Node, env: Mapping[str, np.ndarray], n: int, rng: np.random.Generator):
    if isinstance(node, Num):
        return node.value
    if isinstance(node, Name):
        return env[node.name]
    if isinstance(node, Unary):
        value = _eval(node.operand, env, n, rng)
        return -value if node.op == "-" else value
    if isinstance(node, Binary):
        a = np.asarray(_eval(node.left, env, n, rng), dtype=np.float64)
        b = np.asarray(_eval(node.right, env, n, rng), dtype=np.float64)
        if node.op == "+":
            return a + b
        if node.op == "-":
            return a - b
        if node.op == "*":
            return a * b
        if node.op == "/":
            return a / b
        return np.power(a, b)
    if isinstance(node, Call):
        args = [np.asarray(_eval(arg, env, n, rng), dtype=np.float64) for arg in node.args]
        if node.func == "normal":
            mean, std = (np.broadcast_to(a, (n,)) for a in args)
            if np.any(std < 0) or not np.all(np.isfinite(std)):
                start, end = span(node)
                raise error_at("normal(mean, std): std must be a finite number >= 0",
                               start, end - start)
            return rng.normal(mean, std)
        if node.func == "uniform":
            lo, hi = (np.broadcast_to(a, (n,)) for a in args)
            if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
                start, end = span(node)
                raise error_at("uniform(lo, hi): lo and hi must be finite numbers",
                               start, end - start)
            return rng.uniform(lo, hi)
        if node.func in ("min", "max"):
            return (np.minimum if node.func == "min" else np.maximum)(*args)
        return _UNARY[node.func](args[0])
    raise TypeError(f"not a formula node: {type(node).__name__}")


def generate(formula, x_min: float, x_max: float, n: int, seed: int
             ) -> tuple[tuple[str, str], np.ndarray, np.ndarray]:
    """Data from a parsed data formula ``target = f(input)``: the input column is drawn
    uniformly from [x_min, x_max], then the formula (with its noise) gives the target.

    ``formula`` comes from ``parse_formula(text, data=True)``; it may use at most one name
    (the input column, ``x`` when it uses none); the target is ``y`` unless named.
    Returns ((input name, target name), inputs (n,), targets (n,)); a FormulaError for a
    second input name or non-finite targets.
    """
    if len(formula.names) > 1:
        name = formula.names[1]
        pos, length = formula.positions[name]
        raise error_at(f"a data formula has one input column ({formula.names[0]}); "
                       f"'{name}' would be a second one", pos, length)
    source = formula.names[0] if formula.names else "x"
    target = formula.target or ("y" if source != "y" else "t")
    rng = np.random.default_rng(seed)
    x = rng.uniform(x_min, x_max, size=n)
    y = evaluate(formula.tree, {source: x}, n, rng)
    bad = np.flatnonzero(~np.isfinite(y))
    if bad.size:
        i = int(bad[0])
        raise error_at(f"the data formula gives a non-finite value at row {i + 1} "
                       f"({source} = {x[i]:.6g}); check divisions, logs and powers", None)
    return (source, target), x, y
