"""Run colours are for runs only: every colour that means a role inside a run's picture is far
from every run colour (CIE76 ΔE ≥ 20 in CIELAB, D65), and the views that follow one run of
several say which one."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from gdviz.core.run_set import PALETTE
from gdviz.gui.views import style


def lab(color: str) -> np.ndarray:
    """CIELAB (D65) of ``#rrggbb``."""
    rgb = np.array([int(color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    rgb = np.where(rgb > 0.04045, ((rgb + 0.055) / 1.055) ** 2.4, rgb / 12.92)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                    [0.0193, 0.1192, 0.9505]]) @ rgb / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_the_colour_difference_is_the_textbook_one():
    assert lab("#ffffff") == pytest.approx([100, 0, 0], abs=0.05)
    assert lab("#ff0000") == pytest.approx([53.24, 80.09, 67.20], abs=0.05)


@pytest.mark.parametrize(("role", "run"),
                         list(itertools.product(sorted(style.ROLE_COLORS), PALETTE)))
def test_no_role_colour_is_near_a_run_colour(role, run):
    difference = float(np.linalg.norm(lab(style.ROLE_COLORS[role]) - lab(run)))
    assert difference >= 20, f"{role} {style.ROLE_COLORS[role]} vs run {run}: ΔE {difference:.1f}"


def test_the_views_that_follow_one_run_say_which(make_window, qtbot):
    window = make_window("compare_linreg_lr")
    c = window.controller
    c.run_until(5)
    window.runs_panel.select(1)          # the user clicks run 2 in the Runs panel
    qtbot.wait(50)
    name = c.runs[1].name
    for view_id in ("samples", "histogram", "data"):
        view = window.docks[view_id].widget()
        assert f"run 2 · {name}" in view.frame.title.text(), view_id
    window.controller.show_index(3)
    assert f"run 2 · {name}" in window.step_math.plain_text()


def test_the_data_view_draws_each_runs_model_in_its_colour(make_window, qtbot):
    window = make_window("compare_slope_lr")
    c = window.controller
    c.run_until(3)
    qtbot.wait(50)
    data = window.docks["data"].widget()
    assert data.mode == "line"
    selected = c.selected_track
    assert data.model_line.opts["pen"].color().name() == c.runs[selected].color
    others = [run.color for k, run in enumerate(c.runs) if k != selected]
    drawn = [line.opts["pen"].color().name() for line in data.other_lines
             if line.xData is not None and len(line.xData)]
    assert drawn == others
    assert set(data.legend.texts()) >= {run.name for k, run in enumerate(c.runs)
                                        if k != selected}
