"""Connects the parameter panels to one RunConfig: applies each edit, shows refusals inline.

The only way a config reaches the controller is through ``sig_config_changed`` with a
RunConfig that the core has validated; an invalid edit marks its field red, writes the core's
message under its panel, and changes nothing else.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.gui.panels.changes import apply_change
from gdviz.gui.panels.fields import ParamPanel

log = logging.getLogger(__name__)


class ConfigEditor(QObject):
    """Owns the panels' view of the config.

    sig_config_changed(RunConfig): a valid edit produced a different config.
    sig_invalid(str): an edit was refused (the message is also shown under its panel).
    """

    sig_config_changed = Signal(object)
    sig_invalid = Signal(str)

    def __init__(self, panels: list[ParamPanel], config: RunConfig,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.panels = panels
        self.config = config
        for panel in panels:
            panel.sig_edited.connect(
                lambda key, value, p=panel: self.apply(p, key, value))
        self.show_config(config)

    def show_config(self, config: RunConfig) -> None:
        """Fill every panel from ``config`` (preset loaded, settings restored, edit applied)."""
        self.config = config
        for panel in self.panels:
            panel.clear_errors()
            try:
                panel.set_config(config)
            except Exception:  # a panel must never take the window down
                log.exception("panel %s could not show the config", type(panel).__name__)

    def has_errors(self) -> bool:
        return any(panel.has_error() for panel in self.panels)

    def apply(self, panel: ParamPanel, key: tuple, value: Any) -> None:
        """Apply one edit (from ``panel``'s field ``key``); refusals are shown on ``panel``."""
        try:
            new = apply_change(self.config, key, value)
        except ConfigError as err:
            self._refuse(panel, key, str(err))
            return
        except Exception as err:  # unexpected input the core did not anticipate
            log.exception("edit %r = %r failed", key, value)
            self._refuse(panel, key, f"this value cannot be used: {err}")
            return
        if new == self.config:
            panel.clear_errors()
            return
        self.show_config(new)
        self.sig_config_changed.emit(new)

    def _refuse(self, panel: ParamPanel, key: tuple, message: str) -> None:
        panel.show_error(key, message)
        self.sig_invalid.emit(message)
