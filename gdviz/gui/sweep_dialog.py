"""Optimizer panel → *Sweep learning rate…*: a learning-rate sweep of the selected run
(core.sweep) in the background, its plot, *Use best lr*, and a fair race.

- **Sweep selected run**: the run's settings at ``points`` learning rates over ``decades``
  decades centred on its lr, ``seeds`` seeds each (the run's seed on), on the run's own
  horizon (its step or epoch limit), for the chosen objective. Computed by the one background
  helper (gui.tasks.TaskRunner: a generator job whose yields are the progress), cancelled by
  *Cancel* or by closing the dialog.
- **Use best lr** sets the swept run's lr to the best one (every run restarts at step 0, as
  any change of settings does).
- **Race at best lr**: sweeps every run of the comparison the same way (each on a grid
  centred on its own lr, all on the same horizon: the runs share their limits), sets each
  run's lr to its best and plays them. A run whose every lr diverged keeps its lr (said so).
  Nothing is clipped: gdviz has no gradient clipping anywhere.

The result is stale when the runs' settings change after the sweep started: *Use best lr*
and the race refuse it then, in words under the buttons.
"""

from __future__ import annotations

from functools import reduce

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gdviz.core import run_set
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.sweep import (
    DEFAULT_DECADES,
    DEFAULT_FACTOR,
    DEFAULT_POINTS,
    MAX_POINTS,
    Objective,
    SweepResult,
    default_grid,
    sweep_steps,
)
from gdviz.gui import tasks
from gdviz.gui.sweep_plot import SweepPlot

DEFAULT_SEEDS = 4
NO_CLIPPING = ("No gradient clipping: gdviz clips nothing anywhere, so every run takes "
               "exactly the steps its optimizer's rule gives (torch.optim's).")
RACE_TIP = ("Sweep every run of the comparison the same way (each on a grid centred on its "
            "own lr, all on the same horizon), set each run's lr to its best and play them: a "
            "race in which every optimizer has its own best learning rate. " + NO_CLIPPING)


