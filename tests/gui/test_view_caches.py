"""What views keep between frames gives what they computed anew: the learning curve's epoch
boundaries found as the run grows."""

import time

import numpy as np

from gdviz.core.history import RunHistory
from gdviz.core.presets import get_preset
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import iterate
from gdviz.gui.views import LearningCurveView


def test_epoch_boundaries_found_as_the_run_grows_equal_a_full_scan(qtbot):
    config = get_preset("wavy").config.with_changes(batch_size=7, max_steps=400,
                                                    max_epochs=None, order="shuffle")
    records = list(iterate(config))
    history = RunHistory(config.make_problem().n_params)
    view = LearningCurveView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    history.append(records[:1])
    view.set_run(config.make_problem(), config, history)
    grown = 1
    for chunk in (1, 5, 40, 13, 200, 141):   # the history grows while the view is shown
        history.append(records[grown : grown + chunk])
        grown += chunk
        for index in (grown - 1, grown // 2, 0, grown - 1):   # the newest, and looking back
            view.show_step(index)
            epochs = history.epochs[: index + 1]
            first = np.flatnonzero((epochs[1:] != epochs[:-1]) & (epochs[1:] > 1)) + 1
            np.testing.assert_array_equal(view.epoch_marks, history.steps[first] - 0.5)
    assert len(view.epoch_marks) > 20
    other = RunHistory(config.make_problem().n_params)   # a new run starts the scan anew
    other.append(records[:30])
    view.set_run(config.make_problem(), config, other)
    view.show_step(29)
    epochs = other.epochs[:30]
    first = np.flatnonzero((epochs[1:] != epochs[:-1]) & (epochs[1:] > 1)) + 1
    np.testing.assert_array_equal(view.epoch_marks, other.steps[first] - 0.5)


def test_the_map_region_is_checked_at_most_every_throttle_period_and_at_the_end(qtbot):
    """While a run plays, the contour fits its region to every run's points at most every
    GridFeed.THROTTLE_S (fitting six runs' points each frame cost ~2 ms), and the last state
    always gets its region: wait_ready makes a held-back check first."""
    from gdviz.core.records import RunConfig
    from gdviz.gui.grid_worker import GridFeed
    from gdviz.gui.views.base import RunTrack
    from gdviz.gui.views.contour import ContourView

    config = RunConfig(problem="rosenbrock", optimizer="sgd", lr=0.0005, batch_size=1,
                       max_steps=600, init=(-2.6, 3.6))            # outside the base region
    records = list(iterate(config))
    history = RunHistory(2)
    history.append(records[:2])
    view = ContourView()
    qtbot.addWidget(view)
    view.resize(600, 450)
    view.show()
    view.set_run(config.make_problem(), config, history)
    view.set_tracks((RunTrack(RunSpec("sgd", "#1a3a8f", config), history),), 0)
    assert view.wait_ready(30000)
    checks = []
    fit = view._points          # private: counts the region fits, which only cost time
    view._points = lambda: checks.append(1) or fit()
    now = [time.monotonic()]
    view.feed.clock = lambda: now[0]            # the throttle's clock: 30 ms a frame
    grown = 2
    frames = 0
    while grown < len(records):                 # frames of a playing run, ~30 a second
        history.append(records[grown : grown + 20])
        grown += 20
        now[0] += 0.03
        view.show_step(len(history) - 1)
        frames += 1
    # one check per THROTTLE_S of the clock: 30 frames over 0.9 s, at most 3 checks
    assert 1 <= len(checks) <= frames * 0.03 / GridFeed.THROTTLE_S
    assert view.wait_ready(30000)
    points = history.params
    spec = view.feed.wanted
    for axis, (low, high) in enumerate((spec.x_range, spec.y_range)):
        assert low <= points[:, axis].min()
        assert high >= points[:, axis].max()
