"""The five lesson problems: kernels against finite differences, data facts, settings."""

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.problems import lessons, registry
from gdviz.core.problems.lesson_models import (
    stable_sigmoid,
    wavy_critical_points,
    wavy_curve,
    wavy_curve_minimum,
    wavy_slope,
)

LESSONS = ("wavy", "linreg", "logistic", "slope", "bowl")


def make(name, settings=None, data_path=None):
    return registry.make_problem(name, settings, data_path)


def fresh(name, settings=None):
    """A newly built problem (bypasses the registry's cache)."""
    checked = registry.validate_problem_settings(name, settings or {})
    return registry.get_spec(name).factory(checked, None)


# -- registration ----------------------------------------------------------------------------------
def test_the_five_lessons_are_registered_in_lesson_order():
    assert lessons.lesson_names() == LESSONS
    for name in LESSONS:
        spec = registry.get_spec(name)
        assert spec.family == "lesson"
        assert spec.title
        assert len(spec.description) > 200
        assert spec.accepts_csv == (name in ("linreg", "logistic", "slope"))
        assert all(s.help and len(s.help) > 15 for s in spec.settings)
        assert spec.param_names == make(name).param_names


def test_registry_lists_lessons_first():
    assert registry.problem_names()[:5] == list(LESSONS)


# -- kernels vs finite differences -----------------------------------------------------------------
CASES = [
    ("wavy", {}), ("wavy", {"n": 7, "x_min": -2, "x_max": 9}),
    ("linreg", {}), ("linreg", {"w_true": "1,-2,0.5", "n": 50}),
    ("logistic", {}), ("logistic", {"spread": 6.0, "box": 2.0}),
    ("slope", {}), ("bowl", {}),
]


def _random_params(problem, rng, shape):
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    return lo + (hi - lo) * rng.random((*shape, problem.n_params))


def _finite_difference(problem, params, idx):
    """Central differences of the per-sample losses: (..., p) -> (..., k, p)."""
    span = problem.view_range[:, 1] - problem.view_range[:, 0]
    columns = []
    for j in range(problem.n_params):
        step = np.zeros(problem.n_params)
        step[j] = 1e-6 * span[j]
        up = problem.sample_losses(params + step, idx)
        down = problem.sample_losses(params - step, idx)
        columns.append((up - down) / (2 * step[j]))
    return np.stack(columns, axis=-1)


@pytest.mark.parametrize(("name", "settings"), CASES)
@pytest.mark.parametrize("shape", [(), (4,), (3, 2)])
def test_gradient_matches_finite_differences(name, settings, shape):
    problem = make(name, settings)
    rng = np.random.default_rng(1)
    params = _random_params(problem, rng, shape)
    for idx in (rng.choice(problem.n_samples, size=5), None):
        k = problem.n_samples if idx is None else 5
        grads = problem.sample_grads(params, idx)
        assert grads.shape == (*shape, k, problem.n_params)
        assert problem.sample_losses(params, idx).shape == (*shape, k)
        numeric = _finite_difference(problem, params, idx)
        scale = max(1e-3, float(np.abs(grads).max()))
        np.testing.assert_allclose(grads, numeric, rtol=1e-5, atol=1e-6 * scale)


@pytest.mark.parametrize(("name", "settings"), CASES)
def test_full_gradient_matches_finite_differences_of_the_full_loss(name, settings):
    problem = make(name, settings)
    params = _random_params(problem, np.random.default_rng(2), (3,))
    span = problem.view_range[:, 1] - problem.view_range[:, 0]
    for j in range(problem.n_params):
        step = np.zeros(problem.n_params)
        step[j] = 1e-6 * span[j]
        numeric = (problem.loss(params + step) - problem.loss(params - step)) / (2 * step[j])
        np.testing.assert_allclose(problem.grad(params)[:, j], numeric, rtol=1e-5, atol=1e-8)


