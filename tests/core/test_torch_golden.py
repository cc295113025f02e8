"""gdviz against torch's own trajectories (tests/reference/torch_golden.json, written once by
tests/reference/make_torch_golden.py with torch 2.13; CI needs no torch).

Every optimizer (and every hyperparameter) on Rosenbrock and on a mini-batch linear
regression, and every schedule stepped per step and per epoch: the parameters after each of
the first 50 steps (L-BFGS: 20) agree to 1e-12, the learning rates equal torch's, and L-BFGS
makes as many loss/gradient evaluations per step as torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gdviz.core.optimizers import optimizer_names
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end
from gdviz.core.schedules import schedule_names

GOLDEN = json.loads((Path(__file__).parents[1] / "reference" / "torch_golden.json")
                    .read_text(encoding="utf-8"))
CASES = GOLDEN["cases"]


def _ours(case):
    records = run_to_end(RunConfig.from_dict(case["config"]))[1:]
    return records[:len(case["params"])]


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_trajectory_agrees_with_torch(case_id):
    case = CASES[case_id]
    records = _ours(case)
    assert len(records) == len(case["params"])
    ours = np.array([r.params for r in records])
    theirs = np.array(case["params"])
    scale = np.maximum(1.0, np.abs(theirs))
    worst = np.max(np.abs(ours - theirs) / scale)
    assert worst <= 1e-12, f"{case_id}: relative difference {worst:.3g}"
    lrs = [r.lr for r in records]
    assert lrs == case["lrs"]                      # equal, float for float
    if "evals" in case:
        assert [r.state["evals"] for r in records] == case["evals"]


def test_every_optimizer_and_schedule_has_golden_cases():
    optimizers = {case["config"]["optimizer"] for case in CASES.values()}
    # Newton is not torch's: tests/core/test_newton.py checks it (one step on a quadratic)
    assert optimizers == set(optimizer_names()) - {"newton"}
    schedules = {case["config"]["schedule"] for case in CASES.values()}
    assert schedules >= set(schedule_names()) - {"constant", "inverse-time"}
    for name in schedules - {"constant"}:
        everies = {c["config"]["schedule_every"] for c in CASES.values()
                   if c["config"]["schedule"] == name}
        assert everies == {"step", "epoch"}, name


def test_every_hyperparameter_is_exercised():
    from gdviz.core.optimizers import get_optimizer
    from gdviz.core.schedules import get_schedule

    for name in set(optimizer_names()) - {"newton"}:   # not torch's (test_newton.py)
        for hp in get_optimizer(name).hyperparams:
            values = {json.dumps(c["config"]["hyperparams"][hp.name]) for c in CASES.values()
                      if c["config"]["optimizer"] == name}
            assert len(values) > 1, f"{name} {hp.name} only takes its default"
    for name in set(schedule_names()) - {"constant", "inverse-time"}:
        for param in get_schedule(name).params:
            values = {json.dumps(c["config"]["schedule_params"][param.name])
                      for c in CASES.values() if c["config"]["schedule"] == name}
            assert len(values) > 1, f"{name} {param.name} only takes its default"
