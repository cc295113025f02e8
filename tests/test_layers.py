"""The layers of ARCHITECTURE.md: core < export < gui < cli, and core and export import no Qt.

Two checks that fail for different mistakes:
- ``lint-imports`` reads every import statement of the package (the lazy ones inside functions
  and those under TYPE_CHECKING too) against the contracts in pyproject.toml. It takes ~0.4 s
  (measured: 134 files, no cache), so pytest runs it as well as ``make test``.
- importing every module of core and export in a fresh interpreter must load no Qt,
  pyqtgraph, OpenGL or upper layer: this catches what a static read cannot (an import by name
  through importlib, a registry that loads modules, a dependency that pulls Qt in).
"""

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import gdviz.core
import gdviz.export

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "shiboken6", "pyqtgraph", "OpenGL")
# what each Qt-free layer must not load: Qt and every layer above it
FORBIDDEN = {
    "gdviz.core": (*QT, "gdviz.export", "gdviz.gui", "gdviz.cli"),
    "gdviz.export": (*QT, "gdviz.gui", "gdviz.cli"),
}


def test_import_contracts_of_pyproject_are_kept():
    pytest.importorskip("importlinter", reason="lint-imports comes with the test extra")
    # run on THIS checkout (cwd and PYTHONPATH), even when another gdviz is installed
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, env={**_env(), "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " kept, 0 broken." in proc.stdout, proc.stdout


@pytest.mark.parametrize("package", [gdviz.core, gdviz.export], ids=lambda p: p.__name__)
def test_importing_every_module_of_a_qt_free_layer_loads_no_qt(package):
    name = package.__name__
    modules = [m.name for m in pkgutil.walk_packages(package.__path__, f"{name}.")]
    assert len(modules) > 3, modules
    forbidden = FORBIDDEN[name]
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        # the problem registry imports its families by name: load them all
        "from gdviz.core.problems.registry import problem_names; problem_names()\n"
        f"bad = sorted(m for m in sys.modules "
        f"if any(m == f or m.startswith(f + '.') for f in {forbidden!r}))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env={**_env(), "PYTHONPATH": str(ROOT)})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "", f"{name} pulled in: {out.stdout}"


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
