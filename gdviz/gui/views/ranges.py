"""Axis ranges that stay put while a run plays: redrawing an axis (ticks, labels, grid) costs
milliseconds, and a range that changes every frame also makes pyqtgraph paint its plot twice.
``StickyRange`` refits only when the data leave it or fill too little of it; ``GrowingRange``
is for a step axis that grows to the right."""

from __future__ import annotations

import math

import pyqtgraph as pg


class GrowingRange:
    """The x range of a plot whose data grow to the right (steps, epochs): refitted with 50 %
    room to grow, so the axis (cached as a pixmap; redrawing it with its grid costs ~5 ms) is
    redrawn now and then, not on every frame while a run plays (at 20 % room a fast run
    refitted nearly every frame); refitted at once when the data shrink to less than half of
    it (looking back)."""

    GROW = 1.5

    def __init__(self, plot: pg.PlotWidget) -> None:
        self.plot = plot
        self.range: tuple[float, float] | None = None

    def reset(self) -> None:
        self.range = None

    def fit(self, lo: float, hi: float, cap: float | None = None) -> tuple[float, float]:
        """Show [lo, hi] with room to grow, but never beyond ``cap`` (where the runs stop)."""
        current = self.range
        if (current is None or lo != current[0] or hi > current[1]
                or hi - lo < 0.5 * (current[1] - current[0])):
            span = hi - lo if hi > lo else 1.0
            end = lo + span * self.GROW
            if cap is not None and hi <= cap < end:
                end = cap
            self.range = (lo, end)
            self.plot.setXRange(*self.range, padding=0.02)
        return self.range


class StickyRange:
    """One axis range of a plot that stays put while the data moves inside it.

    ``fit(lo, hi)`` asks for the data extent [lo, hi]. The range is kept while it holds the
    extent and the extent fills at least ``fill`` of it; otherwise it is refitted around the
    extent with ``headroom`` (a fraction of its span) on each side, so a run that keeps growing
    refits now and then rather than on every frame. A steady range also spares the axis
    re-layout and the second paint that a transform change causes. ``reset()`` (a new run)
    makes the next ``fit`` exact. ``shrink_after``: an extent inside the range that fills too
    little of it is refitted only after that many fits in a row (data whose extremes jump from
    frame to frame, a network's per-sample gradients, would otherwise refit on most frames).
    """

    def __init__(self, plot: pg.PlotWidget, axis: str, fill: float = 0.4,
                 headroom: float = 0.08, shrink_after: int = 1) -> None:
        self._plot, self._axis = plot, axis
        self.fill, self.headroom = fill, headroom
        self.shrink_after = shrink_after
        self._small = 0   # fits in a row whose extent filled too little of the range
        self.range: tuple[float, float] | None = None

    def reset(self) -> None:
        self.range = None
        self._small = 0

    def fit(self, lo: float, hi: float, pad: float = 0.0) -> tuple[float, float]:
        """Show at least [lo, hi] (plus ``pad`` of its span on each side when refitting).
        Returns the range shown."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return self.range if self.range is not None else (0.0, 1.0)
        if hi <= lo:
            half = 0.5 * max(abs(lo), 1e-6)
            lo, hi = lo - half, hi + half
        current = self.range
        if current is not None:
            c_lo, c_hi = current
            inside = c_lo <= lo and hi <= c_hi
            if inside and (hi - lo) >= self.fill * (c_hi - c_lo):
                self._small = 0
                return current
            if inside:
                self._small += 1
                if self._small < self.shrink_after:
                    return current
        self._small = 0
        span = hi - lo
        margin = (pad + (self.headroom if current is not None else 0.0)) * span
        self.set(lo - margin, hi + margin)
        return self.range

    def set(self, lo: float, hi: float) -> None:
        """Show exactly [lo, hi]."""
        self.range = (float(lo), float(hi))
        if self._axis == "x":
            self._plot.setXRange(lo, hi, padding=0)
        else:
            self._plot.setYRange(lo, hi, padding=0)
