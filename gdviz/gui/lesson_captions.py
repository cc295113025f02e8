"""Lesson captions on screen: a caption bar under a view's plot (``CaptionOverlay``) and what
keeps it showing the caption of the step shown (``LessonCaptions``), for the window and for
exports.

The script and its rules are core's (``gdviz.core.captions``); this file only draws the text.
The bar has a place of its own at the bottom of the view in front, below the x axis: drawn over
the plot it hid the x axis's ticks and title, and over the top it hid the title and the key.
Its height is fixed (two lines) while the lesson has captions, so the plot does not jump when a
caption comes or goes; a new caption re-lays out the window once (a caption changes a few times
a run, not every frame: ``show_text`` does nothing for the text already shown).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QBoxLayout, QLabel, QSizePolicy, QWidget

from gdviz.core.captions import CaptionScript, caption_text

LINES = 2   # the bar holds two lines of a small font (one of the largest): 32 px
PADDING = 4  # px above and below the text
STYLE = ("QLabel#lesson_caption {{ background: {background}; color: white; "
         "border-radius: 6px; padding: 2px 10px; font-weight: 600; }}")
SHOWN = STYLE.format(background="rgba(20, 24, 40, 215)")
EMPTY = STYLE.format(background="transparent")   # between captions: the place stays, blank
POINT_SIZES = (11, 10, 9, 8)   # tried in turn until the caption fits the bar
TIP = ("The lesson's caption for the step shown (View > Show lesson captions; "
       "View > Edit lesson captions…)")
# for an export's GIF palette: the caption's background over white, and its text
CAPTION_COLORS = ("#2a2e3c", "#ffffff")


class CaptionOverlay(QWidget):
    """The caption bar: a place at the bottom of ``host``'s layout (a view's), as wide as the
    view and two small lines high, showing the caption of the step shown (blank between
    captions); hidden, giving its place back to the plot, while there is no script or captions
    are off (``set_reserved``).

    The text is a label held inside the bar, outside any layout: a new caption then repaints
    the bar alone (a label in the view's layout re-laid out the whole window on each caption,
    see gui/label_slot.py)."""

    def __init__(self, host: QWidget | None = None) -> None:
        super().__init__(host)
        self.label = QLabel(self)
        self.label.setObjectName("lesson_caption")
        self.label.setStyleSheet(EMPTY)
        self.label.setWordWrap(True)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(60)
        self.setToolTip(TIP)
        self._reserved = False
        self._host: QWidget | None = None
        self.setFixedHeight(_bar_height())
        self._fit_font()
        self.hide()
        if host is not None:
            self.attach(host)

    def text(self) -> str:
        return self.label.text()

    def attach(self, host: QWidget) -> None:
        """Sit at the bottom of ``host``'s layout from now on (leaving the previous host's)."""
        if host is self._host:
            return
        old = self._host
        if old is not None and isinstance(old.layout(), QBoxLayout):
            old.layout().removeWidget(self)
        self._host = host
        self.setParent(host)
        layout = host.layout()
        if isinstance(layout, QBoxLayout):
            layout.addWidget(self)
        self._show_if_reserved()

    def set_reserved(self, on: bool) -> None:
        """Keep the bar's place under the plot (a script to show, captions on) or give it back."""
        self._reserved = bool(on)
        self._show_if_reserved()

    def show_text(self, text: str) -> None:
        """Show ``text`` ("" leaves the bar blank); nothing is done when it is already shown."""
        if text == self.text():
            return
        self.label.setText(text)
        self.label.setStyleSheet(SHOWN if text else EMPTY)
        self.setToolTip(text or TIP)
        self._fit_font()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self.label.setGeometry(self.rect())
        self._fit_font()

    def _show_if_reserved(self) -> None:
        self.setVisible(self._reserved and self._host is not None)

    def _fit_font(self) -> None:
        """The largest of POINT_SIZES at which the wrapped text fits the bar (one line of the
        larger sizes, two of the smaller); a caption too long even for the smallest is cut,
        and its tooltip then gives it whole."""
        label = self.label
        font = QFont(label.font())
        width = max(60, self.width() - 24)
        room = self.height() - PADDING
        for size in POINT_SIZES:
            font.setPointSize(size)
            metrics = QFontMetrics(font)
            needed = metrics.boundingRect(0, 0, width, 10_000, Qt.TextFlag.TextWordWrap,
                                          self.text() or "M").height()
            lines = max(1, room // metrics.lineSpacing())
            if needed <= lines * metrics.lineSpacing():
                break
        if font != label.font():
            label.setFont(font)


def _bar_height() -> int:
    """Two lines of the second smallest caption font (one of the largest), and the padding."""
    font = QFont()
    font.setPointSize(POINT_SIZES[-2])
    font.setBold(True)
    return LINES * QFontMetrics(font).lineSpacing() + PADDING


class LessonCaptions(QObject):
    """The window's (or an export's) captions: the script, whether they are shown, and the
    caption bar under the view in front. ``show_step(histories, selected, index)`` shows the caption
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
        self.overlay.set_reserved(self.enabled and bool(script))

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.overlay.set_reserved(self.enabled and bool(self.script))
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
