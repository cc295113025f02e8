"""The headless command line: run, problems, optimizers, and one-line errors with status 2."""

import csv
import io
import subprocess
import sys

import numpy as np
import pytest

from gdviz.cli.main import main
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _table(text):
    rows = list(csv.reader(io.StringIO(text)))
    return rows[0], np.array(rows[1:], dtype=float)


def test_run_writes_the_documented_columns_and_matches_the_runner(tmp_path, capsys):
    out = tmp_path / "t.csv"
    code, _, err = _run(["run", "--problem", "linreg", "--optimizer", "sgd", "--lr", "0.2",
                         "--batch-size", "10", "--schedule", "step:step_size=2,gamma=0.1",
                         "--epochs", "3", "--seed", "0", "--out", str(out)], capsys)
    assert code == 0
    assert err.strip().splitlines()[-1].startswith("finished after 300 steps")
    header, table = _table(out.read_text())
    assert header == ["step", "epoch", "lr", "loss", "batch_loss", "w1", "w2", "b",
                      "grad_w1", "grad_w2", "grad_b"]
    records = run_to_end(RunConfig(problem="linreg", optimizer="sgd", lr=0.2, batch_size=10,
                                   schedule="step",
                                   schedule_params={"step_size": 2, "gamma": 0.1},
                                   max_epochs=3, seed=0))
    assert table.shape == (301, 11)
    assert np.array_equal(table[:, 0], [r.step for r in records])
    assert np.array_equal(table[:, 5:8], np.array([r.params for r in records]))  # exact
    assert np.array_equal(table[:, 8:], np.array([r.grad for r in records]))
    assert table[0, 0] == 0
    assert np.array_equal(table[0, 5:8], records[0].params)


def test_run_to_stdout_hp_init_and_reproducibility(capsys):
    argv = ["run", "--problem", "rosenbrock", "--optimizer", "adam", "--lr", "0.05",
            "--hp", "betas=0.8,0.99", "--hp", "amsgrad=true", "--init", "-1.5,2", "--steps",
            "50", "--out", "-"]
    code, first, _ = _run(argv, capsys)
    code2, second, _ = _run(argv, capsys)
    assert code == code2 == 0
    assert first == second
    _, table = _table(first)
    assert table[0, 5:7].tolist() == [-1.5, 2.0]
    assert len(table) == 51


def test_run_reports_divergence_and_convergence(capsys):
    code, _, err = _run(["run", "--problem", "linreg", "--lr", "5", "--batch-size", "10",
                         "--epochs", "3", "--out", "-"], capsys)
    assert code == 0
    assert err.strip().splitlines()[-1].startswith("diverged at step")
    code, _, err = _run(["run", "--preset", "bowl", "--out", "-"], capsys)
    assert code == 0
    assert err.strip().splitlines()[-1].startswith("converged at step")


def test_run_with_a_preset_and_overrides(capsys):
    code, text, _ = _run(["run", "--preset", "slope", "--lr", "0.01", "--steps", "5",
                          "--out", "-"], capsys)
    _, table = _table(text)
    assert code == 0
    assert len(table) == 6
    assert np.allclose(table[1:, 2], 0.01)


def test_run_with_user_csv_data(tmp_path, capsys):
    data = tmp_path / "d.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 1))
    data.write_text("x,y\n" + "\n".join(f"{a},{3 * a + 1}" for a in x[:, 0]) + "\n")
    code, text, _ = _run(["run", "--problem", "linreg", "--data", str(data), "--lr", "0.1",
                          "--batch-size", "full", "--steps", "500", "--out", "-"], capsys)
    header, table = _table(text)
    assert code == 0
    assert header[5:7] == ["w1", "b"]
    assert table[-1, 5:7] == pytest.approx([3.0, 1.0], abs=1e-3)


def test_problems_and_optimizers_list_everything(capsys):
    code, out, _ = _run(["problems"], capsys)
    assert code == 0
    for name in ("wavy", "linreg", "logistic", "slope", "bowl", "rosenbrock", "himmelblau",
                 "rastrigin", "beale", "booth", "matyas", "saddle", "monkey-saddle",
                 "six-hump-camel", "ackley", "styblinski-tang"):
        assert f"\n{name}  " in "\n" + out
    assert "--set n=1000" in out
    assert "--set grad_noise=0" in out
    code, out, _ = _run(["optimizers"], capsys)
    assert code == 0
    for text in ("sgd", "adagrad", "rmsprop", "adam", "adamw", "--hp momentum=0",
                 "--hp nesterov=false", "--hp betas=0.9,0.999", "--hp amsgrad=false",
                 "--hp centered=false", "--hp lr_decay=0", "step:", "cosine:", "exponential:",
                 "nadam", "radam", "adamax", "adadelta", "rprop", "asgd", "adafactor",
                 "lion  Lion (not in torch.optim)", "lbfgs", "--hp line_search_fn=none",
                 "(torch.optim.LBFGS)", "warmup-cosine:", "onecycle:", "plateau:"):
        assert text in out


