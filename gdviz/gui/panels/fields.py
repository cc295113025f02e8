"""Shared building blocks of the parameter panels: typed fields made from specs, red marking
of invalid input, and the ``ParamPanel`` base class.

Every edit leaves a panel as ``sig_edited(key, value)``: ``key`` is a tuple naming the RunConfig
field it changes (``("lr",)``, ``("hyperparams", "momentum")``, ``("init", 0)``, ...) and
``value`` is the raw input (text for typed fields, so the core parses it and its ConfigError
messages talk about exactly what the user typed). The editor applies the change; a panel never
builds a RunConfig itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from gdviz.core.errors import format_number

INVALID_STYLE = "background: #ffe4e4; border: 1px solid #d00000;"
ERROR_COLOR = "#c00000"
KIND_WORDS = {int: "whole number", float: "number", bool: "on/off", "floats":
              "comma-separated numbers", "pair": "two numbers, comma-separated", str: "text",
              "optional_int": "whole number, or empty", "optional_float": "number, or empty"}


def format_value(value: Any) -> str:
    """A config value as a field shows it: ``0.01``, ``0.9, 0.999``, ``""`` for None."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (tuple, list)):
        return ", ".join(format_value(v) for v in value)
    if isinstance(value, float):
        return f"{value:.10g}" if not value.is_integer() else format_number(value)
    return str(value)


def spec_tooltip(spec: Any) -> str:
    """The spec's help text plus its type, range and default, for a field's tooltip."""
    parts = [getattr(spec, "help", "") or spec.name]
    kind = KIND_WORDS.get(getattr(spec, "kind", None), "")
    lo, hi = getattr(spec, "minimum", None), getattr(spec, "maximum", None)
    if lo is not None and hi is not None:
        kind += f" from {format_number(lo)} to {format_number(hi)}"
    elif lo is not None:
        kind += f", at least {format_number(lo)}"
    elif hi is not None:
        kind += f", at most {format_number(hi)}"
    parts.append(f"({kind}; default {format_value(getattr(spec, 'default', None)) or 'none'})")
    return "\n".join(parts)


def mark_invalid(widget: QWidget, invalid: bool) -> None:
    """Red background + border on an invalid field; the "invalid" property is for tests."""
    widget.setProperty("invalid", invalid)
    widget.setStyleSheet(INVALID_STYLE if invalid else "")


