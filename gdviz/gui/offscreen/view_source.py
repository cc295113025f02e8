"""Frames of one view: a fresh instance of its class, never shown on screen, that draws the
export's replay (``ViewFrames``).

The view is the window's own view class, so an export looks like the app and never disturbs
the live run. The source owns the histories it draws: ``append`` adds the replayed lock-step
groups to them, ``render(index)`` draws lock-step ``index``. A comparison (``start_runs``)
gives each run its own history and the view every run as a track, in its colour and with its
name; run k then shows its row history_k.row_at(index) (its step, or its last if shorter).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QCoreApplication

from gdviz.core.history import RunHistory
from gdviz.core.records import RunConfig, StepRecord
from gdviz.core.run_set import RunSpec
from gdviz.core.step_blocks import StepBlock
from gdviz.core.thinning import memory_bound
from gdviz.export.animation import OPENGL_VIEWS
from gdviz.gui.offscreen import check_target, ensure_app, view_classes
from gdviz.gui.offscreen.painting import (
    FrameSource,
    show_new_children,
    show_offscreen,
    wait_for_grids,
)
from gdviz.gui.view_choices import apply_view_choices

TRACK_COLOR = "#1a3a8f"  # the colour of a single run (the controller's TRACK_COLOR)


class ViewFrames(FrameSource):
    """Frames of a fresh instance of one view class, sized to ``size`` (width, height)."""

    def __init__(self, view_id: str, size: tuple[int, int],
                 choices: dict[str, Any] | None = None) -> None:
        ensure_app()
        check_target(view_id)
        self.view = view_classes()[view_id]()
        self.choices = dict(choices or {})
        show_offscreen(self.view, size)
        ensure_gl = getattr(self.view, "ensure_gl", None)
        if view_id in OPENGL_VIEWS and ensure_gl is not None:
            ensure_gl()  # the 3-D view starts OpenGL lazily, in the turn after it was shown
            show_new_children(self.view)
        self._prepare(self.view, size)
        self.history: RunHistory | None = None
        self.histories: list[RunHistory] = []
        self.selected = 0
        self.captions = None  # LessonCaptions over the view, once set_captions was called

    def start(self, config: RunConfig, first: StepRecord, run=None) -> RunHistory:
        """A new run whose start record is ``first``, labelled with ``run``'s name and colour
        (a RunSpec; None: the problem's name, the default colour); returns the history to
        append to."""
        problem = config.make_problem()
        self.history = RunHistory(problem.n_params, memory_bound(problem.n_params, 1))
        self.history.append((first,))
        self.histories = [self.history]
        self.view.set_run(problem, config, self.history)
        set_tracks = getattr(self.view, "set_tracks", None)
        if set_tracks is not None:  # one run, as the window's controller gives it
            from gdviz.gui.views.base import RunTrack

            if run is None:
                run = RunSpec(config.problem, TRACK_COLOR, config)
            set_tracks((RunTrack(run, self.history),), 0)
            # a chosen colour: in the palette
            self.colors = (run.color,) if run.color != TRACK_COLOR else ()
        apply_view_choices(self.view, self.choices)
        return self.history

    def start_runs(self, runs, selected: int, firsts) -> list[RunHistory]:
        """A comparison: ``runs`` (each with ``name``, ``color``, ``config``) whose start
        records are ``firsts``, run ``selected`` selected, given to the view as the window's
        controller gives them (``set_run`` with the selected run, then ``set_tracks``).
        Returns each run's history, to append to."""
        from gdviz.gui.views.base import RunTrack

        config = runs[selected].config
        problem = config.make_problem()  # shared by every run of a comparison
        bound = memory_bound(problem.n_params, len(runs))   # as the window's (controller)
        histories = [RunHistory(problem.n_params, bound) for _ in runs]
        for history, first in zip(histories, firsts):
            history.append((first,))
        self.history = histories[selected]
        self.histories = histories
        self.selected = selected
        self.colors = tuple(run.color for run in runs)
        self.view.set_run(problem, config, self.history)
        set_tracks = getattr(self.view, "set_tracks", None)
        if set_tracks is not None:
            set_tracks(tuple(RunTrack(run, history)
                             for run, history in zip(runs, histories)), selected)
        apply_view_choices(self.view, self.choices)
        return histories

    def close(self) -> None:
        """Close the view (its grid thread stops) and delete it, keeping no reference into
        it (see ``WindowFrames.close``)."""
        view, self.view = self.view, None
        self.widget = None
        self._curves = []
        self._painter = None
        self.history, self.histories = None, []
        self.captions = None
        view.close()
        QCoreApplication.removePostedEvents(view)
        view.deleteLater()

    def append(self, groups) -> None:
        """Lock-step groups of the replay, appended to each run's history."""
        if not groups:
            return
        block = StepBlock.from_groups(groups)
        for history, run in zip(self.histories, block.runs):
            if run is not None:
                history.append(run)

    def set_captions(self, script) -> None:
        """Draw ``script``'s caption of each frame's step over the view, where the window
        draws it over the view in front (``gui.lesson_captions``)."""
        from gdviz.gui.lesson_captions import LessonCaptions

        self.captions = LessonCaptions()
        self.captions.set_script(script)
        self.captions.attach(self.view)
        self._add_caption_colors()

    def show(self, index: int) -> None:
        """Update the view to history step ``index`` (and wait for its background data)."""
        self.view.show_step(index)
        if self.captions is not None:
            self.captions.show_step(self.histories, self.selected, index)
        wait_for_grids([self.view])
