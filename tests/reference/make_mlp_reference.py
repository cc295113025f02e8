"""Write tests/reference/mlp_torch.json: trajectories of torch SGD and Adam on small networks,
for tests/core/test_mlp_reference.py (CI needs no torch; this script is run once by hand).

gdviz provides what torch must share with it: the training data, the start point and the
batch of every step (from gdviz's own run of the same configuration). torch then trains
``nn.Sequential(Linear, act, ..., Linear)`` in float64 from that start on those batches with
``BCEWithLogitsLoss`` / ``MSELoss`` (mean) and ``torch.optim.SGD`` / ``Adam``; the parameters
after every step are written, flattened in ``.parameters()`` order.

Run from the repository root with a Python that has torch and numpy:
    PYTHONPATH=. /work/torchvenv/bin/python tests/reference/make_mlp_reference.py
"""

from __future__ import annotations

import json
import pathlib

import torch

from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end

OUT = pathlib.Path(__file__).with_name("mlp_torch.json")
STEPS = 30
CASES = [
    {"problem": "mlp", "settings": {"layers": [4.0], "activation": "tanh", "dataset": "circle",
                                    "n": 60}, "optimizer": "sgd", "lr": 0.1,
     "hyperparams": {"momentum": 0.9}, "batch_size": 8},
    {"problem": "mlp", "settings": {"layers": [4.0], "activation": "tanh", "dataset": "circle",
                                    "n": 60}, "optimizer": "adam", "lr": 0.01, "batch_size": 8},
    {"problem": "mlp", "settings": {"layers": [5.0, 3.0], "activation": "relu",
                                    "dataset": "xor", "n": 60}, "optimizer": "sgd",
     "lr": 0.05, "batch_size": 10},
    {"problem": "mlp", "settings": {"layers": [5.0, 3.0], "activation": "sigmoid",
                                    "dataset": "multigauss", "n": 60}, "optimizer": "adam",
     "lr": 0.02, "batch_size": 10},
    {"problem": "mlp", "settings": {"layers": [], "activation": "linear", "dataset": "plane",
                                    "n": 40}, "optimizer": "adam", "lr": 0.05,
     "batch_size": 5},
]
ACT = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU, "sigmoid": torch.nn.Sigmoid,
       "linear": torch.nn.Identity}


def torch_network(problem, settings: dict) -> torch.nn.Sequential:
    """``nn.Sequential(Linear, act, ..., Linear)`` in float64 for gdviz's mlp ``problem`` built
    from ``settings`` (also used by make_mlp_hessians.py)."""
    sizes = [problem.data_x.shape[1], *[int(h) for h in settings["layers"]], 1]
    modules: list[torch.nn.Module] = []
    for number, (inp, out) in enumerate(zip(sizes[:-1], sizes[1:])):
        modules.append(torch.nn.Linear(inp, out, dtype=torch.float64))
        if number < len(sizes) - 2:
            modules.append(ACT[settings["activation"]]())
    return torch.nn.Sequential(*modules)


def torch_trajectory(case: dict) -> list[list[float]]:
    config = RunConfig.from_dict({**case, "max_steps": STEPS, "seed": 3})
    problem = config.make_problem()
    records = run_to_end(config)  # gdviz's run: only its batches are used here
    model = torch_network(problem, case["settings"])
    torch.nn.utils.vector_to_parameters(torch.tensor(config.start_point()), model.parameters())
    loss_fn = torch.nn.BCEWithLogitsLoss() if problem.classification else torch.nn.MSELoss()
    hp = dict(config.hyperparams)
    if "betas" in hp:
        hp["betas"] = tuple(hp["betas"])
    cls = torch.optim.SGD if config.optimizer == "sgd" else torch.optim.Adam
    opt = cls(model.parameters(), lr=config.lr, foreach=False, **hp)
    x = torch.tensor(problem.data_x)
    y = torch.tensor(problem.data_y)
    path = [torch.nn.utils.parameters_to_vector(model.parameters()).tolist()]
    for record in records[1:]:
        batch = torch.tensor(record.batch)
        opt.zero_grad()
        loss_fn(model(x[batch])[:, 0], y[batch]).backward()
        opt.step()
        path.append(torch.nn.utils.parameters_to_vector(model.parameters()).tolist())
    return path


def main() -> None:
    out = {"torch": torch.__version__, "steps": STEPS, "seed": 3,
           "cases": [{"config": case, "params": torch_trajectory(case)} for case in CASES]}
    OUT.write_text(json.dumps(out, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
