"""Write tests/reference/torch_golden.json: torch's own trajectories for gdviz's optimizers
and schedules, so the tests compare gdviz with torch without torch installed.

Run once, from the repository root, with a Python that has torch 2.13 and numpy (torch is never
a runtime or CI dependency; the committed JSON was made with torch 2.13.0+cpu):

    PYTHONPATH=. python tests/reference/make_torch_golden.py

Each case is a gdviz run configuration (a RunConfig dict). Torch runs it: its optimizer and
scheduler classes, stepped the way a torch training loop steps them, on gradients that gdviz's
problem computes for torch's current parameters (the same batches, in sequential order). So a
case fixes the problem and isolates what the tests check: the update rules and the learning
rates. Torch's default dtype is float64 (its 0-d optimizer states are then float64 too) and
its portable kernels are used (ATEN_CPU_CAPABILITY=default: no fused multiply-add).

Written per case: the config, the parameters after each step, the learning rate each step
used and, for L-BFGS, the loss/gradient evaluations each step made.

Every case runs twice: with the optimizer and scheduler built here, and with the ones the code
of ``gdviz.core.torch_code.torch_code(config)`` builds (what "Copy as PyTorch" gives). The
script fails unless both give the same trajectory, bit for bit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("ATEN_CPU_CAPABILITY", "default")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gdviz.core.records import RunConfig  # noqa: E402
from gdviz.core.sampling import epoch_batches  # noqa: E402
from gdviz.core.torch_code import torch_code  # noqa: E402

torch.set_default_dtype(torch.float64)
OUT = Path(__file__).with_name("torch_golden.json")
STEPS = 50
LBFGS_STEPS = 20

ROSENBROCK = {"problem": "rosenbrock"}
# 40 samples in batches of 10, in order: 4 steps an epoch, so per-epoch schedules change
LINREG = {"problem": "linreg", "settings": {"n": 40, "noise": 0.5}, "batch_size": 10,
          "order": "sequential"}


class Lion(torch.optim.Optimizer):
    """Lion as its authors' reference code writes it (torch.optim has no Lion)."""

    def __init__(self, params, lr=1e-4, betas=(0.9, 0.99), weight_decay=0.0):
        super().__init__(params, {"lr": lr, "betas": betas, "weight_decay": weight_decay})

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                if not state:
                    state["exp_avg"] = torch.zeros_like(p)
                exp_avg = state["exp_avg"]
                beta1, beta2 = group["betas"]
                p.mul_(1 - group["lr"] * group["weight_decay"])
                update = exp_avg.clone().mul_(beta1).add(p.grad, alpha=1 - beta1).sign_()
                p.add_(update, alpha=-group["lr"])
                exp_avg.mul_(beta2).add_(p.grad, alpha=1 - beta2)


CLASSES = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adam": "Adam",
           "adamw": "AdamW", "nadam": "NAdam", "radam": "RAdam", "adamax": "Adamax",
           "adadelta": "Adadelta", "rprop": "Rprop", "asgd": "ASGD", "adafactor": "Adafactor",
           "lbfgs": "LBFGS"}

# (optimizer, lr on rosenbrock, lr on linreg, hyperparameter sets): every hyperparameter is
# set away from its default in at least one set
OPTIMIZER_CASES = [
    ("sgd", 1e-3, 0.05, [{}, {"momentum": 0.9, "dampening": 0.3, "weight_decay": 0.1},
                         {"momentum": 0.9, "nesterov": True}]),
    ("adagrad", 0.1, 0.3, [{}, {"lr_decay": 0.1, "weight_decay": 0.1,
                                "initial_accumulator_value": 0.5, "eps": 1e-3}]),
    ("rmsprop", 1e-2, 1e-2, [{}, {"alpha": 0.3, "eps": 1e-4, "weight_decay": 0.1,
                                  "momentum": 0.5, "centered": True}]),
    ("adam", 0.05, 0.1, [{}, {"betas": (0.5, 0.9), "eps": 1e-4, "weight_decay": 0.2,
                              "amsgrad": True}]),
    ("adamw", 0.05, 0.1, [{}, {"betas": (0.2, 0.6), "eps": 1e-4, "weight_decay": 0.5,
                               "amsgrad": True}]),
    ("nadam", 0.05, 0.1, [{}, {"betas": (0.8, 0.99), "eps": 1e-4, "weight_decay": 0.1,
                               "momentum_decay": 0.01},
                          {"weight_decay": 0.1, "decoupled_weight_decay": True}]),
    ("radam", 1e-3, 0.1, [{}, {"betas": (0.8, 0.95), "eps": 1e-4, "weight_decay": 0.1},
                          {"weight_decay": 0.1, "decoupled_weight_decay": True}]),
    ("adamax", 0.05, 0.1, [{}, {"betas": (0.5, 0.9), "eps": 1e-3, "weight_decay": 0.1}]),
    ("adadelta", 1.0, 1.0, [{}, {"rho": 0.5, "eps": 1e-3, "weight_decay": 0.1}]),
    ("rprop", 1e-3, 1e-2, [{}, {"etas": (0.3, 1.5), "step_sizes": (1e-4, 0.05)}]),
    ("asgd", 1e-3, 0.05, [{}, {"lambd": 0.05, "alpha": 0.5, "t0": 10.0, "weight_decay": 0.1}]),
    ("adafactor", 0.05, 0.1, [{}, {"beta2_decay": -0.5, "eps": (1e-6, 1e-2), "d": 2.0,
                                   "weight_decay": 0.1}]),
    ("lion", 1e-2, 1e-2, [{}, {"betas": (0.8, 0.9), "weight_decay": 0.5}]),
    ("lbfgs", 0.1, 0.5, [{}, {"history_size": 3, "max_iter": 5, "max_eval": 6,
                              "tolerance_grad": 1e-5, "tolerance_change": 1e-7}]),
    ("lbfgs", 1.0, 1.0, [{"line_search_fn": "strong_wolfe"},
                         {"line_search_fn": "strong_wolfe", "history_size": 2, "max_iter": 4}]),
]

