"""Widgets of the custom problem's panel: the formula text box (errors underlined), the
parameter table (order, start values, view ranges) and the CSV column chooser. They only emit
what the user did; the Problem panel turns that into settings edits (``expr``, ``params``,
``init``, ``ranges``, ``columns``)."""

from __future__ import annotations

import csv
import io

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QFontDatabase, QKeyEvent, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QTableWidget,
    QTableWidgetItem,
    QTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.errors import ConfigError
from gdviz.core.file_read import open_regular
from gdviz.core.problems.csv_data import DEFAULT_MAX_BYTES
from gdviz.core.text import shown
from gdviz.gui.panels.fields import format_value

HEADER_BYTES = 64 * 1024
ERROR_COLOR = "#c00000"


def csv_header(path: str) -> tuple[str, ...]:
    """The column names in the first non-blank line of a CSV file ('' on any problem: the
    core's loader explains what is wrong when the file is applied). Reads at most
    HEADER_BYTES, of a regular file only (a FIFO or a device would block the GUI thread);
    names are escaped for display (``core.text.shown``)."""
    try:
        with open_regular(path, "data file", DEFAULT_MAX_BYTES) as reader:
            for raw in reader.lines(HEADER_BYTES):
                line = raw.decode("utf-8-sig", errors="replace")
                if line.strip():
                    row = next(csv.reader(io.StringIO(line)), [])
                    return tuple(shown(cell.strip()) for cell in row)
                if reader.consumed > HEADER_BYTES:
                    break
    except (OSError, ConfigError, csv.Error):
        pass
    return ()


class FormulaText(QPlainTextEdit):
    """A one-formula text box: Enter submits (no line breaks), errors get a red wave underline.

    ``marked``: (offset, length) of the underlined characters, None when nothing is."""

    sig_submitted = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.marked: tuple[int, int] | None = None
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(font.pointSizeF(), 10.0))
        self.setFont(font)
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        lines = 2
        margin = 2 * (self.frameWidth() + int(self.document().documentMargin()))
        self.setFixedHeight(self.fontMetrics().lineSpacing() * lines + margin + 4)

    def text(self) -> str:
        return self.toPlainText()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt name)
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.sig_submitted.emit()
            return
        super().keyPressEvent(event)

    def insertFromMimeData(self, source) -> None:  # noqa: N802 (Qt name)
        """Pasted line breaks become spaces: a formula is one line."""
        if source.hasText():
            self.insertPlainText(" ".join(source.text().splitlines()))
        else:
            super().insertFromMimeData(source)

    def mark(self, offset: int | None, length: int) -> None:
        """Underline ``length`` characters from ``offset`` (clamped to the text; an error past
        the end marks the last character); None: the whole text."""
        n = len(self.text())
        if n == 0:
            self.clear_mark()
            return
        if offset is None:
            start, end = 0, n
        else:
            start = min(max(offset, 0), n - 1)
            end = min(max(start + max(length, 1), start + 1), n)
        selection = QTextEdit.ExtraSelection()
        fmt = QTextCharFormat()
        fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        fmt.setUnderlineColor(QColor(ERROR_COLOR))
        fmt.setBackground(QColor("#ffd6d6"))
        selection.format = fmt
        cursor = QTextCursor(self.document())
        cursor.setPosition(start)
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        selection.cursor = cursor
        self.setExtraSelections([selection])
        self.marked = (start, end - start)

    def clear_mark(self) -> None:
        self.setExtraSelections([])
        self.marked = None


