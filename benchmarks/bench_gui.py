"""The window playing at full speed, measured in one run (not a test).

Opens the real main window offscreen at 1280×800 with EVERY view dock visible (the right-hand
docks are laid out again in three rows, none behind a tab; the 3-D view shows its "unavailable
offscreen" label; ``--as-opened``: the window's own layout instead, the views a user sees),
plays the preset at speed "max" for ``--seconds`` and prints:

- steps per second reached, against the headless runner's rate for the same config measured
  in the same run (``sum(1 for _ in iterate(config))``), and their ratio (target >= 0.5);
- view refreshes per second: rounds of ``show_step`` (the controller's ``sig_step_shown``)
  (target >= 30);
- the 99th percentile of the delay of a 16 ms QTimer in the GUI thread: actual interval minus
  16 ms (target <= 50 ms);
- per view: mean and 95th percentile of ``show_step`` (Python-side work) and of painting its
  plots (their viewports' paint events), in ms, and both per refresh in wall time and in the
  GUI thread's CPU time (the difference is time spent waiting for a core or for the GIL: the
  machine is shared, and the worker and grid threads run beside the GUI thread), so the
  bottleneck is visible.

The config is the preset's first run with the samples shuffled and no step limit within reach,
so the run does not finish while it is measured. ``--runs N`` compares N runs of it with
learning rates spread by factors of two, through the multi-run controller's ``set_runs`` (steps
are then lock-step indices, against the headless rate of the N runs in lock-step). Absolute
numbers depend on the machine (and on what else runs on it): compare the ratios, and repeat.

The steps are computed where the window computes them: in a step server process
(``gdviz.gui.step_process``), or with ``--no-server`` in the worker thread (the fallback).

``--seeds K`` gives every run K seeds (the window's Seeds field): they are computed in the
background while the run plays (gui.seed_runs), and drawn as ghost paths, the end-point cloud
and the learning curve's band; the bench then also prints how many steps the seeds reached.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_gui.py [--preset wavy] [--seconds 10]
        [--runs N] [--seeds K] [--repeat 1] [--events] [--no-server] [--as-opened]
    python benchmarks/bench_gui.py --startup 5     # start-up time only (GDVIZ_STARTUP_PROBE)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from gui_probes import (  # noqa: E402
    EventClock,
    PaintTimer,
    children_pids,
    thread_times,
    times_between,
    wrap_show_step,
)

from gdviz.core.records import RunConfig  # noqa: E402
from gdviz.core.runner import iterate  # noqa: E402

WINDOW_SIZE = (1280, 800)
TIMER_MS = 16
TARGET_REFRESH = 30.0
TARGET_TIMER_P99 = 50.0
TARGET_RATIO = 0.5
MAX_RUNS = 6


def bench_config(preset: str) -> RunConfig:
    """The preset's (first) config, shuffled, with a step limit far beyond the measurement."""
    try:
        from gdviz.core.presets import get_preset
    except ImportError:  # a checkout from before presets moved to core (A/B runs against it)
        from gdviz.presets import get_preset

    found = get_preset(preset)
    first = found.runs[0] if found.runs else None
    # RunSpec since presets moved to core; a (name, config) pair before (A/B runs)
    config = found.config if first is None else getattr(first, "config", None) or first[1]
    return config.with_changes(order="shuffle", max_epochs=None, max_steps=10**9, tol=None)


def headless_rate(configs: list[RunConfig], seconds: float) -> float:
    """Lock-step steps per second of ``iterate`` alone (one step of every config per lock-step
    index, as the window's worker takes them), over about ``seconds``."""
    runs = [iterate(config) for config in configs]
    for records in runs:
        next(records)
    count, t0 = 0, time.perf_counter()
    deadline = t0 + seconds
    while True:
        for _ in range(100):
            for records in runs:
                next(records)
        count += 100
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - t0)


# the views of the window when this bench was written (issue 13's A/B pairs compare them);
# --all-views also shows the ones added since (curvature, theory, phase); --with-views A,B
# the classic ones plus A and B (an A/B pair of one added view against an older commit)
CLASSIC_VIEWS = ("samples", "contour", "histogram", "surface3d", "learning_curve", "params",
                 "data")
ALL_VIEWS = "--all-views" in sys.argv
AS_OPENED = "--as-opened" in sys.argv   # the window's own layout: the views a user sees
WITH_VIEWS = tuple(sys.argv[sys.argv.index("--with-views") + 1].split(",")
                   if "--with-views" in sys.argv[:-1] else ())


