"""Split formula text into tokens, refusing every character that is not part of the grammar.

Why a hand-written tokenizer: it sees each character exactly once, accepts only plain ASCII
(so look-alikes such as a full-width 'ｅ' or a Cyrillic 'е' cannot smuggle a different name
past a reader), and can say *where* and *what* is wrong for anything else — strings, quotes,
brackets, attribute dots, comparisons, ``;``, ``:=``, backticks, line breaks. It produces
only four kinds of token: numbers (already converted to finite floats), names, operators and
the end.
"""

from __future__ import annotations

import keyword
import math
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

from gdviz.core.formula.limits import MAX_NAME_LENGTH
from gdviz.core.formula.nodes import error_at

_NUMBER = re.compile(r"(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[A-Za-z0-9_.]+")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = ("**", "+", "-", "*", "/", "^", "(", ")", ",", "=")
# Python built-ins that can run code or reach the system: refused even as plain names, so a
# formula can never *look* like it does something it does not.
RESERVED = frozenset({
    "eval", "exec", "compile", "open", "input", "globals", "locals", "vars", "dir",
    "getattr", "setattr", "delattr", "hasattr", "breakpoint", "help", "exit", "quit",
    "print", "object", "type", "super", "memoryview", "classmethod", "staticmethod",
    "property", "builtins", "import", "os", "sys", "subprocess", "importlib",
})


def reserved_error(word: str, pos: int):
    return error_at(f"'{word}' is not allowed as a name: a formula is a formula, not Python "
                    "code", pos, len(word))


_NOT_FINITE = frozenset({"nan", "inf", "infinity"})
_HINTS = {
    "'": "strings are not allowed in a formula",
    '"': "strings are not allowed in a formula",
    "`": "backticks are not allowed in a formula",
    "[": "square brackets are not allowed (no lists or indexing); use ( ) for grouping",
    "]": "square brackets are not allowed (no lists or indexing); use ( ) for grouping",
    "{": "braces are not allowed; use ( ) for grouping",
    "}": "braces are not allowed; use ( ) for grouping",
    ";": "';' is not allowed: write one formula, with no statements",
    ":": "':' is not allowed (no slices, lambdas or ':=' assignments)",
    "<": "comparisons are not allowed in a formula",
    ">": "comparisons are not allowed in a formula",
    "!": "comparisons and '!' are not allowed in a formula",
    "@": "'@' (matrix product or decorator) is not allowed; use * to multiply",
    "%": "'%' (remainder or formatting) is not supported",
    "&": "bitwise and logical operators are not allowed",
    "|": "bitwise and logical operators are not allowed",
    "~": "bitwise and logical operators are not allowed",
    "#": "comments are not allowed in a formula",
    "\\": "backslashes are not allowed in a formula",
    "$": "'$' is not allowed in a formula",
    "?": "'?' is not allowed in a formula",
}
_UNICODE_HINTS = {"\u2212": "-", "\u2013": "-", "\u00d7": "*", "\u00b7": "*", "\u22c5": "*",
                  "\u00f7": "/", "\u00b2": "**2", "\u00b3": "**3"}


@dataclass(frozen=True, slots=True)
class Token:
    """kind: "num", "name", "op" or "end"; ``pos`` is the 0-based offset in the text."""

    kind: str
    text: str
    pos: int
    value: float = 0.0


def _char_error(text: str, i: int):
    ch = text[i]
    if ch in "\r\n":
        return error_at("line breaks are not allowed; write the formula on one line", i)
    if ch == "=" and text[i:i + 2] == "==":
        return error_at("comparisons are not allowed in a formula", i, 2)
    if ch in _HINTS:
        return error_at(_HINTS[ch], i)
    if ord(ch) > 127:
        name = f"{unicodedata.name(ch, 'unnamed')}, U+{ord(ch):04X}"
        if ch in _UNICODE_HINTS:
            return error_at(f"'{ch}' ({name}) is not allowed; type {_UNICODE_HINTS[ch]} "
                            "instead", i)
        if ch.isalpha() or ch.isdigit():
            return error_at(f"'{ch}' ({name}) is not a plain ASCII character; names may use "
                            "only a-z, A-Z, 0-9 and _ (retype it on a plain keyboard layout)", i)
        return error_at(f"'{ch}' ({name}) is not allowed in a formula", i)
    if ch.isspace() or not ch.isprintable():
        return error_at(f"the control character U+{ord(ch):04X} is not allowed", i)
    return error_at(f"'{ch}' is not allowed in a formula", i)


