"""A run history is bounded: every step below its bound, a thinned rest beyond it."""

from dataclasses import replace

import numpy as np
import pytest

from gdviz.core.history import RunHistory
from gdviz.core.recorded import StateHistory, record_at
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end
from gdviz.core.step_blocks import RunBlock
from gdviz.core.thinning import FULL_HISTORY_STEPS, Thinning, nearest_row
from tests.core.test_step_blocks import assert_same_record

BOUND = 40


def _chunks(records, sizes=(1, 3, 17, 1, 64, 5, 200)):
    """The records in irregular chunks, as the worker emits blocks of varying size."""
    start, k = 0, 0
    while start < len(records):
        size = sizes[k % len(sizes)]
        yield records[start : start + size]
        start, k = start + size, k + 1


def _filled(config: RunConfig, bound: int = BOUND):
    records = run_to_end(config)
    problem = config.make_problem()
    history, states = RunHistory(problem.n_params, bound), StateHistory(bound)
    for chunk in _chunks(records):
        block = RunBlock.from_records(chunk)   # as the worker sends them
        history.append(block)
        states.append(block)
    return records, problem, history, states


@pytest.mark.parametrize("config", [
    # scattered batches (shuffled mini-batches of 7) and Adam's state
    RunConfig(problem="linreg", optimizer="adam", lr=0.01, batch_size=7, order="shuffle",
              max_steps=BOUND * 4 + 13),
    # contiguous batches, momentum
    RunConfig(problem="linreg", lr=0.01, batch_size=10, order="sequential",
              max_steps=BOUND * 9 + 2, hyperparams={"momentum": 0.9}),
])
def test_a_long_run_keeps_every_step_to_the_bound_then_every_kth_and_the_newest(config):
    records, problem, history, states = _filled(config)
    steps = history.steps
    assert len(records) > 4 * BOUND
    assert len(history) <= 2 * BOUND + 1
    assert len(states) == len(history)
    assert np.array_equal(states.kept_steps(), steps)
    assert np.array_equal(steps[:BOUND], np.arange(BOUND))     # full resolution to the bound
    stride = history.thinning.stride
    assert stride >= 4
    assert stride & (stride - 1) == 0
    assert np.all(steps[BOUND:-1] % stride == 0)                # every stride-th step beyond
    assert np.all(np.diff(steps) > 0)
    assert steps[-1] == records[-1].step == history.last_step  # and always the newest
    assert len(steps[BOUND:]) >= (records[-1].step - BOUND) // stride  # none lost on the grid
    assert_same_record(history.last, records[-1])
    for row in range(len(history)):   # every kept row is its step, exactly, with its state
        real = records[int(steps[row])]
        rebuilt = record_at(history, row, problem, states)
        expected = real if row == len(history) - 1 else replace(real, message="")
        assert_same_record(rebuilt, expected)


def test_memory_stays_bounded_however_long_the_run():
    config = RunConfig(problem="wavy", lr=0.001, max_steps=BOUND * 64)
    lengths = []
    for steps in (BOUND * 4, BOUND * 16, BOUND * 64):
        _, _, history, states = _filled(config.with_changes(max_steps=steps))
        lengths.append((len(history), history.nbytes(), states.nbytes()))
        assert history.last_step == steps
    rows = [n for n, _, _ in lengths]
    assert max(rows) <= 2 * BOUND + 1
    # the arrays' capacity does not grow with the run (within one growth step of 1.5x)
    assert lengths[-1][1] <= 1.5 * lengths[0][1] + 4096
    assert lengths[-1][2] <= 1.5 * lengths[0][2] + 4096


def test_a_run_below_the_bound_is_untouched():
    records, _, history, states = _filled(RunConfig(problem="wavy", max_steps=BOUND - 1))
    assert not history.thinning.thinned
    assert history.thinning.describe() == ""
    assert np.array_equal(history.steps, [r.step for r in records])
    assert history.generation == 0
    assert len(states) == len(records)
    assert [history.row_at(s) for s in (-3, 0, 5, 10_000)] == [0, 0, 5, len(records) - 1]


