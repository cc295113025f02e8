"""examples/: the CSV of each data problem and the comparison session work as the README uses
them, and they are what examples/make_examples.py writes."""

import importlib.util
from pathlib import Path

import pytest

from gdviz.cli.main import main
from gdviz.core.problems.registry import make_problem
from gdviz.export.session import load_session

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DATA = {"linreg": ("linreg.csv", 3), "logistic": ("logistic.csv", 3), "slope": ("slope.csv", 1)}


def test_the_files_are_what_the_script_writes(tmp_path):
    spec = importlib.util.spec_from_file_location("make_examples",
                                                  EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == ["compare_wavy.gdviz.json", "linreg.csv", "logistic.csv", "slope.csv"]
    for name in written:
        assert (tmp_path / name).read_bytes() == (EXAMPLES / name).read_bytes(), name


@pytest.mark.parametrize("problem", DATA)
def test_each_data_problem_runs_on_its_csv(problem, capsys):
    name, parameters = DATA[problem]
    data = EXAMPLES / name
    assert len(make_problem(problem, {}, str(data)).param_names) == parameters
    rows = data.read_text().count("\n") - 1
    assert 40 <= rows <= 100  # small
    code = main(["run", "--problem", problem, "--data", str(data), "--optimizer", "sgd",
                 "--lr", "0.0005" if problem == "slope" else "0.05", "--batch-size", "5",
                 "--epochs", "3", "--out", "-"])
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines[0].startswith("step,epoch,lr,loss")
    assert float(lines[-1].split(",")[3]) < float(lines[1].split(",")[3])  # it learns


def test_the_session_is_a_comparison_that_replays(tmp_path, capsys):
    session = load_session(EXAMPLES / "compare_wavy.gdviz.json")
    assert [r.name for r in session.runs] == ["SGD lr 0.01", "momentum 0.9", "Adam lr 0.01"]
    assert session.step == 100
    code = main(["run", "--session", str(EXAMPLES / "compare_wavy.gdviz.json"),
                 "--out", str(tmp_path / "trace.csv")])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "trace.csv").read_text().count("\n") == 102  # header + steps 0..100
