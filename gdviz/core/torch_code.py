"""PyTorch code in and out: read a pasted ``torch.optim`` / ``lr_scheduler`` line into run
settings, and write the PyTorch code of a run's optimizer and schedule.

Reading never executes anything: the line is parsed with ``ast`` and only a whitelist is
accepted: an optional ``name =``, a call of a known class (``torch.optim.AdamW``,
``optim.AdamW``, ``AdamW``; ``torch.optim.lr_scheduler.OneCycleLR``, ...), whose first argument
is the parameters (``model.parameters()`` or a name) or the optimizer (a name), then literals:
numbers (with a sign), True, False, None, strings and tuples or lists of those. Anything else
is refused with its column (1-based) in a one-line ConfigError. ``SequentialLR(opt,
[LinearLR(opt, ...), CosineAnnealingLR(opt, ...)], milestones=[k])`` with ``k`` the warm-up
length is read as gdviz's ``warmup-cosine``.
"""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError
from gdviz.core.optimizers import OPTIMIZERS, get_optimizer
from gdviz.core.schedules import SCHEDULES, get_schedule

_MACHINE_EPS = float(np.finfo(np.float64).eps)

# torch's positional parameters after the params / optimizer argument (torch 2.13 signatures)
_OPTIMIZER_CLASSES = {spec.torch_class: spec.name for spec in OPTIMIZERS.values()
                      if spec.torch_class} | {"Lion": "lion"}
_SCHEDULER_POSITIONAL = {
    "StepLR": ("step_size", "gamma"),
    "ExponentialLR": ("gamma",),
    "CosineAnnealingLR": ("T_max", "eta_min"),
    "LinearLR": ("start_factor", "end_factor", "total_iters"),
    "OneCycleLR": ("max_lr", "total_steps", "epochs", "steps_per_epoch", "pct_start",
                   "anneal_strategy", "cycle_momentum", "base_momentum", "max_momentum",
                   "div_factor", "final_div_factor", "three_phase"),
    "CyclicLR": ("base_lr", "max_lr", "step_size_up", "step_size_down", "mode", "gamma",
                 "scale_fn", "scale_mode", "cycle_momentum", "base_momentum", "max_momentum"),
    "CosineAnnealingWarmRestarts": ("T_0", "T_mult", "eta_min"),
    "PolynomialLR": ("total_iters", "power"),
    "ReduceLROnPlateau": ("mode", "factor", "patience", "threshold", "threshold_mode",
                          "cooldown", "min_lr", "eps"),
}
# parameters torch's constructors require (no default there); always written out
# (torch 2.13's signatures; OneCycleLR takes total_steps or epochs and steps_per_epoch)
_TORCH_REQUIRED = {"step": ("step_size",), "exponential": ("gamma",), "cosine": ("T_max",),
                   "cosine-restarts": ("T_0",), "onecycle": ("max_lr", "total_steps"),
                   "cyclic": ("base_lr", "max_lr")}
_SCHEDULER_CLASSES = {spec.torch_class: spec.name for spec in SCHEDULES.values()
                      if spec.torch_class}
# torch keywords with no gdviz setting, accepted at values that do not change the result
_HARMLESS = {"foreach": (None, True, False), "maximize": (False,), "capturable": (False,),
             "differentiable": (False,), "fused": (None, False), "last_epoch": (-1,),
             "verbose": ("deprecated", False), "scale_mode": (None,), "scale_fn": (None,)}
_OPTIMIZER_PREFIXES = ("torch.optim.", "optim.", "")
_SCHEDULER_PREFIXES = ("torch.optim.lr_scheduler.", "optim.lr_scheduler.", "lr_scheduler.",
                       "")


@dataclass(frozen=True)
class TorchLine:
    """What one line sets: ``{"optimizer", "lr", "hyperparams"}`` or ``{"schedule",
    "schedule_params"}`` (raw values; RunConfig validates them)."""

    kind: str
    settings: Mapping[str, Any]


def _refuse(node: ast.AST | None, what: str) -> ConfigError:
    column = f" at column {node.col_offset + 1}" if node is not None else ""
    return ConfigError(f"cannot read this PyTorch line: {what}{column}")


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def _literal(node: ast.AST) -> Any:
    """A whitelisted literal's value; a ConfigError naming the column otherwise."""
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(
            node.value, (bool, int, float, str))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)) and \
            isinstance(node.operand, ast.Constant) and type(node.operand.value) in (int, float):
        return -node.operand.value if isinstance(node.op, ast.USub) else node.operand.value
    if isinstance(node, (ast.Tuple, ast.List)):
        return tuple(_literal(item) for item in node.elts)
    raise _refuse(node, "only numbers, True, False, None, strings and tuples are accepted, "
                        "not an expression")


