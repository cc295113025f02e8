"""StepBlocks (lock-step groups as columns) give back the same records, bit for bit, through a
pipe, cut and joined; histories appended from blocks hold what the records said."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from gdviz.core.history import RunHistory
from gdviz.core.lockstep import iterate_lockstep
from gdviz.core.recorded import StateHistory
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.step_blocks import RunBlock, StepBlock

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


def through_a_pipe(block: StepBlock) -> StepBlock:
    """What a step server's block becomes on the other side of its pipe."""
    return pickle.loads(pickle.dumps(block, protocol=pickle.HIGHEST_PROTOCOL))


@pytest.mark.parametrize("changes", OPTIMIZER_CHANGES)
def test_every_optimizer_state_survives_a_block(changes):
    config = RunConfig(problem="linreg", lr=0.05, batch_size=7, max_steps=40, seed=1,
                       **changes)
    groups = list(iterate_lockstep([config], iterate))
    for lo in (0, 1, 17):          # blocks that start at step 0 (no state yet) and later
        chunk = groups[lo:lo + 13]
        block = StepBlock.from_groups(chunk)
        assert (block.first_step, block.count) == (lo, len(chunk))
        assert_same_groups(block.groups(), chunk)
        assert_same_groups(through_a_pipe(block).groups(), chunk)


def test_a_comparison_whose_runs_end_inside_a_block():
    base = RunConfig(problem="linreg", lr=0.05, batch_size=10, max_steps=30, seed=3)
    configs = [base, base.with_changes(lr=5.0), base.with_changes(max_steps=12),
               base.with_changes(batch_size=None, max_steps=20)]
    groups = list(iterate_lockstep(configs, iterate))
    assert groups[-1][0].status == "finished"
    for lo in range(0, len(groups), 8):
        chunk = groups[lo:lo + 8]
        assert_same_groups(through_a_pipe(StepBlock.from_groups(chunk)).groups(), chunk)


def test_uneven_batches_and_one_parameter_problems():
    configs = [RunConfig(problem="wavy", max_steps=250, batch_size=3, order="sequential"),
               RunConfig(problem="himmelblau", optimizer="adam", lr=0.1, hyperparams={},
                         max_steps=250)]
    groups = list(iterate_lockstep(configs, iterate))
    assert_same_groups(through_a_pipe(StepBlock.from_groups(groups)).groups(), groups)


def test_block_columns_are_read_only_and_typed():
    config = RunConfig(problem="linreg", optimizer="adam", lr=0.1, hyperparams={},
                       batch_size=10, max_steps=20)
    block = through_a_pipe(StepBlock.from_groups(list(iterate_lockstep([config], iterate))))
    run = block.runs[0]
    assert len(run) == block.count == 21
    assert run.steps.dtype == np.int64
    assert run.params.shape == (21, 3)
    for array in (run.steps, run.losses, run.params, run.batches, run.sample_grads,
                  *run.state_columns.values()):
        assert not array.flags.writeable
    assert run.state_kinds["step"] == "int"
    assert run.ended
    assert block.ends_iteration
    assert block.last_step == 20
    with pytest.raises(TypeError):
        run.state_columns["new"] = np.zeros(3)


def comparison_groups(max_steps=39):
    base = RunConfig(problem="linreg", lr=0.05, batch_size=7, max_steps=max_steps, seed=2)
    configs = [base.with_changes(**changes) for changes in OPTIMIZER_CHANGES[:6]]
    configs[1] = configs[1].with_changes(max_steps=11)          # ends inside a block
    configs[2] = configs[2].with_changes(lr=50.0)                # diverges
    return list(iterate_lockstep(configs, iterate))


@pytest.mark.parametrize("cuts", [(0, 1, 2, 40), (0, 5, 6, 20, 40), (0, 13, 40), (1, 12, 40)])
def test_joined_blocks_are_the_block_of_all_their_groups(cuts):
    """join(block(a), block(b), ...) == block(a + b + ...): the same records, and states kept
    as columns exactly when one block of them all keeps them so (step 0 has no state yet)."""
    groups = comparison_groups()
    parts = [StepBlock.from_groups(groups[lo:hi]) for lo, hi in zip(cuts, cuts[1:])]
    joined, whole = StepBlock.join(parts), StepBlock.from_groups(groups[cuts[0]:cuts[-1]])
    assert (joined.first_step, joined.count) == (whole.first_step, whole.count)
    for got, expected in zip(joined.runs, whole.runs):
        assert (got is None) == (expected is None)
        if got is not None:
            assert (got.state_columns is None) == (expected.state_columns is None)
            for name in ("steps", "params", "batch_ends", "batches", "grad_ends"):
                np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))
    assert_same_groups(joined.groups(), groups[cuts[0]:cuts[-1]])


@pytest.mark.parametrize("n", [1, 11, 12, 39])
def test_a_split_block_is_its_two_halves(n):
    groups = comparison_groups()
    head, tail = StepBlock.from_groups(groups).split(n)
    assert (head.first_step, head.count, tail.first_step, tail.count) == (0, n, n, 40 - n)
    assert head.runs[1] is not None
    assert (tail.runs[1] is None) == (n >= 12)
    assert_same_groups(head.groups(), groups[:n])
    assert_same_groups(tail.groups(), groups[n:])
    assert_same_groups(StepBlock.join([head, tail]).groups(), groups)
    assert not head.ends_iteration
    assert tail.ends_iteration


