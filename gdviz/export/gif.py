"""A streaming animated-GIF writer with one shared palette (Pillow, no Qt).

Pillow's ``save(append_images=...)`` keeps every frame until the end (it compares frames to
drop duplicates and crop unchanged borders), so memory grows with the frame count. This writer
writes each frame as soon as it gets it and keeps only the previous frame (its colour codes
and palette indices):

    GIF header + ONE global colour table (the shared palette) + loop extension
    per frame: graphic control extension (delay, "do not dispose") + image descriptor of the
               WHOLE picture + LZW data (Pillow's encoder, ``GifImagePlugin.getdata``)
    trailer

By default every frame is a whole, opaque picture (``whole_frames=True``): a tool that shows
one frame alone (``convert 'x.gif[5]' x.png``, a slide program that takes one frame) shows
all of it, without composing it from the frames before. That costs size: LZW compresses each
frame on its own, and a plot of 100 thin blended curves is ~80 KB a frame (measured: the
wavy GIF of README *Export* is 8.3 MB with whole frames, 0.7 MB without). With
``whole_frames=False`` a frame after the first holds only the rectangle that changed, its
unchanged pixels transparent (entry 255) over the kept previous picture: viewers that
compose frames (browsers, image viewers, Pillow, ``convert -coalesce``) show the same
animation, but ``convert 'x.gif[5]'`` gives a fragment.

The palette is built once from sample frames (``build_palette``, at most 255 colours); each
frame is mapped to its nearest entries without dithering (``PaletteMapper``; dithering adds
noise that changes every frame and bloats the file). Only the pixels that changed since the
previous frame are looked up again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

import numpy as np
from PIL import GifImagePlugin, Image

MAX_FPS = 50.0  # GIF delays are whole hundredths of a second; viewers slow down faster ones
MAX_DELAY_CS = 65535  # a GIF delay is 16 bits of hundredths of a second
MIN_FPS = 0.01  # 100 s a frame: 10000 hundredths, within MAX_DELAY_CS
PALETTE_COLORS = 255
TRANSPARENT = 255  # never produced by quantizing to a 255-colour palette


def _pack(pixels: np.ndarray) -> np.ndarray:
    """(h, w, 3) uint8 RGB -> (h, w) uint32 codes 0xRRGGBB."""
    p = pixels.astype(np.uint32)
    return (p[..., 0] << 16) | (p[..., 1] << 8) | p[..., 2]


def color_codes(frame: Image.Image | np.ndarray) -> np.ndarray:
    """A frame as (h, w) uint32 codes 0xRRGGBB. Takes an RGB(A) PIL image, or a (h, w) uint32
    array of 0xAARRGGBB pixels as Qt's RGB32 images hold them (no conversion: the fast path)."""
    if isinstance(frame, np.ndarray):
        if frame.ndim != 2 or frame.dtype != np.uint32:
            raise ValueError("a frame array must be (height, width) uint32 0xAARRGGBB")
        return frame & np.uint32(0xFFFFFF)
    return _pack(np.asarray(frame.convert("RGB")))


def codes_to_image(codes: np.ndarray) -> Image.Image:
    """(h, w) uint32 0x??RRGGBB -> RGB PIL image (for PNG frames)."""
    data = np.ascontiguousarray(codes, dtype=np.uint32)
    h, w = data.shape
    return Image.frombuffer("RGB", (w, h), data.tobytes(), "raw", "BGRX", 0, 1)


def _unpack(codes: np.ndarray) -> np.ndarray:
    return np.stack([(codes >> 16) & 255, (codes >> 8) & 255, codes & 255], axis=-1)


