"""Write tests/reference/mlp_hessians.json: the exact Hessian of the full loss of small networks
by torch's autograd (``torch.autograd.functional.hessian``), for
tests/core/test_mlp_curvature.py (CI needs no torch; this script is run once by hand).

gdviz provides the training data and the point (its own problem and a start drawn from a
seed); torch builds ``nn.Sequential(Linear, act, ..., Linear)`` in float64, writes the point
into its parameters functionally (``torch.func.functional_call``) and differentiates the mean
``BCEWithLogitsLoss`` / ``MSELoss`` twice. The Hessian is flattened in ``.parameters()`` order.

Run from the repository root with a Python that has torch and numpy:
    PYTHONPATH=. /work/torchvenv/bin/python tests/reference/make_mlp_hessians.py
"""

from __future__ import annotations

import json
import pathlib

import numpy as np
import torch
from make_mlp_reference import torch_network  # this folder, beside the script

from gdviz.core.problems.registry import make_problem

OUT = pathlib.Path(__file__).with_name("mlp_hessians.json")
CASES = [  # three architectures, both losses; points drawn wide so every activation bends
    {"settings": {"layers": [4.0, 3.0], "activation": "tanh", "dataset": "moons", "n": 40},
     "seed": 1},
    {"settings": {"layers": [5.0], "activation": "sigmoid", "dataset": "multigauss", "n": 40},
     "seed": 2},
    {"settings": {"layers": [3.0, 3.0], "activation": "relu", "dataset": "plane", "n": 40},
     "seed": 3},
]


def case_point(problem, seed: int) -> np.ndarray:
    """The point of a case (p,): gdviz's start for ``seed``, doubled and moved a little, so
    that units sit on the curved part of their activation."""
    rng = np.random.default_rng(seed)
    return 2.0 * problem.start_for_seed(seed) + rng.normal(0.0, 0.3, problem.n_params)


def torch_hessian(case: dict) -> tuple[list[float], list[list[float]]]:
    problem = make_problem("mlp", case["settings"])
    point = case_point(problem, case["seed"])
    model = torch_network(problem, case["settings"])
    names = [name for name, _ in model.named_parameters()]
    shapes = [tuple(p.shape) for p in model.parameters()]
    loss_fn = torch.nn.BCEWithLogitsLoss() if problem.classification else torch.nn.MSELoss()
    x = torch.tensor(problem.data_x)
    y = torch.tensor(problem.data_y)

    def loss(flat: torch.Tensor) -> torch.Tensor:
        parts, start = {}, 0
        for name, shape in zip(names, shapes):
            size = int(np.prod(shape))
            parts[name] = flat[start:start + size].reshape(shape)
            start += size
        return loss_fn(torch.func.functional_call(model, parts, (x,))[:, 0], y)

    hessian = torch.autograd.functional.hessian(loss, torch.tensor(point))
    return point.tolist(), hessian.tolist()


def main() -> None:
    cases = []
    for case in CASES:
        point, hessian = torch_hessian(case)
        cases.append({**case, "point": point, "hessian": hessian})
    out = {"torch": torch.__version__, "cases": cases}
    OUT.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