@pytest.mark.parametrize("name", LESSONS)
@pytest.mark.parametrize("shape", [(), (4,), (3, 2)])
def test_predict_shapes(name, shape):
    problem = make(name)
    params = _random_params(problem, np.random.default_rng(3), shape)
    x = problem.data_x[:6]
    assert problem.predict(params, x).shape == (*shape, 6)


def test_losses_are_the_lessons_formulas():
    rng = np.random.default_rng(4)
    idx = np.arange(8)
    lin = make("linreg")
    p = rng.normal(size=3)
    y_hat = lin.predict(p, lin.data_x[idx])
    np.testing.assert_allclose(y_hat, lin.data_x[idx] @ p[:2] + p[2])
    np.testing.assert_allclose(lin.sample_losses(p, idx), (y_hat - lin.data_y[idx]) ** 2 / 2)
    assert lin.reduction == "mean"
    assert lin.loss(p) == pytest.approx(np.mean((lin.predict(p, lin.data_x) - lin.data_y) ** 2) / 2)

    log = make("logistic")
    z = log.data_x[idx] @ p[:2] + p[2]
    prob = log.predict(p, log.data_x[idx])
    np.testing.assert_allclose(prob, 1 / (1 + np.exp(-z)))
    np.testing.assert_allclose(log.sample_losses(p, idx), (prob - log.data_y[idx]) ** 2 / 2)
    assert log.reduction == "sum"
    assert log.loss(p) == pytest.approx(log.sample_losses(p).sum())

    slope = make("slope")
    r = 2.5 * slope.data_x[idx, 0] - slope.data_y[idx]
    np.testing.assert_allclose(slope.sample_losses(np.array([2.5]), idx), r**2 / 150)
    np.testing.assert_allclose(slope.sample_grads(np.array([2.5]), idx)[:, 0],
                               2 / 150 * r * slope.data_x[idx, 0])

    wavy = make("wavy")
    yy = 0.4 * wavy.data_x[idx, 0]
    np.testing.assert_allclose(wavy.predict(np.array([0.4]), wavy.data_x[idx]), yy)
    np.testing.assert_allclose(wavy.sample_losses(np.array([0.4]), idx),
                               (-yy**2 + yy**3) * np.exp(-yy**2))


def test_wavy_curve_values_and_slope():
    assert wavy_curve(np.array([0.0, 1.0]))[1] == 0.0
    assert wavy_curve(np.array(-1.0)) == pytest.approx(-2 / np.e)
    y = np.linspace(-4, 4, 81)
    expected = (-2 * y + 3 * y**2) * np.exp(-y**2) + (-y**2 + y**3) * (-2 * y) * np.exp(-y**2)
    np.testing.assert_allclose(wavy_slope(y), expected, atol=1e-15)
    h = 1e-6
    np.testing.assert_allclose(wavy_slope(y), (wavy_curve(y + h) - wavy_curve(y - h)) / (2 * h),
                               atol=1e-8)
    np.testing.assert_allclose(wavy_slope(wavy_critical_points()), 0.0, atol=1e-12)


def test_kernels_stay_quiet_far_away(recwarn):
    assert make("logistic").loss(np.array([1e308, 1e308, 1e308])) >= 0
    assert stable_sigmoid(np.array([-1e4, 0.0, 1e4])).tolist() == [0.0, 0.5, 1.0]
    wavy = make("wavy")
    assert wavy.loss(np.array([1e200])) == 0.0
    assert np.all(wavy.grad(np.array([[1e200], [-1e200]])) == 0.0)
    assert np.isnan(wavy.loss(np.array([np.nan])))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


