"""The network's curvature: exact Hessian-vector products (R-operator) against finite
differences of the exact gradients (here only), the full Hessian against torch's autograd
(committed references), Lanczos against eigvalsh, and the curvature columns of a network too
large for its full Hessian."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from gdviz.core import lanczos
from gdviz.core.curvature import CurvatureColumns, hessian_extremes
from gdviz.core.errors import ConfigError
from gdviz.core.newton import newton_step
from gdviz.core.optimizers import init_state
from gdviz.core.optimizers import step as optimizer_step
from gdviz.core.problems.mlp import FULL_HESSIAN_MAX
from gdviz.core.problems.registry import make_problem
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
REFERENCE = pathlib.Path(__file__).parents[1] / "reference" / "mlp_hessians.json"


def _network(activation: str, dataset: str, layers: str = "4,3", n: int = 30):
    return make_problem("mlp", {"layers": layers, "activation": activation,
                                "dataset": dataset, "n": n})


def _finite_difference_products(problem, point, vectors, h=1e-6):
    """(H·v) by central differences of the exact full gradient along each v: (m, p)."""
    return np.stack([(problem.grad(point + h * v) - problem.grad(point - h * v)) / (2 * h)
                     for v in vectors])


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dataset", ["moons", "multigauss"])   # BCE with logits, MSE
@pytest.mark.parametrize("layers", ["4,3", "12,12"])            # 35 and 205 parameters
def test_hessian_vector_products_match_finite_differences(activation, dataset, layers):
    problem = _network(activation, dataset, layers)
    assert problem.has_hessian_vector_products
    assert problem.has_hessian == (problem.n_params <= FULL_HESSIAN_MAX)
    rng = np.random.default_rng(7)
    point = 1.5 * problem.start_for_seed(3) + rng.normal(0.0, 0.2, problem.n_params)
    vectors = rng.normal(0.0, 1.0, (3, problem.n_params))
    products = problem.hessian_vector_products(point, vectors)
    assert products.shape == (3, problem.n_params)
    numeric = _finite_difference_products(problem, point, vectors)
    scale = max(1.0, float(np.abs(products).max()))
    assert np.abs(numeric - products).max() < 1e-6 * scale
    # one direction at a time, and a stack of points, give the same numbers
    np.testing.assert_allclose(problem.hessian_vector_product(point, vectors[1]), products[1],
                               rtol=1e-12, atol=1e-12 * scale)
    points = np.stack([point, point + 0.1])
    stacked = problem.hessian_vector_products(points, vectors[None])
    np.testing.assert_allclose(stacked[0], products, rtol=1e-12, atol=1e-12 * scale)


def test_a_batch_hessian_vector_product_is_the_mean_over_its_samples():
    problem = _network("tanh", "moons")
    point = problem.start_for_seed(0)
    vector = np.random.default_rng(2).normal(size=problem.n_params)
    batch = np.array([3, 8, 1])
    singles = sum(problem.batch_hessian_vector_products(point, vector[None], np.array([i]))
                  for i in batch)
    together = problem.batch_hessian_vector_products(point, vector[None], batch)
    np.testing.assert_allclose(together, singles / 3, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("case", json.loads(REFERENCE.read_text())["cases"],
                         ids=lambda case: case["settings"]["activation"])
def test_full_hessian_equals_torch_autograd(case):
    problem = make_problem("mlp", case["settings"])
    expected = np.array(case["hessian"])
    hessian = problem.hessian(np.array(case["point"]))
    assert np.array_equal(hessian, hessian.T)
    scale = float(np.abs(expected).max())
    assert np.abs(hessian - expected).max() <= 1e-13 * scale
    # the same Hessian, through the batch API every optimizer uses (Newton)
    everything = np.arange(problem.n_samples)
    np.testing.assert_allclose(problem.batch_hessian(np.array(case["point"]), everything),
                               hessian, rtol=1e-12, atol=1e-14 * scale)


def test_the_full_hessian_stops_at_its_limit_with_a_reason():
    small = _network("tanh", "moons", "12,11")      # 2·12+12 + 12·11+11 + 11+1 = 192
    large = _network("tanh", "moons", "12,12")      # 205
    assert small.n_params <= FULL_HESSIAN_MAX < large.n_params
    assert small.has_hessian
    assert not large.has_hessian
    with pytest.raises(ValueError, match="at most 200 parameters, and this one has 205"):
        large.hessian(large.start_for_seed(0))


def test_lanczos_extremes_equal_eigvalsh_on_a_hundred_parameters():
    problem = _network("tanh", "spiral", "8,8", n=200)     # 105 parameters
    rng = np.random.default_rng(11)
    points = rng.normal(0.0, 0.8, (4, problem.n_params))
    exact = np.linalg.eigvalsh(problem.hessian(points))[:, [0, -1]]
    low, high = lanczos.extreme_eigenvalues(
        lambda v, which: problem.hessian_vector_products(points[which], v[:, None])[:, 0],
        len(points), problem.n_params)
    assert np.abs(low - exact[:, 0]).max() < 1e-8
    assert np.abs(high - exact[:, 1]).max() < 1e-8
    assert np.all(exact[:, 0] < 0)      # both ends really are found, the negative one too


def test_lanczos_is_deterministic_and_exact_on_known_spectra():
    rng = np.random.default_rng(0)
    rotations = np.linalg.qr(rng.normal(size=(3, 60, 60)))[0]
    spectra = np.stack([np.linspace(-2.0, 5.0, 60), np.geomspace(1e-3, 1e3, 60),
                        np.r_[np.full(59, 1.0), 7.0]])
    matrices = np.einsum("aij,aj,akj->aik", rotations, spectra, rotations)

    def apply(v, which):
        return np.einsum("apq,aq->ap", matrices[which], v)

    first = lanczos.extreme_eigenvalues(apply, 3, 60)
    np.testing.assert_allclose(first[0], [-2.0, 1e-3, 1.0], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(first[1], [5.0, 1e3, 7.0], rtol=1e-12)
    second = lanczos.extreme_eigenvalues(apply, 3, 60)
    np.testing.assert_array_equal(first[0], second[0])
    np.testing.assert_array_equal(first[1], second[1])


def test_lanczos_gives_nan_where_the_products_are_not_finite():
    low, high = lanczos.extreme_eigenvalues(
        lambda v, which: np.where(which[:, None] == 1, np.nan, 2.0 * v), 2, 5)
    assert low[0] == pytest.approx(2.0)
    assert high[0] == pytest.approx(2.0)
    assert np.isnan(low[1])
    assert np.isnan(high[1])


def _assembled(problem, point):
    """The Hessian (p, p) from p Hessian-vector products (the columns of H·I)."""
    columns = problem.hessian_vector_products(point, np.eye(problem.n_params))
    return 0.5 * (columns + columns.T)


def test_curvature_columns_of_a_network_without_its_full_hessian():
    config = RunConfig.from_dict({
        "problem": "mlp", "settings": {"layers": [12.0, 12.0], "dataset": "circle", "n": 80},
        "optimizer": "adam", "lr": 0.01, "batch_size": None, "max_steps": 3})
    problem = config.make_problem()
    assert not problem.has_hessian
    columns = CurvatureColumns(problem, "adam", config.hyperparams)
    columns.prepare()
    assert columns.names == ("sharpness", "lambda_min", "preconditioned_sharpness")
    params = config.start_point()
    state = init_state("adam", params, config.hyperparams)
    points, states = [params], [state]
    for _ in range(2):
        params, state = optimizer_step("adam", params, problem.grad(params), state, 0.01,
                                       config.hyperparams)
        points.append(params)
        states.append(state)
    table = columns.table(np.array(points), states)
    for point, state, row in zip(points, states, table):
        hessian = _assembled(problem, point)
        values = np.linalg.eigvalsh(hessian)
        assert row[:2] == pytest.approx([values[-1], values[0]], rel=1e-9, abs=1e-12)
        if state["step"] == 0:
            assert np.isnan(row[2])
            continue
        beta1, beta2 = config.hyperparams["betas"]
        t = state["step"]
        diagonal = (1 - beta1**t) * (np.sqrt(state["exp_avg_sq"] / (1 - beta2**t))
                                     + config.hyperparams["eps"])
        scale = 1 / np.sqrt(diagonal)
        expected = np.linalg.eigvalsh(hessian * scale[:, None] * scale[None, :])[-1]
        assert row[2] == pytest.approx(expected, rel=1e-9)
    np.testing.assert_allclose(hessian_extremes(problem, np.array(points))[:, ::-1],
                               table[:, :2], rtol=1e-12)


def test_newton_on_a_network_needs_its_full_hessian():
    small = RunConfig.from_dict({"problem": "mlp", "settings": {"layers": [3.0],
                                                               "dataset": "plane", "n": 30},
                                 "optimizer": "newton", "lr": 1.0, "batch_size": None,
                                 "max_steps": 2})
    problem = small.make_problem()
    assert problem.has_hessian
    records = run_to_end(small)
    assert len(records) == 3
    assert np.all(np.isfinite(records[-1].params))
    # the run's first step is the damped Newton step with the R-operator's full Hessian
    before = records[0].params
    expected, _ = newton_step(before, problem.grad(before), problem.hessian(before),
                              {"step": 0, "shift": 0.0}, 1.0, small.hyperparams)
    np.testing.assert_allclose(records[1].params, expected, rtol=1e-9, atol=1e-12)
    with pytest.raises(ConfigError, match="needs the exact Hessian: the network's full "
                                          "Hessian is computed for at most 200"):
        RunConfig.from_dict({"problem": "mlp", "settings": {"layers": [12.0, 12.0]},
                             "optimizer": "newton", "lr": 1.0, "max_steps": 2})
