"""What a view with background work (a ``gui.tasks.TaskRunner`` in ``self.runner``) does when it
is closed or hidden: closing the window stops the runner's thread; going behind another tab
cancels the work (``_hidden_behind_tab``), which the view asks for again when it is drawn."""

from __future__ import annotations


class RunnerView:
    """Mixin for a LessonView subclass (listed before it) that owns ``self.runner``."""

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.runner.shutdown()
        super().closeEvent(event)

    def hideEvent(self, event) -> None:  # noqa: N802 (Qt name)
        window = self.window()
        if window is self or not window.isVisible():
            self.runner.shutdown()
        else:
            self._hidden_behind_tab()
        super().hideEvent(event)

    def _hidden_behind_tab(self) -> None:
        """Behind another tab: drop the work (the view asks again when it is drawn)."""
        self.runner.cancel()
