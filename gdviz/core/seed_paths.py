"""The paths of K seeds of one run, as the window draws them: every seed's parameters and full
loss at every step, filled in chunks by ``fill_seed_paths`` (core.ensemble, vectorised over the
seeds) while the window plays the run itself.

Member m runs seed ``seeds[m]`` (``seeds[0]`` is the run's own seed, so member 0's path is the
run's path bit for bit: ``iterate_ensemble`` guarantees it). A member that ended keeps its last
parameters. The loss's 10 %, 50 % and 90 % quantiles over the seeds are computed with each
chunk (in the thread that computes it), so drawing the band costs a slice. No Qt.

Shapes: K seeds, p parameters, N steps kept (step 0 is the start point); parameters in the
problem's units, losses in the loss's units.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from gdviz.core.ensemble import iterate_ensemble
from gdviz.core.errors import ConfigError
from gdviz.core.history import decimate
from gdviz.core.records import RunConfig

MAX_SEEDS_SHOWN = 256     # the window's Seeds control: 1 to this
MAX_VALUES = 8_000_000    # parameters kept over all seeds and steps (64 MB): 256 seeds of 2
                          # parameters for 15 625 steps; a longer run's seeds stop there
BANDS = (10.0, 50.0, 90.0)  # the loss quantiles over seeds (percent) the learning curve draws
CHUNK_SECONDS = 0.1       # a chunk goes to the window about this often while computing


def checked_seed_count(value) -> int:
    """``value`` as the window's seed count, 1 to MAX_SEEDS_SHOWN; ConfigError (one sentence)
    if not."""
    from gdviz.core.settings_parse import parse_int

    count = parse_int(value, "number of seeds")
    if not 1 <= count <= MAX_SEEDS_SHOWN:
        raise ConfigError(f"number of seeds must be between 1 and {MAX_SEEDS_SHOWN}, "
                          f"got {count}")
    return count


@dataclass(frozen=True)
class SeedChunk:
    """Steps ``first_step`` .. ``first_step + m - 1`` of every seed.

    params: (m, K, p); losses: (m, K) full loss after the step; bands: (m, 3) the BANDS
    quantiles of ``losses`` over the seeds (a diverged seed's NaN counts as +inf)."""

    first_step: int
    params: np.ndarray
    losses: np.ndarray
    bands: np.ndarray


def steps_kept(config: RunConfig, n_seeds: int, n_params: int) -> int:
    """The last step index kept for ``n_seeds`` seeds of ``config``: its step limit, or fewer
    when every seed's parameters would exceed MAX_VALUES."""
    return int(min(config.step_limit(), MAX_VALUES // max(1, n_seeds * n_params) - 1))


def seed_chunks(config: RunConfig, seeds: Sequence[int], last_step: int
                ) -> Iterator[SeedChunk]:
    """Run ``config`` for every seed of ``seeds`` together (``iterate_ensemble``) up to step
    ``last_step`` or until every seed's run ended, yielding the steps in chunks of about
    CHUNK_SECONDS of work. ConfigError as ``iterate_ensemble`` raises it (an optimizer that
    cannot run as one)."""
    params: list[np.ndarray] = []
    losses: list[np.ndarray] = []
    first = 0
    sent = time.perf_counter()
    for step in iterate_ensemble(config, seeds):
        params.append(step.params)
        losses.append(step.loss)
        last = step.step >= last_step or step.finished
        if last or time.perf_counter() - sent >= CHUNK_SECONDS:
            yield _chunk(first, params, losses)
            first += len(params)
            params, losses = [], []
            sent = time.perf_counter()
        if last:
            return


def fill_seed_paths(config: RunConfig, paths: SeedPaths,
                    should_stop: Callable[[], bool]) -> Iterator[int]:
    """``seed_chunks`` of ``paths``'s seeds appended to ``paths`` as they come, in this
    process; yields how many steps it holds after each chunk and returns that count at the
    end (None when ``should_stop()`` ended it early)."""
    for chunk in seed_chunks(config, paths.seeds, paths.last_step):
        paths.append(chunk)
        if should_stop():
            return None
        yield len(paths)
    paths.done = True
    return len(paths)


def _chunk(first: int, params: list[np.ndarray], losses: list[np.ndarray]) -> SeedChunk:
    loss = np.stack(losses)
    ranked = np.where(np.isnan(loss), np.inf, loss)
    with np.errstate(all="ignore"):
        bands = np.percentile(ranked, BANDS, axis=1).T
    return SeedChunk(first, np.stack(params), loss, bands)


class SeedPaths:
    """Every seed's steps computed so far, for steps 0..``last_step``. Written by ONE thread
    (``fill_seed_paths``, in order) while another reads: the arrays are allocated once for
    every step (pages are touched only as they fill), rows are written before ``len`` counts
    them, so a reader that slices below ``len`` never sees a half-written step."""

    def __init__(self, seeds: Sequence[int], n_params: int, last_step: int) -> None:
        self.seeds = tuple(int(s) for s in seeds)
        self.last_step = int(last_step)    # the last step that will be kept
        self.done = False                  # every step there will be is in
        self.note = ""                     # why the seeds stopped early, for the user
        k, rows = len(self.seeds), self.last_step + 1
        self._params = np.empty((rows, k, n_params))
        self._losses = np.empty((rows, k))
        self._bands = np.empty((rows, len(BANDS)))
        self._count = 0

    def __len__(self) -> int:
        return self._count

    @property
    def n_seeds(self) -> int:
        return len(self.seeds)

    def append(self, chunk: SeedChunk) -> None:
        """Take the next steps; ValueError when ``chunk`` does not follow the last one."""
        if chunk.first_step != self._count:
            raise ValueError(f"seed steps from {chunk.first_step} do not follow step "
                             f"{self._count - 1}")
        need = self._count + len(chunk.params)
        if need > len(self._params):
            raise ValueError(f"seed steps up to {need - 1} go beyond step {self.last_step}")
        self._params[self._count: need] = chunk.params
        self._losses[self._count: need] = chunk.losses
        self._bands[self._count: need] = chunk.bands
        self._count = need

    def shown(self, index: int) -> int:
        """The step held for lock-step ``index``: itself, or the last one received."""
        return max(0, min(int(index), self._count - 1))

    def points_at(self, index: int) -> np.ndarray:
        """(K, p): every seed's parameters at step ``index`` (the last received if beyond)."""
        return self._params[self.shown(index)]

    def losses_at(self, index: int) -> np.ndarray:
        """(K,): every seed's full loss at step ``index``."""
        return self._losses[self.shown(index)]

    def paths(self, index: int, max_points: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps (L,), params (L, K, p)): steps 0..index (held ones), every ~k-th kept so
        that L <= max_points + 1, the last always."""
        end = self.shown(index) + 1
        keep = decimate(np.arange(end), max(2, max_points))
        return keep, self._params[keep]

    def band(self, index: int, max_points: int) -> tuple[np.ndarray, np.ndarray]:
        """(steps (L,), quantiles (L, 3)): the BANDS quantiles of the loss over seeds at steps
        0..index, decimated as ``paths``."""
        end = self.shown(index) + 1
        keep = decimate(np.arange(end), max(2, max_points))
        return keep, self._bands[keep]


def empirical_covariance(points: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(mean (p,), covariance (p, p) with 1/(K−1)) of the finite rows of ``points`` (K, p), or
    None with fewer than 3 finite rows."""
    points = np.asarray(points, dtype=np.float64)
    finite = points[np.isfinite(points).all(axis=1)]
    if len(finite) < 3:
        return None
    return finite.mean(axis=0), np.atleast_2d(np.cov(finite, rowvar=False))
