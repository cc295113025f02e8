"""The Landscape view and the per-sample losses along a direction, measured in one run (not a
test): what a frame costs them while a network's run plays, against the views beside them.

On mlp_spiral (2-8-8-1 tanh, 105 parameters, 500 training samples) after ``--steps`` steps,
each view offscreen at 640×480, ``show_step`` of every step in the last ``--frames`` steps
(as a run playing at full speed asks for them), in CPU time of this thread
(``time.thread_time``: the machine is shared, and wall-clock times stretch with its load):

- the Landscape view (paths of ``--runs`` runs projected onto the computed plane) against the
  Contour view (the same runs over two parameters) — both draw every run's path;
- the Per-sample losses along random direction 1 against the same view along one parameter
  (the slice it always had);
- and the landscape's background computation (51×51 grid, random plane, in the job's thread),
  the first time and when a path leaves the map;
- where OpenGL runs (an X display: ``QT_QPA_PLATFORM=xcb xvfb-run -a ...``), the Landscape
  view with its 3-D box ticked against the same view without it (show_step, CPU), what
  ticking it first costs (OpenGL and the scene made, wall clock) and a render of the 3-D
  picture (``grabFramebuffer``, wall clock: a software renderer works in threads of its own);
  and a hover move over the 3-D picture (``hover_at_pixel``: every drawn path point projected
  to pixels, the nearest described, CPU) on a path point and away from every one, and a frame
  while a readout is shown (it is projected again) against one without.

    QT_QPA_PLATFORM=offscreen python benchmarks/bench_landscape_view.py [--steps 2000]
        [--frames 200] [--runs 2]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # as the gdviz command does



def per_frame(view, first: int, last: int) -> float:
    """Mean CPU ms of ``view.show_step(k)`` for k in first..last."""
    t0 = time.thread_time()
    for k in range(first, last + 1):
        view.show_step(k)
    return (time.thread_time() - t0) * 1000 / (last - first + 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    from gdviz.core.history import RunHistory
    from gdviz.core.presets import get_preset
    from gdviz.core.run_set import PALETTE, RunSpec
    from gdviz.core.runner import run_to_end
    from gdviz.gui.views import ContourView, LandscapeView, SampleCurvesView
    from gdviz.gui.views.base import RunTrack

    app = QApplication.instance() or QApplication([])
    base = get_preset("mlp_spiral").config.with_changes(max_steps=args.steps)
    tracks = []
    for k in range(args.runs):
        config = base.with_changes(lr=base.lr * 2.0 ** -k)
        history = RunHistory(config.make_problem().n_params)
        history.append(run_to_end(config))
        tracks.append(RunTrack(RunSpec(f"lr {config.lr:g}", PALETTE[k], config), history))
    tracks = tuple(tracks)
    problem = tracks[0].config.make_problem()
    last = len(tracks[0].history) - 1
    first = max(1, last - args.frames + 1)
    print(f"mlp_spiral: {problem.n_params} parameters, {problem.n_samples} training samples, "
          f"{args.runs} runs of {last} steps; mean CPU ms of show_step over steps "
          f"{first}..{last}")

    def shown(cls):
        view = cls()
        view.resize(640, 480)
        view.show()
        view.set_run(problem, tracks[0].config, tracks[0].history)
        view.set_tracks(tracks, 0)
        return view

    landscape = shown(LandscapeView)
    t0 = time.perf_counter()
    landscape.wait_ready(120000)
    wall = time.perf_counter() - t0
    computed = landscape.computed
    print(f"landscape grid (51×51, random plane): computed in {computed.seconds:.2f} s in the "
          f"background thread ({wall:.2f} s until delivered)")
    landscape.show_step(last)             # the paths may leave [-1, 1]²: the map grows once
    grew = landscape.runner.busy
    landscape.wait_ready(120000)
    if grew:
        print(f"  a path left the map: grown to a = {landscape.computed.landscape.a[0]:.2f}.."
              f"{landscape.computed.landscape.a[-1]:.2f} in {landscape.computed.seconds:.2f} s")
    asked = landscape.runner.computations
    ms_landscape = per_frame(landscape, first, last)
    assert landscape.runner.computations == asked, "a frame asked for a landscape"
    three_d(app, landscape, first, last, ms_landscape)
    contour = shown(ContourView)
    contour.wait_ready(120000)
    ms_contour = per_frame(contour, first, last)
    print(f"Landscape view       {ms_landscape:7.2f} ms   Contour view {ms_contour:7.2f} ms   "
          f"ratio {ms_landscape / ms_contour:.2f}")

    samples = shown(SampleCurvesView)
    ms_param = per_frame(samples, first, last)
    samples.combo.setCurrentIndex(problem.n_params)      # random direction 1
    ms_direction = per_frame(samples, first, last)
    print(f"samples along dir. 1 {ms_direction:7.2f} ms   along W1_0_0 {ms_param:7.2f} ms   "
          f"ratio {ms_direction / ms_param:.2f}")
    for view in (landscape, contour, samples):
        view.close()
    app.processEvents()


def three_d(app, landscape, first: int, last: int, ms_flat: float) -> None:
    """The Landscape view's 3-D mode against its map (see the module docstring)."""
    from gdviz.gui.views.surface_parts import gl_check

    reason, renderer = gl_check()
    if reason:
        print(f"3-D mode not measured: {reason} (run under xvfb-run with QT_QPA_PLATFORM=xcb)")
        return
    t0 = time.perf_counter()
    landscape.three_d_box.setChecked(True)
    app.processEvents()
    made = time.perf_counter() - t0
    ms_3d = per_frame(landscape, first, last)
    frames = 20
    t0 = time.perf_counter()
    for k in range(last - frames + 1, last + 1):
        landscape.show_step(k)
        landscape.scene.widget.grabFramebuffer()
    render = (time.perf_counter() - t0) * 1000 / frames
    print(f"Landscape view 3-D   {ms_3d:7.2f} ms   its map {ms_flat:7.2f} ms   ratio "
          f"{ms_3d / ms_flat:.2f}; first tick {made:.2f} s; a frame drawn ({renderer}) "
          f"{render:.1f} ms wall")
    hover3d(app, landscape, first, last, ms_3d)
    landscape.three_d_box.setChecked(False)


