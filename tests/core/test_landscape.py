"""Loss landscapes: the centre's value is the full loss, a path lying in the plane is at
distance 0 with equal true and surface losses, filter normalisation, pca, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.landscape import compute_landscape, filter_normalized
from gdviz.core.problems.registry import make_problem
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end


def _path(**config):
    return np.array([r.params for r in run_to_end(RunConfig(**config))])


NET = {"problem": "mlp", "settings": {"layers": "6,4", "n": 120}, "optimizer": "adam",
       "lr": 0.02, "batch_size": 10, "max_steps": 60}


@pytest.mark.parametrize("directions", ["random", "pca", "params:W1_2_1,b2_3"])
@pytest.mark.parametrize("center", ["start", "end"])
def test_centre_value_is_the_full_loss(directions, center):
    problem = RunConfig(**NET).make_problem()
    path = _path(**NET)
    land = compute_landscape(problem, [path], directions=directions, center=center, grid=11,
                             span=0.5, seed=4)
    assert land.losses.shape == (11, 11)
    middle = path[0] if center == "start" else path[-1]
    np.testing.assert_array_equal(land.center, middle)
    assert land.a[5] == land.b[5] == 0.0
    assert land.losses[5, 5] == float(problem.loss(middle))
    # every grid value is the full loss at its point of the plane
    point = middle + land.a[2] * land.direction_a + land.b[9] * land.direction_b
    assert land.losses[9, 2] == pytest.approx(float(problem.loss(point)), rel=1e-13)
    assert len(np.unique(land.losses)) > 100  # a real surface, not a constant


@pytest.mark.parametrize("directions", ["pca", "params:w,b", "random"])
def test_a_path_lying_in_the_plane_has_distance_zero_and_true_equal_surface_loss(directions):
    # bowl has two parameters: every plane through the path's points contains it
    config = {"problem": "bowl", "optimizer": "sgd", "lr": 0.01, "batch_size": 5,
              "max_steps": 40}
    problem = RunConfig(**config).make_problem()
    path = _path(**config)
    land = compute_landscape(problem, [path], directions=directions, grid=9, span=2.0)
    (proj,) = land.paths
    assert proj.distance.shape == (41,)
    np.testing.assert_allclose(proj.distance, 0.0, atol=1e-12)
    np.testing.assert_allclose(proj.surface_loss, proj.loss, rtol=1e-12)
    # and the coordinates rebuild the points
    rebuilt = land.center + np.outer(proj.a, land.direction_a) + np.outer(proj.b,
                                                                          land.direction_b)
    np.testing.assert_allclose(rebuilt, path, atol=1e-12)


def test_a_network_path_off_the_plane_shows_its_distance_and_both_losses():
    problem = RunConfig(**NET).make_problem()
    path = _path(**NET)
    land = compute_landscape(problem, [path], directions="random", grid=5)
    proj = land.paths[0]
    assert proj.distance[-1] == 0.0  # the centre (end) lies in the plane
    assert np.all(proj.distance[:-5] > 1e-3)
    np.testing.assert_allclose(proj.loss, problem.loss(path), rtol=1e-14)
    assert not np.allclose(proj.loss[:-5], proj.surface_loss[:-5])


def test_random_directions_are_filter_normalised_with_biases_zeroed():
    problem = make_problem("mlp", {"layers": "5,3", "n": 20})
    center = problem.start_for_seed(7)
    u = filter_normalized(problem, center, np.random.default_rng(0))
    rows, biases = problem.filter_groups()
    assert len(rows) == 5 + 3 + 1
    assert biases.size == 5 + 3 + 1
    for row in rows:
        assert np.linalg.norm(u[row]) == pytest.approx(np.linalg.norm(center[row]), rel=1e-12)
    assert np.all(u[biases] == 0.0)
    covered = np.sort(np.concatenate([*rows, biases]))
    np.testing.assert_array_equal(covered, np.arange(problem.n_params))


def test_pca_of_several_runs_shares_one_plane_with_its_explained_variance():
    problem = RunConfig(**NET).make_problem()
    paths = [_path(**NET), _path(**{**NET, "optimizer": "sgd", "lr": 0.3})]
    land = compute_landscape(problem, paths, directions="pca", grid=5)
    assert land.explained.shape == (2,)
    assert 0 < land.explained[1] <= land.explained[0]
    assert land.explained.sum() <= 1.0 + 1e-12
    assert land.direction_a @ land.direction_b == pytest.approx(0.0, abs=1e-12)
    assert np.linalg.norm(land.direction_a) == pytest.approx(1.0)
    assert len(land.paths) == 2


@pytest.mark.parametrize(("options", "words"), [
    ({"directions": "diagonal"}, "must be random, pca or params"),
    ({"directions": "params:W1_0_0"}, "needs two parameter names"),
    ({"directions": "params:W1_0_0,W1_0_0"}, "two different parameters"),
    ({"directions": "params:W1_0_0,nope"}, "no parameter 'nope'"),
    ({"center": "1,2"}, "--center needs start, end or"),
    ({"grid": 1}, "--grid must be between 2"),
    ({"span": 0.0}, "--span must be"),
])
def test_bad_options_are_refused_in_words(options, words):
    problem = RunConfig(**NET).make_problem()
    with pytest.raises(ConfigError, match=words):
        compute_landscape(problem, [_path(**NET)], **options)


def test_a_diverged_run_is_projected_where_it_can_be_and_refused_in_words_where_not():
    config = {"problem": "linreg", "optimizer": "sgd", "lr": 1e300, "batch_size": 1,
              "max_steps": 50}
    problem = RunConfig(**config).make_problem()
    path = _path(**config)  # two points: the start, then values near 1e300 (loss inf)
    assert np.abs(path[-1]).max() > 1e299
    with pytest.raises(ConfigError, match="not finite"):
        compute_landscape(problem, [path], directions="random", center="end", grid=5)
    with_nan = np.vstack([path, np.full(3, np.nan)])  # a point that overflowed to NaN
    land = compute_landscape(problem, [with_nan], directions="params:w1,b", center="start",
                             grid=5)
    proj = land.paths[0]
    assert proj.distance[0] == 0.0
    assert proj.loss[0] == float(problem.loss(path[0]))
    assert np.isnan(proj.a[-1])
    assert np.isnan(proj.surface_loss[-1])
