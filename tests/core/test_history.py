import numpy as np

from gdviz.core.history import RunHistory, decimate, peaks
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end
from tests.core.test_step_blocks import assert_same_record


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
        assert_same_record(history.last, records[-1])   # rebuilt from the block's columns
        assert_same_record(history.first, records[0])
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


def test_peaks_keeps_each_bins_extremes_first_and_last():
    rng = np.random.default_rng(3)
    y = rng.normal(size=3000)  # under 32 per bin: every point is looked at
    y[:5] = np.nan  # step 0 has no batch loss, and a diverged run ends in NaN
    idx = peaks(y, 100)
    assert np.all(np.diff(idx) > 0)
    assert idx[0] == 0
    assert idx[-1] == len(y) - 1
    assert len(idx) <= 2 * 100 + 2
    assert np.nanmax(y[idx]) == np.nanmax(y)
    assert np.nanmin(y[idx]) == np.nanmin(y)
    for lo in range(0, len(y), 30):  # every bin of 30 keeps its own lowest and highest
        block = y[lo : lo + 30]
        if np.any(np.isfinite(block)):
            inside = y[idx[(idx >= lo) & (idx < lo + 30)]]
            assert np.nanmax(inside) == np.nanmax(block)
            assert np.nanmin(inside) == np.nanmin(block)
    assert np.array_equal(peaks(np.arange(7.0), 100), np.arange(7))


def test_peaks_bounds_its_work_on_very_long_series():
    y = np.sin(np.arange(2_000_000) / 1000.0)
    idx = peaks(y, 500)
    assert len(idx) <= 2 * 500 + 2
    assert idx[-1] == len(y) - 1
    assert y[idx].max() > 0.999
    assert y[idx].min() < -0.999


def test_first_samples_match_batch_at():
    config = RunConfig(problem="linreg", batch_size=3, order="shuffle", max_steps=50,
                       max_epochs=None)
    history = RunHistory(config.make_problem().n_params)
    history.append(run_to_end(config))
    first = history.first_samples(0, len(history))
    expected = [history.batch_at(i)[0] if len(history.batch_at(i)) else 0
                for i in range(len(history))]
    assert np.array_equal(first, expected)
    assert np.array_equal(history.first_samples(5, 9), expected[5:9])
    assert np.array_equal(history.batch_sizes(0, len(history)),
                          [len(history.batch_at(i)) for i in range(len(history))])


def _reference_peaks(y: np.ndarray, bins: int, look: int = 32) -> np.ndarray:
    """peaks as first written (NaN padding, one path), for comparison."""
    y = np.asarray(y)
    n = len(y)
    if n <= 2 * bins + 2:
        return np.arange(n)
    seen = decimate(y, look * bins)
    values = np.asarray(y[seen], dtype=np.float64)
    m = len(seen)
    size = -(-m // bins)
    padded = np.full(-(-m // size) * size, np.nan)
    padded[:m] = values
    block = padded.reshape(-1, size)
    nan = np.isnan(block)
    base = np.arange(0, len(padded), size)
    low = base + np.where(nan, np.inf, block).argmin(axis=1)
    high = base + np.where(nan, -np.inf, block).argmax(axis=1)
    # blocks are disjoint and in order: (lower, higher) of each, interleaved, is sorted, and
    # equals np.unique(low, high, 0, m - 1) once repeats are dropped (a sort-free unique: it
    # runs on every frame while a run plays)
    pairs = np.empty((len(low), 2), dtype=np.int64)
    np.minimum(low, high, out=pairs[:, 0])
    np.maximum(low, high, out=pairs[:, 1])
    idx = pairs.ravel()
    idx = idx[np.concatenate(([True], idx[1:] != idx[:-1]))]
    if idx[0] != 0:
        idx = np.concatenate(([0], idx))
    if idx[-1] < m - 1:
        idx = np.concatenate((idx, [m - 1]))
    return seen[idx[idx < m]]


def test_peaks_equals_its_first_version_on_every_kind_of_series():
    rng = np.random.default_rng(3)
    for trial in range(600):
        n = int(rng.integers(0, 40000 if trial % 3 else 2000))
        y = rng.normal(size=n)
        kind = trial % 5
        if kind == 1:
            y = np.round(y, 1)                        # many equal values
        elif kind == 2 and n:
            y[rng.integers(0, n, size=max(1, n // 50))] = np.nan
        elif kind == 3:
            y = np.full(n, 1.0)
        elif kind == 4 and n:
            y[rng.integers(0, n, size=3)] = np.inf
            y[: n // 3] = np.nan
        if trial % 7 == 0:
            y = y.astype(np.float32)
        bins = int(rng.integers(1, 400))
        assert np.array_equal(peaks(y, bins), _reference_peaks(y, bins)), (trial, n, bins)
