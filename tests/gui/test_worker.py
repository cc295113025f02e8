"""The optimizer worker in its QThread: stepping, pausing, pacing, throttled emission, stop;
several runs in lock-step."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, QThread, Slot

from gdviz.core.records import RunConfig
from gdviz.core.step_blocks import StepBlock
from gdviz.gui import worker as worker_module
from gdviz.gui.tasks import register_thread
from gdviz.gui.worker import OptimizerWorker, epoch_end_step


class Relay(QObject):
    """Lives in the main thread: receives the worker's signals queued, like the controller."""

    def __init__(self, worker: OptimizerWorker) -> None:
        super().__init__()
        self.worker = worker
        self.batches: list[StepBlock] = []
        self.times: list[float] = []
        self.failed: list[str] = []
        self.finished = False
        worker.sig_steps.connect(self.on_steps)
        worker.sig_failed.connect(self.on_failed)
        worker.sig_finished.connect(self.on_finished)

    @Slot(object)
    def on_steps(self, block: StepBlock) -> None:
        assert isinstance(block, StepBlock)
        self.batches.append(block)
        self.times.append(time.perf_counter())
        self.worker.ack()

    @Slot(str)
    def on_failed(self, message: str) -> None:
        self.failed.append(message)

    @Slot()
    def on_finished(self) -> None:
        self.finished = True

    @property
    def groups(self) -> list:
        return [group for batch in self.batches for group in batch.groups()]

    @property
    def records(self) -> list:
        """The first run's records (the only run in most tests)."""
        return [group[0] for group in self.groups if group[0] is not None]

    @property
    def last_step(self) -> int:
        return self.batches[-1].last_step if self.batches else 0


@pytest.fixture
def run_worker(qtbot):
    """Factory: start a worker for ``config`` in a QThread; stopped and joined afterwards."""
    started = []

    def start(config: RunConfig, speed=None, emit_start=False):
        worker = OptimizerWorker(config, speed, emit_start=emit_start)
        thread = QThread()
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.sig_finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        relay = Relay(worker)
        register_thread(thread, worker.stop)
        thread.start()
        started.append((thread, worker, relay))
        return worker, relay

    yield start
    for thread, worker, _relay in started:
        worker.stop()
        assert thread.wait(5000), "the worker thread did not stop"


def long_wavy(**changes) -> RunConfig:
    base = dict(problem="wavy", lr=0.01, batch_size=1, order="shuffle", max_steps=1_000_000)
    base.update(changes)
    return RunConfig(**base)


def test_starts_paused_and_steps_exactly_one(qtbot, run_worker):
    worker, relay = run_worker(long_wavy())
    qtbot.wait(60)
    assert relay.batches == []  # paused at the start point; step 0 is the controller's
    worker.step()
    qtbot.waitUntil(lambda: relay.last_step == 1, timeout=2000)
    qtbot.wait(60)
    assert [r.step for r in relay.records] == [1]
    worker.step()
    worker.step()
    qtbot.waitUntil(lambda: relay.last_step == 3, timeout=2000)
    qtbot.wait(60)
    assert [r.step for r in relay.records] == [1, 2, 3]


def test_emit_start_sends_step_zero(qtbot, run_worker):
    _worker, relay = run_worker(long_wavy(), emit_start=True)
    qtbot.waitUntil(lambda: bool(relay.batches), timeout=2000)
    assert relay.records[0].step == 0


