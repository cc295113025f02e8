"""Presenter mode: everything in the window (text, lines, markers, controls) drawn ×1.5 or ×2
for a projector, through Qt's own scale factor (``QT_SCALE_FACTOR``), which Qt reads once, when
the application starts: choosing a scale stores it and restarts gdviz with the same arguments.
A ``QT_SCALE_FACTOR`` set by the user wins over the stored choice."""

from __future__ import annotations

import os
import sys

SCALES = (1.0, 1.5, 2.0)
ENV = "QT_SCALE_FACTOR"


def apply_stored_scale(scale: float) -> float:
    """Before the QApplication exists: make Qt draw at ``scale`` (a stored choice) unless the
    user set ``QT_SCALE_FACTOR`` himself. Returns the scale Qt will use."""
    if ENV in os.environ:
        try:
            return float(os.environ[ENV])
        except ValueError:
            return 1.0
    if scale != 1.0:
        os.environ[ENV] = f"{scale:g}"
    return scale


def restart_command() -> tuple[str, list[str]]:
    """(program, arguments) that start this gdviz again as it was started: the executable
    itself when frozen, else ``python -m gdviz`` with the same arguments."""
    if getattr(sys, "frozen", False):
        return sys.executable, list(sys.argv[1:])
    return sys.executable, ["-m", "gdviz", *sys.argv[1:]]