# (schedule, its parameters, optimizer, hyperparameters) run on linreg stepped every step and
# every epoch; every schedule parameter set away from its default somewhere
SCHEDULE_CASES = [
    ("step", {}, "sgd", {}),
    ("exponential", {}, "sgd", {}),
    ("cosine", {}, "sgd", {}),
    ("step", {"step_size": 3, "gamma": 0.5}, "sgd", {}),
    ("exponential", {"gamma": 0.8}, "sgd", {}),
    ("cosine", {"T_max": 7, "eta_min": 0.001}, "sgd", {}),
    ("linear", {}, "sgd", {}),
    ("linear", {"start_factor": 0.1, "end_factor": 0.5, "total_iters": 8}, "sgd", {}),
    ("onecycle", {}, "sgd", {"momentum": 0.9}),
    ("onecycle", {"max_lr": 0.2, "total_steps": 60, "pct_start": 0.25,
                  "anneal_strategy": "linear", "base_momentum": 0.7, "max_momentum": 0.9,
                  "div_factor": 10.0, "final_div_factor": 100.0, "three_phase": True},
     "adam", {}),
    ("onecycle", {"cycle_momentum": False}, "adagrad", {}),
    ("cyclic", {"step_size_up": 4}, "sgd", {"momentum": 0.5}),
    ("cyclic", {"base_lr": 0.01, "max_lr": 0.1, "step_size_up": 3, "step_size_down": 5,
                "mode": "triangular2", "base_momentum": 0.6, "max_momentum": 0.8}, "adam", {}),
    ("cyclic", {"max_lr": 0.2, "step_size_up": 2, "mode": "exp_range", "gamma": 0.9,
                "cycle_momentum": False}, "sgd", {}),
    ("cosine-restarts", {"T_0": 3}, "sgd", {}),
    ("cosine-restarts", {"T_0": 2, "T_mult": 2, "eta_min": 0.005}, "sgd", {}),
    ("polynomial", {}, "sgd", {}),
    ("polynomial", {"total_iters": 20, "power": 2.0}, "sgd", {}),
    ("plateau", {"patience": 1, "threshold": 0.05}, "sgd", {}),
    ("plateau", {"mode": "max", "factor": 0.5, "patience": 0, "threshold": 0.01,
                 "threshold_mode": "abs", "cooldown": 2, "min_lr": 0.004, "eps": 1e-9},
     "sgd", {}),
    ("warmup-cosine", {}, "sgd", {}),
    ("warmup-cosine", {"warmup_steps": 3, "T_max": 6, "start_factor": 0.2,
                       "eta_min": 0.002}, "adam", {}),
]


def torch_kwargs(config: RunConfig) -> dict:
    hp = dict(config.hyperparams)
    if config.optimizer == "adafactor" and hp["eps"][0] == np.finfo(np.float64).eps:
        hp["eps"] = (None, hp["eps"][1])                      # torch's default, None
    if config.optimizer == "lbfgs":
        hp["line_search_fn"] = None if hp["line_search_fn"] == "none" else hp["line_search_fn"]
    elif config.optimizer != "lion":
        hp["foreach"] = False
    return hp


def make_scheduler(config: RunConfig, opt):
    s = torch.optim.lr_scheduler
    p = dict(config.schedule_params)
    name = config.schedule
    units = config.schedule_units()
    if name == "constant":
        return None
    same_parameters = {"step": s.StepLR, "exponential": s.ExponentialLR,
                       "cosine": s.CosineAnnealingLR, "linear": s.LinearLR,
                       "polynomial": s.PolynomialLR,
                       "cosine-restarts": s.CosineAnnealingWarmRestarts,
                       "plateau": s.ReduceLROnPlateau}
    if name in same_parameters:
        return same_parameters[name](opt, **p)
    if name == "onecycle":
        p["max_lr"] = config.lr if p["max_lr"] is None else p["max_lr"]
        p["total_steps"] = units if p["total_steps"] is None else p["total_steps"]
        return s.OneCycleLR(opt, **p)
    if name == "cyclic":
        p["base_lr"] = config.lr if p["base_lr"] is None else p["base_lr"]
        p["max_lr"] = 10 * p["base_lr"] if p["max_lr"] is None else p["max_lr"]
        return s.CyclicLR(opt, **p)
    if name == "warmup-cosine":
        warmup = s.LinearLR(opt, start_factor=p["start_factor"], end_factor=1.0,
                            total_iters=p["warmup_steps"])
        cosine = s.CosineAnnealingLR(opt, T_max=p["T_max"], eta_min=p["eta_min"])
        return s.SequentialLR(opt, [warmup, cosine], milestones=[p["warmup_steps"]])
    raise ValueError(name)


