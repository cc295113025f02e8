import dataclasses
import math

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig


def test_defaults_are_valid_and_frozen():
    config = RunConfig()
    assert config.problem == "wavy"
    assert config.batch_size == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.lr = 0.5  # type: ignore[misc]
    with pytest.raises(TypeError):
        config.settings["n"] = 5  # type: ignore[index]


@pytest.mark.parametrize(("changes", "message"), [
    ({"lr": -1}, "learning rate must be a finite number > 0, got -1"),
    ({"lr": 0}, "learning rate must be a finite number > 0, got 0"),
    ({"lr": math.nan}, "learning rate must be a finite number > 0, got nan"),
    ({"lr": math.inf}, "learning rate must be a finite number > 0, got inf"),
    ({"lr": "abc"}, "learning rate must be a number"),
    ({"batch_size": 0}, "batch size must be between 1 and 100"),
    ({"batch_size": 101}, "batch size must be between 1 and 100"),
    ({"order": "random"}, "order must be one of shuffle, sequential, replacement"),
    ({"max_epochs": 0}, "number of epochs must be at least 1"),
    ({"max_steps": -3}, "number of steps must be at least 1"),
    ({"init": (1.0, 2.0)}, "start point needs 1 values (w), got 2"),
    ({"init": (math.nan,)}, "start point values must be finite"),
    ({"seed": -1}, "seed must be a whole number >= 0"),
    ({"tol": -0.1}, "convergence tolerance must be a finite number >= 0"),
    ({"problem": "nope"}, "unknown problem 'nope'"),
    ({"optimizer": "bfgs"}, "unknown optimizer 'bfgs'"),
    ({"settings": {"n": 0}}, "n must be at least 1"),
    ({"settings": {"bogus": 1}}, "has no setting 'bogus'"),
])
def test_invalid_values_are_refused_with_a_user_message(changes, message):
    with pytest.raises(ConfigError) as err:
        RunConfig(**changes)
    assert message in str(err.value)


def test_full_batch_and_limits():
    config = RunConfig(problem="linreg", batch_size=None, max_epochs=2)
    assert config.effective_batch_size() == 1000
    assert config.steps_per_epoch() == 1
    assert config.step_limit() == 2
    config = RunConfig(problem="linreg", batch_size=32, max_epochs=1, max_steps=1000)
    assert config.steps_per_epoch() == 32  # ceil(1000 / 32)
    assert config.step_limit() == 32


def test_round_trip_through_dict():
    config = RunConfig(problem="linreg", optimizer="adam", lr=0.05,
                       hyperparams={"betas": "0.8,0.99"}, schedule="step",
                       schedule_params={"step_size": 2, "gamma": 0.5}, batch_size=10,
                       init=(0.5, -0.5, 0.0), max_epochs=3, tol=1e-6, seed=7)
    again = RunConfig.from_dict(config.to_dict())
    assert again == config
    assert again.hyperparams["betas"] == (0.8, 0.99)
    assert np.array_equal(again.start_point(), [0.5, -0.5, 0.0])


def test_from_dict_refuses_unknown_keys_and_non_objects():
    with pytest.raises(ConfigError, match="unknown run setting"):
        RunConfig.from_dict({"problem": "wavy", "learning_rate": 1})
    with pytest.raises(ConfigError, match="JSON object"):
        RunConfig.from_dict([1, 2])  # type: ignore[arg-type]


PICKLE_IN_A_FRESH_INTERPRETER = """
import pickle, sys
from types import MappingProxyType
from gdviz.core.records import RunConfig

config = RunConfig(problem="linreg", optimizer="adam", lr=0.05, hyperparams={"betas": "0.8,0.99"},
                   schedule="step", schedule_params={"step_size": 2, "gamma": 0.5},
                   batch_size=10, max_epochs=3, init=(1.0, 2.0, 3.0))
back = pickle.loads(pickle.dumps(config, protocol=pickle.HIGHEST_PROTOCOL))
assert "gdviz.core.step_server" not in sys.modules, "the step server was imported"
assert back == config
for name in ("settings", "hyperparams", "schedule_params"):
    assert isinstance(getattr(back, name), MappingProxyType), name
assert back.hyperparams["betas"] == (0.8, 0.99)
assert (back.steps_per_epoch(), back.step_limit()) == (100, 300)
print("ok")
"""


def test_a_config_pickles_in_an_interpreter_that_imported_only_the_records():
    """The step server's pipe pickles RunConfigs; nothing but gdviz.core.records (no copyreg
    registration elsewhere) may be needed for that."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-c", PICKLE_IN_A_FRESH_INTERPRETER], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_derived_numbers_are_computed_once_by_the_config(monkeypatch):
    from gdviz.core import records

    config = RunConfig(problem="linreg", batch_size=32, max_epochs=2)
    calls = []
    monkeypatch.setattr(records, "make_problem",
                        lambda *args: calls.append(args) or pytest.fail("recomputed"))
    assert (config.steps_per_epoch(), config.step_limit()) == (32, 64)
    assert calls == []


def test_configs_of_the_newer_optimizers_and_schedules_survive_json():
    import json

    for config in (
            RunConfig(problem="rosenbrock", optimizer="lbfgs", lr=1.0,
                      hyperparams={"line_search_fn": "strong_wolfe"}),
            RunConfig(problem="rosenbrock", optimizer="adafactor", lr=0.01,
                      hyperparams={"eps": (1e-20, 1e-3)}),
            RunConfig(problem="linreg", optimizer="adam", schedule="onecycle",
                      schedule_every="step", max_steps=100),
            RunConfig(problem="linreg", optimizer="sgd", schedule="cyclic",
                      schedule_params={"mode": "exp_range", "max_lr": 0.5})):
        again = RunConfig.from_dict(json.loads(json.dumps(config.to_dict())))
        assert again == config
        assert again.schedule_every == config.schedule_every
