"""The optimizer worker: runs every run of a comparison in lock-step in a QThread and streams
their records (``gdviz.core.lockstep.iterate_lockstep`` over ``gdviz.core.runner.iterate``).

Threading rules (ARCHITECTURE.md):
- The worker's loop is busy, so it never runs queued slots while it works. Every control
  method (play, pause, advance, run_epoch, set_speed, stop, ack) is therefore a plain,
  thread-safe method that sets state under a lock and wakes the loop through an Event.
  Call them directly from the GUI thread; never connect signals to them.
- Steps leave the thread as one ``StepBlock`` per emission (consecutive lock-step groups as
  read-only columns, one ``RunBlock`` per run, None once run k has ended before the block),
  at most one emission every ``EMIT_INTERVAL`` seconds,
  and only once the GUI has acknowledged the previous one (``ack()``): at full speed the GUI
  event queue holds at most one batch, however slow drawing is. Pausing and the final record
  are always flushed at once.
- The groups come from ``step_process.open_source``: normally a step server, a child process
  that computes ahead (a bounded amount) while the GUI draws, so the worker only unpickles
  its blocks and, once the GUI has acknowledged a batch, sends what has arrived at once.
- Without a server (``GDVIZ_STEP_PROCESS=0``, or a test's substituted ``iterate``) the worker
  computes in this thread, and then not while the GUI draws a batch: both need the GIL, and a
  worker spinning in Python slows pyqtgraph's painting by an order of magnitude (measured: 3
  frames/s instead of 30 at full speed). Steps are computed between frames instead, for
  ``compute_budget(draw)`` seconds: at least ``COMPUTE_SHARE`` times as long as the GUI took
  to draw the previous batch (so playing at full speed reaches more than half the headless
  rate however heavy the views), and at least what is left of a 60 Hz frame.
- Exceptions are caught here and emitted as ``sig_failed(str)``; ``sig_finished`` follows in
  every case, and must be connected to ``thread.quit`` with ``Qt.DirectConnection``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt, QThread, Signal, Slot

from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.step_blocks import StepBlock
from gdviz.gui.step_process import RunFailed, open_source
from gdviz.gui.tasks import running_threads, start_thread, stop_all_threads

log = logging.getLogger(__name__)
EMIT_INTERVAL = 0.016  # s: ~60 emissions per second at most
_SLICE = 0.005  # s: longest sleep between checks of pause/stop (well within one frame)
# s: while the GUI draws, how often the worker takes in what a step server sent. Each time it
# needs the GIL, which the drawing GUI thread then hands over (and back); the server has
# ~60 ms of work in credit (step_server.CHUNKS_AHEAD), so once or twice a frame is enough.
_DRAIN_SLICE = 0.015
COMPUTE_SHARE = 1.5  # compute at least this many times as long as the GUI drew
MAX_COMPUTE = 0.06  # s: but never longer between emissions (the window stays fluid)
_TAKE = 100_000  # groups taken from a step server at once while playing at full speed


def compute_budget(draw: float) -> float:
    """Seconds of computing before the next emission, after the GUI took ``draw`` seconds
    (from emission to acknowledgement) to draw the previous one."""
    return min(MAX_COMPUTE, max(EMIT_INTERVAL - draw, COMPUTE_SHARE * draw))

def epoch_end_step(last_step: int, steps_per_epoch: int) -> int:
    """The step that completes the epoch after ``last_step`` (a whole epoch at a boundary)."""
    return (last_step // steps_per_epoch + 1) * steps_per_epoch


class OptimizerWorker(QObject):
    """Drives the runs of ``configs`` (one RunConfig, or 1..6 of them) in lock-step. Starts
    paused at the start point (step 0 is not emitted: the controller computes it synchronously
    so the window shows it at once). A "step" here is one lock-step group: every run that has
    not ended takes one step.

    speed: target steps per second, or None for as fast as possible.
    """

    sig_steps = Signal(object)  # StepBlock: the lock-step groups since the last emission
    sig_failed = Signal(str)  # a sentence for the user
    sig_notice = Signal(str)  # something the user should know; the run goes on
    sig_finished = Signal()  # the loop has exited (end of every run, stop, or failure)

    def __init__(self, configs: RunConfig | Sequence[RunConfig], speed: float | None = None,
                 emit_start: bool = False) -> None:
        super().__init__()
        self._configs = (configs,) if isinstance(configs, RunConfig) else tuple(configs)
        self._steps_per_epoch = self._configs[0].steps_per_epoch()
        self._emit_start = emit_start
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._ready = threading.Event()  # the GUI has consumed the previous emission
        self._ready.set()
        self._acked_at = 0.0  # perf_counter() of the last ack
        self._playing = False
        self._budget = 0  # steps still allowed while not playing
        self._speed = speed
        self._last_step = 0
        self._pace_reset = True

    # -- control: thread-safe, called directly from the GUI thread --------------------------
    def play(self) -> None:
        with self._lock:
            self._playing, self._budget, self._pace_reset = True, 0, True
        self._wake.set()

    def pause(self) -> None:
        with self._lock:
            self._playing, self._budget = False, 0
        self._wake.set()

    def advance(self, n: int = 1) -> None:
        """Take ``n`` more steps (at full speed for one step), then pause."""
        with self._lock:
            if self._playing:
                self._playing, self._budget = False, 0
            self._budget += n
            self._pace_reset = True
        self._wake.set()

    def step(self) -> None:
        """Exactly one step, then pause."""
        self.advance(1)

    def run_epoch(self, steps_per_epoch: int | None = None) -> int:
        """Run to the end of the current epoch (of a run with ``steps_per_epoch`` steps per
        epoch, default the first run's), then pause. Returns the step it stops at."""
        with self._lock:
            target = epoch_end_step(self._last_step + self._budget,
                                    steps_per_epoch or self._steps_per_epoch)
            self._budget = target - self._last_step
            self._playing, self._pace_reset = False, True
        self._wake.set()
        return target

    def set_speed(self, steps_per_second: float | None) -> None:
        """Target steps per second (>= 1), or None / 0 for unlimited."""
        with self._lock:
            self._speed = steps_per_second or None
            self._pace_reset = True
        self._wake.set()

    def stop(self) -> None:
        """Ask the loop to exit; ``sig_finished`` follows within a few milliseconds."""
        self._stop.set()
        self._wake.set()

    def ack(self) -> None:
        """The GUI has drawn the last emission; the next one may be sent."""
        self._acked_at = time.perf_counter()
        self._ready.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- the loop (runs in the worker thread) -------------------------------------------------
    @Slot()
    def run(self) -> None:
        try:
            self._loop()
        except (ConfigError, RunFailed) as err:
            self.sig_failed.emit(str(err))
        except Exception as err:  # the GUI shows it; the thread must never die silently
            self.sig_failed.emit(f"the optimizer stopped with an error: "
                                 f"{type(err).__name__}: {err}")
        finally:
            self.sig_finished.emit()

    def _loop(self) -> None:
        # ``iterate`` is looked up here, at run time, so tests can substitute a failing one
        source = open_source(self._configs, iterate, self._wake.is_set, self._on_server_lost)
        try:
            self._loop_over(source)
        finally:
            source.close()

    def _on_server_lost(self, groups: int, recompute: int) -> None:
        """The step server died (worker thread): say so, and how many of the steps it had
        sent are recomputed here before new ones show (those after its last snapshot)."""
        where = f" at step {groups - 1}" if groups > 1 else ""
        again = (f" (first recomputing {recompute} step{'s' if recompute != 1 else ''} "
                 "it had sent)") if recompute else ""
        self.sig_notice.emit(f"the step server stopped{where}; the run goes on in this "
                             f"window's own thread{again}")

    def _loop_over(self, source) -> None:
        first = None
        while first is None:
            if self._stop.is_set():
                return
            self._wake.clear()
            first = source.next_block(1)
        pending: list[StepBlock] = [first] if self._emit_start else []
        last_emit = 0.0
        computing_since = 0.0  # when the GUI last acknowledged: a batch spans one frame
        budget = EMIT_INTERVAL  # how long to compute before emitting (compute_budget)
        due = 0.0  # time the next paced step may run

        def flush(force: bool) -> None:
            nonlocal last_emit
            if pending and (force or self._ready.is_set()):
                self._ready.clear()
                self.sig_steps.emit(StepBlock.join(pending))
                pending.clear()
                last_emit = time.perf_counter()

        if first.ends_iteration:
            flush(True)
            return
        while not self._stop.is_set():
            self._wake.clear()
            with self._lock:
                allowed = self._playing or self._budget > 0
                speed = self._speed if self._playing or self._budget > 1 else None
                # groups that may be taken at once (a step server's are computed already)
                take = 1 if speed is not None else (_TAKE if self._playing else self._budget)
                if self._pace_reset:
                    due, self._pace_reset = time.perf_counter(), False
            if not allowed:
                flush(True)
                self._wake.wait(0.05)
                continue
            if not self._ready.is_set():
                # The GUI is still drawing our last batch. Computing now would fight it for
                # the GIL (pyqtgraph paints in Python) and starve the window; wait instead.
                source.drain()   # a step server computes on meanwhile (pipe not full)
                if self._ready.wait(_DRAIN_SLICE if source.remote else _SLICE):
                    computing_since = time.perf_counter()
                    draw = max(0.0, self._acked_at - last_emit)
                    # a step server computed while the GUI drew: send what it has at once
                    budget = max(0.0, EMIT_INTERVAL - draw) if source.remote \
                        else compute_budget(draw)
                continue
            if speed is not None and not self._wait_until(due, flush, lambda: last_emit):
                continue  # paused, stopped or re-paced while waiting: re-check
            # computing here (no server): until the budget since the last emission is spent
            block = source.next_block(take, max(last_emit, computing_since) + budget)
            if block is None:
                continue  # a control call while waiting for the step server: re-check
            ended = block.ends_iteration
            pending.append(block)
            taken = block.count
            with self._lock:
                self._last_step += taken
                if not self._playing and self._budget > 0:
                    self._budget = max(0, self._budget - taken)
                idle = not self._playing and self._budget == 0
            if speed is not None:
                now = time.perf_counter()
                due = max(due + 1.0 / speed, now - 0.1)  # never burst to catch up > 0.1 s
            if ended:
                flush(True)
                return
            if idle:
                flush(True)
            elif (time.perf_counter() - max(last_emit, computing_since) >= budget
                  and not source.buffered()):
                flush(False)
        # stopped: whoever stopped us has discarded this run, so pending records are dropped

    def _wait_until(self, due: float, flush, last_emit) -> bool:
        """Sleep in small slices until ``due``; False if a control call interrupted."""
        while True:
            now = time.perf_counter()
            if now >= due:
                return True
            if now - last_emit() >= EMIT_INTERVAL:
                flush(False)
            if self._wake.wait(min(_SLICE, due - now)):
                return False


class WorkerHost(QObject):
    """Owns the running worker and its QThread: starts them (``start``) and stops them by the
    protocol (request stop -> loop exits -> finished -> quit -> wait). A thread that does not
    stop within the timeout (a very slow step) is kept until it finishes, never terminated.
    Its threads are started through ``tasks.start_thread`` (the registry of running threads).
    GUI thread only."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker: OptimizerWorker | None = None
        self.thread: QThread | None = None

    def start(self, configs: Sequence[RunConfig], speed: float | None, on_steps, on_failed,
              on_finished, on_notice=None) -> OptimizerWorker:
        """A worker for ``configs`` in a new thread (started paused); its signals go to the
        given slots (queued: they run in the GUI thread)."""
        worker = OptimizerWorker(configs, speed)
        thread = QThread()
        thread.setObjectName("gdviz-optimizer")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit from the worker thread itself, so wait() never depends on our event loop.
        worker.sig_finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.sig_steps.connect(on_steps)
        worker.sig_failed.connect(on_failed)
        worker.sig_finished.connect(on_finished)
        if on_notice is not None:
            worker.sig_notice.connect(on_notice)
        self.worker, self.thread = worker, thread
        start_thread(thread, worker.stop, self)
        return worker

    def stop(self, timeout_ms: int = 2000) -> None:
        worker, thread = self.worker, self.thread
        self.worker = self.thread = None
        if worker is None or thread is None:
            return
        worker.stop()
        if not thread.wait(timeout_ms):  # a very slow step: the thread registry keeps the
            # thread and its worker (its stop call) alive until it ends; shutdown joins it
            log.warning("optimizer thread did not stop within %d ms", timeout_ms)

    def finished(self) -> None:
        """The worker ended by itself (end of every run, or a failure): drop it."""
        if self.thread is not None:
            self.thread.wait(1000)
        self.worker = self.thread = None

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop every thread (window closing). True when all stopped within the timeout."""
        deadline = time.perf_counter() + timeout_ms / 1000
        self.stop(timeout_ms)
        left_ms = max(1, int((deadline - time.perf_counter()) * 1000))
        stop_all_threads(left_ms, within=self)   # those an earlier stop left running
        return not running_threads(within=self)
