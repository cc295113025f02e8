"""PyTorch code in and out (gdviz.core.torch_code): pasted lines read by a whitelist, never
executed; the code written for a run reads back as the same run settings."""

from __future__ import annotations

import re

import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.optimizers import get_optimizer, optimizer_names
from gdviz.core.records import RunConfig
from gdviz.core.schedules import get_schedule, schedule_names
from gdviz.core.torch_code import parse_torch_line, settings_from_torch, torch_code


@pytest.mark.parametrize(("line", "expected"), [
    ("torch.optim.AdamW(model.parameters(), lr=3e-4, betas=(0.9, 0.95), weight_decay=0.1)",
     {"optimizer": "adamw", "lr": 3e-4, "hyperparams": {"betas": (0.9, 0.95),
                                                        "weight_decay": 0.1}}),
    ("opt = optim.SGD(params, 0.1, 0.9, nesterov=True, foreach=False)",
     {"optimizer": "sgd", "lr": 0.1, "hyperparams": {"momentum": 0.9, "nesterov": True}}),
    ("LBFGS(net.parameters(), line_search_fn='strong_wolfe', max_eval=None)",
     {"optimizer": "lbfgs", "lr": 1.0, "hyperparams": {"line_search_fn": "strong_wolfe",
                                                       "max_eval": None}}),
    ("torch.optim.Adafactor(model.parameters(), eps=(None, 1e-2))",
     {"optimizer": "adafactor", "lr": 1e-2,
      "hyperparams": {"eps": (2.220446049250313e-16, 1e-2)}}),
    ("torch.optim.Rprop([w, b], lr=-1e-3)",
     {"optimizer": "rprop", "lr": -1e-3, "hyperparams": {}}),
    ("sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, total_steps=1000)",
     {"schedule": "onecycle", "schedule_params": {"max_lr": 0.01, "total_steps": 1000}}),
    ("lr_scheduler.OneCycleLR(opt, 0.1, epochs=10, steps_per_epoch=20)",
     {"schedule": "onecycle", "schedule_params": {"max_lr": 0.1, "total_steps": 200}}),
    ("StepLR(optimizer, 30, gamma=0.5, last_epoch=-1)",
     {"schedule": "step", "schedule_params": {"step_size": 30, "gamma": 0.5}}),
    ("torch.optim.lr_scheduler.SequentialLR(opt, [LinearLR(opt, start_factor=0.1, "
     "total_iters=10), CosineAnnealingLR(opt, T_max=90, eta_min=1e-5)], milestones=[10])",
     {"schedule": "warmup-cosine", "schedule_params": {"warmup_steps": 10, "start_factor": 0.1,
                                                       "T_max": 90, "eta_min": 1e-5}}),
])
def test_pasted_lines_are_read(line, expected):
    assert dict(parse_torch_line(line).settings) == expected


