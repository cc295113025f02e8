"""The network itself: its layers as nodes, its weights as edges, each unit's output over the
input plane as a thumbnail in its node (TensorFlow Playground's picture), for the selected
run at the shown step.

Edges: ONE ``items.edges.EdgeBundle`` (weight W{l}_{i}_{j} from unit j of layer l-1 to unit i
of layer l), teal for w ≥ 0 and brown for w < 0 (a diverging pair far from every run colour),
thickness ∝ |w| against the largest |w| at that step. Nodes: layer 0 is the inputs, the last
layer the output; every node is a dot, and, up to ``MAX_THUMBS`` nodes on a 2-D input plane,
a ``THUMB``² image of what the unit outputs over the plane of the data (inputs: the feature
itself; hidden units after their activation, white at 0; the output as the Data view colours
it). The thumbnails are computed off the GUI thread (``tasks.TaskRunner``), at most every
``THUMB_PERIOD_S`` while a run plays, with a trailing request so the shown step gets its own.
Hovering a node or an edge shows its value and the gradient of the shown step (tooltip;
``describe_at``).

A problem without layers (``layer_groups``/``unit_outputs``) is "not a network": a message.
"""

from __future__ import annotations

import time

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QRectF, QTimer
from PySide6.QtWidgets import QToolTip, QWidget

from gdviz.core.history import RunHistory
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.gui import tasks
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView
from gdviz.gui.views.items.dots import Dots
from gdviz.gui.views.items.edges import EdgeBundle
from gdviz.gui.views.status_label import set_status_text

POSITIVE, NEGATIVE = style.WEIGHT_COLORS   # teal, brown: ΔE ≥ 31 from every run colour
THUMB = 32               # thumbnail pixels per side: 1024 inputs through the network, ~0.3 ms
THUMB_PERIOD_S = 0.2     # thumbnails asked for at most this often while a run plays
MAX_THUMBS = 64          # more nodes than this: dots only (the thumbnails would be specks)
MAX_EDGES = 20_000       # more weights than this: no edges drawn (the status says so)
THUMB_WIDTH = 0.36       # a thumbnail's largest width in layer spacings (it is square in
THUMB_HEIGHT = 0.8       # pixels) and height in unit spacings (at most 0.5 of the plot's 2.5)
NODE_PICK_PX = 10        # hover: a dot this close (pixels) is the node
EDGE_PICK_PX = 5         # ... an edge this close
NOT_A_NETWORK = "not a network: this problem has no layers to draw (see the mlp problem)"


def is_network(problem: Problem) -> bool:
    """Whether ``problem`` has layers this view can draw (the ``mlp`` problem)."""
    return bool(getattr(problem, "layers", ())) and hasattr(problem, "unit_outputs")


def node_positions(sizes: tuple[int, ...]) -> list[np.ndarray]:
    """The y of every unit of each layer (units ``sizes``, inputs first), top to bottom, the
    tallest layer spanning 1 .. -1 and the others centred; layer l sits at x = l."""
    gap = 2.0 / max(max(sizes) - 1, 1)
    return [((m - 1) / 2 - np.arange(m)) * gap for m in sizes]


def _lut(colors: tuple[str, str, str]) -> np.ndarray:
    return pg.ColorMap([0.0, 0.5, 1.0], [pg.mkColor(c) for c in colors]).getLookupTable(
        0.0, 1.0, 256, alpha=False)


