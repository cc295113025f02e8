"""Initialisation schemes: a start point for a problem drawn from a run's seed.

``init_point(problem, scheme, seed)`` gives the (p,) start parameters of one of ``SCHEMES``:

- ``zeros``: every parameter 0.
- ``normal``: every parameter ~ N(0, 1) (torch.nn.init.normal_).
- ``xavier`` (Glorot): ~ N(0, 2 / (fan_in + fan_out)) (torch.nn.init.xavier_normal_, gain 1).
- ``kaiming`` (He): ~ N(0, 2 / fan_in) (torch.nn.init.kaiming_normal_, mode "fan_in",
  nonlinearity "relu").

Fans come from the problem's parameter layout: a problem with layers gives each parameter's
(fan_in, fan_out) with a method ``param_fans() -> (p, 2)``. A problem without layers (the
lessons, the test functions, your formula) has one output, so every parameter gets
fan_in = the number of inputs (the data's columns, at least 1: a test function has none) and
fan_out = 1. Biases are drawn like the weights there (the layout does not say which is which).
With one input (wavy, slope, bowl) Xavier's variance 2 / (1 + 1) is 1, and with two (linreg,
logistic) Kaiming's 2 / 2 is 1: the same draw as N(0, 1) (the same seed, the same numbers).

The draw uses its own generator, seeded from the run's seed and a fixed stream number, so it
does not take numbers from the stream that samples the batches: the same seed gives the same
start point and, independently, the same batches.
"""

from __future__ import annotations

import numpy as np

from gdviz.core.errors import ConfigError

SCHEMES = ("zeros", "normal", "xavier", "kaiming")
SCHEME_TITLES = {"zeros": "zeros", "normal": "N(0, 1)", "xavier": "Xavier/Glorot",
                 "kaiming": "Kaiming/He"}
_STREAM = 0x1417  # the init draw's stream beside the run's batch sampling (runner.py)


def check_scheme(scheme: str) -> str:
    if scheme not in SCHEMES:
        raise ConfigError(f"unknown initialisation scheme {scheme!r}; choose from: "
                          f"{', '.join(SCHEMES)}")
    return scheme


def param_fans(problem) -> np.ndarray:
    """(p, 2) float (fan_in, fan_out) of each parameter: the problem's own layout when it has
    one (``param_fans()``), else (number of inputs, 1) for every parameter."""
    own = getattr(problem, "param_fans", None)
    if callable(own):
        fans = np.asarray(own(), dtype=np.float64)
        if fans.shape != (problem.n_params, 2) or np.any(fans < 1):
            raise ConfigError(f"{problem.name}: param_fans() must give (fan_in, fan_out) >= 1 "
                              f"for each of its {problem.n_params} parameters")
        return fans
    inputs = max(1, int(problem.data_x.shape[1]))
    return np.tile([float(inputs), 1.0], (problem.n_params, 1))


def init_point(problem, scheme: str, seed: int) -> np.ndarray:
    """(p,) float64 start parameters of ``scheme`` for ``problem``, drawn from ``seed``."""
    check_scheme(scheme)
    p = problem.n_params
    if scheme == "zeros":
        return np.zeros(p)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _STREAM]))
    draw = rng.standard_normal(p)
    if scheme == "normal":
        return draw
    fans = param_fans(problem)
    if scheme == "xavier":
        std = np.sqrt(2.0 / (fans[:, 0] + fans[:, 1]))
    else:
        std = np.sqrt(2.0 / fans[:, 0])
    return draw * std


def scheme_of(problem, init, seed: int, prefer: str | None = None) -> str | None:
    """The scheme whose draw from ``seed`` is exactly ``init`` (a start point), else None;
    ``prefer`` is checked first (schemes that draw the same numbers on this problem)."""
    if init is None:
        return None
    values = np.asarray(init, dtype=np.float64)
    for scheme in ((prefer,) if prefer in SCHEMES else ()) + SCHEMES:
        if np.array_equal(init_point(problem, scheme, seed), values):
            return scheme
    return None
