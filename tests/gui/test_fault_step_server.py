"""A step server killed while a run plays at full speed: the run goes on from the step it
reached (once, in the worker thread, from the server's latest snapshot), with the same
numbers, and the window then closes cleanly (no thread left running, no abort). Run under
Xvfb by ``make test``."""

from __future__ import annotations

import multiprocessing
import re
import time

import numpy as np
import pytest

from gdviz.core import step_server
from gdviz.core.lockstep import iterate_lockstep
from gdviz.core.records import RunConfig

LONG_RUN = RunConfig(problem="rosenbrock", optimizer="sgd", lr=1e-5, init=(-1.5, 2.0),
                     max_steps=5_000_000)


@pytest.fixture(autouse=True)
def servers_on(monkeypatch):
    monkeypatch.setenv("GDVIZ_STEP_PROCESS", "1")


def _kill_step_servers() -> int:
    """SIGKILL every step server of this process (the playing run's among them)."""
    servers = [p for p in multiprocessing.active_children() if p.name == "gdviz-steps"]
    for process in servers:
        process.kill()
    for process in servers:
        process.join(5)
    return len(servers)


def _playing_window(make_window):
    window = make_window("wavy")
    controller = window.controller
    controller.set_config(LONG_RUN)
    controller.set_speed(None)  # max
    controller.play()
    return window, controller


def _close(window) -> float:
    from gdviz.gui import tasks

    started = time.perf_counter()
    window.close()
    closed_in = time.perf_counter() - started
    assert not tasks.running_threads(), "a thread outlived the window"
    return closed_in


@pytest.mark.parametrize("steps_before_kill", [50_000, 200])
def test_killing_the_step_server_at_full_speed_then_quitting(qtbot, make_window,
                                                             steps_before_kill):
    window, controller = _playing_window(make_window)
    qtbot.waitUntil(lambda: controller.last_index >= steps_before_kill, timeout=120_000)
    assert _kill_step_servers() >= 1
    reached = controller.last_index
    qtbot.waitUntil(lambda: "step server stopped" in window.status.currentMessage(),
                    timeout=30_000)  # the window says why no new step shows for a while
    # it went on from the server's latest snapshot: it recomputes only the groups the server
    # had sent after that (before: every group from step 0, 50 000+ here)
    notice = window.status.currentMessage()
    stopped_at = re.search(r"stopped at step (\d+)", notice)
    assert stopped_at is not None
    assert int(stopped_at.group(1)) >= reached
    recomputing = re.search(r"recomputing (\d+) step", notice)
    recomputed = int(recomputing.group(1)) if recomputing else 0
    assert recomputed < step_server.SNAPSHOT_GROUPS + step_server.CHUNK_GROUPS
    # the run goes on from there, still playing
    qtbot.waitUntil(lambda: controller.last_index >= reached + 3000, timeout=120_000)
    assert controller.state == "running"
    assert controller.is_playing()
    # the same numbers as an uninterrupted run, across the step where the server died
    history = controller.history
    n = min(controller.last_index + 1, len(history))
    groups = iterate_lockstep([LONG_RUN])
    expected = [next(groups)[0] for _ in range(n)]
    assert np.array_equal(history.steps[:n], np.arange(n))
    for column, field in (("params", "params"), ("grads", "grad"), ("losses", "loss"),
                          ("lrs", "lr")):
        assert np.array_equal(getattr(history, column)[:n],
                              np.array([getattr(r, field) for r in expected])), column
    _close(window)


def test_quitting_while_the_run_recomputes_after_its_server_died(qtbot, make_window):
    """After 8 s at full speed the server dies and the window closes 0.1 s later, while the
    worker thread resumes from the server's snapshot (and recomputes the groups after it);
    closing stops it (the first fallback replayed the whole run first: closing took 9-14 s
    and ended in SIGABRT)."""
    window, controller = _playing_window(make_window)
    qtbot.wait(8000)
    assert controller.last_index > 10_000
    assert _kill_step_servers() >= 1
    qtbot.wait(100)  # the worker has noticed and is recomputing
    _close(window)
