"""Editing a lesson's captions: a dialog with a table of trigger + text (``CaptionEditor``), and
the View menu's caption entries (``install_caption_actions``).

The table's rows become a ``core.captions.CaptionScript`` only through its own validation
(``CaptionScript.from_list``): a bad row keeps the dialog open and its reason is shown under
the table, in the core's words, until it is fixed.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.captions import TRIGGERS, Caption, CaptionScript
from gdviz.core.errors import ConfigError

COLUMNS = ("trigger", "value", "run", "text")
TRIGGER_TIPS = {
    "at_step": "value = the step it appears at",
    "grad_norm_below": "value = |gradient| below which a stretch counts as flat; fires at the "
                       "first step of each flat stretch",
    "moved_again": "fires at the first step after a flat stretch (value: its threshold; "
                   "empty = the grad_norm_below caption's)",
    "loss_below": "value = the full loss; fires once, at the first step below it",
    "batch_loss_below": "value = the loss of the step's batch; fires once, at the first "
                        "step below it",
    "diverged": "the run's last step, when it diverged",
    "converged": "the run's last step, when it converged",
    "ended": "the run's last step, however it ended",
}


class CaptionEditor(QDialog):
    """A table of the captions (trigger, value, run, text); OK gives ``script``."""

    def __init__(self, script: CaptionScript, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lesson captions")
        self.script = script
        layout = QVBoxLayout(self)
        intro = QLabel("Each caption appears on the view in front when its trigger fires and "
                       "stays until the next one. A text may show numbers of the step: "
                       "{step}, {epoch}, {loss}, {batch_loss}, {grad_norm}, {lr} "
                       "(e.g. {loss:.3g}). Run: 0-based run of a comparison; empty = the "
                       "selected run.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("caption_table")
        self.table.setHorizontalHeaderLabels([c.capitalize() for c in COLUMNS])
        self.table.horizontalHeader().setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        layout.addWidget(self.table, 1)
        buttons = QHBoxLayout()
        self.add_button = QPushButton("Add")
        self.add_button.clicked.connect(lambda: self.add_row(Caption("at_step", "new caption",
                                                                     0)))
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._on_remove_clicked)
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.error = QLabel()
        self.error.setObjectName("caption_error")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
        box.accepted.connect(self.accept)
        box.rejected.connect(self.reject)
        layout.addWidget(box)
        for caption in script.captions:
            self.add_row(caption)
        self.resize(760, 360)

    def add_row(self, caption: Caption) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        combo = QComboBox()
        for trigger in TRIGGERS:
            combo.addItem(trigger)
            combo.setItemData(combo.count() - 1, TRIGGER_TIPS[trigger],
                              Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentText(caption.trigger)
        self.table.setCellWidget(row, 0, combo)
        value = "" if caption.value is None else (
            str(int(caption.value)) if caption.trigger == "at_step" else f"{caption.value:g}")
        self.table.setItem(row, 1, QTableWidgetItem(value))
        self.table.setItem(row, 2, QTableWidgetItem("" if caption.run is None
                                                    else str(caption.run)))
        self.table.setItem(row, 3, QTableWidgetItem(caption.text))

    def rows(self) -> list[dict]:
        """The table as the captions' JSON list (what ``CaptionScript.from_list`` reads)."""
        out = []
        for row in range(self.table.rowCount()):
            trigger = self.table.cellWidget(row, 0).currentText()
            value = self._cell(row, 1)
            run = self._cell(row, 2)
            item: dict = {"when": trigger}
            if trigger == "at_step":
                item = {"at_step": _number(value, "step", row)}
            elif value:
                item["value"] = _number(value, "value", row)
            if run:
                item["run"] = _number(run, "run", row)
            item["text"] = self._cell(row, 3)
            out.append(item)
        return out

    def accept(self) -> None:
        try:
            script = CaptionScript.from_list(self.rows())
            runs = getattr(self, "n_runs", None)
            if runs is not None:
                script.check_runs(runs)
        except ConfigError as err:
            self.error.setText(str(err))
            self.error.show()
            return
        self.script = script
        super().accept()

    def _cell(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text().strip() if item is not None else ""

    def _on_remove_clicked(self) -> None:
        rows = sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True)
        for row in rows:
            self.table.removeRow(row)


def _number(text: str, what: str, row: int):
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"caption {row + 1}: the {what} must be a number, got {text!r}") \
            from None
    return int(value) if value.is_integer() and what in ("step", "run") else value


def edit_captions(window) -> CaptionEditor:
    """Open the editor on the window's captions; OK puts the edited script into the window.
    Returns the (non-modal) dialog."""
    dialog = CaptionEditor(window.captions.script, window)
    dialog.n_runs = len(window.controller.runs)
    dialog.accepted.connect(lambda: window.set_captions(dialog.script))
    dialog.setModal(False)
    dialog.show()
    return dialog


def install_caption_actions(window, view_menu) -> tuple[QAction, QAction]:
    """View > Show lesson captions (checkable, remembered) and View > Edit lesson captions…"""
    show = view_menu.addAction("Show lesson &captions")
    show.setObjectName("show_captions")
    show.setCheckable(True)
    show.setChecked(window.settings.captions_shown())
    show.setToolTip("The lesson's captions over the view in front while it plays and when "
                    "you drag the timeline")
    show.toggled.connect(window.show_captions)
    edit = view_menu.addAction("&Edit lesson captions…")
    edit.setObjectName("edit_captions")
    edit.setToolTip("A table of the captions (when each appears, and its text); saved with "
                    "the session")
    edit.triggered.connect(lambda: edit_captions(window))
    return show, edit
