"""torch's CPU scalar kernels, in numpy: the operation order every update rule follows.

torch's kernels compute ``add(x, alpha=a)`` as ``self + a*x``, ``addcmul(x, y, value=v)`` as
``self + (v*x)*y`` and ``addcdiv(x, y, value=v)`` as ``self + (v*x)/y``; the rules group their
arithmetic the same way. Arrays are float64, of the parameters' shape.
"""

from __future__ import annotations

import numpy as np


def frozen(array: np.ndarray) -> np.ndarray:
    """``array`` made read-only (it is new, so nobody else writes it)."""
    array.setflags(write=False)
    return array


def lerp(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """torch.lerp with a scalar weight, CPU formula: two forms for accuracy near each end."""
    if abs(weight) < 0.5:
        return start + weight * (end - start)
    return end - (end - start) * (1.0 - weight)


def add_weight_decay(grad: np.ndarray, params: np.ndarray, weight_decay: float) -> np.ndarray:
    """``grad.add(param, alpha=weight_decay)``: the L2 penalty's gradient added (0: as is)."""
    if weight_decay != 0:
        return grad + weight_decay * params
    return grad
