"""Draw docs/edge_of_stability.png: the sharpness and the loss of the edge_of_stability preset's
two runs, from the command line's own output (``gdviz run --preset edge_of_stability --lr LR
--curvature``), drawn with pyqtgraph and written with its ImageExporter.

Top: the sharpness λmax after every step, each run in its colour, with its line 2/η dashed.
Bottom: the full loss on a log axis. Run from the repository root:

    PYTHONPATH=. QT_QPA_PLATFORM=offscreen python docs/make_edge_of_stability.py
"""

from __future__ import annotations

import csv
import io
import os
import pathlib
import sys
from contextlib import redirect_stderr, redirect_stdout

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pyqtgraph as pg  # noqa: E402
import pyqtgraph.exporters  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from gdviz.cli.main import main as gdviz_main  # noqa: E402
from gdviz.core.presets import get_preset  # noqa: E402

OUT = pathlib.Path(__file__).with_name("edge_of_stability.png")
WIDTH = 1000


def cli_trace(lr: float) -> tuple[list[str], np.ndarray]:
    """(header, table) of ``gdviz run --preset edge_of_stability --lr LR --curvature``."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = gdviz_main(["run", "--preset", "edge_of_stability", "--lr", repr(lr),
                           "--curvature", "--out", "-"])
    if code:
        sys.exit(err.getvalue())
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    return rows[0], np.array(rows[1:], dtype=float)


def main() -> None:
    pg.mkQApp()
    pg.setConfigOptions(antialias=True, background="w", foreground="#222222")
    preset = get_preset("edge_of_stability")
    layout = pg.GraphicsLayoutWidget()
    layout.resize(WIDTH, 620)
    sharp = layout.addPlot(row=0, col=0, title="Sharpness λmax of the full loss's Hessian "
                                               "(dashed: 2/η of each run)")
    loss = layout.addPlot(row=1, col=0, title="Full loss (mean squared error)")
    sharp.setLabel("left", "λmax")
    loss.setLabel("left", "loss")
    loss.setLabel("bottom", "step")
    loss.setLogMode(y=True)
    loss.getAxis("left").enableAutoSIPrefix(False)
    sharp.addLegend(offset=(-10, -10))      # bottom right, clear of the lines
    for run in preset.runs:
        header, table = cli_trace(run.config.lr)
        steps = table[:, header.index("step")]
        sharpness = table[:, header.index("sharpness")]
        sharp.plot(steps, sharpness, pen=pg.mkPen(run.color, width=1.5), name=run.name)
        line = pg.InfiniteLine(2 / run.config.lr, angle=0,
                               pen=pg.mkPen(run.color, width=2, style=Qt.PenStyle.DashLine))
        sharp.addItem(line)
        loss.plot(steps, table[:, header.index("loss")], pen=pg.mkPen(run.color, width=1.5))
        reached = int(np.argmax(sharpness >= 2 / run.config.lr))
        after = sharpness[reached:] * run.config.lr / 2 - 1
        print(f"{run.name}: reaches 2/η at step {reached}, then within "
              f"{after.min():+.1%} .. {after.max():+.1%}")
    loss.setXLink(sharp)
    layout.show()                        # lay the plots out at the widget's size
    pg.QtWidgets.QApplication.processEvents()
    exporter = pyqtgraph.exporters.ImageExporter(layout.scene())
    exporter.parameters()["width"] = WIDTH
    exporter.export(str(OUT))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
