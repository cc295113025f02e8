"""Packing lock-step groups into columns gives back the same records, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.lockstep import iterate_lockstep
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.step_blocks import pack, unpack

OPTIMIZER_CHANGES = [
    {"optimizer": "sgd"},
    {"optimizer": "sgd", "hyperparams": {"momentum": 0.9}},
    {"optimizer": "sgd", "hyperparams": {"momentum": 0.9, "nesterov": True}},
    {"optimizer": "adagrad", "hyperparams": {}},
    {"optimizer": "rmsprop", "hyperparams": {}},
    {"optimizer": "adam", "hyperparams": {"amsgrad": True}},
    {"optimizer": "adamw", "hyperparams": {}},
]


def assert_same_record(a, b) -> None:
    for name in ("step", "epoch", "lr", "batch_loss", "loss", "status", "message"):
        x, y = getattr(a, name), getattr(b, name)
        assert type(x) is type(y), name
        assert x == y or (x != x and y != y), name   # NaN losses of a diverged run
    for name in ("batch", "params_before", "params", "grad", "sample_grads"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        assert x.shape == y.shape, name
        assert np.array_equal(x, y, equal_nan=True), name
        assert not x.flags.writeable, name
    assert list(a.state) == list(b.state)
    for key, value in a.state.items():
        other = b.state[key]
        assert type(value) is type(other), key
        if isinstance(value, np.ndarray):
            assert value.dtype == other.dtype
            assert np.array_equal(value, other)
            assert not value.flags.writeable
        else:
            assert value == other
    with pytest.raises(TypeError):
        a.state["new"] = 1


def assert_same_groups(got, expected) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert len(g) == len(e)
        for a, b in zip(g, e):
            assert (a is None) == (b is None)
            if a is not None:
                assert_same_record(a, b)


@pytest.mark.parametrize("changes", OPTIMIZER_CHANGES)
def test_every_optimizer_state_survives_packing(changes):
    config = RunConfig(problem="linreg", lr=0.05, batch_size=7, max_steps=40, seed=1,
                       **changes)
    groups = list(iterate_lockstep([config], iterate))
    for lo in (0, 1, 17):          # chunks that start at step 0 (no state yet) and later
        chunk = groups[lo:lo + 13]
        assert_same_groups(unpack(pack(chunk)), chunk)


def test_a_comparison_whose_runs_end_inside_a_chunk():
    base = RunConfig(problem="linreg", lr=0.05, batch_size=10, max_steps=30, seed=3)
    configs = [base, base.with_changes(lr=5.0), base.with_changes(max_steps=12),
               base.with_changes(batch_size=None, max_steps=20)]
    groups = list(iterate_lockstep(configs, iterate))
    assert groups[-1][0].status == "finished"
    for lo in range(0, len(groups), 8):
        chunk = groups[lo:lo + 8]
        assert_same_groups(unpack(pack(chunk)), chunk)


def test_uneven_batches_and_one_parameter_problems():
    configs = [RunConfig(problem="wavy", max_steps=250, batch_size=3, order="sequential"),
               RunConfig(problem="himmelblau", optimizer="adam", lr=0.1, hyperparams={},
                         max_steps=250)]
    groups = list(iterate_lockstep(configs, iterate))
    assert_same_groups(unpack(pack(groups)), groups)
