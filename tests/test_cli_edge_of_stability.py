"""The edge_of_stability preset from the command line (``gdviz run --preset edge_of_stability
--curvature``): at both of its learning rates the sharpness rises to 2/η and then stays within
±10 % of it while the loss falls, not monotonically; and a network's curvature from the
command line with and without its full Hessian."""

import numpy as np
import pytest
from test_cli import _run, _table  # tests/ is on sys.path (rootdir conftest)

from gdviz.core.presets import get_preset


def _column(header, table, name):
    return table[:, header.index(name)]


@pytest.mark.parametrize("run", [0, 1])
def test_sharpness_rises_to_two_over_lr_and_hovers_there(run, tmp_path, capsys):
    preset = get_preset("edge_of_stability")
    lr = preset.runs[run].config.lr
    assert preset.runs[run].config.batch_size is None          # full-batch gradient descent
    out = tmp_path / "eos.csv"
    code, _, err = _run(["run", "--preset", "edge_of_stability", "--lr", repr(lr),
                         "--curvature", "--out", str(out)], capsys)
    assert code == 0, err
    header, table = _table(out.read_text())
    assert np.all(table[:, 2] == lr)
    sharpness, loss = _column(header, table, "sharpness"), _column(header, table, "loss")
    limit = 2.0 / lr
    assert sharpness[0] < 0.5 * limit                           # it starts well below 2/η
    reached = int(np.argmax(sharpness >= limit))
    assert sharpness[reached] >= limit
    assert 0 < reached < 0.6 * len(table)                       # it rises to it, then hovers
    after = sharpness[reached:] / limit
    assert np.all(np.abs(after - 1.0) <= 0.10), (reached, after.min(), after.max())
    # the loss keeps falling, but not monotonically: it rises again at many steps
    assert loss[-1] < loss[reached] < loss[0]
    rises = np.diff(loss[reached:]) > 0
    assert rises.mean() > 0.1
    before = np.diff(loss[:reached]) > 0                        # before the edge it fell
    assert before.mean() < 0.01


def test_a_network_above_200_parameters_gets_its_curvature_by_lanczos(capsys):
    code, out, err = _run(["run", "--problem", "mlp", "--set", "layers=12,12", "--set",
                           "n=60", "--optimizer", "sgd", "--lr", "0.05", "--batch-size",
                           "full", "--steps", "3", "--curvature", "--out", "-"], capsys)
    assert code == 0, err
    header, table = _table(out)
    assert header[-2:] == ["sharpness", "lambda_min"]
    assert np.all(np.isfinite(table[:, -2:]))
    assert np.all(table[:, -1] < table[:, -2])


def test_newton_on_a_network_above_200_parameters_is_refused_in_one_line(capsys):
    code, out, err = _run(["run", "--problem", "mlp", "--set", "layers=12,12", "--optimizer",
                           "newton", "--steps", "3", "--out", "-"], capsys)
    assert code == 2
    assert err.count("\n") == 1
    assert "at most 200 parameters, and this one has 205" in err
    assert "Traceback" not in err
