"""The window's seeds in core: SeedPaths filled by fill_seed_paths (every member the single run
of its seed, bit for bit), the loss bands, the noise-against-batch numbers and the noise
presets' claims."""

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.noise import (
    batch_covariance,
    batch_sizes_for,
    gradient_noise,
    stationary_prediction,
    variance_against_batch,
)
from gdviz.core.presets import get_preset
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.seed_paths import (
    BANDS,
    MAX_VALUES,
    SeedPaths,
    checked_seed_count,
    empirical_covariance,
    fill_seed_paths,
    steps_kept,
)


def _filled(config, seeds, last=None):
    paths = SeedPaths(seeds, len(config.start_point()),
                      steps_kept(config, len(seeds), len(config.start_point()))
                      if last is None else last)
    counts = list(fill_seed_paths(config, paths, lambda: False))
    return paths, counts


@pytest.mark.parametrize("config", [
    RunConfig(problem="linreg", optimizer="sgd", lr=0.05, batch_size=7, order="shuffle",
              max_steps=300, seed=3),
    RunConfig(problem="wavy", optimizer="adam", lr=0.05, batch_size=1, order="replacement",
              max_steps=200, seed=0),
])
def test_every_member_is_the_single_run_of_its_seed_bit_for_bit(config):
    seeds = [config.seed + m for m in range(5)]
    paths, _ = _filled(config, seeds)
    assert paths.done
    assert len(paths) == config.step_limit() + 1
    for m, seed in enumerate(seeds):
        records = list(iterate(config.with_changes(seed=seed)))
        params = np.array([r.params for r in records])
        losses = np.array([r.loss for r in records])
        along = np.array([paths.points_at(i)[m] for i in range(len(paths))])
        assert np.array_equal(along, params)
        assert np.array_equal([paths.losses_at(i)[m] for i in range(len(paths))], losses)


def test_bands_are_the_loss_quantiles_over_seeds_and_paths_keep_the_last_step():
    config = RunConfig(problem="linreg", optimizer="sgd", lr=0.05, batch_size=1,
                       order="replacement", max_steps=120)
    paths, counts = _filled(config, list(range(9)))
    steps, bands = paths.band(120, 1000)
    losses = np.array([paths.losses_at(i) for i in range(121)])
    assert np.array_equal(steps, np.arange(121))
    assert np.allclose(bands, np.percentile(losses, BANDS, axis=1).T)
    assert np.all(bands[:, 0] <= bands[:, 1])
    assert np.all(bands[:, 1] <= bands[:, 2])
    kept, params = paths.paths(120, 10)
    assert kept[-1] == 120
    assert len(kept) <= 12
    assert params.shape == (len(kept), 9, 3)
    assert np.array_equal(params[-1], paths.points_at(120))
    # a lock-step index beyond what is held shows the last held step
    assert np.array_equal(paths.points_at(10_000), paths.points_at(120))
    assert all(c <= 121 for c in counts)


def test_a_long_run_keeps_at_most_max_values_and_stops_there():
    config = RunConfig(problem="linreg", optimizer="sgd", lr=0.01, batch_size=1,
                       max_steps=10**7)
    last = steps_kept(config, 256, 3)
    assert (last + 1) * 256 * 3 <= MAX_VALUES < (last + 2) * 256 * 3
    paths, _ = _filled(config, [0, 1, 2], last=50)
    assert len(paths) == 51
    assert paths.done


def test_stopping_ends_the_filling_early():
    config = RunConfig(problem="linreg", optimizer="sgd", lr=0.01, batch_size=1,
                       max_steps=100_000)
    paths = SeedPaths([0, 1], 3, 100_000)
    calls = []

    def should_stop():
        calls.append(1)
        return len(calls) > 5

    counts = list(fill_seed_paths(config, paths, should_stop))
    # one check after every chunk (~0.1 s of work): five chunks reported, stopped at the sixth
    assert len(calls) == 6
    assert len(counts) == 5
    assert counts == sorted(counts)
    assert not paths.done
    assert counts[-1] < len(paths) < paths.last_step


def test_seeds_out_of_order_and_bad_counts_are_refused():
    paths = SeedPaths([0, 1], 2, 10)
    from gdviz.core.seed_paths import SeedChunk

    with pytest.raises(ValueError, match="do not follow"):
        paths.append(SeedChunk(3, np.zeros((1, 2, 2)), np.zeros((1, 2)), np.zeros((1, 3))))
    for bad in (0, 257, "x", -3):
        with pytest.raises(ConfigError):
            checked_seed_count(bad)
    assert checked_seed_count("64") == 64


def test_lbfgs_cannot_fill_seeds():
    config = RunConfig(problem="linreg", optimizer="lbfgs", lr=0.5, max_steps=5)
    with pytest.raises(ConfigError, match="ensemble"):
        _filled(config, [0, 1])


def test_empirical_covariance_skips_diverged_points():
    rng = np.random.default_rng(1)
    points = rng.normal(size=(50, 2)) * [1.0, 3.0]
    points[3] = np.nan
    mean, cov = empirical_covariance(points)
    finite = np.delete(points, 3, axis=0)
    assert np.allclose(mean, finite.mean(axis=0))
    assert np.allclose(cov, np.cov(finite, rowvar=False))
    assert empirical_covariance(points[:2]) is None


