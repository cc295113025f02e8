"""A formula whose loss is NaN or infinite where the run goes prints no numpy RuntimeWarning:
not from the runner, the problem, the loss grids or any view (generated: formulas x views)."""

from __future__ import annotations

import pytest

from tests.faults.helpers import run_gdviz

NAN_FORMULAS = ["log(w*x)", "sqrt(w*x - 3)", "1/(w-b)", "w**0.5*x", "log(w)-log(b)",
                "(w*x)**-1", "exp(1000*w)*b", "0*log(w)"]


@pytest.mark.parametrize("expr", NAN_FORMULAS)
def test_no_runtime_warning_on_the_command_line(expr):
    proc = run_gdviz(["run", "--problem", "custom", "--expr", expr, "--steps", "50",
                      "--out", "-"])
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1  # only the status line


@pytest.mark.parametrize("view", ["window", "contour", "samples"])
def test_no_runtime_warning_in_an_export(tmp_path, view):
    for expr in NAN_FORMULAS[:4]:
        proc = run_gdviz(["export", "--problem", "custom", "--expr", expr, "--steps", "20",
                          "--frames", "3", "--size", "64x48", "--view", view,
                          "--out", "a.gif"], cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "Warning" not in proc.stderr, (expr, proc.stderr)
