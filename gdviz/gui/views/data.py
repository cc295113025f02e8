"""The data and the current model (after the shown step), in the form that suits the problem.

Modes, chosen from the problem's structure in ``set_run``:
    "line"        one feature and a target (slope, bowl, 1-feature linreg): points + fitted line
    "pred"        several features (linreg): predicted against actual, with the line ŷ = y
    "classes"     two features, 0/1 targets and a test set (logistic): points by class, test
                  points hollow, the decision boundary x·w + b = 0, test accuracy
    "surface"     a model over a 2-D input plane (``problem.input_plane``: the network): the
                  output as a heat map (class-1 probability with the 0.5 contour, or the
                  prediction), train and test points, test accuracy or error
    "samples"     no targets (wavy): each sample x with its loss L(w·x) at the current w
    "none"        no data (analytic functions): a message instead of an empty plot
The current batch is highlighted in violet. At most ``POINT_CAP`` points are drawn.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QWidget

from gdviz.core.grids import isolines
from gdviz.core.history import RunHistory
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.surfaces import covers_all, evenly_chosen
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView
from gdviz.gui.views.items.dots import DotCloud, Dots
from gdviz.gui.views.items.updates import set_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.ranges import StickyRange
from gdviz.gui.views.status_label import set_status_text

POINT_CAP = 2000
LINE_POINTS = 200
MAP_CELLS = 64  # heat-map cells per side: 4096 model evaluations per frame
NO_DATA = "this problem has no data — see the loss curves"
NO_MODEL = "a typed formula is a loss, not a model: no fitted line to draw — see the loss curves"


def data_mode(problem: Problem) -> str:
    """Which picture the Data view draws for ``problem`` (see the module docstring)."""
    if not problem.has_data:
        return "none"
    if problem.predict(problem.default_init, problem.data_x[:1]) is None:
        return "none"  # a typed formula: data, but no model to draw
    d = problem.data_x.shape[1]
    if problem.input_plane and d == 2 and problem.data_y is not None:
        return "surface"
    if problem.data_y is None:
        return "samples" if d == 1 else "none"
    y = problem.data_y
    if d == 2 and "test_x" in problem.extras and np.all((y == 0) | (y == 1)):
        return "classes"
    return "line" if d == 1 else "pred"


def boundary_segment(w: np.ndarray, b: float, box: tuple[float, float, float, float]
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The part of the line w[0]·x1 + w[1]·x2 + b = 0 inside box (x_lo, x_hi, y_lo, y_hi), as
    x (2,), y (2,); empty arrays when the line misses the box or is undefined (w = 0)."""
    x_lo, x_hi, y_lo, y_hi = box
    pts = []
    if w[1] != 0:
        for x in (x_lo, x_hi):
            pts.append((x, -(w[0] * x + b) / w[1]))
    if w[0] != 0:
        for y in (y_lo, y_hi):
            pts.append((-(w[1] * y + b) / w[0], y))
    eps = 1e-9 * max(x_hi - x_lo, y_hi - y_lo)
    inside = [(x, y) for x, y in pts if x_lo - eps <= x <= x_hi + eps
              and y_lo - eps <= y <= y_hi + eps and np.isfinite(x) and np.isfinite(y)]
    if len(inside) < 2:
        return np.zeros(0), np.zeros(0)
    inside.sort()
    (xa, ya), (xb, yb) = inside[0], inside[-1]
    return np.array([xa, xb]), np.array([ya, yb])


def _bounds(*arrays: np.ndarray, pad: float = 0.06) -> tuple[float, float]:
    values = np.concatenate([np.ravel(a) for a in arrays])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return -1.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    span = hi - lo if hi > lo else max(abs(lo), 1.0)
    return lo - pad * span, hi + pad * span


