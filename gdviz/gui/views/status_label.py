"""Status lines that change with every frame: a label whose height only grows, and the
cheap way to set its text.

Qt only; the views' ``ViewLayout`` (style.py) makes its status and info lines here.
"""

from __future__ import annotations

from PySide6 import QtGui
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QTextDocumentFragment
from PySide6.QtWidgets import QLabel, QSizePolicy


class SteadyLabel(QLabel):
    """A word-wrapping label whose height only grows (until ``reset_height``).

    Status lines change with every step; when the numbers' widths made one wrap onto one line
    more or fewer, the plot below was resized — a full repaint of the plot, its axes redrawn
    from scratch — on about every other frame. The label keeps the tallest height its texts
    needed at its width as its minimum height. ``reset_height()`` (a new run) lets it shrink.
    """

    needed: tuple[str, int, int] | None = None   # (text, width, height) last measured

    def setText(self, text: str) -> None:  # noqa: N802 (Qt name)
        if text == self.text():
            return
        super().setText(text)
        width = self.width()
        if width > 0 and self.wordWrap():
            needed = self.heightForWidth(width)
            self.needed = (text, width, needed)   # LabelSlot reuses it (0.1-0.3 ms a call)
            if needed > self.minimumHeight():
                self.setMinimumHeight(needed)

    def reset_height(self) -> None:
        self.needed = None   # it counted the minimum height being reset
        self.setMinimumHeight(0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        # another width: the height kept for the old one means nothing now
        if event.oldSize().width() != event.size().width() and self.minimumHeight():
            self.setMinimumHeight(0)
        super().resizeEvent(event)


def wrapping_label() -> SteadyLabel:
    """A view's status or info line: wrapping, as wide as its place, copied with the
    right-click menu's "Copy". Not selectable with the mouse: a selectable label lays its text
    out in a text document on every change (0.23 ms against 0.08 ms for a plain one, ~8
    status lines a frame while a run plays)."""
    label = SteadyLabel()
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setContentsMargins(4, 0, 4, 0)
    copy = QAction("Copy", label)
    copy.setToolTip("Copy this line's text")
    copy.triggered.connect(lambda: QGuiApplication.clipboard().setText(plain_text(label)))
    label.addAction(copy)
    label.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    return label


def plain_text(label: QLabel) -> str:
    """The label's text as a reader sees it (rich text without its markup)."""
    text = label.text()
    if label.textFormat() == Qt.TextFormat.RichText or (
            label.textFormat() == Qt.TextFormat.AutoText and QtGui.Qt.mightBeRichText(text)):
        return QTextDocumentFragment.fromHtml(text).toPlainText()
    return text


_ZERO_DIGITS = str.maketrans("123456789", "000000000")
_TABULAR: dict[str, bool] = {}   # font key -> whether its ten digits have one advance


def set_status_text(label: QLabel, text: str) -> None:
    """``label.setText(text)`` for a line that changes with every frame (a view's status).

    A ``SteadyLabel`` measures every new text (``heightForWidth``: a text-document layout,
    0.05-0.2 ms a call, ~10 labels a frame). With a font whose digits all have one width, two
    texts that differ only in their digits wrap alike, so the height measured for one holds
    for the other: it is kept per label, width and text shape (the digits made 0), and the
    label is only measured for a shape it has not seen. What SteadyLabel.setText does with
    the height (the minimum height only grows; ``needed`` for its LabelSlot) is done alike."""
    if text == label.text():
        return
    width = label.width()
    if (not isinstance(label, SteadyLabel) or width <= 0 or not label.wordWrap()
            or label.textFormat() == Qt.TextFormat.RichText):
        label.setText(text)
        return
    font = label.font().key()
    tabular = _TABULAR.get(font)
    if tabular is None:
        metrics = label.fontMetrics()
        tabular = _TABULAR[font] = len({metrics.horizontalAdvance(d)
                                        for d in "0123456789"}) == 1
    shape = (width, font, text.translate(_ZERO_DIGITS))
    heights = label.__dict__.setdefault("_shape_heights", {})
    lowest = label.minimumHeight()
    known = heights.get(shape) if tabular else None
    # QLabel's heightForWidth is at least the minimum height: a measurement is the text's
    # own height when above it, else only a bound ("at most this")
    if known is None or (not known[1] and known[0] > lowest):
        label.setText(text)
        needed = label.needed
        if tabular and needed is not None and needed[0] == text and needed[1] == width:
            if len(heights) > 512:
                heights.clear()
            heights[shape] = (needed[2], needed[2] > lowest)
        return
    height = max(known[0], lowest)
    QLabel.setText(label, text)
    label.needed = (text, width, height)
    if height > lowest:
        label.setMinimumHeight(height)
