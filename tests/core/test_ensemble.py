"""The ensemble runner (gdviz.core.ensemble): every member equals its single run bit for bit."""

import itertools

import numpy as np
import pytest

from gdviz.core.ensemble import VECTORISED, iterate_ensemble, seed_range
from gdviz.core.errors import ConfigError
from gdviz.core.optimizers import optimizer_names
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.sampling import epoch_batches, member_epoch_batches

# hyperparameters that switch on every branch of torch's rules
_BRANCHES = {
    "sgd": [{}, {"momentum": 0.9, "nesterov": True},
            {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.1}],
    "adagrad": [{"lr_decay": 0.01, "weight_decay": 0.1, "initial_accumulator_value": 0.1}],
    "rmsprop": [{}, {"momentum": 0.5, "centered": True, "weight_decay": 0.1}],
    "adam": [{}, {"amsgrad": True, "weight_decay": 0.01}],
    "adamw": [{}, {"amsgrad": True}],
}
_PROBLEMS = [("wavy", {"n": 23}, 4), ("linreg", {"n": 23}, 5), ("logistic", {"n": 40}, 6),
             ("slope", {"n": 23}, 5), ("bowl", {"n": 23}, 5),
             ("linreg", {"n": 11, "w_true": "1,2,3,4,5"}, 3),
             ("rosenbrock", {"grad_noise": 0.5}, 1)]


def assert_members_equal_single_runs(config, seeds, lrs=None):
    """Every record of every member's single run equals the ensemble's row, bit for bit, and
    the member is inactive after its last record."""
    steps = list(iterate_ensemble(config, seeds, lrs))
    assert steps[-1].finished
    for m, seed in enumerate(seeds):
        changes = {"seed": seed} if lrs is None else {"seed": seed, "lr": lrs[m]}
        records = list(iterate(config.with_changes(**changes)))
        for r in records:
            e = steps[r.step]
            assert e.step == r.step
            assert e.epoch == r.epoch
            assert e.active[m]
            np.testing.assert_array_equal(e.params[m], r.params, strict=True)
            np.testing.assert_array_equal(e.grad[m], r.grad, strict=True)
            np.testing.assert_array_equal(e.batch[m], r.batch)
            assert [e.loss[m], e.batch_loss[m], e.lr[m]] == pytest.approx(
                [r.loss, r.batch_loss, r.lr], rel=0, abs=0, nan_ok=True)
            for key, value in r.state.items():
                np.testing.assert_array_equal(np.asarray(e.state[key])[..., m, :]
                                              if np.ndim(value) else e.state[key], value)
            assert e.ended.get(m) == ((r.status, r.message) if r.finished else None)
        assert not any(e.active[m] for e in steps[len(records):])
    return steps


@pytest.mark.parametrize("optimizer", VECTORISED)
@pytest.mark.parametrize("order", ["shuffle", "sequential", "replacement"])
def test_members_equal_single_runs_for_every_optimizer_order_and_problem(optimizer, order):
    for (problem, settings, batch), hp in itertools.product(
            _PROBLEMS, _BRANCHES.get(optimizer, [{}])):
        # n = 23 with batches of 4, 5, 6 and 3: every epoch ends with an uneven batch
        config = RunConfig(problem=problem, settings=settings, optimizer=optimizer,
                           hyperparams=hp, lr=0.01, batch_size=batch, order=order,
                           max_steps=30)
        assert_members_equal_single_runs(config, [0, 1, 5, 12])


def test_members_end_at_their_own_step_diverging_converging_or_finishing():
    config = RunConfig(problem="linreg", settings={"n": 30}, optimizer="sgd", lr=0.1,
                       batch_size=4, max_steps=300, tol=1e-4)
    steps = assert_members_equal_single_runs(config, [0, 1, 2, 3, 4, 5], [0.1, 0.1, 0.02, 2.9,
                                                                          3.5, 0.001])
    ends = {m: (e.step, status) for e in steps for m, (status, _) in e.ended.items()}
    assert {status for _, status in ends.values()} == {"converged", "diverged", "finished"}
    assert len({step for step, _ in ends.values()}) >= 4
    last = steps[-1]
    assert not np.all(last.active)  # ended members stay in the arrays with their last values
    for m, (step, _) in ends.items():
        np.testing.assert_array_equal(last.params[m], steps[step].params[m])


def test_learning_rates_per_member_with_a_schedule_and_the_full_batch():
    config = RunConfig(problem="wavy", optimizer="adam", lr=0.01, batch_size=None,
                       schedule="step", schedule_params={"step_size": 2, "gamma": 0.5},
                       max_steps=12)
    assert_members_equal_single_runs(config, [3, 4], [0.01, 0.2])
    config = config.with_changes(batch_size=7, max_steps=None, max_epochs=5, order="replacement")
    assert_members_equal_single_runs(config, [3, 4, 5], [0.01, 0.2, 0.01])


def test_a_schedule_cycling_momentum_per_step():
    config = RunConfig(problem="linreg", settings={"n": 23}, optimizer="sgd",
                       hyperparams={"momentum": 0.9}, lr=0.05, batch_size=5,
                       schedule="onecycle", schedule_every="step", max_steps=20)
    steps = assert_members_equal_single_runs(config, [0, 1, 2])
    assert len({float(e.lr[0]) for e in steps}) > 5


