"""Make the README's screenshots of many seeds (docs/noise_*.png) with gdviz itself:

    QT_QPA_PLATFORM=offscreen python docs/make_noise_shots.py

noise_ball.png: the contour of the noise_ball preset at its last step, zoomed on the minimum
(each learning rate's 64 seeds, their 1σ/2σ ellipses and the predicted ones);
noise_panel.png: the window on noise_batch at its last step, the Gradient noise view in front;
noise_wavy.png: the window on noise_wavy at its last step (100 seeds' w on the parameter trace).
"""

from __future__ import annotations

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent


def window_on(preset: str, steps: int, size=(1280, 800)):
    from gdviz.gui.main_window import MainWindow
    from gdviz.gui.offscreen.painting import wait_for_grids
    from gdviz.gui.settings import AppSettings

    window = MainWindow(preset=preset, settings=AppSettings(memory=True))
    window.resize(*size)
    window.show()
    window.controller.run_until(steps)
    window.wait_for_seeds()
    wait_for_grids(window.views)
    return window


def save(image, name: str) -> None:
    """The grab as a PNG of at most 256 colours (a plot has few; 785 kB became ~250 kB)."""
    from PIL import Image

    path = DOCS / name
    image.save(str(path))
    Image.open(path).convert("RGB").quantize(256).save(path, optimize=True)


def settle(app, window) -> None:
    from gdviz.gui.offscreen.painting import wait_for_grids

    for _ in range(5):
        app.processEvents()
    wait_for_grids(window.views)
    for _ in range(5):
        app.processEvents()


def main() -> int:
    from gdviz.gui.app import ensure_app

    app = ensure_app()
    window = window_on("noise_ball", 1500, (1600, 1000))
    window.show_captions(False)
    contour = next(v for v in window.views if v.view_id == "contour")
    window.focus.toggle("contour")   # the contour alone fills the window
    contour.box.setRange(xRange=(0.9, 3.1), yRange=(-0.3, 2.0), padding=0)
    settle(app, window)
    save(contour.grab(), "noise_ball.png")
    window.close()

    window = window_on("noise_batch", 600)
    window.docks["noise"].raise_()
    settle(app, window)
    save(window.grab(), "noise_panel.png")
    window.close()

    window = window_on("noise_wavy", 300)
    window.show_captions(False)
    settle(app, window)
    save(window.grab(), "noise_wavy.png")
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
