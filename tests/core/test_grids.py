"""Loss grids over two parameters: values, chunked memory, cache keys, colour scale, iso-lines,
regions, held values, and lesson 1's per-sample (x, w) surface."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from gdviz.core import grids
from gdviz.core.grids import GridCache, GridSpec, compute_grid, grid_values, isolines
from gdviz.core.problems.registry import make_problem


def spec_for(problem, i=0, j=1, resolution=64, center=None):
    center = problem.default_init if center is None else center
    return GridSpec.make(i, j, center, problem.view_range[i], problem.view_range[j], resolution)


@pytest.mark.parametrize("name", ["rosenbrock", "himmelblau", "bowl", "linreg", "logistic"])
def test_grid_values_equal_the_problem_loss(name):
    problem = make_problem(name)
    spec = spec_for(problem, resolution=(40, 30))
    values = grid_values(problem, spec)
    xs, ys = spec.axes()
    assert values.shape == (30, 40)
    rng = np.random.default_rng(1)
    for r, c in zip(rng.integers(0, 30, 8), rng.integers(0, 40, 8)):
        point = np.array(problem.default_init, dtype=float)
        point[0], point[1] = xs[c], ys[r]
        assert values[r, c] == pytest.approx(float(problem.loss(point)), rel=1e-12, abs=1e-12)


def test_held_parameter_and_other_pairs():
    problem = make_problem("linreg")                       # w1, w2, b
    center = np.array([0.5, -1.0, 3.0])
    spec = GridSpec.make(0, 2, center, (-1, 1), (2, 5), (9, 7))   # w1 against b, w2 held
    assert spec.held() == {1: -1.0}
    assert spec.center == (0.0, -1.0, 0.0)
    values = grid_values(problem, spec)
    xs, ys = spec.axes()
    assert values[3, 4] == pytest.approx(float(problem.loss(np.array([xs[4], -1.0, ys[3]]))))


def test_large_grid_is_chunked_below_50_mb():
    problem = make_problem("linreg")                       # n = 1000
    assert problem.n_samples == 1000
    spec = spec_for(problem, resolution=256)
    tracemalloc.start()
    try:
        values = grid_values(problem, spec)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert values.shape == (256, 256)
    assert np.all(np.isfinite(values))
    assert peak < 50e6, f"peak {peak / 1e6:.1f} MB"
    assert grids.chunk_points(100_000, 3) * 8 * grids.TEMPORARIES * 100_000 <= grids.CHUNK_BYTES


def test_should_stop_abandons_the_computation():
    problem = make_problem("linreg")
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3

    assert grid_values(problem, spec_for(problem, resolution=256), stop) is None
    assert len(calls) == 4


def test_cache_recomputes_only_when_something_changes():
    problem = make_problem("rosenbrock")
    cache = GridCache()
    spec = spec_for(problem)
    first = cache.compute(problem, spec)
    assert (cache.hits, cache.misses) == (0, 1)
    assert cache.compute(problem, spec) is first
    assert (cache.hits, cache.misses) == (1, 1)
    changes = [spec_for(problem, resolution=65),                                  # resolution
               GridSpec.make(0, 1, (0, 0), (-2, 2.5), (-1, 3), 64),               # region
               GridSpec.make(1, 0, (0, 0), (-1, 3), (-2, 2), 64)]                 # pair
    for other in changes:
        assert cache.compute(problem, other) is not first
    assert cache.misses == 4
    other_settings = make_problem("rosenbrock", {"b": 50.0})                      # settings
    assert cache.compute(other_settings, spec) is not first
    assert cache.misses == 5
    linreg = make_problem("linreg")
    a = cache.compute(linreg, spec_for(linreg, center=(0, 0, 1.0)))
    b = cache.compute(linreg, spec_for(linreg, center=(5, 5, 1.0)))                # i, j ignored
    c = cache.compute(linreg, spec_for(linreg, center=(0, 0, 1.5)))                # held value
    assert a is b
    assert c is not a


def test_results_are_read_only():
    grid = compute_grid(make_problem("himmelblau"), spec_for(make_problem("himmelblau")))
    for array in (grid.xs, grid.ys, grid.values, grid.shown, grid.levels, grid.iso):
        assert not array.flags.writeable


def test_log_colour_scale_when_the_loss_spans_decades():
    rosen = make_problem("rosenbrock")
    grid = compute_grid(rosen, spec_for(rosen, resolution=128))
    assert grid.scale.log
    assert grid.shown[0, 0] == pytest.approx(np.log10(grid.values[0, 0] + grid.scale.floor))
    assert grid.scale.invert(grid.scale.apply(123.0)) == pytest.approx(123.0)
    ticks = grid.scale.ticks()
    assert [v for _, v in ticks][:3] == pytest.approx([0.1, 1.0, 10.0])
    round_bowl = make_problem("linreg")
    assert not compute_grid(round_bowl, spec_for(round_bowl)).scale.log
    assert grids.display_scale(np.full((4, 4), 2.0)).log is False


def test_a_short_log_range_gets_ticks_at_every_1_to_9():
    """A network's loss over a plane can span 0.64 to 1.02 on a log scale: 1-2-5 steps put one
    tick ("1") on its colour bar; it gets 0.7, 0.8, 0.9 and 1 instead."""
    scale = grids.display_scale(np.linspace(0.64, 1.02, 100), log=True)
    assert [v for _, v in scale.ticks()] == pytest.approx([0.7, 0.8, 0.9, 1.0])
    wide = grids.display_scale(np.geomspace(0.5, 30.0, 50), log=True)
    assert [v for _, v in wide.ticks()] == pytest.approx([0.5, 1.0, 2.0, 5.0, 10.0, 20.0])


def test_negative_losses_use_a_shifted_log_scale():
    values = -1.0 + np.logspace(-3, 3, 400).reshape(20, 20)
    scale = grids.display_scale(values)
    assert scale.log
    assert scale.base == pytest.approx(values.min())
    assert "min" in scale.label()


def test_isolines_lie_on_their_level():
    xs, ys = np.linspace(-2, 2, 81), np.linspace(-1.5, 1.5, 61)
    x, y = np.meshgrid(xs, ys)
    segs = isolines(x ** 2 + y ** 2, xs, ys, np.array([1.0]))
    r = np.hypot(segs[..., 0], segs[..., 1])
    assert len(segs) > 50
    assert np.allclose(r, 1.0, atol=2e-3)
    saddle = isolines(x * y, xs, ys, np.array([0.01]))       # saddle cells resolved
    assert np.all(np.abs(saddle[..., 0] * saddle[..., 1] - 0.01) < 0.01)
    z = x ** 2 + y ** 2
    z[30, 40] = np.nan                                        # cells with NaN are skipped
    assert len(isolines(z, xs, ys, np.array([1.0]))) == len(segs)


def test_region_grows_for_points_outside_and_ignores_divergence():
    base = np.array([[-1.0, 1.0], [0.0, 2.0]])
    assert np.array_equal(grids.grid_region(base, np.array([[0.5, 1.0]])), base)
    grown = grids.grid_region(base, np.array([[3.0, 1.0], [0.0, -0.5]]))
    assert grown[0, 1] > 3.0
    assert grown[1, 0] < -0.5
    assert grown[0, 0] == -1.0
    far = grids.grid_region(base, np.array([[1e9, 1.0], [np.nan, np.inf]]))
    assert np.array_equal(far, base)


def test_held_values_snap_to_two_percent_of_their_range():
    ranges = np.array([[0.0, 10.0]])
    assert grids.snap_held(np.array([4.13]), ranges)[0] == pytest.approx(4.2)
    assert grids.snap_held(np.array([4.09]), ranges)[0] == pytest.approx(4.0)
    assert grids.snap_held(np.array([-0.01]), ranges)[0] == 0.0


def test_wavy_sample_surface_is_the_lessons_surface():
    wavy = make_problem("wavy")
    surface = grids.sample_surface(wavy, 100)
    assert surface.values.shape == (100, 100)
    assert surface.xs[0] == -5.0
    assert surface.xs[-1] == 5.0
    w, x = surface.ws[17], surface.xs[63]
    y = w * x
    assert surface.values[17, 63] == pytest.approx((-y * y + y ** 3) * np.exp(-y * y))
    assert surface.minimum == pytest.approx(-0.7586, abs=1e-4)
    assert surface.title == "global minimum −0.7586 at w·x = −1.1246"


def test_slope_sample_surface_uses_each_samples_own_curve():
    slope = make_problem("slope")
    surface = grids.sample_surface(slope, 100)
    assert surface.values.shape == (100, 100)
    assert np.all(np.diff(surface.xs) >= 0)
    idx = int(np.flatnonzero(slope.data_x[:, 0] == surface.xs[10])[0])
    w = surface.ws[5]
    assert surface.values[5, 10] == pytest.approx(float(slope.sample_losses(np.array([w]),
                                                                            [idx])[0]))
    assert grids.sample_surface(make_problem("bowl")) is None
    assert grids.sample_surface(make_problem("rosenbrock")) is None


def test_display_scale_can_be_forced_linear_or_log():
    from gdviz.core.grids import display_scale

    decades = np.geomspace(1e-3, 1e3, 200)
    assert display_scale(decades).log
    linear = display_scale(decades, log=False)
    assert not linear.log
    assert (linear.lo, linear.hi) == (1e-3, 1e3)
    bowl = np.linspace(10.0, 40.0, 200)  # no decades: automatic is linear
    assert not display_scale(bowl).log
    forced = display_scale(bowl, log=True)
    assert forced.log
    assert np.all(np.diff(forced.apply(np.sort(bowl))) >= 0)  # still ordered
    assert forced.lo == pytest.approx(float(forced.apply(bowl.min())))
    flat = np.zeros(100)
    flat[-1] = 1.0  # mostly at the minimum: the low end falls back to the span
    assert display_scale(flat, log=True).log


def test_costly_problems_get_fewer_points_per_side_and_lessons_keep_theirs():
    for name in ("linreg", "logistic", "rosenbrock", "wavy"):
        assert grids.affordable_resolution(make_problem(name), 256) == 256, name
    network = make_problem("mlp", {"layers": "8,8", "n": 1000})   # 500 samples, 105 params
    side = grids.affordable_resolution(network, 256)
    assert grids.LEAST_RESOLUTION <= side < 100
    assert grids.grid_work(network, side * side) <= grids.WORK_BUDGET
    assert grids.affordable_resolution(network, 48) == 48          # never more than asked
    huge = make_problem("mlp", {"layers": "64,64", "n": 20000})
    assert grids.affordable_resolution(huge, 256) == grids.LEAST_RESOLUTION
