"""The loss as a 3-D surface you can rotate (drag) and zoom (wheel), with every run's path on it.

Two parameters or more: the full loss over the chosen pair (the others held, as in the contour
view), coloured and hill-shaded, log-scaled in height when the loss spans decades unless the
"log height" box says otherwise (a choice kept until the problem changes; the bowl lesson
chooses linear, so that it looks like a bowl); each run's
path lies on the surface and its current point is a marker. One parameter with one feature
(wavy, slope): lesson 1's picture, the per-sample loss over (x, w) in the "hot" colours, with
the path of (x of the step's sample, w where its gradient was taken) and, across the surface,
the loss of every sample at the current w.

pyqtgraph.opengl (and PyOpenGL) are imported only when the view is first shown, so the app
starts without them. OpenGL is never started on the offscreen platform (it segfaults there):
the dock then says why in a label, and every other view keeps working.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox, QLabel, QVBoxLayout, QWidget

from gdviz.core import grids
from gdviz.core.history import RunHistory, decimate
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.gui.views import style
from gdviz.gui.views.base import RunTrack, configure_pyqtgraph
from gdviz.gui.views.contour import ContourView
from gdviz.gui.views.pair_view import PairGridView, joined, legend_html, sample_path
from gdviz.gui.views.status_label import set_status_text
from gdviz.gui.views.surface_parts import (  # noqa: F401 (gl_unavailable_reason: smoke, export)
    HOT,
    SurfaceScene,
    box_points,
    gl_check,
    gl_unavailable_reason,
)

RESOLUTION = 128         # a 3-D mesh needs fewer points than the contour's image
MAX_POINTS = 1000        # path points per run


class Surface3DView(PairGridView):
    title = "3-D surface"
    view_id = "surface3d"
    tooltip = (
        "The loss as a surface over two parameters (the others held): drag to rotate, wheel "
        "to zoom. Lines: each run's path on the surface; dots: the current points.\nFor one "
        "parameter with data (wavy, slope): every sample's loss over (x, w), with the path of "
        "(the step's sample x, w) and the current w across all samples.")

    def __init__(self, parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 0, 0)
        super().__init__(self.body, RESOLUTION, parent)
        self.feed.sig_grid.connect(self._on_feed_grid)
        self.label = QLabel("")
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setMinimumHeight(80)
        self.label.setStyleSheet("QLabel { background: #f3f3f3; color: #333; border: 1px solid "
                                 "#ccc; border-radius: 6px; padding: 12px; font-size: 12pt; }")
        self.body_layout.addWidget(self.label)
        self.gl = None                 # the GLViewWidget, once OpenGL has started
        self.unavailable = ""          # why OpenGL cannot start here ('' = not known yet)
        self.mode = ""                 # "pair", "samples" or "" (nothing to draw)
        self.surface: grids.SampleSurface | grids.LossGrid | None = None
        self.paths: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []  # raw (x, y, loss)
        self._slice_losses: dict[tuple, tuple[int, np.ndarray]] = {}  # (generation, losses)
        self._box = (0.0, 1.0, 0.0, 1.0, 0.0, 1.0)     # x0, x1, y0, y1, z0, z1 (shown units)
        self._scale: grids.DisplayScale | None = None
        self.fallback: ContourView | None = None   # the map shown when OpenGL cannot run
        self.log_box = QCheckBox("log height")
        self.log_box.setObjectName("log_height")
        self.log_box.setToolTip("Height (and colour) on a log scale of the loss: valleys that "
                                "span decades become visible. Off: linear, the true shape (a "
                                "bowl looks like a bowl). Chosen automatically for each new "
                                "problem until you set it.")
        self.log_box.toggled.connect(self._on_log_box_toggled)
        self.frame.bar.insertWidget(0, self.log_box)
        self._log_chosen: bool | None = None  # the height scale chosen (None: automatic)
        self._log_problem = None  # the problem it was chosen for (a new one: automatic)
        self._setting_box = False
        self._set_label("3-D view: OpenGL starts when the view is shown.")
        from PySide6.QtGui import QGuiApplication

        platform = QGuiApplication.platformName()
        if platform in ("offscreen", "minimal"):   # known at once: no GL import, no widget
            self._fall_back(f"OpenGL needs a display (running {platform})")

    # -- OpenGL, created on first show ----------------------------------------------------------
    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self.gl is None and not self.unavailable:
            QTimer.singleShot(0, self.ensure_gl)   # let the window paint first

    def ensure_gl(self) -> bool:
        """Start OpenGL (once) if it can run here; True when the 3-D widget exists."""
        if self.gl is not None:
            return True
        if self.unavailable:
            return False
        reason, renderer = gl_check()
        if reason:
            self._fall_back(reason)
            return False
        import pyqtgraph.opengl as gl

        self.scene = SurfaceScene(renderer)
        self.gl = self.scene.widget
        self.lines = self.scene.lines       # one path line and one set of dots per run
        self.section = gl.GLLinePlotItem(color=(0.1, 0.1, 0.1, 1.0), width=2.0,
                                         antialias=True, glOptions="translucent")
        self.gl.addItem(self.section)
        self.body_layout.addWidget(self.gl, 1)
        self.label.setVisible(False)
        if self.surface is not None:       # computed before OpenGL started
            self._new_surface()
        self._redraw()
        return True

    def _fall_back(self, reason: str) -> None:
        """No OpenGL here: say why, and show the same loss as a map from above (a contour
        view inside this dock, driven by this view)."""
        self.unavailable = reason
        self.feed.shutdown()
        self._set_label(f"3-D view unavailable: {reason}. Shown below as a map from above; "
                        "run gdviz on a desktop (or under xvfb-run) to see the surface.")
        self.label.setMinimumHeight(0)
        self.frame.info.setVisible(False)
        self.fallback = ContourView(analysis=False)   # what the 3-D view draws: no fan
        self.fallback.frame.title.setVisible(False)
        for k in range(self.fallback.frame.bar.count()):     # this view's bar rules
            widget = self.fallback.frame.bar.itemAt(k).widget()
            if widget is not None:
                widget.setVisible(False)
        self.fallback.sig_start_picked.connect(self.sig_start_picked)
        self.body_layout.addWidget(self.fallback, 1)
        if self.problem is not None:
            self.fallback.set_run(self.problem, self.config, self.history)
            self.fallback.set_tracks(self.tracks, self.selected_track)

    def _gl_impossible(self) -> bool:
        return self.fallback is not None

    def _resume_grid(self) -> None:
        if not self._gl_impossible():        # the fallback map resumes its own grid
            super()._resume_grid()

    def _set_label(self, text: str) -> None:
        self.label.setText(text)
        self.label.setVisible(True)

    # -- run and tracks ------------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        self._start_run(problem, config, history)
        if self.isVisible():
            self.ensure_gl()
        if self.fallback is not None:
            self.fallback.set_run(problem, config, history)
        self._configure()

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        super().set_tracks(tracks, selected)
        if self.fallback is not None:
            self.fallback.set_tracks(tracks, selected)
        self._legend()
        self._redraw()

    def _configure(self) -> None:
        problem = self.problem
        self.surface, self._scale = None, None
        if problem is not self._log_problem:  # a new problem: automatic until chosen
            self._log_chosen, self._log_problem = None, problem
        # one parameter: linear only (each sample's curve touches 0: log would make spikes)
        self.log_box.setEnabled(problem.n_params > 1)
        if problem.n_params == 1:
            self._show_log_box(False)
        if self.fallback is not None and problem.n_params > 1:
            for combo, k in zip(self.fallback.combos, self.pair):
                combo.setCurrentIndex(k)       # the map follows this view's pair
        if problem.n_params > 1:
            self.mode = "pair"
            if not self._gl_impossible():      # no grid nobody can see
                self.feed.configure(problem, *self.pair, self._center(), self._points())
        else:
            self.feed.shutdown()
            self.surface = grids.sample_surface(problem, 100)
            self.mode = "samples" if self.surface is not None else ""
            if self.surface is not None:
                self._new_surface()
        self._set_title()
        self._legend()
        self._redraw()

    def _set_title(self) -> None:
        problem, (i, j) = self.problem, self.pair
        names = problem.param_names
        log = " (height: log scale)" if self._scale is not None and self._scale.log else ""
        if self.mode == "samples":
            self.frame.set_title(f"Every sample's loss over (x, {names[0]}){log} · "
                                 f"{self.surface.title}")
        elif self.mode == "pair":
            held = "" if self.feed.wanted is None else style.listing(
                f"{names[k]} = {style.fmt(v, 3)}" for k, v in self.feed.wanted.held().items())
            what = "f" if not problem.has_data else "loss"
            self.frame.set_title(f"{what}({names[i]}, {names[j]}){log}"
                                 + (f" · held: {held}" if held else ""))
        else:
            self.frame.set_title("3-D surface: nothing to draw for this problem (one "
                                 "parameter and no data)")

    def _legend(self) -> None:
        if self.problem is None:
            return
        entries = [("━━", t.color, t.name) for t in self.tracks]
        if self.mode == "samples":
            entries = [("━━", t.color, f"{t.name}: (x of the step's sample, {self._wname()})")
                       for t in self.tracks]
            entries.append(("━━", style.TEXT, f"every sample's loss at the current "
                                              f"{self._wname()}"))
        entries.append(("●", style.TEXT, "current point · drag to rotate, wheel to zoom"))
        self.frame.info.setText(legend_html(entries))
        self.frame.info.setVisible(self.mode != "" and self.fallback is None)

    def _wname(self) -> str:
        return self.problem.param_names[0]

    # -- the surface ---------------------------------------------------------------------------
    def _on_feed_grid(self, grid: grids.LossGrid) -> None:
        if self.mode != "pair":
            return
        self.surface = grid
        self._new_surface()
        self._set_title()
        self._redraw()

    def _new_surface(self) -> None:
        """Box mapping and mesh of a new surface (not per step)."""
        s = self.surface
        if isinstance(s, grids.LossGrid):
            xs, ys, cmap = s.xs, s.ys, pg.colormap.get("viridis")
            self._scale = s.scale if self._log_chosen in (None, s.scale.log) else \
                grids.display_scale(s.values, log=self._log_chosen)
            self._show_log_box(self._scale.log)
        else:
            # linear, as in the lesson: each sample's curve touches 0 somewhere, and a log
            # height would turn every such point into a spike
            finite = s.values[np.isfinite(s.values)]
            self._scale = grids.DisplayScale(False, 0.0, 0.0, float(finite.min()),
                                             float(finite.max()))
            xs, ys, cmap = s.xs, s.ws, HOT
        z = self._scale.apply(s.values)
        zlo, zhi = self._scale.lo, self._scale.hi
        self._box = (float(xs[0]), float(xs[-1]), float(ys[0]), float(ys[-1]), zlo, zhi)
        if self.gl is None:
            return
        self.scene.box = self._box
        self.scene.show_surface(xs, ys, z, cmap)
        self._draw_frame()

    def _draw_frame(self) -> None:
        """Three axes along the box edges, their names and end values."""
        _, _, _, _, z0, z1 = self._box
        names = self.problem.param_names
        if self.mode == "samples":
            xname, yname, zname = "x", names[0], "loss ℓ"
        else:
            xname, yname = names[self.pair[0]], names[self.pair[1]]
            zname = "loss (log scale)" if self._scale is not None and self._scale.log else "loss"
        zlo, zhi = (z0, z1) if self._scale is None else \
            (float(v) for v in self._scale.invert(np.array([z0, z1])))
        self.scene.show_axes(xname, yname, zname, zlo, zhi)

    # -- the height scale ---------------------------------------------------------------------
    def height_is_log(self) -> bool:
        """True when the surface's height (and colour) is on a log scale of the loss."""
        return self._scale is not None and self._scale.log

    def choices_applied(self, names: tuple[str, ...]) -> None:
        """A session, an export or a lesson set the height box: it is chosen, not automatic."""
        if "log_box" in names and self.log_box.isEnabled():
            self._choose_log(self.log_box.isChecked())

    def _on_log_box_toggled(self, on: bool) -> None:
        if not self._setting_box:
            self._choose_log(on)

    def _choose_log(self, on: bool) -> None:
        self._log_chosen = bool(on)
        if isinstance(self.surface, grids.LossGrid):
            self._new_surface()
            self._set_title()
            self._redraw()

    def _show_log_box(self, on: bool) -> None:
        self._setting_box = True
        try:
            self.log_box.setChecked(bool(on))
        finally:
            self._setting_box = False

    # -- the paths ------------------------------------------------------------------------------
    def show_step(self, index: int) -> None:
        h = self.history
        if h is None or len(h) == 0 or self.problem is None:
            return
        # every run draws up to the lock-step index (the selected one may have ended)
        self._index = int(np.clip(index, 0, self.newest_step()))
        if self.fallback is not None:
            self.fallback.show_step(index)
        elif self.mode == "pair":
            self.feed.follow(self._center(), self._points)
        self._redraw()
        track = self.tracks[self.selected_track]
        k = self.track_index(track, self._index)
        parts = [f"step {int(track.history.steps[k])}",
                 f"loss {style.fmt(float(track.history.losses[k]))}"]
        set_status_text(self.frame.status, " · ".join(parts))

    def _redraw(self) -> None:
        """Compute the paths (raw units, kept in ``self.paths``) and draw them if GL runs."""
        if self.problem is None or self.history is None or len(self.history) == 0:
            return
        self.paths = []
        if self.mode == "pair" and self.surface is not None:
            self.paths = [self._pair_path(t) for t in self.tracks]
        elif self.mode == "samples":
            self.paths = []
            for t in self.tracks:
                x, w, loss = sample_path(self.problem, t.history,
                                             self.track_index(t, self._index))
                keep = decimate(x, MAX_POINTS) if len(x) else np.zeros(0, dtype=np.int64)
                self.paths.append((x[keep], w[keep], loss[keep]))
        if self.gl is None:
            return
        self.scene.show_paths([(self._box_points(*path), pg.mkColor(track.color).getRgbF(),
                                self.mode == "pair" or joined(path[0]), self.mode == "samples")
                               for path, track in zip(self.paths, self.tracks)])
        self._draw_section()

    def _pair_path(self, track: RunTrack) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, loss) of the run's path on the shown surface: for two parameters the
        recorded losses; with more, the loss at the surface's held values."""
        (i, j), h = self.pair, track.history
        k = self.track_index(track, self._index)
        keep = decimate(h.steps[: k + 1], MAX_POINTS)
        # the two columns of the kept rows only: a network's rows are ~100 parameters wide
        x, y = np.array(h.params[np.ix_(keep, [i, j])], dtype=np.float64).T
        if self.problem.n_params == 2:
            loss = np.array(h.losses[: k + 1][keep], dtype=np.float64)
        else:
            # the loss on the shown slice, per step, computed once per held values (a full
            # loss per point: only the steps not seen before are evaluated)
            key = (id(h), self.surface.spec)
            generation, known = self._slice_losses.get(key, (h.generation, np.zeros(0)))
            known = known[: h.unchanged_rows(generation, len(known))]   # rows thinning moved
            if len(known) < len(h):
                known = np.concatenate([known, np.full(len(h) - len(known), np.nan)])
            todo = keep[np.isnan(known[keep])]
            if len(todo):
                held = np.array(h.params[todo], dtype=np.float64)
                for m, v in self.surface.spec.held().items():
                    held[:, m] = v
                with np.errstate(all="ignore"):
                    known[todo] = self.problem.loss(held)
            self._slice_losses = {key2: v for key2, v in self._slice_losses.items()
                                  if key2[1] == key[1]}        # other held values: dropped
            self._slice_losses[key] = (h.generation, known)
            loss = known[keep]
        return x, y, loss

    def _draw_section(self) -> None:
        """One parameter: every sample's loss at the current w, a line across the surface."""
        if self.mode != "samples" or self.surface is None:
            self.section.setVisible(False)
            return
        track = self.tracks[self.selected_track]
        w = float(track.history.params[self.track_index(track, self._index)][0])
        xs = self.surface.xs
        with np.errstate(all="ignore"):
            if self.surface.samples is None:     # a dense x grid: the kernel takes any x
                loss = self.problem._sample_losses(np.array([[w]]), xs[:, None], None)[0]
            else:                                # the samples' own curves
                loss = self.problem.sample_losses(np.array([w]), self.surface.samples)
        self.section.setData(pos=self._box_points(xs, np.full(len(xs), w), loss))
        self.section.setVisible(bool(np.isfinite(w)))

    def _box_points(self, x, y, loss) -> np.ndarray:
        return box_points(self._box, x, y,
                          loss if self._scale is None else self._scale.apply(loss))

    def grab_image(self) -> QImage:
        """The whole view as an image, the 3-D picture included WITH its axis labels: Qt's
        grab() of an OpenGL widget drops what pyqtgraph paints over it with QPainter (the
        GLTextItems), so the framebuffer is painted in on top (for exports, screenshots)."""
        image = self.grab().toImage()
        return image if self.gl is None else self.scene.paint_into(self, image)

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        if self.fallback is not None:
            return self.fallback.wait_ready(timeout_ms)
        return self.feed.wait_ready(timeout_ms)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        if self.fallback is not None:   # a child gets no closeEvent of its own
            self.fallback.feed.shutdown()
        super().closeEvent(event)
