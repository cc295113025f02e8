"""The formula parser: what it accepts, and a battery of hostile or broken inputs that must
each be refused quickly, with a message (and position), and without any side effect."""

import builtins
import os
import sys
import tempfile
import time

import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.formula import FormulaError, parse_formula
from gdviz.core.formula.limits import MAX_DEPTH, MAX_LENGTH, MAX_NODES
from gdviz.core.formula.nodes import Binary, Call, Name, Num, Unary
from gdviz.core.problems.registry import make_problem

# -- what is accepted -------------------------------------------------------------------------


def test_names_in_order_of_first_appearance():
    f = parse_formula("log(1 + exp(-y*(w1*x1 + w2*x2 + b)))")
    assert f.names == ("y", "w1", "x1", "w2", "x2", "b")
    assert f.positions["w1"] == (16, 2)


def test_precedence_follows_python():
    tree = parse_formula("-w**2").tree  # -(w**2)
    assert isinstance(tree, Unary)
    assert isinstance(tree.operand, Binary)
    tree = parse_formula("2**3**w").tree  # right-associative: 2**(3**w)
    assert isinstance(tree.right, Binary)
    assert tree.right.op == "**"
    tree = parse_formula("a - b - c").tree  # left-associative: (a - b) - c
    assert isinstance(tree.left, Binary)
    assert tree.right == Name("c", 8, 1)
    tree = parse_formula("a + b*c").tree
    assert (tree.op, tree.right.op) == ("+", "*")


def test_caret_is_power_and_numbers_parse():
    tree = parse_formula("w ^ 2").tree
    assert tree.op == "**"
    assert tree.right == Num(2.0, "2", 4, 1)
    assert parse_formula("1.5e-3*w").tree.left.value == pytest.approx(1.5e-3)
    assert parse_formula(".5*w").tree.left.value == 0.5


def test_calls_and_data_formulas():
    tree = parse_formula("max(w, 0.5) + min(a, b)").tree
    assert isinstance(tree.left, Call)
    assert (tree.left.func, len(tree.left.args)) == ("max", 2)
    f = parse_formula("target = 3*x + normal(0, 2)", data=True)
    assert (f.target, f.names) == ("target", ("x",))
    with pytest.raises(FormulaError, match="only allowed in the data formula"):
        parse_formula("w + normal(0, 1)")


def test_error_is_a_config_error_with_position_for_the_editor():
    with pytest.raises(FormulaError) as info:
        parse_formula("w + eval(w)")
    err = info.value
    assert isinstance(err, ConfigError)
    assert (err.position, err.offset, err.length) == (5, 4, 4)
    assert str(err).startswith("position 5: unknown function 'eval'; allowed: exp, log,")
    assert err.reason.startswith("unknown function 'eval'")
    assert str(err.for_setting("expr")).startswith("expr: position 5:")


