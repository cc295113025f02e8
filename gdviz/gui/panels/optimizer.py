"""Optimizer panel: update rule, learning rate, its hyperparameters, and the lr schedule, plus
PyTorch code in (a pasted optimizer or scheduler line) and out ("Copy as PyTorch").

Hyperparameter and schedule fields are generated from the core's specs, so a new optimizer or
schedule appears here with its help texts as tooltips and nothing else to change.

For gradient descent and heavy-ball momentum a note under the learning rate says up to which
rate a quadratic with the Hessian at the start point is stable ("stable for lr < 2/λmax = …"),
computed off the GUI thread (gui.tasks.TaskRunner: a formula's Hessian is derived on first use)
and updated whenever the run's settings (the start point among them) change.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget

from gdviz.core.curvature import hessian_extremes, stability_threshold, stable_lr_limit
from gdviz.core.errors import ConfigError
from gdviz.core.optimizers import OPTIMIZERS
from gdviz.core.records import RunConfig
from gdviz.core.torch_code import torch_code
from gdviz.gui import tasks
from gdviz.gui.panels.fields import ParamPanel

LR_TIP = ("Learning rate η: the step is η × gradient (for SGD). The most important setting: "
          "too small crawls, too large overshoots and diverges. Press Enter to apply.")


def _schedules() -> dict:
    from gdviz.core.schedules import SCHEDULES

    return SCHEDULES


class OptimizerPanel(ParamPanel):
    """Edits ``optimizer``, ``lr``, ``hyperparams``, ``schedule`` and ``schedule_params``."""

    title = "Optimizer"
    sig_sweep_requested = Signal()   # "Sweep learning rate…" (the window opens the dialog)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = self.add_combo(
            ("optimizer",), "optimizer",
            "The update rule (torch.optim's, same names and defaults). Hover an entry to "
            "read what it does.",
            [(spec.title, spec.name, spec.description) for spec in OPTIMIZERS.values()])
        self.lr_field = self.add_line(("lr",), "learning rate η", LR_TIP)
        self.stability_note = QLabel()
        self.stability_note.setObjectName("stability_note")
        self.stability_note.setWordWrap(True)
        self.stability_note.setStyleSheet("color: #555555;")
        self.stability_note.setToolTip(
            "Gradient descent on a quadratic is stable exactly when lr < 2/λmax, heavy-ball "
            "momentum β when lr < (2 + 2β)/λmax (λmax: the largest eigenvalue of the Hessian "
            "of the full loss, here at the start point). On other losses the Hessian changes "
            "along the path: see the Curvature view.")
        self.stability_note.hide()
        self.form.addRow(self.stability_note)
        self.sweep_button = QPushButton("Sweep learning rate…")
        self.sweep_button.setObjectName("sweep_learning_rate")
        self.sweep_button.setToolTip(
            "Run this run at 41 learning rates over 6 decades around its lr (several seeds "
            "each) in the background and plot the objective against lr: the best lr, the "
            "usable window, Use best lr, and a race of every run at its own best lr. No "
            "gradient clipping anywhere.")
        self.sweep_button.clicked.connect(self.sig_sweep_requested)
        self.form.addRow(self.sweep_button)
        self.stability_runner = tasks.TaskRunner(self)
        self.stability_runner.sig_ready.connect(self._on_stability_runner_ready)
        self._stability_key = None
        self._shown_config: RunConfig | None = None
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
        """Put the current run's PyTorch code on the clipboard; returns it ("" and the reason
        under the button when PyTorch has no such optimizer)."""
        try:
            code = torch_code(self._config) if self._config is not None else ""
        except ConfigError as err:
            self.show_error(("torch",), str(err))
            return ""
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
        self._shown_config = config
        self._ask_stability(config)

    # -- the stability note -------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.stability_runner.shutdown()
        super().closeEvent(event)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        window = self.window()
        if window is self or not window.isVisible():  # the window is closing
            self.stability_runner.shutdown()
            self._stability_key = None               # asked again when shown
        super().hideEvent(event)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if self._stability_key is None and self._shown_config is not None:
            self._ask_stability(self._shown_config)

    def _ask_stability(self, config: RunConfig) -> None:
        """Compute λmax at the start point in the background (gradient descent and heavy ball
        only); the note shows it when it arrives."""
        if config.optimizer != "sgd" or \
                stability_threshold(config.optimizer, config.lr, config.hyperparams) is None:
            self.stability_runner.cancel()
            self._stability_key = None
            self.stability_note.hide()
            return
        problem = config.make_problem()
        if not problem.has_hessian_vector_products:
            self.stability_note.hide()
            return
        start = config.start_point()
        key = (id(problem), tuple(start.tolist()), config.optimizer,
               tuple(sorted(config.hyperparams.items())))
        if key == self._stability_key:
            return
        self._stability_key = key
        hp = dict(config.hyperparams)

        def job(should_stop):
            sharpness = float(hessian_extremes(problem, start)[-1])
            return sharpness, stable_lr_limit("sgd", hp, sharpness), hp

        self.stability_runner.request(key, job)

    def _on_stability_runner_ready(self, key, result) -> None:
        if key != self._stability_key:
            return
        if isinstance(result, Exception):
            self.stability_note.setText(f"λmax at the start point: {result}")
        else:
            sharpness, limit, hp = result
            self.stability_note.setText(stability_text(sharpness, limit, hp))
        self.stability_note.show()

    def _rebuild(self, old: list[tuple], group: str, specs, form) -> list[tuple]:
        """Replace the generated rows of ``group`` (kept in their own form section)."""
        self.remove_rows(old)
        keys = []
        for spec in specs:
            key = (group, spec.name)
            self.add_spec_field(key, spec, form=form)
            keys.append(key)
        return keys


def stability_text(sharpness: float, limit: float | None, hp) -> str:
    """The note: ``stable for lr < 2/λmax = 0.054 at the start point (λmax 37.02)``."""
    if limit is None or not np.isfinite(sharpness):
        return (f"λmax = {sharpness:.4g} ≤ 0 at the start point: no rate is too large "
                "there (the loss curves down or is flat)" if np.isfinite(sharpness) else
                "the Hessian is not finite at the start point")
    beta = hp.get("momentum", 0.0)
    if beta == 0:
        rule = "2/λmax"
    elif hp.get("nesterov"):
        rule = f"(2 + 2·{beta:g})/((1 + 2·{beta:g})·λmax)"
    else:
        damp = hp.get("dampening", 0.0)
        rule = f"(2 + 2·{beta:g})/λmax" if not damp else \
            f"(2 + 2·{beta:g})/((1 − {damp:g})·λmax)"
    return f"stable for lr < {rule} = {limit:.4g} at the start point (λmax {sharpness:.4g})"
