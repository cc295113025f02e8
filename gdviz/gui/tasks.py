"""Background work in the GUI: the one registry of running threads, and the one way to run a
function off the GUI thread (``TaskRunner``).

The registry knows every background thread the GUI starts (the optimizer worker's, and every
``TaskRunner`` thread: loss grids, formula analysis, warm-ups), with how to ask it to stop and
which object owns it. ``start_thread`` registers and starts a thread; ``running_threads`` lists
those still running; ``stop_all_threads`` asks them to stop and joins them within ONE bound;
closing the main window calls it for the threads it owns, and the test suite's
``no_thread_left`` fixture fails any test that leaves one. The registry holds a strong reference
to each thread until it has finished (a QThread destroyed while it runs aborts the process), so
a thread that outlives its bound is kept, never terminated; finished ones are dropped when the
registry is next used (GUI thread).

``TaskRunner`` runs jobs, one at a time, for one owner (a view, a panel). A job is a plain
function ``fn(should_stop) -> result``: it reads only immutable data, checks ``should_stop()``
between chunks of work and returns None when it gave up. A job that reports partial results is
a generator: each value it yields arrives as ``sig_partial(key, value)``, the value it returns as
``sig_ready(key, result)``. A new request replaces the job that has not started yet and tells the
running one to give up, so only the newest request is ever answered; the thread ends by itself
when there is no more work (no thread idles after its owner stops asking).

Waiting (practice 5, "never re-enter the event loop to wait"): ``TaskRunner.wait`` blocks on the
job itself (a condition the job's thread signals) for a bounded time and then delivers the
result in the calling thread; it processes no events, so no click can run in the middle of the
caller's work.

Threading rules:
- Results leave the thread through signals of a relay QObject that lives in the GUI thread
  (queued), tagged with the request's generation; stale ones are dropped there, so ``sig_ready``
  and ``sig_partial`` only ever carry the newest request's values, on the GUI thread. A result
  may be the Exception the job raised (the owner shows it; the thread never dies silently).
- The optimizer worker keeps its own loop and stop protocol (``worker.WorkerHost``): it is a
  long-lived, controlled stream (play, pause, step, acknowledgements), not a function run to
  completion. It shares ``start_thread`` / ``join_thread`` / ``stop_all_threads`` with the tasks.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import inspect
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

Job = Callable[[Callable[[], bool]], Any]


# -- the registry -----------------------------------------------------------------------------
@dataclass(frozen=True)
class _Entry:
    stop: Callable[[], None]          # asks the thread to end soon (thread-safe, non-blocking)
    owner: weakref.ref | None         # the QObject it works for (None: nobody in particular)


_THREADS: dict[QThread, _Entry] = {}
_REGISTRY_LOCK = threading.Lock()


def join_thread(thread: QThread, timeout_ms: int) -> bool:
    """``thread.wait(timeout_ms)``: True once it has ended (or never started, or its C++ object
    is already gone at interpreter exit)."""
    try:
        return thread.wait(max(0, int(timeout_ms)))
    except RuntimeError:
        return True


def register_thread(thread: QThread, stop: Callable[[], None],
                    owner: QObject | None = None) -> None:
    """Record ``thread`` (before starting it) with the call that asks it to stop."""
    _prune()
    with _REGISTRY_LOCK:
        _THREADS[thread] = _Entry(stop, weakref.ref(owner) if owner is not None else None)


def is_registered(thread: QThread) -> bool:
    """Whether ``thread`` was registered (and has not been dropped as finished)."""
    with _REGISTRY_LOCK:
        return thread in _THREADS


def start_thread(thread: QThread, stop: Callable[[], None], owner: QObject | None = None,
                 priority: QThread.Priority = QThread.Priority.InheritPriority) -> None:
    """Register ``thread`` and start it: the one way the GUI starts a background thread."""
    register_thread(thread, stop, owner)
    thread.start(priority)


def running_threads(within: QObject | None = None) -> list[QThread]:
    """The registered threads still running (all, or those whose owner is ``within`` or one of
    its descendants, plus those whose owner is gone). Empty after every window has closed."""
    _prune()
    with _REGISTRY_LOCK:
        entries = list(_THREADS.items())
    return [thread for thread, entry in entries
            if _is_running(thread) and (within is None or _owned_by(entry, within))]


def stop_all_threads(timeout_ms: int = 5000, within: QObject | None = None) -> int:
    """Ask every running thread (or those ``within`` an object, see ``running_threads``) to
    stop, then join them all within ``timeout_ms`` in total. Returns how many were running; one
    that did not end in time stays registered (and referenced) until it does."""
    threads = running_threads(within)
    with _REGISTRY_LOCK:
        stops = [_THREADS[t].stop for t in threads if t in _THREADS]
    for stop in stops:
        with contextlib.suppress(RuntimeError):   # its worker is gone: the thread ends anyway
            stop()
    deadline = time.monotonic() + timeout_ms / 1000
    for thread in threads:
        join_thread(thread, int(max(0.0, deadline - time.monotonic()) * 1000))
    _prune()
    return len(threads)


def _is_running(thread: QThread) -> bool:
    try:
        return thread.isRunning()
    except RuntimeError:
        return False


def _owned_by(entry: _Entry, root: QObject) -> bool:
    obj = entry.owner() if entry.owner is not None else None
    if obj is None:
        return True   # nobody owns it any more: whoever closes a window must stop it
    try:
        while obj is not None:
            if obj is root:
                return True
            obj = obj.parent()
    except RuntimeError:  # the owner's C++ object was deleted: an orphan, as above
        return True
    return False


def _prune() -> None:
    """Drop finished threads (called from the GUI thread, so a QThread's last reference never
    goes away in another thread)."""
    with _REGISTRY_LOCK:
        for thread in [t for t in _THREADS if not _is_running(t)]:
            del _THREADS[thread]


@atexit.register
def _stop_at_exit() -> None:
    # a thread still finishing a chunk when the interpreter exits would abort it
    with contextlib.suppress(RuntimeError):
        stop_all_threads(5000)


# -- the task runner --------------------------------------------------------------------------
class _Relay(QObject):
    """Lives in the GUI thread; receives what the job thread emits (queued)."""

    sig_result = Signal(int, object, object)    # generation, key, result
    sig_partial = Signal(int, object, object)   # generation, key, value


class _Jobs:
    """The pending job, the generation counter and the last result, shared by a TaskRunner and
    its threads. A plain Python object: it outlives the runner's QObject, so a runner deleted
    without being shut down can still cancel its running job (see ``TaskRunner.__init__``)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)   # a result is in, or a thread ended
        self.pending: tuple[int, Any, Job] | None = None
        self.generation = 0
        self.done: tuple[int, Any, Any] | None = None   # (generation, key, result), newest
        self.taker: _TaskThread | None = None     # the thread that will take the next job
        self.threads: list[_TaskThread] = []      # threads not yet joined

    def cancel(self) -> None:
        with self.lock:
            self.generation += 1
            self.pending = None
            self.done = None

    def take(self) -> tuple[int, Any, Job] | None:
        """The next job, or None: then the calling thread ends (decided under the lock, so a
        request made at the same moment starts a new thread instead of being lost)."""
        with self.lock:
            job, self.pending = self.pending, None
            if job is None:
                self.taker = None
                self.changed.notify_all()
            return job

    def finish(self, generation: int, key: Any, result: Any) -> bool:
        """Keep ``result`` for a waiter; False when a newer request made it stale."""
        with self.lock:
            if generation != self.generation:
                return False
            self.done = (generation, key, result)
            self.changed.notify_all()
            return True

    def join(self, timeout_ms: int) -> bool:
        self.cancel()
        deadline = time.monotonic() + timeout_ms / 1000
        done = all([join_thread(thread, int(max(0.0, deadline - time.monotonic()) * 1000))
                    for thread in self.threads])
        self.threads = [t for t in self.threads if not join_thread(t, 0)]
        _prune()
        return done


