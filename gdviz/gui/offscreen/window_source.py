"""Frames of the whole window: a second main window (panels, docks, status bar and all), never
shown on screen, that the source owns and drives through the window's public methods
(``WindowFrames``). The painting helpers are in ``gdviz.gui.offscreen.painting``.

The replayed steps go into the window as the worker's do (``MainWindow.append_steps``: the
histories and the optimizer states), and each frame is the window showing a lock-step index as
a scrub of the timeline shows it (``MainWindow.show_step``): the views, the timeline, the status
bar's numbers and the step math all show the frame's step, exactly as the live window would.
Nothing here runs the event loop: what the window would do in its next turns is done at once
(``MainWindow.settle_layout``), and the contour and 3-D grids are waited for on their own work.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from gdviz.core import run_set
from gdviz.core.history import RunHistory
from gdviz.core.presets import comparison_preset_of, preset_of
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.run_set import RunSpec
from gdviz.gui.offscreen import ensure_app
from gdviz.gui.offscreen.painting import FrameSource, show_offscreen, wait_for_grids
from gdviz.gui.view_choices import apply_view_choices

WINDOW_LAYOUT = (1280, 800)  # the window is laid out at least this large, then scaled down


def window_layout_size(size: tuple[int, int]) -> tuple[int, int]:
    """The size to lay the window out at for frames of ``size``: the same aspect ratio, but at
    least as large as a usual window (at 640x480 the docks would be too cramped to read)."""
    scale = max(1.0, WINDOW_LAYOUT[0] / size[0], WINDOW_LAYOUT[1] / size[1])
    return round(size[0] * scale), round(size[1] * scale)


class WindowFrames(FrameSource):
    """Frames of a main window of its own (panels, docks, status bar and all).

    state: the live window's ``saveState()`` (dock layout and visibility), or None
    choices: {view_id: view_choices(...)} to copy from the live views
    """

    def __init__(self, size: tuple[int, int], state: bytes | None = None,
                 choices: dict[str, dict[str, Any]] | None = None) -> None:
        ensure_app()
        from gdviz.gui.main_window import MainWindow
        from gdviz.gui.settings import AppSettings

        self.window = MainWindow(settings=AppSettings(memory=True))
        # the runs alone: seeds arrive in the background, a frame must not depend on them
        self.window.follow_preset_seeds = False
        self.choices = dict(choices or {})
        self.state = None if state is None else bytes(state)
        # captions only when the export asks for them (set_captions), whatever the lesson has
        self.window.captions.set_enabled(False)
        show_offscreen(self.window, window_layout_size(size))
        self._restore_state()
        self._prepare(self.window, size)

    def start(self, config: RunConfig, first: StepRecord, run=None) -> RunHistory:
        """The one run ``config`` (with ``run``'s name and colour when given, as the live
        window shows them) put into the window; returns its history. The window computes the
        same start record as ``first``."""
        window = self.window
        preset = preset_of(config)
        if preset is not None and preset.group != "comparison":
            window.load_preset(preset.name)  # as the window opens it (lesson text, docks)
        else:
            window.load_runs((run_set.single(config),), 0)
        controller = window.controller
        if run is not None and controller.runs[0].name != run.name:
            controller.rename_run(0, run.name)
        if run is not None and controller.runs[0].color != run.color:
            controller.recolor_run(0, run.color)
            self.colors = (run.color,)  # a chosen colour: in the GIF's palette
        self._settle_start()
        return controller.history

    def start_runs(self, runs, selected: int, firsts) -> list[RunHistory]:
        """A comparison, put into the window as a comparison preset or a session puts one
        there: every run with its name and colour (the Runs panel lists them), run
        ``selected`` selected, the comparison preset's lesson text when the runs are exactly
        a preset's. The window computes the same start records as ``firsts``. Returns the
        history of each run."""
        window = self.window
        specs = tuple(_run_spec(run) for run in runs)
        window.load_runs(specs, selected, comparison_preset_of([run.config for run in specs]))
        self.colors = tuple(run.color for run in window.controller.runs)
        self._settle_start()
        return list(window.controller.histories)

    def set_captions(self, script) -> None:
        """The window shows ``script``'s captions as the live window does (over the view in
        front), frame by frame."""
        self.window.captions.set_enabled(True)
        self.window.set_captions(script)
        self._add_caption_colors()

    def append(self, groups) -> None:
        """Lock-step groups of the replay, given to the window as the worker's steps are."""
        self.window.append_steps(groups)

    def show(self, index: int) -> None:
        """The window shows lock-step ``index`` (views, timeline, status bar, step math); the
        contour and 3-D views get their grids first."""
        self.window.show_step(index)
        wait_for_grids(self.window.views)

    def close(self) -> None:
        """Close the window (its threads stop) and delete it with everything in it, keeping
        no reference into it: the export runner, which the live window keeps, keeps the
        source, and nothing of a finished export should live on with it. What the window left
        for its next event-loop turns (a dock that became visible catches up and would ask
        for a grid in a closed window) is dropped with it."""
        window, self.window = self.window, None
        self.widget = None
        self._curves = []
        self._painter = None
        window.close()
        QCoreApplication.removePostedEvents(window)
        window.deleteLater()

    def _restore_state(self) -> None:
        if self.state is not None:  # the user's layout wins over the preset's
            from PySide6.QtCore import QByteArray

            self.window.restoreState(QByteArray(self.state))
        self.window.settle_layout()

    def _settle_start(self) -> None:
        self._restore_state()
        for view in self.window.views:
            apply_view_choices(view, self.choices.get(view.view_id, {}))
        self.window.settle_layout()


def _run_spec(run):
    """``run`` (a RunSpec, or anything with a name, colour and config) as the window takes
    it, its name kept as it is."""
    if isinstance(run, RunSpec):
        return run
    return RunSpec(run.name, run.color, run.config, named_by="preset")
