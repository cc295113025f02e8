"""The damped Newton optimizer: one step on quadratics, the Levenberg–Marquardt shift, and its
place in the runner."""

import numpy as np
import pytest

from gdviz.core import optimizers
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end


@pytest.mark.parametrize(("problem", "settings", "init"), [
    ("quadratic", {"a": 1.0, "b": 100.0}, (1.0, -2.0)),
    ("booth", {}, (-3.0, 6.0)),
    ("matyas", {}, (8.0, 3.0)),
    ("bowl", {}, None),
    ("linreg", {}, None),
])
def test_newton_solves_a_quadratic_in_one_step(problem, settings, init):
    config = RunConfig(problem=problem, settings=settings, optimizer="newton", lr=1.0,
                       batch_size=None, init=init, max_steps=1)
    first = run_to_end(config)[1]
    best = np.array(config.make_problem().minima[0].params)
    scale = max(1.0, float(np.abs(best).max()))
    assert first.params == pytest.approx(best, abs=1e-12 * scale)
    assert first.state == {"step": 1, "shift": 0.0}


def test_lr_is_the_fraction_of_the_newton_step():
    config = RunConfig(problem="quadratic", optimizer="newton", lr=0.25, init=(4.0, -8.0),
                       max_steps=3)
    params = [r.params for r in run_to_end(config)]
    assert params[1] == pytest.approx([3.0, -6.0])       # 1/4 of the way, in every direction
    assert params[3] == pytest.approx(np.array([4.0, -8.0]) * 0.75**3)


def test_the_shift_lifts_every_curvature_to_the_damping():
    hessian = np.diag([-2.0, 0.5, 3.0])
    grad = np.array([1.0, 1.0, 1.0])
    state = optimizers.init_state("newton", np.zeros(3), {"damping": 1.0})
    new, after = optimizers.step("newton", np.zeros(3), grad, state, 1.0, {"damping": 1.0},
                                 hessian)
    assert after == {"step": 1, "shift": 3.0}               # 1 − (−2)
    assert new == pytest.approx(-grad / np.array([1.0, 3.5, 6.0]))
    # positive definite and above the damping: no shift, plain Newton
    new, after = optimizers.step("newton", np.zeros(3), grad, state, 1.0, {"damping": 0.1},
                                 np.diag([0.5, 1.0, 2.0]))
    assert after["shift"] == 0.0
    assert new == pytest.approx([-2.0, -1.0, -0.5])


def test_at_a_saddle_damping_steps_downhill_where_pure_newton_climbs():
    start = (0.5, 0.2)                                     # f = x² − y²
    pure = run_to_end(RunConfig(problem="saddle", optimizer="newton", lr=1.0, init=start,
                                max_steps=1, hyperparams={"damping": 0.0}))[1]
    # damping 0, λmin = −2: the shift 2 leaves y's curvature 0 (no step along it) and x's 4
    assert pure.params == pytest.approx([0.5 - 1.0 / 4.0, 0.2])
    damped = run_to_end(RunConfig(problem="saddle", optimizer="newton", lr=1.0, init=start,
                                  max_steps=5, hyperparams={"damping": 1.0}))
    losses = [r.loss for r in damped]
    assert all(b < a for a, b in zip(losses, losses[1:]))  # every step goes down
    assert abs(damped[-1].params[1]) > 10 * 0.2             # and away from the saddle


def test_mini_batch_newton_uses_the_batch_hessian():
    config = RunConfig(problem="linreg", optimizer="newton", lr=1.0, batch_size=10,
                       max_steps=1, order="sequential")
    problem = config.make_problem()
    first = run_to_end(config)[1]
    # one Newton step on a batch's quadratic lands on that batch's least squares
    x = np.column_stack([problem.data_x[:10], np.ones(10)])
    best, *_ = np.linalg.lstsq(x, problem.data_y[:10], rcond=None)
    assert first.params == pytest.approx(best, rel=1e-9)


def test_newton_needs_a_hessian_and_nonnegative_damping():
    with pytest.raises(ConfigError, match="damping"):
        RunConfig(problem="quadratic", optimizer="newton", lr=1.0, hyperparams={"damping": -1})
    with pytest.raises(ValueError, match="needs the Hessian"):
        optimizers.step("newton", np.zeros(2), np.zeros(2), {"step": 0, "shift": 0.0}, 1.0,
                        {"damping": 0.0})
