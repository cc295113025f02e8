"""Learning-rate sweeps (gdviz.core.sweep): objectives equal those of separate runs, the best
lr is the best of those runs, divergence is marked, the usable window, cancel, bad input."""

import math

import numpy as np
import pytest

from gdviz.core import sweep as sweep_module
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.sweep import (
    Objective,
    SweepResult,
    default_grid,
    log_grid,
    parse_grid,
    run_sweep,
    sweep_steps,
)


def objective_of_single_run(config: RunConfig, objective: Objective) -> tuple[float, bool]:
    """(objective, diverged) of one run computed from ``iterate``'s records, by the rules the
    module docstring states (written out here independently of the module's code)."""
    records = list(iterate(config))
    horizon = config.step_limit()
    last = records[-1]
    if last.status == "diverged":
        return math.inf, True
    if objective.kind == "final":
        return last.loss, False
    if objective.kind == "auc":
        losses = [r.loss for r in records[1:]]
        losses += [last.loss] * (horizon - len(losses))
        return float(np.mean(losses)), False
    hits = [r.step for r in records if r.loss <= objective.target]
    return float(hits[0] if hits else horizon + 1), False


CASES = [
    # (config, grid, seeds): the ensemble of every pair, one ensemble per lr, single runs
    (RunConfig(problem="linreg", settings={"n": 40}, optimizer="sgd", lr=0.05, batch_size=4,
               hyperparams={"momentum": 0.9}, max_steps=60), default_grid(0.05, 13), [0, 1, 2]),
    (RunConfig(problem="rosenbrock", optimizer="adam", lr=0.02, max_steps=80,
               settings={"grad_noise": 0.3}), log_grid(1e-3, 3.0, 9), [3, 4]),
    (RunConfig(problem="wavy", optimizer="rprop", lr=0.01, max_steps=50),
     log_grid(1e-4, 10.0, 7), [0, 1]),
    (RunConfig(problem="bowl", optimizer="adafactor", lr=0.01, batch_size=5, max_steps=30),
     log_grid(1e-3, 10.0, 6), [0, 1]),
    (RunConfig(problem="slope", optimizer="sgd", lr=1e-3, batch_size=5, max_steps=40,
               schedule="plateau"), log_grid(1e-5, 1e-1, 5), [0, 2]),
    # every seed the same run (computed once): Rosenbrock without noise, a sequential bowl
    (RunConfig(problem="rosenbrock", optimizer="adam", lr=0.02, max_steps=60),
     log_grid(1e-3, 3.0, 7), [0, 1, 2]),
    (RunConfig(problem="bowl", optimizer="rprop", lr=0.01, batch_size=4, order="sequential",
               max_steps=30), log_grid(1e-3, 1.0, 4), [5, 6]),
    # a network's start is drawn from the seed: one ensemble (or run) per seed
    (RunConfig(problem="mlp", settings={"layers": "3", "n": 40}, optimizer="adam", lr=0.01,
               batch_size=8, max_steps=25), log_grid(1e-3, 1.0, 5), [0, 1]),
    (RunConfig(problem="mlp", settings={"layers": "3", "n": 40}, optimizer="asgd", lr=0.01,
               batch_size=8, max_steps=25), log_grid(1e-3, 1.0, 3), [0, 1]),
]


@pytest.mark.parametrize(("config", "lrs", "seeds"), CASES,
                         ids=["ensemble-sgd", "ensemble-adam-noise", "per-lr-rprop",
                              "single-adafactor", "single-plateau", "seed-free-adam",
                              "seed-free-rprop", "mlp-adam", "mlp-asgd"])
@pytest.mark.parametrize("objective", ["final", "auc", "steps-to:0.5"])
def test_best_lr_is_the_best_of_separate_runs_over_the_same_grid(config, lrs, seeds,
                                                                 objective):
    wanted = Objective.parse(objective)
    result = run_sweep(config, lrs, wanted, seeds)
    singles = np.array([[objective_of_single_run(config.with_changes(lr=float(lr), seed=s),
                                                 wanted)[0] for s in seeds] for lr in lrs])
    diverged = np.array([[objective_of_single_run(config.with_changes(lr=float(lr), seed=s),
                                                  wanted)[1] for s in seeds] for lr in lrs])
    np.testing.assert_array_equal(result.diverged, diverged)
    # sums of the same floats in another order (np.mean is pairwise): equal to 1e-12
    np.testing.assert_allclose(result.values, singles, rtol=1e-12, atol=0)
    means = singles.mean(axis=1)
    assert np.isfinite(means).any()
    assert result.best_lr == float(lrs[int(np.argmin(means))])
    assert result.best_value == pytest.approx(means.min(), rel=1e-12)


