"""Curvature columns, Adam's preconditioner, stability thresholds and the curvature presets,
checked by running the optimizers (the laws are measured, not restated)."""

import math

import numpy as np
import pytest

from gdviz.core.curvature import (
    CurvatureColumns,
    hessian_eigenvalues,
    stability_threshold,
    stable_lr_limit,
)
from gdviz.core.presets import get_preset
from gdviz.core.problems.registry import make_problem
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end

QUADRATICS = [("bowl", {}, None), ("booth", {}, (-3.0, 6.0)),
              ("quadratic", {"a": 1.0, "b": 30.0}, (1.0, 1.0)),
              ("linreg", {"n": 200}, None)]


def sharpness_of(problem, point) -> float:
    return float(hessian_eigenvalues(problem, np.asarray(point, dtype=float))[-1])


def final_distance(config: RunConfig) -> tuple[str, float]:
    """(status, distance from the least-squares / known minimum at the end)."""
    records = run_to_end(config)
    problem = config.make_problem()
    best = np.array(problem.minima[0].params)
    return records[-1].status, float(np.linalg.norm(records[-1].params - best))


@pytest.mark.parametrize(("name", "settings", "init"), QUADRATICS)
@pytest.mark.parametrize(("momentum", "nesterov"), [(0.0, False), (0.5, False), (0.9, False),
                                                (0.7, True)])
def test_gradient_descent_converges_just_below_its_threshold_and_diverges_just_above(
        name, settings, init, momentum, nesterov):
    problem = make_problem(name, settings)
    start = problem.default_init if init is None else np.array(init)
    hp = {"momentum": momentum, "nesterov": nesterov}
    limit = stable_lr_limit("sgd", {**hp, "dampening": 0.0}, sharpness_of(problem, start))
    expected = (2 + 2 * momentum) / ((1 + 2 * momentum) if nesterov else 1)
    assert limit * sharpness_of(problem, start) == pytest.approx(expected, rel=1e-12)
    base = RunConfig(problem=name, settings=settings, optimizer="sgd", batch_size=None,
                     hyperparams=hp, init=None if init is None else init, max_steps=4000,
                     lr=limit)
    stable, d_stable = final_distance(base.with_changes(lr=0.99 * limit))
    unstable, d_unstable = final_distance(base.with_changes(lr=1.01 * limit))
    start_distance = float(np.linalg.norm(start - np.array(problem.minima[0].params)))
    assert stable == "finished"
    assert d_stable < 1e-3 * start_distance
    assert unstable == "diverged" or d_unstable > 1e3 * start_distance


def test_adam_moves_by_minus_lr_times_p_inverse_times_its_first_moment():
    """The defining identity of Cohen et al.'s preconditioner: x_t - x_(t-1) = -η·P⁻¹·m_t
    with P = (1 - β₁ᵗ)·(√v̂ + ε), for the state after the step."""
    from gdviz.core.curvature import PRECONDITIONERS

    for amsgrad in (False, True):
        config = RunConfig(problem="rosenbrock", optimizer="adam", lr=0.05, max_steps=40,
                           hyperparams={"betas": (0.8, 0.99), "eps": 1e-3,
                                        "amsgrad": amsgrad})
        for record in run_to_end(config)[1:]:
            p = PRECONDITIONERS["adam"](record.state, config.hyperparams)
            assert record.update == pytest.approx(-0.05 * record.state["exp_avg"] / p,
                                                  rel=1e-12, abs=1e-15)


def test_preconditioned_sharpness_is_the_top_eigenvalue_of_p_inverse_h():
    config = RunConfig(problem="himmelblau", optimizer="adamw", lr=0.02, max_steps=30,
                       init=(0.5, -0.5))
    problem = config.make_problem()
    columns = CurvatureColumns(problem, "adamw", config.hyperparams)
    assert columns.names == ("sharpness", "lambda_min", "preconditioned_sharpness")
    records = run_to_end(config)
    assert math.isnan(columns.row(records[0].params, records[0].state)[2])  # t = 0: no P
    for record in records[1:]:
        sharp, low, pre = columns.row(record.params, record.state)
        hessian = problem.hessian(record.params)
        t = record.state["step"]
        v_hat = record.state["exp_avg_sq"] / (1 - 0.999**t)
        p = (1 - 0.9**t) * (np.sqrt(v_hat) + 1e-8)
        direct = np.linalg.eigvals(np.diag(1 / p) @ hessian).real
        assert pre == pytest.approx(direct.max(), rel=1e-9)
        assert (low, sharp) == pytest.approx(tuple(np.linalg.eigvalsh(hessian)[[0, -1]]))


def test_columns_of_plain_optimizers_and_saddles():
    problem = make_problem("saddle")
    columns = CurvatureColumns(problem, "sgd", {})
    assert columns.names == ("sharpness", "lambda_min")
    assert columns.row(np.array([0.3, 0.1]), {}) == pytest.approx((2.0, -2.0))
    assert all(math.isnan(v) for v in columns.row(np.array([np.inf, 0.0]), {}))


