"""The Landscape view: the loss over a plane (random, PCA or two parameters) computed in the
background, the runs' paths projected onto it, and what hovering a path point says."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest

from gdviz.core.history import RunHistory
from gdviz.core.landscape import project_path
from gdviz.core.presets import get_preset
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.gui.views import VIEW_CLASSES, LandscapeView, style
from gdviz.gui.views.base import RunTrack
from gdviz.gui.views.status_label import plain_text

COLORS = ("#1a3a8f", "#d62728")


def track_of(config: RunConfig, name: str = "run", color: str = COLORS[0]) -> RunTrack:
    history = RunHistory(config.make_problem().n_params)
    history.append(run_to_end(config))
    return RunTrack(RunSpec(name, color, config), history)


def landscape(qtbot, tracks: tuple[RunTrack, ...], plane: int | None = None,
              center: int | None = None) -> LandscapeView:
    view = LandscapeView()
    qtbot.addWidget(view)
    view.resize(760, 560)
    view.show()
    chosen = tracks[0]
    problem = chosen.config.make_problem()
    view.set_run(problem, chosen.config, chosen.history)
    view.set_tracks(tracks, 0)
    if plane is not None:
        view.plane_combo.setCurrentIndex(plane)
    if center is not None:
        view.center_combo.setCurrentIndex(center)
    assert view.wait_ready(30000), view.error
    view.show_step(view.newest_step())
    return view


def xor_config(**changes) -> RunConfig:
    return get_preset("mlp_xor").config.with_changes(max_steps=200, **changes)


def test_the_view_is_registered_behind_the_contour():
    from gdviz.gui.docks import TAB_WITH

    assert LandscapeView in VIEW_CLASSES
    assert TAB_WITH["landscape"] == "contour"


def test_random_plane_image_centre_and_paths_of_a_network(qtbot):
    track = track_of(xor_config())
    view = landscape(qtbot, (track,), center=2)   # random directions through the last point
    problem, h = view.problem, track.history
    land = view.computed.landscape
    assert view.image.image.shape == (51, 51)
    assert land.kind == "random"
    np.testing.assert_array_equal(land.center, h.params[-1])
    # the grid's middle is the centre: its value is the full loss there
    assert land.a[25] == pytest.approx(0.0, abs=1e-15)
    assert land.b[25] == pytest.approx(0.0, abs=1e-15)
    assert land.losses[25, 25] == pytest.approx(float(problem.loss(h.params[-1])), rel=1e-12)
    assert "biases zeroed" in view.frame.title.text()
    assert "loss at the centre " + style.fmt(float(problem.loss(h.params[-1]))) in \
        plain_text(view.frame.status)
    # the path: every recorded point, projected; it ends at the centre
    x, y = view.paths[0].xData, view.paths[0].yData
    assert len(x) == len(h)
    assert (x[-1], y[-1]) == pytest.approx((0.0, 0.0), abs=1e-9)
    # a point off the plane: its distance, true loss and the surface's loss, as core says
    seen = project_path(problem, land.center, land.direction_a, land.direction_b, h.params[:])
    assert (x[50], y[50]) == pytest.approx((seen.a[50], seen.b[50]), rel=1e-9, abs=1e-12)
    text = view.hover_at(x[50], y[50])
    assert text.splitlines() == [
        "step 50", f"distance from the plane {style.fmt(seen.distance[50])}",
        f"true loss {style.fmt(seen.loss[50])}",
        f"surface's loss here {style.fmt(seen.surface_loss[50])}"]
    assert seen.distance[50] > 1e-3
    assert view.hover_label.isVisible()
    # far from every path: nothing
    assert view.hover_at(land.a[0], land.b[0]) == ""
    assert not view.hover_label.isVisible()
    view.close()


def test_pca_plane_of_two_runs_shows_both_paths_and_their_explained_variance(qtbot):
    tracks = (track_of(xor_config(), "sgd", COLORS[0]),
              track_of(xor_config(optimizer="adam", lr=0.02, hyperparams={}), "adam", COLORS[1]))
    view = landscape(qtbot, tracks, plane=1)
    land = view.computed.landscape
    assert land.kind == "pca"
    assert land.explained.sum() <= 1.0
    share = land.explained * 100
    assert f"{share[0]:.1f} % and {share[1]:.1f} %" in view.frame.title.text()
    for k, track in enumerate(tracks):
        assert len(view.paths[k].xData) == len(track.history)
        assert view.paths[k].opts["pen"].color().name() == track.color
    # both runs' points are on the map
    for item in view.paths[:2]:
        assert land.a[0] < np.nanmin(item.xData)
        assert np.nanmax(item.xData) < land.a[-1]
        assert land.b[0] < np.nanmin(item.yData)
        assert np.nanmax(item.yData) < land.b[-1]
    text = view.hover_at(view.paths[1].xData[-1], view.paths[1].yData[-1])
    assert text.startswith(f"adam · step {len(tracks[1].history) - 1}")
    view.close()


def test_a_two_parameter_problem_s_parameter_plane_is_the_contour_s(qtbot):
    config = RunConfig(problem="rosenbrock", optimizer="adam", lr=0.05, max_steps=150,
                       init=(-1.5, 2.0))
    track = track_of(config)
    view = landscape(qtbot, (track,))
    assert view.plane_combo.currentIndex() == 2          # two parameters by default
    h, problem = track.history, view.problem
    np.testing.assert_allclose(view.paths[0].xData, h.params[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(view.paths[0].yData, h.params[:, 1], rtol=0, atol=1e-12)
    land, c = view.computed.landscape, view.computed
    assert land.losses[3, 7] == pytest.approx(
        float(problem.loss(np.array([land.a[7] + c.offset[0], land.b[3] + c.offset[1]]))),
        rel=1e-12)
    # every point lies in the plane: distance 0, true loss = the surface's loss
    for k in (0, 40, len(h) - 1):
        lines = view.hover_at(h.params[k, 0], h.params[k, 1]).splitlines()
        assert lines[1] == "distance from the plane 0"
        assert lines[2].split()[-1] == lines[3].split()[-1]
    view.close()


def test_one_parameter_says_why_and_computes_nothing(qtbot):
    config = get_preset("wavy").config.with_changes(max_steps=20)
    track = track_of(config)
    view = LandscapeView()
    qtbot.addWidget(view)
    view.show()
    view.set_run(config.make_problem(), config, track.history)
    view.set_tracks((track,), 0)
    view.show_step(5)
    assert view.message.isVisible()
    assert not view.plot.isVisible()
    assert view.runner.computations == 0
    view.close()


def test_computed_when_the_runs_change_or_asked_never_on_a_step(qtbot):
    first = track_of(xor_config())
    view = landscape(qtbot, (first,))
    asked = view.runner.computations
    for k in range(0, len(first.history), 20):
        view.show_step(k)
    assert view.runner.computations == asked
    second = track_of(xor_config(lr=0.5), "fast", COLORS[1])
    view.set_tracks((first, second), 0)                    # the run set changed
    assert view.runner.computations == asked + 1
    assert view.wait_ready(30000)
    view.recompute()                                       # the button
    assert view.runner.computations == asked + 2
    view.close()


def test_progress_is_reported_and_cancel_stops_the_work(qtbot):
    config = get_preset("mlp_spiral").config.with_changes(max_steps=100)
    track = track_of(config)
    view = landscape(qtbot, (track,))
    fractions = []
    view.runner.sig_partial.connect(lambda _key, value: fractions.append(value))
    view.recompute_button.click()
    assert view.cancel_button.isVisible()
    qtbot.waitUntil(lambda: not view.runner.busy, timeout=30000)
    assert fractions
    assert fractions == sorted(fractions)
    assert fractions[-1] == 1.0
    assert not view.cancel_button.isVisible()
    before = view.computed
    view.recompute_button.click()
    view.cancel_button.click()
    assert not view.runner.busy
    assert "cancelled" in plain_text(view.frame.status)
    assert view.computed is before                         # the last landscape stays
    view.close()


def test_a_path_that_leaves_the_map_grows_it_on_the_same_plane(qtbot):
    config = get_preset("mlp_xor").config.with_changes(optimizer="adam", lr=0.01,
                                                       hyperparams={}, max_steps=1000)
    records = run_to_end(config)
    history = RunHistory(config.make_problem().n_params)
    history.append(records[:1])                   # the run has just started
    track = RunTrack(RunSpec("adam", COLORS[0], config), history)
    view = landscape(qtbot, (track,))             # random plane through the start
    first = view.computed.landscape
    assert (first.a[0], first.a[-1]) == (-1.0, 1.0)
    asked = view.runner.computations
    history.append(records[1:50])
    view.show_step(len(history) - 1)              # still on the map: nothing asked
    assert view.runner.computations == asked
    history.append(records[50:])
    view.show_step(len(history) - 1)              # Adam leaves [-1, 1]²: the map grows
    assert view.runner.computations == asked + 1
    assert view.wait_ready(30000)
    view.show_step(len(history) - 1)
    grown = view.computed.landscape
    np.testing.assert_array_equal(grown.direction_a, first.direction_a)
    np.testing.assert_array_equal(grown.direction_b, first.direction_b)
    np.testing.assert_array_equal(grown.center, first.center)
    x, y = view.paths[0].xData, view.paths[0].yData
    assert grown.a[0] < np.min(x)
    assert np.max(x) < grown.a[-1]
    assert grown.b[0] < np.min(y)
    assert np.max(y) < grown.b[-1]
    assert view.runner.computations == asked + 1  # held now: asked once
    view.close()


def test_gdviz_export_renders_the_landscape_view(qapp, tmp_path, capsys):
    from PIL import Image

    from gdviz.cli.main import main

    code = main(["export", "--preset", "mlp_xor", "--steps", "300", "--view", "landscape",
                 "--frames", "3", "--size", "480x360", "--png-dir", str(tmp_path)])
    assert code == 0, capsys.readouterr().err
    frames = sorted(tmp_path.iterdir())
    assert [p.name for p in frames] == ["frame_0000.png", "frame_0001.png", "frame_0002.png"]
    pixels = [np.asarray(Image.open(p).convert("RGB"), dtype=np.int16) for p in frames]
    assert pixels[0].shape == (360, 480, 3)
    assert len(np.unique(pixels[-1].reshape(-1, 3), axis=0)) > 200   # a colour map, not blank
    assert np.abs(pixels[-1] - pixels[0]).sum() > 0                  # the paths grew


def test_a_diverged_run_is_drawn_where_it_can_be_and_a_pca_of_it_refused_in_words(qtbot):
    config = get_preset("monkey-saddle").config.with_changes(max_steps=200)
    track = track_of(config)
    assert np.abs(track.history.params[-1]).max() > 1e100        # it diverged
    view = landscape(qtbot, (track,))                            # two parameters: drawn
    land = view.computed.landscape
    assert not view.error
    assert np.all(np.isfinite(land.losses))
    assert land.a[-1] - land.a[0] < 100                          # the map, not 1e179
    x = view.paths[0].xData
    assert x[0] == track.history.params[0, 0]
    asked = view.runner.computations
    for k in range(len(track.history) - 20, len(track.history)):
        view.show_step(k)                                        # no map chases it
    assert view.runner.computations == asked
    view.plane_combo.setCurrentIndex(1)
    assert view.wait_ready(30000)
    view.show_step(len(track.history) - 1)
    assert "values too large" in plain_text(view.frame.status)
    view.close()


def test_a_new_problem_clears_the_last_problem_s_map(qtbot):
    view = landscape(qtbot, (track_of(xor_config()),))
    assert view.image.image is not None
    assert view.wait_ready(30000)
    asked = view.runner.computations
    config = RunConfig(problem="rosenbrock", optimizer="adam", lr=0.05, max_steps=50)
    track = track_of(config)
    view.hide()                               # behind another tab: nothing computed yet
    view.set_run(config.make_problem(), config, track.history)
    view.set_tracks((track,), 0)
    assert view.computed is None
    assert view.image.image is None
    assert view.runner.computations == asked  # asked for when shown
    view.show()
    assert view.runner.computations == asked + 1
    assert view.wait_ready(30000)
    assert view.computed.request.problem is view.problem
    view.close()
