"""The run controller: owns the current RunConfig, the RunHistory and the worker thread.

Everything here runs in the GUI thread. The worker is created lazily on the first Play/Step,
so switching presets or settings never leaves idle threads behind. The start record (step 0)
is computed synchronously on reset, so the window shows the start point at once.

States: ready (at step 0), running, paused, converged, diverged, finished, failed.
"""

from __future__ import annotations

import logging
import time

from PySide6.QtCore import QEventLoop, QObject, Qt, QThread, QTimer, Signal, Slot

from gdviz.core.errors import ConfigError
from gdviz.core.history import RunHistory
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.runner import iterate
from gdviz.gui.worker import OptimizerWorker, register_thread

log = logging.getLogger(__name__)

STATES = ("ready", "running", "paused", "converged", "diverged", "finished", "failed")
ENDED = ("converged", "diverged", "finished", "failed")
TRACK_COLOR = "#1a3a8f"  # the single run's colour (comparisons colour each run)


class RunController(QObject):
    """Main-thread owner of one run at a time.

    Signals (all emitted in the GUI thread, so tests can wait on them):
        sig_state_changed(str)  one of STATES
        sig_step_shown(int)     the history index just drawn (after every emission)
        sig_run_reset()         a new history exists (new config or Reset)
        sig_failed(str)         the worker (or the start point) failed; a sentence
    """

    sig_state_changed = Signal(str)
    sig_step_shown = Signal(int)
    sig_run_reset = Signal()
    sig_failed = Signal(str)

    def __init__(self, config: RunConfig, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.views: list = []  # LessonView instances to draw; set by the main window
        self.view_filter = lambda view: True  # which views are visible (skip hidden docks)
        self.config = config
        self.problem = config.make_problem()
        self.history = RunHistory(self.problem.n_params)
        self.state = "ready"
        self.speed: float | None = 30.0
        self.last_error = ""
        self._worker: OptimizerWorker | None = None
        self._thread: QThread | None = None
        self._retired: list[tuple[QThread, OptimizerWorker]] = []
        self._playing = False
        self._target: int | None = None  # step at which a Step / One-epoch request pauses
        self._drawn: dict = {}  # view -> history index it shows (skip redundant redraws)

    # -- public API ---------------------------------------------------------------------------
    def set_config(self, config: RunConfig) -> None:
        """Switch to ``config`` (already validated) and reset to step 0."""
        self.config = config
        self.reset()

    def reset(self) -> None:
        """Stop the worker cleanly and start a new history at the start point."""
        self._stop_worker()
        self._playing, self._target = False, None
        self.last_error = ""
        self.problem = self.config.make_problem()
        self.history = RunHistory(self.problem.n_params)
        try:
            first = next(iterate(self.config))
        except Exception as err:  # a problem that cannot evaluate its start point
            self._fail(_describe(err))
            self._set_views_run()
            return
        self.history.append((first,))
        self._set_views_run()
        self.sig_run_reset.emit()
        self._show_latest()
        self._set_state(first.status if first.finished else "ready")

    def play(self) -> None:
        if self.state in ENDED:
            self.reset()  # Play on a finished run replays it from the start
            if self.state in ENDED:
                return
        worker = self._ensure_worker()
        self._playing, self._target = True, None
        worker.play()
        self._set_state("running")

    def pause(self) -> None:
        if self._worker is not None:
            self._worker.pause()
        self._playing, self._target = False, None
        if self.state == "running":
            self._set_state("paused")

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def step(self, n: int = 1) -> None:
        """Exactly ``n`` more steps, then pause."""
        if self.state in ENDED:
            return
        worker = self._ensure_worker()
        base = self._target if self._target is not None else self.history.last.step
        if self._playing:
            base = self.history.last.step
        self._playing, self._target = False, base + n
        worker.advance(n)
        self._set_state("running")

    def run_epoch(self) -> None:
        """Run to the end of the current epoch, then pause."""
        if self.state in ENDED:
            return
        worker = self._ensure_worker()
        self._playing = False
        self._target = worker.run_epoch()
        self._set_state("running")

    def set_speed(self, steps_per_second: float | None) -> None:
        self.speed = steps_per_second or None
        if self._worker is not None:
            self._worker.set_speed(self.speed)

    def is_playing(self) -> bool:
        return self._playing

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop every thread (window closing). True when all stopped within the timeout."""
        self._stop_worker(timeout_ms)
        deadline = time.perf_counter() + timeout_ms / 1000
        for thread, _worker in list(self._retired):
            thread.wait(max(1, int((deadline - time.perf_counter()) * 1000)))
        self._retired = [(t, w) for t, w in self._retired if t.isRunning()]
        return not self._retired

    def run_until(self, steps: int, timeout_s: float = 60.0) -> None:
        """Take ``steps`` steps at full speed and return when they are drawn (screenshots,
        exports). Spins a local event loop, so the window stays responsive."""
        target = min(steps, self.config.step_limit())
        if target <= self.history.last.step or self.state in ENDED:
            return
        old_speed = self.speed
        self.set_speed(None)
        self.step(target - self.history.last.step)
        loop = QEventLoop()
        timer = QTimer()
        timer.setInterval(10)
        timer.timeout.connect(lambda: loop.quit() if self.state != "running" else None)
        timer.start()
        QTimer.singleShot(int(timeout_s * 1000), loop.quit)
        loop.exec()
        timer.stop()
        self.set_speed(old_speed)

    # -- worker lifecycle ---------------------------------------------------------------------
    def _ensure_worker(self) -> OptimizerWorker:
        if self._worker is not None:
            return self._worker
        worker = OptimizerWorker(self.config, self.speed)
        thread = QThread()
        thread.setObjectName("gdviz-optimizer")
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        # Direct: quit from the worker thread itself, so wait() never depends on our event loop.
        worker.sig_finished.connect(thread.quit, Qt.ConnectionType.DirectConnection)
        worker.sig_steps.connect(self._on_worker_steps)
        worker.sig_failed.connect(self._on_worker_failed)
        worker.sig_finished.connect(self._on_worker_finished)
        register_thread(thread, worker)
        self._worker, self._thread = worker, thread
        thread.start()
        return worker

    def _stop_worker(self, timeout_ms: int = 2000) -> None:
        worker, thread = self._worker, self._thread
        self._worker = self._thread = None
        if worker is None or thread is None:
            return
        worker.stop()
        if not thread.wait(timeout_ms):  # a very slow step: keep it alive until it ends
            log.warning("optimizer thread did not stop within %d ms", timeout_ms)
            self._retired.append((thread, worker))
            thread.finished.connect(self._on_retired_finished)

    @Slot()
    def _on_retired_finished(self) -> None:
        self._retired = [(t, w) for t, w in self._retired if t.isRunning()]

    # -- slots (GUI thread, queued from the worker) ------------------------------------------
    @Slot(tuple)
    def _on_worker_steps(self, records: tuple) -> None:
        worker = self.sender()
        try:
            if worker is not self._worker or not records:
                return  # a stopped worker's last batch, already queued: discard
            if records[0].step != self.history.last.step + 1:
                return
            self.history.append(records)
            self._show_latest()
            self._update_state(records[-1])
        finally:
            if isinstance(worker, OptimizerWorker):
                # Acknowledge from a zero timer, not here: timers run only after the posted
                # events (this batch's repaint included) are processed, so the next batch
                # cannot arrive inside the same round and starve input and timers.
                QTimer.singleShot(0, worker.ack)

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        if self.sender() is self._worker:
            self._fail(message)

    @Slot()
    def _on_worker_finished(self) -> None:
        if self.sender() is self._worker and self._thread is not None:
            self._thread.wait(1000)
            self._worker = self._thread = None
            self._playing, self._target = False, None
            if self.state == "running":
                self._set_state("paused")

    # -- helpers ------------------------------------------------------------------------------
    def _update_state(self, last: StepRecord) -> None:
        if last.finished:
            self._playing, self._target = False, None
            self._set_state(last.status)
        elif self._target is not None and last.step >= self._target:
            self._target = None
            self._set_state("paused")

    def _fail(self, message: str) -> None:
        self.last_error = message
        self._playing, self._target = False, None
        self._set_state("failed")
        self.sig_failed.emit(message)

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.sig_state_changed.emit(state)

    def _set_views_run(self) -> None:
        self._drawn.clear()
        from gdviz.gui.views.base import RunTrack

        track = RunTrack(self.config.problem, TRACK_COLOR, self.config, self.history)
        for view in self.views:
            try:
                view.set_run(self.problem, self.config, self.history)
                view.set_tracks((track,), 0)
            except Exception as err:
                log.exception("view %s failed in set_run", type(view).__name__)
                self.sig_failed.emit(f"the {view.title} view could not draw this run: {err}")

    def _show_latest(self) -> None:
        index = len(self.history) - 1
        self.show_views(index)
        self.sig_step_shown.emit(index)

    def catch_up(self, view) -> None:
        """Draw the newest step in ``view`` unless it already shows it (a dock came back)."""
        index = len(self.history) - 1
        if index >= 0 and self._drawn.get(view) != index and view in self.views:
            self.show_views(index, [view])

    def show_views(self, index: int, views=None) -> None:
        """Draw history step ``index`` in the visible views (or in ``views``)."""
        for view in list(self.views if views is None else views):
            if views is None and not self.view_filter(view):
                continue
            try:
                view.show_step(index)
                self._drawn[view] = index
            except Exception as err:
                log.exception("view %s failed in show_step", type(view).__name__)
                self.views.remove(view)  # one report, not one per frame
                self.sig_failed.emit(f"the {view.title} view stopped drawing: {err}")


def _describe(err: Exception) -> str:
    if isinstance(err, ConfigError):
        return str(err)
    return f"the run could not start: {type(err).__name__}: {err}"
