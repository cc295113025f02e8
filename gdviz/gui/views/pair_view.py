"""What the contour and the 3-D view share: the choice of two parameters, the grid feed that
keeps them supplied with loss grids, the default track, and shutting the feed down on close.

``PairGridView`` is a LessonView with ``self.pair`` = (i, j), two combos in the top bar, a
``GridFeed`` (``self.feed``) and a rich-text legend below the picture (``legend_html``).
Subclasses implement ``_configure()`` (called for a new run or a new pair) and draw.
"""

from __future__ import annotations

import weakref

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QLabel, QWidget

from gdviz.core.history import Growing, RunHistory, decimate
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.gui.grid_worker import GridFeed
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView, RunTrack
from gdviz.gui.views.items.dots import DotCloud

DEFAULT_COLOR = "#d62728"      # the run's colour until set_tracks gives the real one
REGION_POINTS = 8000           # recorded points per run the region is fitted to


def legend_html(entries: list[tuple[str, str, str]]) -> str:
    """A one-paragraph legend: (symbol, colour, text) entries that wrap like words. It sits
    below the picture, where it hides no minimum and no path."""
    return "&nbsp;&nbsp; ".join(
        f"<span style='white-space:nowrap'><b style='color:{color}'>{symbol}</b>&nbsp;{text}"
        "</span>" for symbol, color, text in entries)


