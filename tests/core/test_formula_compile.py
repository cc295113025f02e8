"""Exact gradients: sympy derivatives compiled to numpy, checked against finite differences,
broadcasting over grids, stable special functions, overflow without warnings, time limits."""

import threading
import time
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gdviz.core.formula import FormulaError, analyze, parse_formula
from gdviz.core.formula.compile import compile_formula
from gdviz.core.formula.deadline import DeadlineExceeded, call_with_deadline


def _fd_grad(c, point, cols, h=1e-6):
    """Central finite differences of the per-sample loss: (p,) -> (k, p)."""
    k = len(cols[0]) if cols else 1
    out = np.empty((k, len(point)))
    for j in range(len(point)):
        step = h * max(1.0, abs(point[j]))
        up, down = point.copy(), point.copy()
        up[j] += step
        down[j] -= step
        out[:, j] = (c.losses(up, cols, k) - c.losses(down, cols, k)) / (2 * step)
    return out


def test_gradient_text_uses_the_users_names():
    c = analyze("(w*x + b - y)**2", ["x", "y"])
    assert c.param_names == ("w", "b")
    assert c.column_names == ("x", "y")
    assert c.expr_text == "(b + w*x - y)**2"
    assert c.gradient_text == ("∂ℓ/∂w = 2*x*(b + w*x - y)", "∂ℓ/∂b = 2*(b + w*x - y)")
    assert analyze("0.1*w**2").gradient_text == ("∂ℓ/∂w = w/5",)
    rosen = analyze("(1 - p)**2 + 100*(q - p**2)**2")
    assert rosen.gradient_text[1] == "∂ℓ/∂q = 200*(-p**2 + q)"


def test_special_functions_have_readable_derivatives():
    c = analyze("relu(w) + abs(b) + max(w, b) + sigmoid(w) + softplus(b)")
    assert c.derivative_text == ("(1 - sigmoid(w))*sigmoid(w) + step(w) + step(-b + w)",
                                 "sigmoid(b) + sign(b) + step(b - w)")


def test_constant_gradients_broadcast_to_the_full_shape():
    c = analyze("2*w + b/2 + x", ["x"])
    params = np.zeros((3, 4, 2))
    x = np.arange(5.0)
    grads = c.grads(params, [x], 5)
    assert grads.shape == (3, 4, 5, 2)
    assert np.all(grads[..., 0] == 2.0)
    assert np.all(grads[..., 1] == 0.5)
    assert c.losses(params, [x], 5).shape == (3, 4, 5)
    no_data = analyze("3*w")
    assert no_data.grads(np.zeros(1), [], 1).tolist() == [[3.0]]
    assert no_data.grads(np.zeros((2, 1)), [], 4).shape == (2, 4, 1)


def test_grid_evaluation_matches_point_by_point():
    c = analyze("log(1 + exp(-y*(w*x + b)))", ["x", "y"])
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=7), np.sign(rng.normal(size=7))
    grid = rng.normal(size=(3, 5, 2))
    losses, grads = c.losses(grid, [x, y], 7), c.grads(grid, [x, y], 7)
    for i in range(3):
        for j in range(5):
            assert np.allclose(losses[i, j], c.losses(grid[i, j], [x, y], 7))
            assert np.allclose(grads[i, j], c.grads(grid[i, j], [x, y], 7))
    assert np.allclose(grads[1, 2], _fd_grad(c, grid[1, 2].copy(), [x, y]), atol=1e-6)


def test_non_smooth_functions_match_finite_differences_away_from_kinks():
    c = analyze("relu(w - 0.3) + abs(b + 0.2) + max(w, b) + min(w*b, 0.1) + sqrt(w**2 + 1)")
    for point in ([0.9, -1.3], [-0.7, 0.45], [1.7, 2.2]):
        p = np.array(point)
        assert np.allclose(c.grads(p, [], 1), _fd_grad(c, p, []), atol=1e-6)


def test_step_is_one_half_at_the_kink():
    c = analyze("relu(w)")
    assert c.grads(np.array([0.0]), [], 1).tolist() == [[0.5]]
    assert c.grads(np.array([[-1.0], [2.0]]), [], 1)[:, 0, 0].tolist() == [0.0, 1.0]


