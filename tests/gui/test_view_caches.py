"""What views keep between frames gives what they computed anew: the learning curve's epoch
boundaries found as the run grows, a config's step numbers."""

import numpy as np

from gdviz.core.history import RunHistory
from gdviz.core.runner import iterate
from gdviz.gui.views import LearningCurveView
from gdviz.gui.views.base import run_numbers
from gdviz.presets import get_preset


def test_epoch_boundaries_found_as_the_run_grows_equal_a_full_scan(qtbot):
    config = get_preset("wavy").config.with_changes(batch_size=7, max_steps=400,
                                                    max_epochs=None, order="shuffle")
    records = list(iterate(config))
    history = RunHistory(config.make_problem().n_params)
    view = LearningCurveView()
    qtbot.addWidget(view)
    view.resize(640, 480)
    history.append(records[:1])
    view.set_run(config.make_problem(), config, history)
    grown = 1
    for chunk in (1, 5, 40, 13, 200, 141):   # the history grows while the view is shown
        history.append(records[grown : grown + chunk])
        grown += chunk
        for index in (grown - 1, grown // 2, 0, grown - 1):   # the newest, and looking back
            view.show_step(index)
            epochs = history.epochs[: index + 1]
            first = np.flatnonzero((epochs[1:] != epochs[:-1]) & (epochs[1:] > 1)) + 1
            np.testing.assert_array_equal(view.epoch_marks, history.steps[first] - 0.5)
    assert len(view.epoch_marks) > 20
    other = RunHistory(config.make_problem().n_params)   # a new run starts the scan anew
    other.append(records[:30])
    view.set_run(config.make_problem(), config, other)
    view.show_step(29)
    epochs = other.epochs[:30]
    first = np.flatnonzero((epochs[1:] != epochs[:-1]) & (epochs[1:] > 1)) + 1
    np.testing.assert_array_equal(view.epoch_marks, other.steps[first] - 0.5)


def test_run_numbers_are_the_configs_own():
    for changes in ({}, {"batch_size": 7, "max_epochs": 3}, {"max_steps": 50, "max_epochs": None}):
        config = get_preset("linreg").config.with_changes(**changes)
        assert run_numbers(config) == (config.steps_per_epoch(), config.step_limit())
        assert run_numbers(config) == run_numbers(config)
