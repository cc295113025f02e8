"""Loading a dataset from CSV: valid files, every malformed case refused with its line, and the
lessons (linreg, logistic, slope) built from a file."""

import os

import numpy as np
import pytest

from gdviz.core import file_read
from gdviz.core.errors import ConfigError
from gdviz.core.problems import csv_data, registry
from gdviz.core.problems.csv_data import load_csv


def make(name, settings=None, data_path=None):
    return registry.make_problem(name, settings, data_path)


def write(tmp_path, content, name="data.csv"):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return str(path)


# -- valid files -----------------------------------------------------------------------------------
def test_a_valid_file_gives_features_and_target(tmp_path):
    path = write(tmp_path, "x1,x2,y\n1,2,3\n4.5,-5e-1,6\n\n7, 8 ,9\n")
    data = load_csv(path)
    assert data.columns == ("x1", "x2", "y")
    assert data.feature_names == ("x1", "x2")
    assert data.target_name == "y"
    np.testing.assert_array_equal(data.x, [[1, 2], [4.5, -0.5], [7, 8]])
    np.testing.assert_array_equal(data.y, [3, 6, 9])
    assert data.lines.tolist() == [2, 3, 5]  # the blank line 4 is skipped
    assert data.n_rows == 3
    assert data.path == path
    assert not data.x.flags.writeable
    assert not data.y.flags.writeable
    assert data.x.dtype == np.float64


def test_excel_style_files_are_accepted(tmp_path):
    # a byte-order mark, CRLF line ends, quoted cells and a quoted header name with a comma
    path = write(tmp_path, b'\xef\xbb\xbf"size, m2",price\r\n"1.5",2\r\n3,"4"\r\n')
    data = load_csv(path)
    assert data.columns == ("size, m2", "price")
    np.testing.assert_array_equal(data.x[:, 0], [1.5, 3])
    np.testing.assert_array_equal(data.y, [2, 4])


# -- malformed files: each refused with the file and the line --------------------------------------
BAD_FILES = [
    ("semicolons", "x;y\n1;2\n3;4\n",
     "expected comma-separated values; line 1 has 1 column, did you use ';'\\?"),
    ("tabs", "x\ty\n1\t2\n", "line 1 has 1 column, did you use a tab\\?"),
    ("one column", "y\n1\n2\n", "line 1 has 1 column"),
    ("not a number", "x1,x2,y\n1,2,3\n1,2,3\n1,2,3\n1,2,3\n1,2,3\n1,abc,3\n",
     "line 7, column 'x2': 'abc' is not a number"),
    ("ragged short", "x,y\n1,2\n3\n", "line 3 has 1 column but the header \\(line 1\\) has 2"),
    ("ragged long", "x,y\n1,2\n3,4,5\n", "line 3 has 3 columns but the header \\(line 1\\) has 2"),
    ("ragged semicolon", "x,y\n1,2\n3;4\n", "line 3 has 1 column .* did you use ';'\\?"),
    ("empty", "", "the file is empty"),
    ("blank lines only", "\n \n\n", "the file is empty"),
    ("header only", "x,y\n", "header \\(line 1\\) but no data rows"),
    ("no header", "1,2\n3,4\n", "line 1 is all numbers.*header"),
    ("nan", "x,y\n1,2\n3,nan\n", "line 3, column 'y': 'nan' is not a finite number"),
    ("inf", "x,y\n-inf,2\n", "line 2, column 'x': '-inf' is not a finite number"),
    ("empty cell", "x,y\n1,2\n,4\n", "line 3, column 'x' is empty"),
    ("unnamed column", ",x,y\n0,1,2\n", "line 1: column 1 of the header has no name"),
    ("not utf-8", b"x,y\n1,2\n3,\xff4\n", "line 3 is not UTF-8"),
    ("excel workbook", b"PK\x03\x04\x14\x00\x06\x00", "line 1: .*Excel"),
    ("unclosed quote", 'x,y\n1,2\n"3,4\n', "line 3: not valid CSV"),
    ("nul byte", "x,y\n1,2\n3\x00,4\n", "line 3, column 'x'"),
]


@pytest.mark.parametrize(("content", "message"), [c[1:] for c in BAD_FILES],
                         ids=[c[0] for c in BAD_FILES])
def test_malformed_files_are_refused_with_their_line(tmp_path, content, message):
    path = write(tmp_path, content)
    with pytest.raises(ConfigError, match=message) as info:
        load_csv(path)
    assert path in str(info.value)
    if content.strip():
        assert "line " in str(info.value)


