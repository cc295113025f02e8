"""``GDVIZ_STARTUP_PROBE=1 gdviz``: the start-up time probe opens the window, prints one line
and quits on its own (benchmarks/bench_gui.py --startup reads it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from gdviz.gui.app import STARTUP_PROBE, process_age


def test_process_age_is_seconds_since_start():
    age = process_age()
    if age is None:          # not Linux: the probe counts from gdviz.gui.app's import
        return
    assert 0.0 < age < 24 * 3600


def test_startup_probe_prints_the_time_and_quits(tmp_path):
    env = {**os.environ, STARTUP_PROBE: "1", "QT_QPA_PLATFORM": "offscreen",
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "gdviz"], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    match = re.search(r"gdviz start-up: window shown ([\d.]+) s, first frame painted "
                      r"([\d.]+) s after the (process start|import of gdviz.gui.app)",
                      result.stdout)
    assert match, result.stdout
    shown, painted = float(match[1]), float(match[2])
    assert 0 < shown <= painted < 60
    assert not list(tmp_path.rglob("*.conf"))   # the probe never writes the user's settings
    assert not list(tmp_path.rglob("*.ini"))
