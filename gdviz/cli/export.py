"""``gdviz export``: render an animated GIF, an MP4 or WebM video (or numbered PNG frames) of
a run, headless.

The run is described by the options of ``gdviz run`` (or ``--session FILE``); the frames are
drawn by the window's own view classes, offscreen. A comparison preset or session draws every
run, in lock-step, each in its colour and with its name, as the window shows them. Bad input
prints one line on stderr and exits 2 before anything is rendered; a failure while writing
prints one line and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from gdviz.core.errors import ConfigError
from gdviz.core.settings_parse import parse_float, parse_int
from gdviz.core.text import shown

EXIT_FAILED = 1


def add_export_options(parser: argparse.ArgumentParser) -> None:
    from gdviz.cli.options import add_run_options

    add_run_options(parser, command="export")
    out = parser.add_argument_group("animation")
    out.add_argument("--view", default="samples", metavar="VIEW|window",
                     help="what to draw: samples (default), histogram, learning_curve, params, "
                          "data, curvature, contour, network, surface3d (needs an X display "
                          "with OpenGL), or "
                          "window (the whole window)")
    out.add_argument("--frames", metavar="N",
                     help="number of frames (default: one per step over the run, at most 300)")
    out.add_argument("--steps-per-frame", metavar="K",
                     help="optimizer steps between frames (default 1, or spread over the run "
                          "when only --frames is given)")
    out.add_argument("--first-step", default="0", metavar="S",
                     help="step shown by the first frame (default 0, the start point)")
    out.add_argument("--fps", default="10", metavar="F",
                     help="frames per second (default 10; at most 50 for a GIF, 60 for a video)")
    out.add_argument("--size", default="640x480", metavar="WxH",
                     help="frame size in pixels (default 640x480, at most 4096 a side; a "
                          "video's odd side is rounded down to even)")
    out.add_argument("--loop", default="0", metavar="N",
                     help="0: the GIF repeats forever (default); N: it plays N times")
    out.add_argument("--gif-frames", default="whole", choices=("whole", "changes"),
                     help="whole: every GIF frame is the whole picture (default; any tool "
                          "shows any frame alone); changes: only the rectangle that changed, "
                          "a much smaller file that tools which do not compose frames "
                          "(convert 'x.gif[5]') show as fragments")
    out.add_argument("--captions", action="store_true",
                     help="draw the lesson's captions (of the preset, or those saved in the "
                          "session) on the frames, as the window shows them")
    where = out.add_mutually_exclusive_group(required=True)
    where.add_argument("--out", metavar="FILE.gif|FILE.mp4|FILE.webm|DIR/",
                       help="the animation to write: a GIF, an MP4 (H.264) or a WebM (VP9) "
                            "video, chosen by the ending; a folder (ending in / or existing) "
                            "gets numbered PNG frames instead")
    where.add_argument("--png-dir", metavar="DIR",
                       help="write numbered PNG frames frame_0000.png, ... into DIR")


def export_spec_from_args(args: argparse.Namespace):
    """The validated ExportSpec the options describe (ConfigError otherwise). Qt-free."""
    from pathlib import Path

    from gdviz.cli.options import comparison_from_args, config_from_args, session_of
    from gdviz.export.animation import (
        FILE_KINDS,
        ExportSpec,
        frames_for,
        parse_size,
        validate_spec,
    )

    config = config_from_args(args)
    runs, selected = comparison_from_args(args, config)
    if runs:
        config = runs[selected].config
    # the last lock-step index: the longest run's limit
    limit = max(r.config.step_limit() for r in runs) if runs else config.step_limit()
    if args.png_dir:
        kind, out = "png", Path(args.png_dir)
    elif args.out.endswith(("/", os.sep)) or Path(args.out).is_dir():
        kind, out = "png", Path(args.out)
    else:
        out = Path(args.out)
        ending = out.suffix.lower().lstrip(".")
        if ending not in FILE_KINDS:
            raise ConfigError(f"the animation file must end in .gif, .mp4 or .webm (a folder "
                              f"gets PNG frames), got {args.out!r}")
        kind = ending
    first = parse_int(args.first_step, "first step")
    frames = None if args.frames is None else parse_int(args.frames, "number of frames")
    per = None if args.steps_per_frame is None else parse_int(args.steps_per_frame,
                                                             "steps per frame")
    for value, what in ((frames, "number of frames"), (per, "steps per frame")):
        if value is not None and value < 1:
            raise ConfigError(f"{what} must be at least 1, got {value}")
    if first < 0:
        raise ConfigError(f"first step must be at least 0, got {first}")
    if frames is None and per is None:
        frames, per = frames_for(config, first, min(limit, first + 299), 1)
    else:
        frames, per = frames_for(config, first, limit, per, frames)
    choices = {}
    if args.preset:  # the view choices the lesson opens with (the bowl: a linear 3-D height)
        from gdviz.core.presets import get_preset

        choices = {k: dict(v) for k, v in get_preset(args.preset).views.items()}
    if getattr(args, "session", None):
        choices = dict(session_of(args).views)
    captions = captions_from_args(args) if getattr(args, "captions", False) else None
    spec = ExportSpec(config=config, target=args.view, out=out, kind=kind, first_step=first,
                      frames=frames, steps_per_frame=per,
                      fps=parse_float(args.fps, "frames per second"),
                      size=parse_size(args.size), loop=parse_int(args.loop, "loop count"),
                      gif_whole_frames=args.gif_frames == "whole",
                      choices=choices, runs=runs, selected=selected,
                      **({"captions": captions} if captions is not None else {}))
    validate_spec(spec)
    return spec


def captions_from_args(args: argparse.Namespace):
    """The captions ``--captions`` draws: the session's (a session saved before captions
    existed: its comparison preset's), else the preset's; ConfigError when there are none."""
    from gdviz.cli.options import session_of
    from gdviz.core.presets import comparison_preset_of, get_preset

    script, what = None, "this run"
    if getattr(args, "session", None):
        session = session_of(args)
        script, what = session.captions, f"the session {args.session}"
        if script is None:
            preset = comparison_preset_of(r.config for r in session.runs)
            script = preset.captions if preset is not None else None
    elif args.preset:
        script, what = get_preset(args.preset).captions, f"the preset {args.preset}"
    if not script:
        raise ConfigError(f"--captions: {what} has no captions (the lesson presets have; a "
                          "session keeps the captions the window had)")
    return script


def export_command(args: argparse.Namespace, interrupted=None) -> int:
    """Render the export. ``interrupted``: a ``cli.interrupt.SignalFlag``, checked between
    frames; once it is set the export stops, leaves nothing behind and raises
    ``Interrupted`` (the caller exits with 128 + the signal)."""
    from gdviz.export.animation import OPENGL_VIEWS, ExportError, ExportJob, check_writable
    from gdviz.gui.offscreen import ensure_display

    spec = export_spec_from_args(args)
    check_writable(spec)
    ensure_display()
    if spec.target in OPENGL_VIEWS and os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        raise ConfigError("the 3-D view needs a real X display with OpenGL; run under "
                          "xvfb-run or on a desktop")
    from PySide6.QtCore import qInstallMessageHandler

    previous = qInstallMessageHandler(_quiet_qt_messages)
    try:
        from gdviz.gui.offscreen import check_target, ensure_app, make_source

        ensure_app()
        check_target(spec.target)
        job = ExportJob(spec, make_source)  # the CLI picks the source: the views, offscreen
        bar = _ProgressBar(sys.stderr) if sys.stderr.isatty() else None
        started = time.perf_counter()
        try:
            path = job.run(progress=bar, cancelled=interrupted)
        except ExportError as err:
            if bar is not None:
                bar.clear()
            sys.stderr.write(f"gdviz: error: {shown(err, 1000)}\n")
            return EXIT_FAILED
        if bar is not None:
            bar.clear()
        if path is None:  # interrupted: the job removed its temporaries
            interrupted.check()  # raises cli.interrupt.Interrupted: 128 + the signal
            return EXIT_FAILED
        if job.note:
            sys.stderr.write(f"note: {shown(job.note, 1000)}\n")
        if job.removed_stale:
            names = ", ".join(p.name for p in job.removed_stale)
            sys.stderr.write(f"note: removed {len(job.removed_stale)} temporary file(s) left "
                             f"by an export that was killed: {names}\n")
    finally:
        qInstallMessageHandler(previous)
    if spec.frame_size != tuple(spec.size):
        sys.stderr.write(f"note: video frames need even sides (yuv420p): "
                         f"{spec.size[0]}x{spec.size[1]} was rounded down to "
                         f"{spec.frame_size[0]}x{spec.frame_size[1]}\n")
    what = {"png": "PNG frames in", "mp4": "MP4", "webm": "WebM"}.get(spec.kind, "GIF")
    width, height = spec.frame_size
    sys.stderr.write(f"wrote {what} {path}: {spec.frames} frames of "
                     f"{width}x{height} in {time.perf_counter() - started:.1f} s\n")
    return 0


def _quiet_qt_messages(kind, context, message: str) -> None:
    """The offscreen platform's notice about size hints is noise; anything else is shown."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


class _ProgressBar:
    """``[#######.............]  35/100 frames  2.1 s left`` on one terminal line."""

    WIDTH = 30

    def __init__(self, stream) -> None:
        self.stream = stream
        self._last = 0.0

    def __call__(self, job) -> None:
        now = time.perf_counter()
        if now - self._last < 0.1 and job.done < job.total:
            return
        self._last = now
        filled = int(self.WIDTH * job.done / job.total)
        eta = job.eta_s()
        left = f"{eta:.1f} s left" if eta is not None else ""
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                          f"{job.done}/{job.total} frames  {left}   ")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r" + " " * (self.WIDTH + 40) + "\r")
        self.stream.flush()
