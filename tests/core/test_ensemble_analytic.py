"""The test functions evaluate K ensemble members in one call (elementwise kernels): every
member still equals its single run bit for bit, for every function, with and without gradient
noise, with one lr and with an lr per member (the learning-rate sweeps' case)."""

import numpy as np
import pytest

from gdviz.core.ensemble import iterate_ensemble
from gdviz.core.problems.registry import problem_specs
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate

FUNCTIONS = [spec.name for spec in problem_specs() if spec.family == "analytic"]


@pytest.mark.parametrize("name", FUNCTIONS)
@pytest.mark.parametrize(("optimizer", "hp"), [("sgd", {"momentum": 0.9, "nesterov": True}),
                                               ("adam", {"amsgrad": True})])
@pytest.mark.parametrize("noise", [0.0, 0.3])
def test_every_member_is_its_single_run_bit_for_bit(name, optimizer, hp, noise):
    config = RunConfig(problem=name, settings={"grad_noise": noise}, optimizer=optimizer,
                       hyperparams=hp, lr=1e-3, max_steps=40)
    seeds = [0, 1, 2, 0, 1, 2]
    lrs = [1e-4, 1e-4, 1e-3, 1e-2, 0.1, 3.0]   # the largest diverge on several functions
    steps = list(iterate_ensemble(config, seeds, lrs))
    assert np.all(np.isfinite(steps[1].params[:3]))
    for m, (seed, lr) in enumerate(zip(seeds, lrs)):
        records = list(iterate(config.with_changes(seed=seed, lr=lr)))
        for r in records:
            e = steps[r.step]
            assert e.active[m]
            np.testing.assert_array_equal(e.params[m], r.params, strict=True)
            np.testing.assert_array_equal(e.grad[m], r.grad, strict=True)
            assert [e.loss[m], e.batch_loss[m]] == pytest.approx([r.loss, r.batch_loss],
                                                                 rel=0, abs=0, nan_ok=True)
            assert e.ended.get(m) == ((r.status, r.message) if r.finished else None)
        assert not any(e.active[m] for e in steps[len(records):])
