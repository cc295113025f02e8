"""The formula editor of problem ``custom``: live validation, exact gradient, loss preview.

Two speeds, so typing never waits:
* every keystroke runs ``parse_formula`` (pure Python, well under a millisecond): an error is
  underlined where it is (a red wave under ``FormulaError.offset`` / ``.length``) and
  explained below; valid text lists its parameters at once;
* 300 ms after the last keystroke the whole draft problem is built in the background
  (``make_problem``: sympy derives and compiles the gradient, up to the core's time budget;
  the first use imports sympy, ~0.7 s). The result brings the gradient text and a preview of
  the loss along the first parameter. Building through ``make_problem`` also fills the
  registry's cache, so applying the same draft afterwards costs nothing on the GUI thread.

Threading: the build runs on a ``tasks.TaskRunner`` (one pending job, stale results dropped,
thread registered with the one registry of background threads, joined when the window hides or
the editor is deleted).
The job reads only plain values (text, a settings dict copy, a path) and returns a frozen
``Analysis`` or the exception it met; nothing mutable crosses threads.

Applying (Enter or Apply) never sends a formula that did not build: when the analysis of the
current text is not in yet, the editor applies as soon as it arrives (if it succeeded).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.errors import ConfigError
from gdviz.core.formula import FormulaError, parse_formula, resolve_names
from gdviz.core.problems.custom import CUSTOM_SETTINGS
from gdviz.gui.panels.custom_parts import ERROR_COLOR, FormulaText
from gdviz.gui.panels.fields import spec_tooltip
from gdviz.gui.panels.formula_analysis import (
    Analysis,
    analyse,
    formula_changes,
    gradient_html,
    pretty,
)
from gdviz.gui.tasks import TaskRunner

DEBOUNCE_MS = 300


class FormulaEditor(QWidget):
    """Formula text + Apply, the message (error or parameters), the gradient and a preview.

    ``set_context(...)`` tells it what is applied (the panel calls it from ``set_config``);
    ``sig_apply(list[(setting, value)])`` asks the panel to apply a draft that built.
    ``error``: the FormulaError / ConfigError the current text has, None when it is fine.
    """

    sig_apply = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("formula_editor")
        self.error: ConfigError | None = None
        self.analysis: Analysis | None = None
        self._settings: dict[str, Any] = {}
        self._data_path: str | None = None
        self._names: tuple[str, ...] = ()
        self._columns: tuple[str, ...] = ()
        self._start: tuple[float, ...] | None = None
        self._applied = ""
        self._draft_names: tuple[str, ...] = ()
        self._apply_requested = False
        self._result_key: tuple | None = None
        self.worker = TaskRunner(self)
        self.worker.sig_ready.connect(self._on_worker_ready)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.start_analysis)
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        caption = QLabel("per-sample loss ℓ =")
        caption.setToolTip("Type the loss of ONE sample; gdviz sums or averages it over the "
                           "data and derives the exact gradient.")
        self.text_box = FormulaText()
        self.text_box.setObjectName("formula_text")
        expr_spec = next(spec for spec in CUSTOM_SETTINGS if spec.name == "expr")
        self.text_box.setToolTip(spec_tooltip(expr_spec) + "\nChecked as you type; Enter (or "
                                 "Apply) uses it and restarts the run.")
        self.text_box.textChanged.connect(self._on_text_changed)
        self.text_box.sig_submitted.connect(self.submit)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setObjectName("formula_apply")
        self.apply_button.setToolTip("Use this formula (Enter): the run restarts on it.")
        self.apply_button.clicked.connect(self.submit)
        row = QHBoxLayout()
        row.addWidget(self.text_box, 1)
        row.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignTop)
        self.message = QLabel()
        self.message.setObjectName("formula_message")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.gradient = QLabel()
        self.gradient.setObjectName("formula_gradient")
        self.gradient.setTextFormat(Qt.TextFormat.RichText)
        self.gradient_lines: tuple[str, ...] = ()
        self.gradient.setWordWrap(True)
        self.gradient.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        mono = QFont(self.text_box.font())
        self.gradient.setFont(mono)
        self.gradient.setStyleSheet("background: #f4f6fb; border: 1px solid #d8dce8; "
                                    "padding: 3px;")
        self.preview = pg.PlotWidget(background="w")
        self.preview.setObjectName("formula_preview")
        self.preview.setFixedHeight(96)
        self.preview.setMenuEnabled(False)
        self.preview.setMouseEnabled(False, False)
        self.preview.hideButtons()
        plot = self.preview.getPlotItem()
        plot.showGrid(x=True, y=True, alpha=0.15)
        for side in ("left", "bottom"):
            plot.getAxis(side).setStyle(tickFont=QFont(self.font().family(), 7))
        self.curve = plot.plot([], [], pen=pg.mkPen("#1a3a8f", width=1.6))
        self.start_marker = plot.plot([], [], pen=None, symbol="o", symbolSize=7,
                                      symbolBrush="#d62728", symbolPen=None)
        self.preview_label = QLabel()
        self.preview_label.setObjectName("formula_preview_label")
        self.preview_label.setWordWrap(True)
        self.preview_label.setStyleSheet("color: #444;")
        for widget in (caption, self.message, self.gradient, self.preview, self.preview_label):
            widget.setToolTip(widget.toolTip() or caption.toolTip())
        layout.addWidget(caption)
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(self.gradient)
        layout.addWidget(self.preview)
        layout.addWidget(self.preview_label)
        self._show_result(None)

    # -- context --------------------------------------------------------------------------
    def set_context(self, settings: Mapping[str, Any], data_path: str | None,
                    names: tuple[str, ...], columns: tuple[str, ...],
                    start: tuple[float, ...] | None) -> None:
        """What is applied now: the problem's settings, data file, parameter names, data
        columns and the run's own start point (None: the problem's default). A draft being
        typed survives unless the applied formula itself changed (a preset was loaded)."""
        self._settings = dict(settings)
        self._data_path = data_path
        self._names, self._columns, self._start = tuple(names), tuple(columns), start
        expr = str(settings["expr"])
        if expr != self._applied or self.text_box.text() == self._applied:
            self._applied = expr
            self._apply_requested = False
            if self.text_box.text() != expr:
                self.text_box.setPlainText(expr)  # -> _on_text_changed
                return
        self._on_text_changed()

    @property
    def applied_text(self) -> str:
        return self._applied

    def changes(self) -> list[tuple[str, str]]:
        """The settings changes that apply the current text (see ``formula_changes``)."""
        positional = bool(self._settings.get("init", "").strip() or
                          self._settings.get("ranges", "").strip() or self._start is not None)
        return formula_changes(self._settings, self._names, self.text_box.text(),
                               self._draft_names, positional)

    # -- live validation ------------------------------------------------------------------
    def _on_text_changed(self) -> None:
        if not self._settings:
            return  # no context yet
        text = self.text_box.text()
        self.timer.stop()
        try:
            formula = parse_formula(text)
            self._draft_names = resolve_names(formula, self._columns)[0]
        except FormulaError as err:
            self.worker.cancel()
            self._apply_requested = False
            self._show_error(err)
            return
        self.error = None
        self.text_box.clear_mark()
        if self.analysis is not None and self._result_key == self._key():
            self._show_result(self.analysis)
        else:
            self._show_pending()
            if self.isVisible():  # a hidden editor computes nothing; showEvent catches up
                self.timer.start()

    def _draft_settings(self) -> dict[str, Any]:
        settings = dict(self._settings)
        settings.update(self.changes())
        return settings

    def _expected_names(self) -> tuple[str, ...]:
        order = self._draft_settings()["params"].strip()
        return tuple(n.strip() for n in order.split(",")) if order else self._draft_names

    def _key(self) -> tuple:
        """What the analysis of the current text depends on."""
        settings = tuple(sorted((k, str(v)) for k, v in self._draft_settings().items()))
        return (self.text_box.text(), settings, self._data_path, self._start)

    def start_analysis(self) -> None:
        """Build the draft of the current text in the background now, without waiting for the
        typing to pause (the debounce timer does this after DEBOUNCE_MS)."""
        self.timer.stop()
        text, settings = self.text_box.text(), self._draft_settings()
        path, start = self._data_path, self._start
        self.worker.request(self._key(), lambda _stop: analyse(text, settings, path, start))

    def _on_worker_ready(self, key: Any, result: Any) -> None:
        if key != self._key():
            return  # typed on meanwhile (or the context changed); a newer request answers
        self._result_key = key
        if isinstance(result, Exception):
            self.analysis = None
            self._apply_requested = False
            self._show_error(result)
            return
        self.analysis = result
        self.error = None
        self._show_result(result)
        if self._apply_requested:
            self._apply_requested = False
            self._emit_apply()

    def submit(self) -> None:
        """Enter / Apply: apply the current text once it has built (never an invalid one)."""
        if self.error is not None:  # the text does not parse, or its build failed
            self._show_error(self.error)
            return
        if self.analysis is not None and self._result_key == self._key():
            self._emit_apply()
            return
        self._apply_requested = True
        if self.timer.isActive() or not self.worker.busy:
            self.start_analysis()
        self._show_pending()

    def _emit_apply(self) -> None:
        if self.text_box.text() != self._applied:
            self.sig_apply.emit(self.changes())

    def show_apply_error(self, message: str) -> None:
        """The core refused the applied draft (rare: the analysis passed): say why here."""
        self._set_message(message[:1].upper() + message[1:], error=True)

    # -- display --------------------------------------------------------------------------
    def _show_error(self, err: Exception) -> None:
        self.error = err if isinstance(err, ConfigError) else ConfigError(str(err))
        if isinstance(err, FormulaError) and err.setting in (None, "expr"):
            if err.position is not None:
                self.text_box.mark(err.offset, err.length)
            else:
                self.text_box.mark(None, 0)
            reason = err.reason[:1].upper() + err.reason[1:]
            where = f"Position {err.position}: " if err.position is not None else ""
            self._set_message(where + (err.reason if where else reason), error=True)
        else:
            self.text_box.clear_mark()
            text = str(err) if isinstance(err, ConfigError) else \
                f"this formula cannot be used: {err}"
            self._set_message(text[:1].upper() + text[1:], error=True)
        self.gradient.setEnabled(False)
        self.preview.setVisible(False)
        self.preview_label.setVisible(False)
        self._update_apply_button()

    def _set_message(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {ERROR_COLOR};" if error else "color: #333;")

    def _describe_names(self) -> str:
        names = self._expected_names()
        used = [c for c in self._columns if c in set(parse_formula(self.text_box.text()).names)]
        data = f"; data columns: {', '.join(used)}" if used else \
            "; no data column (the formula itself is the loss)" if not self._columns else ""
        return f"Parameters: {', '.join(names)}{data}"

    def _show_pending(self) -> None:
        then = " (applied when ready)" if self._apply_requested else ""
        self._set_message(f"{self._describe_names()} — deriving the gradient…{then}")
        self.gradient.setEnabled(False)
        self._update_apply_button()

    def _show_result(self, result: Analysis | None) -> None:
        if result is None:
            self.gradient_lines = ()
            self.gradient.clear()
            self.gradient.setVisible(False)
            self.preview.setVisible(False)
            self.preview_label.setVisible(False)
            self._set_message("")
            return
        self._set_message(self._describe_names())
        self.gradient_lines = tuple(pretty(line) for line in result.gradient_text)
        self.gradient.setText(gradient_html(self.gradient_lines))
        self.gradient.setToolTip("The exact gradient, as derived (copyable):\n" +
                                 "\n".join(result.gradient_text))
        self.gradient.setEnabled(True)
        self.gradient.setVisible(True)
        finite = np.isfinite(result.curve_y)
        self.curve.setData(result.curve_x[finite], result.curve_y[finite])
        self.start_marker.setData([result.start[0]], [result.loss_at_start]
                                  if np.isfinite(result.loss_at_start) else [])
        self.preview.getPlotItem().setLabel("bottom", result.param_names[0])
        self.preview.setVisible(bool(finite.any()))
        point = ", ".join(f"{n} = {v:.4g}" for n, v in zip(result.param_names, result.start))
        over = f" over {result.n_samples} samples" if result.used_columns else ""
        self.preview_label.setText(f"Loss at the start ({point}): {result.loss_at_start:.6g}"
                                   f"{over}. The curve: the loss along "
                                   f"{result.param_names[0]}, the others held.")
        self.preview_label.setVisible(True)
        self._update_apply_button()

    def _update_apply_button(self) -> None:
        text = self.text_box.text()
        self.apply_button.setEnabled(self.error is None and text != self._applied)

    # -- life cycle -----------------------------------------------------------------------
    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Tests and exports: wait (at most ``timeout_ms``) until the analysis of the current
        text is in, and show it. Waits on the analysis itself and processes no events, so
        nothing else (a click, a timer) runs meanwhile; a pending debounce starts it at once.
        True when no analysis is left pending (a hidden editor starts none).
        (The wait it replaces processed events and slept 2 ms between polls, so a click could
        run inside it.)"""
        if self.timer.isActive():
            self.start_analysis()
        return self.worker.wait(timeout_ms)

    def shutdown(self) -> None:
        self.timer.stop()
        self.worker.shutdown()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._on_text_changed()

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.timer.stop()
        window = self.window()
        if window is self or not window.isVisible():  # the window is closing: stop the thread
            self.shutdown()
        else:                                          # another problem was chosen
            self.worker.cancel()
            self._apply_requested = False
        super().hideEvent(event)
