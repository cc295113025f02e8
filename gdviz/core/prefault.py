"""Bringing in the pages of a reserved array ahead of the rows written, off the writer's thread.

A history reserves its rows up front (``core.history.Growing``): untouched pages cost nothing,
but the first write to each page faults it in, in the thread that writes, and that is the
GUI thread. On the machines gdviz is measured on a page fault costs ~6 µs (84 MB: 0.5 s), so
a network's rows (4 KB a step with Adam) made the window's appends 4-5 times slower than
their copying: 1.3 ms of CPU a redraw for each of the history and the optimizer states,
with a p95 of 7-16 ms, against 0.3-0.4 ms with the pages already in.

``populate_ahead(array, first_row, rows)`` asks a daemon thread to fault in the pages of those
rows with ``madvise(MADV_POPULATE_WRITE)`` (Linux 5.14 and later): the call returns at once,
and the pages' contents do not change (it faults them in as a write would, without writing).
Where that call does not exist (other systems, older kernels) nothing happens and the writer
faults its pages in as before. Numpy, ctypes and the standard library only.
"""

from __future__ import annotations

import ctypes
import mmap
import queue
import sys
import threading

import numpy as np

_MADV_POPULATE_WRITE = 23
_PAGE = mmap.PAGESIZE
AHEAD_BYTES = 2 ** 20   # how far ahead of the rows written an array's pages are brought in
START_BYTES = 2 ** 18   # ... once it holds this much: a short run's arrays fault their own


def _load_madvise():
    """libc's madvise, or None where populating cannot work."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        madvise = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    madvise.restype = ctypes.c_int
    probe = ctypes.create_string_buffer(2 * _PAGE)     # one whole page inside it
    page = (ctypes.addressof(probe) + _PAGE - 1) // _PAGE * _PAGE
    works = madvise(page, _PAGE, _MADV_POPULATE_WRITE) == 0   # EINVAL before Linux 5.14
    return madvise if works else None


class _Populator:
    """One daemon thread that populates the ranges it is given, in order."""

    def __init__(self) -> None:
        self._madvise = _load_madvise()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        return self._madvise is not None

    def request(self, array: np.ndarray, start: int, stop: int) -> None:
        """Populate bytes [start, stop) of ``array``'s buffer (it is kept alive till then)."""
        if self._madvise is None or stop <= start:
            return
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="gdviz-prefault",
                                                daemon=True)
                self._thread.start()
        self._queue.put((array, start, stop))

    def _run(self) -> None:
        while True:
            array, start, stop = self._queue.get()
            base = array.ctypes.data
            first = (base + start + _PAGE - 1) // _PAGE * _PAGE   # whole pages inside
            last = (base + stop) // _PAGE * _PAGE
            if last > first:
                self._madvise(first, last - first, _MADV_POPULATE_WRITE)   # GIL released
            del array


_POPULATOR = _Populator()


def available() -> bool:
    """True where pages can be populated ahead (Linux 5.14 and later)."""
    return _POPULATOR.available


class RowsAhead:
    """When to populate a reserved array (rows along axis 0) ahead of its writer: call
    ``written(array, size)`` after writing rows up to ``size``."""

    def __init__(self) -> None:
        self.populated = 0   # rows asked for so far

    def written(self, array: np.ndarray, size: int) -> None:
        row_bytes = array.nbytes // max(1, array.shape[0])
        if row_bytes == 0 or size * row_bytes < START_BYTES:
            return
        ahead = max(64, AHEAD_BYTES // row_bytes)
        if size + ahead // 2 > self.populated:
            first = max(self.populated, size)
            populate_ahead(array, first, size + ahead - first)
            self.populated = size + ahead


def populate_ahead(array: np.ndarray, first_row: int, rows: int) -> None:
    """Fault in the pages of rows ``first_row .. first_row + rows - 1`` of ``array`` (C-ordered,
    rows along axis 0) in the background; clipped to the array. Contents are not changed."""
    total = array.shape[0]
    first_row, last_row = max(0, first_row), min(total, first_row + rows)
    if last_row <= first_row:
        return
    row_bytes = array.nbytes // max(1, total)
    _POPULATOR.request(array, first_row * row_bytes, last_row * row_bytes)