# -- data facts ------------------------------------------------------------------------------------
def test_wavy_data_are_evenly_spaced_on_the_range():
    problem = make("wavy")
    x = problem.data_x[:, 0]
    assert problem.data_x.shape == (100, 1)
    assert problem.data_y is None
    assert x[0] == -5.0
    assert x[-1] == 5.0
    np.testing.assert_allclose(np.diff(x), 10 / 99)
    small = make("wavy", {"n": 3, "x_min": -1, "x_max": 3})
    assert small.data_x[:, 0].tolist() == [-1.0, 1.0, 3.0]
    assert make("wavy", {"n": 1}).data_x.shape == (1, 1)


def test_wavy_follows_the_lesson():
    problem = make("wavy")
    assert problem.default_init.tolist() == [-0.3]
    assert problem.view_range.tolist() == [[-0.7, 0.7]]
    assert problem.loss_range == (-1.0, 0.5)
    assert round(problem.surface_minimum, 2) == -0.76
    y_star, l_star = wavy_curve_minimum()
    assert l_star == problem.surface_minimum
    assert y_star == pytest.approx(-1.1246, abs=1e-4)
    assert l_star <= wavy_curve(np.linspace(-10, 10, 200_001)).min()
    # the global minimum of the mean loss over w
    (minimum,) = problem.minima
    assert minimum.kind == "global"
    grid = np.linspace(-2.1, 2.1, 20_001)[:, None]
    assert minimum.loss <= problem.loss(grid).min() + 1e-12
    assert problem.loss(np.array(minimum.params)) == pytest.approx(minimum.loss)
    assert -0.7 <= minimum.params[0] <= 0.7


def test_wavy_view_follows_the_x_range():
    problem = make("wavy", {"x_min": -50, "x_max": 50})
    lo, hi = problem.view_range[0]
    assert lo < -0.3
    assert hi == pytest.approx(0.07)
    assert lo <= problem.minima[0].params[0] <= hi


@pytest.mark.parametrize("name", ["linreg", "logistic", "slope", "bowl"])
def test_data_are_reproducible_from_the_seed(name):
    a, b, c = fresh(name), fresh(name), fresh(name, {"seed": 7})
    assert a is not b
    np.testing.assert_array_equal(a.data_x, b.data_x)
    np.testing.assert_array_equal(a.data_y, b.data_y)
    np.testing.assert_array_equal(a.default_init, b.default_init)
    assert not np.array_equal(a.data_x, c.data_x)
    assert not np.array_equal(a.data_y, c.data_y)
    for array in (a.data_x, a.data_y, a.default_init, a.view_range, *a.extras.values()):
        assert not array.flags.writeable


@pytest.mark.parametrize("name", LESSONS)
def test_view_range_frames_the_start_the_truth_and_the_minimum(name):
    problem = make(name)
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    points = [problem.default_init]
    points += [] if problem.true_params is None else [problem.true_params]
    points += [np.array(m.params) for m in problem.minima]
    for point in points:
        assert np.all(lo <= point)
        assert np.all(point <= hi)


def test_linreg_data():
    problem = make("linreg")
    assert problem.param_names == ("w1", "w2", "b")
    assert problem.data_x.shape == (1000, 2)
    assert problem.data_y.shape == (1000,)
    np.testing.assert_array_equal(problem.true_params, [2.0, -3.4, 4.2])
    assert problem.default_init[2] == 0.0
    assert np.all(problem.default_init[:2] != 0.0)
    residual = problem.data_y - problem.data_x @ [2.0, -3.4] - 4.2
    assert residual.std() == pytest.approx(0.01, rel=0.1)
    assert problem.data_x.std() == pytest.approx(1.0, rel=0.1)
    (minimum,) = problem.minima
    np.testing.assert_allclose(minimum.params, [2.0, -3.4, 4.2], atol=2e-3)
    np.testing.assert_allclose(problem.grad(np.array(minimum.params)), 0.0, atol=1e-12)
    assert minimum.loss == pytest.approx(0.01**2 / 2, rel=0.2)