def test_thresholds_name_their_quantity_and_formula():
    gd = stability_threshold("sgd", 0.1, {"momentum": 0.0})
    assert (gd.quantity, gd.value, gd.formula) == ("sharpness", pytest.approx(20.0), "2/η")
    heavy = stability_threshold("sgd", 0.1, {"momentum": 0.9, "dampening": 0.0})
    assert heavy.value == pytest.approx(38.0)
    adam = stability_threshold("adam", 0.01, {"betas": (0.9, 0.999)})
    assert adam.quantity == "preconditioned_sharpness"
    assert adam.value == pytest.approx(3800.0)                     # 38/η
    assert stability_threshold("adam", 0.01, {"betas": (0.5, 0.999)}).value == \
        pytest.approx(600.0)                                      # (2 + 1)/(0.5·0.01)
    assert stability_threshold("rmsprop", 0.01, {}) is None
    assert stability_threshold("newton", 1.0, {"damping": 0.0}) is None
    decayed = stability_threshold("sgd", 0.1, {"momentum": 0.0, "weight_decay": 0.5})
    assert decayed.value == pytest.approx(19.5)


def test_sgd_weight_decay_lowers_the_threshold_by_its_value():
    hp = {"momentum": 0.0, "weight_decay": 2.0}
    lr = 2.0 / (10.0 + 2.0)                  # threshold 2/η − wd = λmax exactly here
    for factor, status in ((0.99, "finished"), (1.01, "diverged")):
        config = RunConfig(problem="quadratic", settings={"a": 1.0, "b": 10.0},
                           optimizer="sgd", lr=factor * lr, hyperparams=hp, max_steps=3000)
        threshold = stability_threshold("sgd", factor * lr, config.hyperparams)
        assert (threshold.value > 10.0) == (status == "finished")
        assert run_to_end(config)[-1].status == status


# -- presets ---------------------------------------------------------------------------------
def test_stability_threshold_preset_sits_at_0_9_and_1_1_of_2_over_lambda_max():
    preset = get_preset("stability_threshold")
    problem = preset.config.make_problem()
    limit = 2.0 / sharpness_of(problem, problem.default_init)
    assert [run.config.lr for run in preset.runs] == pytest.approx([0.9 * limit, 1.1 * limit],
                                                                   rel=1e-12)
    ends = [run_to_end(run.config)[-1] for run in preset.runs]
    assert [end.status for end in ends] == ["finished", "diverged"]


def test_momentum_kappa100_measures_distills_rates_within_one_percent():
    preset = get_preset("momentum_kappa100")
    problem = preset.config.make_problem()
    low, high = hessian_eigenvalues(problem, np.zeros(2))
    kappa = high / low
    assert kappa == pytest.approx(100.0)
    predicted = [(kappa - 1) / (kappa + 1), (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)]
    measured = []
    for run in preset.runs:
        records = run_to_end(run.config)
        distance = [float(np.linalg.norm(r.params)) for r in records]
        # over the second half: heavy ball at its optimum has a double root (error ~ t·rᵗ)
        measured.append((distance[300] / distance[150]) ** (1 / 150))
    assert measured[0] == pytest.approx(predicted[0], rel=0.01)
    assert measured[1] == pytest.approx(predicted[1], rel=0.01)
    assert predicted == pytest.approx([0.980, 0.818], abs=5e-4)


def test_the_table_and_replayed_states_equal_the_rows_of_the_run():
    from gdviz.core import optimizers
    from gdviz.core.curvature import replay_states

    config = RunConfig(problem="linreg", optimizer="adam", lr=0.05, batch_size=10,
                       max_steps=60, hyperparams={"weight_decay": 0.1})
    records = run_to_end(config)
    columns = CurvatureColumns(config.make_problem(), "adam", config.hyperparams)
    params = np.array([r.params for r in records])
    start = optimizers.init_state("adam", params[0], config.hyperparams)
    states = [start] + replay_states("adam", config.hyperparams, start, params[:-1],
                                     np.array([r.grad for r in records[1:]]),
                                     np.array([r.lr for r in records[1:]]))
    for state, record in zip(states[1:], records[1:]):
        assert np.array_equal(state["exp_avg_sq"], record.state["exp_avg_sq"])
    table = columns.table(params, states)
    rows = np.array([columns.row(r.params, r.state) for r in records])
    assert np.allclose(table, rows, rtol=1e-12, equal_nan=True)


def test_the_curvature_ellipse_is_a_level_set_with_axes_along_the_eigenvectors():
    from gdviz.core.curvature import curvature_ellipse

    hessian = np.array([[10.0, 8.0], [8.0, 10.0]])         # booth: eigenvalues 2 and 18
    center = np.array([1.0, 3.0])
    ellipse, axes = curvature_ellipse(hessian, center, radius=0.6)
    d = ellipse - center
    model = 0.5 * np.einsum("ni,ij,nj->n", d, hessian, d)
    assert model == pytest.approx(np.full(len(d), model[0]))   # one level of ½dᵀHd
    lengths = np.linalg.norm(axes[1::2] - center, axis=1)
    assert lengths == pytest.approx([0.6, 0.6 / 3.0])          # ∝ 1/√λ: √(18/2) = 3
    long_axis = (axes[1] - center) / 0.6
    assert abs(long_axis @ np.array([1.0, -1.0])) == pytest.approx(math.sqrt(2))  # λ = 2
    saddle, saddle_axes = curvature_ellipse(np.diag([2.0, -2.0]), np.zeros(2), radius=1.0)
    assert saddle.shape == (0, 2)
    assert np.linalg.norm(saddle_axes[1::2], axis=1) == pytest.approx([1.0, 1.0])
    assert curvature_ellipse(np.full((2, 2), np.nan), np.zeros(2), 1.0)[1].shape == (0, 2)
