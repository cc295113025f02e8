"""The run controller: owns the runs being compared (1..6), their histories and the worker.

Everything here runs in the GUI thread. One worker advances every run in lock-step
(core.lockstep): lock-step index i is every run's step i, and a run that ended stays at its last
step. The worker is created lazily on the first Play/Step, so switching presets or settings
never leaves idle threads behind. The start records (step 0) are computed synchronously on
reset, so the window shows the start point at once.

The selected run is the one the panels edit and the single-run views (samples, histogram,
data) and the status bar follow; ``config``, ``history`` and ``problem`` are the selected run's
(the problem is shared). ``shown_index`` is the lock-step index the views show: the newest
while playing, an earlier one while the user scrubs the timeline (``show_index``). Lock-step
indices are step numbers: a history keeps every step up to ``history_bound`` and a thinned
rest beyond it (core.thinning), so a scrubbed index is moved to the nearest step kept.

States: ready (at step 0), running, paused, converged, diverged, finished, failed. With several
runs the state is "running" until every run has ended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal, Slot

from gdviz.core import run_set
from gdviz.core.errors import ConfigError
from gdviz.core.history import RunHistory
from gdviz.core.recorded import StateHistory, record_at
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.run_set import RunSpec
from gdviz.core.step_blocks import StepBlock
from gdviz.core.thinning import FULL_HISTORY_STEPS, memory_bound
from gdviz.gui import worker as worker_module
from gdviz.gui.seed_runs import SeedRuns
from gdviz.gui.view_driver import ViewDriver
from gdviz.gui.worker import OptimizerWorker, WorkerHost, epoch_end_step

log = logging.getLogger(__name__)

STATES = ("ready", "running", "paused", "converged", "diverged", "finished", "failed")
ENDED = ("converged", "diverged", "finished", "failed")
TRACK_COLOR = run_set.PALETTE[0]  # the single run's colour


class RunController(QObject):
    """Main-thread owner of the runs.

    Signals (all emitted in the GUI thread, so tests can wait on them):
        sig_state_changed(str)   one of STATES
        sig_step_shown(int)      the lock-step index just drawn (after every emission, scrub)
        sig_run_reset()          new histories exist (new runs or settings, or Reset)
        sig_failed(str)          the worker (or a start point) failed; a sentence
        sig_runs_changed()       names, colours, the selection or the number of runs changed
        sig_run_ended(int, str)  run k ended while others go on: "adam lr=5 diverged at ..."
        sig_history_grew(int)    the newest lock-step index, while an earlier one is shown
    """

    sig_state_changed = Signal(str)
    sig_step_shown = Signal(int)
    sig_run_reset = Signal()
    sig_failed = Signal(str)
    sig_notice = Signal(str)  # the worker's word for the user (a lost step server)
    sig_runs_changed = Signal()
    sig_run_ended = Signal(int, str)
    sig_history_grew = Signal(int)

    def __init__(self, config: RunConfig | Sequence[RunSpec],
                 parent: QObject | None = None,
                 history_bound: int = FULL_HISTORY_STEPS) -> None:
        super().__init__(parent)
        self.history_bound = history_bound  # steps per run kept at full resolution, at most
        self.views: list = []  # LessonView instances to draw; set by the main window
        self.view_filter = lambda view: True  # which views are visible (skip hidden docks)
        # how the worker's acknowledgement is sent once a batch is drawn: after the window's
        # paint (the main window sets an AfterPaint) or, without a window, in the next turn
        self.after_paint = _next_turn
        self.driver = ViewDriver(self, self.sig_failed.emit)
        runs = (run_set.single(config),) if isinstance(config, RunConfig) else tuple(config)
        self.runs: tuple[RunSpec, ...] = run_set.validate(runs)
        self.selected_track = 0
        self.problem = self.runs[0].config.make_problem()
        self.histories = self._new_histories()
        self.states = [StateHistory(self.bound()) for _ in self.runs]  # optimizer state
        self.tracks: tuple = ()
        self.state = "ready"
        self.speed: float | None = 30.0
        self.last_error = ""
        self.shown_index = 0
        self.host = WorkerHost(self)
        self.seed_runs = SeedRuns(self)   # the runs' other seeds (Seeds > 1), in the background
        self.seed_runs.sig_notice.connect(self.sig_notice.emit)
        self.seed_runs.sig_grew.connect(self._on_seed_runs_grew)
        self._playing = False
        self._target: int | None = None  # lock-step index at which Step / One epoch pause

    # -- the views (drawn by the ViewDriver) ----------------------------------------------------
    def show_views(self, index: int, views=None) -> None:
        """Draw lock-step ``index`` in the visible views (or in ``views``)."""
        self.driver.show(index, views)

    def catch_up(self, view) -> None:
        """Draw the shown step in ``view`` unless it already shows it (a dock came back)."""
        self.driver.catch_up(view, self.shown_index)

    # -- the runs -------------------------------------------------------------------------------
    @property
    def config(self) -> RunConfig:
        """The selected run's configuration."""
        return self.runs[self.selected_track].config

    @property
    def history(self) -> RunHistory:
        """The selected run's history."""
        return self.histories[self.selected_track]

    @property
    def last_index(self) -> int:
        """The newest lock-step index recorded (the longest history's newest step)."""
        return max(h.last_step for h in self.histories)

    def thinning_note(self) -> str:
        """"history thinned: every 4th step kept beyond step 1000000" once a run has gone
        past the bound (the longest history's), else ""."""
        return max(self.histories, key=lambda h: h.last_step).thinning.describe()

    def kept_index(self, index: int, direction: int = 0) -> int:
        """The lock-step index nearest to ``index`` that the longest history kept (``index``
        itself below the bound); with ``direction`` +1 (-1) the nearest at or after (before)
        it, so that a step forward from a kept step reaches the next one."""
        longest = max(self.histories, key=lambda h: h.last_step)
        if len(longest) == 0:
            return index
        steps = longest.steps
        row = longest.row_at(index)
        if direction > 0 and steps[row] < index:
            row = min(row + 1, len(steps) - 1)
        elif direction < 0 and steps[row] > index:
            row = max(row - 1, 0)
        return int(steps[row])

    def record_shown(self, index: int) -> StepRecord | None:
        """The selected run's record at lock-step ``index`` (its last if it ended sooner),
        rebuilt from the history with its optimizer state: what the status bar and the step
        math show."""
        history = self.history
        if len(history) == 0:
            return None
        return record_at(history, history.row_at(index), self.problem,
                         self.states[self.selected_track])

    def is_scrubbed(self) -> bool:
        """True while the views show an earlier step than the newest one."""
        return self.shown_index < self.last_index

    def set_config(self, config: RunConfig) -> None:
        """Switch to ONE run with ``config`` (already validated) and reset to step 0."""
        self.set_runs((run_set.single(config),))

    def set_runs(self, runs: Sequence[RunSpec], selected: int = 0) -> None:
        """Switch to ``runs`` (1..6 sharing problem, start and limits; ConfigError if not) and
        reset them all to step 0, run ``selected`` selected."""
        self.runs = run_set.validate(run_set.named(runs))
        self.selected_track = max(0, min(selected, len(self.runs) - 1))
        self.sig_runs_changed.emit()
        self.reset()

    def update_run(self, k: int, config: RunConfig) -> None:
        """Run k gets ``config``; the others take its shared settings. Resets every run (they
        advance in lock-step)."""
        self.set_runs(run_set.with_config(self.runs, k, config), self.selected_track)

    def add_run(self) -> None:
        """A copy of the selected run (new colour), selected; ConfigError when 6 runs exist."""
        runs = run_set.add_copy(self.runs, self.selected_track)
        self.set_runs(runs, len(runs) - 1)

    def remove_run(self, k: int) -> None:
        """ConfigError for the last run."""
        runs = run_set.remove(self.runs, k)
        selected = self.selected_track - (1 if k < self.selected_track else 0)
        self.set_runs(runs, min(selected, len(runs) - 1))

    def rename_run(self, k: int, name: str) -> None:
        """No reset: only the labels change."""
        self.runs = run_set.renamed(self.runs, k, name)
        self._retrack()

    def recolor_run(self, k: int, color: str) -> None:
        self.runs = run_set.recolored(self.runs, k, color)
        self._retrack()

    def set_seed_count(self, count) -> None:
        """Every run is also computed for seeds seed..seed+count−1 (1: the run alone), in the
        background; ConfigError outside 1..256. The runs themselves go on unchanged."""
        self.seed_runs.set_count(count)
        self.seed_runs.start(self.runs)
        self._retrack()

    @property
    def seed_count(self) -> int:
        return self.seed_runs.count

    def select_run(self, k: int) -> None:
        """Make run k the selected one (the panels edit it). No reset."""
        if not 0 <= k < len(self.runs) or k == self.selected_track:
            return
        self.selected_track = k
        self.sig_runs_changed.emit()
        self._set_views_run()
        self._redraw_shown()

    # -- playback -------------------------------------------------------------------------------
    def reset(self) -> None:
        """Stop the worker cleanly and start new histories at the start point."""
        self._stop_worker()
        self._playing, self._target = False, None
        self.last_error = ""
        self.problem = self.config.make_problem()
        self.histories = self._new_histories()
        self.states = [StateHistory(self.bound()) for _ in self.runs]
        self.shown_index = 0
        self.seed_runs.start(self.runs)
        try:
            # the worker's own iterate (tests substitute it) computes the same start records
            firsts = [next(worker_module.iterate(run.config)) for run in self.runs]
        except Exception as err:  # a problem that cannot evaluate its start point
            self._set_views_run()
            self._fail(_describe(err))
            return
        for history, states, first in zip(self.histories, self.states, firsts):
            history.append((first,))
            states.append((first,))
        self._set_views_run()
        self.sig_run_reset.emit()
        self._show_latest()
        for k, first in enumerate(firsts):
            if first.finished and len(self.runs) > 1:
                self.sig_run_ended.emit(k, f"{self.runs[k].name} {first.message}")
        self._set_state(self._ended_state() or "ready")

    def play(self) -> None:
        if self.state in ENDED:
            self.reset()  # Play on a finished run replays it from the start
            if self.state in ENDED:
                return
        self._jump_to_end()
        worker = self._ensure_worker()
        self._playing, self._target = True, None
        worker.play()
        self._set_state("running")

    def pause(self) -> None:
        if self.host.worker is not None:
            self.host.worker.pause()
        self._playing, self._target = False, None
        if self.state == "running":
            self._set_state("paused")

    def toggle_play(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def step(self, n: int = 1) -> None:
        """Exactly ``n`` more lock-step steps, then pause."""
        if self.state in ENDED:
            return
        self._jump_to_end()
        worker = self._ensure_worker()
        base = self._target if self._target is not None else self.last_index
        if self._playing:
            base = self.last_index
        self._playing, self._target = False, base + n
        worker.advance(n)
        self._set_state("running")

    def run_epoch(self) -> None:
        """Run to the end of the selected run's current epoch, then pause."""
        if self.state in ENDED:
            return
        self._jump_to_end()
        worker = self._ensure_worker()
        self._playing = False
        self._target = worker.run_epoch(self.config.steps_per_epoch())
        self._set_state("running")

    def set_speed(self, steps_per_second: float | None) -> None:
        self.speed = steps_per_second or None
        if self.host.worker is not None:
            self.host.worker.set_speed(self.speed)

    def is_playing(self) -> bool:
        return self._playing

    def show_index(self, index: int) -> None:
        """Show lock-step ``index`` (the timeline): an earlier step pauses playback; the views
        draw the runs as they were then. The newest index follows the run again."""
        wanted = max(0, min(int(index), self.last_index))
        index = self.kept_index(wanted)
        if index == self.shown_index != wanted:   # one step from a kept step: the next kept
            index = self.kept_index(wanted, 1 if wanted > index else -1)
        if index < self.last_index and self.state == "running":
            self.pause()
        self.shown_index = index
        self.show_views(index)
        self.sig_step_shown.emit(index)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        """Stop every thread (window closing). True when all stopped within the timeout."""
        seeds_stopped = self.seed_runs.shutdown(timeout_ms)
        return self.host.shutdown(timeout_ms) and seeds_stopped

    def run_until(self, steps: int, timeout_s: float = 60.0) -> None:
        """Take lock-step steps up to index ``steps`` at full speed and return when they are
        drawn (screenshots, exports, sessions). Spins a local event loop, so the window stays
        responsive."""
        target = min(steps, max(run.config.step_limit() for run in self.runs))
        if target <= self.last_index or self.state in ENDED:
            return
        old_speed = self.speed
        self.set_speed(None)
        self.step(target - self.last_index)
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
        if self.host.worker is not None:
            return self.host.worker
        return self.host.start([run.config for run in self.runs], self.speed,
                               self._on_worker_steps, self._on_worker_failed,
                               self._on_worker_finished, self.sig_notice.emit)

    def _stop_worker(self, timeout_ms: int = 2000) -> None:
        self.host.stop(timeout_ms)

    # -- slots (GUI thread, queued from the worker) ------------------------------------------
    @Slot(object)
    def _on_worker_steps(self, block: StepBlock) -> None:
        worker = self.sender()
        # Acknowledge once the batch is drawn and painted, not here: the worker would compute
        # (and hold the GIL) while the window paints, and the next batch could arrive inside
        # the same round and starve input and timers (see after_paint.py).
        acknowledge = (lambda: self.after_paint(worker.ack)) \
            if isinstance(worker, OptimizerWorker) else (lambda: None)
        if worker is not self.host.worker or block is None \
                or block.first_step != self.last_index + 1:
            acknowledge()  # a stopped worker's last batch, already queued: discard
            return
        self.append_block(block, then=acknowledge)

    def take_replayed(self, block: StepBlock) -> None:
        """Steps computed elsewhere (an export replays the runs) taken in as the worker's are,
        without drawing: the histories, the optimizer states, and the state, which reads as
        the live window's while it plays: "running" until every run has ended, then how they
        ended."""
        self._append(block)
        self._set_state(self._ended_state() or "running")

    def _append(self, block: StepBlock) -> None:
        """``block`` appended to every run's history and optimizer states."""
        if block.first_step != self.last_index + 1:
            raise ValueError(f"a block from step {block.first_step} does not follow step "
                             f"{self.last_index}")
        for history, states, run in zip(self.histories, self.states, block.runs):
            if run is not None:
                history.append(run)
                states.append(run)

    def append_block(self, block: StepBlock, then: Callable[[], None] | None = None) -> None:
        """Take in ``block``, the lock-step steps that follow the newest one, as a batch of the
        worker is taken in: appended to the histories; the runs that ended in it reported in
        the order they ended (``sig_run_ended``); the views follow the newest step unless an
        earlier one is shown (then ``sig_history_grew``); the state follows. With ``then``
        (the worker's acknowledgement) a playing run is drawn view by view and ``then()`` is
        called once it is drawn, or at once when nothing is drawn in turns."""
        self._append(block)
        drawing = False
        try:
            if len(self.runs) > 1:
                ended = [(int(run.steps[-1]), k, run.messages[-1])
                         for k, run in enumerate(block.runs) if run is not None and run.ended]
                for _step, k, message in sorted(ended):  # in the order the runs ended
                    self.sig_run_ended.emit(k, f"{self.runs[k].name} {message}")
            count = block.count
            following = self.shown_index >= self.last_index - count
            settles = (then is None or not self._playing or self._ended_state() is not None
                       or (self._target is not None and self.last_index >= self._target))
            if not following:
                self.sig_history_grew.emit(self.last_index)  # the user looks at an earlier step
            elif settles:
                self._show_latest()  # the last batch of a step, epoch or run: drawn at once
            else:
                self._show_latest(then=then)  # view by view; acknowledged at the end
                drawing = True
            self._update_state()
        finally:
            if not drawing and then is not None:
                then()

    @Slot()
    def _on_seed_runs_grew(self) -> None:
        # while the run plays, its next frame draws the seeds too
        if not self._playing and self.state != "running":
            self._redraw_shown()

    @Slot(str)
    def _on_worker_failed(self, message: str) -> None:
        if self.sender() is self.host.worker:
            self._fail(message)

    @Slot()
    def _on_worker_finished(self) -> None:
        if self.sender() is self.host.worker:
            self.host.finished()
            self._playing, self._target = False, None
            if self.state == "running":
                self._set_state("paused")

    # -- helpers ------------------------------------------------------------------------------
    def ended_records(self) -> list[StepRecord | None]:
        """Per run, its final record once it has ended (else None)."""
        return [h.last if h.last is not None and h.last.finished else None
                for h in self.histories]

    def _ended_state(self) -> str | None:
        """The state once every run has ended (None while one still runs): a single run's
        status; several runs: their common status, else "finished"."""
        ended = self.ended_records()
        if any(r is None for r in ended):
            return None
        statuses = {r.status for r in ended}
        return statuses.pop() if len(statuses) == 1 else "finished"

    def _update_state(self) -> None:
        final = self._ended_state()
        if final is not None:
            self._playing, self._target = False, None
            self._set_state(final)
        elif self._target is not None and self.last_index >= self._target:
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

    def bound(self) -> int:
        """Steps each run keeps at full resolution: ``history_bound``, or fewer when the runs'
        histories would take more memory than core.thinning.HISTORY_BYTES (networks)."""
        return min(self.history_bound, memory_bound(self.problem.n_params, len(self.runs)))

    def _new_histories(self) -> list[RunHistory]:
        return [RunHistory(self.problem.n_params, self.bound()) for _ in self.runs]

    def _make_tracks(self) -> None:
        from gdviz.gui.views.base import RunTrack

        seeds = self.seed_runs.paths or [None] * len(self.runs)
        self.tracks = tuple(RunTrack(run, history, paths)
                            for run, history, paths in zip(self.runs, self.histories, seeds))

    def _retrack(self) -> None:
        """Names or colours changed: the views get the new tracks (same histories)."""
        self._make_tracks()
        self.sig_runs_changed.emit()
        self.driver.set_tracks(self.tracks, self.selected_track)
        self._redraw_shown()

    def _set_views_run(self) -> None:
        self._make_tracks()
        self.driver.set_runs(self.problem, self.config, self.history, self.tracks,
                             self.selected_track)

    def _redraw_shown(self) -> None:
        self.show_views(self.shown_index)
        self.sig_step_shown.emit(self.shown_index)

    def _jump_to_end(self) -> None:
        if self.is_scrubbed():
            self._show_latest()

    def _show_latest(self, then: Callable[[], None] | None = None) -> None:
        """Show the newest step. With ``then`` (playing): the views are drawn one per
        event-loop turn, then the status follows and ``then()`` is called."""
        index = self.last_index
        self.shown_index = index
        if then is None:
            self.show_views(index)
            self.sig_step_shown.emit(index)
            return

        def drawn() -> None:
            if self.shown_index == index:  # not scrubbed or reset meanwhile
                self.sig_step_shown.emit(index)
            then()

        self.driver.show_in_turns(index, drawn)


def _next_turn(callback) -> None:
    QTimer.singleShot(0, callback)


def _describe(err: Exception) -> str:
    if isinstance(err, ConfigError):
        return str(err)
    return f"the run could not start: {type(err).__name__}: {err}"


__all__ = ["ENDED", "STATES", "TRACK_COLOR", "RunController", "epoch_end_step"]