def test_a_missing_file_is_refused(tmp_path):
    path = str(tmp_path / "nowhere.csv")
    with pytest.raises(ConfigError, match="cannot read data file .*nowhere.csv"):
        load_csv(path)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read data file"):
        load_csv(str(tmp_path))


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can read any file")
def test_an_unreadable_file_is_refused(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n")
    os.chmod(path, 0)
    try:
        with pytest.raises(ConfigError, match="cannot read data file"):
            load_csv(path)
    finally:
        os.chmod(path, 0o600)


def test_a_file_that_cannot_be_opened_is_refused(tmp_path, monkeypatch):
    path = write(tmp_path, "x,y\n1,2\n")

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(file_read.os, "open", denied)
    with pytest.raises(ConfigError, match="cannot read data file .*: Permission denied"):
        load_csv(path)


def test_a_large_file_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    path = write(tmp_path, "x,y\n" + "1,2\n" * 1000)

    def no_open(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(file_read.os, "fdopen", no_open)
    message = "the file is 3.9 KiB, over the 1000 bytes limit"
    with pytest.raises(ConfigError, match=message) as info:
        load_csv(path, max_bytes=1000)
    assert path in str(info.value)
    assert csv_data.DEFAULT_MAX_BYTES == 100 * 2**20
    huge = tmp_path / "huge.csv"
    with open(huge, "wb") as handle:
        handle.truncate(3 * 2**30)     # a sparse file: 3 GiB long, no disk used
    with pytest.raises(ConfigError, match="the file is 3.0 GiB, over the 100.0 MiB limit"):
        load_csv(str(huge))


def test_too_many_cells_are_refused_at_their_line(tmp_path):
    path = write(tmp_path, "x,y\n" + "1,2\n" * 10)
    assert load_csv(path, max_cells=20).n_rows == 10
    with pytest.raises(ConfigError, match="line 5: the file holds more than 6 numbers"):
        load_csv(path, max_cells=6)


# -- lessons built from a file ---------------------------------------------------------------------
def test_linreg_from_csv(tmp_path):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(40, 3))
    y = x @ [1.0, -2.0, 0.5] + 3.0
    rows = "\n".join(",".join(f"{v:.17g}" for v in row) for row in np.column_stack([x, y]))
    path = write(tmp_path, "a,b,c,target\n" + rows + "\n")
    problem = make("linreg", {"n": 5}, data_path=path)  # n is ignored with a file
    assert problem.param_names == ("w1", "w2", "w3", "b")
    assert problem.n_samples == 40
    assert problem.data_columns == ("a", "b", "c", "target")
    assert problem.true_params is None
    np.testing.assert_array_equal(problem.default_init, np.zeros(4))
    (minimum,) = problem.minima
    np.testing.assert_allclose(minimum.params, [1.0, -2.0, 0.5, 3.0], atol=1e-10)
    assert minimum.loss == pytest.approx(0.0, abs=1e-20)
    lo, hi = problem.view_range[:, 0], problem.view_range[:, 1]
    for point in (np.zeros(4), np.array(minimum.params)):
        assert np.all(lo <= point)
        assert np.all(point <= hi)
    assert "data.csv" in problem.title
    assert path in problem.description


def test_slope_from_csv(tmp_path):
    path = write(tmp_path, "x,y\n1,2\n2,4.5\n3,5.5\n")
    problem = make("slope", data_path=path)
    assert problem.param_names == ("w",)
    assert problem.n_samples == 3
    x, y = np.array([1.0, 2, 3]), np.array([2, 4.5, 5.5])
    assert problem.minima[0].params[0] == pytest.approx(x @ y / (x @ x))
    assert problem.default_init.tolist() == [0.0]
    lo, hi = problem.view_range[0]
    assert lo <= 0.0 <= problem.minima[0].params[0] <= hi
    # the per-sample scaling uses the file's row count
    assert problem.sample_losses(np.array([0.0]), np.array([0]))[0] == pytest.approx(4 / 3)


def test_slope_needs_exactly_one_feature(tmp_path):
    path = write(tmp_path, "x1,x2,y\n1,2,3\n")
    with pytest.raises(ConfigError, match="exactly one feature column"):
        make("slope", data_path=path)


def test_logistic_from_csv(tmp_path):
    rng = np.random.default_rng(6)
    labels = np.repeat([0, 1], 20)
    x = rng.normal(size=(40, 2)) + 4 * labels[:, None]
    rows = "\n".join(f"{a:.17g},{b:.17g},{c}" for (a, b), c in zip(x, labels))
    path = write(tmp_path, "u,v,label\n" + rows + "\n")
    problem = make("logistic", {"test_fraction": 0.25, "seed": 3}, data_path=path)
    assert problem.param_names == ("w1", "w2", "b")
    assert problem.reduction == "sum"
    assert problem.n_samples == 30
    assert problem.extras["test_x"].shape == (10, 2)
    together = np.concatenate([problem.data_y, problem.extras["test_y"]])
    assert sorted(together.tolist()) == sorted(labels.tolist())
    assert 0.2 < problem.data_y.mean() < 0.8  # the sorted file was shuffled before the split
    np.testing.assert_array_equal(problem.default_init, np.zeros(3))
    assert problem.true_params is None
    other = make("logistic", {"test_fraction": 0.25, "seed": 4}, data_path=path)
    assert not np.array_equal(problem.data_x, other.data_x)


def test_logistic_targets_must_be_0_or_1(tmp_path):
    path = write(tmp_path, "x1,x2,y\n0,0,0\n1,1,1\n2,2,1\n3,3,2\n4,4,0\n")
    with pytest.raises(ConfigError, match="line 5: logistic targets must be 0 or 1, got 2"):
        make("logistic", data_path=path)


@pytest.mark.parametrize("name", ["wavy", "bowl"])
def test_families_without_csv_refuse_a_file(tmp_path, name):
    path = write(tmp_path, "x,y\n1,2\n")
    with pytest.raises(ConfigError, match="does not take a data file"):
        make(name, data_path=path)
