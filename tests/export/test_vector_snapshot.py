"""Snapshots as SVG and PDF vectors: from the File menu's function and from --screenshot."""

import re
import xml.etree.ElementTree as ET

import pytest

from gdviz.cli.main import main
from gdviz.core.errors import ConfigError
from gdviz.gui.export_actions import save_snapshot
from gdviz.gui.vector_snapshot import bake_hairline_transforms, save_vector

SVG = "{http://www.w3.org/2000/svg}"


def _svg_shapes(path):
    root = ET.parse(path).getroot()
    assert root.tag == f"{SVG}svg"
    return root, list(root.iter(f"{SVG}path")) + list(root.iter(f"{SVG}polyline"))


def _check_pdf(path):
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert len(re.findall(rb"/Type\s*/Page\b", data)) == 1
    return data


def test_view_snapshot_as_svg_is_vectors(make_window, tmp_path):
    window = make_window("linreg")
    window.controller.run_until(10)
    view = next(v for v in window.views if v.view_id == "samples")
    path = save_snapshot(window, tmp_path / "samples.svg", view)
    assert path.name == "samples.svg"
    root, shapes = _svg_shapes(path)
    assert root.get("viewBox") == f"0 0 {view.width()} {view.height()}"
    assert len(shapes) > 50  # axes, grid, the per-sample curves, the mean, the arrow
    texts = " ".join("".join(t.itertext()) for t in root.iter(f"{SVG}text"))
    assert "Per-sample losses" in texts or "Loss along" in texts  # text stays text
    # the plot is not a picture: no image covers more than a tenth of the view
    for image in root.iter(f"{SVG}image"):
        area = float(image.get("width")) * float(image.get("height"))
        assert area < 0.1 * view.width() * view.height()
    # the plot's curves are clipped to its axes (SVG 1.1 clip paths)
    assert root.find(f".//{SVG}clipPath") is not None
    assert [p.name for p in tmp_path.iterdir()] == ["samples.svg"]  # no temporary left


def test_view_snapshot_as_pdf_has_one_page_of_the_views_size(make_window, tmp_path):
    window = make_window()
    view = next(v for v in window.views if v.view_id == "learning_curve")
    data = _check_pdf(save_snapshot(window, tmp_path / "curve.pdf", view))
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    assert box is not None
    width, height = (float(v) for v in box.groups())
    assert width == pytest.approx(view.width() * 0.75, abs=1)  # 96 px = 72 pt
    assert height == pytest.approx(view.height() * 0.75, abs=1)


def test_other_endings_still_give_png_and_the_3d_view_is_refused(make_window, tmp_path):
    window = make_window()
    assert save_snapshot(window, tmp_path / "snap", window.views[0]).suffix == ".png"
    with pytest.raises(ConfigError, match=r"\.svg or \.pdf"):
        save_vector(window.views[0], tmp_path / "x.eps")

    class GLView:  # what save_vector looks at: an OpenGL view's id
        view_id = "surface3d"
        title = "3-D surface"

    with pytest.raises(ConfigError, match="OpenGL"):
        save_vector(GLView(), tmp_path / "x.svg")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["snap.png"]


@pytest.mark.parametrize("ending", ["svg", "pdf"])
def test_screenshot_of_the_window_as_vectors(tmp_path, capsys, ending):
    out = tmp_path / f"window.{ending}"
    assert main(["--screenshot", str(out), "--preset", "wavy", "--steps", "5"]) == 0
    if ending == "svg":
        root, shapes = _svg_shapes(out)
        assert root.get("viewBox") == "0 0 1280 800"
        assert len(shapes) > 200
    else:
        _check_pdf(out)


def test_hairline_transforms_are_baked_into_the_points():
    svg = ('<g fill="none" stroke="#000" transform="matrix(2,0,0,-3,10,20)">\n'
           '<path vector-effect="non-scaling-stroke" d="M0,0 L1,1e-1 L-1.5,2 Z "/>\n'
           '<polyline fill="none" vector-effect="non-scaling-stroke" points="1,1 2,2 " />\n'
           '</g>\n'
           '<g fill="none" transform="matrix(2,0,0,2,0,0)"><text>kept</text></g>')
    out = bake_hairline_transforms(svg)
    assert 'd="M 10,20 L 12,19.7 L 7,14 Z"' in out
    assert 'points="12,17 14,14"' in out
    assert out.count("transform=") == 1  # the text keeps its own
    assert "matrix(2,0,0,2,0,0)" in out


@pytest.mark.parametrize(("typed", "chosen", "written"), [
    ("view", "SVG vector graphics (*.svg)", "view.svg"),
    ("view", "PDF vector graphics (*.pdf)", "view.pdf"),
    ("view.pdf", "PNG image (*.png)", "view.pdf"),  # a typed ending wins
    ("view", "PNG image (*.png)", "view.png"),
])
def test_the_menu_entry_takes_the_type_chosen_in_the_file_dialog(make_window, tmp_path,
                                                                  monkeypatch, typed, chosen,
                                                                  written):
    from PySide6.QtWidgets import QFileDialog

    window = make_window()
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kw: (str(tmp_path / typed), chosen)))
    window.export_actions["save_snapshot"].trigger()
    assert [p.name for p in tmp_path.iterdir()] == [written]
