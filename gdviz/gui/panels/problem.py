"""Problem panel: which loss landscape, its settings (generated from SettingSpecs), its data."""

from __future__ import annotations

import html
import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QPushButton, QWidget

from gdviz.core.problems.registry import get_spec, problem_specs
from gdviz.core.records import RunConfig
from gdviz.gui.panels.fields import ParamPanel

FAMILY_TITLES = {"lesson": "Lessons", "analytic": "Test functions", "custom": "Custom"}


class ProblemPanel(ParamPanel):
    """Edits ``problem``, ``settings`` and ``data_path``."""

    title = "Problem"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesson_label = QLabel()
        self.lesson_label.setObjectName("lesson_label")
        self.lesson_label.setWordWrap(True)
        self.lesson_label.setTextFormat(Qt.TextFormat.RichText)
        self.lesson_label.hide()
        self.form.addRow(self.lesson_label)
        self.combo = self.add_combo(
            ("problem",), "problem",
            "The loss landscape to optimise. Lessons have a dataset and one loss surface per "
            "sample; test functions are classic 2-D optimizer benchmarks.", [])
        self._fill_combo()
        self._setting_keys: list[tuple] = []
        self._shown_problem = ""
        self.data_label = QLabel("generated")
        self.data_label.setToolTip("Where the samples come from: generated from the settings "
                                   "below, or read from a CSV file you loaded.")
        self.load_button = QPushButton("Load CSV…")
        self.load_button.setObjectName("load_csv")
        self.load_button.setToolTip(
            "Use your own data: a CSV file with one sample per row, the features first and the "
            "target in the last column (a header row is allowed).")
        self.load_button.clicked.connect(self._on_load_button_clicked)
        self.clear_button = QPushButton("Generated")
        self.clear_button.setToolTip("Forget the CSV file and use generated data again.")
        self.clear_button.clicked.connect(lambda: self._emit(("data_path",), None))
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.data_label, 1)
        layout.addWidget(self.load_button)
        layout.addWidget(self.clear_button)
        self.data_row = row
        self.data_caption = QLabel("data")
        self.form.addRow(self.data_caption, row)

    def _fill_combo(self) -> None:
        model: QStandardItemModel = self.combo.model()
        family = None
        self._filling = True
        for spec in problem_specs():
            if spec.family != family:
                family = spec.family
                self.combo.addItem(FAMILY_TITLES.get(family, family.title()))
                header = model.item(self.combo.count() - 1)
                header.setEnabled(False)
                header.setSelectable(False)
                font = header.font()
                font.setBold(True)
                header.setFont(font)
            self.combo.addItem("    " + spec.title, spec.name)
            self.combo.setItemData(self.combo.count() - 1, spec.description,
                                   Qt.ItemDataRole.ToolTipRole)
        self._filling = False

    def set_lesson(self, title: str, description: str) -> None:
        """Show the loaded preset's title and lesson text above the problem (empty: hide)."""
        if title:
            self.lesson_label.setText(f"<b>{html.escape(title)}</b><br>"
                                      f"<span style='color:#444'>{html.escape(description)}"
                                      "</span>")
            self.lesson_label.setToolTip(description)
            self.lesson_label.show()
        else:
            self.lesson_label.hide()

    def set_config(self, config: RunConfig) -> None:
        self._filling = True
        try:
            self.set_combo_data(("problem",), config.problem)
            spec = get_spec(config.problem)
            if config.problem != self._shown_problem:
                self.remove_rows(self._setting_keys)
                self._setting_keys = []
                for setting in spec.settings:
                    key = ("settings", setting.name)
                    self.add_spec_field(key, setting)
                    self._setting_keys.append(key)
                self._shown_problem = config.problem
            for key in self._setting_keys:
                self.set_spec_value(key, config.settings[key[1]])
            self.form.setRowVisible(self.data_row, spec.accepts_csv)
            if config.data_path:
                self.data_label.setText(os.path.basename(config.data_path))
                self.data_label.setToolTip(config.data_path)
            else:
                self.data_label.setText("generated from the settings")
            self.clear_button.setVisible(bool(config.data_path))
        finally:
            self._filling = False

    def _on_load_button_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load data (CSV)", "",
                                              "CSV files (*.csv *.txt);;All files (*)")
        if path:
            self._emit(("data_path",), path)
