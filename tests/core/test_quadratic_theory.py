"""The quadratic theory (core.quadratic_theory) against runs of the real optimizer: predicted
errors along the eigen-directions, predicted and measured rates, the phase diagram's grid."""

import math

import numpy as np
import pytest

from gdviz.core.presets import get_preset
from gdviz.core.problems.registry import make_problem
from gdviz.core.quadratic_theory import (
    Dynamics,
    PredictionTable,
    best_settings,
    measured_rate,
    predicted_errors,
    predicted_rate,
    quadratic_of,
    rate_grid,
    run_theory,
    spectral_radius,
)
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end


def measured_errors(config: RunConfig, theory) -> tuple[np.ndarray, np.ndarray]:
    """(steps (n,), errors along the eigen-directions (n, p)) of the real run."""
    records = run_to_end(config)
    params = np.array([r.params for r in records])
    return np.array([r.step for r in records]), theory.quadratic.errors(params)


def test_momentum_kappa100_rates_are_distills_and_measured_within_one_percent():
    preset = get_preset("momentum_kappa100")
    kappa = 100.0
    expected = [(kappa - 1) / (kappa + 1), (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)]
    for run, want in zip(preset.runs, expected):
        theory = run_theory(run.config)
        assert theory.quadratic.condition_number == pytest.approx(kappa, rel=1e-12)
        assert theory.rate == pytest.approx(want, rel=1e-12)
        _, errors = measured_errors(run.config, theory)
        assert measured_rate(errors, theory.quadratic) == pytest.approx(want, rel=0.01)
    (gd_lr, gd_rate), (hb_lr, hb_beta) = best_settings(theory.quadratic)
    assert [gd_lr, gd_rate] == pytest.approx([preset.runs[0].config.lr, expected[0]], rel=1e-12)
    assert [hb_lr, hb_beta] == pytest.approx(
        [preset.runs[1].config.lr, preset.runs[1].config.hyperparams["momentum"]], rel=1e-12)


@pytest.mark.parametrize(("name", "settings"), [("quadratic", {"a": 1.0, "b": 30.0}),
                                                ("bowl", {}), ("booth", {})])
def test_gradient_descent_converges_at_0_99_and_diverges_at_1_01_of_2_over_lambda_max(
        name, settings):
    problem = make_problem(name, settings)
    quadratic = quadratic_of(problem, problem.default_init)
    limit = 2.0 / quadratic.eigenvalues[-1]
    for factor, converges in ((0.99, True), (1.01, False)):
        config = RunConfig(problem=name, settings=settings, optimizer="sgd", batch_size=None,
                           lr=factor * limit, max_steps=3000)
        theory = run_theory(config)
        _, errors = measured_errors(config, theory)
        rate = measured_rate(errors, theory.quadratic)
        assert (theory.rate < 1.0) == converges
        assert (rate < 1.0) == converges
        assert rate == pytest.approx(theory.rate, rel=1e-3)
        final = np.linalg.norm(errors[-1])
        assert (final < 1e-3 * np.linalg.norm(errors[0])) == converges


def test_predicted_errors_equal_the_measured_ones_for_gradient_descent_on_the_bowl():
    preset = get_preset("stability_threshold")
    for run in preset.runs:               # 0.9·(2/λmax) finishes, 1.1·(2/λmax) diverges
        theory = run_theory(run.config)
        steps, errors = measured_errors(run.config, theory)
        predicted = theory.predicted(steps)
        finite = np.all(np.isfinite(errors), axis=1)
        assert finite.sum() > 40
        scale = max(1.0, float(np.max(np.abs(errors[finite]))))
        assert np.max(np.abs(predicted[finite] - errors[finite])) < 1e-10 * scale


@pytest.mark.parametrize("hp", [{"momentum": 0.9}, {"momentum": 0.5, "dampening": 0.3},
                                {"momentum": 0.7, "nesterov": True},
                                {"momentum": 0.9, "weight_decay": 0.1}])
def test_predicted_errors_follow_torchs_momentum_rule_exactly(hp):
    config = RunConfig(problem="linreg", optimizer="sgd", lr=0.05, batch_size=None,
                       hyperparams=hp, max_steps=200)
    theory = run_theory(config)
    steps, errors = measured_errors(config, theory)
    assert np.max(np.abs(theory.predicted(steps) - errors)) < 1e-10


