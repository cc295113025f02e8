"""The 3-D surface view. OpenGL runs only on a real X server (Xvfb + xcb), in a subprocess:
this session's Qt platform is offscreen (tests/gui/conftest.py), where GL segfaults. Without
an X server those tests skip; offscreen the view must explain itself and keep working."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import subprocess
import sys

import numpy as np
import pytest

from gdviz.core.history import RunHistory, decimate
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.gui.grid_worker import running_grid_threads
from gdviz.gui.views import VIEW_CLASSES
from gdviz.gui.views.base import RunTrack
from gdviz.gui.views.contour import MAX_POINTS as MAP_POINTS
from gdviz.gui.views.sample_curves import SampleCurvesView
from gdviz.gui.views.surface3d import Surface3DView


def history_of(config: RunConfig) -> RunHistory:
    history = RunHistory(config.make_problem().n_params)
    history.append(run_to_end(config))
    return history


ROSENBROCK = RunConfig(problem="rosenbrock", optimizer="sgd", lr=0.001, batch_size=1,
                       max_steps=300, init=(-1.5, 2.0))
WAVY = RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1, order="sequential",
                 max_epochs=1, init=(-0.3,))


# -- offscreen: explained, never started, every other view keeps working -----------------------
def test_offscreen_explains_and_falls_back_to_a_map(qtbot):
    track = RunTrack(RunSpec("sgd", "#1a3a8f", ROSENBROCK), history_of(ROSENBROCK))
    view = Surface3DView()
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.show()
    view.set_run(ROSENBROCK.make_problem(), ROSENBROCK, track.history)
    view.set_tracks((track,), 0)
    view.show_step(120)
    qtbot.wait(20)                        # the deferred OpenGL start must not start anything
    assert view.gl is None
    assert "offscreen" in view.unavailable
    assert view.label.isVisible()
    assert view.label.text().startswith("3-D view unavailable: OpenGL needs a display")
    fallback = view.fallback
    assert fallback is not None
    assert fallback.isVisible()
    keep = decimate(track.history.steps[:121], MAP_POINTS)
    assert np.array_equal(fallback.tracks_items[0].xData, track.history.params[keep][:, 0])
    # what the 3-D view draws (surface and paths), not the contour's step at the point
    assert not fallback.analysis
    assert fallback.fan.xData is None or len(fallback.fan.xData) == 0
    assert len(fallback.full_step.data()) == 0
    assert "step −η∇L" not in fallback.frame.info.text()
    assert "sgd" in fallback.frame.info.text()
    picked = []
    view.sig_start_picked.connect(picked.append)
    fallback.pick(0.5, 1.5)
    assert picked == [(0.5, 1.5)]
    other = SampleCurvesView()                # another view still draws
    qtbot.addWidget(other)
    other.set_run(ROSENBROCK.make_problem(), ROSENBROCK, track.history)
    other.show_step(120)
    assert other.frame.status.text().startswith("step 120")


def test_paths_of_runs_longer_than_the_selected_one_reach_the_lock_step_index(qtbot):
    short = ROSENBROCK.with_changes(max_steps=100)
    tracks = (RunTrack(RunSpec("long", "#1a3a8f", ROSENBROCK), history_of(ROSENBROCK)),
              RunTrack(RunSpec("short", "#d55e00", short), history_of(short)))
    view = Surface3DView()
    qtbot.addWidget(view)
    view.resize(600, 500)
    view.show()
    view.set_run(short.make_problem(), short, tracks[1].history)
    view.set_tracks(tracks, 1)
    view.show_step(250)                  # not clipped to the selected (short) run
    lines = view.fallback.tracks_items   # offscreen: the stand-in map draws the paths (the
    # 3-D paths themselves: test_opengl_surface_renders_and_paths_equal_the_records)
    assert (lines[0].xData[-1], lines[0].yData[-1]) == tuple(tracks[0].history.params[250])
    assert (lines[1].xData[-1], lines[1].yData[-1]) == tuple(tracks[1].history.params[100])


def test_offscreen_one_parameter_and_pair_choice(qtbot):
    view = Surface3DView()
    qtbot.addWidget(view)
    view.show()
    view.set_run(WAVY.make_problem(), WAVY, history_of(WAVY))
    view.show_step(50)
    assert view.mode == "samples"
    assert "global minimum −0.7586 at w·x = −1.1246" in view.frame.title.text()
    assert view.fallback.mode == "samples"
    linreg = RunConfig(problem="linreg", max_steps=20, batch_size=10, lr=0.2)
    view.set_run(linreg.make_problem(), linreg, history_of(linreg))
    view.combos[1].setCurrentIndex(2)
    assert view.pair == (0, 2)
    assert view.fallback.pair == (0, 2)
    view.close()
    assert not running_grid_threads()


def test_the_module_does_not_import_opengl_and_the_view_is_registered():
    code = ("import sys; import gdviz.gui.views as v; "
            "print(any(m.startswith(('pyqtgraph.opengl', 'OpenGL')) for m in sys.modules), "
            "[c.view_id for c in v.VIEW_CLASSES][-2:])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "['contour',", "'surface3d']"]
    assert Surface3DView in VIEW_CLASSES


# -- OpenGL under a real X server (subprocess, QT_QPA_PLATFORM=xcb) -------------------------------
GL_SCRIPT = r"""
import json, sys
import numpy as np
from PySide6.QtCore import QCoreApplication, Qt
QCoreApplication.setAttribute(Qt.ApplicationAttribute.AA_ShareOpenGLContexts)
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gdviz.core.history import RunHistory, decimate
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end
from gdviz.core.run_set import RunSpec
from gdviz.gui.views.base import RunTrack
from gdviz.gui.views.surface3d import MAX_POINTS, Surface3DView

