"""``gdviz --smoke``: a self-test of the whole app, for the frozen executable and CI.

Opens the real main window (offscreen when there is no display), plays a few hundred steps of
every lesson preset through the real controller and worker thread, renders every view (the
3-D view only where OpenGL works), checks that no picture is blank and that every view changed
from step 0, exports a 10-frame GIF, then closes the window and checks the worker thread
stopped. One progress line per preset on stdout; on failure one line
``gdviz --smoke: FAILED: <reason>`` on stderr and exit status 1.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

STEPS = 300  # per lesson (fewer when the lesson's run is shorter)
TIMEOUT_S = 30.0  # per lesson
WINDOW_SIZE = (1280, 800)
MIN_INK = 0.002  # a view is blank when fewer than 0.2 % of its pixels differ from the background


class SmokeFailure(Exception):
    """One line saying what failed."""


def run_smoke(steps: int = STEPS) -> int:
    """Run the self-test; 0 when everything works, else 1 with the reason on stderr."""
    from gdviz.gui.offscreen import ensure_display

    ensure_display()  # offscreen when there is no display; before the QApplication exists
    started = time.perf_counter()
    from PySide6.QtCore import qInstallMessageHandler

    previous = qInstallMessageHandler(_quiet_qt_messages)
    try:
        with DrawErrors() as errors:
            _smoke(steps, errors)
    except SmokeFailure as err:
        sys.stderr.write(f"gdviz --smoke: FAILED: {err}\n")
        return 1
    except Exception as err:  # any crash is a failed self-test, reported in one line
        sys.stderr.write(f"gdviz --smoke: FAILED: {type(err).__name__}: {err}\n")
        return 1
    finally:
        qInstallMessageHandler(previous)
    print(f"smoke OK in {time.perf_counter() - started:.1f} s", flush=True)
    return 0


def _quiet_qt_messages(kind, context, message: str) -> None:
    """Drop the offscreen platform's notice about window size hints (one per dock, harmless);
    pass every other Qt message on to stderr, so the last stderr line stays the reason."""
    if "propagateSizeHints" not in message:
        sys.stderr.write(message + "\n")


class DrawErrors:
    """Exceptions swallowed while drawing, which would otherwise leave a view silently wrong:
    pyqtgraph reports them as RuntimeWarnings carrying a traceback (``debug.printExc``), and
    PySide6 hands those raised in Qt virtuals (``paintEvent``...) to ``sys.excepthook``.
    ``check(phase)`` raises SmokeFailure when any arrived; other warnings are shown as usual."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def __enter__(self) -> DrawErrors:
        self._warnings = warnings.catch_warnings()
        self._warnings.__enter__()
        warnings.simplefilter("always")
        self._showwarning = warnings.showwarning
        warnings.showwarning = self._on_warning
        self._excepthook, sys.excepthook = sys.excepthook, self._on_exception
        return self

    def __exit__(self, *exc) -> None:
        sys.excepthook = self._excepthook
        self._warnings.__exit__(*exc)

    def _on_warning(self, message, category, filename, lineno, file=None, line=None) -> None:
        text = str(message)
        if "Traceback" in text:
            self.errors.append(_exception_line(text))
        else:
            self._showwarning(message, category, filename, lineno, file, line)

    def _on_exception(self, kind, value, tb) -> None:
        self.errors.append(f"{kind.__name__}: {value}")

    def check(self, phase: str) -> None:
        if self.errors:
            first, count = self.errors[0], len(self.errors)
            self.errors.clear()
            raise SmokeFailure(f"{phase}: {count} error(s) while drawing; the first: {first}")


def _exception_line(traceback_text: str) -> str:
    """The exception of a formatted traceback in one line (its message may span lines)."""
    lines = [x.strip() for x in traceback_text.strip().splitlines()]
    starts = [i for i, x in enumerate(lines) if x and not x.startswith(("File ", "Traceback",
                                                                         "---", "^", "~"))
              and ("Error" in x.split(":")[0] or "Exception" in x.split(":")[0])]
    tail = lines[starts[-1]:] if starts else lines[-1:]
    return " ".join(x for x in tail if x and not x.startswith("debug."))[:300]


