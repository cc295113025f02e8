"""The user's saved formulas: a small store in the settings file and the Presets menu entries.

``FormulaStore`` keeps named custom-problem setups (all settings of problem ``custom``: the
formula, parameter order, start values, ranges, data formula, CSV columns, ... and the CSV
file's path) as one JSON text under ``formulas/saved`` in the same settings file as the rest
of gdviz (``AppSettings``). Entries that cannot be read (edited by hand, written by another
version, settings no longer valid) are skipped silently; the others stay usable.

``install_formula_menu(menu, window)`` adds "Save formula…" and a "My formulas" submenu (load,
delete) to a Presets menu. The data file itself is not copied: when it has moved, loading says
which file is missing instead of failing later.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from gdviz.core.errors import ConfigError
from gdviz.core.problems.registry import make_problem, validate_problem_settings
from gdviz.core.records import RunConfig

log = logging.getLogger(__name__)
KEY = "formulas/saved"
VERSION = 1
MAX_NAME = 80
MAX_SAVED = 200
CUSTOM = "custom"


@dataclass(frozen=True)
class SavedFormula:
    name: str
    settings: dict[str, Any]
    data_path: str | None = None

    @property
    def expr(self) -> str:
        return str(self.settings.get("expr", ""))


def _entry(data: Any) -> SavedFormula | None:
    """A stored entry, or None when anything about it is wrong."""
    try:
        name, settings, path = data["name"], data["settings"], data.get("data_path")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            return None
        if not isinstance(settings, dict) or (path is not None and not isinstance(path, str)):
            return None
        checked = validate_problem_settings(CUSTOM, settings)  # types and ranges, no sympy
    except (ConfigError, KeyError, TypeError, ValueError, AttributeError):
        return None
    return SavedFormula(name.strip(), dict(checked), path or None)


class FormulaStore:
    """Named custom-problem setups in an ``AppSettings`` (``memory=True`` keeps them in RAM)."""

    def __init__(self, settings) -> None:
        self.settings = settings

    def all(self) -> list[SavedFormula]:
        """The readable entries, in the order they were first saved."""
        text = self.settings._get(KEY)
        try:
            data = json.loads(text) if isinstance(text, str) and text else {}
            entries = data.get("formulas", []) if isinstance(data, dict) else []
        except (ValueError, RecursionError):
            log.debug("stored formulas ignored: not JSON")
            return []
        out: list[SavedFormula] = []
        for raw in entries if isinstance(entries, list) else []:
            entry = _entry(raw)
            if entry is not None and all(e.name != entry.name for e in out):
                out.append(entry)
        return out

    def get(self, name: str) -> SavedFormula | None:
        return next((e for e in self.all() if e.name == name), None)

    def save(self, name: str, settings: dict[str, Any], data_path: str | None) -> bool:
        """Store (or replace) ``name``; True when an entry of that name was replaced."""
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise ConfigError(f"a formula name needs 1 to {MAX_NAME} characters")
        entry = _entry({"name": name, "settings": dict(settings), "data_path": data_path})
        if entry is None:
            raise ConfigError("these settings cannot be saved (they are not valid)")
        entries = self.all()
        replaced = any(e.name == name for e in entries)
        if replaced:
            entries = [entry if e.name == name else e for e in entries]
        else:
            if len(entries) >= MAX_SAVED:
                raise ConfigError(f"{MAX_SAVED} formulas are saved already; delete some first")
            entries.append(entry)
        self._write(entries)
        return replaced

    def delete(self, name: str) -> bool:
        entries = self.all()
        kept = [e for e in entries if e.name != name]
        self._write(kept)
        return len(kept) != len(entries)

    def _write(self, entries: list[SavedFormula]) -> None:
        data = {"version": VERSION, "formulas": [
            {"name": e.name, "settings": e.settings, "data_path": e.data_path}
            for e in entries]}
        self.settings._set(KEY, json.dumps(data))
        self.settings.sync()


def formula_config(config: RunConfig, saved: SavedFormula) -> RunConfig:
    """``config`` switched to the saved formula: problem ``custom``, its settings and data
    file, the problem's default start, the batch size clipped to the sample count.
    ConfigError (with the reason) when the data file is missing or the formula fails."""
    path = saved.data_path
    if path is not None and not os.path.isfile(path):
        raise ConfigError(f"its data file {path} is missing (moved or deleted?); choose the "
                          "formula's data again with Load CSV… and save it anew")
    problem = make_problem(CUSTOM, saved.settings, path)
    batch = config.batch_size
    if batch is not None:
        batch = max(1, min(batch, problem.n_samples))
    return config.with_changes(problem=CUSTOM, settings=saved.settings, data_path=path,
                               init=None, batch_size=batch)


class FormulaMenu(QObject):
    """The saved-formula entries of one window's Presets menu (rebuilt each time it opens).

    ``window`` needs ``settings`` (AppSettings), ``editor`` (ConfigEditor) and a status bar.
    """

    def __init__(self, menu: QMenu, window: QWidget) -> None:
        super().__init__(menu)
        self.window = window
        self.store = FormulaStore(window.settings)
        menu.addSeparator()
        self.save_action = menu.addAction("Save formula…")
        self.save_action.setObjectName("save_formula")
        self.save_action.setToolTip("Keep the current formula, its parameters and its data "
                                    "under a name (shown under My formulas).")
        self.save_action.triggered.connect(lambda: self.save_current())
        self.submenu = menu.addMenu("My formulas")
        self.submenu.setObjectName("my_formulas")
        self.submenu.setToolTipsVisible(True)
        menu.aboutToShow.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        """Enable "Save formula…" for a custom problem; list the saved formulas."""
        custom = self.window.editor.config.problem == CUSTOM
        self.save_action.setEnabled(custom)
        self.submenu.clear()
        entries = self.store.all()
        if not entries:
            empty = self.submenu.addAction("(none yet: choose Your own formula, then Save "
                                           "formula…)")
            empty.setEnabled(False)
            return
        for entry in entries:
            action = self.submenu.addAction(entry.name)
            where = f"\ndata: {entry.data_path}" if entry.data_path else ""
            action.setToolTip(f"ℓ = {entry.expr}{where}")
            action.triggered.connect(lambda _=False, n=entry.name: self.load(n))
        self.submenu.addSeparator()
        delete = self.submenu.addMenu("Delete")
        for entry in entries:
            action = delete.addAction(entry.name)
            action.triggered.connect(lambda _=False, n=entry.name: self.delete(n))

    def actions_by_name(self) -> dict[str, Any]:
        """The load actions of the submenu (tests)."""
        self.refresh()
        return {a.text(): a for a in self.submenu.actions() if a.menu() is None and a.isEnabled()
                and not a.isSeparator()}

    def _status(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 8000)

    def save_current(self, name: str | None = None) -> bool:
        config = self.window.editor.config
        if config.problem != CUSTOM:
            self._status("Save formula: choose Your own formula first")
            return False
        if name is None:
            suggested = str(config.settings["expr"])[:MAX_NAME]
            name, ok = QInputDialog.getText(self.window, "Save formula", "Name:", text=suggested)
            if not ok:
                return False
        try:
            replaced = self.store.save(name, dict(config.settings), config.data_path)
        except ConfigError as err:
            self._status(f"Formula not saved: {err}")
            return False
        self.refresh()
        self._status(f"Formula {name.strip()!r} {'replaced' if replaced else 'saved'}")
        return True

    def load(self, name: str) -> bool:
        saved = self.store.get(name)
        if saved is None:
            self._status(f"Formula {name!r} is no longer saved")
            return False
        editor = self.window.editor
        try:
            config = formula_config(editor.config, saved)
        except ConfigError as err:
            message = f"Formula {name!r} not loaded: {err}"
            self._status(message)
            box = getattr(self.window, "show_message_box", None)
            if box is not None:
                box("gdviz", message)
            return False
        editor.show_config(config)
        # through the window's own path for edits: it resets the run (or refuses and puts the
        # editor back, e.g. when its runs cannot take the change; it then says why)
        editor.sig_config_changed.emit(config)
        if editor.config != config:
            return False
        self._status(f"Loaded formula {name!r}")
        return True

    def delete(self, name: str, confirm: bool = True) -> bool:
        if confirm:
            answer = QMessageBox.question(self.window, "Delete formula",
                                          f"Delete the saved formula {name!r}?")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        deleted = self.store.delete(name)
        self.refresh()
        if deleted:
            self._status(f"Formula {name!r} deleted")
        return deleted


def install_formula_menu(menu: QMenu, window: QWidget) -> FormulaMenu:
    """Add "Save formula…" and "My formulas" to ``menu`` (a main window's Presets menu)."""
    return FormulaMenu(menu, window)
