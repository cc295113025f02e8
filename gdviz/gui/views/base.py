"""The contract every view follows, and the plot style they share.

A view is the content of one dock. It creates its pyqtgraph items ONCE (in ``__init__`` or
``set_run``) and afterwards only calls ``setData``/``setValue`` on them. It never computes
optimizer steps: it draws what the history holds, and evaluates the problem's vectorised loss
and gradients (gdviz.core.problems / gdviz.core.surfaces) for the curves it shows.

Life cycle, driven by the main window:
    view.set_run(problem, config, history)   # new problem / settings / reset: static content
    view.show_step(index)                    # draw the state at history step ``index``
``show_step`` is called at most ~60 times per second with the newest index while playing, and
with any earlier index when the user scrubs the timeline; it must be cheap (decimate series).
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QWidget

from gdviz.core.history import RunHistory
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig

_configured = False


def configure_pyqtgraph() -> None:
    """Light theme (students print and project these), antialiased lines. Idempotent."""
    global _configured
    if not _configured:
        pg.setConfigOptions(background="w", foreground="k", antialias=True)
        _configured = True


class LessonView(QWidget):
    """Base class of every view. Subclasses set ``title`` (dock title), ``view_id`` (stable id
    used for dock state, export names and the CLI ``--view``) and ``tooltip`` (what it shows)."""

    title = "View"
    view_id = "view"
    tooltip = ""

    def __init__(self, parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.problem: Problem | None = None
        self.config: RunConfig | None = None
        self.history: RunHistory | None = None
        self.setToolTip(self.tooltip)

    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        """A new run starts (or was reset): remember it and refresh static content."""
        self.problem, self.config, self.history = problem, config, history

    def show_step(self, index: int) -> None:
        """Draw the state at history step ``index`` (0 = start point)."""
        raise NotImplementedError
