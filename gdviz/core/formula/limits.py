"""Size limits for formulas and the constant-folding guard.

Why limits: a formula is untrusted input, and symbolic algebra can be made to do unbounded
work. Python evaluates ``9**9**9`` exactly (hundreds of millions of digits) and sympy does the
same for ``Integer**Integer`` as soon as the expression is *built*, so huge powers must be
refused before any library sees them. The guard here evaluates every constant sub-expression
in ordinary float arithmetic (``math``), where nothing can grow past 1.8e308, and checks
exponents against a small bound *before* raising anything to them.
"""

from __future__ import annotations

import math

from gdviz.core.formula.nodes import Binary, Call, Name, Node, Num, Unary, error_at, span

MAX_LENGTH = 2000          # characters of formula text
MAX_DEPTH = 50             # nesting of parentheses / operators / calls
MAX_NODES = 500            # numbers + names + operators + calls
MAX_NAME_LENGTH = 64       # characters of one name
MAX_EXPONENT = 100         # |exponent| of a power whose exponent is a constant
MAX_CONSTANT = 1e300       # magnitude of any constant sub-expression
MIN_CONSTANT = 1e-300      # non-zero constants smaller than this underflow
MAX_PARAMS = 20            # parameters of a custom problem
MAX_DATA_CELLS = 10_000_000  # rows x columns of a custom problem's data
TIME_BUDGET = 1.0          # seconds to build, differentiate, tidy and compile a formula
MAX_GRADIENT_NODES = 20_000  # distinct sub-expressions in all derivatives together


def _constant(value: float, node: Node, what: str) -> float:
    """Refuse constants that are not finite, too large or (non-zero and) too small."""
    start, end = span(node)
    if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
        raise error_at(f"the constant part {what} is too large (beyond ±1e300); "
                       "gdviz does not compute it", start, end - start)
    if value != 0.0 and abs(value) < MIN_CONSTANT:
        raise error_at(f"the constant part {what} is too close to zero (below 1e-300)",
                       start, end - start)
    return value


def _apply(func: str, args: list[float]) -> float:
    """A whitelisted function on floats; math errors are raised as ValueError/Overflow."""
    (a, *rest) = args
    if func == "exp":
        return math.exp(a)
    if func == "log":
        return math.log(a)
    if func == "log1p":
        return math.log1p(a)
    if func == "sqrt":
        return math.sqrt(a)
    if func == "abs":
        return abs(a)
    if func in ("sin", "cos", "tan", "tanh"):
        return getattr(math, func)(a)
    if func == "sigmoid":
        return 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
    if func == "softplus":
        return max(a, 0.0) + math.log1p(math.exp(-abs(a)))
    if func == "relu":
        return max(a, 0.0)
    if func == "min":
        return min(a, rest[0])
    if func == "max":
        return max(a, rest[0])
    raise ValueError(func)  # normal/uniform are never constant-folded


def check_exponent(exponent: float, node: Binary) -> None:
    """Constant exponents must satisfy |e| <= MAX_EXPONENT (checked before any power)."""
    if abs(exponent) > MAX_EXPONENT:
        start, end = span(node.right)
        shown = f"{exponent:.6g}"
        raise error_at(f"the exponent {shown} is too large; constant exponents must be "
                       f"between -{MAX_EXPONENT} and {MAX_EXPONENT}", start, end - start)


def fold_constants(tree: Node) -> dict[int, float]:
    """Check every constant sub-expression; return ``{id(node): value}`` for them.

    Walks the tree bottom-up without recursion. Raises FormulaError at the offending
    sub-expression for: constant exponents beyond ±MAX_EXPONENT, constants beyond
    ±1e300, division by zero, and undefined values such as ``log(0)`` or ``sqrt(-1)``.
    """
    values: dict[int, float] = {}
    constant: dict[int, bool] = {}
    order = []
    stack: list[tuple[Node, bool]] = [(tree, False)]
    while stack:  # post-order: children before parents
        node, done = stack.pop()
        if done:
            order.append(node)
            continue
        stack.append((node, True))
        children = (node.operand,) if isinstance(node, Unary) else \
            (node.left, node.right) if isinstance(node, Binary) else \
            node.args if isinstance(node, Call) else ()
        stack.extend((child, False) for child in reversed(children))
    for node in order:
        if isinstance(node, Num):
            constant[id(node)] = True
            values[id(node)] = _constant(node.value, node, repr(node.text))
            continue
        if isinstance(node, Name):
            constant[id(node)] = False
            continue
        if isinstance(node, Binary) and node.op == "**" and constant[id(node.right)]:
            check_exponent(values[id(node.right)], node)
        children = (node.operand,) if isinstance(node, Unary) else \
            (node.left, node.right) if isinstance(node, Binary) else node.args
        is_const = all(constant[id(c)] for c in children) and not (
            isinstance(node, Call) and node.func not in _FOLDABLE)
        constant[id(node)] = is_const
        if is_const:
            values[id(node)] = _fold(node, [values[id(c)] for c in children])
    return {k: v for k, v in values.items() if constant[k]}


def _fold(node: Node, args: list[float]) -> float:
    start, end = span(node)
    try:
        if isinstance(node, Unary):
            value = -args[0] if node.op == "-" else args[0]
        elif isinstance(node, Call):
            value = _apply(node.func, args)
        else:
            a, b = args
            if node.op == "+":
                value = a + b
            elif node.op == "-":
                value = a - b
            elif node.op == "*":
                value = a * b
            elif node.op == "/":
                value = a / b
            else:
                value = math.pow(a, b)  # exponent already bounded; never complex
    except ZeroDivisionError:
        raise error_at("division by zero in a constant part of the formula",
                       start, end - start) from None
    except OverflowError:
        raise error_at("a constant part of the formula is too large (beyond ±1e300)",
                       start, end - start) from None
    except ValueError:
        raise error_at("a constant part of the formula is undefined (e.g. log of a number "
                       "<= 0, sqrt of a negative number, or a negative number to a "
                       "fractional power)", start, end - start) from None
    underflow = value == 0.0 and all(a != 0.0 for a in args) and (
        (isinstance(node, Binary) and node.op in ("*", "/", "**"))
        or (isinstance(node, Call) and node.func == "exp"))
    if underflow:  # e.g. (1e-300)**100: exactly, a number with 30 000 digits
        raise error_at("a constant part of the formula is too close to zero (below 1e-300)",
                       start, end - start)
    return _constant(value, node, "of the formula")


_FOLDABLE = frozenset({"exp", "log", "log1p", "sqrt", "abs", "sin", "cos", "tan", "tanh",
                       "sigmoid", "softplus", "relu", "min", "max"})
