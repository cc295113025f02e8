"""The learning curve: the full loss of every run (bold, in its colour) against the step, and
the selected run's batch loss (faint).

The curves run from the start point up to the shown step (so scrubbing back shows the runs as
they were then), each reduced to the lowest and highest point of every pixel column
(``peaks``: the noise band survives). Runs with different batch sizes take different numbers of
steps per epoch; then the x axis counts epochs (passes over the data), as lesson 2 plots it,
unless the user unticks "x in epochs". At most ``EPOCH_LINES`` epoch boundaries are drawn;
when there are more, every k-th epoch is marked and the note says so. A key above the plot
names the curves (several runs: the runs). When the selected run has a learning-rate schedule,
its lr is drawn too (dashed, on its own axis at the right, linear from 0), step by step as the
run used it.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from gdviz.core.history import RunHistory, peaks
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.gui.views import style
from gdviz.gui.views.base import LessonView, RunTrack
from gdviz.gui.views.items.dots import Dots
from gdviz.gui.views.items.log_axis import LogAxis
from gdviz.gui.views.items.rule_lines import RuleLines
from gdviz.gui.views.items.updates import set_wide_curve
from gdviz.gui.views.items.wide_curve import WideCurve
from gdviz.gui.views.ranges import GrowingRange, StickyRange
from gdviz.gui.views.seed_parts import LossBands
from gdviz.gui.views.status_label import set_status_text

EPOCH_LINES = 30     # pool size: at most this many epoch boundaries are drawn
LABELLED_EPOCHS = 8  # label the lines "epoch e" only when there are this few


def _finite_or_nan(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    out[~np.isfinite(out)] = np.nan
    return out


class LearningCurveView(LessonView):
    title = "Learning curve"
    view_id = "learning_curve"
    tooltip = (
        "Loss against step. Bold: the loss on all data after each step, one line per run in "
        "its colour; faint: the loss on each step's batch of the selected run, measured before "
        "the update (what a training loop prints). Grey dotted lines: epoch boundaries.\n"
        "x in epochs: passes over the data instead of steps, so that runs with different batch "
        "sizes line up.\nLog scale: only possible while every loss shown is > 0. Some losses "
        "are negative (wavy reaches −0.76); then the axis stays linear and the note says why, "
        "rather than silently shifting or taking |loss|.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Learning curve", "step", "loss",
                                    axis_items={"left": LogAxis("left")})
        self.frame = style.ViewLayout(self, self.plot)
        self.log_box = QCheckBox("log scale")
        self.log_box.setChecked(True)
        self.log_box.setToolTip("Logarithmic loss axis (needs every loss shown to be > 0).")
        self.log_box.toggled.connect(self._on_box_toggled)
        self.frame.bar.insertWidget(0, self.log_box)
        self.epoch_box = QCheckBox("x in epochs")
        self.epoch_box.setToolTip(
            "Count passes over the data on the x axis instead of steps. Runs with different "
            "batch sizes take different numbers of steps per epoch; in epochs they line up "
            "(lesson 2 plots it so). Ticked by itself when the runs' batch sizes differ.")
        self.epoch_box.toggled.connect(self._on_box_toggled)
        self.frame.bar.insertWidget(1, self.epoch_box)
        # ranges that stay put while the curves move inside them (no axis redraw per frame)
        self.plot.getPlotItem().disableAutoRange()
        self.x_range = GrowingRange(self.plot)
        self.y_range = StickyRange(self.plot, "y", fill=0.5, headroom=0.1)
        self.key = self.frame.add_key()
        self.key.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        p = self.plot.getPlotItem()
        self.batch_curve = WideCurve(pen=pg.mkPen((*_rgb(style.BATCH), 110), width=1),
                                     connect="finite")
        p.addItem(self.batch_curve)
        self.full_curves: list[WideCurve] = []  # one per run; a pool that only grows
        self.bands = LossBands(p, z=4)          # each run's seeds: median and 10-90 % band
        # dots drawn by Qt (dots.Dots: a scatter's Python paint cost ~0.4 ms a frame); they
        # do not follow the log mode by themselves: show_step gives log10(loss) on a log axis
        self.current = Dots("o", size=10, pen=pg.mkPen("w"), brush=pg.mkBrush(style.BATCH))
        self.current.setZValue(30)
        p.addItem(self.current)
        # the boundaries: one RuleLines item (InfiniteLines that move paint twice a frame),
        # and a few labels "epoch e" placed near the bottom of the plot
        self.epoch_lines = RuleLines(
            self.plot, pg.mkPen(style.START, width=1, style=Qt.PenStyle.DotLine), z=2)
        self.epoch_labels: list[pg.TextItem] = []
        for _ in range(LABELLED_EPOCHS):
            label = pg.TextItem("", color=style.START, anchor=(0, 1))
            label.setVisible(False)
            p.addItem(label, ignoreBounds=True)
            self.epoch_labels.append(label)
        self.plot.getPlotItem().getViewBox().sigRangeChanged.connect(self._place_epoch_labels)
        self.plot.getPlotItem().getViewBox().sigResized.connect(self._place_epoch_labels)
        self._index = 0
        self._log = False
        self._floor: float | None = None   # where a log axis draws losses <= 0
        self._problem_name = ""
        self._full_batch = False
        self._mixed_epochs = False  # the runs' epochs have different lengths
        self._brushes: list = []
        self.epoch_marks = np.zeros(0)
        self._label_marks = np.zeros(0)
        self._epoch_scan = None   # (history, rows scanned, epoch starts, generation)
        # the schedule's lr: a second view box sharing x, with the right axis as its scale
        self.lr_box = pg.ViewBox(enableMenu=False)
        self.lr_box.setMouseEnabled(x=False, y=False)
        p.scene().addItem(self.lr_box)
        p.getAxis("right").linkToView(self.lr_box)
        p.getAxis("right").setStyle(showValues=True)        # pyqtgraph: none on the right
        p.getAxis("right").enableAutoSIPrefix(False)
        self.lr_box.setXLink(p)
        self.lr_curve = pg.PlotCurveItem(pen=pg.mkPen(style.START, width=1,
                                                      style=Qt.PenStyle.DashLine))
        self.lr_box.addItem(self.lr_curve)
        p.getViewBox().sigResized.connect(self._place_lr_box)
        self._show_lr = False

    @property
    def full_curve(self) -> WideCurve:
        """The selected run's full-loss curve."""
        return self.full_curves[self.selected_track]

    # -- run and tracks -------------------------------------------------------------------------
    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        if problem.name != self._problem_name:
            self._problem_name = problem.name
            # a loss whose known minimum is < 0 (wavy) has no log picture: it opens linear
            # (quietly: the toggle's redraw would mix this history with the old run's tracks;
            # the show_step below draws it, and the log scale follows the box there)
            if any(m.loss < 0 for m in problem.minima):
                self.log_box.blockSignals(True)
                self.log_box.setChecked(False)
                self.log_box.blockSignals(False)
        self.plot.setLabel("left", "loss" if problem.has_data else "f")
        self.epoch_box.setVisible(problem.has_data)
        self.x_range.reset()
        self.y_range.reset()
        # until set_tracks names the runs: this one, in the colour of a single run
        super().set_tracks((RunTrack(RunSpec("run", style.FULL, config), history),), 0)
        self._style_tracks()
        self._index = 0
        if len(history):
            self.show_step(0)

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        super().set_tracks(tracks, selected)
        self.frame.reset_heights()  # other runs, other status lines
        self._style_tracks()
        if self.history is not None and len(self.history):
            self.show_step(self._index)

    def _style_tracks(self) -> None:
        """Pens, key and the batch curve for the current tracks (not per step)."""
        tracks, problem = self.tracks, self.problem
        p = self.plot.getPlotItem()
        while len(self.full_curves) < len(tracks):
            item = WideCurve(connect="finite")
            p.addItem(item)
            self.full_curves.append(item)
        several = len(tracks) > 1
        for k, item in enumerate(self.full_curves):
            if k < len(tracks):
                chosen = k == self.selected_track
                item.setPen(pg.mkPen(tracks[k].color, width=3 if chosen or not several else 2))
                item.setZValue(11 if chosen else 10)
                item.setVisible(True)
            else:
                item.setData([], [])
                item.setVisible(False)
        self._brushes = [pg.mkBrush(t.color) for t in tracks]
        self.bands.style(tracks)
        chosen = tracks[self.selected_track]
        # full batch: the batch loss is the previous step's full loss, a needless echo
        self._full_batch = (chosen.config.effective_batch_size() >= problem.n_samples
                            and chosen.config.order != "replacement")
        self.batch_curve.setVisible(not self._full_batch)
        batch_color = chosen.color if several else style.BATCH
        self.batch_curve.setPen(pg.mkPen((*_rgb(batch_color), 60 if several else 110), width=1))
        mixed = problem.has_data and len({t.config.steps_per_epoch() for t in tracks}) > 1
        if mixed != self._mixed_epochs:  # the user's choice stands until the runs change so
            self._mixed_epochs = mixed
            self.epoch_box.blockSignals(True)
            self.epoch_box.setChecked(mixed)
            self.epoch_box.blockSignals(False)
        full_word = "full loss" if problem.has_data else "f"
        if several:
            entries = [("line", t.color, t.name) for t in tracks]
            if not self._full_batch:
                entries.append(("line", style.faint_hex(chosen.color),
                                "faint: batch loss of the selected run"))
        else:   # named above the plot, like several runs: a legend inside covered the curves
            entries = [("line", chosen.color, f"{full_word} (after step)")]
            if not self._full_batch:
                entries.append(("line", style.BATCH, "batch loss (before step)"))
        self._show_lr = chosen.config.schedule != "constant"
        p.showAxis("right", self._show_lr)
        self.lr_box.setVisible(self._show_lr)
        if self._show_lr:
            # the key names the right axis: an axis title there cost the plot 20 px of width
            entries.append(("line", style.START,
                            f"learning rate ({chosen.config.schedule}, right axis)"))
        else:
            self.lr_curve.setData([], [])
        seeded = [t for t in tracks if t.seeds is not None]
        if seeded:
            entries.append(("dash", seeded[0].color if len(seeded) == 1 else style.TEXT,
                            f"median of {seeded[0].seeds.n_seeds} seeds, 10–90 % band"))
        self.key.set_entries(entries)
        self._set_title()

    def _epochs_on_x(self) -> bool:
        return self.problem is not None and self.problem.has_data and self.epoch_box.isChecked()

    def _set_title(self) -> None:
        x = "epoch" if self._epochs_on_x() else "step"
        self.plot.setLabel("bottom", "epoch (passes over the data)" if x == "epoch" else "step")
        # one short line: with several runs the key below takes the room a title would
        self.frame.set_title(f"Loss against {x}" if len(self.tracks) > 1
                             else f"Learning curve: loss against {x}")

    def _on_box_toggled(self, _checked: bool) -> None:
        self.x_range.reset()  # other units on an axis: fit it anew
        self.y_range.reset()
        if self.history is not None and len(self.history):
            self._set_title()
            self.show_step(self._index)

    # -- drawing --------------------------------------------------------------------------------
    def show_step(self, index: int) -> None:
        h = self.history
        if h is None or len(h) == 0 or not self.tracks:
            return
        index = int(np.clip(index, 0, self.newest_step()))
        self._index = index
        in_epochs = self._epochs_on_x()
        xs, fulls, marks_x, marks_y, brushes = [], [], [], [], []
        bands, band_values = [], []   # (k, x (L,), quantiles (L, 3)) of the runs with seeds
        bins = style.columns(self.plot)
        for k, track in enumerate(self.tracks):
            if track.seeds is not None and len(track.seeds):
                per = track.config.steps_per_epoch() if in_epochs else 1
                steps, quantiles = track.seeds.band(index, bins)
                bands.append((k, steps / per, quantiles))
                band_values.append(quantiles[np.isfinite(quantiles)])  # the range holds it
            else:
                self.bands.clear(k)
            kk = self.track_index(track, index)
            th = track.history
            per = track.config.steps_per_epoch() if in_epochs else 1
            keep = peaks(th.losses[: kk + 1], bins)  # the envelope of each pixel column
            x = th.steps[keep] / per
            xs.append(x)
            fulls.append(_finite_or_nan(th.losses[keep]))
            cur = float(th.losses[kk])
            if np.isfinite(cur):
                marks_x.append(float(x[-1]))
                marks_y.append(cur)
                brushes.append(self._brushes[k])
            if k == self.selected_track:
                if self._show_lr:
                    self._draw_lr(th, kk, per)
                keep = peaks(th.batch_losses[: kk + 1], bins)
                sel_batch = _finite_or_nan(th.batch_losses[keep])
                sel_batch[th.steps[keep] == 0] = np.nan  # step 0 has no batch: the full loss
                sel_x = th.steps[keep] / per

        notes = []
        use_log = self.log_box.isChecked()
        every = np.concatenate(fulls + band_values + ([] if self._full_batch else [sel_batch]))
        low = np.nanmin(every) if np.any(np.isfinite(every)) else 1.0
        self._floor = None
        if use_log and low <= 0:
            # the axis stays logarithmic: losses <= 0 sit on its floor, a decade below the
            # lowest positive loss, and the status line says so
            positive = every[np.isfinite(every) & (every > 0)]
            self._floor = float(positive.min()) / 10 if positive.size else 1e-3
            notes.append(f"losses ≤ 0 (down to {style.fmt(low)}) drawn at the axis floor "
                         f"{style.fmt(self._floor)}: untick log scale to see them")
        if use_log != self._log:
            self._log = use_log
            self.y_range.reset()
            self.plot.setLogMode(x=False, y=use_log)
            self.plot.getAxis("right").setLogMode(False)   # the lr axis stays linear
            # label only the decades on a log axis; "9·10¹ 8·10¹ ..." crowds it
            self.plot.getAxis("left").setStyle(maxTextLevel=0 if use_log else 2)
        # the curves and dots take view units: log10(loss) on a log axis
        floor = self._floor
        for item, x, full in zip(self.full_curves, xs, fulls):
            set_wide_curve(item, x, _view_units(full, use_log, floor))
        for k, x, quantiles in bands:
            self.bands.draw(k, x, _view_units(quantiles, use_log, floor))
        set_wide_curve(self.batch_curve, sel_x, _view_units(sel_batch, use_log, floor))
        marks_y = list(_view_units(np.asarray(marks_y, dtype=np.float64), use_log, floor))
        # one run: the item's own brush (the batch colour), else each run's colour
        self.current.set_points(marks_x, marks_y,
                                brushes=brushes if len(self.tracks) > 1 else None)
        k_sel = self.track_index(self.tracks[self.selected_track], index)
        if in_epochs:
            self.epoch_lines.set_values([])
            self._label_epochs([], [])
        else:
            notes.extend(self._draw_epochs(k_sel))
        self._fit_ranges(xs, every)
        text = " · ".join(self._status_words(index, k_sel) + notes)
        set_status_text(self.frame.status, text)
        if self.frame.status.isVisibleTo(self) != bool(text):  # several runs: often nothing
            self.frame.status.setVisible(bool(text))

    def _draw_lr(self, history: RunHistory, k: int, per: int) -> None:
        """The lr of steps 1..k (step 0 took none) as steps: each held for its whole step."""
        lrs = history.lrs[1: k + 1]
        x = np.repeat(history.steps[1: k + 1], 2).astype(np.float64)
        x[0::2] -= 1.0                                     # step s used lr_s from s-1 to s
        set_wide_curve(self.lr_curve, x / per, np.repeat(lrs, 2))
        top = float(np.max(lrs)) if len(lrs) else 0.0
        if top > 0 and np.isfinite(top):
            self.lr_box.setYRange(0.0, top * 1.08, padding=0)

    def _place_lr_box(self, *_args) -> None:
        self.lr_box.setGeometry(self.plot.getPlotItem().getViewBox().sceneBoundingRect())

    def _status_words(self, index: int, k: int) -> list[str]:
        h = self.history
        cur = float(h.losses[k])
        if self.problem is not None and not self.problem.has_data:
            text = [f"step {index} · f {style.fmt(cur)}"]
        else:
            text = [f"step {index} · epoch {int(h.epochs[k])} · full loss {style.fmt(cur)}"]
        if len(self.tracks) > 1:
            # the status bar and the timeline give the step and the selected run's numbers,
            # the Runs panel how each run ended: here only what needs saying (notes)
            return []
        status = h.status_at(k)
        if status != "running":
            ended = int(h.steps[k])
            text.append(f"{status} at step {ended}" if ended < index else status)
        return text

    def _fit_ranges(self, xs: list[np.ndarray], y: np.ndarray):
        """Keep every curve in view; ((x0, x1), (y0, y1)) in view units, or None."""
        shown = _view_units(y, self._log, self._floor)
        finite = shown[np.isfinite(shown)]
        if not finite.size:
            return None
        lo, hi = float(finite.min()), float(finite.max())
        y_range = self.y_range.fit(lo, hi, pad=0.05)
        x_hi = max(float(x[-1]) for x in xs if len(x))
        in_epochs = self._epochs_on_x()
        cap = max(t.config.step_limit() / (t.config.steps_per_epoch() if in_epochs else 1)
                  for t in self.tracks)
        return self.x_range.fit(0.0, x_hi, cap), y_range

    def _epoch_starts(self, index: int) -> np.ndarray:
        """History rows <= ``index`` of the first step of every epoch after the first
        (a boundary sits before each). The history grows (and is thinned only rarely: its
        generation changes): its boundaries are found once, as it grows, not by a scan of the
        whole run on every frame."""
        h = self.history
        known = self._epoch_scan
        if known is None or known[0] is not h or known[1] > len(h) \
                or known[3] != h.generation:
            known = (h, 1, np.zeros(0, dtype=np.int64), h.generation)
        if known[1] < len(h):
            lo = known[1]
            epochs = h.epochs[lo - 1 :]
            new = np.flatnonzero((epochs[1:] != epochs[:-1]) & (epochs[1:] > 1)) + lo
            known = (h, len(h), np.concatenate((known[2], new)), h.generation)
        self._epoch_scan = known
        starts = known[2]
        return starts[: np.searchsorted(starts, index, side="right")]

    def _draw_epochs(self, index: int) -> list[str]:
        epochs = self.history.epochs
        steps = self.history.steps
        first = self._epoch_starts(index)
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
        self.epoch_lines.set_values(marks)
        if len(marks) <= LABELLED_EPOCHS:
            self._label_epochs(marks, [f"epoch {int(e)}" for e in labels])
        else:
            self._label_epochs([], [])
        return notes

    def _label_epochs(self, marks, texts: list[str]) -> None:
        for i, label in enumerate(self.epoch_labels):
            if i < len(marks):
                if label.toPlainText() != texts[i]:
                    label.setText(texts[i])
                label.setVisible(True)
            else:
                label.setVisible(False)
        self._label_marks = np.asarray(marks, dtype=np.float64)
        self._place_epoch_labels()

    def _place_epoch_labels(self, *_args) -> None:
        """Each label just right of its line, 4 % above the bottom of the plot; where the
        lines are closer than a label is wide, only every k-th is labelled (k the smallest
        that leaves room), so labels never run into each other ("epoch 2epoch 3...")."""
        box = self.plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = box.viewRange()
        marks = self._label_marks
        shown = [label for label, _ in zip(self.epoch_labels, marks)]
        every = 1
        if len(marks) > 1 and x1 > x0 and box.width() > 0:
            gap = float(np.min(np.diff(marks))) * box.width() / (x1 - x0)   # px between lines
            wide = max(label.textItem.boundingRect().width() for label in shown) + 6
            every = max(1, int(np.ceil(wide / gap))) if gap > 0 else len(marks)
        for k, (label, x) in enumerate(zip(shown, marks)):
            label.setVisible(k % every == every - 1 or every == 1)
            pos = (float(x), y0 + 0.04 * (y1 - y0))
            if (label.pos().x(), label.pos().y()) != pos:
                label.setPos(*pos)


def _view_units(losses: np.ndarray, log: bool, floor: float | None = None) -> np.ndarray:
    """Losses as the y axis places them: log10 on a log axis, where a loss <= 0 is drawn at
    ``floor`` (not drawn without one), else as they are."""
    if not log:
        return losses
    losses = np.asarray(losses, dtype=np.float64)
    if floor is not None:
        losses = np.where(losses <= 0, floor, losses)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.log10(losses)
    out[~np.isfinite(out)] = np.nan
    return out


def _rgb(color: str) -> tuple[int, int, int]:
    c = pg.mkColor(color)
    return c.red(), c.green(), c.blue()
