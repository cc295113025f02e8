"""The Quadratic theory view: for the selected run on a quadratic loss, the error along each
eigen-direction of the Hessian against step on a log axis, measured (solid, from the run's
parameters) and predicted (dashed, darker, on top: from the eigenvalues alone,
core.quadratic_theory), with the
predicted and measured contraction rates as a readout. On a loss that is not quadratic it says
so instead of drawing.

|eᵢ| = |vᵢ·(θ − θ*)| is drawn as log10 (the axis labels 10ˣ); an exact zero, a value below the
rounding floor of θ* and a diverged (non-finite) value are gaps. Each series is decimated to
its envelope (``peaks``, one bin per pixel column); the prediction is read at the same
steps from a table of every step's prediction that grows with the run
(core.quadratic_theory.PredictionTable: 2.0 ms a refresh for 20 000 steps of linreg, where
evaluating the matrix powers at the shown steps took 18 ms). The measured errors of the steps
already seen are kept too, so a refresh projects only the new steps.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gdviz.core.history import RunHistory, peaks
from gdviz.core.quadratic_theory import PredictionTable, RunTheory, measured_rate
from gdviz.gui.views import style
from gdviz.gui.views.items.log_axis import LogAxis
from gdviz.gui.views.items.updates import set_wide_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.ranges import GrowingRange, StickyRange
from gdviz.gui.views.status_label import set_status_text
from gdviz.gui.views.theory_parts import QuadraticTheoryBase

MAX_DIRECTIONS = len(style.PARAM_COLORS)   # more are shown as the smallest and largest λ


def shown_directions(p: int) -> np.ndarray:
    """Indices (≤ MAX_DIRECTIONS,) of the eigen-directions drawn, of p ascending eigenvalues:
    all, or the smallest and the largest half each."""
    if p <= MAX_DIRECTIONS:
        return np.arange(p)
    half = MAX_DIRECTIONS // 2
    return np.concatenate([np.arange(half), np.arange(p - (MAX_DIRECTIONS - half), p)])


MIN_DECADES = 2.5   # the log axis spans at least this many powers of ten


class QuadraticTheoryView(QuadraticTheoryBase):
    title = "Quadratic theory"
    view_id = "theory"
    follows_selected_run = True
    tooltip = (
        "On a quadratic loss (bowl, linreg, slope, quadratic, booth, matyas, saddle, a formula "
        "quadratic in its parameters) every eigen-direction of the Hessian moves on its own: "
        "the error along it shrinks by a fixed factor per step, |1 − ηλ| for gradient descent "
        "and the spectral radius of a 2×2 matrix with momentum. Solid: the selected run's "
        "error along each direction; dashed: the prediction from the eigenvalues alone "
        "(full-batch steps). The readout gives the predicted and the measured rate.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Quadratic theory", "step", "|error|",
                                    axis_items={"left": LogAxis("left")})
        self.plot.getPlotItem().setLogMode(False, True)
        self.frame = style.ViewLayout(self, self.plot)
        self.key = self.frame.add_key()
        self.key.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.plot.getPlotItem().disableAutoRange()
        self.x_range = GrowingRange(self.plot)
        self.y_range = StickyRange(self.plot, "y", fill=0.5, headroom=0.1)
        self.measured_curves: list[WideCurve] = []    # one per direction, pools that only grow
        self.predicted_curves: list[pg.PlotCurveItem] = []
        self._errors = np.zeros((0, 0))               # measured errors of the selected run
        self._errors_of: tuple[int, int] | None = None    # (id of history, id of theory)
        self._predictions: PredictionTable | None = None   # of the selected run's theory
        self._rate: tuple[int, float | None] = (-1, None)  # (steps measured, measured rate)
        self._index = 0

    # -- runs ------------------------------------------------------------------------------
    def _theories_changed(self) -> None:
        self.x_range.reset()
        self.y_range.reset()
        self.frame.reset_heights()
        self._errors_of = None
        self._rate = (-1, None)
        theory = self.selected_theory()
        p = theory.quadratic.eigenvalues.size if isinstance(theory, RunTheory) else 0
        directions = shown_directions(p)
        plot = self.plot.getPlotItem()
        while len(self.measured_curves) < len(directions):
            k = len(self.measured_curves)
            color = style.PARAM_COLORS[k % len(style.PARAM_COLORS)]
            # the prediction is a thin dashed line in a darker shade ON the measured line
            # (where they agree, to rounding, a dashed line of the same colour disappeared)
            measured = WideCurve(connect="finite", pen=pg.mkPen(color, width=3))
            predicted = pg.PlotCurveItem(connect="finite", pen=pg.mkPen(
                style.qcolor(color).darker(220), width=1, style=Qt.PenStyle.DashLine))
            predicted.setZValue(5)
            plot.addItem(measured)
            plot.addItem(predicted)
            self.measured_curves.append(measured)
            self.predicted_curves.append(predicted)
        for k, (measured, predicted) in enumerate(zip(self.measured_curves,
                                                      self.predicted_curves)):
            if k >= len(directions):
                measured.setData([], [])
                predicted.setData([], [])
            measured.setVisible(k < len(directions))
            predicted.setVisible(k < len(directions))
        entries = [("line", style.TEXT, "measured"), ("dash", style.TEXT, "predicted")]
        if isinstance(theory, RunTheory):
            lam = theory.quadratic.eigenvalues
            entries += [("line", style.PARAM_COLORS[k % len(style.PARAM_COLORS)],
                         f"λ{i + 1} = {style.fmt(lam[i])}") for k, i in enumerate(directions)]
        self.key.set_entries(entries)
        self.frame.set_title("Error along each eigen-direction")
        if self.history is not None and self.tracks:
            self.show_step(self._index)

    def _measured_errors(self, track, theory: RunTheory, n: int) -> np.ndarray:
        """The errors (n, p) of the selected run's first n steps (new steps projected only)."""
        history: RunHistory = track.history
        key = (id(history), id(theory))
        if self._errors_of != key or len(self._errors) > len(history):
            self._errors_of = key
            self._errors = np.zeros((0, theory.quadratic.eigenvalues.size))
            self._predictions = theory.prediction_table()
        have = len(self._errors)
        if n > have:
            with np.errstate(all="ignore"):
                new = theory.quadratic.errors(np.asarray(history.params[have:n]))
            self._errors = np.concatenate([self._errors, new])
        return self._errors[:n]

    # -- drawing ------------------------------------------------------------------------------
    def _clear(self, message: str) -> None:
        for item in (*self.measured_curves, *self.predicted_curves):
            item.setData([], [])
        set_status_text(self.frame.status, message)

    def show_step(self, index: int) -> None:
        if self.history is None or not self.tracks:
            return
        index = int(np.clip(index, 0, max(0, self.newest_step())))
        self._index = index
        track = self.tracks[self.selected_track]
        k = self.track_index(track, index)   # the row of the step shown
        step = int(track.history.steps[k]) if len(track.history) else 0
        theory = self.selected_theory()
        if self.waiting or theory is None:
            self._clear(f"step {step} · deriving the formula's second derivatives…")
            return
        if isinstance(theory, str):
            self._clear(f"step {step} · Nothing to draw: {theory}.")
            return
        n = k + 1
        errors = self._measured_errors(track, theory, n)
        steps = np.asarray(track.history.steps[:n])
        floor = max(theory.quadratic.error_floor, np.finfo(float).tiny)
        with np.errstate(all="ignore"):
            magnitude = np.abs(errors)
            logs = np.where(np.isfinite(magnitude) & (magnitude > floor),
                            np.log10(magnitude), np.nan)
        bins = style.columns(self.plot)
        directions = shown_directions(errors.shape[1])
        predicted = None if self._predictions is None else \
            self._predictions.errors(int(steps[-1]) + 1)
        shown = []
        for j, i in enumerate(directions):
            keep = peaks(logs[:, i], bins)
            set_wide_curve(self.measured_curves[j], steps[keep], logs[keep, i])
            shown.append(logs[keep, i])
            if predicted is None:
                self.predicted_curves[j].setData([], [])
                continue
            with np.errstate(all="ignore"):
                value = np.abs(predicted[steps[keep], i])
                log_pred = np.where(np.isfinite(value) & (value > floor), np.log10(value),
                                    np.nan)
            self.predicted_curves[j].setData(steps[keep], log_pred)
            shown.append(log_pred)
        values = np.concatenate([s.ravel() for s in shown])
        values = values[np.isfinite(values)]
        if values.size:   # at least MIN_DECADES tall: on fewer, pyqtgraph labels every
            top = float(values.max())   # minor tick and the labels overlap (0.9 0.8 … 0.02)
            self.y_range.fit(min(float(values.min()), top - MIN_DECADES), top, pad=0.05)
        cap = max(t.config.step_limit() for t in self.tracks)
        self.x_range.fit(0.0, max(1.0, float(steps[-1])), cap)
        set_status_text(self.frame.status, " · ".join(self._status_words(theory, errors, step)))

    def _status_words(self, theory: RunTheory, errors: np.ndarray, step: int) -> list[str]:
        words = [f"step {step}"]
        if self._rate[0] != len(errors):
            self._rate = (len(errors), measured_rate(errors, theory.quadratic))
        measured = self._rate[1]
        if theory.rate is None:
            words.append(theory.dynamics)
        else:
            words.append(f"predicted rate {style.fmt(theory.rate)} per step "
                         f"({theory.dynamics.name})")
        words.append("measured " + ("—" if measured is None else style.fmt(measured)))
        kappa = theory.quadratic.condition_number
        if np.isfinite(kappa):
            words.append(f"κ = {style.fmt(kappa)}")
        config = self.tracks[self.selected_track].config
        if config.effective_batch_size() < self.problem.n_samples:
            words.append("predicted for full-batch steps: this run's batches scatter around it")
        return words
