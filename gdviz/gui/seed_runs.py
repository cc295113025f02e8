"""The window's seeds: with a seed count K > 1, every run is also computed for seeds
seed .. seed+K−1 (core.seed_paths, vectorised over the seeds by core.ensemble), in the
background (gui.tasks: one TaskRunner per run), while the run itself plays as before. The views
draw the seeds from each track's ``SeedPaths`` (ghost paths, the end-point cloud, the loss
band) up to the lock-step index they show; the paths fill in chunks (``sig_grew``).

GUI thread only. Each runner's thread appends to its run's ``SeedPaths`` (append-only, see
there); its partial results only say that the paths grew.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Signal

from gdviz.core.ensemble import check_vectorisable
from gdviz.core.errors import ConfigError
from gdviz.core.run_set import RunSpec
from gdviz.core.seed_paths import SeedPaths, checked_seed_count, fill_seed_paths, steps_kept
from gdviz.gui.tasks import TaskRunner


class SeedRuns(QObject):
    """The seeds of every run of the window.

    ``count``: seeds per run (1: none are computed). ``start(runs)`` (a reset) starts them
    anew; ``paths[k]`` is run k's SeedPaths (None: one seed, or the run cannot be run as an
    ensemble; ``notes[k]`` then says why).

    Signals: ``sig_grew()`` more steps arrived (or the seeds ended); ``sig_notice(str)`` a
    sentence for the status bar (a run whose seeds cannot be computed)."""

    sig_grew = Signal()
    sig_notice = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.count = 1
        self.paths: list[SeedPaths | None] = []
        self.notes: list[str] = []
        self._runners: list[TaskRunner] = []

    def set_count(self, value) -> int:
        """Store the seed count (ConfigError outside 1..MAX_SEEDS_SHOWN); the caller restarts
        the seeds (``start``). Returns the count."""
        self.count = checked_seed_count(value)
        return self.count

    def start(self, runs: Sequence[RunSpec]) -> None:
        """Stop what is computing and start every run's seeds from step 0."""
        for runner in self._runners:
            runner.cancel()
        self.paths = [None] * len(runs)
        self.notes = [""] * len(runs)
        if self.count <= 1:
            return
        notices = []
        for k, run in enumerate(runs):
            config = run.config
            try:
                check_vectorisable(config)
                n_params = len(config.start_point())
            except ConfigError as err:
                self.notes[k] = f"no seeds for {run.name}: {err}"
                notices.append(self.notes[k])
                continue
            seeds = list(range(config.seed, config.seed + self.count))
            last = steps_kept(config, len(seeds), n_params)
            paths = SeedPaths(seeds, n_params, last)
            if last < config.step_limit():
                paths.note = (f"{len(seeds)} seeds kept for the first {last} steps "
                              f"of {config.step_limit()}")
            self.paths[k] = paths
            self._runner(k).request(
                (id(paths), k),
                lambda should_stop, c=config, p=paths: fill_seed_paths(c, p, should_stop))
        if notices:
            self.sig_notice.emit("; ".join(notices))

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until every run's seeds are computed (exports, screenshots, tests); True when
        all finished in time. Processes no events (the paths fill in the runners' threads)."""
        return all(runner.wait(timeout_ms) for runner in self._runners)

    @property
    def busy(self) -> bool:
        return any(runner.busy for runner in self._runners)

    def shutdown(self, timeout_ms: int = 3000) -> bool:
        return all([runner.shutdown(timeout_ms) for runner in self._runners])

    def _runner(self, k: int) -> TaskRunner:
        while len(self._runners) <= k:
            runner = TaskRunner(self)
            index = len(self._runners)
            runner.sig_partial.connect(lambda key, chunk, i=index: self._on_partial(i, key, chunk))
            runner.sig_ready.connect(lambda key, result, i=index: self._on_ready(i, key, result))
            self._runners.append(runner)
        return self._runners[k]

    def _current(self, k: int, key) -> SeedPaths | None:
        paths = self.paths[k] if k < len(self.paths) else None
        return paths if paths is not None and key == (id(paths), k) else None

    def _on_partial(self, k: int, key, _count) -> None:
        if self._current(k, key) is not None:
            self.sig_grew.emit()

    def _on_ready(self, k: int, key, result) -> None:
        paths = self._current(k, key)
        if paths is None:
            return
        paths.done = True
        if isinstance(result, Exception):
            paths.note = f"the seeds stopped: {result}"
            self.sig_notice.emit(paths.note)
        self.sig_grew.emit()