def build_palette(samples: Sequence[Image.Image | np.ndarray], colors: int = PALETTE_COLORS,
                  exact: int = 32) -> np.ndarray:
    """(k, 3) uint8 palette, k <= ``colors``, for frames like ``samples`` (see color_codes).

    The ``exact`` most frequent colours (background, grid, text, the plot's own colours) get
    entries of their own, so they come out exactly; the rest of the entries cover the set of
    distinct colours (antialiased edges, blends), each colour counted once, so that a few
    thousand edge pixels are not starved by a large white background (Pillow's max-coverage
    quantizer on the distinct colours)."""
    if not samples:
        raise ValueError("build_palette needs at least one sample frame")
    codes = np.concatenate([color_codes(s).ravel() for s in samples])
    distinct, counts = np.unique(codes, return_counts=True)
    if len(distinct) <= colors:
        return _unpack(distinct).astype(np.uint8)
    top = distinct[np.argsort(-counts, kind="stable")[:exact]]
    spread = Image.fromarray(_unpack(distinct)[None].astype(np.uint8), "RGB").quantize(
        colors - exact, method=Image.Quantize.MAXCOVERAGE)
    rest = np.asarray(spread.getpalette("RGB"), dtype=np.uint8).reshape(-1, 3)
    table = np.concatenate([_unpack(top).astype(np.uint8), rest])
    _, first = np.unique(_pack(table[None])[0], return_index=True)
    return table[np.sort(first)][:colors]


class PaletteMapper:
    """Maps RGB pixels to the nearest palette entry, exactly (Pillow's quantize-to-palette
    looks colours up in a coarse cache and can move an exact colour to a neighbour). A
    16 MiB table remembers every colour already seen, so after the first frame a frame costs
    one lookup per pixel plus the few new colours. The table's size is fixed: memory does not
    grow with the number of frames.

    Distances are sums of outer products, not a matrix product: numpy hands ``@`` to the BLAS
    library, whose worker threads then spin on the other core for a while after every frame
    (wavy: ~1 ms CPU per frame on a 2-core machine, for a few hundred new antialiased
    colours). float32 is exact here: every term and partial sum is a whole number below
    2**24 (|p|^2 <= 195075, |2 c.p| <= 390150), so ties go to the first entry as before."""

    UNSEEN = TRANSPARENT  # never a nearest entry: the palette has at most 255 colours
    CHUNK = 2048          # colours per distance table (CHUNK x 255 float32: 2 MB)

    def __init__(self, palette: np.ndarray) -> None:
        if not 1 <= len(palette) <= PALETTE_COLORS:
            raise ValueError(f"a palette needs 1 to {PALETTE_COLORS} colours")
        self.palette = np.asarray(palette, dtype=np.uint8).reshape(-1, 3)
        colors = self.palette.astype(np.float32)
        self._minus_2c = [np.ascontiguousarray(-2 * colors[:, i]) for i in range(3)]  # (k,)
        self._norms = (colors * colors).sum(axis=1)                                   # (k,)
        self._lut = np.full(1 << 24, self.UNSEEN, dtype=np.uint8)

    def __call__(self, codes: np.ndarray) -> np.ndarray:
        """uint32 colour codes 0xRRGGBB (any shape) -> uint8 palette indices (same shape)."""
        index = self._lut[codes]
        unseen = index == self.UNSEEN
        if unseen.any():
            missing = codes[unseen]
            new = _distinct(missing)
            for start in range(0, len(new), self.CHUNK):
                chunk = new[start:start + self.CHUNK]
                self._lut[chunk] = self._nearest(chunk)
            index[unseen] = self._lut[missing]
        return index

    def _nearest(self, codes: np.ndarray) -> np.ndarray:
        # |c - p|^2 = |c|^2 - 2 c.p + |p|^2; |c|^2 is the same for every entry p
        dist = np.add.outer(np.zeros(len(codes), np.float32), self._norms)
        for shift, minus_2c in zip((16, 8, 0), self._minus_2c):
            channel = ((codes >> shift) & 255).astype(np.float32)
            dist += np.multiply.outer(channel, minus_2c)
        return dist.argmin(axis=1).astype(np.uint8)


