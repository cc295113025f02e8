"""Resources are found by one helper from a source checkout, a wheel and the frozen app
(ARCHITECTURE practice 11). The wheel itself is built in tests/packaging/test_wheel.py and the
frozen app checked by tests/packaging/test_frozen.py; here each place is laid out by hand."""

import sys
from pathlib import Path

import pytest

from gdviz.core import resources

ROOT = Path(__file__).resolve().parents[2]


def _bundle(folder: Path) -> Path:
    (folder / "presets").mkdir(parents=True)
    return folder


def test_a_source_checkout_finds_the_repository_resources(monkeypatch):
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    found = resources.resources_dir()
    assert found == ROOT / "resources"
    assert (found / "presets" / "wavy.json").is_file()
    assert resources.resource_path("presets", "wavy.json") == found / "presets" / "wavy.json"


def test_a_frozen_app_finds_the_bundled_resources_first(monkeypatch, tmp_path):
    bundled = _bundle(tmp_path / "resources")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources.resources_dir() == bundled


def test_an_installed_package_finds_the_resources_inside_it(monkeypatch, tmp_path):
    # a wheel maps resources/ to gdviz/resources, beside gdviz/core/ where the helper lives
    package = tmp_path / "gdviz"
    bundled = _bundle(package / "resources")
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    # private: where an installed gdviz sits (a real wheel: tests/packaging/test_wheel.py)
    monkeypatch.setattr(resources, "_PACKAGE_DIR", package)
    assert resources.resources_dir() == bundled


def test_missing_resources_say_where_they_were_looked_for(monkeypatch, tmp_path):
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    # private: an installed gdviz whose resources are gone (no public way to move gdviz)
    monkeypatch.setattr(resources, "_PACKAGE_DIR", tmp_path / "site" / "gdviz")
    with pytest.raises(FileNotFoundError, match="gdviz resources not found"):
        resources.resources_dir()
