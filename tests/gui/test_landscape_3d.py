"""The Landscape view's 3-D mode: nothing made until its box is ticked; offscreen a label says
why and the map stays (exports draw it); on a real X server (Xvfb + xcb, in a subprocess as
for the 3-D view) the surface is the computed grid on the map's colour scale and every path
point sits at its TRUE loss."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from test_landscape_view import landscape, track_of, xor_config  # tests/gui is on sys.path
from test_surface3d import run_gl_script

from gdviz.core.run_set import RunSpec
from gdviz.export.session import Session, save_session
from gdviz.gui.view_choices import view_choices


def test_offscreen_the_box_explains_and_the_map_stays(qtbot):
    view = landscape(qtbot, (track_of(xor_config()),))
    assert view.scene is None                                     # nothing until asked
    assert view.gl_label is None
    assert view_choices(view)["three_d_box"] is False
    view.three_d_box.setChecked(True)
    assert view.scene is None
    assert "offscreen" in view.gl_unavailable
    assert view.gl_label.isVisible()
    assert view.gl_label.text().startswith("3-D unavailable: OpenGL needs a display")
    assert view.plot.isVisible()                                  # the map from above
    view.show_step(50)
    assert len(view.paths[0].xData) == 51
    assert view.paths3d == []
    view.three_d_box.setChecked(False)
    assert not view.gl_label.isVisible()
    view.close()


def test_offscreen_an_export_with_3d_chosen_draws_the_map(qapp, tmp_path, capsys):
    from PIL import Image

    from gdviz.cli.main import main

    config = xor_config().with_changes(max_steps=40)
    session = save_session(tmp_path / "s.gdviz.json", Session(
        (RunSpec("xor", "#1a3a8f", config),), 0, 0, {"landscape": {"three_d_box": True}}))
    code = main(["export", "--session", str(session), "--view", "landscape", "--frames", "2",
                 "--size", "480x360", "--png-dir", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    pixels = np.asarray(Image.open(tmp_path / "out" / "frame_0001.png").convert("RGB"))
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 200    # the colour map, not blank


# the two runs of mlp_xor (300 steps) in a shown Landscape view on the PCA plane of their
# paths, for a script that runs on the X display (run_gl_script)
SETUP = r"""
import json, sys
import numpy as np
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gdviz.core.history import RunHistory
from gdviz.core.presets import get_preset
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.gui.views import LandscapeView
from gdviz.gui.views.base import RunTrack

def spin(n=20):
    for _ in range(n):
        app.processEvents()

preset = get_preset("mlp_xor")
tracks = []
for run, color in zip(preset.runs, ("#1a3a8f", "#d62728")):
    cfg = run.config.with_changes(max_steps=300)
    h = RunHistory(cfg.make_problem().n_params); h.append(run_to_end(cfg))
    tracks.append(RunTrack(RunSpec(run.name, color, cfg), h))
view = LandscapeView(); view.resize(760, 600); view.show()
view.set_run(tracks[0].config.make_problem(), tracks[0].config, tracks[0].history)
view.set_tracks(tuple(tracks), 0)
view.plane_combo.setCurrentIndex(1)          # PCA of both paths
"""

GL_SCRIPT = SETUP + r"""
from gdviz.core.history import decimate
from gdviz.gui.views.surface_parts import DISTANCE, HEIGHT, WIDE, box_points, to_box
view.center_combo.setCurrentIndex(2)         # through the last point
view.wait_ready(30000); spin()
view.show_step(250)
out = {"lazy": view.scene is None and "pyqtgraph.opengl" not in sys.modules}
view.three_d_box.setChecked(True); spin()
scene, c = view.scene, view.computed
out["gl"] = scene is not None and scene.widget.isVisible() and not view.plot.isVisible()
x0, x1, y0, y1, z0, z1 = scene.box
land = c.landscape
out["box_xy"] = [x0, x1, y0, y1] == [float(land.a[0]), float(land.a[-1]),
                                     float(land.b[0]), float(land.b[-1])]
