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


def gif_frame_boxes(path):
    """Each frame's image descriptor as written, not composed: a list of
    ((left, top, width, height), transparent) read from the GIF's blocks."""
    data = open(path, "rb").read()  # noqa: SIM115
    assert data[:6] in (b"GIF87a", b"GIF89a")
    flags = data[10]
    pos = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    boxes, transparent = [], False

    def skip_sub_blocks(pos):
        while data[pos]:
            pos += data[pos] + 1
        return pos + 1

    while data[pos] != 0x3B:  # trailer
        if data[pos] == 0x21:  # extension
            if data[pos + 1] == 0xF9:  # graphic control: the transparency flag
                transparent = bool(data[pos + 3] & 1)
            pos = skip_sub_blocks(pos + 2)
        elif data[pos] == 0x2C:  # image descriptor
            left, top, width, height = (int.from_bytes(data[pos + 1 + 2 * i:pos + 3 + 2 * i],
                                                       "little") for i in range(4))
            local = data[pos + 9]
            pos += 10 + (3 * 2 ** ((local & 7) + 1) if local & 0x80 else 0)
            pos = skip_sub_blocks(pos + 1)  # LZW minimum code size, then the data
            boxes.append(((left, top, width, height), transparent))
            transparent = False
        else:
            raise AssertionError(f"unexpected GIF block 0x{data[pos]:02x} at {pos}")
    return boxes