def show_every_dock(window) -> None:
    """Every view dock visible, none behind a tab: the right-hand docks are laid out again in
    three rows — the views that share a place as tabs (samples | contour, histogram | 3-D)
    side by side, then the other views, then the step math."""
    from PySide6.QtCore import Qt

    from gdviz.gui.docks import TAB_WITH

    window.setAnimated(False)   # dock moves take effect at once, not over an animation
    views = [v.view_id for v in window.controller.views if v.view_id in window.docks]
    if not ALL_VIEWS:   # the seven views the bench has always drawn, for A/B pairs
        shown = CLASSIC_VIEWS + WITH_VIEWS
        for vid in [v for v in views if v not in shown]:
            window.docks[vid].hide()
        views = [v for v in views if v in shown]
    pairs = [(h, v) for v, h in TAB_WITH.items() if v in views and h in views]
    paired = [vid for host, vid in pairs for vid in (host, vid)]
    first = [vid for vid in paired if vid in views]
    rows = [first, [vid for vid in views if vid not in first]]
    rest = [name for name in ("step_math",) if name in window.docks]
    docks = [window.docks[name] for row in rows for name in row] + \
        [window.docks[name] for name in rest]
    for dock in docks:
        window.removeDockWidget(dock)
    right = Qt.DockWidgetArea.RightDockWidgetArea
    rows = [[window.docks[name] for name in row] for row in rows if row]
    rows.append([window.docks[name] for name in rest])
    for row in rows:
        if row:
            window.addDockWidget(right, row[0], Qt.Orientation.Vertical)
    for row in rows:
        for left, dock in zip(row, row[1:]):
            window.splitDockWidget(left, dock, Qt.Orientation.Horizontal)
    for dock in window.docks.values():
        if dock in docks:
            dock.show()
    heights = [0.45, 0.35, 0.2][:len(rows)]
    window.resizeDocks([row[0] for row in rows if row],
                       [int(h * window.height()) for h in heights], Qt.Orientation.Vertical)
    for row in rows:
        if len(row) > 1:
            window.resizeDocks(row, [1000] * len(row), Qt.Orientation.Horizontal)


def start_runs(controller, configs: list[RunConfig]) -> str:
    """Give the controller these runs through its public multi-run API (``set_runs`` with
    ``gdviz.core.run_set`` specs); a sentence saying what was measured."""
    if len(configs) == 1:
        controller.set_config(configs[0])
        return ""
    try:
        from gdviz.core import run_set
    except ImportError:  # a checkout from before run_set moved to core (A/B runs against it)
        try:
            from gdviz.gui import run_set
        except ImportError:
            run_set = None
    if run_set is None or not callable(getattr(controller, "set_runs", None)):
        controller.set_config(configs[0])
        return "multi-run not available yet: measuring one run"
    specs = [run_set.single(c, color=run_set.PALETTE[k % len(run_set.PALETTE)])
             for k, c in enumerate(configs)]
    controller.set_runs(specs)
    return f"{len(configs)} runs in lock-step through controller.set_runs"


def runs_configs(config: RunConfig, n: int) -> list[RunConfig]:
    """``n`` runs of the same problem, learning rates spread by factors of two around lr."""
    factors = [2.0 ** (k - (n - 1) / 2) for k in range(n)]
    return [config.with_changes(lr=config.lr * f) for f in factors]


