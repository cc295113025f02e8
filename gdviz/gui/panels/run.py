"""Run panel: the start point (drawn by an initialisation scheme, or one field per parameter),
stop limits, convergence test."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from gdviz.core.init_schemes import SCHEME_TITLES, SCHEMES, init_point, scheme_of
from gdviz.core.records import DEFAULT_MAX_STEPS, RunConfig
from gdviz.gui.panels.fields import ParamPanel, format_value

TYPED = ""  # the scheme combo's entry for values typed in the fields (or the problem's default)
SCHEME_TIPS = {
    TYPED: "The values in the fields below: typed, picked on the contour map, or the "
           "problem's default.",
    "zeros": "Every parameter 0.",
    "normal": "Every parameter drawn from N(0, 1) with the run's seed.",
    "xavier": "N(0, 2 / (fan_in + fan_out)), torch's xavier_normal_, drawn with the run's "
              "seed. Without layers fan_in = the number of inputs, fan_out = 1.",
    "kaiming": "N(0, 2 / fan_in), torch's kaiming_normal_ (ReLU), drawn with the run's seed. "
               "Without layers fan_in = the number of inputs.",
}
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
        self.scheme_combo = QComboBox()
        self.scheme_combo.setObjectName("field_init_scheme")
        self.scheme_combo.setToolTip("Initialisation: where the start point comes from. A "
                                     "scheme draws it with the run's seed (Sampling panel).")
        for scheme in (TYPED, *SCHEMES):
            self.scheme_combo.addItem(SCHEME_TITLES.get(scheme, "values typed"), scheme)
            self.scheme_combo.setItemData(self.scheme_combo.count() - 1, SCHEME_TIPS[scheme],
                                          Qt.ItemDataRole.ToolTipRole)
        self.scheme_combo.activated.connect(self._on_scheme_activated)
        self.form.addRow("initialise", self.scheme_combo)
        self._scheme = TYPED  # the scheme last chosen (some draw the same on a problem)
        self._config: RunConfig | None = None
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
            self._config = config
            self._show_scheme(config, problem)
            self.set_line(("max_epochs",), config.max_epochs)
            self.set_line(("max_steps",), config.max_steps)
            self.tol_check.setChecked(config.tol is not None)
            self.tol_field.setEnabled(config.tol is not None)
            tol = config.tol if config.tol is not None else 1e-4
            self.tol_field.setProperty("applied", format_value(tol))
            self.tol_field.setText(format_value(tol))
        finally:
            self._filling = False

    def _show_scheme(self, config: RunConfig, problem) -> None:
        """The combo names the scheme whose draw from the run's seed is the start point (a
        seed changed since: "values typed", the values are kept)."""
        found = scheme_of(problem, config.init, config.seed, prefer=self._scheme)
        self.scheme_combo.setCurrentIndex(self.scheme_combo.findData(found or TYPED))

    def _on_scheme_activated(self, index: int) -> None:
        scheme = self.scheme_combo.itemData(index)
        config = self._config
        if not scheme or config is None:
            return  # "values typed": the fields are edited directly
        self._scheme = scheme
        start = init_point(config.make_problem(), scheme, config.seed)
        self._emit(("init",), tuple(float(v) for v in start))