def test_limits_are_what_the_messages_say():
    parse_formula("+".join(["w" * 39] * (MAX_LENGTH // 40)))  # 1999 characters: fine
    parse_formula("(" * (MAX_DEPTH - 1) + "w" + ")" * (MAX_DEPTH - 1))
    with pytest.raises(FormulaError, match="nested more than 50"):
        parse_formula("(" * (MAX_DEPTH + 1) + "w" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(FormulaError, match=f"more than {MAX_NODES} parts"):
        parse_formula("+".join(["w"] * 300))
    parse_formula("w**100 + w**-100 + 2**100*w")
    with pytest.raises(FormulaError, match="exponent 101"):
        parse_formula("w**101")


# -- the hostile battery ----------------------------------------------------------------------
# (text, a fragment the message must contain, whether a position is expected)
HOSTILE = [
    ("__import__('os')", "may not start with '_'", True),
    ("__import__('os').system('echo pwned')", "may not start with '_'", True),
    ("w.__class__", "attribute access", True),
    ("().__class__.__bases__", "empty parentheses", True),
    ("w.__class__.__mro__[1].__subclasses__()", "attribute access", True),
    ('f"{w}"', "strings are not allowed", True),
    ("lambda: 1", "Python keyword", True),
    ("[x for x in y]", "square brackets", True),
    ("(x for x in y)", "Python keyword", True),
    ("x.y", "attribute access", True),
    ("x[0]", "square brackets", True),
    ('"abc"', "strings are not allowed", True),
    ("open('f','w')", "unknown function 'open'", True),
    ("exec('import os')", "unknown function 'exec'", True),
    ("eval('1')", "unknown function 'eval'", True),
    ("exec", "'exec' is not allowed", True),
    ("eval", "'eval' is not allowed", True),
    ("globals()", "unknown function 'globals'", True),
    ("getattr(w, x)", "unknown function 'getattr'", True),
    ("import os", "Python keyword", True),
    ("9**9**9", "exponent", True),
    ("2**10000", "exponent 10000", True),
    ("w**1000", "exponent 1000", True),
    ("(10**100)**100*w", "too large", True),
    ("((1e-300)**100)**100*w", "too close to zero", True),
    ("w+" * 5000 + "w", "10001 characters", True),
    ("(" * 200 + "w" + ")" * 200, "nested more than", True),
    ("-" * 200 + "w", "nested more than", True),
    ("\uff45xp(w)", "FULLWIDTH LATIN SMALL LETTER E", True),
    ("\u0435xp(w)", "CYRILLIC SMALL LETTER IE", True),
    ("w \u2212 b", "type - instead", True),
    ("w\u00a0+ b", "NO-BREAK SPACE", True),
    ("", "empty", False),
    ("   \t  ", "empty", False),
    ("(w + 1", "never closed", True),
    ("w + 1)", "no matching '('", True),
    ("foo(w)", "unknown function 'foo'; allowed: exp, log, log1p", True),
    ("nan", "must be finite", True),
    ("inf * w", "must be finite", True),
    ("1e999 * w", "too large", True),
    ("x if y else z", "Python keyword", True),
    ("a < b", "comparisons", True),
    ("a == b", "comparisons", True),
    ("a and b", "Python keyword", True),
    ("not a", "Python keyword", True),
    ("True", "Python keyword", True),
    ("a @ b", "'@'", True),
    ("a; b", "';'", True),
    ("`w`", "backticks", True),
    ("w\nimport os", "line breaks", True),
    ("w := 3", "':'", True),
    ("*args", "needs a value on its left", True),
    ("exp(**w)", "needs a value on its left", True),
    ("exp(x=1)", "keyword", True),
    ("w # comment", "comments", True),
    ("0x1F * w", "hexadecimal", True),
    ("w % 2", "'%'", True),
    ("{w}", "braces", True),
    ("\\x41", "backslashes", True),
    ("w\x00", "control character", True),
    ("exp()", "exp takes 1 argument, got 0", True),
    ("max(w)", "max takes 2 arguments, got 1", True),
    ("sin", "is a function", True),
    ("normal(0, 1) * w", "only allowed in the data formula", True),
    ("1/0 + w", "division by zero", True),
    ("log(0) + w", "undefined", True),
    ("(-8)**(1/3) * w", "undefined", True),
    ("exp(1000) * w", "too large", True),
    ("w w", "missing operator", True),
    ("2w", "write 2*w", True),
    ("+".join(f"p{i}" for i in range(21)), "21 parameters; the limit is 20", True),
    ("(-4)**w", "undefined or complex", False),
    ("1/(w - w)", "undefined or complex", False),
    ("y", "no parameter to optimize", False),
]


def _refuse(text):
    """Refused by the parser and by the whole problem build; returns the problem's error."""
    started = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        make_problem("custom", {"expr": text})
    elapsed = time.perf_counter() - started
    return info.value, elapsed


def test_battery_is_large_enough():
    assert len(HOSTILE) >= 40


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """A fresh cwd and temp dir; lazy imports and sympy warmed up."""
    cwd, tmp = tmp_path / "cwd", tmp_path / "tmp"
    cwd.mkdir()
    tmp.mkdir()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("TMPDIR", str(tmp))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    make_problem("custom", {"expr": "(w*x - y)**2"})  # warm up: lazy imports, sympy
    _refuse("w + foo(w)")
    _refuse("(-4)**w")
    return cwd, tmp


def test_hostile_inputs_are_refused_quickly_with_a_message_and_no_side_effects(isolated):
    cwd, tmp = isolated
    calls = []

    def spy(name):
        def refuse(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"{name} was called")
        return refuse

    saved = {name: getattr(builtins, name) for name in ("eval", "exec", "compile")}
    modules_before = set(sys.modules)
    slow, wrong = [], []
    try:
        for name in saved:  # no eval/exec/compile of anything while refusing
            setattr(builtins, name, spy(name))
        results = [(text, fragment, has_position, *_refuse(text))
                   for text, fragment, has_position in HOSTILE]
    finally:
        for name, original in saved.items():
            setattr(builtins, name, original)
    new_modules = sorted(set(sys.modules) - modules_before)
    for text, fragment, has_position, err, elapsed in results:
        if elapsed > 1.0:
            slow.append((text[:40], round(elapsed, 2)))
        message = str(err)
        if fragment not in message or ("Traceback" in message) or \
                (has_position and f"position {err.position}:" not in message):
            wrong.append((text[:40], message))
        if has_position:
            assert isinstance(err, FormulaError), (text, message)
            assert err.position >= 1, (text, message)
            assert err.setting == "expr"
    assert calls == []
    assert wrong == []
    assert slow == []
    assert new_modules == []
    assert os.listdir(cwd) == []
    assert os.listdir(tmp) == []


@pytest.mark.parametrize(("text", "fragment", "has_position"), HOSTILE[:30])
def test_parser_alone_refuses_without_sympy_work(text, fragment, has_position):
    started = time.perf_counter()
    with pytest.raises(FormulaError) as info:
        parse_formula(text)
    assert time.perf_counter() - started < 0.2
    assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["x = 1", "w = 3", "y = x = 1", "y = y + 1", "exp = x"])
def test_assignments_are_refused_in_a_loss_and_checked_in_data(text):
    with pytest.raises(FormulaError):
        parse_formula(text)
    if text in ("x = 1", "w = 3"):
        assert parse_formula(text, data=True).target in ("x", "w")
    else:
        with pytest.raises(FormulaError):
            parse_formula(text, data=True)


def test_error_positions_point_at_the_culprit():
    cases = {"w + foo(w)": (5, 3), "w + 1)": (6, 1), "(w + 1": (1, 1), "w.real": (2, 1),
             "w ** 200": (6, 3), "a +": (4, 1)}
    for text, (position, length) in cases.items():
        with pytest.raises(FormulaError) as info:
            parse_formula(text)
        assert (info.value.position, info.value.length) == (position, length), text
