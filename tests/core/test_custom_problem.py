"""Problem ``custom``: settings, data from CSV / a data formula / none, kernels, registry and
a short run."""

import importlib.util
import math

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.formula import FormulaError
from gdviz.core.problems.custom import CustomProblem
from gdviz.core.problems.registry import get_spec, make_problem

NO_DATA = {"data_expr": ""}


@pytest.fixture
def csv_file(tmp_path):
    path = tmp_path / "data.csv"
    rows = ["a,x,y"] + [f"{i % 3},{i / 10},{2 * i / 10 + 1}" for i in range(20)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return str(path)


def test_registered_as_a_custom_family_that_accepts_csv():
    spec = get_spec("custom")
    assert spec.family == "custom"
    assert spec.accepts_csv
    assert {s.name for s in spec.settings} >= {"expr", "params", "init", "ranges", "columns",
                                               "data_expr", "x_min", "x_max", "n", "seed",
                                               "reduction"}


def test_default_is_linear_regression_on_generated_data():
    p = make_problem("custom")
    assert p.param_names == ("w", "b")
    assert p.data_columns == ("x", "y")
    assert p.data_x.shape == (50, 1)
    assert p.data_y.shape == (50,)
    assert p.gradient_text == ("∂ℓ/∂w = 2*x*(b + w*x - y)", "∂ℓ/∂b = 2*(b + w*x - y)")
    assert p.expr_text == "(b + w*x - y)**2"
    assert not p.data_x.flags.writeable


def test_parameters_in_order_of_first_appearance_or_as_listed():
    p = make_problem("custom", {"expr": "(b + w*x - y)**2"})
    assert p.param_names == ("b", "w")
    q = make_problem("custom", {"expr": "(w*x + b - y)**2", "params": "b, w"})
    assert q.param_names == ("b", "w")
    assert q.gradient_text[0].startswith("∂ℓ/∂b")
    point = np.array([0.3, -0.7])
    assert np.allclose(q.grad(point), p.grad(point))
    with pytest.raises(FormulaError, match="unknown name 'w'") as info:
        make_problem("custom", {"expr": "(w*x + b - y)**2", "params": "b"})
    assert (info.value.setting, info.value.position) == ("expr", 2)
    with pytest.raises(FormulaError, match="does not appear") as info:
        make_problem("custom", {"expr": "(w*x - y)**2", "params": "w, c"})
    assert (info.value.setting, info.value.position) == ("params", 4)


def test_init_and_ranges():
    p = make_problem("custom", {"expr": "(w*x + b - y)**2", "init": "1, -2",
                                "ranges": "-1:4, -3:3"})
    assert p.default_init.tolist() == [1.0, -2.0]
    assert p.view_range.tolist() == [[-1.0, 4.0], [-3.0, 3.0]]
    q = make_problem("custom", {"expr": "(w*x + b - y)**2", "ranges": "0:2"})
    assert q.view_range.tolist() == [[0.0, 2.0], [0.0, 2.0]]
    assert q.default_init.tolist() == [0.0, 0.0]
    assert make_problem("custom").view_range.tolist() == [[-5.0, 5.0], [-5.0, 5.0]]
    for bad, fragment in [({"init": "1"}, "needs 2 values"), ({"init": "1, nan"}, "finite"),
                          ({"ranges": "1:0"}, "lo < hi"), ({"ranges": "1:2:3"}, "lo:hi"),
                          ({"ranges": "0:1,0:1,0:1"}, "1 or 2"), ({"reduction": "max"}, "mean")]:
        with pytest.raises(ConfigError, match=fragment):
            make_problem("custom", bad)


def test_start_avoids_a_non_finite_loss_at_zero():
    p = make_problem("custom", {"expr": "w - log(w)", **NO_DATA})
    assert p.default_init.tolist() == [1.0]
    assert p.grad(np.array([1.0])).tolist() == [0.0]


def test_no_data_is_analytic_like():
    p = make_problem("custom", {"expr": "(1 - p)**2 + 100*(q - p**2)**2", **NO_DATA})
    assert p.data_x.shape == (1, 0)
    assert p.data_y is None
    assert not p.has_data
    assert p.n_samples == 1
    assert p.loss(np.array([1.0, 1.0])) == 0.0
    assert p.grad(np.array([0.0, 0.0])).tolist() == [-2.0, 0.0]
    grid = np.random.default_rng(1).normal(size=(4, 6, 2))
    assert p.sample_losses(grid).shape == (4, 6, 1)
    assert p.sample_grads(grid).shape == (4, 6, 1, 2)
    assert p.sample_grads(grid, np.array([0, 0, 0])).shape == (4, 6, 3, 2)


def test_grid_shaped_params_match_point_by_point():
    p = make_problem("custom", {"expr": "log(1 + exp(-y*(w*x + b)))",
                                "data_expr": "y = 2*relu(x) - 1", "n": 12})
    grid = np.random.default_rng(2).normal(size=(3, 4, 2))
    losses, grads = p.sample_losses(grid), p.sample_grads(grid)
    assert losses.shape == (3, 4, 12)
    assert grads.shape == (3, 4, 12, 2)
    assert np.allclose(grads[2, 1], p.sample_grads(grid[2, 1]))
    assert np.allclose(p.loss(grid)[0, 3], p.loss(grid[0, 3]))


def test_reduction_sum():
    mean = make_problem("custom", {"expr": "(w*x - y)**2"})
    total = make_problem("custom", {"expr": "(w*x - y)**2", "reduction": "sum"})
    w = np.array([0.7])
    assert total.reduction == "sum"
    assert total.loss(w) == pytest.approx(mean.sample_losses(w).sum())
    assert total.grad(w) == pytest.approx(mean.grad(w) * mean.n_samples)


def test_csv_columns_all_by_default_and_selectable(csv_file):
    p = make_problem("custom", {"expr": "(w*x + b - y)**2"}, data_path=csv_file)
    assert p.data_columns == ("a", "x", "y")
    assert p.data_x.shape == (20, 2)
    assert p.used_columns == ("x", "y")
    assert p.loss(np.array([2.0, 1.0])) == pytest.approx(0.0, abs=1e-20)
    q = make_problem("custom", {"expr": "(w*x + b - y)**2", "columns": "x,y"},
                     data_path=csv_file)
    assert q.data_x.shape == (20, 1)
    assert np.allclose(q.grad(np.array([0.5, 0.5])), p.grad(np.array([0.5, 0.5])))
    # a selected single column is a feature without a target: estimate its mean
    m = make_problem("custom", {"expr": "(m - x)**2", "columns": "x"}, data_path=csv_file)
    assert m.data_y is None
    assert m.param_names == ("m",)
    assert m.grad(np.array([np.mean(m.data_x)]))[0] == pytest.approx(0.0, abs=1e-12)
    # a column left out of the selection is a parameter again
    r = make_problem("custom", {"expr": "(a*x - y)**2", "columns": "y,x"}, data_path=csv_file)
    assert r.param_names == ("a",)
    assert r.data_columns == ("y", "x")
    with pytest.raises(ConfigError, match="'z' not in data.csv; its columns: a, x, y"):
        make_problem("custom", {"expr": "(w*x - y)**2", "columns": "x,z"}, data_path=csv_file)
    with pytest.raises(ConfigError, match="no data file is given"):
        make_problem("custom", {"expr": "(w*x - y)**2", "columns": "x,y"})
    with pytest.raises(ConfigError, match="each column once"):
        make_problem("custom", {"expr": "(w*x - y)**2", "columns": "x,x"}, data_path=csv_file)


def test_make_problem_through_the_registry_with_a_csv(csv_file):
    p = make_problem("custom", {"expr": "(w*x - y)**2"}, data_path=csv_file)
    assert p is make_problem("custom", {"expr": "(w*x - y)**2"}, data_path=csv_file)
    assert p.param_names == ("w",)
    assert "data.csv" in p.description


def test_generated_data_is_reproducible_with_the_seed():
    settings = {"data_expr": "y = 3*x + normal(0, 2)", "n": 200, "seed": 5}
    a = CustomProblem({**settings})
    b = CustomProblem({**settings})
    c = CustomProblem({**settings, "seed": 6})
    assert np.array_equal(a.data_x, b.data_x)
    assert np.array_equal(a.data_y, b.data_y)
    assert not np.array_equal(a.data_y, c.data_y)
    assert a.data_x.min() >= -3.0
    assert a.data_x.max() <= 3.0


def test_generated_noise_has_about_the_asked_std():
    p = CustomProblem({"expr": "(w*x + b - t)**2", "data_expr": "t = 3*x + 1 + normal(0, 2)",
                       "n": 20000, "x_min": -1, "x_max": 1, "seed": 3})
    assert p.data_columns == ("x", "t")
    x, y = p.data_x[:, 0], p.data_y
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (slope * x + intercept)
    assert slope == pytest.approx(3.0, abs=0.1)
    assert intercept == pytest.approx(1.0, abs=0.05)
    assert residual.std() == pytest.approx(2.0, rel=0.03)
    u = CustomProblem({"expr": "(w - y)**2", "data_expr": "uniform(-1, 1)", "n": 20000})
    assert u.data_y.std() == pytest.approx(1 / math.sqrt(3), rel=0.03)


@pytest.mark.parametrize(("data_expr", "fragment"), [
    ("y = x + z", "one input column"),
    ("y = x + normal(0, -1)", "std must be"),
    ("y = log(x)", "non-finite value at row"),
    ("y = ", "ends too early"),
    ("x = x + 1", "cannot appear on its right side"),
    ("y = x; import os", "';'"),
    ("y = x + foo(1)", "allowed: exp, log, log1p, sqrt, abs, sin, cos, tan, tanh, sigmoid, "
                       "softplus, relu, min, max, normal, uniform"),
])
def test_bad_data_formulas_are_refused(data_expr, fragment):
    with pytest.raises(ConfigError, match=None) as info:
        make_problem("custom", {"data_expr": data_expr})
    assert fragment in str(info.value)
    assert str(info.value).startswith("data_expr: ")


def test_x_range_and_size_limits():
    with pytest.raises(ConfigError, match="x_min must be below x_max"):
        make_problem("custom", {"x_min": 2, "x_max": 1})
    with pytest.raises(ConfigError, match="at most 5000000"):
        make_problem("custom", {"n": 6_000_000})


def test_too_many_parameters_are_refused_with_the_position_of_the_21st():
    expr = "+".join(f"q{i}**2" for i in range(21))
    with pytest.raises(FormulaError, match="21 parameters; the limit is 20") as info:
        make_problem("custom", {"expr": expr, **NO_DATA})
    assert info.value.position == expr.index("q20") + 1
    assert make_problem("custom", {"expr": expr[:expr.index("+q20")], **NO_DATA}).n_params == 20


def test_overflowing_values_never_raise():
    p = make_problem("custom", {"expr": "exp(w*x)", "x_min": 1, "x_max": 2})
    with np.errstate(all="raise"):
        assert not np.isfinite(p.loss(np.array([1e5])))
        assert not np.all(np.isfinite(p.grad(np.array([1e5]))))


_HAS_OPTIMIZERS = importlib.util.find_spec("gdviz.core.optimizers") is not None


@pytest.mark.skipif(not _HAS_OPTIMIZERS, reason="gdviz.core.optimizers has not landed yet")
def test_a_short_run_fits_the_generated_line():
    from gdviz.core.records import RunConfig
    from gdviz.core.runner import run_to_end

    config = RunConfig(problem="custom", settings={"expr": "(w*x + b - y)**2", "n": 200},
                       optimizer="sgd", lr=0.05, batch_size=None, max_steps=400)
    records = run_to_end(config)
    assert records[-1].status in ("finished", "converged")
    w, b = records[-1].params
    assert w == pytest.approx(2.0, abs=0.15)
    assert b == pytest.approx(1.0, abs=0.15)


@pytest.mark.skipif(not _HAS_OPTIMIZERS, reason="gdviz.core.optimizers has not landed yet")
def test_a_run_that_overflows_ends_diverged():
    from gdviz.core.records import RunConfig
    from gdviz.core.runner import run_to_end

    config = RunConfig(problem="custom", settings={"expr": "w**4", **NO_DATA}, init=(3.0,),
                       lr=1.0, batch_size=None, max_steps=100)
    records = run_to_end(config)
    assert records[-1].status == "diverged"
    assert "diverged" in records[-1].message
