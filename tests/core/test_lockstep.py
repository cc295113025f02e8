"""Lock-step iteration of several runs, run names, shared settings and rebuilt records."""

from __future__ import annotations

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.history import RunHistory
from gdviz.core.lockstep import (
    MAX_RUNS,
    check_runs,
    default_run_name,
    group_finished,
    group_step,
    iterate_lockstep,
    share_settings,
    split_groups,
)
from gdviz.core.presets import list_presets
from gdviz.core.recorded import StateHistory, record_at
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate, run_to_end
from tests.core.test_step_blocks import assert_same_record

LINREG = RunConfig(problem="linreg", lr=0.2, batch_size=10, max_epochs=1)


def _same_record(a, b) -> None:
    assert (a.step, a.epoch, a.lr, a.status, a.message) == (b.step, b.epoch, b.lr, b.status,
                                                             b.message)
    for name in ("batch", "params_before", "params", "grad", "sample_grads"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.loss == b.loss or (np.isnan(a.loss) and np.isnan(b.loss))
    assert a.batch_loss == b.batch_loss or (np.isnan(a.batch_loss) and np.isnan(b.batch_loss))


def test_every_run_gets_exactly_its_own_records_and_ended_runs_yield_none():
    configs = [LINREG, LINREG.with_changes(lr=5.0), LINREG.with_changes(batch_size=50, seed=3)]
    groups = list(iterate_lockstep(configs))
    assert group_step(groups[0]) == 0
    assert all(r.step == 0 for r in groups[0])
    assert len(groups) == 101  # the longest run: 100 steps plus the start
    for i, group in enumerate(groups):
        assert group_step(group) == i
        assert all(r is None or r.step == i for r in group)
    for k, config in enumerate(configs):
        expected = run_to_end(config)
        got = split_groups(groups, len(configs))[k]
        assert len(got) == len(expected)
        for a, b in zip(got, expected):
            _same_record(a, b)
        assert all(g[k] is None for g in groups[len(expected):])
    assert [group_finished(g) for g in groups].count(True) == 1
    assert group_finished(groups[-1])


def test_one_run_is_the_runner_itself():
    groups = list(iterate_lockstep([LINREG]))
    assert [g[0].step for g in groups] == [r.step for r in run_to_end(LINREG)]


def test_a_run_that_diverges_at_the_start_point_is_none_from_then_on():
    bad = RunConfig(problem="rosenbrock", init=(1e6, 1e6), max_steps=5)
    good = RunConfig(problem="rosenbrock", lr=0.001, max_steps=5)
    groups = list(iterate_lockstep([bad, good]))
    assert groups[0][0].status == "diverged"
    assert all(g[0] is None for g in groups[1:])
    assert [g[1].step for g in groups] == [0, 1, 2, 3, 4, 5]


def test_the_single_run_iterator_can_be_substituted():
    def broken(config):
        records = iterate(config)
        yield next(records)
        raise RuntimeError("boom")

    steps = iterate_lockstep([LINREG, LINREG], broken)
    next(steps)
    with pytest.raises(RuntimeError, match="boom"):
        next(steps)


def test_default_names_say_what_differs_from_the_defaults():
    assert default_run_name(RunConfig(problem="rosenbrock", optimizer="adam", lr=0.05)) == \
        "adam lr=0.05"
    assert default_run_name(LINREG.with_changes(lr=0.01, hyperparams={"momentum": 0.9})) == \
        "sgd lr=0.01 mom=0.9 batch=10"
    assert default_run_name(LINREG.with_changes(batch_size=None)) == "sgd lr=0.2 batch=full"
    nesterov = RunConfig(problem="himmelblau", lr=0.01,
                         hyperparams={"momentum": 0.9, "nesterov": True})
    assert default_run_name(nesterov) == "sgd lr=0.01 mom=0.9 nesterov"
    steps = LINREG.with_changes(schedule="step", order="sequential", seed=4)
    assert default_run_name(steps) == "sgd lr=0.2 batch=10 sequential step schedule seed=4"


def test_shared_settings_follow_and_the_batch_is_clipped():
    other = LINREG.with_changes(optimizer="adam", hyperparams={}, lr=0.05, batch_size=500)
    source = LINREG.with_changes(problem="slope", settings={}, init=None, max_epochs=2)
    shared = share_settings(other, source)
    assert shared.problem == "slope"
    assert shared.max_epochs == 2
    assert shared.optimizer == "adam"
    assert shared.lr == 0.05
    assert shared.batch_size == 150  # slope has 150 samples
    assert share_settings(other, other) is other


def test_check_runs():
    check_runs([LINREG] * MAX_RUNS)
    with pytest.raises(ConfigError, match="1 to 6 runs"):
        check_runs([LINREG] * (MAX_RUNS + 1))
    with pytest.raises(ConfigError, match="1 to 6 runs"):
        check_runs([])
    with pytest.raises(ConfigError, match="differs from run 1 in init"):
        check_runs([LINREG, LINREG.with_changes(init=(0.0, 0.0, 0.0))])


@pytest.mark.parametrize("config", [
    LINREG,
    LINREG.with_changes(optimizer="adam", hyperparams={"amsgrad": True}, order="replacement"),
    LINREG.with_changes(hyperparams={"momentum": 0.9, "nesterov": True}),
    RunConfig(problem="himmelblau", optimizer="rmsprop", lr=0.01, max_steps=40,
              hyperparams={"momentum": 0.5, "centered": True}),
    RunConfig(problem="rosenbrock", lr=0.001, max_steps=60,
              settings={"grad_noise": 0.5}),
])
def test_records_rebuilt_from_the_history_equal_the_runner_s(config):
    records = run_to_end(config)
    history = RunHistory(config.make_problem().n_params)
    states = StateHistory()
    for chunk in (records[:1], records[1:17], records[17:]):  # as the GUI appends batches
        history.append(chunk)
        states.append(chunk)
    problem = config.make_problem()
    assert_same_record(record_at(history, len(history) - 1, problem, states), records[-1])
    for i in (0, 1, 7, len(records) // 2, len(records) - 2):
        rebuilt, real = record_at(history, i, problem, states), records[i]
        assert rebuilt.state.keys() == real.state.keys()
        for key, value in real.state.items():
            np.testing.assert_array_equal(rebuilt.state[key], value)
            assert type(rebuilt.state[key]) is type(value)
        if problem.grad_noise and i > 0:
            assert np.isnan(rebuilt.sample_grads).all()  # random noise cannot be rebuilt
            rebuilt = _with_sample_grads(rebuilt, real.sample_grads)
        _same_record(rebuilt, real if i == len(records) - 1 else _without_message(real))
    assert dict(record_at(history, 3, problem).state) == {}  # no StateHistory: no state
    assert states.nbytes() < 64 * len(records) * 8


def _with_sample_grads(record, sample_grads):
    from dataclasses import replace

    return replace(record, sample_grads=sample_grads)


def _without_message(record):
    from dataclasses import replace

    return replace(record, message="")


def test_every_comparison_preset_is_a_valid_comparison():
    comparisons = [p for p in list_presets() if p.group == "comparison"]
    assert {p.name for p in comparisons} >= {"compare_slope_lr", "compare_linreg_batch",
                                             "compare_linreg_lr", "compare_rosenbrock",
                                             "compare_himmelblau"}
    for preset in comparisons:
        configs = [run.config for run in preset.runs]
        assert 2 <= len(configs) <= MAX_RUNS
        check_runs(configs)
        assert len({run.name for run in preset.runs}) == len(configs)


def _finals(name: str) -> dict:
    preset = next(p for p in list_presets() if p.name == name)
    groups = list(iterate_lockstep([run.config for run in preset.runs]))
    return {run.name: records[-1] for run, records
            in zip(preset.runs, split_groups(groups, len(preset.runs)))}


def test_comparison_presets_show_what_the_lessons_show():
    slope = _finals("compare_slope_lr")
    w = {name: float(r.params[0]) for name, r in slope.items()}
    assert abs(w["lr 1e-4 (too slow)"] - 3.2) > 0.5          # too slow to reach 3.2
    assert abs(w["lr 1e-3 (settles)"] - 3.2) < 0.1
    linreg = _finals("compare_linreg_lr")
    assert linreg["lr 5 (diverges)"].status == "diverged"
    assert linreg["lr 5 (diverges)"].epoch == 1                # in the first epoch
    assert linreg["lr 0.2"].status == "finished"
    assert linreg["lr 0.2"].loss < 1e-3
    assert linreg["lr 0.002 (too slow)"].loss > 1.0
    batch = _finals("compare_linreg_batch")
    assert {r.step for r in batch.values()} == {3000, 300, 3}  # three epochs each
    assert all(r.loss < 1e-3 for r in batch.values())
    ends = {name: tuple(np.round(r.params, 2)) for name, r in
            _finals("compare_himmelblau").items()}
    assert ends["SGD lr 0.01"] == ends["Adam lr 0.1"] == ends["RMSprop lr 0.05"] == (3.0, 2.0)
    assert ends["momentum 0.9, lr 0.01"] == (3.58, -1.85)
    assert ends["Nesterov 0.9, lr 0.01"] == (-2.81, 3.13)
    rosen = _finals("compare_rosenbrock")
    assert rosen["SGD lr 0.001"].loss > 0.01                   # still crawling
    assert rosen["RMSprop lr 0.01"].loss > 1e-3                # rattles short of (1, 1)
    for name in ("momentum 0.9, lr 0.001", "Nesterov 0.9, lr 0.001", "Adam lr 0.05"):
        assert rosen[name].loss < 1e-6, name


def test_run_names_show_the_newer_optimizers_settings():
    from gdviz.core.lockstep import default_run_name
    from gdviz.core.records import RunConfig

    name = default_run_name(RunConfig(problem="rosenbrock", optimizer="lbfgs", lr=1.0,
                                      hyperparams={"line_search_fn": "strong_wolfe",
                                                   "max_eval": 5}))
    assert name == "lbfgs lr=1 max_eval=5 line_search_fn=strong_wolfe"
    name = default_run_name(RunConfig(problem="rosenbrock", optimizer="nadam", lr=0.002,
                                      hyperparams={"decoupled_weight_decay": True,
                                                   "weight_decay": 0.1}))
    assert name == "nadam lr=0.002 wd=0.1 decoupled wd"


def test_the_newer_optimizers_comparison_shows_what_it_says():
    preset = next(p for p in list_presets() if p.name == "compare_rosenbrock_newer")
    groups = list(iterate_lockstep([run.config for run in preset.runs]))
    runs = dict(zip([run.name for run in preset.runs],
                    split_groups(groups, len(preset.runs))))
    lbfgs = runs["L-BFGS strong Wolfe"]
    assert np.allclose(lbfgs[2].params, [1.0, 1.0], atol=1e-4)
    lion = runs["Lion lr 0.003"]
    near = [r.step for r in lion if np.hypot(*(r.params - 1.0)) < 0.01]
    assert 900 < near[0] < 1050
    assert lion[-1].loss > 1e-3                                # hops around (1, 1)
    assert runs["RAdam lr 0.001"][-1].params[0] < 0            # the far side of the valley
    for name in ("NAdam lr 0.05", "Adafactor lr 0.05"):
        assert 0.85 < runs[name][-1].params[0] < 0.95, name
    assert runs["Adamax lr 0.05"][-1].params[0] < 0.8