out["box_holds_surface"] = bool(z0 <= c.scale.lo and z1 >= c.scale.hi)
# the mesh: the computed grid (shown on the map's scale), in the box
expected = to_box(c.shown.T, z0, z1, HEIGHT, 0.0)
out["mesh"] = bool(scene.mesh._z.shape == (51, 51) and np.allclose(scene.mesh._z, expected))
ok = []
for k, t in enumerate(tracks):
    h = t.history
    rows = decimate(h.steps[:251], 1000)
    x, y, loss = view.paths3d[k]
    xy = view.paths[k].xData, view.paths[k].yData
    ok.append(bool(np.array_equal(loss, h.losses[rows])          # the TRUE loss
                   and np.array_equal(x, xy[0]) and np.array_equal(y, xy[1])
                   and np.allclose(scene.lines[k].pos,
                                   box_points(scene.box, x, y, c.scale.apply(loss)))))
out["paths"] = ok
image = view.grab_image(); image.save(sys.argv[1] + "/landscape3d.png")
frame = scene.widget.grabFramebuffer()
out["colors"] = len({frame.pixel(x, y) for x in range(0, frame.width(), 3)
                     for y in range(0, frame.height(), 3)})
out["axes"] = [scene.texts[0].text, scene.texts[3].text, scene.texts[6].text]
out["log"] = bool(c.scale.log)
# a snapshot (File > Save snapshot): the 3-D picture with its axis labels; no vector form
from gdviz.core.errors import ConfigError
from gdviz.gui.export_actions import snapshot_image
from gdviz.gui.vector_snapshot import save_vector
shot = snapshot_image(view)
gl_rect = scene.widget.geometry()
out["snapshot_text"] = sum(
    1 for x in range(gl_rect.left(), gl_rect.right(), 2)
    for y in range(gl_rect.top(), gl_rect.bottom(), 2)
    if max(shot.pixelColor(x, y).getRgb()[:3]) < 70)
try:
    save_vector(view, sys.argv[1] + "/landscape3d.svg")
    out["vector"] = "written"
except ConfigError as err:
    out["vector"] = str(err)
# a wide, low widget: the camera moves back so that the box's top and bottom stay in view
view.resize(1100, 420); spin()
w, h = scene.widget.width(), scene.widget.height()
out["fit"] = [w / h > WIDE, scene.widget.opts["distance"] / DISTANCE, max(1.0, w / h / WIDE)]
view.three_d_box.setChecked(False); spin()
out["off"] = view.plot.isVisible() and not scene.widget.isVisible()
view.close()
print("RESULT " + json.dumps(out))
"""


def test_opengl_surface_is_the_grid_and_paths_sit_at_their_true_loss(tmp_path):
    out, stderr = run_gl_script(GL_SCRIPT, str(tmp_path))
    assert "Error while drawing" not in stderr, stderr[-3000:]
    assert out["lazy"], "the 3-D scene (or OpenGL) was made before the box was ticked"
    assert out["gl"]
    assert out["box_xy"]
    assert out["box_holds_surface"]
    assert out["mesh"]
    assert out["paths"] == [True, True]
    assert out["colors"] > 200, "the 3-D picture looks blank"
    assert out["axes"] == ["principal direction 1 (α)", "principal direction 2 (β)",
                           "loss (log scale)" if out["log"] else "loss"]
    assert out["off"]
    assert out["snapshot_text"] > 10, "the snapshot lost the 3-D axis labels"
    assert out["vector"] == ("the Landscape view is drawn with OpenGL and has no vector form: "
                             "save it as PNG")
    wide, factor, expected = out["fit"]
    assert wide
    assert factor == pytest.approx(expected, rel=1e-9)
    assert (tmp_path / "landscape3d.png").stat().st_size > 10_000


EXPORT_SCRIPT = r"""
import json, sys
import numpy as np
from PIL import Image
from gdviz.cli.main import main
from gdviz.core.presets import get_preset
from gdviz.core.run_set import RunSpec
from gdviz.export.session import Session, save_session
config = get_preset("mlp_xor").config.with_changes(max_steps=100)
folder = sys.argv[1]
session = save_session(folder + "/s.gdviz.json", Session(
    (RunSpec("xor", "#1a3a8f", config),), 0, 0, {"landscape": {"three_d_box": True}}))
