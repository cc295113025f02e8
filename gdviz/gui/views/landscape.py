"""The Landscape view: the full loss over a plane through a centre point (Li et al. 2018), as a
colour map with iso-lines and a colour bar, and every run's path projected onto the plane.

The plane (core.landscape) is spanned by two filter-normalised random directions (biases
zeroed), by the first two principal directions of all runs' paths together (the share of the
variance each explains is in the title), or by two chosen parameters (a 2-parameter problem's
plane is then the contour's, drawn in parameter values). Its centre is the start point, the
selected run's current point or its last point, taken when the landscape is computed.

A path seen in a plane is not the path: hovering a path point (``hover_at`` on the map,
``hover_at_pixel`` in 3-D) shows its distance from the plane and its true loss beside the
surface's loss at its projection (the text and the nearest point: path_readout).

The "3-D" box shows the computed landscape as a surface (surface_parts.SurfaceScene, the 3-D
view's scene: drag to rotate, wheel to zoom), in the map's colours, its height on the map's
colour scale (log when the loss spans decades), and each run's path on it with every point at
its TRUE loss (the full loss recorded at that step), not the surface's: a path that leaves
the plane visibly floats above or sinks below the surface. Nothing of it is made until the box
is first ticked; where OpenGL cannot run (offscreen, CI) a label says why and the map stays.

The grid is computed off the GUI thread (gui.tasks.TaskRunner, a generator job that reports
its progress row band by row band and gives up when cancelled), when the run set changes and
on request (Recompute), never on a step: between computations the paths are projected onto
the plane that was computed (a (2, p) matrix product per drawn point). A view behind another
tab computes nothing until it comes to the front.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QPushButton, QWidget

from gdviz.core.history import RunHistory, decimate
from gdviz.core.landscape import DEFAULT_GRID
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.gui import tasks
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView, RunTrack
from gdviz.gui.views.items.dots import Dots
from gdviz.gui.views.items.updates import set_wide_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.landscape_job import (
    GROWTH_CAP,
    ComputedLandscape,
    LandscapeRequest,
    landscape_job,
    plane_axes,
)
from gdviz.gui.views.map_parts import LossMap, message_label
from gdviz.gui.views.pair_view import legend_html
from gdviz.gui.views.path_readout import closest, point_readout
from gdviz.gui.views.status_label import set_status_text
from gdviz.gui.views.surface_parts import SurfaceScene, box_points, gl_check

PLANES = (("random", "random (filter-normalised)"), ("pca", "PCA of the paths"),
          ("params", "two parameters"))
CENTRES = (("start", "the start"), ("current", "the current point"),
           ("final", "the last point"))
PATH_POINTS = 1000     # points of a path drawn (decimated) and offered to the hover
HOVER_PIXELS = 12      # a path point within this many pixels of the pointer is described
ONE_PARAM = ("One parameter: a plane needs two. The per-sample losses view shows the loss "
             "along the parameter.")
GHOST = 0.5            # opacity of a 3-D path where the surface hides it (below the slice)
PATH_REACH = 1.0       # the 3-D box's height grows to hold the paths' true losses by at most
                       # this many times the surface's own height (beyond: drawn at its top
                       # or bottom face), so the surface keeps at least half the box


def axis_names(request: LandscapeRequest) -> tuple[str, str]:
    """The names of the plane's two axes: its parameters', or its directions'."""
    if request.kind == "params":
        return request.names[0], request.names[1]
    word = "random direction" if request.kind == "random" else "principal direction"
    return f"{word} 1 (α)", f"{word} 2 (β)"


