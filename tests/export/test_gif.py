"""The streaming GIF writer: frame count, size, timing, loop, exact colours, flat memory."""

import io
import tracemalloc

import numpy as np
import pytest
from PIL import Image, ImageDraw

from gdviz.export.gif import (
    GifWriter,
    PaletteMapper,
    build_palette,
    codes_to_image,
    color_codes,
    frame_delays_cs,
)


def _frame(i: int, size=(160, 120)) -> Image.Image:
    im = Image.new("RGB", size, "white")
    d = ImageDraw.Draw(im)
    d.line((0, size[1] - 1, size[0], 0), fill=(90, 110, 140), width=1)
    d.ellipse((5 + 4 * i, 40, 25 + 4 * i, 60), fill=(232, 113, 10))
    d.text((4, 4), f"step {i}", fill="black")
    return im


def _write(frames, fps=10.0, loop=0, palette=None) -> bytes:
    out = io.BytesIO()
    writer = GifWriter(out, frames[0].size, fps, loop, palette)
    for f in frames:
        writer.add(f)
    writer.close()
    return out.getvalue()


def test_frames_size_and_pixels_survive_the_round_trip():
    frames = [_frame(i) for i in range(12)]
    data = _write(frames, palette=build_palette(frames[:1] + frames[-1:]))
    gif = Image.open(io.BytesIO(data))
    assert gif.n_frames == 12
    assert gif.size == (160, 120)
    for i in (0, 5, 11):
        gif.seek(i)
        decoded = np.asarray(gif.convert("RGB")).astype(int)
        # few colours in the palette samples: every pixel comes back exactly
        assert np.abs(decoded - np.asarray(frames[i]).astype(int)).max() <= 40
        assert np.mean(np.abs(decoded - np.asarray(frames[i]).astype(int))) < 0.5


def test_identical_frames_still_count_and_timing_adds_up():
    frames = [_frame(0)] * 5
    gif = Image.open(io.BytesIO(_write(frames, fps=30)))
    assert gif.n_frames == 5
    total = 0
    for i in range(5):
        gif.seek(i)
        total += gif.info["duration"]
    assert total == sum(frame_delays_cs(5, 30)) * 10
    assert frame_delays_cs(6, 30) == [3, 4, 3, 3, 4, 3]


@pytest.mark.parametrize(("loop", "expected"), [(0, 0), (3, 2)])
def test_loop_count(loop, expected):
    gif = Image.open(io.BytesIO(_write([_frame(0), _frame(1)], loop=loop)))
    assert gif.info["loop"] == expected


def test_play_once_has_no_loop_extension():
    gif = Image.open(io.BytesIO(_write([_frame(0), _frame(1)], loop=1)))
    assert "loop" not in gif.info


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="fps"):
        GifWriter(io.BytesIO(), (10, 10), 0)
    with pytest.raises(ValueError, match="fps"):
        GifWriter(io.BytesIO(), (10, 10), 60)
    writer = GifWriter(io.BytesIO(), (10, 10), 10)
    with pytest.raises(ValueError, match="10x10"):
        writer.add(Image.new("RGB", (11, 10)))
    with pytest.raises(ValueError, match="at least one frame"):
        writer.close()


def test_mapper_is_exact_for_palette_colours_and_nearest_otherwise():
    palette = np.array([[255, 255, 255], [232, 113, 10], [26, 58, 143]], np.uint8)
    mapper = PaletteMapper(palette)
    codes = np.array([0xFFFFFF, 0xE8710A, 0x1A3A8F, 0xE0700A, 0xFEFEFE], np.uint32)
    assert mapper(codes).tolist() == [0, 1, 2, 1, 0]


def test_mapper_finds_the_nearest_entry_like_brute_force():
    """Many colours at once (several distance tables), duplicate entries (ties go to the
    first), against float64 distances to every entry."""
    rng = np.random.default_rng(3)
    palette = rng.integers(0, 256, (255, 3)).astype(np.uint8)
    palette[200:] = palette[:55]
    codes = rng.integers(0, 1 << 24, 20_000).astype(np.uint32)
    rgb = np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], -1).astype(float)
    brute = ((rgb[:, None, :] - palette[None].astype(float)) ** 2).sum(-1).argmin(axis=1)
    mapper = PaletteMapper(palette)
    assert np.array_equal(mapper(codes), brute)
    assert np.array_equal(mapper(codes[::-1]), brute[::-1])  # now from the table


def test_a_frame_array_reused_by_the_caller_is_read_again():
    """The writer keeps its own copy of the previous frame: a caller may paint the next frame
    into the same array."""
    size = (40, 30)
    frame = np.full((30, 40), 0xFFFFFFFF, np.uint32)
    out = io.BytesIO()
    writer = GifWriter(out, size, 10, 0, np.array([[255, 255, 255], [232, 113, 10]], np.uint8))
    expected = []
    for i in range(4):
        frame[:] = 0xFFFFFFFF
        frame[5:9, 3 + 5 * i: 8 + 5 * i] = 0xFFE8710A
        writer.add(frame)
        expected.append(codes_to_image(frame.copy()))
    writer.close()
    gif = Image.open(io.BytesIO(out.getvalue()))
    for i, want in enumerate(expected):
        gif.seek(i)
        assert np.array_equal(np.asarray(gif.convert("RGB")), np.asarray(want))


def test_qt_style_uint32_frames_are_taken_as_they_are():
    argb = np.full((4, 6), 0xFF123456, np.uint32)
    assert np.all(color_codes(argb) == 0x123456)
    assert codes_to_image(argb).getpixel((0, 0)) == (0x12, 0x34, 0x56)


def test_memory_does_not_grow_with_the_number_of_frames():
    """Streaming: 200 frames need no more memory than 20 (only the previous frame is kept)."""
    size = (320, 240)
    rng = np.random.default_rng(0)
    base = np.asarray(_frame(0, size)).copy()

    def peak(n: int) -> int:
        out = io.BytesIO()
        writer = GifWriter(out, size, 25, 0, build_palette([Image.fromarray(base)]))
        tracemalloc.start()
        for _i in range(n):
            f = base.copy()
            y, x = rng.integers(0, 200), rng.integers(0, 300)
            f[y:y + 20, x:x + 20] = (232, 113, 10)
            writer.add(Image.fromarray(f))
            out.seek(0)
            out.truncate()  # the file's own bytes are not the writer's memory
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        writer.close()
        return top

    small, large = peak(20), peak(200)
    assert large < small * 1.5 + 200_000


def test_export_job_gif_and_session_modules_import_no_qt():
    import subprocess
    import sys

    code = ("import sys, gdviz.export.animation, gdviz.export.session, gdviz.export.gif, "
            "gdviz.export.files, gdviz.export.trace, gdviz.cli.export, gdviz.gui.offscreen; "
            "print([m for m in sys.modules if m.startswith(('PySide6', 'pyqtgraph'))])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
