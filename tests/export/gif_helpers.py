"""Reading GIFs back in the export tests (tests/export is on sys.path: no __init__.py)."""

import numpy as np
from PIL import Image


def gif_frames(path):
    """(the opened GIF, its frames as (height, width, 3) int arrays)."""
    gif = Image.open(path)
    out = []
    for i in range(gif.n_frames):
        gif.seek(i)
        out.append(np.asarray(gif.convert("RGB")).astype(int))
    return gif, out
