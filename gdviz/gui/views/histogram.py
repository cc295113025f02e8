"""Histogram of the per-sample gradients of ALL samples, for one chosen parameter, or for a
whole layer of a network (its weights', or its biases', per-sample gradients pooled: n × m
values; the lines then mark each of its m parameters' full gradient and the step's gradient),
or (beyond two parameters) their projection on a random direction d: each sample's derivative
along the line θ + t·d, gᵢ·d, with d the filter-normalised direction at the step's point
(biases zeroed) that the per-sample losses view and the Landscape view use (core.landscape).

Evaluated where the shown step took its gradient (``history.params_before(i)``), so the batch
gradient the optimizer used and the full gradient are comparable on one axis. Values are on the
per-sample scale: ∂ℓᵢ/∂θ. The full gradient of a ``mean`` loss is their mean; for a ``sum`` loss
the full gradient is n times that mean, so the blue marker shows full gradient / n there.

"batch gradients" adds, as a violet outline, the distribution of the step's gradient over
the batches the run's sampler could draw at that point (BATCH_DRAWS of them,
``core.noise.sample_batch_gradients``, seeded by the step), on the same scale, its heights
what n values of that distribution would count in bins as wide as the samples' (equal areas):
it narrows, and rises, as the batch size grows.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QWidget

from gdviz.core.history import RunHistory
from gdviz.core.landscape import DIRECTION_NAMES, DIRECTION_SEED, random_directions
from gdviz.core.noise import sample_batch_gradients
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.surfaces import covers_all, evenly_chosen, per_sample_scale
from gdviz.gui.views import style
from gdviz.gui.views.at_point import sample_gradients_at
from gdviz.gui.views.base import LessonView
from gdviz.gui.views.items.dots import Dots
from gdviz.gui.views.items.rule_lines import RuleLines
from gdviz.gui.views.ranges import StickyRange
from gdviz.gui.views.status_label import set_status_text

RUG_CAP = 300
BATCH_DRAWS = 400      # sampled batches of the "batch gradients" outline (~1 ms, n = 1000)


def group_label(name: str, indices: np.ndarray) -> str:
    """The parameter box's entry for a layer group: "W1 (all 16, pooled)"."""
    return f"{name} (all {len(indices)}, pooled)"


def bin_count(n: int) -> int:
    """About 2·√n bins, between 5 and 40: enough shape for 100 samples, not noise for 10."""
    return int(np.clip(round(2 * np.sqrt(n)), 5, 40))


def log_height(counts: np.ndarray) -> np.ndarray:
    """Bar heights on the "log counts" axis: log10(1 + count), so an empty bin stays at 0 and
    a bin with one sample is still visible next to one with hundreds."""
    return np.log10(1.0 + np.asarray(counts, dtype=np.float64))


def log_count_ticks(top: float) -> list[list[tuple[float, str]]]:
    """Major ticks 0, 1, 10, 100, ... and minor ticks 2, 5, 20, 50, ... up to ``top`` counts,
    at their log_height positions (for AxisItem.setTicks)."""
    major, minor = [(0.0, "0")], []
    decade = 1
    while decade <= max(top, 1):
        major.append((float(log_height(decade)), f"{decade:g}"))
        for k in (2, 5):
            if k * decade <= top:
                minor.append((float(log_height(k * decade)), ""))
        decade *= 10
    return [major, minor]