code = main(["export", "--session", str(session), "--view", "landscape", "--frames", "2",
             "--size", "640x480", "--png-dir", folder + "/out"])
pixels = np.asarray(Image.open(folder + "/out/frame_0001.png").convert("RGB"))
middle = pixels[120:400, 100:540].reshape(-1, 3)       # the 3-D picture's part of the frame
plot = pixels[70:440].astype(int)                      # below the bar, above the legend
print("RESULT " + json.dumps({"code": code,
                              "colors": len(np.unique(middle, axis=0)),
                              "white": float(np.mean(np.all(middle > 250, axis=1))),
                              # the axis names and values (dark grey text): a plain grab()
                              # of the OpenGL widget drops them
                              "text": int((plot.max(axis=2) < 70).sum())}))
"""


def test_opengl_export_of_a_session_with_3d_draws_the_surface(tmp_path):
    out, stderr = run_gl_script(EXPORT_SCRIPT, str(tmp_path))
    assert out["code"] == 0, stderr[-2000:]
    assert out["colors"] > 200, "the exported 3-D picture looks blank"
    assert out["white"] < 0.8
    assert out["text"] > 50, "the 3-D axis labels are missing from the export"


HOVER_SCRIPT = SETUP + r"""
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QVector3D
from PySide6.QtTest import QTest
from gdviz.core.landscape import project_path
from gdviz.gui.views import style
from gdviz.gui.views.surface_parts import HEIGHT

view.wait_ready(30000); spin()
view.show_step(250)
view.three_d_box.setChecked(True); spin()
scene, widget = view.scene, view.scene.widget
out = {"tracking": widget.hasMouseTracking()}
w, h = widget.width(), widget.height()
out["size"] = [w, h]
# the projection: the box's corners inside the widget, the camera's centre at its middle, and
# the very mapping pyqtgraph painted the axis texts with (GLTextItem.compute_projection)
corners = np.array([(x, y, z) for x in (-1, 1) for y in (-1, 1) for z in (0, HEIGHT)], float)
out["corners"] = scene.to_pixels(corners).tolist()
out["centre"] = scene.to_pixels(np.array([[0.0, 0.0, HEIGHT / 3]]))[0].tolist()
painted = [[p.x(), p.y()] for p in (text.compute_projection().map(QVector3D(*text.pos))
                                    .toPointF() for text in scene.texts)]
out["texts"] = [painted, scene.to_pixels(np.array([t.pos for t in scene.texts])).tolist()]
# (a) the projected pixel of a known point of the second run: its readout
k, row = 1, 120
pixel = scene.to_pixels(view.boxes3d[k])[row]
h1 = tracks[1].history
land = view.computed.landscape
seen = project_path(view.problem, land.center, land.direction_a, land.direction_b,
                    h1.params[row][None, :])
out["text"] = view.hover_at_pixel(*pixel).splitlines()
out["expected"] = [f"{tracks[1].name} · step {int(h1.steps[row])}",
                   f"distance from the plane {style.fmt(float(seen.distance[0]))}",
                   f"true loss {style.fmt(float(seen.loss[0]))}",
                   f"surface's loss here {style.fmt(float(seen.surface_loss[0]))}"]
out["distance"] = float(seen.distance[0])
label = scene.readout
out["label"] = [label.isVisible(), label.text() == view.hover_text,
                widget.rect().contains(label.geometry()), label.parent() is widget]
out["ring"] = [r.visible() for r in scene.rings] + [
    bool(np.allclose(scene.rings[1].pos[0], view.boxes3d[k][row]))]