class DataView(LessonView):
    follows_selected_run = True
    title = "Data"
    view_id = "data"
    tooltip = (
        "The data with the model after the shown step. Violet: the samples of the step's batch. "
        "Regression with one feature: points and the fitted line (gold dashed: the true line). "
        "Several features: predicted against actual values; a perfect model puts every point "
        "on the line ŷ = y. Two classes: training points filled, test points hollow, and the "
        "decision boundary x·w + b = 0. A network on 2-D inputs: its output over the input plane "
        "as a heat map (blue: class 0, red: class 1, white: undecided; the dark line is "
        "P = 0.5), or its prediction for regression. Wavy: each sample x and its loss L(w·x) "
        "now.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Data", "x", "y")
        self.frame = style.ViewLayout(self, self.plot)
        self.legend = self.frame.add_key()   # a Key above the plot: it never covers points
        p = self.plot.getPlotItem()
        grey = (*style.SAMPLE, 150)
        # up to POINT_CAP dots that move on every frame (wavy): painted from one symbol
        self.points = DotCloud("o", size=6, pen=None, brush=pg.mkBrush(grey))
        self.test_points = pg.ScatterPlotItem([], [], size=7, brush=None)
        # the batch: a few markers drawn by Qt (dots.Dots), a scatter for a large batch
        self.batch_points = Dots("o", size=9, pen=pg.mkPen("w"), brush=pg.mkBrush(style.BATCH))
        self.model_line = pg.PlotDataItem([], [], pen=style.FULL_PEN)   # the selected run's
        self.other_lines: list[pg.PlotDataItem] = []   # the other runs' models, their colours
        self.true_line = pg.PlotDataItem([], [], pen=style.TRUE_PEN)
        self.guide = pg.PlotDataItem([], [], pen=pg.mkPen(style.START, width=1.2,
                                                          style=Qt.PenStyle.DashLine))
        for z, item in enumerate((self.guide, self.true_line, self.points, self.test_points,
                                  self.model_line, self.batch_points)):
            item.setZValue(z)
            p.addItem(item)
        # the heat map of the model's output under everything, its 0.5 contour on top of it
        self.heat = pg.ImageItem(axisOrder="row-major")
        self.heat.setZValue(-10)
        p.addItem(self.heat)
        # the P = 0.5 line as segments (grids.isolines, vectorised) in ONE curve item:
        # pyqtgraph's IsocurveItem traced it in Python on every frame (~5 ms on mlp_spiral);
        # a WideCurve strokes its 3-px line as 1-px copies (items/wide_curve.py)
        self.contour = WideCurve(pen=style.FULL_PEN, connect="pairs")
        self.contour.setZValue(-9)
        p.addItem(self.contour)
        self.message = pg.TextItem(NO_DATA, color=style.TEXT, anchor=(0.5, 0.5))
        self.message.setFont(style.label_font(12))
        self.message.setVisible(False)
        p.addItem(self.message, ignoreBounds=True)
        # the message wraps to the plot's width (a narrow dock clipped it on both sides)
        p.getViewBox().sigResized.connect(self._wrap_message)
        self.y_range = StickyRange(self.plot, "y")
        self.mode = "none"
        self._shown = np.zeros(0, dtype=np.int64)
        self._box = (-1.0, 1.0, -1.0, 1.0)
        self._index = 0
        self.accuracy = float("nan")

    # -- run ------------------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self.frame.reset_heights()
        self.mode = data_mode(problem)
        n = problem.n_samples
        self._shown = evenly_chosen(n, POINT_CAP)
        self.points.clear()
        self.test_points.setData([], [])
        self.batch_points.clear()
        for item in (self.model_line, self.true_line, self.guide):
            item.setData([], [])
        self.heat.clear()
        self.heat.setVisible(self.mode == "surface")
        self.contour.setData([], [])
        self._key: list[tuple[str, str, str]] = []
        empty = self.mode == "none"
        self.message.setText(NO_DATA if not problem.has_data else NO_MODEL)
        self.message.setVisible(empty)
        self.legend.setVisible(not empty)
        for axis in ("bottom", "left"):
            self.plot.getPlotItem().showAxis(axis, not empty)
        self.plot.showGrid(x=not empty, y=not empty, alpha=0.2)
        capped = "" if len(self._shown) == n else f" ({len(self._shown)} of {n} drawn)"
        self.y_range.reset()
        getattr(self, f"_setup_{self.mode}")(problem, capped)
        self.legend.set_entries(self._key)
        self.plot.enableAutoRange(enable=False)
        self._index = 0
        if len(history):
            self.show_step(0)

    def _wrap_message(self, *_args) -> None:
        width = self.plot.getPlotItem().getViewBox().width()
        self.message.setTextWidth(max(80.0, 0.9 * width))

    def _columns(self, problem: Problem) -> tuple[str, ...]:
        cols = tuple(getattr(problem, "data_columns", ()))
        d = problem.data_x.shape[1]
        return cols if len(cols) >= d else (*(f"x{i + 1}" for i in range(d)), "y")

    def _setup_none(self, problem: Problem, capped: str) -> None:
        self.frame.set_title(f"No data — {problem.title or problem.name}")
        self.plot.setXRange(0, 1, padding=0)
        self.plot.setYRange(0, 1, padding=0)
        self.message.setPos(0.5, 0.5)
        self.frame.status.setText("")

    def _setup_line(self, problem: Problem, capped: str) -> None:
        cols = self._columns(problem)
        x = problem.data_x[:, 0]
        self.frame.set_title("Data and the fitted line")
        self.plot.setLabel("bottom", cols[0])
        self.plot.setLabel("left", cols[-1] if len(cols) > 1 else "y")
        self.points.set_points(x[self._shown], problem.data_y[self._shown])
        self._key += [("point", style.hex_color(style.SAMPLE), f"data{capped}"),
                      ("line", style.FULL, "model now")]
        if problem.true_params is not None:
            grid = np.linspace(*_bounds(x, pad=0.0), LINE_POINTS)
            self.true_line.setData(grid, problem.predict(problem.true_params, grid[:, None]))
            self._key.append(("dash", style.TRUE, "true line"))
        self._add_batch_legend()
        x_lo, x_hi = _bounds(x)
        self._box = (x_lo, x_hi, *_bounds(problem.data_y))
        self.plot.setXRange(x_lo, x_hi, padding=0)
        self.plot.setYRange(*self._box[2:], padding=0)

    def _setup_pred(self, problem: Problem, capped: str) -> None:
        d = problem.data_x.shape[1]
        self.frame.set_title(f"Predicted vs actual ({d} features: no line to draw in 2-D)")
        self.plot.setLabel("bottom", "actual y")
        self.plot.setLabel("left", "predicted ŷ")
        lo, hi = _bounds(problem.data_y)
        self.guide.setData([lo, hi], [lo, hi])
        self._key += [("point", style.hex_color(style.SAMPLE), f"samples{capped}"),
                      ("dash", style.START, "perfect fit ŷ = y")]
        self._add_batch_legend()

    def _setup_classes(self, problem: Problem, capped: str) -> None:
        self.frame.set_title("Two classes and the decision boundary")
        self._class_points(problem)
        self._key.append(("line", style.FULL, "boundary x·w + b = 0"))
        self._frame_inputs(problem)

    def _class_points(self, problem: Problem) -> None:
        """Training points filled and test points hollow, in their class colours."""
        cols = self._columns(problem)
        x, y = problem.data_x, problem.data_y
        tx, ty = problem.extras["test_x"], problem.extras["test_y"]
        self.plot.setLabel("bottom", cols[0])
        self.plot.setLabel("left", cols[1])
        colors = [pg.mkColor(c) for c in style.CLASS_COLORS]
        s = self._shown
        self.points.set_points(x[s, 0], x[s, 1],
                               brushes=[pg.mkBrush(colors[int(v)]) for v in y[s]])
        t = evenly_chosen(len(tx), POINT_CAP)
        self.test_points.setData(tx[t, 0], tx[t, 1], brush=None,
                                 pen=[pg.mkPen(colors[int(v)], width=1.5) for v in ty[t]])
        self._key += [("point", style.CLASS_COLORS[0], "class 0 (train)"),
                      ("point", style.CLASS_COLORS[1], "class 1 (train)"),
                      ("ring", style.START, "test (hollow)")]

    def _setup_surface(self, problem: Problem, capped: str) -> None:
        classes = bool(getattr(problem, "classification", False))
        if classes:
            self.frame.set_title("Decision surface: the network's P(class 1)")
            self._class_points(problem)
            self._key.append(("line", style.FULL, "boundary P = 0.5"))
            lo, hi = 0.0, 1.0
        else:
            cols = self._columns(problem)
            self.frame.set_title(f"The network's prediction of {cols[-1]}")
            self.plot.setLabel("bottom", cols[0])
            self.plot.setLabel("left", cols[1])
            x, s = problem.data_x, self._shown
            self.points.set_points(x[s, 0], x[s, 1])
            tx = problem.extras.get("test_x", x[:0])
            self.test_points.setData(tx[:, 0], tx[:, 1], brush=None,
                                     pen=pg.mkPen(style.START, width=1.2))
            self._key += [("point", style.hex_color(style.SAMPLE), f"train{capped}"),
                          ("ring", style.START, "test (hollow)")]
            lo, hi = _bounds(problem.data_y, pad=0.0)
        self._add_batch_legend()
        self._frame_inputs(problem)
        colors = [pg.mkColor(c) for c in (style.CLASS_COLORS[0], "#ffffff",
                                          style.CLASS_COLORS[1])]
        self.heat.setLookupTable(pg.ColorMap([0.0, 0.5, 1.0], colors).getLookupTable(
            0.0, 1.0, 256, alpha=False))
        self._heat_levels = (lo, hi if hi > lo else lo + 1.0)
        x_lo, x_hi, y_lo, y_hi = self._box
        self._heat_rect = QRectF(x_lo, y_lo, x_hi - x_lo, y_hi - y_lo)
        cx = np.linspace(x_lo, x_hi, MAP_CELLS + 1)
        cy = np.linspace(y_lo, y_hi, MAP_CELLS + 1)
        self._map_xs, self._map_ys = (cx[:-1] + cx[1:]) / 2, (cy[:-1] + cy[1:]) / 2
        mx, my = np.meshgrid(self._map_xs, self._map_ys)
        self._map_inputs = np.stack([mx.ravel(), my.ravel()], axis=1)  # cell centres

    def _frame_inputs(self, problem: Problem) -> None:
        """The view box around the training and test inputs."""
        x = problem.data_x
        tx = problem.extras.get("test_x", x[:0])
        x_lo, x_hi = _bounds(x[:, 0], tx[:, 0])
        y_lo, y_hi = _bounds(x[:, 1], tx[:, 1])
        self._box = (x_lo, x_hi, y_lo, y_hi)
        self.plot.setXRange(x_lo, x_hi, padding=0)
        self.plot.setYRange(y_lo, y_hi, padding=0)

    def _setup_samples(self, problem: Problem, capped: str) -> None:
        cols = self._columns(problem)
        self.frame.set_title("Samples x and their loss L(w·x) at the current w")
        self.plot.setLabel("bottom", f"sample {cols[0]}")
        self.plot.setLabel("left", "loss L(w·x)")
        self._key.append(("point", style.hex_color(style.SAMPLE), f"samples{capped}"))
        self._add_batch_legend()
        self.plot.setXRange(*_bounds(problem.data_x[:, 0]), padding=0)
        if problem.loss_range is not None:
            self.plot.setYRange(*problem.loss_range, padding=0)

    def _add_batch_legend(self) -> None:
        k = self.config.effective_batch_size() if self.config else 0
        if k < self.problem.n_samples:
            self._key.append(("point", style.BATCH, "current batch" if k > 1 else
                              "current sample"))

    def set_tracks(self, tracks, selected: int) -> None:
        """Each run's model in that run's colour: the selected run's line thick, the others'
        thin (lines and decision boundaries; the other pictures follow the selected run)."""
        super().set_tracks(tracks, selected)
        color = tracks[selected].color
        self.model_line.setPen(pg.mkPen(color, width=3))
        others = [t for k, t in enumerate(tracks) if k != selected]
        p = self.plot.getPlotItem()
        while len(self.other_lines) < len(others):
            line = pg.PlotDataItem([], [])
            line.setZValue(self.model_line.zValue() - 0.5)
            p.addItem(line)
            self.other_lines.append(line)
        for line, track in zip(self.other_lines, others):
            line.setPen(pg.mkPen(track.color, width=1.5))
        for line in self.other_lines[len(others):]:
            line.setData([], [])
        models = ("model now", "boundary x·w + b = 0")
        key = [(kind, color if text in models else c, text) for kind, c, text in self._key]
        if self.mode in ("line", "classes"):
            key += [("line", t.color, t.name) for t in others]
        self.legend.set_entries(key)
        if self.history is not None and len(self.history) and self.mode != "none":
            self.show_step(self._index)

    def _draw_others(self, model) -> None:
        """``model(params) -> (x, y)`` of the line drawn for each other run at the shown step."""
        others = [t for k, t in enumerate(self.tracks) if k != self.selected_track]
        for line, track in zip(self.other_lines, others):
            params = np.array(track.history.params[self.track_index(track, self._index)],
                              dtype=np.float64)
            set_curve(line, *model(params))

    # -- drawing --------------------------------------------------------------------------
    def show_step(self, index: int) -> None:
        h, problem = self.history, self.problem
        if h is None or problem is None or len(h) == 0 or self.mode == "none":
            return
        self._index = index
        index = h.row_at(index)   # its row (of a thinned step, the nearest kept one)
        step = int(h.steps[index])
        params = np.array(h.params[index], dtype=np.float64)
        batch = h.batch_at(index)
        if covers_all(batch, problem.n_samples):
            batch = batch[:0]          # a full batch highlights nothing: it is all the data
        batch = batch[evenly_chosen(len(batch), POINT_CAP)]
        text = getattr(self, f"_draw_{self.mode}")(problem, params, batch)
        set_status_text(self.frame.status, f"step {step} · {text}")

    def _draw_line(self, problem: Problem, params: np.ndarray, batch: np.ndarray) -> str:
        x = problem.data_x[:, 0]
        grid = np.linspace(self._box[0], self._box[1], LINE_POINTS)
        set_curve(self.model_line, grid, problem.predict(params, grid[:, None]))
        self._draw_others(lambda p: (grid, problem.predict(p, grid[:, None])))
        self.batch_points.set_points(x[batch], problem.data_y[batch])
        names = problem.param_names
        return "model: " + ", ".join(f"{n} = {style.fmt(v)}" for n, v in zip(names, params))

    def _draw_pred(self, problem: Problem, params: np.ndarray, batch: np.ndarray) -> str:
        y = problem.data_y
        pred = problem.predict(params, problem.data_x)
        s = self._shown
        self.points.set_points(y[s], pred[s])
        self.batch_points.set_points(y[batch], pred[batch])
        x_range = _bounds(y)
        if self.plot.getViewBox().viewRange()[0] != list(x_range):   # costs even unchanged
            self.plot.setXRange(*x_range, padding=0)
        self.y_range.fit(*_bounds(y, pred[s], pad=0.0), pad=0.06)
        with np.errstate(all="ignore"):
            rmse = float(np.sqrt(np.mean((pred - y) ** 2)))
        return f"RMS error {style.fmt(rmse)}"

    def _draw_classes(self, problem: Problem, params: np.ndarray, batch: np.ndarray) -> str:
        bx, by = boundary_segment(params[:2], float(params[2]), self._box)
        set_curve(self.model_line, bx, by)
        self._draw_others(lambda p: boundary_segment(p[:2], float(p[2]), self._box))
        x = problem.data_x
        self.batch_points.set_points(x[batch, 0], x[batch, 1])
        missing = "" if len(bx) else " · the boundary is outside the view"
        return self._draw_accuracy(problem, params) + missing

    def _draw_surface(self, problem: Problem, params: np.ndarray, batch: np.ndarray) -> str:
        with np.errstate(all="ignore"):
            values = problem.predict(params, self._map_inputs).reshape(MAP_CELLS, MAP_CELLS)
        self.heat.setImage(np.nan_to_num(values, nan=0.5), levels=self._heat_levels,
                           autoLevels=False)
        self.heat.setRect(self._heat_rect)  # scales the image's cells: after setImage
        if getattr(problem, "classification", False):
            segments = isolines(values, self._map_xs, self._map_ys, np.array([0.5]))
            set_curve(self.contour, segments[:, :, 0].ravel(), segments[:, :, 1].ravel(),
                      wide=True)
        x = problem.data_x
        self.batch_points.set_points(x[batch, 0], x[batch, 1])
        if not getattr(problem, "classification", False):
            tx, ty = problem.extras["test_x"], problem.extras["test_y"]
            with np.errstate(all="ignore"):
                error = float(np.mean((problem.predict(params, tx) - ty) ** 2))
            return f"test error (mean squared) {style.fmt(error)} ({len(ty)} points)"
        return self._draw_accuracy(problem, params)

    def _draw_accuracy(self, problem: Problem, params: np.ndarray) -> str:
        x = problem.data_x
        tx, ty = problem.extras["test_x"], problem.extras["test_y"]
        with np.errstate(all="ignore"):
            self.accuracy = float(np.mean((problem.predict(params, tx) > 0.5) == (ty == 1)))
            train = float(np.mean((problem.predict(params, x) > 0.5) == (problem.data_y == 1)))
        return (f"test accuracy {100 * self.accuracy:.1f}% ({len(ty)} points) · "
                f"train {100 * train:.1f}%")

    def _draw_samples(self, problem: Problem, params: np.ndarray, batch: np.ndarray) -> str:
        x = problem.data_x[:, 0]
        s = self._shown
        with np.errstate(all="ignore"):
            losses = problem.sample_losses(params)
        self.points.set_points(x[s], losses[s])
        self.batch_points.set_points(x[batch], losses[batch])
        if problem.loss_range is None:
            self.y_range.fit(*_bounds(losses, pad=0.0), pad=0.06)
        w = ", ".join(f"{n} = {style.fmt(v)}" for n, v in zip(problem.param_names, params))
        return f"{w} · mean loss {style.fmt(float(np.mean(losses)))}"
