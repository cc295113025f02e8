"""The status bar: run state, step, epoch, learning rate, loss and |grad| of the latest step."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from gdviz.core.records import StepRecord
from gdviz.gui.label_slot import LabelSlot
from gdviz.gui.panels.step_math import num

STATE_COLORS = {"ready": "#333333", "running": "#0050a0", "paused": "#806000",
                "converged": "#007000", "finished": "#007000", "diverged": "#c00000",
                "failed": "#c00000"}
STATE_TIPS = {
    "ready": "At the start point (step 0). Press Play (Space) or Step (→).",
    "running": "The optimizer is stepping.",
    "paused": "Paused. Play (Space) continues, Step (→) takes one step.",
    "converged": "The loss stopped changing by more than ε: the run converged.",
    "finished": "The step or epoch limit was reached.",
    "diverged": "The loss or the parameters blew up (too large a learning rate?).",
    "failed": "The run stopped with an error (see the message).",
}
HINTS = {"diverged": " — try a smaller learning rate, then Reset (R)"}


class RunStatusBar(QStatusBar):
    """Permanent fields on the right; temporary messages (showMessage) on the left."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels: dict[str, QLabel] = {}
        for name, tip in (
                ("step", "Steps taken (one step = one batch = one update)."),
                ("epoch", "Passes over the data; epoch e covers the steps of its e-th pass."),
                ("lr", "The learning rate η used by the latest step (the schedule may change "
                       "it each epoch)."),
                ("loss", "The full loss (over every sample) after the latest step."),
                ("grad", "Length of the latest step's gradient |g|: near 0 at a minimum, a "
                         "saddle or a flat stretch."),
                ("state", "What the run is doing.")):
            label = QLabel()
            label.setObjectName("status_" + name)
            label.setToolTip(tip)
            label.setMinimumWidth(70)
            self.addPermanentWidget(LabelSlot(label))
            self.labels[name] = label
        self.labels["loss"].setMinimumWidth(110)
        self.labels["state"].setMinimumWidth(90)
        self.ended_message = ""

    def set_record(self, record: StepRecord) -> None:
        self.labels["step"].setText(f"step {record.step}")
        self.labels["epoch"].setText(f"epoch {record.epoch}")
        self.labels["lr"].setText(f"η {record.lr:g}")
        self.labels["loss"].setText(f"loss {num(record.loss)}")
        self.labels["grad"].setText(f"|g| {num(record.grad_norm)}")

    def set_state(self, state: str, record: StepRecord | None) -> None:
        label = self.labels["state"]
        color = STATE_COLORS.get(state, "#333333")
        label.setText(f"<b style='color:{color}'>{state}</b>")
        label.setToolTip(STATE_TIPS.get(state, ""))
        if record is not None and record.message and state == record.status:
            text = record.message[:1].upper() + record.message[1:] + HINTS.get(state, "")
            self.ended_message = text
            self.showMessage(text)
        else:
            self.ended_message = ""

    def text(self) -> str:
        """Everything the bar shows (tests read this)."""
        parts = [self.currentMessage()]
        parts += [label.text() for label in self.labels.values()]
        return " | ".join(parts)