def test_stationary_prediction_is_what_gdviz_noise_prints():
    config = get_preset("noise_ball").runs[0].config
    minimum, sigma = stationary_prediction(config)
    assert np.array_equal(sigma, gradient_noise(config).stationary_covariance)
    assert np.allclose(minimum, config.make_problem().minima[0].params)
    assert stationary_prediction(config.with_changes(optimizer="adam", hyperparams={})) is None


def test_variance_against_batch_follows_the_theory_line():
    config = RunConfig(problem="linreg", batch_size=16, order="shuffle")
    problem = config.make_problem()
    at = config.start_point()
    sizes = batch_sizes_for(problem.n_samples)
    assert sizes[0] == 1
    assert sizes[-1] == problem.n_samples // 2
    assert len(np.unique(sizes)) == len(sizes)
    for order in ("shuffle", "replacement"):
        measured, theory = variance_against_batch(problem, at, order, sizes,
                                                  np.random.default_rng(0), 400)
        expected = [np.trace(batch_covariance(problem, at, int(b), order)) for b in sizes]
        assert np.allclose(theory, expected)
        # 400 draws: the trace's relative error is about sqrt(2/400) = 7 %; 4 sigma
        assert np.all(np.abs(measured / theory - 1) < 0.3)
    assert variance_against_batch(problem, at, "shuffle", sizes, np.random.default_rng(0),
                                  10, should_stop=lambda: True) is None


def test_noise_presets_carry_their_seed_counts():
    assert get_preset("noise_ball").seeds == 64
    assert get_preset("noise_batch").seeds == 64
    assert get_preset("noise_wavy").seeds == 100
    assert get_preset("wavy").seeds == 1
    assert [r.config.batch_size for r in get_preset("noise_batch").runs] == [1, 16, 128]


def _ended(config, seeds):
    paths, _ = _filled(config, seeds)
    return paths.points_at(paths.last_step)


def test_noise_ball_the_cloud_grows_with_the_learning_rate_as_predicted():
    preset = get_preset("noise_ball")
    traces = []
    for run in preset.runs:
        config = run.config
        points = _ended(config, list(range(preset.seeds)))
        _mean, cov = empirical_covariance(points)
        predicted = stationary_prediction(config)[1]
        # 64 seeds: the sample trace is within ~2·sqrt(2/64) = 35 % of the true one
        assert abs(np.trace(cov) / np.trace(predicted) - 1) < 0.4
        traces.append(np.trace(cov))
    assert traces[0] > 2.5 * traces[1]     # lr 0.05 against 0.01: predicted 5x


def test_noise_wavy_seeds_end_in_both_wells():
    preset = get_preset("noise_wavy")
    w = _ended(preset.config, list(range(preset.seeds)))[:, 0]
    assert 0.15 < np.mean(w > 0) < 0.65


def test_seed_server_sends_each_runs_chunks_and_a_refusal_in_one_sentence():
    import multiprocessing
    import threading

    from gdviz.core import seed_server

    parent, child = multiprocessing.Pipe()
    thread = threading.Thread(target=seed_server.serve, args=(child,))
    thread.start()
    try:
        assert parent.recv() == ("ready",)
        good = RunConfig(problem="linreg", optimizer="sgd", lr=0.05, batch_size=4,
                         max_steps=40)
        bad = RunConfig(problem="linreg", optimizer="lbfgs", lr=0.5, max_steps=5)
        parent.send(("start", 7, [(good, (0, 1, 2), 40), (bad, (0, 1), 5)]))
        received = SeedPaths((0, 1, 2), 3, 40)
        done = refused = False
        while not (done and refused):
            message = parent.recv()
            assert message[1] == 7
            if message[0] == "chunk":
                assert message[2] == 0
                received.append(message[3])
            elif message[0] == "done":
                done = message[2] == 0
            else:
                assert message[:3] == ("error", 7, 1)
                assert "ensemble" in message[3]
                refused = True
        expected, _ = _filled(good, [0, 1, 2])
        assert len(received) == len(expected) == 41
        assert np.array_equal(received.points_at(40), expected.points_at(40))
    finally:
        parent.send(("quit",))
        thread.join(10)
    assert not thread.is_alive()


def test_variance_against_batch_draws_fewer_batches_of_many_values():
    config = RunConfig(problem="linreg", batch_size=16, order="replacement")
    problem = config.make_problem()
    at = config.start_point()
    sizes = batch_sizes_for(problem.n_samples)
    full = variance_against_batch(problem, at, "replacement", sizes, np.random.default_rng(0),
                                  400)
    capped = variance_against_batch(problem, at, "replacement", sizes,
                                    np.random.default_rng(0), 400, max_values=3000)
    assert np.array_equal(full[1], capped[1])       # the theory does not depend on the draws
    # 30 to 400 draws a size: the traces are still estimates of the same numbers (±~50 %)
    assert np.all(np.abs(capped[0] / capped[1] - 1) < 0.8)
    assert not np.array_equal(full[0], capped[0])
