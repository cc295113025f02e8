"""Step servers: blocks computed in another process hold the groups computed here, bit for bit,
the fallback without a server gives the same blocks, and a run survives its server dying."""

from __future__ import annotations

import time

import numpy as np
import pytest

from gdviz.core import step_server
from gdviz.core.lockstep import iterate_lockstep
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.gui import step_process


@pytest.fixture(autouse=True)
def servers_on(monkeypatch):
    monkeypatch.setenv("GDVIZ_STEP_PROCESS", "1")


def comparison() -> list[RunConfig]:
    """Three linreg runs; lr 5 diverges at step 9 while the others go on to step 300."""
    base = RunConfig(problem="linreg", lr=0.05, batch_size=10, max_steps=300, seed=3)
    return [base, base.with_changes(lr=5.0),
            base.with_changes(optimizer="adam", lr=0.1, hyperparams={})]


def same_group(a, b) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if (x is None) != (y is None):
            return False
        if x is None:
            continue
        if (x.step, x.epoch, x.lr, x.status, x.message) != (y.step, y.epoch, y.lr, y.status,
                                                          y.message):
            return False
        # a step server leaves out the per-sample gradients of a block's steps before its
        # last (``received`` checks that every block's last step has them)
        left_out = len(x.sample_grads) == 0 and len(y.sample_grads) > 0
        if not (np.array_equal(x.params, y.params) and np.array_equal(x.grad, y.grad)
                and np.array_equal(x.batch, y.batch) and x.loss == y.loss
                and (left_out or np.array_equal(x.sample_grads, y.sample_grads))
                and x.batch_loss == y.batch_loss):
            return False
        if set(x.state) != set(y.state) or not all(
                np.array_equal(x.state[k], y.state[k]) for k in x.state):
            return False
    return True


def received(block) -> list:
    """The groups of a block ``next_block`` gave, whose last step must have every run's
    per-sample gradients (recomputed where a server left them out of a block it cut)."""
    assert not block.lacks_last_sample_grads
    return block.groups()


def next_group(source):
    """One lock-step group (records) from ``source``, None when it gave way."""
    block = source.next_block(1)
    if block is None:
        return None
    assert block.count == 1
    return received(block)[0]


def take_all(source, limit: int = 1, start: int = 0) -> list:
    """Every group from step ``start`` to the end of the iteration."""
    out = []
    while True:
        block = source.next_block(limit)
        assert block is not None
        assert block.first_step == start + len(out)
        out.extend(received(block))
        if block.ends_iteration:
            return out


def test_a_server_computes_the_same_groups_bit_for_bit():
    configs = comparison()
    source = step_process.open_source(configs, iterate, lambda: False)
    try:
        assert source.remote
        remote = take_all(source)
    finally:
        source.close()
    local = list(iterate_lockstep(configs, iterate))
    assert len(remote) == len(local) == 301
    assert all(same_group(a, b) for a, b in zip(remote, local))
    assert remote[9][1].status == "diverged"
    assert remote[10][1] is None
    record = remote[5][0]
    assert not record.params.flags.writeable
    assert not record.sample_grads.flags.writeable
    assert isinstance(remote[5][2].state["exp_avg"], np.ndarray)


def test_servers_are_reused_and_never_deliver_an_earlier_runs_groups():
    configs = comparison()
    first = step_process.open_source(configs, iterate, lambda: False)
    for _ in range(5):
        next_group(first)
    server = first._server             # private: which pooled process a run uses is not shown
    first.close()                      # the server may still be computing the first run
    other = [configs[0].with_changes(seed=11, max_steps=50)]
    second = step_process.open_source(other, iterate, lambda: False)
    try:
        assert second._server is server
        groups = take_all(second)
    finally:
        second.close()
    assert all(same_group(a, b) for a, b in zip(groups, iterate_lockstep(other, iterate)))
    assert len(groups) == 51


def test_a_run_goes_on_in_this_thread_when_its_server_dies():
    configs = comparison()
    source = step_process.open_source(configs, iterate, lambda: False)
    taken = [next_group(source) for _ in range(20)]
    source._server.process.kill()      # private: the run's own server, to kill it mid-run
    source._server.process.join(5)
    taken += take_all(source, start=20)
    source.close()
    local = list(iterate_lockstep(configs, iterate))
    assert len(taken) == len(local)
    assert all(same_group(a, b) for a, b in zip(taken, local))


