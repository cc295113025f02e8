"""Make docs/landscape_3d.png (run from the repository root, on a display with OpenGL):

    xvfb-run -a -s "-screen 0 1280x800x24" env QT_QPA_PLATFORM=xcb python docs/make_landscape_3d.py

The window's Landscape view (at 900×640) on the mlp_xor comparison after 1000 steps, its 3-D
box ticked, on the plane of both runs' paths (PCA) through SGD's last point: the surface in
the map's colours, each run's path with every point at its TRUE loss (faint where the surface
hides it: below the slice); SGD's path ends on the surface, at the centre.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's gdviz
sys.path.insert(0, str(HERE))         # make_landscape_view: the window both pictures are of


def main(out: Path = HERE / "landscape_3d.png") -> None:
    from make_landscape_view import xor_window

    from gdviz.gui.views import LandscapeView

    app, window, shown = xor_window()
    # the window's view in a 900×640 window of its own (a docked tab is ~540×210 px of 3-D)
    view = LandscapeView()
    view.resize(900, 640)
    view.show()
    view.set_run(shown.problem, shown.config, shown.history)
    view.set_tracks(shown.tracks, 0)
    view.plane_combo.setCurrentIndex(1)          # PCA of both runs' paths
    view.center_combo.setCurrentIndex(2)         # through SGD's last point
    view.wait_ready(60000)
    view.three_d_box.setChecked(True)
    if view.scene is None:
        raise SystemExit(f"no OpenGL here: {view.gl_unavailable}")
    view.show_step(view.newest_step())
    for _ in range(10):
        app.processEvents()
    # grab_image: Qt's grab drops the 3-D axis labels
    if not view.grab_image().save(str(out), "PNG"):
        raise SystemExit(f"cannot write {out}")
    view.close()
    window.close()


if __name__ == "__main__":
    main()
