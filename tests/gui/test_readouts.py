"""The readouts (the status bar's numbers and the step math) follow a playing run ten times a
second and show a paused run's step at once."""

import time

from gdviz.gui.main_window import READOUT_PERIOD_MS
from tests.gui.test_main_window import fast


def test_readouts_follow_a_playing_run_ten_times_a_second_and_a_pause_at_once(
        qtbot, window, monkeypatch):
    """Rewriting the status bar's numbers and the step math (a text document) on every frame
    cost ~1 ms a frame that nobody can read at 30+ frames a second: while playing they follow
    at most every READOUT_PERIOD_MS, and the step shown when the run pauses at once."""
    fast(window, max_epochs=None, max_steps=1_000_000)
    window.toolbar.set_speed(None)
    c = window.controller
    writes, statuses, frames = [], [], []
    original = window.step_math.show_record
    monkeypatch.setattr(window.step_math, "show_record",
                        lambda record, *a: (writes.append(record.step), original(record, *a)))
    set_record = window.status.set_record
    monkeypatch.setattr(window.status, "set_record",
                        lambda record, *a: (statuses.append(record.step), set_record(record, *a)))
    c.sig_step_shown.connect(frames.append)
    window.toolbar.act_play.trigger()
    start = time.monotonic()
    qtbot.waitUntil(lambda: len(frames) >= 25 and time.monotonic() - start > 0.5,
                    timeout=20_000)
    window.toolbar.act_play.trigger()
    elapsed = time.monotonic() - start
    qtbot.wait(2 * READOUT_PERIOD_MS)
    at_most = 3 + elapsed / (READOUT_PERIOD_MS / 1000)   # one write per period
    assert len(writes) <= at_most
    if len(frames) > 2 * at_most:   # frames came faster than the period (not on a busy machine)
        assert len(writes) < len(frames)
    assert statuses == writes
    shown = c.record_shown(c.shown_index).step
    assert writes[-1] == shown
    assert f"step {shown}" in window.step_math.plain_text()
    assert f"step {shown}" in window.status.labels["step"].text()
