"""Every parameter against the step, with the value it should reach as a dashed line.

The reference line is the problem's ``true_params`` (the values that generated the data) when
known, else the single global minimum of an analytic function; none when neither is known.

One run: one colour per parameter. Several runs (tracks): one colour per
run and one line style per parameter (solid, dashed, dotted), named in a key above the plot; the
parameter box shows all parameters or one at a time; for a network (``layer_groups``) also the
weights of one layer, or every layer's norms ‖W_l‖ and ‖b_l‖ (Euclidean, over the layer's
entries) against the step. The curve items are created when the runs
or the problem change (``set_run`` / ``set_tracks``) and only updated with ``setData`` per step.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from gdviz.core.history import RunHistory, peaks
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView, RunTrack
from gdviz.gui.views.items.dots import Dots
from gdviz.gui.views.items.updates import set_wide_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.ranges import GrowingRange, StickyRange
from gdviz.gui.views.seed_parts import GHOST_POINTS, GhostPaths, ghost_rows, separated
from gdviz.gui.views.status_label import set_status_text

MANY_PARAMS = 12  # more parameters than this: the view opens on the first one alone
ALL = "all"
NORMS = "layer norms ‖W‖, ‖b‖"
NORM_POINTS_PER_PIXEL = 2   # norms are drawn at this many evenly spaced steps per pixel column
# line style per parameter when colours mean runs, with the Key glyph that looks like it
PARAM_STYLES = ((Qt.PenStyle.SolidLine, "line"), (Qt.PenStyle.DashLine, "dash"),
                (Qt.PenStyle.DotLine, "dot"), (Qt.PenStyle.DashDotLine, "dash"))


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
        "Each parameter against the step. One run: one colour per parameter. Several runs: "
        "one colour per run and one line style per parameter (solid, dashed, dotted); pick a "
        "single parameter in the box to compare the runs on it. Dashed lines: the true value "
        "that generated the data (or the minimum of a test function), when known. The dots "
        "mark the shown step.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Parameters", "step", "parameter value")
        self.frame = style.ViewLayout(
            self, self.plot, with_combo=True,
            combo_tip="Which parameter to draw: all of them, or one (easier to read when "
                      "several runs are compared).")
        self.combo = self.frame.combo
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.plot.getPlotItem().disableAutoRange()
        self.x_range = GrowingRange(self.plot)
        self.y_range = StickyRange(self.plot, "y", fill=0.5, headroom=0.05)
        self.key = self.frame.add_key()
        self.key.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.track_curves: list[list[WideCurve]] = []  # [run][parameter]
        self.norm_curves: list[list[WideCurve]] = []   # [run][layer group] (NORMS chosen)
        self.groups: tuple[tuple[str, np.ndarray], ...] = ()   # a network's (name, indices)
        self.ref_lines: list[pg.InfiniteLine] = []
        self._ref_of: list[int] = []  # the parameter of each reference line
        self.current = Dots("o", size=9, pen=pg.mkPen("w"))   # drawn by Qt, not in Python
        self.current.setZValue(30)
        self.plot.addItem(self.current)
        self.ghosts = GhostPaths(self.plot.getPlotItem(), z=5)   # every run's other seeds
        self._index = 0
        self._ref: np.ndarray | None = None
        self._kind = ""
        self._compared = False  # set_tracks last gave several runs
        self._off_chart: frozenset[int] = frozenset()  # diverged runs left out of the range

    @property
    def curves(self) -> list[WideCurve]:
        """The selected run's curves, one per parameter."""
        return self.track_curves[self.selected_track] if self.track_curves else []

    # -- run and tracks -------------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        names = problem.param_names
        groups = getattr(problem, "layer_groups", None)
        self.groups = tuple(groups()) if groups is not None else ()
        choices = [ALL, *names, *(f"{name}: all {len(idx)}" for name, idx in self.groups),
                   *([NORMS] if self.groups else [])]
        if [self.combo.itemText(i) for i in range(self.combo.count())] != choices:
            self.combo.blockSignals(True)
            self.combo.clear()
            self.combo.addItems(choices)
            # a network's parameters: one curve to start with (105 curves cost 67 ms of
            # painting per frame, measured on mlp_spiral); "all" stays one choice away
            self.combo.setCurrentIndex(1 if len(names) > MANY_PARAMS else 0)
            self.combo.blockSignals(False)
            self._compared = False  # new parameters: the next runs choose the box again
        self.frame.show_combo(len(names) > 1)
        self._ref, self._kind = reference_values(problem)
        super().set_tracks((RunTrack(RunSpec("run", style.FULL, config), history),), 0)
        self._build()
        self.frame.set_title("Parameters against step")
        self.x_range.reset()
        self.y_range.reset()
        self._index = 0
        if len(history):
            self.show_step(0)

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        super().set_tracks(tracks, selected)
        if self.problem is None:
            return
        several = len(tracks) > 1
        if several != self._compared and self.problem.n_params > 1:
            # several runs: one parameter at a time (runs x parameters curves crowd the plot);
            # the user's choice stands until the number of runs crosses 1 again
            self.combo.blockSignals(True)
            self.combo.setCurrentIndex(1 if several or self.problem.n_params > MANY_PARAMS
                                       else 0)
            self.combo.blockSignals(False)
        self._compared = several
        self._off_chart = frozenset()
        self._build()
        if self.history is not None and len(self.history):
            self.show_step(self._index)

    def _shown_params(self) -> list[int]:
        n = self.problem.n_params
        choice = self.combo.currentIndex() - 1
        if n <= choice < n + len(self.groups):       # one layer's weights (or biases)
            return [int(j) for j in self.groups[choice - n][1]]
        if choice == n + len(self.groups) and self.groups:
            return []                                # the layers' norms instead
        return list(range(n)) if choice < 0 or choice >= n else [choice]

    def shown_norms(self) -> tuple[tuple[str, np.ndarray], ...]:
        """The layer groups whose norms are drawn (all of them when NORMS is chosen)."""
        return self.groups if self.combo.currentText() == NORMS else ()

    def _several(self) -> bool:
        return len(self.tracks) > 1

    def _build(self) -> None:
        """Curve items for every (run, parameter), reference lines, the key."""
        p = self.plot.getPlotItem()
        for items in self.track_curves:
            for item in items:
                p.removeItem(item)
        for items in self.norm_curves:
            for item in items:
                p.removeItem(item)
        for line in self.ref_lines:
            p.removeItem(line)
        self.track_curves, self.ref_lines, self._ref_of = [], [], []
        self.norm_curves = []
        norms = self.shown_norms()
        names = self.problem.param_names
        several, shown = self._several(), self._shown_params()
        for k, track in enumerate(self.tracks):
            chosen = k == self.selected_track
            items = []
            for j in range(len(names)):
                if several:
                    pen = pg.mkPen(track.color, width=2.2 if chosen else 1.6,
                                   style=PARAM_STYLES[j % len(PARAM_STYLES)][0])
                else:
                    pen = pg.mkPen(style.param_color(j), width=2)
                curve = WideCurve(pen=pen, connect="finite")
                curve.setZValue(11 if chosen else 10)
                curve.setVisible(j in shown)
                p.addItem(curve)
                items.append(curve)
            self.track_curves.append(items)
            self.norm_curves.append(self._norm_items(track, chosen, several, norms))
        ref, kind = self._ref, self._kind
        for j in shown:
            if ref is None or not np.isfinite(ref[j]):
                continue
            color = style.START if several else style.param_color(j)
            line = pg.InfiniteLine(
                pos=float(ref[j]), angle=0,
                pen=pg.mkPen(color, width=1.5, style=Qt.PenStyle.DashLine),
                label=f"{kind} {names[j]} = {style.fmt(float(ref[j]))}",
                labelOpts={"position": 0.02, "color": color, "anchors": [(0, 1), (0, 1)],
                           "fill": (255, 255, 255, 180)})
            p.addItem(line, ignoreBounds=True)   # the y range includes it explicitly
            self.ref_lines.append(line)
            self._ref_of.append(j)
        self.ghosts.style(self.tracks)
        seeded = [t for t in self.tracks if t.seeds is not None]
        seed_color = seeded[0].color if len(seeded) == 1 else style.TEXT
        seed_entry = ([("line", style.faint_hex(seed_color),
                        f"faint: {seeded[0].seeds.n_seeds - 1} other seeds")] if seeded else [])
        ref_word = "true value" if kind == "true" else "global minimum"
        # one parameter shown: its name says it (a long axis title clips a short plot)
        self.plot.setLabel("left", names[shown[0]] if len(shown) == 1 else
                           "norm over the layer's entries" if norms else "parameter value")
        if norms:
            self.key.set_entries(self._norm_key(several))
            return
        if several:
            entries = [("line", t.color, t.name + (" (diverged: off the chart)"
                                                   if k in self._off_chart else ""))
                       for k, t in enumerate(self.tracks)]
            if len(shown) > 1:
                entries += _capped([(PARAM_STYLES[j % len(PARAM_STYLES)][1], style.TEXT,
                                     names[j]) for j in shown])
            if self.ref_lines:
                entries.append(("dash", style.START, ref_word))
            self.key.set_entries(entries + seed_entry)
            return
        # one run: a key above the plot too (a legend inside covered the curves and labels)
        entries = _capped([("line", style.param_color(j), names[j]) for j in shown])
        if self.ref_lines:
            entries.append(("dash", style.START, ref_word))
        self.key.set_entries(entries + seed_entry)

    def _norm_items(self, track: RunTrack, chosen: bool, several: bool,
                    norms) -> list[WideCurve]:
        """One curve per layer group of ``norms`` for ``track`` (weights solid, biases
        dashed; one colour per layer, or the run's colour when several are compared)."""
        items = []
        for g, (name, _idx) in enumerate(norms):
            dash = Qt.PenStyle.DashLine if name.startswith("b") else Qt.PenStyle.SolidLine
            color = track.color if several else style.param_color(g // 2)
            curve = WideCurve(pen=pg.mkPen(color, width=2.2 if chosen else 1.6, style=dash),
                              connect="finite")
            curve.setZValue(11 if chosen else 10)
            self.plot.getPlotItem().addItem(curve)
            items.append(curve)
        return items

    def _norm_key(self, several: bool) -> list[tuple[str, str, str]]:
        entries = []
        if several:
            entries += [("line", t.color, t.name) for t in self.tracks]
            entries += [("line", style.TEXT, "‖W‖ solid"), ("dash", style.TEXT, "‖b‖ dashed")]
            return entries
        return [("dash" if name.startswith("b") else "line", style.param_color(g // 2),
                 f"‖{name}‖") for g, (name, _idx) in enumerate(self.shown_norms())]

    def _on_combo_changed(self, _index: int) -> None:
        if self.problem is None or self.history is None:
            return
        self.y_range.reset()  # other parameters, other values
        self._build()
        if len(self.history):
            self.show_step(self._index)

    # -- drawing --------------------------------------------------------------------------------
    def show_step(self, index: int) -> None:
        h = self.history
        if h is None or len(h) == 0 or not self.track_curves:
            return
        index = int(np.clip(index, 0, self.newest_step()))
        self._index = index
        several, shown = self._several(), self._shown_params()
        xs, ys, colors, ranged = [], [], [], []
        off_chart = set()
        x_hi = 0.0
        bins = style.columns(self.plot)
        for k, (track, items) in enumerate(zip(self.tracks, self.track_curves)):
            kk = self.track_index(track, index)
            th = track.history
            x_hi = max(x_hi, float(th.steps[kk]))
            kept = []
            for j, curve in enumerate(items):
                if j in shown:
                    keep = peaks(th.params[: kk + 1, j], bins)  # each pixel column's envelope
                    values = np.array(th.params[keep, j], dtype=np.float64)
                    values[~np.isfinite(values)] = np.nan
                    set_wide_curve(curve, th.steps[keep].astype(np.float64), values)
                    kept.append(values)
            norms = self.shown_norms()
            if norms:
                count = min(kk + 1, NORM_POINTS_PER_PIXEL * bins)
                at = np.unique(np.linspace(0, kk, count).round().astype(np.int64))
                rows = np.asarray(th.params[at], dtype=np.float64)
                for g, ((_name, idx), curve) in enumerate(zip(norms, self.norm_curves[k])):
                    values = np.linalg.norm(rows[:, idx], axis=1)
                    values[~np.isfinite(values)] = np.nan
                    set_wide_curve(curve, th.steps[at].astype(np.float64), values)
                    kept.append(values)
                    if np.isfinite(values[-1]):
                        xs.append(float(th.steps[kk]))
                        ys.append(float(values[-1]))
                        colors.append(track.color if several else style.param_color(g // 2))
            now = np.array(th.params[kk], dtype=np.float64)
            for j in shown:
                if np.isfinite(now[j]):
                    xs.append(float(th.steps[kk]))
                    ys.append(float(now[j]))
                    colors.append(track.color if several else style.param_color(j))
            self._draw_ghosts(k, track, index, shown)
            # a run that blew up would flatten every other curve: the range ignores it
            if several and th.status_at(kk) == "diverged":
                off_chart.add(k)
            else:
                ranged.extend(kept)
        self.current.set_points(xs, ys, brushes=colors)
        if off_chart != self._off_chart:  # rare: a run diverged, or the user looked back
            self._off_chart = frozenset(off_chart)
            self._build()
            self.show_step(index)
            return
        self._set_ranges(ranged, shown, x_hi)
        set_status_text(self.frame.status, self._status_text(index))

    def _draw_ghosts(self, k: int, track: RunTrack, index: int, shown: list[int]) -> None:
        """Run k's other seeds, the shown parameters against the step, faint (one item)."""
        paths = track.seeds
        if paths is None or len(paths) == 0:
            self.ghosts.clear(k)
            return
        budget = GHOST_POINTS // max(1, len(self.tracks) * len(shown))
        steps, params = ghost_rows(paths, index, budget)
        x = np.tile(steps.astype(np.float64)[:, None], (1, params.shape[1]))
        xs = [separated(x) for _ in shown]
        ys = [separated(params[:, :, j]) for j in shown]
        self.ghosts.draw(k, np.concatenate(xs), np.concatenate(ys))

    def _set_ranges(self, ranged: list[np.ndarray], shown: list[int], x_hi: float) -> None:
        values = np.concatenate([r.ravel() for r in ranged]) if ranged else np.zeros(0)
        finite = values[np.isfinite(values)]
        if not finite.size:     # (at step 0 too: the start point must be on the chart)
            return
        lo, hi = float(finite.min()), float(finite.max())
        if self._ref is not None:
            refs = self._ref[shown]
            refs = refs[np.isfinite(refs)]
            if refs.size:
                lo, hi = min(lo, float(refs.min())), max(hi, float(refs.max()))
        span = (hi - lo) or max(abs(hi), 1.0)
        # the key is above the plot; one run's reference lines carry labels above them
        top = 0.03 if self._several() else 0.15
        self.y_range.fit(lo - 0.05 * span, hi + top * span)
        self.x_range.fit(0.0, x_hi, max(t.config.step_limit() for t in self.tracks))

    def _status_text(self, index: int) -> str:
        track = self.tracks[self.selected_track]
        k = self.track_index(track, index)
        now = np.asarray(track.history.params[k], dtype=np.float64)
        names = self.problem.param_names
        norms = self.shown_norms()
        if norms:
            values = style.listing(
                (f"‖{name}‖ = {style.fmt(float(np.linalg.norm(now[idx])))}"
                 for name, idx in norms), limit=len(norms))
        else:
            values = style.listing(f"{n} = {style.fmt(float(v))}" for n, v in zip(names, now))
        if self._several():  # the status bar names the selected run: one short line here
            return f"selected run: {values}"
        return f"step {index} · {values}"


def _capped(entries: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """The key's parameter entries, the first few and a count of the rest (a network's 105
    entries took the whole view)."""
    if len(entries) <= style.LISTED:
        return entries
    rest = len(entries) - style.LISTED + 1
    return [*entries[:style.LISTED - 1], ("line", style.TEXT, f"… (+{rest} more parameters)")]
