"""Step a learning-rate schedule the way torch's ``scheduler.step()`` does.

``LrScheduler`` follows torch.optim.lr_scheduler's recursive ("chainable") forms, not their
closed forms, so the learning rates equal torch's float for float: ``lr`` is what
``optimizer.param_groups[0]["lr"]`` holds after the constructor and after each ``step()``.
``momentum`` is what OneCycleLR and CyclicLR put into the optimizer's momentum (or beta1) when
they cycle it, else None. One step is one unit: an epoch, or an optimizer step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from gdviz.core.schedules import get_schedule


class LrScheduler:
    """One schedule's state while a run steps it (mutable; one per run, never shared).

    base_lr: the run's learning rate (torch's ``initial_lr``). params: from
    ``validate_schedule``. units: the run's length in units, the default of OneCycleLR's
    total_steps. The private ``_init_<name>`` / ``_next_<name>`` methods are each schedule's
    constructor and ``get_lr``, in torch's arithmetic.
    """

    def __init__(self, name: str, base_lr: float, params: Mapping[str, Any],
                 units: int = 1) -> None:
        get_schedule(name)
        self.name = name
        self.base_lr = float(base_lr)
        self.params = dict(params)
        self.last_epoch = 0
        self.momentum: float | None = None
        self.lr = self.base_lr
        # plateau reads the full loss after each unit: the next lr is known only then (a
        # runner that computes several steps ahead must step one unit at a time for it)
        self.needs_metric = name == "plateau"
        init = getattr(self, "_init_" + name.replace("-", "_"), None)
        if init is not None:
            init(units)

    # -- the public step ------------------------------------------------------------------------
    def step(self, metric: float | None = None) -> float:
        """``scheduler.step()`` (``scheduler.step(metric)`` for plateau): the new lr."""
        self.last_epoch += 1
        rule = getattr(self, "_next_" + self.name.replace("-", "_"))
        self.lr = float(rule(metric))
        return self.lr

    # -- torch's rules, one per schedule (``_next_*`` is get_lr at last_epoch >= 1) --------
    def _next_constant(self, metric):
        return self.lr

    def _next_step(self, metric):
        if self.last_epoch % self.params["step_size"] != 0:
            return self.lr
        return self.lr * self.params["gamma"]

    def _next_exponential(self, metric):
        return self.lr * self.params["gamma"]

    def _cosine_next(self, lr, epoch, base_lr, t_max, eta_min):
        """CosineAnnealingLR.get_lr at last_epoch ``epoch`` >= 1 from the group's ``lr``."""
        if (epoch - 1 - t_max) % (2 * t_max) == 0:
            return lr + (base_lr - eta_min) * (1 - math.cos(math.pi / t_max)) / 2
        return ((1 + math.cos(math.pi * epoch / t_max))
                / (1 + math.cos(math.pi * (epoch - 1) / t_max)) * (lr - eta_min) + eta_min)

    def _next_cosine(self, metric):
        return self._cosine_next(self.lr, self.last_epoch, self.base_lr, self.params["T_max"],
                                 self.params["eta_min"])

    def _next_inverse_time(self, metric):
        return self.base_lr / (1 + self.params["decay"] * self.last_epoch)

    def _linear_next(self, lr, epoch, start, end, total):
        if epoch > total:
            return lr
        return lr * (1.0 + (end - start) / (total * start + (epoch - 1) * (end - start)))

    def _init_linear(self, units):
        self.lr = self.base_lr * self.params["start_factor"]

    def _next_linear(self, metric):
        return self._linear_next(self.lr, self.last_epoch, self.params["start_factor"],
                                 self.params["end_factor"], self.params["total_iters"])

    def _next_polynomial(self, metric):
        total = self.params["total_iters"]
        if self.last_epoch > total:
            return self.lr
        factor = ((1.0 - self.last_epoch / total)
                  / (1.0 - (self.last_epoch - 1) / total)) ** self.params["power"]
        return self.lr * factor

    # OneCycleLR: a closed form of the step number, phases as torch lays them out
    def _init_onecycle(self, units):
        p = self.params
        self.total_steps = p["total_steps"] if p["total_steps"] is not None else units
        max_lr = p["max_lr"] if p["max_lr"] is not None else self.base_lr
        initial = max_lr / p["div_factor"]
        self._levels = {"initial_lr": initial, "max_lr": max_lr,
                        "min_lr": initial / p["final_div_factor"],
                        "max_momentum": p["max_momentum"], "base_momentum": p["base_momentum"]}
        total, pct = self.total_steps, p["pct_start"]
        if p["three_phase"]:
            self._phases = [
                (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (float(2 * pct * total) - 2, "max_lr", "initial_lr", "base_momentum",
                 "max_momentum"),
                (total - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._phases = [
                (float(pct * total) - 1, "initial_lr", "max_lr", "max_momentum", "base_momentum"),
                (total - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        if p["cycle_momentum"]:
            self.momentum = p["max_momentum"]
        self.lr = self._next_onecycle(None)

    def _anneal(self, start, end, pct):
        if self.params["anneal_strategy"] == "cos":
            cos_out = math.cos(math.pi * pct) + 1
            return end + (start - end) / 2.0 * cos_out
        return (end - start) * pct + start

    def _next_onecycle(self, metric):
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"OneCycleLR stepped {step_num} times, past its total_steps "
                             f"{self.total_steps}")
        start_step = 0.0
        for i, (end_step, lr0, lr1, m0, m1) in enumerate(self._phases):
            if step_num <= end_step or i == len(self._phases) - 1:
                pct = (step_num - start_step) / (end_step - start_step)
                lr = self._anneal(self._levels[lr0], self._levels[lr1], pct)
                if self.params["cycle_momentum"]:
                    self.momentum = self._anneal(self._levels[m0], self._levels[m1], pct)
                return lr
            start_step = end_step
        raise AssertionError("unreachable: the last phase always matches")

    # CyclicLR: a closed form of the step number
    def _init_cyclic(self, units):
        p = self.params
        self.base_lr = p["base_lr"] if p["base_lr"] is not None else self.base_lr
        self.max_lr = p["max_lr"] if p["max_lr"] is not None else 10 * self.base_lr
        up = float(p["step_size_up"])
        down = float(p["step_size_down"]) if p["step_size_down"] is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        if p["cycle_momentum"]:
            self.momentum = p["max_momentum"]
        self.lr = self._next_cyclic(None)

    def _next_cyclic(self, metric):
        p = self.params
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        if p["mode"] == "triangular":
            scale = 1.0
        elif p["mode"] == "triangular2":
            scale = 1 / (2.0 ** (cycle - 1))
        else:
            scale = p["gamma"] ** self.last_epoch             # exp_range: per iteration
        lr = self.base_lr + (self.max_lr - self.base_lr) * scale_factor * scale
        if p["cycle_momentum"]:
            base_height = (p["max_momentum"] - p["base_momentum"]) * scale_factor
            self.momentum = p["max_momentum"] - base_height * scale
        return lr

    # CosineAnnealingWarmRestarts
    def _init_cosine_restarts(self, units):
        self.t_i, self.t_cur = self.params["T_0"], 0
        self.lr = self._restart_lr()

    def _restart_lr(self):
        eta_min = self.params["eta_min"]
        return eta_min + (self.base_lr - eta_min) * (1 + math.cos(math.pi * self.t_cur
                                                                  / self.t_i)) / 2

    def _next_cosine_restarts(self, metric):
        self.t_cur += 1
        if self.t_cur >= self.t_i:
            self.t_cur = self.t_cur % self.t_i
            self.t_i = self.t_i * self.params["T_mult"]
        return self._restart_lr()

    # ReduceLROnPlateau on the metric given to step()
    def _init_plateau(self, units):
        self.best = math.inf if self.params["mode"] == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _is_better(self, a, best):
        p = self.params
        if p["mode"] == "min":
            return a < best * (1.0 - p["threshold"]) if p["threshold_mode"] == "rel" \
                else a < best - p["threshold"]
        return a > best * (p["threshold"] + 1.0) if p["threshold_mode"] == "rel" \
            else a > best + p["threshold"]

    def _next_plateau(self, metric):
        if metric is None:
            raise ValueError("the plateau schedule steps on a metric (the full loss)")
        current = float(metric)
        if self._is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        lr = self.lr
        if self.num_bad_epochs > self.params["patience"]:
            new_lr = max(lr * self.params["factor"], self.params["min_lr"])
            if lr - new_lr > self.params["eps"]:
                lr = new_lr
            self.cooldown_counter = self.params["cooldown"]
            self.num_bad_epochs = 0
        return lr

    # SequentialLR([LinearLR(start_factor, total_iters=warmup_steps), CosineAnnealingLR],
    # milestones=[warmup_steps])
    def _init_warmup_cosine(self, units):
        self.lr = self.base_lr * self.params["start_factor"]

    def _next_warmup_cosine(self, metric):
        p, epoch, warmup = self.params, self.last_epoch, self.params["warmup_steps"]
        if epoch < warmup:
            return self._linear_next(self.lr, epoch, p["start_factor"], 1.0, warmup)
        eta_min = p["eta_min"]
        if epoch == warmup:                                   # the cosine's closed form at 0
            return eta_min + (self.base_lr - eta_min) * (1 + math.cos(0.0)) / 2
        return self._cosine_next(self.lr, epoch - warmup, self.base_lr, p["T_max"], eta_min)


def lr_sequence(name: str, base_lr: float, params: Mapping[str, Any], count: int,
                units: int | None = None, metrics: list[float] | None = None) -> list[float]:
    """The first ``count`` learning rates (the lr before any step, then after each
    ``step()``); ``metrics[i]`` is given to the i-th step (plateau)."""
    scheduler = LrScheduler(name, base_lr, params, count if units is None else units)
    out = [scheduler.lr]
    for i in range(count - 1):
        out.append(scheduler.step(None if metrics is None else metrics[i]))
    return out
