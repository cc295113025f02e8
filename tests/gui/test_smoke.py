"""``gdviz --smoke``: the self-test the frozen executable runs in CI."""

import os
import subprocess
import sys

import numpy as np
import pytest

from gdviz.core.presets import list_presets

LESSONS = [p.name for p in list_presets() if p.group == "lesson"]


def _smoke(platform: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": platform}
    return subprocess.run([sys.executable, "-m", "gdviz", "--smoke"], capture_output=True,
                          text=True, timeout=120, env=env)


def _check_output(proc: subprocess.CompletedProcess) -> list[str]:
    assert proc.returncode == 0, proc.stderr
    assert "FAILED" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    for name in LESSONS:
        (line,) = [x for x in lines if x.startswith(f"{name}: ")]
        assert " views drawn" in line
    assert any(x.startswith("export: 10-frame GIF") for x in lines)
    assert lines[-1].startswith("smoke OK in ")
    return lines


def test_smoke_passes_offscreen_with_a_line_per_lesson():
    lines = _check_output(_smoke("offscreen"))
    assert "OpenGL not available" in lines[0]
    # the five classic lessons in order, the slope lesson's mini-batch run beside it, then the
    # wavy loss with 100 seeds (the smoke plays it with its seeds)
    assert LESSONS == ["wavy", "linreg", "logistic", "slope", "slope_minibatch", "bowl",
                       "noise_wavy"]


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X server (make test "
                    "runs under xvfb-run) for OpenGL; offscreen has none")
def test_smoke_passes_under_x_with_opengl():
    lines = _check_output(_smoke("xcb"))
    assert lines[0].startswith("platform xcb; OpenGL available")


def test_smoke_reports_a_broken_view_in_one_line(qapp, monkeypatch, capsys):
    from gdviz.gui import smoke
    from gdviz.gui.views import VIEW_CLASSES

    broken = VIEW_CLASSES[0]
    draw = broken.show_step

    def fail_after_the_start(self, index):  # the window opens; playing the lesson fails
        if index > 0:
            raise RuntimeError("drawing failed on purpose")
        draw(self, index)

    monkeypatch.setattr(broken, "show_step", fail_after_the_start)
    assert smoke.run_smoke(steps=5) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"gdviz --smoke: FAILED: {LESSONS[0]}: ")
    assert "drawing failed on purpose" in err[-1]


def test_image_ink_counts_pixels_off_the_background():
    from gdviz.gui.smoke import image_ink

    blank = np.full((10, 10), 0xFFFFFFFF, np.uint32)
    assert image_ink(blank) == 0.0
    blank[0, :5] = 0xFF000000
    assert image_ink(blank) == pytest.approx(0.05)
    assert image_ink(np.zeros((0, 0), np.uint32)) == 0.0


def test_errors_swallowed_while_drawing_fail_the_smoke():
    import warnings

    from gdviz.gui.smoke import DrawErrors, SmokeFailure

    text = ("\nTraceback (most recent call last):\n  File \"x.py\", line 1, in paint\n"
            "OpenGL.error.GLError: GLError(\n\terr = 1281,\n\tdescription = b'invalid value'\n)")
    with DrawErrors() as errors:
        errors.check("quiet")  # nothing yet
        warnings.warn(text, RuntimeWarning, stacklevel=1)  # how pyqtgraph's printExc reports
        with pytest.raises(SmokeFailure, match=r"export: 1 error\(s\) while drawing; the first: "
                           r"OpenGL.error.GLError: GLError\( err = 1281, description"):
            errors.check("export")
        sys.excepthook(ValueError, ValueError("in paintEvent"), None)  # PySide6's route
        with pytest.raises(SmokeFailure, match="ValueError: in paintEvent"):
            errors.check("wavy")