def test_run_takes_pytorch_lines_and_steps_the_schedule_every_step(capsys):
    code, out, _ = _run(["run", "--problem", "linreg", "--steps", "30", "--batch-size", "10",
                         "--torch", "opt = torch.optim.AdamW(model.parameters(), lr=3e-4, "
                                    "betas=(0.9, 0.95), weight_decay=0.1)",
                         "--torch", "torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.01, "
                                    "total_steps=30)",
                         "--schedule-every", "step", "--out", "-"], capsys)
    assert code == 0
    header, table = _table(out)
    config = RunConfig(problem="linreg", optimizer="adamw", lr=3e-4, batch_size=10,
                       hyperparams={"betas": (0.9, 0.95), "weight_decay": 0.1},
                       schedule="onecycle", schedule_params={"max_lr": 0.01, "total_steps": 30},
                       schedule_every="step", max_steps=30)
    records = run_to_end(config)
    assert np.array_equal(table[:, header.index("lr")], [r.lr for r in records])
    assert len(set(table[1:11, header.index("lr")])) == 10      # changes inside the epoch
    assert np.array_equal(table[:, header.index("w1")], [r.params[0] for r in records])


BAD_INPUTS = [
    (["run", "--problem", "nope", "--out", "-"], "unknown problem 'nope'"),
    (["run", "--problem", "wavy", "--optimizer", "bfgs", "--out", "-"], "unknown optimizer"),
    (["run", "--problem", "wavy", "--torch", "torch.optim.Adam(model.parameters(), lr=1/3)",
      "--out", "-"], "not an expression at column 41"),
    (["run", "--problem", "wavy", "--torch", "os.system('ls')", "--out", "-"],
     "os.system is not a torch.optim class gdviz knows"),
    (["run", "--problem", "wavy", "--torch", "torch.optim.SGD(p, lr=0.1)", "--lr", "0.2",
      "--out", "-"], "--torch already sets what --lr would"),
    (["run", "--problem", "wavy", "--optimizer", "adagrad", "--schedule", "onecycle",
      "--out", "-"], "set cycle_momentum=false"),
    (["run", "--problem", "wavy", "--schedule-every", "batch", "--out", "-"],
     "invalid choice: 'batch'"),
    (["run", "--problem", "wavy", "--lr", "abc", "--out", "-"], "learning rate must be a number"),
    (["run", "--problem", "wavy", "--lr", "-1", "--out", "-"],
     "learning rate must be a finite number > 0, got -1"),
    (["run", "--problem", "wavy", "--lr", "nan", "--out", "-"], "got nan"),
    (["run", "--problem", "wavy", "--lr", "inf", "--out", "-"], "got inf"),
    (["run", "--problem", "wavy", "--batch-size", "0", "--out", "-"],
     "batch size must be between 1 and 100"),
    (["run", "--problem", "wavy", "--batch-size", "101", "--out", "-"],
     "batch size must be between 1 and 100"),
    (["run", "--problem", "wavy", "--batch-size", "ten", "--out", "-"],
     "batch size must be a whole number"),
    (["run", "--problem", "linreg", "--init", "1,2", "--out", "-"], "start point needs 3 values"),
    (["run", "--problem", "wavy", "--init", "1,x", "--out", "-"], "start point must be a number"),
    (["run", "--problem", "wavy", "--hp", "momentum", "--out", "-"], "NAME=VALUE"),
    (["run", "--problem", "wavy", "--hp", "nesterov=true", "--out", "-"], "nesterov"),
    (["run", "--problem", "wavy", "--set", "n=0", "--out", "-"], "n must be at least 1"),
    (["run", "--problem", "wavy", "--schedule", "bogus", "--out", "-"], "schedule"),
    (["run", "--problem", "wavy", "--order", "random", "--out", "-"], "order must be one of"),
    (["run", "--problem", "wavy", "--epochs", "0", "--out", "-"], "at least 1"),
    (["run", "--problem", "wavy", "--data", "x.csv", "--out", "-"], "does not take a data file"),
    (["run", "--problem", "linreg", "--data", "/nonexistent/x.csv", "--out", "-"],
     "cannot read data file"),
    (["run", "--problem", "wavy", "--out", "/nonexistent/dir/t.csv"], "cannot write"),
    (["run", "--out", "-"], "--problem NAME or --preset NAME"),
    (["run", "--problem", "wavy"], "--out"),
    (["run", "--problem", "wavy", "--epochs", "1", "--steps", "2", "--out", "-"],
     "not allowed with"),
    (["frobnicate"], "invalid choice"),
    (["run", "--preset", "nope", "--out", "-"], "unknown preset 'nope'"),
]


