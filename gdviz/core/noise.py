"""The noise of SGD at a point: the mini-batch gradient's mean and covariance, and the cloud
that SGD with a constant learning rate settles into around the minimum of a quadratic loss.

Per-sample gradients here are the one-sample estimates of the full gradient,
gᵢ = reduce_factor(1)·∇ℓᵢ (∇ℓᵢ for a ``mean`` loss, n·∇ℓᵢ for a ``sum`` loss), so that their mean
ḡ is the full gradient and a batch gradient is the mean of its samples' gᵢ. A problem's
``grad_noise`` σ adds σ²·reduce_factor(1)²·I to each gᵢ's covariance, as the runner adds it.

Shapes: p parameters; every covariance is (p, p) in the problem's parameter order, in
(gradient units)²; the stationary covariance is in (parameter units)². No Qt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.sampling import epoch_batches


@dataclass(frozen=True)
class GradientNoise:
    """What ``gdviz noise`` prints (see ``gradient_noise``)."""

    at: np.ndarray                      # (p,) the point
    full_gradient: np.ndarray           # (p,) ḡ
    per_sample_covariance: np.ndarray   # (p, p) C = (1/n)·Σ (gᵢ − ḡ)(gᵢ − ḡ)ᵀ (+ σ² part)
    batch_covariance: np.ndarray        # (p, p) covariance of one step's batch gradient
    noise_scale: float | None           # B_simple = tr(C)/|ḡ|², None where ḡ = 0
    stationary_covariance: np.ndarray | None  # (p, p) Lyapunov solution, or None

    @property
    def batch_covariance_trace(self) -> float:
        return float(np.trace(self.batch_covariance))

    def to_json(self, param_names: tuple[str, ...]) -> dict[str, Any]:
        """The JSON object of ``gdviz noise``: matrices as lists of rows."""
        def rows(matrix: np.ndarray | None) -> list | None:
            return None if matrix is None else matrix.tolist()

        return {"parameters": list(param_names), "at": self.at.tolist(),
                "full_gradient": self.full_gradient.tolist(),
                "per_sample_covariance": rows(self.per_sample_covariance),
                "batch_covariance": rows(self.batch_covariance),
                "batch_covariance_trace": self.batch_covariance_trace,
                "noise_scale": self.noise_scale,
                "stationary_covariance": rows(self.stationary_covariance)}


def per_sample_gradients(problem: Any, at: np.ndarray) -> np.ndarray:
    """(n, p): every sample's one-sample estimate of the full gradient at ``at`` (p,)."""
    return problem.sample_grads(at) * problem.reduce_factor(1)


def _injected(problem: Any) -> float:
    """The variance σ²·reduce_factor(1)² the runner's gradient noise adds to each gᵢ."""
    return (problem.grad_noise * problem.reduce_factor(1)) ** 2


