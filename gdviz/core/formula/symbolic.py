"""Our AST -> sympy expressions, built programmatically, and the helper functions sympy lacks.

Why built programmatically: ``sympy.sympify`` / ``parse_expr`` run ``eval`` on text, so user
text never goes near them. Instead every node becomes ``sympy.Symbol`` / ``Integer`` /
``Rational`` / ``Float`` / ``sympy.exp`` ... objects here. Symbols get names *we* choose
(``v000``, ``v001``, ...), so the code that ``lambdify`` later
generates contains only our identifiers, sympy's printing of numbers, and the fixed function
names below.

Non-smooth functions (abs, relu, min, max) and sigmoid/softplus are our own sympy Function
classes with explicit derivatives, so sympy never rewrites them with complex-number helpers
(``re``, ``im``, ``Piecewise``) and each maps to one numerically stable numpy function.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp
from sympy.codegen.cfunctions import log1p as _log1p

from gdviz.core.formula.nodes import Binary, Call, Name, Node, Num, Unary


def _named(cls: type, name: str) -> type:
    """Give a Function class the name users see in gradient text and lambdify prints."""
    cls.__name__ = name
    cls.__qualname__ = name
    return cls


class Step(sp.Function):
    """step(z): 1 for z > 0, 0 for z < 0, 1/2 at 0 (the derivative of relu, max, min).
    Its own derivative is taken as 0 (true everywhere but at the kink, where a gradient or
    Hessian of these functions has no value anyway)."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero


class Sign(sp.Function):
    """sign(z), the derivative of abs; its derivative is 0 (everywhere but at the kink).
    sympy's own ``sign`` leaves ``Derivative(sign(z), z)`` unevaluated."""

    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return sp.S.Zero


class Sigmoid(sp.Function):
    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        s = Sigmoid(self.args[0])
        return s * (1 - s)


class Softplus(sp.Function):
    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return Sigmoid(self.args[0])


class Relu(sp.Function):
    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return Step(self.args[0])


class AbsVal(sp.Function):
    nargs = 1

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        return Sign(self.args[0])


class Min2(sp.Function):
    nargs = 2

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args
        return Step(b - a) if argindex == 1 else Step(a - b)


class Max2(sp.Function):
    nargs = 2

    def fdiff(self, argindex: int = 1) -> sp.Expr:
        a, b = self.args
        return Step(a - b) if argindex == 1 else Step(b - a)


for _cls, _name in ((Step, "step"), (Sign, "sign"), (Sigmoid, "sigmoid"), (Softplus, "softplus"),
                    (Relu, "relu"), (AbsVal, "abs"), (Min2, "min"), (Max2, "max")):
    _named(_cls, _name)


_SYMPY_FUNCTIONS = {
    "exp": sp.exp, "log": sp.log, "log1p": _log1p, "sqrt": sp.sqrt, "abs": AbsVal,
    "sin": sp.sin, "cos": sp.cos, "tan": sp.tan, "tanh": sp.tanh,
    "sigmoid": Sigmoid, "softplus": Softplus, "relu": Relu, "min": Min2, "max": Max2,
}
_EXACT_LIMIT = 10**15


def number(node: Num) -> sp.Expr:
    """An exact sympy number for short decimals (0.1 -> 1/10, reads well in gradient text),
    a Float otherwise. ``Fraction`` parses the already-validated decimal literal; nothing is
    evaluated."""
    frac = Fraction(node.text)
    if abs(frac.numerator) < _EXACT_LIMIT and frac.denominator < _EXACT_LIMIT:
        return sp.Rational(frac.numerator, frac.denominator)
    return sp.Float(node.value)


def to_sympy(tree: Node, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    """Convert a checked tree (depth <= MAX_DEPTH, so recursion is bounded) to sympy."""
    if isinstance(tree, Num):
        return number(tree)
    if isinstance(tree, Name):
        return symbols[tree.name]
    if isinstance(tree, Unary):
        inner = to_sympy(tree.operand, symbols)
        return -inner if tree.op == "-" else inner
    if isinstance(tree, Binary):
        a, b = to_sympy(tree.left, symbols), to_sympy(tree.right, symbols)
        if tree.op == "+":
            return a + b
        if tree.op == "-":
            return a - b
        if tree.op == "*":
            return a * b
        if tree.op == "/":
            return a / b
        return sp.Pow(a, b)
    if isinstance(tree, Call):
        func = _SYMPY_FUNCTIONS[tree.func]  # KeyError impossible: the parser whitelists
        return func(*(to_sympy(arg, symbols) for arg in tree.args))
    raise TypeError(f"not a formula node: {type(tree).__name__}")
