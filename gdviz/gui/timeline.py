"""The timeline under the views: a slider over the recorded steps, to look back at any of them.

The slider's positions are lock-step history indices (0 .. newest). Dragging back pauses the
run and every view shows the runs as they were at that step; the newest position follows the
run again, and Play always continues from the newest step. The range is updated at most once
per emission (the controller's ``sig_step_shown`` / ``sig_history_grew``), and a drag asks for
at most one redraw per event-loop round (a zero timer coalesces the slider's many
valueChanged signals), so scrubbing a run of 10^6 steps stays smooth.

Keyboard, when the slider has the focus: Left/Right one step, PageUp/PageDown ten, Home/End the
first/newest step. The slider keeps those keys from the window's shortcuts (Right = Step).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QSlider, QStyle, QToolBar, QToolButton, QWidget

from gdviz.gui.label_slot import LabelSlot

_SLIDER_KEYS = {Qt.Key.Key_Left, Qt.Key.Key_Right, Qt.Key.Key_Home, Qt.Key.Key_End,
                Qt.Key.Key_PageUp, Qt.Key.Key_PageDown}
TIP = ("Timeline: every recorded step. Drag back (or use ←/→, Home/End when it has the focus) "
       "to see every view as it was at that step; the run pauses. Play continues from the "
       "newest step.")


class TimelineSlider(QSlider):
    """A QSlider that keeps its navigation keys when focused (instead of window shortcuts)."""

    def event(self, event) -> bool:  # noqa: D102 (Qt override)
        if (event.type() == QEvent.Type.ShortcutOverride and event.key() in _SLIDER_KEYS
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier):
            event.accept()
            return True
        return super().event(event)


class Timeline(QToolBar):
    """``sig_index_requested(int)``: the user moved to lock-step index i (drag, keys, Latest)."""

    sig_index_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Timeline", parent)
        self.setObjectName("timeline")
        self.setMovable(False)
        self.setToolTip(TIP)
        caption = QLabel(" timeline ")
        caption.setToolTip(TIP)
        self.addWidget(caption)
        self.slider = TimelineSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timeline_slider")
        self.slider.setRange(0, 0)
        self.slider.setPageStep(10)
        self.slider.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.slider.setToolTip(TIP)
        self.slider.valueChanged.connect(self._on_slider_value_changed)
        self.addWidget(self.slider)
        self.latest_button = QToolButton()
        self.latest_button.setObjectName("timeline_latest")
        self.latest_button.setIcon(self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaSkipForward))
        self.latest_button.setToolTip("Back to the newest step (End)")
        self.latest_button.clicked.connect(lambda: self.request(self.slider.maximum()))
        self.addWidget(self.latest_button)
        self.label = QLabel()
        self.label.setObjectName("timeline_label")
        self.label.setMinimumWidth(190)
        self.label.setToolTip(TIP)
        self.addWidget(LabelSlot(self.label))
        self._pending: int | None = None
        self.thinning = ""
        self.set_shown(0, 0)

    # -- from the controller ------------------------------------------------------------------
    def set_shown(self, index: int, last: int, thinning: str = "") -> None:
        """The views show lock-step ``index`` of ``last`` recorded (no signal). ``thinning``:
        the history's word once steps beyond its bound are thinned (the slider then jumps
        between the kept steps), "" before."""
        if thinning != self.thinning:
            self.thinning = thinning
            tip = f"{TIP}\n{thinning[:1].upper()}{thinning[1:]}." if thinning else TIP
            for widget in (self, self.slider, self.label):
                widget.setToolTip(tip)
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(0, last))
        self.slider.setValue(index)
        self.slider.blockSignals(False)
        self.latest_button.setEnabled(index < last)
        self._set_label(index, last)

    def set_last(self, last: int, thinning: str = "") -> None:
        """More steps were recorded while an earlier one is shown."""
        self.set_shown(self.slider.value(), last, thinning)

    def _set_label(self, index: int, last: int) -> None:
        thinned = " · thinned" if self.thinning else ""
        if index < last:
            self.label.setText(f"step {index} of {last} · looking back{thinned}")
        else:
            self.label.setText(f"step {index} of {last}{thinned}")

    # -- user -----------------------------------------------------------------------------------
    def request(self, index: int) -> None:
        """Show lock-step ``index`` (coalesced: one redraw per event-loop round)."""
        first = self._pending is None
        self._pending = int(index)
        if first:
            QTimer.singleShot(0, self._flush)

    def _on_slider_value_changed(self, value: int) -> None:
        self._set_label(value, self.slider.maximum())
        self.request(value)

    def _flush(self) -> None:
        index, self._pending = self._pending, None
        if index is not None:
            self.sig_index_requested.emit(index)