def history_of(config):
    h = RunHistory(config.make_problem().n_params); h.append(run_to_end(config)); return h

def render(view, index, path):
    view.show_step(index)
    for _ in range(5):
        app.processEvents()
    image = view.gl.grabFramebuffer()
    image.save(path)
    pixels = {image.pixel(x, y) for x in range(0, image.width(), 3)
              for y in range(0, image.height(), 3)}
    return len(pixels)

out = {"platform": app.platformName()}
view = Surface3DView(); view.resize(640, 520)
out["lazy"] = "pyqtgraph.opengl" not in sys.modules
view.show(); app.processEvents()
out["gl"] = view.ensure_gl()
base = RunConfig(problem="rosenbrock", optimizer="sgd", lr=0.001, batch_size=1,
                 max_steps=300, init=(-1.5, 2.0))
configs = [base, base.with_changes(hyperparams={"momentum": 0.9}, max_steps=200)]
tracks = tuple(RunTrack(RunSpec(f"run{k}", c, cfg), history_of(cfg))
               for k, (cfg, c) in enumerate(zip(configs, ("#1a3a8f", "#d62728"))))
view.set_run(base.make_problem(), base, tracks[0].history)
view.set_tracks(tracks, 0)
view.wait_ready(30000)
out["colors_rosenbrock"] = render(view, 250, sys.argv[1] + "/surface3d_rosenbrock.png")
ok = []
for k, t in enumerate(tracks):
    h, last = t.history, min(250, len(t.history) - 1)
    keep = decimate(h.steps[: last + 1], MAX_POINTS)
    x, y, loss = view.paths[k]
    ok.append(bool(np.array_equal(x, h.params[keep][:, 0]) and
                   np.array_equal(y, h.params[keep][:, 1]) and
                   np.array_equal(loss, h.losses[keep]) and
                   # private: the data-to-GL-box mapping of the drawn lines has no public form
                   np.allclose(view.lines[k].pos, view._box_points(x, y, loss))))
