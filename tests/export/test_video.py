"""MP4 and WebM exports: decoded with PyAV, the frames are the views' own renders."""

import os

import numpy as np
import pytest
from video_helpers import png_rgb, video_frames  # tests/export is on sys.path

from gdviz.cli.main import main
from gdviz.core.errors import ConfigError
from gdviz.core.presets import get_preset
from gdviz.export.animation import ExportJob, ExportSpec, validate_spec
from gdviz.export.video import VideoWriter, even_size
from gdviz.gui.offscreen import make_source

WAVY = get_preset("wavy").config
CODECS = {"mp4": "h264", "webm": "vp9"}


def _spec(tmp_path, kind, **kw):
    values = {"config": WAVY, "target": "samples", "out": tmp_path / f"a.{kind}",
              "kind": kind, "frames": 8, "steps_per_frame": 5, "fps": 10.0,
              "size": (320, 240)}
    values.update(kw)
    return ExportSpec(**values)


def _difference(a, b):
    """(mean summed channel difference, share of pixels off by more than 60 in all)."""
    d = np.abs(a - b).sum(axis=2)
    return d.mean(), np.mean(d > 60)


@pytest.mark.parametrize("kind", ["mp4", "webm"])
@pytest.mark.parametrize(("target", "size"), [("samples", (320, 240)),
                                              ("window", (800, 500))])
def test_video_frames_are_the_views_renders(qapp, tmp_path, kind, target, size):
    """Frame count, size, codec and rate as asked; the first and the last frame equal the
    PNG frames of the same export (the views' exact renders) within yuv420p's rounding."""
    png = ExportJob(_spec(tmp_path, "png", out=tmp_path / "png", target=target, size=size),
                    make_source).run()
    reference = [png_rgb(png / f"frame_{i:04d}.png") for i in (0, 7)]
    path = ExportJob(_spec(tmp_path, kind, target=target, size=size), make_source).run()
    codec, frames, fps = video_frames(path)
    assert (codec, len(frames), fps) == (CODECS[kind], 8, 10.0)
    assert frames[0].shape == (size[1], size[0], 3)
    for frame, expected in zip((frames[0], frames[-1]), reference):
        mean, off = _difference(frame, expected)
        assert mean < 9
        assert off < 0.012
    # and the frames are not all alike: the last frame is far from the first render
    assert _difference(frames[-1], reference[0])[1] > 3 * _difference(frames[-1],
                                                                      reference[1])[1]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask


def test_odd_sizes_are_rounded_down_to_even(qapp, tmp_path):
    spec = _spec(tmp_path, "mp4", size=(321, 241), frames=2)
    assert spec.frame_size == (320, 240) == even_size((321, 241))
    assert _spec(tmp_path, "gif", size=(321, 241)).frame_size == (321, 241)
    _, frames, _ = video_frames(ExportJob(spec, make_source).run())
    assert frames[0].shape == (240, 320, 3)


def test_cancel_leaves_no_video(qapp, tmp_path):
    job = ExportJob(_spec(tmp_path, "webm", frames=20), make_source)
    calls = []
    assert job.run(cancelled=lambda: calls.append(1) or len(calls) > 3) is None
    assert list(tmp_path.iterdir()) == []


def test_existing_video_is_replaced_only_at_the_end(qapp, tmp_path):
    target = tmp_path / "a.mp4"
    target.write_bytes(b"old")
    job = ExportJob(_spec(tmp_path, "mp4", frames=3), make_source)
    job.open()
    job.render_next()
    assert target.read_bytes() == b"old"
    job.abort()
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.mp4"]


@pytest.mark.parametrize(("changes", "message"), [
    ({"out": "x.gif"}, "must end in .mp4"),
    ({"fps": 61.0}, "to 60"),
])
def test_bad_video_specs_are_refused(tmp_path, changes, message):
    values = {"out": tmp_path / changes.pop("out", "a.mp4"), **changes}
    with pytest.raises(ConfigError, match=message):
        validate_spec(_spec(tmp_path, "mp4", **values))


def test_writer_refuses_odd_sizes_and_wrong_frames(tmp_path):
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "a.mp4", "mp4", (321, 240), 10)
    writer = VideoWriter(tmp_path / "a.mp4", "mp4", (320, 240), 10)
    with pytest.raises(ValueError, match="320x240"):
        writer.add(np.zeros((240, 322), np.uint32))
    writer.add(np.zeros((240, 320, 3), np.uint8))
    writer.close()
    assert video_frames(tmp_path / "a.mp4")[1][0].shape == (240, 320, 3)


