"""The main window: parameter panels, the runs, step math and one dock per view; menus,
playback toolbar, timeline and status bar. It wires widgets to the RunController and owns no
run state itself. Docks are built in docks.py, menus in menus.py."""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QProcess, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QWidget

from gdviz.core import run_set
from gdviz.core.errors import ConfigError
from gdviz.core.presets import Preset, get_preset
from gdviz.core.records import RunConfig
from gdviz.core.step_blocks import StepBlock
from gdviz.gui import docks, menus, step_process, window_geometry
from gdviz.gui.after_paint import AfterPaint
from gdviz.gui.controller import ENDED, RunController
from gdviz.gui.label_slot import LabelSlot
from gdviz.gui.lesson_captions import LessonCaptions
from gdviz.gui.panels.editor import ConfigEditor
from gdviz.gui.panels.optimizer import OptimizerPanel
from gdviz.gui.panels.problem import ProblemPanel
from gdviz.gui.panels.run import RunPanel
from gdviz.gui.panels.runs import RunsPanel
from gdviz.gui.panels.sampling import SamplingPanel
from gdviz.gui.panels.status import RunStatusBar
from gdviz.gui.panels.step_math import StepMathPanel
from gdviz.gui.playback import PlaybackToolbar
from gdviz.gui.settings import AppSettings
from gdviz.gui.sweep_dialog import open_sweep_dialog
from gdviz.gui.tasks import stop_all_threads
from gdviz.gui.timeline import Timeline
from gdviz.gui.view_choices import apply_view_choices, view_choices
from gdviz.gui.view_focus import ViewFocus
from gdviz.gui.views.base import followed_run_name

log = logging.getLogger(__name__)
DEFAULT_PRESET = "wavy"
# while a run plays, the numbers of the status bar and the step math (a text document laid out
# anew) follow it at most this often: ~1 ms a frame that nobody reads at 30+ frames a second;
# a paused, stepped or scrubbed run shows its step at once
READOUT_PERIOD_MS = 100


