"""Persistent settings: window geometry, dock layout and visibility, the last runs (names,
colours, configurations) and the last RunConfig, speed, the export dialog's last settings.

Where they live:
- ``AppSettings(path)``: an INI file at ``path`` (tests pass a temporary file);
- else the environment variable ``GDVIZ_SETTINGS`` names the INI file;
- else Qt's per-user location for organisation/application "gdviz".
``AppSettings(None, memory=True)`` keeps nothing (screenshots and exports must not depend on,
or change, the user's settings).

Anything unreadable or invalid is ignored: the caller falls back to defaults, and only a debug
line is logged.
"""

from __future__ import annotations

import json
import logging
import os

from PySide6.QtCore import QByteArray, QSettings

from gdviz.core.records import RunConfig

log = logging.getLogger(__name__)
ENV_VAR = "GDVIZ_SETTINGS"
_VERSION = 2   # 2: two rows of views, the step math a tab beside the data


class AppSettings:
    """Typed access to the stored values; every getter returns None when nothing usable."""

    def __init__(self, path: str | os.PathLike | None = None, memory: bool = False) -> None:
        self.memory = memory
        self._values: dict[str, object] = {}
        if memory:
            self._qs = None
            return
        path = path or os.environ.get(ENV_VAR)
        if path:
            self._qs = QSettings(os.fspath(path), QSettings.Format.IniFormat)
        else:
            self._qs = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                 "gdviz", "gdviz")

    # -- raw access ---------------------------------------------------------------------------
    def _get(self, key: str) -> object:
        if self._qs is None:
            return self._values.get(key)
        try:
            return self._qs.value(key)
        except Exception:  # a value Qt cannot decode
            log.debug("unreadable setting %s", key, exc_info=True)
            return None

    def _set(self, key: str, value: object) -> None:
        if self._qs is None:
            self._values[key] = value
        else:
            self._qs.setValue(key, value)

    def sync(self) -> None:
        if self._qs is not None:
            self._qs.sync()

    def file_name(self) -> str:
        return "" if self._qs is None else self._qs.fileName()

    # -- window layout ------------------------------------------------------------------------
    def geometry(self) -> QByteArray | None:
        """The window's geometry as saved, or None when none was saved by this layout's
        version (an older layout's docks no longer fit: the default layout replaces it)."""
        return _bytes(self._get("window/geometry")) if self._layout_current() else None

    def dock_state(self) -> QByteArray | None:
        return _bytes(self._get("window/state")) if self._layout_current() else None

    def _layout_current(self) -> bool:
        try:
            return int(self._get("window/version") or 0) == _VERSION
        except (TypeError, ValueError):
            return False

    def save_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self._set("window/geometry", geometry)
        self._set("window/state", state)
        self._set("window/version", _VERSION)

    # -- run ----------------------------------------------------------------------------------
    def last_config(self) -> RunConfig | None:
        text = self._get("run/config")
        if not isinstance(text, str) or not text:
            return None
        try:
            return RunConfig.from_dict(json.loads(text))
        except Exception:  # corrupt JSON, an old field, a problem that no longer exists ...
            log.debug("stored run configuration ignored", exc_info=True)
            return None

    def save_config(self, config: RunConfig) -> None:
        self._set("run/config", json.dumps(config.to_dict()))

    def last_runs(self) -> tuple[tuple, int] | None:
        """(runs, selected) of the last session: ``RunSpec``s that form a valid comparison,
        or None (nothing stored, or anything wrong with it)."""
        from gdviz.core.run_set import RunSpec, validate

        text = self._get("run/runs")
        if not isinstance(text, str) or not text:
            return None
        try:
            data = json.loads(text)
            runs = validate(tuple(
                RunSpec(str(r["name"]), str(r["color"]), RunConfig.from_dict(r["config"]),
                        str(r.get("named_by", "auto")))
                for r in data["runs"]))
            selected = int(data.get("selected", 0))
            if not 0 <= selected < len(runs):
                selected = 0
            return runs, selected
        except Exception:  # corrupt JSON, an old field, a problem that no longer exists ...
            log.debug("stored runs ignored", exc_info=True)
            return None

    def save_runs(self, runs, selected: int) -> None:
        """Store ``runs`` (RunSpecs) and the selected index."""
        self._set("run/runs", json.dumps({
            "runs": [{"name": r.name, "color": r.color, "named_by": r.named_by,
                      "config": r.config.to_dict()} for r in runs],
            "selected": int(selected)}))

    def preset_name(self) -> str:
        """The preset the last session started from ('' when none)."""
        value = self._get("run/preset")
        return value if isinstance(value, str) else ""

    def save_preset_name(self, name: str) -> None:
        self._set("run/preset", name)

    # -- export dialog --------------------------------------------------------------------------
    def export_choices(self) -> dict:
        """The export dialog's last settings ({} when none): see ExportDialog.choices()."""
        text = self._get("export/last")
        try:
            value = json.loads(text) if isinstance(text, str) and text else {}
        except ValueError:
            log.debug("stored export settings ignored", exc_info=True)
            return {}
        return value if isinstance(value, dict) else {}

    def save_export_choices(self, choices: dict) -> None:
        self._set("export/last", json.dumps(choices))

    def speed(self) -> float | None | bool:
        """Stored speed in steps/s, None for "max", False when nothing usable is stored."""
        value = self._get("run/speed")
        if value in ("max", None):
            return None if value == "max" else False
        try:
            speed = float(value)
        except (TypeError, ValueError):
            return False
        return speed if 1.0 <= speed <= 1e6 else False

    def save_speed(self, speed: float | None) -> None:
        self._set("run/speed", "max" if speed is None else float(speed))

    # -- view options -------------------------------------------------------------------------
    def keep_view_options(self) -> bool:
        """Whether the views' check boxes (log scales, zoom on the step ...) stay as they are
        when another preset is loaded; by default each preset starts from the defaults."""
        return str(self._get("view/keep_options")).lower() == "true"

    def save_keep_view_options(self, keep: bool) -> None:
        self._set("view/keep_options", "true" if keep else "false")

    # -- presenter mode -----------------------------------------------------------------------
    def presenter_scale(self) -> float:
        """The stored presenter scale (1, 1.5 or 2); 1 when nothing usable is stored."""
        from gdviz.gui.presenter import SCALES

        try:
            scale = float(self._get("view/presenter_scale") or 1.0)
        except (TypeError, ValueError):
            return 1.0
        return scale if scale in SCALES else 1.0

    def save_presenter_scale(self, scale: float) -> None:
        self._set("view/presenter_scale", float(scale))

    # -- lesson captions ----------------------------------------------------------------------
    def captions_shown(self) -> bool:
        """View > Show lesson captions (on unless turned off)."""
        value = self._get("view/captions")
        return not (value is False or str(value).lower() in ("false", "0"))

    def save_captions_shown(self, on: bool) -> None:
        self._set("view/captions", bool(on))


def _bytes(value: object) -> QByteArray | None:
    if isinstance(value, QByteArray) and not value.isEmpty():
        return value
    if isinstance(value, (bytes, bytearray)) and value:
        return QByteArray(bytes(value))
    return None