class HistogramView(LessonView):
    follows_selected_run = True
    title = "Gradient histogram"
    view_id = "histogram"
    tooltip = (
        "Histogram of the per-sample gradients ∂ℓᵢ/∂θ of ALL samples for the chosen parameter, "
        "at the parameters where the shown step took its gradient. Violet ticks: the samples "
        "of the current batch; violet line: the gradient the step used (their mean); black "
        "line: the full gradient (the mean of all; for summed losses, full gradient / n). A "
        "mini-batch gradient is an unbiased, noisy estimate of the full one.\n'batch "
        "gradients': the violet outline is the distribution of the step's gradient over the "
        "batches the sampler could draw here (400 of them, drawn with the area of the "
        "samples' bars): it narrows as the batch grows.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Per-sample gradients", "gradient", "number of samples")
        self.frame = style.ViewLayout(self, self.plot, with_combo=True,
                                      combo_tip="The parameter whose gradients are shown.")
        self.combo = self.frame.combo
        self.combo.currentIndexChanged.connect(self._on_combo_changed)
        self.log_box = QCheckBox("log counts")
        self.log_box.setToolTip("Bar heights on a logarithmic scale (log of 1 + count), so "
                                "bins with a few samples stay visible beside one that holds "
                                "most of them.")
        self.log_box.toggled.connect(self._on_log_box_toggled)
        self.frame.bar.insertWidget(2, self.log_box)
        self.batch_box = QCheckBox("batch gradients")
        self.batch_box.setToolTip(
            f"Also show the distribution of the mini-batch gradient at this point: {BATCH_DRAWS} "
            "batches drawn as the run draws them (violet outline, the same area as the samples' "
            "bars). It is "
            "narrower than the samples' by about √(batch size).")
        self.batch_box.toggled.connect(self._on_batch_box_toggled)
        self.frame.bar.insertWidget(3, self.batch_box)
        self.key = self.frame.add_key()
        # a network's per-sample gradients: extremes jump between frames (refitted on 60 % of
        # mlp_spiral's frames at full speed, each a new axis: ~2 ms); shrinks after 0.5 s
        self.x_range = StickyRange(self.plot, "x", headroom=0.15, shrink_after=15)
        self.y_range = StickyRange(self.plot, "y")
        p = self.plot.getPlotItem()
        self.bars = pg.PlotDataItem([0.0, 1.0], [0.0], stepMode="center", fillLevel=0,
                                    pen=pg.mkPen(style.SAMPLE, width=1),
                                    brush=pg.mkBrush((*style.SAMPLE, 90)),
                                    name="all samples")
        # the batch's samples: a few markers drawn by Qt (dots.Dots), a scatter for many
        self.rug = Dots("t1", size=9, pen=None, brush=pg.mkBrush(style.BATCH))
        self.batch_bars = pg.PlotDataItem([0.0, 1.0], [0.0], stepMode="center",
                                          pen=pg.mkPen(style.BATCH, width=1.5),
                                          name="batch gradients")
        self.batch_bars.setVisible(False)
        p.addItem(self.bars)
        p.addItem(self.batch_bars)
        p.addItem(self.rug)
        # No text labels on the two lines (the key names them); RuleLines, not InfiniteLines,
        # which paint their plot twice a frame when they move (see items/rule_lines.py)
        self.batch_line = RuleLines(self.plot, pg.mkPen(style.BATCH, width=2.5), z=20)
        self.full_line = RuleLines(
            self.plot, pg.mkPen(style.FULL, width=2.5, style=Qt.PenStyle.DashLine), z=21)
        self.param_index = 0        # a parameter, or n_params + k: the k-th layer group
        self.groups: tuple[tuple[str, np.ndarray], ...] = ()   # (name, parameter indices)
        self._index = 0
        self._cache: dict[tuple[int, int], np.ndarray] = {}
        self.counts = np.zeros(0)
        self.edges = np.zeros(1)
        self.batch_values = np.zeros(0)   # the sampled batch gradients shown (per-sample scale)
        self.values = np.zeros(0)
        self._ticks_top: float | None = None   # the count the log axis's ticks were made for

    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        super().set_run(problem, config, history)
        self.frame.reset_heights()
        groups = getattr(problem, "layer_groups", None)
        self.groups = tuple(groups()) if groups is not None else ()
        directions = DIRECTION_NAMES if problem.n_params > 2 else ()
        self.param_index = style.fill_param_combo(
            self.combo, (*problem.param_names, *(group_label(name, idx)
                                                 for name, idx in self.groups), *directions),
            self.param_index)
        self.frame.show_combo(problem.n_params > 1)
        self._cache.clear()
        n = problem.n_samples
        # one "sample" (a test function): no counts to read, only the two lines
        self.plot.getPlotItem().showAxis("left", n > 1)
        self._set_key()
        self.log_box.setVisible(n > 1)
        self.batch_box.setVisible(self._has_batches())
        self.x_range.reset()
        self.y_range.reset()
        self._set_axes()
        self._index = 0
        if len(history):
            self.show_step(0)

    def chosen(self) -> tuple[str, np.ndarray]:
        """(name, parameter indices (m,)) of what is shown: one parameter, or a layer group
        (a direction: its name and no indices; ``project`` gives its values)."""
        names = self.problem.param_names
        if self.param_index < len(names):
            return names[self.param_index], np.array([self.param_index])
        k = self._direction()
        if k is not None:
            return DIRECTION_NAMES[k], np.zeros(0, dtype=np.int64)
        return self.groups[self.param_index - len(names)]

    def _direction(self) -> int | None:
        """k when the box holds random direction k, else None."""
        k = self.param_index - self.problem.n_params - len(self.groups)
        return k if k >= 0 else None

    def project(self, gradients: np.ndarray, at: np.ndarray) -> np.ndarray:
        """(r, m): what is shown of ``gradients`` (r, p) taken at ``at`` (p,): the chosen
        parameter's column (m = 1), a layer's m columns, or the projection gᵢ·d on the chosen
        random direction d at ``at`` (m = 1)."""
        k = self._direction()
        if k is None:
            return gradients[:, self.chosen()[1]]
        direction = random_directions(self.problem, at, DIRECTION_SEED)[k]
        with np.errstate(all="ignore"):
            return (gradients @ direction)[:, None]

    def _set_axes(self) -> None:
        name, columns = self.chosen()
        n = self.problem.n_samples
        if self._direction() is not None:
            self.plot.setLabel("bottom", f"per-sample slope dℓᵢ/dt along {name} (gᵢ·d)")
            self.frame.set_title(f"Gradients of all {n} samples projected on {name} "
                                 "(filter-normalised, biases zeroed)")
            return
        if len(columns) > 1 or self.param_index >= self.problem.n_params:
            self.plot.setLabel("bottom", f"per-sample gradients ∂ℓᵢ/∂{name} (all "
                                         f"{len(columns)} entries)")
            title = f"Gradients of all {n} samples for the {len(columns)} entries of {name}"
        else:
            self.plot.setLabel("bottom", f"per-sample gradient ∂ℓᵢ/∂{name}")
            title = (f"Gradients of all {n} samples for {name}" if n > 1 else
                     f"Gradient ∂f/∂{name} (one sample: the function itself)")
        self.frame.set_title(title)

    def _on_combo_changed(self, index: int) -> None:
        if index < 0 or self.problem is None:
            return
        self.param_index = index
        self.x_range.reset()
        self.y_range.reset()
        self._set_axes()
        self.show_step(self._index)

    def _set_key(self) -> None:
        n = self.problem.n_samples
        entries = []
        if n > 1:
            entries.append(("box", style.hex_color(style.SAMPLE), "all samples"))
            if self._has_batches():
                if self.batch_box.isChecked():
                    entries.append(("line", style.BATCH, "batch gradients (same area)"))
                entries.append(("triangle", style.BATCH, "samples of the batch"))
        used_name, full_name = self._line_names()
        entries.append(("line", style.BATCH, used_name))
        entries.append(("dash", style.FULL, full_name if n > 1 else "∂f at the point"))
        self.key.set_entries(entries)

    def _has_batches(self) -> bool:
        """True when the run takes mini-batches (more than one sample, fewer than all)."""
        n = self.problem.n_samples
        return n > 1 and self.config.effective_batch_size() < n

    def _on_batch_box_toggled(self, checked: bool) -> None:
        if self.problem is not None and self.history is not None:
            self._set_key()
            self.y_range.reset()
            self.show_step(self._index)

    def _draw_batch_bars(self, index: int, log: bool,
                         sample_width: float) -> tuple[float, float, float]:
        """The outline of the sampled batch gradients at step ``index``, heights as n values
        would count in bins ``sample_width`` wide (the samples' bars); (low, high, top height)
        of what it shows, or NaNs when it is off."""
        if not (self.batch_box.isChecked() and self._has_batches()):
            self.batch_bars.setVisible(False)
            self.batch_values = np.zeros(0)
            return float("nan"), float("nan"), 0.0
        problem = self.problem
        params = np.asarray(self.history.params_before(index), dtype=np.float64)
        rng = np.random.default_rng(int(self.history.steps[index]))   # the same draws per step
        with np.errstate(all="ignore"):
            grads = sample_batch_gradients(problem, params, self.config.effective_batch_size(),
                                           self.config.order, rng, BATCH_DRAWS)
        projected = self.project(grads, params)
        m = projected.shape[1]
        values = projected.ravel() / problem.reduce_factor(1)  # per-sample scale
        values = values[np.isfinite(values)]
        self.batch_values = values
        if values.size == 0:
            self.batch_bars.setVisible(False)
            return float("nan"), float("nan"), 0.0
        counts, edges = np.histogram(values, bins=bin_count(len(values)))
        width = float(edges[1] - edges[0])
        heights = counts * (problem.n_samples * m / len(values)) * (
            sample_width / width if width > 0 else 1.0)
        heights = log_height(heights) if log else heights
        self.batch_bars.setData(edges, heights)
        self.batch_bars.setVisible(True)
        return float(edges[0]), float(edges[-1]), float(heights.max())

    def _on_log_box_toggled(self, checked: bool) -> None:
        self.plot.setLabel("left", "number of samples (log scale)" if checked else
                           "number of samples")
        if not checked:
            self.plot.getAxis("left").setTicks(None)
        self._ticks_top = None
        self.y_range.reset()
        if self.problem is not None:
            self.show_step(self._index)

    def sample_grads_at(self, index: int) -> np.ndarray:
        """(n, p) per-sample gradients at ``params_before(index)`` of history row ``index``
        (cached per row while the rows stay: ``RunHistory.generation``)."""
        found = self._cache.get((self.history.generation, index))
        if found is not None:
            return found
        params = np.asarray(self.history.params_before(index), dtype=np.float64)
        grads = sample_gradients_at(self.problem, params)   # shared with the contour
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[(self.history.generation, index)] = grads
        return grads

    def show_step(self, index: int) -> None:
        h, problem = self.history, self.problem
        if h is None or problem is None or len(h) == 0:
            return
        self._index = index
        index = h.row_at(index)   # its row (of a thinned step, the nearest kept one)
        step = int(h.steps[index])
        at = np.asarray(h.params_before(index), dtype=np.float64)
        grads = self.project(self.sample_grads_at(index), at)    # (n, m)
        m = grads.shape[1]
        values = grads.ravel()
        self.values = values
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            self.counts, self.edges = np.zeros(1), np.array([0.0, 1.0])
            self.bars.setData(self.edges, self.counts)
            self.frame.status.setText(f"step {step}: the gradients are not finite (diverged)")
            self.frame.info.setVisible(False)
            self.rug.clear()
            self.batch_line.setVisible(False)
            self.full_line.setVisible(False)
            return
        counts, edges = np.histogram(finite, bins=bin_count(len(finite)))
        self.counts, self.edges = counts, edges
        log = self.log_box.isChecked()
        self.bars.setData(edges, log_height(counts) if log else counts)
        batch_lo, batch_hi, batch_top = self._draw_batch_bars(index, log,
                                                              float(edges[1] - edges[0]))

        batch = h.batch_at(index)
        if m == 1:
            fulls = np.array([finite.mean()])
        else:
            with np.errstate(all="ignore"):
                fulls = np.nanmean(np.where(np.isfinite(grads), grads, np.nan), axis=0)
        full = float(np.nanmean(fulls))
        self.full_line.set_values(fulls)
        self.full_line.setVisible(True)
        scale = per_sample_scale(problem)
        if index > 0:
            # what the optimizer used, noise included
            useds = self.project(np.asarray(h.grads[index], dtype=np.float64)[None], at)[0] \
                * scale
            used = float(np.mean(useds))
            self.batch_line.set_values(useds)
            full_batch = covers_all(batch, problem.n_samples)
            shown = batch[evenly_chosen(len(batch), max(1, RUG_CAP // m))] \
                if not full_batch else batch[:0]
            pooled = grads[shown].ravel()
            self.rug.set_points(pooled, np.zeros(len(pooled)))
        else:
            used, useds = float("nan"), np.zeros(0)
            self.rug.clear()
        self.batch_line.setVisible(bool(index > 0 and np.isfinite(useds).any()))

        single = problem.n_samples == 1
        self.bars.setVisible(not single)
        lo, hi = float(edges[0]), float(edges[-1])
        if single:   # frame the two markers instead of numpy's ±0.5 bin around one value
            marks = [v for v in (used, full) if np.isfinite(v)]
            lo, hi = min(marks), max(marks)
            half = max(hi - lo, 0.25 * max(abs(lo), abs(hi)), 1e-3)
            lo, hi = lo - half, hi + half
        for v in (*useds, *fulls, batch_lo, batch_hi):
            if np.isfinite(v):
                lo, hi = min(lo, v), max(hi, v)
        # ranges stay put while the histogram moves inside them (refitted when it leaves or
        # shrinks to a small part): no axis re-layout and no second paint on most frames
        self.x_range.fit(lo, hi, pad=0.05)
        top = max(1, int(counts.max()))
        if log:
            top = max(top, int(np.ceil(10 ** batch_top - 1)))
            if self._ticks_top is None or not top <= self._ticks_top < 10 * top:
                self._ticks_top = 10 ** np.ceil(np.log10(top + 1))
                self.plot.getAxis("left").setTicks(log_count_ticks(self._ticks_top))
            self.y_range.fit(0.0, float(log_height(top)), pad=0.08)
        else:
            self.y_range.fit(0.0, float(max(top, batch_top)), pad=0.08)
        status, info = self._stats_text(step, finite, used, full, len(batch), m)
        set_status_text(self.frame.status, status)
        set_status_text(self.frame.info, info)
        self.frame.info.setVisible(True)

    def _line_names(self) -> tuple[str, str]:
        """What the violet and the black line show, in the key and the readout: a summed loss's
        gradients are drawn on the per-sample scale (divided by n), and say so."""
        if self.problem.reduction == "mean":
            return "gradient of the step", "full gradient"
        return "gradient of the step / n", "full gradient / n"

    def _stats_text(self, step: int, finite: np.ndarray, used: float, full: float,
                    k: int, m: int = 1) -> tuple[str, str]:
        """(status line, info line) with the numbers the picture shows; ``m`` parameters
        pooled (a layer: ``used`` and ``full`` are then the means of its m lines)."""
        f = style.fmt
        n = self.problem.n_samples
        if n == 1:  # a test function: the text below the plot says why there are no bars
            status = (f"step {step} · a test function is one “sample”: there is no spread "
                      "of gradients to show")
            info = f"∂f at the point (black) {f(full)}"
            if step > 0:
                info += (f" · what the step used (violet) {f(used)}; they differ only when "
                         "gradient noise is set")
            return status, info
        samples = f"{n} samples" if m == 1 else f"{n} samples × {m} parameters"
        status = (f"step {step} · {samples} · min {f(finite.min())} · max {f(finite.max())}"
                  f" · mean {f(finite.mean())} · std {f(finite.std())}")
        used_name, full_name = self._line_names()
        each = "" if m == 1 else f" of each of the {m}, mean"
        info = [f"{full_name}{each} (black) {f(full)}"]
        if step > 0:
            info.append(f"{used_name}{each} (violet) {f(used)}, batch of {k}")
        else:
            info.append("start point: no batch yet")
        if finite.size < n * m:
            info.append(f"{n * m - finite.size} non-finite values left out")
        return status, " · ".join(info)
