"""Start points drawn by an initialisation scheme (core.init_schemes) and ``--init-scheme``."""

import json
from pathlib import Path

import numpy as np
import pytest

from gdviz.cli.main import main
from gdviz.core.errors import ConfigError
from gdviz.core.init_schemes import SCHEMES, init_point, param_fans, scheme_of
from gdviz.core.problems.registry import make_problem

REFERENCE = json.loads((Path(__file__).parents[1] / "reference" / "init_stds.json").read_text())


class _Layered:
    """A problem-like object with its own layout (as a network gives it)."""

    name = "layered"

    def __init__(self, fan_in, fan_out, p):
        self.n_params = p
        self._fans = np.tile([fan_in, fan_out], (p, 1))

    def param_fans(self):
        return self._fans


def test_zeros_are_zeros_and_every_draw_repeats_with_its_seed():
    problem = make_problem("linreg")
    assert init_point(problem, "zeros", 5).tolist() == [0.0, 0.0, 0.0]
    for scheme in SCHEMES[1:]:
        a, b = init_point(problem, scheme, 7), init_point(problem, scheme, 7)
        assert np.array_equal(a, b)
        assert not np.array_equal(a, init_point(problem, scheme, 8))
        assert a.shape == (3,)


def test_problems_without_layers_use_the_number_of_inputs_as_fan_in():
    assert param_fans(make_problem("linreg")).tolist() == [[2.0, 1.0]] * 3
    assert param_fans(make_problem("wavy")).tolist() == [[1.0, 1.0]]
    assert param_fans(make_problem("rosenbrock")).tolist() == [[1.0, 1.0]] * 2  # no data: 1


@pytest.mark.parametrize("row", REFERENCE["rows"], ids=lambda r: f"{r['fan_in']}x{r['fan_out']}")
def test_xavier_and_kaiming_spread_as_torch_draws_them(row):
    """The standard deviation over many seeds equals torch's (measured on 4e6 draws by
    tests/reference/make_init_stds.py) within the statistical error of 20 000 draws."""
    problem = _Layered(row["fan_in"], row["fan_out"], 4)
    for scheme, key in (("xavier", "xavier_std"), ("kaiming", "kaiming_std")):
        draws = np.array([init_point(problem, scheme, seed) for seed in range(5000)]).ravel()
        assert np.std(draws) == pytest.approx(row[key], rel=0.02), scheme
        assert abs(np.mean(draws)) < 0.03 * row[key]


def test_the_scheme_of_a_start_point_is_recognised_only_for_its_seed():
    problem = _Layered(3, 1, 4)  # fan_in 3: the four schemes draw four different points
    for scheme in SCHEMES:
        assert scheme_of(problem, tuple(init_point(problem, scheme, 3)), 3) == scheme
    assert scheme_of(problem, tuple(init_point(problem, "xavier", 3)), 4) is None
    assert scheme_of(problem, (1.0, 2.0, 3.0, 4.0), 3) is None
    with pytest.raises(ConfigError, match="unknown initialisation scheme 'he'"):
        init_point(problem, "he", 0)


def test_cli_init_scheme_starts_the_run_at_the_drawn_point(capsys):
    assert main(["run", "--problem", "linreg", "--init-scheme", "kaiming", "--seed", "3",
                 "--steps", "1", "--out", "-"]) == 0
    rows = capsys.readouterr().out.splitlines()
    start = [float(v) for v in rows[1].split(",")[5:8]]
    assert start == init_point(make_problem("linreg"), "kaiming", 3).tolist()


@pytest.mark.parametrize(("argv", "message"), [
    (["--init-scheme", "uniform"], "unknown initialisation scheme 'uniform'; choose from: "
                                   "zeros, normal, xavier, kaiming"),
    (["--init-scheme", "zeros", "--init", "1,2,3"], "give only one of --init and --init-scheme"),
])
def test_cli_init_scheme_bad_input_is_one_line_and_status_2(argv, message, capsys):
    code = main(["run", "--problem", "linreg", *argv, "--out", "-"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.strip().splitlines() == [f"gdviz: error: {message}"]
