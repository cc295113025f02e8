"""The contour view: trajectories of every run, the current point, the gradient fan, the
click-to-start signal, the grid values, background computation and the grid cache."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt, QTimer

from gdviz.core.history import RunHistory, decimate
from gdviz.core.noise import batch_covariance
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.core.surfaces import evenly_chosen
from gdviz.gui.grid_worker import running_grid_threads
from gdviz.gui.views import style
from gdviz.gui.views.base import RunTrack
from gdviz.gui.views.contour import BATCH_CLOUD, FAN_CAP, MAX_POINTS, ContourView
from gdviz.gui.views.pair_view import sample_path

COLORS = ("#1a3a8f", "#d62728", "#2ca02c")


def history_of(config: RunConfig) -> RunHistory:
    history = RunHistory(config.make_problem().n_params)
    history.append(run_to_end(config))
    return history


def rosenbrock_tracks(steps: int = 300) -> tuple[RunTrack, ...]:
    base = RunConfig(problem="rosenbrock", optimizer="sgd", lr=0.001, batch_size=1,
                     max_steps=steps, init=(-1.5, 2.0))
    configs = [("sgd", base), ("momentum", base.with_changes(hyperparams={"momentum": 0.9})),
               ("adam", base.with_changes(optimizer="adam", lr=0.05, hyperparams={},
                                          max_steps=steps // 2))]
    return tuple(RunTrack(RunSpec(name, COLORS[k], c), history_of(c))
                 for k, (name, c) in enumerate(configs))


def show(qtbot, tracks: tuple[RunTrack, ...], selected: int = 0) -> ContourView:
    view = ContourView()
    qtbot.addWidget(view)
    view.resize(700, 520)
    view.show()
    chosen = tracks[selected]
    view.set_run(chosen.config.make_problem(), chosen.config, chosen.history)
    view.set_tracks(tracks, selected)
    assert view.wait_ready(30000)   # as an export waits: on the work, not the event loop
    return view


def linreg_track(**changes) -> RunTrack:
    config = RunConfig(problem="linreg", optimizer="sgd", lr=0.2, batch_size=10,
                       max_steps=40, seed=0).with_changes(**changes)
    return RunTrack(RunSpec("linreg", COLORS[0], config), history_of(config))


def test_trajectories_and_current_points_equal_the_records(qtbot):
    tracks = rosenbrock_tracks()
    view = show(qtbot, tracks)
    for index in (0, 7, 120, 299):
        view.show_step(index)
        xs, ys = view.current.getData()
        for k, track in enumerate(tracks):
            h = track.history
            last = min(index, len(h) - 1)
            keep = decimate(h.steps[: last + 1], MAX_POINTS)
            item = view.tracks_items[k]
            assert np.array_equal(item.xData, h.params[: last + 1][keep][:, 0])
            assert np.array_equal(item.yData, h.params[: last + 1][keep][:, 1])
            assert (xs[k], ys[k]) == (h.params[last][0], h.params[last][1])


def test_long_trajectories_are_decimated_consistently(qtbot):
    track = rosenbrock_tracks(steps=9000)[0]
    view = show(qtbot, (track,))
    view.show_step(8500)
    keep = decimate(track.history.steps[:8501], MAX_POINTS)
    assert len(keep) <= MAX_POINTS + 1
    assert np.array_equal(view.tracks_items[0].xData, track.history.params[keep][:, 0])
    assert view.tracks_items[0].xData[-1] == track.history.params[8500][0]


@pytest.mark.parametrize("changes", [{}, {"problem": "bowl", "batch_size": 5}])
def test_fan_full_and_batch_steps(qtbot, changes):
    if changes:
        config = RunConfig(problem="bowl", optimizer="sgd", lr=0.01, batch_size=5,
                           max_steps=20, seed=1)
        track = RunTrack(RunSpec("bowl", COLORS[0], config), history_of(config))
    else:
        track = linreg_track()
    problem, h = track.config.make_problem(), track.history
    view = show(qtbot, (track,))
    for k in (1, 6, 17):
        view.show_step(k)
        before, lr = h.params_before(k), h.lrs[k]
        pick = evenly_chosen(problem.n_samples, FAN_CAP)
        expected = -lr * problem.sample_grads(before, pick)        # mean losses: factor 1
        fan_x = view.fan.xData.reshape(-1, 3)
        fan_y = view.fan.yData.reshape(-1, 3)
        assert len(fan_x) == min(problem.n_samples, FAN_CAP)
        assert np.allclose(fan_x[:, 0], before[0])
        assert np.allclose(fan_y[:, 0], before[1])
        assert np.allclose(fan_x[:, 1] - before[0], expected[:, 0])
        assert np.allclose(fan_y[:, 1] - before[1], expected[:, 1])
        assert np.all(np.isnan(fan_x[:, 2]))
        batch = view.batch_step.data()[0]
        assert np.allclose(batch[2:] - batch[:2], -lr * h.grads[k][:2])
        full = view.full_step.data()[0]
        assert np.allclose(full[2:] - full[:2], -lr * problem.grad(before)[:2])
        update = view.update_step.data()[0]
        assert np.allclose(update, [*before[:2], *h.params[k][:2]])
    # the batch step is the mean of the batch samples' own steps
    batch_steps = -lr * problem.sample_grads(before, h.batch_at(k))
    assert np.allclose(batch_steps.mean(axis=0), -lr * h.grads[k])


def test_batch_cloud_is_the_mini_batch_steps_distribution_and_tightens_with_the_batch(qtbot):
    """200 sampled batch steps at the current point: centred on the full step, spread as
    lr²·C_B (core.noise) predicts (200 samples: ~10 % standard error), drawn again the same."""
    spreads = {}
    for batch in (2, 50):
        track = linreg_track(batch_size=batch, lr=0.05)
        problem, h = track.config.make_problem(), track.history
        view = show(qtbot, (track,))
        view.show_step(12)
        x, y = view.batch_cloud.getData()
        assert len(x) == BATCH_CLOUD
        before, lr = h.params_before(12), h.lrs[12]
        full = before - lr * problem.grad(before)
        cov = np.cov(np.stack([x, y]))
        expected = lr**2 * batch_covariance(problem, before, batch, "shuffle")[:2, :2]
        assert np.trace(cov) == pytest.approx(np.trace(expected), rel=0.35)
        assert np.allclose([x.mean(), y.mean()], full[:2], atol=4 * np.sqrt(np.diag(cov)
                                                                            / BATCH_CLOUD))
        ex = view.batch_ellipses.xData
        assert np.isnan(ex).sum() == 1              # the 1σ and the 2σ ellipse
        spreads[batch] = np.nanmax(ex) - np.nanmin(ex)
        view.show_step(3)
        view.show_step(12)
        assert np.array_equal(view.batch_cloud.getData()[0], x)
        assert "other batches' steps" in view.frame.info.text()
    assert spreads[50] < spreads[2] / 3
    full_batch = linreg_track(batch_size=None)
    view = show(qtbot, (full_batch,))
    view.show_step(5)
    assert len(view.batch_cloud.getData()[0]) == 0
    assert "other batches" not in view.frame.info.text()


def test_fan_cap_and_sum_losses_scale_one_sample_steps(qtbot):
    config = RunConfig(problem="logistic", optimizer="sgd", lr=0.01, batch_size=None,
                       max_steps=5)
    track = RunTrack(RunSpec("gd", COLORS[0], config), history_of(config))
    problem = config.make_problem()
    view = show(qtbot, (track,))
    view.show_step(3)
    before = track.history.params_before(3)
    pick = evenly_chosen(problem.n_samples, FAN_CAP)
    expected = -0.01 * problem.n_samples * problem.sample_grads(before, pick)  # summed loss
    fan_x = view.fan.xData.reshape(-1, 3)
    assert len(fan_x) == FAN_CAP < problem.n_samples
    assert np.allclose(fan_x[:, 1] - before[0], expected[:, 0])
    assert f"{FAN_CAP} of {problem.n_samples} shown" in view.frame.info.text()


def test_clicking_the_map_emits_the_start_point(qtbot):
    track = linreg_track()
    view = show(qtbot, (track,))
    picked = []
    view.sig_start_picked.connect(picked.append)
    target = QPointF(1.5, -2.0)
    pos = view.plot.mapFromScene(view.box.mapViewToScene(target))
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    assert len(picked) == 1
    start = track.config.start_point()
    w1, w2, b = picked[0]
    (x0, x1), (y0, y1) = view.box.viewRange()
    pixel_x = (x1 - x0) / view.box.width()
    pixel_y = (y1 - y0) / view.box.height()
    assert w1 == pytest.approx(1.5, abs=2 * pixel_x)
    assert w2 == pytest.approx(-2.0, abs=2 * pixel_y)
    assert b == start[2]                      # the held parameter keeps its start value
    assert all(isinstance(v, float) for v in picked[0])


def test_the_chosen_pair_changes_axes_grid_and_payload(qtbot):
    track = linreg_track()
    view = show(qtbot, (track,))
    view.combos[1].setCurrentIndex(2)                          # y: b
    assert view.pair == (0, 2)
    assert view.wait_ready(30000)
    assert view.feed.grid.spec.j == 2
    assert view.plot.getAxis("left").labelText == "b"
    picked = []
    view.sig_start_picked.connect(picked.append)
    view.pick(0.25, 3.5)
    start = track.config.start_point()
    assert picked == [(0.25, start[1], 3.5)]
    view.combos[0].setCurrentIndex(2)                          # x: b too: y moves on
    assert view.pair[0] == 2
    assert view.pair[1] != 2


def test_grid_values_equal_the_loss(qtbot):
    track = linreg_track()
    view = show(qtbot, (track,))
    grid = view.feed.grid
    problem = track.config.make_problem()
    spec = grid.spec
    assert spec.resolution == (256, 256)
    held = spec.center[2]
    b_now = track.history.params[0][2]
    assert abs(held - b_now) <= 0.011 * np.ptp(problem.view_range[2])   # snapped to 2 %
    for r, c in ((0, 0), (100, 37), (255, 255), (12, 200)):
        point = np.array([grid.xs[c], grid.ys[r], held])
        assert grid.values[r, c] == pytest.approx(float(problem.loss(point)))
    assert np.allclose(view.image.image, grid.shown)
    lo, hi = problem.view_range[0]
    assert spec.x_range[0] <= lo
    assert spec.x_range[1] >= hi


def test_grid_is_computed_in_the_background_and_cached(qtbot):
    # logistic: its loss sums over the samples (linreg's is a closed form now, 35 ms a grid)
    track = linreg_track(problem="logistic", settings={"n": 2000}, lr=0.01)
    problem = track.config.make_problem()
    assert problem.n_samples == 1000
    view = ContourView()
    qtbot.addWidget(view)
    view.show()
    view.feed.cache.clear()                     # the cache is shared by every view
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(10)
    t0 = time.perf_counter()
    view.set_run(problem, track.config, track.history)
    assert time.perf_counter() - t0 < 0.25, "set_run must not compute the big grid itself"
    assert view.feed.busy
    assert view.note.isVisible()
    qtbot.waitUntil(lambda: not view.feed.busy, timeout=30000)
    elapsed = time.perf_counter() - t0
    timer.stop()
    assert len(ticks) >= min(5, elapsed / 0.05), f"{len(ticks)} ticks in {elapsed:.2f} s"
    assert view.feed.grid is not None
    assert not view.note.isVisible()
    computations = view.feed.worker.computations
    misses = view.feed.cache.misses
    view.set_run(problem, track.config, track.history)        # e.g. a reset: same grid
    assert not view.feed.busy
    assert view.feed.cache.hits >= 1
    assert view.feed.worker.computations == computations
    assert view.feed.cache.misses == misses


def test_held_value_moves_recompute_the_grid_throttled(qtbot):
    track = linreg_track(max_steps=200)
    view = show(qtbot, (track,))
    first = view.feed.grid.spec
    view.show_step(150)                                         # b moved from 0 to ~4.2
    qtbot.waitUntil(lambda: view.feed.grid.spec != first and not view.feed.busy,
                    timeout=30000)
    b_now = track.history.params[150][2]
    assert view.feed.grid.spec.center[2] == pytest.approx(b_now, abs=0.2)
    assert "held: b =" in view.frame.title.text()
    count = view.feed.worker.computations
    view.show_step(151)                                         # b barely moved: no new grid
    view.show_step(152)
    assert view.feed.worker.computations == count


def test_region_grows_to_hold_a_start_outside_the_view(qtbot):
    config = RunConfig(problem="himmelblau", optimizer="sgd", lr=0.001, batch_size=1,
                       max_steps=50, init=(-7.0, 6.5))
    view = show(qtbot, (RunTrack(RunSpec("run", COLORS[0], config), history_of(config)),))
    spec = view.feed.grid.spec
    assert spec.x_range[0] < -7.0
    assert spec.y_range[1] > 6.5
    (x0, _), (_, y1) = view.box.viewRange()
    assert x0 < -7.0
    assert y1 > 6.5


def test_runs_longer_than_the_selected_one_keep_drawing_to_the_lock_step_index(qtbot):
    tracks = rosenbrock_tracks()               # adam (selected here) ends after 150 steps
    view = show(qtbot, tracks, selected=2)
    view.show_step(300)
    for item, track in zip(view.tracks_items, tracks):
        k = min(300, len(track.history) - 1)
        assert item.xData[-1] == track.history.params[k][0]
        assert item.yData[-1] == track.history.params[k][1]
    ends = view.current.getData()
    assert list(ends[0]) == [float(t.history.params[min(300, len(t.history) - 1)][0])
                             for t in tracks]
    assert "step 150" in view.frame.status.text()   # the selected run's own numbers


def test_items_are_created_once(qtbot):
    view = show(qtbot, rosenbrock_tracks(steps=100))
    view.show_step(3)
    count = style.scene_item_count(view)
    for index in range(0, 120, 7):
        view.show_step(index)
    assert style.scene_item_count(view) == count


def test_one_parameter_with_data_maps_every_samples_loss_over_x_and_w(qtbot):
    config = RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1, max_steps=30,
                       order="sequential")
    track = RunTrack(RunSpec("wavy", COLORS[0], config), history_of(config))
    problem, h = config.make_problem(), track.history
    view = show(qtbot, (track,))
    assert view.mode == "samples"
    assert view.plot.isVisible()
    assert "One parameter" in view.frame.title.text()
    assert "−0.7586" in view.frame.title.text()
    assert view.image.image.shape == (100, 100)
    view.show_step(20)
    x, w = view.tracks_items[0].xData, view.tracks_items[0].yData
    assert len(x) == 20                                      # steps 1..20
    for step in (1, 7, 20):
        sample = int(h.batch_at(step)[0])
        assert x[step - 1] == problem.data_x[sample, 0]
        assert w[step - 1] == h.params_before(step)[0]
    assert view.w_now.value() == h.params[20][0]
    assert view.feed.grid is None
    assert not running_grid_threads()
    picked = []
    view.sig_start_picked.connect(picked.append)
    view.pick(1.0, -0.25)
    assert picked == [(-0.25,)]


def test_shuffled_samples_are_dots_added_as_the_run_grows_and_equal_a_fresh_drawing(qtbot):
    config = RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1, max_steps=9000,
                       max_epochs=None, order="shuffle")
    track = RunTrack(RunSpec("wavy", COLORS[0], config), history_of(config))
    problem, h = config.make_problem(), track.history
    view = show(qtbot, (track,))

    def drawn(v):
        x, y = v.tracks_dots[0].item.getData()
        return x.copy(), y.copy()

    for index in (50, 51, 700, 2500, 4100, 9000, 3000, 3001):   # grows, strides double, back
        view.show_step(index)
        assert not len(view.tracks_items[0].xData)  # no line through samples out of order
        fresh = show(qtbot, (track,))
        fresh.show_step(index)
        x, w = drawn(view)
        assert np.array_equal((x, w), drawn(fresh)), index
        stride = view.tracks_dots[0]._stride
        assert len(x) <= MAX_POINTS
        assert stride & (stride - 1) == 0
        steps = np.arange(1, index + 1)[::stride]  # dots at steps 1, 1+s, 1+2s, ...
        assert np.array_equal(w, h.params[steps - 1, 0])
        assert np.array_equal(x, problem.data_x[[int(h.batch_at(s)[0]) for s in steps], 0])


@pytest.mark.parametrize(("problem", "batch"), [("wavy", 1), ("wavy", 4), ("slope", 1),
                                           ("slope", 3)])
def test_sample_paths_are_each_steps_first_sample_at_w_before_the_step(problem, batch):
    config = RunConfig(problem=problem, batch_size=batch, order="shuffle", max_steps=300,
                       max_epochs=None, lr=0.001 if problem == "slope" else 0.01)
    problem_, history = config.make_problem(), history_of(config)
    x, w, loss = sample_path(problem_, history, 120)     # computed in two parts
    x, w, loss = sample_path(problem_, history, len(history) - 1)
    assert len(x) == len(history) - 1
    for step in (1, 2, 57, len(history) - 1):
        sample = int(history.batch_at(step)[0])
        before = history.params_before(step)
        assert x[step - 1] == problem_.data_x[sample, 0]
        assert w[step - 1] == before[0]
        assert loss[step - 1] == pytest.approx(problem_.sample_losses(before, [sample])[0],
                                               rel=1e-12)


def test_one_parameter_without_data_shows_a_message(qtbot):
    from gdviz.core.problems.base import Problem

    class Curve(Problem):
        param_names = ("w",)

        def _sample_losses(self, params, x, y):
            return (params[..., :1] - 1.0) ** 2

        def _sample_grads(self, params, x, y):
            return 2.0 * (params[..., None, :] - 1.0)

    config = RunConfig(problem="wavy", max_steps=3)
    history = history_of(config)
    view = ContourView()
    qtbot.addWidget(view)
    view.show()
    view.set_run(Curve(), config, history)
    view.show_step(2)
    assert view.message.isVisible()
    assert not view.plot.isVisible()


def computing_view(qtbot) -> tuple[ContourView, RunTrack]:
    """A shown contour view of linreg whose grid is still being computed (cache cleared)."""
    view = ContourView()
    qtbot.addWidget(view)
    view.show()
    view.feed.cache.clear()
    track = linreg_track()
    view.set_run(track.config.make_problem(), track.config, track.history)
    return view, track


def test_closing_during_a_computation_leaves_no_thread(qtbot):
    view, _track = computing_view(qtbot)
    assert view.feed.busy
    view.close()
    assert not running_grid_threads()


def test_a_grid_cancelled_while_hidden_is_computed_when_the_view_is_shown_again(qtbot):
    """Issue 13, defect 4: a hidden view stops its computation (its window may be closing),
    but Qt also hides and shows every widget of a window it re-creates (the first OpenGL
    widget shown in it, a dock floated or docked): shown again, the view must get its map
    instead of "computing the loss..." for ever."""
    view, track = computing_view(qtbot)
    view.set_tracks((track,), 0)
    assert view.feed.busy
    assert view.image.image is None
    view.hide()
    assert not running_grid_threads()        # hiding still stops the thread
    view.show()
    qtbot.waitUntil(lambda: view.image.image is not None, timeout=30000)
    assert not view.note.isVisible()
    assert view.feed.grid.spec == view.feed.wanted


def test_diverging_run_does_not_break_the_map(qtbot):
    track = linreg_track(lr=5.0, max_steps=200)
    assert track.history.status_at(len(track.history) - 1) == "diverged"
    view = show(qtbot, (track,))
    for index in range(len(track.history)):
        view.show_step(index)
    spec = view.feed.wanted
    assert np.all(np.isfinite([*spec.x_range, *spec.y_range]))
    assert spec.x_range[1] - spec.x_range[0] < 100


def test_a_networks_map_draws_the_fan_steps_and_cloud_of_its_two_parameters(qtbot):
    """On a network the map shows two of ~100 parameters: the fan, the full, batch and update
    steps, the path and the batch cloud are those two parameters' components."""
    config = RunConfig(problem="mlp", settings={"layers": "4", "dataset": "xor", "n": 120},
                       optimizer="sgd", lr=0.1, batch_size=8, max_steps=30, seed=1)
    track = RunTrack(RunSpec("mlp", COLORS[0], config), history_of(config))
    problem, h = config.make_problem(), track.history
    view = show(qtbot, (track,))
    view.combos[0].setCurrentIndex(5)
    view.combos[1].setCurrentIndex(9)
    assert view.pair == (5, 9)
    view.show_step(20)
    before, lr = h.params_before(20), h.lrs[20]
    pick = evenly_chosen(problem.n_samples, FAN_CAP)
    expected = -lr * problem.sample_grads(before, pick)[:, [5, 9]]
    fan_x, fan_y = view.fan.xData.reshape(-1, 3), view.fan.yData.reshape(-1, 3)
    assert np.allclose(fan_x[:, 1] - before[5], expected[:, 0])
    assert np.allclose(fan_y[:, 1] - before[9], expected[:, 1])
    full = view.full_step.data()[0]
    assert np.allclose(full[2:] - full[:2], -lr * problem.grad(before)[[5, 9]])
    assert np.allclose(view.update_step.data()[0], [*before[[5, 9]], *h.params[20][[5, 9]]])
    assert np.array_equal(view.tracks_items[0].xData[-1], h.params[20][5])
    assert np.array_equal(view.tracks_items[0].yData[-1], h.params[20][9])
    x, y = view.batch_cloud.getData()
    assert len(x) == BATCH_CLOUD
    cov = np.cov(np.stack([x, y]))
    predicted = lr**2 * batch_covariance(problem, before, 8, "shuffle")[np.ix_([5, 9], [5, 9])]
    assert np.trace(cov) == pytest.approx(np.trace(predicted), rel=0.35)
    centre = before[[5, 9]] - lr * problem.grad(before)[[5, 9]]
    assert np.allclose([x.mean(), y.mean()], centre, atol=4 * np.sqrt(np.diag(cov) / BATCH_CLOUD))