def check_name(word: str, pos: int, allow_reserved: bool = False) -> None:
    """Refuse Python keywords, nan/inf, underscore names, long names and (unless
    ``allow_reserved``: the parser words that message itself) names like eval or open."""
    n = len(word)
    if word.startswith("_"):
        raise error_at(f"names may not start with '_' ({word!r}); such names are reserved", pos, n)
    if keyword.iskeyword(word):
        raise error_at(f"'{word}' is a Python keyword; a formula has no keywords, only numbers, "
                       "names, + - * / ** and functions", pos, n)
    if word.lower() in _NOT_FINITE:
        raise error_at(f"'{word}' is not allowed: every number in a formula must be finite",
                       pos, n)
    if word in RESERVED and not allow_reserved:
        raise reserved_error(word, pos)
    if n > MAX_NAME_LENGTH:
        raise error_at(f"the name '{word[:20]}...' is {n} characters long; the limit is "
                       f"{MAX_NAME_LENGTH}", pos, n)


def _number(text: str, i: int) -> tuple[Token, int]:
    num = _NUMBER.match(text, i).group()
    end = i + len(num)
    tail = _WORD.match(text, end)
    if tail is not None:  # letters, digits, '_' or '.' glued to the number
        rest = tail.group()
        if num == "0" and rest[0] in "xXoObB":
            raise error_at("hexadecimal, octal and binary numbers are not supported",
                           i, len(num) + len(rest))
        if rest in ("e", "E"):
            raise error_at(f"the number {num}{rest} has no digits in its exponent (write e.g. "
                           f"{num}e3), or write {num}*{rest} for a product", i, len(num) + 1)
        if rest[0].isalpha() and _NAME.fullmatch(rest):
            raise error_at(f"a name follows the number {num} directly; write {num}*{rest} "
                           "for a product", i, len(num) + len(rest))
        raise error_at(f"'{num}{rest}' is not a number gdviz understands (write numbers like "
                       "2, 0.5 or 1e-3)", i, len(num) + len(rest))
    value = float(num)
    if not math.isfinite(value):
        raise error_at(f"the number {num} is too large (the largest is about 1.8e308)",
                       i, len(num))
    return Token("num", num, i, value), end


def tokenize(text: str) -> Iterator[Token]:
    """Tokens of ``text`` ending with an "end" token; a FormulaError for anything else.

    A generator, so that the parser reports the *leftmost* problem: in ``open('f')`` the
    unknown function at position 1, before the string at position 6 is ever looked at.
    """
    previous: Token | None = None
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t":
            i += 1
            continue
        if ch.isascii() and (ch.isdigit() or (ch == "." and text[i + 1:i + 2].isdigit())):
            token, i = _number(text, i)
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            word = _NAME.match(text, i).group()
            check_name(word, i, allow_reserved=True)
            token = Token("name", word, i)
            i += len(word)
        elif ch == ".":
            after_value = previous is not None and (previous.kind in ("name", "num") or
                                                    previous.text == ")")
            reason = ("attribute access with '.' is not allowed" if after_value
                      else "a lone '.' is not a number")
            raise error_at(reason, i)
        else:
            op = next((o for o in _OPERATORS if text.startswith(o, i)), None)
            if op is None or text.startswith("==", i):
                raise _char_error(text, i)
            token = Token("op", op, i)
            i += len(op)
        previous = token
        yield token
    yield Token("end", "", n)
