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


def histories_from_chunks(configs, size):
    from gdviz.core.history import RunHistory
    from gdviz.core.recorded import StateHistory
    from gdviz.core.step_blocks import StepChunk

    groups = list(iterate_lockstep(configs, iterate))
    n_params = [len(r.params) for r in groups[0]]
    by_records = [(RunHistory(p), StateHistory()) for p in n_params]
    by_chunks = [(RunHistory(p), StateHistory()) for p in n_params]
    for k, (history, states) in enumerate(by_records):
        records = [g[k] for g in groups if g[k] is not None]
        history.append(records[:1])     # the window appends step 0 first, then batches
        states.append(records[:1])
        history.append(records[1:])
        states.append(records[1:])
    for k, (history, states) in enumerate(by_chunks):
        history.append(g for g in groups[:1] for g in (g[k],))
        states.append(g for g in groups[:1] for g in (g[k],))
    for lo in range(1, len(groups), size):
        chunk = StepChunk(pack(groups[lo:lo + size]))
        for k, (history, states) in enumerate(by_chunks):
            history.append_chunk(chunk, k)
            states.append_chunk(chunk, k)
    return by_records, by_chunks


@pytest.mark.parametrize("size", [1, 7, 64])
def test_histories_append_chunks_exactly_as_records(size):
    base = RunConfig(problem="linreg", lr=0.05, batch_size=10, max_steps=120, seed=3)
    configs = [base, base.with_changes(lr=5.0),
               base.with_changes(optimizer="adam", lr=0.1, hyperparams={}),
               base.with_changes(hyperparams={"momentum": 0.9}, order="sequential"),
               base.with_changes(batch_size=None, max_steps=30),
               base.with_changes(batch_size=3, order="replacement")]
    by_records, by_chunks = histories_from_chunks(configs, size)
    names = ("_steps", "_epochs", "_lrs", "_losses", "_batch_losses", "_params", "_grads",
             "_status", "_batch_start", "_batch_len", "_scattered")
    for (h1, s1), (h2, s2) in zip(by_records, by_chunks):
        for name in names:
            a, b = getattr(h1, name).view(), getattr(h2, name).view()
            assert a.dtype == b.dtype, name
            assert np.array_equal(a, b, equal_nan=True), name
        assert_same_record(h1.last, h2.last)
        assert_same_record(h1.first, h2.first)
        assert len(s1) == len(s2) == len(h1)
        for i in range(len(h1)):
            x, y = s1.at(i), s2.at(i)
            assert list(x) == list(y)
            for key in x:
                assert type(x[key]) is type(y[key])
                assert np.array_equal(x[key], y[key])
        for i in (0, 1, len(h1) // 2, len(h1) - 1):
            assert np.array_equal(h1.batch_at(i), h2.batch_at(i))


def test_a_chunk_knows_its_steps_and_whether_it_ends_the_iteration():
    from gdviz.core.step_blocks import StepChunk, as_groups, item_count, item_first_step

    base = RunConfig(problem="linreg", lr=0.05, batch_size=10, max_steps=30, seed=3)
    groups = list(iterate_lockstep([base, base.with_changes(max_steps=12)], iterate))
    middle, last = StepChunk(pack(groups[5:20])), StepChunk(pack(groups[20:]))
    assert (middle.count, middle.first_step, item_count(middle)) == (15, 5, 15)
    assert not middle.ends_iteration
    assert last.ends_iteration
    assert last.run(1) is None                      # run 1 ended at step 12
    assert item_first_step(groups[3]) == 3
    assert_same_record(middle.record(1, -1), groups[12][1])
    assert_same_groups(as_groups([groups[4], middle, last]), groups[4:])


def test_an_emission_of_groups_and_chunks_appends_in_order():
    from gdviz.core.history import RunHistory
    from gdviz.core.recorded import StateHistory
    from gdviz.core.step_blocks import StepChunk, append_items

    base = RunConfig(problem="linreg", lr=0.05, batch_size=10, max_steps=60, seed=3)
    configs = [base, base.with_changes(lr=5.0)]
    groups = list(iterate_lockstep(configs, iterate))
    mixed = [StepChunk(pack(groups[1:4])), *groups[4:9], StepChunk(pack(groups[9:]))]
    plain = [(RunHistory(3), StateHistory()) for _ in configs]
    packed = [(RunHistory(3), StateHistory()) for _ in configs]
    for target in (plain, packed):
        append_items(groups[:1], [h for h, _ in target], [s for _, s in target])
    last_plain = append_items(groups[1:], [h for h, _ in plain], [s for _, s in plain])
    last_packed = append_items(mixed, [h for h, _ in packed], [s for _, s in packed])
    for a, b in zip(last_plain, last_packed):
        assert_same_record(a, b)
    assert last_packed[1].status == "diverged"
    for (h1, _), (h2, _) in zip(plain, packed):
        assert np.array_equal(h1.params, h2.params, equal_nan=True)
        assert np.array_equal(h1.steps, h2.steps)


@pytest.mark.parametrize("cuts", [(0, 1, 2, 40), (0, 5, 6, 20, 40), (0, 13, 40)])
def test_merged_chunks_are_the_chunk_of_all_their_groups(cuts):
    """merge(pack(a), pack(b), ...) == pack(a + b + ...): the same records, and states kept as
    columns exactly when packing them all at once keeps them so (step 0 has no state yet)."""
    from gdviz.core.step_blocks import merge

    base = RunConfig(problem="linreg", lr=0.05, batch_size=7, max_steps=39, seed=2)
    configs = [base.with_changes(**changes) for changes in OPTIMIZER_CHANGES[:6]]
    configs[1] = configs[1].with_changes(max_steps=11)          # ends inside a chunk
    configs[2] = configs[2].with_changes(lr=50.0)                # diverges
    groups = list(iterate_lockstep(configs, iterate))
    parts = [pack(groups[lo:hi]) for lo, hi in zip(cuts, cuts[1:])]
    merged, whole = merge(parts), pack(groups[cuts[0]:cuts[-1]])
    assert merged[0] == whole[0]
    for got, expected in zip(merged[1], whole[1]):
        assert (got is None) == (expected is None)
        if got is not None:
            assert list(got) == list(expected)
            assert got["state"][0] == expected["state"][0]
    assert_same_groups(unpack(merged), groups[cuts[0]:cuts[-1]])
