"""Sampling panel: batch size (or the full batch), sample order, the random seed, and how many
seeds the window runs at once."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QSpinBox, QWidget

from gdviz.core.records import RunConfig
from gdviz.core.seed_paths import MAX_SEEDS_SHOWN
from gdviz.gui.panels.fields import ERROR_COLOR, ParamPanel

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
SEEDS_TIP = (f"How many seeds to run at once (1 to {MAX_SEEDS_SHOWN}): the seed above and the "
             "next ones, each a run with its own random batches. Their paths are drawn faint "
             "on the contour and the parameter trace, their current points as a cloud with "
             "its 1σ and 2σ ellipses (and the predicted stationary cloud for plain SGD on a "
             "quadratic loss); the learning curve shows their median loss and a 10–90 % band. "
             "The run itself (the first seed) stays bold. Computed in the background.")
BATCH_TIP = ("Samples per step. 1 = plain SGD (noisy, cheap steps); more samples average "
             "the noise away; the full batch is batch gradient descent (one exact step per "
             "epoch, costs O(n)). Press Enter to apply.")


class SamplingPanel(ParamPanel):
    """Edits ``batch_size``, ``order`` and ``seed``; ``sig_seeds_changed(int)``: the user set
    how many seeds run at once (not a run setting: the window's, see gui.seed_runs)."""

    title = "Sampling"
    sig_seeds_changed = Signal(int)

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
        self.seeds_spin = QSpinBox()
        self.seeds_spin.setObjectName("field_seeds")
        self.seeds_spin.setRange(1, MAX_SEEDS_SHOWN)
        self.seeds_spin.setKeyboardTracking(False)
        self.seeds_spin.setToolTip(SEEDS_TIP)
        self.seeds_spin.valueChanged.connect(self._on_seeds_spin_changed)
        self._add_row(("seeds",), "seeds", self.seeds_spin, SEEDS_TIP)
        self.seeds_note = QLabel()   # why a run has no seeds, or why they stop early
        self.seeds_note.setObjectName("seeds_note")
        self.seeds_note.setWordWrap(True)
        self.seeds_note.setStyleSheet(f"color: {ERROR_COLOR};")
        self.form.addRow(self.seeds_note)
        self.form.setRowVisible(self.seeds_note, False)
        self.epoch_label = QLabel()
        self.epoch_label.setObjectName("steps_per_epoch")
        self.epoch_label.setWordWrap(True)
        self.epoch_label.setToolTip("An epoch is one pass over the data; with batches of size "
                                    "b it takes ceil(n / b) steps (iterations).")
        self.form.addRow(self.epoch_label)

    def set_seed_count(self, count: int) -> None:
        """Show ``count`` seeds without emitting ``sig_seeds_changed``."""
        self.seeds_spin.blockSignals(True)
        self.seeds_spin.setValue(int(count))
        self.seeds_spin.blockSignals(False)

    def set_seeds_note(self, text: str) -> None:
        """A sentence under the Seeds field ("" hides it)."""
        if text != self.seeds_note.text():
            self.seeds_note.setText(text[:1].upper() + text[1:])
            self.form.setRowVisible(self.seeds_note, bool(text))

    def _on_seeds_spin_changed(self, value: int) -> None:
        self.sig_seeds_changed.emit(int(value))

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
