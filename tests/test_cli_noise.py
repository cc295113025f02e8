"""``gdviz run --seeds K`` and ``gdviz noise``: files equal to single runs, JSON, bad input."""

import csv
import io
import json

import numpy as np
import pytest

from gdviz.cli.main import main
from gdviz.core.noise import gradient_noise
from gdviz.core.records import RunConfig


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("order", ["shuffle", "replacement"])
def test_seeds_csv_holds_each_seeds_single_run_bit_for_bit(tmp_path, capsys, order):
    common = ["run", "--problem", "linreg", "--set", "n=23", "--batch-size", "5", "--lr", "0.05",
              "--optimizer", "adam", "--order", order, "--epochs", "3"]
    out = tmp_path / "seeds.csv"
    code, _, err = _run([*common, "--seed", "4", "--seeds", "3", "--out", str(out)], capsys)
    assert code == 0
    assert err.splitlines() == [f"seed {s}: finished after 15 steps (3 epochs)" for s in (4, 5, 6)]
    lines = out.read_text().splitlines()
    singles = []
    for seed in (4, 5, 6):
        code, text, _ = _run([*common, "--seed", str(seed), "--out", "-"], capsys)
        singles.append(text.splitlines())
    assert lines[0] == "seed," + singles[0][0]
    # each seed's rows, in step order, are its single run's rows (same text: same floats)
    assert lines[1:] == [f"{seed},{row}" for seed, rows in zip((4, 5, 6), singles)
                         for row in rows[1:]]


def test_seeds_whose_runs_end_at_different_steps(capsys):
    code, text, err = _run(["run", "--problem", "linreg", "--set", "n=30", "--batch-size", "4",
                            "--lr", "2.7", "--steps", "200", "--seeds", "6", "--out", "-"],
                           capsys)
    assert code == 0
    rows = list(csv.reader(io.StringIO(text)))[1:]
    seeds = np.array([int(r[0]) for r in rows])
    ends = err.splitlines()
    assert len(ends) == 6
    assert any("diverged" in e for e in ends)
    for seed, end in enumerate(ends):
        steps = [int(r[1]) for r in rows if int(r[0]) == seed]
        assert steps == list(range(len(steps)))
        last = int(end.split("step ")[1].split(":")[0]) if "diverged" in end else 200
        assert steps[-1] == last
    assert np.all(np.diff(seeds) >= 0)


def test_seeds_whose_rows_would_not_fit_in_memory_are_refused_in_one_line(capsys):
    code, out, err = _run(["run", "--problem", "linreg", "--steps", "100000", "--seeds",
                           "10000", "--out", "-"], capsys)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "GB of rows in memory" in err


@pytest.mark.parametrize("bad", ["0", "-1", "two", "10001"])
def test_bad_number_of_seeds_is_one_line_and_status_2(capsys, bad):
    code, _, err = _run(["run", "--problem", "wavy", "--seeds", bad, "--out", "-"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "number of seeds" in err


@pytest.mark.parametrize(("extra", "words"), [
    (["--optimizer", "lbfgs"], "lbfgs cannot run as an ensemble"),
    (["--optimizer", "newton"], "newton cannot run as an ensemble"),
    (["--schedule", "plateau"], "plateau schedule follows each run's own loss"),
    (["--curvature"], "--curvature and --seeds do not combine")])
def test_seeds_refuse_what_cannot_be_vectorised_in_one_line(tmp_path, capsys, extra, words):
    target = tmp_path / "seeds.csv"
    code, out, err = _run(["run", "--problem", "linreg", "--steps", "5", "--seeds", "3",
                           *extra, "--out", str(target)], capsys)
    assert code == 2
    assert out == ""
    assert err.strip().splitlines() == [err.strip()]
    assert words in err
    assert not target.exists()


def test_noise_prints_the_json_of_core_noise(capsys):
    code, text, _ = _run(["noise", "--problem", "linreg", "--set", "n=200", "--batch-size",
                          "16", "--lr", "0.05", "--at", "1,-2,3"], capsys)
    assert code == 0
    payload = json.loads(text)
    expected = gradient_noise(RunConfig(problem="linreg", settings={"n": 200}, batch_size=16,
                                        lr=0.05), np.array([1.0, -2.0, 3.0]))
    assert payload["parameters"] == ["w1", "w2", "b"]
    assert payload["full_gradient"] == expected.full_gradient.tolist()
    assert payload["per_sample_covariance"] == expected.per_sample_covariance.tolist()
    assert payload["batch_covariance"] == expected.batch_covariance.tolist()
    assert payload["batch_covariance_trace"] == expected.batch_covariance_trace
    assert payload["noise_scale"] == expected.noise_scale
    assert payload["stationary_covariance"] == expected.stationary_covariance.tolist()


def test_noise_defaults_to_the_start_point_and_is_null_where_not_quadratic(capsys):
    code, text, _ = _run(["noise", "--problem", "wavy", "--batch-size", "10"], capsys)
    assert code == 0
    payload = json.loads(text)
    assert payload["at"] == [-0.3]
    assert payload["stationary_covariance"] is None
    assert np.shape(payload["batch_covariance"]) == (1, 1)


@pytest.mark.parametrize(("argv", "words"), [
    (["--at", "1,2"], "--at needs 3 values"),
    (["--at", "1,x,2"], "--at"),
    (["--at", "1,nan,2"], "finite"),
    (["--batch-size", "0"], "batch size"),
    (["--order", "random"], "order"),
])
def test_noise_bad_input_is_one_line_and_status_2(capsys, argv, words):
    code, _, err = _run(["noise", "--problem", "linreg", *argv], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert words in err