class LandscapeView(LessonView):
    title = "Landscape"
    view_id = "landscape"
    tooltip = (
        "The full loss over a plane through a centre point (the start, the current point or "
        "the last point of the selected run), spanned by two random directions "
        "(filter-normalised: each unit's incoming weights scaled to that unit's weights at the "
        "centre, biases zeroed; Li et al. 2018), by the first two principal directions of all "
        "runs' paths together (the variance they explain in the title), or by two "
        "parameters. Lines: each run's path projected onto the plane. A path is seldom IN "
        "the plane: hover a path point for its distance from the plane, its true loss and "
        "the surface's loss where it is drawn.\nComputed in the background when the runs "
        "change and on Recompute, not on every step.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Landscape", "direction 1", "direction 2")
        self.plot.getPlotItem().showGrid(x=False, y=False)
        self.frame = style.ViewLayout(self, self.plot)
        self.frame.info.setTextFormat(Qt.TextFormat.RichText)
        self.frame.info.setVisible(True)
        self._build_bar()
        self.message = message_label(ONE_PARAM)
        self.layout().addWidget(self.message, 1)
        self._build_items()
        self.runner = tasks.TaskRunner(self)
        self.runner.sig_ready.connect(self._on_runner_ready)
        self.runner.sig_partial.connect(self._on_runner_partial)
        self.computed: ComputedLandscape | None = None
        self.error = ""
        self.progress = 0.0
        self._dirty = False         # a computation is wanted and not yet asked for
        self._index = 0
        self._drawn: list[tuple[RunTrack, np.ndarray, np.ndarray]] = []  # track, steps, xy
        self.hover_text = ""
        self.scene: SurfaceScene | None = None   # the 3-D picture, made when first asked for
        self.gl_unavailable = ""        # why OpenGL cannot run here ('' = not known yet)
        self.gl_label: QLabel | None = None
        self.paths3d: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # x, y, true loss
        self.boxes3d: list[np.ndarray] = []   # per drawn path: (n, 3) its points in the 3-D box
        self._pointer: tuple[float, float] | None = None   # the 3-D hover's last mouse pixel

    def _build_bar(self) -> None:
        bar = self.frame.bar
        self.plane_combo = QComboBox()
        for _, text in PLANES:
            self.plane_combo.addItem(text)
        self.plane_combo.setToolTip(
            "The two directions that span the plane: two random directions, each unit's "
            "incoming weights scaled to the norm of that unit's weights at the centre and the "
            "biases zeroed (Li et al. 2018); the first two principal directions of all runs' "
            "paths together; or two parameters.")
        self.param_combos = [QComboBox(), QComboBox()]
        for k, combo in enumerate(self.param_combos):
            combo.setToolTip(f"The parameter along the plane's {('first', 'second')[k]} axis.")
        self.center_combo = QComboBox()
        for _, text in CENTRES:
            self.center_combo.addItem(text)
        self.center_combo.setCurrentIndex(0)   # the start: a random plane that never goes
        # stale while the runs play (the current and last points move with them)
        self.center_combo.setToolTip(
            "The plane's centre: the start point, the selected run's point at the shown step, "
            "or its last point, taken when the landscape is computed.")
        self.recompute_button = QPushButton("Recompute")
        self.recompute_button.setToolTip(
            "Compute the landscape again for the runs as they are now (the centre, the PCA of "
            "the paths and the extent follow them).")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop computing the landscape.")
        self.cancel_button.setVisible(False)
        self.three_d_box = QCheckBox("3-D")
        self.three_d_box.setToolTip(
            "The landscape as a 3-D surface (drag to rotate, wheel to zoom), in the map's "
            "colours, its height on the map's colour scale (log when the loss spans decades). "
            "Each path point sits at its TRUE loss (the full loss at that step), not at the "
            "surface's: where a path leaves the plane it floats above or sinks below the "
            "surface, which is only a slice of the loss. Hover a path point (on the map or in "
            "3-D) for its distance from the plane, its true loss and the surface's loss there.")
        self.three_d_box.toggled.connect(self._on_three_d_toggled)
        widgets = [QLabel("plane:"), self.plane_combo, *self.param_combos, QLabel("centre:"),
                   self.center_combo, self.three_d_box, self.recompute_button,
                   self.cancel_button]
        for k, widget in enumerate(widgets):
            bar.insertWidget(k, widget)
        self.plane_combo.currentIndexChanged.connect(self._on_choice_changed)
        self.center_combo.currentIndexChanged.connect(self._on_choice_changed)
        for combo in self.param_combos:
            combo.currentIndexChanged.connect(self._on_choice_changed)
        self.recompute_button.clicked.connect(self.recompute)
        self.cancel_button.clicked.connect(self.cancel)

    def _build_items(self) -> None:
        p = self.plot.getPlotItem()
        p.setMenuEnabled(False)
        p.hideButtons()
        self.map = LossMap(p)
        self.image = self.map.image
        self.center_mark = Dots("+", size=16, pen=pg.mkPen("k", width=2))
        self.current = Dots("o", size=8, pen=pg.mkPen("w", width=1.5))
        self.hover_mark = Dots("o", size=14, pen=pg.mkPen("k", width=2))
        for z, item in ((30, self.center_mark), (40, self.current), (45, self.hover_mark)):
            item.setZValue(z)
            p.addItem(item)
        self.paths: list[WideCurve] = []   # one per run, made when a comparison needs it
        self.note = pg.TextItem("", color=style.TEXT, anchor=(0, 0),
                                fill=pg.mkBrush(255, 255, 255, 210))
        self.note.setZValue(50)
        self.note.setVisible(False)
        p.addItem(self.note, ignoreBounds=True)
        self.hover_label = pg.TextItem("", color=style.TEXT, anchor=(0, 1),
                                       fill=pg.mkBrush(255, 255, 255, 230),
                                       border=pg.mkPen(style.TEXT))
        self.hover_label.setZValue(60)
        self.hover_label.setVisible(False)
        p.addItem(self.hover_label, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)

    # -- run and tracks -----------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        changed = problem is not self.problem
        super().set_run(problem, config, history)
        self.frame.reset_heights()
        if changed:
            for k, combo in enumerate(self.param_combos):
                style.fill_param_combo(combo, problem.param_names, min(k, problem.n_params - 1))
            self.plane_combo.blockSignals(True)
            self.plane_combo.setCurrentIndex(2 if problem.n_params == 2 else 0)
            self.plane_combo.blockSignals(False)
            self.computed, self.error = None, ""     # the last problem's map is not this one's
            self.map.clear()
            if self.scene is not None:                # nor its surface and paths
                self.scene.mesh.setVisible(False)
                self.scene.show_paths([])
            self.center_mark.clear()
            self.hover_at(None, None)
            self._set_title()
        two = problem.n_params > 1
        self.message.setVisible(not two)
        self._show_mode()
        self.frame.info.setVisible(two)
        for k in range(self.frame.bar.count()):
            widget = self.frame.bar.itemAt(k).widget()
            if widget is not None and widget is not self.frame.status_slot:
                widget.setVisible(two and widget is not self.cancel_button)
        self._show_param_combos()
        self._index = 0
        self.tracks = ()     # a new run or a reset: a new landscape is wanted
        self.set_tracks((RunTrack(RunSpec("run", style.FULL, config), history),), 0)

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        new_runs = [(t.config, id(t.history)) for t in tracks] != \
            [(t.config, id(t.history)) for t in self.tracks]
        super().set_tracks(tracks, selected)
        if self.problem is None:
            return
        while len(self.paths) < len(self.tracks):
            item = WideCurve(connect="finite")
            item.setZValue(20)
            self.plot.getPlotItem().addItem(item)
            self.paths.append(item)
        for k, item in enumerate(self.paths):
            if k < len(self.tracks):
                chosen = k == self.selected_track
                item.setPen(pg.mkPen(self.tracks[k].color, width=2.5 if chosen else 1.8))
                item.setZValue(21 if chosen else 20)
            else:
                item.setData([], [])
        if self.problem.n_params < 2:
            self.frame.set_title("Landscape: needs two parameters")
            return
        if new_runs or self.computed is None:
            self._want()
        self._legend()
        if self.history is not None and len(self.history):
            self.show_step(self._index)

    def _show_param_combos(self) -> None:
        params = PLANES[self.plane_combo.currentIndex()][0] == "params"
        two = self.problem is not None and self.problem.n_params > 1
        for combo in self.param_combos:
            combo.setVisible(params and two)

    def _on_choice_changed(self, _index: int) -> None:
        if self.problem is None or self.problem.n_params < 2:
            return
        a, b = (c.currentIndex() for c in self.param_combos)
        if a == b and self.sender() in self.param_combos:
            other = self.param_combos[1 if self.sender() is self.param_combos[0] else 0]
            other.blockSignals(True)
            other.setCurrentIndex((a + 1) % self.problem.n_params)
            other.blockSignals(False)
        self._show_param_combos()
        self.frame.reflow()
        self.recompute()

    # -- the choices a session, a preset or an export sets (gui.view_choices) -----------------
    def choices(self) -> dict[str, str]:
        """The plane's kind ("random", "pca" or "params"), its centre ("start", "current"
        or "final") and, once a problem with two parameters or more is shown, the two
        parameters of a "params" plane (their names). The 3-D box is saved as a check box."""
        out = {"plane": PLANES[self.plane_combo.currentIndex()][0],
               "center": CENTRES[self.center_combo.currentIndex()][0]}
        if self.problem is not None and self.problem.n_params > 1:
            out["param_a"], out["param_b"] = (c.currentText() for c in self.param_combos)
        return out

    def apply_choices(self, choices: dict) -> None:
        """Set what ``choices`` returned. A value that is not one of the view's (an unknown
        plane, a parameter this problem lacks, the same parameter twice, not a text) is
        ignored. The landscape is computed again (when shown) when anything changed or when
        the one shown is of fewer steps than the runs have now."""
        def index_of(options, key):
            words = [word for word, _ in options]
            value = choices.get(key)
            return words.index(value) if isinstance(value, str) and value in words else -1

        combos = [self.plane_combo, self.center_combo, *self.param_combos]
        before = [c.currentIndex() for c in combos]
        wanted = [index_of(PLANES, "plane"), index_of(CENTRES, "center")]
        names = [choices.get(key) for key in ("param_a", "param_b")]
        params = [c.findText(n) if isinstance(n, str) else -1
                  for c, n in zip(self.param_combos, names)]
        if params[0] == params[1]:
            params = [-1, -1]               # one parameter twice spans no plane
        for combo, index in zip(combos, wanted + params):
            if index >= 0:
                combo.blockSignals(True)
                combo.setCurrentIndex(index)
                combo.blockSignals(False)
        changed = [c.currentIndex() for c in combos] != before
        if changed:
            self._show_param_combos()
            self.frame.reflow()
        if self.problem is None or self.problem.n_params < 2 or not self.tracks:
            return
        # a session reopened (replayed to its step, then given its choices): the landscape
        # computed while it replayed is of fewer steps than the one saved; computed again
        c = self.computed
        stale = c is None or c.request.steps != tuple(t.history.last_step for t in self.tracks)
        if changed or (stale and any(k in choices for k in ("plane", "center"))):
            self._want()

    # -- the background computation ----------------------------------------------------------
    def _want(self) -> None:
        """A new landscape is wanted: asked for now if the view is shown, else when it is."""
        self._dirty = True
        if self.isVisible():
            self.recompute()

    def recompute(self) -> None:
        """Compute the landscape for the runs as they are now (the Recompute button)."""
        if self.problem is None or self.problem.n_params < 2 or not self.tracks:
            return
        self._dirty = False
        self.error = ""
        request = self._request()
        self.progress = 0.0
        self.cancel_button.setVisible(True)
        self.runner.request(request, landscape_job(request))
        self._show_note()

    def cancel(self) -> None:
        """Stop the computation under way (the Cancel button); the last landscape stays."""
        if self.runner.busy:
            self.runner.cancel()
            self.error = "cancelled: press Recompute for the landscape"
        self.cancel_button.setVisible(False)
        self._status()
        self._show_note()

    def _request(self) -> LandscapeRequest:
        track = self.tracks[self.selected_track]
        h = track.history
        word = CENTRES[self.center_combo.currentIndex()][0]
        last = len(h) - 1
        step = 0 if word == "start" else last if word == "final" else \
            self.track_index(track, self._index)
        center = np.array(h.params[step] if len(h) else self.config.start_point(),
                          dtype=np.float64)
        paths = self._paths()
        names = tuple(self.problem.param_names[c.currentIndex()] for c in self.param_combos)
        return LandscapeRequest(self.problem, PLANES[self.plane_combo.currentIndex()][0], names,
                        center, word, int(step), paths,
                        tuple(t.history.last_step for t in self.tracks), DEFAULT_GRID)

    def _on_runner_partial(self, _key, fraction) -> None:
        self.progress = float(fraction)
        self._show_note()

    def _on_runner_ready(self, key, result) -> None:
        self.cancel_button.setVisible(False)
        if isinstance(result, Exception):
            self.error = f"no landscape: {result}"
        elif key.problem is self.problem:
            self.computed = result
            self.error = ""
            self._show_map(result)
        if self.history is not None and len(self.history):
            self.show_step(self._index)

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Wait (without running the event loop) until the landscape asked for has arrived;
        a shown view that still wants one asks first."""
        if self._dirty and self.isVisible():
            self.recompute()
        deadline = time.monotonic() + timeout_ms / 1000
        while self.runner.busy:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0 or not self.runner.wait(left):
                break
        return not self.runner.busy

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._dirty:
            self.recompute()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # behind another tab: the computation under way is dropped and asked for again when
        # the view comes to the front; the window closing: the thread is stopped too
        if self.runner.busy:
            self._dirty = True
            self.cancel_button.setVisible(False)
        window = self.window()
        if window is self or not window.isVisible():
            self.runner.shutdown()
        else:
            self.runner.cancel()
        super().hideEvent(event)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.runner.shutdown()
        super().closeEvent(event)

    # -- drawing ------------------------------------------------------------------------------
    def _show_map(self, c: ComputedLandscape) -> None:
        land = c.landscape
        xs, ys = land.a + c.offset[0], land.b + c.offset[1]
        self.map.show(xs, ys, c.shown, c.scale, c.iso)
        self.center_mark.set_points([c.offset[0]], [c.offset[1]])
        self.plot.getPlotItem().getViewBox().setRange(xRange=(xs[0], xs[-1]),
                                                      yRange=(ys[0], ys[-1]), padding=0)
        xname, yname = axis_names(c.request)
        self.plot.setLabel("bottom", xname)
        self.plot.setLabel("left", yname)
        self._show_surface3d()
        self._set_title()
        self._legend()

    def _set_title(self) -> None:
        c = self.computed
        if c is None:
            self.frame.set_title("Landscape: the full loss over a plane")
            return
        r = c.request
        centre = {"start": "the start",
                  "current": f"the selected run's step {r.center_step}",
                  "final": f"the selected run's last point (step {r.center_step})"}[r.center_word]
        if r.kind == "random":
            plane = "random directions (filter-normalised, biases zeroed)"
        elif r.kind == "pca":
            share = c.landscape.explained * 100
            plane = (f"PCA of the paths ({share[0]:.1f} % and {share[1]:.1f} % of their "
                     "variance)")
        else:
            plane = f"{r.names[0]} and {r.names[1]}"
        self.frame.set_title(f"Loss over the plane of {plane} through {centre}")

    def _legend(self) -> None:
        if self.scene is not None and self.scene.widget.isVisibleTo(self):
            # as many lines as the map's legend: a new line was not given room in a dock
            entries = [("━━", t.color, f"{t.name}: path at its true loss (faint: below the "
                                       "surface)") for t in self.tracks]
            entries.append(("", style.TEXT, "hover a point for its distance from the plane · "
                                            "drag: rotate, wheel: zoom"))
        else:
            entries = [("━━", t.color, f"{t.name}: path projected onto the plane")
                       for t in self.tracks]
            entries += [("✚", style.TEXT, "the centre"),
                        ("", style.TEXT, "hover a path for its distance from the plane and "
                                         "its true loss")]
        self.frame.info.setText(legend_html(entries))

    def show_step(self, index: int) -> None:
        if self.history is None or self.problem is None or not self.tracks \
                or self.problem.n_params < 2:
            return
        self._index = index = int(np.clip(index, 0, max(0, self.newest_step())))
        c = self.computed
        self._drawn = []
        if c is None or c.request.problem is not self.problem:
            for item in self.paths:
                item.setData([], [])
            self.current.clear()
        else:
            ends = []
            for item, track in zip(self.paths, self.tracks):
                k = self.track_index(track, index)
                steps = decimate(track.history.steps[: k + 1], PATH_POINTS)
                xy = self._plane_xy(track.history.params[: k + 1][steps])
                set_wide_curve(item, xy[:, 0], xy[:, 1])
                self._drawn.append((track, steps, xy))
                ends.append((xy[-1, 0], xy[-1, 1], track.color))
            self.current.set_points([e[0] for e in ends], [e[1] for e in ends],
                                    brushes=[e[2] for e in ends])
            self._draw_paths3d()
            self._grow_if_left()
        self._status()
        self._show_note()

    def _outside(self) -> bool:
        """Whether a drawn path point lies outside the computed map."""
        land, (dx, dy) = self.computed.landscape, self.computed.offset
        for _, _, xy in self._drawn:
            with np.errstate(invalid="ignore"):
                out = ((xy[:, 0] < land.a[0] + dx) | (xy[:, 0] > land.a[-1] + dx)
                       | (xy[:, 1] < land.b[0] + dy) | (xy[:, 1] > land.b[-1] + dy))
            if np.any(out):
                return True
        return False

    def _grow_if_left(self) -> None:
        """A path left the map: the same plane is computed again over an extent that holds
        every path (not on every step: once per exit, with MARGIN room; at most GROWTH_CAP
        times the map's extent)."""
        c = self.computed
        if self.runner.busy or self.error or not self._outside():
            return
        r = c.request
        paths = self._paths()
        grown = replace(r, paths=paths, plane=(c.landscape.direction_a,
                                               c.landscape.direction_b,
                                               c.landscape.explained))
        a, b = plane_axes(grown, c.projector)
        land = c.landscape
        if max(np.ptp(a) / np.ptp(land.a), np.ptp(b) / np.ptp(land.b)) > GROWTH_CAP:
            return
        if a[0] >= land.a[0] and a[-1] <= land.a[-1] and b[0] >= land.b[0] \
                and b[-1] <= land.b[-1]:
            return      # what is outside is too far out to draw (a diverged run)
        self.progress = 0.0
        self.cancel_button.setVisible(True)
        self.runner.request(grown, landscape_job(grown))

    def _paths(self) -> tuple[np.ndarray, ...]:
        """Copies of every run's recorded points (decimated), for a job."""
        return tuple(np.array(t.history.params[decimate(t.history.steps, 20 * PATH_POINTS)],
                              dtype=np.float64) for t in self.tracks if len(t.history))

    def _plane_xy(self, params: np.ndarray) -> np.ndarray:
        """(T, 2) drawn coordinates of the points ``params`` (T, p) projected onto the plane;
        non-finite points (a diverged run) become gaps."""
        c = self.computed
        offsets = np.asarray(params, dtype=np.float64) - c.landscape.center
        with np.errstate(all="ignore"):
            xy = offsets @ c.projector.T + np.array(c.offset)
        xy[~np.all(np.isfinite(offsets), axis=1)] = np.nan
        return np.clip(xy, -1e12, 1e12)

    def _status(self) -> None:
        words = []
        c = self.computed
        if self.error:
            words.append(self.error)
        if c is not None:
            track = self.tracks[self.selected_track]
            k = self.track_index(track, self._index)
            if len(self.tracks) > 1:
                words.append(track.name)
            words.append(f"step {int(track.history.steps[k])}")
            words.append(f"loss at the centre {style.fmt(c.center_loss)}")
            grew = len(c.request.steps) != len(self.tracks) or any(
                t.history.last_step > s for t, s in zip(self.tracks, c.request.steps))
            if grew and (c.request.kind == "pca" or c.request.center_word != "start"):
                words.append(f"computed at step {max(c.request.steps)} (Recompute)")
            words.append(f"{len(c.landscape.a)}×{len(c.landscape.b)} points in "
                         f"{c.seconds:.2g} s")
        set_status_text(self.frame.status, " · ".join(words))

    def _show_note(self) -> None:
        busy = self.runner.busy
        self.note.setVisible(busy)
        if busy:
            what = "computing" if self.computed is None else "recomputing"
            self.note.setText(f"{what} the landscape on {DEFAULT_GRID}×{DEFAULT_GRID} points… "
                              f"{self.progress * 100:.0f} %")
            (x0, _), (_, y1) = self.plot.getPlotItem().getViewBox().viewRange()
            self.note.setPos(x0, y1)

    # -- the 3-D surface ----------------------------------------------------------------------
    def _on_three_d_toggled(self, on: bool) -> None:
        if on and self.scene is None and not self.gl_unavailable:
            self._make_scene()
        self._show_mode()
        self._legend()
        if on and self.computed is not None:
            self._show_surface3d()
            self._draw_paths3d()

    def _make_scene(self) -> None:
        """OpenGL started (once) if it runs here, else the label saying why."""
        reason, renderer = gl_check()
        layout = self.layout()
        if reason:
            self.gl_unavailable = reason
            self.gl_label = message_label(
                f"3-D unavailable: {reason}. The landscape is shown below as the map from "
                "above; run gdviz on a desktop (or under xvfb-run) to see the surface.")
            self.gl_label.setMinimumHeight(0)
            layout.insertWidget(layout.indexOf(self.plot), self.gl_label)
            return
        self.scene = SurfaceScene(renderer)
        self.scene.widget.setMouseTracking(True)     # moves without a button: the hover
        self.scene.widget.installEventFilter(self)
        layout.insertWidget(layout.indexOf(self.plot) + 1, self.scene.widget, 1)

    def _show_mode(self) -> None:
        """The map, or the 3-D surface in its place (or the map under the label saying why
        3-D cannot run), as the 3-D box and the problem say."""
        two = self.problem is not None and self.problem.n_params > 1
        three = two and self.three_d_box.isChecked()
        gl = three and self.scene is not None
        self.plot.setVisible(two and not gl)
        if self.scene is not None:
            self.scene.widget.setVisible(gl)
        if self.gl_label is not None:
            self.gl_label.setVisible(three and self.scene is None)

    def _surface3d_on(self) -> bool:
        return self.scene is not None and self.three_d_box.isChecked() and \
            self.computed is not None and self.computed.request.problem is self.problem

    def _show_surface3d(self) -> None:
        """The computed landscape as the 3-D mesh: the map's values on its colour scale as
        heights, the box's height grown to hold the paths' true losses (up to PATH_REACH)."""
        if not self._surface3d_on():
            return
        c = self.computed
        land, scale = c.landscape, c.scale
        xs, ys = land.a + c.offset[0], land.b + c.offset[1]
        lo, hi = scale.lo, scale.hi
        losses = [t.history.losses for t in self.tracks if len(t.history)]
        with np.errstate(all="ignore"):
            shown = scale.apply(np.concatenate(losses)) if losses else np.zeros(0)
        shown = shown[np.isfinite(shown)]
        reach = PATH_REACH * max(hi - lo, 1e-12)
        if shown.size:
            lo, hi = max(min(lo, float(shown.min())), lo - reach), \
                min(max(hi, float(shown.max())), hi + reach)
        self.scene.box = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]), lo, hi)
        self.scene.show_surface(xs, ys, c.shown, self.map.cmap)
        zname = "loss (log scale)" if scale.log else "loss"
        zlo, zhi = (float(v) for v in scale.invert(np.array([lo, hi])))
        self.scene.show_axes(*axis_names(c.request), zname, zlo, zhi)

    def _draw_paths3d(self) -> None:
        """Each drawn path's points (those of the map) at their true losses, in the box."""
        if not self._surface3d_on():
            self.paths3d, self.boxes3d = [], []
            return
        scale = self.computed.scale
        self.paths3d = [(xy[:, 0], xy[:, 1], np.asarray(track.history.losses[steps]))
                        for track, steps, xy in self._drawn]
        with np.errstate(all="ignore"):
            self.boxes3d = [box_points(self.scene.box, x, y, scale.apply(loss))
                            for x, y, loss in self.paths3d]
        self.scene.show_paths([(pos, pg.mkColor(track.color).getRgbF(), True, False)
                               for pos, (track, _, _) in zip(self.boxes3d, self._drawn)], GHOST)
        if self.scene.readout_shown() and self._pointer is not None:
            # a readout shown while the runs play: the point under the pointer now (one
            # projection of the drawn points per frame, only while a readout is shown)
            self.hover_at_pixel(*self._pointer)

    def grab_image(self) -> QImage:
        """The whole view as an image, the 3-D picture included with its axis labels (see
        SurfaceScene.paint_into): for exports and screenshots."""
        image = self.grab().toImage()
        return image if self.scene is None else self.scene.paint_into(self, image)

    # -- hovering a path ----------------------------------------------------------------------
    def _on_scene_mouse_moved(self, pos) -> None:
        box = self.plot.getPlotItem().getViewBox()
        if not self._drawn or not box.sceneBoundingRect().contains(pos):
            self.hover_at(None, None)
            return
        point = box.mapSceneToView(pos)
        self.hover_at(point.x(), point.y())

    def hover_at(self, x: float | None, y: float | None) -> str:
        """Describe the drawn path point nearest (x, y) (drawn coordinates) if it is within
        HOVER_PIXELS: its run and step, its distance from the plane, its true loss and the
        surface's loss at its projection. Returns the text ("" when no point is near)."""
        found = None if x is None else self._nearest(float(x), float(y))
        if found is None:
            return self._hide_hover()
        track, row, xy = found
        self.hover_text = self._readout(track, row)
        self.hover_label.setText(self.hover_text)
        # beside the point, towards the middle of the map (never cut off by its edge)
        (x0, x1), (y0, y1) = self.plot.getPlotItem().getViewBox().viewRange()
        self.hover_label.setAnchor((1.0 if xy[0] > (x0 + x1) / 2 else 0.0,
                                    0.0 if xy[1] > (y0 + y1) / 2 else 1.0))
        self.hover_label.setPos(float(xy[0]), float(xy[1]))
        self.hover_label.setVisible(True)
        self.hover_mark.set_points([xy[0]], [xy[1]])
        return self.hover_text

    def hover_at_pixel(self, px: float | None, py: float | None) -> str:
        """3-D mode: describe the drawn path point painted nearest the GL widget's pixel
        (px, py) (logical pixels from its top left, a mouse event's position) if it is within
        HOVER_PIXELS, as ``hover_at`` does (the same text), with a ring at the point and the
        text beside it. None, or no point near: the readout hidden. Returns the text."""
        hit = None
        if px is not None and self.scene is not None and self.boxes3d:
            # all paths in one projection: a move over 6 paths × 1000 points took 0.37 ms CPU
            # near no point (0.47 ms path by path), 0.68 ms with a readout (bench_landscape_view)
            pixels = self.scene.to_pixels(np.concatenate(self.boxes3d))
            pixels -= (float(px), float(py))
            ends = np.cumsum([len(pos) for pos in self.boxes3d])[:-1]
            hit = closest(np.split(pixels, ends), HOVER_PIXELS)
        if hit is None:
            return self._hide_hover()
        k, i = hit
        track, steps, _ = self._drawn[k]
        self.hover_text = self._readout(track, int(steps[i]))
        self.scene.show_readout(self.boxes3d[k][i], self.hover_text,
                                pg.mkColor(track.color).getRgbF())
        return self.hover_text

    def _hide_hover(self) -> str:
        """No readout, on the map nor in 3-D; returns ""."""
        self.hover_text = ""
        self.hover_label.setVisible(False)
        self.hover_mark.clear()
        if self.scene is not None:
            self.scene.hide_readout()
        return ""

    def _readout(self, track: RunTrack, row: int) -> str:
        """The hover's four lines for ``track``'s recorded point ``row`` (path_readout)."""
        return point_readout(self.problem, self.computed.landscape, track.history, row,
                             track.name if len(self.tracks) > 1 else None)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        """The 3-D picture's mouse: a move without a button hovers; a drag (turning the
        box), a press, the wheel, a key (the arrows turn it), a resize, leaving or hiding the
        widget hides the readout (the picture moves under it). The view's tooltip waits while
        a readout is shown (it covered it). The widget handles every other event as before."""
        if self.scene is not None and watched is self.scene.widget:
            kind = event.type()
            if kind == QEvent.Type.ToolTip and self.scene.readout_shown():
                return True
            if kind == QEvent.Type.MouseMove and event.buttons() == Qt.MouseButton.NoButton:
                point = event.position()
                self._pointer = (point.x(), point.y())
                self.hover_at_pixel(*self._pointer)
            elif kind in (QEvent.Type.MouseMove, QEvent.Type.MouseButtonPress,
                          QEvent.Type.Wheel, QEvent.Type.KeyPress, QEvent.Type.Resize,
                          QEvent.Type.Leave, QEvent.Type.Hide):
                self._pointer = None
                self._hide_hover()
        return super().eventFilter(watched, event)

    def _nearest(self, x: float, y: float):
        box = self.plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        rect = box.sceneBoundingRect()
        scale = np.array([max(rect.width(), 1.0) / max(x1 - x0, 1e-300),
                          max(rect.height(), 1.0) / max(y1 - y0, 1e-300)])
        with np.errstate(all="ignore"):
            hit = closest([(xy - (x, y)) * scale for _, _, xy in self._drawn], HOVER_PIXELS)
        if hit is None:
            return None
        track, steps, xy = self._drawn[hit[0]]
        return track, int(steps[hit[1]]), xy[hit[1]]