def _smoke(steps: int, errors: DrawErrors) -> None:
    from PySide6.QtCore import Qt

    from gdviz.core.presets import list_presets
    from gdviz.gui.app import ensure_app
    from gdviz.gui.main_window import MainWindow
    from gdviz.gui.settings import AppSettings
    from gdviz.gui.tasks import running_threads

    app = ensure_app()
    lessons = [p for p in list_presets() if p.group == "lesson"]
    if not lessons:
        raise SmokeFailure("no lesson presets found (resources/presets missing?)")
    from gdviz.gui.views.surface3d import gl_unavailable_reason

    gl_reason = gl_unavailable_reason()
    gl_ok = not gl_reason
    print(f"platform {app.platformName()}; OpenGL "
          + ("available: 3-D views are checked" if gl_ok
             else f"not available: {gl_reason}; 3-D views are skipped"), flush=True)

    window = MainWindow(preset=lessons[0].name, settings=AppSettings(memory=True))
    failures: list[str] = []
    window.controller.sig_failed.connect(failures.append)
    try:
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        window.resize(*WINDOW_SIZE)
        window.show()
        app.processEvents()
        views = _docked_views(window)
        errors.check("opening the window")
        for preset in lessons:
            _play_preset(app, window, views, preset, steps, gl_ok, failures)
            errors.check(preset.name)
        _check_export(window, steps)
        errors.check("export")
    finally:
        window.close()
        app.processEvents()
    if running_threads():
        raise SmokeFailure(f"{len(running_threads())} background thread(s) still running after "
                           "close")
    from gdviz.gui import step_process

    if step_process.enabled():
        if not step_process.served_runs():
            raise SmokeFailure("no run was computed by a step server process (the worker "
                               "thread computed them all): see the log for why")
        print(f"step servers computed {step_process.served_runs()} runs", flush=True)


def _docked_views(window) -> list:
    """Every view the window made (the controller's list loses views that fail to draw)."""
    from gdviz.gui.views import VIEW_CLASSES
    from gdviz.gui.views.base import LessonView

    views = [d.widget() for d in window.docks.values() if isinstance(d.widget(), LessonView)]
    missing = [c.__name__ for c in VIEW_CLASSES if not any(isinstance(v, c) for v in views)]
    if missing:
        raise SmokeFailure(f"the window could not create {', '.join(missing)}")
    return views


def _play_preset(app, window, views: list, preset, steps: int, gl_ok: bool,
                 failures: list[str]) -> None:
    start = time.perf_counter()
    window.load_preset(preset.name)
    controller = window.controller
    if controller.config.problem != preset.config.problem:
        raise SmokeFailure(f"{preset.name}: the window did not load the preset")
    before = _render_views(app, window, views, preset.name, gl_ok)
    controller.run_until(steps, timeout_s=TIMEOUT_S)
    taken = controller.history.last.step
    if failures or controller.state == "failed":
        raise SmokeFailure(f"{preset.name}: {(failures or [controller.last_error])[0]}")
    if controller.state == "running":
        raise SmokeFailure(f"{preset.name}: still running after {TIMEOUT_S:.0f} s "
                           f"({taken} of {steps} steps)")
    if taken < min(steps, controller.config.step_limit()) and controller.state == "paused":
        raise SmokeFailure(f"{preset.name}: paused at step {taken} of {steps}")
    after = _render_views(app, window, views, preset.name, gl_ok)
    if failures:  # a view behind a tab while the run played fails when it is brought forward
        raise SmokeFailure(f"{preset.name}: {failures[0]}")
    for view, pixels in after.items():
        if pixels.shape == before[view].shape and np.array_equal(pixels, before[view]):
            raise SmokeFailure(f"{preset.name}: the {view.title} view did not change "
                               f"after {taken} steps")
    skipped = len(views) - len(after)
    extra = f", {skipped} skipped (no OpenGL)" if skipped else ""
    print(f"{preset.name}: {taken} steps ({controller.state}), {len(after)} views drawn{extra} "
          f"in {time.perf_counter() - start:.2f} s", flush=True)


