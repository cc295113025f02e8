"""The network follows torch: trajectories of SGD (with momentum) and Adam on 2-4-1 (tanh),
2-5-3-1 (relu, sigmoid) and 2-1 networks, with both losses, equal the committed torch
references (tests/reference/make_mlp_reference.py) to rounding error."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest

from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end

REFERENCE = json.loads((pathlib.Path(__file__).parents[1] / "reference" / "mlp_torch.json")
                       .read_text(encoding="utf-8"))


@pytest.mark.parametrize("case", REFERENCE["cases"],
                         ids=lambda c: f"{c['config']['optimizer']}-"
                                       f"{c['config']['settings']['activation']}-"
                                       f"{c['config']['settings']['dataset']}")
def test_trajectory_equals_torch(case):
    config = RunConfig.from_dict({**case["config"], "max_steps": REFERENCE["steps"],
                                  "seed": REFERENCE["seed"]})
    ours = np.array([record.params for record in run_to_end(config)])
    theirs = np.array(case["params"])
    assert ours.shape == theirs.shape == (REFERENCE["steps"] + 1, ours.shape[1])
    assert not np.allclose(theirs[-1], theirs[0], atol=1e-3)  # the run did move
    np.testing.assert_allclose(ours, theirs, rtol=1e-11, atol=1e-13)
