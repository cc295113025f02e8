"""Sampling panel: batch size (or the full batch), sample order, and the random seed."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from gdviz.core.records import RunConfig
from gdviz.gui.panels.fields import ParamPanel

ORDER_ITEMS = (
    ("shuffle", "shuffle",
     "A new random order every epoch; every sample is used once per epoch "
     "(like torch's DataLoader(shuffle=True))."),
    ("sequential", "sequential",
     "Samples in their stored order, 0, 1, 2, … every epoch: the path repeats the same "
     "sequence of loss surfaces."),
    ("with replacement", "replacement",
     "Every batch draws its samples at random with replacement: some samples are seen twice "
     "in an epoch, others not at all."),
)
BATCH_TIP = ("Samples per step. 1 = plain SGD (noisy, cheap steps); more samples average "
             "the noise away; the full batch is batch gradient descent (one exact step per "
             "epoch, costs O(n)). Press Enter to apply.")


class SamplingPanel(ParamPanel):
    """Edits ``batch_size``, ``order`` and ``seed``."""

    title = "Sampling"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.batch_spin = QSpinBox()
        self.batch_spin.setObjectName("field_batch_size")
        # 0 is allowed in the box so the core can explain why it is refused.
        self.batch_spin.setRange(0, 10_000_000)
        self.batch_spin.setKeyboardTracking(False)
        self.batch_spin.setToolTip(BATCH_TIP)
        self.batch_spin.valueChanged.connect(
            lambda v: self._emit(("batch_size",), v))
        self._add_row(("batch_size",), "batch size", self.batch_spin, BATCH_TIP)
        self.full_check = self.add_check(
            ("full_batch",), "", "Use every sample in every step: batch gradient descent. "
            "The gradient is exact, so the path is smooth, but each step costs a pass over "
            "all the data.", text="Full batch (all samples every step)")
        self.add_combo(("order",), "order",
                       "In which order the samples are visited within an epoch.", ORDER_ITEMS)
        self.seed_spin = QSpinBox()
        self.seed_spin.setObjectName("field_seed")
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setKeyboardTracking(False)
        tip = ("Seed of the random numbers that pick batches (and gradient noise). The same "
               "settings and seed repeat the same run exactly; change it to see another "
               "random path.")
        self.seed_spin.setToolTip(tip)
        self.seed_spin.valueChanged.connect(lambda v: self._emit(("seed",), v))
        self._add_row(("seed",), "seed", self.seed_spin, tip)
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("steps_per_epoch")
        self.epoch_label.setWordWrap(True)
        self.epoch_label.setToolTip("An epoch is one pass over the data; with batches of size "
                                    "b it takes ceil(n / b) steps (iterations).")
        self.form.addRow(self.epoch_label)

    def set_config(self, config: RunConfig) -> None:
        self._filling = True
        try:
            n = config.make_problem().n_samples
            full = config.batch_size is None
            self.batch_spin.setValue(n if full else config.batch_size)
            self.batch_spin.setEnabled(not full)
            self.batch_spin.setSuffix(f"  of {n}")
            self.full_check.setChecked(full)
            self.set_combo_data(("order",), config.order)
            self.seed_spin.setValue(config.seed)
            steps = config.steps_per_epoch()
            if not config.make_problem().has_data:
                self.epoch_label.setText("A test function has no data: every step uses the "
                                         "function itself (1 step = 1 epoch).")
            else:
                self.epoch_label.setText(
                    f"{n} samples, {steps} step{'s' if steps != 1 else ''} per epoch")
        finally:
            self._filling = False