class _Model:
    """What ``model.parameters()`` means in the copied code: the one parameter tensor."""

    def __init__(self, p):
        self.p = p

    def parameters(self):
        return [self.p]


def build_here(config: RunConfig, p):
    cls = Lion if config.optimizer == "lion" else getattr(torch.optim, CLASSES[config.optimizer])
    opt = cls([p], lr=config.lr, **torch_kwargs(config))
    return opt, make_scheduler(config, opt)


def build_from_copied_code(config: RunConfig, p):
    code = "\n".join(line for line in torch_code(config).splitlines()
                     if not line.startswith("from lion_pytorch"))
    names = {"torch": torch, "Lion": Lion, "model": _Model(p)}
    exec(code, names)  # noqa: S102 (gdviz's own output, the thing under test)
    return names["optimizer"], names.get("scheduler")


def run_torch(config: RunConfig, steps: int, build=build_here) -> dict:
    """Torch's run of ``config``: params after each step, each step's lr (and evaluations)."""
    problem = config.make_problem()
    rng = np.random.default_rng(config.seed)
    p = torch.nn.Parameter(torch.tensor(config.start_point()))
    opt, scheduler = build(config, p)
    per_step = config.schedule_every == "step"

    def batch_value(batch):
        x = p.detach().numpy().copy()
        factor = problem.reduce_factor(len(batch))
        grad = problem.sample_grads(x, batch).sum(axis=0) * factor
        return float(problem.sample_losses(x, batch).sum() * factor), torch.tensor(grad)

    params, lrs, evals = [], [], []
    step = 0
    while step < steps:
        for batch in epoch_batches(problem.n_samples, config.effective_batch_size(),
                                   config.order, rng):
            lrs.append(opt.param_groups[0]["lr"])
            if config.optimizer == "lbfgs":
                count = [0]

                def closure(batch=batch, count=count):
                    count[0] += 1
                    loss, grad = batch_value(batch)
                    p.grad = grad
                    return loss

                opt.step(closure)
                evals.append(count[0])
            else:
                p.grad = batch_value(batch)[1]
                opt.step()
            step += 1
            params.append(p.detach().numpy().copy().tolist())
            full_loss = float(problem.loss(p.detach().numpy().copy()))
            if step >= steps:
                break
            if per_step and scheduler is not None:
                scheduler.step(full_loss) if config.schedule == "plateau" else scheduler.step()
        else:
            if not per_step and scheduler is not None:
                scheduler.step(full_loss) if config.schedule == "plateau" else scheduler.step()
    out = {"params": params, "lrs": [float(lr) for lr in lrs]}
    if evals:
        out["evals"] = evals
    return out


def cases():
    for name, lr_rosen, lr_linreg, hp_sets in OPTIMIZER_CASES:
        steps = LBFGS_STEPS if name == "lbfgs" else STEPS
        for k, hp in enumerate(hp_sets):
            for problem, lr in ((ROSENBROCK, lr_rosen), (LINREG, lr_linreg)):
                search = "-wolfe" if hp.get("line_search_fn") == "strong_wolfe" else ""
                yield (f"{name}{search}-{k}-{problem['problem']}",
                       {**problem, "optimizer": name, "lr": lr, "hyperparams": hp,
                        "max_steps": steps}, steps)
    for k, (schedule, params, optimizer, hp) in enumerate(SCHEDULE_CASES):
        for every in ("step", "epoch"):
            yield (f"schedule-{schedule}-{k}-{every}",
                   {**LINREG, "optimizer": optimizer, "lr": 0.05, "hyperparams": hp,
                    "schedule": schedule, "schedule_params": params, "schedule_every": every,
                    "max_steps": STEPS}, STEPS)


def main() -> int:
    golden = {"torch": torch.__version__, "cases": {}}
    bad = []
    for case_id, raw, steps in cases():
        config = RunConfig.from_dict(raw)
        result = run_torch(config, steps)
        if not np.all(np.abs(result["params"]) < 1e3):               # diverging: pick another lr
            bad.append(case_id)
        if run_torch(config, steps, build_from_copied_code) != result:
            bad.append(f"{case_id} (the copied PyTorch code)")
        golden["cases"][case_id] = {"config": config.to_dict(), **result}
    if bad:
        print(f"diverging, or the copied code differs: {', '.join(bad)}", file=sys.stderr)
        return 1
    OUT.write_text(json.dumps(golden, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{len(golden['cases'])} cases (each also run from its copied PyTorch code, the "
          f"same bit for bit), {OUT.stat().st_size} bytes -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