def test_sigmoid_and_softplus_are_stable_far_out():
    c = analyze("softplus(w) + sigmoid(b)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = c.losses(np.array([1000.0, -1000.0]), [], 1)
        grads = c.grads(np.array([-1000.0, 1000.0]), [], 1)
    assert loss[0] == pytest.approx(1000.0)
    assert np.all(np.isfinite(grads))
    logistic = analyze("log(1 + exp(-y*w*x))", ["x", "y"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = logistic.grads(np.array([1e4]), [np.array([-1.0]), np.array([1.0])], 1)
    assert not np.all(np.isfinite(g))  # inf/inf -> nan: the runner reports divergence


def test_overflow_gives_inf_or_nan_without_warnings():
    c = analyze("exp(w*x)**2 + w**100/b", ["x"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = c.losses(np.array([[800.0, 0.0], [1.0, 1.0]]), [np.array([2.0, 1.0])], 2)
        grads = c.grads(np.array([800.0, 0.0]), [np.array([2.0, 1.0])], 2)
    assert not np.all(np.isfinite(loss[0]))
    assert np.all(np.isfinite(loss[1]))
    assert not np.all(np.isfinite(grads))


def test_huge_exact_constants_become_floats():
    c = analyze("w*2**100*2**100*2**100*2**100")
    assert c.grads(np.array([1.0]), [], 1)[0, 0] == pytest.approx(2.0**400)


def test_complex_or_undefined_formulas_are_refused():
    with pytest.raises(FormulaError, match="undefined or complex"):
        analyze("(-4)**w")
    with pytest.raises(FormulaError, match="undefined or complex"):
        analyze("w/(b - b)")


# -- random valid formulas against finite differences ----------------------------------------
_LEAVES = st.sampled_from(["a", "b", "x", "0.5", "2", "1.5", "3"])


def _extend(children):
    unary = st.tuples(st.sampled_from(["sin({})", "cos({})", "tanh({})", "sigmoid({})",
                                       "softplus({})", "exp(tanh({}))", "log(1 + ({})**2)",
                                       "log1p(({})**2)", "sqrt(2 + sin({}))", "-({})",
                                       "({})**2", "({})**3", "tan(tanh({}))"]), children)
    binary = st.tuples(st.sampled_from(["({}) + ({})", "({}) - ({})", "({}) * ({})",
                                        "({}) / (1 + ({})**2)", "(2 + sin({}))**({})"]),
                       children, children)
    return st.one_of(unary.map(lambda t: t[0].format(t[1])),
                     binary.map(lambda t: t[0].format(t[1], t[2]) if t[0].count("{}") == 2
                                else t[0].format(t[1], t[2])))


FORMULAS = st.recursive(_LEAVES, _extend, max_leaves=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=FORMULAS, point=st.lists(st.floats(-2, 2), min_size=3, max_size=3))
def test_random_formulas_match_central_finite_differences(text, point):
    formula = parse_formula(text)
    assume(any(n in formula.names for n in ("a", "b")))
    params = [n for n in ("a", "b") if n in formula.names]
    cols = ["x"] if "x" in formula.names else []
    c = compile_formula(formula, params, cols, budget=30.0)
    values = {"a": point[0], "b": point[1]}
    p = np.array([values[n] for n in params])
    data = [np.array([point[2]])] if cols else []
    loss = c.losses(p, data, 1)
    grads = c.grads(p, data, 1)
    assume(np.all(np.isfinite(loss)) and np.all(np.abs(loss) < 1e6))
    assume(np.all(np.isfinite(grads)) and np.all(np.abs(grads) < 1e4))
    fd = _fd_grad(c, p, data)
    assume(np.all(np.isfinite(fd)))
    assert np.allclose(grads, fd, rtol=1e-4, atol=1e-5), (text, point, grads, fd)


# -- time limits ------------------------------------------------------------------------------
def test_a_formula_too_costly_to_differentiate_is_refused_in_about_a_second():
    analyze("w")  # warm up
    text = "exp(w*" * 45 + "w" + ")" * 45  # ~1 s at depth 24; far beyond the budget here
    started = time.perf_counter()
    with pytest.raises(FormulaError, match="takes longer than 1 s"):
        analyze(text)
    # the budget is 1 s; the margin absorbs a loaded CI machine, a hang would not pass
    assert time.perf_counter() - started < 3.0


def test_typical_formulas_compile_well_under_a_second():
    analyze("w")
    for text, cols in [("(w*x + b - y)**2", ["x", "y"]),
                       ("log(1 + exp(-y*(w1*x1 + w2*x2 + b)))", ["x1", "x2", "y"]),
                       ("(1 - p)**2 + 100*(q - p**2)**2", [])]:
        c = analyze(text, cols)
        assert c.seconds < 0.9  # under the 1 s budget, with room for a loaded machine
        assert c.simplified


def test_deadline_interrupts_and_never_fires_after_returning():
    def spin():
        while True:
            pass

    started = time.perf_counter()
    with pytest.raises(DeadlineExceeded):
        call_with_deadline(spin, 0.2)
    assert time.perf_counter() - started < 1.0
    assert call_with_deadline(lambda: 42, 0.05) == 42
    time.sleep(0.2)  # a stray timer would raise here
    assert threading.active_count() < 50