@pytest.mark.parametrize(("argv", "message"), BAD_INPUTS)
def test_bad_input_prints_one_line_and_exits_2(argv, message, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse usage errors exit from inside parse_args
        code = exc.code
    out = capsys.readouterr()
    assert code == 2
    lines = out.err.strip().splitlines()
    assert len(lines) == 1, out.err
    assert lines[0].startswith("gdviz: error: ")
    assert message in lines[0]
    assert "Traceback" not in out.err


def test_malformed_csv_data_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,2\n3,abc\n")
    proc = subprocess.run([sys.executable, "-m", "gdviz", "run", "--problem", "linreg",
                           "--data", str(bad), "--out", "-"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "line 3" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_python_dash_m_gdviz_runs_the_cli():
    proc = subprocess.run([sys.executable, "-m", "gdviz", "run", "--problem", "booth",
                           "--steps", "3", "--out", "-"], capture_output=True, text=True)
    assert proc.returncode == 0
    assert proc.stdout.count("\n") == 5
    assert proc.stderr.strip() == "finished after 3 steps (3 epochs)"


def test_the_console_script_and_the_frozen_entry_run_the_same_main():
    import importlib
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    root = Path(__file__).resolve().parents[1]
    target = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]["gdviz"]
    module, _, name = target.partition(":")
    assert getattr(importlib.import_module(module), name) is main
    entry = (root / "build_scripts" / "gdviz_entry.py").read_text()
    assert f"from {module} import {name}" in entry


def test_custom_formula_from_the_command_line(tmp_path, capsys):
    data = tmp_path / "d.csv"
    data.write_text("x,y\n" + "\n".join(f"{x},{2 * x - 1}" for x in range(-5, 6)) + "\n")
    code, text, err = _run(["run", "--problem", "custom", "--expr", "(w*x + b - y)**2",
                            "--data", str(data), "--lr", "0.02", "--batch-size", "full",
                            "--steps", "2000", "--out", "-"], capsys)
    header, table = _table(text)
    assert code == 0
    assert header[5:7] == ["w", "b"]
    assert table[-1, 5:7] == pytest.approx([2.0, -1.0], abs=1e-3)


def test_custom_formula_errors_are_one_line(capsys):
    code, _, err = _run(["run", "--problem", "custom", "--expr", "__import__('os')",
                         "--out", "-"], capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert "position" in err
    code, _, err = _run(["run", "--problem", "wavy", "--expr", "w**2", "--out", "-"], capsys)
    assert code == 2
    assert "--expr needs --problem custom" in err


def test_help_says_what_a_comparison_preset_gives(capsys):
    """``run`` writes one trace (the help says so); ``export`` draws every run."""
    texts = {}
    for command in ("run", "export"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        texts[command] = " ".join(capsys.readouterr().out.split())
    assert "A comparison preset runs ONE run here" in texts["run"]
    assert "A comparison preset draws every run" in texts["export"]
    assert "A session of a comparison draws every run" in texts["export"]


def test_run_with_a_comparison_preset_runs_its_first_run(tmp_path):
    from gdviz.core.presets import get_preset
    from gdviz.core.runner import run_to_end

    out = tmp_path / "trace.csv"
    assert main(["run", "--preset", "compare_slope_lr", "--steps", "20", "--out", str(out)]) == 0
    first = get_preset("compare_slope_lr").runs[0].config.with_changes(max_steps=20,
                                                                        max_epochs=None)
    rows = out.read_text().splitlines()[1:]
    assert len(rows) == len(run_to_end(first))
    assert rows[-1].split(",")[0] == "20"
    assert float(rows[0].split(",")[2]) == first.lr != get_preset("compare_slope_lr").config.lr


@pytest.mark.parametrize("preset", ["wavy", "linreg", "logistic", "slope", "bowl",
                                    "slope_minibatch", "momentum_kappa100", "mlp_xor",
                                    "compare_rosenbrock"])
def test_run_writes_the_csv_of_the_runners_records_byte_for_byte(preset, capsys):
    """gdviz run computes and writes in blocks (core.run_blocks): the CSV is the one written
    record by record from runner.iterate, and the last line says the same."""
    from gdviz.cli.main import build_parser
    from gdviz.cli.options import config_from_args
    from gdviz.core.runner import iterate
    from gdviz.export.trace import write_records

    argv = ["run", "--preset", preset, "--steps", "700", "--out", "-"]
    code, out, err = _run(argv, capsys)
    assert code == 0
    config = config_from_args(build_parser().parse_args(argv))
    expected = io.StringIO()
    last = write_records(expected, config.make_problem().param_names, iterate(config))
    assert out == expected.getvalue()
    assert err.strip().splitlines()[-1] == last.message
