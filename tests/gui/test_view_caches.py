"""What views keep between frames gives what they computed anew: the learning curve's epoch
boundaries found as the run grows."""

import time

import numpy as np
import pytest

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


def test_a_costly_grid_is_made_coarser_and_pauses_the_next_request(qtbot):
    """A network's loss grid (every held parameter moves on each Adam step) is computed at
    fewer points per side, and after each background grid the feed waits (1/DUTY - 1) times
    its computing time before asking for the next, so its thread takes at most DUTY of a
    core (mlp_spiral drew 1.2-8 frames a second while its 256² grids were recomputed)."""
    from gdviz.core import grids
    from gdviz.core.problems.registry import make_problem
    from gdviz.gui.grid_worker import GridBudget, GridFeed

    problem = make_problem("mlp", {"layers": "8,8", "n": 400})
    feed = GridFeed(256, budget=GridBudget())          # a clock of its own: a budget too
    now = [100.0]
    feed.clock = lambda: now[0]
    center = problem.default_init.copy()
    none = np.zeros((0, 2))
    feed.configure(problem, 0, 1, center, none)
    assert feed.busy                                   # too costly to compute at once
    assert feed.worker.wait(60000)
    grid = feed.grid
    side = grids.affordable_resolution(problem, 256)
    assert grid.spec.resolution == (side, side)
    assert side < 256
    pause = grid.seconds * (1 / GridFeed.DUTY - 1)
    moved = center + 1.0                               # every held value moved
    now[0] += GridFeed.THROTTLE_S + 0.001
    if pause > GridFeed.THROTTLE_S + 0.002:            # (the grid took > 80 ms: it does)
        feed.follow(moved, none)
        assert not feed.busy                           # held back by the pause
    now[0] += pause
    feed.follow(moved, none)
    assert feed.busy                                   # asked for once the pause is over
    assert feed.wanted.center[2] != grid.spec.center[2]
    feed.shutdown()


def test_the_maps_of_two_views_share_one_duty_of_a_core(qtbot):
    """Two feeds on one budget (the contour and the 3-D view's map): while one computes a
    costly grid the other does not start one, and after it neither asks before the pause
    (1/DUTY - 1 times its computing time) is over; then one does."""
    from gdviz.core import grids
    from gdviz.core.problems.registry import make_problem
    from gdviz.gui.grid_worker import GridBudget, GridFeed

    problem = make_problem("mlp", {"layers": "8,8", "n": 400})
    budget = GridBudget()
    now = [100.0]
    feeds = [GridFeed(256, cache=grids.GridCache(4), budget=budget) for _ in range(2)]
    for feed in feeds:
        feed.clock = lambda: now[0]
    center, none = problem.default_init.copy(), np.zeros((0, 2))
    feeds[1].configure(problem, 0, 1, center, none)    # a new run asks at once (both views)
    feeds[1].worker.cancel()
    feeds[0].configure(problem, 0, 1, center, none)
    assert feeds[0].busy
    now[0] += GridFeed.THROTTLE_S + 0.001
    feeds[1].follow(center + 1.0, none)                # another grid wanted meanwhile
    assert not feeds[1].busy                           # waits for the other feed's grid
    assert feeds[0].worker.wait(60000)
    pause = feeds[0].grid.seconds * (1 / GridFeed.DUTY - 1)
    assert budget.pause_until == pytest.approx(now[0] + pause)
    now[0] += GridFeed.THROTTLE_S + 0.001
    if pause > GridFeed.THROTTLE_S + 0.002:
        feeds[1].follow(center + 1.0, none)
        assert not feeds[1].busy                       # the shared pause holds it back
    now[0] += pause
    feeds[1].follow(center + 1.0, none)
    assert feeds[1].busy
    for feed in feeds:
        feed.shutdown()


def test_every_samples_gradient_at_a_step_is_computed_once_for_the_contour_and_histogram(qtbot):
    """The contour's fan, full step and batch cloud and the gradient histogram all want every
    sample's gradient at the step's point (gui.views.at_point): one backward pass over all
    samples per step, not one per view, and the same values as computing it directly."""
    from gdviz.gui.views.base import RunTrack
    from gdviz.gui.views.contour import ContourView
    from gdviz.gui.views.histogram import HistogramView

    config = get_preset("mlp_spiral").config.with_changes(max_steps=12)
    problem = config.make_problem()
    history = RunHistory(problem.n_params)
    history.append(list(iterate(config)))
    full_batch_calls = []
    original = problem.sample_grads

    def counting(at, idx=None):
        if idx is None:
            full_batch_calls.append(np.array(at))
        return original(at, idx)

    problem.sample_grads = counting
    views = [ContourView(), HistogramView()]
    for view in views:
        qtbot.addWidget(view)
        view.resize(600, 450)
        view.set_run(problem, config, history)
        view.set_tracks((RunTrack(RunSpec("run", "#1f77b4", config), history),), 0)
    for step in (5, 9):
        for view in views:
            view.show_step(step)
        points = [at for at in full_batch_calls if np.array_equal(at, history.params_before(step))]
        assert len(points) == 1
    expected = original(np.asarray(history.params_before(9)))
    np.testing.assert_array_equal(views[1].values, expected[:, views[1].chosen()[1]].ravel())



def test_no_plot_keeps_a_position_index_of_its_items(make_window):
    """Every view's plot scene is unindexed (``caching.unindexed``): its curves move on every
    frame, so a BSP index was re-filed each frame. Lookups by position still find items."""
    import pyqtgraph as pg
    from PySide6.QtWidgets import QGraphicsScene

    window = make_window("mlp_spiral")
    plots = [plot for view in window.controller.views
             for plot in view.findChildren(pg.GraphicsView)]
    assert len(plots) >= 10
    assert {plot.scene().itemIndexMethod() for plot in plots} == {
        QGraphicsScene.ItemIndexMethod.NoIndex}
    plot = plots[0]
    centre = plot.getPlotItem().vb.sceneBoundingRect().center()
    assert plot.getPlotItem().vb in plot.scene().items(centre)
