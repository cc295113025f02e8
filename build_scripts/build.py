"""Build the one-folder executable (dist/gdviz/) and check that it works.

    python build_scripts/build.py            # build, then check
    python build_scripts/build.py --no-build # check an existing dist/gdviz

Checks: ``--version``, ``--help``, ``problems`` and ``optimizers`` print what the installed
``gdviz`` prints; ``run`` writes byte-for-byte the same CSV and ``export`` the same GIF and
MP4 (PyAV's FFmpeg inside the bundle) as the installed ``gdviz`` on the same arguments;
``--smoke`` (window, every lesson, every view, a GIF export) exits 0; ``--screenshot`` writes
a PNG.
Prints the build time, the folder size and what fills it, and the start-up times of the frozen
and the installed app. Exits 1 with the reason on the first failure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "build_scripts" / "gdviz.spec"
DIST = ROOT / "dist"
APP_DIR = DIST / "gdviz"
FROZEN = APP_DIR / ("gdviz.exe" if sys.platform == "win32" else "gdviz")

# `gdviz run` argument lists whose CSVs must match bit for bit (lessons, mini-batches,
# schedules, adaptive optimizers, a 2-D test function, custom formulas).
RUN_CASES = (
    ["--preset", "wavy"],
    ["--problem", "linreg", "--optimizer", "sgd", "--lr", "0.2", "--batch-size", "10",
     "--schedule", "step:step_size=2,gamma=0.1", "--epochs", "3", "--seed", "0"],
    ["--problem", "rosenbrock", "--optimizer", "adam", "--lr", "0.05", "--init", "-1.5,2",
     "--steps", "500"],
    ["--preset", "logistic", "--optimizer", "rmsprop", "--lr", "0.01", "--seed", "3"],
    # the custom formula: sympy differentiates it and lambdify compiles it inside the bundle
    ["--problem", "custom", "--set", "expr=(w1-1)**2 + 10*(w2 - w1**2)**2", "--optimizer",
     "sgd", "--hp", "momentum=0.9", "--lr", "0.002", "--steps", "300"],
    ["--problem", "custom", "--optimizer", "adam", "--lr", "0.1", "--epochs", "3", "--seed", "1"],
)

# `gdviz export` arguments whose GIF must match byte for byte. One 2-D view: whole-window GIFs
# can differ between two runs of the same app (a status-bar message that times out), and the
# window export is exercised by --smoke.
EXPORT_ARGS = ["--preset", "linreg", "--view", "samples", "--frames", "10", "--size", "480x320"]


class CheckFailed(Exception):
    """One line saying what is wrong with the build."""


def installed_gdviz() -> list[str]:
    """The installed ``gdviz`` command of this interpreter's environment."""
    script = shutil.which("gdviz", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "gdviz"]


def gui_env() -> dict[str, str]:
    """Environment for window commands: offscreen unless a display is available."""
    env = dict(os.environ)
    if sys.platform.startswith("linux") and not (env.get("DISPLAY") or
                                                 env.get("WAYLAND_DISPLAY")):
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def call(cmd: list[str], timeout: float = 120, env: dict | None = None,
         ) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise CheckFailed(f"`{' '.join(cmd)}` did not finish within {timeout:.0f} s") from None


def ok(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    proc = call(cmd, **kwargs)
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise CheckFailed(f"`{' '.join(map(str, cmd))}` exited {proc.returncode}: "
                          + " | ".join(tail))
    return proc


def build() -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
                           "--distpath", str(DIST), "--workpath", str(ROOT / "build" / "pyi"),
                           str(SPEC)], cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr[-4000:])
        raise CheckFailed(f"PyInstaller failed (exit {proc.returncode}); its log is above")
    return seconds


def folder_sizes(folder: Path) -> tuple[int, list[tuple[int, str]]]:
    """Total bytes, and bytes per entry of the app folder (one level into _internal/)."""
    def size(path: Path) -> int:  # symlinks (PyInstaller links libraries) count 0
        if path.is_symlink() or not path.is_dir():
            return 0 if path.is_symlink() else path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()
                   and not p.is_symlink())

    entries = []
    for path in folder.iterdir():
        inner = path.name == "_internal" and path.is_dir()
        for item in (path.iterdir() if inner else [path]):
            entries.append((size(item), str(item.relative_to(folder))))
    entries.sort(reverse=True)
    return sum(s for s, _ in entries), entries


