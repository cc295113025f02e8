"""Learning-rate schedules: hand-computed sequences, validation, and the CLI's NAME:K=V form
(torch's own sequences: tests/core/test_torch_golden.py)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.scheduler import lr_sequence
from gdviz.core.schedules import (
    SCHEDULES,
    parse_schedule_arg,
    schedule_names,
    validate_schedule,
)


def lrs(name, raw, epochs, base=0.1):
    return lr_sequence(name, base, validate_schedule(name, raw), epochs)


def test_names_and_defaults():
    assert schedule_names() == ["constant", "step", "exponential", "cosine", "inverse-time",
                              "linear", "onecycle", "cyclic", "cosine-restarts", "polynomial",
                              "plateau", "warmup-cosine"]
    assert validate_schedule("constant", {}) == {}
    assert validate_schedule("step", {}) == {"step_size": 1, "gamma": 0.1}
    assert validate_schedule("exponential", {}) == {"gamma": 0.9}
    assert validate_schedule("cosine", {}) == {"T_max": 10, "eta_min": 0.0}
    assert validate_schedule("inverse-time", {}) == {"decay": 0.5}
    for spec in SCHEDULES.values():
        assert spec.description.endswith(".")
        assert all(len(p.help) > 30 for p in spec.params)


def test_constant():
    assert lrs("constant", {}, 4) == [0.1, 0.1, 0.1, 0.1]


def test_step_decays_every_step_size_epochs():
    assert lrs("step", {"step_size": "2", "gamma": "0.5"}, 6) == [
        0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    np.testing.assert_allclose(lrs("step", {}, 3), [0.1, 0.01, 0.001], rtol=1e-15)


def test_exponential_multiplies_every_epoch():
    assert lrs("exponential", {"gamma": 0.5}, 4) == [0.1, 0.05, 0.025, 0.0125]
    np.testing.assert_allclose(lrs("exponential", {}, 3), [0.1, 0.09, 0.081], rtol=1e-15)


def test_cosine_glides_to_eta_min_then_rises_again():
    half = math.sqrt(0.5)                                     # cos(pi / 4)
    np.testing.assert_allclose(
        lrs("cosine", {"T_max": 4}, 6),
        [0.1, 0.1 * (1 + half) / 2, 0.05, 0.1 * (1 - half) / 2, 0.0, 0.1 * (1 - half) / 2],
        rtol=1e-14, atol=1e-18)
    np.testing.assert_allclose(lrs("cosine", {"T_max": 2, "eta_min": 0.01}, 3),
                               [0.1, 0.055, 0.01], rtol=1e-14)


def test_inverse_time_is_one_over_t():
    np.testing.assert_allclose(lrs("inverse-time", {"decay": "0.5"}, 4),
                               [0.1, 0.1 / 1.5, 0.05, 0.04], rtol=1e-15)
    assert lrs("inverse-time", {"decay": 0}, 3) == [0.1, 0.1, 0.1]


def test_learning_rates_are_python_floats():
    for name in schedule_names():
        metrics = [1.0, 2.0] if name == "plateau" else None
        assert all(type(lr) is float for lr in lr_sequence(
            name, 0.1, validate_schedule(name, {}), 3, metrics=metrics))


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("nope", {}, "unknown schedule 'nope'; choose from: constant, step, exponential, cosine, "
                 "inverse-time"),
    ("step", {"step_size": 0}, "step schedule step_size must be at least 1, got 0"),
    ("step", {"step_size": "1.5"}, "step schedule step_size must be a whole number"),
    ("step", {"gamma": 0}, r"step schedule gamma must be in \(0, 1\], got 0"),
    ("step", {"gamma": "-0.5"}, r"step schedule gamma must be in \(0, 1\], got -0.5"),
    ("exponential", {"gamma": 1.5}, "exponential schedule gamma must be at most 1, got 1.5"),
    ("exponential", {"gamma": "nan"}, "exponential schedule gamma must be a finite number"),
    ("step", {"gama": 0.1}, "step schedule has no setting 'gama'"),
    ("constant", {"gamma": 0.1}, "constant schedule has no setting 'gamma'"),
    ("cosine", {"T_max": 0}, "cosine schedule T_max must be at least 1"),
    ("cosine", {"eta_min": -0.001}, "cosine schedule eta_min must be at least 0"),
    ("inverse-time", {"decay": -1}, "inverse-time schedule decay must be at least 0"),
    ("inverse-time", {"decay": "fast"}, "inverse-time schedule decay must be a number"),
])
def test_bad_parameters_are_refused(name, raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_schedule(name, raw)


@pytest.mark.parametrize(("text", "expected"), [
    ("step:step_size=2,gamma=0.1", ("step", {"step_size": "2", "gamma": "0.1"})),
    ("cosine", ("cosine", {})),
    ("cosine:", ("cosine", {})),
    (" cosine : T_max = 5 , eta_min=0.001 ", ("cosine", {"T_max": "5", "eta_min": "0.001"})),
])
def test_parse_schedule_arg(text, expected):
    assert parse_schedule_arg(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("", "a schedule must look like NAME or NAME:KEY=VALUE"),
    (":gamma=0.5", "a schedule must look like NAME"),
    ("step:gamma", "schedule parameters must look like KEY=VALUE, got 'gamma'"),
    ("step:=0.5", "must look like KEY=VALUE, got '=0.5'"),
    ("step:gamma=", "must look like KEY=VALUE, got 'gamma='"),
    ("step:gamma=0.5,,step_size=2", "must look like KEY=VALUE, got ''"),
    ("step:gamma=0.5,gamma=0.2", "schedule parameter 'gamma' is given twice"),
])
def test_malformed_schedule_arg_is_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_schedule_arg(text)


def test_parsed_arg_validates():
    name, raw = parse_schedule_arg("step:step_size=3,gamma=0.5")
    assert validate_schedule(name, raw) == {"step_size": 3, "gamma": 0.5}


@pytest.mark.parametrize(("name", "raw", "message"), [
    ("cyclic", {"mode": "sawtooth"}, "cyclic schedule mode must be one of triangular, "
                                     "triangular2, exp_range"),
    ("plateau", {"mode": "triangular"}, "plateau schedule mode must be one of min, max"),
    ("plateau", {"factor": 1.0}, "plateau schedule factor must be < 1"),
    ("onecycle", {"anneal_strategy": "step"}, "anneal_strategy must be one of cos, linear"),
    ("onecycle", {"max_lr": 0}, "onecycle schedule max_lr must be > 0"),
    ("linear", {"start_factor": 0}, r"linear schedule start_factor must be in \(0, 1\]"),
    ("warmup-cosine", {"warmup_steps": 0}, "warmup-cosine schedule warmup_steps must be at"),
])
def test_newer_schedules_refuse_bad_parameters(name, raw, message):
    with pytest.raises(ConfigError, match=message):
        validate_schedule(name, raw)


def test_momentum_cycling_needs_an_optimizer_with_momentum():
    from gdviz.core.records import RunConfig

    with pytest.raises(ConfigError, match="set cycle_momentum=false"):
        RunConfig(problem="rosenbrock", optimizer="adagrad", schedule="onecycle")
    RunConfig(problem="rosenbrock", optimizer="adagrad", schedule="onecycle",
              schedule_params={"cycle_momentum": "false"})


def test_onecycle_cannot_be_shorter_than_the_run():
    from gdviz.core.records import RunConfig

    with pytest.raises(ConfigError, match="total_steps 10 is shorter than the run"):
        RunConfig(problem="rosenbrock", optimizer="sgd", schedule="onecycle",
                  schedule_params={"total_steps": 10}, schedule_every="step", max_steps=50)
    with pytest.raises(ConfigError, match="stepped every epoch or step"):
        RunConfig(problem="rosenbrock", schedule_every="batch")


def test_schedule_every_step_changes_the_lr_inside_an_epoch():
    from gdviz.core.records import RunConfig
    from gdviz.core.runner import run_to_end

    base = {"problem": "linreg", "settings": {"n": 20}, "batch_size": 5, "max_steps": 8,
            "schedule": "exponential", "schedule_params": {"gamma": 0.5}, "lr": 0.1}
    per_epoch = [r.lr for r in run_to_end(RunConfig.from_dict(base))[1:]]
    per_step = [r.lr for r in run_to_end(RunConfig.from_dict(
        {**base, "schedule_every": "step"}))[1:]]
    assert per_epoch == [0.1] * 4 + [0.05] * 4
    np.testing.assert_allclose(per_step, [0.1 * 0.5**k for k in range(8)], rtol=1e-15)


def test_plateau_cuts_the_lr_when_the_loss_stalls():
    seq = lr_sequence("plateau", 1.0, validate_schedule("plateau", {"patience": 1}), 6,
                      metrics=[5.0, 5.0, 5.0, 4.0, 4.0, 4.0])
    assert seq == [1.0, 1.0, 1.0, 0.1, 0.1, 0.1]


def test_only_plateau_needs_the_loss_to_know_the_next_lr():
    from gdviz.core.scheduler import LrScheduler

    needs = {name for name in schedule_names()
             if LrScheduler(name, 0.1, validate_schedule(name, {}), 10).needs_metric}
    assert needs == {"plateau"}
