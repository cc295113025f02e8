"""Colours, pens and small widgets the views share, so one thing looks the same everywhere.

Two visual languages that never meet (tests/gui/test_colours.py checks it, CIE76 ΔE ≥ 20):
    runs      the palette of gdviz.core.run_set.PALETTE, one colour per run, and nothing else
    roles     what a thing is inside a run's picture, on the white background of
              ``configure_pyqtgraph``:
        current sample / batch, the step's gradient, the update taken   violet  ROLE_BATCH
        full loss, mean of the samples, full gradient                   black   ROLE_FULL
        tangent (slope = gradient)                                      black dotted
        start point                                                     grey dashed
        true value / known minimum                                      dark gold dashed, ★
        one faint curve per sample                                      blue-grey
        the data's classes; each parameter of a run                     CLASS_COLORS, PARAM_COLORS
        a network's weights by sign (Network view)                      WEIGHT_COLORS
Before, orange meant both "run 2" and "the current sample", and dark blue both "run 1" and "the
full loss".
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from gdviz.gui.label_slot import LabelSlot
from gdviz.gui.views.items.caching import cache_axes, unindexed
from gdviz.gui.views.status_label import wrapping_label

BATCH = "#7b2cbf"          # violet: the current sample or batch, the step taken
FULL = "#222222"           # black: full loss, mean of the samples, full gradient
START = "#808080"          # grey: the start point
TRUE = "#8c6d1f"           # dark gold: true parameters, known minima
SAMPLE = (90, 110, 140)    # blue-grey: one faint curve per sample
TEXT = "#222222"
CLASS_COLORS = ("#2b6cb0", "#d64541")  # class 0 blue, class 1 red
PARAM_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#880e4f",
                "#17becf", "#bcbd22")
WEIGHT_COLORS = ("#01665e", "#8c510a")   # a network's weights ≥ 0 teal, < 0 brown (BrBG)
# every colour that means a role (tests compare them with the run palette)
ROLE_COLORS = {"batch": BATCH, "full": FULL, "start": START, "true": TRUE,
               "sample": "#{:02x}{:02x}{:02x}".format(*SAMPLE), "text": TEXT,
               **{f"class {k}": c for k, c in enumerate(CLASS_COLORS)},
               **{f"parameter {k}": c for k, c in enumerate(PARAM_COLORS)},
               "weight ≥ 0": WEIGHT_COLORS[0], "weight < 0": WEIGHT_COLORS[1]}

BATCH_PEN = pg.mkPen(BATCH, width=2)
FULL_PEN = pg.mkPen(FULL, width=3)
START_PEN = pg.mkPen(START, width=1.5, style=Qt.PenStyle.DashLine)
TRUE_PEN = pg.mkPen(TRUE, width=2, style=Qt.PenStyle.DashLine)


def sample_pen(n_drawn: int) -> pg.QtGui.QPen:
    """Faint pen for many per-sample curves: the more curves, the fainter each one."""
    alpha = int(np.clip(6000 / max(n_drawn, 1), 40, 200))
    return pg.mkPen((*SAMPLE, alpha), width=1)


def param_color(i: int) -> str:
    return PARAM_COLORS[i % len(PARAM_COLORS)]


def label_font(point_size: int = 10, bold: bool = False) -> QFont:
    font = QFont()
    font.setPointSize(point_size)
    font.setBold(bold)
    return font


def fmt(value: float, digits: int = 4) -> str:
    """A number for labels: 4 significant digits, a real minus sign, 'nan'/'∞' spelled out."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "nan"
    if math.isinf(value):
        return "∞" if value > 0 else "−∞"
    return f"{value:.{digits}g}".replace("-", "−")


LISTED = 6  # parameters named in a title or status line; a network's others are counted


def listing(items, limit: int = LISTED) -> str:
    """``a, b, c`` for a few items; ``a, b, …, f (+99 more)`` beyond ``limit`` (a network has
    hundreds of parameters: naming all of them filled the window with text)."""
    items = list(items)
    if len(items) <= limit:
        return ", ".join(items)
    return ", ".join(items[:limit - 1]) + f", … (+{len(items) - limit + 1} more)"


