"""A run snapshotted between two steps and resumed (after a pickle round trip) goes on exactly
as the uninterrupted run: every later record equal, bit for bit (core.run_snapshot)."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gdviz.core.lockstep import LockstepCursor, iterate_lockstep
from gdviz.core.optimizers import optimizer_names
from gdviz.core.records import RunConfig
from gdviz.core.run_snapshot import RunCursor
from gdviz.core.runner import iterate, run_to_end
from tests.core.test_step_blocks import assert_same_record

LINREG = {"n": 40}   # 40 samples: batches of 7 make epochs of 6 steps, the last one short
ORDERS = ("shuffle", "sequential", "replacement")
# (schedule, its parameters, stepped every): each keeps changing the lr within a short run
SCHEDULES = (
    ("constant", {}, "epoch"),
    ("step", {"step_size": 2, "gamma": 0.5}, "epoch"),
    ("step", {"step_size": 3, "gamma": 0.7}, "step"),
    ("plateau", {"patience": 0, "factor": 0.5, "threshold": 0.5}, "epoch"),
    ("plateau", {"patience": 1, "factor": 0.7, "threshold": 0.05, "cooldown": 1}, "step"),
    ("onecycle", {}, "step"),
    ("cyclic", {"step_size_up": 4, "mode": "triangular2"}, "step"),
    ("cosine-restarts", {"T_0": 3, "T_mult": 2}, "epoch"),
    ("warmup-cosine", {"warmup_steps": 4, "T_max": 9}, "step"),
)
# lrs that keep each optimizer finite for the few dozen steps of these runs
LR = {"sgd": 0.02, "adagrad": 0.1, "rmsprop": 0.01, "adam": 0.05, "adamw": 0.05,
      "nadam": 0.05, "radam": 0.05, "adamax": 0.05, "adadelta": 1.0, "rprop": 0.01,
      "asgd": 0.02, "adafactor": 0.05, "lion": 0.01, "lbfgs": 0.5, "newton": 0.5}
# momentum / betas for the schedules that cycle them (OneCycleLR, CyclicLR)
CYCLED_HP = {"sgd": {"momentum": 0.9}, "rmsprop": {"momentum": 0.5}, "lion": {}}


def _config(optimizer: str, schedule: int = 0, order: str = "shuffle", seed: int = 4,
            max_steps: int = 30, **changes) -> RunConfig:
    name, params, every = SCHEDULES[schedule]
    hp = {}
    if name in ("onecycle", "cyclic"):
        if optimizer in CYCLED_HP:
            hp = CYCLED_HP[optimizer]
        elif optimizer not in ("adam", "adamw", "nadam", "radam", "adamax"):
            params = {**params, "cycle_momentum": False}   # nothing to cycle
    fields = {"problem": "linreg", "settings": LINREG, "optimizer": optimizer,
              "lr": LR[optimizer], "hyperparams": hp, "batch_size": 7, "order": order,
              "seed": seed, "max_steps": max_steps, "schedule": name,
              "schedule_params": params, "schedule_every": every}
    fields.update(changes)
    return RunConfig(**fields)


def _snapshot_at(config: RunConfig, step: int):
    """A run stopped after yielding ``step``: its snapshot, through a pickle round trip."""
    cursor = RunCursor()
    records = iterate(config, cursor=cursor)
    for _ in range(step + 1):
        next(records)
    snapshot = cursor.snapshot()
    return pickle.loads(pickle.dumps(snapshot))


def assert_resumes_exactly(config: RunConfig, steps: list[int] | None = None) -> None:
    """Snapshotted after each of ``steps`` (default: the start, a step mid-epoch, the last
    step of an epoch and the first of the next, the run's last step), every later record of
    the resumed run equals the uninterrupted run's."""
    full = run_to_end(config)
    per_epoch = config.steps_per_epoch()
    if steps is None:
        steps = [0, per_epoch // 2 + 1, per_epoch, per_epoch + 1, 2 * per_epoch,
                 len(full) - 2, len(full) - 1]
    for step in sorted({s for s in steps if 0 <= s < len(full)}):
        snapshot = _snapshot_at(config, step)
        assert snapshot.step == step
        resumed = list(iterate(config, resume=snapshot))
        assert [r.step for r in resumed] == [r.step for r in full[step + 1:]], step
        for got, expected in zip(resumed, full[step + 1:]):
            assert_same_record(got, expected)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("optimizer", optimizer_names())
def test_every_optimizer_resumes_exactly_in_every_order(optimizer, order):
    assert_resumes_exactly(_config(optimizer, order=order))


@pytest.mark.parametrize("schedule", range(len(SCHEDULES)),
                         ids=[f"{name}-{every}" for name, _, every in SCHEDULES])
@pytest.mark.parametrize("optimizer", ["sgd", "adam", "lbfgs"])
def test_schedules_resume_exactly_per_epoch_and_per_step(optimizer, schedule):
    config = _config(optimizer, schedule, max_steps=40)
    lrs = {r.lr for r in run_to_end(config)}
    assert SCHEDULES[schedule][0] == "constant" or len(lrs) > 2   # the schedule did move
    assert_resumes_exactly(config)


def test_cycled_momentum_is_resumed_with_the_schedule():
    config = _config("sgd", 5, max_steps=40)   # onecycle cycling sgd's momentum
    records = run_to_end(config)
    assert len({r.state["cycled_momentum"] for r in records[1:]}) > 10
    assert_resumes_exactly(config, list(range(0, 40, 3)))


@pytest.mark.parametrize("optimizer", ["sgd", "lbfgs", "adam"])
def test_gradient_noise_draws_go_on_from_the_same_generator_state(optimizer):
    """rosenbrock with gradient noise: every step (every L-BFGS closure call) draws noise from
    the run's generator, so a resumed run is exact only if the generator's state is."""
    config = RunConfig(problem="rosenbrock", settings={"grad_noise": 0.5},
                       optimizer=optimizer, lr={"sgd": 1e-4, "lbfgs": 0.05, "adam": 0.01}[
                           optimizer], init=(-1.2, 1.0), max_steps=25, seed=9)
    assert_resumes_exactly(config, [0, 1, 7, 12, 24])


@pytest.mark.parametrize("order", ORDERS)
def test_the_network_problem_resumes_exactly(order):
    config = RunConfig(problem="mlp", settings={"layers": [8, 8], "n": 500}, optimizer="adam",
                       lr=0.01, batch_size=25, order=order, max_steps=45, seed=2)
    assert config.steps_per_epoch() == 10   # 250 training samples
    assert_resumes_exactly(config, [0, 5, 10, 19, 20, 33])
    assert len(pickle.dumps(_snapshot_at(config, 19))) < 20_000   # a few KB through a pipe


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(optimizer=st.sampled_from(optimizer_names()),
       schedule=st.integers(0, len(SCHEDULES) - 1), order=st.sampled_from(ORDERS),
       batch=st.integers(1, 40), seed=st.integers(0, 2**31), data=st.data())
def test_generated_runs_resume_exactly_from_any_step(optimizer, schedule, order, batch, seed,
                                                     data):
    config = _config(optimizer, schedule, order, seed, max_steps=24, batch_size=batch,
                     tol=None)
    length = len(run_to_end(config))
    step = data.draw(st.integers(0, length - 1), label="snapshot step")
    assert_resumes_exactly(config, [step])


def test_a_diverging_or_converged_run_stays_ended():
    diverging = _config("sgd", lr=50.0)
    full = run_to_end(diverging)
    assert full[-1].status == "diverged"
    snapshot = _snapshot_at(diverging, len(full) - 1)
    assert snapshot.ended
    assert list(iterate(diverging, resume=snapshot)) == []
    converged = _config("adam", tol=1e-3, max_steps=500)
    full = run_to_end(converged)
    assert full[-1].status == "converged"
    assert_resumes_exactly(converged)


def test_a_snapshot_can_be_resumed_twice():
    config = _config("lbfgs", 3)   # plateau: the schedule's state is copied, not shared
    snapshot = _snapshot_at(config, 9)
    first = list(iterate(config, resume=snapshot))
    second = list(iterate(config, resume=snapshot))
    for a, b in zip(first, second, strict=True):
        assert_same_record(a, b)


def test_a_run_cannot_be_snapshotted_before_its_first_record():
    with pytest.raises(ValueError, match="only after its first record"):
        RunCursor().snapshot()
    with pytest.raises(ValueError, match="only after its first group"):
        LockstepCursor().snapshot()


# -- lock-step ------------------------------------------------------------------------------
def _lockstep_snapshot_at(configs, group: int):
    cursor = LockstepCursor()
    groups = iterate_lockstep(configs, cursor=cursor)
    for _ in range(group + 1):
        next(groups)
    return pickle.loads(pickle.dumps(cursor.snapshot()))


def assert_same_groups(got, expected) -> None:
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert [r is None for r in a] == [r is None for r in b]
        for x, y in zip(a, b):
            if x is not None:
                assert_same_record(x, y)


def test_lockstep_resumes_with_the_next_group_and_ended_runs_stay_ended():
    configs = [_config("sgd", 1, max_steps=30, tol=None),
               _config("adam", 3, max_steps=30, tol=None, lr=0.05),
               _config("sgd", 1, max_steps=30, tol=None, lr=50.0),      # diverges early
               _config("lbfgs", 0, max_steps=30, tol=None, order="replacement")]
    full = list(iterate_lockstep(configs))
    ended_at = next(g for g, group in enumerate(full) if group[2] is None)
    assert 1 < ended_at < 20
    for group in (0, ended_at - 1, ended_at, ended_at + 3, len(full) - 2, len(full) - 1):
        snapshot = _lockstep_snapshot_at(configs, group)
        assert snapshot.group == group
        assert (snapshot.runs[2] is None) == (group >= ended_at - 1)
        resumed = list(iterate_lockstep(configs, resume=snapshot))
        assert_same_groups(resumed, full[group + 1:])


def test_a_lockstep_cursor_follows_a_resumed_iteration_too():
    configs = [_config("adam", 3), _config("rprop", 2, order="sequential")]
    full = list(iterate_lockstep(configs))
    cursor = LockstepCursor()
    resumed = iterate_lockstep(configs, resume=_lockstep_snapshot_at(configs, 4),
                               cursor=cursor)
    for _ in range(6):
        next(resumed)
    assert cursor.group == 10
    again = list(iterate_lockstep(configs, resume=pickle.loads(pickle.dumps(
        cursor.snapshot()))))
    assert_same_groups(again, full[11:])
