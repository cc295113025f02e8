"""Sessions and the window: what to save from it, and how to put a session back into it.

``SessionReader(window).open(path)`` (File > Open session) reads and validates the whole file
(``load_session``: the session, its data, the problems it builds) in a background thread
(gui.tasks), so the window keeps answering while a slow or large file is read, and touches
the window only once that succeeded, so a corrupt, truncated or future-version file leaves the
current session exactly as it was. ``open_session_file(window, path)`` does the same in the
calling thread (scripts and tests that have the file at hand). Opening replays the runner to
the saved step through the controller (same config and seed -> the identical trajectory).

A comparison (several runs) comes back whole: every run's name, colour and configuration, the
selected run, and all of them replayed in lock-step to the saved step. The step saved is the
lock-step index the window SHOWS (``controller.shown_index``): the newest step while the runs
play, or the earlier step the user dragged the timeline back to -- opening the session shows
what was on screen when it was saved. It is not the selected run's length: a run that ended
early (diverged at step 8) must not pull the others back to step 8.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QObject

from gdviz.core import run_set
from gdviz.core.errors import ConfigError
from gdviz.core.lockstep import default_run_name
from gdviz.core.presets import comparison_preset_of
from gdviz.core.run_set import RunSpec
from gdviz.export.session import (
    DEFAULT_COLOR,
    DataOutsideError,
    Session,
    load_session,
    save_session,
    session_name,
)
from gdviz.gui.tasks import TaskRunner
from gdviz.gui.view_choices import apply_view_choices, view_choices

DOCKS = "docks"


def run_name(window) -> str:
    preset = getattr(window, "preset", None)
    return preset.name if preset is not None else window.controller.config.problem


def collect_session(window) -> Session:
    """The window's current session: its run(s), view choices, dock visibility and step."""
    controller = window.controller
    if len(controller.runs) > 1:
        runs = tuple(controller.runs)  # the RunSpecs themselves: names, colours, settings
        selected = int(controller.selected_track)
    else:
        runs, selected = (RunSpec(run_name(window), DEFAULT_COLOR, controller.config),), 0
    views: dict[str, dict] = {view.view_id: view_choices(view) for view in window.views}
    views = {k: v for k, v in views.items() if v}
    views[DOCKS] = {name: not dock.isHidden() for name, dock in window.docks.items()}
    step = max(0, int(controller.shown_index))  # what is on screen (see the module docstring)
    return Session(runs, selected, step, views, window.captions.script,
                   window.controller.seed_count)


def save_session_file(window, path: str | os.PathLike) -> Path:
    """Save the window's session to ``path`` (atomically); OSError on failure."""
    return save_session(path, collect_session(window))


def open_session_file(window, path: str | os.PathLike, timeout_s: float = 120.0,
                      allow_outside_data: bool = False) -> Session:
    """Open ``path`` into the window. SessionError (nothing changed) when the file is unusable;
    DataOutsideError when it names data outside its folder and the user has not allowed
    that (``allow_outside_data``: File > Open session asks)."""
    # raises before anything is touched
    session = load_session(path, allow_outside_data=allow_outside_data)
    apply_session(window, session, timeout_s)
    window.status.showMessage(f"Opened session {session_name(path)} at step {session.step}",
                              5000)
    return session


