"""The network from the command line: ``gdviz run --problem mlp`` and ``gdviz landscape`` (the
NPZ and CSV it writes), bad input as one line with status 2."""

from __future__ import annotations

import io
from dataclasses import replace

import numpy as np
import pytest

from gdviz.cli.main import main
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end

RUN = ["--problem", "mlp", "--set", "layers=4", "--set", "n=80", "--optimizer", "adam",
       "--lr", "0.05", "--batch-size", "8", "--steps", "30", "--seed", "2"]


def _config():
    return RunConfig(problem="mlp", settings={"layers": "4", "n": 80}, optimizer="adam",
                     lr=0.05, batch_size=8, max_steps=30, seed=2)


def test_run_writes_torch_parameter_names_and_the_runner_trajectory(capsys):
    assert main(["run", *RUN, "--out", "-"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = lines[0].split(",")
    assert header[5:10] == ["W1_0_0", "W1_0_1", "W1_1_0", "W1_1_1", "W1_2_0"]
    assert header[5 + 8:5 + 13] == ["b1_0", "b1_1", "b1_2", "b1_3", "W2_0_0"]
    assert len(lines) == 32
    last = np.array(lines[-1].split(",")[5:22], dtype=float)
    np.testing.assert_array_equal(last, run_to_end(_config())[-1].params)


def test_npz_holds_the_grid_plane_and_projected_path(tmp_path, capsys):
    out = tmp_path / "land.npz"
    code = main(["landscape", *RUN, "--directions", "pca", "--center", "start", "--grid", "7",
                 "--span", "0.5", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0
    assert "landscape 7x7 (pca)" in err
    assert str(out) in err
    data = np.load(out)
    config = _config()
    problem = config.make_problem()
    path = np.array([r.params for r in run_to_end(config)])
    assert data["losses"].shape == (7, 7)
    np.testing.assert_array_equal(data["center"], path[0])
    assert data["losses"][3, 3] == float(problem.loss(path[0]))
    assert tuple(data["param_names"]) == problem.param_names
    assert str(data["kind"]) == "pca"
    assert data["explained"].shape == (2,)
    np.testing.assert_array_equal(data["path_step"], np.arange(31))
    np.testing.assert_allclose(data["path_loss"], problem.loss(path), rtol=1e-14)
    assert data["path_distance"][0] == pytest.approx(0.0, abs=1e-12)


def test_csv_has_its_header_lines_then_grid_and_path_rows(tmp_path, capsys):
    out = tmp_path / "land.csv"
    assert main(["landscape", *RUN, "--grid", "5", "--out", str(out)]) == 0
    capsys.readouterr()
    lines = out.read_text(encoding="utf-8").splitlines()
    meta = [line for line in lines if line.startswith("#")]
    assert [m.split(":")[0] for m in meta] == ["# kind", "# parameters", "# center",
                                               "# direction_a", "# direction_b"]
    center = np.array(meta[2].split(": ")[1].split(","), dtype=float)
    problem = _config().make_problem()
    table = [line.split(",") for line in lines[len(meta) + 1:]]
    assert lines[len(meta)] == "part,run,step,a,b,loss,surface_loss,distance"
    grid = [row for row in table if row[0] == "grid"]
    path = [row for row in table if row[0] == "path"]
    assert len(grid) == 25
    assert len(path) == 31
    middle = [row for row in grid if float(row[3]) == 0.0 and float(row[4]) == 0.0]
    assert float(middle[0][5]) == float(problem.loss(center))
    np.testing.assert_array_equal(np.genfromtxt(io.StringIO(out.read_text()), delimiter=",",
                                                comments="#", skip_header=len(meta) + 1,
                                                usecols=5).shape, (56,))


@pytest.mark.parametrize(("extra", "words"), [
    (["--directions", "sideways"], "--directions must be random, pca or params"),
    (["--directions", "params:W1_0_0,x"], "no parameter 'x'"),
    (["--center", "-1,2"], "--center needs start, end or 17 values"),
    (["--grid", "0"], "--grid must be between 2"),
    (["--grid", "many"], "--grid must be a whole number"),
    (["--span", "-2"], "--span must be a finite number > 0"),
    (["--set", "layers=2.5"], "layers must be whole numbers"),
    (["--set", "activation=swish"], "activation must be one of"),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, capsys, extra, words):
    out = tmp_path / "x.npz"
    assert main(["landscape", *RUN, *extra, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("gdviz: error:")
    assert words in err
    assert not out.exists()


def test_out_must_be_npz_or_csv(tmp_path, capsys):
    assert main(["landscape", *RUN, "--out", str(tmp_path / "x.png")]) == 2
    assert "--out must end in .npz or .csv" in capsys.readouterr().err


def test_a_comparison_session_gives_every_run_and_pca_their_shared_plane(tmp_path, capsys):
    from gdviz.core.presets import get_preset
    from gdviz.export.session import Session, save_session

    runs = tuple(replace(run, config=run.config.with_changes(max_steps=40))
                 for run in get_preset("mlp_xor").runs)
    path = save_session(tmp_path / "xor.gdviz.json", Session(runs, selected=1))
    out = tmp_path / "xor.npz"
    assert main(["landscape", "--session", str(path), "--directions", "pca", "--grid", "5",
                 "--out", str(out)]) == 0
    capsys.readouterr()
    data = np.load(out)
    assert np.bincount(data["path_run"]).tolist() == [41, 41]
    adam = np.array([r.params for r in run_to_end(runs[1].config)])  # the selected run first
    np.testing.assert_array_equal(data["center"], adam[-1])
    np.testing.assert_allclose(data["path_loss"][:41], runs[1].config.make_problem().loss(adam),
                               rtol=1e-14)
    assert 0.5 < data["explained"].sum() <= 1.0


def test_a_diverged_run_is_refused_in_one_line_not_a_traceback(tmp_path, capsys):
    code = main(["landscape", "--problem", "linreg", "--lr", "1e300", "--steps", "50",
                 "--grid", "5", "--out", str(tmp_path / "d.npz")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.count("\n") == 1
    assert "the run diverged" in captured.err
    assert captured.out == ""
