"""Where the worker thread gets its lock-step groups: from a step server process when one can
run (``gdviz.core.step_server``), else computed in the worker thread itself.

Both sources have one interface, used only by the worker thread:
    next_groups(limit)  1..limit consecutive groups (a server's: all it has sent, up to
                  ``limit``; the thread's: one), or [] when ``interrupted()`` became true
                  while waiting for the server
    next_group()  one group, or None when interrupted
    next_items(limit)  like next_groups, but a server's whole chunks that fit within
                  ``limit`` stay packed, merged into one ``StepChunk``
    buffered()    a group can be had at once (more were computed than taken)
    drain()       take in what a server has sent (while the GUI draws), so it computes on
    remote        True when the computing happens in another process
    close()       done with this run

A step server computes while the window draws (no GIL shared), so the worker no longer needs
to leave the GUI idle while it computes. Servers are kept in a pool and reused run after run;
the first is started when the window opens (``warm()``), since a spawned interpreter takes
about half a second to import numpy. If a server dies or cannot start, the run goes on in the
worker thread from the same step (same configs, same seed: the same records).

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
from collections.abc import Callable, Sequence

from gdviz.core import step_server
from gdviz.core.lockstep import StepGroup, iterate_lockstep
from gdviz.core.records import RunConfig
from gdviz.core.step_blocks import StepChunk, merge, unpack

log = logging.getLogger(__name__)
_POLL = 0.005  # s: how often a wait for the server checks for a pause or stop


class RunFailed(Exception):
    """The run failed in a step server; the message is a sentence for the user."""


def enabled() -> bool:
    return os.environ.get("GDVIZ_STEP_PROCESS", "1") != "0"


class StepServer:
    """One child process serving ``step_server.serve``."""

    def __init__(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=step_server.serve, args=(child,), daemon=True,
                                       name="gdviz-steps")
        self.process.start()
        child.close()
        self.next_run_id = 0

    def alive(self) -> bool:
        return self.process.is_alive()

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
                interrupted: Callable[[], bool]) -> LocalGroups | RemoteGroups:
    """The groups of ``configs``: from a step server when servers are enabled and ``iterate``
    is the real runner (tests substitute failing ones, which a server would not see)."""
    from gdviz.core.runner import iterate as runner_iterate

    configs = tuple(configs)
    if enabled() and iterate is runner_iterate:
        server = _acquire()
        if server is not None:
            return RemoteGroups(configs, server, interrupted)
    return LocalGroups(iterate_lockstep(configs, iterate))


class LocalGroups:
    """Groups computed in the calling thread."""

    remote = False

    def __init__(self, groups) -> None:
        self._groups = groups

    def next_groups(self, limit: int) -> list[StepGroup]:
        return [next(self._groups)]

    def next_group(self) -> StepGroup | None:
        return next(self._groups)

    def next_items(self, limit: int) -> list[StepGroup]:
        return [next(self._groups)]

    def buffered(self) -> bool:
        return False

    def drain(self) -> None:
        pass

    def close(self) -> None:
        self._groups = None


class RemoteGroups:
    """Groups computed by a step server, received in chunks."""

    remote = True

    def __init__(self, configs: tuple[RunConfig, ...], server: StepServer,
                 interrupted: Callable[[], bool]) -> None:
        self._configs = configs
        self._server = server
        self._interrupted = interrupted
        self._buffer: collections.deque[StepGroup] = collections.deque()
        self._chunks: collections.deque[tuple] = collections.deque()   # packed, as received
        self._taken = 0
        self._served = False
        self._local: LocalGroups | None = None
        server.next_run_id += 1
        self._run_id = server.next_run_id
        try:
            server.conn.send(("start", self._run_id, configs))
        except (OSError, ValueError) as err:
            self._fall_back(err)

    def next_groups(self, limit: int) -> list[StepGroup]:
        buffer, chunks = self._buffer, self._chunks
        while not buffer:
            if chunks:
                buffer.extend(unpack(chunks.popleft()))
            elif self._local is not None:
                self._taken += 1
                return [self._local.next_group()]
            elif not self._receive(_POLL) and self._interrupted():
                return []
        while len(buffer) < limit and (chunks or self._receive(0.0)):
            if chunks:   # everything that has arrived, up to ``limit``
                buffer.extend(unpack(chunks.popleft()))
        groups = [buffer.popleft() for _ in range(min(limit, len(buffer)))]
        self._taken += len(groups)
        return groups

    def next_group(self) -> StepGroup | None:
        groups = self.next_groups(1)
        return groups[0] if groups else None

    def next_items(self, limit: int) -> list[StepGroup | StepChunk]:
        """Like ``next_groups``, but the chunks that fit within ``limit`` stay packed
        (``StepChunk``): the window appends them without a record object per step."""
        chunks = self._chunks
        while not (self._buffer or chunks or self._local is not None):
            if not self._receive(_POLL) and self._interrupted():
                return []
        if self._buffer or self._local is not None:
            return self.next_groups(limit)   # the rest of a chunk split before comes first
        while self._receive(0.0):
            pass   # everything that has arrived
        packs = []
        count = 0
        while chunks and count + chunks[0][0] <= limit:
            packs.append(chunks.popleft())
            count += packs[-1][0]
        if not packs:
            return self.next_groups(limit)   # a chunk longer than the limit: split it
        self._taken += count
        # one chunk: the histories append it column by column at once, not chunk by chunk
        return [StepChunk(merge(packs))]

    def buffered(self) -> bool:
        return bool(self._buffer or self._chunks
                    or (self._local is None and self._receive(0.0)))

    def drain(self) -> None:
        """Take in every chunk that has arrived, without unpacking it (cheap): the server
        may then compute on instead of waiting for room in the pipe."""
        while self._local is None and self._receive(0.0):
            pass

    def close(self) -> None:
        server, self._server = self._server, None
        if server is None or self._local is not None:
            return
        try:
            server.conn.send(("stop", self._run_id))
        except (OSError, ValueError):
            return
        _release(server)

    def _receive(self, timeout: float) -> bool:
        """Take in one chunk if the server sent one within ``timeout`` s; True if one came
        (or the server was lost and the run goes on here)."""
        conn = self._server.conn
        try:
            while conn.poll(timeout):
                message = conn.recv()
                if message[0] == "ready" or message[1] != self._run_id:
                    continue   # the server's greeting, or a chunk of an earlier run
                if message[0] == "error":
                    raise RunFailed(message[2])
                if not self._served:
                    self._served = True
                    _served_runs[0] += 1
                self._chunks.append(message[2])
                conn.send(("more", self._run_id))
                return True
        except (EOFError, OSError, ValueError) as err:
            self._fall_back(err)
            return True
        return False

    def _fall_back(self, err: Exception) -> None:
        """The server died: compute the rest here, from the step after what was received."""
        log.warning("step server lost (%s): computing in the worker thread", err)
        groups = iterate_lockstep(self._configs, step_server.iterate)
        received = self._taken + len(self._buffer) + sum(c[0] for c in self._chunks)
        for _ in range(received):
            next(groups)
        self._local = LocalGroups(groups)
