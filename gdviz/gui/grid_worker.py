"""Compute loss grids off the GUI thread and hand the finished, immutable result back.

``GridFeed`` (end of the file) is what a view uses: it decides which grid the view needs, takes
it from the cache, computes cheap ones at once and expensive ones through a ``GridWorker``.

``GridWorker`` (one per view) keeps at most ONE pending job: a new request replaces the job
that has not started yet and tells the running one to give up (``grids.grid_values`` checks
between chunks). The compute thread is a plain ``QThread`` subclass that runs while there is
work and then ends by itself, so no thread idles after the view stops asking.

Threading rules:
- A job is a pure function ``fn(should_stop) -> result | None`` that reads only immutable
  data (the problem, a frozen GridSpec) and returns a frozen ``LossGrid``: nothing mutable
  crosses threads.
- The result leaves the thread through a signal of a relay QObject that lives in the GUI
  thread (a queued connection), tagged with the request's generation; the relay drops it
  when a newer request was made meanwhile. ``sig_ready(key, result)`` therefore only ever
  delivers the newest key's result, on the GUI thread.
- ``wait(timeout_ms)`` (exports and tests) blocks until the pending request's result is
  computed and delivers it at once, without running the event loop (a click must not run in
  the middle of an export's frame); the relay's later copy of it is then dropped.
- ``shutdown()`` cancels and WAITS for the thread; views call it from ``closeEvent`` and when
  their window hides. Each thread is registered with ``gdviz.gui.worker.register_thread`` so
  the test fixture that fails on threads left running sees grid threads too, and an
  ``atexit`` hook waits for any thread still finishing a chunk when the interpreter exits.
"""

from __future__ import annotations

import atexit
import functools
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal

from gdviz.core import grids
from gdviz.gui import worker as worker_registry

Job = Callable[[Callable[[], bool]], Any]

# Strong references to every thread started, pruned (in the GUI thread) once finished: a
# QThread whose last reference went away while it still ran would abort the process.
_LIVE: set[_GridThread] = set()


def _prune() -> None:
    for thread in [t for t in _LIVE if _wait(t, 0)]:
        _LIVE.discard(thread)


class _Relay(QObject):
    """Lives in the GUI thread; receives results emitted from the compute thread."""

    sig_result = Signal(int, object, object)   # generation, key, result


class _Jobs:
    """The pending job and the generation counter, shared by a GridWorker and its threads.
    A plain Python object: it outlives the worker's QObject, so a view deleted without being
    closed can still cancel its running job (see ``GridWorker.__init__``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pending: tuple[int, Any, Job] | None = None
        self.generation = 0
        self.taker: _GridThread | None = None     # the thread that will take the next job
        self.threads: list[_GridThread] = []      # threads not yet joined
        # the newest job computed, (generation, key, result), for ``GridWorker.wait``
        self.finished: tuple[int, Any, Any] | None = None
        self.computed = threading.Condition(self.lock)

    def cancel(self) -> None:
        with self.lock:
            self.generation += 1
            self.pending = None

    def take(self) -> tuple[int, Any, Job] | None:
        """The next job, or None: then the calling thread ends (decided under the lock, so a
        request made at the same moment starts a new thread instead of being lost)."""
        with self.lock:
            job, self.pending = self.pending, None
            if job is None:
                self.taker = None
            return job

    def join(self, timeout_ms: int) -> bool:
        self.cancel()
        done = all([_wait(thread, timeout_ms) for thread in self.threads])
        self.threads = [t for t in self.threads if not _wait(t, 0)]
        _prune()
        return done


def _wait(thread: QThread, timeout_ms: int) -> bool:
    """thread.wait(), True for a thread whose C++ object is already gone (interpreter exit)."""
    try:
        return thread.wait(timeout_ms)
    except RuntimeError:
        return True


class _GridThread(QThread):
    """Runs the pending jobs one after the other, then ends."""

    def __init__(self, jobs: _Jobs, relay: _Relay) -> None:
        super().__init__()
        self._jobs = jobs
        self._relay = relay
        self.setObjectName("gdviz-grid")

    def stop(self) -> None:  # the worker registry's stop protocol (test clean-up)
        self._jobs.cancel()

    def run(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.take()
            if job is None:
                return
            generation, key, fn = job

            def should_stop(generation=generation) -> bool:
                return jobs.generation != generation

            try:
                result = fn(should_stop)
            except Exception as err:  # shown by the view; never kills the thread silently
                result = err
            if result is None or should_stop():
                continue
            with jobs.computed:
                jobs.finished = (generation, key, result)
                jobs.computed.notify_all()
            try:
                self._relay.sig_result.emit(generation, key, result)
            except RuntimeError:      # the view (and its relay) were deleted meanwhile
                return


def _join_deleted(jobs: _Jobs) -> None:
    """A worker's QObject was destroyed (its view deleted without closing): stop its job."""
    jobs.join(5000)


