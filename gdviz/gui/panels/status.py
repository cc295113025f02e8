"""The status bar: run state, step, epoch, learning rate, loss and |grad| of the latest step."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QWidget

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


class ElidedLabel(QLabel):
    """A one-line label that shows as much of its text as its width allows, ending in "…"
    when cut, with the whole text as its tooltip then; it never asks for more width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self._elide()

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        text = self.full_text
        shown = self.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight,
                                              max(40, self.width() - 4))
        self.setToolTip(text if shown != text else "")
        if shown != self.text():
            self.setText(shown)


class RunStatusBar(QStatusBar):
    """Permanent fields on the right; messages (``showMessage``) on the left, cut with "…" where
    they meet the fields (the whole message in its tooltip): Qt's own message was clipped
    mid-word at the fields. ``currentMessage()`` is the whole message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_label = ElidedLabel()
        self.message_label.setObjectName("status_message")
        self.addWidget(self.message_label, 1)
        self._clear_timer = QTimer(self)
        self._clear_timer.setSingleShot(True)
        self._clear_timer.timeout.connect(self.clearMessage)
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

    def add_first_field(self, widget: QWidget) -> None:
        """Put ``widget`` before the permanent fields (Qt counts the message's label too)."""
        self.insertPermanentWidget(1, widget)

    def showMessage(self, text: str, timeout: int = 0) -> None:  # noqa: N802 (Qt name)
        """Show ``text`` on the left (for ``timeout`` ms, 0: until the next message)."""
        self.message_label.set_full_text(text)
        if timeout > 0:
            self._clear_timer.start(timeout)
        else:
            self._clear_timer.stop()

    def clearMessage(self) -> None:  # noqa: N802 (Qt name)
        self.message_label.set_full_text("")

    def currentMessage(self) -> str:  # noqa: N802 (Qt name)
        return self.message_label.full_text

    def text(self) -> str:
        """Everything the bar shows (tests read this)."""
        parts = [self.currentMessage()]
        parts += [label.text() for label in self.labels.values()]
        return " | ".join(parts)
