"""Reading videos back in the export tests with PyAV (tests/export is on sys.path)."""

import av
import numpy as np


def video_frames(path):
    """(codec name, frames as (height, width, 3) int arrays, frames per second) of a video."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24").astype(int) for f in container.decode(stream)]
        return stream.codec_context.name, frames, float(stream.average_rate)


def qt_to_rgb(pixels: np.ndarray) -> np.ndarray:
    """(h, w) uint32 0xAARRGGBB -> (h, w, 3) int RGB."""
    return np.stack([(pixels >> 16) & 255, (pixels >> 8) & 255, pixels & 255], -1).astype(int)


def png_rgb(path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB")).astype(int)
