"""Make docs/landscape_view.png (run from the repository root, under a display or offscreen):

    QT_QPA_PLATFORM=offscreen python docs/make_landscape_view.py

The window at 1280×800 on the mlp_xor comparison after 1000 steps, the Landscape tab in front
on the plane of both runs' paths (PCA) through the start, with the hover label of SGD's point
at step 500: its distance from the plane, its true loss and the surface's loss there.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's gdviz


def xor_window():
    """(the application, the window at 1280×800 on mlp_xor after 1000 steps, its Landscape
    view brought to the front)."""
    os.environ.setdefault("GDVIZ_SETTINGS", str(Path(tempfile.mkdtemp()) / "settings.ini"))
    from PySide6.QtWidgets import QApplication

    from gdviz.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    window = MainWindow(preset="mlp_xor")
    window.resize(1280, 800)
    window.show()
    app.processEvents()
    window.controller.run_until(1000)
    window.docks["landscape"].raise_()
    return app, window, next(v for v in window.views if v.view_id == "landscape")


def main(out: Path = HERE / "landscape_view.png") -> None:
    app, window, view = xor_window()
    view.plane_combo.setCurrentIndex(1)          # PCA of both runs' paths
    view.wait_ready(60000)
    view.show_step(view.newest_step())
    track, steps, xy = view._drawn[0]
    k = int(abs(steps - 500).argmin())
    view.hover_at(xy[k, 0], xy[k, 1])
    for _ in range(3):
        app.processEvents()
    if not window.grab().save(str(out), "PNG"):
        raise SystemExit(f"cannot write {out}")
    window.close()


if __name__ == "__main__":
    main()
