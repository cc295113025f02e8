"""The 3-D view's parts that are not the view: whether OpenGL can run here, and the colours and
box mapping of its surface. Nothing here imports pyqtgraph.opengl at import time."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

HOT = pg.ColorMap([0.0, 0.365, 0.746, 1.0],
                  [(10, 0, 0), (255, 0, 0), (255, 255, 0), (255, 255, 235)])


def gl_check() -> tuple[str, str]:
    """(why OpenGL cannot be used here or '', the GL renderer's name). Never creates a GL
    widget on the offscreen or minimal platforms, where pyqtgraph's GL rendering crashes."""
    from PySide6.QtGui import QGuiApplication, QOffscreenSurface, QOpenGLContext

    platform = QGuiApplication.platformName()
    if platform in ("offscreen", "minimal"):
        return f"OpenGL needs a display (running {platform})", ""
    try:
        import pyqtgraph.opengl  # noqa: F401
    except Exception as err:  # ImportError, or PyOpenGL failing to load its library
        return f"OpenGL could not be loaded ({type(err).__name__}: {err})", ""
    context = QOpenGLContext()
    if not context.create():
        return "no OpenGL context could be created", ""
    surface = QOffscreenSurface()
    surface.create()
    try:
        if not context.makeCurrent(surface):
            return "the OpenGL context could not be made current", ""
        renderer = str(context.functions().glGetString(0x1F01) or "")   # GL_RENDERER
        context.doneCurrent()
    finally:
        surface.destroy()
    return "", renderer


def gl_unavailable_reason() -> str:
    """Why OpenGL cannot be used here ('' when it can); see ``gl_check``."""
    return gl_check()[0]


def shaded_colors(cmap: pg.ColorMap, t: np.ndarray, zbox: np.ndarray, xbox: np.ndarray,
                  ybox: np.ndarray) -> np.ndarray:
    """(nx, ny, 4) float colours: the colormap at t (nx, ny) in [0, 1], darkened on slopes
    facing away from a light at the upper left (hill shading, computed once per surface)."""
    gx, gy = np.gradient(zbox, xbox, ybox)
    normal = np.stack([-gx, -gy, np.ones_like(zbox)], axis=-1)
    normal /= np.linalg.norm(normal, axis=-1, keepdims=True)
    light = np.array([-1.0, -1.0, 1.6]) / np.linalg.norm([-1.0, -1.0, 1.6])
    shade = 0.55 + 0.45 * np.clip(normal @ light, 0.0, 1.0)
    rgba = cmap.map(np.clip(np.nan_to_num(t, nan=1.0), 0, 1).ravel(), mode="float")
    rgba = rgba.reshape(*t.shape, 4)
    rgba[..., :3] *= shade[..., None]
    rgba[..., 3] = 1.0
    return rgba


def to_box(values: np.ndarray, lo: float, hi: float, size: float = 2.0,
           start: float = -1.0) -> np.ndarray:
    """Map values in [lo, hi] linearly to [start, start + size]."""
    span = (hi - lo) or 1.0
    return start + size * (np.asarray(values, dtype=np.float64) - lo) / span
