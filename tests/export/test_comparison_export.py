"""Exports of a comparison draw every run, in lock-step, each in its colour and with its name,
as the window shows them: the views' paths equal the runner's, a run that ended stays at its
end while the others go on, the hidden window lists every run, and the command line renders
the runs of a comparison preset or session (refusing options that would change one run)."""

import dataclasses

import numpy as np
import pytest
from gif_helpers import gif_frames  # tests/export is on sys.path
from PIL import Image

from gdviz.cli.main import main
from gdviz.core import run_set
from gdviz.core.errors import ConfigError
from gdviz.core.history import decimate
from gdviz.core.presets import get_preset
from gdviz.core.runner import run_to_end
from gdviz.export.animation import ExportJob, ExportSpec, validate_spec
from gdviz.export.session import Session, save_session
from gdviz.gui.offscreen import make_source
from gdviz.gui.views.contour import path_points

ROSENBROCK = get_preset("compare_rosenbrock").runs
LINREG_LR = get_preset("compare_linreg_lr").runs
DIVERGES = 1  # compare_linreg_lr: run 1, "lr 5 (diverges)", diverges at step 8
DIVERGES_AT = 8


def _recording_factory(shown):
    """A frame source that records, after each frame, the lock-step index asked for, what
    the view draws per run: the (x, y) data of its line (contour: its path; learning curve:
    its loss against step, in the y axis's units), and whether the y axis is logarithmic."""
    def factory(*args):
        source = make_source(*args)
        render = source.render

        def recorded(index):
            frame = render(index)
            view = source.view
            items = getattr(view, "tracks_items", None) or view.full_curves
            lines = [(np.array(item.xData, dtype=float), np.array(item.yData, dtype=float))
                     for item in items[: len(view.tracks)]]
            shown.append((index, lines, getattr(view, "_log", False)))
            return frame

        source.render = recorded
        return source
    return factory


def _colour_pixels(frame, color: str, tol: int = 40) -> int:
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)])
    return int(np.count_nonzero(np.abs(frame - rgb).sum(axis=2) <= tol))


def test_contour_gif_draws_every_run_as_the_runner_moves_it(qapp, tmp_path):
    shown = []
    spec = ExportSpec.of_runs(ROSENBROCK, 0, target="contour", out=tmp_path / "race.gif",
                              frames=12, steps_per_frame=80, size=(400, 300))
    job = ExportJob(spec, source_factory=_recording_factory(shown))
    path = job.run()
    gif, frames = gif_frames(path)
    assert (gif.n_frames, gif.size) == (12, (400, 300))
    assert job.note == ""
    expected = [np.stack([r.params for r in run_to_end(run.config)]) for run in ROSENBROCK]
    # frame i shows lock-step index 80 i, each path decimated to the points a run of five
    # is given
    assert [index for index, _, _ in shown] == [80 * i for i in range(12)]
    for index, paths, _ in shown:
        keep = decimate(np.arange(index + 1), path_points(len(ROSENBROCK)))
        for k, ((x, y), params) in enumerate(zip(paths, expected)):
            assert np.array_equal(x, params[: index + 1][keep, 0]), (index, k)
            assert np.array_equal(y, params[: index + 1][keep, 1]), (index, k)
    # the frames differ where the runs that are not selected move: each run's colour covers
    # more of the last frame (its path) than of the first (a legend key and a start dot)
    for run in ROSENBROCK[1:]:
        first, last = (_colour_pixels(f, run.color) for f in (frames[0], frames[-1]))
        assert last > first + 20, (run.name, first, last)
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))


def test_legend_names_every_run_and_the_palette_has_their_colours(qapp, tmp_path):
    source = make_source("contour", (400, 300))
    try:
        spec = ExportSpec.of_runs(ROSENBROCK, 2, target="contour", out=tmp_path / "a.gif",
                                  frames=1)
        firsts = tuple(run_to_end(run.config)[0] for run in ROSENBROCK)
        histories = source.start_runs(spec.runs, spec.selected, firsts)
        assert len(histories) == len(ROSENBROCK)
        view = source.view
        assert [(t.name, t.color) for t in view.tracks] == [(r.name, r.color)
                                                            for r in ROSENBROCK]
        assert view.selected_track == 2
        assert view.history is histories[2]
        legend = view.frame.info.text()
        assert all(run.name in legend for run in ROSENBROCK)
        swatch = np.asarray(source.palette_swatch()).reshape(-1, 3)
        for run in ROSENBROCK:
            rgb = [int(run.color[i:i + 2], 16) for i in (1, 3, 5)]
            assert (swatch == rgb).all(axis=1).any(), run.color
    finally:
        source.close()


