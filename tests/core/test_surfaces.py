"""Slice helpers of gdviz.core.surfaces against direct evaluation of the problems."""

from __future__ import annotations

import gc

import numpy as np
import pytest

from gdviz.core import surfaces
from gdviz.core.problems.registry import make_problem


@pytest.fixture(params=["wavy", "linreg", "logistic", "slope", "bowl", "rosenbrock"])
def problem(request):
    return make_problem(request.param)


def _center(problem):
    rng = np.random.default_rng(1)
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    return lo + rng.uniform(0.2, 0.8, problem.n_params) * (hi - lo)


def test_slice_grid_and_points():
    x = surfaces.slice_grid(-1, 2, 7)
    assert x.shape == (7,)
    assert x[0] == -1
    assert x[-1] == 2
    pts = surfaces.slice_points(np.array([5.0, 6.0, 7.0]), 1, x)
    assert pts.shape == (7, 3)
    np.testing.assert_array_equal(pts[:, 1], x)
    assert np.all(pts[:, 0] == 5.0)
    assert np.all(pts[:, 2] == 7.0)
    with pytest.raises(ValueError, match="resolution"):
        surfaces.slice_grid(0, 1, 1)


def test_sample_curves_match_direct_evaluation(problem):
    center = _center(problem)
    for j in range(problem.n_params):
        x = surfaces.slice_grid(*problem.view_range[j], 25)
        curves = surfaces.sample_curves(problem, center, j, x)
        assert curves.shape == (problem.n_samples, 25)
        for m in (0, 12, 24):
            p = center.copy()
            p[j] = x[m]
            np.testing.assert_allclose(curves[:, m], problem.sample_losses(p), rtol=1e-12)
        idx = np.array([0, problem.n_samples - 1])
        np.testing.assert_allclose(surfaces.sample_curves(problem, center, j, x, idx),
                                   curves[idx], rtol=1e-12)


def test_mean_curve_and_loss_slice(problem):
    center = _center(problem)
    x = surfaces.slice_grid(*problem.view_range[0], 11)
    mean = surfaces.mean_curve(problem, center, 0, x)
    full = surfaces.loss_slice(problem, center, 0, x)
    scale = surfaces.per_sample_scale(problem)
    # the mean of the per-sample losses is the full loss on the per-sample scale
    np.testing.assert_allclose(mean, full * scale, rtol=1e-10, atol=1e-14)
    p = center.copy()
    p[0] = x[4]
    assert full[4] == pytest.approx(float(problem.loss(p)), rel=1e-12)


def test_tangent_line_has_the_gradient_as_slope(problem):
    center = _center(problem)
    idx = np.arange(min(3, problem.n_samples))
    for j in range(problem.n_params):
        x, y, slope = surfaces.tangent_line(problem, center, j, 0.1, idx)
        expected = problem.sample_grads(center, idx)[:, j].mean()
        assert slope == pytest.approx(expected, rel=1e-12, abs=1e-15)
        y0 = problem.sample_losses(center, idx).mean()
        assert x[0] == pytest.approx(center[j] - 0.1)
        assert x[1] == pytest.approx(center[j] + 0.1)
        assert (y[0] + y[1]) / 2 == pytest.approx(y0, rel=1e-12, abs=1e-12)
        # finite difference of the mean curve agrees with the slope
        h = 1e-6 * max(1.0, abs(center[j]))
        fd = surfaces.mean_curve(problem, center, j, np.array([center[j] - h, center[j] + h]),
                                 idx)
        assert (fd[1] - fd[0]) / (2 * h) == pytest.approx(slope, rel=1e-4, abs=1e-6)


def test_evenly_chosen():
    np.testing.assert_array_equal(surfaces.evenly_chosen(5, 10), np.arange(5))
    chosen = surfaces.evenly_chosen(1000, 300)
    assert len(chosen) == 300
    assert chosen[0] == 0
    assert chosen[-1] == 999
    assert np.all(np.diff(chosen) > 0)
    assert len(surfaces.evenly_chosen(0, 3)) == 0


