"""The Curvature view: the sharpness λmax and λmin of the full loss's Hessian against the step,
one pair of curves per run, with the selected run's stability line.

The line is where a quadratic stops being stable for the selected run's optimizer at the
learning rate of the shown step (core.curvature.stability_threshold): 2/η for gradient
descent, (2 + 2β)/η for heavy-ball momentum β, and for Adam/AdamW (2 + 2β₁)/((1 − β₁)·η),
38/η with β₁ = 0.9, which bounds the *preconditioned* sharpness λmax(P⁻¹H): that run's
preconditioned sharpness is drawn dotted.

The eigenvalues are computed off the GUI thread (gui.tasks.TaskRunner), in chunks of at most
``CHUNK`` steps per run (fewer for a network, see ``JOB_NUMBERS``), as the histories
grow: each job gets copies of the new steps'
parameters (and, for Adam, their gradients and learning rates, from which
core.curvature.replay_states recomputes the optimizer states a history does not keep) and
returns their columns; the view draws what has arrived. ``wait_ready`` waits for all of it
(exports) and draws at once.

Drawing costs (measured on 40 000 SGD steps of wavy, benchmarks/bench_curvature_view.py): a
dashed 1.5-px λmin line along a noisy path took 257–800 ms a paint (Qt strokes dashes into
polygons); it is a 1-px solid line now (Qt's fast path), and not drawn at all for one
parameter, where λmin is λmax. While the runs grow, the view redraws at most every
``REDRAW_INTERVAL`` s (a summary that changes slowly; the other views keep their pace), and
so does the arrival of eigenvalues; a scrub or a step of a paused run draws at once. The y
range comes from running minima and maxima kept as the columns arrive, not from every step on
each draw.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from gdviz.core import optimizers
from gdviz.core.curvature import (
    PRECONDITIONED,
    CurvatureColumns,
    replay_states,
    stability_threshold,
)
from gdviz.core.errors import ConfigError
from gdviz.core.history import RunHistory, peaks
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.gui import tasks
from gdviz.gui.views import style
from gdviz.gui.views.background import RunnerView
from gdviz.gui.views.base import LessonView, RunTrack
from gdviz.gui.views.items.rule_lines import RuleLines
from gdviz.gui.views.items.updates import set_wide_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.ranges import GrowingRange, StickyRange
from gdviz.gui.views.status_label import set_status_text

CHUNK = 2048          # steps per run and job: ~40 ms of eigenvalues for a 3-parameter problem
# fewer steps per job for many parameters (p² numbers a step): a job of a network stays
# short enough to cancel: 17 steps of 2-16-16-1 (337 parameters, Lanczos, ~35 ms a step
# on 500 samples)
JOB_NUMBERS = 2_000_000
LINE_ROOM = 4.0       # the stability line widens the y range only up to 4x the curves' extent
REDRAW_INTERVAL = 0.1  # s between redraws while the runs grow


@dataclass
class _Computed:
    """What has arrived for one run: ``table`` (n, columns) for its first n history rows, as
    they were at the history's ``generation``, the optimizer state after row n - 1 (Adam's
    replay continues from it, below the history's bound: beyond it the rows are thinned, not
    consecutive steps, and λmax(P⁻¹H) is not computed), and the running minimum and maximum
    (n, columns) of each column's finite values over the first k + 1 rows (NaN until one is
    finite)."""

    history: RunHistory
    columns: CurvatureColumns
    table: np.ndarray
    state: Any
    generation: int = 0
    low: np.ndarray | None = None
    high: np.ndarray | None = None

    def sync(self) -> None:
        """Forget the rows the history's thinning moved since they were computed."""
        if self.generation != self.history.generation:
            kept = self.history.unchanged_rows(self.generation, len(self.table))
            self.table = self.table[:kept]
            if self.low is not None:
                self.low, self.high = self.low[:kept], self.high[:kept]
            self.generation = self.history.generation

    def add(self, table: np.ndarray) -> None:
        """Append the next steps' rows (k, columns) and extend the running extremes."""
        self.table = np.concatenate([self.table, table])
        finite = np.where(np.isfinite(table), table, np.nan)
        if self.low is not None and len(self.low):
            finite = np.concatenate([self.low[-1:], finite]), np.concatenate(
                [self.high[-1:], finite])
            low = np.fmin.accumulate(finite[0], axis=0)[1:]
            high = np.fmax.accumulate(finite[1], axis=0)[1:]
        else:
            low = np.fmin.accumulate(finite, axis=0)
            high = np.fmax.accumulate(finite, axis=0)
        self.low = low if self.low is None else np.concatenate([self.low, low])
        self.high = high if self.high is None else np.concatenate([self.high, high])


