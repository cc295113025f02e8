"""A place in a layout for a label whose text changes with every frame, without re-laying out
the window each time.

Why: ``QLabel.setText`` always calls ``updateGeometry()``, and ``QLayout.activate`` always
calls it again on the layout's widget, so one new number in a view's status line re-lays out
the view, its dock and the whole main window; ``QMainWindowLayout`` then gives every dock its
geometry through a zero-length ``QPropertyAnimation`` (the Fusion style has widget
animations). Measured while playing with every view shown: ~8 main-window layouts and ~110
animations created and deleted per frame, 60 of the 120 ms the GUI thread spent per frame.

The slot holds the label as a child *outside any layout*: the label's ``updateGeometry()``
then only posts a ``LayoutRequest`` to the slot, which passes it on (``updateGeometry()`` of
its own) only when the label's size changed for the layout: a wider text than ever before in
a one-line label (the width is kept, so a number whose width goes up and down does not
re-lay out the window either), or another height for a wrapping one (a ``SteadyLabel``, whose
height only grows until a new run).

Visibility follows the label: hiding or showing the label hides or shows the slot. Add the
slot to its layout right after making it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtWidgets import QLabel, QWidget


class LabelSlot(QWidget):
    """The layout item for ``label``; put the slot in a layout, keep using the label.

    A wrapping label keeps its own height steady (``SteadyLabel``: its minimum height only
    grows); a one-line label's width is kept here (the widest text so far)."""

    def __init__(self, label: QLabel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = label
        explicit = Qt.WidgetAttribute.WA_WState_ExplicitShowHide
        hidden = label.isHidden() and label.testAttribute(explicit)
        label.setParent(self)
        self.setSizePolicy(label.sizePolicy())
        # opaque: a new text repaints the slot and the label, not the dock and window beneath
        self.setAutoFillBackground(True)
        self._width = 0          # widest sizeHint seen (one-line labels)
        self._reported = -1      # the height last asked of the layout (wrapping labels)
        if hidden:
            self.hide()
        else:
            label.show()
        label.installEventFilter(self)

    # -- sizes ---------------------------------------------------------------------------------
    def _wraps(self) -> bool:
        return self.label.wordWrap() and self.label.hasHeightForWidth()

    def _height_for(self, width: int) -> int:
        label = self.label
        known = getattr(label, "needed", None)   # (text, width, height) a SteadyLabel measured
        if known is not None and known[1] == width and known[0] == label.text():
            return max(known[2], label.minimumHeight())
        return max(label.heightForWidth(width), label.minimumHeight())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        hint = self.label.sizeHint()
        if not self._wraps():
            self._width = max(self._width, hint.width())
        return QSize(max(self._width, hint.width()),
                     max(hint.height(), self.label.minimumHeight()))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt name)
        hint = self.label.minimumSizeHint()
        height = max(hint.height(), self.label.minimumHeight())
        if self._wraps():
            return QSize(hint.width(), height)
        return QSize(max(hint.width(), self.label.minimumWidth(), self._width), height)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 (Qt name)
        return self._wraps()

    def heightForWidth(self, width: int) -> int:  # noqa: N802 (Qt name)
        # no note taken of the answer: a layout may ask without giving the slot a geometry
        # (another widget's relayout between a longer text and its layout request), and a
        # note taken here swallowed that request (a legend's third line was cut off)
        return self._height_for(width)

    def _layout_changed(self) -> bool:
        """True when the layout must hear of the label (and the new height is noted as the
        one asked for: a wrapping label's)."""
        if self._wraps():
            height = self._height_for(max(1, self.width()))
            if height == self._reported:
                return False
            self._reported = height
            return True
        return self.label.sizeHint().width() > self._width

    # -- events --------------------------------------------------------------------------------
    def event(self, event) -> bool:
        kind = event.type()
        if kind == QEvent.Type.LayoutRequest:   # from the label's updateGeometry()
            if self._layout_changed():
                self.updateGeometry()
            return True
        if kind == QEvent.Type.Resize:
            self.label.setGeometry(self.rect())
        return super().event(event)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        # the slot is shown and hidden with its label (a hidden label's slot takes no room)
        if obj is self.label:
            if self.parentWidget() is None:
                return False
            if event.type() == QEvent.Type.HideToParent:
                self.hide()
            elif event.type() == QEvent.Type.ShowToParent:
                self.show()
        return False