class SweepDialog(QDialog):
    """Non-modal dialog over ``window`` (a MainWindow: its ``controller`` holds the runs)."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("sweep_dialog")
        self.setWindowTitle("Learning-rate sweep")
        self.main_window = window
        self.runner = tasks.TaskRunner(self)
        self.runner.sig_partial.connect(self._on_runner_partial)
        self.runner.sig_ready.connect(self._on_runner_ready)
        self.swept: tuple = ()          # the runs (RunSpecs) a sweep started from
        self.swept_indices: tuple[int, ...] = ()
        self.results: list[SweepResult] = []
        self.racing = False

        form = QFormLayout()
        self.points = QSpinBox()
        self.points.setRange(2, MAX_POINTS)
        self.points.setValue(DEFAULT_POINTS)
        self.points.setToolTip("How many learning rates, evenly spaced in log10")
        form.addRow("learning rates", self.points)
        self.decades = QDoubleSpinBox()
        self.decades.setRange(0.1, 12.0)
        self.decades.setSingleStep(1.0)
        self.decades.setValue(DEFAULT_DECADES)
        self.decades.setToolTip("The grid spans this many decades, centred on the run's lr")
        form.addRow("decades", self.decades)
        objective_row = QWidget()
        row = QHBoxLayout(objective_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.objective = QComboBox()
        for label, kind in (("final full loss", "final"), ("steps to reach loss ≤", "steps-to"),
                            ("mean loss over the horizon (area)", "auc")):
            self.objective.addItem(label, kind)
        self.objective.setToolTip(
            "What is minimised over the run's horizon (its step limit): the full loss after "
            "the last step; the first step whose full loss is ≤ the value (the horizon + 1 "
            "when never); or the mean of the learning curve. A run that diverges gets the "
            "worst objective and is drawn as a cross.")
        self.target = QLineEdit("1e-3")
        self.target.setToolTip("The loss to reach (steps-to)")
        self.target.setMaximumWidth(90)
        row.addWidget(self.objective, 1)
        row.addWidget(self.target)
        self.objective.currentIndexChanged.connect(self._on_objective_changed)
        form.addRow("objective", objective_row)
        self.seeds = QSpinBox()
        self.seeds.setRange(1, 64)
        self.seeds.setValue(DEFAULT_SEEDS)
        self.seeds.setToolTip("Seeds per learning rate (the run's seed and the next ones): "
                              "the line is their mean, the band ± one standard deviation")
        form.addRow("seeds", self.seeds)
        self.factor = QDoubleSpinBox()
        self.factor.setRange(1.05, 100.0)
        self.factor.setValue(DEFAULT_FACTOR)
        self.factor.setToolTip("The usable window (shaded): the learning rates around the "
                               "best whose mean objective is within this factor of the best")
        form.addRow("window factor", self.factor)

        buttons = QHBoxLayout()
        self.sweep_button = QPushButton("Sweep selected run")
        self.sweep_button.setToolTip("Sweep the selected run's learning rate in the "
                                     "background. " + NO_CLIPPING)
        self.sweep_button.clicked.connect(self.sweep_selected)
        self.race_button = QPushButton("Race at best lr")
        self.race_button.setToolTip(RACE_TIP)
        self.race_button.clicked.connect(self.race)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the sweep (after its current chunk of steps)")
        self.cancel_button.clicked.connect(self.cancel)
        self.use_button = QPushButton("Use best lr")
        self.use_button.setToolTip("Set the swept run's learning rate to the best one "
                                   "(the runs restart at step 0)")
        self.use_button.clicked.connect(self.use_best)
        for button in (self.sweep_button, self.race_button, self.cancel_button,
                       self.use_button):
            buttons.addWidget(button)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.plot = SweepPlot()
        self.summary = QLabel()
        self.summary.setObjectName("sweep_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.summary)
        self._on_objective_changed()
        window.controller.sig_runs_changed.connect(self._on_controller_runs_changed)
        self._set_busy(False)
        self.resize(680, 680)

    # -- actions -------------------------------------------------------------------------------
    def sweep_selected(self) -> None:
        """Sweep the selected run in the background."""
        c = self.main_window.controller
        self._start((c.selected_track,), race=False)

    def race(self) -> None:
        """Sweep every run, then set each one's lr to its best and play them."""
        self._start(tuple(range(len(self.main_window.controller.runs))), race=True)

    def cancel(self) -> None:
        self.runner.cancel()
        self._set_busy(False)
        self.progress.setValue(0)
        self.summary.setText("Cancelled: nothing was changed.")

    def use_best(self) -> bool:
        """Set the swept run's lr to its best; False (and why, in the summary) if it cannot."""
        if len(self.results) != 1 or self.results[0].best_lr is None:
            self.summary.setText("Nothing to use: sweep a run first (and at least one of its "
                                 "learning rates must not diverge).")
            return False
        return self._apply({self.swept_indices[0]: self.results[0].best_lr}, play=False)

    # -- the background work -------------------------------------------------------------------
    def _start(self, indices: tuple[int, ...], race: bool) -> None:
        runs = self.main_window.controller.runs
        try:
            objective = self._objective()
            jobs = [sweep_steps(runs[k].config, self._grid(runs[k].config), objective,
                                range(runs[k].config.seed,
                                      runs[k].config.seed + self.seeds.value()),
                                self.factor.value())
                    for k in indices]
        except ConfigError as err:   # shown inline, nothing starts
            self.summary.setText(f"Not started: {err}")
            return
        self.swept, self.swept_indices = tuple(runs), indices
        self.results, self.racing = [], race
        self._set_busy(True)
        self.progress.setValue(0)
        what = "every run" if race else runs[indices[0]].name
        self.summary.setText(f"Sweeping {what}…")

        def job(should_stop):
            return _one_after_another(jobs)

        self.runner.request(("race" if race else "sweep", indices), job)

    def _objective(self) -> Objective:
        kind = self.objective.currentData()
        if kind == "steps-to":
            return Objective.parse(f"steps-to:{self.target.text().strip()}")
        return Objective(kind)

    def _grid(self, config: RunConfig):
        return default_grid(config.lr, self.points.value(), self.decades.value())

    def _on_runner_partial(self, _key, fraction: float) -> None:
        self.progress.setValue(int(round(fraction * 1000)))

    def _on_runner_ready(self, _key, result) -> None:
        self._set_busy(False)
        if isinstance(result, Exception):
            self.summary.setText(f"The sweep failed: {result}")
            return
        self.progress.setValue(1000)
        self.results = list(result)
        runs = self.swept
        self.plot.show_results([(r, runs[k].color, runs[k].name)
                                for r, k in zip(self.results, self.swept_indices)])
        first = self.results[0]
        lines = [f"{first.measured}; window: the lrs around the best whose mean is within "
                 f"{first.factor:g}× of it"]
        lines += [f"<b style='color:{runs[k].color}'>■</b> {runs[k].name}: {r.brief()}"
                  for r, k in zip(self.results, self.swept_indices)]
        self.summary.setText("<br>".join(lines))
        self.use_button.setEnabled(len(self.results) == 1 and
                                   self.results[0].best_lr is not None)
        if self.racing:
            best = {k: r.best_lr for k, r in zip(self.swept_indices, self.results)
                    if r.best_lr is not None}
            kept = [runs[k].name for k, r in zip(self.swept_indices, self.results)
                    if r.best_lr is None]
            if self._apply(best, play=True) and kept:
                self.summary.setText(self.summary.text() + "<br>Every lr diverged for "
                                     f"{', '.join(kept)}: its lr is kept.")

    def _apply(self, best: dict[int, float], play: bool) -> bool:
        """Give run k the lr ``best[k]`` (one reset for all), then play if asked."""
        c = self.main_window.controller
        if tuple(c.runs) != self.swept:
            self.summary.setText(self.summary.text() + "<br>The runs changed since the sweep "
                                 "started: sweep again.")
            return False
        try:
            runs = reduce(lambda rs, k: run_set.with_config(
                rs, k, rs[k].config.with_changes(lr=best[k])), best, tuple(c.runs))
            c.set_runs(runs, c.selected_track)
        except ConfigError as err:
            self.summary.setText(self.summary.text() + f"<br>Not applied: {err}")
            return False
        self.swept = tuple(c.runs)   # the applied lrs are what the result describes now
        if play:
            c.play()
        return True

    def _set_busy(self, busy: bool) -> None:
        self.sweep_button.setEnabled(not busy)
        self.race_button.setEnabled(not busy and len(self.main_window.controller.runs) > 1)
        self.cancel_button.setEnabled(busy)
        self.use_button.setEnabled(not busy and len(self.results) == 1
                                   and self.results[0].best_lr is not None)

    def _on_objective_changed(self) -> None:
        self.target.setEnabled(self.objective.currentData() == "steps-to")

    def _on_controller_runs_changed(self) -> None:
        self._set_busy(self.runner.busy)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt name)
        super().showEvent(event)
        self._set_busy(self.runner.busy)

    def done(self, code: int) -> None:
        self.runner.shutdown()
        super().done(code)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt name)
        self.runner.shutdown()
        super().closeEvent(event)


def _one_after_another(jobs):
    """A generator running ``sweep_steps`` generators in turn: yields the overall fraction
    done, returns their results (a list)."""
    results = []
    for k, steps in enumerate(jobs):
        while True:
            try:
                fraction = next(steps)
            except StopIteration as end:
                results.append(end.value)
                break
            yield (k + fraction) / len(jobs)
    return results


def open_sweep_dialog(window) -> SweepDialog:
    """Show the window's sweep dialog (one per window, created on first use)."""
    dialog = getattr(window, "sweep_dialog", None)
    if dialog is None:
        dialog = SweepDialog(window)
        window.sweep_dialog = dialog
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog
