"""Run panel: the start point (one field per parameter), stop limits, convergence test."""

from __future__ import annotations

from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from gdviz.core.records import DEFAULT_MAX_STEPS, RunConfig
from gdviz.gui.panels.fields import ParamPanel, format_value

TOL_TIP = ("Convergence test: stop when the full loss changes by less than ε in one step. "
           "A smaller ε runs longer and ends closer to the minimum. Press Enter to apply.")


class RunPanel(ParamPanel):
    """Edits ``init``, ``max_epochs``, ``max_steps`` and ``tol``."""

    title = "Run"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._start_caption = QLabel("<b>start point</b>")
        self._start_caption.setToolTip("Where the optimizer starts. Type a value and press "
                                       "Enter; the run restarts from there.")
        self.form.addRow(self._start_caption)
        self._init_form = self.add_section()
        self._init_keys: list[tuple] = []
        self._shown_names: tuple[str, ...] = ()
        limits = self.add_section()
        self.default_button = QPushButton("Problem's default start")
        self.default_button.setObjectName("default_start")
        self.default_button.setToolTip("Go back to the start point the problem suggests.")
        self.default_button.clicked.connect(lambda: self._emit(("init",), None))
        limits.addRow(self.default_button)
        self.add_line(("max_epochs",), "max epochs",
                      "Stop after this many passes over the data (empty = no epoch limit).",
                      placeholder="no limit", form=limits)
        self.add_line(("max_steps",), "max steps",
                      "Stop after this many steps (empty = no step limit). With both limits "
                      f"empty the run stops after {DEFAULT_MAX_STEPS} steps.",
                      placeholder="no limit", form=limits)
        self.tol_check = QCheckBox("ε =")
        self.tol_check.setObjectName("field_tol_enabled")
        self.tol_check.setToolTip(TOL_TIP)
        self.tol_check.toggled.connect(
            lambda on: self._emit(("tol",), self.tol_field.text().strip() if on else None))
        self.tol_field = QLineEdit()
        self.tol_field.setObjectName("field_tol")
        self.tol_field.setToolTip(TOL_TIP)
        self.tol_field.editingFinished.connect(
            lambda: self._on_line_finished(("tol",), self.tol_field))
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tol_check)
        layout.addWidget(self.tol_field, 1)
        self.fields[("tol_enabled",)] = self.tol_check
        self.fields[("tol",)] = self.tol_field
        caption = QLabel("converged when |Δloss| <")
        caption.setToolTip(TOL_TIP)
        limits.addRow(caption, row)

    def set_config(self, config: RunConfig) -> None:
        self._filling = True
        try:
            problem = config.make_problem()
            names = problem.param_names
            if names != self._shown_names:
                self.remove_rows(self._init_keys)
                self._init_keys = []
                for i, name in enumerate(names):
                    key = ("init", i)
                    lo, hi = problem.view_range[i]
                    self.add_line(key, name,
                                  f"Start value of {name} (the plots show {lo:g} … {hi:g}). "
                                  "Press Enter to restart the run from here.",
                                  form=self._init_form)
                    self._init_keys.append(key)
                self._shown_names = names
            start = config.start_point()
            for key in self._init_keys:
                self.set_line(key, float(start[key[1]]))
            self.default_button.setEnabled(config.init is not None)
            self.set_line(("max_epochs",), config.max_epochs)
            self.set_line(("max_steps",), config.max_steps)
            self.tol_check.setChecked(config.tol is not None)
            self.tol_field.setEnabled(config.tol is not None)
            tol = config.tol if config.tol is not None else 1e-4
            self.tol_field.setProperty("applied", format_value(tol))
            self.tol_field.setText(format_value(tol))
        finally:
            self._filling = False