class CurvatureView(RunnerView, LessonView):
    title = "Curvature"
    view_id = "curvature"
    tooltip = (
        "The extreme eigenvalues of the Hessian of the full loss after each step: the "
        "sharpness λmax (bold) and λmin (dashed; negative at a saddle), one pair per run in "
        "its colour. Grey line: where the selected run would stop being stable on a "
        "quadratic, 2/η for gradient descent, (2 + 2β)/η with heavy-ball momentum β. For "
        "Adam the line (2 + 2β₁)/((1 − β₁)·η), 38/η for β₁ = 0.9, bounds the "
        "preconditioned sharpness λmax(P⁻¹H) (dotted), P being Adam's preconditioner "
        "(1 − β₁ᵗ)·(√v̂ + ε). Computed in the background as the runs go.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Curvature", "step", "eigenvalue of the Hessian")
        self.frame = style.ViewLayout(self, self.plot)
        self.key = self.frame.add_key()
        self.key.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.plot.getPlotItem().disableAutoRange()
        self.x_range = GrowingRange(self.plot)
        self.y_range = StickyRange(self.plot, "y", fill=0.5, headroom=0.1)
        self.threshold_line = RuleLines(
            self.plot, pg.mkPen(style.START, width=2, style=Qt.PenStyle.DashDotLine),
            vertical=False, z=20)
        self.zero_line = RuleLines(self.plot, pg.mkPen((200, 200, 200), width=1),
                                   vertical=False, z=1)
        self.zero_line.set_values([0.0])
        self.sharp_curves: list[WideCurve] = []   # pools that only grow, one item per run
        self.low_curves: list[WideCurve] = []
        self.pre_curve = WideCurve(connect="finite")
        self.plot.getPlotItem().addItem(self.pre_curve)
        self.runner = tasks.TaskRunner(self)
        self.runner.sig_ready.connect(self._on_runner_ready)
        self._computed: list[_Computed | None] = []
        self._error = ""
        self._index = 0
        self._drawn_at = -np.inf                 # time.monotonic() of the last draw
        self._drawn_lengths: tuple[int, ...] = ()  # the runs' lengths then
        self._redraw = QTimer(self)
        self._redraw.setSingleShot(True)
        self._redraw.timeout.connect(lambda: self._draw(self._index))

    # -- run and tracks -----------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self.set_tracks((RunTrack(RunSpec("run", style.FULL, config), history),), 0)

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        super().set_tracks(tracks, selected)
        self.runner.cancel()
        self.x_range.reset()
        self.y_range.reset()
        self.frame.reset_heights()
        self._error = ""
        self._computed = []
        for track in self.tracks:
            try:
                columns = CurvatureColumns(self.problem, track.config.optimizer,
                                           track.config.hyperparams)
            except ConfigError as err:
                self._error = str(err)
                self._computed = []
                break
            start = optimizers.init_state(track.config.optimizer, track.config.start_point(),
                                          track.config.hyperparams)
            self._computed.append(_Computed(track.history, columns,
                                            np.zeros((0, len(columns.names))), start,
                                            track.history.generation))
        self._style_tracks()
        if self.history is not None and len(self.history):
            self.show_step(self._index)

    def _style_tracks(self) -> None:
        p = self.plot.getPlotItem()
        while len(self.sharp_curves) < len(self.tracks):
            for pool in (self.sharp_curves, self.low_curves):
                item = WideCurve(connect="finite")
                p.addItem(item)
                pool.append(item)
        several = len(self.tracks) > 1
        for k, (sharp, low) in enumerate(zip(self.sharp_curves, self.low_curves)):
            if k < len(self.tracks):
                color = self.tracks[k].color
                chosen = k == self.selected_track
                sharp.setPen(pg.mkPen(color, width=3 if chosen or not several else 2))
                low.setPen(pg.mkPen(color, width=1))
                sharp.setZValue(11 if chosen else 10)
            else:
                sharp.setData([], [])
                low.setData([], [])
            sharp.setVisible(k < len(self.tracks))
            low.setVisible(k < len(self.tracks) and self.problem.n_params > 1)
        chosen = self.tracks[self.selected_track]
        self.pre_curve.setPen(pg.mkPen(chosen.color, width=2, style=Qt.PenStyle.DotLine))
        entries = ([("line", t.color, t.name) for t in self.tracks] if several
                   else [("line", chosen.color, "λmax (sharpness)")])
        if self.problem.n_params > 1:
            entries.append(("line", style.TEXT, "thin: λmin"))
        if self._has_preconditioned():
            entries.append(("dot", chosen.color, "λmax(P⁻¹H), selected run"))
        threshold = self._threshold(0)
        if threshold is not None:
            entries.append(("dash", style.START, f"stable below {threshold.formula}"))
        self.key.set_entries(entries)
        self.frame.set_title("Curvature: the Hessian's extreme eigenvalues against step")

    def _has_preconditioned(self) -> bool:
        done = self._computed[self.selected_track] if self._computed else None
        return done is not None and PRECONDITIONED in done.columns.names

    def _threshold(self, k: int):
        """The selected run's stability threshold at its history index ``k`` (its lr then)."""
        track = self.tracks[self.selected_track]
        lrs = track.history.lrs
        lr = float(lrs[min(k, len(lrs) - 1)]) if len(lrs) else track.config.lr
        return stability_threshold(track.config.optimizer, lr, track.config.hyperparams)

    # -- the background work ----------------------------------------------------------------
    def _sync(self) -> None:
        for done in self._computed:
            done.sync()

    def _missing(self) -> bool:
        self._sync()
        return any(c is not None and len(c.table) < len(c.history) for c in self._computed)

    def _request_more(self) -> None:
        """Ask for the next chunk of every run that has steps without columns (one job at a
        time; the arrays handed over are copies, so nothing mutable crosses threads). A view
        behind another tab computes nothing (it is drawn, and asks, when it comes to the
        front)."""
        if self.runner.busy or not self._missing() or not self.isVisible():
            return
        work = []
        chunk = max(16, min(CHUNK, JOB_NUMBERS // self.problem.n_params ** 2))
        for k, done in enumerate(self._computed):
            lo, hi = len(done.table), min(len(done.history), len(done.table) + chunk)
            h = done.history
            bound = h.thinning.bound
            if lo < bound:
                hi = min(hi, bound)   # a chunk never crosses the bound (replay stops there)
            if lo >= hi:
                continue
            params = np.array(h.params[lo:hi])
            replay = None
            if done.columns.needs_states and lo >= bound:
                replay = ()   # thinned rows: no state to replay (λmax(P⁻¹H) left out)
            elif done.columns.needs_states:
                first = max(lo, 1)   # step 0's state is the initial one
                replay = (np.array(h.params[first - 1:hi - 1]), np.array(h.grads[first:hi]),
                          np.array(h.lrs[first:hi]), lo == 0)
            work.append((k, lo, done.history, done.columns, done.state, params, replay,
                         self.tracks[k].config, h.generation))
        self.runner.request(tuple(id(w[2]) for w in work), _chunk_job(tuple(work)))

    def _on_runner_ready(self, key, result) -> None:
        if isinstance(result, Exception):
            self._error = f"could not compute the curvature: {result}"
        else:
            for k, lo, history, table, state, generation in result:
                done = self._computed[k] if k < len(self._computed) else None
                if done is not None:
                    done.sync()
                if done is None or done.history is not history or len(done.table) != lo \
                        or history.unchanged_rows(generation, lo + len(table)) < lo + len(table):
                    continue   # the runs changed (or were thinned) since the request
                done.add(table)
                done.state = state
        self._draw_soon()

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Wait (without running the event loop) until every step has its columns."""
        import time

        deadline = time.monotonic() + timeout_ms / 1000
        while self._missing() and not self._error:
            self._request_more()
            left = int((deadline - time.monotonic()) * 1000)
            if not self.runner.busy or left <= 0 or not self.runner.wait(left):
                break
        self._draw(self._index)
        return not self._missing()

    # -- drawing ------------------------------------------------------------------------------
    def show_step(self, index: int) -> None:
        """Draw step ``index``, or at most REDRAW_INTERVAL s after the last draw while the
        runs grow (a timer draws the newest index then)."""
        if self.history is None or not self.tracks:
            return
        self._index = int(np.clip(index, 0, max(0, self.newest_step())))
        lengths = tuple(t.history.last_step for t in self.tracks)
        wait = self._drawn_at + REDRAW_INTERVAL - time.monotonic()
        if lengths != self._drawn_lengths and wait > 0 and not self._error:
            self._draw_soon()
            return
        self._draw(self._index)

    def _draw_soon(self) -> None:
        """Draw now if the last draw is REDRAW_INTERVAL s old, else when it is (eigenvalues
        that arrive while the runs grow would otherwise add draws between the refreshes)."""
        wait = self._drawn_at + REDRAW_INTERVAL - time.monotonic()
        if wait <= 0:
            self._draw(self._index)
            return
        if not self._redraw.isActive():
            self._redraw.start(int(wait * 1000) + 1)
        self._request_more()

    def _draw(self, index: int) -> None:
        self._redraw.stop()
        if self.history is None or not self.tracks:
            return
        index = int(np.clip(index, 0, max(0, self.newest_step())))
        self._index = index
        self._sync()
        self._drawn_at = time.monotonic()
        self._drawn_lengths = tuple(t.history.last_step for t in self.tracks)
        if self._error:
            for item in (*self.sharp_curves, *self.low_curves, self.pre_curve):
                item.setData([], [])
            self.threshold_line.set_values([])
            set_status_text(self.frame.status, self._error)
            return
        bins = style.columns(self.plot)
        lows, highs = [], []
        chosen_n = 0
        for k, (track, done) in enumerate(zip(self.tracks, self._computed)):
            n = min(self.track_index(track, index) + 1, len(done.table))
            steps = track.history.steps[:n]
            keep = peaks(done.table[:n, 0], bins) if n else np.zeros(0, dtype=np.int64)
            set_wide_curve(self.sharp_curves[k], steps[keep], done.table[keep, 0])
            keep_low = peaks(done.table[:n, 1], bins) if n else keep
            set_wide_curve(self.low_curves[k], steps[keep_low], done.table[keep_low, 1])
            if n:
                shown = 3 if k == self.selected_track and done.columns.needs_states else 2
                lows.extend(done.low[n - 1, :shown])
                highs.extend(done.high[n - 1, :shown])
            if k == self.selected_track:
                chosen_n = n
                if done.columns.needs_states and n:
                    keep = peaks(done.table[:n, 2], bins)
                    set_wide_curve(self.pre_curve, steps[keep], done.table[keep, 2])
                else:
                    self.pre_curve.setData([], [])
        k_sel = self.track_index(self.tracks[self.selected_track], index)
        threshold = self._threshold(k_sel)
        lows = [v for v in lows if np.isfinite(v)]
        highs = [v for v in highs if np.isfinite(v)]
        notes = self._status_words(k_sel, chosen_n, threshold)
        if lows:
            lo, hi = float(min(min(lows), 0.0)), float(max(max(highs), 0.0))
            if threshold is not None and np.isfinite(threshold.value):
                span = max(hi - lo, 1e-12)
                if lo - LINE_ROOM * span <= threshold.value <= hi + LINE_ROOM * span:
                    lo, hi = min(lo, threshold.value), max(hi, threshold.value)
                    self.threshold_line.set_values([threshold.value])
                else:
                    self.threshold_line.set_values([])
                    notes.append(f"the line {threshold.formula} = "
                                 f"{style.fmt(threshold.value)} is off the plot")
            self.y_range.fit(lo, hi, pad=0.05)
            x_hi = max(1.0, float(max(t.history.steps[min(self.track_index(t, index),
                                                            len(t.history) - 1)]
                                      for t in self.tracks)))
            cap = max(t.config.step_limit() for t in self.tracks)
            self.x_range.fit(0.0, x_hi, cap)
        set_status_text(self.frame.status, " · ".join(notes))
        self._request_more()

    def _status_words(self, k: int, n: int, threshold) -> list[str]:
        done = self._computed[self.selected_track]
        words = [f"step {int(done.history.steps[k])}"]
        if n <= k:
            words.append("computing…")
        if n > 0:
            row = done.table[min(k, n - 1)]
            words.append(f"λmax {style.fmt(row[0])} · λmin {style.fmt(row[1])}")
            if done.columns.needs_states:
                words.append(f"λmax(P⁻¹H) {style.fmt(row[2])}")
        if threshold is not None:
            words.append(f"{threshold.formula} = {style.fmt(threshold.value)}")
        return words


def _chunk_job(work: tuple) -> Any:
    """The job of one request: for each (k, lo, history, columns, state, params, replay,
    config) the columns of the steps lo..lo + len(params) and the state after the last.
    Reads only the copies it was given; gives up between runs when asked to stop."""

    def job(should_stop):
        out = []
        for k, lo, history, columns, state, params, replay, config, generation in work:
            if should_stop():
                return None
            states = None
            if replay == ():
                states = [{}] * len(params)
            elif replay is not None:
                before, grads, lrs, from_start = replay
                states = replay_states(config.optimizer, config.hyperparams, state, before,
                                       grads, lrs)
                if from_start:
                    states = [state, *states]
                state = states[-1]
            out.append((k, lo, history, columns.table(params, states), state, generation))
        return out

    return job
