"""The playback toolbar: Step, Play/Pause, One epoch, Reset, and the speed (log scale)."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QSlider, QStyle, QToolBar, QWidget

# Slider positions 0 .. _LOG_STEPS map to 10 ** (pos / _PER_DECADE) steps/s (1 … 100 000);
# one more position means "as fast as possible".
_PER_DECADE = 10
_LOG_STEPS = 5 * _PER_DECADE
MAX_POSITION = _LOG_STEPS + 1


def speed_at(position: int) -> float | None:
    """Steps per second at a slider position (None = unlimited)."""
    if position >= MAX_POSITION:
        return None
    return round(10 ** (position / _PER_DECADE), 2)


def position_of(speed: float | None) -> int:
    if speed is None:
        return MAX_POSITION
    return max(0, min(_LOG_STEPS, round(math.log10(max(speed, 1.0)) * _PER_DECADE)))


def speed_text(speed: float | None) -> str:
    if speed is None:
        return "max"
    return f"{speed:.0f}/s" if speed >= 10 else f"{speed:.1f}/s"


class PlaybackToolbar(QToolBar):
    """Actions are public (``act_step``, ``act_play``, ``act_epoch``, ``act_reset``); the main
    window connects them to the controller. ``sig_speed_changed(float | None)``."""

    sig_speed_changed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Playback", parent)
        self.setObjectName("playback")
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        style = self.style()
        icon = style.standardIcon
        self._icon_play = icon(QStyle.StandardPixmap.SP_MediaPlay)
        self._icon_pause = icon(QStyle.StandardPixmap.SP_MediaPause)
        self.act_step = self._action(
            "Step", icon(QStyle.StandardPixmap.SP_MediaSkipForward), "Right",
            "Take exactly one optimizer step and show its arithmetic (→).")
        self.act_play = self._action(
            "Play", self._icon_play, "Space",
            "Play: keep stepping at the chosen speed. Press again to pause (Space).")
        self.act_epoch = self._action(
            "One epoch", icon(QStyle.StandardPixmap.SP_MediaSeekForward), "E",
            "Run to the end of the current epoch (one pass over the data), then pause (E).")
        self.act_reset = self._action(
            "Reset", icon(QStyle.StandardPixmap.SP_BrowserReload), "R",
            "Back to the start point, step 0, with the same settings (R).")
        self.addSeparator()
        caption = QLabel(" speed ")
        tip = ("Steps per second while playing, from 1 to 100 000 (log scale); far right = as "
               "fast as the computer can. The views redraw at most 60 times a second.")
        caption.setToolTip(tip)
        self.addWidget(caption)
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speed_slider")
        self.speed_slider.setRange(0, MAX_POSITION)
        self.speed_slider.setPageStep(_PER_DECADE)
        self.speed_slider.setFixedWidth(160)
        self.speed_slider.setToolTip(tip)
        self.addWidget(self.speed_slider)
        self.speed_label = QLabel()
        self.speed_label.setObjectName("speed_label")
        self.speed_label.setMinimumWidth(56)
        self.speed_label.setToolTip(tip)
        self.addWidget(self.speed_label)
        self.speed_slider.valueChanged.connect(self._on_speed_slider_changed)
        self.set_speed(30.0)

    def _action(self, text: str, icon, shortcut: str, tip: str) -> QAction:
        action = QAction(icon, text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.setToolTip(tip)
        action.setStatusTip(tip)
        self.addAction(action)
        return action

    def set_playing(self, playing: bool, ended: bool = False) -> None:
        """Show Pause while playing, Play otherwise; "Replay" once the run has ended (Play
        then starts it again from step 0, and says so)."""
        self.act_play.setText("Pause" if playing else "Replay" if ended else "Play")
        self.act_play.setIcon(self._icon_pause if playing else self._icon_play)
        self.act_play.setToolTip(
            "The run has ended: play it again from step 0 (Space). To go further, raise the "
            "step or epoch limit in the Run panel." if ended and not playing else
            "Play: keep stepping at the chosen speed. Press again to pause (Space).")

    def set_speed(self, speed: float | None) -> None:
        self.speed_slider.setValue(position_of(speed))
        self.speed_label.setText(speed_text(speed_at(self.speed_slider.value())))

    def speed(self) -> float | None:
        return speed_at(self.speed_slider.value())

    def _on_speed_slider_changed(self, position: int) -> None:
        speed = speed_at(position)
        self.speed_label.setText(speed_text(speed))
        self.sig_speed_changed.emit(speed)
