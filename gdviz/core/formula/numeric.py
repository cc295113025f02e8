"""Numerically stable numpy versions of the formula functions numpy lacks.

Shared by the compiled formulas (lambdify looks these names up before numpy's) and by the
data-formula interpreter. Kept free of sympy so that parsing and data generation do not
import it.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    """1 / (1 + exp(-z)) without overflow: exp is only ever taken of -|z|."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(z):
    """log(1 + exp(z)) = max(z, 0) + log1p(exp(-|z|)), exact for large |z|."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


def relu(z):
    return np.maximum(z, 0.0)


def step(z):
    """The derivative of relu/max/min: 1 for z > 0, 0 for z < 0, 1/2 at 0."""
    return np.heaviside(z, 0.5)


NUMPY_FUNCTIONS = {
    "sigmoid": sigmoid, "softplus": softplus, "relu": relu, "step": step, "sign": np.sign,
    "abs": np.abs, "min": np.minimum, "max": np.maximum, "log1p": np.log1p,
}
