"""Screenshots: ``main_gui(screenshot=...)`` and ``gdviz --screenshot`` write a real picture."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtGui import QImage

from gdviz.gui.app import main_gui


def pixels(path: Path) -> np.ndarray:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    assert not image.isNull(), f"{path} is not an image"
    rows = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)
    return rows[:, : image.width()].copy()  # the buffer dies with the QImage


def assert_not_blank(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pix = pixels(path)
    assert pix.shape == (800, 1280)
    colours, counts = np.unique(pix, return_counts=True)
    assert len(colours) > 200, f"only {len(colours)} colours"
    assert counts.max() / pix.size < 0.8  # not one colour with a few specks


def test_main_gui_screenshot_after_20_steps(qtbot, tmp_path, isolated_settings):
    out = tmp_path / "w.png"
    assert main_gui(screenshot=out, steps=20) == 0
    assert_not_blank(out)
    assert not isolated_settings.exists()  # screenshots never touch the user's settings


def test_screenshot_of_another_preset(qtbot, tmp_path):
    out = tmp_path / "sub" / "linreg.png"
    assert main_gui(preset="linreg", screenshot=out, steps=5) == 0
    assert_not_blank(out)


def test_unknown_preset_is_one_line_and_status_2(qtbot, tmp_path, capsys):
    assert main_gui(preset="nope", screenshot=tmp_path / "x.png") == 2
    err = capsys.readouterr().err
    assert err.startswith("gdviz: error: unknown preset 'nope'")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert not (tmp_path / "x.png").exists()


def test_unwritable_screenshot_is_one_line_and_status_2(qtbot, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main_gui(screenshot=blocker / "x.png") == 2
    err = capsys.readouterr().err
    assert err.startswith("gdviz: error:")
    assert "Traceback" not in err


def test_negative_steps_is_refused(qtbot, tmp_path, capsys):
    assert main_gui(screenshot=tmp_path / "x.png", steps=-1) == 2
    assert "steps must be at least 0" in capsys.readouterr().err


def test_cli_screenshot_subprocess(tmp_path):
    pytest.importorskip("gdviz.cli")
    out = tmp_path / "cli.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", GDVIZ_SETTINGS=str(tmp_path / "s.ini"))
    result = subprocess.run(
        [sys.executable, "-m", "gdviz", "--screenshot", str(out), "--preset", "wavy",
         "--steps", "10"],
        capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert_not_blank(out)


def test_no_display_is_one_line_not_a_qt_abort(monkeypatch, capsys):
    if not sys.platform.startswith("linux"):
        pytest.skip("display detection is for Linux (X11/Wayland)")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    assert main_gui() == 2
    assert "no display found" in capsys.readouterr().err
