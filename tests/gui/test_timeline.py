"""The timeline: scrubbing back shows every view exactly as it was, pauses the run, the status
bar and step math follow; Play continues from the newest step; keyboard; long runs."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import Qt

from gdviz.core.lockstep import iterate_lockstep
from gdviz.core.runner import iterate, run_to_end
from gdviz.core.step_blocks import StepBlock


def view_data(view) -> list:
    """What a view's pyqtgraph items show: every visible data array (curves, points, paths,
    arrows), line position and text, and the view's labels."""
    from gdviz.gui.views.base import LessonView

    isos = [getattr(v, "iso", None) for v in (view, *view.findChildren(LessonView))]
    out = []
    for plot in view.findChildren(pg.PlotWidget):
        for item in plot.getPlotItem().items:
            if not item.isVisible():  # a hidden item may keep any old data: it shows none
                out.append("hidden")
            elif any(item is iso for iso in isos):
                # the contour's iso-lines belong to its map region, which grows (and stays
                # grown) when a run leaves it: the region, not the step, decides them
                out.append("iso-lines")
            elif getattr(item, "rule_lines", None) is not None:
                # lines across the visible range (items.rule_lines.RuleLines): their positions count
                out.append(tuple(item.rule_lines.values))
            elif hasattr(item, "getData"):
                out.extend(None if a is None else np.asarray(a, float).copy()
                           for a in item.getData())
            elif isinstance(item, pg.InfiniteLine):
                out.append(float(item.value()))
            elif isinstance(item, pg.TextItem):
                out.append(item.toPlainText())
    out.extend(label.text() for label in view.findChildren(pg.QtWidgets.QLabel))
    return out


def same(a: list, b: list, tol: float = 0.0) -> list[int]:
    """Indices where the two captures differ by more than ``tol`` (empty: identical)."""
    if len(a) != len(b):
        return [-1]
    bad = []
    for i, (x, y) in enumerate(zip(a, b)):
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            ok = (isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
                  and x.shape == y.shape and np.array_equal(np.isnan(x), np.isnan(y))
                  and np.allclose(x, y, rtol=0.0, atol=tol, equal_nan=True))
        else:
            ok = x == y
        if not ok:
            bad.append(i)
    return bad


def shown_views(window) -> list:
    return [v for v in window.views if window.controller.view_filter(v)]


def capture(window) -> dict:
    out = {v.view_id: view_data(v) for v in shown_views(window)}
    labels = window.status.labels
    out["status"] = [labels[k].text() for k in ("step", "epoch", "lr", "loss", "grad")]
    out["math"] = window.step_math.plain_text()
    return out


def settle(window) -> None:
    """Views that compute their grids in the background (contour, 3-D) get them."""
    for view in shown_views(window):
        wait = getattr(view, "wait_ready", None)
        if wait is not None:
            assert wait(10_000), view.view_id


def assert_same(window, before: dict, after: dict, index: int) -> None:
    assert after.keys() == before.keys()
    for name, data in before.items():
        bad = same(data, after[name])
        diffs = [(data[i], after[name][i]) for i in bad]
        assert bad == [], f"{name} differs at step {index}: {diffs}"


