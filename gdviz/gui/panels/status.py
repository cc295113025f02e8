"""The status bar: run state, step, epoch, learning rate, loss and |grad| of the latest step."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from gdviz.core.problems.base import Problem
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
        self._reduction: tuple[str, int] | None = None

    def set_record(self, record: StepRecord, problem: Problem | None = None) -> None:
        """The numbers of ``record``; with ``problem``, the loss's and the gradient's tooltips
        say how they combine the samples (the problem's reduction)."""
        if problem is not None:
            self._set_reduction(problem)
        self.labels["step"].setText(f"step {record.step}")
        self.labels["epoch"].setText(f"epoch {record.epoch}")
        self.labels["lr"].setText(f"η {record.lr:g}")
        self.labels["loss"].setText(f"loss {num(record.loss)}")
        self.labels["grad"].setText(f"|g| {num(record.grad_norm)}")

    def _set_reduction(self, problem: Problem) -> None:
        key = (problem.reduction if problem.has_data else "", problem.n_samples)
        if key == self._reduction:
            return   # tooltips change with the problem, not with every frame
        self._reduction = key
        reduction, n = key
        if not reduction:
            loss, grad = "The function's value after the latest step.", "of f"
        elif reduction == "mean":
            loss = f"The full loss after the latest step: the mean of ℓ over the {n} samples."
            grad = "(the mean of the batch's per-sample gradients)"
        else:
            loss = f"The full loss after the latest step: the sum of ℓ over the {n} samples."
            grad = (f"({n}/k × the sum of the batch's k per-sample gradients: the full sum's "
                    "gradient, estimated)")
        self.labels["loss"].setToolTip(loss)
        self.labels["grad"].setToolTip(
            f"Length of the latest step's gradient |g| {grad}: near 0 at a minimum, a saddle "
            "or a flat stretch.")

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
