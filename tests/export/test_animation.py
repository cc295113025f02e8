"""The export job: frames of the real views from a runner replay, written atomically."""

import os
from pathlib import Path

import numpy as np
import pytest
from gif_helpers import gif_frames  # tests/export is on sys.path
from PIL import Image

from gdviz.core.errors import ConfigError
from gdviz.core.presets import get_preset
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.export.animation import (
    ExportError,
    ExportJob,
    ExportSpec,
    check_writable,
    frames_for,
    parse_size,
)
from gdviz.gui.offscreen import make_source

WAVY = get_preset("wavy").config


def _spec(tmp_path, **kw):
    values = {"config": WAVY, "target": "samples", "out": tmp_path / "a.gif", "frames": 8,
              "fps": 10.0, "size": (320, 240)}
    values.update(kw)
    return ExportSpec(**values)


def _leftovers(folder: Path):
    return [p.name for p in folder.iterdir() if p.name.startswith(".")]


def test_gif_has_the_frames_and_size_asked_for_and_they_change(qapp, tmp_path):
    path = ExportJob(_spec(tmp_path, frames=12, steps_per_frame=3), make_source).run()
    gif, frames = gif_frames(path)
    assert gif.n_frames == 12
    assert gif.size == (320, 240)
    assert all(not np.array_equal(a, b) for a, b in zip(frames, frames[1:]))
    assert _leftovers(tmp_path) == []
    mask = os.umask(0)
    os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~mask  # not the temporary file's 0600


def test_first_frame_is_the_start_point(qapp, tmp_path):
    from gdviz.gui.offscreen.view_source import ViewFrames

    path = ExportJob(_spec(tmp_path, frames=5), make_source).run()
    _, frames = gif_frames(path)
    source = ViewFrames("samples", (320, 240))
    try:
        source.start(WAVY, next(iterate(WAVY)))
        step0 = source.render(0)
    finally:
        source.close()
    rgb = np.stack([(step0 >> 16) & 255, (step0 >> 8) & 255, step0 & 255], -1).astype(int)
    diff = np.abs(frames[0] - rgb).sum(axis=2)
    assert diff.mean() < 3  # palette rounding of antialiased edges only
    assert np.mean(diff > 60) < 0.002
    later = np.abs(frames[-1] - rgb).sum(axis=2)
    assert np.mean(later > 60) > np.mean(diff > 60)


def test_png_frames_are_numbered(qapp, tmp_path):
    folder = tmp_path / "frames"
    path = ExportJob(_spec(tmp_path, kind="png", out=folder, frames=4, steps_per_frame=5,
                           target="histogram"), make_source).run()
    assert path == folder
    assert sorted(os.listdir(folder)) == [f"frame_{i:04d}.png" for i in range(4)]
    with Image.open(folder / "frame_0003.png") as im:
        assert im.size == (320, 240)
    assert _leftovers(folder) == []


def test_whole_window_frames(qapp, tmp_path):
    path = ExportJob(_spec(tmp_path, target="window", frames=3, size=(400, 250)),
                     make_source).run()
    gif, _ = gif_frames(path)
    assert (gif.n_frames, gif.size) == (3, (400, 250))


def test_cancel_mid_export_leaves_no_file(qapp, tmp_path):
    job = ExportJob(_spec(tmp_path, frames=20), make_source)
    calls = []

    def cancelled():
        calls.append(1)
        return len(calls) > 5

    assert job.run(cancelled=cancelled) is None
    assert job.done == 5
    assert list(tmp_path.iterdir()) == []


def test_cancel_png_leaves_no_frames(qapp, tmp_path):
    job = ExportJob(_spec(tmp_path, kind="png", out=tmp_path, frames=6), make_source)
    job.open()
    job.render_next()
    job.render_next()
    job.abort()
    assert list(tmp_path.iterdir()) == []


def test_unwritable_folder_is_refused_before_rendering(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere")
        with pytest.raises(ConfigError, match="not writable"):
            ExportJob(_spec(tmp_path, out=locked / "a.gif"), make_source).run()
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o700)
    with pytest.raises(ConfigError, match="does not exist"):
        check_writable(_spec(tmp_path, out=tmp_path / "missing" / "a.gif"))


def test_failure_while_writing_leaves_no_file(qapp, tmp_path, monkeypatch):
    """Disk full half way: the temporary file goes, the message says why."""
    from gdviz.export import gif as gif_module

    job = ExportJob(_spec(tmp_path, frames=6), make_source)
    job.open()
    job.render_next()

    def full(*_args, **_kw):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(gif_module.GifWriter, "add", full)
    with pytest.raises(ExportError, match="No space left"):
        job.render_next()
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_only_at_the_end(qapp, tmp_path):
    target = tmp_path / "a.gif"
    target.write_bytes(b"old")
    job = ExportJob(_spec(tmp_path, frames=3), make_source)
    job.open()
    job.render_next()
    assert target.read_bytes() == b"old"
    job.abort()
    assert target.read_bytes() == b"old"