def test_large_sweeps_run_as_several_ensembles_with_the_same_results(monkeypatch):
    config, lrs, seeds = CASES[0]
    whole = run_sweep(config, lrs, Objective("auc"), seeds)
    monkeypatch.setattr(sweep_module, "MAX_MEMBERS", 5)   # 39 runs: 8 ensembles
    chunked = run_sweep(config, lrs, Objective("auc"), seeds)
    np.testing.assert_array_equal(chunked.values, whole.values)


def test_seeds_that_draw_nothing_are_recognised():
    from gdviz.core.sweep import seeds_draw_nothing

    assert seeds_draw_nothing(RunConfig(problem="rosenbrock"))
    assert not seeds_draw_nothing(RunConfig(problem="rosenbrock", settings={"grad_noise": 0.1}))
    assert seeds_draw_nothing(RunConfig(problem="linreg", order="sequential", batch_size=4))
    assert not seeds_draw_nothing(RunConfig(problem="linreg", batch_size=None))  # shuffled
    assert not seeds_draw_nothing(RunConfig(problem="mlp", order="sequential"))
    assert seeds_draw_nothing(RunConfig(problem="mlp", order="sequential",
                                        init=(0.1,) * len(RunConfig(problem="mlp")
                                                          .make_problem().param_names)))


def test_a_diverged_run_gets_the_worst_objective_and_is_marked():
    # the bowl diverges for full-batch GD above 2/λmax = 0.054 (README, compare_bowl_lr)
    config = RunConfig(problem="bowl", optimizer="sgd", lr=0.02, batch_size=None, max_steps=200)
    for name in ("final", "auc", "steps-to:1e-9"):
        result = run_sweep(config, [0.01, 0.05, 0.06, 1.0], Objective.parse(name), [0])
        assert result.diverged[:, 0].tolist() == [False, False, True, True]
        assert np.isinf(result.values[2:]).all()
        assert np.isfinite(result.values[:2]).all()
        assert result.best_lr in (0.01, 0.05)
        assert "2 of 4 runs diverged" in result.summary()
    everything = run_sweep(config, [1.0, 2.0], Objective.parse("final"), [0, 1])
    assert everything.diverged.all()
    assert everything.best_lr is None
    assert everything.window is None
    assert everything.summary().startswith("no learning rate works")


def test_steps_to_counts_the_start_and_gives_the_horizon_plus_one_when_never_reached():
    config = RunConfig(problem="bowl", optimizer="sgd", lr=0.02, batch_size=None, max_steps=25)
    start = next(iterate(config)).loss
    at_start = run_sweep(config, [0.01, 0.02], Objective("steps-to", start * 1.01), [0])
    assert at_start.values.tolist() == [[0.0], [0.0]]
    never = run_sweep(config, [0.01, 0.02], Objective("steps-to", -1.0), [0])
    assert never.values.tolist() == [[26.0], [26.0]]


def test_auc_holds_the_last_loss_of_a_run_that_converged_early():
    config = RunConfig(problem="bowl", optimizer="sgd", lr=0.04, batch_size=None,
                       max_steps=400, tol=1e-4)
    records = list(iterate(config))
    assert records[-1].status == "converged"
    assert records[-1].step < 400
    result = run_sweep(config, [0.04], Objective.parse("auc"), [0])
    losses = [r.loss for r in records[1:]]
    expected = (sum(losses) + records[-1].loss * (400 - len(losses))) / 400
    assert result.values[0, 0] == pytest.approx(expected, rel=1e-12)


def _result(means, lrs=None, factor=2.0):
    means = np.asarray(means, dtype=float)
    lrs = np.logspace(-3, 3, len(means)) if lrs is None else np.asarray(lrs)
    return SweepResult(RunConfig(problem="bowl"), Objective("final"), lrs, (0,),
                       means[:, None], ~np.isfinite(means)[:, None], 10, factor)


