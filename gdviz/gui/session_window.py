"""Sessions and the window: what to save from it, and how to put a session back into it.

``open_session(window, path)`` validates the whole file first (``load_session``) and touches
the window only after that succeeded, so a corrupt, truncated or future-version file leaves the
current session exactly as it was. Opening replays the runner to the saved step through the
controller (same config and seed -> the identical trajectory).
"""

from __future__ import annotations

import os
from pathlib import Path

from gdviz.export.frames import apply_view_choices, view_choices
from gdviz.export.session import (
    DEFAULT_COLOR,
    Session,
    SessionRun,
    load_session,
    save_session,
    session_name,
)

DOCKS = "docks"


def run_name(window) -> str:
    preset = getattr(window, "preset", None)
    return preset.name if preset is not None else window.controller.config.problem


def collect_session(window) -> Session:
    """The window's current session: its run(s), view choices, dock visibility and step."""
    controller = window.controller
    tracks = getattr(controller, "tracks", None)  # several runs, once the window compares them
    if tracks and len(tracks) > 1:
        runs = tuple(SessionRun(t.name, t.config, t.color) for t in tracks)
        selected = int(getattr(controller, "selected_track", 0))
    else:
        runs, selected = (SessionRun(run_name(window), controller.config, DEFAULT_COLOR),), 0
    views: dict[str, dict] = {view.view_id: view_choices(view) for view in window.views}
    views = {k: v for k, v in views.items() if v}
    views[DOCKS] = {name: not dock.isHidden() for name, dock in window.docks.items()}
    step = max(0, len(controller.history) - 1)
    return Session(runs, selected, step, views)


def save_session_file(window, path: str | os.PathLike) -> Path:
    """Save the window's session to ``path`` (atomically); OSError on failure."""
    return save_session(path, collect_session(window))


def open_session_file(window, path: str | os.PathLike, timeout_s: float = 120.0) -> Session:
    """Open ``path`` into the window. SessionError (nothing changed) when the file is unusable."""
    session = load_session(path)  # raises before anything is touched
    apply_session(window, session, timeout_s)
    window.status.showMessage(f"Opened session {session_name(path)} at step {session.step}",
                              5000)
    return session


def apply_session(window, session: Session, timeout_s: float = 120.0) -> None:
    """Put a validated session into the window and replay its selected run to the saved step.
    (The window runs one configuration at a time today: the other runs of a comparison stay
    in the file and are not shown.)"""
    config = session.run.config
    window.preset = None
    window.problem_panel.set_lesson(session.run.name, "")
    window.editor.show_config(config)
    window.controller.set_config(config)
    for name, visible in session.views.get(DOCKS, {}).items():
        dock = window.docks.get(name)
        if dock is not None and isinstance(visible, bool):
            dock.setVisible(visible)
    for view in window.views:
        apply_view_choices(view, session.views.get(view.view_id, {}))
    if session.step > 0:
        window.controller.run_until(session.step, timeout_s=timeout_s)