class _TaskThread(QThread):
    """Runs the pending jobs one after the other, then ends."""

    def __init__(self, jobs: _Jobs, relay: _Relay) -> None:
        super().__init__()
        self._jobs = jobs
        self._relay = relay
        self.setObjectName("gdviz-task")

    def run(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.take()
            if job is None:
                return
            generation, key, fn = job

            def should_stop(generation=generation) -> bool:
                return jobs.generation != generation

            try:
                result = fn(should_stop)
                if inspect.isgenerator(result):
                    result = self._follow(result, generation, key, should_stop)
            except Exception as err:  # shown by the owner; never kills the thread silently
                result = err
            if result is None or should_stop() or not jobs.finish(generation, key, result):
                continue
            try:
                self._relay.sig_result.emit(generation, key, result)
            except RuntimeError:      # the owner (and its relay) were deleted meanwhile
                return

    def _follow(self, steps, generation: int, key: Any, should_stop) -> Any:
        """Run a generator job: relay each value it yields; its return value is the result."""
        while True:
            try:
                value = next(steps)
            except StopIteration as end:
                return end.value
            if should_stop():
                steps.close()
                return None
            self._relay.sig_partial.emit(generation, key, value)


def _join_deleted(jobs: _Jobs) -> None:
    """A runner's QObject was destroyed (its owner deleted without shutting it down): stop its
    job and wait for it."""
    jobs.join(5000)


class TaskRunner(QObject):
    """One background computation at a time for one owner.

    ``request(key, fn)`` schedules the job ``fn`` (see the module docstring);
    ``sig_ready(key, result)`` brings its result to the GUI thread (``result`` may be the
    Exception it raised), ``sig_partial(key, value)`` each value a generator job yields.
    ``busy`` is True while a request has not been answered; ``wait`` waits for the answer
    without processing events. ``computations`` counts the jobs requested.
    """

    sig_ready = Signal(object, object)     # key, result
    sig_partial = Signal(object, object)   # key, value

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._jobs = _Jobs()
        self._relay = _Relay(self)
        self._relay.sig_result.connect(self._on_relay_result)
        self._relay.sig_partial.connect(self._on_relay_partial)
        self.destroyed.connect(functools.partial(_join_deleted, self._jobs))
        self.pending_key: Any = None
        self.computations = 0
        self._answered = 0      # the generation whose result was delivered last

    @property
    def busy(self) -> bool:
        return self.pending_key is not None

    def request(self, key: Any, fn: Job) -> None:
        """Compute ``fn`` in the background; any earlier request is abandoned."""
        jobs = self._jobs
        with jobs.lock:
            jobs.generation += 1
            jobs.pending = (jobs.generation, key, fn)
            jobs.done = None
            self.pending_key = key
            self.computations += 1
            if jobs.taker is None:      # no thread will take this job: start one
                jobs.threads = [t for t in jobs.threads if not join_thread(t, 0)]
                thread = _TaskThread(jobs, self._relay)
                jobs.threads.append(thread)
                jobs.taker = thread
                start_thread(thread, jobs.cancel, self, QThread.Priority.LowPriority)

    def cancel(self) -> None:
        """Abandon the pending and the running job (the thread ends after its chunk)."""
        self._jobs.cancel()
        self.pending_key = None

    def wait(self, timeout_ms: int = 10000) -> bool:
        """Block (at most ``timeout_ms``) until the newest request's job has finished, then
        deliver its result (``sig_ready``, in this thread) before returning; processes no
        events. Partial values of that job not delivered yet are dropped (they would arrive
        after its result). True when that request was answered (a slot of ``sig_ready`` may
        have made a new one: ``busy`` says so) or none was left unanswered; False when it
        timed out or nothing is computing that could answer."""
        jobs = self._jobs
        deadline = time.monotonic() + timeout_ms / 1000
        with jobs.lock:
            while self.busy:
                done = jobs.done
                if done is not None and done[0] == jobs.generation:
                    break
                if jobs.pending is None and jobs.taker is None:
                    break   # nothing is computing (the job gave up): nothing will answer
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                jobs.changed.wait(left)
            else:
                return True
        if done is not None:
            self._on_relay_result(*done)
            return True
        return not self.busy

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel and wait for the threads to end; True when none is left running."""
        self.pending_key = None
        return self._jobs.join(timeout_ms)

    def _on_relay_result(self, generation: int, key: Any, result: Any) -> None:
        with self._jobs.lock:
            if generation != self._jobs.generation or self._jobs.done is None:
                return      # stale (a newer request was made), or delivered by ``wait``
            self._jobs.done = None
        self._answered = generation
        self.pending_key = None
        self.sig_ready.emit(key, result)

    def _on_relay_partial(self, generation: int, key: Any, value: Any) -> None:
        if generation == self._jobs.generation and generation != self._answered:
            self.sig_partial.emit(key, value)
