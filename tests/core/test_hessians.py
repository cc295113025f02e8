"""Exact Hessians of every problem against central finite differences of the exact gradients
(finite differences live here only, never in the product)."""

import numpy as np
import pytest

from gdviz.core.curvature import CurvatureColumns
from gdviz.core.errors import ConfigError
from gdviz.core.formula.nodes import FormulaError
from gdviz.core.problems.base import Problem
from gdviz.core.problems.registry import make_problem, problem_specs

BUILT_IN = [spec.name for spec in problem_specs() if spec.family != "custom"]

FORMULAS = [
    ({"expr": "(w*x + b - y)**2"}, None),
    ({"expr": "(1 - p)**2 + 100*(q - p**2)**2", "data_expr": ""}, None),
    ({"expr": "log(1 + exp(-y*(w1*x + w2*x**2 + b))) + relu(w1)*w2 + abs(b)*w1 "
              "+ max(w1, b)*w2 + sigmoid(w2*b) + softplus(w1*w2) + tanh(b)*sqrt(w2**2 + 1) "
              "+ log1p(w1**2) + min(w2, b)**2 + sin(w1)*cos(b) + tan(w2/10)"}, None),
    ({"expr": "(a*x1 + c*x2 - y)**2/2 + exp(a*c/10)"}, "csv"),
]


def finite_difference_hessian(problem: Problem, point: np.ndarray, h: float = 1e-6):
    """Central differences of the exact full gradient, column by column: (p, p)."""
    p = problem.n_params
    out = np.empty((p, p))
    for j in range(p):
        step = np.zeros(p)
        step[j] = h * max(1.0, abs(point[j]))
        out[:, j] = (problem.grad(point + step) - problem.grad(point - step)) / (2 * step[j])
    return out


def random_points(problem: Problem, count: int = 6, seed: int = 1) -> np.ndarray:
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    return lo + (hi - lo) * np.random.default_rng(seed).random((count, problem.n_params))


def assert_matches_finite_differences(problem: Problem) -> None:
    points = random_points(problem)
    hessians = problem.hessian(points)                  # vectorised over the points
    assert hessians.shape == (len(points), problem.n_params, problem.n_params)
    for point, hessian in zip(points, hessians):
        assert np.array_equal(hessian, hessian.T)
        assert hessian == pytest.approx(problem.hessian(point), rel=1e-12, abs=1e-12)
        scale = max(1.0, float(np.abs(hessian).max()))
        assert np.abs(finite_difference_hessian(problem, point) - hessian).max() < 1e-6 * scale


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_hessians_match_finite_differences_of_the_gradient(name):
    problem = make_problem(name)
    assert problem.has_hessian
    assert_matches_finite_differences(problem)


@pytest.mark.parametrize(("settings", "data"), FORMULAS)
def test_formula_hessians_are_exact(settings, data, tmp_path):
    path = None
    if data == "csv":
        rng = np.random.default_rng(3)
        table = rng.normal(size=(40, 3))
        path = tmp_path / "d.csv"
        np.savetxt(path, table, delimiter=",", header="x1,x2,y", comments="")
    problem = make_problem("custom", settings, None if path is None else str(path))
    assert_matches_finite_differences(problem)


@pytest.mark.parametrize("name", ["linreg", "logistic", "slope"])
def test_hessians_of_csv_data(name, tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(30, 1 if name == "slope" else 2))
    y = (x.sum(axis=1) > 0).astype(float) if name == "logistic" else x.sum(axis=1)
    path = tmp_path / "d.csv"
    names = ",".join(f"x{i}" for i in range(x.shape[1]))
    np.savetxt(path, np.column_stack([x, y]), delimiter=",", header=f"{names},y", comments="")
    assert_matches_finite_differences(make_problem(name, {}, str(path)))


def test_a_batch_hessian_is_the_reduced_sum_over_its_samples():
    problem = make_problem("logistic")                 # reduction "sum": n/k times the sum
    point = problem.default_init
    batch = np.array([3, 7, 7, 11])
    singles = sum(problem.batch_hessian(point, np.array([i])) for i in batch)
    assert problem.batch_hessian(point, batch) == pytest.approx(singles / len(batch), rel=1e-12)
    everything = np.arange(problem.n_samples)
    assert problem.batch_hessian(point, everything) == pytest.approx(problem.hessian(point),
                                                                     rel=1e-12)


def test_quadratic_problems_have_their_textbook_eigenvalues():
    booth = np.linalg.eigvalsh(make_problem("booth").hessian(np.array([0.3, -2.0])))
    assert booth == pytest.approx([2.0, 18.0])
    quad = make_problem("quadratic", {"a": 2.0, "b": 50.0})
    assert np.linalg.eigvalsh(quad.hessian(np.zeros(2))) == pytest.approx([2.0, 50.0])
    saddle = make_problem("saddle").hessian(np.array([0.5, 0.5]))
    assert np.linalg.eigvalsh(saddle) == pytest.approx([-2.0, 2.0])


def test_kinks_follow_the_gradients_convention():
    relu = make_problem("custom", {"expr": "relu(w)**2 + abs(w)*3", "data_expr": ""})
    assert relu.hessian(np.array([[0.5], [-0.5]]))[:, 0, 0] == pytest.approx([2.0, 0.0])
    ackley = make_problem("ackley")
    assert np.isnan(ackley.hessian(np.zeros(2))).all()  # the cone's kink: infinite curvature


def test_a_formula_whose_hessian_is_too_large_is_refused_in_a_sentence(monkeypatch):
    import gdviz.core.formula.hessian as hessian_module

    monkeypatch.setattr(hessian_module, "MAX_GRADIENT_NODES", 5)
    problem = make_problem("custom", {"expr": "exp(sin(p*q))*cos(p + q**3)", "data_expr": ""})
    with pytest.raises(FormulaError, match="Hessian has more than 5 distinct parts"):
        problem.hessian(np.zeros(2))


def test_a_problem_without_hessian_says_so():
    class Flat(Problem):
        name = "flat"
        param_names = ("a",)

        def _sample_losses(self, params, x, y):
            return np.zeros(params.shape[:-1] + (x.shape[0],))

        def _sample_grads(self, params, x, y):
            return np.zeros(params.shape[:-1] + (x.shape[0], 1))

    flat = Flat()
    assert not flat.has_hessian
    with pytest.raises(ValueError, match="gives no full Hessian"):
        flat.hessian(np.zeros(1))
    with pytest.raises(ConfigError, match="gives no exact Hessian"):
        CurvatureColumns(flat, "sgd", {})
