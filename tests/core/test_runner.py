import dataclasses

import numpy as np
import pytest

from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate, run_to_end


def _stack(records, field):
    return np.array([getattr(r, field) for r in records])


def test_step_zero_is_the_start_point_with_the_full_gradient():
    config = RunConfig(problem="wavy", init=(-0.3,), max_steps=3)
    first = next(iterate(config))
    problem = config.make_problem()
    assert first.step == 0
    assert first.epoch == 0
    assert len(first.batch) == 0
    assert first.params.tolist() == [-0.3]
    assert first.params_before.tolist() == [-0.3]
    assert np.allclose(first.grad, problem.grad(np.array([-0.3])))
    assert first.loss == pytest.approx(float(problem.loss(np.array([-0.3]))))


def test_sgd_step_is_w_minus_lr_times_batch_gradient():
    config = RunConfig(problem="linreg", batch_size=10, lr=0.1, max_steps=5, seed=3)
    problem = config.make_problem()
    for r in list(iterate(config))[1:]:
        expected_grad = problem.sample_grads(r.params_before, r.batch).mean(axis=0)
        assert np.allclose(r.grad, expected_grad)
        assert np.allclose(r.sample_grads, problem.sample_grads(r.params_before, r.batch))
        assert np.allclose(r.params, r.params_before - 0.1 * r.grad)
        assert r.batch_loss == pytest.approx(problem.batch_loss(r.params_before, r.batch))
        assert r.loss == pytest.approx(float(problem.loss(r.params)))


def test_records_are_immutable():
    r = list(iterate(RunConfig(problem="linreg", batch_size=4, max_steps=2)))[-1]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.step = 5  # type: ignore[misc]
    for arr in (r.batch, r.params, r.params_before, r.grad, r.sample_grads):
        assert not arr.flags.writeable
    with pytest.raises(TypeError):
        r.state["x"] = 1  # type: ignore[index]


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "rmsprop", "adam", "adamw"])
@pytest.mark.parametrize("order", ["shuffle", "sequential", "replacement"])
def test_same_config_and_seed_give_the_identical_trajectory(optimizer, order):
    config = RunConfig(problem="linreg", optimizer=optimizer, lr=0.05, batch_size=7,
                       order=order, max_steps=300, seed=11)
    a, b = run_to_end(config), run_to_end(config)
    assert np.array_equal(_stack(a, "params"), _stack(b, "params"))
    assert [r.batch.tolist() for r in a] == [r.batch.tolist() for r in b]
    if order != "sequential":
        c = run_to_end(config.with_changes(seed=12))
        assert not np.array_equal(_stack(a, "params"), _stack(c, "params"))


def test_epochs_and_steps_limits():
    records = run_to_end(RunConfig(problem="linreg", batch_size=100, max_epochs=2))
    assert records[-1].step == 20
    assert records[-1].epoch == 2
    assert records[-1].status == "finished"
    assert records[-1].message.startswith("finished")
    assert [r.status for r in records[:-1]] == ["running"] * 20
    records = run_to_end(RunConfig(problem="linreg", batch_size=100, max_steps=13))
    assert records[-1].step == 13
    assert records[-1].epoch == 2
    assert records[10].epoch == 1
    assert records[11].epoch == 2


def test_default_limit_when_none_given():
    records = run_to_end(RunConfig(problem="booth", optimizer="sgd", lr=0.05))
    assert records[-1].status in ("finished", "converged")
    assert records[-1].step <= 10_000


def test_convergence_stops_when_the_loss_change_is_below_tol():
    records = run_to_end(RunConfig(problem="bowl", batch_size=None, lr=0.02, tol=1e-4,
                                   max_steps=100_000))
    last = records[-1]
    assert last.status == "converged"
    assert last.message.startswith(f"converged at step {last.step}")
    assert abs(records[-1].loss - records[-2].loss) < 1e-4
    assert all(abs(b.loss - a.loss) >= 1e-4 for a, b in zip(records[:-2], records[1:-1]))


@pytest.mark.parametrize(("problem", "lr"), [("linreg", 5.0), ("rosenbrock", 10.0),
                                             ("slope", 1.0)])
def test_divergence_ends_the_run_without_raising(problem, lr):
    records = run_to_end(RunConfig(problem=problem, lr=lr, batch_size=None if problem != "linreg"
                                   else 10, max_steps=100_000))
    last = records[-1]
    assert last.status == "diverged"
    assert last.message.startswith(f"diverged at step {last.step}")
    assert len(records) < 100_000


def test_gradient_noise_makes_analytic_runs_seed_dependent():
    base = RunConfig(problem="booth", settings={"grad_noise": 0.5}, lr=0.01, max_steps=50)
    a = run_to_end(base)
    b = run_to_end(base.with_changes(seed=1))
    assert not np.allclose(a[-1].params, b[-1].params)
    quiet = run_to_end(base.with_changes(settings={"grad_noise": 0.0}))
    problem = quiet[0] and base.with_changes(settings={"grad_noise": 0.0}).make_problem()
    assert np.allclose(quiet[1].grad, problem.grad(quiet[1].params_before))


def test_optimizer_state_is_reported():
    records = run_to_end(RunConfig(problem="booth", optimizer="adam", lr=0.1, max_steps=3))
    assert set(records[-1].state) >= {"exp_avg", "exp_avg_sq"}
    records = run_to_end(RunConfig(problem="booth", optimizer="sgd", lr=0.01,
                                   hyperparams={"momentum": 0.9}, max_steps=3))
    assert "momentum_buffer" in records[-1].state


def test_schedule_changes_the_lr_once_per_epoch():
    records = run_to_end(RunConfig(problem="linreg", batch_size=500, lr=0.2, schedule="step",
                                   schedule_params={"step_size": 2, "gamma": 0.1},
                                   max_epochs=3))
    lrs = {r.epoch: r.lr for r in records[1:]}
    assert lrs[1] == pytest.approx(0.2)
    assert lrs[2] == pytest.approx(0.2)
    assert lrs[3] == pytest.approx(0.02)


def test_lbfgs_steps_record_their_evaluations_not_their_curvature_pairs():
    from gdviz.core.records import RunConfig
    from gdviz.core.runner import run_to_end

    config = RunConfig(problem="rosenbrock", optimizer="lbfgs", lr=1.0, max_steps=3,
                       hyperparams={"line_search_fn": "strong_wolfe", "history_size": 4})
    records = run_to_end(config)
    assert records[0].state == {"func_evals": 0, "n_iter": 0, "evals": 0, "history_len": 0}
    for record in records[1:]:
        assert "old_dirs" not in record.state
        assert "ro" not in record.state
        assert 1 <= record.state["evals"] <= 25          # max_eval: 20 * 5 // 4
        assert 0 <= record.state["history_len"] <= 4
    assert records[-1].state["func_evals"] == sum(r.state["evals"] for r in records)
    assert records[2].loss < 1e-3 * records[0].loss