class GridWorker(QObject):
    """One background computation at a time for one view.

    ``request(key, fn)`` schedules ``fn``; ``sig_ready(key, result)`` brings the result to
    the GUI thread (``result`` may be an Exception the job raised). ``busy`` is True while a
    request has not been answered. ``computations`` counts the jobs started.
    """

    sig_ready = Signal(object, object)   # key, result

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = _Jobs()
        self._relay = _Relay(self)
        self._relay.sig_result.connect(self._on_relay_result)
        self.destroyed.connect(functools.partial(_join_deleted, self._jobs))
        self.pending_key: Any = None
        self.computations = 0
        self._delivered = -1  # the generation delivered by ``wait`` (its relayed copy is dropped)

    @property
    def busy(self) -> bool:
        return self.pending_key is not None

    def request(self, key: Any, fn: Job) -> None:
        """Compute ``fn`` in the background; any earlier request is abandoned."""
        jobs = self._jobs
        with jobs.lock:
            jobs.generation += 1
            jobs.pending = (jobs.generation, key, fn)
            self.pending_key = key
            self.computations += 1
            if jobs.taker is None:      # no thread will take this job: start one
                _prune()
                jobs.threads = [t for t in jobs.threads if not _wait(t, 0)]
                thread = _GridThread(jobs, self._relay)
                _LIVE.add(thread)
                jobs.threads.append(thread)
                worker_registry.register_thread(thread, thread)
                jobs.taker = thread
                thread.start(QThread.Priority.LowPriority)

    def cancel(self) -> None:
        """Abandon the pending and the running job (the thread ends after its chunk)."""
        self._jobs.cancel()
        self.pending_key = None

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the threads to end; True when none is left running."""
        self.pending_key = None
        return self._jobs.join(timeout_ms)

    def wait(self, timeout_ms: int) -> bool:
        """Block until the pending request's result is computed, then deliver it now
        (``sig_ready``, in this thread). Waits on the computation itself: the event loop does
        not run, so no click, timer or queued signal runs meanwhile. False when it did not
        come within ``timeout_ms`` (it is then delivered later, as usual); True when nothing
        is pending."""
        if self.pending_key is None:
            return True
        jobs = self._jobs
        deadline = time.monotonic() + timeout_ms / 1000
        with jobs.computed:
            while jobs.finished is None or jobs.finished[0] != jobs.generation:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                jobs.computed.wait(left)
            generation, key, result = jobs.finished
        self._on_relay_result(generation, key, result)
        return True

    def _on_relay_result(self, generation: int, key: Any, result: Any) -> None:
        if generation != self._jobs.generation or generation == self._delivered:
            return          # stale (a newer request was made), or delivered by ``wait``
        self._delivered = generation
        self.pending_key = None
        self.sig_ready.emit(key, result)


def running_grid_threads() -> list[QThread]:
    """Grid threads still running (tests: should be empty once views are closed)."""
    _prune()
    return list(_LIVE)


@atexit.register
def _wait_for_grid_threads() -> None:
    for thread in list(_LIVE):
        try:
            thread.stop()
            thread.wait(5000)
        except RuntimeError:
            pass


# One cache for every view (GUI thread only): the contour dock and the 3-D view's map fallback
# ask for the same grids. ~1 MB per 256×256 grid.
SHARED_CACHE = grids.GridCache(max_entries=24)


class GridFeed(QObject):
    """Keeps one view supplied with the loss grid it needs, recomputing only when needed.

    ``configure(problem, i, j, center, points)`` starts over (new run, new parameter pair);
    ``follow(center, points)`` is called on every drawn step and asks for a new grid only when
    the trajectories left the region (it grows, never shrinks during a run) or a held value
    moved by more than ``HELD_FRACTION`` of its range — at most every ``THROTTLE_S`` seconds,
    with a trailing refresh so the last state always gets its grid. Grids come from the cache,
    are computed at once when cheap (``SYNC_COST`` per-sample evaluations), and otherwise in
    the background while the view keeps the previous grid; a need that arises meanwhile waits
    for that grid (then asks again), so a moving run still gets grids.
    ``sig_grid(LossGrid)`` delivers the grid to draw (GUI thread); ``sig_failed(str)`` a
    computation's error.
    """

    SYNC_COST = 1_000_000
    THROTTLE_S = 0.3
    HELD_FRACTION = 0.02

    sig_grid = Signal(object)
    sig_failed = Signal(str)

    def __init__(self, resolution: int, parent: QObject | None = None,
                 cache: grids.GridCache | None = None) -> None:
        super().__init__(parent)
        self.resolution = resolution
        self.cache = SHARED_CACHE if cache is None else cache
        self.worker = GridWorker(self)
        self.worker.sig_ready.connect(self._on_worker_ready)
        self.problem = None
        self.pair = (0, 1)
        self.wanted: grids.GridSpec | None = None
        self.grid: grids.LossGrid | None = None
        self._last_request = -1e9
        self._last_check = -1e9     # when _refresh last looked at the region
        self._latest: tuple[np.ndarray, object] | None = None   # (center, points or a function)
        self._again = False         # a refresh was held back while a grid was computing
        self._region_points = None  # the points the last region was fitted to
        self._region = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._on_timer_timeout)

    @property
    def busy(self) -> bool:
        return self.worker.busy

    def configure(self, problem, i: int, j: int, center, points) -> None:
        self.problem, self.pair = problem, (int(i), int(j))
        self.grid = None
        self.wanted = None
        self._again = False
        self._region_points = None
        self._timer.stop()
        base = np.asarray(problem.view_range, dtype=np.float64)[[i, j]]
        region = grids.grid_region(base, points)
        self._ask(self._spec(center, region))

    def follow(self, center, points) -> None:
        """``points``: the (m, 2) array, or a function that gives it (called only when the
        region is checked, at most every ``THROTTLE_S``: fitting it to six runs' points on
        every frame cost ~2 ms)."""
        if self.problem is None or self.wanted is None:
            return
        self._latest = (np.asarray(center, dtype=np.float64), points)
        wait = max(self._last_request, self._last_check) + self.THROTTLE_S - time.monotonic()
        if wait > 0:
            if not self._timer.isActive():
                self._timer.start(int(wait * 1000) + 1)
            return
        self._refresh()

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Wait until the wanted grid has arrived and was delivered (exports and tests); a
        check held back by the throttle is made first. The wait is on the computation itself
        (``GridWorker.wait``), bounded by ``timeout_ms``, and never runs the event loop: an
        export's Cancel click used to run ``abort()`` in the middle of a frame from in here."""
        if self._timer.isActive():
            self._timer.stop()
            self._refresh()
        deadline = time.monotonic() + timeout_ms / 1000
        while self.busy:   # a grid delivered may ask for the next (the region grew meanwhile)
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0 or not self.worker.wait(left_ms):
                break
        return not self.busy

    def shutdown(self) -> None:
        self._timer.stop()
        self.worker.shutdown()

    # -- internals ----------------------------------------------------------------------------
    def _spec(self, center, region: np.ndarray) -> grids.GridSpec:
        i, j = self.pair
        center = np.asarray(center, dtype=np.float64).copy()
        others = [k for k in range(len(center)) if k not in (i, j)]
        if others:
            center[others] = grids.snap_held(center[others], self.problem.view_range[others],
                                             self.HELD_FRACTION)
        return grids.GridSpec.make(i, j, center, region[0], region[1], self.resolution)

    def _refresh(self) -> None:
        if self._latest is None or self.wanted is None:
            return
        self._last_check = time.monotonic()
        center, points = self._latest
        points = points() if callable(points) else points
        current = np.array([self.wanted.x_range, self.wanted.y_range])
        if points is not self._region_points:        # the same runs: the same region
            self._region_points = points
            self._region = grids.grid_region(current, points, margin=0.15)
        spec = self._spec(center, self._region)
        if spec == self.wanted:
            return
        if self.busy:
            # let the running grid finish (it is close to what is wanted) and ask again when
            # it arrives: cancelling it every throttle period would starve a moving run
            self._again = True
            return
        self._ask(spec)

    def _on_timer_timeout(self) -> None:
        self._refresh()

    def _ask(self, spec: grids.GridSpec) -> None:
        self.wanted = spec
        self._last_request = time.monotonic()
        problem = self.problem
        found = self.cache.get(problem, spec)
        if found is None and grids.grid_cost(problem, spec) <= self.SYNC_COST:
            found = grids.compute_grid(problem, spec)
            self.cache.put(problem, found)
        if found is not None:
            self.worker.cancel()
            self._deliver(found)
            return
        self.worker.request((problem, spec),
                            lambda should_stop: grids.compute_grid(problem, spec, should_stop))

    def _on_worker_ready(self, key, result) -> None:
        problem, spec = key
        if isinstance(result, Exception):
            if problem is self.problem and spec == self.wanted:
                self.sig_failed.emit(f"the loss grid could not be computed: {result}")
            self._again = False
            return
        self.cache.put(problem, result)
        if problem is self.problem and spec == self.wanted:
            self._deliver(result)
        if self._again:
            self._again = False
            self._refresh()

    def _deliver(self, grid: grids.LossGrid) -> None:
        self.grid = grid
        self.sig_grid.emit(grid)
