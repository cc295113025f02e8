"""Interrupt pure-Python work (sympy) that runs past a deadline.

Why this exists: ``sympy.diff`` and friends have no timeout, and a formula of a few hundred
characters (``exp(w*exp(w*exp(...))))``) can keep them busy for seconds. A formula is user
input, so the time it may cost must be bounded. Tracing every call (``sys.settrace``) would
slow sympy down ~2.5x; instead a timer thread asks CPython to raise an exception in the
working thread at its next bytecode (``PyThreadState_SetAsyncExc``, the same mechanism as
``KeyboardInterrupt``), which costs nothing until the deadline.

Rules that keep this safe:
* the exception derives from BaseException, so sympy's ``except Exception`` blocks do not
  swallow it;
* the timer fires at most once, and only while the guarded call is still running (checked
  under a lock); when the call ends, a not-yet-delivered exception is cancelled under the same
  lock, so nothing can ever be raised in the thread *after* ``call_with_deadline`` returns;
* long C-level work (huge integer powers) cannot be interrupted, which is why such values are
  refused by ``limits.fold_constants`` before sympy sees the formula.
On interpreters without ``ctypes.pythonapi`` the work simply runs to completion.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class DeadlineExceeded(BaseException):
    """Raised inside the guarded call when its time is up."""


def _set_async_exc(thread_id: int, exc: type[BaseException] | None) -> None:
    api = getattr(ctypes, "pythonapi", None)
    if api is None:
        return
    arg = ctypes.py_object(exc) if exc is not None else None  # None -> NULL: cancel
    api.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), arg)


def call_with_deadline(func: Callable[[], T], seconds: float) -> T:
    """``func()``, or DeadlineExceeded raised from within it after ``seconds``."""
    if seconds <= 0:
        raise DeadlineExceeded
    target = threading.get_ident()
    lock = threading.Lock()
    active = [True]

    def fire() -> None:
        with lock:
            if active[0]:
                _set_async_exc(target, DeadlineExceeded)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        return func()
    finally:
        with lock:
            active[0] = False
            _set_async_exc(target, None)
        timer.cancel()
