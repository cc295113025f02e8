import numpy as np

from gdviz.core.history import RunHistory, decimate
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end


def test_history_holds_what_the_records_said():
    for order, batch in (("shuffle", 7), ("sequential", 10), ("replacement", 5), ("shuffle", None)):
        records = run_to_end(RunConfig(problem="linreg", batch_size=batch, order=order,
                                       max_steps=250, lr=0.05))
        history = RunHistory(3)
        for start in range(0, len(records), 37):  # appended in chunks like the worker emits
            history.append(records[start : start + 37])
        assert len(history) == len(records)
        assert np.array_equal(history.params, np.array([r.params for r in records]))
        assert np.array_equal(history.grads, np.array([r.grad for r in records]))
        assert np.array_equal(history.losses, [r.loss for r in records])
        assert np.array_equal(history.steps, [r.step for r in records])
        for i in (0, 1, 50, len(records) - 1):
            assert np.array_equal(history.batch_at(i), records[i].batch)
            assert np.array_equal(history.params_before(i), records[i].params_before)
        assert history.last is records[-1]
        assert history.status_at(len(records) - 1) == records[-1].status
        assert not history.params.flags.writeable


def test_memory_per_step_is_small():
    history = RunHistory(1)
    records = run_to_end(RunConfig(problem="wavy", max_steps=2000))
    for _ in range(50):
        history.append(records)
    per_step = history.nbytes() / len(history)
    assert per_step < 150, per_step  # 10^6 steps stay well under 200 MB


def test_decimate_keeps_the_last_point_and_bounds_the_count():
    x = np.arange(100_001)
    idx = decimate(x, 4000)
    assert len(idx) <= 4001
    assert idx[-1] == 100_000
    assert idx[0] == 0
    assert np.array_equal(decimate(np.arange(10)), np.arange(10))
