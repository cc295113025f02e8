"""``gdviz theory``: the quadratic theory of a preset's runs as JSON, the phase plane as CSV, and
one line on stderr (exit 2) for a loss that is not quadratic or a file that cannot be written."""

import csv
import json
import math

import numpy as np
import pytest

from gdviz.cli.main import main
from gdviz.core.quadratic_theory import spectral_radius


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_momentum_kappa100_rates_predicted_and_measured(tmp_path, capsys):
    grid = tmp_path / "plane.csv"
    code, out, err = _run(["theory", "--preset", "momentum_kappa100", "--grid", str(grid)],
                          capsys)
    assert code == 0, err
    result = json.loads(out)
    assert result["eigenvalues"] == pytest.approx([1.0, 100.0])
    assert result["condition_number"] == pytest.approx(100.0)
    gd, momentum = result["runs"]
    assert gd["predicted_rate"] == pytest.approx(99 / 101, rel=1e-12)
    assert momentum["predicted_rate"] == pytest.approx(9 / 11, rel=1e-12)
    for run, want in ((gd, 99 / 101), (momentum, 9 / 11)):
        assert run["measured_rate"] == pytest.approx(want, rel=0.01)
        assert run["status"] == "finished"
        assert run["steps"] == 300
    assert result["best_heavy_ball"]["rate"] == pytest.approx(9 / 11)
    with open(grid, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 241 * 201
    for row in rows[::997]:
        lr, beta, rate = float(row["lr"]), float(row["momentum"]), float(row["rate"])
        assert rate == pytest.approx(max(spectral_radius(np.array([1.0, 100.0]), lr, beta)),
                                     rel=1e-12, abs=1e-15)


def test_other_optimizers_get_a_measured_rate_and_a_note(capsys):
    code, out, _ = _run(["theory", "--problem", "bowl", "--optimizer", "adam", "--lr", "0.1",
                         "--steps", "50"], capsys)
    assert code == 0
    (run,) = json.loads(out)["runs"]
    assert run["batch_size"] == 1
    assert run["predicted_rate"] is None
    assert "adam" in run["note"]
    assert math.isfinite(run["measured_rate"])


def test_a_mini_batch_run_is_told_its_prediction_is_for_full_batches(capsys):
    common = ["theory", "--problem", "bowl", "--lr", "0.05", "--hp", "momentum=0.5",
              "--steps", "200"]
    code, out, _ = _run([*common, "--batch-size", "full"], capsys)
    assert code == 0
    (full,) = json.loads(out)["runs"]
    assert "note" not in full
    assert full["measured_rate"] == pytest.approx(full["predicted_rate"], rel=1e-9)
    code, out, _ = _run([*common, "--batch-size", "1"], capsys)
    (single,) = json.loads(out)["runs"]
    assert "full-batch" in single["note"]
    assert single["predicted_rate"] == full["predicted_rate"]


@pytest.mark.parametrize(("argv", "words"), [
    (["--problem", "rosenbrock"], "is not quadratic"),
    (["--problem", "bowl", "--grid", "/nonexistent-folder/plane.csv"], "does not exist"),
])
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys):
    code, out, err = _run(["theory", *argv], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert words in err
