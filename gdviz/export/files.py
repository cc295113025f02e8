"""Files that appear whole or not at all: a hidden temporary name beside the target, renamed
into place at the end, with the permissions a plain ``open`` would give (the umask's).
Used by the animation export, sessions and CSV traces. No Qt.

    temp = temp_file_beside(target, ".gif.part")   # hidden, in the target's folder
    ...write temp...
    publish(temp, target)                          # umask permissions, then one rename

    with atomic_text(path) as handle:              # the same for a text file
        handle.write(text)
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def existing_parent(path: Path) -> Path:
    """``path`` or the nearest of its parents that exists (absolute)."""
    path = path.absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def temp_file_beside(target: Path, suffix: str = ".part") -> Path:
    """A new, empty, hidden file in ``target``'s folder (same file system: the rename at the
    end is atomic). OSError when it cannot be made."""
    target = Path(target)
    fd, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    return Path(name)


def temp_folder_in(folder: Path, prefix: str) -> Path:
    """A new hidden folder inside ``folder``. OSError when it cannot be made."""
    return Path(tempfile.mkdtemp(prefix=prefix, dir=folder))


def publish(temp: Path, target: Path) -> None:
    """Give ``temp`` the permissions a new file gets (mkstemp made it 0600) and rename it to
    ``target`` in one step."""
    os.chmod(temp, 0o666 & ~current_umask())
    os.replace(temp, target)


@contextlib.contextmanager
def atomic_text(path: Path) -> Iterator[TextIO]:
    """Write a text file (UTF-8, newlines as given) through a temporary file beside it: an
    existing file is never left half-written, and a failure leaves no file behind (the
    exception propagates)."""
    path = Path(path)
    temp = temp_file_beside(path, ".part")
    try:
        with open(temp, "w", encoding="utf-8", newline="") as handle:
            yield handle
        publish(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