def test_full_speed_is_throttled_and_always_ends_with_the_final_record(qtbot, run_worker):
    steps = 20_000
    worker, relay = run_worker(long_wavy(max_steps=steps))
    start = time.perf_counter()
    worker.play()
    qtbot.waitUntil(lambda: relay.finished, timeout=60_000)
    qtbot.wait(20)
    elapsed = time.perf_counter() - start
    records = relay.records
    assert [r.step for r in records] == list(range(1, steps + 1))  # none lost, in order
    assert records[-1].status == "finished"
    assert relay.batches[-1].groups()[-1][0].status == "finished"   # in the last emission
    rate = len(relay.batches) / elapsed
    assert rate <= 70, f"{len(relay.batches)} emissions in {elapsed:.2f} s"
    gaps = [b - a for a, b in zip(relay.times, relay.times[1:])]
    # the worker never emits faster than every 16 ms (queued delivery may bunch a few)
    assert sorted(gaps)[len(gaps) // 2] >= 0.012


class NoAckRelay(Relay):
    @Slot(object)
    def on_steps(self, block: StepBlock) -> None:
        self.batches.append(block)  # draws nothing and never acknowledges


def test_backpressure_holds_batches_until_acknowledged(qtbot, run_worker):
    worker, relay = run_worker(long_wavy())
    worker.sig_steps.disconnect(relay.on_steps)
    silent = NoAckRelay(worker)
    worker.play()
    qtbot.wait(300)
    assert len(silent.batches) == 1  # nothing more until the GUI has drawn the first batch
    worker.ack()
    qtbot.waitUntil(lambda: len(silent.batches) >= 2, timeout=2000)
    worker.pause()


def test_pause_stops_within_a_frame(qtbot, run_worker):
    worker, relay = run_worker(long_wavy(), speed=None)
    worker.play()
    qtbot.waitUntil(lambda: relay.last_step > 100, timeout=5000)
    worker.pause()
    qtbot.wait(50)
    paused_at = relay.last_step
    qtbot.wait(200)
    assert relay.last_step == paused_at
    worker.play()
    qtbot.waitUntil(lambda: relay.last_step > paused_at, timeout=2000)


def test_speed_limit_paces_steps(qtbot, run_worker):
    worker, relay = run_worker(long_wavy(), speed=50.0)
    worker.play()
    qtbot.wait(500)
    worker.pause()
    qtbot.wait(50)
    assert 15 <= relay.last_step <= 35, relay.last_step  # ~25 steps in 0.5 s at 50 steps/s


def test_run_epoch_pauses_at_the_epoch_boundary(qtbot, run_worker):
    config = long_wavy(batch_size=10)  # 100 samples: 10 steps per epoch
    worker, relay = run_worker(config)
    worker.step()
    qtbot.waitUntil(lambda: relay.last_step == 1, timeout=2000)
    assert worker.run_epoch() == 10
    qtbot.waitUntil(lambda: relay.last_step == 10, timeout=5000)
    qtbot.wait(60)
    assert relay.last_step == 10
    assert relay.records[-1].epoch == 1
    assert worker.run_epoch() == 20
    qtbot.waitUntil(lambda: relay.last_step == 20, timeout=5000)
    assert relay.records[-1].epoch == 2


def test_epoch_end_step():
    assert epoch_end_step(0, 100) == 100
    assert epoch_end_step(37, 100) == 100
    assert epoch_end_step(100, 100) == 200
    assert epoch_end_step(5, 1) == 6


def test_stop_while_playing_finishes_promptly(qtbot, run_worker):
    worker, relay = run_worker(long_wavy(), speed=None)
    worker.play()
    qtbot.waitUntil(lambda: relay.last_step > 10, timeout=5000)
    start = time.perf_counter()
    worker.stop()
    qtbot.waitUntil(lambda: relay.finished, timeout=2000)
    assert time.perf_counter() - start < 0.5


def test_stop_while_waiting_at_a_slow_speed(qtbot, run_worker):
    worker, relay = run_worker(long_wavy(), speed=1.0)
    worker.play()
    qtbot.wait(50)
    start = time.perf_counter()
    worker.stop()
    qtbot.waitUntil(lambda: relay.finished, timeout=2000)
    assert time.perf_counter() - start < 0.2


def test_exceptions_become_sig_failed(qtbot, run_worker, monkeypatch):
    real = worker_module.iterate

    def broken(config):
        records = real(config)
        yield next(records)
        raise RuntimeError("boom in step 1")

    monkeypatch.setattr(worker_module, "iterate", broken)
    worker, relay = run_worker(long_wavy())
    worker.step()
    qtbot.waitUntil(lambda: relay.finished, timeout=2000)
    assert len(relay.failed) == 1
    assert "boom in step 1" in relay.failed[0]
    assert "Traceback" not in relay.failed[0]


def test_diverging_run_ends_with_the_diverged_record(qtbot, run_worker):
    config = RunConfig(problem="linreg", lr=5.0, batch_size=10, max_epochs=3)
    worker, relay = run_worker(config)
    worker.play()
    qtbot.waitUntil(lambda: relay.finished, timeout=10_000)
    assert relay.records[-1].status == "diverged"
    assert "diverged" in relay.records[-1].message
    assert relay.failed == []


def test_several_runs_advance_in_lock_step_and_an_ended_run_yields_none(qtbot, run_worker):
    from gdviz.core.runner import run_to_end

    configs = [RunConfig(problem="linreg", lr=lr, batch_size=10, max_epochs=1)
               for lr in (0.2, 5.0, 0.002)]
    worker, relay = run_worker(configs)
    worker.play()
    qtbot.waitUntil(lambda: relay.finished, timeout=20_000)
    groups = relay.groups
    assert len(groups) == 100  # steps 1..100 of the runs that last the epoch
    for k, config in enumerate(configs):
        expected = run_to_end(config)[1:]
        got = [g[k] for g in groups if g[k] is not None]
        assert [r.step for r in got] == [r.step for r in expected]
        assert all(np.array_equal(a.params, b.params) for a, b in zip(got, expected))
    diverged = [g[1] for g in groups if g[1] is not None]
    assert diverged[-1].status == "diverged"
    assert all(g[1] is None for g in groups[len(diverged):])  # None once it has ended
    assert all(len(g) == 3 for g in groups)
    assert relay.failed == []


def test_run_epoch_uses_the_given_epoch_length(qtbot, run_worker):
    worker, relay = run_worker([long_wavy(batch_size=10), long_wavy(batch_size=50)])
    assert worker.run_epoch(2) == 2  # the selected run (batch 50): 2 steps per epoch
    qtbot.waitUntil(lambda: relay.last_step == 2, timeout=5000)
    qtbot.wait(60)
    assert relay.last_step == 2


def test_compute_budget_grows_with_the_time_the_gui_took_to_draw():
    budget = worker_module.compute_budget
    assert budget(0.0) == pytest.approx(worker_module.EMIT_INTERVAL)  # light views: ~60 Hz
    assert budget(0.004) == pytest.approx(worker_module.EMIT_INTERVAL - 0.004)
    assert budget(0.02) == pytest.approx(worker_module.COMPUTE_SHARE * 0.02)
    assert budget(10.0) == worker_module.MAX_COMPUTE  # never a frozen-looking window


class SlowGui(QObject):
    """The GUI thread's side: each batch takes 30 ms to draw before it is acknowledged."""

    def __init__(self, worker: OptimizerWorker) -> None:
        super().__init__()
        self.worker = worker
        self.received: list[float] = []
        self.acks: list[float] = []
        worker.sig_steps.connect(self.on_steps, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def on_steps(self, block: StepBlock) -> None:
        self.received.append(time.perf_counter())
        time.sleep(0.03)
        self.acks.append(time.perf_counter())
        self.worker.ack()


def gaps_after_acknowledgements(qtbot, run_worker, batches: int, skip: int) -> list[float]:
    """Play with a GUI that takes 30 ms per batch; the sorted times from each of its
    acknowledgements (after the first ``skip``) to the next emission."""
    worker, relay = run_worker(long_wavy())
    worker.sig_steps.disconnect(relay.on_steps)
    gui = SlowGui(worker)
    worker.play()
    qtbot.waitUntil(lambda: len(gui.received) >= batches, timeout=20_000)
    worker.pause()
    return sorted(b - a for a, b in zip(gui.acks[skip:], gui.received[skip + 1:]))


def test_the_worker_computes_longer_when_drawing_is_slow(qtbot, run_worker, monkeypatch):
    monkeypatch.setenv("GDVIZ_STEP_PROCESS", "0")   # computing in the worker thread
    gaps = gaps_after_acknowledgements(qtbot, run_worker, 8, 0)
    # from each acknowledgement to the next emission the worker computed for at least
    # COMPUTE_SHARE x 30 ms (45 ms), not a fixed 16 ms: more steps per frame
    assert gaps[len(gaps) // 2] >= 0.04, gaps


def test_with_a_step_server_the_next_batch_follows_the_acknowledgement(qtbot, run_worker,
                                                                       monkeypatch):
    monkeypatch.setenv("GDVIZ_STEP_PROCESS", "1")
    gaps = gaps_after_acknowledgements(qtbot, run_worker, 12, 4)
    # the server computed while the "GUI" drew: no computing time between ack and emission
    assert gaps[len(gaps) // 2] < 0.03, gaps   # (without a server: >= 45 ms)


def test_a_thread_that_outlives_stop_stays_registered_until_shutdown_joins_it(
        qtbot, monkeypatch):
    """A step slower than stop's timeout: stop returns, the thread registry keeps the thread
    (and, through its stop call, the worker) until it ends; shutdown joins it."""
    import threading

    from gdviz.core.runner import iterate as real_iterate
    from gdviz.gui.tasks import is_registered
    from gdviz.gui.worker import WorkerHost

    inside, release = threading.Event(), threading.Event()

    def slow_iterate(config):
        steps = real_iterate(config)
        yield next(steps)
        for record in steps:
            inside.set()
            release.wait(5)     # a step that takes long (until the test lets it end)
            yield record

    monkeypatch.setattr(worker_module, "iterate", slow_iterate)
    host = WorkerHost()
    config = RunConfig(problem="rosenbrock", lr=0.001, max_steps=50)
    worker = host.start([config], None, lambda *_: None, lambda *_: None, lambda *_: None)
    thread = host.thread
    worker.play()
    assert inside.wait(5)
    host.stop(timeout_ms=10)
    assert host.thread is None
    assert thread.isRunning()
    assert is_registered(thread)
    release.set()
    assert host.shutdown(5000)
    assert not thread.isRunning()
