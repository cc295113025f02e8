"""The classic 2-D test functions (gdviz.core.problems.analytic): gradients, minima, shapes,
registry and settings."""

from __future__ import annotations

import math
import warnings
from types import MappingProxyType

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gdviz.core.errors import ConfigError
from gdviz.core.problems import analytic, registry
from gdviz.core.problems.analytic import SPECS, AnalyticProblem
from gdviz.core.problems.analytic_functions import FUNCTIONS

NAMES = [
    "rosenbrock", "himmelblau", "rastrigin", "beale", "booth", "matyas", "quadratic", "saddle",
    "monkey-saddle", "six-hump-camel", "ackley", "styblinski-tang",
]
UNBOUNDED = {"saddle", "monkey-saddle"}

# (name, settings): every function at its defaults, plus the constants changed.
CASES = [(name, {}) for name in NAMES] + [
    ("rosenbrock", {"a": -0.5, "b": 10.0}),
    ("rastrigin", {"A": 3.0}),
    ("ackley", {"a": 5.0, "b": 0.5, "c": 3.0}),
]


def build(name: str, **values) -> AnalyticProblem:
    """Build through the spec's factory (what the registry calls), bypassing its cache."""
    return SPECS[name].factory(values, None)


def fd_grad(problem: AnalyticProblem, pts: np.ndarray) -> np.ndarray:
    """Central finite differences of problem.loss: pts (..., 2) -> (..., 2)."""
    h = 1e-6 * np.maximum(1.0, np.abs(pts))
    out = np.empty_like(pts)
    for i in range(2):
        step = np.zeros_like(pts)
        step[..., i] = h[..., i]
        out[..., i] = (problem.loss(pts + step) - problem.loss(pts - step)) / (2.0 * h[..., i])
    return out


def assert_grad_matches_fd(problem: AnalyticProblem, pts: np.ndarray) -> None:
    g = problem.grad(pts)
    fd = fd_grad(problem, pts)
    scale = np.abs(g) + 1.0 + np.abs(problem.loss(pts))[..., None]
    bad = np.abs(g - fd) > 1e-6 * scale
    assert not bad.any(), (
        f"{problem.name}: analytic gradient {g[bad.any(axis=-1)][:3]} differs from finite "
        f"differences {fd[bad.any(axis=-1)][:3]} at {pts[bad.any(axis=-1)][:3]}")


def in_view(problem: AnalyticProblem, point) -> bool:
    point = np.asarray(point)
    return bool(np.all(problem.view_range[:, 0] <= point)
                and np.all(point <= problem.view_range[:, 1]))


# -- gradients -------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "values"), CASES)
def test_gradient_matches_finite_differences(name, values):
    problem = build(name, **values)
    rng = np.random.default_rng(1234)
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    pts = rng.uniform(lo, hi, size=(500, 2))
    if name == "ackley":  # the cone has a kink at the origin
        pts = pts[np.hypot(pts[:, 0], pts[:, 1]) > 1e-3]
    assert_grad_matches_fd(problem, pts)
    assert_grad_matches_fd(problem, pts[:60].reshape(4, 3, 5, 2))


@settings(max_examples=200, deadline=None)
@given(name=st.sampled_from(["rosenbrock", "himmelblau", "beale", "six-hump-camel",
                             "styblinski-tang", "ackley"]),
       u=st.floats(0.0, 1.0), v=st.floats(0.0, 1.0))
def test_gradient_property(name, u, v):
    problem = build(name)
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    point = lo + np.array([u, v]) * (hi - lo)
    if name == "ackley" and np.hypot(*point) < 1e-3:
        return
    assert_grad_matches_fd(problem, point)


@pytest.mark.parametrize("name", NAMES)
def test_kernels_are_vectorised_over_any_leading_shape(name):
    problem = build(name)
    rng = np.random.default_rng(7)
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    grid = rng.uniform(lo, hi, size=(4, 3, 2))

    losses = problem.sample_losses(grid)
    grads = problem.sample_grads(grid)
    assert losses.shape == (4, 3, 1)
    assert grads.shape == (4, 3, 1, 2)
    assert problem.loss(grid).shape == (4, 3)
    assert problem.grad(grid).shape == (4, 3, 2)
    for i in range(4):
        for j in range(3):
            one = grid[i, j]
            assert problem.sample_losses(one).shape == (1,)
            assert problem.sample_grads(one).shape == (1, 2)
            assert problem.sample_losses(one)[0] == pytest.approx(losses[i, j, 0], rel=1e-12)
            np.testing.assert_allclose(problem.sample_grads(one)[0], grads[i, j, 0], rtol=1e-12)

    path = grid.reshape(12, 2)[:7]
    assert problem.sample_losses(path).shape == (7, 1)
    assert problem.sample_grads(path).shape == (7, 1, 2)
    # the single "sample" is the function itself: the mean over it is f and ∇f
    np.testing.assert_array_equal(problem.loss(path), problem.sample_losses(path)[:, 0])
    np.testing.assert_array_equal(problem.grad(path), problem.sample_grads(path)[:, 0, :])


