"""Computing lock-step groups in another process, so they do not wait for the GIL.

The window's worker thread and the GUI thread share one interpreter: while the window draws,
the optimizer cannot compute, and the other way round. A step server is a child process
(``multiprocessing``, spawn) that runs ``iterate_lockstep`` and sends the groups back in
chunks through a pipe, each a ``StepBlock`` of columns (``step_blocks``); the worker thread
relays them to the window (``gdviz.gui.step_process``).

Protocol (parent -> server):
    ("start", run_id, configs)   iterate these configs (drops the previous run)
    ("more", run_id)             the parent took a chunk: one more may be sent
    ("stop", run_id)             drop this run
    ("quit",)                    exit
Server -> parent:
    ("ready",)                   once, when the server is up
    ("block", run_id, block, snapshot)  consecutive groups, one ``StepBlock``; ``snapshot``
                                 (now and then, else None): the ``LockstepSnapshot`` after
                                 the block's last group, from which the parent goes on
                                 itself if the server dies
    ("error", run_id, message)   the run failed (a sentence for the user); the run is dropped

A chunk is at most ``CHUNK_SECONDS`` of computing; at most ``CHUNKS_AHEAD`` chunks are sent
before the parent takes one, so a paused run costs at most that much wasted work. Now and
then a block carries a snapshot of the run (``SNAPSHOT_SECONDS``, ``SNAPSHOT_GROUPS``).

This module is numpy and the standard library only (the child imports no Qt). RunConfig
pickles by itself (``RunConfig.__getstate__``).
"""

from __future__ import annotations

import contextlib
import os
import queue
import threading
import time
from multiprocessing.reduction import ForkingPickler

from gdviz.core.errors import ConfigError
from gdviz.core.lockstep import LockstepCursor, group_finished, iterate_lockstep
from gdviz.core.runner import iterate
from gdviz.core.step_blocks import StepBlock

CHUNK_SECONDS = 0.004   # s of computing per chunk (and at most CHUNK_GROUPS groups)
CHUNK_GROUPS = 2000
CHUNKS_AHEAD = 16       # chunks in flight: ~60 ms of work, more than a slow frame takes
# A snapshot goes with the first block after SNAPSHOT_SECONDS of computing or SNAPSHOT_GROUPS
# groups since the last one: a parent that loses the server recomputes fewer than
# SNAPSHOT_GROUPS + CHUNK_GROUPS groups, and at most ~SNAPSHOT_SECONDS of computing (plus one
# chunk), instead of the whole run. For what a snapshot costs see benchmarks/bench_resume.py.
SNAPSHOT_SECONDS = 0.1
SNAPSHOT_GROUPS = 2000


# -- the server (runs in the child process) ----------------------------------------------------
def serve(conn) -> None:
    """The child process's main loop: answer ``conn`` until "quit" or the parent goes away.

    Blocks leave through a sender thread (``_Outbox``): a block of a network's steps is larger
    than the pipe's buffer (a 2-8-8-1 mlp step is ~12 KB, a chunk ~200 KB, the socket holds
    ~200 KB), so ``conn.send`` waits until the parent's worker thread reads, which it does once
    or twice per frame. Sending from this thread, the server spent longer waiting in ``send``
    than computing (mlp_spiral at full speed: 4.7 s sending, 3.1 s computing, of 8 s); with
    the sender thread it computes while the pipe drains (the write releases the GIL)."""
    with contextlib.suppress(OSError, AttributeError):
        os.nice(5)   # on a busy machine the window's drawing comes first, then computing
    outbox = _Outbox(conn)
    outbox.put(("ready",))
    run_id, groups, credit, every_grads = None, None, 0, True
    cursor, snapshot_due, snapshot_group = LockstepCursor(), 0.0, 0
    try:
        while True:
            # nothing to compute (or no credit): block until the parent says something
            while groups is None or credit <= 0 or conn.poll():
                message = conn.recv()
                kind = message[0]
                if kind == "quit":
                    return
                if kind == "start":
                    run_id, credit = message[1], CHUNKS_AHEAD
                    cursor = LockstepCursor()
                    groups = iterate_lockstep(message[2], iterate, cursor=cursor)
                    every_grads = _needs_every_sample_grads(message[2])
                    snapshot_due, snapshot_group = time.perf_counter() + SNAPSHOT_SECONDS, 0
                elif kind == "more" and message[1] == run_id:
                    credit += 1
                elif kind == "stop" and message[1] == run_id:
                    run_id, groups = None, None
            if outbox.broken:
                return   # the parent has gone
            chunk, done, error = _compute_chunk(groups)
            if chunk:
                snapshot = None
                if not done and error is None and (
                        cursor.group - snapshot_group >= SNAPSHOT_GROUPS
                        or time.perf_counter() >= snapshot_due):
                    snapshot, snapshot_group = cursor.snapshot(), cursor.group
                    snapshot_due = time.perf_counter() + SNAPSHOT_SECONDS
                block = StepBlock.from_groups(chunk, every_grads)
                outbox.put(("block", run_id, block, snapshot))
                credit -= 1
            if error is not None:
                outbox.put(("error", run_id, error))
            if done or error is not None:
                run_id, groups = None, None
    except (EOFError, OSError, KeyboardInterrupt):
        return   # the parent has gone: nothing left to do
    finally:
        outbox.close()


class _Outbox:
    """Messages to the parent, sent in order by a daemon thread. At most CHUNKS_AHEAD blocks
    are ever waiting (the parent's credit), so the queue stays bounded. A message is pickled
    when it is put (``Connection.send``'s pickler, so the parent's ``recv`` reads it as sent):
    what it holds is frozen then, however the run goes on while it waits."""

    def __init__(self, conn) -> None:
        self._conn = conn
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self.broken = False
        self._thread = threading.Thread(target=self._send_all, name="gdviz-steps-out",
                                        daemon=True)
        self._thread.start()

    def put(self, message) -> None:
        self._queue.put(ForkingPickler.dumps(message))

    def close(self) -> None:
        """Send what is queued (the parent may be waiting for an error), then stop."""
        self._queue.put(None)
        self._thread.join(1.0)

    def _send_all(self) -> None:
        while (message := self._queue.get()) is not None:
            try:
                self._conn.send_bytes(message)
            except (OSError, ValueError):
                self.broken = True
                return


def _needs_every_sample_grads(configs) -> bool:
    """False: blocks carry the per-sample gradients of their last step only, the only ones
    the parent's histories keep (its worker recomputes a cut block's last:
    ``StepBlock.with_last_sample_grads``). True when a problem adds gradient noise, which
    cannot be recomputed, or cannot be made (the iteration then reports why)."""
    try:
        return any(config.make_problem().grad_noise for config in configs)
    except Exception:  # noqa: BLE001 (the run's first step raises it again, for the window)
        return True


def _compute_chunk(groups) -> tuple[list, bool, str | None]:
    """(groups computed, the run ended, error sentence or None)."""
    chunk: list = []
    deadline = time.perf_counter() + CHUNK_SECONDS
    try:
        while len(chunk) < CHUNK_GROUPS:
            group = next(groups, None)
            if group is None:
                return chunk, True, None
            chunk.append(group)
            if group_finished(group):
                return chunk, True, None
            if time.perf_counter() >= deadline:
                break
    except ConfigError as err:
        return chunk, True, str(err)
    except Exception as err:  # the window shows it; the server keeps serving
        return chunk, True, (f"the optimizer stopped with an error: "
                             f"{type(err).__name__}: {err}")
    return chunk, False, None
