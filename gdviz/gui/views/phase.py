"""The Rate phase diagram view: the (learning rate η, momentum β) plane coloured by the
predicted contraction rate per step of torch's SGD on the current quadratic loss (the largest
spectral radius over the Hessian's eigenvalues, core.quadratic_theory.rate_grid: Goh, "Why
Momentum Really Works", Distill 2017), grey where it diverges (rate ≥ 1), with every sgd run
marked in its colour and the best heavy-ball setting as a star. A click sets both η and β of
the selected run, through the editor as a panel edit does (``sig_edit_picked``).

The plane (core.quadratic_theory.phase_plane) spans η from 0 to 4.4/λmax (heavy ball is
stable up to (2 + 2β)/λmax, so up to 4/λmax as β → 1), widened to hold the runs, and β from 0
to 1; its grid is computed once per set of runs (241 × 201 points × the eigenvalues, a few
ms), never per frame.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QWidget

from gdviz.core.quadratic_theory import (
    Dynamics,
    RunTheory,
    best_settings,
    curved,
    phase_plane,
    spectral_radius,
)
from gdviz.gui.views import style
from gdviz.gui.views.status_label import set_status_text
from gdviz.gui.views.theory_parts import QuadraticTheoryBase

DIVERGES = "#b4b4b4"   # the colour of rate ≥ 1
PICK_DIGITS = 3        # significant digits of a clicked η and β


GREY_FROM = 1.0 - 1e-6   # of the colour bar's span: the grey band, where rates ≥ 1 are put


def rate_colormap() -> pg.ColorMap:
    """viridis for rates below 1, grey in a hair-thin band at the top, where ``shaded``
    puts every rate ≥ 1."""
    viridis = pg.colormap.get("viridis")
    positions = np.concatenate([viridis.pos * (GREY_FROM - 1e-6), [GREY_FROM, 1.0]])
    colors = np.concatenate([viridis.getColors(mode="byte")[:, :4],
                             [[180, 180, 180, 255], [180, 180, 180, 255]]])
    return pg.ColorMap(positions, colors)


def rate_floor(rates: np.ndarray) -> float:
    """The bottom of the colour scale: the smallest rate rounded down to a tenth (the whole
    scale is spent where the plane's rates are; κ = 100 never goes below 0.8)."""
    return float(np.floor(np.nanmin(rates) * 10.0) / 10.0) if rates.size else 0.0


def shaded(rates: np.ndarray, low: float) -> np.ndarray:
    """The image's values: rates below 1 kept below the grey band, rates ≥ 1 (and NaN) at
    1, the grey."""
    below = low + (1.0 - low) * (GREY_FROM - 2e-6)
    return np.where(np.isfinite(rates) & (rates < 1.0), np.clip(rates, low, below), 1.0)


def picked_value(value: float) -> float:
    """``value`` rounded to PICK_DIGITS significant digits (what a click sets)."""
    return float(f"{value:.{PICK_DIGITS}g}")


class PhaseDiagramView(QuadraticTheoryBase):
    title = "Rate phase diagram"
    view_id = "phase"
    tooltip = (
        "The (learning rate, momentum) plane of gradient descent with heavy-ball momentum "
        "(torch's SGD) on this quadratic loss, coloured by the predicted factor the error "
        "shrinks by per step (dark: fast; yellow: slow; grey: diverges). Rings: the runs; "
        "star: the best heavy-ball setting. Click to set the selected run's learning rate "
        "and momentum.")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = style.make_plot("Rate phase diagram", "learning rate η", "momentum β")
        self.frame = style.ViewLayout(self, self.plot)
        self.key = self.frame.add_key()
        self.key.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        item = self.plot.getPlotItem()
        item.disableAutoRange()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        item.addItem(self.image)
        self.bar = pg.ColorBarItem(values=(0.0, 1.0), colorMap=rate_colormap(),
                                   interactive=False, label="rate per step", width=14,
                                   colorMapMenu=False)
        self.bar.setImageItem(self.image, insert_in=item)
        self.runs_marker = pg.ScatterPlotItem(pxMode=True)
        self.runs_marker.setZValue(20)
        self.best_marker = pg.ScatterPlotItem(symbol="star", size=16, pxMode=True,
                                              pen=pg.mkPen("w", width=1.5),
                                              brush=pg.mkBrush(style.FULL))
        self.best_marker.setZValue(19)
        item.addItem(self.runs_marker)
        item.addItem(self.best_marker)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_clicked)
        self.rates = np.zeros((0, 0))        # (momenta, lrs) of the plane (core PLANE_POINTS)
        self.extent = (0.0, 1.0, 0.0, 1.0)    # lr_lo, lr_hi, momentum_lo, momentum_hi
        self._status = ""
        self._step = 0

    # -- the plane ----------------------------------------------------------------------------
    def _theories_changed(self) -> None:
        self.frame.reset_heights()
        theory = self.selected_theory()
        entries = [("ring", t.color, t.name) for t in self.tracks if t.config.optimizer == "sgd"]
        if not isinstance(theory, RunTheory) or curved(theory.quadratic).size == 0:
            self.rates = np.zeros((0, 0))
            self.image.clear()
            self.runs_marker.setData([])
            self.best_marker.setData([])
            if self.waiting:
                self._status = "deriving the formula's second derivatives…"
            elif isinstance(theory, str):
                self._status = f"Nothing to draw: {theory}."
            else:
                self._status = "Nothing to draw: the loss is flat"
            self.key.set_entries([])
            self._show_status()
            return
        lam = curved(theory.quadratic)
        dynamics = theory.dynamics if isinstance(theory.dynamics, Dynamics) else Dynamics(1.0)
        runs = [(t, th.dynamics) for t, th in zip(self.tracks, self.theories)
                if isinstance(th, RunTheory) and isinstance(th.dynamics, Dynamics)]
        plane = phase_plane(theory.quadratic, tuple(d for _, d in runs), dynamics.dampening,
                            dynamics.nesterov)
        lrs, momenta, self.rates = plane.lrs, plane.momenta, plane.rates
        lr_hi, beta_hi = float(lrs[-1]), float(momenta[-1])
        self.extent = (0.0, lr_hi, 0.0, beta_hi)
        low = min(rate_floor(self.rates), 0.9)
        self.image.setImage(shaded(self.rates, low), levels=(low, 1.0), autoLevels=False)
        self.bar.setLevels((low, 1.0))
        # each pixel centred on its grid point
        d_lr, d_beta = lrs[1] - lrs[0], momenta[1] - momenta[0]
        self.image.setRect(QRectF(-d_lr / 2, -d_beta / 2, lr_hi + d_lr, beta_hi + d_beta))
        self.plot.setXRange(0.0, lr_hi, padding=0.0)
        self.plot.setYRange(-0.02 * beta_hi, beta_hi, padding=0.0)   # room for β = 0's ring
        spots = [{"pos": (d.lr, d.momentum), "size": 15 if k == self.selected_track else 11,
                  "pen": pg.mkPen(t.color, width=3), "brush": pg.mkBrush(255, 255, 255, 160),
                  "symbol": "o"} for k, (t, d) in enumerate(runs)]
        self.runs_marker.setData(spots)
        best = best_settings(theory.quadratic)
        words = []
        if best is not None and not dynamics.nesterov and dynamics.dampening == 0:
            (_, _), (hb_lr, hb_beta) = best
            self.best_marker.setData([hb_lr], [hb_beta])
            rate = float(np.max(spectral_radius(lam, hb_lr, hb_beta)))
            words.append(f"best: η = {style.fmt(hb_lr)}, β = {style.fmt(hb_beta)} "
                         f"(rate {style.fmt(rate)})")
            entries.append(("point", style.FULL, "best heavy ball"))
        else:
            self.best_marker.setData([])
        entries.append(("box", DIVERGES, "rate ≥ 1: no convergence"))
        self.key.set_entries(entries)
        if isinstance(theory.dynamics, Dynamics):
            words.insert(0, f"{'selected run' if len(self.tracks) > 1 else 'the run'}: "
                            f"η = {style.fmt(theory.dynamics.lr)}, β = "
                            f"{style.fmt(theory.dynamics.momentum)}, rate "
                            f"{style.fmt(theory.rate)}")
            words.append("click to set η and β")
        else:
            words.insert(0, theory.dynamics)
        kind = "Nesterov" if dynamics.nesterov else "heavy ball"
        self.frame.set_title(f"Rate phase diagram ({kind})")
        self._status = " · ".join(words)
        self._show_status()

    def _show_status(self) -> None:
        set_status_text(self.frame.status, f"step {self._step} · {self._status}")

    def show_step(self, index: int) -> None:
        """The plane does not change with the step: only the step in the status line."""
        if self.history is None or not self.tracks:
            return
        track = self.tracks[self.selected_track]
        row = self.track_index(track, int(np.clip(index, 0, max(0, self.newest_step()))))
        self._step = int(track.history.steps[row]) if len(track.history) else 0
        self._show_status()

    def rate_at(self, lr: float, momentum: float) -> float:
        """The colour's rate at the grid point nearest (lr, momentum)."""
        lr_lo, lr_hi, beta_lo, beta_hi = self.extent
        rows, cols = self.rates.shape
        col = int(round((lr - lr_lo) / (lr_hi - lr_lo) * (cols - 1)))
        row = int(round((momentum - beta_lo) / (beta_hi - beta_lo) * (rows - 1)))
        return float(self.rates[min(max(row, 0), rows - 1), min(max(col, 0), cols - 1)])

    # -- the click -----------------------------------------------------------------------------
    def _on_scene_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        box = self.plot.getPlotItem().getViewBox()
        if not box.sceneBoundingRect().contains(event.scenePos()):
            return
        point = box.mapSceneToView(event.scenePos())
        self.pick(point.x(), point.y())
        event.accept()

    def pick(self, lr: float, momentum: float) -> None:
        """Set the selected run's learning rate and momentum to (lr, momentum), rounded to
        PICK_DIGITS significant digits (a point of the plane; what a click calls)."""
        theory = self.selected_theory()
        if not isinstance(theory, RunTheory) or self.rates.size == 0:
            return
        config = self.tracks[self.selected_track].config
        if config.optimizer != "sgd":
            self._status = (f"the selected run uses {config.optimizer}: a click sets the "
                            "learning rate and momentum of an sgd run")
            self._show_status()
            return
        lr_lo, lr_hi, beta_lo, beta_hi = self.extent
        lr = picked_value(min(max(lr, lr_hi / (self.rates.shape[1] - 1)), lr_hi))
        momentum = picked_value(min(max(momentum, 0.0), min(beta_hi, 0.999)))
        self.sig_edit_picked.emit(("lr_momentum",), (lr, momentum))