def test_the_usable_window_is_the_stretch_around_the_best_within_the_factor():
    r = _result([9.0, 3.9, 2.5, 2.0, 4.0, 4.1, 1.0 * np.inf, 3.0])
    assert r.best_index == 3
    assert r.window == (1, 4)     # 3.9 and 4.0 are within 2x of 2; 4.1 and 9 are not
    assert r.window_decades == pytest.approx(3 * 6 / 7)
    assert "usable window" in r.summary()
    assert "within 2x" in r.summary()
    assert r.brief() == ("best lr 0.3728 (2); window 0.007197 to 2.683 = 2.57 decades; "
                         "1 of 8 diverged")
    assert _result([9.0, 3.9, 2.5, 2.0, 4.0], factor=1.3).window == (2, 3)
    # a negative best (a loss whose minimum is below 0): within 2x is at most half of it
    assert _result([0.1, -0.3, -0.76, -0.5, -0.2]).window == (2, 3)
    assert _result([1.0, 0.0, 0.0, 1e-3]).window == (1, 2)
    # ties: the smallest lr
    assert _result([3.0, 1.0, 1.0, 5.0]).best_index == 1


def test_spread_is_the_std_over_seeds_and_undefined_where_a_seed_diverged():
    values = np.array([[1.0, 3.0], [2.0, np.inf]])
    r = SweepResult(RunConfig(problem="bowl"), Objective("final"), np.array([0.1, 1.0]),
                    (0, 1), values, np.isinf(values), 10)
    assert r.mean.tolist() == [2.0, np.inf]
    assert r.spread[0] == 1.0
    assert np.isnan(r.spread[1])


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs"])
def test_cancel_stops_between_chunks(monkeypatch, optimizer):
    monkeypatch.setattr(sweep_module, "CHUNK_SECONDS", 0.0)   # a chunk after every step
    config = RunConfig(problem="rosenbrock", optimizer=optimizer, lr=1e-3, max_steps=500)
    seen = []
    result = run_sweep(config, default_grid(1e-3, 5), Objective("final"), [0],
                       progress=seen.append, cancelled=lambda: len(seen) >= 3)
    assert result is None
    assert len(seen) == 3
    assert 0 < seen[-1] < 0.01
    steps = sweep_steps(config, default_grid(1e-3, 5), Objective("final"), [0])
    first = next(steps)
    steps.close()   # the GUI's cancel: the generator is closed between chunks
    assert 0 <= first < 1


def test_progress_rises_to_one():
    config = RunConfig(problem="linreg", settings={"n": 20}, lr=0.05, batch_size=2,
                       max_steps=30)
    seen = []
    result = run_sweep(config, default_grid(0.05, 9), Objective("auc"), [0, 1],
                       progress=seen.append)
    assert result is not None
    assert seen == sorted(seen)
    assert seen[-1] == 1.0


def test_grids():
    grid = default_grid(0.01)
    assert len(grid) == 41
    assert grid[0] == pytest.approx(1e-5)
    assert grid[-1] == pytest.approx(10.0)
    assert grid[20] == pytest.approx(0.01)
    np.testing.assert_allclose(np.diff(np.log10(grid)), 0.15)
    np.testing.assert_allclose(parse_grid("1e-4:1:5"), [1e-4, 1e-3, 1e-2, 1e-1, 1])


@pytest.mark.parametrize(("text", "words"), [
    ("1e-4:1", "LOW:HIGH:N"), ("1:1e-4:5", "0 < LOW < HIGH"), ("0:1:5", "0 < LOW < HIGH"),
    ("1e-4:inf:5", "finite"), ("1e-4:1:1", "2 to 1000"), ("1e-4:1:x", "number of learning"),
    ("a:1:3", "lowest learning rate"),
])
def test_bad_grids_are_refused_in_one_sentence(text, words):
    with pytest.raises(ConfigError, match=words):
        parse_grid(text)


@pytest.mark.parametrize(("text", "words"), [
    ("best", "unknown objective"), ("steps-to", "needs its loss"),
    ("steps-to:nan", "finite"), ("steps-to:abc", "loss of steps-to"), ("final:3", "unknown"),
])
def test_bad_objectives_are_refused_in_one_sentence(text, words):
    with pytest.raises(ConfigError, match=words):
        Objective.parse(text)


def test_bad_sweeps_are_refused_before_any_work():
    config = RunConfig(problem="bowl", max_steps=10)
    with pytest.raises(ConfigError):
        sweep_steps(config, [0.1, -1.0], Objective("final"), [0])
    with pytest.raises(ConfigError, match="seeds"):
        sweep_steps(config, [0.1], Objective("final"), [])
    with pytest.raises(ConfigError, match="factor"):
        sweep_steps(config, [0.1], Objective("final"), [0], factor=1.0)
