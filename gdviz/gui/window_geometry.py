"""Where the main window opens and how big it is: on a laptop screen (up to 1440×900) it fills
the screen's available area; on a larger one it takes 85 % of it, centred, so extra space goes
to the plots and the window does not cover everything. A remembered geometry is moved and
shrunk into the screen it opens on (a window saved on a larger monitor, or grown past the
screen, came back taller than an 800 px screen)."""

from __future__ import annotations

from PySide6.QtCore import QRect

LAPTOP = (1440, 900)
SHARE = 0.85


def first_geometry(available: QRect) -> QRect:
    """The window's geometry on a first start, within ``available`` (the screen's area
    without task bars)."""
    if available.width() <= LAPTOP[0] or available.height() <= LAPTOP[1]:
        return QRect(available)
    width, height = int(available.width() * SHARE), int(available.height() * SHARE)
    left = available.left() + (available.width() - width) // 2
    top = available.top() + (available.height() - height) // 2
    return QRect(left, top, width, height)


def fitted(geometry: QRect, available: QRect) -> QRect:
    """``geometry`` made no larger than ``available`` and moved inside it."""
    width = min(geometry.width(), available.width())
    height = min(geometry.height(), available.height())
    left = min(max(geometry.left(), available.left()), available.right() + 1 - width)
    top = min(max(geometry.top(), available.top()), available.bottom() + 1 - height)
    return QRect(left, top, width, height)
