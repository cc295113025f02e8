"""Where the worker thread gets its lock-step groups, as ``StepBlock``s: from a step server
process when one can run (``gdviz.core.step_server``), else computed in the worker thread
itself. Both give the same blocks (same configs, same seed: the same records).

Both sources have one interface, used only by the worker thread:
    next_block(limit, until=None)  one StepBlock of 1..limit consecutive groups, or None when
                  ``interrupted()`` became true while waiting for the server. A server's:
                  all it has sent, up to ``limit`` (a block longer than that is split). The
                  thread's: one group, then more while ``time.perf_counter() < until`` and
                  nothing interrupted, packed once.
    buffered()    a group can be had at once (more were computed than taken)
    drain()       take in what a server has sent (while the GUI draws), so it computes on
    remote        True when the computing happens in another process
    close()       done with this run

A step server computes while the window draws (no GIL shared), so the worker no longer needs
to leave the GUI idle while it computes. Servers are kept in a pool and reused run after run;
the first is started when the window opens (``warm()``), since a spawned interpreter takes
about half a second to import numpy. If a server dies or cannot start, the run goes on in the
worker thread from the same step (same configs, same seed: the same records): from the
server's latest snapshot (``core.run_snapshot``; the server sends one every
``step_server.SNAPSHOT_SECONDS`` or ``SNAPSHOT_GROUPS``), recomputing only the groups it had
sent after that one.

``GDVIZ_STEP_PROCESS=0`` turns servers off.
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence

from gdviz.core import step_server
from gdviz.core.lockstep import LockstepSnapshot, group_finished, iterate_lockstep
from gdviz.core.records import RunConfig
from gdviz.core.step_blocks import StepBlock

log = logging.getLogger(__name__)
_POLL = 0.005  # s: how often a wait for the server checks for a pause or stop
CATCH_UP_SLICE = 0.02  # s: recomputing after a lost server checks for a pause or stop this often


class RunFailed(Exception):
    """The run failed in a step server; the message is a sentence for the user."""


def enabled() -> bool:
    return os.environ.get("GDVIZ_STEP_PROCESS", "1") != "0"


class StepServer:
    """One child process serving ``step_server.serve`` (or another ``serve(conn)`` loop of
    core: the seeds' ``seed_server.serve``)."""

    def __init__(self, serve: Callable = step_server.serve, name: str = "gdviz-steps") -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child,), daemon=True, name=name)
        self.process.start()
        child.close()
        self.next_run_id = 0

    def alive(self) -> bool:
        return self.process.is_alive()

    def discard(self) -> None:
        """A server that failed (died, or its pipe broke): end it and free its pipe."""
        with contextlib.suppress(OSError, ValueError):
            self.conn.close()
        if self.process.is_alive():
            self.process.terminate()
        self.process.join(0.5)

    def quit(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(("quit",))
        self.process.join(0.5)
        if self.process.is_alive():
            self.process.terminate()   # a process, not a thread: it holds nothing of ours
        self.conn.close()


_served_runs = [0]


def served_runs() -> int:
    """How many runs a step server has sent groups for (the smoke test checks it)."""
    return _served_runs[0]


_pool: list[StepServer] = []
_pool_lock = threading.Lock()


def warm() -> None:
    """Start a server now (window opening), so the first run does not wait for one."""
    if not enabled():
        return
    with _pool_lock:
        if not any(server.alive() for server in _pool):
            _pool.append(StepServer())


def _acquire() -> StepServer | None:
    with _pool_lock:
        while _pool:
            server = _pool.pop()
            if server.alive():
                return server
        try:
            return StepServer()
        except Exception as err:   # no process can be started here: compute in the thread
            log.warning("no step server: %s", err)
            return None


def _release(server: StepServer) -> None:
    with _pool_lock:
        if server.alive():
            _pool.append(server)


@atexit.register
def shutdown() -> None:
    """Quit every idle server (servers are daemons: a busy one dies with us anyway)."""
    with _pool_lock:
        servers, _pool[:] = list(_pool), []
    for server in servers:
        server.quit()


def open_source(configs: Sequence[RunConfig], iterate: Callable,
                interrupted: Callable[[], bool],
                on_lost: Callable[[int, int], None] | None = None) -> LocalSteps | RemoteSteps:
    """The groups of ``configs``: from a step server when servers are enabled and ``iterate``
    is the real runner (tests substitute failing ones, which a server would not see).
    ``on_lost(groups, recompute)``: called once if the server is lost, with the number of
    groups it had sent and how many of them are recomputed here before the run goes on."""
    from gdviz.core.runner import iterate as runner_iterate

    configs = tuple(configs)
    if enabled() and iterate is runner_iterate:
        server = _acquire()
        if server is not None:
            return RemoteSteps(configs, server, interrupted, on_lost)
    return LocalSteps(iterate_lockstep(configs, iterate), interrupted)


class LocalSteps:
    """Groups computed in the calling thread."""

    remote = False

    def __init__(self, groups, interrupted: Callable[[], bool]) -> None:
        self._groups = groups
        self._interrupted = interrupted

    def next_block(self, limit: int, until: float | None = None) -> StepBlock:
        taken = [next(self._groups)]
        while (len(taken) < limit and until is not None and not group_finished(taken[-1])
               and time.perf_counter() < until and not self._interrupted()):
            taken.append(next(self._groups))
        return StepBlock.from_groups(taken)

    def skip(self, count: int, until: float) -> int:
        """Advance past up to ``count`` groups without keeping them, until ``until``
        (``time.perf_counter()``); returns how many were skipped (at least one)."""
        skipped = 0
        while skipped < count and (skipped == 0 or time.perf_counter() < until):
            next(self._groups)
            skipped += 1
        return skipped

    def buffered(self) -> bool:
        return False

    def drain(self) -> None:
        pass

    def close(self) -> None:
        self._groups = None


class RemoteSteps:
    """Groups computed by a step server, received in blocks (in the worker thread, once,
    if the server is lost)."""

    @property
    def remote(self) -> bool:
        return self._local is None

    def __init__(self, configs: tuple[RunConfig, ...], server: StepServer,
                 interrupted: Callable[[], bool],
                 on_lost: Callable[[int, int], None] | None = None) -> None:
        self._configs = configs
        self._on_lost = on_lost
        self._server = server
        self._interrupted = interrupted
        self._blocks: collections.deque[StepBlock] = collections.deque()   # as received
        self._taken = 0
        self._served = False
        self._local: LocalSteps | None = None  # set once the server was lost
        self._skip = 0  # groups the local fallback must recompute before going on
        self._snapshot: LockstepSnapshot | None = None  # the server's latest
        server.next_run_id += 1
        self._run_id = server.next_run_id
        try:
            server.conn.send(("start", self._run_id, configs))
        except (OSError, ValueError) as err:
            self._fall_back(err)

    def next_block(self, limit: int, until: float | None = None) -> StepBlock | None:
        blocks = self._blocks
        while not blocks:
            if self._local is not None:
                if not self._catch_up():
                    return None
                block = self._local.next_block(limit, until)
                self._taken += block.count
                return block
            if not self._receive(_POLL) and self._interrupted():
                return None
        while self._local is None and self._receive(0.0):
            pass   # everything that has arrived
        taken: list[StepBlock] = []
        count = 0
        while blocks and count < limit:
            block = blocks.popleft()
            if count + block.count > limit:   # longer than asked: the rest comes next time
                block, rest = block.split(limit - count)
                blocks.appendleft(rest)
            taken.append(block)
            count += block.count
        self._taken += count
        # one block: the histories append it column by column at once, not block by block
        block = StepBlock.join(taken)
        if block.lacks_last_sample_grads:   # cut where the server left them out
            block = block.with_last_sample_grads([c.make_problem() for c in self._configs])
        return block

    def buffered(self) -> bool:
        return bool(self._blocks or (self._local is None and self._receive(0.0)))

    def drain(self) -> None:
        """Take in every block that has arrived (cheap): the server may then compute on
        instead of waiting for room in the pipe."""
        while self._local is None and self._receive(0.0):
            pass

    def close(self) -> None:
        server, self._server = self._server, None
        if self._local is not None:
            self._local.close()
        if server is None or self._local is not None:
            return
        try:
            server.conn.send(("stop", self._run_id))
        except (OSError, ValueError):
            return
        _release(server)

    def _receive(self, timeout: float) -> bool:
        """Take in one block if the server sent one within ``timeout`` s; True if one came
        (or the server was lost and the run goes on here)."""
        conn = self._server.conn
        try:
            while conn.poll(timeout):
                message = conn.recv()
                if message[0] == "ready" or message[1] != self._run_id:
                    continue   # the server's greeting, or a block of an earlier run
                if message[0] == "error":
                    raise RunFailed(message[2])
                if not self._served:
                    self._served = True
                    _served_runs[0] += 1
                self._blocks.append(message[2])
                if message[3] is not None:
                    self._snapshot = message[3]
                conn.send(("more", self._run_id))
                return True
        except (EOFError, OSError, ValueError) as err:
            self._fall_back(err)
            return True
        return False

    def _fall_back(self, err: Exception) -> None:
        """The server died: compute the rest here, once, from the step after what was
        received. The run resumes from the server's latest snapshot (the groups it sent
        after that one, at most ~SNAPSHOT_SECONDS of computing, are computed again first);
        without one (the server died in its first SNAPSHOT_SECONDS) from the start. The
        recomputing is ``_catch_up``'s, in slices that a pause or a stop interrupts."""
        log.warning("step server lost (%s): computing in the worker thread", err)
        server, self._server = self._server, None
        if server is not None:
            server.discard()
        received = self._taken + sum(block.count for block in self._blocks)
        snapshot = self._snapshot
        self._skip = received - (0 if snapshot is None else snapshot.group + 1)
        self._local = LocalSteps(iterate_lockstep(self._configs, step_server.iterate,
                                                  resume=snapshot), self._interrupted)
        if self._on_lost is not None:
            self._on_lost(received, self._skip)

    def _catch_up(self) -> bool:
        """Recompute the groups the server had sent (``_skip`` of them), CATCH_UP_SLICE
        seconds at a time; False when a control call interrupted (call again to go on)."""
        while self._skip > 0:
            if self._interrupted():
                return False
            self._skip -= self._local.skip(self._skip, time.perf_counter() + CATCH_UP_SLICE)
        return True

    @property
    def catching_up(self) -> int:
        """Groups still to recompute after the server was lost (0: none)."""
        return self._skip
