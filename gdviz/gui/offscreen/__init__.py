"""Frame sources for exports: one view (``view_source.ViewFrames``) or the whole window
(``window_source.WindowFrames``) drawn offscreen, frame by frame, by the window's own classes.

``gdviz.export`` (Qt-free) drives a frame source it is given; the caller picks it:
``make_source`` here is the factory the export dialog, ``gdviz export`` and ``--smoke`` give
to ``ExportJob``. What a source does is stated by ``gdviz.export.animation.FrameSource``.

Importing this package imports no Qt (the command line calls ``ensure_display`` before Qt is
loaded); the sources import it when they are made.
"""

from __future__ import annotations

import os
import sys

from gdviz.core.errors import ConfigError
from gdviz.export.animation import OPENGL_VIEWS, WINDOW


def ensure_display() -> None:
    """Use Qt's offscreen platform when there is no display (before the app is created)."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def ensure_app():
    ensure_display()
    from gdviz.gui.app import ensure_app as _ensure_app
    from gdviz.gui.views.base import configure_pyqtgraph

    app = _ensure_app()
    # the window's theme before any view exists: a view that makes its plot before calling
    # LessonView.__init__ (contour) would otherwise get pyqtgraph's black default
    configure_pyqtgraph()
    return app


def view_classes() -> dict[str, type]:
    """{view_id: class} of every view the window has."""
    from gdviz.gui.views import VIEW_CLASSES

    return {cls.view_id: cls for cls in VIEW_CLASSES}


def check_target(target: str) -> None:
    """ConfigError (one line) unless ``target`` is a view id or "window" that can render here.
    Needs the QApplication (it checks the platform for the OpenGL views)."""
    classes = view_classes()
    if target != WINDOW and target not in classes:
        if target in OPENGL_VIEWS:
            raise ConfigError(f"the view {target!r} is not available in this version of gdviz")
        names = ", ".join([*classes, WINDOW])
        raise ConfigError(f"unknown view {target!r}; choose from: {names}")
    if target in OPENGL_VIEWS:
        from gdviz.gui.views.surface3d import gl_unavailable_reason

        why = gl_unavailable_reason()
        if why:
            raise ConfigError(f"the 3-D view needs a real X display with OpenGL ({why}); "
                              "run under xvfb-run or on a desktop")


def make_source(target: str, size: tuple[int, int], choices: dict | None = None,
                window_state: bytes | None = None):
    """The frame source for ``target`` (a view id or "window"): what the window and the
    command line give ``ExportJob`` as its ``source_factory``."""
    choices = choices or {}
    if target == WINDOW:
        from gdviz.gui.offscreen.window_source import WindowFrames

        return WindowFrames(size, window_state, choices)
    from gdviz.gui.offscreen.view_source import ViewFrames

    return ViewFrames(target, size, choices.get(target, {}))
