"""Gradient noise (gdviz.core.noise) against direct computations, sampled batches and SGD."""

import numpy as np
import pytest

from gdviz.core.ensemble import iterate_ensemble
from gdviz.core.noise import (
    batch_covariance,
    gradient_noise,
    sample_batch_gradients,
    stationary_covariance,
)
from gdviz.core.records import RunConfig


def one_sample_gradients(problem, at):
    """Each sample's batch gradient, as the runner computes a batch of one."""
    return np.array([problem.batch_grad(at, np.array([i])) for i in range(problem.n_samples)])


@pytest.mark.parametrize(("problem", "settings"), [("linreg", {"n": 50}),
                                                   ("logistic", {"n": 60}),
                                                   ("wavy", {"n": 30})])
@pytest.mark.parametrize("order", ["shuffle", "replacement", "sequential"])
def test_noise_equals_direct_computations(problem, settings, order):
    config = RunConfig(problem=problem, settings=settings, batch_size=7, order=order)
    prob = config.make_problem()
    at = config.start_point() + 0.1
    noise = gradient_noise(config, at)
    grads = one_sample_gradients(prob, at)
    n, b = len(grads), 7
    cov = np.cov(grads.T, bias=True).reshape(prob.n_params, prob.n_params)
    np.testing.assert_array_equal(noise.full_gradient, prob.grad(at))
    np.testing.assert_allclose(noise.full_gradient, grads.mean(axis=0), rtol=1e-10)
    np.testing.assert_allclose(noise.per_sample_covariance, cov, rtol=1e-10, atol=1e-14)
    if order == "sequential":  # the fixed batches of an epoch, each step equally likely
        chunks = np.array([prob.batch_grad(at, np.arange(s, min(s + b, n)))
                           for s in range(0, n, b)])
        expected = np.cov(chunks.T, bias=True).reshape(cov.shape)
    else:
        expected = cov / b * ((n - b) / (n - 1) if order == "shuffle" else 1.0)
    np.testing.assert_allclose(noise.batch_covariance, expected, rtol=1e-10, atol=1e-14)
    assert noise.batch_covariance_trace == pytest.approx(np.trace(expected), rel=1e-10)
    g = grads.mean(axis=0)
    assert noise.noise_scale == pytest.approx(np.trace(cov) / (g @ g), rel=1e-10)
    payload = noise.to_json(prob.param_names)
    assert set(payload) >= {"full_gradient", "per_sample_covariance", "batch_covariance",
                            "batch_covariance_trace", "noise_scale", "stationary_covariance"}
    assert payload["batch_covariance"] == noise.batch_covariance.tolist()
    assert (payload["stationary_covariance"] is None) == (problem != "linreg")


def test_sampled_batch_covariance_without_replacement_is_c_over_b_times_the_correction():
    """linreg, n = 200, B = 16 drawn by the runner's shuffle: 40 000 batches estimate the
    trace to about 1 % (standard error), so 3 % is three of them."""
    config = RunConfig(problem="linreg", settings={"n": 200}, batch_size=16)
    prob = config.make_problem()
    at = config.start_point()
    grads = one_sample_gradients(prob, at)
    predicted = np.trace(np.cov(grads.T, bias=True)) / 16 * 184 / 199
    assert gradient_noise(config).batch_covariance_trace == pytest.approx(predicted, rel=1e-10)
    sampled = sample_batch_gradients(prob, at, 16, "shuffle", np.random.default_rng(0), 40_000)
    assert np.trace(np.cov(sampled.T)) == pytest.approx(predicted, rel=0.03)
    np.testing.assert_allclose(sampled.mean(axis=0), prob.grad(at), atol=0.05)


def test_injected_gradient_noise_is_part_of_the_covariance():
    config = RunConfig(problem="rosenbrock", settings={"grad_noise": 0.3})
    noise = gradient_noise(config)
    np.testing.assert_allclose(noise.per_sample_covariance, 0.09 * np.eye(2))
    sampled = sample_batch_gradients(config.make_problem(), config.start_point(), 1,
                                     "shuffle", np.random.default_rng(1), 20_000)
    np.testing.assert_allclose(np.cov(sampled.T), 0.09 * np.eye(2), atol=0.006)
    assert noise.stationary_covariance is None  # not quadratic


def test_stationary_covariance_solves_the_lyapunov_equation_or_is_null():
    config = RunConfig(problem="bowl", batch_size=5, lr=0.01)
    prob = config.make_problem()
    h = prob.constant_hessian()
    sigma = gradient_noise(config).stationary_covariance
    c_b = batch_covariance(prob, np.array(prob.minima[0].params), 5, "shuffle")
    a = np.eye(2) - 0.01 * h
    np.testing.assert_allclose(sigma, a @ sigma @ a.T + 1e-4 * c_b, rtol=1e-9)
    assert np.all(np.linalg.eigvalsh(sigma) > 0)
    assert stationary_covariance(h, 2.5 / np.linalg.eigvalsh(h)[-1], c_b) is None  # too fast
    for changes in ({"optimizer": "adam", "hyperparams": {}}, {"hyperparams": {"momentum": 0.9}},
                    {"schedule": "exponential"}):
        assert gradient_noise(config.with_changes(**changes)).stationary_covariance is None


def test_256_seeds_settle_into_the_predicted_cloud():
    """linreg (n = 200, B = 16, batches drawn with replacement: independent steps, the model's
    assumption), lr 0.05, started at the minimum: after 300 steps (15 relaxation times of the
    slowest direction) the seeds' points every 40 steps, pooled, have the predicted covariance
    (measured: trace and largest eigenvalue within 1 % for three sets of seeds)."""
    config = RunConfig(problem="linreg", settings={"n": 200}, batch_size=16, lr=0.05,
                       order="replacement", max_steps=1100)
    minimum = np.array(config.make_problem().minima[0].params)
    config = config.with_changes(init=tuple(minimum))
    predicted = gradient_noise(config).stationary_covariance
    offsets = [e.params - minimum for e in iterate_ensemble(config, range(256))
               if e.step >= 300 and e.step % 40 == 0]
    pooled = np.concatenate(offsets)
    empirical = pooled.T @ pooled / len(pooled)
    assert np.trace(empirical) == pytest.approx(np.trace(predicted), rel=0.15)
    assert np.linalg.eigvalsh(empirical)[-1] == pytest.approx(np.linalg.eigvalsh(predicted)[-1],
                                                              rel=0.15)


def test_covariance_ellipse_is_the_sigma_contour():
    from gdviz.core.noise import covariance_ellipse

    cov = np.array([[4.0, 1.5], [1.5, 1.0]])
    x, y = covariance_ellipse(np.array([1.0, -2.0]), cov, 2.0)
    d = np.stack([x - 1.0, y + 2.0])
    # every point has Mahalanobis distance 2; the curve is closed
    np.testing.assert_allclose(np.einsum("ip,ij,jp->p", d, np.linalg.inv(cov), d), 4.0)
    assert (x[0], y[0]) == pytest.approx((x[-1], y[-1]))