out["paths_rosenbrock"] = ok
view.set_run(base.make_problem(), configs[1], tracks[1].history)
view.set_tracks(tracks, 1)          # the shorter run selected: the longer one still goes on
view.wait_ready(30000)
view.show_step(250)
x, y, _ = view.paths[0]
out["path_past_the_selected_run"] = [float(x[-1]), float(y[-1])]
out["path_expected"] = [float(v) for v in tracks[0].history.params[250]]
wavy = RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1,
                 order="sequential", max_epochs=1, init=(-0.3,))
h = history_of(wavy)
problem = wavy.make_problem()
view.set_run(problem, wavy, h)
view.set_tracks((RunTrack(RunSpec("sgd", "#1a3a8f", wavy), h),), 0)
out["colors_wavy"] = render(view, 80, sys.argv[1] + "/surface3d_wavy.png")
image = view.grab_image()
image.save(sys.argv[1] + "/surface3d_wavy_view.png")
out["frame_in_view"] = image.pixelColor(view.gl.mapTo(view, view.gl.rect().center())).name()
x, w, loss = view.paths[0]
steps = np.arange(1, 81)
samples = [int(h.batch_at(s)[0]) for s in steps]
out["paths_wavy"] = bool(
    np.array_equal(x, problem.data_x[samples, 0])
    and np.array_equal(w, [h.params_before(s)[0] for s in steps])
    and np.allclose(loss, [problem.sample_losses(np.array([h.params_before(s)[0]]), [i])[0]
                           for s, i in zip(steps, samples)]))
out["title_wavy"] = view.frame.title.text()
linreg = RunConfig(problem="linreg", lr=0.2, batch_size=10, max_steps=60)
h = history_of(linreg)
problem = linreg.make_problem()
view.set_run(problem, linreg, h)
view.set_tracks((RunTrack(RunSpec("sgd", "#1a3a8f", linreg), h),), 0)
view.wait_ready(30000)
out["colors_linreg"] = render(view, 40, sys.argv[1] + "/surface3d_linreg.png")
x, y, loss = view.paths[0]
held = np.array(h.params[:41], dtype=float)
held[:, 2] = view.surface.spec.center[2]           # the surface's held b
out["paths_linreg"] = bool(np.array_equal(x, h.params[:41, 0])
                           and np.array_equal(y, h.params[:41, 1])
                           and np.allclose(loss, problem.loss(held)))
