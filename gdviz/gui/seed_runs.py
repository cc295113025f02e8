"""The window's seeds: with a seed count K > 1, every run is also computed for seeds
seed .. seed+K−1 (core.seed_paths, vectorised over the seeds by core.ensemble), in the
background, while the run itself plays as before. The views draw the seeds from each track's
``SeedPaths`` (ghost paths, the end-point cloud, the loss band) up to the lock-step index they
show; the paths fill in chunks (``sig_grew``).

Where the computing happens: in a seed server, a child process (core.seed_server, started like
a step server: gui.step_process.StepServer), so it never holds the window's GIL — 64 seeds of
linreg computed in a thread of the window took it from ~30 to 4.5 redraws a second. One
``TaskRunner`` job (the one way to run background work) sends the runs to the server and
appends the chunks it gets back to their ``SeedPaths`` (waiting on the pipe releases the GIL).
Without servers (``GDVIZ_STEP_PROCESS=0``, or none can start) the job computes the seeds itself.

GUI thread only, except the job: it appends to the ``SeedPaths`` (append-only, see there) and
its partial results only say that the paths grew.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from gdviz.core import seed_server
from gdviz.core.ensemble import check_vectorisable
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.core.seed_paths import SeedPaths, checked_seed_count, fill_seed_paths, steps_kept
from gdviz.gui import step_process
from gdviz.gui.tasks import TaskRunner

log = logging.getLogger(__name__)
_POLL = 0.05   # s: how often the job, waiting for the server, checks for a stop
_jobs = itertools.count(1)


class SeedRuns(QObject):
    """The seeds of every run of the window.

    ``count``: seeds per run (1: none are computed). ``start(runs)`` (a reset) starts them
    anew; ``paths[k]`` is run k's SeedPaths (None: one seed, or the run cannot be run as an
    ensemble; ``notes[k]`` then says why).

    Signals: ``sig_grew()`` more steps arrived (or the seeds ended); ``sig_notice(str)`` a
    sentence for the user (a run whose seeds cannot be computed)."""

    sig_grew = Signal()
    sig_notice = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count = 1
        self.paths: list[SeedPaths | None] = []
        self.notes: list[str] = []
        self.runner = TaskRunner(self)
        self.runner.sig_partial.connect(self._on_runner_partial)
        self.runner.sig_ready.connect(self._on_runner_ready)
        self._server: step_process.StepServer | None = None

    def set_count(self, value) -> int:
        """Store the seed count (ConfigError outside 1..MAX_SEEDS_SHOWN); the caller restarts
        the seeds (``start``). Returns the count."""
        self.count = checked_seed_count(value)
        return self.count

    def start(self, runs: Sequence[RunSpec]) -> None:
        """Stop what is computing and start every run's seeds from step 0."""
        self.runner.cancel()
        self.paths = [None] * len(runs)
        self.notes = [""] * len(runs)
        if self.count <= 1:
            return
        work: list[tuple[int, RunConfig, SeedPaths]] = []
        for k, run in enumerate(runs):
            config = run.config
            try:
                check_vectorisable(config)
                n_params = len(config.start_point())
            except ConfigError as err:
                self.notes[k] = f"no seeds for {run.name}: {err}"
                continue
            seeds = list(range(config.seed, config.seed + self.count))
            last = steps_kept(config, len(seeds), n_params)
            paths = SeedPaths(seeds, n_params, last)
            if last < config.step_limit():
                paths.note = (f"{len(seeds)} seeds kept for the first {last} steps "
                              f"of {config.step_limit()}")
            self.paths[k] = paths
            work.append((k, config, paths))
        if work:
            server = self._server_now()
            job_id = next(_jobs)
            self.runner.request(job_id, lambda should_stop: _compute(work, server, job_id,
                                                                    should_stop))
        notices = [n for n in self.notes if n]
        if notices:
            self.sig_notice.emit("; ".join(notices))

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until every run's seeds are computed (exports, screenshots, tests); True when
        all finished in time. Processes no events (the paths fill in the job's thread)."""
        return self.runner.wait(timeout_ms)

    @property
    def busy(self) -> bool:
        return self.runner.busy

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        stopped = self.runner.shutdown(timeout_ms)
        if self._server is not None:
            self._server.quit()
            self._server = None
        return stopped

    def _server_now(self) -> step_process.StepServer | None:
        """The seed server (started on first use, again if it died); None without servers."""
        if not step_process.enabled():
            return None
        if self._server is not None and not self._server.alive():
            self._server.discard()
            self._server = None
        if self._server is None:
            try:
                self._server = step_process.StepServer(seed_server.serve, "gdviz-seeds")
            except Exception as err:   # no process can start here: the job computes
                log.warning("no seed server: %s", err)
        return self._server

    def _on_runner_partial(self, _key, value) -> None:
        if isinstance(value, tuple):   # ("error", k, sentence): run k's seeds stopped
            _kind, k, text = value
            if k < len(self.paths) and self.paths[k] is not None:
                self.paths[k].note = f"the seeds stopped: {text}"
                self.sig_notice.emit(self.paths[k].note)
        self.sig_grew.emit()

    def _on_runner_ready(self, _key, result) -> None:
        if isinstance(result, Exception):
            for paths in self.paths:
                if paths is not None and not paths.done:
                    paths.note = f"the seeds stopped: {result}"
            self.sig_notice.emit(f"the seeds stopped: {result}")
        self.sig_grew.emit()


def _compute(work, server, job_id: int, should_stop):
    """The job: every run's seeds, from the server (or here without one). Yields the index of
    the run that grew (or ("error", k, sentence)); returns how many runs were done."""
    if server is None:
        for k, config, paths in work:
            for _count in fill_seed_paths(config, paths, should_stop):
                yield k
        return len(work)
    conn = server.conn
    by_run = {k: paths for k, _config, paths in work}
    conn.send(("start", job_id, [(config, paths.seeds, paths.last_step)
                                 for _k, config, paths in work]))
    index = {i: k for i, (k, _c, _p) in enumerate(work)}   # the server numbers them 0..
    left = set(index)
    try:
        while left:
            if should_stop():
                return None
            if not conn.poll(_POLL):
                if not server.alive():
                    raise RuntimeError("the process computing them ended")
                continue
            message = conn.recv()
            if len(message) < 3 or message[1] != job_id:
                continue   # "ready", or what a dropped job had still in flight
            kind, i = message[0], message[2]
            k = index[i]
            if kind == "chunk":
                by_run[k].append(message[3])
                yield k
            elif kind == "done":
                by_run[k].done = True
                left.discard(i)
                yield k
            elif kind == "error":
                left.discard(i)
                yield ("error", k, message[3])
        return len(work)
    finally:
        if left:
            with contextlib.suppress(OSError, ValueError):   # a dead server needs no stop
                conn.send(("stop", job_id))