def _render_views(app, window, views: list, name: str, gl_ok: bool) -> dict:
    """Bring every view's dock to the front, draw the current step and grab it: {view: pixels}.
    Fails when a view raised while drawing or its picture is blank."""
    controller = window.controller
    last = controller.last_index
    grabs = {}
    for view in views:
        if uses_opengl(view) and not gl_ok:
            continue
        if view not in controller.views:  # the controller drops a view that raised
            raise SmokeFailure(f"{name}: the {view.title} view failed while drawing")
        dock = window.docks.get(view.view_id)
        if dock is not None:
            dock.show()
            dock.raise_()
        app.processEvents()
        controller.show_views(last, [view])
        wait = getattr(view, "wait_ready", None)   # what it computes in the background
        if wait is not None:
            wait(int(TIMEOUT_S * 1000))
        app.processEvents()
        pixels = grab_pixels(view)
        ink = image_ink(pixels)
        if ink < MIN_INK:
            raise SmokeFailure(f"{name}: the {view.title} view is blank ({ink:.2%} ink, "
                               f"{view.width()}x{view.height()} px)")
        grabs[view] = pixels
    return grabs


def _check_export(window, steps: int) -> None:
    """Export a 10-frame GIF of the window's current run, as File > Export does (a replay of the
    run drawn by a hidden second window), into a temporary folder, and read it back."""
    from PIL import Image

    from gdviz.export.animation import ExportJob, ExportSpec, frames_for
    from gdviz.gui.offscreen import make_source
    from gdviz.gui.view_choices import view_choices

    start = time.perf_counter()
    config = window.controller.config
    frames, per = frames_for(config, last_step=min(steps, config.step_limit()), frames=10)
    with tempfile.TemporaryDirectory(prefix="gdviz-smoke-") as folder:
        spec = ExportSpec.of_runs(  # every run of the window (a comparison exports all)
            window.controller.runs, window.controller.selected_track,
            target="window", out=Path(folder) / "smoke.gif", frames=frames,
            steps_per_frame=per, choices={v.view_id: view_choices(v) for v in window.views},
            window_state=bytes(window.saveState().data()))
        try:
            path = ExportJob(spec, make_source).run()
            with Image.open(path) as gif:
                count, size = gif.n_frames, gif.size
        except Exception as err:
            raise SmokeFailure(f"export: {type(err).__name__}: {err}") from None
    if count != frames or frames != 10:
        raise SmokeFailure(f"export: the GIF holds {count} frames, expected 10")
    print(f"export: 10-frame GIF of the window ({size[0]}x{size[1]}, one frame every {per} "
          f"steps) in {time.perf_counter() - start:.2f} s", flush=True)


def grab_pixels(widget) -> np.ndarray:
    """The widget rendered now, as a (height, width) array of 0xAARRGGBB values."""
    from PySide6.QtGui import QImage

    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return np.zeros((0, 0), np.uint32)
    rows = np.frombuffer(image.constBits(), np.uint32).reshape(image.height(), -1)
    return rows[:, :image.width()].copy()  # copy: the buffer dies with the QImage


def image_ink(pixels: np.ndarray) -> float:
    """Fraction of pixels that differ from the most common colour (0.0 for an empty image)."""
    if pixels.size == 0:
        return 0.0
    _, counts = np.unique(pixels, return_counts=True)
    return 1.0 - counts.max() / pixels.size


def uses_opengl(widget) -> bool:
    from PySide6.QtOpenGLWidgets import QOpenGLWidget

    return isinstance(widget, QOpenGLWidget) or bool(widget.findChildren(QOpenGLWidget))
