"""Interruptions of ``gdviz run`` and ``gdviz export``: SIGINT (Ctrl+C), SIGTERM and SIGHUP
end the command promptly with status 128 + the signal's number (130 for Ctrl+C), one line on
stderr, and nothing left behind (the atomic writer removes its temporary file).

The handler never raises: it only records the signal (``SignalFlag``), and the work checks
the flag where stopping is safe -- ``gdviz run`` between records (``flag.checked(records)``),
``gdviz export`` between frames and between chunks of replayed steps -- and then raises
``Interrupted``, which unwinds through the writer's cleanup. A handler that raised would raise
wherever Python happens to be: inside Qt rendering a widget (that segfaulted 11 times in 26,
issue 19), or inside a finaliser, where the exception is printed and dropped and the run went
on.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                if hasattr(signal, name))


class Interrupted(Exception):  # noqa: N818 (it is what happened, not an error of the program)
    """The command was interrupted by ``signum``; it exits with ``exit_status``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal_name(signum))
        self.signum = signum

    @property
    def exit_status(self) -> int:
        return 128 + self.signum


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


@contextlib.contextmanager
def _handlers(handler) -> Iterator[None]:
    previous = {}
    try:
        for signum in SIGNALS:
            previous[signum] = signal.signal(signum, handler)
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)


class SignalFlag:
    """While installed (``with SignalFlag() as flag:``), SIGINT, SIGTERM and SIGHUP only set
    ``flag.signum``; ``flag()`` is True once one arrived (the export's ``cancelled``)."""

    def __init__(self) -> None:
        self.signum: int | None = None
        self._installed = contextlib.ExitStack()

    def _handler(self, signum, _frame) -> None:
        if self.signum is None:
            self.signum = signum

    def __call__(self) -> bool:
        return self.signum is not None

    def check(self) -> None:
        """Raise ``Interrupted`` if a signal arrived (call where raising is safe)."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    def checked(self, items: Iterable[T]) -> Iterator[T]:
        """``items``, checking for a signal before each one."""
        for item in items:
            self.check()
            yield item

    def __enter__(self) -> SignalFlag:
        self._installed.enter_context(_handlers(self._handler))
        return self

    def __exit__(self, *exc) -> None:
        self._installed.close()
