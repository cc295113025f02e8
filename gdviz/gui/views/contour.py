"""The loss over two chosen parameters as a colour map with iso-lines, every run's trajectory,
and the gradient fan of the selected run at its current step.

The fan shows, at the point where step ``index`` took its gradient (``params_before``), the
step each sample alone would give, −η·c·∇ℓᵢ (c = ``problem.reduce_factor(1)``: 1 for mean
losses, n for summed ones, so a one-sample step estimates the full step on the same scale), as
ONE faint NaN-separated item; the full-data step −η∇L and the batch step −η·g (the record's
gradient) in bold. The batch step is the average of its samples' steps: a noisy estimate of
the full step. With mini-batches, the steps of BATCH_CLOUD other batches the run's sampler
could have drawn there (``core.noise.sample_batch_gradients``, seeded by the step so a redraw
is the same picture) are faint dots, with the 1σ and 2σ ellipses of their covariance: the
mini-batch gradient's distribution, which tightens as the batch grows. The update arrow is the
step the optimizer actually took (momentum, Adam...).

The grid (``gdviz.core.grids``) is computed by a ``GridFeed``: cached, in the background when
expensive (the previous image stays meanwhile), recomputed only when the region, the pair or
the held values change. Clicking or dragging on the map emits ``sig_start_picked`` with a new
start point (the two chosen parameters replaced, the others kept from the start point);
``pick(x, y)`` does what a click does.

"Hessian ellipse" (a check box) draws at the selected run's current point the curvature of the
map's slice there (the 2×2 block of the full loss's Hessian for the two parameters shown,
core.curvature.curvature_ellipse): a level set of the local quadratic model, semi-axes ∝ 1/√λ
along the eigenvectors, and the two axes (a non-positive curvature has an axis only). A
formula's Hessian is derived in the background first (gui.tasks.TaskRunner).

One parameter with data (wavy, slope): the map is every sample's loss over (x, w) — lesson 1's
3-D surface seen from above — with each run's (x of the step's sample, w) path and the current
w as a dashed line; a click picks w. One parameter without data: a message.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from gdviz.core import grids
from gdviz.core.curvature import curvature_ellipse
from gdviz.core.grids import DEFAULT_RESOLUTION, LossGrid
from gdviz.core.history import RunHistory, decimate
from gdviz.core.noise import covariance_ellipse, sample_batch_gradients
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.surfaces import evenly_chosen, segments
from gdviz.gui import tasks
from gdviz.gui.views import style
from gdviz.gui.views.at_point import at_point, sample_gradients_at
from gdviz.gui.views.base import RunTrack, configure_pyqtgraph
from gdviz.gui.views.items.arrows import ArrowPool
from gdviz.gui.views.items.caching import cache_axes, unindexed
from gdviz.gui.views.items.dots import Dots
from gdviz.gui.views.items.rule_lines import RuleLines
from gdviz.gui.views.items.updates import set_curve, set_wide_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.map_parts import LossMap, PickBox, message_label
from gdviz.gui.views.pair_view import (
    GrowingDots,
    PairGridView,
    joined,
    legend_html,
    sample_path,
)
from gdviz.gui.views.seed_parts import GHOST_POINTS, GhostPaths, SeedCloud, ghost_rows, separated
from gdviz.gui.views.status_label import set_status_text

MAX_POINTS = 1000      # trajectory points drawn per track (decimated): stroking a 2 px path
                       # costs ~linear in its points (2000: 1.4 ms a run and frame; 1000: 0.7)
MAX_PATH_POINTS = 3000  # ... and of all runs together: 1000 a run for up to three, 500 for six
MAX_DOTS = 1500        # lesson 1's (x, w) dots of all runs together: 1000 for one run, 250 a
                       # run for six (6000 overlapping dots hid each other and cost ~1 ms)
FAN_CAP = 200          # per-sample steps drawn at most (evenly chosen)
FAN_RGBA = (50, 60, 80, 90)  # darker than the sample curves' grey: it sits on a colour map
ELLIPSE_SIZE = 0.12    # the Hessian ellipse's longest semi-axis, of the map's shorter side
BATCH_CLOUD = 200      # sampled batch steps drawn at the current point (~0.6 ms for n = 1000)
ONE_PARAM = ("One parameter and no data: there is no 2-D landscape to draw here. See the "
             "loss curve in the per-sample losses view.")


class ContourView(PairGridView):
    title = "Contour"
    view_id = "contour"
    tooltip = (
        "The full loss over two parameters (the others held at their current values): colour "
        "and iso-lines. Lines: each run's path. At the current point of the selected run: "
        "faint lines, the step each sample alone would give (−η∇ℓᵢ); bold blue, the step of "
        "the full data; violet, the batch's step (their average over the batch); dark, the "
        "update the optimizer took. Violet dots: the steps of other batches the sampler could "
        "have drawn here, with the 1σ and 2σ ellipses of their spread (smaller batches, "
        "wider cloud).\nClick or drag on the map to start the run there.")

    def __init__(self, parent: QWidget | None = None, analysis: bool = True) -> None:
        """``analysis``: draw the selected run's step at its current point (the fan, the
        full, batch and update steps, the batch cloud, the Hessian ellipse). The 3-D view's
        map from above (its stand-in without OpenGL) draws what the 3-D view draws, the
        surface and the paths, without them: on a network they cost it ~2 ms a frame."""
        configure_pyqtgraph()      # the light theme before the first plot widget exists
        self.analysis = analysis
        self.box = PickBox()
        self.plot = pg.PlotWidget(viewBox=self.box)
        self.plot.initial_title = "Contour"
        super().__init__(self.plot, DEFAULT_RESOLUTION, parent)
        self.box.sig_picked.connect(self._on_box_picked)
        self.feed.sig_grid.connect(self._on_feed_grid)
        self.feed.sig_failed.connect(self._on_feed_failed)
        self._init_plot_style()
        self.message = message_label(ONE_PARAM)
        self.layout().addWidget(self.message, 1)
        self._build_items()
        self.hessian_box = QCheckBox("Hessian ellipse")
        self.hessian_box.setToolTip(
            "At the selected run's current point: the curvature of this slice of the loss, "
            "from the exact Hessian. The ellipse is a level set of the local quadratic "
            "model ½·dᵀHd: long where the loss is flat (semi-axes ∝ 1/√λ along the "
            "Hessian's eigenvectors), with its two axes. A direction of negative curvature "
            "(a saddle) has no ellipse, only its axis.")
        self.hessian_box.toggled.connect(self._on_hessian_box_toggled)
        self.frame.bar.insertWidget(4, self.hessian_box)
        self.hessian_runner = tasks.TaskRunner(self)   # derives a formula's Hessian once
        self.hessian_runner.sig_ready.connect(self._on_hessian_runner_ready)

    def _init_plot_style(self) -> None:
        p = self.plot.getPlotItem()
        p.showGrid(x=False, y=False)
        p.setMenuEnabled(False)
        p.hideButtons()
        for name in ("bottom", "left"):
            p.getAxis(name).enableAutoSIPrefix(False)
        cache_axes(self.plot)
        unindexed(self.plot)

    def _build_items(self) -> None:
        p = self.plot.getPlotItem()
        self.map = LossMap(p)
        self.image, self.iso, self.colorbar = self.map.image, self.map.iso, self.map.colorbar
        # markers of a few points: drawn by Qt (dots.Dots), not by a scatter's Python paint
        self.minima = Dots("star", size=17, pen=pg.mkPen("w"), brush=pg.mkBrush(style.TRUE))
        self.start = Dots("o", size=13, pen=pg.mkPen(style.START, width=2.5))
        self.picked = Dots("+", size=16, pen=pg.mkPen("k", width=2))
        self.fan = pg.PlotDataItem([], [], connect="finite", pen=pg.mkPen(FAN_RGBA, width=1))
        self.current = Dots("o", size=7, pen=pg.mkPen("w", width=1.5))
        self.batch_cloud = Dots("o", size=4, brush=style.qcolor(style.BATCH, 90))
        self.batch_ellipses = pg.PlotDataItem(
            [], [], connect="finite", pen=pg.mkPen(style.BATCH, width=1.5,
                                                   style=Qt.PenStyle.DashLine))
        for z, item in ((6, self.start), (12, self.fan), (13, self.batch_cloud),
                        (14, self.batch_ellipses), (38, self.minima), (40, self.current),
                        (41, self.picked)):
            item.setZValue(z)
            p.addItem(item)
        self.full_step = ArrowPool(p, style.FULL, capacity=1, width=3.0, z=30)
        self.batch_step = ArrowPool(p, style.BATCH, capacity=1, width=3.0, z=32)
        self.update_step = ArrowPool(p, style.TEXT, capacity=1, width=1.5, z=34)
        self.tracks_items: list[WideCurve] = []  # a path per run: a line ...
        self.tracks_dots: list[GrowingDots] = []  # ... or dots (samples taken in no order)
        self.w_now = RuleLines(  # the current w (one parameter): moves every frame
            self.plot, pg.mkPen(style.TEXT, width=1.5, style=Qt.PenStyle.DashLine),
            vertical=False, z=15)
        self.w_now.setVisible(False)
        self.ellipse = pg.PlotCurveItem([], [], pen=pg.mkPen(style.TEXT, width=2))
        self.ellipse_axes = pg.PlotCurveItem(
            [], [], connect="pairs", pen=pg.mkPen(style.TEXT, width=1.5,
                                                  style=Qt.PenStyle.DashLine))
        for item in (self.ellipse, self.ellipse_axes):
            item.setZValue(36)
            p.addItem(item, ignoreBounds=True)
        self.ghosts = GhostPaths(p, z=8)        # every run's other seeds, faint
        self.seed_cloud = SeedCloud(p, z=24)    # their current points and ellipses
        self.surface: grids.SampleSurface | None = None
        self.mode = ""                     # "pair", "samples" (one parameter) or "" (message)
        self.note = pg.TextItem("", color=style.TEXT, anchor=(0, 0),
                                fill=pg.mkBrush(255, 255, 255, 200))
        self.note.setZValue(50)
        self.note.setVisible(False)
        p.addItem(self.note, ignoreBounds=True)
        self.frame.info.setVisible(True)     # the legend, below the map

    # -- run and tracks -------------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        self._start_run(problem, config, history)
        self.surface = grids.sample_surface(problem) if problem.n_params == 1 else None
        self.mode = "pair" if problem.n_params > 1 else "samples" if self.surface else ""
        self.message.setVisible(not self.mode)
        self.plot.setVisible(bool(self.mode))
        self.frame.info.setVisible(bool(self.mode))
        if not self.mode:
            self.feed.shutdown()
            self.frame.set_title("Contour: needs two parameters")
            return
        self._configure()

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        super().set_tracks(tracks, selected)
        if not self.mode:
            return
        self._style_tracks()
        self._rebuild_legend()
        self.show_step(self._index)

    def _style_tracks(self) -> None:
        """One line item per track (created when a comparison first needs it), pens by track."""
        p = self.plot.getPlotItem()
        while len(self.tracks_items) < len(self.tracks):
            item = WideCurve(connect="finite")
            item.setZValue(20)
            p.addItem(item)
            self.tracks_items.append(item)
            self.tracks_dots.append(GrowingDots(p, MAX_POINTS, z=20))
        for dots in self.tracks_dots:
            dots.max_points = dots_per_run(len(self.tracks))
        self.ghosts.style(self.tracks)
        self.seed_cloud.style(self.tracks)
        self._brushes = [pg.mkBrush(t.color) for t in self.tracks]   # made once, not per step
        self._sizes = [11 if k == self.selected_track else 8 for k in range(len(self.tracks))]
        for k, item in enumerate(self.tracks_items):
            if k < len(self.tracks):
                chosen = k == self.selected_track
                item.setPen(pg.mkPen(self.tracks[k].color, width=2.5 if chosen else 1.8))
                item.setZValue(21 if chosen else 20)   # the selected run on top
            else:
                item.setData([], [])
                self.tracks_dots[k].clear()

    def _configure(self) -> None:
        """New problem or pair: axes, static markers, and the grid of the new region."""
        if self.mode == "samples":
            self._configure_samples()
            return
        self.w_now.setVisible(False)
        problem, (i, j) = self.problem, self.pair
        names = problem.param_names
        self.plot.setLabel("bottom", names[i])
        self.plot.setLabel("left", names[j])
        start = self.config.start_point()
        self.start.set_points([start[i]], [start[j]])
        self.picked.clear()
        mins = [m.params for m in problem.minima]
        self.minima.set_points([m[i] for m in mins], [m[j] for m in mins])
        self._set_title()
        self._rebuild_legend()
        self.map.clear()
        self._style_tracks()
        self.feed.configure(problem, i, j, self._center(), self._points())
        self._frame_region()
        if len(self.history):
            self.show_step(self._index)

    def _configure_samples(self) -> None:
        """One parameter with data: the per-sample surface over (x, w), seen from above."""
        self.feed.shutdown()
        s, name = self.surface, self.problem.param_names[0]
        self.plot.setLabel("bottom", "x of the sample")
        self.plot.setLabel("left", name)
        for item in (self.start, self.minima, self.picked):
            item.clear()
        self.w_now.setVisible(True)
        finite = s.values[np.isfinite(s.values)]
        scale = grids.DisplayScale(False, 0.0, 0.0, float(finite.min()), float(finite.max()))
        levels = np.linspace(scale.lo, scale.hi, grids.ISO_LEVELS + 2)[1:-1]
        self._show_map(s.xs, s.ws, s.values, scale, grids.isolines(s.values, s.xs, s.ws, levels))
        self.colorbar.axis.setLabel("per-sample loss ℓ")
        self.frame.set_title(f"One parameter: every sample's loss over (x, {name}), the 3-D "
                             f"surface seen from above · {s.title}")
        self._style_tracks()
        self._rebuild_legend()
        if len(self.history):
            self.show_step(self._index)

    def _rebuild_legend(self) -> None:
        problem = self.problem
        if problem is None or not self.mode:
            return
        if self.mode == "samples":
            w = problem.param_names[0]
            entries = [("━━", t.color, f"{t.name}: (x of the step's sample, {w} before it)")
                       for t in self.tracks]
            entries += [("┅┅", style.TEXT, f"the current {w}"),
                        ("", style.TEXT, f"click the map to start at that {w}")]
            self.frame.info.setText(legend_html(entries))
            return
        entries = [("━━", t.color, t.name) for t in self.tracks]
        n = problem.n_samples if self.analysis else 0
        if n > 1:
            shown = min(n, FAN_CAP)
            extra = "" if shown == n else f" ({shown} of {n} shown)"
            entries.append(("━━", "#5a6478", f"one sample's step −η∇ℓᵢ{extra}"))
        if self.analysis:
            entries.append(("➞", style.FULL, "full-data step −η∇L"))
        if n > 1 and self.config.effective_batch_size() < n:
            entries.append(("➞", style.BATCH, "batch step (mean of its samples' steps)"))
            entries.append(("∙", style.BATCH, f"{BATCH_CLOUD} other batches' steps, "
                                               "1σ and 2σ ellipses"))
        if self.analysis:
            entries.append(("➞", style.TEXT, "update taken"))
        seeded = [t for t in self.tracks if t.seeds is not None]
        if seeded:   # two short entries: the map needs the height (1280×800)
            color = seeded[0].color if len(seeded) == 1 else style.TEXT
            entries.append(("●━", color, f"{seeded[0].seeds.n_seeds} seeds: faint paths, "
                                         "points now, 1σ/2σ"))
            if any(p is not None for p in self.seed_cloud.predictions):
                entries.append(("┅┅", color, "predicted 1σ/2σ"))
        if problem.minima:
            entries.append(("★", style.TRUE, "known minimum"))
        entries.append(("○", style.START, "start: click the map to move it"))
        self.frame.info.setText(legend_html(entries))

    # -- drawing --------------------------------------------------------------------------------
    def show_step(self, index: int) -> None:
        h, problem = self.history, self.problem
        if h is None or problem is None or len(h) == 0 or not self.mode:
            return
        # every run draws up to the lock-step index (the selected one may have ended)
        self._index = index = int(np.clip(index, 0, self.newest_step()))
        if self.mode == "samples":
            self._show_samples_step(index)
            return
        i, j = self.pair
        self._draw_tracks(index)
        self._draw_seeds(index)
        self.feed.follow(self._center(), self._points)
        track = self.tracks[self.selected_track]
        k = self.track_index(track, index)
        if self.analysis:
            self._draw_fan(track.history, k)
            self._draw_ellipse(track.history.params[k])
            self._draw_batch_cloud(track, k)
        current = [t.history.params[self.track_index(t, index)] for t in self.tracks]
        self.current.set_points([float(p[i]) for p in current], [float(p[j]) for p in current],
                                brushes=self._brushes, sizes=self._sizes)
        self._status(track.history, k)

    def _show_samples_step(self, index: int) -> None:
        ends = []
        for item, dots, track in zip(self.tracks_items, self.tracks_dots, self.tracks):
            x, w, _ = sample_path(self.problem, track.history, self.track_index(track, index))
            keep = decimate(x, MAX_POINTS) if len(x) else np.zeros(0, dtype=np.int64)
            if joined(x[keep]):
                item.setData(x[keep], w[keep], pen=pg.mkPen(track.color, width=2))
                dots.clear()
            else:
                set_curve(item, [], [])
                dots.show(x, w, track.color)
            if len(x):
                ends.append((x[-1], w[-1], track.color))
        self.current.set_points([e[0] for e in ends], [e[1] for e in ends],
                                brushes=[e[2] for e in ends], sizes=[9] * len(ends))
        track = self.tracks[self.selected_track]
        k = self.track_index(track, index)
        self.w_now.setValue(float(track.history.params[k][0]))
        for k_track in range(len(self.tracks)):
            self.ghosts.clear(k_track)
            self.seed_cloud.clear(k_track)
        set_curve(self.fan, [], [])
        self._clear_batch_cloud()
        self._clear_arrows()
        set_curve(self.ellipse, [], [])
        set_curve(self.ellipse_axes, [], [])
        self._status(track.history, k)

    def _draw_tracks(self, index: int) -> None:
        i, j = self.pair
        for item, track in zip(self.tracks_items, self.tracks):
            k = self.track_index(track, index)
            keep = decimate(track.history.steps[: k + 1], path_points(len(self.tracks)))
            # the two columns of the kept rows only: a network's rows are ~100 wide
            x, y = track.history.params[np.ix_(keep, [i, j])].T
            # antialiased only while short: a long zig-zag path stroked 2 px wide with
            # antialiasing cost ~5 ms a run and frame (six runs: most of the frame)
            set_wide_curve(item, self._finite(x), self._finite(y))

    def _draw_seeds(self, index: int) -> None:
        """Every run's other seeds up to lock-step ``index``: faint paths and the cloud."""
        i, j = self.pair
        budget = GHOST_POINTS // max(1, len(self.tracks))
        for k, track in enumerate(self.tracks):
            paths = track.seeds
            if paths is None or len(paths) == 0:
                self.ghosts.clear(k)
                self.seed_cloud.clear(k)
                continue
            _steps, params = ghost_rows(paths, index, budget)
            self.ghosts.draw(k, separated(params[:, :, i]), separated(params[:, :, j]))
            self.seed_cloud.draw(k, paths.points_at(index), (i, j))

    def _draw_fan(self, h: RunHistory, k: int) -> None:
        problem, (i, j) = self.problem, self.pair
        before = np.array(h.params_before(k), dtype=np.float64)
        lr = float(h.lrs[k])
        if not np.all(np.isfinite(before)):
            set_curve(self.fan, [], [])
            self._clear_arrows()
            return
        x0, y0 = before[i], before[j]
        n = problem.n_samples
        with np.errstate(all="ignore"):
            every = self._every_sample_gradient(before) if self._cloud_wanted() else None
            if n > 1:
                pick = evenly_chosen(n, FAN_CAP)
                estimates = (every[pick] if every is not None else problem.reduce_factor(1)
                             * problem.sample_grads(before, pick)[:, [i, j]])
                steps = -lr * estimates
                self.fan.setData(*segments(np.full(len(pick), x0), np.full(len(pick), y0),
                                           x0 + steps[:, 0], y0 + steps[:, 1]))
            else:
                set_curve(self.fan, [], [])
            # the mean of the one-sample estimates is the full gradient
            full = -lr * (every.mean(axis=0) if every is not None
                          else problem.grad(before)[[i, j]])
        self.full_step.set_arrows([x0], [y0], [x0 + full[0]], [y0 + full[1]])
        batch = h.batch_at(k)
        if k > 0 and len(np.unique(batch)) < n:
            step = -lr * np.asarray(h.grads[k])
            self.batch_step.set_arrows([x0], [y0], [x0 + step[i]], [y0 + step[j]])
        elif len(self.batch_step.data()):
            self.batch_step.clear()
        if k > 0:
            after = h.params[k]
            self.update_step.set_arrows([x0], [y0], [after[i]], [after[j]])
        elif len(self.update_step.data()):
            self.update_step.clear()

    def _draw_ellipse(self, point: np.ndarray) -> None:
        """The Hessian ellipse at ``point`` (p,), when asked for and the Hessian is at hand."""
        problem, (i, j) = self.problem, self.pair
        if not (self.hessian_box.isChecked() and problem.has_hessian_vector_products
                and i != j):
            set_curve(self.ellipse, [], [])
            set_curve(self.ellipse_axes, [], [])
            return
        if problem.has_hessian and not problem.hessian_ready:
            if not self.hessian_runner.busy:
                self.hessian_runner.request(id(problem), lambda should_stop: problem.hessian(
                    np.asarray(problem.default_init, dtype=np.float64)))
            return
        # the 2×2 block from two Hessian-vector products (a network's needs no full Hessian)
        with np.errstate(all="ignore"):
            columns = problem.hessian_vector_products(
                np.asarray(point, dtype=np.float64), np.eye(problem.n_params)[[i, j]])
        block = columns[:, [i, j]]
        (x0, x1), (y0, y1) = self.box.viewRange()
        radius = ELLIPSE_SIZE * min(x1 - x0, y1 - y0)
        ellipse, axes = curvature_ellipse(block, np.array([point[i], point[j]]), radius)
        set_curve(self.ellipse, ellipse[:, 0], ellipse[:, 1])
        set_curve(self.ellipse_axes, axes[:, 0], axes[:, 1])

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.hessian_runner.shutdown()
        super().closeEvent(event)

    def _on_hessian_box_toggled(self, _checked: bool) -> None:
        if self.history is not None and len(self.history) and self.mode == "pair":
            self.show_step(self._index)

    def _on_hessian_runner_ready(self, _key, result) -> None:
        if isinstance(result, Exception):
            self.hessian_box.setChecked(False)
            self.hessian_box.setToolTip(f"No Hessian: {result}")
        elif self.history is not None and len(self.history) and self.mode == "pair":
            self.show_step(self._index)

    def _draw_batch_cloud(self, track: RunTrack, k: int) -> None:
        """The steps −η·g_B of BATCH_CLOUD batches drawn at step k's point as the run draws
        them, and the 1σ / 2σ ellipses of their covariance (mini-batches only)."""
        problem, (i, j) = self.problem, self.pair
        batch = track.config.effective_batch_size()
        before = np.array(track.history.params_before(k), dtype=np.float64)
        if not self._cloud_wanted() or not np.all(np.isfinite(before)):
            self._clear_batch_cloud()
            return
        lr = float(track.history.lrs[k])
        with np.errstate(all="ignore"):
            # seeded by the step: the 3-D view's map from above (a second ContourView) draws
            # the same cloud, looked up (gui.views.at_point)
            grads = at_point(problem, ("cloud", before.tobytes(), batch, track.config.order, k,
                                       i, j),
                             lambda: sample_batch_gradients(
                                 problem, before, batch, track.config.order,
                                 np.random.default_rng(k), BATCH_CLOUD,
                                 self._every_sample_gradient(before)))
            x = before[i] - lr * grads[:, 0]
            y = before[j] - lr * grads[:, 1]
            finite = np.isfinite(x) & np.isfinite(y)
            if finite.sum() < 2:   # a pole (custom 1/(w-b)): pyqtgraph warns on inf points
                self._clear_batch_cloud()
                return
            x, y = x[finite], y[finite]
            self.batch_cloud.set_points(x, y)
            center, cov = np.array([x.mean(), y.mean()]), np.cov(np.stack([x, y]))
            if np.all(np.isfinite(cov)):
                x1, y1 = covariance_ellipse(center, cov, 1.0)
                x2, y2 = covariance_ellipse(center, cov, 2.0)
                self.batch_ellipses.setData(np.concatenate([x1, [np.nan], x2]),
                                            np.concatenate([y1, [np.nan], y2]))
            else:
                set_curve(self.batch_ellipses, [], [])

    def _cloud_wanted(self) -> bool:
        """The selected run draws mini-batches: the batch cloud is drawn."""
        track = self.tracks[self.selected_track]
        n = self.problem.n_samples
        return n >= 2 and track.config.effective_batch_size() < n

    def _every_sample_gradient(self, at: np.ndarray) -> np.ndarray:
        """(n, 2) every sample's one-sample estimate of the full gradient at ``at``
        (``core.noise.per_sample_gradients``) in the map's two parameters, from the
        gradients shared by the views (a network's other ~100 columns are not drawn)."""
        i, j = self.pair
        return self.problem.reduce_factor(1) * sample_gradients_at(self.problem, at)[:, [i, j]]

    def _clear_batch_cloud(self) -> None:
        if len(self.batch_cloud.getData()[0]):
            self.batch_cloud.set_points([], [])
        set_curve(self.batch_ellipses, [], [])

    def _clear_arrows(self) -> None:
        for pool in (self.full_step, self.batch_step, self.update_step):
            if len(pool.data()):     # clearing an empty pool still costs a setData
                pool.clear()

    def _status(self, h: RunHistory, k: int) -> None:
        """The status depends on the step only (a redraw of a step is the same picture); the
        background computation is announced on the map."""
        parts = [f"step {int(h.steps[k])}", f"loss {style.fmt(float(h.losses[k]))}"]
        if len(self.tracks) > 1:
            parts.insert(0, self.tracks[self.selected_track].name)
        seeds = self.tracks[self.selected_track].seeds if self.tracks else None
        if seeds is not None and not seeds.done and seeds.shown(k) < k:   # outpaced (max speed)
            parts.append(f"seeds computed to step {seeds.shown(k)}")
        set_status_text(self.frame.status, " · ".join(parts))
        self._show_note()

    def _show_note(self) -> None:
        busy = self.feed.busy
        self.note.setVisible(busy)
        if busy:
            res = self.feed.points_per_side
            what = "computing" if self.feed.grid is None else "updating"
            self.note.setText(f"{what} the loss on {res}×{res} points…")
            (x0, _), (_, y1) = self.box.viewRange()
            self.note.setPos(x0, y1)

    def _on_feed_grid(self, grid: LossGrid) -> None:
        if self.mode != "pair":
            return
        self._show_map(grid.xs, grid.ys, grid.shown, grid.scale, grid.iso)
        self._set_title()
        self._frame_region()
        if self.history is not None and len(self.history):
            self.show_step(self._index)

    def _show_map(self, xs, ys, shown, scale: grids.DisplayScale, iso: np.ndarray) -> None:
        """The colour map (ny, nx) over xs × ys, its colour bar and iso-line segments."""
        self.map.show(xs, ys, shown, scale, iso)
        if self.mode == "samples":
            self.box.setRange(xRange=(xs[0], xs[-1]), yRange=(ys[0], ys[-1]), padding=0)

    def _on_feed_failed(self, message: str) -> None:
        self.frame.status.setText(message)

    def _frame_region(self) -> None:
        spec = self.feed.wanted
        if spec is not None:
            self.box.setRange(xRange=spec.x_range, yRange=spec.y_range, padding=0)

    def _set_title(self) -> None:
        problem, (i, j) = self.problem, self.pair
        names = problem.param_names
        what = "f" if problem.n_samples == 1 and not problem.has_data else "loss"
        title = f"{what}({names[i]}, {names[j]})"
        spec = self.feed.wanted
        if spec is not None and problem.n_params > 2:
            held = style.listing(f"{names[k]} = {style.fmt(v, 3)}"
                                 for k, v in spec.held().items())
            title += f" · held: {held}"
        self.frame.set_title(title)

    # -- helpers --------------------------------------------------------------------------------
    def _finite(self, values: np.ndarray) -> np.ndarray:
        """Values as float64, non-finite ones as NaN (a gap); far-out ones clipped so Qt can
        still draw the line leaving the map."""
        v = np.array(values, dtype=np.float64)
        v[~np.isfinite(v)] = np.nan
        return np.clip(v, -1e12, 1e12)

    def _on_box_picked(self, point, final: bool) -> None:
        self.pick(point.x(), point.y(), final)

    def pick(self, x: float, y: float, final: bool = True) -> None:
        """What a click on the map at (x, y), in data units, does: marks the point and emits
        ``sig_start_picked`` with the start point that puts the shown pair there. Not
        ``final`` (a drag under way): only marks it."""
        if not self.mode or self.config is None:
            return
        x, y = float(x), float(y)
        if self.mode == "samples":          # only the height (w) is a parameter
            self.w_now.setValue(y)
            if final:
                self.sig_start_picked.emit((y,))
            return
        i, j = self.pair
        self.picked.set_points([x], [y])
        if final:
            start = self.config.start_point()
            start[i], start[j] = x, y
            self.sig_start_picked.emit(tuple(float(v) for v in start))


def dots_per_run(runs: int) -> int:
    """How many (x, w) dots each of ``runs`` runs shows at most (see MAX_DOTS)."""
    return min(MAX_POINTS, max(250, MAX_DOTS // max(1, runs)))


def path_points(runs: int) -> int:
    """How many points each of ``runs`` runs' paths is decimated to (see MAX_PATH_POINTS)."""
    return min(MAX_POINTS, max(500, MAX_PATH_POINTS // max(1, runs)))
