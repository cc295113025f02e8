"""The Landscape view's choices (plane, its two parameters, centre, 3-D) as the other views'
check boxes are: read and set by name (gui.view_choices), saved in sessions and restored with
the same computed grid, chosen by a preset, and copied to an export of a session."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from test_landscape_view import landscape, track_of, xor_config  # tests/gui is on sys.path

from gdviz.core.presets import get_preset
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.export.session import Session, load_session, save_session
from gdviz.gui.session_window import open_session_file, save_session_file
from gdviz.gui.view_choices import apply_view_choices, view_choices
from gdviz.gui.views import LandscapeView


def landscape_of(window) -> LandscapeView:
    return next(v for v in window.views if v.view_id == "landscape")


def test_the_choices_are_read_and_set_by_name_and_bad_ones_ignored(qtbot):
    view = landscape(qtbot, (track_of(xor_config()),))
    names = view.problem.param_names
    assert view_choices(view) == {"plane": "random", "center": "start", "param_a": names[0],
                                  "param_b": names[1], "three_d_box": False}
    chosen = {"plane": "params", "center": "final", "param_a": names[5],
              "param_b": names[2]}
    asked = view.runner.computations
    apply_view_choices(view, chosen)
    assert view.runner.computations == asked + 1          # the new plane is computed
    assert view.wait_ready(30000)
    r = view.computed.request
    assert (r.kind, r.names, r.center_word) == ("params", (names[5], names[2]), "final")
    assert {k: view_choices(view)[k] for k in chosen} == chosen
    assert all(c.isVisible() for c in view.param_combos)
    # untrusted input: unknown values, wrong types, a parameter twice change nothing
    before = view_choices(view)
    asked = view.runner.computations
    for bad in ({"plane": "spiral"}, {"plane": 2, "center": None}, {"center": "middle"},
                {"param_a": "W9_9_9", "param_b": 3.5}, {"param_a": names[1], "param_b": names[1]},
                {"three_d_box": "yes", "unknown": [1, 2]}, {}):
        apply_view_choices(view, bad)
        assert view_choices(view) == before, bad
    assert view.runner.computations == asked
    view.close()


def test_a_session_reopened_shows_the_same_plane_and_the_same_grid(make_window, tmp_path):
    first = make_window("mlp_xor")
    first.controller.run_until(80)
    first.docks["landscape"].raise_()
    view = landscape_of(first)
    names = view.problem.param_names
    view.plane_combo.setCurrentIndex(2)                   # two parameters
    view.param_combos[0].setCurrentIndex(names.index("W1_1_0"))
    view.param_combos[1].setCurrentIndex(names.index("b1_2"))
    view.center_combo.setCurrentIndex(2)                  # through the last point
    view.three_d_box.setChecked(True)                     # offscreen: the map, and why
    assert view.wait_ready(30000)
    path = save_session_file(first, tmp_path / "xor.gdviz.json")
    assert load_session(path).views["landscape"] == {
        "plane": "params", "center": "final", "param_a": "W1_1_0", "param_b": "b1_2",
        "three_d_box": True}

    second = make_window("wavy")
    open_session_file(second, path)
    second.docks["landscape"].raise_()
    again = landscape_of(second)
    assert again.wait_ready(30000)
    saved, shown = view.computed, again.computed
    assert (shown.request.kind, shown.request.names, shown.request.center_word) == \
        ("params", ("W1_1_0", "b1_2"), "final")
    assert shown.request.center_step == saved.request.center_step == 80
    np.testing.assert_array_equal(shown.landscape.center, saved.landscape.center)
    np.testing.assert_array_equal(shown.landscape.a, saved.landscape.a)
    np.testing.assert_array_equal(shown.landscape.b, saved.landscape.b)
    np.testing.assert_array_equal(shown.landscape.losses, saved.landscape.losses)
    assert again.three_d_box.isChecked()


def test_a_preset_chooses_the_plane(make_window):
    window = make_window("mlp_circle_linear")
    assert get_preset("mlp_circle_linear").views["landscape"]["plane"] == "params"
    window.docks["landscape"].raise_()
    view = landscape_of(window)
    assert view.wait_ready(30000)
    r = view.computed.request
    assert (r.kind, r.names) == ("params", ("W1_0_0", "W1_0_1"))
    window.load_preset("mlp_circle")                      # the next preset: its own plane
    window.docks["landscape"].raise_()
    assert view.wait_ready(30000)
    assert view.computed.request.kind == "random"


def test_gdviz_export_of_a_session_draws_the_session_s_plane(qapp, tmp_path, capsys):
    from PIL import Image

    from gdviz.cli.main import main
    from gdviz.gui.offscreen.view_source import ViewFrames

    config = get_preset("mlp_xor").config.with_changes(max_steps=60)
    chosen = {"plane": "params", "center": "start", "param_a": "W1_1_0", "param_b": "b1_2"}
    frames = {}
    for name, views in (("chosen", {"landscape": chosen}), ("default", {})):
        session = save_session(tmp_path / f"{name}.gdviz.json",
                               Session((RunSpec("xor", "#1a3a8f", config),), 0, 0, views))
        out = tmp_path / name
        code = main(["export", "--session", str(session), "--view", "landscape",
                     "--frames", "2", "--size", "480x360", "--png-dir", str(out)])
        assert code == 0, capsys.readouterr().err
        frames[name] = np.asarray(Image.open(out / "frame_0001.png").convert("RGB"),
                                  dtype=np.int16)
    assert np.abs(frames["chosen"] - frames["default"]).sum() > 0
    # what the export's source draws: the session's plane
    source = ViewFrames("landscape", (480, 360), chosen)
    try:
        source.start(config, run_to_end(config)[0])
        assert source.view.wait_ready(30000)
        r = source.view.computed.request
        assert (r.kind, r.names, r.center_word) == ("params", ("W1_1_0", "b1_2"), "start")
    finally:
        source.close()