@pytest.mark.parametrize("preset", ["compare_himmelblau", "compare_linreg_lr", "wavy"])
def test_scrubbing_back_reproduces_every_view_exactly(qtbot, make_window, preset):
    window = make_window(preset)
    c = window.controller
    window.toolbar.set_speed(None)
    c.step(25)  # k = 25, paused, every grid computed: the complete picture
    qtbot.waitUntil(lambda: c.state == "paused", timeout=10_000)
    settle(window)
    at_25 = capture(window)
    window.toolbar.set_speed(400.0)
    captured = {}

    def on_shown(index: int) -> None:
        # while playing: the views that draw at once (grids arrive later, by design)
        # (the status bar's numbers and the step math follow a playing run at most every
        # READOUT_PERIOD_MS: they are checked after the scrub)
        if not captured and index >= 40 and c.is_playing():
            captured["index"] = index
            data = capture(window)
            captured["data"] = {k: v for k, v in data.items()
                                if k not in ("math", "status") and not hasattr(
                                    getattr(window.docks.get(k), "widget", lambda: None)(),
                                    "wait_ready")}

    c.sig_step_shown.connect(on_shown)
    window.toolbar.act_play.trigger()
    # (views draw one per event-loop turn while playing: wait until the timeline has moved
    # past the captured step, so that moving the slider back to it is a change)
    qtbot.waitUntil(lambda: c.state != "running" or (
        c.last_index >= 120 and window.timeline.slider.value() > captured.get("index", 1e9)),
        timeout=20_000)
    c.sig_step_shown.disconnect(on_shown)
    k = captured["index"]
    assert len(captured["data"]) >= 3   # the shown views that draw at once
    window.timeline.slider.setValue(k)  # as a drag does
    qtbot.waitUntil(lambda: c.shown_index == k, timeout=2000)
    assert not c.is_playing()
    assert c.state in ("paused", "finished")
    now = capture(window)
    assert_same(window, captured["data"], {name: now[name] for name in captured["data"]}, k)
    assert f"step {k}" in window.status.labels["step"].text()
    assert f"step {k}" in window.step_math.plain_text()
    assert window.timeline.label.text().startswith(f"step {k} of {c.last_index}")
    assert "looking back" in window.timeline.label.text()
    window.timeline.slider.setValue(25)
    qtbot.waitUntil(lambda: c.shown_index == 25, timeout=2000)
    settle(window)
    assert_same(window, at_25, capture(window), 25)


def map_paths(view) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each run's path as the contour (or the 3-D view, or its offscreen map) draws it."""
    fallback = getattr(view, "fallback", None)
    if fallback is not None:
        view = fallback
    if hasattr(view, "tracks_items"):
        return [(np.asarray(item.xData), np.asarray(item.yData))
                for item in view.tracks_items[:len(view.tracks)]]
    return [(x, y) for x, y, _ in view.paths]


@pytest.mark.parametrize("preset", ["compare_himmelblau", "linreg"])
def test_scrubbing_back_while_playing_shows_the_map_paths_as_they_were(qtbot, make_window,
                                                                       preset):
    """Issue 13, defect 8: looking back must show the contour and 3-D paths (of every run)
    as they were at that step, as it shows the learning curve and the parameters."""
    window = make_window(preset)
    c = window.controller
    for vid in ("contour", "surface3d"):
        window.docks[vid].raise_()
    maps = [v for v in window.views if v.view_id in ("contour", "surface3d")]
    window.toolbar.set_speed(400.0)
    window.toolbar.act_play.trigger()
    qtbot.waitUntil(lambda: c.last_index >= 80 or c.state != "running", timeout=20_000)
    k = 20
    window.timeline.slider.setValue(k)
    qtbot.waitUntil(lambda: c.shown_index == k, timeout=2000)
    assert not c.is_playing()
    assert c.last_index > k
    i, j = maps[0].pair
    for view in maps:
        assert window.controller.view_filter(view), view.view_id   # what the driver draws
        paths = map_paths(view)
        assert len(paths) == len(c.histories)
        for (x, y), history in zip(paths, c.histories):
            kk = min(k, len(history) - 1)
            np.testing.assert_array_equal(x, history.params[: kk + 1, i])
            np.testing.assert_array_equal(y, history.params[: kk + 1, j])


def test_play_after_scrubbing_continues_from_the_end(qtbot, make_window):
    window = make_window("compare_slope_lr")
    c = window.controller
    window.toolbar.set_speed(None)
    c.step(200)
    qtbot.waitUntil(lambda: c.state == "paused", timeout=20_000)
    last = c.last_index
    assert last == 200
    window.timeline.slider.setValue(50)
    qtbot.waitUntil(lambda: c.shown_index == 50, timeout=2000)
    assert [len(h) for h in c.histories] == [201] * 3  # looking back changes nothing
    window.toolbar.act_play.trigger()
    assert c.shown_index == last  # jumped to the end at once
    assert window.timeline.slider.value() == last
    qtbot.waitUntil(lambda: c.state == "finished", timeout=30_000)
    for run, history in zip(c.runs, c.histories):
        expected = run_to_end(run.config)
        assert len(history) == len(expected)
        np.testing.assert_array_equal(history.params, np.stack([r.params for r in expected]))
    assert window.timeline.slider.maximum() == c.last_index == 450
    assert window.timeline.slider.value() == 450


