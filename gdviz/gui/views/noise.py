"""The Noise view: how noisy the mini-batch gradient is at the selected run's current point,
against the batch size B, on log-log axes.

Dots: the trace of the covariance of SAMPLED batch gradients (``SAMPLES`` batches of each size
drawn as the run's sampler draws them, core.noise.variance_against_batch); line: the trace the
theory gives, tr(C)/B with replacement, tr(C)/B·(n − B)/(n − 1) without (shuffle), the spread
over the epoch's fixed batches for sequential (core.noise.batch_covariance). The run's own
batch size is a vertical line. Readout: B_simple = tr(C)/|ḡ|², the batch size at which the
noise is as large as the signal (McCandlish et al. 2018's simple noise scale).

Computed off the GUI thread (gui.tasks.TaskRunner), at most every ``PERIOD_MS`` while a run
plays and at most a quarter of the time (the newest shown step wins); ``wait_ready`` waits for
it (tests, screenshots).
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from gdviz.core.history import RunHistory
from gdviz.core.noise import batch_sizes_for, per_sample_covariance, variance_against_batch
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.gui import tasks
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView, RunTrack
from gdviz.gui.views.items.log_axis import LogAxis
from gdviz.gui.views.status_label import set_status_text

SAMPLES = 400      # batches drawn per batch size: the trace's relative error is ~√(2/400) ≈ 7 %
PERIOD_MS = 400    # while playing: at most one computation this often, and never more than a
                   # quarter of the time (noise_ball 0.05-0.4 s a computation, mlp_spiral 2 s on
                   # a loaded 2-core machine: it shares the window's interpreter)
BUSY_SHARE = 0.25


def noise_curve(problem: Problem, at: np.ndarray, order: str, seed: int, should_stop
                ) -> dict | None:
    """Everything the view draws at ``at`` (p,): batch sizes (m,), measured and theory traces
    (m,), tr(C), |ḡ|² and B_simple (None where ḡ = 0); None when stopped."""
    started = time.perf_counter()
    sizes = batch_sizes_for(problem.n_samples)
    # a formula's gradient may be NaN or infinite here (log(w·x)): drawn as gaps, not warned
    with np.errstate(all="ignore"):
        found = variance_against_batch(problem, at, order, sizes,
                                       np.random.default_rng(seed), SAMPLES, should_stop)
        if found is None:
            return None
        mean, cov = per_sample_covariance(problem, at)
    trace, norm2 = float(np.trace(cov)), float(mean @ mean)
    return {"sizes": sizes, "measured": found[0], "theory": found[1], "trace": trace,
            "norm2": norm2, "noise_scale": trace / norm2 if norm2 > 0 else None,
            "seconds": time.perf_counter() - started}


class NoiseView(LessonView):
    title = "Gradient noise"
    view_id = "noise"
    follows_selected_run = True
    tooltip = (
        "How noisy a mini-batch gradient is at the selected run's current point, against the "
        "batch size B (log-log). Dots: the total variance (trace of the covariance) of "
        f"{SAMPLES} batch gradients drawn as the run's sampler draws them; line: the theory, "
        "tr(C)/B with replacement and tr(C)/B·(n − B)/(n − 1) without (C: the per-sample "
        "gradients' covariance). The vertical line is the run's batch size. B_simple = "
        "tr(C)/|ḡ|²: around this batch size the noise stops dominating the gradient.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Gradient noise", "batch size B",
                                    "variance of the batch gradient",
                                    axis_items={"left": LogAxis("left"),
                                                "bottom": LogAxis("bottom")})
        self.frame = style.ViewLayout(self, self.plot)
        self.key = self.frame.add_key()
        self.key.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.plot.setLogMode(x=True, y=True)
        self.theory = pg.PlotDataItem([], [], pen=pg.mkPen(style.FULL, width=2))
        self.measured = pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=8,
                                        symbolBrush=style.BATCH, symbolPen=pg.mkPen("w"))
        self.batch_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(
            style.TEXT, width=1.5, style=Qt.PenStyle.DashLine))
        for item in (self.theory, self.measured):
            self.plot.addItem(item)
        self.plot.addItem(self.batch_line, ignoreBounds=True)
        self.batch_line.setVisible(False)
        self.runner = tasks.TaskRunner(self)
        self.runner.sig_ready.connect(self._on_runner_ready)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PERIOD_MS)
        self._timer.timeout.connect(self._request)
        self._wanted: tuple | None = None     # (problem, track, step) the view should show
        self._shown: tuple | None = None      # ... and the one it shows
        self.result: dict | None = None       # what is drawn (tests read it)
        self._index = 0

    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self._shown = None
        self.result = None
        self.theory.setData([], [])
        self.measured.setData([], [])

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        super().set_tracks(tracks, selected)
        self._shown = None
        if self.history is not None and len(self.history):
            self.show_step(self._index)

    def show_step(self, index: int) -> None:
        if self.problem is None or not self.tracks:
            return
        self._index = index
        track = self.tracks[self.selected_track]
        k = self.track_index(track, index)
        wanted = (id(self.problem), self.selected_track, id(track.history), k)
        if self.problem.n_samples < 2:
            self.theory.setData([], [])
            self.measured.setData([], [])
            self.frame.set_title("Gradient noise: a test function has no samples")
            set_status_text(self.frame.status, "one sample: every step uses the exact "
                                               "gradient, there is no batch noise")
            return
        if wanted == self._shown and not self.runner.busy:
            return
        self._wanted = wanted
        if not self._timer.isActive() and not self.runner.busy:
            self._request()   # (not while hidden: the window draws the view when it shows)

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Compute what the view should show now, without waiting for the timer; True once it
        is drawn (no events are processed)."""
        for _ in range(2):   # a job for an older step may be running: then once more
            self._timer.stop()
            self._request()
            if not self.runner.wait(timeout_ms):
                return False
        return self._wanted == self._shown

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.runner.shutdown()
        super().closeEvent(event)

    def _request(self) -> None:
        wanted = self._wanted
        if (wanted is None or wanted == self._shown or self.runner.busy or self.problem is None
                or not self.isVisible()):   # a tab behind another, or a closed window
            return
        track = self.tracks[self.selected_track]
        k = wanted[3]
        at = np.array(track.history.params[k], dtype=np.float64)
        if not np.all(np.isfinite(at)):
            return
        problem, order = self.problem, track.config.order
        self.runner.request(wanted, lambda should_stop: noise_curve(problem, at, order, k,
                                                                    should_stop))
        self._timer.start()   # the next request waits (see _on_runner_ready)

    def _on_runner_ready(self, key, result) -> None:
        if isinstance(result, Exception):
            set_status_text(self.frame.status, f"could not compute the noise: {result}")
            return
        self._shown = key
        self.result = result
        # requests start at most this often (the timer runs from the request): computing then
        # takes at most BUSY_SHARE of the time
        wait = result["seconds"] / BUSY_SHARE
        self._timer.setInterval(int(max(PERIOD_MS, 1000 * wait)))
        self._draw(result, key[3])
        if self._wanted != key and not self._timer.isActive():
            self._request()

    def _draw(self, result: dict, k: int) -> None:
        sizes = result["sizes"].astype(np.float64)
        keep = result["measured"] > 0
        self.measured.setData(sizes[keep], result["measured"][keep])
        positive = result["theory"] > 0
        self.theory.setData(sizes[positive], result["theory"][positive])
        track = self.tracks[self.selected_track]
        batch = track.config.effective_batch_size()
        self.batch_line.setVisible(batch < self.problem.n_samples)
        self.batch_line.setValue(np.log10(batch))
        order = track.config.order
        formula = {"replacement": "tr(C)/B", "shuffle": "tr(C)/B·(n−B)/(n−1)",
                   "sequential": "spread of the epoch's fixed batches"}.get(order, "")
        self.key.set_entries([("point", style.BATCH, f"sampled ({SAMPLES} batches each)"),
                              ("line", style.FULL, f"theory: {formula}"),
                              ("dash", style.TEXT, f"the run's batch {batch}")])
        scale = result["noise_scale"]
        words = [f"step {k}", f"tr(C) {style.fmt(result['trace'])}",
                 f"|ḡ|² {style.fmt(result['norm2'])}",
                 "B_simple = tr(C)/|ḡ|² " + (style.fmt(scale) if scale is not None else "∞")]
        set_status_text(self.frame.status, " · ".join(words))
        self.frame.set_title(f"Gradient noise against the batch size ({order})")
