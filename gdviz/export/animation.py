"""The export job: replay the run(s), have a frame source draw them, write a GIF, an MP4 or
WebM video, or PNG frames.

Qt-free: the job drives a frame source it is GIVEN (``FrameSource`` below says what one does);
the caller picks it (the window and ``gdviz export`` give ``gdviz.gui.offscreen.make_source``,
which draws with the window's own views, offscreen). The numbers come from a replay of the
runner (same config -> the same records, bit for bit), never from the live run. A comparison
(``spec.runs``: every run with its name and colour) is replayed in lock-step, as the window
runs it (core.lockstep.iterate_lockstep): frame i shows lock-step index first_step + i * K,
and a run that ended stays at its last step.

    job = ExportJob(spec, make_source)  # ConfigError for bad input (one line)
    job.open()                     # the frame source, the palette, the temporary output;
                                   # ExportError when the output cannot be written
    while job.render_next():       # one frame per call: the GUI calls it from a QTimer
        ...                        # (job.done, job.total, job.eta_s() for a progress bar)
    path = job.finish()            # rename the temporary file into place
    job.abort()                    # on cancel or error: no partial file is left

``job.run(progress, cancelled)`` does all of it for the command line. A cancel is checked
between frames only: a frame is drawn and written whole, and no frame source runs the event
loop (a click must not run in the middle of a frame).

A GIF or a video (``gdviz.export.video``: MP4 H.264, WebM VP9) is written to a hidden
temporary file beside the target and renamed at the end; PNG
frames (frame_0000.png, ...) are written to a hidden temporary folder inside the target folder
and moved into place at the end (``gdviz.export.files``). A cancel or a failure removes them.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from gdviz.core.captions import CaptionScript
from gdviz.core.errors import ConfigError, format_number
from gdviz.core.history import RunHistory
from gdviz.core.lockstep import StepGroup, check_runs, iterate_lockstep
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.run_set import RunSpec
from gdviz.core.text import shown
from gdviz.export.files import (
    existing_parent,
    publish,
    remove_stale_temporaries,
    temp_file_beside,
    temp_folder_in,
)
from gdviz.export.gif import (
    MAX_DELAY_CS,
    MAX_FPS,
    MIN_FPS,
    GifWriter,
    build_palette,
    codes_to_image,
)
from gdviz.export.video import MAX_VIDEO_FPS, VIDEO_KINDS, VideoWriter, even_size

WINDOW = "window"  # the target that draws the whole window
OPENGL_VIEWS = ("surface3d",)  # targets that need OpenGL (a real display, not offscreen)
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
MAX_SIDE = 4096
MIN_SIDE = 16
MAX_FRAMES = 100_000
PNG_NAME = "frame_{:04d}.png"
FILE_KINDS = ("gif", *VIDEO_KINDS)  # kinds written to one file (named FILE.<kind>)
KINDS = (*FILE_KINDS, "png")


REPLAY_CHUNK = 1000  # lock-step groups replayed and handed to the source at a time


class _Cancelled(Exception):  # noqa: N818
    """``run(cancelled=...)`` became true while replaying: unwinds to ``run``."""


class ExportError(Exception):
    """The export failed while running (disk full, folder removed, a view failed): a sentence."""


class FrameSource(Protocol):
    """What draws the frames (``gdviz.gui.offscreen``): it owns the runs' histories it draws.

    ``start(config, first, run)`` / ``start_runs(runs, selected, firsts)`` set up one run or a
    comparison from their start records and return each run's history (read by the job for
    its notes); ``append(groups)`` adds replayed lock-step groups; ``render(index)`` draws
    lock-step ``index`` as a (height, width) uint32 array of 0xAARRGGBB pixels of the size
    it was made with (the spec's ``frame_size``); ``colors`` are the runs' colours and
    ``palette_swatch()`` an image of every colour the frames may use (for the GIF's one
    palette); ``set_captions(script)`` (called after ``start``/``start_runs`` when the spec
    has captions) draws the caption of each frame's step as the window shows it; ``close()``
    frees it all."""

    colors: tuple[str, ...]

    def start(self, config: RunConfig, first: StepRecord, run: Any = None) -> RunHistory: ...

    def start_runs(self, runs: Sequence[Any], selected: int,
                   firsts: StepGroup) -> list[RunHistory]: ...

    def append(self, groups: Sequence[StepGroup]) -> None: ...

    def render(self, index: int) -> np.ndarray: ...

    def set_captions(self, script: CaptionScript) -> None: ...

    def close(self) -> None: ...


# (target, (width, height), choices, window_state) -> the source of the frames
SourceFactory = Callable[[str, tuple[int, int], dict, "bytes | None"], FrameSource]


@dataclass(frozen=True)
class ExportSpec:
    """What to export.

    config: the run, or with ``runs`` the selected run's configuration (``runs[selected]``)
    target: a view id ("samples", "histogram", ...) or "window"
    out: the GIF, MP4 or WebM file (kind "gif", "mp4", "webm"), or for kind "png" the
        folder of the numbered PNG frames
    first_step: history step of the first frame; frame i shows step first_step + i * steps_per_frame
        (with several runs: the lock-step index, every run's step)
    frames: number of frames (>= 1); size: (width, height) in pixels (a video's frames are
        ``frame_size``: odd sides rounded down to even); fps: frames per second
    loop: 0 = the GIF repeats forever, n >= 1 = it plays n times
    gif_whole_frames: True = every GIF frame is the whole picture (any tool shows any frame
        alone); False = only the rectangle that changed (smaller; see gdviz.export.gif)
    choices: {view_id: {choice: value}} copied from the window (parameter shown, log scale...)
    window_state: the window's dock layout (``saveState()``) for target "window"
    runs: a comparison: 2..6 runs, each with ``name``, ``color`` (#rrggbb) and ``config``
        (the window's ``RunSpec``s), drawn as the window draws them; () = the one run ``config``
    selected: the index in ``runs`` of the selected run (the single-run views follow it)
    single_run: one run from the window (``runs`` empty): its name and colour are drawn as the
        window draws them; None: labelled with the problem's name, in the default colour
    captions: the lesson's captions to draw on the frames (core.captions; empty: none); the
        source shows them as the window does (``set_captions`` of the frame source)

    ``ExportSpec.of_runs(runs, selected, ...)`` builds either kind from the window's runs.
    """

    config: RunConfig
    target: str
    out: Path
    kind: str = "gif"
    first_step: int = 0
    frames: int = 100
    steps_per_frame: int = 1
    fps: float = 10.0
    size: tuple[int, int] = (640, 480)
    loop: int = 0
    gif_whole_frames: bool = True
    choices: Mapping[str, Any] = field(default_factory=dict)
    window_state: bytes | None = None
    runs: tuple[RunSpec, ...] = ()
    selected: int = 0
    single_run: RunSpec | None = None
    captions: CaptionScript = CaptionScript()

    @classmethod
    def of_runs(cls, runs: Sequence[RunSpec], selected: int = 0, **fields: Any) -> ExportSpec:
        """The spec exporting every run of ``runs``; one run is exported as a single run, with
        its name and colour (the frames of ``ExportSpec(config=...)`` but for those)."""
        runs = tuple(runs)
        if not runs:
            raise ConfigError("nothing to export: there is no run")
        if len(runs) == 1:
            return cls(config=runs[0].config, single_run=runs[0], **fields)
        return cls(config=runs[selected].config, runs=runs, selected=selected, **fields)

    @property
    def configs(self) -> tuple[RunConfig, ...]:
        """Every run's configuration (one for a single run)."""
        return tuple(r.config for r in self.runs) if self.runs else (self.config,)

    @property
    def step_limit(self) -> int:
        """The last lock-step index there can be: the longest run's step limit."""
        return max(config.step_limit() for config in self.configs)

    @property
    def last_step(self) -> int:
        return self.first_step + (self.frames - 1) * self.steps_per_frame

    def frame_step(self, i: int) -> int:
        return self.first_step + i * self.steps_per_frame

    @property
    def frame_size(self) -> tuple[int, int]:
        """(width, height) of the frames drawn: ``size``, for a video with odd sides rounded
        down to even (yuv420p stores colour per 2x2 block)."""
        return even_size(self.size) if self.kind in VIDEO_KINDS else tuple(self.size)


_SIZE = re.compile(r"\s*(\d{1,6})\s*[xX]\s*(\d{1,6})\s*", re.ASCII)


def parse_size(text: str) -> tuple[int, int]:
    """'640x480' -> (640, 480): ASCII digits only (``²x480`` and other scripts' digits pass
    ``str.isdigit``; they are refused here); ConfigError for anything else."""
    found = _SIZE.fullmatch(str(text))
    if found is None:
        raise ConfigError(f"size must look like WIDTHxHEIGHT, e.g. 640x480, got "
                          f"'{shown(text, 40)}'")
    return int(found.group(1)), int(found.group(2))


def validate_spec(spec: ExportSpec) -> None:
    """ConfigError with one sentence when the spec cannot be exported."""
    if spec.kind not in KINDS:
        raise ConfigError(f"export kind must be one of {', '.join(KINDS)}, got {spec.kind!r}")
    for name, value, low in (("number of frames", spec.frames, 1),
                             ("steps per frame", spec.steps_per_frame, 1),
                             ("first step", spec.first_step, 0),
                             ("loop count", spec.loop, 0)):
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise ConfigError(f"{name} must be a whole number >= {low}, got {value!r}")
    if spec.frames > MAX_FRAMES:
        raise ConfigError(f"number of frames must be at most {MAX_FRAMES}, got {spec.frames}")
    fps = spec.fps
    video = spec.kind in VIDEO_KINDS
    top = MAX_VIDEO_FPS if video else MAX_FPS
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) \
            or not MIN_FPS <= fps <= top:
        why = "" if video else (f" (GIF delays are hundredths of a second, at most "
                                f"{MAX_DELAY_CS})")
        raise ConfigError(f"frames per second must be from {MIN_FPS:g} to {top:g}{why}, got "
                          f"{format_number(fps)}")
    width, height = spec.size
    for side in (width, height):
        if not MIN_SIDE <= side <= MAX_SIDE:
            raise ConfigError(f"size must be between {MIN_SIDE} and {MAX_SIDE} pixels a side, "
                              f"got {width}x{height}")
    if spec.runs:
        _validate_runs(spec)
    elif spec.single_run is not None:
        run = spec.single_run
        if run.config != spec.config:
            raise ConfigError("the export's config must be its run's")
        if not isinstance(run.color, str) or not _COLOR.match(run.color):
            raise ConfigError(f"run {run.name!r}: the colour must look like #rrggbb, "
                              f"got {run.color!r}")
    if not isinstance(spec.captions, CaptionScript):
        raise ConfigError("the export's captions must be a caption script")
    spec.captions.check_runs(max(1, len(spec.runs)))
    limit = spec.step_limit
    if spec.last_step > limit:
        run = "the longest run" if spec.runs else "the run"
        raise ConfigError(
            f"the frames need steps up to {spec.last_step} but {run} stops after {limit} "
            f"steps: use fewer frames or steps per frame, or a longer run (--steps/--epochs)")
    out = Path(spec.out)
    if spec.kind in FILE_KINDS:
        suffix = f".{spec.kind}"
        if out.suffix.lower() != suffix:
            raise ConfigError(f"the {spec.kind.upper()} file must end in {suffix}, "
                              f"got {str(out)!r}")
        if out.is_dir():
            raise ConfigError(f"{out} is a folder; name a {suffix} file")
    elif out.exists() and not out.is_dir():
        raise ConfigError(f"{out} exists and is not a folder (PNG frames go into a folder)")


def _validate_runs(spec: ExportSpec) -> None:
    runs = spec.runs
    if len(runs) < 2:
        raise ConfigError(f"a comparison export needs 2 or more runs, got {len(runs)}; "
                          "export a single run with its config alone")
    check_runs([r.config for r in runs])
    for run in runs:
        if not isinstance(run.color, str) or not _COLOR.match(run.color):
            raise ConfigError(f"run {run.name!r}: the colour must look like #rrggbb, "
                              f"got {run.color!r}")
    selected = spec.selected
    if isinstance(selected, bool) or not isinstance(selected, int) \
            or not 0 <= selected < len(runs):
        raise ConfigError(f"the selected run must be an index from 0 to {len(runs) - 1}, "
                          f"got {selected!r}")
    if runs[selected].config != spec.config:
        raise ConfigError("the export's config must be the selected run's")


def check_writable(spec: ExportSpec) -> None:
    """ConfigError when the output's folder does not exist or cannot be written."""
    folder = (Path(spec.out).parent if spec.kind in FILE_KINDS
              else existing_parent(Path(spec.out)))
    if not folder.is_dir():
        raise ConfigError(f"cannot write {spec.out}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {spec.out}: the folder {folder} is not writable")


def _early_end_note(history) -> str:
    last = history.last
    if last is None:
        return ""
    why = last.message or f"the run ended at step {last.step}"
    return f"{why}; the frames after step {last.step} show step {last.step}"


def _runs_ended_note(runs: Sequence, histories: Sequence, step: int) -> str:
    """Which runs of a comparison ended before lock-step ``step`` (each stays at its last
    step in the later frames, as in the window); "" when none did."""
    parts = []
    for run, history in zip(runs, histories):
        last = history.last
        if last is not None and last.finished and last.step < step:
            why = last.message or f"ended at step {last.step}"
            parts.append(f"{run.name}: {why}")
    if not parts:
        return ""
    which = "it stays" if len(parts) == 1 else "each stays"
    return "; ".join(parts) + f" ({which} at its last step in the later frames)"


def frames_for(config: RunConfig, first_step: int = 0, last_step: int | None = None,
               steps_per_frame: int | None = None, frames: int | None = None) -> tuple[int, int]:
    """(frames, steps_per_frame) covering first..last step (default: the whole run) given one of
    steps per frame or frame count (neither: one step per frame)."""
    last = config.step_limit() if last_step is None else last_step
    span = max(0, last - first_step)
    if steps_per_frame is not None and frames is not None:
        return frames, steps_per_frame
    if frames is not None:
        return frames, max(1, span // max(1, frames - 1))
    k = steps_per_frame or 1
    return span // k + 1, k


class ExportJob:
    """One export, frame by frame, drawn by the source ``source_factory`` makes (the caller
    picks it: ``gdviz.gui.offscreen.make_source``). Not thread-safe: the GUI drives it on the
    GUI thread."""

    def __init__(self, spec: ExportSpec, source_factory: SourceFactory) -> None:
        validate_spec(spec)
        self.spec = spec
        self.done = 0
        self.total = spec.frames
        self.path: Path | None = None
        self._source_factory = source_factory
        self._source = None
        self._records: Iterator[StepGroup] | None = None  # lock-step groups (one per step)
        self._histories: list = []  # the source's history of each run, appended to
        self._writer: GifWriter | VideoWriter | None = None
        self._handle = None
        self._temp: Path | None = None
        self._started = 0.0
        self._closed = False
        self._first = None  # the first frame, rendered early for the palette
        self._cancelled: Callable[[], bool] | None = None  # run()'s, checked while replaying
        self.note = ""  # set when the run ended (converged, diverged) before the last frame
        self.removed_stale: list[Path] = []  # temporaries of killed exports removed by open()

    # -- life cycle -------------------------------------------------------------------------
    def open(self) -> None:
        """Create the frame source and the temporary output. ConfigError for an output that
        cannot be written, ExportError when the views cannot start."""
        check_writable(self.spec)
        spec = self.spec
        # temporaries of an earlier export into this folder that was killed (SIGKILL) before
        # it could remove them: their process is gone, so they can never be finished
        self.removed_stale = remove_stale_temporaries(self._temp_folder())
        try:
            self._temp = self._make_temp()
        except OSError as err:
            raise ConfigError(f"cannot write {spec.out}: {err.strerror or err}") from None
        try:
            self._source = self._source_factory(spec.target, spec.frame_size,
                                                dict(spec.choices), spec.window_state)
            # one run is a lock-step of one: its groups hold exactly runner.iterate's records
            self._records = iterate_lockstep(spec.configs)
            firsts = next(self._records)
            if spec.runs:
                self._histories = list(self._source.start_runs(spec.runs, spec.selected,
                                                               firsts))
            else:
                self._histories = [self._source.start(spec.config, firsts[0],
                                                      spec.single_run)]
            if spec.captions:
                self._source.set_captions(spec.captions)
            if spec.kind == "gif":
                self._open_gif()
            elif spec.kind in VIDEO_KINDS:
                self._writer = VideoWriter(self._temp, spec.kind, spec.frame_size, spec.fps)
        except BaseException:
            self.abort()
            raise
        self._started = time.perf_counter()

    def render_next(self) -> bool:
        """Render and write the next frame; False when every frame is done."""
        if self.done >= self.total:
            return False
        try:
            frame, self._first = self._first, None
            if frame is None or self.done:
                frame = self._render(self.spec.frame_step(self.done))
            if self.spec.kind in FILE_KINDS:
                self._writer.add(frame)
            else:
                codes_to_image(frame).save(self._temp / PNG_NAME.format(self.done), "PNG",
                                           compress_level=1)
        except OSError as err:
            self.abort()
            raise ExportError(f"could not write {self.spec.out}: {err.strerror or err}") \
                from None
        except (ConfigError, _Cancelled):
            self.abort()
            raise
        except Exception as err:
            self.abort()
            raise ExportError(f"the export failed at frame {self.done}: "
                              f"{type(err).__name__}: {err}") from None
        self.done += 1
        return self.done < self.total

    def finish(self) -> Path:
        """Close the output and move it into place; returns the final path."""
        if self.done < self.total:
            raise ExportError(f"only {self.done} of {self.total} frames were rendered")
        out = Path(self.spec.out)
        try:
            if self.spec.kind in FILE_KINDS:
                self._writer.close()
                if self._handle is not None:  # the GIF's file; a VideoWriter owns its own
                    self._handle.flush()
                    os.fsync(self._handle.fileno())
                    self._handle.close()
                    self._handle = None
                publish(self._temp, out)
            else:
                out.mkdir(parents=True, exist_ok=True)
                for i in range(self.total):
                    name = PNG_NAME.format(i)
                    os.replace(self._temp / name, out / name)
                self._temp.rmdir()
        except OSError as err:
            self.abort()
            raise ExportError(f"could not write {out}: {err.strerror or err}") from None
        self._temp = None
        self.path = out
        self._close_source()
        return out

    def abort(self) -> None:
        """Stop and remove every temporary file; the target is left as it was."""
        if isinstance(self._writer, VideoWriter):
            self._writer.abort()
        if self._handle is not None:
            with contextlib.suppress(OSError):
                self._handle.close()
            self._handle = None
        if self._temp is not None:
            if self._temp.is_dir():
                shutil.rmtree(self._temp, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    self._temp.unlink()
            self._temp = None
        self._close_source()

    def run(self, progress: Callable[[ExportJob], None] | None = None,
            cancelled: Callable[[], bool] | None = None) -> Path | None:
        """Open, render every frame and finish; None when ``cancelled()`` became true (it is
        checked between frames and between chunks of replayed steps; everything temporary
        is removed)."""
        self._cancelled = cancelled
        try:
            self.open()
            while self.done < self.total:
                if cancelled is not None and cancelled():
                    self.abort()
                    return None
                self.render_next()
                if progress is not None:
                    progress(self)
            if cancelled is not None and cancelled():
                self.abort()
                return None
        except _Cancelled:
            self.abort()
            return None
        except BaseException:
            self.abort()
            raise
        return self.finish()

    # -- progress -----------------------------------------------------------------------------
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._started if self._started else 0.0

    def eta_s(self) -> float | None:
        """Seconds left at the pace so far (None before the first frame)."""
        if self.done == 0:
            return None
        return self.elapsed_s() / self.done * (self.total - self.done)

    # -- helpers ------------------------------------------------------------------------------
    def _temp_folder(self) -> Path:
        """The folder the temporary output goes into (the target's, same file system)."""
        out = Path(self.spec.out)
        if self.spec.kind in FILE_KINDS:
            return out.absolute().parent
        return out if out.is_dir() else existing_parent(out)

    def _make_temp(self) -> Path:
        if self.spec.kind in FILE_KINDS:
            return temp_file_beside(Path(self.spec.out), f".{self.spec.kind}.part")
        return temp_folder_in(self._temp_folder())

    def _open_gif(self) -> None:
        """The shared palette comes from the first frame plus a swatch of the views' colours
        blended into the background (colours that only appear later, like the update arrow,
        must be in it; frames are drawn in order, so later frames cannot be sampled)."""
        spec = self.spec
        self._first = self._render(spec.frame_step(0))
        samples = [self._first]
        swatch = getattr(self._source, "palette_swatch", None)
        if swatch is not None:
            samples.append(swatch())
        self._handle = open(self._temp, "wb")  # noqa: SIM115 (closed in finish/abort)
        self._writer = GifWriter(self._handle, spec.frame_size, spec.fps, spec.loop,
                                 build_palette(samples), whole_frames=spec.gif_whole_frames)

    def _render(self, step: int):
        """Replay the runs in lock-step up to index ``step`` (the source appends them to its
        histories) and draw it. A run that stopped earlier (converged, diverged) shows its
        last step, and so do all once every run has stopped.

        The replayed steps are handed to the source in chunks of REPLAY_CHUNK, so the job
        never holds more than one chunk of step records however far apart two frames are
        (a list of every record between two frames grew ~1.5 KB a step: 1.5 GB for 10^6);
        a cancel (``run(cancelled=...)``) is checked between chunks."""
        histories = self._histories
        have = max(h.last_step for h in histories) + 1   # steps recorded (0..have-1)
        ended = False
        first_chunk = True
        while have <= step and not ended:
            if not first_chunk and self._cancelled is not None and self._cancelled():
                raise _Cancelled  # between chunks (run() checks between frames)
            first_chunk = False
            groups = list(itertools.islice(self._records, min(REPLAY_CHUNK, step + 1 - have)))
            ended = not groups
            if groups:
                self._source.append(groups)
                have += len(groups)
        if len(histories) == 1 and have <= step:
            self.note = _early_end_note(histories[0])
        if self.spec.runs:
            self.note = _runs_ended_note(self.spec.runs, histories, step) or self.note
        return self._source.render(min(step, max(h.last_step for h in histories)))

    def _close_source(self) -> None:
        if self._source is not None and not self._closed:
            self._closed = True
            # closing a hidden widget must not mask the real error
            with contextlib.suppress(Exception):
                self._source.close()
            self._source = None  # nothing of a closed source is kept alive by the job