def per_sample_covariance(problem: Any, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(ḡ (p,), C (p, p)) at ``at``, C with the 1/n normalisation and the injected noise."""
    grads = per_sample_gradients(problem, at)
    mean = grads.mean(axis=0)
    centred = grads - mean
    cov = centred.T @ centred / len(grads)
    return mean, cov + _injected(problem) * np.eye(len(mean))


def batch_covariance(problem: Any, at: np.ndarray, batch_size: int, order: str,
                     grads: np.ndarray | None = None) -> np.ndarray:
    """(p, p): the covariance of one step's batch gradient at ``at`` over the step's random
    batch (and gradient noise).

    ``replacement``: C/B. ``shuffle`` (without replacement): C_data/B·(n − B)/(n − 1) plus the
    injected part /B, for a batch of B (an epoch's shorter last batch is not counted).
    ``sequential``: the batches are fixed; the covariance over the epoch's batches, each step
    equally likely (plus the injected part, 1/k per batch of k, averaged). ``grads``: the
    ``per_sample_gradients`` at ``at`` when the caller has them.
    """
    n, p = problem.n_samples, problem.n_params
    grads = per_sample_gradients(problem, at) if grads is None else grads
    noise = _injected(problem)
    if order == "sequential":
        starts = range(0, n, batch_size)
        means = np.array([grads[s:s + batch_size].mean(axis=0) for s in starts])
        centred = means - means.mean(axis=0)
        inverse_sizes = np.mean([1.0 / len(grads[s:s + batch_size]) for s in starts])
        return centred.T @ centred / len(means) + noise * inverse_sizes * np.eye(p)
    centred = grads - grads.mean(axis=0)
    data = centred.T @ centred / n / batch_size
    if order == "shuffle":
        data = data * ((n - batch_size) / (n - 1) if n > 1 else 0.0)
    elif order != "replacement":
        raise ConfigError(f"unknown order {order!r}")
    return data + noise / batch_size * np.eye(p)


def sample_batch_gradients(problem: Any, at: np.ndarray, batch_size: int, order: str,
                           rng: np.random.Generator, count: int,
                           grads: np.ndarray | None = None) -> np.ndarray:
    """(count, p): the batch gradients at ``at`` of ``count`` steps whose batches the runner's
    sampler draws (``sampling.epoch_batches``, epoch after epoch, from ``rng``), with the
    runner's gradient noise. With ``shuffle`` an epoch's shorter last batch is skipped (the
    batch covariance is that of a batch of B). ``grads``: as for ``batch_covariance``, or
    (n, q) some of the parameters' columns of it (the gradients then have those q columns:
    a map draws two of a network's parameters)."""
    n = problem.n_samples
    grads = per_sample_gradients(problem, at) if grads is None else grads
    p = grads.shape[1]
    batches: list[np.ndarray] = []
    while len(batches) < count:
        batches.extend(batch for batch in epoch_batches(n, batch_size, order, rng)
                       if order != "shuffle" or len(batch) == batch_size)
    batches = batches[:count]
    if all(len(batch) == batch_size for batch in batches):   # one numpy call for all
        out = np.take(grads, np.stack(batches), axis=0).mean(axis=1)
    else:  # sequential, with the epoch's shorter last batch
        out = np.array([grads[batch].mean(axis=0) for batch in batches])
    if problem.grad_noise:
        draws = rng.standard_normal((count, batch_size, p)).mean(axis=1)
        out = out + problem.grad_noise * problem.reduce_factor(1) * draws
    return out


def stationary_covariance(hessian: np.ndarray, lr: float,
                          noise_covariance: np.ndarray) -> np.ndarray | None:
    """Σ solving Σ = (I − ηH)·Σ·(I − ηH)ᵀ + η²·C_B, (p, p): the covariance of
    θ_{t+1} − θ* = (I − ηH)(θ_t − θ*) − η·ξ_t with independent noise ξ_t of covariance C_B,
    once the start is forgotten. None when that recursion does not settle (an eigenvalue of
    I − ηH outside (−1, 1): the learning rate is too large, or H has a zero eigenvalue)."""
    p = len(hessian)
    a = np.eye(p) - lr * hessian
    if np.max(np.abs(np.linalg.eigvals(a))) >= 1.0:
        return None
    vec = np.linalg.solve(np.eye(p * p) - np.kron(a, a), (lr * lr * noise_covariance).ravel())
    sigma = vec.reshape(p, p)
    return (sigma + sigma.T) / 2


def plain_sgd(config: RunConfig) -> bool:
    """True when the run is plain SGD at a constant rate (the stationary model's update)."""
    hp = config.hyperparams
    return (config.optimizer == "sgd" and config.schedule == "constant"
            and hp.get("momentum", 0.0) == 0 and hp.get("weight_decay", 0.0) == 0)


def gradient_noise(config: RunConfig, at: np.ndarray | None = None) -> GradientNoise:
    """The gradient noise of ``config``'s problem, batch size and order at ``at`` (p,) (None:
    the start point). The stationary covariance is given for a problem with a constant
    Hessian and a known minimum, run by plain SGD (``plain_sgd``) at ``config.lr``."""
    problem = config.make_problem()
    point = config.start_point() if at is None else np.asarray(at, dtype=np.float64)
    batch = config.effective_batch_size()
    mean, cov = per_sample_covariance(problem, point)
    norm2 = float(mean @ mean)  # the mean of the one-sample estimates: ḡ
    scale = float(np.trace(cov)) / norm2 if norm2 > 0 else None
    predicted = stationary_prediction(config)
    stationary = None if predicted is None else predicted[1]
    return GradientNoise(point, problem.grad(point), cov,
                         batch_covariance(problem, point, batch, config.order), scale,
                         stationary)


def stationary_prediction(config: RunConfig) -> tuple[np.ndarray, np.ndarray] | None:
    """(θ* (p,), Σ (p, p)): the minimum and the predicted stationary covariance of ``config``'s
    iterates around it (``stationary_covariance`` with C_B at θ*), for a problem with a
    constant Hessian and a known minimum run by plain SGD at a constant rate; else None."""
    problem = config.make_problem()
    hessian = problem.constant_hessian()
    if hessian is None or not problem.minima or not plain_sgd(config):
        return None
    minimum = np.array(problem.minima[0].params, dtype=np.float64)
    noise_at_minimum = batch_covariance(problem, minimum, config.effective_batch_size(),
                                        config.order)
    sigma = stationary_covariance(hessian, config.lr, noise_at_minimum)
    return None if sigma is None else (minimum, sigma)


def covariance_ellipse(center: np.ndarray, cov: np.ndarray, sigmas: float,
                       points: int = 65) -> tuple[np.ndarray, np.ndarray]:
    """(x, y), each (points,): the closed curve {center + sigmas·L·u : |u| = 1} with L·Lᵀ =
    ``cov`` (2, 2), i.e. the ``sigmas``-σ contour of a Gaussian with that covariance (its half
    axes are sigmas·√eigenvalue along the eigenvectors). A singular cov gives a segment."""
    values, vectors = np.linalg.eigh(np.asarray(cov, dtype=np.float64))
    radii = sigmas * np.sqrt(np.clip(values, 0.0, None))
    angle = np.linspace(0.0, 2.0 * np.pi, points)
    unit = np.stack([np.cos(angle), np.sin(angle)])            # (2, points)
    curve = vectors @ (radii[:, None] * unit)                   # (2, points)
    return center[0] + curve[0], center[1] + curve[1]


def batch_sizes_for(n_samples: int, count: int = 12) -> np.ndarray:
    """Up to ``count`` distinct batch sizes spread evenly on a log scale from 1 to n/2 (the
    noise panel's x axis; a batch of all n has no noise to plot on a log axis). (m,) ints."""
    top = max(1, n_samples // 2)
    return np.unique(np.round(np.geomspace(1, top, count)).astype(np.int64))


def variance_against_batch(problem: Any, at: np.ndarray, order: str, batch_sizes: np.ndarray,
                           rng: np.random.Generator, count: int,
                           should_stop=lambda: False,
                           max_values: int = 4_000_000) -> tuple[np.ndarray, np.ndarray] | None:
    """(measured (m,), theory (m,)): for each batch size B of ``batch_sizes``, the trace of the
    covariance of up to ``count`` batch gradients the sampler draws at ``at`` (``order``), and
    the trace ``batch_covariance`` predicts (tr(C)/B with replacement, ·(n − B)/(n − 1) with
    shuffle), in (gradient units)². Fewer draws (at least 30) where count·B·p would exceed
    ``max_values`` (a network's gradients: the draws are gathered in one array). None once
    ``should_stop()`` (checked between sizes)."""
    grads = per_sample_gradients(problem, at)
    p = grads.shape[1]
    measured, theory = [], []
    for size in batch_sizes:
        if should_stop():
            return None
        draws_count = int(max(30, min(count, max_values // max(1, int(size) * p))))
        draws = sample_batch_gradients(problem, at, int(size), order, rng, draws_count, grads)
        measured.append(float(np.trace(np.atleast_2d(np.cov(draws, rowvar=False)))))
        theory.append(float(np.trace(batch_covariance(problem, at, int(size), order, grads))))
    return np.array(measured), np.array(theory)