def test_nan_separated_and_segments():
    x = np.array([0.0, 1.0, 2.0])
    curves = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    xs, ys = surfaces.nan_separated(x, curves)
    assert xs.shape == ys.shape == (8,)
    assert np.isnan(ys[3])
    assert np.isnan(ys[7])
    assert np.isnan(xs[3])
    np.testing.assert_array_equal(ys[4:7], curves[1])
    sx, sy = surfaces.segments(np.array([0.0, 1.0]), np.array([2.0, 3.0]),
                               np.array([4.0, 5.0]), np.array([6.0, 7.0]))
    np.testing.assert_array_equal(sx[[0, 1, 3, 4]], [0, 4, 1, 5])
    np.testing.assert_array_equal(sy[[0, 1, 3, 4]], [2, 6, 3, 7])
    assert np.isnan(sx[2])
    assert np.isnan(sy[5])


def test_slice_cache_hits_and_values():
    problem = make_problem("linreg")
    cache = surfaces.SliceCache(max_entries=2)
    center = _center(problem)
    lo, hi = problem.view_range[0]
    drawn = surfaces.evenly_chosen(problem.n_samples, 300)
    a = cache.get(problem, 0, center, lo, hi, 50, drawn)
    assert a.curves.shape == (300, 50)
    assert a.mean.shape == (50,)
    np.testing.assert_allclose(a.mean, surfaces.mean_curve(problem, center, 0, a.values))
    np.testing.assert_allclose(a.curves, surfaces.sample_curves(problem, center, 0, a.values,
                                                                drawn))
    assert not a.curves.flags.writeable
    # the varied parameter's own value does not matter: only the held ones do
    moved = center.copy()
    moved[0] += 0.5
    assert cache.get(problem, 0, moved, lo, hi, 50, drawn) is a
    assert cache.hits == 1
    assert cache.misses == 1
    held = center.copy()
    held[1] += 0.5
    b = cache.get(problem, 0, held, lo, hi, 50, drawn)
    assert b is not a
    assert cache.misses == 2
    cache.get(problem, 1, center, lo, hi, 50, drawn)       # third entry evicts the oldest
    assert cache.get(problem, 0, center, lo, hi, 50, drawn) is not a
    assert cache.misses == 4


def test_slice_cache_one_parameter_is_static():
    problem = make_problem("wavy")
    cache = surfaces.SliceCache()
    lo, hi = problem.view_range[0]
    first = cache.get(problem, 0, np.array([-0.3]), lo, hi)
    for w in np.linspace(-0.5, 0.5, 20):
        assert cache.get(problem, 0, np.array([w]), lo, hi) is first
    assert cache.misses == 1
    assert first.curves.shape == (problem.n_samples, surfaces.DEFAULT_RESOLUTION)


def test_slice_cache_is_weakly_keyed():
    from gdviz.core.problems.lessons import make_slope
    from gdviz.core.problems.registry import validate_problem_settings

    problem = make_slope(validate_problem_settings("slope", {}))
    cache = surfaces.SliceCache()
    cache.get(problem, 0, np.array([1.0]), 0.0, 5.0, 10)
    assert len(cache._by_problem) == 1     # private: entries the cache holds (no public count)
    del problem
    gc.collect()
    assert len(cache._by_problem) == 0


def test_covers_all():
    assert surfaces.covers_all(np.arange(5), 5)
    assert surfaces.covers_all(np.array([4, 3, 2, 1, 0, 0]), 5)
    assert not surfaces.covers_all(np.array([0, 1, 1, 2, 3]), 5)   # 5 draws, 4 samples
    assert not surfaces.covers_all(np.zeros(0, dtype=np.int64), 5)
    assert not surfaces.covers_all(np.array([0, 1]), 5)
