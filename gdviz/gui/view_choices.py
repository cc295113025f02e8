"""The user's choices on a view (its check boxes, its parameter and whatever else the view
says is a choice), read and set by name: what session files store, what a preset's ``views``
set and what an export copies from the window to the views it draws."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox


def view_choices(view) -> dict[str, Any]:
    """The user's choices on a view: its check boxes (attribute name -> bool), its parameter
    combo ("param" -> the parameter's name) and, for a view with ``choices()`` (its own
    controls: the Landscape view's plane), what that returns ({name: bool, number or text})."""
    out: dict[str, Any] = {}
    for name, value in vars(view).items():
        if isinstance(value, QCheckBox):
            out[name] = bool(value.isChecked())
    combo = getattr(view, "combo", None)
    if combo is not None and combo.count() > 1:
        out["param"] = combo.currentText()
    own = getattr(view, "choices", None)
    if callable(own):
        out.update(own())
    return out


def apply_view_choices(view, choices: dict[str, Any]) -> None:
    """Set what ``view_choices`` returned; unknown names and parameters are ignored. A view
    with ``choices_applied(names)`` is told which boxes were set (a box set to the state it
    already had emits no signal, yet the choice is now the user's: the 3-D view's height).
    A view with ``apply_choices(choices)`` is given them all after its boxes and parameter
    were set; it ignores what it does not know or cannot use (sessions are untrusted input)."""
    applied = []
    for name, value in choices.items():
        box = getattr(view, name, None)
        if isinstance(box, QCheckBox) and isinstance(value, bool):
            box.setChecked(value)
            applied.append(name)
    told = getattr(view, "choices_applied", None)
    if told is not None and applied:
        told(tuple(applied))
    combo = getattr(view, "combo", None)
    param = choices.get("param")
    if combo is not None and isinstance(param, str):
        index = combo.findText(param)
        if index >= 0:
            combo.setCurrentIndex(index)
    own = getattr(view, "apply_choices", None)
    if callable(own):
        own(dict(choices))
