"""Each view's own cost per frame on a preset, in CPU time of the GUI thread (not a test).

Builds every view of ``VIEW_CLASSES`` alone (``--size``, offscreen), gives it a recorded run of
``--steps`` steps and draws frames as a playing run does: ``show_step`` at every ``--stride``-th
step of the second half, then the view rendered into an image, ``--pause`` ms of idle time
and the events processed between frames (so throttled work and trailing redraws happen as in
the window). Prints per view the mean and 95th percentile of ``show_step`` and the mean of the
rendering, in ms of the GUI thread's CPU time (``time.thread_time``): unlike wall time this
hardly moves when other processes load the machine, so two checkouts can be compared in one
run of each. Background threads' work (loss grids, thumbnails) is not counted.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_views.py [--preset mlp_spiral]
        [--views samples,data] [--steps 3000] [--stride 13] [--pause 20]

(The 3-D view draws its map fallback offscreen: it is left out.)
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from gdviz.core.history import RunHistory  # noqa: E402
from gdviz.core.presets import get_preset  # noqa: E402
from gdviz.core.runner import iterate  # noqa: E402

KEPT: list = []


def measure(cls, problem, config, history, size, indices, pause_s, app) -> tuple:
    view = cls()
    view.resize(*size)
    view.show()
    view.set_run(problem, config, history)
    app.processEvents()
    shows, renders = [], []
    for index in indices:
        t0 = time.thread_time()
        view.show_step(int(index))
        t1 = time.thread_time()
        view.grab()
        t2 = time.thread_time()
        shows.append(t1 - t0)
        renders.append(t2 - t1)
        time.sleep(pause_s)
        app.processEvents()
    view.close()
    from gdviz.gui.tasks import stop_all_threads

    stop_all_threads(0, within=view)   # asked to stop; joined (or left) at exit
    KEPT.append(view)               # deleted at exit, once no thread works for it
    return 1000 * np.mean(shows), 1000 * np.percentile(shows, 95), 1000 * np.mean(renders)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="mlp_spiral")
    parser.add_argument("--views", default="", help="view ids, comma-separated (default all)")
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--stride", type=int, default=13)
    parser.add_argument("--pause", type=float, default=20.0, help="ms between frames")
    parser.add_argument("--size", default="420x300")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication([])
    from gdviz.gui.gui_gc import collect_in_gui_thread
    from gdviz.gui.tasks import stop_all_threads
    from gdviz.gui.views import VIEW_CLASSES

    collect_in_gui_thread()   # as the window does: a collection in a task thread can crash Qt

    found = get_preset(args.preset)
    config = (found.runs[0].config if found.runs else found.config).with_changes(
        max_steps=args.steps)
    problem = config.make_problem()
    history = RunHistory(problem.n_params)
    history.append(iterate(config))
    size = tuple(int(v) for v in args.size.split("x"))
    indices = np.arange(len(history) // 2, len(history), args.stride)
    wanted = [v for v in args.views.split(",") if v]
    print(f"preset {args.preset}: {problem.n_params} parameters, {problem.n_samples} samples; "
          f"{len(indices)} frames per view at {args.size}, GUI-thread CPU ms")
    print(f"{'view':16s} {'show':>7s} {'p95':>7s} {'render':>7s} {'both':>7s}")
    total = 0.0
    for cls in VIEW_CLASSES:
        if cls.view_id == "surface3d" or (wanted and cls.view_id not in wanted):
            continue
        show, p95, render = measure(cls, problem, config, history, size, indices,
                                    args.pause / 1000, app)
        total += show + render
        print(f"{cls.view_id:16s} {show:7.2f} {p95:7.2f} {render:7.2f} {show + render:7.2f}")
    print(f"{'all':16s} {'':7s} {'':7s} {'':7s} {total:7.2f}")
    stop_all_threads(5000)
    sys.stdout.flush()
    # a view's task may still be computing (the curvature view's Hessians of a network take
    # minutes, and its thread is joined only by its window): leave without destroying it
    os._exit(0)


if __name__ == "__main__":
    main()
