"""Find bundled resources the same way from source, an installed wheel, and the frozen app.

- source checkout / editable install: <repo>/resources
- wheel: the build maps resources/ into the package as gdviz/resources
- PyInstaller: the spec bundles resources/ at <sys._MEIPASS>/resources
"""

from __future__ import annotations

import sys
from pathlib import Path

# the gdviz package folder (this file is gdviz/core/resources.py)
_PACKAGE_DIR = Path(__file__).resolve().parents[1]


def resources_dir() -> Path:
    """The folder holding presets/, icons/ and style files."""
    candidates = []
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        candidates.append(Path(frozen_root) / "resources")
    candidates += [_PACKAGE_DIR / "resources", _PACKAGE_DIR.parent / "resources"]
    for candidate in candidates:
        if (candidate / "presets").is_dir():
            return candidate
    raise FileNotFoundError("gdviz resources not found (looked in: "
                            + ", ".join(str(c) for c in candidates) + ")")


def resource_path(*parts: str) -> Path:
    """Path of a bundled resource, e.g. ``resource_path("icons", "gdviz.png")``."""
    return resources_dir().joinpath(*parts)
