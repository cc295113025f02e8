"""Offscreen frames: the export's shortcuts (skipped repeats, cached curves) change no pixel."""

import numpy as np
from PySide6.QtWidgets import QGraphicsItem

import gdviz.gui.offscreen.painting as painting_module
from gdviz.core.presets import get_preset
from gdviz.core.runner import iterate
from gdviz.gui.offscreen.view_source import ViewFrames

WAVY = get_preset("wavy").config.with_changes(max_epochs=None, max_steps=12)
SIZE = (320, 240)
CACHED = QGraphicsItem.CacheMode.DeviceCoordinateCache


def _source(plain: bool = False) -> ViewFrames:
    original = painting_module.skip_unchanged_data
    if plain:  # the view as it draws itself: no skipped repeats, its own cache modes
        painting_module.skip_unchanged_data = lambda widget: []
    try:
        source = ViewFrames("samples", SIZE)
    finally:
        painting_module.skip_unchanged_data = original
    records = iterate(WAVY)
    history = source.start(WAVY, next(records))
    history.append(list(records))
    return source


def test_frames_equal_the_views_own_drawing(qapp):
    fast, plain = _source(), _source(plain=True)
    try:
        for i in range(13):
            differ = int(np.count_nonzero(fast.render(i) != plain.render(i)))
            assert differ == 0, f"frame {i}: {differ} pixels differ"
    finally:
        fast.close()
        plain.close()


def test_a_curve_set_once_is_drawn_from_its_pixmap(qapp):
    """The faint per-sample curves are set once per run: later frames must not stroke them
    again (they used to stay uncached, 100 curves stroked on every frame)."""
    source = _source()
    view = source.view
    strokes = {"faint": 0, "batch": 0}

    def counting(curve, key):
        paint = curve.paint

        def counted(*args):
            strokes[key] += 1
            return paint(*args)
        curve.paint = counted

    counting(view.curves.curve, "faint")
    counting(view.batch_curves, "batch")      # a WideCurve: the curve item itself
    try:
        for i in range(3):
            source.render(i)
        strokes.update(faint=0, batch=0)
        for i in range(3, 10):
            source.render(i)
        assert strokes["faint"] == 0
        assert strokes["batch"] == 7            # the current sample's curve changes each step
        assert view.curves.curve.cacheMode() == CACHED
        assert view.batch_curves.cacheMode() != CACHED
    finally:
        source.close()