spin()
frame = widget.grabFramebuffer()
ratio = frame.width() / w
color = frame.pixelColor(int(pixel[0] * ratio), int(pixel[1] * ratio))
out["ring_pixel"] = [color.red(), color.green(), color.blue()]
# (b) far from every point: nothing
out["far"] = [view.hover_at_pixel(2, 2), label.isVisible(), scene.rings[0].visible()]
# the runs play while a readout is shown: it is the point under the pointer at each frame;
# with none shown a frame projects nothing
calls = []
project = scene.to_pixels
scene.to_pixels = lambda pos: calls.append(1) or project(pos)
view.show_step(200)
out["no_hover_frames_project"] = len(calls)
# (c) a real mouse move at the projected pixel
QTest.mouseMove(widget, QPoint(round(pixel[0]), round(pixel[1])))
QTest.qWait(100)   # the move may come back through the X server some events later
out["mouse"] = [label.isVisible(), view.hover_text.split(" · ")[0]]
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import QToolTip
def tooltip_shown():
    at = QPoint(round(pixel[0]), round(pixel[1]))
    app.sendEvent(widget, QHelpEvent(QEvent.Type.ToolTip, at, widget.mapToGlobal(at)))
    spin()
    shown = QToolTip.isVisible() and QToolTip.text() == view.tooltip
    QToolTip.hideText()
    return shown
out["tooltip"] = tooltip_shown()          # the view's tooltip would cover the readout
calls.clear()
view.show_step(250); spin()
out["followed"] = [len(calls) > 0, label.isVisible(),
                   view.hover_text == view.hover_at_pixel(round(pixel[0]), round(pixel[1]))]
# a key (the arrows turn the box) hides it
QTest.keyClick(widget, Qt.Key.Key_PageUp); spin()
out["key"] = label.isVisible()
view.hover_at_pixel(*pixel)
# a drag turns the box as before and hides the readout
azimuth = widget.opts["azimuth"]
QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                 QPoint(round(pixel[0]), round(pixel[1])))
QTest.mouseMove(widget, QPoint(round(pixel[0]) + 40, round(pixel[1]))); spin()
out["drag"] = [widget.opts["azimuth"] != azimuth, label.isVisible()]
QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                   QPoint(round(pixel[0]) + 40, round(pixel[1]))); spin()
# turned: the same point has moved on screen and is found at its new pixel
moved = scene.to_pixels(view.boxes3d[k])[row]
out["moved"] = float(np.hypot(*(moved - pixel)))
QTest.mouseMove(widget, QPoint(round(moved[0]), round(moved[1])))
QTest.qWait(100)
out["after_drag"] = label.isVisible()
# leaving the widget hides it
app.sendEvent(widget, QEvent(QEvent.Type.Leave)); spin()
out["left"] = [label.isVisible(), view.hover_text, tooltip_shown()]
# the 3-D box unticked with a readout up and ticked again: no stale readout
out["again"] = [bool(view.hover_at_pixel(*moved))]
view.three_d_box.setChecked(False); spin()
view.three_d_box.setChecked(True); spin()
out["again"] += [label.isVisible(), scene.rings[0].visible()]
view.close()
print("RESULT " + json.dumps(out))
"""


def test_opengl_hovering_a_path_point_shows_its_readout(tmp_path):
    out, stderr = run_gl_script(HOVER_SCRIPT, str(tmp_path))
    assert "Error while drawing" not in stderr, stderr[-3000:]
    assert out["tracking"]
    w, h = out["size"]
    for x, y in out["corners"]:                     # the whole box is in the picture
        assert 0 < x < w
        assert 0 < y < h
    assert out["centre"] == pytest.approx([w / 2, h / 2], abs=1.0)
    painted, projected = out["texts"]
    np.testing.assert_allclose(projected, painted, rtol=0, atol=0.01)
    assert out["text"] == out["expected"]
    assert out["distance"] > 1e-3                   # a point off the plane
    assert out["label"] == [True, True, True, True]
    assert out["ring"] == [True, True, True]
    red, green, blue = out["ring_pixel"]            # the ring's run-coloured middle, #d62728
    assert (red, green, blue) == pytest.approx((0xd6, 0x27, 0x28), abs=40)
    assert out["far"] == ["", False, False]
    assert out["no_hover_frames_project"] == 0
    assert out["mouse"] == [True, "Adam lr 0.01"]
    assert out["followed"] == [True, True, True]
    assert not out["key"]
    assert out["drag"] == [True, False]
    assert out["moved"] > 5
    assert out["after_drag"]
    assert not out["tooltip"]
    assert out["left"] == [False, "", True]
    assert out["again"] == [True, False, False]
