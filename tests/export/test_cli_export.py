"""``gdviz export``: GIFs and PNG frames headless; bad input is one line and status 2."""

import json

import pytest
from PIL import Image

from gdviz.cli.main import main
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.export.session import DEFAULT_COLOR, Session, save_session


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_gif_from_a_preset(qapp, tmp_path, capsys):
    out = tmp_path / "wavy.gif"
    code, _, err = _run(["export", "--preset", "wavy", "--frames", "6", "--size", "200x150",
                         "--fps", "5", "--out", str(out)], capsys)
    assert code == 0, err
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size) == (6, (200, 150))
    assert err.strip().splitlines()[-1].startswith("wrote GIF")


def test_png_frames_with_a_trailing_slash_or_png_dir(qapp, tmp_path, capsys):
    code, _, err = _run(["export", "--problem", "rosenbrock", "--steps", "20", "--view",
                         "params", "--frames", "3", "--steps-per-frame", "5", "--size",
                         "160x120", "--out", str(tmp_path / "seq") + "/"], capsys)
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "seq").iterdir()) == [
        "frame_0000.png", "frame_0001.png", "frame_0002.png"]
    code, _, err = _run(["export", "--preset", "wavy", "--frames", "2", "--size", "160x120",
                         "--png-dir", str(tmp_path / "other")], capsys)
    assert code == 0, err
    assert len(list((tmp_path / "other").iterdir())) == 2


def test_session_file_gives_the_run_and_other_options_override(qapp, tmp_path, capsys):
    config = RunConfig(problem="slope", lr=1e-3, max_steps=30, seed=3)
    session = save_session(tmp_path / "s.gdviz.json",
                           Session((RunSpec("slope", DEFAULT_COLOR, config),), 0, 0, {}))
    csv1 = tmp_path / "a.csv"
    assert main(["run", "--session", str(session), "--out", str(csv1)]) == 0
    csv2 = tmp_path / "b.csv"
    assert main(["run", "--problem", "slope", "--lr", "1e-3", "--steps", "30", "--seed", "3",
                 "--out", str(csv2)]) == 0
    assert csv1.read_text() == csv2.read_text()
    csv3 = tmp_path / "c.csv"
    assert main(["run", "--session", str(session), "--steps", "5", "--out", str(csv3)]) == 0
    assert len(csv3.read_text().splitlines()) == 7
    gif = tmp_path / "s.gif"
    code, _, err = _run(["export", "--session", str(session), "--frames", "4", "--size",
                         "160x120", "--out", str(gif)], capsys)
    assert code == 0, err


def _bad_session(tmp_path):
    path = tmp_path / "bad.gdviz.json"
    path.write_text(json.dumps({"format": "gdviz-session", "version": 99, "runs": []}))
    return str(path)


BAD = [
    (["--view", "nope"], "unknown view"),
    (["--frames", "0"], "number of frames"),
    (["--frames", "-3"], "number of frames"),
    (["--frames", "ten"], "number of frames"),
    (["--steps-per-frame", "0"], "steps per frame"),
    (["--fps", "0"], "frames per second"),
    (["--fps", "-2"], "frames per second"),
    (["--fps", "abc"], "frames per second"),
    (["--size", "640x"], "WIDTHxHEIGHT"),
    (["--size", "5000x480"], "4096"),
    (["--size", "0x0"], "size"),
    (["--loop", "-1"], "loop count"),
    (["--frames", "500"], "the run stops after 100 steps"),
    (["--first-step", "-1"], "first step"),
]


@pytest.mark.parametrize(("extra", "message"), BAD)
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, extra, message):
    code, out, err = _run(["export", "--preset", "wavy", "--out", str(tmp_path / "a.gif"),
                           *extra], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "message"), [
    (["--preset", "wavy", "--out", "/nonexistent-folder/a.gif"], "does not exist"),
    (["--preset", "wavy", "--out", "/proc/a.gif"], "cannot write"),
    (["--preset", "wavy", "--out", "a.png"], "must end in .gif"),
    (["--preset", "nope", "--out", "a.gif"], "unknown preset"),
    (["--preset", "wavy", "--problem", "wavy", "--out", "a.gif"], "only one of"),
    (["--problem", "wavy", "--lr", "-1", "--out", "a.gif"], "learning rate"),
    (["--frames", "3", "--out", "a.gif"], "say which problem"),
    (["--preset", "wavy"], "required"),
])
def test_more_bad_input(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["export", *argv])
    except SystemExit as exit_:  # argparse's own errors
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert message in err


def test_bad_session_file_is_one_line(tmp_path, capsys):
    code, _, err = _run(["export", "--session", _bad_session(tmp_path), "--out",
                         str(tmp_path / "a.gif")], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "newer gdviz" in err


def test_progress_bar_line():
    import io
    from types import SimpleNamespace

    from gdviz.cli.export import _ProgressBar

    stream = io.StringIO()
    bar = _ProgressBar(stream)
    bar(SimpleNamespace(done=50, total=100, eta_s=lambda: 2.0))
    assert "50/100 frames" in stream.getvalue()
    assert "2.0 s left" in stream.getvalue()
    assert "#" * 15 + "." * 15 in stream.getvalue()


def test_3d_view_exports_under_a_real_x_server(tmp_path):
    """Only with a display (make test runs under xvfb-run) and once the 3-D view exists."""
    import os
    import subprocess
    import sys

    import numpy as np

    if not os.environ.get("DISPLAY"):
        pytest.skip("needs an X server for OpenGL (make test runs under xvfb-run)")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    out = tmp_path / "s.gif"
    result = subprocess.run(
        [sys.executable, "-m", "gdviz", "export", "--preset", "rosenbrock", "--view",
         "surface3d", "--frames", "3", "--size", "320x240", "--out", str(out)],
        capture_output=True, text=True, env=env, timeout=120)
    if "not available in this version" in result.stderr or "OpenGL" in result.stderr:
        pytest.skip(result.stderr.strip().splitlines()[-1])
    assert result.returncode == 0, result.stderr
    with Image.open(out) as gif:
        gif.seek(2)
        rgb = np.asarray(gif.convert("RGB")).astype(int)
    colourful = np.ptp(rgb, axis=2) > 60  # the surface's colour map, not grey UI
    assert colourful.mean() > 0.05


def test_a_preset_export_opens_its_views_as_the_lesson_does():
    """The bowl lesson opens its 3-D view linear (so that it looks like a bowl); an export of
    the preset draws it so too, unless a session says otherwise."""
    from gdviz.cli.export import export_spec_from_args
    from gdviz.cli.main import build_parser

    args = build_parser().parse_args(["export", "--preset", "bowl", "--view", "surface3d",
                                      "--frames", "2", "--out", "bowl.gif"])
    assert export_spec_from_args(args).choices["surface3d"] == {"log_box": False}
    args = build_parser().parse_args(["export", "--preset", "wavy", "--frames", "2", "--out",
                                      "wavy.gif"])
    assert export_spec_from_args(args).choices == {}
