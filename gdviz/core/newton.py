"""Damped Newton's method with a Levenberg–Marquardt shift (optimizer ``newton``).

One step at params x with gradient g and exact Hessian H of the same (batch) loss:

    μ = max(0, damping − λmin(H))          the shift: H + μI has no eigenvalue below damping
    d = (H + μI)⁺ g                        solved in H's eigenbasis
    x ← x − lr · d

``lr`` is the damping step (1 = a full Newton step). With damping 0 where H is positive
definite, μ = 0 and the step is Newton's: on a quadratic, lr 1 lands on the minimum in one
step. Where H has an eigenvalue ≤ damping the shift lifts it to damping, so no direction is
ever divided by a non-positive curvature: with damping > 0 a negative-curvature direction is
stepped *down* its slope (g/damping), where plain Newton would climb toward the saddle. With
damping 0 and λmin ≤ 0 the directions whose shifted curvature is exactly 0 get no step (the
pseudo-inverse ⁺): Newton's step is not defined along them.

Shapes: params, grad (p,); hessian (p, p) symmetric. The state after a step holds ``step``
(int) and ``shift`` (μ, float) for the step math.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def init_newton(shape: tuple[int, ...]) -> dict[str, Any]:
    """The state before the first step."""
    return {"step": 0, "shift": 0.0}


def newton_step(params: np.ndarray, grad: np.ndarray, hessian: np.ndarray,
                state: Mapping[str, Any], lr: float, hp: Mapping[str, Any]
                ) -> tuple[np.ndarray, dict[str, Any]]:
    """One damped Newton step: (new params (p,), new state). A non-finite Hessian or gradient
    gives NaN parameters (the runner reports the divergence)."""
    step = int(state["step"]) + 1
    if not (np.all(np.isfinite(hessian)) and np.all(np.isfinite(grad))):
        out = np.full_like(params, np.nan)
        out.setflags(write=False)
        return out, {"step": step, "shift": float("nan")}
    values, vectors = np.linalg.eigh(hessian)
    shift = max(0.0, hp["damping"] - float(values[0]))
    curvature = values + shift
    along = vectors.T @ grad
    positive = curvature > 0
    coefficients = np.divide(along, curvature, out=np.zeros_like(along), where=positive)
    new_params = params - lr * (vectors @ coefficients)
    new_params.setflags(write=False)
    return new_params, {"step": step, "shift": shift}
