"""What several views compute at a step's point, computed once per point and shared.

At full speed every view draws the newest step, and three of them want every sample's gradient
at its point: the contour's fan, full step and batch cloud, the 3-D view's map from above (a
second contour) and the gradient histogram. For a 2-8-8-1 network on 500 samples that is one
backward pass over all samples (~0.3 ms, more on a busy GUI thread) per view and frame;
computed once, the others look it up. Weakly keyed by problem (``core.problem_cache``): a
dropped problem frees its entries."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np

from gdviz.core.problem_cache import ProblemLRU
from gdviz.core.problems.base import Problem

_CACHE = ProblemLRU(max_entries=8)


def at_point(problem: Problem, key: Hashable, compute: Callable[[], Any]) -> Any:
    """``compute()``, or what it returned before for (problem, key)."""
    found = _CACHE.lookup(problem, key)
    if found is None:
        found = compute()
        _CACHE.store(problem, key, found)
    return found


def sample_gradients_at(problem: Problem, at: np.ndarray) -> np.ndarray:
    """(n, p) read-only: ``problem.sample_grads(at)``, every sample's gradient at ``at`` (p,)
    float64, without the runner's gradient noise."""

    def compute() -> np.ndarray:
        with np.errstate(all="ignore"):
            grads = np.asarray(problem.sample_grads(at), dtype=np.float64)
        grads.setflags(write=False)
        return grads

    return at_point(problem, ("sample_grads", at.tobytes()), compute)
