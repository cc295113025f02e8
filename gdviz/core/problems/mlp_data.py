"""The 2-D datasets of the network problem: TensorFlow Playground's five (circle, xor, gauss,
spiral for classification; plane, multigauss for regression) plus scikit-learn's two moons.

Each generator takes the number of points n, the noise level and a seeded
``numpy.random.Generator`` and returns ``(x, y)``: x of shape (n, 2) in about [-6, 6]², y of
shape (n,) with 0/1 classes (the Playground's -1 becomes 0) or a real target in [-1, 1]. The
recipes follow the Playground's ``dataset.ts``; its noise slider (0-50 %) is ``noise`` here as a
fraction (0-0.5). Points come class by class; the caller shuffles before splitting off a test
set. All numbers are plain (no units).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

CLASSIFICATION = ("circle", "xor", "gauss", "spiral", "moons")
REGRESSION = ("plane", "multigauss")
DATASETS = CLASSIFICATION + REGRESSION


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def circle(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Class 1 inside radius 2.5, class 0 in the ring 3.5..5; the label is that of the point
    moved by uniform noise of ±5·noise (so noisy points near the border swap classes)."""
    radius = 5.0
    parts_x, parts_y = [], []
    for count, (lo, hi) in zip(_halves(n), ((0.0, 0.5 * radius), (0.7 * radius, radius))):
        r = rng.uniform(lo, hi, count)
        angle = rng.uniform(0.0, 2.0 * np.pi, count)
        points = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
        shifted = points + rng.uniform(-radius, radius, (count, 2)) * noise
        parts_x.append(points)
        parts_y.append((np.hypot(shifted[:, 0], shifted[:, 1]) < 0.5 * radius).astype(float))
    return np.concatenate(parts_x), np.concatenate(parts_y)


def xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-5, 5]² pushed 0.3 away from the axes; class 1 where x1·x2 >= 0 (of
    the point moved by uniform noise of ±5·noise)."""
    points = rng.uniform(-5.0, 5.0, (n, 2))
    points += np.where(points > 0, 0.3, -0.3)
    shifted = points + rng.uniform(-5.0, 5.0, (n, 2)) * noise
    return points, (shifted[:, 0] * shifted[:, 1] >= 0).astype(float)


def gauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs at (2, 2) (class 1) and (-2, -2) (class 0); the variance grows
    linearly from 0.5 at noise 0 to 4 at noise 0.5."""
    variance = 0.5 + (4.0 - 0.5) * noise / 0.5
    ones, zeros = _halves(n)
    first = rng.normal(2.0, np.sqrt(variance), (ones, 2))
    second = rng.normal(-2.0, np.sqrt(variance), (zeros, 2))
    return np.concatenate([first, second]), np.repeat([1.0, 0.0], [ones, zeros])


def spiral(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaved spirals of radius 0..5 and 1.75 turns; class 1 starts at angle 0, class
    0 at π; uniform noise of ±noise on each coordinate."""
    parts_x, parts_y = [], []
    for count, (delta, label) in zip(_halves(n), ((0.0, 1.0), (np.pi, 0.0))):
        i = np.arange(count) / max(count, 1)
        r = i * 5.0
        t = 1.75 * i * 2.0 * np.pi + delta
        points = np.stack([r * np.sin(t), r * np.cos(t)], axis=1)
        parts_x.append(points + rng.uniform(-1.0, 1.0, (count, 2)) * noise)
        parts_y.append(np.full(count, label))
    return np.concatenate(parts_x), np.concatenate(parts_y)


def moons(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's two moons (upper moon class 0, lower class 1), centred and scaled by 3 to
    the Playground's square; Gaussian noise of standard deviation 3·noise."""
    upper, lower = _halves(n)
    a = np.linspace(0.0, np.pi, upper)
    b = np.linspace(0.0, np.pi, lower)
    points = np.concatenate([np.stack([np.cos(a), np.sin(a)], axis=1),
                             np.stack([1.0 - np.cos(b), 0.5 - np.sin(b)], axis=1)])
    points = 3.0 * (points - [0.5, 0.25] + rng.normal(0.0, noise, (n, 2)))
    return points, np.repeat([0.0, 1.0], [upper, lower])


def _uniform_with_shift(n: int, noise: float, rng: np.random.Generator
                        ) -> tuple[np.ndarray, np.ndarray]:
    radius = 6.0
    points = rng.uniform(-radius, radius, (n, 2))
    return points, points + rng.uniform(-radius, radius, (n, 2)) * noise


def plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-6, 6]²; target (x1 + x2)/10 of the point moved by ±6·noise."""
    points, shifted = _uniform_with_shift(n, noise, rng)
    return points, (shifted[:, 0] + shifted[:, 1]) / 10.0


_BUMPS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                   [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def multigauss(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Six bumps of sign ±1 on a 3×2 grid; the target is the strongest bump's sign·(1 - d/2)
    (d the distance to its centre, clamped to 0 beyond 2), at the point moved by ±6·noise."""
    points, shifted = _uniform_with_shift(n, noise, rng)
    distance = np.hypot(shifted[:, None, 0] - _BUMPS[:, 0], shifted[:, None, 1] - _BUMPS[:, 1])
    values = _BUMPS[:, 2] * np.clip(1.0 - distance / 2.0, 0.0, 1.0)  # (n, 6)
    strongest = np.argmax(np.abs(values), axis=1)
    return points, values[np.arange(n), strongest]


GENERATORS: dict[str, Callable[[int, float, np.random.Generator],
                               tuple[np.ndarray, np.ndarray]]] = {
    "circle": circle, "xor": xor, "gauss": gauss, "spiral": spiral, "moons": moons,
    "plane": plane, "multigauss": multigauss,
}
