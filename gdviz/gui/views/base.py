"""The contract every view follows, and the plot style they share.

A view is the content of one dock. It creates its pyqtgraph items ONCE (in ``__init__`` or
``set_run``) and afterwards only calls ``setData``/``setValue`` on them. It never computes
optimizer steps: it draws what the history holds, and evaluates the problem's vectorised loss
and gradients (gdviz.core.problems / gdviz.core.surfaces) for the curves it shows.

Life cycle, driven by the main window:
    view.set_run(problem, config, history)   # new problem / settings / reset: static content
    view.show_step(index)                    # draw the state at history step ``index``
    view.set_tracks(tracks, selected)        # every run being compared (see RunTrack)
``show_step`` is called at most ~60 times per second with the newest index while playing, and
with any earlier index when the user scrubs the timeline; it must be cheap (decimate series).
With several runs, ``index`` is the lock-step index, the step number: run k shows the row
``history_k.row_at(index)`` (its step's, its last if it ended sooner, or beyond the history's
bound the nearest step it kept: core.thinning).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from gdviz.core.history import RunHistory
from gdviz.core.problems.base import Problem
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.core.seed_paths import SeedPaths

_configured = False


def configure_pyqtgraph() -> None:
    """Light theme (students print and project these), antialiased lines. Idempotent."""
    global _configured
    if not _configured:
        pg.setConfigOptions(background="w", foreground="k", antialias=True)
        _configured = True


def _quiet_numpy(method):
    """``method`` under ``np.errstate(all="ignore")``."""
    @functools.wraps(method)
    def quiet(*args, **kwargs):
        with np.errstate(all="ignore"):
            return method(*args, **kwargs)

    quiet.quiet_numpy = True
    return quiet


@dataclass(frozen=True)
class RunTrack:
    """One run of a comparison as the views see it: the run (``RunSpec``: name, colour
    ``#rrggbb``, configuration; the one description of a run the Runs panel, sessions, exports
    and the CLI share) and its recorded history. All tracks share the problem and start point.
    ``seeds``: the run's K seeds (gui.seed_runs), filling while the run plays; None with one
    seed."""

    run: RunSpec
    history: RunHistory
    seeds: SeedPaths | None = None

    @property
    def name(self) -> str:
        return self.run.name

    @property
    def color(self) -> str:
        return self.run.color

    @property
    def config(self) -> RunConfig:
        return self.run.config


def followed_run_name(tracks, selected: int) -> str:
    """"run 2 · adam lr=0.05" for the selected run of several, "" for a single run."""
    if len(tracks) < 2:
        return ""
    return f"run {selected + 1} · {tracks[selected].name}"


class LessonView(QWidget):
    """Base class of every view. Subclasses set ``title`` (dock title), ``view_id`` (stable id
    used for dock state, export names and the CLI ``--view``) and ``tooltip`` (what it shows).

    ``sig_start_picked(tuple)`` is emitted by views that let the user pick a start point with
    the mouse (contour); the window sets the Run panel's start point and resets.
    ``sig_edit_picked(key, value)`` is emitted by views that let the user pick settings of the
    selected run with the mouse (the phase diagram's lr and momentum): the window applies the
    edit (a key of panels.changes.apply_change) through the editor, as a panel edit."""

    title = "View"
    view_id = "view"
    tooltip = ""
    follows_selected_run = False   # draws the selected run only: its title says which one
    sig_start_picked = Signal(tuple)
    sig_edit_picked = Signal(tuple, object)

    # A formula's loss may be NaN or infinite where the run goes (log of a negative, 1/0):
    # the views draw such values as gaps, so their arithmetic on them must not print numpy
    # RuntimeWarnings on stderr. Every subclass's drawing entry points run under
    # ``np.errstate(all="ignore")`` (a context variable: it ends with the call).
    _QUIET_METHODS = ("set_run", "set_tracks", "show_step")

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls._QUIET_METHODS:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "quiet_numpy", False):
                setattr(cls, name, _quiet_numpy(method))

    def __init__(self, parent: QWidget | None = None) -> None:
        configure_pyqtgraph()
        super().__init__(parent)
        self.problem: Problem | None = None
        self.config: RunConfig | None = None
        self.history: RunHistory | None = None
        self.tracks: tuple[RunTrack, ...] = ()
        self.selected_track = 0
        self.setToolTip(self.tooltip)

    def set_run(self, problem: Problem, config: RunConfig, history: RunHistory) -> None:
        """A new run starts (or was reset): remember it and refresh static content."""
        self.problem, self.config, self.history = problem, config, history

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        """Every run being compared; ``tracks[selected]`` is the run given to ``set_run``.

        Views that overlay runs (contour, 3-D, learning curve, parameter trace) draw each track
        in its colour; the others follow the selected run. Called after ``set_run``; with a
        single run there is one track. The default just remembers them."""
        self.tracks, self.selected_track = tuple(tracks), selected
        frame = getattr(self, "frame", None)
        if self.follows_selected_run and frame is not None:
            frame.set_follows(followed_run_name(self.tracks, selected), tracks[selected].color)

    def newest_step(self) -> int:
        """The newest step of the longest run (the selected run's without tracks; -1 when
        nothing is recorded)."""
        if not self.tracks:
            return self.history.last_step if self.history is not None else -1
        return max(t.history.last_step for t in self.tracks)

    def track_index(self, track: RunTrack, index: int) -> int:
        """The history row run ``track`` shows at lock-step ``index`` (its last if shorter)."""
        return track.history.row_at(index)

    def show_step(self, index: int) -> None:
        """Draw the state at history step ``index`` (0 = start point)."""
        raise NotImplementedError
