"""``gdviz sweep``: its CSV and best lr equal separate ``gdviz run``s over the same grid;
bad input is one line, status 2, nothing written."""

import csv
import io
import math

import numpy as np
import pytest

from gdviz.cli.main import main


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


COMMON = ["--problem", "linreg", "--set", "n=30", "--batch-size", "5", "--optimizer", "adam",
          "--steps", "40"]


def test_sweep_best_lr_is_the_best_of_separate_gdviz_runs(tmp_path, capsys):
    out = tmp_path / "sweep.csv"
    code, _, err = _run(["sweep", *COMMON, "--lrs", "1e-3:10:9", "--seeds", "2",
                         "--out", str(out)], capsys)
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 18
    lrs = sorted({float(r["lr"]) for r in rows})
    np.testing.assert_allclose(lrs, np.logspace(-3, 1, 9))
    # each (lr, seed) objective is the final full loss of that seed's own `gdviz run`
    means = []
    for lr in lrs:
        finals = []
        for seed in (0, 1):
            code, text, run_err = _run(["run", *COMMON, "--lr", repr(lr), "--seed", str(seed),
                                        "--out", "-"], capsys)
            last = list(csv.DictReader(io.StringIO(text)))[-1]
            final = math.inf if "diverged" in run_err else float(last["loss"])
            row = next(r for r in rows if float(r["lr"]) == lr and int(r["seed"]) == seed)
            assert float(row["objective"]) == final
            assert (row["diverged"] == "true") == ("diverged" in run_err)
            finals.append(final)
        means.append(np.mean(finals))
    best = lrs[int(np.argmin(means))]
    line = err.strip()
    assert "\n" not in line
    assert line.startswith(f"best lr {best:.4g} (final loss, mean of 2 seeds over 40 steps")
    assert "usable window" in line
    assert "decades (mean within 2x of the best)" in line


def test_sweep_defaults_to_41_lrs_over_6_decades_around_the_runs_lr_on_stdout(capsys):
    code, text, err = _run(["sweep", "--problem", "bowl", "--lr", "0.01", "--steps", "5",
                            "--objective", "steps-to:1e3"], capsys)
    assert code == 0
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["lr", "seed", "objective", "diverged"]
    lrs = [float(r[0]) for r in rows[1:]]
    assert len(lrs) == 41
    assert lrs[0] == pytest.approx(1e-5)
    assert lrs[-1] == pytest.approx(10.0)
    assert "steps to loss ≤ 1000" in err


@pytest.mark.parametrize(("extra", "words"), [
    (["--lrs", "1:0.1:5"], "0 < LOW < HIGH"),
    (["--lrs", "0.1:1"], "LOW:HIGH:N"),
    (["--objective", "best"], "unknown objective"),
    (["--objective", "steps-to:"], "needs its loss"),
    (["--seeds", "0"], "number of seeds"),
    (["--seeds", "x"], "number of seeds"),
    (["--window-factor", "1"], "factor"),
    (["--optimizer", "nope"], "nope"),
    (["--lr", "-1"], "learning rate"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, extra, words):
    out = tmp_path / "x.csv"
    code, text, err = _run(["sweep", "--problem", "bowl", "--steps", "5", *extra,
                            "--out", str(out)], capsys)
    assert code == 2
    assert text == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("gdviz: error:")
    assert words in err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_out_is_refused_before_the_work(tmp_path, capsys):
    code, _, err = _run(["sweep", "--problem", "bowl", "--steps", "5", "--out",
                         str(tmp_path / "missing" / "x.csv")], capsys)
    assert code == 2
    assert len(err.splitlines()) == 1
    assert "does not exist" in err


def test_a_signal_stops_the_sweep_between_chunks_with_nothing_written(tmp_path):
    import os
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(root)}
    # L-BFGS runs one at a time: 41 x 2000 steps take far longer than the wait below
    proc = subprocess.Popen([sys.executable, "-m", "gdviz", "sweep", "--problem", "rosenbrock",
                             "--optimizer", "lbfgs", "--lr", "1", "--steps", "2000",
                             "--out", "s.csv"], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(3.0)   # well past the start-up (imports), where the handlers are installed
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["gdviz: interrupted (SIGINT); nothing was written"]
    assert list(tmp_path.iterdir()) == []
