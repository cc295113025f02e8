"""Start the desktop app: QApplication, the main window, and screenshots.

``main_gui`` never lets a traceback reach the user: bad input returns 2 with one line on
stderr, and an unexpected exception in the running app becomes a dialog (sys.excepthook).
"""

from __future__ import annotations

import logging
import os
import sys
import time
import traceback
from pathlib import Path

from gdviz.core.errors import ConfigError
from gdviz.export.files import atomic_path, check_target

log = logging.getLogger(__name__)
EXIT_BAD_INPUT = 2
SCREENSHOT_SIZE = (1280, 800)
STARTUP_PROBE = "GDVIZ_STARTUP_PROBE"  # =1: print the start-up time at the first paint, quit


def _error(message: str) -> int:
    sys.stderr.write(f"gdviz: error: {message}\n")
    return EXIT_BAD_INPUT


def app_icon():
    from PySide6.QtGui import QIcon

    from gdviz.core.resources import resource_path

    try:
        path = resource_path("icons", "gdviz.png")
    except FileNotFoundError:
        return QIcon()
    return QIcon(str(path)) if path.is_file() else QIcon()


_HARMLESS_QT_MESSAGES = ("propagateSizeHints",)  # offscreen platform noise on every dock


def _qt_message_handler(mode, context, message: str) -> None:
    if any(text in message for text in _HARMLESS_QT_MESSAGES):
        return
    sys.stderr.write(message + "\n")


SWITCH_INTERVAL = 0.0005  # s: see ensure_app
NO_QT_POOL = "QT_NO_GUI_THREADPOOL"   # see ensure_app


def ensure_app():
    """The QApplication (created once, with the names QSettings uses)."""
    from PySide6.QtWidgets import QApplication

    # The optimizer thread computes in Python while the GUI thread waits: a GUI thread that
    # wants the GIL back (a timer, a key press, the next paint) waits up to the switch interval
    # each time, 5 ms by default; at 0.5 ms a 16 ms timer keeps ticking while a run plays
    # (measured: p50 delay 55 -> 0.5 ms).
    sys.setswitchinterval(SWITCH_INTERVAL)
    # Qt 6 splits large fills, strokes and image scalings across a pool of its own threads
    # and has the GUI thread wait for them. While a run plays, the step server keeps a core
    # busy, so the GUI thread waited for pool threads that waited for a core: on mlp_spiral
    # with seven views, ~240 pool wake-ups and ~180 preemptions of the GUI thread per redraw
    # (benchmarks/bench_gui.py's thread table); without the pool 12-14 preemptions, and the
    # timer's p99 fell from 35-44 ms to 19-27 ms. Read when Qt first wants the pool; a value
    # the user set wins.
    os.environ.setdefault(NO_QT_POOL, "1")
    app = QApplication.instance()
    if app is None:
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QGuiApplication

        # Qt 6 scales for high-DPI screens itself; pass fractional factors (125 %, 150 %)
        # through instead of rounding them, so plots and text keep their intended size.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        from PySide6.QtCore import qInstallMessageHandler

        qInstallMessageHandler(_qt_message_handler)
        QApplication.setApplicationName("gdviz")
        QApplication.setOrganizationName("gdviz")
        QApplication.setApplicationDisplayName("gdviz")
        app = QApplication(sys.argv[:1])
        app.setWindowIcon(app_icon())
    from gdviz.gui.gui_gc import collect_in_gui_thread

    collect_in_gui_thread()   # a collection in a worker thread deleted Qt objects there
    return app


