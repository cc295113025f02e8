"""Draw the app icon, resources/icons/gdviz.png: the contours of a bowl and a descending path.

Run once (``python build_scripts/make_icon.py``); the PNG is committed, so builds need not run it.
Drawn at 4x and downsampled for smooth edges.
"""

from __future__ import annotations

import math
from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
SCALE = 4
OUT = Path(__file__).resolve().parents[1] / "resources" / "icons" / "gdviz.png"


def draw(size: int = SIZE) -> Image.Image:
    big = size * SCALE
    img = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    pad = big * 0.04
    d.rounded_rectangle((pad, pad, big - pad, big - pad), radius=big * 0.18,
                        fill=(250, 250, 247, 255), outline=(40, 60, 90, 255), width=big // 64)
    cx, cy = big * 0.56, big * 0.58
    # Contours of an elongated, tilted bowl: blue outside to yellow at the minimum.
    levels = 6
    c, s = math.cos(-0.5), math.sin(-0.5)
    for i in range(levels, 0, -1):
        t = i / levels
        rx, ry = big * 0.40 * t, big * 0.22 * t
        colour = (int(60 + 190 * (1 - t)), int(110 + 110 * (1 - t)), int(200 - 150 * (1 - t)), 255)
        pts = []
        for k in range(73):
            a = 2 * math.pi * k / 72
            x, y = rx * math.cos(a), ry * math.sin(a)
            pts.append((cx + c * x - s * y, cy + s * x + c * y))
        d.line(pts, fill=colour, width=big // 90)
    # Gradient descent on the ill-conditioned bowl: it zig-zags across the narrow valley
    # while creeping along it to the minimum (local coordinates u along, v across the valley).
    rx, ry = big * 0.40, big * 0.22
    xy = []
    for k in range(7):
        u, v = -0.8 * rx * (1 - k / 6) ** 1.5, (-1) ** k * 0.75 * ry * (1 - k / 6)
        xy.append((cx + c * u - s * v, cy + s * u + c * v))
    d.line(xy, fill=(200, 40, 40, 255), width=big // 40, joint="curve")
    r = big * 0.028
    for x, y in xy:
        d.ellipse((x - r, y - r, x + r, y + r), fill=(200, 40, 40, 255))
    r *= 1.7
    d.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(30, 30, 30, 255))
    return img.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    OUT.parent.mkdir(parents=True, exist_ok=True)
    draw().save(OUT, optimize=True)
    print(f"wrote {OUT}")
