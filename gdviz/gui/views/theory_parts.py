"""What the two quadratic-theory views share (theory.py: errors along the eigen-directions;
phase.py: the (lr, momentum) plane): the theory of every run (core.quadratic_theory), found
when the runs change, and the background derivation of a formula's second derivatives.

``QuadraticTheoryBase`` is a LessonView whose ``theories`` hold, per track, a ``RunTheory`` or
the sentence why there is none. A formula's Hessian is derived on first use (sympy, up to
seconds): until it is ready, ``theories`` is empty, ``waiting`` is True and a background job
(gui.tasks.TaskRunner) derives it; then ``_theories_changed`` is called again.
"""

from __future__ import annotations

import time

from PySide6.QtWidgets import QWidget

from gdviz.core.quadratic_theory import RunTheory, run_theory
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.gui import tasks
from gdviz.gui.views import style
from gdviz.gui.views.background import RunnerView
from gdviz.gui.views.base import LessonView, RunTrack


class QuadraticTheoryBase(RunnerView, LessonView):
    """Base of the views drawn from the runs' quadratic theory. Subclasses implement
    ``_theories_changed()`` (new runs, or the theory arrived) and ``show_step``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.theories: list[RunTheory | str] = []
        self.waiting = False
        self.runner = tasks.TaskRunner(self)
        self.runner.sig_ready.connect(self._on_runner_ready)

    def set_run(self, problem, config: RunConfig, history) -> None:
        super().set_run(problem, config, history)
        self.set_tracks((RunTrack(RunSpec("run", style.FULL, config), history),), 0)

    def set_tracks(self, tracks: tuple[RunTrack, ...], selected: int) -> None:
        super().set_tracks(tracks, selected)
        self.runner.cancel()
        self._find_theories()

    def _find_theories(self) -> None:
        problem = self.problem
        if problem is not None and problem.has_hessian and not problem.hessian_ready:
            self.theories, self.waiting = [], True
            self.runner.request(id(problem), _derive_job(problem))
        else:
            self.waiting = False
            self.theories = [run_theory(t.config, problem) for t in self.tracks]
        self._theories_changed()

    def _on_runner_ready(self, key, result) -> None:
        if self.problem is None or key != id(self.problem):
            return
        self.waiting = False
        if isinstance(result, Exception) or not self.problem.hessian_ready:
            why = f": {result}" if isinstance(result, Exception) else ""
            self.theories = [f"the formula's second derivatives cannot be derived{why}"
                             for _ in self.tracks]
            self._theories_changed()
        else:
            self._find_theories()

    def wait_ready(self, timeout_ms: int = 10000) -> bool:
        """Wait (without running the event loop) until the theory is known."""
        deadline = time.monotonic() + timeout_ms / 1000
        while self.waiting:
            left = int((deadline - time.monotonic()) * 1000)
            if left <= 0 or not self.runner.wait(left):
                break
        return not self.waiting

    def selected_theory(self) -> RunTheory | str | None:
        if not self.theories:
            return None
        return self.theories[min(self.selected_track, len(self.theories) - 1)]

    def _theories_changed(self) -> None:
        raise NotImplementedError

    def _hidden_behind_tab(self) -> None:
        """The derivation goes on behind a tab: it is asked for once per problem."""


def _derive_job(problem):
    """A job deriving ``problem``'s second derivatives (its Hessian at the start point)."""

    def job(should_stop):
        if should_stop():
            return None
        problem.constant_hessian()
        return problem.hessian_ready

    return job