def last_index(controller) -> int:
    """The newest lock-step index (multi-run controller) or step (single-run controller)."""
    index = getattr(controller, "last_index", None)
    return int(index) if index is not None else int(controller.history.last.step)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def measure(preset: str, seconds: float, runs: int, events: EventClock | None = None,
            seeds: int = 1) -> dict:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from gdviz.gui.app import ensure_app
    from gdviz.gui.main_window import MainWindow
    from gdviz.gui.settings import AppSettings

    if events is not None and QApplication.instance() is None:
        app = events.app_class()(sys.argv[:1])   # ensure_app() then adopts it
    app = ensure_app()
    config = bench_config(preset)
    window = MainWindow(preset=preset, settings=AppSettings(memory=True))
    window.resize(*WINDOW_SIZE)
    window.show()
    if not AS_OPENED:
        show_every_dock(window)
    for _ in range(5):
        app.processEvents()
    c = window.controller
    multi = start_runs(c, runs_configs(config, runs))
    if seeds > 1:
        window.set_seed_count(seeds)
    hidden = [v.view_id for v in c.views if not c.view_filter(v)]
    show_times = {v.view_id: [] for v in c.views}
    show_cpu = {v.view_id: [] for v in c.views}
    paint = {}
    import pyqtgraph as pg

    for view in c.views:
        wrap_show_step(view, show_times[view.view_id], show_cpu[view.view_id])
        plots = view.findChildren(pg.GraphicsView)   # PlotWidgets and layout widgets
        if plots:
            paint[view.view_id] = PaintTimer(plots)
    for _ in range(5):
        app.processEvents()
    for times in (*show_times.values(), *show_cpu.values()):
        times.clear()
    for timer in paint.values():
        timer.times.clear()
        timer.cpu.clear()

    refreshes = [0]
    c.sig_step_shown.connect(lambda _i: refreshes.__setitem__(0, refreshes[0] + 1))
    intervals: list[float] = []
    clock = QElapsedTimer()
    ticker = QTimer()
    ticker.setTimerType(Qt.TimerType.PreciseTimer)
    ticker.setInterval(TIMER_MS)
    last = [0.0]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e6
        if last[0]:
            intervals.append(now - last[0])
        last[0] = now

    ticker.timeout.connect(tick)
    c.set_speed(None)
    step0 = last_index(c)
    if events is not None:
        events.reset()
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    clock.start()
    ticker.start()
    t0, cpu0 = time.perf_counter(), time.thread_time()
    threads0, process0 = thread_times(), os.times()
    c.play()
    children0 = {pid: thread_times(pid) for pid in children_pids()}
    loop.exec()
    elapsed = time.perf_counter() - t0
    gui_cpu = time.thread_time() - cpu0
    threads = times_between(threads0, thread_times())
    process1 = os.times()
    if threads:   # threads that ended meanwhile (a view's grid computations, one each)
        process = process1.user + process1.system - process0.user - process0.system
        ended = process - sum(run for run, *_ in threads.values())
        threads["(threads that ended meanwhile)"] = (max(0.0, ended), 0.0, 0, 0)
    for pid, before in children0.items():
        threads.update({f"[child] {k}": v
                        for k, v in times_between(before, thread_times(pid)).items()})
    c.pause()
    ticker.stop()
    event_times = dict(events.exclusive) if events is not None else {}
    event_counts = dict(events.counts) if events is not None else {}
    steps = last_index(c) - step0
    state = c.state
    seeded = [len(p) - 1 for p in getattr(getattr(c, "seed_runs", None), "paths", []) if p]
    window.close()
    app.processEvents()
    delays = [max(0.0, i - TIMER_MS) for i in intervals]
    per_view = {}
    frames = max(1, refreshes[0])
    for vid, times in show_times.items():
        ms = [1000 * t for t in times]
        pm = [1000 * t for t in paint[vid].times] if vid in paint else []
        cpu = 1000 * (sum(show_cpu[vid]) + (sum(paint[vid].cpu) if vid in paint else 0))
        per_view[vid] = (len(ms), float(np.mean(ms)) if ms else float("nan"), pct(ms, 95),
                         len(pm), float(np.mean(pm)) if pm else float("nan"), pct(pm, 95),
                         (sum(ms) + sum(pm)) / frames, cpu / frames)
    return {"steps_per_s": steps / elapsed, "refresh_per_s": refreshes[0] / elapsed,
            "timer_p99": pct(delays, 99), "timer_p50": pct(delays, 50),
            "ticks": len(intervals), "per_view": per_view, "state": state, "multi": multi,
            "hidden": hidden, "config": config, "events": event_times,
            "event_counts": event_counts, "elapsed": elapsed, "seeded": seeded,
            "last_index": step0 + steps, "gui_cpu": gui_cpu, "threads": threads}


FLOOR_CODE = ("import time, numpy, PySide6.QtWidgets, pyqtgraph; "
              "from gdviz.gui.app import process_age; print(process_age())")


