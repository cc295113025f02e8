"""Animation formats on the `wavy` scene of bench_export.py (100 frames, 640x480, 10 fps):
GIF with whole frames (the default) or changed rectangles, MP4 (H.264) and WebM (VP9) with
gdviz's encoder settings and with the encoders' slower defaults.

The frames are drawn once by the samples view (``ExportJob``'s frame source) and kept in
memory; each format then writes the same frames, so the times are the writers' alone. For
each: encoding time (wall and CPU of this process), file size, and how far the decoded frames
are from the drawn ones (mean absolute difference per channel, 0-255; GIF: palette rounding,
video: yuv420p and compression). Ratios are against gdviz's MP4 in the same run.

    python benchmarks/bench_video.py [--frames 100]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

SIZE = (640, 480)
FPS = 10
# (label, kind, writer options): None = gdviz's own settings
CASES = (
    ("GIF whole frames (default)", "gif", {"whole_frames": True}),
    ("GIF changed rectangles", "gif", {"whole_frames": False}),
    ("MP4 gdviz (x264 crf 20 medium)", "mp4", None),
    ("MP4 x264 crf 20 faster", "mp4", {"crf": "20", "preset": "faster"}),
    ("WebM gdviz (VP9 crf 32 realtime 8)", "webm", None),
    ("WebM VP9 crf 32 good (default)", "webm", {"crf": "32", "b": "0"}),
)


def draw_frames(frames: int) -> list[np.ndarray]:
    from gdviz.core.lockstep import iterate_lockstep
    from gdviz.core.presets import get_preset
    from gdviz.gui.offscreen import ensure_app, make_source

    ensure_app()
    config = get_preset("wavy").config.with_changes(max_epochs=None, max_steps=frames)
    source = make_source("samples", SIZE)
    try:
        records = iterate_lockstep([config])
        source.start(config, next(records)[0])
        source.append(list(records))
        return [source.render(i).copy() for i in range(frames)]
    finally:
        source.close()


def write(kind: str, options, frames: list[np.ndarray], path: Path) -> None:
    from gdviz.export.gif import GifWriter, build_palette
    from gdviz.export.video import VideoWriter

    if kind == "gif":
        with open(path, "wb") as handle:
            writer = GifWriter(handle, SIZE, FPS, 0, build_palette(frames[:1]),
                               whole_frames=options["whole_frames"])
            for frame in frames:
                writer.add(frame)
            writer.close()
        return
    writer = VideoWriter(path, kind, SIZE, FPS, encoder_options=options)
    for frame in frames:
        writer.add(frame)
    writer.close()


def decoded(kind: str, path: Path) -> list[np.ndarray]:
    if kind == "gif":
        from PIL import Image

        out = []
        with Image.open(path) as gif:
            for i in range(gif.n_frames):
                gif.seek(i)
                out.append(np.asarray(gif.convert("RGB")))
        return out
    import av

    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100)
    args = parser.parse_args()
    started = time.perf_counter()
    frames = draw_frames(args.frames)
    print(f"drew {len(frames)} frames of {SIZE[0]}x{SIZE[1]} in "
          f"{time.perf_counter() - started:.2f} s (not counted below)")
    rgb = [np.stack([(f >> 16) & 255, (f >> 8) & 255, f & 255], -1).astype(np.int16)
           for f in frames]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, kind, options in CASES:
            path = Path(tmp) / f"{len(rows)}.{kind}"
            wall, cpu = time.perf_counter(), time.process_time()
            write(kind, options, frames, path)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            back = decoded(kind, path)
            assert len(back) == len(frames), (label, len(back))
            error = np.mean([np.abs(b.astype(np.int16) - a).mean() for a, b in zip(rgb, back)])
            rows.append((label, wall, cpu, path.stat().st_size, error))
    reference = next(r for r in rows if r[0].startswith("MP4 gdviz"))
    print(f"{'format':38s} {'wall s':>7s} {'cpu s':>7s} {'size KB':>9s} {'x MP4':>6s} "
          f"{'error':>6s}")
    for label, wall, cpu, size, error in rows:
        print(f"{label:38s} {wall:7.2f} {cpu:7.2f} {size / 1e3:9.0f} "
              f"{size / reference[3]:6.1f} {error:6.2f}")
    print("(time ratios to gdviz's MP4: "
          + ", ".join(f"{label.split(' (')[0]} {wall / reference[1]:.1f}x" for label, wall, *_
                      in rows) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
