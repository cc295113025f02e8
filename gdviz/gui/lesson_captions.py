"""Lesson captions on screen: an overlay label on a view (``CaptionOverlay``) and what keeps it
showing the caption of the step shown (``LessonCaptions``), for the window and for exports.

The script and its rules are core's (``gdviz.core.captions``); this file only draws the text.
The overlay is a child of the view, outside every layout: a caption that changes while a run
plays repaints the label alone (a label inside a layout re-lays out the whole window on
``setText``: see ARCHITECTURE's measured facts).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QGraphicsView, QLabel, QWidget

from gdviz.core.captions import CaptionScript, caption_text

MARGIN = 8  # px between the caption and the view's sides
BOTTOM = 2  # px from the view's bottom: over the x axis's ticks and title, like a subtitle
STYLE = ("QLabel#lesson_caption { background: rgba(20, 24, 40, 200); color: white; "
         "border-radius: 6px; padding: 5px 10px; font-weight: 600; }")
# for an export's GIF palette: the caption's background over white, and its text
CAPTION_COLORS = ("#474a56", "#ffffff")


class CaptionOverlay(QLabel):
    """A caption drawn over the bottom of ``host``'s plot (a view's largest plot widget, else
    the view), like a subtitle: over the x axis's ticks and title, so that the title and the
    keys above or below the plot, and the plot itself (where a lesson's point usually ends,
    near the minimum at the bottom) stay in sight; wrapped to the view's width less a margin,
    hidden while there is no text."""

    def __init__(self, host: QWidget | None = None) -> None:
        super().__init__(host)
        self.setObjectName("lesson_caption")
        self.setStyleSheet(STYLE)
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.hide()
        self._host: QWidget | None = None
        if host is not None:
            self.attach(host)

    def attach(self, host: QWidget) -> None:
        """Draw over ``host`` from now on (follows its size)."""
        if host is self._host:
            return
        if self._host is not None:
            self._host.removeEventFilter(self)
        self._host = host
        self.setParent(host)
        host.installEventFilter(self)
        self._place()
        if self.text():
            self.show()
            self.raise_()

    def show_text(self, text: str) -> None:
        """Show ``text`` ("" hides the caption); nothing is done when it is already shown."""
        if text == self.text() and self.isVisible() == bool(text):
            return
        self.setText(text)
        if not text:
            self.hide()
            return
        self._place()
        self.show()
        self.raise_()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self._place()
        return False

    def _place(self) -> None:
        host = self._host
        if host is None:
            return
        width = max(60, host.width() - 2 * MARGIN)
        self.setFixedWidth(width)
        height = self.heightForWidth(width) if self.text() else 0
        self.setFixedHeight(max(height, self.sizeHint().height()) if self.text() else 1)
        self.move(MARGIN, max(0, _plot_bottom(host) - self.height() - BOTTOM))


def _plot_bottom(host: QWidget) -> int:
    """The y (in ``host``) of the bottom of its largest visible plot (a pyqtgraph plot is a
    QGraphicsView, the 3-D view a QOpenGLWidget); the host's own bottom when it has none."""
    plots = [w for kind in (QGraphicsView, QOpenGLWidget) for w in host.findChildren(kind)
             if w.isVisibleTo(host)]
    if not plots:
        return host.height()
    plot = max(plots, key=lambda w: w.width() * w.height())
    return plot.mapTo(host, QPoint(0, plot.height())).y()


class LessonCaptions(QObject):
    """The window's (or an export's) captions: the script, whether they are shown, and the
    overlay on the view in front. ``show_step(histories, selected, index)`` shows the caption
    of lock-step ``index``. It evaluates the script on the histories each time (every event
    depends only on the steps before it, so nothing is kept between steps): measured through
    ``MainWindow._show_caption`` 0.1-0.25 ms per step shown (wavy 100 steps, linreg 300),
    about 1 % of a frame; turned off, 1 µs."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.script = CaptionScript()
        self.enabled = True
        self.overlay = CaptionOverlay()
        self.text = ""  # the caption shown now ("" when none)

    def set_script(self, script: CaptionScript) -> None:
        self.script = script

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        if not on:
            self.overlay.show_text("")

    def attach(self, host: QWidget) -> None:
        self.overlay.attach(host)

    def show_step(self, histories, selected: int, index: int) -> str:
        """Show the caption of lock-step ``index`` of ``histories`` (run ``selected`` is the
        one captions without a run follow); returns the text shown ("" for none)."""
        text = ""
        if self.enabled and self.script and histories:
            text = caption_text(self.script, histories, selected, max(0, index))
        self.text = text
        self.overlay.show_text(text)
        return text