def startup_times(runs: int, preset: str) -> dict[str, list[float]]:
    """``runs`` start-ups of ``gdviz`` (GDVIZ_STARTUP_PROBE: seconds from process start to the
    window shown and to its first frame painted), each followed by a "floor" process that only
    imports numpy, PySide6.QtWidgets and pyqtgraph (what any pyqtgraph app pays), so a busy
    machine shows in both."""
    import subprocess

    env = {**os.environ, "GDVIZ_STARTUP_PROBE": "1", "QT_QPA_PLATFORM": "offscreen"}
    out: dict[str, list[float]] = {"shown": [], "painted": [], "floor": []}
    for _ in range(runs):
        result = subprocess.run([sys.executable, "-m", "gdviz", "--preset", preset], env=env,
                                capture_output=True, text=True, timeout=120, check=True)
        words = result.stdout.split()
        numbers = [float(w) for w in words if w.replace(".", "", 1).isdigit()]
        out["shown"].append(numbers[0])
        out["painted"].append(numbers[1])
        floor = subprocess.run([sys.executable, "-c", FLOOR_CODE], env=env,
                               capture_output=True, text=True, timeout=120, check=True)
        out["floor"].append(float(floor.stdout.split()[-1]))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="wavy", help="lesson preset (wavy, linreg, ...)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=1,
                        help=f"runs of the same problem with different lrs (1..{MAX_RUNS})")
    parser.add_argument("--repeat", type=int, default=1, help="measure this many times")
    parser.add_argument("--headless-seconds", type=float, default=3.0)
    parser.add_argument("--events", action="store_true",
                        help="also print GUI-thread time per event type (exclusive)")
    parser.add_argument("--startup", type=int, default=0, metavar="N",
                        help="only measure start-up: N runs of gdviz with GDVIZ_STARTUP_PROBE "
                             "(median), against importing numpy + PySide6 + pyqtgraph alone")
    parser.add_argument("--all-views", action="store_true",
                        help="also show the views added after the seven classic ones "
                             "(curvature, theory, phase); without it the bench compares "
                             "like with like")
    parser.add_argument("--with-views", default="", metavar="A,B",
                        help="the seven classic views plus these (e.g. curvature)")
    parser.add_argument("--seeds", type=int, default=1, metavar="K",
                        help="every run with K seeds (1..256), computed in the background "
                             "while it plays and drawn in the views")
    parser.add_argument("--as-opened", action="store_true",
                        help="the window as it opens at 1280×800 (the views in front of their "
                             "tabs), not every classic view side by side")
    parser.add_argument("--no-server", action="store_true",
                        help="compute in the worker thread, not in a step server process "
                             "(GDVIZ_STEP_PROCESS=0)")
    args = parser.parse_args()
    if args.no_server:
        os.environ["GDVIZ_STEP_PROCESS"] = "0"
    if args.startup:
        t = startup_times(args.startup, args.preset)
        med = {k: float(np.median(v)) for k, v in t.items()}
        print(f"start-up on {args.preset}, offscreen, median of {args.startup} "
              f"(seconds from process start):")
        print(f"window shown {med['shown']:.3f}, first frame painted {med['painted']:.3f} "
              f"(target < 1.5) {'ok' if med['painted'] < 1.5 else 'MISSED'}")
        print(f"floor (numpy + PySide6.QtWidgets + pyqtgraph imported): {med['floor']:.3f}; "
              f"gdviz's own share {med['painted'] - med['floor']:.3f}")
        print("all runs: " + "; ".join(f"{k} " + ", ".join(f"{x:.2f}" for x in v)
                                       for k, v in t.items()))
        return
    if not 1 <= args.runs <= MAX_RUNS:
        parser.error(f"--runs must be 1..{MAX_RUNS}")
    from gdviz.gui import step_process

    config = bench_config(args.preset)
    configs = runs_configs(config, args.runs)
    lrs = ", ".join(f"{c.lr:g}" for c in configs)
    print(f"preset {args.preset}: {config.problem}, {config.optimizer} lr {lrs}, "
          f"batch {config.batch_size}, order {config.order}; window {WINDOW_SIZE[0]}×"
          f"{WINDOW_SIZE[1]} offscreen, speed max, {args.seconds:g} s; steps computed in "
          f"{'a step server process' if step_process.enabled() else 'the worker thread'}"
          f"{f'; {args.seeds} seeds per run' if args.seeds > 1 else ''}",
          flush=True)
    for rep in range(args.repeat):
        headless_rate(configs, 0.3)  # warm up
        headless = headless_rate(configs, args.headless_seconds)
        events = EventClock() if args.events else None
        r = measure(args.preset, args.seconds, args.runs, events, args.seeds)
        if r["multi"]:
            print(r["multi"])
        ratio = r["steps_per_s"] / headless
        ok = lambda good: "ok" if good else "MISSED"  # noqa: E731
        print(f"-- run {rep + 1}/{args.repeat} (ended {r['state']})")
        print(f"headless runner:        {headless:10.0f} steps/s (lock-step)")
        print(f"window, speed max:      {r['steps_per_s']:10.0f} steps/s   ratio "
              f"{ratio:.2f}  (target >= {TARGET_RATIO}) {ok(ratio >= TARGET_RATIO)}")
        print(f"view refreshes:         {r['refresh_per_s']:10.1f} /s        "
              f"(target >= {TARGET_REFRESH:g}) {ok(r['refresh_per_s'] >= TARGET_REFRESH)}")
        print(f"16 ms timer delay:      p50 {r['timer_p50']:5.1f} ms, p99 {r['timer_p99']:5.1f}"
              f" ms over {r['ticks']} ticks (target p99 <= {TARGET_TIMER_P99:g} ms) "
              f"{ok(r['timer_p99'] <= TARGET_TIMER_P99)}")
        if r["hidden"]:
            print(f"views not drawn (hidden): {', '.join(r['hidden'])}")
        if args.seeds > 1:
            print(f"seeds: {args.seeds} per run, computed up to step "
                  f"{', '.join(str(s) for s in r['seeded']) or 'none'} while the runs reached "
                  f"step {r['last_index']}")
        print(f"{'view':16s} {'draws':>6s} {'show mean':>10s} {'p95':>7s} "
              f"{'paints':>7s} {'paint mean':>11s} {'p95':>7s} {'both/refresh':>13s} "
              f"{'(CPU)':>7s}  (ms)")
        total = total_cpu = 0.0
        for vid, (n, mean, p95, pn, pmean, pp95, both, cpu) in r["per_view"].items():
            print(f"{vid:16s} {n:6d} {mean:10.2f} {p95:7.2f} {pn:7d} {pmean:11.2f} {pp95:7.2f} "
                  f"{both:13.2f} {cpu:7.2f}")
            total += both
            total_cpu += cpu
        frame = 1000 / r["refresh_per_s"] if r["refresh_per_s"] else float("nan")
        frames = max(1, round(r["refresh_per_s"] * r["elapsed"]))
        per_refresh = 1000 * r["gui_cpu"] / frames
        print(f"GUI thread CPU, all of it: {per_refresh:.1f} ms per refresh (on a core of its "
              f"own: at most {1000 / per_refresh:.0f} refreshes/s; CPU time hardly depends on "
              "the machine's load, wall time does)")
        print(f"views' show_step + paint: {total:.1f} ms per refresh (GUI thread CPU "
              f"{total_cpu:.1f} ms; the rest is waiting for a core or the GIL), of a refresh "
              f"period of {frame:.1f} ms")
        busy = sorted(r["threads"].items(), key=lambda kv: -kv[1][0])
        if busy:
            print("threads (this process, then its children), per refresh: ms on a core / "
                  "waiting for a core / neither (blocked); times it blocked / was preempted")
            for name, (run, wait, blocks, preempted) in busy:
                if name.startswith("(") and run > 0.01 * r["elapsed"]:   # only CPU known
                    print(f"  {name:30s} {1000 * run / frames:6.1f}")
                elif run + wait > 0.01 * r["elapsed"]:
                    blocked = max(0.0, r["elapsed"] - run - wait)
                    print(f"  {name:30s} {1000 * run / frames:6.1f} {1000 * wait / frames:6.1f}"
                          f" {1000 * blocked / frames:6.1f}   {blocks / frames:6.1f} "
                          f"{preempted / frames:6.1f}")
        if r["events"]:
            frames = max(1, round(r["refresh_per_s"] * r["elapsed"]))
            busy = sum(r["events"].values())
            print(f"GUI thread busy in events: {100 * busy / r['elapsed']:.0f} % of the time, "
                  f"{1000 * busy / frames:.1f} ms per refresh; top events (ms per refresh):")
            top = sorted(r["events"].items(), key=lambda kv: -kv[1])[:14]
            for (cls, kind), t in top:
                print(f"  {cls:28s} {kind:22s} {1000 * t / frames:7.2f}  "
                      f"({r['event_counts'][(cls, kind)]} events)")
        sys.stdout.flush()
    print_surface_time()


def print_surface_time() -> None:
    """The contour and 3-D views' grid: a cold 256×256 surface of linreg (n = 1000) and the
    same from the cache (best of 3; ``bench_surface.py`` has more problems). The views compute
    it in a background thread, so it never holds the window."""
    from bench_surface import bench  # benchmarks/ is on sys.path when run as a script

    r = bench("linreg", {"n": 1000}, 256, 3)
    print(f"256×256 surface, linreg n=1000: cold {r['cold']:.3f} s (background thread), "
          f"cached {r['cached'] * 1e6:.0f} µs, peak {r['peak_mb']:.1f} MB")


if __name__ == "__main__":
    main()