@pytest.mark.parametrize(("line", "message"), [
    ("torch.optim.Adam(model.parameters(), lr=1/3)", "not an expression at column 41"),
    ("torch.optim.Adam(model.parameters(), lr=__import__('os'))", "at column 41"),
    ("os.system('rm -rf /')", "os.system is not a torch.optim class gdviz knows"),
    ("torch.optim.Adam(model.parameters(), maximize=True)",
     "maximize=True has no equivalent in gdviz at column 47"),
    ("torch.optim.Adam(model.parameters(), lr=0.1", "was never closed"),
    ("torch.optim.Adam(model.parameters(), momentum=0.9)", "Adam has no setting 'momentum'"),
    ("torch.optim.Adam(lambda: 0)", "the first argument must be model.parameters()"),
    ("torch.optim.Adam(model.parameters(), **kw)", "** arguments are not accepted"),
    ("torch.optim.SGD(p, 0.1, 0.9, 0, 0, False, 7)", "takes at most 5 arguments after"),
    ("a = 1; b = 2", "give one optimizer or scheduler line at column 8"),
    ("import os", "expected NAME = torch.optim.X(...) or a call at column 1"),
    ("StepLR(make(), 3)", "needs the optimizer (a name) as its first argument at column 8"),
    ("SequentialLR(opt, [StepLR(opt, 3), CosineAnnealingLR(opt, 9)], milestones=[3])",
     "SequentialLR is read only as"),
    ("torch.optim.lr_scheduler.ExponentialLR(opt)",
     "ExponentialLR needs gamma (torch has no default for it) at column 1"),
    ("OneCycleLR(opt, max_lr=0.1)", "OneCycleLR needs total_steps"),
    ("CyclicLR(opt, max_lr=0.1)", "CyclicLR needs base_lr"),
])
def test_anything_else_is_refused_with_its_column(line, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as err:
        parse_torch_line(line)
    assert "\n" not in str(err.value)


def test_two_lines_of_one_kind_are_refused():
    line = "torch.optim.SGD(p, lr=0.1)"
    with pytest.raises(ConfigError, match="give one optimizer line, not two"):
        settings_from_torch([line, line])


def _config(optimizer, schedule="constant", every="epoch"):
    spec = get_optimizer(optimizer)
    hp = {}
    for h in spec.hyperparams:        # move every setting off its default where torch allows
        if h.kind is bool and h.name not in ("nesterov",):
            hp[h.name] = not h.default
        elif h.kind is float and h.maximum is None and h.minimum in (0.0, None):
            hp[h.name] = (h.default or 0.1) * 1.5
    if optimizer == "sgd":
        hp["momentum"], hp["dampening"] = 0.5, 0.25
    if optimizer == "lbfgs":
        hp.update(line_search_fn="strong_wolfe", max_eval=9, history_size=7)
    if optimizer == "adafactor":
        hp["eps"] = (1e-20, 2e-3)
    cycles = get_schedule(schedule).cycles_momentum and optimizer not in (
        "sgd", "rmsprop", "adam", "adamw", "nadam", "radam", "adamax", "lion")
    params = {"cycle_momentum": False} if cycles else {}
    if schedule == "cyclic":
        params["mode"] = "triangular2"
    return RunConfig(problem="rosenbrock", optimizer=optimizer, lr=0.0123, hyperparams=hp,
                     schedule=schedule, schedule_params=params, schedule_every=every,
                     max_steps=40)


def _read_back(config):
    lines = [line for line in torch_code(config).splitlines()
             if line.startswith(("optimizer =", "scheduler ="))]
    settings = settings_from_torch([line.replace("optimizer = ", "").replace(
        "scheduler = ", "") for line in lines])
    return config.with_changes(**settings)


@pytest.mark.parametrize("optimizer", sorted(set(optimizer_names()) - {"newton"}))
def test_copied_optimizer_code_reads_back_as_the_same_run(optimizer):
    config = _config(optimizer)
    assert _read_back(config) == config


def test_newton_has_no_pytorch_line():
    from gdviz.core.torch_code import torch_code

    with pytest.raises(ConfigError, match="not in torch.optim"):
        torch_code(_config("newton"))


@pytest.mark.parametrize("schedule", sorted(set(schedule_names()) - {"inverse-time"}))
def test_copied_schedule_code_reads_back_as_the_same_schedule(schedule):
    config = _config("adam", schedule, "step")
    back = _read_back(config)
    assert back.optimizer == "adam"
    assert back.schedule == schedule
    ours = dict(config.schedule_params)
    if schedule == "onecycle":          # torch needs these given: the run's lr and length
        ours.update(max_lr=config.lr, total_steps=config.schedule_units())
    if schedule == "cyclic":
        ours.update(base_lr=config.lr, max_lr=10 * config.lr)
    assert dict(back.schedule_params) == ours


def test_code_says_when_to_step_and_what_is_not_torch():
    code = torch_code(_config("lion", "plateau", "step"))
    assert "from lion_pytorch import Lion" in code
    assert "# call scheduler.step(full_loss) after every optimizer step" in code
    assert "LambdaLR(optimizer, lambda epoch: 1 / (1 + 0.5 * epoch))" in torch_code(
        RunConfig(problem="rosenbrock", schedule="inverse-time"))
    assert "optimizer.step(closure)" in torch_code(_config("lbfgs"))
    assert torch_code(RunConfig(problem="rosenbrock", optimizer="sgd", lr=0.1)) == (
        "import torch\n\noptimizer = torch.optim.SGD(model.parameters(), lr=0.1)\n")