def compare_outputs(frozen: list[str], installed: list[str], args: list[str]) -> None:
    """Same stdout bytes and exit status from the frozen and the installed app."""
    a, b = call(frozen + args), call(installed + args)
    label = "gdviz " + " ".join(args)
    if a.returncode != b.returncode:
        raise CheckFailed(f"`{label}`: frozen exit {a.returncode}, installed {b.returncode}: "
                          + a.stderr.decode(errors="replace").strip()[-300:])
    if a.returncode != 0:
        raise CheckFailed(f"`{label}` failed: " + b.stderr.decode(errors="replace").strip())
    if a.stdout != b.stdout:
        raise CheckFailed(f"`{label}`: frozen output differs from installed "
                          f"({len(a.stdout)} vs {len(b.stdout)} bytes)")


def median_seconds(cmd: list[str], repeat: int, env: dict | None = None) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        ok(cmd, env=env)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def check(frozen: list[str]) -> None:
    installed = installed_gdviz()
    for args in (["--version"], ["--help"], ["problems"], ["optimizers"]):
        compare_outputs(frozen, installed, args)
    for case in RUN_CASES:
        compare_outputs(frozen, installed, ["run", *case, "--out", "-"])
    print(f"  identical output to {' '.join(installed)}: --version, --help, problems, optimizers, "
          f"{len(RUN_CASES)} run CSVs")

    env = gui_env()
    for kind in ("gif", "mp4"):  # x264 is deterministic: the same frames give the same MP4
        with tempfile.TemporaryDirectory() as tmp:
            files = []
            for name, cmd in (("frozen", frozen), ("installed", installed)):
                files.append(Path(tmp) / f"{name}.{kind}")
                ok(cmd + ["export", *EXPORT_ARGS, "--out", str(files[-1])], env=env)
            if files[0].read_bytes() != files[1].read_bytes():
                raise CheckFailed("`gdviz export " + " ".join(EXPORT_ARGS) + f"`: the frozen "
                                  f"{kind.upper()} differs from the installed one")
        print(f"  identical {kind.upper()} from `gdviz export {' '.join(EXPORT_ARGS)}`")

    start = time.perf_counter()
    proc = ok(frozen + ["--smoke"], timeout=180, env=env)
    print(f"  --smoke passed in {time.perf_counter() - start:.1f} s "
          f"(QT_QPA_PLATFORM={env.get('QT_QPA_PLATFORM', 'default')}):")
    for line in proc.stdout.decode(errors="replace").strip().splitlines():
        print(f"    {line}")

    with tempfile.TemporaryDirectory() as tmp:
        times = {}
        for name, cmd in (("frozen", frozen), ("installed", installed)):
            png = Path(tmp) / f"{name}.png"
            version = median_seconds(cmd + ["--version"], 3)
            shot = median_seconds(cmd + ["--screenshot", str(png), "--steps", "50"], 3, env)
            if not png.is_file() or png.stat().st_size < 1000:
                raise CheckFailed(f"{name} --screenshot wrote no PNG")
            times[name] = (version, shot)
    print("  start-up (median of 3)   --version   --screenshot --steps 50")
    for name, (version, shot) in times.items():
        print(f"    {name:<10}             {version:6.2f} s   {shot:6.2f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="check the existing dist/gdviz")
    args = parser.parse_args()
    try:
        if not args.no_build:
            print(f"building {APP_DIR.relative_to(ROOT)} with PyInstaller ...", flush=True)
            print(f"  build time {build():.1f} s")
        if not FROZEN.is_file():
            raise CheckFailed(f"no executable at {FROZEN}; build it first")
        total, entries = folder_sizes(APP_DIR)
        print(f"  folder size {total / 1e6:.0f} MB; largest: " + ", ".join(
            f"{name} {size / 1e6:.0f} MB" for size, name in entries[:6]))
        check([str(FROZEN)])
    except CheckFailed as err:
        sys.stderr.write(f"build.py: FAILED: {err}\n")
        return 1
    print(f"OK: {FROZEN.relative_to(ROOT)} works")
    return 0


if __name__ == "__main__":
    sys.exit(main())