def make_plot(title: str, x_label: str, y_label: str,
              axis_items: dict | None = None) -> pg.PlotWidget:
    """A PlotWidget with a title, axis labels and a grid, menu off (views manage ranges)."""
    # the menus are off: a ViewBox made without one skips building its context menu
    plot = pg.PlotWidget(viewBox=pg.ViewBox(enableMenu=False), axisItems=axis_items)
    # The title is a QLabel of the ViewLayout, not the PlotItem's: a pyqtgraph title sets the
    # plot's minimum width to its text width, so a long title clips a narrow dock.
    plot.initial_title = title
    plot.setLabel("bottom", x_label)
    plot.setLabel("left", y_label)
    plot.showGrid(x=True, y=True, alpha=0.2)
    plot.setMenuEnabled(False)
    for name in ("bottom", "left"):
        plot.getAxis(name).enableAutoSIPrefix(False)   # "(x0.001)" confuses students
    cache_axes(plot)
    unindexed(plot)
    return plot


def columns(plot: pg.PlotWidget) -> int:
    """The plot area's width in pixels (at least 200): how many bins a series needs so that
    ``peaks`` keeps its envelope at one bin per pixel column."""
    return max(200, int(plot.getPlotItem().getViewBox().width()))


# How each kind of item looks in a Key: a few characters in the item's colour.
KEY_GLYPHS = {
    "line": "━━", "dash": "╺╸╺╸", "dot": "┅┅", "point": "●", "ring": "○", "triangle": "▲",
    "box": "■", "arrow": "━➤",
}


class Key(QLabel):
    """A legend outside the plot: one wrapping line of coloured samples and names, above the
    plot, so it never covers what it explains (a legend inside the plot covered the curves or
    the bars whatever corner it chose). Static: set once per run, free while a run plays."""

    def __init__(self) -> None:
        super().__init__("")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setFont(label_font(8))
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setContentsMargins(4, 0, 4, 0)
        self.entries: list[tuple[str, str, str]] = []

    def set_entries(self, entries: list[tuple[str, str, str]]) -> None:
        """``entries``: (glyph kind of ``KEY_GLYPHS``, colour ``#rrggbb``, text)."""
        self.entries = list(entries)
        parts = []
        for kind, color, text in self.entries:
            glyph = KEY_GLYPHS[kind]
            words = "&nbsp;".join(_html_escape(w) for w in text.split(" "))
            parts.append(f'<span style="color:{color}">{glyph}</span>&nbsp;'
                         f'<span style="color:{TEXT}">{words}</span>')
        self.setText(" &nbsp; ".join(parts))

    def texts(self) -> list[str]:
        return [text for _, _, text in self.entries]


def _html_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def hex_color(rgb: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*rgb[:3])


def faint_hex(color: str) -> str:
    """``color`` mixed with white as a faint curve of it looks on the white background (the
    batch loss, the seeds' ghost paths), for keys."""
    c = QColor(color)
    return hex_color(tuple(int(v + (255 - v) * 0.6) for v in (c.red(), c.green(), c.blue())))


