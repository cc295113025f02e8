"""Compute loss grids off the GUI thread and hand the finished, immutable result back.

``GridFeed`` is what a view uses: it decides which grid the view needs, takes it from the
cache, computes cheap ones at once and expensive ones in the background, through a
``gdviz.gui.tasks.TaskRunner`` (one pending job, stale results dropped, its thread registered
with the one registry of background threads; see that module for the threading rules).

A grid job is a pure function ``fn(should_stop) -> LossGrid | None`` that reads only immutable
data (the problem, a frozen GridSpec; ``grids.grid_values`` checks ``should_stop`` between
chunks) and returns a frozen ``LossGrid``: nothing mutable crosses threads. ``shutdown()``
cancels and WAITS for the thread; views call it from ``closeEvent`` and when their window hides.
"""

from __future__ import annotations

import time
import weakref

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal

from gdviz.core import grids
from gdviz.gui import tasks


def running_grid_threads() -> list[QThread]:
    """Background task threads still running (tests: should be empty once views are closed);
    the registry (``gdviz.gui.tasks``) knows every one of them."""
    return tasks.running_threads()


# One cache for every view (GUI thread only): the contour dock and the 3-D view's map fallback
# ask for the same grids. ~1 MB per 256×256 grid.
SHARED_CACHE = grids.GridCache(max_entries=24)


class GridBudget:
    """The share of a core that the background grids of every feed sharing the budget take
    together (``GridFeed.DUTY``), GUI thread only: while one feed computes a grid in the
    background the others wait, and after a grid computed in the background none asks for
    another for (1/DUTY - 1) times its computing time (in the feeds' ``clock``: a feed with
    a clock of its own needs a budget of its own). Each feed had its own DUTY: with the
    contour and the 3-D view's map on screen, mlp_spiral's grids took ~50 % of a core beside
    the step server and the window on 2 cores (sharing one: 0.51-0.57 -> 0.61-0.64 of the
    headless rate, 25-31 -> 31-39 redraws a second, bench_gui)."""

    def __init__(self) -> None:
        self.pause_until = -1e9
        self._feeds: weakref.WeakSet[GridFeed] = weakref.WeakSet()

    def join(self, feed: GridFeed) -> None:
        self._feeds.add(feed)

    def other_busy(self, feed: GridFeed) -> bool:
        """True while another feed computes a grid in the background."""
        return any(other.busy for other in list(self._feeds) if other is not feed)


SHARED_BUDGET = GridBudget()


