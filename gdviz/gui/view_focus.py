"""Focus a view: one view alone in the window (every other dock hidden: panels, views, step
math), for a projector or a closer look, and back to the layout as it was. Double-clicking a
view's title bar toggles it (instead of Qt's float/dock), as does F (the View menu) for the view
under the mouse, else the view last focused or clicked."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QEvent, QObject
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import QApplication, QDockWidget, QMainWindow


class ViewFocus(QObject):
    """Owned by the main window; ``docks``: the view docks that can be focused (name -> dock);
    every dock of the window is hidden while one is focused."""

    def __init__(self, window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
        super().__init__(window)
        self.window = window
        self.docks = dict(docks)
        self.focused: str | None = None     # the view shown alone, or None
        self._before: QByteArray | None = None
        self._last: str | None = None       # the view last clicked or focused
        for dock in self.docks.values():
            dock.installEventFilter(self)
            dock.widget().installEventFilter(self)

    def toggle(self, name: str | None = None) -> None:
        """Show view ``name`` alone (default: the one under the mouse, else the last one), or,
        when one is focused, put the layout back as it was."""
        if self.focused is not None:
            self.restore()
            return
        name = name or self._under_mouse() or self._last or next(iter(self.docks))
        dock = self.docks.get(name)
        if dock is None or dock.isHidden():
            return
        self._before = self.window.saveState()
        self.focused = self._last = name
        if dock.isFloating():
            dock.setFloating(False)
        for other in self.window.findChildren(QDockWidget):
            if other is not dock and other.parent() is self.window:
                other.hide()
        dock.show()
        dock.raise_()

    def restore(self) -> None:
        """The layout from before the focus (docks, tabs and sizes)."""
        if self.focused is None:
            return
        self.focused = None
        if self._before is not None:
            self.window.restoreState(self._before)
        self._before = None

    def forget(self) -> None:
        """The layout was replaced (View > Reset layout): nothing to go back to."""
        self.focused, self._before = None, None

    def _under_mouse(self) -> str | None:
        widget = QApplication.widgetAt(QCursor.pos())
        while widget is not None:
            for name, dock in self.docks.items():
                if widget is dock:
                    return name
            widget = widget.parentWidget()
        return None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        kind = event.type()
        if kind == QEvent.Type.MouseButtonPress:
            for name, dock in self.docks.items():
                if obj is dock or obj is dock.widget():
                    self._last = name
        elif kind == QEvent.Type.MouseButtonDblClick and isinstance(obj, QDockWidget):
            title = obj.widget().geometry().top()     # the title bar is above the content
            if event.position().y() < title:
                name = next(n for n, d in self.docks.items() if d is obj)
                self.toggle(name)
                return True     # not Qt's float/dock on a double-click
        return False
