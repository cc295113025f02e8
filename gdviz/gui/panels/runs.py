"""Runs panel: the runs being compared (1..6) — select, add, remove, rename, recolour.

The panel shows the controller's runs and reports what the user asks for through signals; the
main window applies the request to the controller, which refuses with a ConfigError (then the
panel shows the sentence under its buttons). Selecting a run makes the Optimizer and Sampling
panels edit that run; the Problem and Run panels are shared by every run.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.lockstep import MAX_RUNS
from gdviz.core.run_set import RunSpec

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
        # two columns: the name (editable) and how the run ended ("diverged at 8")
        self.list = QTreeWidget()
        self.list.setObjectName("runs_list")
        self.list.setColumnCount(2)
        self.list.setHeaderHidden(True)
        self.list.setRootIsDecorated(False)
        self.list.setIndentation(0)
        self.list.setIconSize(QSize(14, 14))
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setToolTip(
            "The runs being compared, each in its colour in every view. Click one to edit its "
            "optimizer and sampling; double-click (or F2) to rename it. All runs share the "
            "problem, the start point and the limits, and advance together, step by step.")
        self.list.currentItemChanged.connect(self._on_list_current_changed)
        self.list.itemChanged.connect(self._on_list_item_changed)
        self.list.itemDoubleClicked.connect(lambda item, _col: self.list.editItem(item, 0))
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
                item = QTreeWidgetItem([run.name, ""])
                item.setIcon(0, swatch(run.color))
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                item.setToolTip(0, f"{run.name}\n(double-click to rename; an empty name goes "
                                   "back to describing the settings)")
                item.setForeground(1, QColor("#555555"))
                self.list.addTopLevelItem(item)
            self.list.setCurrentItem(self.list.topLevelItem(selected))
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

    def set_ended(self, k: int, text: str) -> None:
        """How run k ended ("diverged at 8"), or "" while it runs."""
        item = self.list.topLevelItem(k)
        if item is not None:
            self.list.blockSignals(True)
            item.setText(1, text)
            item.setForeground(1, QColor("#c00000" if text.startswith("diverged")
                                         else "#555555"))
            self.list.blockSignals(False)

    def ended_texts(self) -> list[str]:
        return [self.list.topLevelItem(i).text(1) for i in range(self.list.topLevelItemCount())]

    def selected(self) -> int:
        item = self.list.currentItem()
        return max(0, self.list.indexOfTopLevelItem(item)) if item is not None else 0

    def names(self) -> list[str]:
        return [self.list.topLevelItem(i).text(0)
                for i in range(self.list.topLevelItemCount())]

    # -- user actions -----------------------------------------------------------------------------
    def select(self, k: int) -> None:
        """As if the user clicked run k."""
        self.list.setCurrentItem(self.list.topLevelItem(k))

    def rename(self, k: int, name: str) -> None:
        """As if the user typed ``name`` for run k."""
        self.list.topLevelItem(k).setText(0, name)

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt name)
        item = self.list.currentItem()
        if event.key() == Qt.Key.Key_F2 and item is not None:
            self.list.editItem(item, 0)
            return
        super().keyPressEvent(event)

    def _on_list_current_changed(self, item, _previous) -> None:
        row = self.list.indexOfTopLevelItem(item) if item is not None else -1
        if row >= 0:
            self.show_message("")
            self.sig_selected.emit(row)

    def _on_list_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        row = self.list.indexOfTopLevelItem(item)
        if column == 0 and 0 <= row < len(self.runs) and item.text(0) != self.runs[row].name:
            # later, not inside the editor's commit: the rename rebuilds this list
            name = item.text(0).strip()
            QTimer.singleShot(0, lambda: self.sig_renamed.emit(row, name))

    def _on_color_button_clicked(self) -> None:
        k = self.selected()
        if not self.runs:
            return
        color = QColorDialog.getColor(QColor(self.runs[k].color), self,
                                      f"Colour of {self.runs[k].name}")
        if color.isValid():
            self.sig_recolored.emit(k, color.name())