def _class_of(call: ast.Call, prefixes: tuple[str, ...], classes: Mapping[str, str]
              ) -> tuple[str, str] | None:
    name = _dotted(call.func)
    if name is None:
        return None
    for prefix in prefixes:
        if name.startswith(prefix) and name[len(prefix):] in classes:
            short = name[len(prefix):]
            return short, classes[short]
    return None


def _check_params_argument(node: ast.AST) -> None:
    """``model.parameters()``, ``params`` or ``[w, b]``-like names: what is being optimized."""
    if isinstance(node, ast.Name):
        return
    if isinstance(node, ast.Call) and not node.args and not node.keywords and \
            isinstance(node.func, ast.Attribute) and node.func.attr == "parameters" and \
            _dotted(node.func.value) is not None:
        return
    if isinstance(node, (ast.List, ast.Tuple)) and all(isinstance(e, ast.Name)
                                                       for e in node.elts):
        return
    raise _refuse(node, "the first argument must be model.parameters() or a name")


def _keywords(call: ast.Call, positional: tuple[str, ...], first: int, owner: str
              ) -> dict[str, Any]:
    """The call's settings by torch name: positional arguments after the ``first`` ones
    mapped to ``positional``, then the keywords; torch-only keywords checked and dropped."""
    values: dict[str, Any] = {}
    extra = call.args[first:]
    if len(extra) > len(positional):
        raise _refuse(extra[len(positional)], f"{owner} takes at most {len(positional)} "
                                              "arguments after the first")
    for name, node in zip(positional, extra):
        values[name] = _literal(node)
    for kw in call.keywords:
        if kw.arg is None:
            raise _refuse(kw.value, "** arguments are not accepted")
        if kw.arg in values:
            raise _refuse(kw.value, f"{kw.arg} is given twice")
        values[kw.arg] = _literal(kw.value)
    for name, allowed in _HARMLESS.items():
        if name in values:
            node = next((kw.value for kw in call.keywords if kw.arg == name), call)
            if values[name] not in allowed:
                raise _refuse(node, f"{name}={values[name]!r} has no equivalent in gdviz")
            del values[name]
    return values


def _optimizer(call: ast.Call, torch_name: str, name: str) -> TorchLine:
    if not call.args:
        raise _refuse(call, f"{torch_name} needs the parameters as its first argument")
    _check_params_argument(call.args[0])
    spec = get_optimizer(name)
    values = _keywords(call, ("lr", *(h.name for h in spec.hyperparams)), 1, torch_name)
    lr = values.pop("lr", spec.default_lr)
    if name == "adafactor" and isinstance(values.get("eps"), tuple) and values["eps"] and \
            values["eps"][0] is None:
        values["eps"] = (_MACHINE_EPS, *values["eps"][1:])
    if name == "lbfgs" and "line_search_fn" in values and values["line_search_fn"] is None:
        values["line_search_fn"] = "none"
    known = {h.name for h in spec.hyperparams}
    for key in values:
        if key not in known:
            node = next((kw.value for kw in call.keywords if kw.arg == key), call)
            raise _refuse(node, f"{torch_name} has no setting {key!r} in gdviz (its "
                                f"settings: lr, {', '.join(known)})")
    return TorchLine("optimizer", {"optimizer": name, "lr": lr, "hyperparams": values})


def _scheduler(call: ast.Call, torch_name: str, name: str) -> TorchLine:
    if not call.args or not isinstance(call.args[0], ast.Name):
        raise _refuse(call.args[0] if call.args else call,
                      f"{torch_name} needs the optimizer (a name) as its first argument")
    values = _keywords(call, _SCHEDULER_POSITIONAL[torch_name], 1, torch_name)
    if name == "onecycle":
        epochs, per_epoch = values.pop("epochs", None), values.pop("steps_per_epoch", None)
        if values.get("total_steps") is None and epochs is not None and per_epoch is not None:
            values["total_steps"] = epochs * per_epoch
    known = {p.name for p in get_schedule(name).params}
    for key in values:
        if key not in known:
            node = next((kw.value for kw in call.keywords if kw.arg == key), call)
            raise _refuse(node, f"{torch_name} has no setting {key!r} in gdviz")
    missing = [key for key in _TORCH_REQUIRED.get(name, ()) if values.get(key) is None]
    if missing:
        raise _refuse(call, f"{torch_name} needs {' and '.join(missing)} (torch has no "
                            "default for it)")
    return TorchLine("schedule", {"schedule": name, "schedule_params": values})