class ViewLayout:
    """The common frame of a view: a top bar (optional parameter combo, a status label that
    wraps instead of widening the dock), the plot, and an optional info label below it.
    ``combo`` is None when the view has no parameter choice."""

    def __init__(self, owner: QWidget, plot: pg.PlotWidget, with_combo: bool = False,
                 combo_tip: str = "") -> None:
        layout = QVBoxLayout(owner)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.title = wrapping_label()
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setFont(label_font(11))
        self.title.setStyleSheet(f"color: {TEXT};")
        self._title_text = getattr(plot, "initial_title", "")
        self._follows: tuple[str, str] | None = None
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setText(_html_escape(self._title_text))
        layout.addWidget(self.title)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 0, 4, 0)
        self.combo: QComboBox | None = None
        self.combo_label: QLabel | None = None
        if with_combo:
            self.combo_label = QLabel("parameter:")
            bar.addWidget(self.combo_label)
            self.combo = QComboBox()
            self.combo.setToolTip(combo_tip)
            # as wide as ~8 characters: "random direction 1" made the combo 140 px wide and
            # wrapped the status line beside it into a third line (the popup shows it whole)
            self.combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.combo.setMinimumContentsLength(COMBO_CHARACTERS)
            bar.addWidget(self.combo)
        self.status = wrapping_label()
        self.status_slot = LabelSlot(self.status)
        bar.addWidget(self.status_slot, 1)
        self.bar = bar
        layout.addLayout(bar)
        layout.addWidget(plot, 1)
        self.info = wrapping_label()
        self.info_slot = LabelSlot(self.info)
        layout.addWidget(self.info_slot)
        self.info.setVisible(False)
        self._layout, self._plot = layout, plot
        self.key: Key | None = None
        self.status_below = False   # the status line has a row of its own (narrow dock)
        self._owner = owner
        self._reflow_filter = _ResizeHook(owner, self.reflow)

    def add_key(self) -> Key:
        """A Key (legend) between the top bar and the plot."""
        if self.key is None:
            self.key = Key()
            self._layout.insertWidget(self._layout.indexOf(self._plot), self.key)
        return self.key

    def set_title(self, text: str) -> None:
        self._title_text = text
        self._show_title()

    def set_follows(self, name: str, color: str) -> None:
        """The run this view draws when several are compared (``name``: "run 2 · adam lr
        0.05", a ● in its colour after the title); "" with one run."""
        self._follows = (name, color) if name else None
        self._show_title()

    def _show_title(self) -> None:
        text = _html_escape(self._title_text)
        if self._follows is not None:
            name, color = self._follows
            text += (f' <span style="color:{color}">●</span>'
                     f' <span style="font-size:small">{_html_escape(name)}</span>')
        self.title.setText(text)

    def reset_heights(self) -> None:
        """A new run: the status and info lines may take fewer lines again."""
        for label in (self.title, self.status, self.info):
            label.reset_height()

    def show_combo(self, visible: bool) -> None:
        if self.combo is not None:
            self.combo.setVisible(visible)
            self.combo_label.setVisible(visible)
            self.reflow()

    def reflow(self) -> None:
        """Beside the bar's controls the status line needs STATUS_MIN_WIDTH px, or it wraps
        into a narrow, very tall column that squeezes the plot: in a narrow dock it gets a
        row of its own below the controls (and goes back when the dock is wide again)."""
        controls = [self.bar.itemAt(i).widget() for i in range(self.bar.count())]
        controls = [w for w in controls if w is not None and w is not self.status_slot]
        if not controls:
            return
        hidden = self._owner.isHidden()
        used = sum(w.sizeHint().width() + self.bar.spacing() for w in controls
                   if hidden or w.isVisibleTo(self._owner))
        below = self._owner.width() < used + STATUS_MIN_WIDTH + 12
        if below == self.status_below:
            return
        self.status_below = below
        if below:
            self.bar.removeWidget(self.status_slot)
            self._layout.insertWidget(self._layout.indexOf(self._plot) if self.key is None
                                      else self._layout.indexOf(self.key), self.status_slot)
        else:
            self._layout.removeWidget(self.status_slot)
            self.bar.addWidget(self.status_slot, 1)
        self.status.reset_height()


STATUS_MIN_WIDTH = 220   # px the status line needs beside the bar's controls
COMBO_CHARACTERS = 8     # a view's parameter combo shows this many characters when closed


class _ResizeHook(QObject):
    """Calls ``callback()`` after every resize of ``widget``."""

    def __init__(self, widget: QWidget, callback) -> None:
        super().__init__(widget)
        self._callback = callback
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Resize:
            self._callback()
        return False


def fill_param_combo(combo: QComboBox, names: tuple[str, ...], keep: int = 0) -> int:
    """Refill ``combo`` with parameter names without emitting signals; returns the index kept
    (``keep`` if still valid, else 0). The combo is disabled when there is only one choice."""
    keep = keep if 0 <= keep < len(names) else 0
    combo.blockSignals(True)
    combo.clear()
    combo.addItems(list(names))
    combo.setCurrentIndex(keep)
    combo.setEnabled(len(names) > 1)
    view = combo.view()   # the open list shows every name whole
    view.setMinimumWidth(view.sizeHintForColumn(0) + 24)
    combo.blockSignals(False)
    return keep


def scene_item_count(widget: QWidget) -> int:
    """Number of graphics items in all plots of ``widget`` (tests check it stays constant)."""
    return sum(len(p.scene().items()) for p in widget.findChildren(pg.PlotWidget))


def qcolor(color: str, alpha: int = 255) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c
