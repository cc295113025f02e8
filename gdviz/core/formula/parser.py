"""A recursive-descent parser from formula text to our own AST (``nodes.py``).

Grammar (Python's precedence; ``^`` is a synonym of ``**``)::

    formula    := [NAME '='] expr END        (the "NAME =" part only in a data formula)
    expr       := term (('+' | '-') term)*
    term       := unary (('*' | '/') unary)*
    unary      := ('+' | '-') unary | power
    power      := primary [('**' | '^') unary]          (right-associative: 2**3**2 = 2**9)
    primary    := NUMBER | NAME | FUNCTION '(' expr (',' expr)* ')' | '(' expr ')'

Why not Python's ``ast``: it would accept the whole Python language first and we would have
to reject almost all of it; this grammar accepts exactly what a formula may contain, so
anything else (attribute access, subscripts, lambdas, comprehensions, keywords, strings,
``:=``, ``*args``, keyword arguments, comparisons, booleans, conditionals) can never reach
the rest of gdviz. Nothing is executed while parsing. Limits (length, depth, node count, and
exponent sizes via ``limits.fold_constants``) are enforced during the parse, so hostile input
costs at most one linear pass over at most MAX_LENGTH characters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gdviz.core.formula.limits import MAX_DEPTH, MAX_LENGTH, MAX_NODES, fold_constants
from gdviz.core.formula.nodes import (
    FUNCTIONS,
    RANDOM_FUNCTIONS,
    Binary,
    Call,
    FormulaError,
    Name,
    Node,
    Num,
    Unary,
    error_at,
)
from gdviz.core.formula.tokens import RESERVED, Token, reserved_error, tokenize


@dataclass(frozen=True)
class Formula:
    """A parsed, checked formula.

    Attributes:
        text:       the text as typed
        tree:       the root node
        names:      parameter/column names in order of first appearance (functions excluded,
                    the target of a data formula excluded)
        positions:  name -> (0-based offset, length) of its first appearance
        n_nodes:    number of nodes in the tree
        target:     for a data formula ``y = ...``: the name left of '=' (else None)
        constants:  ``id(node) -> value`` of every constant sub-expression (checked finite)
    """

    text: str
    tree: Node
    names: tuple[str, ...]
    positions: dict[str, tuple[int, int]] = field(repr=False)
    n_nodes: int = 0
    target: str | None = None
    constants: dict[int, float] = field(default_factory=dict, repr=False)


def _allowed(random: bool) -> str:
    names = list(FUNCTIONS) + (list(RANDOM_FUNCTIONS) if random else [])
    return ", ".join(names)


def _describe(token: Token) -> str:
    return "the end of the formula" if token.kind == "end" else f"'{token.text}'"


class _Parser:
    def __init__(self, text: str, random: bool) -> None:
        self.text = text
        self.source = tokenize(text)
        self.tokens: list[Token] = []  # read so far; the tokenizer runs only as far as needed
        self.i = 0
        self.random = random
        self.depth = 0
        self.n_nodes = 0
        self.names: dict[str, tuple[int, int]] = {}

    # -- helpers ------------------------------------------------------------------------------
    def peek(self, ahead: int = 0) -> Token:
        while len(self.tokens) <= self.i + ahead and (
                not self.tokens or self.tokens[-1].kind != "end"):
            self.tokens.append(next(self.source))
        return self.tokens[min(self.i + ahead, len(self.tokens) - 1)]

    def take(self) -> Token:
        token = self.peek()
        self.i += 1
        return token

    def is_op(self, *ops: str) -> bool:
        token = self.peek()
        return token.kind == "op" and token.text in ops

    def enter(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise error_at(f"the formula is nested more than {MAX_DEPTH} levels deep "
                           "(parentheses, signs, powers or calls)", token.pos,
                           max(1, len(token.text)))

    def node(self, node: Node) -> Node:
        self.n_nodes += 1
        if self.n_nodes > MAX_NODES:
            raise error_at(f"the formula has more than {MAX_NODES} parts (numbers, names, "
                           "operators and calls); simplify it", node.pos, node.length)
        return node

    def unexpected(self, token: Token) -> FormulaError:
        """The error for a token where an operator or the end was expected."""
        if token.kind == "op" and token.text == ")":
            return error_at("')' has no matching '('", token.pos)
        if token.kind == "op" and token.text == ",":
            return error_at("',' is only allowed between the arguments of a function, as in "
                            "max(a, b)", token.pos)
        if token.kind == "op" and token.text == "=":
            return error_at("'=' is not allowed here: a formula has no assignments or keyword "
                            "arguments", token.pos)
        if token.kind == "op" and token.text == "(":
            return error_at("missing operator before '(' (write * for a product)", token.pos)
        return error_at(f"missing operator before '{token.text}' (write * for a product)",
                        token.pos, len(token.text))

    # -- grammar ------------------------------------------------------------------------------
    def expr(self) -> Node:
        left = self.term()
        while self.is_op("+", "-"):
            op = self.take()
            left = self.node(Binary(op.text, left, self.term(), op.pos, 1))
        return left

    def term(self) -> Node:
        left = self.unary()
        while self.is_op("*", "/"):
            op = self.take()
            left = self.node(Binary(op.text, left, self.unary(), op.pos, 1))
        return left

    def unary(self) -> Node:
        if self.is_op("+", "-"):
            op = self.take()
            self.enter(op)
            operand = self.unary()
            self.depth -= 1
            return self.node(Unary(op.text, operand, op.pos))
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        if self.is_op("**", "^"):
            op = self.take()
            self.enter(op)
            exponent = self.unary()
            self.depth -= 1
            return self.node(Binary("**", base, exponent, op.pos, len(op.text)))
        return base

    def primary(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return self.node(Num(token.value, token.text, token.pos, len(token.text)))
        if token.kind == "name":
            if self.is_op("("):
                return self.call(token)
            if token.text in RESERVED:
                raise reserved_error(token.text, token.pos)
            if token.text in FUNCTIONS or token.text in RANDOM_FUNCTIONS:
                raise error_at(f"'{token.text}' is a function: write {token.text}(...)",
                               token.pos, len(token.text))
            self.names.setdefault(token.text, (token.pos, len(token.text)))
            return self.node(Name(token.text, token.pos, len(token.text)))
        if token.kind == "op" and token.text == "(":
            self.enter(token)
            if self.is_op(")"):
                raise error_at("empty parentheses: put a value inside ( )", token.pos, 2)
            inner = self.expr()
            self.close(token)
            self.depth -= 1
            return inner
        if token.kind == "end":
            raise error_at("the formula ends too early: expected a number, a name or '('",
                           token.pos, 1)
        if token.text in ("*", "**", "/", "^"):
            raise error_at(f"'{token.text}' needs a value on its left (there is no *args "
                           "unpacking in a formula)", token.pos, len(token.text))
        if token.text == ")":
            raise error_at("expected a number, a name or '(' before ')'", token.pos)
        raise self.unexpected(token)

    def close(self, opening: Token) -> None:
        """Consume the ')' that closes ``opening``."""
        token = self.peek()
        if token.kind == "op" and token.text == ")":
            self.take()
            return
        if token.kind == "end":
            raise error_at("this '(' is never closed", opening.pos)
        raise self.unexpected(token)

    def call(self, name: Token) -> Node:
        func = name.text
        n = len(func)
        if func in RANDOM_FUNCTIONS and not self.random:
            raise error_at(f"{func}() draws random numbers; it is only allowed in the data "
                           "formula (data_expr), not in the loss", name.pos, n)
        arity = FUNCTIONS.get(func) or (RANDOM_FUNCTIONS.get(func) if self.random else None)
        if arity is None:
            hint = "" if func in RESERVED else \
                f" (for a product, write {func}*(...))"
            raise error_at(f"unknown function '{func}'; allowed: {_allowed(self.random)}{hint}",
                           name.pos, n)
        opening = self.take()
        self.enter(opening)
        args: list[Node] = []
        if not self.is_op(")"):
            while True:
                args.append(self.expr())
                if self.is_op(","):
                    self.take()
                    continue
                break
        self.close(opening)
        self.depth -= 1
        if len(args) != arity:
            plural = "argument" if arity == 1 else "arguments"
            raise error_at(f"{func} takes {arity} {plural}, got {len(args)}", name.pos, n)
        return self.node(Call(func, tuple(args), name.pos, n))


def parse_formula(text: str, *, data: bool = False) -> Formula:
    """Parse and check ``text``; raise FormulaError (with a 1-based position) if it is not a
    valid formula.

    ``data=True`` parses a data formula: ``normal(mean, std)`` and ``uniform(lo, hi)`` are
    allowed, and the text may start with ``NAME =`` naming the generated column.
    """
    if not isinstance(text, str):
        raise FormulaError(f"a formula must be text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"the formula is {len(text)} characters long; the limit is "
                           f"{MAX_LENGTH}", MAX_LENGTH + 1, len(text) - MAX_LENGTH)
    if not text.strip():
        raise FormulaError("the formula is empty", None, 0)
    parser = _Parser(text, random=data)
    target = None
    first = parser.peek()
    if data and first.kind == "name" and parser.peek(1).kind == "op" \
            and parser.peek(1).text == "=":
        target = first.text
        if target in FUNCTIONS or target in RANDOM_FUNCTIONS:
            raise error_at(f"'{target}' is a function, not a column name", 0, len(target))
        parser.i = 2
    tree = parser.expr()
    end = parser.peek()
    if end.kind != "end":
        if end.kind == "op" and end.text == "=" and data and target is not None:
            raise error_at("only one '=' is allowed: write NAME = formula", end.pos)
        if end.kind == "op" and end.text == "=" and data:
            raise error_at("left of '=' must be just the name of the generated column, "
                           "as in y = 3*x + normal(0, 1)", end.pos)
        raise parser.unexpected(end)
    if target is not None and target in parser.names:
        pos, length = parser.names[target]
        raise error_at(f"'{target}' is defined by this formula and cannot appear on its "
                       "right side", pos, length)
    constants = fold_constants(tree)
    return Formula(text=text, tree=tree, names=tuple(parser.names), positions=parser.names,
                   n_nodes=parser.n_nodes, target=target, constants=constants)