def test_linreg_mini_batch_sgd_reaches_the_lessons_loss():
    problem = make("linreg")
    params = problem.default_init.copy()
    for epoch in range(3):
        lr = 0.2 if epoch < 2 else 0.02
        for start in range(0, 1000, 10):
            params = params - lr * problem.batch_grad(params, np.arange(start, start + 10))
    assert problem.loss(params) == pytest.approx(4.9e-5, rel=0.1)
    np.testing.assert_allclose(params, [2.0, -3.4, 4.2], atol=2e-3)


def test_logistic_data():
    problem = make("logistic")
    test_x, test_y = problem.extras["test_x"], problem.extras["test_y"]
    assert problem.param_names == ("w1", "w2", "b")
    assert problem.data_x.shape == (500, 2)
    assert test_x.shape == (500, 2)
    assert set(np.unique(problem.data_y)) == {0.0, 1.0}
    assert set(np.unique(test_y)) == {0.0, 1.0}
    labels = np.concatenate([problem.data_y, test_y])
    assert labels.sum() == 500  # balanced
    assert 0.3 < problem.data_y.mean() < 0.7  # shuffled before the split
    with pytest.raises(TypeError):
        problem.extras["test_x"] = test_x
    split = make("logistic", {"n": 101, "test_fraction": 0.2})
    assert split.n_samples == 81
    assert split.extras["test_x"].shape == (20, 2)
    assert make("logistic", {"test_fraction": 0}).extras["test_y"].shape == (0,)
    assert problem.true_params is None
    assert problem.minima == ()
    # each class is a blob of the given spread
    everything = np.concatenate([problem.data_x, test_x])
    for label in (0.0, 1.0):
        assert everything[labels == label].std(axis=0) == pytest.approx([1.5, 1.5], rel=0.15)


def test_logistic_batch_gradient_descent_classifies_the_test_set():
    problem = make("logistic")
    params = problem.default_init.copy()
    for _ in range(100):
        params = params - 0.01 * problem.grad(params)
    assert problem.loss(params) < 1.0
    predicted = problem.predict(params, problem.extras["test_x"]) > 0.5
    np.testing.assert_array_equal(predicted, problem.extras["test_y"] == 1.0)


def test_slope_data():
    problem = make("slope")
    x, y = problem.data_x[:, 0], problem.data_y
    assert problem.data_x.shape == (150, 1)
    assert x.min() >= 0
    assert x.max() <= 100
    assert x.max() - x.min() > 80
    assert problem.default_init.tolist() == [10.0]
    assert problem.true_params.tolist() == [3.2]
    (minimum,) = problem.minima
    assert minimum.params[0] == pytest.approx(np.dot(x, y) / np.dot(x, x))
    assert minimum.params[0] == pytest.approx(3.2, abs=0.05)
    assert np.std(y - 3.2 * x) == pytest.approx(10.0, rel=0.2)
    assert problem.grad(np.array(minimum.params))[0] == pytest.approx(0.0, abs=1e-10)


def test_bowl_data():
    problem = make("bowl")
    assert problem.param_names == ("w", "b")
    assert problem.data_x.shape == (50, 1)
    assert problem.default_init.tolist() == [-1.0, -4.0]
    (minimum,) = problem.minima
    np.testing.assert_allclose(minimum.params, [1.5, 2.0], atol=0.5)
    np.testing.assert_allclose(problem.grad(np.array(minimum.params)), 0.0, atol=1e-10)
    assert problem.loss(problem.default_init) > 100 * minimum.loss  # visibly away


# -- settings --------------------------------------------------------------------------------------
def test_settings_are_parsed_from_strings():
    problem = make("linreg", {"n": "200", "w_true": "1,2,3"})
    assert problem.n_params == 4
    assert problem.n_samples == 200
    assert problem.param_names == ("w1", "w2", "w3", "b")
    np.testing.assert_array_equal(problem.true_params, [1, 2, 3, 4.2])
    assert make("slope", {"w_true": "-1.5", "n": "10"}).true_params.tolist() == [-1.5]


