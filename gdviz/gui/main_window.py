"""The main window: parameter panels, step math and one dock per view; menus, playback
toolbar and status bar. It wires widgets to the RunController and owns no run state itself."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QWidget,
)

from gdviz import __version__
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.gui.controller import RunController
from gdviz.gui.panels.editor import ConfigEditor
from gdviz.gui.panels.optimizer import OptimizerPanel
from gdviz.gui.panels.problem import ProblemPanel
from gdviz.gui.panels.run import RunPanel
from gdviz.gui.panels.sampling import SamplingPanel
from gdviz.gui.panels.status import RunStatusBar
from gdviz.gui.panels.step_math import StepMathPanel
from gdviz.gui.playback import PlaybackToolbar
from gdviz.gui.settings import AppSettings
from gdviz.presets import Preset, get_preset, list_presets

log = logging.getLogger(__name__)
DEFAULT_PRESET = "wavy"
# view -> the view whose place it shares as a tab. Test functions bring contour and 3-D surface
# to the front (their "samples" and histogram show one sample); lessons the other two.
TAB_WITH = {"contour": "samples", "surface3d": "histogram"}


class MainWindow(QMainWindow):
    """``MainWindow(preset=None, settings=None)``: opens on ``preset``, else on the last run
    configuration stored in ``settings``, else on the ``wavy`` lesson."""

    def __init__(self, preset: str | None = None, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from gdviz.gui.views import VIEW_CLASSES

        self.settings = settings if settings is not None else AppSettings()
        self.setWindowTitle("gdviz — gradient descent, step by step")
        self.setDockNestingEnabled(True)
        self.preset: Preset | None = None
        self._sized = False
        self._layout_restored = False
        config, self.preset = self._initial_config(preset)
        self.controller = RunController(config, self)
        self.toolbar = PlaybackToolbar(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)

        self.problem_panel = ProblemPanel()
        self.optimizer_panel = OptimizerPanel()
        self.sampling_panel = SamplingPanel()
        self.run_panel = RunPanel()
        self.panels = [self.problem_panel, self.optimizer_panel, self.sampling_panel,
                       self.run_panel]
        self.step_math = StepMathPanel()
        self.views = []
        for cls in VIEW_CLASSES:
            try:
                self.views.append(cls())
            except Exception:  # one broken view must not keep the window from opening
                log.exception("view %s could not be created", cls.__name__)
        self.docks: dict[str, QDockWidget] = {}
        self._build_docks()
        placeholder = QWidget()
        placeholder.hide()  # the docks fill the window; Qt still wants a central widget
        self.setCentralWidget(placeholder)

        self.status = RunStatusBar(self)
        self.setStatusBar(self.status)
        self.editor = ConfigEditor(self.panels, config, self)
        self._build_menus()

        self.controller.views = self.views
        self.controller.view_filter = self._view_is_shown
        self._connect()
        self._restore_layout()
        self.problem_panel.set_lesson(*self._lesson_text(self.preset))
        speed = self.settings.speed()
        self.toolbar.set_speed(30.0 if speed is False else speed)
        self.controller.set_speed(self.toolbar.speed())
        self.controller.sig_run_reset.connect(self._update_title)
        self.controller.reset()
        from gdviz.gui.export_actions import install_export_actions

        install_export_actions(self)

    # -- construction -------------------------------------------------------------------------
    def _initial_config(self, preset: str | None) -> tuple[RunConfig, Preset | None]:
        if preset:
            found = get_preset(preset)  # ConfigError for unknown names: main_gui reports it
            return _preset_config(found), found
        stored = self.settings.last_config()
        if stored is not None:
            return stored, self._stored_preset(stored)
        found = get_preset(DEFAULT_PRESET)
        return _preset_config(found), found

    def _stored_preset(self, config: RunConfig) -> Preset | None:
        """The last session's preset, if the restored config still runs its problem."""
        try:
            preset = get_preset(self.settings.preset_name())
        except ConfigError:
            return None
        return preset if preset.config.problem == config.problem else None

    def _dock(self, name: str, title: str, widget: QWidget, tooltip: str,
              scroll: bool = False) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName("dock_" + name)
        dock.setToolTip(tooltip)
        if scroll:
            area = QScrollArea()
            area.setWidgetResizable(True)
            area.setFrameShape(QScrollArea.Shape.NoFrame)
            area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            area.setWidget(widget)
            widget = area
        dock.setWidget(widget)
        dock.toggleViewAction().setToolTip(f"Show or hide the {title} panel")
        self.docks[name] = dock
        return dock

    def _build_docks(self) -> None:
        left = Qt.DockWidgetArea.LeftDockWidgetArea
        tips = {
            "problem": "What is being optimised: the lesson's model and data, or a test "
                       "function.",
            "optimizer": "How each step is computed from the gradient.",
            "sampling": "Which samples each step sees.",
            "run": "Where the run starts and when it stops.",
        }
        panel_docks = [self._dock(name, panel.title, panel, tips[name], scroll=True)
                       for name, panel in zip(tips, self.panels)]
        for dock in panel_docks:
            self.addDockWidget(left, dock)
        self.tabifyDockWidget(panel_docks[2], panel_docks[3])
        panel_docks[2].raise_()
        right = Qt.DockWidgetArea.RightDockWidgetArea
        view_docks = [self._dock(view.view_id, view.title, view, view.tooltip)
                      for view in self.views]
        math_dock = self._dock("step_math", self.step_math.title, self.step_math,
                               self.step_math.text.toolTip())
        # Views that are alternatives to another share its place as tabs (the problem decides
        # which tab is in front); the rest fill two rows, then the step math below them.
        by_id = {dock.objectName()[5:]: dock for dock in view_docks}
        tabbed = {vid: host for vid, host in TAB_WITH.items() if vid in by_id and host in by_id}
        placed = [d for d in view_docks if d.objectName()[5:] not in tabbed]
        top, bottom = placed[:2], placed[2:]
        rows = [row for row in (top, bottom) if row] + [[math_dock]]
        for row in rows:
            self.addDockWidget(right, row[0], Qt.Orientation.Vertical)
        for row in rows:
            for previous, dock in zip(row, row[1:]):
                self.splitDockWidget(previous, dock, Qt.Orientation.Horizontal)
        for vid, host in tabbed.items():
            self.tabifyDockWidget(by_id[host], by_id[vid])
        self._rows = rows
        self._panel_docks = panel_docks

    def _raise_views_for_problem(self) -> None:
        """Bring the tabs that suit the problem to the front (see TAB_WITH)."""
        from PySide6.QtGui import QGuiApplication

        analytic = not self.controller.problem.has_data
        no_gl = QGuiApplication.platformName() in ("offscreen", "minimal")
        for vid, host in TAB_WITH.items():
            if vid not in self.docks or host not in self.docks:
                continue
            front = vid if analytic and not (vid == "surface3d" and no_gl) else host
            if not self.docks[front].isHidden():
                self.docks[front].raise_()

    def _apply_default_sizes(self) -> None:
        """Column widths and row heights for a fresh layout (needs the window's final size)."""
        width, height = self.width(), self.height()
        rows = self._rows
        self.resizeDocks([self._panel_docks[0], rows[0][0]], [330, max(400, width - 330)],
                         Qt.Orientation.Horizontal)
        panels = self._panel_docks[:3]
        self.resizeDocks(panels, [d.widget().widget().sizeHint().height() + 8 for d in panels],
                         Qt.Orientation.Vertical)
        heights = [0.47, 0.31, 0.22][-len(rows):] if len(rows) > 1 else [1.0]
        self.resizeDocks([row[0] for row in rows], [int(h * height) for h in heights],
                         Qt.Orientation.Vertical)
        if len(rows[0]) > 1:
            first = int((width - 330) * 0.62)
            self.resizeDocks(rows[0][:2], [first, width - 330 - first],
                             Qt.Orientation.Horizontal)

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.setToolTipsVisible(True)
        self.file_menu = file_menu  # export actions are added here later
        quit_act = QAction("&Quit", self)
        quit_act.setShortcut(QKeySequence("Ctrl+Q"))
        quit_act.setToolTip("Close gdviz (settings and window layout are saved)")
        quit_act.triggered.connect(self.close)
        file_menu.addAction(quit_act)

        view_menu = bar.addMenu("&View")
        view_menu.setToolTipsVisible(True)
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction(self.toolbar.toggleViewAction())

        preset_menu = bar.addMenu("&Presets")
        preset_menu.setToolTipsVisible(True)
        groups = (("lesson", "Lessons"), ("function", "Test functions"),
                  ("comparison", "Comparisons (first run)"))
        try:
            presets = list_presets()
        except ConfigError as err:
            presets = ()
            self.status.showMessage(f"Presets not available: {err}", 10000)
        self.preset_actions: dict[str, QAction] = {}
        for group, title in groups:
            members = [p for p in presets if p.group == group]
            if not members:
                continue
            sub = preset_menu.addMenu(title)
            sub.setToolTipsVisible(True)
            for preset in members:
                action = sub.addAction(preset.title)
                action.setToolTip(preset.description or preset.title)
                action.triggered.connect(lambda _=False, n=preset.name: self.load_preset(n))
                self.preset_actions[preset.name] = action

        help_menu = bar.addMenu("&Help")
        how = help_menu.addAction("How to read the views")
        how.setShortcut(QKeySequence("F1"))
        how.triggered.connect(self._on_how_triggered)
        about = help_menu.addAction("About gdviz")
        about.triggered.connect(lambda: QMessageBox.about(self, "About gdviz", self.about_text()))

    def how_to_read_text(self) -> str:
        parts = ["<p>Press <b>Step</b> (→) to take one step and read its arithmetic in "
                 "<i>Step math</i>; <b>Play</b> (Space) keeps stepping; <b>Reset</b> (R) goes "
                 "back to the start. Every setting has a tooltip: hover it.</p>"]
        for view in self.views:
            tip = view.tooltip.replace("\n", "<br>")
            parts.append(f"<p><b>{view.title}</b>: {tip}</p>")
        return "".join(parts)

    def _on_how_triggered(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "How to read the views",
                          self.how_to_read_text(), QMessageBox.StandardButton.Ok, self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.setModal(False)
        box.show()

    def _connect(self) -> None:
        tb, c = self.toolbar, self.controller
        tb.act_play.triggered.connect(c.toggle_play)
        tb.act_step.triggered.connect(lambda: c.step(1))
        tb.act_epoch.triggered.connect(c.run_epoch)
        tb.act_reset.triggered.connect(self._on_reset_triggered)
        tb.sig_speed_changed.connect(c.set_speed)
        c.sig_state_changed.connect(self._on_controller_state_changed)
        c.sig_step_shown.connect(self._on_controller_step_shown)
        c.sig_failed.connect(self._on_controller_failed)
        self.editor.sig_config_changed.connect(self._on_editor_config_changed)
        self.editor.sig_invalid.connect(
            lambda message: self.status.showMessage(f"Not applied: {message}", 8000))
        for view in self.views:
            view.sig_start_picked.connect(self._on_view_start_picked)
            dock = self.docks[view.view_id]
            dock.visibilityChanged.connect(
                lambda visible, v=view: self._on_dock_visibility_changed(v, visible))

    def _restore_layout(self) -> None:
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 800)
        state = self.settings.dock_state()
        self._layout_restored = state is not None and self.restoreState(state)
        if state is not None and not self._layout_restored:
            log.debug("stored dock layout ignored")

    # -- public actions -----------------------------------------------------------------------
    def load_preset(self, name: str) -> None:
        """Switch to preset ``name`` (comparisons load their first run for now)."""
        try:
            preset = get_preset(name)
            config = _preset_config(preset)
        except ConfigError as err:
            self.status.showMessage(f"Preset not loaded: {err}", 8000)
            return
        self.preset = preset
        self.problem_panel.set_lesson(*self._lesson_text(preset))
        self.editor.show_config(config)
        self.controller.set_config(config)
        self._raise_views_for_problem()
        self.status.showMessage(f"Loaded preset: {preset.title}", 5000)

    def show_message_box(self, title: str, text: str) -> None:
        """A non-modal message (never blocks the event loop or a test); one box at a time."""
        box = getattr(self, "_last_box", None)
        if box is not None and box.isVisible():
            box.setText(text)
            return
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
        box.setModal(False)
        box.show()
        self._last_box = box

    # -- slots ----------------------------------------------------------------------------------
    def _on_reset_triggered(self) -> None:
        self.controller.reset()
        self.status.showMessage("Run reset to step 0", 3000)

    def _update_title(self) -> None:
        if self.preset is not None:
            what = self.preset.title
        else:
            what = self.controller.problem.title or self.controller.config.problem
        self.setWindowTitle(f"gdviz — {what}")

    def _on_editor_config_changed(self, config: RunConfig) -> None:
        switched = config.problem != self.controller.config.problem
        if self.preset is not None and config.problem != self.preset.config.problem:
            self.preset = None
            self.problem_panel.set_lesson("", "")
        self.controller.set_config(config)
        if switched:
            self._raise_views_for_problem()
        self.status.showMessage("Settings changed — run reset to step 0", 5000)

    def _on_view_start_picked(self, start: tuple) -> None:
        self.editor.apply(self.run_panel, ("init",), tuple(float(v) for v in start))

    def _on_controller_state_changed(self, state: str) -> None:
        self.toolbar.set_playing(state == "running" and self.controller.is_playing())
        self.status.set_state(state, self.controller.history.last)

    def _on_controller_step_shown(self, index: int) -> None:
        history, c = self.controller.history, self.controller
        record = history.last
        if record is None:
            return
        self.status.set_record(record)
        if not self.docks["step_math"].isHidden():
            self.step_math.show_record(record, c.config, c.problem)

    def _on_controller_failed(self, message: str) -> None:
        self.status.showMessage(f"Error: {message}", 15000)
        self.show_message_box("gdviz", message[:1].upper() + message[1:])

    def _on_dock_visibility_changed(self, view, visible: bool) -> None:
        if visible and len(self.controller.history):
            # a view shown again catches up with the run (it was skipped while hidden)
            QTimer.singleShot(0, lambda: self.controller.catch_up(view))

    def _view_is_shown(self, view) -> bool:
        """Draw only what can be seen: not closed docks, nor tabs behind another tab (they
        catch up when they come to the front). Before the window is shown, draw every open
        dock (exports and tests may render a window that was never shown)."""
        dock = self.docks.get(view.view_id)
        if dock is None:
            return True
        return dock.isVisible() if self.isVisible() else not dock.isHidden()

    @staticmethod
    def _lesson_text(preset: Preset | None) -> tuple[str, str]:
        if preset is None:
            return "", ""
        return preset.title, preset.description

    def about_text(self) -> str:
        return (f"<b>gdviz {__version__}</b><br>Watch gradient descent and stochastic "
                "gradient descent work, step by step: per-sample loss curves, update arrows, "
                "gradient histograms and learning curves.")

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if not self._layout_restored:
                self._apply_default_sizes()
                self._raise_views_for_problem()

    # -- closing --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.controller.shutdown(3000)
        try:
            self.settings.save_layout(self.saveGeometry(), self.saveState())
            self.settings.save_config(self.controller.config)
            self.settings.save_preset_name(self.preset.name if self.preset else "")
            self.settings.save_speed(self.toolbar.speed())
            self.settings.sync()
        except Exception:
            log.debug("settings not saved", exc_info=True)
        super().closeEvent(event)


def _preset_config(preset: Preset) -> RunConfig:
    return preset.runs[0][1] if preset.runs else preset.config

