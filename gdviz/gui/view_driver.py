"""Drives the views for the controller: gives them the runs (set_run + set_tracks), draws a
lock-step index in the visible ones, remembers what each shows, and turns a view's exception
into one message (a view that fails while drawing is dropped, so it is reported once, not once
per frame). GUI thread only.

While a run plays, ``show_in_turns`` draws one view per event-loop turn: Qt paints that view
before the next is drawn, and timers and input get a turn in between, so a busy frame (seven
views, ~40 ms) never holds the window for longer than its slowest view."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QTimer

log = logging.getLogger(__name__)


class ViewDriver:
    """Draws ``owner.views`` (the LessonViews; the main window sets them), skipping those
    ``owner.view_filter(view)`` says cannot be seen (hidden docks and tabs behind others catch
    up when shown); ``report(sentence)``: how failures reach the user."""

    def __init__(self, owner, report: Callable[[str], None]) -> None:
        self.owner = owner
        self.report = report
        self.drawn: dict = {}  # view -> the lock-step index it shows (skip redundant redraws)
        self._generation = 0  # bumped by every drawing: an unfinished show_in_turns stops

    def set_runs(self, problem, config, history, tracks: tuple, selected: int) -> None:
        """A new run set (or a reset): every view gets the selected run and all tracks."""
        self._generation += 1
        self.drawn.clear()
        for view in list(self.owner.views):
            if self._call(view, "set_run", problem, config, history):
                self._call(view, "set_tracks", tracks, selected)

    def set_tracks(self, tracks: tuple, selected: int) -> None:
        """Names or colours changed (same histories)."""
        self.drawn.clear()
        for view in list(self.owner.views):
            self._call(view, "set_tracks", tracks, selected)

    def show(self, index: int, views=None) -> None:
        """Draw lock-step ``index`` in the visible views (or in ``views``), now."""
        if views is None:
            self._generation += 1
        self._draw(index, views)

    def show_in_turns(self, index: int, done: Callable[[], None]) -> None:
        """Draw ``index`` in the visible views, one per event-loop turn (the first now), then
        call ``done()``. A drawing started meanwhile (``show``, a reset or another
        ``show_in_turns``) takes over: this one stops and calls ``done()`` at once."""
        self._generation += 1
        generation = self._generation
        pending = [v for v in self.owner.views if self.owner.view_filter(v)]

        def next_view() -> None:
            if generation != self._generation or not pending:
                done()
                return
            view = pending.pop(0)
            if view in self.owner.views:
                self._draw(index, [view])
            # with the owner (the controller) as context: dropped if the window has closed
            QTimer.singleShot(0, self.owner, next_view)

        next_view()

    def _draw(self, index: int, views=None) -> None:
        for view in list(self.owner.views if views is None else views):
            if views is None and not self.owner.view_filter(view):
                continue
            try:
                view.show_step(index)
                self.drawn[view] = index
            except Exception as err:
                log.exception("view %s failed in show_step", type(view).__name__)
                if view in self.owner.views:
                    self.owner.views.remove(view)  # one report, not one per frame
                self.report(f"the {view.title} view stopped drawing: {err}")

    def catch_up(self, view, index: int) -> None:
        """Draw ``index`` in ``view`` unless it already shows it (a dock came back)."""
        if index >= 0 and self.drawn.get(view) != index and view in self.owner.views:
            self.show(index, [view])

    def _call(self, view, method: str, *args) -> bool:
        try:
            getattr(view, method)(*args)
            return True
        except Exception as err:
            log.exception("view %s failed in %s", type(view).__name__, method)
            self.report(f"the {view.title} view could not draw this run: {err}")
            return False
