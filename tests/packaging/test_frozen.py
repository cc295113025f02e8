"""The frozen executable (dist/gdviz, built by `make dist`) behaves like the installed gdviz.

The build itself runs in CI through `make dist`, not here; these tests skip with a reason when
there is no executable, or when it is older than the code (a stale build would not match).
With GDVIZ_REQUIRE_FROZEN=1 (CI, after `make dist`) those reasons fail instead of skipping.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FROZEN = ROOT / "dist" / "gdviz" / ("gdviz.exe" if sys.platform == "win32" else "gdviz")
RUN_ARGS = {
    "linreg": ["run", "--problem", "linreg", "--optimizer", "adam", "--lr", "0.05",
               "--batch-size", "4", "--epochs", "2", "--seed", "7", "--out", "-"],
    # sympy differentiates the formula inside the bundle
    "custom": ["run", "--problem", "custom", "--set", "expr=(w1-1)**2 + (w2 + w1)**4",
               "--lr", "0.01", "--steps", "40", "--out", "-"],
}


def _newest_source_change() -> float:
    files = [*(ROOT / "gdviz").rglob("*.py"), *(ROOT / "resources").rglob("*")]
    return max(p.stat().st_mtime for p in files if p.is_file())


def _skip_reason() -> str | None:
    if not FROZEN.is_file():
        return f"no executable at {FROZEN.relative_to(ROOT)} (build it with `make dist`)"
    if FROZEN.stat().st_mtime < _newest_source_change():
        return "dist/gdviz is older than gdviz/ or resources/ (rebuild with `make dist`)"
    return None


_REASON = _skip_reason()  # once, so that every test of a session agrees


@pytest.fixture(autouse=True)
def _frozen_app():
    reason = _REASON
    if reason and os.environ.get("GDVIZ_REQUIRE_FROZEN") == "1":
        pytest.fail(reason)
    if reason:
        pytest.skip(reason)


def _installed() -> list[str]:
    script = shutil.which("gdviz", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "gdviz"]


def _run(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, timeout=120, cwd=ROOT)


def test_version_matches_the_package():
    from gdviz import __version__

    proc = _run([str(FROZEN), "--version"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().strip() == f"gdviz {__version__}"


def test_problems_lists_the_same_as_installed():
    frozen, installed = _run([str(FROZEN), "problems"]), _run([*_installed(), "problems"])
    assert frozen.returncode == 0, frozen.stderr
    assert b"rosenbrock" in frozen.stdout
    assert b"wavy" in frozen.stdout
    assert frozen.stdout == installed.stdout


@pytest.mark.parametrize("case", RUN_ARGS)
def test_run_writes_the_same_csv_as_installed(case):
    args = RUN_ARGS[case]
    frozen, installed = _run([str(FROZEN), *args]), _run([*_installed(), *args])
    assert frozen.returncode == 0, frozen.stderr
    assert frozen.stdout.startswith(b"step,epoch,lr,loss,batch_loss,")
    assert frozen.stdout.count(b"\n") > 10
    assert frozen.stdout == installed.stdout
    assert frozen.stderr.splitlines()[-1:] == installed.stderr.splitlines()[-1:]


def test_export_writes_the_same_gif_as_installed(tmp_path):
    args = ["export", "--preset", "wavy", "--frames", "5", "--size", "320x240", "--out"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    frozen = subprocess.run([str(FROZEN), *args, str(tmp_path / "f.gif")], capture_output=True,
                            timeout=120, env=env)
    installed = subprocess.run([*_installed(), *args, str(tmp_path / "i.gif")],
                               capture_output=True, timeout=120, env=env)
    assert frozen.returncode == 0, frozen.stderr
    assert installed.returncode == 0, installed.stderr
    assert (tmp_path / "f.gif").read_bytes() == (tmp_path / "i.gif").read_bytes()


@pytest.mark.parametrize("kind", ["mp4", "webm"])
def test_export_writes_a_video_with_the_bundled_ffmpeg(tmp_path, kind):
    """PyAV and its FFmpeg libraries are in the bundle: the frozen app writes the video and
    PyAV (installed) decodes it; the MP4 is byte for byte the installed app's (x264 is
    deterministic; WebM files carry a random segment id)."""
    import av

    args = ["export", "--preset", "wavy", "--frames", "5", "--size", "320x240", "--out"]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    out = tmp_path / f"f.{kind}"
    frozen = subprocess.run([str(FROZEN), *args, str(out)], capture_output=True, timeout=120,
                            env=env)
    assert frozen.returncode == 0, frozen.stderr
    with av.open(str(out)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(frames) == 5
    assert frames[0].shape == (240, 320, 3)
    if kind == "mp4":
        installed = subprocess.run([*_installed(), *args, str(tmp_path / "i.mp4")],
                                   capture_output=True, timeout=120, env=env)
        assert installed.returncode == 0, installed.stderr
        assert out.read_bytes() == (tmp_path / "i.mp4").read_bytes()


def test_bad_input_is_one_line_and_status_2():
    proc = _run([str(FROZEN), "run", "--problem", "nope", "--out", "-"])
    assert proc.returncode == 2
    assert len(proc.stderr.decode().strip().splitlines()) == 1