class GridFeed(QObject):
    """Keeps one view supplied with the loss grid it needs, recomputing only when needed.

    ``configure(problem, i, j, center, points)`` starts over (new run, new parameter pair);
    ``follow(center, points)`` is called on every drawn step and asks for a new grid only when
    the trajectories left the region (it grows, never shrinks during a run) or a held value
    moved by more than ``HELD_FRACTION`` of its range — at most every ``THROTTLE_S`` seconds,
    with a trailing refresh so the last state always gets its grid. A grid computed in the
    background also pauses the next request for ``(1/DUTY - 1)`` times its computing time, so
    the feed's thread takes at most ``DUTY`` of a core however costly the problem (a network's
    held parameters move on nearly every step). The points per side are the view's
    ``resolution``, or fewer for a costly problem (``grids.affordable_resolution``).
    Grids come from the cache,
    are computed at once when cheap (``SYNC_COST`` per-sample evaluations), and otherwise in
    the background while the view keeps the previous grid; a need that arises meanwhile waits
    for that grid (then asks again), so a moving run still gets grids. The pause and the
    background computing are shared by the feeds of every view (``GridBudget``): together
    their threads take at most DUTY of a core.
    ``sig_grid(LossGrid)`` delivers the grid to draw (GUI thread); ``sig_failed(str)`` a
    computation's error.
    """

    SYNC_COST = 1_000_000
    THROTTLE_S = 0.3
    DUTY = 0.2
    # the seconds the throttle reads; a test gives the feed a clock of its own
    clock = staticmethod(time.monotonic)
    HELD_FRACTION = 0.02

    sig_grid = Signal(object)
    sig_failed = Signal(str)

    def __init__(self, resolution: int, parent: QObject | None = None,
                 cache: grids.GridCache | None = None,
                 budget: GridBudget | None = None) -> None:
        super().__init__(parent)
        self.resolution = resolution
        self.cache = SHARED_CACHE if cache is None else cache
        self.budget = SHARED_BUDGET if budget is None else budget
        self.budget.join(self)
        self.worker = tasks.TaskRunner(self)
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
        self._refresh_when_due()

    @property
    def points_per_side(self) -> int:
        """The resolution of the grid asked for (the view's, or fewer for a costly problem)."""
        return self.wanted.resolution[0] if self.wanted is not None else self.resolution

    def _refresh_when_due(self) -> None:
        """Refresh now, or start the timer for when the throttle and the pause allow it."""
        now = self.clock()
        due = max(max(self._last_request, self._last_check) + self.THROTTLE_S,
                  self.budget.pause_until)
        if self.budget.other_busy(self):       # another view's grid first: look again later
            due = max(due, now + self.THROTTLE_S)
        wait = due - now
        if wait > 0:
            if not self._timer.isActive():
                self._timer.start(int(wait * 1000) + 1)
            return
        self._refresh()

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Wait until the wanted grid has arrived and was delivered; a check held back by the
        throttle is made first. The wait is on the computation itself (``TaskRunner.wait``),
        bounded by ``timeout_ms``, and never runs the event loop: an export's Cancel click
        used to run ``abort()`` in the middle of a frame from in here. (A test file whose
        grids all came this way crashed in Qt's scene painting; it no longer does — see
        ``gui_gc``: Python's garbage collector now runs in the GUI thread only.)"""
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
        """Stop computing (the view is hidden or closing); ``resume()`` asks again."""
        self._timer.stop()
        self.worker.shutdown()

    def resume(self) -> None:
        """Ask again for the wanted grid if a ``shutdown`` dropped its computation. Views call
        it when shown: Qt hides and shows every widget of a window it re-creates (when the
        first OpenGL widget appears in it, or a dock floats), and a view hidden at that moment
        had its grid cancelled while it still wanted it (issue 13: "computing the loss..." on
        the contour map for ever, until Step or Reset)."""
        if self.problem is None or self.wanted is None or self.busy:
            return
        if self.grid is not None and self.grid.spec == self.wanted:
            return
        self._ask(self.wanted)

    # -- internals ----------------------------------------------------------------------------
    def _spec(self, center, region: np.ndarray) -> grids.GridSpec:
        i, j = self.pair
        center = np.asarray(center, dtype=np.float64).copy()
        others = [k for k in range(len(center)) if k not in (i, j)]
        if others:
            center[others] = grids.snap_held(center[others], self.problem.view_range[others],
                                             self.HELD_FRACTION)
        resolution = grids.affordable_resolution(self.problem, self.resolution)
        return grids.GridSpec.make(i, j, center, region[0], region[1], resolution)

    def _refresh(self) -> None:
        if self._latest is None or self.wanted is None:
            return
        self._last_check = self.clock()
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
        self._refresh_when_due()   # another feed may have paused or started one meanwhile

    def _ask(self, spec: grids.GridSpec) -> None:
        self.wanted = spec
        self._last_request = self.clock()
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
        self.budget.pause_until = max(self.budget.pause_until, self.clock()
                                      + result.seconds * (1.0 / self.DUTY - 1.0))
        if problem is self.problem and spec == self.wanted:
            self._deliver(result)
        if self._again:
            self._again = False
            self._refresh_when_due()

    def _deliver(self, grid: grids.LossGrid) -> None:
        self.grid = grid
        self.sig_grid.emit(grid)
