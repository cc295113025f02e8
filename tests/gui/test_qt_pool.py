"""The window keeps Qt's drawing on the GUI thread (``gui.app.ensure_app`` sets
``QT_NO_GUI_THREADPOOL``): Qt 6 otherwise splits large fills across a pool of its own threads
and has the GUI thread wait for them, which on a machine whose other cores run the step server
cost the window a tenth of its redraws (benchmarks/bench_gui.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from gdviz.gui.app import NO_QT_POOL

PAINT_AND_COUNT = """
import os, sys
{make_app}
from PySide6.QtGui import QColor, QImage, QPainter
image = QImage(1000, 1000, QImage.Format.Format_ARGB32_Premultiplied)
painter = QPainter(image)
painter.fillRect(0, 0, 1000, 1000, QColor(10, 20, 30, 128))   # 1000 spans: a parallel fill
painter.end()
names = []
for tid in os.listdir("/proc/self/task"):
    with open(f"/proc/self/task/{{tid}}/comm") as f:
        names.append(f.read().strip())
print(sum(name.startswith("Thread (pooled)") for name in names))
"""
WITH_GDVIZ = "from gdviz.gui.app import ensure_app\napp = ensure_app()"
PLAIN_QT = ("from PySide6.QtWidgets import QApplication\napp = QApplication(sys.argv[:1])")


def pooled_threads(make_app: str) -> int:
    env = {k: v for k, v in os.environ.items() if k != NO_QT_POOL}
    env["QT_QPA_PLATFORM"] = "offscreen"
    result = subprocess.run([sys.executable, "-c", PAINT_AND_COUNT.format(make_app=make_app)],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/task")
def test_the_window_paints_without_qt_pool_threads():
    plain = pooled_threads(PLAIN_QT)
    if plain == 0:
        pytest.skip("this Qt fills on the calling thread anyway (one core, or no pool)")
    assert pooled_threads(WITH_GDVIZ) == 0
