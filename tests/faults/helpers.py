"""Running ``gdviz`` as a child process for the fault tests."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gdviz_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env.update(extra)
    return env


def file_size_limit(limit: int):
    """A preexec function: writes past ``limit`` bytes fail with EFBIG (Python ignores the
    SIGXFSZ signal, so the write raises OSError), as on a full disk."""
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


def run_gdviz(args, cwd=None, fsize: int | None = None, timeout: float = 120,
              **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gdviz", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, env=gdviz_env(), timeout=timeout,
                          preexec_fn=None if fsize is None else file_size_limit(fsize),
                          **kwargs)


def assert_one_line(stderr: str) -> str:
    """The error is one line, no traceback; returns it."""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def listing(folder: Path) -> list[str]:
    """Every name in ``folder``, hidden ones too (temporaries are hidden)."""
    return sorted(os.listdir(folder))
