"""The Curvature view's cost per refresh, measured in one run (not a test).

Fills the view with a long noisy run (wavy, SGD with batch 1, 40 000 steps by default: its
sharpness zig-zags at every step), then times ``show_step`` and a paint of the plot (rendered
into an image) at 40 indices, for the view's own pens and for the pens it had before (λmin a
dashed 1.5-px line), and prints the mean milliseconds and their ratio. Then it feeds the view
a growing history, as the window does while a run plays (``show_step`` at 60 per second for
``--seconds``), and prints how many times it actually redrew (at most 1 / REDRAW_INTERVAL a
second).

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_curvature_view.py [--steps 40000]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="wavy")
    parser.add_argument("--steps", type=int, default=40000)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()

    import pyqtgraph as pg
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage, QPainter

    from gdviz.core.history import RunHistory
    from gdviz.core.presets import get_preset
    from gdviz.core.runner import iterate
    from gdviz.gui.app import ensure_app
    from gdviz.gui.views.curvature import REDRAW_INTERVAL, CurvatureView

    app = ensure_app()
    config = get_preset(args.preset).config.with_changes(
        max_steps=args.steps, max_epochs=None, tol=None, batch_size=1, order="shuffle")
    history = RunHistory(config.make_problem().n_params)
    history.append(iterate(config))
    view = CurvatureView()
    view.resize(560, 340)
    view.show()
    view.set_run(config.make_problem(), config, history)
    view.wait_ready(120000)
    image = QImage(560, 340, QImage.Format.Format_RGB32)

    def measure() -> tuple[float, float]:
        shows, paints = [], []
        for index in np.linspace(len(history) // 2, len(history) - 1, 40).astype(int):
            t0 = time.perf_counter()
            view.show_step(int(index))
            t1 = time.perf_counter()
            painter = QPainter(image)
            view.plot.render(painter)
            painter.end()
            shows.append(t1 - t0)
            paints.append(time.perf_counter() - t1)
        return 1e3 * float(np.mean(shows)), 1e3 * float(np.mean(paints))

    now_show, now_paint = measure()
    low = view.low_curves[0]
    pen, visible = low.opts["pen"], low.isVisible()
    low.setPen(pg.mkPen(view.tracks[0].color, width=1.5, style=Qt.PenStyle.DashLine))
    low.setVisible(True)
    old_show, old_paint = measure()
    low.setPen(pen)
    low.setVisible(visible)
    print(f"{args.preset}, {len(history)} steps, {len(view.sharp_curves[0].xData)} points drawn")
    print(f"pens before (dashed 1.5-px λmin): show {old_show:.2f} ms, paint {old_paint:.2f} ms")
    print(f"pens now:                         show {now_show:.2f} ms, paint {now_paint:.2f} ms"
          f"   paint ratio before/now {old_paint / now_paint:.1f}")

    # a growing history, show_step at 60 per second, as while a run plays
    grow = RunHistory(config.make_problem().n_params)
    records = iterate(config.with_changes(max_steps=None))
    grow.append([next(records) for _ in range(2)])
    view.set_run(config.make_problem(), config, grow)
    drawn = []
    original = view._draw

    def counting(index):
        drawn.append(index)
        original(index)

    view._draw = counting
    end = time.perf_counter() + args.seconds
    calls = 0
    while time.perf_counter() < end:
        grow.append([next(records) for _ in range(50)])
        view.show_step(len(grow) - 1)
        calls += 1
        app.processEvents()   # a benchmark, not a slot: lets the redraw timer fire
        time.sleep(1 / 60)
    print(f"growing: {calls} show_step calls in {args.seconds:g} s, {len(drawn)} redraws "
          f"({len(drawn) / args.seconds:.1f}/s; cap {1 / REDRAW_INTERVAL:.0f}/s)")
    view.close()


if __name__ == "__main__":
    main()