def _distinct(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of a 1-D array: ``np.unique`` without its overhead (its
    first plain call in a process imports numpy.ma, 30 ms)."""
    ordered = np.sort(values)
    keep = np.empty(ordered.shape, dtype=bool)
    keep[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def frame_delays_cs(n: int, fps: float) -> list[int]:
    """Delays in hundredths of a second for ``n`` frames at ``fps``; rounding is spread over the
    frames so that the total time is right (30 fps -> 3, 3, 4, 3, 3, 4, ...)."""
    ticks = [round(i * 100.0 / fps) for i in range(n + 1)]
    return [max(1, b - a) for a, b in zip(ticks, ticks[1:])]


class GifWriter:
    """Write an animated GIF frame by frame to the binary file ``out``.

    size:  (width, height) of every frame, pixels
    fps:   frames per second, MIN_FPS (0.01) <= fps <= MAX_FPS (50)
    loop:  0 = repeat forever; n >= 1 = play n times in all
    palette: (k, 3) uint8 from ``build_palette``; if None, built from the first frame
    whole_frames: True = every frame is the whole picture; False = a frame after the first is
        the rectangle that changed (smaller; see the module's docstring)
    Call ``add(frame)`` for each RGB frame, then ``close()`` (writes the trailer). Only the
    previous frame is kept, so memory does not grow with the number of frames.
    """

    def __init__(self, out: BinaryIO, size: tuple[int, int], fps: float, loop: int = 0,
                 palette: np.ndarray | None = None, whole_frames: bool = True) -> None:
        if not MIN_FPS <= fps <= MAX_FPS:
            raise ValueError(f"fps must be from {MIN_FPS:g} to {MAX_FPS:g}, got {fps}")
        if loop < 0:
            raise ValueError(f"loop must be >= 0, got {loop}")
        self.out = out
        self.size = (int(size[0]), int(size[1]))
        self.fps = float(fps)
        self.loop = int(loop)
        self.whole_frames = bool(whole_frames)
        self._mapper = None if palette is None else PaletteMapper(palette)
        self.frames = 0
        self._previous: np.ndarray | None = None
        self._buffers: list[np.ndarray] = []       # the codes of this and the previous frame
        self._changed: np.ndarray | None = None    # pixel changed since the previous frame
        self._indices: np.ndarray | None = None    # the palette indices of the last frame
        self._closed = False

    # -- frames ---------------------------------------------------------------------------
    @property
    def palette(self) -> np.ndarray | None:
        return None if self._mapper is None else self._mapper.palette

    def add(self, frame: Image.Image | np.ndarray) -> None:
        """Append one frame: an RGB image, or (h, w) uint32 0xAARRGGBB pixels."""
        if self._closed:
            raise ValueError("the GIF is already closed")
        codes = self._codes(frame)
        if codes.shape != (self.size[1], self.size[0]):
            raise ValueError(f"frame is {codes.shape[1]}x{codes.shape[0]}, the GIF is "
                             f"{self.size[0]}x{self.size[1]}")
        if self._mapper is None:
            self._mapper = PaletteMapper(build_palette([codes]))
        params = {"duration": self._next_delay_cs() * 10, "disposal": 1}
        offset = (0, 0)
        if self.frames == 0:
            self._write_header()
            self._indices = part = self._mapper(codes)
        elif self.whole_frames:
            self._update_indices(codes)
            part = self._indices
        else:
            # disposal 1 keeps the previous picture: only the rectangle that changed is
            # written, and inside it the unchanged pixels are transparent. Only the changed
            # pixels are looked up in the palette.
            offset, part = self._changed_part(codes)
            params["transparency"] = TRANSPARENT
        self._previous = codes
        image = Image.fromarray(np.ascontiguousarray(part), "P")
        for chunk in GifImagePlugin.getdata(image, offset=offset, **params):
            self.out.write(chunk)
        self.frames += 1

    def _codes(self, frame: Image.Image | np.ndarray) -> np.ndarray:
        """``color_codes(frame)``; a Qt-style array is masked into one of two buffers that
        take turns (the previous frame's codes are in the other), not a new array a frame."""
        if not (isinstance(frame, np.ndarray) and frame.ndim == 2
                and frame.dtype == np.uint32 and frame.shape == (self.size[1], self.size[0])):
            return color_codes(frame)
        if not self._buffers:
            self._buffers = [np.empty(frame.shape, np.uint32) for _ in range(2)]
        spare = self._buffers[1] if self._previous is self._buffers[0] else self._buffers[0]
        return np.bitwise_and(frame, np.uint32(0xFFFFFF), out=spare)

    def _changed_positions(self, codes: np.ndarray) -> np.ndarray:
        """Sorted flat positions of the pixels that differ from the previous frame (a few
        thousand of a plot's 300 000: the work is on them, not on masks of the frame)."""
        flat = codes.reshape(-1)
        if self._changed is None or self._changed.shape != flat.shape:
            self._changed = np.empty(flat.shape, dtype=bool)
        return np.flatnonzero(np.not_equal(flat, self._previous.reshape(-1),
                                           out=self._changed))

    def _update_indices(self, codes: np.ndarray) -> None:
        """The last frame's palette indices, with only the changed pixels looked up again."""
        changed = self._changed_positions(codes)
        if changed.size:
            self._indices.reshape(-1)[changed] = self._mapper(codes.reshape(-1)[changed])

    def _changed_part(self, codes: np.ndarray) -> tuple[tuple[int, int], np.ndarray]:
        """(offset, pixels) of the rectangle around the pixels that differ from the previous
        frame: palette indices where they changed, TRANSPARENT elsewhere. A 1x1 transparent
        box when nothing changed (a GIF frame cannot be empty, and keeping it keeps the frame
        count and timing honest)."""
        changed = self._changed_positions(codes)
        if changed.size == 0:
            return (0, 0), np.full((1, 1), TRANSPARENT, dtype=np.uint8)
        rows, cols = np.divmod(changed, self.size[0])
        top, bottom = int(rows[0]), int(rows[-1]) + 1       # flat positions are sorted
        left, right = int(cols.min()), int(cols.max()) + 1
        part = np.full((bottom - top, right - left), TRANSPARENT, dtype=np.uint8)
        part[rows - top, cols - left] = self._mapper(codes.reshape(-1)[changed])
        return (left, top), part

    def close(self) -> None:
        """Write the trailer (a GIF needs at least one frame)."""
        if self._closed:
            return
        if self.frames == 0:
            raise ValueError("a GIF needs at least one frame")
        self.out.write(b";")
        self.out.flush()
        self._closed = True
        self._previous = self._changed = self._indices = None
        self._buffers = []

    # -- helpers --------------------------------------------------------------------------
    def _next_delay_cs(self) -> int:
        i = self.frames
        return max(1, round((i + 1) * 100.0 / self.fps) - round(i * 100.0 / self.fps))

    def _write_header(self) -> None:
        width, height = self.size
        colors = self.palette.ravel()
        table = np.zeros(256 * 3, dtype=np.uint8)  # always 256 entries (size field 7)
        table[: colors.size] = colors
        header = bytearray(b"GIF89a")
        header += width.to_bytes(2, "little") + height.to_bytes(2, "little")
        header += bytes((0x80 | 0x70 | 0x07, 0, 0))  # global table, 8 bit colour, 256 entries
        header += table.tobytes()
        if self.loop != 1:  # NETSCAPE2.0: number of repeats after the first play, 0 = forever
            repeats = 0 if self.loop == 0 else min(self.loop - 1, 0xFFFF)
            header += b"!\xff\x0bNETSCAPE2.0\x03\x01" + repeats.to_bytes(2, "little") + b"\0"
        self.out.write(bytes(header))
