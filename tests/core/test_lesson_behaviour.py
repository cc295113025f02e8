"""Each lesson of SCENARIOS.md reproduces its reported behaviour."""

import numpy as np
import pytest

from gdviz.core.presets import get_preset
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end


def _linreg(batch, lr, **kw):
    return RunConfig(problem="linreg", optimizer="sgd", lr=lr, batch_size=batch, order="shuffle",
                     schedule="step", schedule_params={"step_size": 2, "gamma": 0.1},
                     max_epochs=3, seed=0, **kw)


def test_linreg_batch_1_lr_0_2_step_schedule_finds_the_true_weights():
    last = run_to_end(_linreg(1, 0.2))[-1]
    assert last.status == "finished"
    w1, w2, b = last.params
    assert w1 == pytest.approx(2.0, abs=0.01)
    assert w2 == pytest.approx(-3.4, abs=0.01)
    assert b == pytest.approx(4.2, abs=0.01)
    assert last.loss < 1e-3


def test_linreg_batch_10_lr_5_diverges_in_the_first_epoch():
    last = run_to_end(_linreg(10, 5.0))[-1]
    assert last.status == "diverged"
    assert last.epoch == 1


def test_linreg_batch_10_lr_0_002_is_too_slow():
    last = run_to_end(_linreg(10, 0.002))[-1]
    assert last.status == "finished"
    assert last.loss > 0.5


def test_linreg_full_batch_lr_0_999_gets_close():
    last = run_to_end(_linreg(None, 0.999, ))[-1]
    assert last.status == "finished"
    assert np.max(np.abs(last.params - [2.0, -3.4, 4.2])) < 1.0


def test_logistic_classifies_its_test_half_perfectly_after_100_epochs():
    config = get_preset("logistic").config
    records = run_to_end(config)
    last = records[-1]
    assert last.step == 100
    assert last.status == "finished"
    assert records[1].batch_loss > 10 * last.loss
    problem = config.make_problem()
    x, y = problem.extras["test_x"], problem.extras["test_y"]
    predicted = problem.predict(last.params, x) > 0.5
    assert np.array_equal(predicted, y == 1)


def _slope(lr):
    return RunConfig(problem="slope", optimizer="sgd", lr=lr, batch_size=1, order="sequential",
                     max_epochs=3, init=(10.0,), seed=0)


def test_slope_settles_at_1e_3_oscillates_at_1e_2_and_crawls_at_1e_4():
    settle = np.array([r.params[0] for r in run_to_end(_slope(1e-3))])
    wobble = np.array([r.params[0] for r in run_to_end(_slope(1e-2))])
    crawl = np.array([r.params[0] for r in run_to_end(_slope(1e-4))])
    tail = slice(-150, None)  # the last epoch
    assert abs(settle[tail].mean() - 3.2) < 0.05
    assert settle[tail].std() < 0.05
    assert abs(wobble[tail].mean() - 3.2) < 0.2
    assert wobble[tail].std() > 3 * settle[tail].std()
    assert crawl[150] > 5.0  # still far from 3.2 after a full epoch


def test_wavy_one_pass_in_order_ends_near_the_global_minimum():
    config = get_preset("wavy").config
    records = run_to_end(config)
    assert len(records) == 101
    assert records[-1].status == "finished"
    problem = config.make_problem()
    last_sample = problem.n_samples - 1
    loss_last = problem.sample_losses(records[-1].params, np.array([last_sample]))[0]
    assert loss_last == pytest.approx(-0.76, abs=0.01)
    assert [int(r.batch[0]) for r in records[1:]] == list(range(100))


def test_bowl_converges_to_the_least_squares_solution():
    config = get_preset("bowl").config.with_changes(tol=1e-12, max_steps=200_000, lr=0.02)
    last = run_to_end(config)[-1]
    assert last.status == "converged"
    problem = config.make_problem()
    design = np.column_stack([problem.data_x[:, 0], np.ones(problem.n_samples)])
    solution = np.linalg.lstsq(design, problem.data_y, rcond=None)[0]
    assert np.allclose(last.params, solution, atol=1e-3)


def test_bowl_preset_stops_on_the_lesson_tolerance():
    last = run_to_end(get_preset("bowl").config)[-1]
    assert last.status == "converged"