class ParamTable(QWidget):
    """One row per parameter: name, start value, view range ``lo : hi``; ↑/↓ reorder.

    sig_order(tuple[str, ...]): the new parameter order (after ↑ or ↓);
    sig_start(int, str): the start value typed for parameter i;
    sig_range(int, str): the view range typed for parameter i (``lo:hi``).
    """

    sig_order = Signal(object)
    sig_start = Signal(int, str)
    sig_range = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.names: tuple[str, ...] = ()
        self._filling = False
        self.table = QTableWidget(0, 3)
        self.table.setObjectName("param_table")
        self.table.setHorizontalHeaderLabels(["parameter", "start", "view range"])
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.setToolTip(
            "The formula's parameters in the order of every parameter vector (the plots' "
            "axes follow it). Double-click a start value or a view range (lo : hi) to change "
            "it; ↑/↓ move the selected parameter.")
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.up_button = QToolButton()
        self.up_button.setObjectName("param_up")
        self.up_button.setArrowType(Qt.ArrowType.UpArrow)
        self.up_button.setToolTip("Move the selected parameter up (earlier in the order).")
        self.up_button.clicked.connect(lambda: self.move(-1))
        self.down_button = QToolButton()
        self.down_button.setObjectName("param_down")
        self.down_button.setArrowType(Qt.ArrowType.DownArrow)
        self.down_button.setToolTip("Move the selected parameter down (later in the order).")
        self.down_button.clicked.connect(lambda: self.move(1))
        buttons = QVBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.up_button)
        buttons.addWidget(self.down_button)
        buttons.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    def set_params(self, names: tuple[str, ...], start, ranges) -> None:
        """Show ``names`` with their start values (p,) and view ranges (p, 2)."""
        selected = self.selected_name()
        self._filling = True
        try:
            self.names = tuple(names)
            self.table.setRowCount(len(names))
            for i, name in enumerate(names):
                item = QTableWidgetItem(name)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
                self.table.setItem(i, 0, item)
                self.table.setItem(i, 1, QTableWidgetItem(format_value(float(start[i]))))
                lo, hi = (format_value(float(v)) for v in ranges[i])
                self.table.setItem(i, 2, QTableWidgetItem(f"{lo} : {hi}"))
            if selected in self.names:
                self.table.selectRow(self.names.index(selected))
        finally:
            self._filling = False
        rows = max(1, len(names))
        height = self.table.horizontalHeader().sizeHint().height() + \
            rows * self.table.verticalHeader().defaultSectionSize() + 2 * self.table.frameWidth()
        self.table.setFixedHeight(min(height, 12 * 30))
        self._update_buttons()

    def selected_name(self) -> str | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        return self.names[rows[0].row()] if rows and rows[0].row() < len(self.names) else None

    def move(self, delta: int) -> None:
        """Move the selected parameter by ``delta`` places; emits the new order."""
        name = self.selected_name()
        if name is None:
            return
        i = self.names.index(name)
        j = i + delta
        if not 0 <= j < len(self.names):
            return
        order = list(self.names)
        order[i], order[j] = order[j], order[i]
        self.sig_order.emit(tuple(order))
        if name in self.names:
            self.table.selectRow(self.names.index(name))

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if self._filling:
            return
        text = item.text().strip()
        if item.column() == 1:
            self.sig_start.emit(item.row(), text)
        elif item.column() == 2:
            self.sig_range.emit(item.row(), text.replace(" ", ""))

    def _update_buttons(self) -> None:
        name = self.selected_name()
        i = self.names.index(name) if name is not None else -1
        self.up_button.setEnabled(i > 0)
        self.down_button.setEnabled(0 <= i < len(self.names) - 1)


class ColumnList(QWidget):
    """The CSV file's columns, checkable and draggable; the last checked one is the target.

    sig_columns(tuple[str, ...]): the checked columns in their order (at least one)."""

    sig_columns = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._filling = False
        self.list = QListWidget()
        self.list.setObjectName("column_list")
        self.list.setToolTip(
            "The file's columns: tick the ones the formula may use and drag them into order. "
            "The last ticked column is the target (y); the others are features.")
        self.list.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.list.itemChanged.connect(self._on_changed)
        self.list.model().rowsMoved.connect(self._on_changed)
        self.summary = QLabel()
        self.summary.setObjectName("column_summary")
        self.summary.setWordWrap(True)
        self.summary.setStyleSheet("color: #444;")
        self.summary.setToolTip(self.list.toolTip())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.list)
        layout.addWidget(self.summary)

    def set_columns(self, header: tuple[str, ...], selected: tuple[str, ...]) -> None:
        """All of the file's columns: the selected ones first, in their order, ticked."""
        self._filling = True
        try:
            self.list.clear()
            rest = [c for c in header if c not in selected]
            for name in list(selected) + rest:
                item = QListWidgetItem(name)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsDragEnabled)
                item.setCheckState(Qt.CheckState.Checked if name in selected
                                   else Qt.CheckState.Unchecked)
                self.list.addItem(item)
            row = self.list.sizeHintForRow(0) if self.list.count() else 18
            self.list.setFixedHeight(min(8, max(2, self.list.count())) * row + 6)
        finally:
            self._filling = False
        self._summarise(self.checked())

    def checked(self) -> tuple[str, ...]:
        items = (self.list.item(i) for i in range(self.list.count()))
        return tuple(it.text() for it in items if it.checkState() == Qt.CheckState.Checked)

    def set_checked(self, name: str, on: bool) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).text() == name:
                self.list.item(i).setCheckState(Qt.CheckState.Checked if on
                                                else Qt.CheckState.Unchecked)

    def _summarise(self, chosen: tuple[str, ...]) -> None:
        if not chosen:
            self.summary.setText("Tick at least one column.")
        elif len(chosen) == 1:
            self.summary.setText(f"feature: {chosen[0]} (no target)")
        else:
            self.summary.setText(f"features: {', '.join(chosen[:-1])} → target: {chosen[-1]}")

    def _on_changed(self, *_args) -> None:
        if self._filling:
            return
        chosen = self.checked()
        self._summarise(chosen)
        if chosen:
            self.sig_columns.emit(chosen)


def caption(text: str, tooltip: str) -> QLabel:
    """A bold section caption."""
    label = QLabel(f"<b>{text}</b>")
    label.setToolTip(tooltip)
    return label


def join_values(values) -> str:
    """``0, 2.5``: numbers as the ``init`` setting takes them."""
    return ", ".join(format_value(float(v)) for v in values)


def join_ranges(pairs) -> str:
    """``-5:5, 0:1``: (lo, hi) pairs as the ``ranges`` setting takes them."""
    return ", ".join(f"{format_value(float(lo))}:{format_value(float(hi))}" for lo, hi in pairs)
