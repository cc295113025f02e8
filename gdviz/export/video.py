"""MP4 (H.264) and WebM (VP9) files frame by frame, through PyAV (its wheels carry FFmpeg and
its encoders: no system FFmpeg is needed). No Qt.

    writer = VideoWriter(path, "mp4", (640, 480), fps=10)   # or "webm"
    writer.add(frame)          # (480, 640) uint32 0xAARRGGBB, as the frame sources draw them
    writer.close()             # flushes the encoder and writes the container's index

Frames are encoded as yuv420p, the pixel format every player and browser plays. yuv420p
stores colour once per 2x2 block, so both sides must be even: ``even_size`` rounds an odd side
DOWN by one pixel and the export renders its frames at that size (the frame is whole, just
one pixel narrower or shorter; ``gdviz export`` says so in a note). A frame of another size is
refused.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

import numpy as np

VIDEO_KINDS = ("mp4", "webm")
MAX_VIDEO_FPS = 60.0
# codec, container and encoder options per kind, measured by benchmarks/bench_video.py on the
# wavy scene (100 frames, 640x480; CPU time, two runs): x264 at CRF 20 "medium" (its default)
# took 1.3-1.5x the CPU of "faster" for a 2 % smaller file with a smaller error (1.25 against
# 1.35 of 255), so it stays at the default; VP9's default "good" deadline took 11-13x the CPU
# of "realtime" at speed 8 (4.2-4.4 s against 0.34-0.39 s) for a file half the size: too slow
# for an export the window waits on.
_CODECS = {
    "mp4": ("libx264", "mp4", {"crf": "20", "preset": "medium"},
            {"movflags": "+faststart"}),
    "webm": ("libvpx-vp9", "webm", {"crf": "32", "b": "0", "deadline": "realtime",
                                    "cpu-used": "8", "row-mt": "1"}, {}),
}
PIXEL_FORMAT = "yuv420p"


def even_size(size: tuple[int, int]) -> tuple[int, int]:
    """(width, height) with each odd side rounded down to even (yuv420p needs even sides)."""
    return int(size[0]) // 2 * 2, int(size[1]) // 2 * 2


def _fps_fraction(fps: float) -> Fraction:
    return Fraction(fps).limit_denominator(1001)


class VideoWriter:
    """Write ``kind`` ("mp4" or "webm") video to ``path``, one frame per ``add``.

    size: (width, height) in pixels, both even; fps: frames per second, 0 < fps <= 60.
    encoder_options: FFmpeg options of the encoder instead of gdviz's (benchmarks try others).
    The container is chosen by ``kind``, not by the file name (the export writes to a
    temporary name). Frame i is shown at time i / fps.
    """

    def __init__(self, path: str | Path, kind: str, size: tuple[int, int], fps: float,
                 encoder_options: dict[str, str] | None = None) -> None:
        # imported here, not at the top: `import av` took 63-260 ms (measured three times),
        # which the window, `gdviz run` and GIF exports need not pay
        import av

        if kind not in _CODECS:
            raise ValueError(f"video kind must be one of {', '.join(VIDEO_KINDS)}, got {kind!r}")
        if not 0 < fps <= MAX_VIDEO_FPS:
            raise ValueError(f"fps must be > 0 and <= {MAX_VIDEO_FPS:g}, got {fps}")
        width, height = int(size[0]), int(size[1])
        if width % 2 or height % 2:
            raise ValueError(f"video frames need even sides (yuv420p), got {width}x{height}")
        codec, container_format, options, container_options = _CODECS[kind]
        self.size = (width, height)
        self.kind = kind
        self.frames = 0
        self._container = av.open(str(path), mode="w", format=container_format,
                                  options=container_options)
        try:
            rate = _fps_fraction(fps)
            self._stream = self._container.add_stream(codec, rate=rate)
            self._stream.width, self._stream.height = width, height
            self._stream.pix_fmt = PIXEL_FORMAT
            self._stream.time_base = 1 / rate
            self._stream.codec_context.time_base = 1 / rate
            self._stream.options = dict(options if encoder_options is None
                                        else encoder_options)
        except BaseException:
            self._container.close()
            raise
        self._av = av
        self._closed = False

    def add(self, frame: np.ndarray) -> None:
        """Append one frame: (height, width) uint32 0xAARRGGBB pixels (Qt's RGB32), or
        (height, width, 3) uint8 RGB."""
        if self._closed:
            raise ValueError("the video is already closed")
        width, height = self.size
        if frame.shape[:2] != (height, width):
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, the video is "
                             f"{width}x{height}")
        if frame.ndim == 2 and frame.dtype == np.uint32:
            # little-endian 0xAARRGGBB words are the bytes B, G, R, A
            pixels = np.ascontiguousarray(frame).view(np.uint8).reshape(height, width, 4)
            picture = self._av.VideoFrame.from_ndarray(pixels, format="bgra")
        elif frame.ndim == 3 and frame.shape[2] == 3 and frame.dtype == np.uint8:
            picture = self._av.VideoFrame.from_ndarray(np.ascontiguousarray(frame),
                                                       format="rgb24")
        else:
            raise ValueError("a frame must be (h, w) uint32 0xAARRGGBB or (h, w, 3) uint8 RGB")
        picture.pts = self.frames
        for packet in self._stream.encode(picture):
            self._container.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flush the encoder and write the trailer (a video needs at least one frame)."""
        if self._closed:
            return
        if self.frames == 0:
            self.abort()
            raise ValueError("a video needs at least one frame")
        self._closed = True
        for packet in self._stream.encode(None):
            self._container.mux(packet)
        self._container.close()

    def abort(self) -> None:
        """Close the file without finishing it (the caller removes it)."""
        if not self._closed:
            self._closed = True
            # an encoder that never got a frame may refuse to flush
            with contextlib.suppress(Exception):
                self._container.close()