def histories(configs, blocks):
    """Each run's (RunHistory, StateHistory) appended from ``blocks``, run by run."""
    n_params = configs[0].make_problem().n_params
    out = [(RunHistory(n_params), StateHistory()) for _ in configs]
    for block in blocks:
        for (history, states), run in zip(out, block.runs):
            if run is not None:
                history.append(run)
                states.append(run)
    return out


@pytest.mark.parametrize("size", [1, 7, 64])
def test_histories_appended_from_blocks_hold_what_the_records_said(size):
    base = RunConfig(problem="linreg", lr=0.05, batch_size=10, max_steps=120, seed=3)
    configs = [base, base.with_changes(lr=5.0),
               base.with_changes(optimizer="adam", lr=0.1, hyperparams={}),
               base.with_changes(hyperparams={"momentum": 0.9}, order="sequential"),
               base.with_changes(batch_size=None, max_steps=30),
               base.with_changes(batch_size=3, order="replacement")]
    groups = list(iterate_lockstep(configs, iterate))
    blocks = [StepBlock.from_groups(groups[:1])]      # the window appends step 0 first
    blocks += [through_a_pipe(StepBlock.from_groups(groups[lo:lo + size]))
               for lo in range(1, len(groups), size)]
    one_block = histories(configs, [StepBlock.from_groups(groups)])
    for k, ((history, states), (other, _)) in enumerate(zip(histories(configs, blocks),
                                                            one_block)):
        records = [g[k] for g in groups if g[k] is not None]
        assert len(history) == len(states) == len(records)
        np.testing.assert_array_equal(history.steps, [r.step for r in records])
        np.testing.assert_array_equal(history.epochs, [r.epoch for r in records])
        np.testing.assert_array_equal(history.lrs, [r.lr for r in records])
        np.testing.assert_array_equal(history.losses, [r.loss for r in records])
        np.testing.assert_array_equal(history.batch_losses, [r.batch_loss for r in records])
        np.testing.assert_array_equal(history.params, [r.params for r in records])
        np.testing.assert_array_equal(history.grads, [r.grad for r in records])
        np.testing.assert_array_equal(history.params, other.params)
        for i, record in enumerate(records):
            assert history.status_at(i) == record.status
            np.testing.assert_array_equal(history.batch_at(i), record.batch)
            state = states.at(i)
            assert list(state) == list(record.state)
            for key, value in record.state.items():
                assert type(state[key]) is type(value)
                np.testing.assert_array_equal(state[key], value)
        assert_same_record(history.first, records[0])
        assert_same_record(history.last, records[-1])


def test_a_run_block_of_records_is_what_a_history_appends_from_records():
    records = list(iterate(RunConfig(problem="linreg", batch_size=10, max_steps=30)))
    by_records, by_block = RunHistory(3), RunHistory(3)
    by_records.append(records)
    by_block.append(RunBlock.from_records(records))
    np.testing.assert_array_equal(by_records.params, by_block.params)
    for i in range(len(records)):
        np.testing.assert_array_equal(by_records.batch_at(i), by_block.batch_at(i))
    assert_same_record(by_records.last, by_block.last)


MLP = RunConfig(problem="mlp", settings={"layers": "8,8", "dataset": "spiral", "n": 200},
                optimizer="adam", lr=0.01, hyperparams={}, batch_size=10, max_steps=60,
                seed=2)


@pytest.mark.parametrize("config", [MLP, RunConfig(problem="linreg", lr=0.05, batch_size=10,
                                                   max_steps=60, seed=2)])
def test_a_block_of_last_sample_grads_only_gives_them_back_recomputed_bit_for_bit(config):
    records = list(iterate(config))[:40]
    full = RunBlock.from_records(records)
    lean = pickle.loads(pickle.dumps(RunBlock.from_records(records, every_sample_grads=False)))
    assert len(lean.sample_grads) == len(records[-1].sample_grads) < len(full.sample_grads) / 30
    assert not lean.lacks_last_sample_grads
    assert_same_record(lean.record(-1), records[-1])
    for i in range(len(records) - 1):   # every other record as it was, without the gradients
        assert lean.record(i).sample_grads.shape == (0, full.params.shape[1])
        assert np.array_equal(lean.record(i).params, records[i].params)
    problem = config.make_problem()
    assert not lean.cut(0, 1).lacks_last_sample_grads   # step 0 has no batch
    for k in (2, 17, 39):               # cut where the gradients were left out: recomputed
        head = lean.cut(0, k)
        assert head.lacks_last_sample_grads
        filled = head.with_last_sample_grads(problem)
        assert not filled.lacks_last_sample_grads
        assert_same_record(filled.record(-1), records[k - 1])
    joined = StepBlock(0, 40, (lean,)).split(5)[0].with_last_sample_grads([problem])
    assert_same_record(joined.runs[0].record(-1), records[4])


def test_the_gradients_of_a_noisy_problem_are_never_recomputed():
    config = RunConfig(problem="rosenbrock", settings={"grad_noise": 0.5}, max_steps=5)
    records = list(iterate(config))
    head = RunBlock.from_records(records, every_sample_grads=False).cut(0, 3)
    with pytest.raises(ValueError, match="noise"):
        head.with_last_sample_grads(config.make_problem())
    step0 = RunBlock.from_records(records[:1], every_sample_grads=False)
    assert not step0.lacks_last_sample_grads    # no batch: nothing left out
