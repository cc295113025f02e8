"""Every file gdviz reads from a user (data CSVs, sessions) is opened here: only a regular
file, and never more than a limit, counted while reading (a file that grows, or a /proc file
that reports size 0, is still stopped at the limit).

A FIFO, a device (``/dev/zero``), a socket or a folder is refused at once with one sentence:
the file is opened with O_NONBLOCK (opening a FIFO without a writer would otherwise wait
forever), checked with ``fstat`` on the open descriptor (no race with a rename), and only
then read. So no read can hang the command line or the window's GUI thread.

    with open_regular(path, "data file", max_bytes) as reader:   # a LimitedReader
        for line in reader.lines(): ...
    data = read_regular(path, "session", max_bytes)               # bytes
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

from gdviz.core.errors import ConfigError
from gdviz.core.text import shown


def size_text(nbytes: int) -> str:
    """A byte count for people: ``512 bytes``, ``3.9 KiB``, ``100.0 MiB``, ``1.2 GiB``."""
    if nbytes < 1024:
        return f"{nbytes} byte" + ("" if nbytes == 1 else "s")
    for unit, scale in (("KiB", 2**10), ("MiB", 2**20), ("GiB", 2**30)):
        if nbytes < 1024 * scale or unit == "GiB":
            return f"{nbytes / scale:.1f} {unit}"
    raise AssertionError("unreachable")


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


class LimitedReader:
    """A binary file opened by ``open_regular`` that refuses to yield more than ``max_bytes``
    in total (ConfigError naming the file and the limit). A context manager."""

    def __init__(self, handle, name: str, what: str, max_bytes: int) -> None:
        self._handle = handle
        self.name = name
        self.what = what
        self.max_bytes = max_bytes
        self.consumed = 0

    def _count(self, data: bytes) -> bytes:
        self.consumed += len(data)
        if self.consumed > self.max_bytes:
            raise ConfigError(f"{self.name}: the file is over the "
                              f"{size_text(self.max_bytes)} limit for a {self.what}")
        return data

    def read(self) -> bytes:
        """The whole file (at most ``max_bytes``)."""
        return self._count(self._handle.read(self.max_bytes - self.consumed + 1))

    def lines(self, max_line: int | None = None) -> Iterator[bytes]:
        """The file's lines (with their line ends); a line is never read past the limit.
        ``max_line``: a longer line comes in pieces of at most that many bytes."""
        while True:
            size = self.max_bytes - self.consumed + 1
            line = self._handle.readline(size if max_line is None else min(size, max_line))
            if not line:
                return
            yield self._count(line)

    def close(self) -> None:
        self._handle.close()

    def __enter__(self) -> LimitedReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def open_regular(path: str | os.PathLike, what: str, max_bytes: int) -> LimitedReader:
    """Open ``path`` for reading if it is a regular file (ConfigError with one sentence
    otherwise: missing, unreadable, a folder, a FIFO, a device, larger than ``max_bytes``)."""
    name = shown(os.fspath(path))
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
                     | getattr(os, "O_NOCTTY", 0))
    except OSError as err:
        raise ConfigError(f"cannot read {what} {name}: {err.strerror or err}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise ConfigError(f"cannot read {what} {name}: it is {_kind(info.st_mode)}, "
                              "not a file")
        if info.st_size > max_bytes:
            raise ConfigError(f"{name}: the file is {size_text(info.st_size)}, over the "
                              f"{size_text(max_bytes)} limit for a {what}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    return LimitedReader(handle, name, what, max_bytes)


def read_regular(path: str | os.PathLike, what: str, max_bytes: int) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_bytes`` (ConfigError if not)."""
    with open_regular(path, what, max_bytes) as reader:
        try:
            return reader.read()
        except OSError as err:
            raise ConfigError(f"cannot read {what} {reader.name}: "
                              f"{err.strerror or err}") from None