def test_row_at_gives_the_nearest_kept_step():
    kept = np.array([0, 1, 2, 3, 8, 16, 19])
    assert [nearest_row(kept, s) for s in (0, 3, 4, 5, 6, 7, 12, 13, 18, 19, 50, -1)] == \
        [0, 3, 3, 3, 4, 4, 4, 5, 6, 6, 6, 0]
    _, _, history, _ = _filled(RunConfig(problem="wavy", lr=0.001, max_steps=BOUND * 4 + 1))
    steps, stride = history.steps, history.thinning.stride
    thinned_step = int(steps[BOUND + 2]) + 1          # a step that was not kept
    row = history.row_at(thinned_step)
    assert steps[row] == thinned_step - 1
    assert stride > 2
    assert history.row_at(history.last_step + 100) == len(history) - 1


def test_the_thinning_says_what_it_keeps():
    thinning = Thinning(1000)
    assert not thinning.thinned
    for k, word in ((2, "2nd"), (4, "4th"), (32, "32nd"), (1024, "1024th")):
        thinning.stride = k
        assert thinning.describe() == \
            f"history thinned: every {word} step kept beyond step 1000"
    assert FULL_HISTORY_STEPS == 1_000_000
    with pytest.raises(ValueError, match="at least 1"):
        Thinning(0)


@pytest.mark.parametrize(("optimizer", "hp"), [("adam", {"amsgrad": True}),
                                              ("sgd", {"momentum": 0.9}), ("lbfgs", {})])
def test_the_memory_bound_counts_at_least_what_a_networks_rows_take(optimizer, hp):
    """``memory_bound`` keeps the rows of all runs within HISTORY_BYTES (a network's 2·10⁶ rows
    would take gigabytes): its estimate of a row is at least what a history and its optimizer
    states take per row, measured on a 2-8-8-1 network (capacity included)."""
    from gdviz.core.thinning import HISTORY_BYTES, MIN_FULL_STEPS, memory_bound

    config = RunConfig(problem="mlp", settings={"layers": "8,8", "dataset": "spiral"},
                       optimizer=optimizer, hyperparams=hp, lr=0.01, batch_size=10,
                       max_steps=3000)
    records = run_to_end(config)
    p = config.make_problem().n_params
    history, states = RunHistory(p), StateHistory()
    for chunk in _chunks(records):
        history.append(chunk)
        states.append(chunk)
    per_row = (history.nbytes() + states.nbytes()) / len(history)
    for runs in (1, 2, 6):
        bound = memory_bound(p, runs)
        assert MIN_FULL_STEPS <= bound < FULL_HISTORY_STEPS
        rows = 2 * bound + 1
        if bound > MIN_FULL_STEPS:
            assert runs * rows * per_row <= 1.6 * HISTORY_BYTES   # 1.5x: arrays grow by half
    assert memory_bound(2, 1) == FULL_HISTORY_STEPS   # the lessons keep every step to 10⁶


def test_a_history_never_copies_itself_as_it_grows_to_its_bound():
    """Rows are reserved up front (untouched pages: address space, not memory): growing by
    copying stalled the window for the copy's length, 0.34 s for a network's parameters at
    91 000 rows and 0.92 s for its Adam state at 78 000. The first rows' view still shares
    the arrays the history holds at its bound, and the memory counted is that of the rows
    written, not of the reserve."""
    config = RunConfig(problem="mlp", settings={"layers": "8,8", "dataset": "spiral"},
                       optimizer="adam", lr=0.01, batch_size=10, max_steps=2500)
    records = run_to_end(config)
    history, states = RunHistory(105, bound=1000), StateHistory(bound=1000)
    history.append(records[:1])
    states.append(records[:1])
    first_params, first_losses = history.params, history.losses
    for chunk in _chunks(records[1:]):
        history.append(chunk)
        states.append(chunk)
    assert history.thinning.thinned
    assert np.shares_memory(first_params, history.params)
    assert np.shares_memory(first_losses, history.losses)
    rows = len(history)
    assert history.nbytes() < 1.2 * rows * 8 * (3 * 105 + 8)   # the rows written
    assert states.nbytes() < 1.2 * rows * 8 * (2 * 105 + 2)
    np.testing.assert_array_equal(states.at(rows - 1)["exp_avg"], records[-1].state["exp_avg"])