class NetworkView(LessonView):
    follows_selected_run = True
    title = "Network"
    view_id = "network"
    tooltip = (
        "The network at the shown step: inputs on the left, the output on the right. Edges are "
        "the weights: teal w ≥ 0, brown w < 0, thicker for larger |w| (against the largest "
        "now). Each node shows what its unit outputs over the plane of the data (white: 0; "
        "the output as in the Data view). Hover a node or an edge for its value and the "
        "gradient of the shown step.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Network", "", "")
        self.frame = style.ViewLayout(self, self.plot)
        self.key = self.frame.add_key()
        p = self.plot.getPlotItem()
        for axis in ("bottom", "left"):
            p.hideAxis(axis)
        self.plot.showGrid(x=False, y=False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.edges = EdgeBundle(POSITIVE, NEGATIVE)
        self.edges.setZValue(0)
        p.addItem(self.edges)
        self.nodes = Dots("o", size=9, pen=pg.mkPen(style.FULL, width=1),
                          brush=pg.mkBrush("w"))
        self.nodes.setZValue(5)
        p.addItem(self.nodes)
        self.message = pg.TextItem(NOT_A_NETWORK, color=style.TEXT, anchor=(0.5, 0.5))
        self.message.setVisible(False)
        p.addItem(self.message, ignoreBounds=True)
        self.thumbs: list[list[pg.ImageItem]] = []   # [layer][unit], inputs first
        self.runner = tasks.TaskRunner(self)
        self.runner.sig_ready.connect(self._on_runner_ready)
        self._thumb_timer = QTimer(self)
        self._thumb_timer.setSingleShot(True)
        self._thumb_timer.timeout.connect(self._on_thumb_timer_timeout)
        self._last_thumb_request = -1e9
        self._thumb_again = False
        self.thumb_step = -1          # the step whose thumbnails are shown (-1: none yet)
        self.network = False
        self.sizes: tuple[int, ...] = ()
        self.ys: list[np.ndarray] = []
        self.edge_params = np.zeros(0, dtype=np.int64)  # parameter index of each edge
        self.edge_ends = np.zeros((0, 2), dtype=np.int64)  # (layer, unit) each edge ends at
        self.edge_starts = np.zeros(0, dtype=np.int64)  # the unit (below) each edge starts at
        self._grid = np.zeros((0, 2))
        self._index = 0
        self.hover_text = ""
        # hover: the plot's ToolTip events show the node or edge under the mouse (elsewhere
        # the view's own tooltip), so the two never replace each other
        self.plot.viewport().installEventFilter(self)
        p.getViewBox().sigResized.connect(self._place_thumbs)

    # -- run ------------------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self.frame.reset_heights()
        self.runner.cancel()
        self._thumb_timer.stop()
        self._thumb_again = False
        self.thumb_step = -1
        self._clear_thumbs()
        self.network = is_network(problem)
        self.message.setVisible(not self.network)
        self.edges.setVisible(self.network)
        self.nodes.setVisible(self.network)
        self._index = 0
        if not self.network:
            self.frame.set_title("Network")
            self.key.set_entries([])
            self.edges.set_geometry([], [], [], [])
            self.nodes.clear()
            self.plot.setXRange(0, 1, padding=0)
            self.plot.setYRange(0, 1, padding=0)
            self.message.setPos(0.5, 0.5)
            self.frame.status.setText(NOT_A_NETWORK)
            return
        layers = problem.layers
        self.sizes = (layers[0].inp, *(layer.out for layer in layers))
        self.ys = node_positions(self.sizes)
        self._build_edges(layers)
        xs = np.concatenate([np.full(m, float(k)) for k, m in enumerate(self.sizes)])
        self.nodes.set_points(xs, np.concatenate(self.ys))
        hidden = "-".join(str(m) for m in self.sizes)
        self.frame.set_title(f"Network {hidden} ({problem.activation} hidden units)")
        self.key.set_entries([("line", POSITIVE, "weight ≥ 0"), ("line", NEGATIVE, "weight < 0"),
                              ("point", style.FULL, "unit (hover: value, gradient)")])
        self.plot.setXRange(-0.35, len(self.sizes) - 0.65, padding=0)
        self.plot.setYRange(-1.25, 1.25, padding=0)
        self._build_thumbs(problem)
        if len(history):
            self.show_step(0)

    def _build_edges(self, layers) -> None:
        x0, y0, x1, y1, params, ends, starts = [], [], [], [], [], [], []
        for number, layer in enumerate(layers):
            i, j = np.divmod(np.arange(layer.out * layer.inp), layer.inp)   # W[i, j], row-major
            x0.append(np.full(len(i), float(number)))
            y0.append(self.ys[number][j])
            x1.append(np.full(len(i), float(number + 1)))
            y1.append(self.ys[number + 1][i])
            params.append(layer.weights.start + np.arange(len(i)))
            ends.append(np.column_stack([np.full(len(i), number + 1), i]))
            starts.append(j)
        self.edge_params = np.concatenate(params)
        self.edge_ends = np.concatenate(ends)
        self.edge_starts = np.concatenate(starts)
        drawn = len(self.edge_params) <= MAX_EDGES
        self.edges.setVisible(drawn)
        if drawn:
            self.edges.set_geometry(*(np.concatenate(a) for a in (x0, y0, x1, y1)))
        else:
            self.edges.set_geometry([], [], [], [])

    def _clear_thumbs(self) -> None:
        p = self.plot.getPlotItem()
        for layer in self.thumbs:
            for image in layer:
                p.removeItem(image)
        self.thumbs = []

    def _build_thumbs(self, problem: Problem) -> None:
        """One image per node over the input plane (2-D inputs, few nodes): the inputs' own
        thumbnails are set here, the units' when computed."""
        if not (problem.input_plane and sum(self.sizes) <= MAX_THUMBS):
            return
        x = problem.data_x
        tx = problem.extras.get("test_x", x[:0])
        both = np.concatenate([x, tx]) if len(tx) else x
        lo, hi = both.min(axis=0), both.max(axis=0)
        cells = [np.linspace(lo[k], hi[k], THUMB) for k in range(2)]
        mx, my = np.meshgrid(cells[0], cells[1])     # row 0 at the lowest x2, as drawn
        self._grid = np.stack([mx.ravel(), my.ravel()], axis=1)
        p = self.plot.getPlotItem()
        hidden_lut = _lut((NEGATIVE, "#ffffff", POSITIVE))
        output_lut = _lut((style.CLASS_COLORS[0], "#ffffff", style.CLASS_COLORS[1]))
        last = len(self.sizes) - 1
        for number, ys in enumerate(self.ys):
            row = []
            for y in ys:
                image = pg.ImageItem(axisOrder="row-major")
                image.setLookupTable(output_lut if number == last else hidden_lut)
                image.setZValue(10)
                image.centre = (float(number), float(y))
                image.setBorder(pg.mkPen(style.START, width=1))
                p.addItem(image)
                row.append(image)
            self.thumbs.append(row)
        self._place_thumbs()
        for unit, image in enumerate(self.thumbs[0]):
            values = self._grid[:, unit].reshape(THUMB, THUMB)
            self._set_thumb(image, values, *self._symmetric(values))

    @staticmethod
    def _symmetric(values: np.ndarray) -> tuple[float, float]:
        top = float(np.nanmax(np.abs(values))) if np.isfinite(values).any() else 1.0
        top = top if top > 0 else 1.0
        return -top, top

    def _set_thumb(self, image: pg.ImageItem, values: np.ndarray, lo: float,
                   hi: float) -> None:
        image.setImage(np.nan_to_num(values, nan=0.0), levels=(lo, hi), autoLevels=False)
        self._place(image)   # scales the image's cells: after setImage

    def thumb_size(self) -> tuple[float, float]:
        """(width, height) of a thumbnail in plot coordinates: square on the screen, as
        large as THUMB_WIDTH of a layer spacing and THUMB_HEIGHT of a unit spacing allow."""
        sx, sy = self._pixel_size()
        gap = 2.0 / max(max(self.sizes) - 1, 1) if self.sizes else 1.0
        side = min(THUMB_WIDTH / sx, min(THUMB_HEIGHT * gap, 0.5) / sy)   # pixels
        return side * sx, side * sy

    def _place(self, image: pg.ImageItem) -> None:
        (x, y), (w, h) = image.centre, self.thumb_size()
        image.setRect(QRectF(x - w / 2, y - h / 2, w, h))

    def _place_thumbs(self, *_args) -> None:
        for row in self.thumbs:
            for image in row:
                if image.image is not None:
                    self._place(image)

    # -- drawing --------------------------------------------------------------------------
    def show_step(self, index: int) -> None:
        h = self.history
        if h is None or len(h) == 0:
            return
        index = int(np.clip(index, 0, len(h) - 1))
        self._index = index
        if not self.network:
            set_status_text(self.frame.status, f"step {index} · {NOT_A_NETWORK}")
            return
        params = np.asarray(h.params[index], dtype=np.float64)
        if self.edges.isVisible():
            self.edges.set_weights(params[self.edge_params])
        if self.thumbs:
            self._want_thumbs()
        n = len(self.edge_params)
        drawn = (f"thickest |w| = {style.fmt(self.edges.largest)}" if self.edges.isVisible()
                 else f"edges not drawn (more than {MAX_EDGES})")
        set_status_text(self.frame.status, f"step {index} · {n} weights · {drawn}")

    # -- thumbnails -----------------------------------------------------------------------
    def _want_thumbs(self) -> None:
        """Ask for the shown step's thumbnails now, or when the period allows (trailing)."""
        if self.runner.busy:
            self._thumb_again = True
            return
        wait = self._last_thumb_request + THUMB_PERIOD_S - time.monotonic()
        if wait > 0:
            if not self._thumb_timer.isActive():
                self._thumb_timer.start(int(wait * 1000) + 1)
            return
        self._request_thumbs()

    def _on_thumb_timer_timeout(self) -> None:
        if self.network and self.thumbs and self.thumb_step != self._index:
            self._want_thumbs()

    def _request_thumbs(self) -> None:
        problem, index, grid = self.problem, self._index, self._grid
        params = np.array(self.history.params[index], dtype=np.float64)
        self._last_thumb_request = time.monotonic()
        self._thumb_again = False
        self.runner.request((problem, index),
                            lambda should_stop: problem.unit_outputs(params, grid))

    def _on_runner_ready(self, key, result) -> None:
        problem, index = key
        if problem is not self.problem or not self.thumbs:
            return
        if isinstance(result, Exception):
            self.frame.status.setText(f"the units' outputs could not be computed: {result}")
            return
        last = len(self.sizes) - 1
        for number, outputs in enumerate(result, start=1):
            for unit, image in enumerate(self.thumbs[number]):
                values = outputs[:, unit].reshape(THUMB, THUMB)
                if number == last:
                    lo, hi = self._output_levels(values)
                else:
                    lo, hi = self._symmetric(values)
                self._set_thumb(image, values, lo, hi)
        self.thumb_step = index
        if self._thumb_again or index != self._index:
            self._want_thumbs()

    def _output_levels(self, values: np.ndarray) -> tuple[float, float]:
        if getattr(self.problem, "classification", False):
            return 0.0, 1.0
        y = self.problem.data_y
        lo, hi = float(np.min(y)), float(np.max(y))
        return (lo, hi) if hi > lo else (lo - 1.0, lo + 1.0)

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Wait (without running the event loop) until the shown step's thumbnails are in."""
        if not self.thumbs:
            return True
        deadline = time.monotonic() + timeout_ms / 1000
        while self.thumb_step != self._index:
            if not self.runner.busy:
                self._thumb_timer.stop()
                self._request_thumbs()
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0 or not self.runner.wait(left):
                return False
        return True

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self._thumb_timer.stop()
        self.runner.shutdown()
        super().closeEvent(event)

    # -- hover ----------------------------------------------------------------------------
    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.ToolTip and watched is self.plot.viewport():
            scene = self.plot.mapToScene(event.pos())
            point = self.plot.getPlotItem().getViewBox().mapSceneToView(scene)
            self.hover_text = self.describe_at(point.x(), point.y())
            if self.hover_text:
                QToolTip.showText(event.globalPos(), self.hover_text, self.plot.viewport())
                return True
        return super().eventFilter(watched, event)

    def describe_at(self, x: float, y: float) -> str:
        """The hover text at (x, y) in the plot's coordinates: the node under it (its dot or
        thumbnail), else the nearest edge within EDGE_PICK_PX, else ""."""
        if not self.network or self.history is None or not len(self.history):
            return ""
        sx, sy = self._pixel_size()
        layer = int(round(x))
        if 0 <= layer < len(self.sizes):
            ys = self.ys[layer]
            unit = int(np.argmin(np.abs(ys - y)))
            dx, dy = abs(x - layer) / sx, abs(y - ys[unit]) / sy
            w, h = self.thumb_size()
            inside_thumb = bool(self.thumbs) and abs(x - layer) <= w / 2 and \
                abs(y - ys[unit]) <= h / 2
            if inside_thumb or np.hypot(dx, dy) <= NODE_PICK_PX:
                return self.describe_node(layer, unit)
        if not self.edges.isVisible() or not self.edges.count:
            return ""
        ends = self.edges.ends
        ax, ay = ends[:, 0] / sx, ends[:, 1] / sy
        bx, by = ends[:, 2] / sx, ends[:, 3] / sy
        px, py = x / sx, y / sy
        ux, uy = bx - ax, by - ay
        t = np.clip(((px - ax) * ux + (py - ay) * uy) / np.maximum(ux * ux + uy * uy, 1e-12),
                    0.0, 1.0)
        dist = np.hypot(ax + t * ux - px, ay + t * uy - py)
        k = int(np.argmin(dist))
        return self.describe_edge(k) if dist[k] <= EDGE_PICK_PX else ""

    def _pixel_size(self) -> tuple[float, float]:
        """Plot units per pixel along x and y (from the view's range and its size in pixels:
        the view's own transform lags behind a resize until it is painted)."""
        vb = self.plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = vb.viewRange()
        width, height = max(vb.width(), 1.0), max(vb.height(), 1.0)
        return (x1 - x0) / width, (y1 - y0) / height

    def _step_gradient(self) -> tuple[np.ndarray, str]:
        h, k = self.history, self._index
        grads = np.asarray(h.grads[k], dtype=np.float64)
        return grads, ("the full gradient at the start" if k == 0 else
                       f"the gradient step {k} used")

    def describe_edge(self, k: int) -> str:
        """Edge ``k``: its weight's name, value and gradient at the shown step."""
        names = self.problem.param_names
        j = int(self.edge_params[k])
        layer, unit = (int(v) for v in self.edge_ends[k])
        source = self._unit_name(layer - 1, int(self.edge_starts[k]))
        params = np.asarray(self.history.params[self._index], dtype=np.float64)
        grads, which = self._step_gradient()
        return (f"weight {names[j]}: {source} → {self._unit_name(layer, unit)}\n"
                f"value {style.fmt(float(params[j]))} · gradient {style.fmt(float(grads[j]))} "
                f"({which}, step {self._index})")

    def describe_node(self, layer: int, unit: int) -> str:
        """Node ``unit`` of ``layer`` (0: the inputs): what it is, its bias's value and
        gradient at the shown step and the size of its incoming weights."""
        name = self._unit_name(layer, unit)
        if layer == 0:
            columns = getattr(self.problem, "data_columns", ())
            feature = columns[unit] if unit < len(columns) else f"x{unit + 1}"
            return f"{name}: the feature {feature} of each sample"
        lin = self.problem.layers[layer - 1]
        names = self.problem.param_names
        bias = lin.bias.start + unit
        rows = lin.weights.start + unit * lin.inp + np.arange(lin.inp)
        params = np.asarray(self.history.params[self._index], dtype=np.float64)
        grads, which = self._step_gradient()
        norm = float(np.linalg.norm(params[rows]))
        grad_norm = float(np.linalg.norm(grads[rows]))
        return (f"{name}\nbias {names[bias]}: value {style.fmt(float(params[bias]))} · "
                f"gradient {style.fmt(float(grads[bias]))}\n"
                f"incoming weights ({lin.inp}): ‖w‖ {style.fmt(norm)} · ‖gradient‖ "
                f"{style.fmt(grad_norm)}\n({which}, step {self._index})")

    def _unit_name(self, layer: int, unit: int) -> str:
        last = len(self.sizes) - 1
        if layer == 0:
            return f"input {unit + 1}"
        if layer == last:
            what = "P(class 1) = σ(z)" if getattr(self.problem, "classification", False) \
                else "the prediction"
            return f"output ({what})"
        return f"layer {layer} unit {unit} ({self.problem.activation})"