@pytest.mark.parametrize("name", NAMES)
def test_contour_grid_including_origin_is_finite_and_quiet(name):
    problem = build(name)
    xs = np.linspace(-1.0, 1.0, 257) * np.max(np.abs(problem.view_range))
    grid = np.stack(np.meshgrid(xs, xs), axis=-1)
    assert grid.shape == (257, 257, 2)
    assert np.any(np.all(grid == 0.0, axis=-1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        losses = problem.sample_losses(grid)
        grads = problem.sample_grads(grid)
    assert losses.shape == (257, 257, 1)
    assert grads.shape == (257, 257, 1, 2)
    assert np.all(np.isfinite(losses))
    assert np.all(np.isfinite(grads))


@pytest.mark.parametrize("name", NAMES)
def test_diverged_params_give_inf_or_nan_without_warnings(name):
    problem = build(name)
    huge = np.array([[1e200, -1e200], [np.inf, 1.0], [np.nan, 0.0]])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        losses = np.asarray(problem.loss(huge))
        grads = np.asarray(problem.grad(huge))
    assert [str(w.message) for w in caught] == []
    assert losses.shape == (3,)
    assert grads.shape == (3, 2)
    # an infinite or NaN parameter gives a non-finite loss and gradient: the runner's
    # divergence check reads exactly that
    assert not np.any(np.isfinite(losses[1:]))
    assert not np.any(np.all(np.isfinite(grads[1:]), axis=1))
    # 1e200 overflows every unbounded function; Ackley's is bounded (below 20 + e)
    if name == "ackley":
        assert 0 < losses[0] < 20 + math.e
    else:
        assert not np.isfinite(losses[0])


def test_repeated_sample_index_repeats_the_function():
    problem = build("himmelblau")
    idx = np.array([0, 0, 0])
    point = np.array([1.0, -2.0])
    assert problem.sample_losses(point, idx).shape == (3,)
    assert problem.sample_grads(point, idx).shape == (3, 2)
    assert problem.batch_loss(point, idx) == pytest.approx(float(problem.loss(point)))
    np.testing.assert_allclose(problem.batch_grad(point, idx), problem.grad(point))


@pytest.mark.parametrize("shape", [(), (3,), (4, 3)])
def test_params_must_end_in_two(shape):
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        build("booth").loss(np.zeros(shape))


def test_known_values():
    assert float(build("rosenbrock").loss(np.array([-1.2, 1.0]))) == pytest.approx(24.2)
    assert float(build("himmelblau").loss(np.zeros(2))) == pytest.approx(170.0)
    assert float(build("beale").loss(np.array([0.0, 1.0]))) == pytest.approx(14.203125)
    assert float(build("booth").loss(np.zeros(2))) == pytest.approx(74.0)
    assert float(build("matyas").loss(np.array([1.0, 1.0]))) == pytest.approx(0.04)
    assert float(build("saddle").loss(np.array([2.0, 3.0]))) == pytest.approx(-5.0)
    assert float(build("monkey-saddle").loss(np.array([2.0, 1.0]))) == pytest.approx(2.0)
    assert float(build("rastrigin").loss(np.array([1.0, 0.5]))) == pytest.approx(21.25)
    assert float(build("ackley").loss(np.array([1.0, 1.0]))) == pytest.approx(
        -20.0 * math.exp(-0.2) - math.e + 20.0 + math.e)
    assert float(build("styblinski-tang").loss(np.array([1.0, -1.0]))) == pytest.approx(-15.0)
    assert float(build("six-hump-camel").loss(np.array([1.0, 1.0]))) == pytest.approx(
        4.0 - 2.1 + 1.0 / 3.0 + 1.0)


# -- minima, start points, view ranges -------------------------------------------------------
@pytest.mark.parametrize(("name", "values"), CASES)
def test_minima_are_stationary_minima_with_the_listed_loss(name, values):
    problem = build(name, **values)
    if name in UNBOUNDED:
        assert problem.minima == ()
        return
    assert problem.minima, f"{name} lists no minimum"
    assert any(m.kind == "global" for m in problem.minima)
    for m in problem.minima:
        assert m.kind in ("global", "local")
        point = np.array(m.params)
        assert point.shape == (2,)
        assert float(problem.loss(point)) == pytest.approx(m.loss, rel=1e-12, abs=1e-12)
        assert np.linalg.norm(problem.grad(point)) < 1e-9 * max(1.0, abs(m.loss))
        assert in_view(problem, point), f"{name} minimum {m.params} outside the view"
        angles = np.linspace(0.0, 2.0 * np.pi, 16, endpoint=False)
        ring = point + 1e-3 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
        assert np.all(problem.loss(ring) > m.loss), f"{name} {m.params} is not a minimum"
    global_losses = [m.loss for m in problem.minima if m.kind == "global"]
    local_losses = [m.loss for m in problem.minima if m.kind == "local"]
    assert max(global_losses) == pytest.approx(min(global_losses), abs=1e-12)
    if local_losses:
        assert max(global_losses) < min(local_losses)


def test_literature_minima():
    def losses(name):
        return sorted((m.kind, m.params, m.loss) for m in build(name).minima)

    himmelblau = build("himmelblau").minima
    assert len(himmelblau) == 4
    assert all(m.kind == "global" and m.loss == 0.0 for m in himmelblau)
    assert (3.0, 2.0) in [m.params for m in himmelblau]

    camel = build("six-hump-camel").minima
    assert len(camel) == 6
    globals_ = sorted(m.params for m in camel if m.kind == "global")
    np.testing.assert_allclose(globals_, [(-0.0898, 0.7126), (0.0898, -0.7126)], atol=1e-4)
    assert all(m.loss == pytest.approx(-1.0316, abs=1e-4) for m in camel if m.kind == "global")

    tang = build("styblinski-tang").minima
    (best,) = [m for m in tang if m.kind == "global"]
    np.testing.assert_allclose(best.params, (-2.903534, -2.903534), atol=1e-6)
    assert best.loss == pytest.approx(-78.33234, abs=1e-5)
    assert len(tang) == 4

    assert losses("beale") == [("global", (3.0, 0.5), 0.0)]
    assert losses("booth") == [("global", (1.0, 3.0), 0.0)]
    for name in ("matyas", "rastrigin", "ackley"):
        assert losses(name) == [("global", (0.0, 0.0), 0.0)]
    assert losses("rosenbrock") == [("global", (1.0, 1.0), 0.0)]


@pytest.mark.parametrize("name", sorted(UNBOUNDED))
def test_saddle_point_is_stationary_but_not_a_minimum(name):
    problem = build(name)
    origin = np.zeros(2)
    np.testing.assert_array_equal(problem.grad(origin), [0.0, 0.0])
    angles = np.linspace(0.0, 2.0 * np.pi, 12, endpoint=False)
    ring = 1e-2 * np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    assert np.any(problem.loss(ring) < problem.loss(origin))


@pytest.mark.parametrize(("name", "values"), CASES)
def test_default_start_is_in_view_and_not_stationary(name, values):
    problem = build(name, **values)
    start = problem.default_init
    assert start.shape == (2,)
    assert in_view(problem, start)
    assert np.linalg.norm(problem.grad(start)) > 0.1
    for m in problem.minima:
        assert np.linalg.norm(start - np.array(m.params)) > 0.5


@pytest.mark.parametrize("name", NAMES)
def test_problem_attributes(name):
    problem = build(name, grad_noise=0.25)
    assert problem.name == name
    assert problem.title
    assert problem.description.strip()
    assert problem.param_names == ("x", "y")
    assert problem.n_params == 2
    assert problem.data_x.shape == (1, 0)
    assert problem.data_y is None
    assert problem.n_samples == 1
    assert not problem.has_data
    assert problem.reduction == "mean"
    assert problem.true_params is None
    assert problem.loss_range is None
    assert problem.predict(np.zeros(2), problem.data_x) is None
    assert problem.view_range.shape == (2, 2)
    assert np.all(problem.view_range[:, 0] < problem.view_range[:, 1])
    for array in (problem.default_init, problem.view_range):
        assert array.dtype == np.float64
        assert not array.flags.writeable
    assert isinstance(problem.settings, MappingProxyType)
    assert problem.settings["grad_noise"] == 0.25
    assert problem.grad_noise == 0.25
    assert build(name).grad_noise == 0.0
    # the noise is the runner's job: the kernels stay deterministic
    point = problem.default_init
    np.testing.assert_array_equal(problem.grad(point), problem.grad(point))
    np.testing.assert_array_equal(problem.grad(point), build(name).grad(point))


def test_rosenbrock_constants_move_the_minimum_and_the_view():
    problem = build("rosenbrock", a=3.0, b=5.0)
    assert [m.params for m in problem.minima] == [(3.0, 9.0)]
    assert in_view(problem, (3.0, 9.0))
    assert in_view(problem, problem.default_init)
    point = np.array([0.5, -1.0])
    assert float(problem.loss(point)) == pytest.approx(2.5 ** 2 + 5.0 * 1.25 ** 2)


def test_constants_change_the_landscape():
    point = np.array([0.3, 0.7])
    assert float(build("rastrigin", A=0.0).loss(point)) == pytest.approx(0.58)
    flat = build("ackley", a=0.0, c=0.0)
    assert float(flat.loss(point)) == pytest.approx(0.0, abs=1e-12)


# -- registry and settings -------------------------------------------------------------------
def test_all_functions_are_registered():
    names = registry.problem_names()
    for name in NAMES:
        assert name in names
        spec = registry.get_spec(name)
        assert spec.family == "analytic"
        assert spec.param_names == ("x", "y")
        assert not spec.accepts_csv
        assert spec.title
        assert spec.description
        assert spec.settings[-1].name == "grad_noise"
        assert spec.settings[-1].default == 0.0
        assert spec.settings[-1].minimum == 0
        assert "σ of Gaussian noise" in spec.settings[-1].help
    assert sorted(f.name for f in FUNCTIONS) == sorted(NAMES)
    assert set(analytic.SPECS) == set(NAMES)


def test_constants_are_declared():
    def defaults(name):
        return {s.name: s.default for s in registry.get_spec(name).settings}

    assert defaults("rosenbrock") == {"a": 1.0, "b": 100.0, "grad_noise": 0.0}
    assert defaults("rastrigin") == {"A": 10.0, "grad_noise": 0.0}
    assert defaults("ackley") == {"a": 20.0, "b": 0.2, "c": 2.0 * math.pi, "grad_noise": 0.0}
    assert defaults("himmelblau") == {"grad_noise": 0.0}


def test_make_problem_parses_strings():
    problem = registry.make_problem("rosenbrock", {"b": "10", "grad_noise": " 0.5 "})
    assert isinstance(problem, AnalyticProblem)
    assert problem.settings["b"] == 10.0
    assert problem.settings["a"] == 1.0
    assert problem.grad_noise == 0.5
    assert float(problem.loss(np.array([0.0, 1.0]))) == pytest.approx(1.0 + 10.0)


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("himmelblau", {"grad_noise": -1}, "grad_noise must be at least 0, got -1"),
    ("himmelblau", {"grad_noise": "abc"}, "grad_noise must be a number, got 'abc'"),
    ("rosenbrock", {"b": "abc"}, "b must be a number, got 'abc'"),
    ("rosenbrock", {"c": 1}, "has no setting 'c' (its settings: a, b, grad_noise)"),
    ("booth", {"A": 1}, "has no setting 'A' (its settings: grad_noise)"),
    ("ackley", {"b": -0.1}, "b must be at least 0"),
    ("rastrigin", {"A": "nan"}, "A must be a finite number"),
])
def test_bad_settings_raise_config_error(name, raw, message):
    with pytest.raises(ConfigError) as err:
        registry.make_problem(name, raw)
    assert message in str(err.value)
    assert f"problem {name!r}" in str(err.value)
    with pytest.raises(ConfigError):  # direct construction validates too
        build(name, **raw)


def test_data_file_is_refused(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("x,y\n1,2\n")
    with pytest.raises(ConfigError, match="does not take a data file"):
        registry.make_problem("himmelblau", {}, str(data))
    with pytest.raises(ConfigError, match="does not take a data file"):
        SPECS["himmelblau"].factory({}, str(data))
