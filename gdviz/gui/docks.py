"""The main window's docks: the parameter panels on the left (each scrolls rather than
squeezes), the views on the right in two rows, alternative views as tabs (the step math is a tab
beside the data); default sizes for a fresh layout, and which tabs come to the front for a
problem.

The default layout is made for a 1280×800 laptop: every plot it shows is at least 160 px tall
and 240 px wide there (and at 1366×768 and 1920×1080; tests/gui/test_layout.py measures them).
The three-row layout before it gave the bottom row's plots 64–119 px at 1280×800."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDockWidget, QScrollArea, QTabBar, QWidget

# view -> the view whose place it shares as a tab. Test functions bring contour and 3-D surface
# to the front (their "samples" and histogram show one sample); lessons the other two. The step
# math shares the data view's place: a test function has no data, so its step math is in front.
# The curvature view waits behind the histogram (and the 3-D surface) for every problem: a
# third tab of a group that has a tab bar anyway (a new bar cost another row 25 px); the
# gradient noise view is a fourth there. The landscape (a plane through all parameters) and
# the rate phase diagram wait behind the contour, for the same reason (a fifth tab beside the
# histogram cut every tab's title to a few letters at 1280×800), and so does the network view
# (a problem without layers says so): a fourth tab beside the data cut theirs.
TAB_WITH = {"contour": "samples", "surface3d": "histogram", "step_math": "data",
            "curvature": "histogram", "noise": "histogram", "landscape": "contour",
            "theory": "data", "phase": "contour", "network": "contour"}
RAISED_WITHOUT_DATA = ("contour", "surface3d", "step_math")
ROW_SHARES = (0.527, 0.473)     # of the views' height: the maps and samples, then the curves
# a view's dock never asks for more than this: the window never grows past the screen because
# a status line wrapped (the layout squeezes a view's text before it grows the window)
VIEW_MIN_SIZE = (200, 150)
PANEL_TIPS = {
    "problem": "What is being optimised: the lesson's model and data, or a test function. "
               "Shared by every run.",
    "runs": "The runs being compared, each in its colour: select one to edit it, add a copy, "
            "remove, rename, recolour.",
    "optimizer": "How each step of the selected run is computed from the gradient.",
    "sampling": "Which samples each step of the selected run sees.",
    "run": "Where every run starts and when it stops (shared by every run).",
}
HIDE_WITHOUT_DATA = ("data",)
LEFT_WIDTH = 300


def make_dock(window, name: str, title: str, widget: QWidget, tooltip: str,
              scroll: bool = False) -> QDockWidget:
    dock = QDockWidget(title, window)
    dock.setObjectName("dock_" + name)
    dock.setToolTip(tooltip)
    if scroll:
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QScrollArea.Shape.NoFrame)
        # a panel narrower than its fields scrolls sideways rather than cutting them off
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        area.setWidget(widget)
        widget = area
    dock.setWidget(widget)
    dock.toggleViewAction().setToolTip(f"Show or hide the {title} panel")
    return dock


class WindowDocks:
    """Every dock of a main window (``docks``: name -> dock) and how they are placed: built
    once by the window, which asks it for the tabs that suit a problem and for the default
    sizes of a fresh layout."""

    def __init__(self, window) -> None:
        self.window = window
        self.docks: dict[str, QDockWidget] = {}
        self.auto_hidden: set[str] = set()  # hidden because the problem has nothing for them
        self.panel_docks, self.rows = self._build()
        self.default_state = window.saveState()   # View > Reset layout goes back to it

    def _dock(self, name: str, title: str, widget: QWidget, tooltip: str,
              scroll: bool = False) -> QDockWidget:
        dock = make_dock(self.window, name, title, widget, tooltip, scroll)
        self.docks[name] = dock
        return dock

    def _build(self) -> tuple[list[QDockWidget], list[list[QDockWidget]]]:
        """Create every dock and place it: (the panels' docks, the rows of view docks)."""
        window = self.window
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        panels = {"problem": window.problem_panel, "runs": window.runs_panel,
                  "optimizer": window.optimizer_panel, "sampling": window.sampling_panel,
                  "run": window.run_panel}
        panel_docks = [self._dock(name, panel.title, panel, PANEL_TIPS[name], scroll=True)
                       for name, panel in panels.items()]
        for dock in panel_docks:
            window.addDockWidget(left, dock)
        window.tabifyDockWidget(panel_docks[3], panel_docks[4])  # sampling | run
        panel_docks[3].raise_()
        right = Qt.DockWidgetArea.RightDockWidgetArea
        view_docks = [self._dock(view.view_id, view.title, view, view.tooltip)
                      for view in window.views]
        step_math = window.step_math
        view_docks.append(self._dock("step_math", step_math.title, step_math,
                                     step_math.text.toolTip()))
        for dock in view_docks:
            dock.widget().setMinimumSize(*VIEW_MIN_SIZE)
        # Views that are alternatives to another share its place as tabs (the problem decides
        # which tab is in front); the rest fill two rows: the first two, then the others.
        by_id = {dock.objectName()[5:]: dock for dock in view_docks}
        tabbed = {vid: host for vid, host in TAB_WITH.items() if vid in by_id and host in by_id}
        placed = [d for d in view_docks if d.objectName()[5:] not in tabbed]
        rows = [row for row in (placed[:2], placed[2:]) if row]
        for row in rows:
            window.addDockWidget(right, row[0], Qt.Orientation.Vertical)
        for row in rows:
            for previous, dock in zip(row, row[1:]):
                window.splitDockWidget(previous, dock, Qt.Orientation.Horizontal)
        for vid, host in tabbed.items():
            window.tabifyDockWidget(by_id[host], by_id[vid])
        return panel_docks, rows

    def raise_views_for_problem(self, has_data: bool, front: tuple[str, ...] = ()) -> None:
        """Bring the tabs that suit the problem to the front (see TAB_WITH), then the docks
        named in ``front`` (a lesson's choice). A test function has no data: its Data dock would
        only say so, so it is hidden (and shown again for a problem with data, unless the user
        closed it)."""
        analytic = not has_data
        docks = self.docks
        for name in HIDE_WITHOUT_DATA:
            dock = docks.get(name)
            if dock is None:
                continue
            if analytic and not dock.isHidden():
                dock.hide()
                self.auto_hidden.add(name)
            elif not analytic and name in self.auto_hidden:
                dock.show()
                self.auto_hidden.discard(name)
        no_gl = QGuiApplication.platformName() in ("offscreen", "minimal")
        for vid, host in TAB_WITH.items():   # a view raised by no entry waits behind its host
            if vid in docks and host in docks and host not in TAB_WITH \
                    and vid not in RAISED_WITHOUT_DATA and not docks[host].isHidden():
                docks[host].raise_()
        for vid, host in TAB_WITH.items():
            if vid not in docks or host not in docks:
                continue
            if vid not in RAISED_WITHOUT_DATA:
                continue   # it waits behind its host, which another entry brings forward
            shown = vid if analytic and not (vid == "surface3d" and no_gl) else host
            if docks[shown].isHidden():   # the user closed it (or it has nothing to show)
                shown = host if shown == vid else vid
            if not docks[shown].isHidden():
                docks[shown].raise_()
        for name in front:
            if name in docks and not docks[name].isHidden():
                docks[name].raise_()
        # once the layout has settled (the next turn of the event loop)
        QTimer.singleShot(0, self.window, lambda: hide_stale_tab_bars(self.window))

    def apply_default_sizes(self) -> None:
        """Column widths and row heights for a fresh layout (needs the window's final size)."""
        window = self.window
        width, height = window.width(), window.height()
        rows, docks = self.rows, self.panel_docks
        window.resizeDocks([docks[0], rows[0][0]], [LEFT_WIDTH, max(400, width - LEFT_WIDTH)],
                           Qt.Orientation.Horizontal)
        column = docks[:4]  # problem, runs, optimizer, sampling (run is a tab behind sampling)
        heights = [_wanted_height(d) for d in column]
        window.resizeDocks(column, heights, Qt.Orientation.Vertical)
        shares = ROW_SHARES if len(rows) > 1 else (1.0,)
        window.resizeDocks([row[0] for row in rows], [int(h * height) for h in shares],
                           Qt.Orientation.Vertical)
        right_width = width - LEFT_WIDTH
        if len(rows[0]) > 1:
            first = int(right_width * 0.56)
            window.resizeDocks(rows[0][:2], [first, right_width - first],
                               Qt.Orientation.Horizontal)
        if len(rows) > 1 and len(rows[1]) == 3:  # the learning curve gets the most room
            window.resizeDocks(rows[1], [int(right_width * f) for f in (0.35, 0.33, 0.32)],
                               Qt.Orientation.Horizontal)


def hide_stale_tab_bars(window) -> int:
    """Hide the window's dock tab bars that Qt left behind from an earlier layout (it keeps a
    tab bar per tabbed group and, when the layout is redone before the window has its final
    size, sometimes makes a new one and leaves the old one visible where the group used to
    be: a fragment of "Per-sample losses | Contour" over the Problem panel). A bar is stale
    when another visible bar shows the same tabs and sits against its docks while this one
    does not. Returns how many were hidden."""
    titles = {dock.windowTitle(): dock for dock in window.findChildren(QDockWidget)}
    bars = [b for b in window.findChildren(QTabBar) if b.parent() is window and b.isVisible()]

    def tabs(bar: QTabBar) -> tuple[str, ...]:
        return tuple(bar.tabText(i) for i in range(bar.count()))

    def against_its_dock(bar: QTabBar) -> bool:
        dock = titles.get(bar.tabText(bar.currentIndex()))
        if dock is None or dock.isHidden():
            return False
        d, b = dock.geometry(), bar.geometry()
        touching = abs(b.top() - d.bottom() - 1) <= 2 or abs(d.top() - b.bottom() - 1) <= 2
        return touching and b.left() < d.right() and d.left() < b.right()

    in_use = {tabs(b) for b in bars if against_its_dock(b)}
    stale = [b for b in bars if tabs(b) in in_use and not against_its_dock(b)]
    for bar in stale:
        bar.hide()
    return len(stale)


def _wanted_height(dock: QDockWidget) -> int:
    widget = dock.widget()
    inner = widget.widget() if isinstance(widget, QScrollArea) else widget
    return inner.sizeHint().height() + 8
