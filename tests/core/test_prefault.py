"""Pages of a reserved array brought in ahead of its writer (core.prefault): contents never
change, requests follow the rows written, and nothing breaks where it cannot work."""

import mmap
import time

import numpy as np

from gdviz.core import prefault
from gdviz.core.history import RunHistory


def _resident_bytes(array: np.ndarray) -> int:
    """Resident bytes of the memory mappings that hold ``array`` (/proc/self/smaps; the
    kernel may split one allocation into several)."""
    start, inside, total = array.ctypes.data, False, 0
    stop = start + array.nbytes
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(v, 16) for v in head.split("-"))
                inside = lo < stop and start < hi
            elif inside and head == "Rss:":
                total += int(line.split()[1]) * 1024
    return total


def _no_huge_pages(array: np.ndarray) -> None:
    import ctypes

    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    first = (array.ctypes.data + mmap.PAGESIZE - 1) // mmap.PAGESIZE * mmap.PAGESIZE
    madvise(first, array.nbytes - mmap.PAGESIZE, 15)   # MADV_NOHUGEPAGE (errors ignored)


def test_populating_rows_changes_no_value_and_is_clipped_to_the_array():
    array = np.arange(4000 * 16, dtype=np.float64).reshape(4000, 16)
    before = array.copy()
    prefault.populate_ahead(array, 100, 2000)
    prefault.populate_ahead(array, 3900, 10_000)   # beyond the end: clipped
    prefault.populate_ahead(array, -5, 3)          # before the start: clipped
    prefault.populate_ahead(array, 4000, 10)       # nothing left: nothing asked
    time.sleep(0.05)
    np.testing.assert_array_equal(array, before)


def test_a_reserve_is_brought_in_ahead_of_the_rows_written():
    """Where madvise(MADV_POPULATE_WRITE) works (Linux 5.14+), writing past START_BYTES asks
    for the next AHEAD_BYTES: the array's resident memory grows by that much before the rows
    are written (/proc/self/smaps). Elsewhere ``available()`` is False and the writer faults
    its own pages."""
    if not prefault.available():
        assert prefault.populate_ahead(np.empty((10, 10)), 0, 10) is None
        return
    # 51 MB fresh from the system (np.empty may reuse memory a test before touched)
    memory = mmap.mmap(-1, 50_000 * 128 * 8)
    array = np.frombuffer(memory, dtype=np.float64).reshape(50_000, 128)
    _no_huge_pages(array)   # 2 MB pages would bring in far more than the rows touched
    ahead = prefault.RowsAhead()
    row_bytes = 128 * 8
    start_rows = prefault.START_BYTES // row_bytes
    array[:start_rows] = 1.0
    ahead.written(array, start_rows)
    assert ahead.populated == start_rows + prefault.AHEAD_BYTES // row_bytes
    deadline = time.perf_counter() + 5.0
    wanted = prefault.START_BYTES + prefault.AHEAD_BYTES - 2 * 4096
    while _resident_bytes(array) < wanted and time.perf_counter() < deadline:
        time.sleep(0.01)
    assert wanted <= _resident_bytes(array) < wanted + 2 * prefault.AHEAD_BYTES
    np.testing.assert_array_equal(array[:start_rows], 1.0)
    ahead.written(array, start_rows + 10)            # well inside what was asked: no request
    assert ahead.populated == start_rows + prefault.AHEAD_BYTES // row_bytes


def test_a_history_keeps_its_values_while_its_pages_come_in_ahead():
    from gdviz.core.records import RunConfig
    from gdviz.core.runner import run_to_end
    from gdviz.core.step_blocks import RunBlock

    records = run_to_end(RunConfig(problem="mlp", settings={"layers": "8,8"}, optimizer="adam",
                                   lr=0.01, batch_size=10, max_steps=1200))
    history = RunHistory(105, bound=5000)
    for start in range(0, len(records), 97):
        history.append(RunBlock.from_records(records[start:start + 97]))
    expected = np.stack([r.params for r in records])
    np.testing.assert_array_equal(history.params, expected)
