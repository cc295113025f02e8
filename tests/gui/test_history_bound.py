"""The window's history is bounded: beyond its bound it keeps every k-th step and the newest;
the views, the timeline, the status bar and the step math follow the thinned history."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt

from gdviz.core.runner import run_to_end

BOUND = 40


def _shown_statuses(window) -> dict[str, str]:
    """The status line of every view that names the step it shows."""
    out = {}
    for view in window.views:
        frame = getattr(view, "frame", None)
        status = getattr(frame, "status", None)
        if status is not None and window.controller.view_filter(view):
            out[view.view_id] = status.text()
    return out


def test_a_run_past_the_bound_keeps_a_bounded_history_the_window_follows(qtbot, make_window,
                                                                          tmp_path):
    window = make_window("compare_linreg_lr")   # 300 steps; lr 5 diverges at step 8
    c = window.controller
    c.history_bound = BOUND
    c.reset()
    window.toolbar.set_speed(None)
    c.step(300)
    qtbot.waitUntil(lambda: c.state != "running", timeout=60_000)
    last = c.last_index
    assert last == 300 > 4 * BOUND

    # memory: at most 2 * bound + 1 rows per run, the optimizer states the same rows
    for history, states in zip(c.histories, c.states):
        assert len(history) <= 2 * BOUND + 1
        assert np.array_equal(states.kept_steps(), history.steps)
    longest = c.histories[0]
    assert longest.last_step == last
    assert longest.thinning.stride == 8
    assert len(c.histories[1]) < BOUND   # the diverged run ended below the bound: all kept

    # the newest step is shown everywhere, and the window says the history is thinned
    assert c.shown_index == last
    assert window.timeline.slider.value() == last
    assert window.timeline.label.text() == f"step {last} of {last} · thinned"
    note = f"every 8th step kept beyond step {BOUND}"
    assert note in window.timeline.slider.toolTip()
    assert f"step {last}" in window.status.labels["step"].text()
    statuses = _shown_statuses(window)
    assert any(f"step {last}" in text for text in statuses.values()), statuses

    # scrubbing to a step that was not kept shows the nearest kept one, exactly as it was
    window.timeline.slider.setValue(203)    # kept: ... 192, 200, 208 ...
    qtbot.waitUntil(lambda: c.shown_index == 200, timeout=5000)
    qtbot.waitUntil(lambda: window.timeline.slider.value() == 200, timeout=5000)
    assert "step 200" in window.status.labels["step"].text()
    assert "step 200" in window.step_math.plain_text()
    record = c.record_shown(c.shown_index)
    expected = run_to_end(c.runs[c.selected_track].config)[200]
    assert record.step == 200
    np.testing.assert_array_equal(record.params, expected.params)
    np.testing.assert_array_equal(record.params_before, expected.params_before)
    np.testing.assert_array_equal(record.batch, expected.batch)
    for key, value in expected.state.items():
        np.testing.assert_array_equal(record.state[key], value)
    statuses = _shown_statuses(window)
    assert any("step 200" in text for text in statuses.values()), statuses
    assert window.timeline.label.text() == f"step 200 of {last} · looking back · thinned"
    assert not any(f"step {last}" in text for text in statuses.values()), statuses

    # the learning curve draws the kept steps up to the shown one
    curve = window.views[[v.view_id for v in window.views].index("learning_curve")]
    x, _ = curve.full_curves[c.selected_track].getData()
    assert x[-1] == 200
    assert set(x.astype(int)) <= set(longest.steps.tolist())

    # one step on from a kept step (the keys →/←) reaches the next kept step each way
    window.timeline.slider.setFocus()
    qtbot.keyClick(window.timeline.slider, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: c.shown_index == 208, timeout=5000)
    qtbot.keyClick(window.timeline.slider, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: c.shown_index == 200, timeout=5000)
    qtbot.keyClick(window.timeline.slider, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: c.shown_index == 192, timeout=5000)
    assert window.timeline.slider.value() == 192

    # the window's exports: the trace holds the kept steps, exactly; the session the step
    # shown (replayed exactly when opened)
    from gdviz.export.session import load_session
    from gdviz.gui.export_actions import export_traces
    from gdviz.gui.session_window import save_session_file

    trace = export_traces(window, tmp_path / "t.csv")[0]
    rows = np.loadtxt(trace, delimiter=",", skiprows=1)
    full = run_to_end(c.runs[0].config)
    np.testing.assert_array_equal(rows[:, 0], longest.steps)
    names = trace.read_text().splitlines()[0].split(",")
    loss = names.index("loss")
    np.testing.assert_allclose(rows[:, loss], [full[s].loss for s in longest.steps.tolist()],
                               rtol=1e-15)
    assert load_session(save_session_file(window, tmp_path / "s.gdviz.json")).step == 192

    # a step below the bound is every step, as before
    window.timeline.slider.setValue(17)
    qtbot.waitUntil(lambda: c.shown_index == 17, timeout=5000)
    assert "step 17" in window.status.labels["step"].text()
