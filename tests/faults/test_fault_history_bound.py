"""The window's run history stays bounded whatever the run's length, the bound and the way
its steps arrive (generated cases): at most 2 * bound + 1 rows, every step below the bound,
beyond it the stride's grid and the newest step, each row exactly its step's record."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.history import RunHistory
from gdviz.core.recorded import StateHistory, record_at
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end
from gdviz.core.step_blocks import RunBlock
from gdviz.core.thinning import nearest_row

# one run (scattered batches: their indices move when rows are dropped), cut many ways
RECORDS = run_to_end(RunConfig(problem="linreg", optimizer="adam", lr=0.01, batch_size=3,
                               order="replacement", max_steps=1200))
BLOCK = RunBlock.from_records(RECORDS)


@pytest.mark.parametrize("seed", range(12))
def test_generated_runs_keep_a_bounded_exact_history(seed):
    rng = np.random.default_rng(seed)
    bound = int(rng.choice([1, 2, 3, 7, 16, 33, 50]))
    length = int(rng.integers(1, min(len(RECORDS), 25 * bound + 40)))
    history, states = RunHistory(BLOCK.params.shape[1], bound), StateHistory(bound)
    start, most = 0, 0
    while start < length:   # blocks of 1 step to hundreds, as a worker emits them
        count = int(min(length - start, rng.geometric(0.05)))
        block = BLOCK.cut(start, start + count)
        history.append(block)
        states.append(block)
        start += count
        most = max(most, len(history))
        steps = history.steps
        assert len(history) <= 2 * bound + 1
        assert np.array_equal(states.kept_steps(), steps)
        assert steps[-1] == start - 1                       # the newest, always
        assert np.all(np.diff(steps) > 0)
        below = steps[steps < bound]
        assert np.array_equal(below, np.arange(min(bound, start)))
        stride = history.thinning.stride
        assert np.all(steps[(steps >= bound)][:-1] % stride == 0)
    problem = RunConfig(problem="linreg").make_problem()
    for row in rng.choice(len(history), size=min(8, len(history)), replace=False):
        real = RECORDS[int(history.steps[row])]
        rebuilt = record_at(history, int(row), problem, states)
        np.testing.assert_array_equal(rebuilt.params, real.params)
        np.testing.assert_array_equal(rebuilt.params_before, real.params_before)
        np.testing.assert_array_equal(rebuilt.batch, real.batch)
        np.testing.assert_array_equal(rebuilt.state["exp_avg_sq"], real.state["exp_avg_sq"])
    for step in rng.integers(-5, length + 5, size=10):  # the row shown for any step
        row = history.row_at(int(step))
        distance = abs(int(history.steps[row]) - int(step))
        assert distance == np.abs(history.steps - step).min()
        assert row == nearest_row(history.steps, int(step))
