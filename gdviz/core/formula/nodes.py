"""The formula AST (our own, not Python's), the table of allowed functions, and FormulaError.

A formula is *data*: the parser turns the user's text into these small frozen nodes, and
everything downstream (limit checks, sympy conversion, numeric evaluation of generated data)
walks the nodes. No user text is ever handed to ``eval``, ``exec``, ``compile``,
``sympy.sympify`` or ``sympy.parse_expr``; the only strings that survive parsing are names
that matched ``[A-Za-z][A-Za-z0-9_]*`` and number literals already converted to float.

Positions (``pos``) are 0-based character offsets into the formula text; messages and
``FormulaError.position`` use 1-based columns, as people count.
"""

from __future__ import annotations

from dataclasses import dataclass

from gdviz.core.errors import ConfigError

# name -> number of arguments. Order is the order shown to users in messages.
FUNCTIONS: dict[str, int] = {
    "exp": 1, "log": 1, "log1p": 1, "sqrt": 1, "abs": 1,
    "sin": 1, "cos": 1, "tan": 1, "tanh": 1,
    "sigmoid": 1, "softplus": 1, "relu": 1,
    "min": 2, "max": 2,
}
# Random draws: only in a data_expr (they make the formula non-deterministic, so a loss
# may not use them; its gradient would be meaningless).
RANDOM_FUNCTIONS: dict[str, int] = {"normal": 2, "uniform": 2}


class FormulaError(ConfigError):
    """A formula the user typed cannot be accepted.

    ``str(err)`` is the message to show, e.g. ``"expr: position 5: unknown function 'eval';
    allowed: exp, log, ..."``. For an editor that underlines the culprit:

    Attributes:
        reason:   the message without the setting / position prefix
        position: 1-based column of the first offending character, or None when the whole
                  input is to blame (empty, too long as a whole, ...)
        length:   how many characters to underline from ``position`` (>= 0)
        setting:  which setting the text came from (``"expr"``, ``"data_expr"``, ``"params"``),
                  or None
    """

    def __init__(self, reason: str, position: int | None = None, length: int = 1,
                 setting: str | None = None) -> None:
        self.reason = reason
        self.position = position
        self.length = max(0, int(length))
        self.setting = setting
        prefix = f"{setting}: " if setting else ""
        where = f"position {position}: " if position is not None else ""
        super().__init__(f"{prefix}{where}{reason}")

    @property
    def offset(self) -> int | None:
        """0-based character offset of ``position`` (None when there is no position)."""
        return None if self.position is None else self.position - 1

    def for_setting(self, setting: str) -> FormulaError:
        """The same error, labelled with the setting the text came from."""
        return FormulaError(self.reason, self.position, self.length, setting)


def error_at(reason: str, pos: int | None, length: int = 1) -> FormulaError:
    """A FormulaError at 0-based offset ``pos`` (None: no position)."""
    return FormulaError(reason, None if pos is None else pos + 1, length)


@dataclass(frozen=True, slots=True)
class Num:
    """A finite number literal; ``text`` is what the user typed."""

    value: float
    text: str
    pos: int
    length: int


@dataclass(frozen=True, slots=True)
class Name:
    """A parameter or data-column name (never a function name)."""

    name: str
    pos: int
    length: int


@dataclass(frozen=True, slots=True)
class Unary:
    """``-operand`` or ``+operand``; ``pos`` is the sign."""

    op: str
    operand: Node
    pos: int
    length: int = 1


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right`` with op in ``+ - * / **`` (``^`` is stored as ``**``); ``pos`` is the
    operator."""

    op: str
    left: Node
    right: Node
    pos: int
    length: int


@dataclass(frozen=True, slots=True)
class Call:
    """A call of an allowed function; ``pos``/``length`` cover the function name."""

    func: str
    args: tuple[Node, ...]
    pos: int
    length: int


Node = Num | Name | Unary | Binary | Call


def walk(node: Node):
    """Every node of the tree, parents before children (iterative: no recursion limit)."""
    stack = [node]
    while stack:
        item = stack.pop()
        yield item
        if isinstance(item, Unary):
            stack.append(item.operand)
        elif isinstance(item, Binary):
            stack.extend((item.right, item.left))
        elif isinstance(item, Call):
            stack.extend(reversed(item.args))


def span(node: Node) -> tuple[int, int]:
    """(start, end) 0-based character span of the whole subtree, for underlining."""
    positions = [(n.pos, n.pos + n.length) for n in walk(node)]
    start = min(p[0] for p in positions)
    end = max(p[1] for p in positions)
    if isinstance(node, Call):
        end += 1  # the closing parenthesis
    return start, end