def test_a_dead_server_is_resumed_from_its_latest_snapshot_not_from_the_start():
    """The server sends a snapshot with a block at least every SNAPSHOT_GROUPS groups: the
    fallback recomputes only what came after the latest one (the whole run before: issue
    19), and goes on with the same groups, ended runs, schedules and batches included."""
    base = RunConfig(problem="linreg", settings={"n": 40}, lr=0.05, batch_size=7,
                     max_steps=1_000_000, seed=3)
    configs = [base, base.with_changes(lr=5.0),                      # diverges at step 9
               base.with_changes(optimizer="adam", lr=0.01, hyperparams={}, order="replacement",
                                 schedule="plateau", schedule_every="step",
                                 schedule_params={"patience": 5, "factor": 0.9})]
    lost = []
    source = step_process.open_source(configs, iterate, lambda: False,
                                      lambda *counts: lost.append(counts))
    taken = []
    while len(taken) < 2 * step_server.SNAPSHOT_GROUPS + step_server.CHUNK_GROUPS:
        taken += received(source.next_block(1000))   # a snapshot was sent with one of them
    source._server.process.kill()      # private: the run's own server, to kill it mid-run
    source._server.process.join(5)
    while not lost or len(taken) < lost[0][0] + 500:
        taken += received(source.next_block(1000))
    source.close()
    sent, recomputed = lost[0]
    assert sent >= len(taken) - 1000 - 500
    assert recomputed < step_server.SNAPSHOT_GROUPS + step_server.CHUNK_GROUPS < sent
    groups = iterate_lockstep(configs, iterate)
    assert all(same_group(a, next(groups)) for a in taken)
    assert taken[-1][1] is None
    assert taken[-1][0].step == len(taken) - 1


def test_a_failure_in_the_server_is_a_sentence_for_the_user(tmp_path):
    data = tmp_path / "data.csv"
    data.write_text("x,y\n1,2\n2,4\n3,6.5\n")
    config = RunConfig(problem="linreg", data_path=str(data), max_steps=20)
    data.unlink()                      # gone before the server reads it
    source = step_process.open_source([config], iterate, lambda: False)
    try:
        with pytest.raises(step_process.RunFailed) as failed:
            source.next_block(1)
    finally:
        source.close()
    assert "data.csv" in str(failed.value)
    assert "Traceback" not in str(failed.value)


def test_a_wait_for_the_server_gives_way_to_a_pause_or_stop():
    paused = [True]
    server = step_process.StepServer()    # just spawned: busy importing for 0.1 s or more
    source = step_process.RemoteSteps(tuple(comparison()), server, lambda: paused[0])
    try:
        assert source.next_block(1) is None   # gave way after one short poll
        paused[0] = False
        first = next_group(source)            # waits for the server this time
    finally:
        source.close()
        server.quit()
    assert same_group(first, next(iterate_lockstep(comparison(), iterate)))


def test_servers_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("GDVIZ_STEP_PROCESS", "0")
    source = step_process.open_source(comparison(), iterate, lambda: False)
    assert not source.remote
    assert same_group(next_group(source), next(iterate_lockstep(comparison(), iterate)))


def test_a_substituted_iterate_is_never_sent_to_a_server():
    def counting(config):
        yield from iterate(config)

    source = step_process.open_source(comparison(), counting, lambda: False)
    assert not source.remote


def test_groups_are_taken_in_bulk_but_never_more_than_asked():
    configs = comparison()
    source = step_process.open_source(configs, iterate, lambda: False)
    try:
        three = source.next_block(3)
        assert 1 <= three.count <= 3
        taken = received(three)
        while len(taken) < 301:
            more = source.next_block(10**6)
            assert more.first_step == len(taken)
            taken += received(more)
    finally:
        source.close()
    assert [g[0].step for g in taken] == list(range(301))
    assert all(same_group(a, b) for a, b in zip(taken, iterate_lockstep(configs, iterate)))