def _sequential(call: ast.Call) -> TorchLine:
    """SequentialLR(opt, [LinearLR(opt, ...), CosineAnnealingLR(opt, ...)], milestones=[k])."""
    args = list(call.args)
    keywords = {kw.arg: kw.value for kw in call.keywords}
    parts = args[1] if len(args) > 1 else keywords.get("schedulers")
    milestones = args[2] if len(args) > 2 else keywords.get("milestones")
    shape = ("SequentialLR is read only as [LinearLR(...), CosineAnnealingLR(...)] with "
             "milestones=[the LinearLR's total_iters] (gdviz's warmup-cosine)")
    if not (isinstance(parts, ast.List) and len(parts.elts) == 2 and milestones is not None
            and all(isinstance(e, ast.Call) for e in parts.elts)):
        raise _refuse(parts if parts is not None else call, shape)
    warm = _class_of(parts.elts[0], _SCHEDULER_PREFIXES, _SCHEDULER_CLASSES)
    cos = _class_of(parts.elts[1], _SCHEDULER_PREFIXES, _SCHEDULER_CLASSES)
    if warm is None or cos is None or warm[1] != "linear" or cos[1] != "cosine":
        raise _refuse(parts, shape)
    linear = _scheduler(parts.elts[0], *warm).settings["schedule_params"]
    cosine = _scheduler(parts.elts[1], *cos).settings["schedule_params"]
    marks = _literal(milestones)
    warmup = linear.get("total_iters", 5)
    if linear.get("end_factor", 1.0) != 1.0 or marks != (warmup,):
        raise _refuse(milestones, shape)
    params = {"warmup_steps": warmup, "start_factor": linear.get("start_factor", 1.0 / 3)}
    params.update({k: cosine[k] for k in ("T_max", "eta_min") if k in cosine})
    return TorchLine("schedule", {"schedule": "warmup-cosine", "schedule_params": params})


def parse_torch_line(text: str) -> TorchLine:
    """Read one pasted line (see the module docstring); ConfigError with the column if not."""
    source = str(text).strip()
    try:
        tree = ast.parse(source, mode="exec")
    except SyntaxError as err:
        raise ConfigError(f"cannot read this PyTorch line: {err.msg} at column "
                          f"{err.offset or 1}") from None
    if len(tree.body) != 1:
        raise _refuse(tree.body[1] if len(tree.body) > 1 else None,
                      "give one optimizer or scheduler line")
    stmt = tree.body[0]
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and \
            isinstance(stmt.targets[0], ast.Name) or isinstance(stmt, ast.Expr):
        call = stmt.value
    else:
        raise _refuse(stmt, "expected NAME = torch.optim.X(...) or a call")
    if not isinstance(call, ast.Call):
        raise _refuse(call, "expected a call of a torch.optim class")
    found = _class_of(call, _OPTIMIZER_PREFIXES, _OPTIMIZER_CLASSES)
    if found is not None:
        return _optimizer(call, *found)
    found = _class_of(call, _SCHEDULER_PREFIXES, _SCHEDULER_CLASSES)
    if found is not None:
        return _scheduler(call, *found)
    name = _dotted(call.func) or ""
    if name.rsplit(".", 1)[-1] == "SequentialLR":
        return _sequential(call)
    known = ", ".join(sorted(set(_OPTIMIZER_CLASSES) | set(_SCHEDULER_CLASSES)
                             | {"SequentialLR"}))
    raise _refuse(call.func, f"{name or 'this'} is not a torch.optim class gdviz knows "
                             f"({known})")


# -- code out ----------------------------------------------------------------------------------