def test_a_selected_run_that_ends_early_keeps_the_others_moving(qapp, tmp_path):
    shown = []
    spec = ExportSpec.of_runs(LINREG_LR, DIVERGES, target="learning_curve",
                              out=tmp_path / "lr.gif", frames=10, steps_per_frame=3,
                              size=(320, 240))
    job = ExportJob(spec, source_factory=_recording_factory(shown))
    _, frames = gif_frames(job.run())
    assert len(frames) == 10
    losses = [np.array([r.loss for r in run_to_end(run.config)]) for run in LINREG_LR]
    assert len(losses[DIVERGES]) == DIVERGES_AT + 1
    for index, curves, log in shown:
        for k, (x, y) in enumerate(curves):
            end = min(index, DIVERGES_AT) if k == DIVERGES else index
            assert x[-1] == end, (index, k)  # each loss curve reaches its run's step ...
            loss = np.log10(losses[k][end]) if log else losses[k][end]
            assert y[-1] == loss, (index, k)  # ... with the runner's loss
    assert not np.array_equal(frames[-1], frames[-2])  # the others still move after step 8
    assert "lr 5 (diverges)" in job.note
    assert f"diverged at step {DIVERGES_AT}" in job.note


def test_the_last_frame_may_reach_the_longest_run_s_limit(tmp_path):
    runs = get_preset("compare_linreg_batch").runs
    limits = [r.config.step_limit() for r in runs]  # 3000, 300, 3 steps: one per epoch...
    assert limits == [3000, 300, 3]
    spec = ExportSpec.of_runs(runs, 2, target="contour", out=tmp_path / "b.gif", frames=11,
                              steps_per_frame=300)
    validate_spec(spec)
    assert spec.last_step == 3000
    with pytest.raises(ConfigError, match="the longest run stops after 3000 steps"):
        validate_spec(ExportSpec.of_runs(runs, 2, target="contour", out=tmp_path / "b.gif",
                                         frames=12, steps_per_frame=300))


def test_one_run_is_a_single_run_spec_and_bad_comparisons_are_refused(tmp_path):
    out = tmp_path / "a.gif"
    one = ExportSpec.of_runs(ROSENBROCK[:1], 0, target="contour", out=out)
    assert one == ExportSpec(config=ROSENBROCK[0].config, target="contour", out=out,
                             single_run=ROSENBROCK[0])   # a single run, with its name/colour
    assert one.runs == ()
    spec = ExportSpec.of_runs(ROSENBROCK, 1, target="contour", out=out, frames=3)
    for changes, message in (
            ({"selected": 7}, "selected run must be an index from 0 to 4"),
            ({"config": ROSENBROCK[0].config}, "selected run's"),
            ({"runs": (*ROSENBROCK[:2], LINREG_LR[0])}, "differs from run 1"),
            ({"runs": (dataclasses.replace(ROSENBROCK[0], color="red"), *ROSENBROCK[1:])},
             "colour must look like #rrggbb")):
        with pytest.raises(ConfigError, match=message):
            validate_spec(dataclasses.replace(spec, **changes))


def test_the_whole_window_shows_every_run_in_its_runs_panel(qapp, tmp_path):
    sources = []

    def factory(*args):
        sources.append(make_source(*args))
        return sources[-1]

    spec = ExportSpec.of_runs(LINREG_LR, DIVERGES, target="window", out=tmp_path / "w.gif",
                              frames=4, steps_per_frame=4, size=(320, 240))
    job = ExportJob(spec, source_factory=factory)
    job.open()
    try:
        window = sources[0].window
        c = window.controller
        assert [(r.name, r.color, r.config) for r in c.runs] == [
            (r.name, r.color, r.config) for r in LINREG_LR]
        assert window.runs_panel.names() == [r.name for r in LINREG_LR]
        assert c.selected_track == window.runs_panel.selected() == DIVERGES
        assert window.preset is not None
        assert window.preset.name == "compare_linreg_lr"
        while job.render_next():
            pass
        # lock-step index 12: run 1 ended at step 8, the others are at step 12
        assert [len(h) - 1 for h in c.histories] == [12, DIVERGES_AT, 12]
        ended = window.runs_panel.ended_texts()
        assert ended[DIVERGES] == f"diverged at {DIVERGES_AT}"
        assert ended[0] == ended[2] == ""
        path = job.finish()
    except BaseException:
        job.abort()
        raise
    with Image.open(path) as gif:
        assert (gif.n_frames, gif.size) == (4, (320, 240))


def test_export_dialog_exports_every_run_of_the_window(make_window, tmp_path):
    window = make_window("compare_linreg_batch")
    window.controller.select_run(1)
    dialog = _dialog(window, tmp_path)
    try:
        # the step range reaches the longest run's limit (batch 1: 3000 steps), not run 1's
        assert dialog.last.maximum() == 3000
        spec = dialog.spec()
    finally:
        dialog.deleteLater()
    c = window.controller
    assert spec.runs == c.runs
    assert spec.selected == 1
    assert spec.config == c.config
    window_one = make_window("wavy")
    dialog = _dialog(window_one, tmp_path)
    try:
        assert dialog.spec().runs == ()  # one run: exported exactly as before
    finally:
        dialog.deleteLater()