class ParamPanel(QWidget):
    """A form of fields, each emitting ``sig_edited(key, value)``, with an error line below.

    Subclasses build their fields with ``add_line`` / ``add_check`` / ``add_combo`` /
    ``add_spec_field`` and fill them in ``set_config``.
    """

    sig_edited = Signal(object, object)  # (key tuple, raw value)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[tuple, QWidget] = {}
        self._forms: dict[tuple, QFormLayout] = {}
        self._errors: dict[tuple, QLabel] = {}   # under each field: its refusal, if any
        self._filling = False  # True while set_config writes values: no sig_edited
        self._outer = outer = QVBoxLayout(self)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(4)
        self.form = self.add_section()
        self.error_label = QLabel()
        self.error_label.setObjectName("error_label")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {ERROR_COLOR};")
        self.error_label.hide()
        outer.addWidget(self.error_label)
        outer.addStretch(1)

    def add_section(self) -> QFormLayout:
        """A new form below the previous ones (generated rows go in their own section)."""
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setVerticalSpacing(3)
        index = self._outer.count() - 2 if hasattr(self, "error_label") else self._outer.count()
        self._outer.insertLayout(index, form)
        return form

    # -- errors ---------------------------------------------------------------------------
    def show_error(self, key: tuple, message: str) -> None:
        """The core's refusal of field ``key``, in red directly under the field until it is
        fixed, saying that the run goes on with the value it had (the field's tooltip stays
        its help). A message that belongs to no field goes under the panel."""
        text = message[:1].upper() + message[1:]
        widget = self.fields.get(key)
        inline = self._errors.get(key)
        if widget is None or inline is None:
            self.error_label.setText(text)
            self.error_label.show()
            return
        mark_invalid(widget, True)
        applied = widget.property("applied")
        kept = f" ({applied})" if isinstance(applied, str) and applied else ""
        inline.setText(f"{text}. The run still uses the previous value{kept}.")
        self._forms[key].setRowVisible(inline, True)

    def clear_errors(self) -> None:
        for key, widget in self.fields.items():
            if widget.property("invalid"):
                mark_invalid(widget, False)
            inline = self._errors.get(key)
            if inline is not None and inline.text():
                inline.clear()
                self._forms[key].setRowVisible(inline, False)
        self.error_label.clear()
        self.error_label.hide()

    def has_error(self) -> bool:
        return bool(self.error_text())

    def error_text(self, key: tuple | None = None) -> str:
        """The refusal shown for field ``key`` (None: every refusal the panel shows)."""
        if key is not None:
            inline = self._errors.get(key)
            return inline.text() if inline is not None else ""
        texts = [label.text() for label in self._errors.values() if label.text()]
        if not self.error_label.isHidden():
            texts.append(self.error_label.text())
        return " ".join(texts)

    # -- field factories ------------------------------------------------------------------
    def _emit(self, key: tuple, value: Any) -> None:
        if not self._filling:
            self.sig_edited.emit(key, value)

    def add_line(self, key: tuple, label: str, tooltip: str, placeholder: str = "",
                 form: QFormLayout | None = None) -> QLineEdit:
        """A text field applied on Enter / leaving it, and only when its text changed."""
        field = QLineEdit()
        field.setObjectName("field_" + "_".join(str(k) for k in key))
        field.setToolTip(tooltip)
        field.setPlaceholderText(placeholder)
        field.editingFinished.connect(lambda: self._on_line_finished(key, field))
        self._add_row(key, label, field, tooltip, form)
        return field

    def _on_line_finished(self, key: tuple, field: QLineEdit) -> None:
        if field.text().strip() != (field.property("applied") or "") or field.property("invalid"):
            self._emit(key, field.text().strip())

    def set_line(self, key: tuple, value: Any) -> None:
        field = self.fields[key]
        text = format_value(value)
        field.setProperty("applied", text)
        field.setText(text)
        field.setCursorPosition(0)

    def add_check(self, key: tuple, label: str, tooltip: str, text: str = "",
                  form: QFormLayout | None = None) -> QCheckBox:
        box = QCheckBox(text)
        box.setObjectName("field_" + "_".join(str(k) for k in key))
        box.setToolTip(tooltip)
        box.toggled.connect(lambda on: self._emit(key, on))
        self._add_row(key, label, box, tooltip, form)
        return box

    def add_combo(self, key: tuple, label: str, tooltip: str,
                  items: Sequence[tuple[str, Any, str]],
                  form: QFormLayout | None = None) -> QComboBox:
        """A combo of (text, data, item tooltip) entries; emits the selected data."""
        combo = QComboBox()
        combo.setObjectName("field_" + "_".join(str(k) for k in key))
        combo.setToolTip(tooltip)
        # long entries must not force the dock wider than the screen allows
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(10)
        for text, data, tip in items:
            combo.addItem(text, data)
            combo.setItemData(combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        combo.currentIndexChanged.connect(
            lambda i: self._emit(key, combo.itemData(i)) if i >= 0 else None)
        self._add_row(key, label, combo, tooltip, form)
        return combo

    def add_spec_field(self, key: tuple, spec: Any, form: QFormLayout | None = None) -> QWidget:
        """A field for a SettingSpec / HyperParam: checkbox for bool, text for the rest."""
        tooltip = spec_tooltip(spec)
        label = spec.name.replace("_", " ")
        if spec.kind is bool:
            return self.add_check(key, label, tooltip, form=form)
        return self.add_line(key, label, tooltip, form=form)

    def set_spec_value(self, key: tuple, value: Any) -> None:
        widget = self.fields[key]
        if isinstance(widget, QCheckBox):
            widget.setChecked(bool(value))
        else:
            self.set_line(key, value)

    def set_combo_data(self, key: tuple, data: Any) -> None:
        combo = self.fields[key]
        index = combo.findData(data)
        if index >= 0:
            combo.setCurrentIndex(index)

    def _add_row(self, key: tuple, label: str, widget: QWidget, tooltip: str,
                 form: QFormLayout | None = None) -> None:
        form = form or self.form
        self.fields[key] = widget
        self._forms[key] = form
        if label:
            caption = QLabel(label)
            caption.setToolTip(tooltip)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        else:
            form.addRow(widget)
        error = QLabel()
        error.setObjectName("error_" + "_".join(str(k) for k in key))
        error.setWordWrap(True)
        error.setStyleSheet(f"color: {ERROR_COLOR};")
        form.addRow(error)
        form.setRowVisible(error, False)
        self._errors[key] = error

    def remove_rows(self, keys: Sequence[tuple]) -> None:
        """Drop generated rows (when the problem / optimizer / schedule changes)."""
        for key in keys:
            widget = self.fields.pop(key, None)
            form = self._forms.pop(key, None)
            error = self._errors.pop(key, None)
            if widget is not None and form is not None:
                form.removeRow(widget)
                if error is not None:
                    form.removeRow(error)
