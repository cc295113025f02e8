"""A network's layers in the gradient histogram (a whole layer's per-sample gradients pooled)
and in the parameter trace (every layer's norms ‖W_l‖, ‖b_l‖, or one layer's weights)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from view_helpers import make_view  # tests/gui is on sys.path (no __init__.py)

from gdviz.gui.views import HistogramView, ParamTraceView
from gdviz.gui.views.histogram import bin_count
from gdviz.gui.views.param_trace import NORMS


def _choose(combo, text: str) -> None:
    index = combo.findText(text)
    assert index >= 0, [combo.itemText(i) for i in range(combo.count())]
    combo.setCurrentIndex(index)


def test_the_histogram_pools_a_whole_layers_per_sample_gradients(qtbot):
    view, problem, _, history = make_view(qtbot, HistogramView, "mlp_spiral", max_steps=30)
    groups = dict(problem.layer_groups())
    assert list(groups) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    w2 = groups["W2"]
    assert len(w2) == 64
    _choose(view.combo, "W2 (all 64, pooled)")
    view.show_step(30)
    grads = problem.sample_grads(np.asarray(history.params_before(30)))[:, w2]   # (n, 64)
    np.testing.assert_array_equal(np.sort(view.values), np.sort(grads.ravel()))
    counts, _ = np.histogram(grads.ravel(), bins=bin_count(grads.size))
    np.testing.assert_array_equal(view.counts, counts)
    assert view.counts.sum() == problem.n_samples * 64
    # a black line at each weight's full gradient, a violet one at the step's gradient of each
    np.testing.assert_allclose(np.sort(view.full_line.values), np.sort(grads.mean(axis=0)),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(np.sort(view.batch_line.values),
                               np.sort(np.asarray(history.grads[30])[w2]), rtol=1e-12)
    assert f"{problem.n_samples} samples × 64 parameters" in view.frame.status.text()
    assert "the 64 entries of W2" in view.frame.title.text()
    # and back to one parameter: as before
    _choose(view.combo, "W2_0_0")
    view.show_step(30)
    np.testing.assert_array_equal(view.values, grads[:, 0])
    assert len(view.full_line.values) == 1


@pytest.mark.parametrize("k", [0, 1])
def test_the_histogram_projects_the_per_sample_gradients_on_a_random_direction(qtbot, k):
    """Beyond two parameters the box offers the two random directions of the per-sample
    losses view and the Landscape view: the histogram is then of gᵢ·d, each sample's slope
    along the line through the step's point, its lines the full and the step's gradient · d."""
    from gdviz.core.landscape import DIRECTION_NAMES, DIRECTION_SEED, random_directions

    view, problem, _, history = make_view(qtbot, HistogramView, "mlp_spiral", max_steps=30)
    _choose(view.combo, DIRECTION_NAMES[k])
    view.show_step(20)
    at = np.asarray(history.params_before(20))
    d = random_directions(problem, at, DIRECTION_SEED)[k]
    assert np.all(d[[i for i, n in enumerate(problem.param_names) if n.startswith("b")]] == 0)
    slopes = problem.sample_grads(at) @ d                                     # (n,)
    np.testing.assert_allclose(view.values, slopes, rtol=1e-12, atol=1e-15)
    counts, _ = np.histogram(slopes, bins=bin_count(len(slopes)))
    np.testing.assert_array_equal(view.counts, counts)
    np.testing.assert_allclose(view.full_line.values, [slopes.mean()], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(view.batch_line.values, [np.asarray(history.grads[20]) @ d],
                               rtol=1e-12, atol=1e-15)
    assert f"projected on {DIRECTION_NAMES[k]}" in view.frame.title.text()
    assert "dℓᵢ/dt" in view.plot.getAxis("bottom").labelText


def test_the_parameter_trace_draws_every_layers_norms(qtbot):
    view, problem, _, history = make_view(qtbot, ParamTraceView, "mlp_spiral", max_steps=200)
    _choose(view.combo, NORMS)
    view.show_step(200)
    groups = problem.layer_groups()
    assert not any(c.isVisible() for c in view.curves)
    curves = view.norm_curves[0]
    assert len(curves) == len(groups) == 6
    params = np.asarray(history.params)
    for (name, idx), curve in zip(groups, curves):
        steps = curve.xData.astype(np.int64)
        assert steps[0] == 0
        assert steps[-1] == 200
        np.testing.assert_allclose(curve.yData, np.linalg.norm(params[steps][:, idx], axis=1),
                                   rtol=1e-12)
        assert f"‖{name}‖ = " in view.frame.status.text()
    assert [e[2] for e in view.key.entries] == [f"‖{name}‖" for name, _ in groups]
    _, ys = view.current.getData()
    np.testing.assert_allclose(sorted(ys), sorted(np.linalg.norm(params[200][idx])
                                                  for _, idx in groups), rtol=1e-12)


def test_the_parameter_trace_draws_one_layers_weights(qtbot):
    view, problem, _, history = make_view(qtbot, ParamTraceView, "mlp_spiral", max_steps=50)
    _choose(view.combo, "W1: all 16")
    view.show_step(50)
    w1 = dict(problem.layer_groups())["W1"]
    shown = [j for j, c in enumerate(view.curves) if c.isVisible()]
    assert shown == list(w1)
    for j in shown:
        assert view.curves[j].yData[-1] == pytest.approx(history.params[50][j])
    assert not view.norm_curves[0]
