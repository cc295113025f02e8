"""Memory of an export whose frames are far apart: 2 frames, K replayed steps between them.

Each case runs in a fresh child process (peak RSS, ``ru_maxrss``, is per process). The growth
per replayed step is the slope between two K's, measured in one run for:

- chunked: the export as it is (``ExportJob`` hands the replayed steps to the frame source in
  chunks of ``REPLAY_CHUNK``), what remains is the views' history (columns);
- one list: ``REPLAY_CHUNK`` set past K, i.e. every step record between two frames held in
  one list before the source gets it (what the export did before issue 19).

    python benchmarks/bench_export_memory.py [--steps 20000,100000] [--view params]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = """
import os, resource, sys, tempfile
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
from pathlib import Path
from gdviz.core.records import RunConfig
from gdviz.export import animation
from gdviz.export.animation import ExportJob, ExportSpec
from gdviz.gui.offscreen import ensure_app, make_source

steps, view, chunk = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
animation.REPLAY_CHUNK = chunk
ensure_app()
config = RunConfig(problem="booth", lr=1e-4, max_steps=steps)
with tempfile.TemporaryDirectory() as folder:
    spec = ExportSpec(config=config, target=view, out=Path(folder) / "m.gif", frames=2,
                      steps_per_frame=steps, size=(64, 48))
    ExportJob(spec, make_source).run()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def peak_kib(steps: int, view: str, chunk: int) -> int:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", CHILD, str(steps), view, str(chunk)],
                         env=env, capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="20000,100000")
    parser.add_argument("--view", default="params")
    args = parser.parse_args()
    low, high = (int(s) for s in args.steps.split(","))
    from gdviz.export.animation import REPLAY_CHUNK

    slopes = {}
    for name, chunk in (("chunked", REPLAY_CHUNK), ("one list", 10 * high)):
        a, b = peak_kib(low, args.view, chunk), peak_kib(high, args.view, chunk)
        slopes[name] = (b - a) * 1024 / (high - low)
        print(f"{name:9s} peak RSS {a / 1024:7.1f} MiB at {low} steps, {b / 1024:7.1f} MiB "
              f"at {high}: {slopes[name]:6.0f} bytes per replayed step")
    print(f"one list / chunked: {slopes['one list'] / max(slopes['chunked'], 1):.1f}x "
          "the memory per replayed step")


if __name__ == "__main__":
    main()