@pytest.mark.parametrize(("name", "settings", "message"), [
    ("linreg", {"n": 0}, "n must be at least 1"),
    ("linreg", {"noise": -1}, "noise must be at least 0"),
    ("linreg", {"bogus": 1}, "has no setting 'bogus'"),
    ("linreg", {"n": "many"}, "n must be a whole number"),
    ("linreg", {"noise": "abc"}, "noise must be a number"),
    ("linreg", {"w_true": "1,x"}, "w_true must be a number"),
    ("linreg", {"w_true": ",".join(["1"] * 11)}, "w_true needs 1 to 10 numbers"),
    ("linreg", {"noise": "nan"}, "noise must be a finite number"),
    ("wavy", {"n": 100_001}, "n must be at most 100000"),
    ("wavy", {"x_min": 5, "x_max": 5}, "x_min must be less than x_max"),
    ("slope", {"x_min": 10, "x_max": 0}, "x_min must be less than x_max"),
    ("bowl", {"x_min": 1, "x_max": -1}, "x_min must be less than x_max"),
    ("logistic", {"test_fraction": 0.95}, "test_fraction must be at most 0.9"),
    ("logistic", {"n": 1}, "n must be at least 2"),
    ("slope", {"seed": -1}, "seed must be at least 0"),
])
def test_bad_settings_are_refused_clearly(name, settings, message):
    with pytest.raises(ConfigError, match=message) as info:
        make(name, settings)
    assert name in str(info.value)


@pytest.mark.parametrize(("name", "settings"), [("linreg", {"n": 1000}),
                                                ("linreg", {"n": 40, "w_true": "1,2,3,4,5"}),
                                                ("bowl", {})])
def test_linear_regression_loss_in_closed_form_equals_the_sum_over_samples(name, settings):
    problem = make(name, settings)
    assert problem.fast_loss
    solution = np.array(problem.minima[0].params)
    rng = np.random.default_rng(3)
    for scale in (10.0, 1.0, 1e-3, 1e-6, 0.0):  # down to the minimum: precision kept there
        points = solution + scale * rng.standard_normal((50, problem.n_params))
        direct = problem.sample_losses(points).mean(axis=-1)
        np.testing.assert_allclose(problem.loss(points), direct, rtol=1e-12)
        # a stack of points rounds as each point alone (the ensemble relies on it)
        assert problem.loss(points).tolist() == [float(problem.loss(p)) for p in points]
    grid = solution + rng.standard_normal((4, 5, problem.n_params))
    assert problem.loss(grid).shape == (4, 5)
    assert np.isnan(problem.loss(np.array([np.nan] * problem.n_params)))


def test_wavy_one_sample_gradient_on_scalars_equals_the_array_kernel():
    """SGD with batch 1 evaluates wavy's gradient on numpy scalars (a third of the cost):
    bit for bit what the array kernel gives, over the whole range and at inf/NaN/±0."""
    problem = make("wavy")
    rng = np.random.default_rng(1)
    w = np.concatenate([rng.normal(0.0, 3.0, 3000), rng.uniform(-60.0, 60.0, 1000),
                        [0.0, -0.0, np.inf, -np.inf, np.nan, 1e308, -1e308, 5e-324, 8.0, -8.0]])
    idx = rng.integers(0, problem.n_samples, (len(w), 1))
    arrays = problem.member_sample_grads(w[:, None], idx)     # (K, 1, 1) through the arrays
    scalars = np.array([problem.sample_grads(w[m:m + 1], idx[m]) for m in range(len(w))])
    assert scalars.shape == arrays.shape == (len(w), 1, 1)
    np.testing.assert_array_equal(scalars, arrays, strict=True)
    numbers = ~np.isnan(arrays)   # (a NaN's sign bit may differ: it is NaN either way)
    assert np.signbit(scalars[numbers]).tolist() == np.signbit(arrays[numbers]).tolist()