def _dialog(window, tmp_path):
    from gdviz.gui.export_dialog import ExportDialog

    dialog = ExportDialog(window)
    dialog.path.setText(str(tmp_path / "out.gif"))
    dialog.select_target("contour")
    dialog.last.setValue(20)
    dialog.per_frame.setValue(5)
    return dialog


# -- the command line -------------------------------------------------------------------------
def _cli(argv, capsys):
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return code, out.err


def _spec_of(argv):
    from gdviz.cli.export import export_spec_from_args
    from gdviz.cli.main import build_parser

    return export_spec_from_args(build_parser().parse_args(["export", *argv]))


def test_cli_comparison_preset_renders_every_run(qapp, tmp_path, capsys):
    out = tmp_path / "race.gif"
    argv = ["--preset", "compare_rosenbrock", "--view", "contour", "--frames", "6", "--size",
            "320x240", "--out", str(out)]
    spec = _spec_of(argv)
    assert [(r.name, r.color, r.config) for r in spec.runs] == [
        (r.name, r.color, r.config) for r in ROSENBROCK]
    assert (spec.selected, spec.frames, spec.steps_per_frame) == (0, 6, 400)
    code, err = _cli(["export", *argv], capsys)
    assert code == 0, err
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size) == (6, (320, 240))
    # options every run shares change every run
    spec = _spec_of([*argv, "--steps", "50", "--init", "0.5,-0.5"])
    assert {(r.config.max_steps, r.config.init) for r in spec.runs} == {(50, (0.5, -0.5))}
    assert [r.config.optimizer for r in spec.runs] == [r.config.optimizer for r in ROSENBROCK]


def test_cli_comparison_session_renders_every_run(qapp, tmp_path, capsys):
    runs = tuple(run_set.RunSpec(f"run {k}", r.color, r.config) for k, r in enumerate(LINREG_LR))
    session = save_session(tmp_path / "cmp.gdviz.json", Session(runs, DIVERGES, 30, {}))
    out = tmp_path / "s.gif"
    argv = ["--session", str(session), "--view", "window", "--frames", "3",
            "--steps-per-frame", "10", "--size", "320x240", "--out", str(out)]
    spec = _spec_of(argv)
    assert [(r.name, r.color, r.config) for r in spec.runs] == [
        (r.name, r.color, r.config) for r in runs]
    assert spec.selected == DIVERGES
    assert spec.config == runs[DIVERGES].config
    code, err = _cli(["export", *argv], capsys)
    assert code == 0, err
    assert "note: run 1: diverged at step 8" in err
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size) == (3, (320, 240))


@pytest.mark.parametrize("extra", [["--lr", "0.1"], ["--optimizer", "adam"],
                                   ["--hp", "momentum=0.5"], ["--batch-size", "1"],
                                   ["--seed", "3"]])
def test_cli_refuses_options_that_change_one_run_of_a_comparison(tmp_path, capsys, extra):
    runs = tuple(run_set.RunSpec(r.name, r.color, r.config) for r in LINREG_LR)
    session = save_session(tmp_path / "cmp.gdviz.json", Session(runs, 0, 0, {}))
    for source, what in ((["--preset", "compare_linreg_lr"], "comparison preset"),
                         (["--session", str(session)], "comparison session")):
        code, err = _cli(["export", *source, *extra, "--out", str(tmp_path / "a.gif")],
                         capsys)
        assert code == 2
        assert len(err.strip().splitlines()) == 1, err
        assert f"options that change one run cannot be combined with a {what}" in err
        assert extra[0] in err
    assert not (tmp_path / "a.gif").exists()


@pytest.mark.parametrize("target", ["contour", "window"])
def test_a_single_run_is_exported_with_its_own_name_and_colour(qapp, tmp_path, target):
    run = dataclasses.replace(ROSENBROCK[2], name="my adam", color="#e69f00")
    sources = []

    def factory(*args):
        sources.append(make_source(*args))
        return sources[-1]

    spec = ExportSpec.of_runs((run,), 0, target=target, out=tmp_path / "one.gif", frames=3,
                              steps_per_frame=20, size=(640, 480))
    job = ExportJob(spec, source_factory=factory)
    job.open()
    source = sources[0]
    # read before the job ends: the source then deletes its window or view
    if target == "window":
        runs = source.window.controller.runs
        assert [(r.name, r.color) for r in runs] == [("my adam", "#e69f00")]
        assert source.window.runs_panel.names() == ["my adam"]
    else:
        assert [(t.name, t.color) for t in source.view.tracks] == [("my adam", "#e69f00")]
        assert source.view.tracks_items[0].opts["pen"].color().name() == "#e69f00"
    while job.render_next():
        pass
    job.finish()
    _gif, frames = gif_frames(tmp_path / "one.gif")
    assert _colour_pixels(frames[-1], "#e69f00") > 0     # the path, in the run's colour
