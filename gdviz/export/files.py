"""Every file gdviz writes goes through here: it appears whole or not at all. No Qt.

A regular file is written under a hidden temporary name beside the target (same folder, so
the same file system), flushed and fsync'ed, then renamed into place in one step with the
permissions a plain ``open`` would give (the umask's). A failure (disk full, I/O error, an
interruption) removes the temporary and leaves the target as it was. A target that is a
device or a pipe (``/dev/null``, a FIFO) cannot be renamed over: it is written directly, as
standard output is.

    with atomic_file(path, "w") as handle:          # text (UTF-8) or "wb" for bytes
        handle.write(text)
    with atomic_path(path, ".png.part") as temp:    # for writers that take a file name (Qt)
        image.save(str(temp))
    temp = temp_file_beside(target, ".gif.part")    # the pieces, for the animation export
    publish(temp, target)

Temporary names carry the writing process's id (``.<stem>.gdviz-<pid>-XXXX.part``), so a
temporary left behind by a process that was killed (SIGKILL, power loss) is recognised by the
next writer into that folder and removed (``remove_stale_temporaries``).

Errors: ``check_target`` raises ConfigError (bad input, before any work: the folder is missing
or not writable, the target is a folder); a failure while writing is an OSError from the
writer, which callers turn into a one-sentence WriteError with ``write_failure``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from gdviz.core.errors import ConfigError

_PREFIX = "gdviz-"
# .<stem>.gdviz-<pid>-<random><suffix> (files) and .gdviz-frames-<pid>-<random> (folders)
_TEMP_NAME = re.compile(r"^\..*\.gdviz-(\d+)-[^/]*\.part$|^\.gdviz-frames-(\d+)-[^/]*$")


class WriteError(Exception):
    """Writing failed after the work started (disk full, I/O error): one sentence, made by
    ``write_failure``. The command line exits with status 1 for it."""


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def existing_parent(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists (absolute)."""
    path = Path(path).absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def is_stream(path: Path) -> bool:
    """True when ``path`` exists and is a character device or a pipe (written directly)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode)


def check_target(path: str | os.PathLike, what: str = "") -> Path:
    """ConfigError (one sentence) when ``path`` cannot be written as a file: its folder is
    missing or not writable, or it is a folder or another non-file. Returns it as a Path."""
    path = Path(path)
    name = what or str(path)
    if path.is_dir():
        raise ConfigError(f"cannot write {name}: it is a folder")
    if is_stream(path):
        return path
    if path.exists() and not path.is_file():
        raise ConfigError(f"cannot write {name}: it is not a regular file")
    folder = path.absolute().parent
    if not folder.is_dir():
        raise ConfigError(f"cannot write {name}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write {name}: the folder {folder} is not writable")
    return path


def write_failure(path: str | os.PathLike, err: OSError) -> WriteError:
    """The WriteError for a write that failed, one sentence: ``could not write out.csv: No
    space left on device``."""
    return WriteError(f"could not write {path}: {err.strerror or err}")


def temp_file_beside(target: Path, suffix: str = ".part") -> Path:
    """A new, empty, hidden file in ``target``'s folder (same file system: the rename at the
    end is atomic), named after this process. OSError when it cannot be made."""
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.{_PREFIX}{os.getpid()}-",
                                suffix=suffix, dir=target.parent)
    os.close(fd)
    return Path(name)


def temp_folder_in(folder: Path, prefix: str = ".gdviz-frames-") -> Path:
    """A new hidden folder inside ``folder``, named after this process. OSError when it
    cannot be made."""
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=folder))


def publish(temp: Path, target: Path) -> None:
    """Give ``temp`` the permissions a new file gets (mkstemp made it 0600) and rename it to
    ``target`` in one step."""
    os.chmod(temp, 0o666 & ~current_umask())
    os.replace(temp, target)


def _remove(temp: Path) -> None:
    if temp.is_dir() and not temp.is_symlink():
        shutil.rmtree(temp, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            temp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = ".part") -> Iterator[Path]:
    """A temporary path beside ``path`` for a writer that takes a file name; renamed to
    ``path`` when the block ends normally, removed when it raises (the exception
    propagates). A device or pipe target is yielded itself. ConfigError when the temporary
    cannot be made (a read-only or missing folder): nothing was written."""
    path = Path(path)
    if is_stream(path):
        yield path
        return
    try:
        temp = temp_file_beside(path, suffix)
    except OSError as err:  # nothing was done yet: the target cannot be written at all
        raise ConfigError(f"cannot write {path}: {err.strerror or err}") from None
    try:
        yield temp
        publish(temp, path)
    except BaseException:
        _remove(temp)
        raise


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Write a file through a temporary file beside it: ``mode`` "w" (UTF-8 text, newlines
    as given) or "wb". The data is flushed and fsync'ed before the rename, so an existing
    file is never replaced by a half-written one; a failure or an interruption leaves no
    file behind (the exception propagates)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', got {mode!r}")
    text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
    with atomic_path(path) as temp, open(temp, mode, **text) as handle:
        yield handle
        handle.flush()
        if not is_stream(temp):
            os.fsync(handle.fileno())


def atomic_text(path: str | os.PathLike) -> contextlib.AbstractContextManager:
    """``atomic_file(path, "w")``: a UTF-8 text file that appears whole or not at all."""
    return atomic_file(path, "w")


def _owner_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """gdviz's temporaries in ``folder`` whose writing process no longer exists (killed
    before it could clean up)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    stale = []
    for name in sorted(names):
        found = _TEMP_NAME.match(name)
        if found and not _owner_alive(int(found.group(1) or found.group(2))):
            stale.append(Path(folder) / name)
    return stale


def remove_stale_temporaries(folder: str | os.PathLike) -> list[Path]:
    """Remove what ``stale_temporaries`` finds; returns the paths removed."""
    removed = []
    for temp in stale_temporaries(folder):
        _remove(temp)
        if not temp.exists():
            removed.append(temp)
    return removed
