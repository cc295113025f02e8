"""Run a callback once a window has painted what was just drawn (the worker's acknowledgement).

Why: views change their items in a slot; Qt paints later, when the window's UpdateRequest
(a posted event of *low* priority) comes round. A zero timer started in the slot therefore
runs *before* the paint, and a worker woken by it computes while the GUI paints: both want
the GIL and painting slows several-fold (measured: 43 ms instead of 8 per learning-curve paint).
So the callback waits for the window's next UpdateRequest and is posted from there: it runs
after that paint is done. A window that is not painting (hidden, minimised, nothing changed)
gets the callback after ``FALLBACK_MS`` instead.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

FALLBACK_MS = 40  # no paint within this: call back anyway (nothing visible changed)


class AfterPaint(QObject):
    """``AfterPaint(window).call(callback)``: ``callback()`` after the window's next paint.
    One callback is pending at a time (a newer one replaces it, the older runs at once)."""

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self._pending: Callable[[], None] | None = None
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.setInterval(FALLBACK_MS)
        self._fallback.timeout.connect(self._release)
        window.installEventFilter(self)

    def call(self, callback: Callable[[], None]) -> None:
        if self._pending is not None:
            self._release()
        if not self.window.isVisible() or self.window.isMinimized():
            QTimer.singleShot(0, self, callback)  # nothing will paint
            return
        self._pending = callback
        self._fallback.start()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if self._pending is not None and event.type() == QEvent.Type.UpdateRequest:
            # posted now, it runs once this UpdateRequest (the paint) has been processed
            callback, self._pending = self._pending, None
            self._fallback.stop()
            QTimer.singleShot(0, self, callback)  # (dropped if the window is gone)
        return False

    def _release(self) -> None:
        callback, self._pending = self._pending, None
        self._fallback.stop()
        if callback is not None:
            callback()
