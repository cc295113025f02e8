"""Optimizer panel: update rule, learning rate, its hyperparameters, and the lr schedule.

Hyperparameter and schedule fields are generated from the core's specs, so a new optimizer or
schedule appears here with its help texts as tooltips and nothing else to change.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from gdviz.core.optimizers import OPTIMIZERS
from gdviz.core.records import RunConfig
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
            "How the learning rate changes from epoch to epoch (torch.optim.lr_scheduler "
            "semantics, stepped once per epoch).",
            [(spec.title, spec.name, spec.description) for spec in _schedules().values()],
            form=schedule_form)
        self._schedule_form = self.add_section()
        self._schedule_keys: list[tuple] = []
        self._shown_schedule = ""

    def set_config(self, config: RunConfig) -> None:
        self._filling = True
        try:
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