@pytest.mark.parametrize("optimizer", sorted(set(optimizer_names()) - set(VECTORISED)))
def test_optimizers_that_cannot_be_vectorised_are_refused(optimizer):
    config = RunConfig(problem="linreg", optimizer=optimizer, max_steps=3)
    with pytest.raises(ConfigError, match=f"{optimizer} cannot run as an ensemble"):
        next(iterate_ensemble(config, [0, 1]))


def test_a_loss_driven_schedule_and_lr_started_state_with_many_lrs_are_refused():
    config = RunConfig(problem="linreg", schedule="plateau", max_steps=3)
    with pytest.raises(ConfigError, match="plateau schedule follows each run's own loss"):
        next(iterate_ensemble(config, [0, 1]))
    for name in ("rprop", "asgd"):
        config = RunConfig(problem="linreg", optimizer=name, max_steps=3)
        with pytest.raises(ConfigError, match="one learning rate for every member"):
            next(iterate_ensemble(config, [0, 1], [0.1, 0.2]))
        assert_members_equal_single_runs(config, [0, 1], [0.1, 0.1])


def test_a_problem_without_member_kernels_loops_over_members():
    config = RunConfig(problem="custom", settings={"expr": "(w*x + b - y)**2"}, lr=0.01,
                       batch_size=3, max_steps=20)
    assert not config.make_problem().member_kernels
    assert_members_equal_single_runs(config, [0, 1, 2])


def test_a_start_that_diverges_ends_every_member_at_step_0():
    config = RunConfig(problem="rosenbrock", init=(1e200, 1e200), max_steps=5)
    steps = assert_members_equal_single_runs(config, [0, 1])
    assert len(steps) == 1
    assert steps[0].ended[1][0] == "diverged"


def test_a_network_member_starts_from_its_own_seeds_initialisation():
    """A network's default start is drawn from the run's seed: every member starts where its
    own single run starts (they all started from the first seed's point before)."""
    config = RunConfig(problem="mlp", optimizer="adam", lr=0.01, batch_size=10, max_steps=12,
                       order="shuffle", settings={"layers": (4.0,), "n": 60})
    steps = assert_members_equal_single_runs(config, [0, 3, 7, 3])
    assert not np.array_equal(steps[0].params[0], steps[0].params[1])
    np.testing.assert_array_equal(steps[0].params[1], steps[0].params[3])


def test_member_batches_are_each_runs_batches():
    for order in ("shuffle", "sequential", "replacement"):
        singles = [list(epoch_batches(10, 3, order, np.random.default_rng(s))) for s in (4, 9)]
        members = list(member_epoch_batches(10, 3, order,
                                            [np.random.default_rng(s) for s in (4, 9)]))
        last = 3 if order == "replacement" else 1  # with replacement every batch is full
        assert [b.shape for b in members] == [(2, 3)] * 3 + [(2, last)]
        for m in range(2):
            assert [b[m].tolist() for b in members] == [b.tolist() for b in singles[m]]


def test_bad_seeds_and_learning_rates_are_refused():
    config = RunConfig(problem="wavy", max_steps=3)
    with pytest.raises(ConfigError, match="at least one seed"):
        next(iterate_ensemble(config, []))
    with pytest.raises(ConfigError, match="one learning rate per seed"):
        next(iterate_ensemble(config, [0, 1], [0.1]))
    with pytest.raises(ConfigError, match="learning rate"):
        next(iterate_ensemble(config, [0, 1], [0.1, -1.0]))
    assert seed_range(5, "3") == [5, 6, 7]
    for bad in ("0", "-2", "x", "10001"):
        with pytest.raises(ConfigError, match="number of seeds"):
            seed_range(0, bad)


@pytest.mark.parametrize(("problem", "settings"), [("wavy", {}), ("linreg", {"n": 40}),
                                                   ("logistic", {"n": 40}),
                                                   ("slope", {"n": 40}),
                                                   ("rosenbrock", {})])
def test_losses_read_from_the_previous_step_equal_the_problems_own(problem, settings):
    """A run's losses are those of Problem.batch_loss and Problem.loss, bit for bit (the
    ensemble, which reads them from the previous step's per-sample losses, is held to it)."""
    config = RunConfig(problem=problem, settings=settings, batch_size=1 if problem ==
                       "rosenbrock" else 6, lr=0.01, max_steps=25)
    prob = config.make_problem()
    for r in iterate(config):
        assert r.loss == float(prob.loss(r.params))
        if r.step:
            assert r.batch_loss == float(prob.batch_loss(r.params_before, r.batch))


def test_the_benchmarks_linreg_with_many_members_in_one_blas_call_each():
    """linreg as bench_ensemble runs it (n = 1000, batch 10), 48 members: the per-member BLAS
    products and the closed-form loss give every member its single run's numbers."""
    config = RunConfig(problem="linreg", settings={"n": 1000}, lr=0.01, batch_size=10,
                       hyperparams={"momentum": 0.9}, max_steps=120)
    problem = config.make_problem()
    assert problem.member_kernels
    assert problem.fast_loss
    assert_members_equal_single_runs(config, list(range(48)))
