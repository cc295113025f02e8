"""A non-editable install (a built wheel) carries resources/ and finds its presets."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    pytest.importorskip("hatchling", reason="building the wheel needs hatchling (test extra)")
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--no-build-isolation", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    (path,) = out.glob("gdviz-*.whl")
    return path


def test_wheel_contains_resources_and_presets(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    assert "gdviz/resources/presets/wavy.json" in names
    assert "gdviz/core/runner.py" in names
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_finds_its_presets(wheel, tmp_path):
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    code = ("import gdviz, gdviz.core.presets as p, gdviz.core.resources as r;"
            "print(gdviz.__file__); print(r.resources_dir());"
            "print(','.join(x.name for x in p.list_presets()))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    module_file, resources, names = proc.stdout.strip().splitlines()
    assert module_file.startswith(str(site))
    assert resources.startswith(str(site))
    assert {"wavy", "linreg", "logistic", "slope", "bowl", "rosenbrock"} <= set(names.split(","))
