"""The per-sample losses view along a landscape direction (a network's lesson 1 picture):
every sample's loss along a filter-normalised random direction through the weights before the
step, the batch's curves, the step's component along the direction."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from view_helpers import make_view

from gdviz.core.landscape import random_directions
from gdviz.core.surfaces import evenly_chosen
from gdviz.gui.views import SampleCurvesView
from gdviz.gui.views.sample_curves import DIRECTION_SEED, DIRECTIONS, SLICE_CURVE_CAP
from gdviz.gui.views.status_label import plain_text


def curves_of(item) -> list[tuple[np.ndarray, np.ndarray]]:
    """The NaN-separated curves of one item as (x, y) pairs."""
    x, y = np.asarray(item.xData), np.asarray(item.yData)
    ends = np.flatnonzero(np.isnan(x))
    starts = np.concatenate([[0], ends[:-1] + 1])
    return [(x[a:b], y[a:b]) for a, b in zip(starts, ends)]


def test_directions_are_offered_beyond_two_parameters_only(qtbot):
    view, problem, *_ = make_view(qtbot, SampleCurvesView, "mlp_xor")
    names = [view.combo.itemText(k) for k in range(view.combo.count())]
    assert names == [*problem.param_names, *DIRECTIONS]
    bowl, *_ = make_view(qtbot, SampleCurvesView, "bowl")     # two parameters: none
    assert bowl.combo.count() == 2


@pytest.mark.parametrize("which", [0, 1])
def test_curves_along_a_direction_are_the_per_sample_losses_there(qtbot, which):
    view, problem, config, history = make_view(qtbot, SampleCurvesView, "mlp_xor",
                                               max_steps=60)
    view.combo.setCurrentIndex(problem.n_params + which)
    k = 40
    view.show_step(k)
    before, after = history.params_before(k), history.params[k]
    d = random_directions(problem, before, DIRECTION_SEED)[which]
    assert np.any(d)
    batch = history.batch_at(k)
    # the faint curves: drawn samples, each ℓᵢ(before + t·d) at every t
    drawn = evenly_chosen(problem.n_samples, SLICE_CURVE_CAP)
    faint = curves_of(view.curves)
    assert len(faint) == len(drawn)
    t = faint[0][0]
    points = before + t[:, None] * d
    expected = problem.sample_losses(points)                     # (m, n)
    for row, (x, y) in zip(drawn[::17], faint[::17]):
        np.testing.assert_array_equal(x, t)
        np.testing.assert_allclose(y, expected[:, row], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(view.mean_curve.yData, expected.mean(axis=1), rtol=1e-12)
    # the batch's curves and points at t = 0, where the step's gradient was taken
    highlighted = curves_of(view.batch_curves)
    assert len(highlighted) == len(batch)
    for sample, (_, y) in zip(batch, highlighted):
        np.testing.assert_allclose(y, expected[:, sample], rtol=1e-12, atol=1e-15)
    bx, by = view.batch_points.getData()
    np.testing.assert_array_equal(bx, np.zeros(len(batch)))
    np.testing.assert_allclose(by, problem.sample_losses(before, batch), rtol=1e-12)
    # the step shown: from t = 0 to its component along d, on the line
    step_t = float(d @ (after - before) / (d @ d))
    arrows = view.arrows.data()
    np.testing.assert_allclose(arrows[:, 0], 0.0)
    np.testing.assert_allclose(arrows[:, 2], step_t, rtol=1e-12)
    np.testing.assert_allclose(arrows[:, 3], problem.sample_losses(before + step_t * d, batch),
                               rtol=1e-12)
    # the tangent's slope: the batch's directional derivative
    tx, ty = view.tangent.xData, view.tangent.yData
    slope = (ty[1] - ty[0]) / (tx[1] - tx[0])
    assert slope == pytest.approx(float((problem.sample_grads(before, batch) @ d).mean()),
                                  rel=1e-9)
    assert not view.start_line.isVisible()
    assert f"t = {step_t:.3g}".replace("-", "−") in plain_text(view.frame.status)
    assert DIRECTIONS[which] in view.frame.title.text()
    # back to a parameter: its slice again
    view.combo.setCurrentIndex(0)
    view.show_step(k)
    assert view.start_line.isVisible()
    np.testing.assert_allclose(view.batch_points.getData()[0], before[0])
