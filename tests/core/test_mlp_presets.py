"""The network presets keep what their descriptions promise."""

from __future__ import annotations

import pytest

from gdviz.core.presets import get_preset, list_presets
from gdviz.core.runner import run_to_end


def _end(config):
    """(last record, problem, test score there)."""
    last = run_to_end(config)[-1]
    problem = config.make_problem()
    return last, problem, problem.score(last.params, problem.extras["test_x"],
                                        problem.extras["test_y"])


def test_network_presets_are_listed_in_their_group():
    names = {p.name: p.group for p in list_presets()}
    assert {name: names[name] for name in ("mlp_spiral", "mlp_circle", "mlp_circle_linear",
                                           "mlp_plane", "mlp_xor")} == {
        "mlp_spiral": "network", "mlp_circle": "network", "mlp_circle_linear": "network",
        "mlp_plane": "network", "mlp_xor": "comparison"}


def test_spiral_reaches_95_percent_test_accuracy_within_its_steps():
    config = get_preset("mlp_spiral").config
    problem = config.make_problem()
    assert problem.param_names[:2] == ("W1_0_0", "W1_0_1")
    assert problem.n_params == 105
    assert config.optimizer == "adam"
    assert config.lr == 0.01
    last, _, accuracy = _end(config)
    assert last.step == 10_000
    assert last.status == "finished"
    assert accuracy >= 0.95


@pytest.mark.parametrize(("name", "succeeds"), [("mlp_circle", True),
                                                 ("mlp_circle_linear", False)])
def test_circle_needs_a_hidden_layer(name, succeeds):
    last, problem, accuracy = _end(get_preset(name).config)
    if succeeds:
        assert problem.layers[0].out == 4
        assert accuracy >= 0.95
    else:
        assert len(problem.layers) == 1  # no hidden layer: logistic regression
        assert accuracy <= 0.7
        assert last.loss > 0.6


def test_plane_regression_error_falls_below_a_thousandth():
    last, problem, error = _end(get_preset("mlp_plane").config)
    assert not problem.classification
    assert error < 1e-3
    assert last.loss < 1e-3


def test_xor_both_solve_it_and_adam_is_ahead_at_step_500():
    preset = get_preset("mlp_xor")
    (sgd, adam) = (run_to_end(run.config) for run in preset.runs)
    assert sgd[0].params.tolist() == adam[0].params.tolist()  # the same start
    assert adam[500].loss < 0.5 * sgd[500].loss
    for records, run in zip((sgd, adam), preset.runs):
        problem = run.config.make_problem()
        assert problem.activation == "relu"
        accuracy = problem.score(records[-1].params, problem.extras["test_x"],
                                 problem.extras["test_y"])
        assert accuracy >= 0.95
