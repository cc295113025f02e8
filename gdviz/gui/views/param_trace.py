"""Every parameter against the step, with the value it should reach as a dashed line.

The reference line is the problem's ``true_params`` (the values that generated the data) when
known, else the single global minimum of an analytic function; none when neither is known.
One curve item and one reference line per parameter, created in ``set_run`` (the number of
parameters is fixed for a run) and only updated with ``setData`` afterwards.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gdviz.core.history import RunHistory, decimate
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView

MAX_POINTS = 4000


def reference_values(problem: Problem) -> tuple[np.ndarray | None, str]:
    """(p,) values each parameter should reach and what they are, or (None, "")."""
    if problem.true_params is not None:
        return np.asarray(problem.true_params, dtype=np.float64), "true"
    best = [m for m in problem.minima if m.kind == "global"]
    if len(best) == 1:
        return np.asarray(best[0].params, dtype=np.float64), "minimum"
    return None, ""


class ParamTraceView(LessonView):
    title = "Parameters"
    view_id = "params"
    tooltip = (
        "Each parameter against the step, one colour per parameter. Dashed lines in the same "
        "colour: the true value that generated the data (or the minimum of a test function), "
        "when known. The dots mark the shown step.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Parameters", "step", "parameter value")
        self.frame = style.ViewLayout(self, self.plot)
        self.legend = style.add_legend(self.plot)
        self.curves: list[pg.PlotDataItem] = []
        self.ref_lines: list[pg.InfiniteLine] = []
        self.current = pg.ScatterPlotItem([], [], size=9, pen=pg.mkPen("w"))
        self.current.setZValue(10)
        self.plot.addItem(self.current)
        self._index = 0
        self._ref: np.ndarray | None = None

    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self._build(problem)
        self.frame.set_title("Parameters against step")
        self._index = 0
        if len(history):
            self.show_step(0)

    def _build(self, problem: Problem) -> None:
        p = self.plot.getPlotItem()
        for item in self.curves:
            p.removeItem(item)
        for line in self.ref_lines:
            p.removeItem(line)
        self.legend.clear()
        self.curves, self.ref_lines = [], []
        ref, kind = reference_values(problem)
        self._ref = ref
        for k, name in enumerate(problem.param_names):
            color = style.param_color(k)
            curve = pg.PlotDataItem([], [], pen=pg.mkPen(color, width=2), connect="finite")
            p.addItem(curve)
            self.legend.addItem(curve, name)
            self.curves.append(curve)
            if ref is not None and np.isfinite(ref[k]):
                line = pg.InfiniteLine(
                    pos=float(ref[k]), angle=0,
                    pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine),
                    label=f"{kind} {name} = {style.fmt(float(ref[k]))}",
                    labelOpts={"position": 0.02, "color": color, "anchors": [(0, 1), (0, 1)],
                               "fill": (255, 255, 255, 180)})
                p.addItem(line, ignoreBounds=True)   # the y range includes it explicitly
                self.ref_lines.append(line)
        if self.ref_lines:
            self.legend.addItem(
                pg.PlotDataItem(pen=pg.mkPen(style.START, width=1.5,
                                             style=Qt.PenStyle.DashLine)),
                "true value" if kind == "true" else "global minimum")

    def show_step(self, index: int) -> None:
        h = self.history
        if h is None or len(h) == 0:
            return
        index = int(np.clip(index, 0, len(h) - 1))
        self._index = index
        steps = h.steps[: index + 1]
        keep = decimate(steps, MAX_POINTS)
        x = steps[keep].astype(np.float64)
        params = np.array(h.params[: index + 1][keep], dtype=np.float64)
        params[~np.isfinite(params)] = np.nan
        for k, curve in enumerate(self.curves):
            curve.setData(x, params[:, k])
        now = np.array(h.params[index], dtype=np.float64)
        ok = np.isfinite(now)
        self.current.setData(np.full(int(ok.sum()), float(h.steps[index])), now[ok],
                             brush=[pg.mkBrush(style.param_color(k))
                                    for k in np.flatnonzero(ok)])
        finite = params[np.isfinite(params)]
        if finite.size and len(x) > 1:
            lo, hi = float(finite.min()), float(finite.max())
            if self._ref is not None:
                lo, hi = min(lo, np.nanmin(self._ref)), max(hi, np.nanmax(self._ref))
            # head-room above the curves for the legend (the curves often fill every corner)
            span = (hi - lo) or max(abs(hi), 1.0)
            self.plot.setYRange(lo - 0.05 * span, hi + 0.35 * span, padding=0)
            self.plot.setXRange(float(x[0]), float(x[-1]), padding=0.02)
        names = self.problem.param_names
        values = ", ".join(f"{n} = {style.fmt(float(v))}" for n, v in zip(names, now))
        self.frame.status.setText(f"step {index} · {values}")
