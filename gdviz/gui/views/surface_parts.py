"""The 3-D pictures' parts that are not a view: whether OpenGL can run here, the colours and
box mapping of a surface, and the scene itself (``SurfaceScene``: the GL widget with the
surface, its axes and the paths), shared by the 3-D view and the Landscape view's 3-D mode.
Nothing here imports pyqtgraph.opengl at import time."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QSurfaceFormat
from PySide6.QtWidgets import QLabel

from gdviz.gui.views import style

HOT = pg.ColorMap([0.0, 0.365, 0.746, 1.0],
                  [(10, 0, 0), (255, 0, 0), (255, 255, 0), (255, 255, 235)])
HEIGHT = 1.1             # the box is [-1, 1] × [-1, 1] × [0, HEIGHT]
LIFT = 0.012             # paths float this much above the surface (no z-fighting)
DISTANCE = 6.0           # the camera's distance from the box's centre, in a widget ...
WIDE = 1.3               # ... up to this wide for its height: pyqtgraph's field of view is
                         # horizontal, and in a wider widget (a docked tab, ~2.4) the box's
                         # top and bottom, and their labels, fell outside the picture; there
                         # the camera moves back in proportion
READOUT_GAP = 10         # pixels between a hovered point and its readout's nearest corner


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


def box_points(box: tuple[float, ...], x, y, z) -> np.ndarray:
    """(n, 3) float32 positions in the scene's box of points x, y, z (n,) each, in the units of
    ``box`` = (x0, x1, y0, y1, z0, z1) (z: shown units, a DisplayScale's); z is clipped to the
    box (NaN: its top) and lifted by LIFT, x and y clipped just outside it."""
    x0, x1, y0, y1, z0, z1 = box
    shown = np.asarray(z, dtype=np.float64)
    zb = to_box(np.clip(np.nan_to_num(shown, nan=z1), z0, z1), z0, z1, HEIGHT, 0.0) + LIFT
    xb = np.clip(to_box(x, x0, x1), -1.05, 1.05)
    yb = np.clip(to_box(y, y0, y1), -1.05, 1.05)
    pos = np.column_stack([xb, yb, zb]).astype(np.float32)
    return np.nan_to_num(pos, nan=0.0)


class SurfaceScene:
    """A surface in the box [-1, 1] × [-1, 1] × [0, HEIGHT] that turns (drag) and zooms (wheel):
    ``widget`` (the GL widget), the coloured, hill-shaded ``mesh``, the box's three axes with
    their names and end values (``frame_lines``, ``texts``), a line and a set of dots per path
    (``lines``, ``dots``), a marker at each path's end (``current``) and, once asked for, a
    hovered point's readout (``show_readout``: a ring at the point and a text beside it).
    ``box`` = (x0, x1, y0, y1, z0, z1) maps data (z in shown units) into it. Make one only where
    ``gl_check`` said OpenGL runs (``renderer``: the GL renderer's name it gave)."""

    def __init__(self, renderer: str) -> None:
        import pyqtgraph.opengl as gl

        from gdviz.gui.views.items.gl_view import make_gl_widget

        self.widget = make_gl_widget()
        surface_format = QSurfaceFormat()
        surface_format.setDepthBufferSize(24)   # the default (none under Xvfb) shows hidden faces
        # smooth edges; but a software renderer (Mesa llvmpipe under Xvfb) pays 4× per frame
        software = any(name in renderer.lower() for name in ("llvmpipe", "softpipe", "swrast"))
        surface_format.setSamples(0 if software else 4)
        self.widget.setFormat(surface_format)
        self.widget.setBackgroundColor("w")
        # fov 40°: less perspective distortion than the default 60°
        self.widget.setCameraParams(fov=40, distance=DISTANCE, elevation=42, azimuth=-62,
                                    center=pg.Vector(0, 0, HEIGHT / 3))
        self._wide = 1.0                 # the distance's factor for the widget's shape
        self._fit = _FitOnResize(self)
        self.mesh = gl.GLSurfacePlotItem(computeNormals=False, smooth=False,
                                         glOptions="opaque")
        self.mesh.setVisible(False)
        self.frame_lines = gl.GLLinePlotItem(mode="lines", color=(0.4, 0.4, 0.4, 1.0),
                                             width=1.0, antialias=True)
        self.current = gl.GLScatterPlotItem(size=11.0, pxMode=True, glOptions="translucent")
        self.lines: list = []           # one path line and one set of dots per path
        self.dots: list = []
        self.ghosts: list = []          # per path: its line seen through the surface
        self.texts = [gl.GLTextItem(color=QColor(30, 30, 30), font=QFont("Sans", 9))
                      for _ in range(9)]
        for item in (self.mesh, self.frame_lines, self.current, *self.texts):
            self.widget.addItem(item)
        self.box = (0.0, 1.0, 0.0, 1.0, 0.0, 1.0)
        self.readout: QLabel | None = None   # the hovered point's text, made when first shown
        self.rings: list = []                # its ring: a dark dot under a run-coloured one

    def to_pixels(self, pos: np.ndarray) -> np.ndarray:
        """(n, 2) float widget pixels (logical pixels from the widget's top left, y down: a
        mouse event's ``position()``) where box positions ``pos`` (n, 3) are painted, through
        the widget's own camera (pyqtgraph's ``projectionMatrix`` over the whole widget times
        its ``viewMatrix``, as ``paintGL`` and GLTextItem use them; the frustum depends on the
        widget's shape only, so no device pixel ratio enters); NaN for a point behind the
        camera."""
        width, height = max(self.widget.width(), 1), max(self.widget.height(), 1)
        viewport = (0, 0, width, height)
        mvp = self.widget.projectionMatrix(viewport, viewport) * self.widget.viewMatrix()
        m = np.array(mvp.copyDataTo(), dtype=np.float64).reshape(4, 4)   # row-major
        clip = np.asarray(pos, dtype=np.float64).reshape(-1, 3) @ m[:, :3].T + m[:, 3]
        with np.errstate(all="ignore"):
            ndc = clip[:, :2] / clip[:, 3:]
        ndc[~(clip[:, 3] > 0)] = np.nan
        return np.column_stack([(ndc[:, 0] + 1.0) * (width / 2), (1.0 - ndc[:, 1]) * (height / 2)])

    def show_readout(self, pos: np.ndarray, text: str, color) -> None:
        """A ring (dark, filled with ``color``: rgba floats) at box position ``pos`` (3,),
        drawn over the surface, and ``text`` beside it towards the widget's middle, kept
        inside the widget (a QLabel child of the GL widget that lets the mouse through)."""
        if self.readout is None:
            self._make_readout()
        pos = np.asarray(pos, dtype=np.float32).reshape(1, 3)
        self.rings[0].setData(pos=pos, color=(0.1, 0.1, 0.1, 1.0))
        self.rings[1].setData(pos=pos, color=tuple(color))
        for ring in self.rings:
            ring.setVisible(True)
        label = self.readout
        label.setText(text)
        label.adjustSize()
        px, py = self.to_pixels(pos)[0]
        width, height = self.widget.width(), self.widget.height()
        x = px - READOUT_GAP - label.width() if px > width / 2 else px + READOUT_GAP
        y = py + READOUT_GAP if py < height / 2 else py - READOUT_GAP - label.height()
        x = min(max(x, 0.0), max(width - label.width(), 0))
        y = min(max(y, 0.0), max(height - label.height(), 0))
        label.move(int(round(x)), int(round(y)))
        label.setVisible(True)
        label.raise_()
        self.widget.update()

    def hide_readout(self) -> None:
        """The hovered point's ring and text hidden (nothing made yet: nothing to do)."""
        if not self.readout_shown():
            return
        self.readout.setVisible(False)
        for ring in self.rings:
            ring.setVisible(False)
        self.widget.update()

    def readout_shown(self) -> bool:
        """Whether a readout is up (not hidden by ``hide_readout``; the widget itself may be
        hidden: its Hide event is when the readout is hidden)."""
        return self.readout is not None and not self.readout.isHidden()

    def _make_readout(self) -> None:
        import pyqtgraph.opengl as gl

        label = QLabel(self.widget)
        label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        label.setStyleSheet(f"QLabel {{ background: rgba(255, 255, 255, 230); color: "
                            f"{style.TEXT}; border: 1px solid {style.TEXT}; padding: 2px 4px; }}")
        label.setVisible(False)
        self.readout = label
        # the ring shows where the surface hides the point (a path below it)
        for depth, size in ((2, 15.0), (3, 9.0)):
            ring = gl.GLScatterPlotItem(size=size, pxMode=True, glOptions=_over_everything())
            ring.setDepthValue(depth)       # after the surface and the paths
            ring.setVisible(False)
            self.widget.addItem(ring)
            self.rings.append(ring)

    def fit_camera(self) -> None:
        """Move the camera back by the widget's width for its height beyond WIDE (the
        user's zoom, a factor on the distance, is kept)."""
        w, h = self.widget.width(), max(self.widget.height(), 1)
        wide = max(1.0, w / h / WIDE)
        self.widget.opts["distance"] *= wide / self._wide
        self._wide = wide
        self.widget.update()

    def show_surface(self, xs: np.ndarray, ys: np.ndarray, z: np.ndarray,
                     cmap: pg.ColorMap) -> None:
        """The mesh of heights ``z`` (ny, nx) in shown units over xs (nx,) × ys (ny,) (ends
        at the box's x and y ends), coloured by ``cmap`` over the box's z range (NaN: its
        top)."""
        x0, x1, y0, y1, z0, z1 = self.box
        xb, yb = to_box(xs, x0, x1), to_box(ys, y0, y1)
        zb = to_box(np.clip(np.nan_to_num(z, nan=z1), z0, z1).T, z0, z1, HEIGHT, 0.0)  # (nx, ny)
        colors = shaded_colors(cmap, zb / HEIGHT, zb, xb, yb)
        # GLSurfacePlotItem hands colours to MeshData as they are: one row per vertex
        self.mesh.setData(x=xb, y=yb, z=zb, colors=colors.reshape(-1, 4))
        self.mesh.setVisible(True)

    def show_axes(self, xname: str, yname: str, zname: str, zlo: float, zhi: float) -> None:
        """Three axes along the box's edges, their names and end values (x, y from ``box``;
        the loss axis from ``zlo`` to ``zhi``, in loss units)."""
        x0, x1, y0, y1, _, _ = self.box
        floor = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
        edges = [(*floor[k], 0) for n in range(4) for k in (n, (n + 1) % 4)]
        edges += [(-1, 1, 0), (-1, 1, HEIGHT)]              # the loss axis at the back
        self.frame_lines.setData(pos=np.array(edges, dtype=float))
        labels = [((0, -1.3, 0), xname), ((-0.9, -1.18, 0), style.fmt(x0, 3)),
                  ((1, -1.18, 0), style.fmt(x1, 3)), ((1.3, 0, 0), yname),
                  ((1.12, -0.9, 0), style.fmt(y0, 3)), ((1.12, 0.9, 0), style.fmt(y1, 3)),
                  ((-1.05, 1.05, HEIGHT * 1.08), zname),
                  ((-1.05, 1.05, 0.08), style.fmt(zlo, 3)),
                  ((-1.05, 1.05, HEIGHT), style.fmt(zhi, 3))]
        for item, (pos, text) in zip(self.texts, labels):
            item.setData(pos=np.array(pos, dtype=float), text=text)

    def show_paths(self, paths, ghost: float = 0.0) -> None:
        """``paths``: (pos (n, 3) box positions, rgba colour, line shown, dots shown) each; a
        path with no point is hidden. The end of every drawn path gets a marker. ``ghost`` >
        0: each line is also drawn through the surface with that opacity, so that a path
        below the surface shows faintly where the surface hides it."""
        import pyqtgraph.opengl as gl

        while len(self.lines) < len(paths):
            line = gl.GLLinePlotItem(width=2.5, antialias=True, glOptions="translucent")
            dots = gl.GLScatterPlotItem(size=4.0, pxMode=True, glOptions="translucent")
            through = gl.GLLinePlotItem(width=2.0, antialias=True,
                                        glOptions=_over_everything())
            through.setDepthValue(1)          # after the surface
            for item in (line, dots, through):
                self.widget.addItem(item)
            self.lines.append(line)
            self.dots.append(dots)
            self.ghosts.append(through)
        ends, colors = [], []
        for n, (line, dots, through) in enumerate(zip(self.lines, self.dots, self.ghosts)):
            if n >= len(paths) or len(paths[n][0]) == 0:
                for item in (line, dots, through):
                    item.setVisible(False)
                continue
            pos, color, line_on, dots_on = paths[n]
            line.setData(pos=pos, color=color)
            line.setVisible(bool(line_on))
            dots.setData(pos=pos, color=color)
            dots.setVisible(bool(dots_on))
            through.setData(pos=pos, color=(*color[:3], ghost))
            through.setVisible(bool(line_on) and ghost > 0)
            ends.append(pos[-1])
            colors.append(color)
        self.current.setData(pos=np.array(ends).reshape(-1, 3),
                             color=np.array(colors).reshape(-1, 4))

    def paint_into(self, owner, image: QImage) -> QImage:
        """``image`` (``owner.grab()``'s) with the scene's framebuffer painted in where the
        widget sits: Qt's grab() of an OpenGL widget drops what pyqtgraph paints over it with
        QPainter (the GLTextItems: the axis names and values)."""
        if self.widget.isVisible():
            frame = self.widget.grabFramebuffer()
            frame.setDevicePixelRatio(image.devicePixelRatio())
            painter = QPainter(image)
            painter.drawImage(self.widget.mapTo(owner, QPoint(0, 0)), frame)
            painter.end()
        return image


def _over_everything() -> dict:
    """GL options of an item drawn over whatever is in front of it (no depth test), blended
    by its alpha."""
    from OpenGL import GL

    return {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
            "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


class _FitOnResize(QObject):
    """Calls the scene's ``fit_camera`` whenever its widget is resized."""

    def __init__(self, scene: SurfaceScene) -> None:
        super().__init__(scene.widget)
        self.scene = scene
        scene.widget.installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 (Qt name)
        if event.type() == QEvent.Type.Resize:
            self.scene.fit_camera()
        return False
