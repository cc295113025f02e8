"""What resuming a run costs and saves, measured in one run.

1. The runner's rate with its cursor (the few stores a step that let a run be snapshotted,
   core.run_snapshot) against the runner as it was before the cursor (its source at the
   parent of the commit that added core/run_snapshot.py, loaded from git), alternating,
   best of ``--repeat``: ratio after/before (target >= 0.97).
2. A snapshot: the time to take it and pickle it, and its size (the step server sends one
   with a block every SNAPSHOT_SECONDS or SNAPSHOT_GROUPS).
3. A step server killed after ``--play`` seconds of a run taken at full speed: the time from
   the kill to the first new group (one the server had not sent), resuming from the server's
   latest snapshot against the fallback before snapshots (recomputing every group from step
   0; the same source with its snapshot dropped), and how many groups each recomputed.

    python benchmarks/bench_resume.py [--steps 100000] [--repeat 5] [--play 1 3]
"""

from __future__ import annotations

import argparse
import pickle
import subprocess
import time
import types
from pathlib import Path

from gdviz.core import step_server
from gdviz.core.records import RunConfig
from gdviz.core.run_snapshot import RunCursor
from gdviz.core.runner import iterate

ROOT = Path(__file__).resolve().parent.parent
RATE_RUNS = {
    "wavy sgd batch 1": RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1,
                                  order="sequential", init=(-0.3,)),
    "linreg adam batch 10 shuffle": RunConfig(problem="linreg", optimizer="adam", lr=0.01,
                                              batch_size=10),
    "rosenbrock sgd": RunConfig(problem="rosenbrock", optimizer="sgd", lr=1e-5,
                                init=(-1.5, 2.0)),
}
SNAPSHOT_RUNS = {
    "wavy sgd": RATE_RUNS["wavy sgd batch 1"],
    "mlp 2-8-8-1 adam, 500 samples": RunConfig(problem="mlp", settings={"n": 500},
                                               optimizer="adam", lr=0.01, batch_size=25),
    "linreg lbfgs (pairs held)": RunConfig(problem="linreg", optimizer="lbfgs", lr=0.5,
                                           batch_size=50),
}
LONG_RUN = RunConfig(problem="rosenbrock", optimizer="sgd", lr=1e-5, init=(-1.5, 2.0),
                     max_steps=50_000_000)


def runner_before():
    """``iterate`` of core/runner.py before the cursor, from git."""
    added = subprocess.run(["git", "log", "--format=%H", "--diff-filter=A", "-n1", "--",
                            "gdviz/core/run_snapshot.py"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.strip()
    source = subprocess.run(["git", "show", f"{added}^:gdviz/core/runner.py"], cwd=ROOT,
                            capture_output=True, text=True, check=True).stdout
    module = types.ModuleType("runner_before")
    exec(compile(source, "runner_before.py", "exec"), module.__dict__)
    return module.iterate, added[:10]


def rate(run_iterate, config: RunConfig, steps: int) -> float:
    config = config.with_changes(max_steps=steps)
    started = time.perf_counter()
    count = sum(1 for _ in run_iterate(config))
    return (count - 1) / (time.perf_counter() - started)


def bench_rates(steps: int, repeat: int) -> None:
    before, commit = runner_before()
    print(f"runner steps/s with the cursor (after) vs before it ({commit}^), best of {repeat}")
    for name, config in RATE_RUNS.items():
        best = {"before": 0.0, "after": 0.0}
        for _ in range(repeat):
            best["before"] = max(best["before"], rate(before, config, steps))
            best["after"] = max(best["after"], rate(iterate, config, steps))
        print(f"  {name:32s} before {best['before']:9.0f}  after {best['after']:9.0f}  "
              f"ratio {best['after'] / best['before']:.3f}")


def bench_snapshots() -> None:
    print("snapshot of a run at step 1000: take + pickle (server), unpickle (window), size;\n"
          "  share of the server's time at a snapshot every SNAPSHOT_SECONDS or "
          "SNAPSHOT_GROUPS steps")
    for name, config in SNAPSHOT_RUNS.items():
        cursor = RunCursor()
        records = iterate(config.with_changes(max_steps=2000), cursor=cursor)
        started = time.perf_counter()
        for _ in range(1001):
            next(records)
        steps_per_second = 1000 / (time.perf_counter() - started)
        count = 200
        started = time.perf_counter()
        for _ in range(count):
            data = pickle.dumps(cursor.snapshot())
        took = (time.perf_counter() - started) / count
        started = time.perf_counter()
        for _ in range(count):
            pickle.loads(data)
        read = (time.perf_counter() - started) / count
        per_second = max(1 / step_server.SNAPSHOT_SECONDS,
                         steps_per_second / step_server.SNAPSHOT_GROUPS)
        print(f"  {name:32s} {took * 1e6:6.1f} µs  {read * 1e6:6.1f} µs  {len(data):6d} bytes"
              f"  {100 * took * per_second:5.2f} % at {steps_per_second:.0f} steps/s")


def killed_server(play: float, keep_snapshot: bool) -> tuple[float, int, int]:
    """(s from the kill to the first new group, groups received, groups recomputed)."""
    from gdviz.gui import step_process

    lost: list[tuple[int, int]] = []
    source = step_process.open_source([LONG_RUN], iterate, lambda: False,
                                      lambda *counts: lost.append(counts))
    assert source.remote, "no step server"
    taken = source.next_block(1).count   # the server is up
    started = time.perf_counter()
    while time.perf_counter() - started < play:
        taken += source.next_block(100_000).count
    if not keep_snapshot:
        source._snapshot = None   # private: the fallback as it was before snapshots
    process = source._server.process   # private: the run's own server
    killed = time.perf_counter()
    process.kill()
    while True:
        block = source.next_block(100_000)
        taken += block.count
        if lost and taken > lost[0][0]:
            break
    new_step = time.perf_counter() - killed
    source.close()
    process.join(5)
    return new_step, *lost[0]


def bench_fallback(plays: list[float]) -> None:
    print("step server killed at full speed (rosenbrock sgd): kill -> first new step")
    for play in plays:
        for keep, label in ((False, "before (from step 0)  "), (True, "after (from snapshot)")):
            took, received, recomputed = killed_server(play, keep)
            print(f"  after {play:4.1f} s  {label}  {took * 1000:8.1f} ms  "
                  f"(server had sent {received} groups, {recomputed} recomputed)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--play", type=float, nargs="+", default=[1.0, 3.0])
    args = parser.parse_args()
    bench_rates(args.steps, args.repeat)
    bench_snapshots()
    bench_fallback(args.play)


if __name__ == "__main__":
    main()
