"""Exports draw the lesson's captions when asked: a single view gets the caption drawn on its
frame, a whole-window export shows it as the window does; ``gdviz export --captions``."""

import numpy as np
import pytest
from PIL import Image

from gdviz.cli.main import main
from gdviz.core.captions import caption_text
from gdviz.core.presets import get_preset
from gdviz.export.animation import ExportJob, ExportSpec
from gdviz.gui.offscreen import make_source

WAVY = get_preset("wavy")
STEPS = (0, 17, 18, 100)  # the start, a flat stretch, moving again, the end


def _export(tmp_path, target, captions, read):
    """Export PNG frames of wavy at STEPS; ``read(source)`` is called as each frame is
    taken. Returns the frames as (h, w) uint32 arrays."""
    frames = []

    def factory(*args):
        source = make_source(*args)
        render = source.render

        def render_and_read(index):
            frame = render(index)
            frames.append((index, read(source), frame))
            return frame

        source.render = render_and_read
        return source

    extra = {"captions": WAVY.captions} if captions else {}
    out = tmp_path / f"{target}-{captions}"
    for step in STEPS:  # one frame per job: the steps are not evenly spaced
        spec = ExportSpec(config=WAVY.config, target=target, out=out / str(step), kind="png",
                          first_step=step, frames=1, size=(480, 360), **extra)
        ExportJob(spec, factory).run()
    return frames


def _expected(step):
    from gdviz.core.history import RunHistory
    from gdviz.core.runner import run_to_end

    history = RunHistory(1)
    history.append(run_to_end(WAVY.config))
    return caption_text(WAVY.captions, [history], 0, step)


def _plot_bottom(view):
    """The y (in ``view``) of the bottom of its plot (a pyqtgraph QGraphicsView)."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QGraphicsView

    plots = [w for w in view.findChildren(QGraphicsView) if w.isVisibleTo(view)]
    return max(p.mapTo(view, QPoint(0, p.height())).y() for p in plots)


def test_a_view_export_draws_each_frames_caption_on_the_frame(qapp, tmp_path):
    with_captions = _export(tmp_path, "samples", True,
                            lambda source: (source.captions.overlay.text(),
                                            source.captions.overlay.geometry(),
                                            _plot_bottom(source.view)))
    plain = _export(tmp_path, "samples", False, lambda source: source.captions)
    for (step, (text, box, plot_bottom), frame), (_, none, bare) in zip(with_captions, plain):
        assert text == _expected(step) != ""
        assert none is None
        assert frame.shape == bare.shape
        x, y, w, h = box.x(), box.y(), box.width(), box.height()
        assert plot_bottom <= y  # a place of its own, under the plot and its x axis
        assert y + h <= frame.shape[0]
        inside = (frame[y:y + h, x:x + w] & 0xFFFFFF) != (bare[y:y + h, x:x + w] & 0xFFFFFF)
        assert inside.mean() > 0.5  # the caption's dark box is drawn there
        rgb = frame[y + h // 2, x + 4:x + w - 4] & 0xFFFFFF
        dark = ((rgb >> 16) & 255) + ((rgb >> 8) & 255) + (rgb & 255) < 3 * 80
        assert dark.mean() > 0.5
    texts = [t for _, (t, _, _), _ in with_captions]
    assert texts[1].startswith("stuck on a flat stretch")
    assert texts[2].startswith("the next sample's curve")
    assert texts[3].startswith("one pass done")


def test_a_window_export_shows_the_caption_as_the_window_does(qapp, tmp_path):
    shown = _export(tmp_path, "window", True,
                    lambda source: (source.window.captions.overlay.text(),
                                    source.window.captions.overlay.isVisible()))
    for step, (text, visible), _ in shown:
        assert text == _expected(step)
        assert visible
    off = _export(tmp_path, "window", False,
                  lambda source: source.window.captions.overlay.isVisible())
    assert not any(visible for _, visible, _ in off)  # the lesson's captions only if asked


def test_cli_export_captions_changes_the_frames_only_with_the_flag(qapp, tmp_path, capsys):
    args = ["export", "--preset", "wavy", "--view", "samples", "--first-step", "17",
            "--frames", "1", "--size", "400x300"]
    assert main([*args, "--png-dir", str(tmp_path / "plain")]) == 0
    assert main([*args, "--captions", "--png-dir", str(tmp_path / "cap")]) == 0
    plain = np.asarray(Image.open(tmp_path / "plain" / "frame_0000.png").convert("RGB"))
    cap = np.asarray(Image.open(tmp_path / "cap" / "frame_0000.png").convert("RGB"))
    def dark_rows(image):  # rows of the bottom 34 px mostly dark, as the caption bar's box
        middle = image[-34:, 20:-20].astype(int).sum(axis=2) < 3 * 80
        return np.flatnonzero(middle.mean(axis=1) > 0.5)

    assert len(dark_rows(plain)) == 0  # the x axis's ticks and title: light
    assert len(dark_rows(cap)) >= 12   # a bar of its own at the bottom of the view


@pytest.mark.parametrize("argv", [
    ["--problem", "rosenbrock", "--steps", "5"],
    ["--preset", "rosenbrock"],
])
def test_cli_export_captions_without_any_is_one_line_and_status_2(qapp, tmp_path, capsys,
                                                                   argv):
    code = main(["export", *argv, "--captions", "--frames", "2", "--out",
                 str(tmp_path / "x.gif")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("gdviz: error: --captions: ")
    assert "has no captions" in err[0]
    assert not (tmp_path / "x.gif").exists()