@pytest.mark.parametrize("kind", ["mp4", "webm"])
def test_cli_writes_the_video(qapp, tmp_path, capsys, kind):
    out = tmp_path / f"wavy.{kind}"
    code = main(["export", "--preset", "wavy", "--view", "histogram", "--frames", "6",
                 "--fps", "25", "--size", "241x180", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "rounded down to 240x180" in err
    assert err.strip().splitlines()[-1].startswith(f"wrote {'MP4' if kind == 'mp4' else 'WebM'}")
    codec, frames, fps = video_frames(out)
    assert (codec, len(frames), fps, frames[0].shape) == (CODECS[kind], 6, 25.0, (180, 240, 3))


def test_cli_refuses_an_unknown_ending_in_one_line(tmp_path, capsys):
    assert main(["export", "--preset", "wavy", "--out", str(tmp_path / "a.avi")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert ".gif, .mp4 or .webm" in err[0]


# -- the export dialog ------------------------------------------------------------------------
def test_dialog_exports_mp4_and_webm_through_the_runner(make_window, tmp_path, qtbot):
    from gdviz.gui.export_dialog import ExportDialog

    window = make_window()
    for kind in ("mp4", "webm"):
        dialog = ExportDialog(window)
        dialog.kind.setCurrentIndex(dialog.kind.findData(kind))
        assert dialog.path.text().endswith(f".{kind}")
        assert not dialog.forever.isEnabled()  # looping is the GIF's
        dialog.path.setText(str(tmp_path / f"out.{kind}"))
        dialog.select_target("histogram")
        dialog.last.setValue(10)
        dialog.per_frame.setValue(2)
        spec = dialog.spec()
        view = next(v for v in window.views if v.view_id == "histogram")
        assert spec.size == (view.width(), view.height())  # as on screen by default
        runner = window.start_export(spec, show_progress=False)
        with qtbot.waitSignal(runner.sig_finished, timeout=30000) as blocker:
            pass
        codec, frames, _ = video_frames(blocker.args[0])
        assert (codec, len(frames)) == (CODECS[kind], 6)
        assert frames[0].shape[:2] == (spec.frame_size[1], spec.frame_size[0])
        dialog.deleteLater()


def test_dialog_size_follows_the_capture_on_screen(make_window):
    from gdviz.gui.export_dialog import ExportDialog

    window = make_window()
    dialog = ExportDialog(window)
    dialog.select_target("window")
    assert (dialog.width_box.value(), dialog.height_box.value()) == (1280, 800)
    assert not dialog.width_box.isEnabled()
    dialog.select_target("samples")
    view = window.views[0]
    assert view.view_id == "samples"
    assert (dialog.width_box.value(), dialog.height_box.value()) == (view.width(),
                                                                    view.height())
    dialog.on_screen.setChecked(False)
    dialog.width_box.setValue(300)
    dialog.select_target("window")
    assert dialog.width_box.value() == 300  # a size of the user's own stays
    dialog.deleteLater()


def test_dialog_remembers_its_last_settings(make_window, tmp_path):
    from gdviz.gui.export_dialog import ExportDialog

    window = make_window()
    dialog = ExportDialog(window)
    dialog.kind.setCurrentIndex(dialog.kind.findData("webm"))
    dialog.select_target("contour")
    dialog.fps.setValue(30)
    dialog.by_count.setChecked(True)
    dialog.count.setValue(42)
    dialog.on_screen.setChecked(False)
    dialog.width_box.setValue(500)
    dialog.height_box.setValue(300)
    dialog.path.setText(str(tmp_path / "lesson.webm"))
    dialog._on_accept()  # what Export does: a valid spec is remembered
    assert dialog.result() == ExportDialog.DialogCode.Accepted
    dialog.deleteLater()
    window.settings.sync()

    again = ExportDialog(window)
    assert again.kind.currentData() == "webm"
    assert again.target.currentData() == "contour"
    assert (again.fps.value(), again.by_count.isChecked(), again.count.value()) == (30, True, 42)
    assert (again.on_screen.isChecked(), again.width_box.value(),
            again.height_box.value()) == (False, 500, 300)
    assert again.path.text() == str(tmp_path / "lesson.webm")
    again.deleteLater()
    frames = ExportDialog(window, "png")  # PNG frames have their own entry
    assert frames.kind.currentData() == "png"
    frames.deleteLater()


def test_dialog_ignores_broken_remembered_settings(make_window):
    from gdviz.gui.export_dialog import ExportDialog

    window = make_window()
    window.settings.save_export_choices({"kind": 3, "fps": "fast", "size": [1, "x"],
                                         "target": "nope", "on_screen": "yes"})
    dialog = ExportDialog(window)
    assert dialog.kind.currentData() == "gif"
    assert dialog.fps.value() == 10.0
    assert dialog.on_screen.isChecked()
    dialog.deleteLater()


def test_dialog_says_when_a_video_size_is_rounded(make_window):
    from gdviz.gui.export_dialog import ExportDialog

    window = make_window()
    dialog = ExportDialog(window)
    dialog.on_screen.setChecked(False)
    dialog.width_box.setValue(301)
    dialog.height_box.setValue(200)
    assert "even" not in dialog.summary.text()  # a GIF keeps 301
    dialog.kind.setCurrentIndex(dialog.kind.findData("mp4"))
    assert "301×200 is written as 300×200" in dialog.summary.text()
    dialog.deleteLater()


def test_cancel_in_the_progress_dialog_leaves_no_video(make_window, tmp_path, qtbot):
    window = make_window()
    spec = _spec(tmp_path, "mp4", frames=40, steps_per_frame=2)
    runner = window.start_export(spec)
    qtbot.waitUntil(lambda: runner.job.done >= 2, timeout=30000)
    with qtbot.waitSignal(runner.sig_cancelled, timeout=10000):
        runner.progress.cancel()
    assert list(tmp_path.iterdir()) == []
