"""A run computed in blocks (gdviz.core.run_blocks) gives iterate's records bit for bit."""

import numpy as np
import pytest

from gdviz.core.optimizers import optimizer_names
from gdviz.core.records import RunConfig
from gdviz.core.run_blocks import blocks_apply, iterate_blocks
from gdviz.core.runner import iterate


def assert_blocks_equal_iterate(config, max_block=256):
    """Every record of the blocks equals iterate's: values, dtypes, shapes, Python types."""
    expected = list(iterate(config))
    blocks = list(iterate_blocks(config, max_block))
    assert len(blocks[0]) == 1                              # step 0 alone
    assert all(len(b) <= max_block for b in blocks)
    assert blocks[-1].ended
    assert not any(b.ended for b in blocks[:-1])
    got = [r for block in blocks for r in block.records()]
    assert len(got) == len(expected)
    for a, b in zip(expected, got):
        for name in ("step", "epoch", "lr", "batch_loss", "loss", "status", "message"):
            va, vb = getattr(a, name), getattr(b, name)
            assert type(va) is type(vb), name
            assert va == vb or (va != va and vb != vb), (a.step, name, va, vb)
        for name in ("batch", "params_before", "params", "grad", "sample_grads"):
            np.testing.assert_array_equal(getattr(b, name), getattr(a, name), strict=True)
        assert tuple(a.state) == tuple(b.state)
        for key, value in a.state.items():
            assert type(b.state[key]) is type(value), key
            np.testing.assert_array_equal(b.state[key], value, strict=True)
    return got


_PROBLEMS = [("wavy", {"n": 23}, 4), ("linreg", {"n": 23}, 5), ("logistic", {"n": 40}, 6),
             ("slope", {"n": 23}, 5), ("bowl", {"n": 23}, 5),
             ("linreg", {"n": 11, "w_true": "1,2,3,4,5"}, 3),
             ("rosenbrock", {"grad_noise": 0.5}, 1),
             ("custom", {"expr": "(w*x + b - y)**2"}, 3)]


@pytest.mark.parametrize("order", ["shuffle", "sequential", "replacement"])
@pytest.mark.parametrize(("problem", "settings", "batch"), _PROBLEMS)
def test_every_problem_and_order_with_uneven_last_batches(problem, settings, batch, order):
    # n = 23 with batches of 4, 5 and 3, n = 11 with 3: every epoch ends with a shorter batch;
    # blocks of 7 steps start and end inside epochs
    config = RunConfig(problem=problem, settings=settings, optimizer="sgd",
                       hyperparams={"momentum": 0.9}, lr=0.01, batch_size=batch, order=order,
                       max_steps=60)
    assert blocks_apply(config)
    assert_blocks_equal_iterate(config, max_block=7)


@pytest.mark.parametrize("optimizer", optimizer_names())
def test_every_optimizer(optimizer):
    """Plain update rules run in blocks; L-BFGS and Newton are iterate's records, relayed."""
    config = RunConfig(problem="linreg", settings={"n": 23}, optimizer=optimizer, lr=0.01,
                       batch_size=5, max_steps=40)
    assert blocks_apply(config) == (optimizer not in ("lbfgs", "newton"))
    assert_blocks_equal_iterate(config, max_block=16)


def test_a_network_in_blocks():
    config = RunConfig(problem="mlp", optimizer="adam", lr=0.01, batch_size=8, max_steps=30)
    assert_blocks_equal_iterate(config, max_block=8)


@pytest.mark.parametrize(("lr", "tol", "status"), [(3.5, None, "diverged"),
                                                   (0.1, 1e-4, "converged"),
                                                   (0.001, None, "finished")])
def test_a_run_ends_inside_a_block_as_iterate_ends_it(lr, tol, status):
    config = RunConfig(problem="linreg", settings={"n": 30}, lr=lr, batch_size=4, max_steps=250,
                       tol=tol)
    records = assert_blocks_equal_iterate(config, max_block=32)
    assert records[-1].status == status


def test_a_start_that_diverges_is_the_only_block():
    config = RunConfig(problem="rosenbrock", init=(1e200, 1e200), max_steps=5)
    assert [len(b) for b in iterate_blocks(config)] == [1]
    assert_blocks_equal_iterate(config)


@pytest.mark.parametrize("every", ["step", "epoch"])
def test_schedules_stepped_per_step_and_per_epoch_and_cycled_momentum(every):
    config = RunConfig(problem="linreg", settings={"n": 23}, optimizer="sgd",
                       hyperparams={"momentum": 0.9}, lr=0.05, batch_size=5,
                       schedule="onecycle", schedule_every=every, max_steps=45)
    records = assert_blocks_equal_iterate(config, max_block=10)
    assert len({r.lr for r in records}) > 3
    assert "cycled_momentum" in records[-1].state
    config = config.with_changes(optimizer="adam", hyperparams={}, schedule="step",
                                 schedule_params={"step_size": 2, "gamma": 0.5})
    assert_blocks_equal_iterate(config, max_block=10)


def test_a_loss_driven_schedule_is_relayed():
    config = RunConfig(problem="linreg", settings={"n": 23}, lr=0.05, batch_size=5,
                       schedule="plateau", schedule_every="step", max_steps=30)
    assert not blocks_apply(config)
    assert_blocks_equal_iterate(config, max_block=8)


def test_the_benchmarks_run_and_an_epoch_limit():
    config = RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1,
                       order="sequential", max_steps=1500, init=(-0.3,))
    assert_blocks_equal_iterate(config)
    config = RunConfig(problem="slope", lr=1e-3, batch_size=5, order="replacement",
                       max_epochs=7)
    assert_blocks_equal_iterate(config, max_block=50)
