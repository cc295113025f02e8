"""LabelSlot: a label's new text re-lays out the window only when it needs more room."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from gdviz.gui.label_slot import LabelSlot
from gdviz.gui.views.status_label import SteadyLabel


class LayoutRequests(QObject):
    """Counts the LayoutRequest events ``widget`` receives."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.count = 0
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


def one_line_slot(qtbot):
    host = QWidget()
    qtbot.addWidget(host)
    row = QHBoxLayout(host)
    label = QLabel("step 1")
    slot = LabelSlot(label)
    row.addWidget(slot)
    row.addStretch(1)
    host.resize(600, 40)
    host.show()
    qtbot.waitExposed(host)
    return host, label, slot


def test_a_one_line_label_grows_its_slot_but_never_relayouts_for_narrower_text(qtbot):
    host, label, slot = one_line_slot(qtbot)
    requests = LayoutRequests(host)
    label.setText("step 1 of a much longer text than before")
    qtbot.waitUntil(lambda: slot.width() >= label.sizeHint().width())
    assert label.width() == slot.width()               # the label fills its slot
    wide = slot.width()
    grown = requests.count
    assert grown >= 1
    for k in range(20):                                 # narrower texts: nothing re-laid out
        label.setText(f"step {k}")
        qtbot.wait(1)
    qtbot.wait(20)
    assert requests.count == grown
    assert slot.width() == wide
    assert label.text() == "step 19"


def test_the_slot_is_hidden_and_shown_with_its_label(qtbot):
    host, label, slot = one_line_slot(qtbot)
    label.setVisible(False)
    assert slot.isHidden()
    assert not label.isVisible()
    label.setVisible(True)
    assert not slot.isHidden()
    qtbot.waitUntil(label.isVisible)


def slot_in_column(qtbot, label: QLabel, size: tuple[int, int] = (160, 300)):
    """(host, slot): ``label`` in a LabelSlot at the top of a shown column of ``size``."""
    host = QWidget()
    qtbot.addWidget(host)
    column = QVBoxLayout(host)
    slot = LabelSlot(label)
    column.addWidget(slot)
    column.addStretch(1)
    host.resize(*size)
    host.show()
    qtbot.waitExposed(host)
    return host, slot


def test_a_label_hidden_before_it_gets_a_slot_keeps_its_slot_hidden(qtbot):
    label = QLabel("hidden")
    label.setVisible(False)
    _host, slot = slot_in_column(qtbot, label)
    assert slot.isHidden()
    label.show()
    qtbot.waitUntil(slot.isVisible)


def test_a_wrapping_label_takes_more_lines_then_keeps_them(qtbot):
    label = SteadyLabel("short")
    label.setWordWrap(True)
    host, slot = slot_in_column(qtbot, label)
    one_line = slot.height()
    label.setText("a status line long enough to wrap onto three or four lines at this width")
    qtbot.waitUntil(lambda: slot.height() > 2 * one_line)
    tall = slot.height()
    requests = LayoutRequests(host)
    label.setText("short again")                        # keeps its height: the plot stays put
    qtbot.wait(30)
    assert slot.height() == tall
    assert requests.count == 0
    label.reset_height()                                # a new run: it may shrink
    qtbot.waitUntil(lambda: slot.height() < tall)


def test_a_height_asked_before_the_layout_request_still_grows_the_slot(qtbot):
    """A layout may ask the slot's height for its width (another widget's relayout) between a
    longer text and the label's layout request: the slot still grows. It had remembered the
    answer as given to its layout and swallowed the request (a legend's third line cut)."""
    label = SteadyLabel("short")
    label.setWordWrap(True)
    host, slot = slot_in_column(qtbot, label)
    one_line = slot.height()
    label.setText("a status line long enough to wrap onto three or four lines at this width")
    slot.heightForWidth(slot.width())          # asked, and no geometry given with it
    qtbot.waitUntil(lambda: slot.height() > 2 * one_line)
    assert label.height() == slot.height() >= label.heightForWidth(slot.width())


def test_playing_does_not_relayout_the_main_window(qtbot, window):
    window.toolbar.set_speed(None)
    c = window.controller
    c.set_config(c.config.with_changes(max_epochs=None, max_steps=1_000_000))
    shown = []
    c.sig_step_shown.connect(lambda index: shown.append(index))
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: len(shown) >= 3, timeout=5000)   # the toolbar turned to Pause
    qtbot.wait(50)
    requests = LayoutRequests(window)
    first = len(shown)
    qtbot.waitUntil(lambda: len(shown) >= first + 10, timeout=10000)
    frames = len(shown) - first
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: c.state == "paused", timeout=5000)
    # every frame set new texts in every view, the status bar and the timeline: before
    # LabelSlot each frame re-laid out the whole window about 8 times
    assert requests.count <= 2, f"{requests.count} layouts in {frames} frames"
