"""The Network view: one edge per weight coloured by its sign and as thick as its size, each
unit's thumbnail equal to what the unit outputs over the input plane, hover texts with the
values and gradients of the shown step, and "not a network" for a problem without layers."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from view_helpers import make_view  # tests/gui is on sys.path (no __init__.py)

from gdviz.gui.views import NetworkView
from gdviz.gui.views import style as view_style
from gdviz.gui.views.network import NEGATIVE, NOT_A_NETWORK, POSITIVE, THUMB


def _weights(problem) -> np.ndarray:
    return np.concatenate([np.arange(layer.weights.start, layer.weights.stop)
                           for layer in problem.layers])


def test_one_edge_per_weight_coloured_by_sign_and_as_thick_as_its_size(qtbot):
    view, problem, _, history = make_view(qtbot, NetworkView, "mlp_spiral", max_steps=200)
    weights = _weights(problem)
    assert view.edges.count == len(weights) == 2 * 8 + 8 * 8 + 8
    for step in (0, 200):
        view.show_step(step)
        w = np.asarray(history.params[step])[view.edge_params]
        assert np.array_equal(np.sort(view.edge_params), weights)
        pens = view.edges.edge_pens()
        colours = np.array([c for c, _ in pens])
        assert np.all(colours[w >= 0] == POSITIVE)
        assert np.all(colours[w < 0] == NEGATIVE)
        assert (w >= 0).any()
        assert (w < 0).any()
        widths = np.array([width for _, width in pens])
        biggest, smallest = np.argmax(np.abs(w)), np.argmin(np.abs(w))
        assert widths[biggest] == widths.max() > widths[smallest]
        assert np.all(np.diff(widths[np.argsort(np.abs(w))]) >= 0)   # thicker for larger |w|
        assert view.edges.largest == pytest.approx(np.abs(w).max())
        assert f"{len(weights)} weights" in view.frame.status.text()


def test_edges_join_the_units_the_weight_connects(qtbot):
    view, problem, _, _ = make_view(qtbot, NetworkView, "mlp_spiral", max_steps=5)
    names = problem.param_names
    ends = view.edges.ends
    for k, j in enumerate(view.edge_params):
        layer, unit, source = (int(v) for v in names[j][1:].split("_"))   # W{layer}_{i}_{j}
        assert ends[k, 0] == layer - 1
        assert ends[k, 2] == layer
        assert ends[k, 1] == pytest.approx(view.ys[layer - 1][source])
        assert ends[k, 3] == pytest.approx(view.ys[layer][unit])


def test_hover_texts_give_the_value_and_the_gradient_of_the_shown_step(qtbot):
    view, problem, _, history = make_view(qtbot, NetworkView, "mlp_spiral", max_steps=50)
    view.show_step(50)
    params, grads = np.asarray(history.params[50]), np.asarray(history.grads[50])
    fmt = view_style.fmt
    for k in (0, 17, view.edges.count - 1):
        j = int(view.edge_params[k])
        text = view.describe_edge(k)
        assert problem.param_names[j] in text
        assert f"value {fmt(float(params[j]))}" in text
        assert f"gradient {fmt(float(grads[j]))}" in text
    # hovering the middle of an edge names it; hovering a unit describes its bias
    k = 40
    (x0, y0, x1, y1) = view.edges.ends[k]
    text = view.describe_at((x0 + x1) / 2 + 0.01, (y0 + y1) / 2)
    assert text.startswith("weight ")
    bias = problem.param_names.index("b2_3")
    node = view.describe_at(2.0, float(view.ys[2][3]))
    assert node.startswith("layer 2 unit 3 (tanh)")
    assert f"b2_3: value {fmt(float(params[bias]))} · gradient {fmt(float(grads[bias]))}" \
        in node
    assert view.describe_at(0.0, float(view.ys[0][1])).startswith("input 2")
    assert "output" in view.describe_at(3.0, 0.0)


def test_thumbnails_are_each_units_output_over_the_input_plane(qtbot):
    view, problem, _, history = make_view(qtbot, NetworkView, "mlp_spiral", max_steps=100)
    view.show_step(100)
    assert view.wait_ready(10000)
    assert view.thumb_step == 100
    grid = view._grid
    outputs = problem.unit_outputs(history.params[100], grid)
    assert [len(row) for row in view.thumbs] == [2, 8, 8, 1]
    for layer in (1, 2, 3):
        for unit, image in enumerate(view.thumbs[layer]):
            assert image.image.shape == (THUMB, THUMB)
            np.testing.assert_allclose(image.image.ravel(), outputs[layer - 1][:, unit])
    # the output's thumbnail is the Data view's probability
    np.testing.assert_allclose(view.thumbs[3][0].image.ravel(),
                               problem.predict(history.params[100], grid))
    # the grid covers the data, rows going up in x2
    assert grid[:, 0].min() <= problem.data_x[:, 0].min()
    assert grid[:, 1].max() >= problem.data_x[:, 1].max()
    assert grid[THUMB, 1] > grid[0, 1]


def test_a_problem_without_layers_is_not_a_network(qtbot):
    view, *_ = make_view(qtbot, NetworkView, "linreg")
    assert not view.network
    assert view.message.isVisible() or view.message.textItem.toPlainText() == NOT_A_NETWORK
    assert view.edges.count == 0
    view.show_step(3)   # draws nothing, raises nothing
    assert view.frame.status.text() == f"step 3 · {NOT_A_NETWORK}"
    assert view.describe_at(0.5, 0.5) == ""


def test_the_cli_exports_the_network_view_with_its_thumbnails(qapp, tmp_path, capsys):
    from PIL import Image, ImageChops

    from gdviz.cli.main import main

    out = tmp_path / "net.gif"
    code = main(["export", "--preset", "mlp_spiral", "--view", "network", "--frames", "3",
                 "--steps-per-frame", "300", "--size", "480x320", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    with Image.open(out) as gif:
        assert (gif.n_frames, gif.size) == (3, (480, 320))
        gif.seek(0)
        first = gif.convert("RGB")
        gif.seek(2)
        last = gif.convert("RGB")
        colours = last.getcolors(1 << 16)
    assert ImageChops.difference(first, last).getbbox() is not None   # the network learned
    names = {rgb for _, rgb in colours}
    teal, brown = (1, 102, 94), (140, 81, 10)
    near = [min(sum(abs(a - b) for a, b in zip(c, ref)) for c in names) for ref in (teal, brown)]
    assert max(near) <= 24      # edges of both signs drawn (GIF palettes move colours a little)


def test_a_tooltip_event_over_a_unit_shows_its_description(qtbot):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    view, problem, _, history = make_view(qtbot, NetworkView, "mlp_spiral", max_steps=20)
    view.show()
    qtbot.waitExposed(view)
    view.show_step(20)
    vb = view.plot.getPlotItem().getViewBox()
    scene = vb.mapViewToScene(QPointF(1.0, float(view.ys[1][2])))
    pos = view.plot.mapFromScene(scene)
    event = QHelpEvent(QEvent.Type.ToolTip, pos, view.plot.viewport().mapToGlobal(pos))
    QApplication.sendEvent(view.plot.viewport(), event)
    assert view.hover_text == view.describe_node(1, 2)
    assert view.hover_text.startswith("layer 1 unit 2 (tanh)")
    assert QToolTip.text() == view.hover_text
    QToolTip.hideText()
