"""Runs panel: the runs being compared (1..6) — select, add, remove, rename, recolour.

The panel shows the controller's runs and reports what the user asks for through signals; the
main window applies the request to the controller, which refuses with a ConfigError (then the
panel shows the sentence under its buttons). Selecting a run makes the Optimizer and Sampling
panels edit that run; the Problem and Run panels are shared by every run.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.lockstep import MAX_RUNS
from gdviz.gui.run_set import RunSpec

ROW_HEIGHT = 22


def swatch(color: str, size: int = 14) -> QIcon:
    """A filled square in ``color`` (the run's colour in the list and on the buttons)."""
    pixmap = QPixmap(size, size)
    pixmap.fill(QColor(color))
    return QIcon(pixmap)


class RunsPanel(QWidget):
    """Signals: sig_add(), sig_remove(int), sig_selected(int), sig_renamed(int, str),
    sig_recolored(int, str)."""

    title = "Runs"
    sig_add = Signal()
    sig_remove = Signal(int)
    sig_selected = Signal(int)
    sig_renamed = Signal(int, str)
    sig_recolored = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: tuple[RunSpec, ...] = ()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        self.list = QListWidget()
        self.list.setObjectName("runs_list")
        self.list.setIconSize(QSize(14, 14))
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                  | QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setToolTip(
            "The runs being compared, each in its colour in every view. Click one to edit its "
            "optimizer and sampling; double-click (or F2) to rename it. All runs share the "
            "problem, the start point and the limits, and advance together, step by step.")
        self.list.currentRowChanged.connect(self._on_list_row_changed)
        self.list.itemChanged.connect(self._on_list_item_changed)
        layout.addWidget(self.list)
        buttons = QHBoxLayout()
        buttons.setSpacing(4)
        self.add_button = self._button(
            "Add", "add_run", f"Add a copy of the selected run (at most {MAX_RUNS}); then "
            "change its optimizer, learning rate or batch size to compare. Every run restarts "
            "at step 0.")
        self.remove_button = self._button(
            "Remove", "remove_run", "Remove the selected run; the others restart at step 0.")
        self.color_button = self._button(
            "Colour…", "color_run", "Choose the selected run's colour.")
        self.add_button.clicked.connect(self.sig_add)
        self.remove_button.clicked.connect(lambda: self.sig_remove.emit(self.selected()))
        self.color_button.clicked.connect(self._on_color_button_clicked)
        for button in (self.add_button, self.remove_button, self.color_button):
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.note = QLabel()
        self.note.setObjectName("runs_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #555555;")
        layout.addWidget(self.note)
        self.message = QLabel()
        self.message.setObjectName("runs_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #c00000;")
        self.message.hide()
        layout.addWidget(self.message)

    def _button(self, text: str, name: str, tip: str) -> QPushButton:
        button = QPushButton(text)
        button.setObjectName(name)
        button.setToolTip(tip)
        return button

    # -- from the controller ----------------------------------------------------------------------
    def set_runs(self, runs: Sequence[RunSpec], selected: int) -> None:
        """Show ``runs`` with ``selected`` current (no signals)."""
        self.runs = tuple(runs)
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for run in self.runs:
                item = QListWidgetItem(swatch(run.color), run.name)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(f"{run.name}\n(double-click to rename; an empty name goes "
                                "back to describing the settings)")
                self.list.addItem(item)
            self.list.setCurrentRow(selected)
        finally:
            self.list.blockSignals(False)
        self.list.setFixedHeight(ROW_HEIGHT * max(2, len(self.runs)) + 6)
        self.remove_button.setEnabled(len(self.runs) > 1)
        n = len(self.runs)
        if n == 1:
            self.note.setText("One run. Add copies it: change the copy's optimizer, learning "
                              f"rate or batch size to compare up to {MAX_RUNS} runs.")
        else:
            self.note.setText(f"{n} of {MAX_RUNS} runs, from the same start point, one step "
                              "each at a time. Optimizer and Sampling edit the selected run.")

    def show_message(self, text: str) -> None:
        """A refusal (e.g. a 7th run), shown under the buttons until the next change."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def selected(self) -> int:
        return max(0, self.list.currentRow())

    def names(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    # -- user actions -----------------------------------------------------------------------------
    def rename(self, k: int, name: str) -> None:
        """As if the user typed ``name`` for run k."""
        self.list.item(k).setText(name)

    def _on_list_row_changed(self, row: int) -> None:
        if row >= 0:
            self.show_message("")
            self.sig_selected.emit(row)

    def _on_list_item_changed(self, item: QListWidgetItem) -> None:
        row = self.list.row(item)
        if 0 <= row < len(self.runs) and item.text() != self.runs[row].name:
            self.sig_renamed.emit(row, item.text().strip())

    def _on_color_button_clicked(self) -> None:
        k = self.selected()
        if not self.runs:
            return
        color = QColorDialog.getColor(QColor(self.runs[k].color), self,
                                      f"Colour of {self.runs[k].name}")
        if color.isValid():
            self.sig_recolored.emit(k, color.name())
