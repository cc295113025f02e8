"""The lesson's central picture: every sample's own loss curve, and the step taken on them.

One faint curve ℓᵢ per sample (all in ONE item, NaN-separated; at most ``CURVE_CAP`` drawn), the
mean of all of them in bold (the full loss on the per-sample scale), the current batch's curves
in violet with the current point on each, the update arrows, the tangent of the batch loss at
the current point, and a dashed line at the start value.

With several parameters this is a 1-D slice along the chosen parameter, the others held at
their values *before* the step (the partial-derivative picture): the arrow runs along the slice
to the new value of the chosen parameter. The points are where the step's gradient was taken.

With more than two parameters (a network) the line may instead run along a landscape
direction through the weights before the step: a random direction, filter-normalised at those
weights with biases zeroed (core.landscape, seed 0: the Landscape view's direction 1 or 2
through those weights). The x axis is t, the offset along the direction in its
units (0 = the weights before the step); the arrow runs to the step's own component along it,
t = d·Δθ / d·d, and the tangent's slope is the directional derivative ∇ℓ·d.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QWidget

from gdviz.core.grids import grid_work
from gdviz.core.history import RunHistory
from gdviz.core.landscape import DEFAULT_SPAN, DIRECTION_NAMES, DIRECTION_SEED, random_directions
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.surfaces import (
    SliceCache,
    covers_all,
    evenly_chosen,
    line_curves,
    mean_slope,
    nan_separated,
    sample_curves,
)
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView
from gdviz.gui.views.items.arrows import ArrowPool
from gdviz.gui.views.items.caching import cache_as_pixmap
from gdviz.gui.views.items.dots import Dots
from gdviz.gui.views.items.updates import set_antialias, set_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.ranges import StickyRange
from gdviz.gui.views.status_label import set_status_text

CURVE_CAP = 300      # faint sample curves drawn at most (one parameter: set once per run)
SLICE_CURVE_CAP = 150    # ... with several parameters, whose slice is stroked anew as it moves
BATCH_CAP = 100      # highlighted batch curves / points drawn at most
ARROW_CAP = 10       # per-sample arrows; larger batches get one arrow on the batch mean
RESOLUTION = 200     # points per curve: one parameter (its curves are set once per run)
SLICE_RESOLUTION = 100   # several parameters: the slice moves with the held values, and a new
                     # one is stroked into the pixmap cache (300 linreg curves: 30-40 ms at
                     # 200 points, a visible hitch; these curves are smooth at 100)
THICK_BATCH = 3      # batch curves drawn 1.6 px wide up to this many, else 1 px: Qt strokes
                     # 1 px lines on a fast path (measured: 10 linreg curves 9 ms -> 0.3 ms)
HELD_STEPS = 1000    # several parameters: the faint curves and the mean are drawn with the
                     # held values rounded to 1/HELD_STEPS of their view range (held_for_slice)
DIRECTIONS = DIRECTION_NAMES   # offered beyond 2 parameters (core.landscape)
COSTLY_SLICE = 2e6       # a slice of more work (grids.grid_work: points × samples ×
                         # parameters; mlp_spiral 1e7, 5-16 ms, needed on every frame since
                         # Adam moves all 104 held values; every lesson ≤ 4e5) has
COSTLY_SLICE_RESOLUTION = 50     # half the points (a network's curves are smooth), and is
SLOW_SLICE_PERIOD_S = 0.25   # replaced at most every max(SLOW_SLICE_PERIOD_S, its time /
SLICE_DUTY = 0.25        # SLICE_DUTY) seconds and SLOW_SLICE_FRAMES draws (under load, when
SLOW_SLICE_FRAMES = 4    # the window drew 3 frames a second, a period alone kept nothing);
TRAILING_MS = 300        # once the draws stop for TRAILING_MS, the shown step gets its own


class SampleCurvesView(LessonView):
    follows_selected_run = True
    title = "Per-sample losses"
    view_id = "samples"
    tooltip = (
        "Every training sample i has its own loss curve ℓᵢ (faint). Bold black: their mean, the "
        "full loss (for summed losses: full loss / n). Violet: the current batch's curves, the "
        "point where the step's gradient was taken, and the update arrow to the new value. "
        "Dotted: the tangent of the batch loss, whose slope is the gradient. Grey dashed: the "
        "start value.\nWith several parameters the curves are slices along the chosen "
        "parameter; the others are held at their values before the step. Beyond two "
        "parameters they may run along a random direction instead (filter-normalised at the "
        "weights before the step, biases zeroed: the Landscape view's), t = 0 at those weights.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.cache = SliceCache()
        self.plot = style.make_plot("Per-sample losses", "parameter", "loss")
        self.frame = style.ViewLayout(
            self, self.plot, with_combo=True,
            combo_tip="The parameter along which the curves are drawn (others held), or a "
                      "random direction through the weights (networks).")
        self.combo = self.frame.combo
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.zoom_box = QCheckBox("zoom on the step")
        self.zoom_box.setToolTip("Show a small window around the current point, a few times "
                                 "the step's length, so short steps and the tangent are visible.")
        self.zoom_box.toggled.connect(self._on_zoom_box_toggled)
        self.frame.bar.insertWidget(2, self.zoom_box)
        self.key = self.frame.add_key()
        p = self.plot.getPlotItem()

        self.curves = pg.PlotDataItem([], [], pen=style.sample_pen(100), connect="finite",
                                      name="per-sample loss ℓᵢ")
        self.mean_curve = pg.PlotDataItem([], [], pen=style.FULL_PEN, name="mean loss")
        # set on every frame: PlotCurveItems (WideCurve), ~150 µs cheaper a set than a
        # PlotDataItem
        self.batch_curves = WideCurve(pen=pg.mkPen(style.BATCH, width=1.6), connect="finite",
                                      name="current batch")
        self.batch_mean = pg.PlotDataItem(
            [], [], pen=pg.mkPen(style.BATCH, width=2.5, style=Qt.PenStyle.DashLine),
            name="batch mean")
        self.tangent = WideCurve(pen=pg.mkPen("k", width=1.8, style=Qt.PenStyle.DotLine),
                                 name="tangent")
        self.start_line = pg.InfiniteLine(angle=90, pen=style.START_PEN, label="start",
                                          labelOpts={"position": 0.95, "color": style.START})
        # at most BATCH_CAP markers, drawn by Qt (dots.Dots), not by a scatter's Python paint
        self.batch_points = Dots("o", size=8, pen=pg.mkPen("w"), brush=pg.mkBrush(style.BATCH))
        self.mean_point = Dots("o", size=10, pen=pg.mkPen("w"), brush=pg.mkBrush(style.FULL))
        for z, item in enumerate((self.curves, self.mean_curve, self.batch_curves,
                                  self.batch_mean, self.tangent)):
            item.setZValue(z)
            p.addItem(item)
        p.addItem(self.start_line, ignoreBounds=True)
        for item in (self.batch_points, self.mean_point):
            item.setZValue(30)
            p.addItem(item)
        self.arrows = ArrowPool(p, style.BATCH, capacity=ARROW_CAP, name="update")
        self.note = pg.TextItem("", color=style.TEXT, anchor=(0.5, 0.5))
        self.note.setVisible(False)
        p.addItem(self.note, ignoreBounds=True)
        self.y_range = StickyRange(self.plot, "y")
        self.param_index = 0
        self._index = 0
        self._drawn = np.zeros(0, dtype=np.int64)
        self._slice_shown = None   # the SliceCurves the faint curves and the mean now show
        self._slice_axis = None    # (parameter, lo, hi, points) of the shown slice
        self._slice_due = 0.0      # time.monotonic() before which a costly slice is kept
        self._slice_kept = 0       # draws that kept it
        self._slice_forced = False  # the next draw computes its own slice (trailing redraw)
        self._trailing = QTimer(self)    # redraws the step once a kept slice may be replaced
        self._trailing.setSingleShot(True)
        self._trailing.timeout.connect(self._on_trailing_timeout)
        self._slice_extent = 1.0   # its loss extent

    # -- run ------------------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self.frame.reset_heights()
        self.param_index = style.fill_param_combo(self.combo, self._axis_names(problem),
                                                  self.param_index)
        self.frame.show_combo(problem.n_params > 1)
        n = problem.n_samples
        self._drawn = evenly_chosen(n, CURVE_CAP if problem.n_params == 1 else SLICE_CURVE_CAP)
        self.curves.setPen(style.sample_pen(len(self._drawn)))
        k = min(config.effective_batch_size(), BATCH_CAP)
        self.batch_curves.setPen(pg.mkPen(style.BATCH, width=1.6 if k <= THICK_BATCH else 1))
        # The faint curves and the mean change only with the slice: never during a run with
        # one parameter, and rarely with several (see held_for_slice), so Qt keeps them as
        # pixmaps instead of stroking up to 300 curves on every frame. Several parameters,
        # above 100 curves: no antialiasing (a haze of lines at 1/6 opacity looks the same,
        # and a new slice costs 40 % less to draw: 5 -> 3 ms for 300 curves).
        for item in (self.curves, self.mean_curve):
            cache_as_pixmap(item)
        smooth = problem.n_params == 1 or len(self._drawn) <= 100
        set_antialias(self.curves, smooth)
        many = n > 1
        for item in (self.curves, self.batch_curves, self.batch_points):
            item.setVisible(many)
        self._rebuild_key(config)
        self.y_range.reset()
        if problem.loss_range is not None:
            self.y_range.set(*problem.loss_range)
        self._slice_shown = None
        self._trailing.stop()
        self._set_axes()
        self._index = 0
        if len(history):
            self.show_step(0)

    def _rebuild_key(self, config: RunConfig) -> None:
        problem = self.problem
        n = problem.n_samples
        k = config.effective_batch_size()
        scale = "full loss" if problem.reduction == "mean" else "full loss / n"
        entries = [("line", style.FULL,
                    "the function f" if n == 1 else f"mean of all {n} = {scale}")]
        if n > 1:
            drawn = "" if len(self._drawn) == n else f" ({len(self._drawn)} of {n} drawn)"
            entries.insert(0, ("line", style.hex_color(style.SAMPLE),
                               f"per-sample loss ℓᵢ{drawn}"))
            if k < n:
                entries.append(("line", style.BATCH, "current batch" if k > 1 else
                                "current sample"))
            if 1 < k < n:
                entries.append(("dash", style.BATCH, "batch mean"))
        entries.append(("dot", "#000000", "tangent (slope = gradient)"))
        entries.append(("arrow", style.BATCH, "update step"))
        self.key.set_entries(entries)

    @staticmethod
    def _axis_names(problem: Problem) -> tuple[str, ...]:
        """The combo's choices: every parameter, then (beyond two) the random directions."""
        extra = DIRECTIONS if problem.n_params > 2 else ()
        return (*problem.param_names, *extra)

    def direction(self, params: np.ndarray) -> np.ndarray | None:
        """The chosen random direction (p,) through ``params`` (filter-normalised there,
        biases zeroed), or None when the combo holds a parameter."""
        k = self.param_index - self.problem.n_params
        if k < 0:
            return None
        return random_directions(self.problem, params, DIRECTION_SEED)[k]

    def _set_axes(self) -> None:
        names = self.problem.param_names
        many = self.problem.n_samples > 1
        if self.param_index >= len(names):
            name = DIRECTIONS[self.param_index - len(names)]
            self.plot.setLabel("bottom", f"t along {name} (0: before the step)")
            self.plot.setLabel("left", "loss ℓᵢ" if many else "f")
            self.frame.set_title(f"{'Loss' if many else 'f'} along {name} (filter-normalised, "
                                 "biases zeroed)")
            return
        name = names[self.param_index]
        self.plot.setLabel("bottom", f"parameter {name}")
        self.plot.setLabel("left", "loss ℓᵢ" if many else "f")
        others = style.listing(v for v in names if v != name)
        if len(names) == 1:
            title = f"Per-sample losses ℓᵢ({name})" if many else f"f({name})"
        elif many:
            title = f"Loss along {name} ({others} held)"
        else:
            title = f"f along {name} ({others} held)"
        self.frame.set_title(title)

    def _on_combo_changed(self, index: int) -> None:
        if index < 0 or self.problem is None:
            return
        self.param_index = index
        self._set_axes()
        self.show_step(self._index)

    def _on_zoom_box_toggled(self, _checked: bool) -> None:
        if self.problem is not None:
            self.show_step(self._index)

    # -- drawing --------------------------------------------------------------------------
    def _x_range(self, w_before: float, w_after: float) -> tuple[float, float]:
        """The slice's extent: the problem's view range (a direction: [-1, 1] in its units)
        grown to hold both points, or with zoom a window around the step a few times its
        length."""
        if self.param_index >= self.problem.n_params:
            lo, hi = -DEFAULT_SPAN, DEFAULT_SPAN
        else:
            lo, hi = (float(v) for v in self.problem.view_range[self.param_index])
        width = hi - lo
        if self.zoom_box.isChecked():
            half = max(4.0 * abs(w_after - w_before), 0.005 * width)
            return w_before - half, w_before + half
        for w in (w_before, w_after):
            if np.isfinite(w) and not lo <= w <= hi:
                lo, hi = min(lo, w - 0.05 * width), max(hi, w + 0.05 * width)
        return lo, hi

    def show_step(self, index: int) -> None:
        h, problem = self.history, self.problem
        if h is None or problem is None or len(h) == 0:
            return
        self._index = index
        index = h.row_at(index)   # its row (of a thinned step, the nearest kept one)
        step = int(h.steps[index])
        j = self.param_index
        before = np.array(h.params_before(index), dtype=np.float64)
        after = np.array(h.params[index], dtype=np.float64)
        if not (np.all(np.isfinite(before)) and np.all(np.isfinite(after))):
            self._show_message(f"step {step}: the parameters are no longer finite "
                               "(the run diverged)")
            return
        self.note.setVisible(False)
        batch = h.batch_at(index)
        n = problem.n_samples
        full_batch = index == 0 or covers_all(batch, n)
        d = self.direction(before)
        if d is not None and not np.any(d):
            self._show_message(f"step {index}: the weights are all 0, so a filter-normalised "
                               "direction is 0 too (it is scaled to them)")
            return
        points = RESOLUTION if problem.n_params == 1 else SLICE_RESOLUTION
        if d is None:   # along parameter j: x is its value
            x_before, x_after = float(before[j]), float(after[j])
            lo, hi = self._x_range(x_before, x_after)
            held = before if self.zoom_box.isChecked() else held_for_slice(problem, before, j)
            costly = problem.n_params > 1 and grid_work(problem, points) > COSTLY_SLICE
            if costly:
                points = COSTLY_SLICE_RESOLUTION
            sl = self._slice(problem, j, held, lo, hi, points, costly)
            # the arrow runs along the slice: parameter j moves, the others stay as before
            moved = before.copy()
            moved[j] = after[j]
            self.start_line.setValue(float(h.params[0][j]))
        else:           # along direction d through the weights before the step: x is t
            x_before = 0.0
            with np.errstate(all="ignore"):
                x_after = float(d @ (after - before) / (d @ d))   # the step's component
            lo, hi = self._x_range(x_before, x_after)
            sl = self.cache.get_line(problem, before, d, lo, hi, points, self._drawn)
            moved = before + x_after * d
        self.start_line.setVisible(d is None)
        x = sl.values
        new_slice = sl is not self._slice_shown
        if new_slice:   # one parameter: the same slice for the whole run, set once
            self.curves.setData(*nan_separated(x, sl.curves))
            self.mean_curve.setData(x, sl.mean)
            self._slice_shown = sl

        def curves_of(idx: np.ndarray) -> np.ndarray:
            """(k, m) the losses of samples ``idx`` along the drawn line, exact weights."""
            if d is None:
                return sample_curves(problem, before, j, x, idx)
            return line_curves(problem, before, d, x, idx)

        with np.errstate(all="ignore"):
            at_before = problem.sample_losses(before)          # (n,)
            at_moved = problem.sample_losses(moved)            # (n,)
        mean_y = float(np.mean(at_before))
        self.mean_point.set_points([x_before], [mean_y])
        ys = [sl.mean, [mean_y]]          # what a zoomed y range must hold

        shown = batch if not full_batch else np.zeros(0, dtype=np.int64)
        hl = shown[evenly_chosen(len(shown), BATCH_CAP)]
        if len(hl):
            batch_curves = curves_of(hl)
            set_curve(self.batch_curves, *nan_separated(x, batch_curves))
            self.batch_points.set_points(np.full(len(hl), x_before), at_before[hl])
            ys += [batch_curves.ravel(), at_before[hl]]
        else:
            set_curve(self.batch_curves, [], [])
            self.batch_points.clear()
        if len(shown) > 1:
            every = batch_curves if len(hl) == len(shown) else curves_of(shown)
            set_curve(self.batch_mean, x, every.mean(axis=0))
        else:
            set_curve(self.batch_mean, [], [])
        self.batch_mean.setVisible(len(shown) > 1)

        # arrows: one per batch sample when few, else one on the batch mean (or the mean)
        if index == 0:
            self.arrows.clear()
        elif 0 < len(shown) <= ARROW_CAP:
            k = len(shown)
            self.arrows.set_arrows(np.full(k, x_before), at_before[shown],
                                   np.full(k, x_after), at_moved[shown])
            ys.append(at_moved[shown])
        else:
            idx = shown if len(shown) else np.arange(n)
            self.arrows.set_arrows([x_before], [at_before[idx].mean()],
                                   [x_after], [at_moved[idx].mean()])
            ys.append([at_moved[idx].mean()])

        tangent_idx = shown if len(shown) else None
        y0 = float(at_before[tangent_idx].mean()) if tangent_idx is not None else mean_y
        if d is None:
            slope = mean_slope(problem, before, j, tangent_idx)
        else:           # the directional derivative ∇ℓ·d, averaged over the batch
            with np.errstate(all="ignore"):
                slope = float((problem.sample_grads(before, tangent_idx) @ d).mean())
        half = (0.3 if self.zoom_box.isChecked() else 0.08) * (hi - lo)
        tx = np.array([x_before - half, x_before + half])
        self.tangent.setData(tx, y0 + slope * (tx - x_before))

        if self.plot.getViewBox().viewRange()[0] != [lo, hi]:  # setXRange costs even unchanged
            self.plot.setXRange(lo, hi, padding=0)
        if self.zoom_box.isChecked():
            self._fit_y(np.concatenate([np.ravel(v) for v in ys]))
        elif new_slice:
            self._set_y_range(sl.curves, sl.mean)
        set_status_text(self.frame.status, self._status_text(index, batch, full_batch, before,
                                                             slope, x_after if d is not None
                                                             else None))

    def _slice(self, problem: Problem, j: int, held: np.ndarray, lo: float, hi: float,
               points: int, costly: bool):
        """The faint curves' slice through ``held``: the cached or newly computed one, or,
        for a ``costly`` one (see COSTLY_SLICE) younger than its period and its frames, the
        one shown (same parameter and extent) and a redraw TRAILING_MS after the last."""
        axis = (j, lo, hi, points)
        now = time.monotonic()
        if (costly and not self._slice_forced and self._slice_shown is not None
                and axis == self._slice_axis
                and (now < self._slice_due or self._slice_kept < SLOW_SLICE_FRAMES)):
            self._slice_kept += 1
            self._trailing.start(TRAILING_MS)     # (again: it fires once the draws stop)
            return self._slice_shown
        self._slice_forced = False
        sl = self.cache.get(problem, j, held, lo, hi, points, self._drawn)
        took = time.monotonic() - now
        self._slice_axis, self._slice_kept = axis, 0
        self._slice_due = now + max(SLOW_SLICE_PERIOD_S, took / SLICE_DUTY)
        return sl

    def _on_trailing_timeout(self) -> None:
        if self.problem is not None and self.history is not None:
            self._slice_forced = True
            self.show_step(self._index)

    def _fit_y(self, values: np.ndarray) -> tuple[float, float] | None:
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return None
        lo, hi = float(finite.min()), float(finite.max())
        if hi - lo < 1e-12 * max(1.0, abs(lo)):
            lo, hi = lo - 0.5 * max(abs(lo), 1e-6), hi + 0.5 * max(abs(hi), 1e-6)
        pad = 0.1 * (hi - lo)
        self.y_range.set(lo - pad, hi + pad)   # the zoom window follows the step exactly
        return lo, hi

    def _set_y_range(self, curves: np.ndarray,
                     mean: np.ndarray) -> tuple[float, float] | None:
        """The whole slice: the problem's loss_range, else from the lowest curve up to the
        mean's top or the 90th percentile of the curves (a few steep curves would squash the
        rest). The range stays put while the slice moves inside it (StickyRange)."""
        if self.problem.loss_range is not None:
            self.y_range.set(*self.problem.loss_range)
            self._slice_extent = float(np.ptp(self.problem.loss_range))
            return self.problem.loss_range
        finite_mean = mean[np.isfinite(mean)]
        finite = curves[np.isfinite(curves)]
        if finite_mean.size == 0:
            return None
        lo = min(float(finite_mean.min()), float(finite.min()) if finite.size else np.inf)
        hi = float(finite_mean.max())
        if finite.size and self.problem.n_samples > 1:
            sub = finite[:: max(1, finite.size // 5000)]    # a quantile needs no 60k points
            hi = max(hi, float(np.percentile(sub, 90)))
        if hi <= lo:
            hi = lo + 1.0
        self._slice_extent = hi - lo
        return self.y_range.fit(lo, hi, pad=0.05)

    def _status_text(self, index: int, batch: np.ndarray, full_batch: bool,
                     before: np.ndarray, slope: float, along: float | None = None) -> str:
        """``along``: the step's component t along the chosen direction (None: a parameter)."""
        h, problem = self.history, self.problem
        parts = [f"step {int(h.steps[index])}"]
        loss = "f" if problem.n_samples == 1 else "full loss"
        if index == 0:
            parts.append("start point")
        elif problem.n_samples == 1:
            pass
        elif full_batch:
            parts.append(f"full batch ({problem.n_samples} samples)")
        elif len(batch) == 1:
            parts.append(f"sample {int(batch[0])}")
        else:
            parts.append(f"batch of {len(batch)}")
        if index > 0 and not full_batch:
            parts.append(f"batch loss {style.fmt(h.batch_losses[index])}")
        parts.append(f"{loss} {style.fmt(h.losses[index])} after the step"
                     if index else f"{loss} {style.fmt(h.losses[0])}")
        parts.append(f"slope {style.fmt(slope, 3)}")
        if along is not None:
            parts.append(f"the step along it: t = {style.fmt(along, 3)}")
            return " · ".join(parts)
        names = problem.param_names
        held = [f"{names[k]} = {style.fmt(before[k], 3)}" for k in range(len(names))
                if k != self.param_index]
        if held:
            parts.append("held: " + style.listing(held))
        return " · ".join(parts)

    def _show_message(self, text: str) -> None:
        for item in (self.curves, self.mean_curve, self.batch_curves, self.batch_mean,
                     self.tangent):
            item.setData([], [])
        self._slice_shown = None
        self.batch_points.clear()
        self.mean_point.clear()
        self.arrows.clear()
        (x0, x1), (y0, y1) = self.plot.getViewBox().viewRange()
        self.note.setText(text)
        self.note.setPos((x0 + x1) / 2, (y0 + y1) / 2)
        self.note.setVisible(True)
        self.frame.status.setText(text)


def held_for_slice(problem: Problem, before: np.ndarray, j: int) -> np.ndarray:
    """The point whose slice along parameter ``j`` the faint curves and the mean show: the
    other parameters rounded to 1/HELD_STEPS of their view range (``j`` itself does not
    matter: it is the slice's axis). Once a run settles, its held values stay on one rounded
    point for many steps, so the slice (300 curves) is computed and stroked once instead of
    on every frame; and the picture of a step depends on that step alone, so scrubbing back
    redraws it exactly. The points, arrows and tangent use the exact values."""
    span = problem.view_range[:, 1] - problem.view_range[:, 0]
    quantum = np.where(span > 0, span, 1.0) / HELD_STEPS
    held = np.round(np.asarray(before, dtype=np.float64) / quantum) * quantum
    held[j] = before[j]
    return held