view.close()
print("RESULT " + json.dumps(out))
"""


def run_gl_script(script: str, *args: str) -> tuple[object, str]:
    """Run ``script`` (with ``args``) in a child on the X display (xcb); it must exit cleanly
    and print a ``RESULT <json>`` line. Returns (that JSON, the child's stderr)."""
    if not os.environ.get("DISPLAY"):
        pytest.skip("no X server (DISPLAY is not set): OpenGL needs one; run the tests "
                    "under xvfb-run (make test does)")
    env = dict(os.environ, QT_QPA_PLATFORM="xcb")
    proc = subprocess.run([sys.executable, "-c", script, *args], env=env,
                          capture_output=True, text=True, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 and "could not connect to display" in proc.stderr:
        pytest.skip(f"the X server at DISPLAY={os.environ['DISPLAY']} is not reachable")
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert lines, proc.stdout[-2000:] + proc.stderr[-2000:]
    return json.loads(lines[-1][len("RESULT "):]), proc.stderr


def test_opengl_surface_renders_and_paths_equal_the_records(tmp_path):
    out, _stderr = run_gl_script(GL_SCRIPT, str(tmp_path))
    assert out["platform"] == "xcb"
    assert out["lazy"], "pyqtgraph.opengl was imported before the view was shown"
    assert out["gl"]
    assert out["colors_rosenbrock"] > 200, "the 3-D picture looks blank"
    assert out["colors_wavy"] > 200
    assert out["paths_rosenbrock"] == [True, True]
    assert out["path_past_the_selected_run"] == out["path_expected"]
    assert out["paths_wavy"]
    assert out["colors_linreg"] > 200
    assert out["paths_linreg"], "with three parameters the path lies on the held slice"
    assert "global minimum −0.7586 at w·x = −1.1246" in out["title_wavy"]
    assert (tmp_path / "surface3d_wavy.png").stat().st_size > 10_000
    assert (tmp_path / "surface3d_wavy_view.png").stat().st_size > 10_000


TWO_WINDOWS_SCRIPT = r"""
import json
from PySide6.QtWidgets import QApplication
app = QApplication([])          # no Qt.AA_ShareOpenGLContexts: two separate GL share groups
from gdviz.core.history import RunHistory
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end
from gdviz.gui.views.surface3d import Surface3DView
config = RunConfig(problem="himmelblau", lr=0.001, batch_size=1, max_steps=100)
history = RunHistory(2); history.append(run_to_end(config))
colours = []
views = []
for _ in range(2):
    view = Surface3DView(); view.resize(400, 320); view.show(); app.processEvents()
    view.ensure_gl(); view.set_run(config.make_problem(), config, history); view.show_step(60)
    views.append(view)
for _ in range(5):
    app.processEvents()
for view in views:
    image = view.gl.grabFramebuffer()
    colours.append(len({image.pixel(x, y) for x in range(0, image.width(), 3)
                        for y in range(0, image.height(), 3)}))
print("RESULT " + json.dumps(colours))
"""


def test_two_windows_with_their_own_gl_contexts_both_draw():
    (first, second), stderr = run_gl_script(TWO_WINDOWS_SCRIPT)
    assert "Error while drawing" not in stderr, stderr[-3000:]
    assert first > 200
    assert second > 200


WINDOW_SCRIPT = r"""
import json, time
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gdviz.gui.main_window import MainWindow
from gdviz.gui.settings import AppSettings

def spin_until(done, seconds):
    end = time.monotonic() + seconds
    while not done() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)
    return done()

def colours(image):
    return len({image.pixel(x, y) for x in range(0, image.width(), 3)
                for y in range(0, image.height(), 3)})

out = {}
window = MainWindow(preset="linreg", settings=AppSettings(memory=True))
window.resize(1280, 800)
window.show()
views = {v.view_id: v for v in window.views}
contour, surface = views["contour"], views["surface3d"]
# the 3-D view's OpenGL starts once the window has painted: Qt then re-creates the window
out["gl"] = spin_until(lambda: surface.gl is not None, 20)
spin_until(lambda: False, 0.5)
window.docks["contour"].raise_()
t0 = time.monotonic()
out["contour_map"] = spin_until(lambda: contour.image.image is not None
                                and not contour.note.isVisible(), 20)
out["contour_map_s"] = round(time.monotonic() - t0, 3)   # printed by -s, not asserted
window.docks["surface3d"].raise_()
spin_until(lambda: False, 0.5)
out["docked"] = colours(surface.gl.grabFramebuffer())
window.docks["surface3d"].setFloating(True)
spin_until(lambda: False, 1.0)
surface.show_step(0)
spin_until(lambda: False, 0.5)
out["floating"] = colours(surface.gl.grabFramebuffer())
window.docks["surface3d"].setFloating(False)
spin_until(lambda: False, 1.0)
out["docked_again"] = colours(surface.gl.grabFramebuffer())
window.docks["contour"].setFloating(True)
spin_until(lambda: False, 1.0)
out["contour_floating"] = colours(contour.grab().toImage())
window.docks["contour"].setFloating(False)
spin_until(lambda: False, 0.5)
out["contour_docked_again"] = colours(contour.grab().toImage())
c = window.controller
for vid in ("contour", "surface3d"):     # docked again, they went back behind other tabs
    window.docks[vid].raise_()
spin_until(lambda: False, 0.3)
window.toolbar.set_speed(400.0)
window.toolbar.act_play.trigger()
spin_until(lambda: c.last_index >= 80 or c.state != "running", 30)
window.timeline.slider.setValue(20)                 # looking back (defect 8)
spin_until(lambda: c.shown_index == 20, 5)
spin_until(lambda: False, 0.3)
h = c.history
x, y, _ = surface.paths[0]
out["scrubbed_3d"] = bool(c.shown_index == 20 and c.last_index > 20
                          and (x == h.params[:21, 0]).all() and (y == h.params[:21, 1]).all()
                          and len(surface.lines[0].pos) == 21)
out["scrubbed_contour"] = bool((contour.tracks_items[0].xData == h.params[:21, 0]).all())
window.close()
print("RESULT " + json.dumps(out))
"""


def test_window_views_draw_when_revealed_floated_and_docked_again():
    """Issue 13, defects 4 and 5, in the window as launched: the contour tab revealed after
    the 3-D view's OpenGL started shows its map (it stayed on "computing the loss...": Qt
    re-creates the window for its first GL widget, hiding every view meanwhile; linreg, as its
    256x256 grid (~0.2 s) is always still computing then, bowl's only sometimes), and the 3-D
    dock floated keeps its picture (it went blank with GLError 1282: its items' buffers
    belonged to the docked context), as does the contour floated; docked again, both draw.
    Then, scrubbed back (defect 8), the 3-D and contour paths stop at the shown step."""
    out, stderr = run_gl_script(WINDOW_SCRIPT)
    assert "Error while drawing" not in stderr, stderr[-3000:]
    assert "GLError" not in stderr, stderr[-3000:]
    print(out)
    assert out["gl"]
    assert out["contour_map"], "the contour map never came"
    for key in ("docked", "floating", "docked_again"):
        assert out[key] > 200, f"3-D view {key}: blank ({out[key]} colours)"
    for key in ("contour_floating", "contour_docked_again"):
        assert out[key] > 200, f"{key}: blank ({out[key]} colours)"
    # looking back at step 20 of a played run: the 3-D paths (in its GL line too) and the
    # contour's are those of steps 0..20
    assert out["scrubbed_3d"]
    assert out["scrubbed_contour"]


HEIGHT_SCRIPT = r"""
import json
from PySide6.QtWidgets import QApplication
app = QApplication([])
from gdviz.gui.main_window import MainWindow
from gdviz.gui.settings import AppSettings

def settle(view):
    for _ in range(30):
        app.processEvents()
    view.wait_ready(20000)
    for _ in range(10):
        app.processEvents()

window = MainWindow(preset="bowl", settings=AppSettings(memory=True))
window.resize(1280, 800)
window.show()
view = next(v for v in window.views if v.view_id == "surface3d")
window.docks["surface3d"].raise_()
settle(view)
out = {"bowl_auto_log": bool(view.surface.scale.log), "bowl_log": view.height_is_log(),
       "bowl_box": view.log_box.isChecked(), "bowl_title": view.frame.title.text()}
linear = view.grab_image()
view.log_box.setChecked(True)
settle(view)
out["toggled_log"] = view.height_is_log()
out["toggled_title"] = view.frame.title.text()
out["pixels_differ"] = linear != view.grab_image()
view.log_box.setChecked(False)
window.editor.apply(window.optimizer_panel, ("lr",), "0.03")   # an edit resets the run ...
settle(view)
out["kept_after_edit"] = (window.controller.config.lr, view.height_is_log())
window.load_preset("rosenbrock")                                # ... a new problem does not
settle(view)
out["rosenbrock"] = (view.height_is_log(), view.log_box.isChecked())
window.close()
print("RESULT " + json.dumps(out))
"""


def test_height_toggle_the_bowl_opens_linear_and_a_new_problem_is_automatic():
    out, _stderr = run_gl_script(HEIGHT_SCRIPT)
    assert out["bowl_auto_log"], "the automatic scale of the bowl's grid is log"
    assert out["bowl_log"] is False
    assert out["bowl_box"] is False
    assert "log scale" not in out["bowl_title"]
    assert out["toggled_log"] is True
    assert "(height: log scale)" in out["toggled_title"]
    assert out["pixels_differ"]
    assert out["kept_after_edit"] == [0.03, False]
    assert out["rosenbrock"] == [True, True]