class SessionReader(QObject):
    """Opens session files into ``window`` without reading them on the GUI thread.

    ``open(path)`` reads and validates the file in a background thread (one at a time: a new
    ``open`` abandons the one still being read) and puts it into the window once read. A
    session naming data outside its folder asks ``confirm(DataOutsideError) -> bool`` and, if
    allowed, is read again with that data; a file that cannot be used is reported with
    ``report(title, message)`` (the window: status bar and message box) and changes nothing.
    """

    def __init__(self, window, confirm: Callable[[DataOutsideError], bool],
                 report: Callable[[str, str], None]) -> None:
        super().__init__(window)
        self.window, self._confirm, self._report = window, confirm, report
        self.runner = TaskRunner(self)
        self.runner.sig_ready.connect(self._on_read)

    @property
    def reading(self) -> bool:
        """True while a file is being read."""
        return self.runner.busy

    def open(self, path: str | os.PathLike, allow_outside_data: bool = False) -> None:
        path = str(path)
        self.window.status.showMessage(f"Reading session {session_name(path)}…", 10000)
        self.runner.request((path, allow_outside_data), lambda _stop: load_session(
            path, allow_outside_data=allow_outside_data))

    def _on_read(self, key: tuple[str, bool], result) -> None:
        path, _allowed = key
        if isinstance(result, DataOutsideError):
            if self._confirm(result):
                self.open(path, allow_outside_data=True)
            else:
                self.window.status.showMessage("Session not opened", 5000)
            return
        if isinstance(result, Exception):
            message = str(result) if isinstance(result, ConfigError) else \
                f"{session_name(path)} cannot be read: {type(result).__name__}: {result}"
            self._report("Session not opened", message)
            return
        try:
            apply_session(self.window, result)
        except ConfigError as err:
            self._report("Session not opened", str(err))
            return
        self.window.status.showMessage(
            f"Opened session {session_name(path)} at step {result.step}", 5000)


def apply_session(window, session: Session, timeout_s: float = 120.0) -> None:
    """Put a validated session into the window: its run(s) and dock visibility, then replay
    every run in lock-step to the saved step, then its view choices. A single run is set up
    as before (``set_config``); a comparison as ``MainWindow.load_preset`` sets up a
    comparison preset (``set_runs``, with the saved names, colours and selection)."""
    window.use_seed_count(session.seeds)   # the runs below start with them
    if len(session.runs) > 1:
        _apply_comparison(window, session)
    else:
        config = session.run.config
        window.preset = None
        window.problem_panel.set_lesson(session.run.name, "")
        window.editor.show_config(config)
        window.controller.set_config(config)
    # the session's captions; a file saved before captions existed: its comparison preset's
    if session.captions is not None:
        window.set_captions(session.captions)
    else:
        from gdviz.core.captions import CaptionScript

        preset = getattr(window, "preset", None)
        window.set_captions(preset.captions if preset is not None else CaptionScript())
    for name, visible in session.views.get(DOCKS, {}).items():
        dock = window.docks.get(name)
        if dock is not None and isinstance(visible, bool):
            dock.setVisible(visible)
    if session.step > 0:
        window.controller.run_until(session.step, timeout_s=timeout_s)
    # after the replay: a choice that computes from the runs (the Landscape view's plane
    # through the last point) sees them as they were saved
    for view in window.views:
        apply_view_choices(view, session.views.get(view.view_id, {}))


def session_runs(session: Session) -> tuple[RunSpec, ...]:
    """The session's runs as the controller takes them, keeping the saved names. A name that
    is the automatic one of its settings stays automatic (it follows later edits); any other
    name (a preset's, or typed by the user: the file does not say which) is kept until the
    run's settings change, as a preset's name is. ConfigError when they cannot be compared."""
    saved = [r.name for r in session.runs]
    runs = tuple(replace(r, named_by="auto" if r.name == default_run_name(r.config)
                         else "preset")
                 for r in session.runs)
    if [r.name for r in run_set.named(runs)] != saved:  # e.g. two runs with one auto name
        runs = tuple(replace(r, named_by="preset") for r in runs)
    return run_set.validate(runs)


def _apply_comparison(window, session: Session) -> None:
    runs = session_runs(session)  # pure: raises before the window is touched
    preset = comparison_preset_of(r.config for r in session.runs)
    window.preset = preset
    window.problem_panel.set_lesson(*((preset.title, preset.description)
                                      if preset is not None else ("", "")))
    window.editor.show_config(session.run.config)
    window.controller.set_runs(runs, session.selected)
    window.raise_views_for_problem()  # the session's dock visibility is applied after
