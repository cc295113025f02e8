"""A widget (one view, or the whole window) saved as SVG or PDF: vector paths and text, as
Qt paints them, not a picture of pixels.

    save_vector(widget, "view.svg")    # or "view.pdf": one page the widget's size

The widget paints itself into ``QSvgGenerator`` / ``QPdfWriter`` (``QWidget.render``), so
every label, legend and status line of the view comes along, not only its plot. While it
paints, the pixmap caches that speed up playing (``views/items/caching.py``: axes and faint
curves kept as device pixmaps, the plots' cached background) are switched off, or the file
would hold pictures of them; what is a picture by nature stays one (the contour's colour
map, the colour bar, the dot symbols). The OpenGL 3-D view cannot be painted this way: it is
refused with a sentence.

The SVG is SVG 1.1 (clip paths), painted through a QPicture (so each clip is where it
belongs), with the plots' 1-px curves moved out of their data-unit transforms
(``bake_hairline_transforms``), so that browsers, Inkscape and cairo/librsvg-based tools
draw it alike (checked with cairosvg against the PDF and the PNG while writing this).

The file is written under a temporary name beside the target and renamed at the end
(``gdviz.export.files``), so a failure leaves no partial file.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPoint, QRect, QSizeF
from PySide6.QtGui import QPageSize, QPainter, QPdfWriter, QPicture
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QGraphicsItem, QGraphicsView, QWidget

from gdviz.core.errors import ConfigError
from gdviz.export.animation import OPENGL_VIEWS
from gdviz.export.files import publish, temp_file_beside

VECTOR_SUFFIXES = (".svg", ".pdf")
SCREEN_DPI = 96  # one widget pixel is 1/96 inch on the PDF page (0.75 pt)


@contextlib.contextmanager
def uncached(widget: QWidget) -> Iterator[None]:
    """Switch off every item cache and background cache of the plots inside ``widget`` for
    the block, then put each back as it was."""
    views = [widget] if isinstance(widget, QGraphicsView) else []
    views += widget.findChildren(QGraphicsView)
    saved_views = [(view, view.cacheMode()) for view in views]
    saved_items = [(item, item.cacheMode()) for view in views if view.scene() is not None
                   for item in view.scene().items()
                   if item.cacheMode() != QGraphicsItem.CacheMode.NoCache]
    try:
        for view, _mode in saved_views:
            view.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
            view.resetCachedContent()
        for item, _mode in saved_items:
            item.setCacheMode(QGraphicsItem.CacheMode.NoCache)
        yield
    finally:
        for item, mode in saved_items:
            item.setCacheMode(mode)
        for view, mode in saved_views:
            view.setCacheMode(mode)


def save_vector(widget: QWidget, path: str | Path, title: str = "gdviz") -> Path:
    """Paint ``widget`` into ``path`` (.svg or .pdf) as vectors; returns the path.
    ConfigError (one sentence) for another ending, the 3-D view (or a view showing an OpenGL
    picture: the Landscape's 3-D), or a file that cannot be written."""
    from PySide6.QtOpenGLWidgets import QOpenGLWidget

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in VECTOR_SUFFIXES:
        raise ConfigError(f"a vector snapshot must end in .svg or .pdf, got {str(path)!r}")
    if getattr(widget, "view_id", None) in OPENGL_VIEWS or any(
            child.isVisibleTo(widget) for child in widget.findChildren(QOpenGLWidget)):
        raise ConfigError(f"the {widget.title} view is drawn with OpenGL and has no vector "
                          "form: save it as PNG")
    try:
        temp = temp_file_beside(path, suffix + ".part")
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        with uncached(widget):
            painted = (_paint_svg if suffix == ".svg" else _paint_pdf)(widget, temp, title)
        if not painted or temp.stat().st_size == 0:
            raise ConfigError(f"cannot write {path}")
        publish(temp, path)
    except OSError as err:
        temp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    return path


def _paint_svg(widget: QWidget, path: Path, title: str) -> bool:
    """The widget is recorded into a QPicture and the picture replayed into the SVG: painted
    straight into QSvgGenerator, each child widget's clip path came out in the child's own
    coordinates (Qt's redirection offset is not applied to it), so an SVG viewer clipped
    the plots and the fields' text away; replayed, every clip is where it belongs."""
    picture = QPicture()
    if not _render(widget, picture):
        return False
    # SVG 1.1, not Qt's default SVG Tiny 1.2: only 1.1 carries clip paths, and without them
    # the curves a plot clips to its axes run over the titles and the panels around it
    generator = QSvgGenerator(QSvgGenerator.SvgVersion.Svg11)
    generator.setFileName(str(path))
    generator.setSize(widget.size())
    generator.setViewBox(QRect(0, 0, widget.width(), widget.height()))
    generator.setResolution(picture.logicalDpiX())  # replayed 1:1, not rescaled by dpi
    generator.setTitle(title)
    generator.setDescription("made by gdviz")
    painter = QPainter()
    if not painter.begin(generator):
        return False
    try:
        painter.drawPicture(0, 0, picture)
    finally:
        painter.end()
    path.write_text(bake_hairline_transforms(path.read_text(encoding="utf-8")),
                    encoding="utf-8")
    return True


_STYLE_GROUP = re.compile(r'(<g [^>]*?)\s*transform="matrix\(([^)]*)\)"([^>]*>)(.*?)(</g>)',
                          re.DOTALL)
_SHAPE = re.compile(r'<(path|polyline) ([^>]*?)(d|points)="([^"]*)"([^>]*)/>')
_PATH_TOKEN = re.compile(r"[MLCZ]|-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def bake_hairline_transforms(svg: str) -> str:
    """Qt writes a plot's curve in data units under a group transform (matrix(65.6, 0, 0,
    -18.2, ...)) with ``vector-effect="non-scaling-stroke"`` for its 1-px pen. Browsers keep
    that stroke 1 px wide, but SVG 1.1 renderers without vector-effect (cairo, librsvg,
    older Inkscape) scale the stroke by the matrix and draw blobs. Where a group holds only
    such paths and polylines, their points are moved through the matrix here and the
    transform dropped, so the file means the same thing everywhere. Other groups (text,
    images, shapes with scaled pens) are left as they are."""

    def bake(match: re.Match) -> str:
        head, matrix, tail, body, end = match.groups()
        shapes = _SHAPE.findall(body)
        if not shapes or _SHAPE.sub("", body).strip() \
                or any("non-scaling-stroke" not in shape[1] + shape[4] for shape in shapes):
            return match.group(0)
        a, b, c, d, e, f = (float(v) for v in matrix.replace(" ", "").split(","))

        def moved(data: str) -> str:
            out, numbers = [], []
            for token in _PATH_TOKEN.findall(data):
                if token.isalpha():
                    out.append(token)
                    continue
                numbers.append(float(token))
                if len(numbers) == 2:
                    x, y = numbers
                    out.append(f"{a * x + c * y + e:.6g},{b * x + d * y + f:.6g}")
                    numbers = []
            return " ".join(out)

        new_body = _SHAPE.sub(lambda m: f'<{m.group(1)} {m.group(2)}{m.group(3)}='
                                        f'"{moved(m.group(4))}"{m.group(5)}/>', body)
        return f"{head}{tail}{new_body}{end}"

    return _STYLE_GROUP.sub(bake, svg)


def _paint_pdf(widget: QWidget, path: Path, title: str) -> bool:
    writer = QPdfWriter(str(path))
    writer.setResolution(SCREEN_DPI)  # painter units are the widget's pixels
    points = 72.0 / SCREEN_DPI
    writer.setPageSize(QPageSize(QSizeF(widget.width() * points, widget.height() * points),
                                 QPageSize.Unit.Point, "gdviz"))
    writer.setPageMargins(QMarginsF(0, 0, 0, 0))
    writer.setTitle(title)
    writer.setCreator("gdviz")
    return _render(widget, writer)


def _render(widget: QWidget, device) -> bool:
    painter = QPainter()
    if not painter.begin(device):
        return False
    try:
        widget.render(painter, QPoint(0, 0))
    finally:
        painter.end()
    return True