class PairGridView(LessonView):
    """Base of the views that draw the loss over two chosen parameters."""

    def __init__(self, body: QWidget, resolution: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.feed = GridFeed(resolution, self)
        self.frame = style.ViewLayout(self, body)
        self.frame.info.setTextFormat(Qt.TextFormat.RichText)
        self.combos: list[QComboBox] = []
        for k, name in enumerate(("x:", "y:")):
            combo = QComboBox()
            combo.setToolTip(f"The parameter on the {'first' if k == 0 else 'second'} axis; "
                             "the others are held at their current values.")
            combo.currentIndexChanged.connect(self._on_combo_changed)
            self.frame.bar.insertWidget(2 * k, QLabel(name))
            self.frame.bar.insertWidget(2 * k + 1, combo)
            self.combos.append(combo)
        self.pair = (0, 1)
        self._index = 0

    def _start_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        """The common part of ``set_run``: combos, the default track, the step back to 0."""
        changed = problem is not self.problem
        LessonView.set_run(self, problem, config, history)
        if changed:
            for k, combo in enumerate(self.combos):
                style.fill_param_combo(combo, problem.param_names,
                                       min(k, problem.n_params - 1))
            self.pair = (0, 1) if problem.n_params > 1 else (0, 0)
        self.tracks = (RunTrack(RunSpec("run", DEFAULT_COLOR, config), history),)
        self.selected_track = 0
        self._index = 0
        for k in range(self.frame.bar.count()):
            widget = self.frame.bar.itemAt(k).widget()
            if widget is not None and widget is not self.frame.status:
                widget.setVisible(problem.n_params > 1)

    def _configure(self) -> None:
        raise NotImplementedError

    # -- what the grid depends on -------------------------------------------------------------
    def _center(self) -> np.ndarray:
        """The selected run's parameters at the shown step: the grid's held values."""
        track = self.tracks[self.selected_track]
        if len(track.history) == 0:
            return self.config.start_point()
        return np.array(track.history.params[self.track_index(track, self._index)],
                        dtype=np.float64)

    def _points(self) -> np.ndarray:
        """(m, 2) the recorded points of every run (decimated), whatever step is shown: the
        region depends on the runs, not on the step, so scrubbing never changes the grid."""
        key = (self.pair, tuple((id(t.history), len(t.history), t.history.generation)
                                for t in self.tracks))
        if getattr(self, "_points_key", None) != key:     # recomputed when a run grew
            i, j = self.pair
            parts = [np.zeros((0, 2))]
            for track in self.tracks:
                h = track.history
                if len(h):
                    # the two columns of the kept rows only (a network's rows are ~100
                    # parameters wide: gathering whole rows first cost ~13 ms a call)
                    parts.append(h.params[np.ix_(decimate(h.steps, REGION_POINTS), [i, j])])
            self._points_key, self._points_cache = key, np.concatenate(parts)
        return self._points_cache

    def _on_combo_changed(self, _index: int) -> None:
        if self.problem is None or self.problem.n_params < 2:
            return
        i, j = (c.currentIndex() for c in self.combos)
        if i < 0 or j < 0:
            return
        if i == j:   # keep the pair distinct: the other combo moves to the next parameter
            other = 1 if self.sender() is self.combos[0] else 0
            self.combos[other].blockSignals(True)
            self.combos[other].setCurrentIndex((i + 1) % self.problem.n_params)
            self.combos[other].blockSignals(False)
            i, j = (c.currentIndex() for c in self.combos)
        self.pair = (i, j)
        self._configure()

    # -- life cycle ---------------------------------------------------------------------------
    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Wait until the background grid has arrived (``GridFeed.wait_ready``)."""
        return self.feed.wait_ready(timeout_ms)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.feed.shutdown()
        super().closeEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._resume_grid()

    def _resume_grid(self) -> None:
        """Shown (again): the grid a hide cancelled is asked for again (GridFeed.resume)."""
        self.feed.resume()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        window = self.window()
        # the window is closing: stop the thread (or Qt re-creates the window: the grid is
        # asked for again when shown, see showEvent)
        if window is self or not window.isVisible():
            self.feed.shutdown()
        super().hideEvent(event)


# lesson 1's (x, w) rows per history: (problem, Growing rows, history generation); they go
# with their history
_SAMPLE_ROWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def sample_path(problem: Problem, history: RunHistory,
                k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lesson 1's path on the per-sample (x, w) surface: (x, w, loss) of history rows 1..k,
    each (k,). For every step s >= 1 kept: the x of the step's sample (the first of its batch),
    w before the step (where the gradient was taken) and that sample's loss there. Rows are
    computed once per recorded step and kept per history (the rows thinning leaves alone:
    ``RunHistory.unchanged_rows``), shared by every view that asks (the contour and the 3-D
    view draw the same paths)."""
    known = _SAMPLE_ROWS.get(history)
    if known is None or known[0] is not problem:
        known = (problem, Growing(3, np.float64), history.generation)
    rows = known[1]
    rows.truncate(history.unchanged_rows(known[2], rows.size + 1) - 1)
    _SAMPLE_ROWS[history] = (problem, rows, history.generation)
    if rows.size < len(history) - 1:
        lo, hi = rows.size + 1, len(history)
        samples = history.first_samples(lo, hi)
        w = history.params_before_rows(lo, hi)[:, 0]  # the parameter before each step
        # a one-sample batch's loss was recorded by the runner (times the reduction's
        # factor); the first sample of a larger batch is evaluated, once per sample
        with np.errstate(all="ignore"):
            loss = history.batch_losses[lo:hi] / problem.reduce_factor(1)
            larger = history.batch_sizes(lo, hi) != 1
            for sample in np.unique(samples[larger]):
                rows_of = larger & (samples == sample)
                loss[rows_of] = problem.sample_losses(w[rows_of, None], [sample])[:, 0]
        rows.append_many(np.column_stack([problem.data_x[samples, 0], w, loss]))
    shown = rows.view()[:k]
    return shown[:, 0], shown[:, 1], shown[:, 2]


class GrowingDots:
    """Dots for points 0..n-1 of a path that only grows while a run plays (lesson 1's (x, w)
    pairs): every s-th point, s the smallest power of two keeping at most ``max_points``, so
    a dot once drawn stays where it is while the run grows. Drawn by one ``dots.DotCloud``
    (a scatter's records cost ~0.5 ms a frame to extend); the dots shown depend only on n,
    however they were reached."""

    def __init__(self, plot_item, max_points: int, z: float) -> None:
        self.item = DotCloud("o", size=4, pen=None)
        self.item.setZValue(z)
        self.item.setVisible(False)  # until it has dots
        plot_item.addItem(self.item)
        self.max_points = max_points
        self._stride = 0

    def show(self, x: np.ndarray, y: np.ndarray, color: str) -> None:
        n = len(x)
        stride = 1
        while n > stride * self.max_points:
            stride *= 2
        self.item.setBrush(color)
        self.item.set_points(x[::stride], y[::stride])
        self._stride = stride
        self.item.setVisible(True)

    def clear(self) -> None:
        self.item.clear()
        self.item.setVisible(False)
        self._stride = 0


def joined(x: np.ndarray) -> bool:
    """Whether a path over samples should be drawn as a line: only when x mostly runs one way
    (samples in order). Samples taken in no order of x jump about, and a line through them
    would be a scribble: they are drawn as dots."""
    if len(x) < 3:
        return True
    turns = np.count_nonzero(np.diff(np.sign(np.diff(x))) != 0)
    return turns <= 0.1 * len(x)
