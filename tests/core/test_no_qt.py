"""The numeric core must never import Qt, pyqtgraph or the GUI layer (ARCHITECTURE practice 1)."""

import pkgutil
import subprocess
import sys
from pathlib import Path

import gdviz.core

FORBIDDEN = ("PySide6", "shiboken6", "pyqtgraph", "gdviz.gui", "gdviz.export", "OpenGL")


def test_importing_every_core_module_loads_no_qt():
    modules = [m.name for m in pkgutil.walk_packages(gdviz.core.__path__, "gdviz.core.")]
    assert "gdviz.core.runner" in modules
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "from gdviz.core.problems.registry import problem_names; problem_names()\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r} "
        f"or any(m.startswith(f) for f in {FORBIDDEN!r})]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"gdviz.core pulled in: {out.stdout}"


def test_core_sources_have_no_qt_import_lines():
    root = Path(gdviz.core.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith(("import ", "from ")) and any(f in s for f in FORBIDDEN):
                offenders.append(f"{path.name}: {s}")
    assert offenders == []
