"""The window's seeds: the Seeds control, the ghost paths, the end-point cloud, the learning
curve's band, the noise view, sessions and the command line."""

import numpy as np
import pytest

from gdviz.cli.main import main
from gdviz.core.noise import batch_covariance, per_sample_covariance
from gdviz.core.seed_paths import empirical_covariance
from gdviz.gui.session_window import open_session_file, save_session_file


def _view(window, view_id):
    return next(v for v in window.views if v.view_id == view_id)


def _paths_drawn(item) -> int:
    """How many NaN-separated paths a ghost curve item holds."""
    y = item.yData
    return 0 if y is None else int(np.isnan(y).sum())


def test_a_preset_with_seeds_draws_ghosts_cloud_and_band(qtbot, make_window):
    window = make_window("noise_ball")
    assert window.sampling_panel.seeds_spin.value() == 64
    window.controller.run_until(300)
    assert window.wait_for_seeds()
    tracks = window.controller.tracks
    assert [t.seeds.n_seeds for t in tracks] == [64, 64]
    # member 0 of every run's seeds is the run itself, bit for bit
    for track in tracks:
        own = np.array([track.seeds.points_at(i)[0] for i in range(301)])
        assert np.array_equal(own, track.history.params[:301])
    contour = _view(window, "contour")
    contour.show_step(300)
    for k, track in enumerate(tracks):
        # one item per run for its 63 other seeds: 63 NaN-separated paths
        assert _paths_drawn(contour.ghosts.items[k]) == 63
        x, y = contour.seed_cloud.dots[k].getData()
        points = track.seeds.points_at(300)
        assert np.array_equal(x, points[:, 0])
        assert np.array_equal(y, points[:, 1])
        # the empirical ellipses: 1σ then 2σ around the seeds' mean
        ex, ey = contour.seed_cloud.spread[k].xData, contour.seed_cloud.spread[k].yData
        mean, cov = empirical_covariance(points)
        cut = int(np.flatnonzero(np.isnan(ex))[0])
        # the 1σ ring's points are mean + L·u (|u| = 1): their covariance is cov / 2
        ring = np.stack([ex[: cut - 1], ey[: cut - 1]])   # the closing point repeats the first
        assert np.allclose(ring.mean(axis=1), mean, atol=1e-9)
        assert np.allclose(np.cov(ring, bias=True), cov / 2, rtol=0.02)
        # plain SGD on a quadratic: the predicted ellipse around the minimum too
        px = contour.seed_cloud.predicted[k].xData
        assert px is not None
        assert np.isfinite(px).sum() > 100
    assert "seeds" in contour.frame.info.text()
    assert "predicted" in contour.frame.info.text()
    curve = _view(window, "learning_curve")
    curve.show_step(300)
    band, median = curve.bands.parts[0]
    assert len(median.xData) > 10
    # the band's outline: the 10 % quantile forward, the 90 % one back, around the median
    polygon = band.path().toFillPolygon()
    outline = np.array([(p.x(), p.y()) for p in polygon])
    half = len(median.xData)
    low, high = outline[:half, 1], outline[half: 2 * half, 1][::-1]
    assert np.array_equal(outline[:half, 0], median.xData)
    assert np.all(low <= median.yData + 1e-12)
    assert np.all(median.yData <= high + 1e-12)
    assert np.any(high - low > 0)
    trace = _view(window, "params")
    trace.show_step(300)
    assert _paths_drawn(trace.ghosts.items[0]) == 63   # one parameter shown (several runs)


def test_the_seeds_field_turns_seeds_on_and_off(qtbot, make_window):
    window = make_window("linreg")
    assert window.sampling_panel.seeds_spin.value() == 1
    assert window.controller.tracks[0].seeds is None
    window.sampling_panel.seeds_spin.setValue(8)
    assert window.controller.seed_count == 8
    assert window.wait_for_seeds()
    assert window.controller.tracks[0].seeds.n_seeds == 8
    contour = _view(window, "contour")
    contour.show_step(0)
    assert len(contour.seed_cloud.dots[0].getData()[0]) == 8
    window.sampling_panel.seeds_spin.setValue(1)
    assert window.controller.tracks[0].seeds is None
    contour.show_step(0)
    assert _paths_drawn(contour.ghosts.items[0]) == 0
    assert len(contour.seed_cloud.dots[0].getData()[0]) == 0


def test_an_optimizer_without_ensemble_says_so_under_the_field(qtbot, make_window):
    window = make_window("linreg")
    config = window.controller.config.with_changes(optimizer="lbfgs", hyperparams={},
                                                   schedule="constant", schedule_params={})
    window.controller.set_config(config)
    window.set_seed_count(4)
    note = window.sampling_panel.seeds_note
    assert "lbfgs cannot run as an ensemble" in note.text()
    assert not note.isHidden()
    assert window.controller.tracks[0].seeds is None
    window.set_seed_count(1)
    assert note.isHidden()


