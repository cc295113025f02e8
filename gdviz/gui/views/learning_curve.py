"""The learning curve: batch loss (faint) and full loss (bold) against the step.

The curves run from the start point up to the shown step (so scrubbing back shows the run as it
was then), decimated to at most ``MAX_POINTS``. Epoch boundaries are a fixed pool of vertical
lines; when there are more boundaries than lines, every k-th epoch is marked and the note says so.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from gdviz.core.history import RunHistory, decimate
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView

MAX_POINTS = 4000
EPOCH_LINES = 30     # pool size: at most this many epoch boundaries are drawn
LABELLED_EPOCHS = 8  # label the lines "epoch e" only when there are this few


class LossAxis(pg.AxisItem):
    """A loss axis whose log mode labels only decades (and 2, 5 within a single decade),
    instead of pyqtgraph's "9·10¹ 8·10¹ 7·10¹ ..." that crowds short ranges."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 (Qt style)
        v1, v2 = int(np.floor(minVal)), int(np.ceil(maxVal))
        decades = [float(v) for v in range(v1, v2 + 1) if minVal <= v <= maxVal]
        minor = [v + np.log10(k) for v in range(v1, v2) for k in range(2, 10)
                 if minVal <= v + np.log10(k) <= maxVal]
        if len(decades) >= 2:
            stride = max(1, -(-len(decades) // 8))
            return [(float(stride), decades[::stride]), (None, minor)]
        labelled = sorted(decades + [m for m in minor if round(10 ** (m % 1)) in (2, 5)])
        return [(None, labelled), (None, [m for m in minor if m not in labelled])]


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


class LearningCurveView(LessonView):
    title = "Learning curve"
    view_id = "learning_curve"
    tooltip = (
        "Loss against step. Faint orange: the loss on each step's batch, measured before the "
        "update (what a training loop prints); bold blue: the loss on all data after the step. "
        "Grey dotted lines: epoch boundaries.\nLog scale: only possible while every loss shown "
        "is > 0. Some losses are negative (wavy reaches −0.76); then the axis stays linear and "
        "the note says why, rather than silently shifting or taking |loss|.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Learning curve", "step", "loss",
                                    axis_items={"left": LossAxis("left")})
        self.frame = style.ViewLayout(self, self.plot)
        self.log_box = QCheckBox("log scale")
        self.log_box.setChecked(True)
        self.log_box.setToolTip("Logarithmic loss axis (needs every loss shown to be > 0).")
        self.log_box.toggled.connect(self._on_log_box_toggled)
        self.frame.bar.insertWidget(0, self.log_box)
        self.legend = style.add_legend(self.plot)
        p = self.plot.getPlotItem()
        self.batch_curve = pg.PlotDataItem([], [], pen=pg.mkPen((*_rgb(style.BATCH), 110),
                                                                  width=1),
                                           connect="finite", name="batch loss (before step)")
        self.full_curve = pg.PlotDataItem([], [], pen=style.FULL_PEN, connect="finite",
                                          name="full loss (after step)")
        # a PlotDataItem (not a ScatterPlotItem) so that it follows the log mode
        self.current = pg.PlotDataItem([], [], pen=None, symbol="o", symbolSize=10,
                                       symbolPen=pg.mkPen("w"),
                                       symbolBrush=pg.mkBrush(style.BATCH))
        p.addItem(self.batch_curve)
        p.addItem(self.full_curve)
        p.addItem(self.current)
        self.epoch_lines: list[pg.InfiniteLine] = []
        pen = pg.mkPen(style.START, width=1, style=Qt.PenStyle.DotLine)
        for _ in range(EPOCH_LINES):
            line = pg.InfiniteLine(angle=90, pen=pen, label="",
                                   labelOpts={"position": 0.04, "color": style.START,
                                              "anchors": [(0, 0), (0, 0)]})
            line.setVisible(False)
            p.addItem(line, ignoreBounds=True)
            self.epoch_lines.append(line)
        self._index = 0
        self._log = False
        self._full_batch = False
        self.epoch_marks = np.zeros(0)

    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self.frame.set_title("Learning curve: loss against step")
        self.plot.setLabel("left", "loss" if problem.has_data else "f")
        # full batch: the batch loss is the previous step's full loss, a needless echo
        self._full_batch = (config.effective_batch_size() >= problem.n_samples
                            and config.order != "replacement")
        self.batch_curve.setVisible(not self._full_batch)
        self.legend.clear()
        self.legend.addItem(self.full_curve, "full loss (after step)" if problem.has_data
                            else "f (after step)")
        if not self._full_batch:
            self.legend.addItem(self.batch_curve, "batch loss (before step)")
        self._index = 0
        if len(history):
            self.show_step(0)

    def _on_log_box_toggled(self, _checked: bool) -> None:
        if self.history is not None:
            self.show_step(self._index)

    def show_step(self, index: int) -> None:
        h = self.history
        if h is None or len(h) == 0:
            return
        index = int(np.clip(index, 0, len(h) - 1))
        self._index = index
        steps = h.steps[: index + 1]
        keep = decimate(steps, MAX_POINTS)
        x = steps[keep].astype(np.float64)
        full = _finite_or_nan(h.losses[: index + 1][keep])
        batch = _finite_or_nan(h.batch_losses[: index + 1][keep])
        batch[x == 0] = np.nan     # step 0 has no batch: its "batch loss" is the full loss

        notes = []
        want_log = self.log_box.isChecked()
        low = np.nanmin(np.concatenate([full, batch])) if np.any(np.isfinite(full)) else 1.0
        use_log = bool(want_log and low > 0)
        if want_log and not use_log:
            notes.append(f"linear axis: log needs losses > 0, this run reaches {style.fmt(low)}")
        if use_log != self._log:
            self._log = use_log
            self.plot.setLogMode(x=False, y=use_log)
            # label only the decades on a log axis; "9·10¹ 8·10¹ ..." crowds it
            self.plot.getAxis("left").setStyle(maxTextLevel=0 if use_log else 2)
        self.batch_curve.setData(x, batch)
        self.full_curve.setData(x, full)
        cur = float(h.losses[index])
        self.current.setData([float(h.steps[index])], [cur] if np.isfinite(cur) else [np.nan])
        notes.extend(self._draw_epochs(index))
        self._place_legend(x, full, batch)
        status = h.status_at(index)
        if self.problem is not None and not self.problem.has_data:
            text = [f"step {index} · f {style.fmt(cur)}"]
        else:
            text = [f"step {index} · epoch {int(h.epochs[index])} · full loss {style.fmt(cur)}"]
        if status != "running":
            text.append(status)
        self.frame.status.setText(" · ".join(text + notes))

    def _place_legend(self, x: np.ndarray, full: np.ndarray, batch: np.ndarray) -> None:
        y = np.concatenate([full, batch])
        with np.errstate(all="ignore"):
            y = np.log10(y) if self._log else y
        finite = y[np.isfinite(y)]
        if finite.size and len(x) > 1:
            style.place_legend(self.legend, np.concatenate([x, x]), y,
                               (float(x[0]), float(x[-1])),
                               (float(finite.min()), float(finite.max())))

    def _draw_epochs(self, index: int) -> list[str]:
        epochs = self.history.epochs[: index + 1]
        steps = self.history.steps[: index + 1]
        # a boundary sits before the first step of every epoch after the first
        first = np.flatnonzero((epochs[1:] != epochs[:-1]) & (epochs[1:] > 1)) + 1
        self.epoch_marks = steps[first] - 0.5
        notes = []
        if self.config is not None and self.config.steps_per_epoch() == 1:
            marks, labels = np.zeros(0), np.zeros(0, dtype=np.int64)
            if self.problem is not None and self.problem.has_data:
                notes.append("full batch: 1 step = 1 epoch")
        else:
            stride = max(1, -(-len(first) // EPOCH_LINES))
            chosen = np.arange(len(first))[stride - 1 :: stride] if stride > 1 else \
                np.arange(len(first))
            marks, labels = self.epoch_marks[chosen], epochs[first][chosen]
            if stride > 1:
                notes.append(f"dotted lines: every {stride}th epoch")
        for i, line in enumerate(self.epoch_lines):
            if i < len(marks):
                line.setValue(float(marks[i]))
                line.label.setText(f"epoch {int(labels[i])}" if len(marks) <= LABELLED_EPOCHS
                                   else "")
                line.setVisible(True)
            else:
                line.setVisible(False)
        return notes


def _rgb(color: str) -> tuple[int, int, int]:
    c = pg.mkColor(color)
    return c.red(), c.green(), c.blue()
