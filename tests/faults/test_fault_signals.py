"""Interruptions: SIGINT, SIGTERM and SIGHUP end ``run`` and ``export`` promptly with status
128 + the signal, one line, no crash and nothing left behind; a temporary left by a SIGKILL
is removed by the next export into that folder.

Ctrl+C during an export used to crash 1 time in 3 (a KeyboardInterrupt raised inside a
widget's render): each signal is sent 10 times, at random moments while frames are drawn."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.faults.helpers import assert_one_line, gdviz_env, listing

SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]
TRIES = 10


def _start(args, cwd):
    return subprocess.Popen([sys.executable, "-m", "gdviz", *args], cwd=cwd,
                            env=gdviz_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_for_temporary(folder, proc, timeout=60.0) -> bool:
    """True once a hidden temporary appears in ``folder`` (the export is drawing frames)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        if any(name.startswith(".") for name in os.listdir(folder)):
            return True
        time.sleep(0.01)
    return False


def _assert_interrupted(proc, signum, folder, keep=()):
    try:
        _, err = proc.communicate(timeout=30)  # promptly: within a frame or a chunk of steps
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"still running 30 s after {signal.Signals(signum).name}")
    assert proc.returncode == 128 + signum, err  # a crash would be negative (-11: SIGSEGV)
    line = assert_one_line(err)
    assert f"interrupted ({signal.Signals(signum).name})" in line
    assert listing(folder) == sorted(keep)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_interrupting_an_export_while_it_draws(tmp_path, signum):
    rng = random.Random(signum)
    views = ["window", "samples", "contour"]
    for i in range(TRIES):
        view = views[i % len(views)]
        proc = _start(["export", "--preset", "wavy", "--view", view, "--frames", "100",
                       "--size", "800x600", "--out", "a.gif"], tmp_path)
        drawing = _wait_for_temporary(tmp_path, proc)
        assert drawing, "the export ended before it could be interrupted"
        time.sleep(rng.uniform(0, 0.4))
        proc.send_signal(signum)
        _assert_interrupted(proc, signum, tmp_path)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_interrupting_an_export_of_png_frames(tmp_path, signum):
    proc = _start(["export", "--preset", "wavy", "--frames", "100", "--size", "320x240",
                   "--png-dir", "frames"], tmp_path)
    assert _wait_for_temporary(tmp_path, proc)
    time.sleep(0.3)
    proc.send_signal(signum)
    _assert_interrupted(proc, signum, tmp_path)


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_interrupting_run(tmp_path, signum):
    rng = random.Random(signum)
    (tmp_path / "t.csv").write_text("old\n")
    for _ in range(TRIES):
        proc = _start(["run", "--problem", "booth", "--steps", "10000000", "--out", "t.csv"],
                      tmp_path)
        assert _wait_for_temporary(tmp_path, proc)
        time.sleep(rng.uniform(0, 0.5))
        proc.send_signal(signum)
        _assert_interrupted(proc, signum, tmp_path, keep=["t.csv"])
        assert (tmp_path / "t.csv").read_text() == "old\n"


def test_an_export_removes_what_a_killed_export_left(tmp_path):
    proc = _start(["export", "--preset", "wavy", "--frames", "100", "--size", "320x240",
                   "--out", "a.gif"], tmp_path)
    assert _wait_for_temporary(tmp_path, proc)
    proc.kill()  # SIGKILL: no chance to clean up
    proc.wait()
    left = listing(tmp_path)
    assert len(left) == 1
    assert left[0].endswith(".gif.part")
    done = subprocess.run([sys.executable, "-m", "gdviz", "export", "--preset", "wavy",
                           "--frames", "3", "--size", "64x48", "--out", "b.gif"],
                          cwd=tmp_path, env=gdviz_env(), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert f"removed 1 temporary file(s) left by an export that was killed: {left[0]}" \
        in done.stderr
    assert listing(tmp_path) == ["b.gif"]