def _py(value: Any) -> str:
    """A Python literal for ``value`` (floats as repr, so they read back equal)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (tuple, list)):
        return "(" + ", ".join(_py(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def optimizer_code(config: Any) -> str:
    """The line that makes ``config``'s optimizer in PyTorch (``optimizer = ...``); ConfigError
    for an optimizer PyTorch has no class for (Newton)."""
    spec = get_optimizer(config.optimizer)
    if spec.torch_class is None and config.optimizer != "lion":
        raise ConfigError(f"{spec.title} is not in torch.optim: there is no PyTorch line "
                          "for it")
    hp = dict(config.hyperparams)
    if config.optimizer == "adafactor" and hp["eps"][0] == _MACHINE_EPS:
        hp["eps"] = (None, hp["eps"][1])
    if config.optimizer == "lbfgs" and hp["line_search_fn"] == "none":
        hp["line_search_fn"] = None
    defaults = {h.name: h.default for h in spec.hyperparams}
    if config.optimizer == "adafactor":
        defaults["eps"] = (None, 1e-3)
    if config.optimizer == "lbfgs":
        defaults["line_search_fn"] = None
    args = ["model.parameters()", f"lr={_py(float(config.lr))}"]
    for name, default in defaults.items():
        value = hp.get(name, default)
        if _py(value) != _py(default):
            args.append(f"{name}={_py(value)}")
    cls = f"torch.optim.{spec.torch_class}" if spec.torch_class else "Lion"
    return f"optimizer = {cls}({', '.join(args)})"


def scheduler_code(config: Any) -> str | None:
    """The line that makes ``config``'s schedule in PyTorch, or None for a constant lr."""
    name, p = config.schedule, dict(config.schedule_params)
    if name == "constant":
        return None
    spec = get_schedule(name)
    if name == "inverse-time":
        return (f"scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: "
                f"1 / (1 + {_py(p['decay'])} * epoch))")
    if name == "warmup-cosine":
        return ("scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, ["
                f"torch.optim.lr_scheduler.LinearLR(optimizer, start_factor="
                f"{_py(p['start_factor'])}, total_iters={p['warmup_steps']}), "
                f"torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max={p['T_max']}, "
                f"eta_min={_py(p['eta_min'])})], milestones=[{p['warmup_steps']}])")
    if name == "onecycle":                                   # torch needs them given
        p["max_lr"] = float(config.lr) if p["max_lr"] is None else p["max_lr"]
        p["total_steps"] = config.schedule_units() if p["total_steps"] is None \
            else p["total_steps"]
    if name == "cyclic":
        p["base_lr"] = float(config.lr) if p["base_lr"] is None else p["base_lr"]
        p["max_lr"] = 10 * p["base_lr"] if p["max_lr"] is None else p["max_lr"]
    args = ["optimizer"]
    for param in spec.params:
        value = p[param.name]
        required = param.name in _TORCH_REQUIRED.get(name, ())
        if required or _py(value) != _py(param.default):
            args.append(f"{param.name}={_py(value)}")
    return f"scheduler = torch.optim.lr_scheduler.{spec.torch_class}({', '.join(args)})"


def torch_code(config: Any) -> str:
    """The PyTorch code of ``config``'s optimizer and schedule, ready to paste into a training
    loop (with comments saying when to call ``scheduler.step()``)."""
    lines = ["import torch", ""]
    if config.optimizer == "lion":
        lines[1:1] = ["from lion_pytorch import Lion  # Lion is not in torch.optim "
                      "(pip install lion-pytorch)"]
    lines.append(optimizer_code(config))
    if config.optimizer == "lbfgs":
        lines.append("# L-BFGS: optimizer.step(closure), the closure returning the loss "
                     "after loss.backward()")
    schedule = scheduler_code(config)
    if schedule is not None:
        lines.append(schedule)
        when = "optimizer step" if config.schedule_every == "step" else "epoch"
        call = "scheduler.step(full_loss)" if config.schedule == "plateau" else \
            "scheduler.step()"
        lines.append(f"# call {call} after every {when}")
    return "\n".join(lines) + "\n"


def settings_from_torch(lines: list[str]) -> dict[str, Any]:
    """The run settings several pasted lines give (one optimizer line, one scheduler line at
    most), as RunConfig fields; ConfigError if a kind is given twice."""
    out: dict[str, Any] = {}
    for line in lines:
        parsed = parse_torch_line(line)
        key = "optimizer" if parsed.kind == "optimizer" else "schedule"
        if key in out:
            raise ConfigError(f"give one {parsed.kind} line, not two")
        out.update(parsed.settings)
    return out


__all__ = ["TorchLine", "optimizer_code", "parse_torch_line", "scheduler_code",
           "settings_from_torch", "torch_code"]
