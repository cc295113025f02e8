"""What keeps the window fast on a network: a costly per-sample slice is kept for a few frames
while a run plays, and the shown step gets its own exact slice once the frames stop."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from view_helpers import make_view  # tests/gui is on sys.path (no __init__.py)

from gdviz.core.surfaces import sample_curves
from gdviz.gui.views import SampleCurvesView
from gdviz.gui.views.sample_curves import (
    COSTLY_SLICE_RESOLUTION,
    SLOW_SLICE_FRAMES,
    held_for_slice,
)


def _exact_mean(view, problem, history, index):
    before = np.asarray(history.params_before(index), dtype=np.float64)
    held = held_for_slice(problem, before, view.param_index)
    x = view.mean_curve.xData
    return sample_curves(problem, held, view.param_index, x).mean(axis=0)


def test_a_networks_slice_is_kept_while_playing_then_redrawn_exactly(qtbot):
    view, problem, _, history = make_view(qtbot, SampleCurvesView, "mlp_spiral", max_steps=40)
    view.show_step(10)      # (may keep step 0's slice: set_run drew it a moment ago)
    assert len(view.mean_curve.xData) == COSTLY_SLICE_RESOLUTION
    exact = _exact_mean(view, problem, history, 10)
    qtbot.waitUntil(lambda: np.allclose(view.mean_curve.yData, exact, rtol=1e-12),
                    timeout=5000)
    first = view.mean_curve.yData.copy()
    for index in range(11, 11 + SLOW_SLICE_FRAMES):        # frames of a playing run
        view.show_step(index)
        np.testing.assert_array_equal(view.mean_curve.yData, first)     # kept
        # the batch's own curves and points are exact on every frame
        assert view.frame.status.text().startswith(f"step {index}")
    shown = 10 + SLOW_SLICE_FRAMES
    qtbot.waitUntil(lambda: not np.array_equal(view.mean_curve.yData, first), timeout=5000)
    np.testing.assert_allclose(view.mean_curve.yData,
                               _exact_mean(view, problem, history, shown))


def test_a_lessons_slice_is_never_kept(qtbot):
    view, problem, _, history = make_view(qtbot, SampleCurvesView, "linreg", max_steps=30)
    for index in (5, 6, 7):
        view.show_step(index)
        np.testing.assert_allclose(view.mean_curve.yData,
                                   _exact_mean(view, problem, history, index))