def hover3d(app, landscape, first: int, last: int, ms_3d: float) -> None:
    """What hovering the 3-D picture costs (see the module docstring)."""
    import numpy as np

    landscape.show_step(last)
    scene, moves = landscape.scene, 200
    points = sum(len(pos) for pos in landscape.boxes3d)
    pixels = scene.to_pixels(landscape.boxes3d[0])
    pixels = pixels[np.isfinite(pixels[:, 0])]
    on = pixels[len(pixels) // 10]     # early in the path: drawn at every frame measured
    costs = []
    for where in (on, (-100.0, -100.0)):
        t0 = time.thread_time()
        for _ in range(moves):
            landscape.hover_at_pixel(*where)
        costs.append((time.thread_time() - t0) * 1000 / moves)
    app.processEvents()         # the widget's pending resize (it hides a readout) done first
    landscape.eventFilter(scene.widget, _move(on))       # the readout shown at the pointer
    ms_following = per_frame(landscape, first, last)
    shown = scene.readout_shown()
    print(f"3-D hover move       {costs[0]:7.2f} ms on a point, {costs[1]:.2f} ms on none "
          f"({points} drawn points, {len(landscape.boxes3d)} paths); a frame with a readout "
          f"{'shown' if shown else 'NOT shown'} {ms_following:.2f} ms, without {ms_3d:.2f} ms, "
          f"ratio {ms_following / ms_3d:.2f}")


def _move(where):
    """A mouse move without a button to widget pixel ``where``."""
    from PySide6.QtCore import QEvent, QPointF, Qt
    from PySide6.QtGui import QMouseEvent

    point = QPointF(float(where[0]), float(where[1]))
    return QMouseEvent(QEvent.Type.MouseMove, point, point, Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)


if __name__ == "__main__":
    main()
