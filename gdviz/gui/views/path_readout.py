"""What hovering a path in the Landscape view says, on its map and in its 3-D box: which drawn
point is nearest the pointer (``closest``) and the four lines describing it
(``point_readout``): a path seen in a plane is not the path, so the readout gives the point's
distance from the plane and its true loss beside the surface's loss at its projection."""

from __future__ import annotations

import numpy as np

from gdviz.core.history import RunHistory
from gdviz.core.landscape import Landscape, project_path
from gdviz.core.problems.base import Problem
from gdviz.gui.views import style


def closest(offsets: list[np.ndarray], within: float) -> tuple[int, int] | None:
    """(path k, point i) of the point nearest the pointer, given each path's points' (n, 2)
    offsets from it in screen pixels (NaN: not drawn); None when none is within ``within``
    pixels."""
    best = None
    for k, offset in enumerate(offsets):
        with np.errstate(all="ignore"):
            d = np.hypot(offset[:, 0], offset[:, 1])
        if not np.any(np.isfinite(d)):
            continue
        i = int(np.nanargmin(d))
        if d[i] <= within and (best is None or d[i] < best[0]):
            best = (float(d[i]), k, i)
    return None if best is None else best[1:]


def point_readout(problem: Problem, landscape: Landscape, history: RunHistory, row: int,
                  run_name: str | None) -> str:
    """Four lines on recorded point ``row`` of a run (``run_name`` leads the first when runs
    are compared): its step, its distance from ``landscape``'s plane, its true loss and the
    surface's loss at its projection (core.landscape.project_path: two full losses, ~0.15 ms
    for mlp_spiral's 105 parameters)."""
    step = int(history.steps[row])     # a thinned history's rows are not its steps
    theta = np.asarray(history.params[row], dtype=np.float64)
    seen = project_path(problem, landscape.center, landscape.direction_a,
                        landscape.direction_b, theta[None, :])
    return "\n".join([f"{run_name} · step {step}" if run_name else f"step {step}",
                      f"distance from the plane {style.fmt(float(seen.distance[0]))}",
                      f"true loss {style.fmt(float(seen.loss[0]))}",
                      f"surface's loss here {style.fmt(float(seen.surface_loss[0]))}"])
