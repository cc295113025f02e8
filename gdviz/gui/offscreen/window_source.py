"""Frames of the whole window: a second, hidden main window (panels, docks, status bar and
all) that replays the export's runs and is painted frame by frame (``WindowFrames``). The
view-only source and the painting helpers are in ``gdviz.export.frames``."""

from __future__ import annotations

from typing import Any

from gdviz.core.history import RunHistory
from gdviz.core.records import RunConfig, StepRecord
from gdviz.export.frames import (
    FrameSource,
    _settle,
    _show_offscreen,
    _wait_ready,
    apply_view_choices,
    ensure_app,
)
from gdviz.presets import comparison_preset_of, preset_of

WINDOW_LAYOUT = (1280, 800)  # the window is laid out at least this large, then scaled down


def window_layout_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size to lay the window out at for frames of ``size``: the same aspect ratio, but at
    least as large as a usual window (at 640x480 the docks would be too cramped to read)."""
    scale = max(1.0, WINDOW_LAYOUT[0] / size[0], WINDOW_LAYOUT[1] / size[1])
    return round(size[0] * scale), round(size[1] * scale)


class WindowFrames(FrameSource):
    """Frames of a second, hidden main window (panels, docks, status bar and all).

    state: the live window's ``saveState()`` (dock layout and visibility), or None
    choices: {view_id: view_choices(...)} to copy from the live views
    """

    def __init__(self, size: tuple[int, int], state: bytes | None = None,
                 choices: dict[str, dict[str, Any]] | None = None) -> None:
        ensure_app()
        from gdviz.gui.main_window import MainWindow
        from gdviz.gui.settings import AppSettings

        self.window = MainWindow(settings=AppSettings(memory=True))
        self.choices = dict(choices or {})
        _show_offscreen(self.window, window_layout_size(size))
        self.state = None if state is None else bytes(state)
        if self.state is not None:
            from PySide6.QtCore import QByteArray

            self.window.restoreState(QByteArray(self.state))
            _settle()
        from PySide6.QtWidgets import QApplication

        QApplication.processEvents()  # views that start lazily once shown (3-D) do so now
        self._prepare(self.window, size)
        self._ended: set[int] = set()  # the runs whose end the window was told about

    def start(self, config: RunConfig, first: StepRecord, run=None) -> RunHistory:
        """The one run ``config`` (with ``run``'s name and colour when given, as the live
        window shows them) put into the hidden window; returns the controller's history."""
        window = self.window
        preset = preset_of(config)
        if preset is not None and preset.group != "comparison":
            window.load_preset(preset.name)  # as the window opens it (lesson text, docks)
        else:
            window.preset = None
            window.problem_panel.set_lesson("", "")
            window.editor.show_config(config)
            window.controller.set_config(config)  # computes the same start record
        controller = window.controller
        if run is not None and controller.runs[0].name != run.name:
            controller.rename_run(0, run.name)
        if run is not None and controller.runs[0].color != run.color:
            controller.recolor_run(0, run.color)
            self.colors = (run.color,)  # a chosen colour: in the GIF's palette
        self._settle_start()
        return window.controller.history

    def start_runs(self, runs, selected: int, firsts) -> list[RunHistory]:
        """A comparison, put into the hidden window as ``MainWindow.load_preset`` and
        ``session_window.apply_session`` put one there: every run with its name and colour
        (the Runs panel lists them), run ``selected`` selected, the comparison preset's
        lesson text when the runs are exactly a preset's. The controller computes the same
        start records as ``firsts``. Returns the controller's history of each run."""
        from gdviz.gui import docks

        window = self.window
        specs = tuple(_run_spec(run) for run in runs)
        preset = comparison_preset_of([run.config for run in specs])
        window.preset = preset
        window.problem_panel.set_lesson(*((preset.title, preset.description)
                                          if preset is not None else ("", "")))
        window.editor.show_config(specs[selected].config)
        window.controller.set_runs(specs, selected)
        docks.raise_views_for_problem(window)
        self.colors = tuple(run.color for run in window.controller.runs)
        self._ended = set()
        self._settle_start()
        return list(window.controller.histories)

    def _settle_start(self) -> None:
        from PySide6.QtWidgets import QApplication

        window = self.window
        if self.state is not None:  # the user's layout wins over the preset's
            from PySide6.QtCore import QByteArray

            window.restoreState(QByteArray(self.state))
        for view in window.views:
            apply_view_choices(view, self.choices.get(view.view_id, {}))
        for _ in range(2):  # docks re-arranged by the preset settle before the first frame
            QApplication.processEvents()

    def show(self, index: int) -> None:
        controller = self.window.controller
        if len(controller.runs) > 1:
            self._report_ended(index)
        controller.show_views(index)
        controller.sig_step_shown.emit(index)  # the status bar and the step math follow
        _wait_ready(self.window.views)

    def _report_ended(self, index: int) -> None:
        """Tell the window about a run of a comparison that ended by lock-step ``index``, as
        the controller does when the worker's records end it: the Runs panel then says how it
        ended ("diverged at 8") beside its name."""
        controller = self.window.controller
        for k, record in enumerate(controller.ended_records()):
            if record is not None and record.step <= index and k not in self._ended:
                self._ended.add(k)
                controller.sig_run_ended.emit(k, f"{controller.runs[k].name} {record.message}")



def _run_spec(run):
    """``run`` (a RunSpec, or anything with a name, colour and config) as the controller takes
    it, its name kept as it is."""
    from gdviz.gui.run_set import RunSpec

    if isinstance(run, RunSpec):
        return run
    return RunSpec(run.name, run.color, run.config, named_by="preset")
