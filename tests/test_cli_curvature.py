"""gdviz run --curvature, the newton optimizer and the curvature presets from the command line."""

import numpy as np
import pytest
from test_cli import _run, _table  # tests/ is on sys.path (rootdir conftest)

from gdviz.core.problems.registry import make_problem


def test_curvature_columns_follow_the_trace(capsys):
    code, out, err = _run(["run", "--problem", "rosenbrock", "--optimizer", "sgd", "--lr",
                           "0.001", "--steps", "20", "--curvature", "--out", "-"], capsys)
    assert code == 0
    assert "finished after 20 steps" in err
    header, table = _table(out)
    assert header[-2:] == ["sharpness", "lambda_min"]
    problem = make_problem("rosenbrock")
    for row in table:
        values = np.linalg.eigvalsh(problem.hessian(row[5:7]))
        assert row[-2:] == pytest.approx([values[-1], values[0]], rel=1e-12)


def test_adam_adds_the_preconditioned_sharpness(capsys):
    code, out, _ = _run(["run", "--problem", "booth", "--optimizer", "adam", "--lr", "0.1",
                         "--steps", "50", "--curvature", "--out", "-"], capsys)
    assert code == 0
    header, table = _table(out)
    assert header[-3:] == ["sharpness", "lambda_min", "preconditioned_sharpness"]
    assert np.isnan(table[0, -1])
    assert np.all(np.isfinite(table[1:, -1]))
    assert np.all(table[1:, -1] > 0)
    assert table[:, -3] == pytest.approx(18.0)
    assert table[:, -2] == pytest.approx(2.0)


def test_without_curvature_the_columns_are_unchanged(capsys):
    code, out, _ = _run(["run", "--problem", "booth", "--steps", "2", "--out", "-"], capsys)
    assert code == 0
    assert _table(out)[0][-1] == "grad_y"


def test_newton_from_the_command_line_reaches_the_minimum_of_booth_in_one_step(capsys):
    code, out, err = _run(["run", "--problem", "booth", "--optimizer", "newton", "--steps",
                           "1", "--out", "-"], capsys)
    assert code == 0
    header, table = _table(out)
    assert table[1, 5:7] == pytest.approx([1.0, 3.0], abs=1e-12)
    assert table[1, 0] == 1


def test_presets_run_from_the_command_line(capsys):
    code, out, err = _run(["run", "--preset", "stability_threshold", "--curvature", "--out",
                           "-"], capsys)
    assert code == 0
    header, table = _table(out)
    assert table[:, 2] * table[:, -2] == pytest.approx(np.full(len(table), 1.8))  # lr·λmax
    code, out, err = _run(["run", "--preset", "momentum_kappa100", "--steps", "5", "--out",
                           "-"], capsys)
    assert code == 0
    assert _table(out)[1].shape == (6, 9)


@pytest.mark.parametrize(("argv", "message"), [
    (["--problem", "booth", "--optimizer", "newton", "--hp", "damping=-1"], "damping"),
    (["--problem", "quadratic", "--set", "b=-3"], "b"),
])
def test_bad_input_is_one_line_and_status_2(argv, message, capsys):
    code, out, err = _run(["run", *argv, "--curvature", "--out", "-"], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert message in err
    assert "Traceback" not in err