@pytest.mark.parametrize("server", ["1", "0"])
def test_with_or_without_a_server_the_blocks_hold_the_same_columns(monkeypatch, server):
    """The fallback (GDVIZ_STEP_PROCESS=0: computed in the worker thread, in blocks as long as
    the worker's time budget) gives the blocks a server gives: every column equal."""
    monkeypatch.setenv("GDVIZ_STEP_PROCESS", server)
    from gdviz.core.step_blocks import StepBlock

    configs = comparison()
    source = step_process.open_source(configs, iterate, lambda: False)
    blocks = []
    try:
        assert source.remote == (server == "1")
        while not blocks or not blocks[-1].ends_iteration:
            blocks.append(source.next_block(10**6, time.perf_counter() + 0.002))
    finally:
        source.close()
    got = StepBlock.join(blocks)
    expected = StepBlock.from_groups(list(iterate_lockstep(configs, iterate)))
    assert (got.first_step, got.count) == (expected.first_step, expected.count) == (0, 301)
    # a server leaves out the per-sample gradients of its blocks' steps before their last:
    # every block's last step has them, as computed here (the fallback keeps them all)
    for block in blocks:
        for run, want in zip(block.runs, expected.runs):
            if run is not None:
                np.testing.assert_array_equal(
                    run.record(-1).sample_grads, want.record(int(run.steps[-1])).sample_grads)
    names = ("steps", "epochs", "lrs", "batch_losses", "losses", "params_before", "params",
             "grads", "batch_ends", "batches") + (("grad_ends", "sample_grads")
                                                   if server == "0" else ())
    for a, b in zip(got.runs, expected.runs):
        for name in names:
            x, y = getattr(a, name), getattr(b, name)
            assert x.dtype == y.dtype, name
            np.testing.assert_array_equal(x, y, err_msg=name)
        assert (a.statuses, a.messages) == (b.statuses, b.messages)
        assert (a.state_columns is None) == (b.state_columns is None)
        for i in range(len(a)):
            assert list(a.state_at(i)) == list(b.state_at(i))
            for key, value in b.state_at(i).items():
                np.testing.assert_array_equal(a.state_at(i)[key], value)


def test_a_networks_blocks_carry_the_sample_gradients_a_history_keeps():
    """A server sends the per-sample gradients of a block's last step only (two thirds of a
    network's bytes); a block cut from it (one step at a time, as a paced run takes them)
    gets its last step's recomputed, bit for bit as the runner computed them."""
    config = RunConfig(problem="mlp", settings={"layers": "8,8", "dataset": "spiral",
                                                "n": 200},
                       optimizer="adam", lr=0.01, hyperparams={}, batch_size=10,
                       max_steps=400, seed=2)
    source = step_process.open_source([config], iterate, lambda: False)
    taken, rows, batch_rows = [], 0, 0
    try:
        assert source.remote
        while len(taken) < 401:
            block = source.next_block(1 if len(taken) < 30 else 10**6)
            if len(taken) >= 30:       # in bulk: what the server sent, joined
                rows += len(block.runs[0].sample_grads)
                batch_rows += len(block.runs[0].batches)
            taken += received(block)
            if block.ends_iteration:
                break
    finally:
        source.close()
    # one step's gradients per server chunk (~4 ms of steps), not every step's (equal rows)
    assert 0 < rows < batch_rows
    local = list(iterate_lockstep([config], iterate))
    assert len(taken) == len(local) == 401
    assert all(same_group(a, b) for a, b in zip(taken, local))
    assert all(np.array_equal(a[0].sample_grads, b[0].sample_grads)    # one at a time: all
               for a, b in zip(taken[:30], local[:30]))


def test_gradient_noise_keeps_every_steps_sample_gradients():
    """Gradient noise is random: a server sends every step's noisy per-sample gradients."""
    config = RunConfig(problem="rosenbrock", settings={"grad_noise": 0.5}, max_steps=300,
                       seed=4)
    source = step_process.open_source([config], iterate, lambda: False)
    try:
        assert source.remote
        taken = take_all(source, limit=10**6)
    finally:
        source.close()
    local = list(iterate_lockstep([config], iterate))
    assert len(taken) == len(local)
    assert all(np.array_equal(a[0].sample_grads, b[0].sample_grads) and
               len(a[0].sample_grads) == len(a[0].batch) for a, b in zip(taken, local))