def test_the_rate_grid_is_the_spectral_radius_and_gradient_descent_is_its_zero_row():
    lam = np.array([0.5, 3.0, 10.0])
    lrs = np.linspace(0.0, 0.5, 21)
    momenta = np.array([0.0, 0.3, 0.9])
    grid = rate_grid(lam, lrs, momenta)
    assert grid.shape == (3, 21)
    assert np.allclose(grid[0], np.max(np.abs(1 - lrs[:, None] * lam), axis=1), atol=1e-15)
    for k, beta in enumerate(momenta):
        for m, lr in enumerate(lrs):
            one = max(max(abs(z) for z in np.roots([1.0, -(1 + beta - lr * x), beta]))
                      for x in lam)
            assert grid[k, m] == pytest.approx(one, rel=1e-9, abs=1e-12)
    # complex roots (underdamped): |z| = √β
    assert spectral_radius(1.0, 0.5, 0.9) == pytest.approx(math.sqrt(0.9), rel=1e-12)


def test_predicted_errors_at_any_steps_agree_with_stepping_one_at_a_time():
    quadratic = quadratic_of(make_problem("quadratic", {"a": 1.0, "b": 100.0}),
                             np.array([1.0, 1.0]))
    dynamics = Dynamics(0.03, 0.6)
    all_steps = predicted_errors(quadratic, dynamics, np.array([1.0, 1.0]), np.arange(101))
    some = predicted_errors(quadratic, dynamics, np.array([1.0, 1.0]), np.array([100, 0, 37]))
    assert np.allclose(some, all_steps[[100, 0, 37]], rtol=1e-12, atol=1e-300)
    assert predicted_rate(quadratic, dynamics) == pytest.approx(
        max(spectral_radius(np.array([1.0, 100.0]), 0.03, 0.6)), rel=1e-15)


@pytest.mark.parametrize("dynamics", [Dynamics(0.019), Dynamics(0.03, 0.6),
                                      Dynamics(0.02, 0.5, 0.3, False),
                                      Dynamics(0.01, 0.7, 0.0, True),
                                      Dynamics(0.021)])          # the last one diverges
def test_the_growing_prediction_table_equals_the_prediction_at_any_step(dynamics):
    quadratic = quadratic_of(make_problem("quadratic", {"a": 1.0, "b": 100.0}),
                             np.array([1.0, 1.0]))
    table = PredictionTable(quadratic, dynamics, np.array([1.0, 1.0]))
    for n in (1, 2, 3, 7, 300, 301, 1000):     # grown in uneven pieces, asked again
        assert table.errors(n).shape == (n, 2)
    direct = predicted_errors(quadratic, dynamics, np.array([1.0, 1.0]), np.arange(1000))
    grown = table.errors(1000)
    finite = np.isfinite(direct)
    assert np.array_equal(finite, np.isfinite(grown))
    # to rounding of the error's envelope (1 + t)·ρᵗ (a momentum error crosses zero)
    t = np.arange(1000)[:, None]
    with np.errstate(over="ignore"):
        envelope = (1.0 + t) * predicted_rate(quadratic, dynamics) ** t
    gap = np.abs(grown - direct)
    assert np.all(gap[finite] <= (1e-10 * np.broadcast_to(envelope, gap.shape))[finite])


def test_non_quadratic_problems_and_other_optimizers_are_refused_in_words():
    refusal = run_theory(RunConfig(problem="rosenbrock", optimizer="sgd", lr=0.001))
    assert isinstance(refusal, str)
    assert "not quadratic" in refusal
    adam = run_theory(RunConfig(problem="bowl", optimizer="adam", lr=0.1))
    assert adam.rate is None
    assert "adam" in adam.dynamics
    assert adam.predicted(np.arange(3)) is None


def test_a_formula_quadratic_in_its_parameters_is_detected_and_one_that_is_not_is_not():
    quadratic = make_problem("custom", {"expr": "(w*x + b - y)**2"})
    assert np.allclose(quadratic.constant_hessian(), quadratic.hessian(np.array([3.0, -2.0])))
    assert make_problem("custom", {"expr": "(w*w*x + b - y)**2"}).constant_hessian() is None
    config = RunConfig(problem="custom", settings={"expr": "(w*x + b - y)**2"},
                       optimizer="sgd", lr=0.05, batch_size=None, max_steps=100)
    theory = run_theory(config)
    steps, errors = measured_errors(config, theory)
    assert np.max(np.abs(theory.predicted(steps) - errors)) < 1e-10
