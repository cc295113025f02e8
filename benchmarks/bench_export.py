"""GIF export: gdviz against matplotlib, on the `wavy` animation of SCENARIOS.md.

The scene: 100 frames, 640x480, one SGD step per frame (lr 0.01, samples in order, w0 = -0.3).

- gdviz: ``ExportJob`` with the samples view (what the window shows: all 100 per-sample curves,
  their mean, the current sample's curve, point, update arrow, tangent, start line, legend and
  status line), streamed to a GIF with one shared palette.
- matplotlib: FuncAnimation + PillowWriter, drawn the way the tutorial draws it: each frame
  clears the axes and plots the current sample's curve L(w*x) over w in [-0.7, 0.7], a dashed
  vertical line at w0, the current point, the update arrow, the grid, axis labels and a title
  "step i" with the current loss; limits w in [-0.7, 0.7] and loss in (-1, 0.5) (the lesson's
  ranges). Note: ``FuncAnimation.save`` renders every frame twice with Agg (``draw_idle`` after
  the frame function, then ``savefig`` for the writer; measured 40 canvas draws for 20 frames,
  ~70 % of matplotlib's CPU time). That is how the library saves an animation and is left so;
  a hand-written loop of draw + savefig would take about a third less time than measured here.

Both replay the same runner records. Prints both times (wall clock, and CPU time of this
process, which is what to compare when other jobs share the machine) and their ratios, the
frame count and size read back from both GIFs, a breakdown of gdviz's CPU time per frame (a
second export, timed part by part: setup, runner replay, show_step, layout, paint, GIF, rest;
the parts add up to its total), and the memory of a 500-frame gdviz export (RSS after 50 and
after 500 frames).

    python benchmarks/bench_export.py [--frames 100] [--skip-matplotlib] [--skip-memory]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

SIZE = (640, 480)
FPS = 10


def wavy_config(steps: int):
    try:
        from gdviz.core.presets import get_preset
    except ImportError:  # a checkout from before presets moved to core (A/B runs against it)
        from gdviz.presets import get_preset

    return get_preset("wavy").config.with_changes(max_epochs=None, max_steps=steps)


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, AttributeError):
        return 0.0


def bench_gdviz(frames: int, folder: Path) -> tuple[float, float, float, Path]:
    """(wall s for the export, CPU s for it, s to start Qt and import the views, path)."""
    from gdviz.export.animation import ExportJob, ExportSpec

    started = time.perf_counter()
    from gdviz.gui.offscreen import ensure_app, make_source

    ensure_app()
    import gdviz.gui.views  # noqa: F401

    startup = time.perf_counter() - started
    out = folder / "gdviz_wavy.gif"
    spec = ExportSpec(wavy_config(max(frames - 1, 1)), "samples", out, frames=frames,
                      fps=FPS, size=SIZE)
    started, cpu = time.perf_counter(), time.process_time()
    ExportJob(spec, make_source).run()
    return time.perf_counter() - started, time.process_time() - cpu, startup, out


BREAKDOWN = ("setup (view, palette)", "runner replay", "view update (show_step)", "layout",
             "paint (render to QImage)", "GIF (palette lookup + LZW)", "rest (job, files)")


def gdviz_breakdown(frames: int, folder: Path) -> tuple[float, dict[str, float]]:
    """A second export of the same animation, timed part by part: (CPU ms per frame of the
    whole export, {part: CPU ms per frame}); the parts add up to the whole. Setup is the job's
    ``open`` (the view, the first frame's palette) without the first frame's drawing."""
    from gdviz.export.animation import ExportJob, ExportSpec
    from gdviz.gui.offscreen import make_source

    clock = time.process_time
    spent = dict.fromkeys(BREAKDOWN, 0.0)
    setup, replay, show, lay_out, paint, gif, _rest = BREAKDOWN

    def timed(key: str, fn):
        def call(*args, **kwargs):
            started = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[key] += clock() - started
        return call

    def factory(*args):
        source = make_source(*args)
        source.show = timed(show, source.show)
        source.lay_out = timed(lay_out, source.lay_out)
        source.paint = timed(paint, source.paint)
        return source

    def replayed(records):
        while True:
            started = clock()
            record = next(records, None)
            spent[replay] += clock() - started
            if record is None:
                return
            yield record

    spec = ExportSpec(wavy_config(max(frames - 1, 1)), "samples", folder / "breakdown.gif",
                      frames=frames, fps=FPS, size=SIZE)
    job = ExportJob(spec, source_factory=factory)
    started = clock()
    job.open()
    spent[setup] = clock() - started - spent[show] - spent[lay_out] - spent[paint]
    job._records = replayed(job._records)
    job._writer.add = timed(gif, job._writer.add)
    while job.render_next():
        pass
    job.finish()
    total = clock() - started
    spent[_rest] = total - sum(v for k, v in spent.items() if k != _rest)
    return 1000 * total / frames, {k: 1000 * v / frames for k, v in spent.items()}


def gif_facts(path: Path) -> str:
    """'100 frames 640x480' as read back from the file (both GIFs must have the same)."""
    from PIL import Image

    with Image.open(path) as gif:
        return f"{gif.n_frames} frames {gif.size[0]}x{gif.size[1]}"


def bench_matplotlib(frames: int, folder: Path) -> tuple[float, float]:
    """(wall s, CPU s) for the whole matplotlib animation, figure creation included."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.animation import FuncAnimation, PillowWriter

    from gdviz.core.runner import iterate

    config = wavy_config(max(frames - 1, 1))
    problem = config.make_problem()
    records = list(iterate(config))[:frames]
    x_data = np.asarray(problem.data_x).reshape(-1)
    w_grid = np.linspace(-0.7, 0.7, 200)
    w0 = float(records[0].params[0])

    def loss(y):
        return (-y ** 2 + y ** 3) * np.exp(-y ** 2)

    started, cpu = time.perf_counter(), time.process_time()
    fig, ax = plt.subplots(figsize=(SIZE[0] / 100, SIZE[1] / 100), dpi=100)

    def draw(i: int):
        r = records[i]
        ax.clear()
        k = int(r.batch[0]) if len(r.batch) else 0
        x = x_data[k]
        w_before, w_after = float(r.params_before[0]), float(r.params[0])
        ax.plot(w_grid, loss(w_grid * x), color="tab:blue")
        ax.axvline(w0, linestyle="--", color="grey")
        ax.plot([w_before], [loss(w_before * x)], "o", color="tab:orange")
        ax.annotate("", xy=(w_after, loss(w_after * x)), xytext=(w_before, loss(w_before * x)),
                    arrowprops={"arrowstyle": "->", "color": "tab:red"})
        ax.grid(True)
        ax.set_xlabel("w")
        ax.set_ylabel("L(w·x)")
        ax.set_title(f"step {i}   loss {r.loss:.4f}")
        ax.set_xlim(-0.7, 0.7)
        ax.set_ylim(-1, 0.5)

    animation = FuncAnimation(fig, draw, frames=frames)
    animation.save(folder / "matplotlib_wavy.gif", writer=PillowWriter(fps=FPS))
    plt.close(fig)
    return time.perf_counter() - started, time.process_time() - cpu


def memory_500(folder: Path) -> dict[str, float]:
    """RSS during a 500-frame export (after frame 50 and at the end) and the GIF's size."""
    from gdviz.export.animation import ExportJob, ExportSpec
    from gdviz.gui.offscreen import make_source

    marks: dict[str, float] = {"before": rss_mb()}

    def progress(job) -> None:
        if job.done in (50, 500):
            marks[f"after {job.done} frames"] = rss_mb()

    out = folder / "gdviz_500.gif"
    spec = ExportSpec(wavy_config(499), "samples", out, frames=500, fps=FPS, size=SIZE)
    ExportJob(spec, make_source).run(progress=progress)
    marks["gif MB"] = out.stat().st_size / 1e6
    return marks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--skip-matplotlib", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gdviz-bench-") as tmp:
        folder = Path(tmp)
        gd, gd_cpu, startup, path = bench_gdviz(args.frames, folder)
        n = args.frames
        print(f"gdviz       {n} frames {SIZE[0]}x{SIZE[1]} GIF: {gd:6.2f} s wall, "
              f"{gd_cpu:6.2f} s CPU ({1000 * gd_cpu / n:.1f} ms/frame; "
              f"{path.stat().st_size / 1e6:.2f} MB; +{startup:.2f} s once to start Qt and "
              f"import the views)")
        print(f"            read back: {gif_facts(path)}")
        total, parts = gdviz_breakdown(n, folder)
        print(f"    breakdown of a second export, {total:.1f} ms/frame CPU in all:")
        for key, ms in parts.items():
            print(f"    {key:<28} {ms:6.2f} ms/frame CPU")
        if not args.skip_matplotlib:
            mpl, mpl_cpu = bench_matplotlib(n, folder)
            size = (folder / "matplotlib_wavy.gif").stat().st_size / 1e6
            print(f"matplotlib  {n} frames {SIZE[0]}x{SIZE[1]} GIF: {mpl:6.2f} s wall, "
                  f"{mpl_cpu:6.2f} s CPU ({1000 * mpl_cpu / n:.1f} ms/frame; {size:.2f} MB)")
            print(f"            read back: {gif_facts(folder / 'matplotlib_wavy.gif')}")
            print(f"ratio       gdviz is {mpl / gd:.1f}x faster (wall), {mpl_cpu / gd_cpu:.1f}x "
                  f"(CPU); {mpl / (gd + startup):.1f}x (wall) counting Qt start-up")
        if not args.skip_memory:
            marks = memory_500(folder)
            text = ", ".join(f"{k} {v:.1f}" for k, v in marks.items() if k != "gif MB")
            print(f"memory      500-frame export, RSS in MB: {text}; "
                  f"GIF {marks['gif MB']:.2f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
