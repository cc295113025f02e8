"""Optimizer panel: update rule, learning rate, its hyperparameters, and the lr schedule, plus
PyTorch code in (a pasted optimizer or scheduler line) and out ("Copy as PyTorch").

Hyperparameter and schedule fields are generated from the core's specs, so a new optimizer or
schedule appears here with its help texts as tooltips and nothing else to change.
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QPushButton, QWidget

from gdviz.core.optimizers import OPTIMIZERS
from gdviz.core.records import RunConfig
from gdviz.core.torch_code import torch_code
from gdviz.gui.panels.fields import ParamPanel

LR_TIP = ("Learning rate η: the step is η × gradient (for SGD). The most important setting: "
          "too small crawls, too large overshoots and diverges. Press Enter to apply.")


def _schedules() -> dict:
    from gdviz.core.schedules import SCHEDULES

    return SCHEDULES


class OptimizerPanel(ParamPanel):
    """Edits ``optimizer``, ``lr``, ``hyperparams``, ``schedule`` and ``schedule_params``."""

    title = "Optimizer"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = self.add_combo(
            ("optimizer",), "optimizer",
            "The update rule (torch.optim's, same names and defaults). Hover an entry to "
            "read what it does.",
            [(spec.title, spec.name, spec.description) for spec in OPTIMIZERS.values()])
        self.lr_field = self.add_line(("lr",), "learning rate η", LR_TIP)
        self._hp_form = self.add_section()
        self._hp_keys: list[tuple] = []
        self._shown_optimizer = ""
        schedule_form = self.add_section()
        self.schedule_combo = self.add_combo(
            ("schedule",), "lr schedule",
            "How the learning rate changes from epoch to epoch, or from step to step "
            "(torch.optim.lr_scheduler's classes, stepped as scheduler.step() is).",
            [(spec.title, spec.name, spec.description) for spec in _schedules().values()],
            form=schedule_form)
        self.every_combo = self.add_combo(
            ("schedule_every",), "step it every",
            "When the schedule takes a step, as a torch loop calls scheduler.step(): after "
            "every epoch (a pass over the data) or after every optimizer step.",
            [("epoch", "epoch", "scheduler.step() after every epoch"),
             ("step", "step", "scheduler.step() after every optimizer step")],
            form=schedule_form)
        self._schedule_form = self.add_section()
        self._schedule_keys: list[tuple] = []
        self._shown_schedule = ""
        torch_form = self.add_section()
        self.torch_field = self.add_line(
            ("torch",), "PyTorch line",
            "Paste one torch.optim optimizer or lr_scheduler line and press Enter, e.g.\n"
            "torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)\n"
            "torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=1000)\n"
            "It is read, never run: only torch's classes and plain numbers, strings, True, "
            "False and None are accepted.",
            placeholder="torch.optim.AdamW(model.parameters(), lr=3e-4)", form=torch_form)
        self.copy_button = QPushButton("Copy as PyTorch")
        self.copy_button.setObjectName("copy_as_pytorch")
        self.copy_button.setToolTip("Put the PyTorch code of this run's optimizer and schedule "
                                    "on the clipboard.")
        self.copy_button.clicked.connect(self.copy_as_pytorch)
        torch_form.addRow(self.copy_button)
        self._config: RunConfig | None = None

    def copy_as_pytorch(self) -> str:
        """Put the current run's PyTorch code on the clipboard; returns it."""
        code = torch_code(self._config) if self._config is not None else ""
        QApplication.clipboard().setText(code)
        return code

    def set_config(self, config: RunConfig) -> None:
        self._filling = True
        self._config = config
        try:
            self.set_line(("torch",), "")
            self.set_combo_data(("schedule_every",), config.schedule_every)
            self.set_combo_data(("optimizer",), config.optimizer)
            spec = OPTIMIZERS[config.optimizer]
            self.lr_field.setToolTip(f"{LR_TIP}\n(torch's default for {spec.title}: "
                                     f"{spec.default_lr:g})")
            if config.optimizer != self._shown_optimizer:
                self._hp_keys = self._rebuild(self._hp_keys, "hyperparams", spec.hyperparams,
                                              self._hp_form)
                self._shown_optimizer = config.optimizer
            self.set_line(("lr",), config.lr)
            for key in self._hp_keys:
                self.set_spec_value(key, config.hyperparams[key[1]])
            self.set_combo_data(("schedule",), config.schedule)
            if config.schedule != self._shown_schedule:
                params = _schedules()[config.schedule].params
                self._schedule_keys = self._rebuild(self._schedule_keys, "schedule_params",
                                                    params, self._schedule_form)
                self._shown_schedule = config.schedule
            for key in self._schedule_keys:
                self.set_spec_value(key, config.schedule_params[key[1]])
        finally:
            self._filling = False

    def _rebuild(self, old: list[tuple], group: str, specs, form) -> list[tuple]:
        """Replace the generated rows of ``group`` (kept in their own form section)."""
        self.remove_rows(old)
        keys = []
        for spec in specs:
            key = (group, spec.name)
            self.add_spec_field(key, spec, form=form)
            keys.append(key)
        return keys
