"""The presets added for what the lessons show (SCENARIOS.md 4 and 5) behave as their
descriptions say."""

import numpy as np
import pytest

from gdviz.core.presets import get_preset
from gdviz.core.runner import run_to_end


def final(config):
    records = run_to_end(config)
    return records, records[-1]


def test_slope_minibatch_draws_5_points_with_replacement_for_100_iterations():
    preset = get_preset("slope_minibatch")
    config = preset.config
    assert (config.problem, config.batch_size, config.order) == ("slope", 5, "replacement")
    records, last = final(config)
    assert last.step == 100
    assert last.status == "finished"
    assert all(len(r.batch) == 5 for r in records[1:])
    # with replacement: over 100 draws of 5 from 150 some batch repeats a point
    assert any(len(set(r.batch.tolist())) < 5 for r in records[1:])
    w = np.array([r.params[0] for r in records])
    assert w[0] == 10.0
    assert abs(w[-1] - 3.2) < 0.1  # "w comes down smoothly to about 3.2 (3.22 after 100 ...)"
    assert f"{w[-1]:.2f}" in preset.description


def test_slope_minibatch_is_smoother_than_one_point_at_a_time():
    batch5 = [r.params[0] for r in run_to_end(get_preset("slope_minibatch").config)]
    one = [r.params[0] for r in run_to_end(get_preset("slope_minibatch").config
                                           .with_changes(batch_size=1))]
    # the size of the last 50 steps' jitter around the settled value
    assert np.std(np.diff(batch5[50:])) < np.std(np.diff(one[50:]))


def test_slope_momentum_compares_three_small_alphas_at_lr_1e_4_batch_5():
    preset = get_preset("compare_slope_momentum")
    runs = preset.runs
    momenta = [r.config.hyperparams["momentum"] for r in runs]
    assert momenta == [1e-4, 1e-3, 1e-2, 0.9]
    for run in runs:
        assert (run.config.lr, run.config.batch_size, run.config.order,
                run.config.max_steps) == (1e-4, 5, "replacement", 100)
    losses = [final(r.config)[1].loss for r in runs]
    # higher alpha a little lower, but within about 1 %: smaller than the learning rate's effect
    assert losses[0] > losses[1] > losses[2]
    assert losses[2] / losses[0] == pytest.approx(0.99, abs=0.005)
    for value in losses[:3]:
        assert f"{value:.0f}" in preset.description
    assert losses[3] < 1.0
    lr_effect = final(runs[0].config.with_changes(lr=1e-3))[1].loss
    assert lr_effect < 0.01 * losses[0]


def test_bowl_learning_rates_crawl_converge_and_diverge_as_described():
    preset = get_preset("compare_bowl_lr")
    lrs = [r.config.lr for r in preset.runs]
    assert lrs == [0.002, 0.02, 0.05, 0.06]
    problem = preset.config.make_problem()
    x = np.c_[problem.data_x[:, 0], np.ones(problem.n_samples)]
    stable_below = 2 / np.linalg.eigvalsh(x.T @ x / problem.n_samples).max()
    assert 0.05 < stable_below < 0.06
    assert f"{stable_below:.3f}" in preset.description
    ends = [final(r.config)[1] for r in preset.runs]
    assert [e.status for e in ends] == ["finished", "finished", "converged", "diverged"]
    assert ends[0].loss > ends[1].loss > ends[2].loss
    assert f"step {ends[3].step}" in preset.description
    assert f"step {ends[2].step}" in preset.description
    assert "learning_curve" in preset.front