@pytest.mark.parametrize(("changes", "message"), [
    ({"frames": 0}, "number of frames"),
    ({"fps": 0.0}, "frames per second"),
    ({"fps": 100.0}, "frames per second"),
    ({"size": (640, 5000)}, "size"),
    ({"size": (8, 8)}, "size"),
    ({"steps_per_frame": 0}, "steps per frame"),
    ({"frames": 50, "steps_per_frame": 3}, "run stops after 100 steps"),
    ({"out": Path("x.png")}, "must end in .gif"),
])
def test_bad_specs_are_refused_with_a_sentence(tmp_path, changes, message):
    with pytest.raises(ConfigError, match=message):
        ExportJob(_spec(tmp_path, **changes), make_source)


def test_size_parsing():
    assert parse_size("640x480") == (640, 480)
    assert parse_size(" 320X200 ") == (320, 200)
    for bad in ("640x", "x480", "640*480", "", "-1x5", "axb"):
        with pytest.raises(ConfigError, match="WIDTHxHEIGHT"):
            parse_size(bad)


def test_frame_plans():
    cfg = RunConfig(problem="wavy", max_steps=100)
    assert frames_for(cfg) == (101, 1)
    assert frames_for(cfg, steps_per_frame=10) == (11, 10)
    assert frames_for(cfg, frames=11) == (11, 10)
    assert frames_for(cfg, first_step=50, frames=6) == (6, 10)


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_folder_that_refuses_files_even_to_root(qapp, tmp_path):
    """/proc takes no new files, whoever asks: the temporary file cannot be made."""
    with pytest.raises(ConfigError, match="cannot write /proc/gdviz-test.gif"):
        ExportJob(_spec(tmp_path, out=Path("/proc/gdviz-test.gif")), make_source).run()
    assert not os.path.exists("/proc/gdviz-test.gif")


def test_a_run_that_diverges_early_holds_its_last_step(qapp, tmp_path):
    config = RunConfig(problem="linreg", lr=5, batch_size=10, max_epochs=1)
    job = ExportJob(_spec(tmp_path, config=config, frames=10, steps_per_frame=3), make_source)
    path = job.run()
    gif, frames = gif_frames(path)
    assert gif.n_frames == 10
    assert "diverged at step 8" in job.note
    assert np.array_equal(frames[-1], frames[-2])  # both show step 8


@pytest.mark.parametrize("whole", [True, False])
def test_gif_frames_are_whole_pictures_unless_asked_for_changes_only(qapp, tmp_path, whole):
    """Whole frames: every frame, read as written (not composed), covers the whole picture
    and is opaque, so a tool that takes one frame alone shows all of it. Changes only: the
    frames after the first are smaller rectangles, and the composed animation is the same."""
    from gif_helpers import gif_frame_boxes

    path = ExportJob(_spec(tmp_path, frames=10, steps_per_frame=3, gif_whole_frames=whole),
                     make_source).run()
    boxes = gif_frame_boxes(path)
    assert len(boxes) == 10
    assert boxes[0] == ((0, 0, 320, 240), False)
    if whole:
        assert all(box == ((0, 0, 320, 240), False) for box in boxes)
    else:
        assert all(transparent and box[2] * box[3] < 320 * 240 for box, transparent
                   in boxes[1:])
    other = ExportJob(_spec(tmp_path, out=tmp_path / "b.gif", frames=10, steps_per_frame=3,
                            gif_whole_frames=not whole), make_source).run()
    for a, b in zip(gif_frames(path)[1], gif_frames(other)[1]):
        assert np.array_equal(a, b)


def test_convert_takes_a_whole_frame_without_coalescing(qapp, tmp_path):
    import shutil
    import subprocess

    if shutil.which("convert") is None:
        pytest.skip("ImageMagick's convert is not installed")
    path = ExportJob(_spec(tmp_path, frames=8, steps_per_frame=3), make_source).run()
    frame = tmp_path / "frame5.png"
    subprocess.run(["convert", f"{path}[5]", str(frame)], check=True, timeout=60)
    _, frames = gif_frames(path)
    with Image.open(frame) as image:
        assert image.size == (320, 240)
        assert np.array_equal(np.asarray(image.convert("RGB")).astype(int), frames[5])
