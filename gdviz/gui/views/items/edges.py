"""A network's weights as edges between its units: colour = sign, thickness = magnitude.

``EdgeBundle`` is ONE item for every edge. It draws nothing itself; its children are one
``QGraphicsPathItem`` per (sign, width level), made once and painted by Qt in C++ with a
cosmetic pen (the width is in pixels, whatever the zoom). ``set_weights`` sorts the edges into
those paths again only when an edge changes sign or width level, so a run whose weights move a
little each step costs a comparison per frame, not a new path.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem

_NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents


def width_levels(weights: np.ndarray, levels: int) -> tuple[np.ndarray, float]:
    """Each weight's width level 1..``levels`` (its |w| against the largest finite |w|, rounded
    up; 0 for a non-finite weight, which is not drawn) and that largest |w|."""
    w = np.asarray(weights, dtype=np.float64)
    finite = np.isfinite(w)
    size = np.abs(np.where(finite, w, 0.0))
    top = float(size.max()) if size.size else 0.0
    if not top > 0:
        return np.where(finite, 1, 0), top
    level = np.ceil(size / top * levels).astype(np.int64)
    return np.where(finite, np.clip(level, 1, levels), 0), top


class EdgeBundle(QGraphicsPathItem):
    """Edges from (x0, y0) to (x1, y1) in data coordinates, one per weight.

    ``positive``/``negative``: the colours of w ≥ 0 and w < 0; an edge's width is
    ``widest`` · level / ``levels`` pixels, its level ``width_levels`` of |w| against the
    largest |w| shown."""

    def __init__(self, positive: str, negative: str, levels: int = 6,
                 widest: float = 4.5) -> None:
        super().__init__()
        self.setFlag(_NO_CONTENTS)
        self.colors = (QColor(positive), QColor(negative))
        self.levels = int(levels)
        self.widest = float(widest)
        self._paths: dict[tuple[int, int], QGraphicsPathItem] = {}
        for sign in (0, 1):
            for level in range(1, self.levels + 1):
                pen = QPen(self.colors[sign])
                pen.setCosmetic(True)
                pen.setWidthF(self.width_of(level))
                child = QGraphicsPathItem(self)
                child.setPen(pen)
                self._paths[(sign, level)] = child
        self.ends = np.zeros((0, 4))
        self.weights = np.zeros(0)
        self.largest = 0.0
        self._key: tuple[bytes, bytes] | None = None
        self._signs = np.zeros(0, dtype=np.int64)
        self._levels = np.zeros(0, dtype=np.int64)

    @property
    def count(self) -> int:
        """The number of edges."""
        return len(self.ends)

    def width_of(self, level: int) -> float:
        return max(0.6, self.widest * level / self.levels)

    def set_geometry(self, x0, y0, x1, y1) -> None:
        """Where the edges run (each (m,), data coordinates); their weights are reset to 0."""
        self.ends = np.column_stack([np.asarray(a, dtype=np.float64).ravel()
                                     for a in (x0, y0, x1, y1)])
        self._key = None
        self.set_weights(np.zeros(len(self.ends)))

    def set_weights(self, weights) -> None:
        """The weights (m,) in the order of ``set_geometry``'s edges."""
        w = np.asarray(weights, dtype=np.float64).ravel()
        if len(w) != self.count:
            raise ValueError(f"{len(w)} weights for {self.count} edges")
        self.weights = w
        levels, self.largest = width_levels(w, self.levels)
        signs = (w < 0).astype(np.int64)
        key = (signs.tobytes(), levels.tobytes())
        if key == self._key:
            return
        self._key, self._signs, self._levels = key, signs, levels
        for (sign, level), child in self._paths.items():
            rows = self.ends[(signs == sign) & (levels == level)]
            if len(rows) == 0:
                child.setPath(QPainterPath())
                continue
            x = rows[:, [0, 2]].ravel()
            y = rows[:, [1, 3]].ravel()
            child.setPath(pg.arrayToQPath(x, y, connect="pairs"))

    def edge_pens(self) -> list[tuple[str, float]]:
        """(colour ``#rrggbb``, width in pixels) each edge is drawn with; ("", 0) when not
        drawn (a non-finite weight)."""
        out = []
        for sign, level in zip(self._signs, self._levels):
            if level == 0:
                out.append(("", 0.0))
            else:
                out.append((self.colors[sign].name(), self.width_of(int(level))))
        return out

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange=None):  # noqa: N802
        """pyqtgraph's auto-range asks plot items for their extent in data coordinates."""
        if not len(self.ends):
            return None
        values = self.ends[:, [0, 2]] if axis == 0 else self.ends[:, [1, 3]]
        return float(values.min()), float(values.max())

    def pixelPadding(self) -> float:  # noqa: N802 (pyqtgraph's name)
        return self.widest / 2