class MainWindow(QMainWindow):
    """``MainWindow(preset=None, settings=None)``: opens on ``preset``, else on the last runs
    stored in ``settings``, else on the ``wavy`` lesson."""

    def __init__(self, preset: str | None = None, settings: AppSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from gdviz.gui.views import VIEW_CLASSES

        self.settings = settings if settings is not None else AppSettings()
        self.setWindowTitle("gdviz — gradient descent, step by step")
        self.setDockNestingEnabled(True)
        self.preset: Preset | None = None
        # a preset's seed count is taken when it loads; an export's window turns this off (its
        # frames must not depend on how far the seeds computed in the background have got)
        self.follow_preset_seeds = True
        self._sized = False
        self._layout_restored = False
        runs, selected, self.preset = self._initial_runs(preset)
        self.controller = RunController(runs, self)
        self.controller.selected_track = selected
        self.controller.after_paint = AfterPaint(self).call
        self.toolbar = PlaybackToolbar(self)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.toolbar)
        self.timeline = Timeline(self)
        # beside the playback controls: a row of its own cost the plots 34 px of height
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.timeline)

        self.problem_panel = ProblemPanel()
        self.runs_panel = RunsPanel()
        self.optimizer_panel = OptimizerPanel()
        self.sampling_panel = SamplingPanel()
        self.run_panel = RunPanel()
        self.panels = [self.problem_panel, self.optimizer_panel, self.sampling_panel,
                       self.run_panel]
        self.step_math = StepMathPanel()
        self._readout_timer = QTimer(self)
        self._readout_timer.setSingleShot(True)
        self._readout_timer.setInterval(READOUT_PERIOD_MS)
        self._readout_timer.timeout.connect(self._on_readout_timer)
        self._readout_pending = False   # a step was shown since the readouts were
        self.views = []
        for cls in VIEW_CLASSES:
            try:
                self.views.append(cls())
            except Exception:  # one broken view must not keep the window from opening
                log.exception("view %s could not be created", cls.__name__)
        # each view's check boxes as a fresh view has them: a preset starts from them
        self._default_choices = {view.view_id: {name: value for name, value in
                                                view_choices(view).items() if name != "param"}
                                 for view in self.views}
        self.dock_layout = docks.WindowDocks(self)
        self.docks = self.dock_layout.docks  # name -> QDockWidget
        panel_names = {dock.objectName() for dock in self.dock_layout.panel_docks}
        self.focus = ViewFocus(self, {name: dock for name, dock in self.docks.items()
                                      if dock.objectName() not in panel_names})
        placeholder = QWidget()
        placeholder.hide()  # the docks fill the window; Qt still wants a central widget
        self.setCentralWidget(placeholder)

        self.status = RunStatusBar(self)
        self.setStatusBar(self.status)
        self.run_label = QLabel()  # which run the status bar's numbers belong to
        self.run_label.setObjectName("status_run")
        self.run_label.setToolTip("The selected run: the numbers on the right are its own.")
        self.status.add_first_field(LabelSlot(self.run_label))
        self.editor = ConfigEditor(self.panels, self.controller.config, self)
        built = menus.build_menus(self)
        self.file_menu, self.preset_actions, self.formula_menu = built
        self.export_runner = None  # the export rendering now (kept alive while it renders)
        self.sweep_dialog = None   # Optimizer panel > Sweep learning rate…, made on first use
        self.captions = LessonCaptions(self)  # the lesson's captions over the view in front
        self.captions.set_enabled(self.settings.captions_shown())
        self.captions.set_script(self._preset_captions(self.preset))

        self.controller.views = self.views
        self.controller.view_filter = self._view_is_shown
        self._connect()
        self._restore_layout()
        self.problem_panel.set_lesson(*self._lesson_text(self.preset))
        speed = self.settings.speed()
        self.toolbar.set_speed(30.0 if speed is False else speed)
        self.controller.set_speed(self.toolbar.speed())
        self._on_controller_runs_changed()
        self.use_seed_count(self.preset.seeds if self.preset else 1)
        self.controller.reset()
        self._apply_preset_views(self.preset)
        from gdviz.gui.export_actions import install_export_actions

        self.export_actions = install_export_actions(self)
        # a step server takes ~0.1-0.5 s to start: start it once the window has painted, so
        # the first Play or Step does not wait for it (step_process.py)
        QTimer.singleShot(0, self, step_process.warm)

    # -- construction -------------------------------------------------------------------------
    def _initial_runs(self, preset: str | None):
        """(runs, selected, preset): the preset's, else the last session's, else wavy."""
        if preset:
            found = get_preset(preset)  # ConfigError for unknown names: main_gui reports it
            return _preset_runs(found), 0, found
        stored = self.settings.last_runs()
        if stored is not None:
            runs, selected = stored
            return runs, selected, self._stored_preset(runs[0].config)
        config = self.settings.last_config()
        if config is not None:
            return (run_set.single(config),), 0, self._stored_preset(config)
        found = get_preset(DEFAULT_PRESET)
        return _preset_runs(found), 0, found

    def _stored_preset(self, config: RunConfig) -> Preset | None:
        """The last session's preset, if the restored config still runs its problem."""
        try:
            preset = get_preset(self.settings.preset_name())
        except ConfigError:
            return None
        return preset if preset.config.problem == config.problem else None

    def _connect(self) -> None:
        tb, c = self.toolbar, self.controller
        self._thinning_said = ""   # the thinning note last said in the status bar
        tb.act_play.triggered.connect(self._on_play_triggered)
        tb.act_step.triggered.connect(lambda: c.step(1))
        tb.act_epoch.triggered.connect(c.run_epoch)
        tb.act_reset.triggered.connect(self._on_reset_triggered)
        tb.sig_speed_changed.connect(c.set_speed)
        c.sig_state_changed.connect(self._on_controller_state_changed)
        c.sig_step_shown.connect(self._on_controller_step_shown)
        c.sig_history_grew.connect(self._on_history_grew)
        c.sig_failed.connect(self._on_controller_failed)
        c.sig_notice.connect(lambda message: self.status.showMessage(
            message[:1].upper() + message[1:], 15000))
        c.sig_runs_changed.connect(self._on_controller_runs_changed)
        c.sig_run_ended.connect(self._on_controller_run_ended)
        c.sig_run_reset.connect(self._update_title)
        c.sig_run_reset.connect(self._show_ended_runs)
        self.timeline.sig_index_requested.connect(c.show_index)
        runs = self.runs_panel
        runs.sig_add.connect(self._on_runs_add)
        runs.sig_remove.connect(lambda k: self._runs_request(c.remove_run, k))
        runs.sig_selected.connect(c.select_run)
        runs.sig_renamed.connect(lambda k, name: self._runs_request(c.rename_run, k, name))
        runs.sig_recolored.connect(lambda k, color: self._runs_request(c.recolor_run, k, color))
        self.editor.sig_config_changed.connect(self._on_editor_config_changed)
        self.optimizer_panel.sig_sweep_requested.connect(lambda: open_sweep_dialog(self))
        self.sampling_panel.sig_seeds_changed.connect(self.set_seed_count)
        c.sig_run_reset.connect(self._show_seed_notes)
        self.editor.sig_invalid.connect(
            lambda message: self.status.showMessage(f"Not applied: {message}", 8000))
        for view in self.views:
            view.sig_start_picked.connect(self._on_view_start_picked)
            view.sig_edit_picked.connect(
                lambda key, value: self.editor.apply(self.optimizer_panel, key, value))
            dock = self.docks[view.view_id]
            dock.visibilityChanged.connect(
                lambda visible, v=view: self._on_dock_visibility_changed(v, visible))

    def _restore_layout(self) -> None:
        screen = self.screen() or QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        geometry = self.settings.geometry()
        if geometry is None or not self.restoreGeometry(geometry):
            self.setGeometry(window_geometry.first_geometry(available))
        else:
            self.setGeometry(window_geometry.fitted(self.geometry(), available))
        state = self.settings.dock_state()
        self._layout_restored = state is not None and self.restoreState(state)
        if state is not None and not self._layout_restored:
            log.debug("stored dock layout ignored")

    # -- public actions -----------------------------------------------------------------------
    def load_preset(self, name: str) -> None:
        """Switch to preset ``name``; a comparison loads all its runs."""
        try:
            preset = get_preset(name)
            runs = _preset_runs(preset)
        except ConfigError as err:
            self.status.showMessage(f"Preset not loaded: {err}", 8000)
            return
        self.preset = preset
        self.problem_panel.set_lesson(*self._lesson_text(preset))
        if not self.settings.keep_view_options():   # log scales, zooms: the preset's own
            for view in self.views:
                apply_view_choices(view, self._default_choices.get(view.view_id, {}))
        self.captions.set_script(preset.captions)
        self.editor.show_config(runs[0].config)
        self.use_seed_count(preset.seeds if self.follow_preset_seeds else 1)
        self.controller.set_runs(runs, 0)
        self.raise_views_for_problem()
        self._apply_preset_views(preset)
        what = f" ({len(runs)} runs)" if len(runs) > 1 else ""
        self.status.showMessage(f"Loaded preset: {preset.title}{what}", 5000)

    def set_seed_count(self, count) -> None:
        """Run ``count`` seeds of every run at once (the Sampling panel's Seeds, a session, the
        command line's --seeds); a refusal shows under the field and the count stays."""
        try:
            self.controller.set_seed_count(count)
        except ConfigError as err:
            self.sampling_panel.set_seeds_note(f"{err}; the window still runs "
                                               f"{self.controller.seed_count}")
            self.sampling_panel.set_seed_count(self.controller.seed_count)
            return
        self.sampling_panel.set_seed_count(self.controller.seed_count)
        self._show_seed_notes()

    def use_seed_count(self, count: int) -> None:
        """The seed count the next reset starts the runs with (a preset's, a session's), shown
        in the Sampling panel; ConfigError outside 1..256."""
        self.controller.seed_runs.set_count(count)
        self.sampling_panel.set_seed_count(self.controller.seed_count)

    def wait_for_seeds(self, timeout_ms: int = 60000) -> bool:
        """Block until every run's seeds are computed, then redraw the shown step with them
        (screenshots, exports, benchmarks); True when they finished in time."""
        done = self.controller.seed_runs.wait(timeout_ms)
        self.controller.show_index(self.controller.shown_index)
        return done

    def _show_seed_notes(self) -> None:
        """Under the Seeds field: why a run has no seeds, or why they stop early."""
        notes = [note for note in self.controller.seed_runs.notes if note]
        notes += [p.note for p in self.controller.seed_runs.paths if p is not None and p.note]
        self.sampling_panel.set_seeds_note("; ".join(dict.fromkeys(notes)))

    def start_export(self, spec, show_progress: bool = True, source_factory=None):
        """Render the export ``spec`` frame by frame in the background (a progress dialog with
        Cancel unless ``show_progress`` is False); the status bar says how it ended. Returns
        the runner, which the window keeps while it renders (export_actions.start_export)."""
        from gdviz.gui.export_actions import start_export

        self.export_runner = start_export(self, spec, show_progress, source_factory)
        return self.export_runner

    def raise_views_for_problem(self) -> None:
        """Bring the view tabs that suit the current problem to the front (docks.py), then
        those the lesson names (the bowl lesson: the contour and the step math)."""
        front = self.preset.front if self.preset is not None else ()
        self.dock_layout.raise_views_for_problem(self.controller.problem.has_data, front)
        self._show_caption(self.controller.shown_index)  # over the view now in front

    def reset_layout(self) -> None:
        """View > Reset layout: the default docks, tabs and sizes for the window's size, the
        tabs that suit the problem in front (a focused view goes back into it)."""
        self.focus.forget()
        self.restoreState(self.dock_layout.default_state)
        self.dock_layout.apply_default_sizes()
        self.raise_views_for_problem()
        self.status.showMessage("Layout reset", 3000)

    def set_presenter_scale(self, scale: float) -> None:
        """View > Presenter mode: store ``scale`` and offer to restart gdviz with it (Qt reads
        its scale factor once, at start-up)."""
        from gdviz.gui import presenter

        if scale == self.settings.presenter_scale():
            return
        self.settings.save_presenter_scale(scale)
        self.settings.sync()
        what = "off" if scale == 1.0 else f"×{scale:g}"
        answer = QMessageBox.question(
            self, "Presenter mode",
            f"Presenter mode {what} takes effect when gdviz starts again. Restart now? "
            "(Your runs and layout are kept.)")
        if answer == QMessageBox.StandardButton.Yes:
            program, arguments = presenter.restart_command()
            if self.close():
                QProcess.startDetached(program, arguments)

    def load_runs(self, runs, selected: int = 0, preset: Preset | None = None) -> None:
        """Show ``runs`` (RunSpecs, names and colours kept) with run ``selected`` selected, as
        a preset or a session puts them in: ``preset``'s lesson text (none: no lesson), the
        settings of the selected run, the views raised for the problem; every run at step 0."""
        self.preset = preset
        self.problem_panel.set_lesson(*self._lesson_text(preset))
        self.captions.set_script(self._preset_captions(preset))
        self.editor.show_config(runs[selected].config)
        self.controller.set_runs(runs, selected)
        self.raise_views_for_problem()

    def append_steps(self, groups) -> None:
        """Lock-step groups computed elsewhere (an export replays the runs: ``group[k]`` is
        run k's StepRecord, None once it ended) appended to the runs as the worker's steps are:
        the histories and the optimizer states, so the step math of any step can be shown;
        the state word says "running" until every run has ended, then how they ended; the Runs
        panel says how each run that ended did. Draws nothing: ``show_step`` does."""
        c = self.controller
        if not groups:
            return
        c.take_replayed(StepBlock.from_groups(groups))
        self._show_ended_runs()

    def show_step(self, index: int) -> None:
        """Show lock-step ``index`` as the timeline shows it: every view, the timeline, the
        status bar's numbers and the step math follow (the step math at once, as for a
        paused run)."""
        self.controller.show_index(index)

    def set_captions(self, script) -> None:
        """Use the caption script ``script`` (core.captions.CaptionScript) from now on, e.g.
        as a teacher edited it or a session saved it, and show the caption of the step shown."""
        self.captions.set_script(script)
        self._show_caption(self.controller.shown_index)

    def show_captions(self, on: bool) -> None:
        """View > Show lesson captions: show them or not (remembered)."""
        self.captions.set_enabled(on)
        self.settings.save_captions_shown(on)
        self._show_caption(self.controller.shown_index)

    def _show_caption(self, index: int) -> None:
        if not (self.captions.enabled and self.captions.script):
            self.captions.show_step((), 0, index)
            return
        shown = [v for v in self.views if self._view_is_shown(v)]
        if shown:  # the view in front at the top left: the first row's first place
            corners = {v: v.mapTo(self, v.rect().topLeft()) for v in shown}
            top = min(corner.y() for corner in corners.values())
            first_row = [v for v in shown if corners[v].y() <= top + 40]
            self.captions.attach(min(first_row, key=lambda v: corners[v].x()))
        c = self.controller
        self.captions.show_step(c.histories, c.selected_track, index)

    def _apply_preset_views(self, preset: Preset | None) -> None:
        """The view choices the lesson opens with (the bowl: a linear 3-D height)."""
        if preset is None:
            return
        from gdviz.gui.view_choices import apply_view_choices

        for view in self.views:
            apply_view_choices(view, preset.views.get(view.view_id, {}))

    @staticmethod
    def _preset_captions(preset: Preset | None):
        from gdviz.core.captions import CaptionScript

        return preset.captions if preset is not None else CaptionScript()

    def settle_layout(self) -> None:
        """Do now what the window leaves to its next event-loop turns after its docks were
        re-arranged: hide the tab bars Qt left behind, start OpenGL in a 3-D view that is
        shown, lay the widgets out. For a window drawn without an event loop (an export,
        whose frames must not run the event loop: a click would run in the middle of one)."""
        docks.hide_stale_tab_bars(self)
        for view in self.views:
            ensure_gl = getattr(view, "ensure_gl", None)
            if ensure_gl is not None and view.isVisible():
                ensure_gl()
                # Qt shows a widget added to a shown layout by a queued call: deliver the
                # 3-D view's own queued calls (its new OpenGL widget), nothing else
                for child in view.findChildren(QWidget):
                    QCoreApplication.sendPostedEvents(child, QEvent.Type.MetaCall)
        QCoreApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

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

    def how_to_read_text(self) -> str:
        return menus.how_to_read_text(self)

    def about_text(self) -> str:
        return menus.about_text()

    # -- slots: runs ------------------------------------------------------------------------------
    def _on_runs_add(self) -> None:
        if self._runs_request(self.controller.add_run):
            self.status.showMessage(
                f"Added {self.controller.runs[-1].name}: change its settings to compare — "
                f"all {len(self.controller.runs)} runs restart at step 0", 6000)

    def _runs_request(self, action, *args) -> bool:
        try:
            action(*args)
        except ConfigError as err:
            text = str(err)[:1].upper() + str(err)[1:]
            self.runs_panel.show_message(text)
            self.status.showMessage(f"Not done: {err}", 8000)
            return False
        return True

    def _on_controller_runs_changed(self) -> None:
        c = self.controller
        self.runs_panel.set_runs(c.runs, c.selected_track)
        self._show_ended_runs()
        if self.editor.config != c.config:
            self.editor.show_config(c.config)
        run = c.runs[c.selected_track]
        several = len(c.runs) > 1
        self.run_label.setVisible(several)
        self.run_label.setText(f"<b style='color:{run.color}'>■</b> {run.name}")

    def _show_ended_runs(self) -> None:
        """Beside each run's name in the Runs panel: how it ended, once it has."""
        c = self.controller
        if len(c.runs) == 1:
            self.runs_panel.set_ended(0, "")
            return
        for k, record in enumerate(c.ended_records()):
            self.runs_panel.set_ended(k, "" if record is None else
                                      f"{record.status} at {record.step}")

    def _on_controller_run_ended(self, k: int, message: str) -> None:
        self._show_ended_runs()
        if self.controller.state == "running" or self.controller.is_playing():
            others = "; the others go on" if len(self.controller.runs) > 1 else ""
            self.status.showMessage(message + others, 10000)  # a name: never capitalised

    # -- slots ----------------------------------------------------------------------------------
    def _on_play_triggered(self) -> None:
        c = self.controller
        restarts = not c.is_playing() and c.state in ENDED
        c.toggle_play()
        if restarts:
            self.status.showMessage(
                "The run had ended: playing it again from step 0. To go further, raise the "
                "step or epoch limit in the Run panel.", 8000)

    def _on_reset_triggered(self) -> None:
        self.controller.reset()
        self.status.showMessage("Run reset to step 0" if len(self.controller.runs) == 1 else
                                "Every run reset to step 0", 3000)

    def _update_title(self) -> None:
        if self.preset is not None:
            what = self.preset.title
        else:
            what = self.controller.problem.title or self.controller.config.problem
        self.setWindowTitle(f"gdviz — {what}")

    def _on_editor_config_changed(self, config: RunConfig) -> None:
        c = self.controller
        switched = config.problem != c.config.problem
        if self.preset is not None and config.problem != self.preset.config.problem:
            self.preset = None
            self.problem_panel.set_lesson("", "")
            self.captions.set_script(self._preset_captions(None))
        if not self._runs_request(c.update_run, c.selected_track, config):
            self.editor.show_config(c.config)
            return
        if switched:
            self.raise_views_for_problem()
        if len(c.runs) == 1:
            self.status.showMessage("Settings changed — run reset to step 0", 5000)
        else:
            self.status.showMessage(f"Settings of {c.runs[c.selected_track].name} changed — "
                                    f"all {len(c.runs)} runs reset to step 0 (they take their "
                                    "steps together)", 6000)

    def _on_view_start_picked(self, start: tuple) -> None:
        self.editor.apply(self.run_panel, ("init",), tuple(float(v) for v in start))

    def _on_controller_state_changed(self, state: str) -> None:
        c = self.controller
        self.toolbar.set_playing(state == "running" and c.is_playing(), state in ENDED)
        if len(c.runs) == 1:
            self.status.set_state(state, c.history.last)
            return
        self.status.set_state(state, None)
        ended = c.ended_records()
        if state in ("converged", "diverged", "finished") and all(ended):
            counts: dict[str, int] = {}
            for record in ended:
                counts[record.status] = counts.get(record.status, 0) + 1
            what = ", ".join(f"{n} {status}" for status, n in counts.items())
            self.status.showMessage(f"Every run ended ({what}); the Runs panel says when. "
                                    "Drag the timeline to look back.")

    def _on_history_grew(self, last: int) -> None:
        self.timeline.set_last(last, self._thinning_note())

    def _thinning_note(self) -> str:
        """The controller's thinning note; said once in the status bar when it changes."""
        note = self.controller.thinning_note()
        if note != self._thinning_said:
            self._thinning_said = note
            if note:
                self.status.showMessage(f"{note[:1].upper()}{note[1:]}: the timeline jumps "
                                        "between the kept steps", 10000)
        return note

    def _on_controller_step_shown(self, index: int) -> None:
        c = self.controller
        self.timeline.set_shown(index, c.last_index, self._thinning_note())
        self._show_caption(index)
        if not c.is_playing():
            self._readout_timer.stop()
            self._readout_pending = False
            self._show_readouts()
        elif self._readout_timer.isActive():
            self._readout_pending = True   # shown when the period is over
        else:
            self._show_readouts()
            self._readout_timer.start()

    def _on_readout_timer(self) -> None:
        if self._readout_pending:
            self._readout_pending = False
            self._show_readouts()
            self._readout_timer.start()

    def _show_readouts(self) -> None:
        """The status bar's numbers and the step math, for the step the views show."""
        c = self.controller
        record = c.record_shown(c.shown_index)
        if record is None:
            return
        self.status.set_record(record, c.problem)
        if self.docks["step_math"].isHidden():
            return
        try:
            name = followed_run_name(c.tracks, c.selected_track)
            run = (name, c.runs[c.selected_track].color) if name else None
            self.step_math.show_record(record, c.config, c.problem, run)
        except Exception:  # e.g. a record appended by an export, without its state
            log.exception("step math of step %d", record.step)
            self.step_math.text.setPlainText(
                f"step {record.step}: its arithmetic needs the optimizer's state, which "
                "was not recorded for this step.")

    def _on_controller_failed(self, message: str) -> None:
        self.status.showMessage(f"Error: {message}", 15000)
        self.show_message_box("gdviz", message[:1].upper() + message[1:])

    def _on_dock_visibility_changed(self, view, visible: bool) -> None:
        if not shiboken6.isValid(self):   # the docks are hidden while the window is deleted
            return
        if visible and len(self.controller.history):
            # a view shown again catches up with the run (it was skipped while hidden)
            QTimer.singleShot(0, self, lambda: self.controller.catch_up(view))
        # the caption goes over the view in front once the tabs have settled
        QTimer.singleShot(0, self, lambda: self._show_caption(self.controller.shown_index))

    def _view_is_shown(self, view) -> bool:
        """Draw only what can be seen: not closed docks, nor tabs behind another tab (they
        catch up when they come to the front). Before the window is shown, draw every open
        dock (exports and tests may render a window that was never shown)."""
        dock = self.docks.get(view.view_id)
        if dock is None:
            return True
        if not self.isVisible():
            return not dock.isHidden()
        # Qt 6 keeps a tab behind another "visible"; it just has nothing on screen
        return dock.isVisible() and not dock.visibleRegion().isEmpty()

    @staticmethod
    def _lesson_text(preset: Preset | None) -> tuple[str, str]:
        if preset is None:
            return "", ""
        return preset.title, preset.description

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        if not self._sized:
            self._sized = True
            if not self._layout_restored:
                self.dock_layout.apply_default_sizes()
                self.raise_views_for_problem()

    # -- closing --------------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt name)
        self.controller.shutdown(3000)   # the optimizer worker, by its stop protocol
        # then every other thread working for this window (loss grids, formula analysis), or
        # for nobody any more; another window's threads go on (an export's offscreen window)
        stop_all_threads(3000, within=self)
        try:
            c = self.controller
            self.settings.save_layout(self.saveGeometry(), self.saveState())
            self.settings.save_config(c.config)
            self.settings.save_runs(c.runs, c.selected_track)
            self.settings.save_preset_name(self.preset.name if self.preset else "")
            self.settings.save_speed(self.toolbar.speed())
            self.settings.sync()
        except Exception:
            log.debug("settings not saved", exc_info=True)
        super().closeEvent(event)


def _preset_runs(preset: Preset) -> tuple:
    if preset.runs:
        return preset.runs
    return (run_set.single(preset.config),)