def test_the_window_stays_responsive_while_seeds_compute(qtbot, make_window):
    window = make_window("noise_wavy")
    window.controller.play()
    qtbot.waitUntil(lambda: window.controller.last_index >= 100, timeout=30000)
    window.controller.pause()
    assert window.wait_for_seeds()
    paths = window.controller.tracks[0].seeds
    assert paths.done
    assert len(paths) == 301


def test_seeds_survive_a_session(qtbot, make_window, tmp_path):
    window = make_window("linreg")
    window.set_seed_count(6)
    path = tmp_path / "s.gdviz.json"
    save_session_file(window, path)
    other = make_window("wavy")
    assert other.controller.seed_count == 1
    open_session_file(other, path)
    assert other.controller.seed_count == 6
    assert other.sampling_panel.seeds_spin.value() == 6
    assert other.wait_for_seeds()
    assert other.controller.tracks[0].seeds.n_seeds == 6


def test_bad_session_seeds_are_refused(qtbot, make_window, tmp_path):
    from gdviz.export.session import SessionError

    window = make_window("linreg")
    path = tmp_path / "s.gdviz.json"
    save_session_file(window, path)
    text = path.read_text().rstrip().rstrip("}") + ', "seeds": 999}'
    path.write_text(text)
    with pytest.raises(SessionError, match="seeds"):
        open_session_file(window, path)


def test_noise_view_measures_the_batch_variance_against_the_theory(qtbot, make_window):
    window = make_window("linreg")
    noise = _view(window, "noise")
    window.docks["noise"].raise_()
    noise.show_step(0)
    assert noise.wait_ready(20000)
    result = noise.result
    config = window.controller.config
    problem = config.make_problem()
    at = config.start_point()
    expected = [np.trace(batch_covariance(problem, at, int(b), config.order))
                for b in result["sizes"]]
    assert np.allclose(result["theory"], expected)
    assert np.all(np.abs(result["measured"] / result["theory"] - 1) < 0.3)
    mean, cov = per_sample_covariance(problem, at)
    assert np.isclose(result["noise_scale"], np.trace(cov) / (mean @ mean))
    assert "B_simple" in noise.frame.status.text()
    # log-log: the theory falls about as 1/B
    slope = np.polyfit(np.log(result["sizes"][:4]), np.log(result["theory"][:4]), 1)[0]
    assert -1.1 < slope < -0.9


def test_gui_seeds_option_is_checked_in_one_line(capsys):
    assert main(["--seeds", "0", "--preset", "linreg", "--screenshot", "x.png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "number of seeds must be between 1 and 256" in err[0]


def test_screenshot_with_seeds_draws_them(tmp_path):
    out = tmp_path / "shot.png"
    assert main(["--preset", "noise_wavy", "--seeds", "12", "--steps", "50",
                 "--screenshot", str(out)]) == 0
    assert out.stat().st_size > 10_000


def test_without_servers_the_seeds_are_computed_by_the_task_itself(qtbot, make_window,
                                                                   monkeypatch):
    monkeypatch.setenv("GDVIZ_STEP_PROCESS", "0")
    window = make_window("linreg")
    window.set_seed_count(3)
    assert window.wait_for_seeds()
    paths = window.controller.tracks[0].seeds
    assert paths.done
    assert len(paths) == window.controller.config.step_limit() + 1
    own = np.array([paths.points_at(i)[0] for i in range(len(paths))])
    window.controller.run_until(len(paths) - 1)
    assert np.array_equal(own, window.controller.history.params[: len(paths)])


def test_a_whole_window_export_draws_the_runs_without_their_seeds(qtbot, tmp_path):
    from gdviz.core.presets import get_preset
    from gdviz.export.animation import ExportJob, ExportSpec
    from gdviz.gui.offscreen import make_source

    seen = []

    def factory(*args):
        source = make_source(*args)
        start = source.start

        def start_and_look(*start_args):
            history = start(*start_args)
            window = source.window
            seen.append((window.preset.name, window.controller.seed_count,
                         window.controller.tracks[0].seeds))
            return history

        source.start = start_and_look
        return source

    spec = ExportSpec(config=get_preset("noise_wavy").config, target="window",
                      out=tmp_path / "w.gif", frames=2, steps_per_frame=5, size=(640, 480))
    ExportJob(spec, factory).run()
    # the export's window loaded the noise_wavy lesson (its text, its docks) but not its 100
    # seeds: they come in the background, and a frame must not depend on how far they got
    assert seen == [("noise_wavy", 1, None)]
    assert spec.out.stat().st_size > 0


def test_a_lesson_with_a_negative_minimum_loads_after_a_run_with_steps(qtbot, make_window):
    """Defect (found by the smoke test once noise_wavy came after the bowl): the learning
    curve's log box, unticked for a loss that goes below 0, redrew the new history with the
    old run's tracks: IndexError in the slot."""
    window = make_window("bowl")
    window.controller.run_until(40)
    window.load_preset("noise_wavy")
    curve = _view(window, "learning_curve")
    assert curve in window.controller.views
    assert not curve.log_box.isChecked()
    curve.show_step(0)
    assert curve.plot.getPlotItem().getAxis("left").logMode is False