def test_batches_arriving_while_looking_back_do_not_move_the_views(qtbot, make_window):
    window = make_window("wavy")
    c = window.controller
    c.step(30)
    qtbot.waitUntil(lambda: c.state == "paused", timeout=10_000)
    c.show_index(10)
    c.step(5)  # Step goes back to the newest step first, then steps
    assert c.shown_index == 30
    qtbot.waitUntil(lambda: c.last_index == 35 and c.state == "paused", timeout=10_000)
    assert c.shown_index == 35
    window.timeline.slider.setValue(3)
    qtbot.waitUntil(lambda: c.shown_index == 3, timeout=2000)
    grown, acknowledged = [], []
    c.sig_history_grew.connect(grown.append)
    # a batch already on its way when the user scrubbed, taken in as the worker's batches are
    groups = list(iterate_lockstep([run.config for run in c.runs], iterate))[36:40]
    c.append_block(StepBlock.from_groups(groups), then=lambda: acknowledged.append(True))
    assert c.last_index == 39
    assert c.shown_index == 3
    assert grown == [39]
    assert acknowledged == [True]  # not drawn, yet acknowledged: the worker may go on
    assert window.timeline.slider.maximum() == 39
    assert window.timeline.slider.value() == 3


def test_keyboard_on_the_timeline(qtbot, window):
    c = window.controller
    c.step(20)
    qtbot.waitUntil(lambda: c.state == "paused", timeout=10_000)
    window.activateWindow()
    slider = window.timeline.slider
    slider.setFocus()
    qtbot.waitUntil(slider.hasFocus, timeout=2000)
    qtbot.keyClick(slider, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: c.shown_index == 19, timeout=2000)
    qtbot.keyClick(slider, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: c.shown_index == 0, timeout=2000)
    qtbot.keyClick(slider, Qt.Key.Key_Right)  # the window's Right is Step: not here
    qtbot.waitUntil(lambda: c.shown_index == 1, timeout=2000)
    qtbot.keyClick(slider, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: c.shown_index == 20, timeout=2000)
    qtbot.wait(100)
    assert c.last_index == 20  # no step was taken
    assert "step 20" in window.status.text()


def test_the_slider_maps_to_history_indices_of_a_long_run(qtbot, window):
    """10^5 recorded steps (appended as the worker would): the slider spans them, scrubbing
    draws any of them, memory is the history's arrays only."""
    c = window.controller
    c.set_config(c.config.with_changes(max_epochs=None, max_steps=10**6))
    records = run_to_end(c.config.with_changes(max_steps=1000))[1:]
    history = c.history
    n = 100_000
    for start in range(1, n, 1000):  # the same 1000 steps again and again, renumbered
        history.append(replace(r, step=start + i) for i, r in enumerate(records))
    c.show_index(c.last_index)
    slider = window.timeline.slider
    assert slider.maximum() == c.last_index == len(history) - 1 == n
    assert slider.value() == n
    for k in (n // 3, 7, n - 1):
        slider.setValue(k)
        qtbot.waitUntil(lambda k=k: c.shown_index == k, timeout=5000)
        assert f"step {k}" in window.status.labels["step"].text()
    assert history.nbytes() < 200 * (n + 1)  # ~ (6 + 2p) * 8 bytes a step, p = 1


def test_step_math_of_an_earlier_step_shows_the_optimizer_state_it_had(qtbot, make_window):
    window = make_window("compare_himmelblau")
    c = window.controller
    window.toolbar.set_speed(None)
    c.step(30)
    qtbot.waitUntil(lambda: c.state == "paused", timeout=10_000)
    then = {}
    for k in (1, 2, 3, 4):  # momentum, Nesterov, RMSprop, Adam: each has a state
        window.runs_panel.select(k)
        then[k] = (window.step_math.plain_text(), window.status.text())
        assert "optimizer state after the step" in then[k][0]
    c.step(40)
    qtbot.waitUntil(lambda: c.state == "paused" and c.last_index == 70, timeout=10_000)
    window.timeline.slider.setValue(30)
    qtbot.waitUntil(lambda: c.shown_index == 30, timeout=2000)
    for k in (1, 2, 3, 4):
        window.runs_panel.select(k)
        assert c.shown_index == 30  # selecting a run keeps the step shown
        assert window.step_math.plain_text() == then[k][0]
        labels = window.status.labels
        assert all(labels[n].text() in then[k][1] for n in ("step", "lr", "loss", "grad"))