class ExceptHook:
    """The ``sys.excepthook`` that ``main_gui`` installs for its window: shows unexpected
    exceptions as one dialog (never a traceback in the user's face); the traceback goes to the
    log for developers (``GDVIZ_DEBUG=1`` prints it)."""

    def __init__(self, window) -> None:
        self.window = window

    def __call__(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.error("unexpected error", exc_info=(exc_type, exc, tb))
        if os.environ.get("GDVIZ_DEBUG"):
            traceback.print_exception(exc_type, exc, tb)
        message = str(exc) if isinstance(exc, ConfigError) else (
            f"Something went wrong: {exc_type.__name__}: {exc}")
        try:
            self.window.status.showMessage(message, 15000)
            self.window.show_message_box("gdviz", message)
        except Exception:  # the window itself is broken: stderr is all that is left
            sys.stderr.write(f"gdviz: {message}\n")


def main_gui(preset: str | None = None, screenshot: str | os.PathLike | None = None,
             steps: int = 0, settings_path: str | os.PathLike | None = None,
             seeds: int | None = None) -> int:
    """Open the window (on ``preset``, else the last session, else ``wavy``) and run the app;
    ``seeds``: how many seeds of every run it runs at once (None: the preset's).

    With ``screenshot``: take ``steps`` steps, render the window at 1280×800 to that PNG
    (or SVG or PDF, by its ending) and return 0, without showing anything on screen or
    touching the user's settings.
    Errors return 2 with a one-line message on stderr.
    """
    try:
        if steps < 0:
            raise ConfigError(f"steps must be at least 0, got {steps}")
        if not _has_display():
            if screenshot is None:
                raise ConfigError("no display found: set DISPLAY (or run under xvfb-run), "
                                  "or use --screenshot FILE.png to render without one")
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from gdviz.gui.settings import AppSettings

        probe = bool(os.environ.get(STARTUP_PROBE))
        user_settings = None
        if screenshot is None and not probe:   # the user's window, in presenter mode if chosen
            from gdviz.gui.presenter import apply_stored_scale

            user_settings = AppSettings(settings_path)
            apply_stored_scale(user_settings.presenter_scale())   # before the QApplication
        app = ensure_app()
        from gdviz.gui.main_window import MainWindow
        from gdviz.gui.tasks import stop_all_threads

        if screenshot is not None:
            window = MainWindow(preset=preset or "wavy", settings=AppSettings(memory=True))
            if seeds is not None:
                window.set_seed_count(seeds)
            return _screenshot(app, window, Path(screenshot), steps)
        if probe:   # the default lesson, never the user's last session or settings file
            window = MainWindow(preset=preset or "wavy", settings=AppSettings(memory=True))
            _install_startup_probe(app, window)
        else:
            window = MainWindow(preset=preset, settings=user_settings)
        if seeds is not None:
            window.set_seed_count(seeds)
    except ConfigError as err:
        return _error(str(err))
    except Exception as err:  # no traceback for the user; details in the log
        log.debug("start-up failed", exc_info=True)
        return _error(f"the window could not open: {type(err).__name__}: {err}")
    previous_hook = sys.excepthook
    sys.excepthook = ExceptHook(window)

    def on_app_about_to_quit() -> None:
        # closeEvent stops the worker and the window's threads; this also covers quitting
        # without closing the window (then every registered thread: the window is the only one)
        window.controller.shutdown(3000)
        stop_all_threads(3000)

    app.aboutToQuit.connect(on_app_about_to_quit)
    try:
        window.show()
        return int(app.exec())
    finally:
        sys.excepthook = previous_hook


def process_age() -> float | None:
    """Seconds since this process started (Linux: /proc), or None where unknown."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        start = int(fields[19]) / os.sysconf("SC_CLK_TCK")   # field 22: start, boot clock
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start
    except (OSError, ValueError, IndexError, AttributeError):
        return None


_IMPORTED_AT = time.perf_counter()


def _install_startup_probe(app, window) -> None:
    """``GDVIZ_STARTUP_PROBE=1 gdviz``: print how long after the process started the window
    was shown and had painted its first frame, then quit (exit status 0). Where the process
    start is unknown (not Linux) the times count from the import of this module."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    def now() -> tuple[float, str]:
        age = process_age()
        if age is not None:
            return age, "process start"
        return time.perf_counter() - _IMPORTED_AT, "import of gdviz.gui.app"

    class _Probe(QObject):
        shown: tuple[float, str] | None = None

        def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
            if event.type() == QEvent.Type.Show and self.shown is None:
                self.shown = now()
                # a zero timer runs after the events already posted: the first paint
                QTimer.singleShot(0, self.painted)
            return False

        def painted(self) -> None:
            (shown, origin), (painted, _) = self.shown, now()
            sys.stdout.write(f"gdviz start-up: window shown {shown:.3f} s, first frame "
                             f"painted {painted:.3f} s after the {origin}\n")
            sys.stdout.flush()
            app.quit()

    probe = _Probe(window)
    window.installEventFilter(probe)


def _has_display() -> bool:
    """False on Linux without X11/Wayland (Qt would abort the process) unless a platform was
    chosen explicitly (QT_QPA_PLATFORM=offscreen, xcb under xvfb-run, ...)."""
    if not sys.platform.startswith("linux") or os.environ.get("QT_QPA_PLATFORM"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _screenshot(app, window, path: Path, steps: int) -> int:
    from PySide6.QtCore import Qt

    from gdviz.gui.vector_snapshot import VECTOR_SUFFIXES, save_vector

    try:
        window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        window.resize(*SCREENSHOT_SIZE)
        window.show()
        app.processEvents()
        if steps:
            window.controller.run_until(steps)
        window.wait_for_seeds()
        from gdviz.gui.offscreen.painting import wait_for_grids

        wait_for_grids(window.views)   # maps and the noise view computed in the background
        for _ in range(3):
            app.processEvents()
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix.lower() in VECTOR_SUFFIXES:  # the window as SVG or PDF vectors
            save_vector(window, check_target(path), f"gdviz: {window.windowTitle()}")
        else:
            image = window.grab()
            with atomic_path(check_target(path), ".png.part") as temp:
                if not image.save(str(temp), "PNG"):
                    raise ConfigError(f"cannot write the screenshot {path}")
        if window.controller.state == "failed":
            raise ConfigError(window.controller.last_error)
        return 0
    except ConfigError as err:
        return _error(str(err))
    except OSError as err:
        return _error(f"cannot write the screenshot {path}: {err.strerror or err}")
    finally:
        window.close()
