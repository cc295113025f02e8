"""Files read: only regular files, never past a limit, never blocking; sessions carry their
data, may not reach outside their folder, and never quote a file the user did not choose.

Every kind of file that is not a regular file is thrown at every entry point that reads one
(generated: kinds x entry points), each in a child process with a timeout: a hang fails."""

from __future__ import annotations

import json
import os
import socket

import numpy as np
import pytest

from gdviz.core.errors import ConfigError
from gdviz.core.file_read import open_regular
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.export import session as session_module
from gdviz.export.session import (
    DataOutsideError,
    Session,
    SessionError,
    load_session,
    save_session,
)
from tests.faults.helpers import assert_one_line, run_gdviz

DATA = "x,y\n" + "".join(f"{i / 10},{3 * i / 10 + 1}\n" for i in range(30))


def _not_files(tmp_path):
    """name -> a path that is not a regular file."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    return {"fifo": fifo, "socket": sock, "dev_zero": "/dev/zero",
            "dev_urandom": "/dev/urandom", "folder": tmp_path, "tty_like": "/dev/null"}, server


ENTRY_POINTS = {
    "run --data": lambda p: ["run", "--problem", "linreg", "--data", p, "--out", "-"],
    "run --session": lambda p: ["run", "--session", p, "--out", "-"],
    "export --data": lambda p: ["export", "--problem", "slope", "--data", p, "--out", "x.gif"],
    "export --session": lambda p: ["export", "--session", p, "--out", "x.gif"],
}


@pytest.mark.parametrize("entry", sorted(ENTRY_POINTS))
def test_what_is_not_a_regular_file_is_refused_at_once(tmp_path, entry):
    paths, server = _not_files(tmp_path)
    try:
        for kind, path in paths.items():
            proc = run_gdviz(ENTRY_POINTS[entry](str(path)), cwd=tmp_path, timeout=60)
            assert proc.returncode == 2, (kind, proc.stderr)
            line = assert_one_line(proc.stderr)
            assert "cannot read" in line, (kind, line)
    finally:
        server.close()


def test_a_session_naming_a_fifo_as_its_data_is_refused(tmp_path):
    config = RunConfig(problem="slope", max_steps=5).to_dict()
    os.mkfifo(tmp_path / "data.csv")
    config["data_path"] = "data.csv"
    path = tmp_path / "s.gdviz.json"
    path.write_text(json.dumps({"format": "gdviz-session", "version": 2,
                                "runs": [{"name": "r", "config": config}]}))
    proc = run_gdviz(["run", "--session", path, "--out", "-"], timeout=60)
    assert proc.returncode == 2
    assert "data file" in assert_one_line(proc.stderr)


def test_the_size_limit_holds_while_reading_a_growing_file(tmp_path):
    path = tmp_path / "grows.csv"
    path.write_text("x,y\n")
    with open_regular(path, "data file", 1000) as reader:
        with open(path, "a") as writer:  # written after the size was checked
            writer.write("1,2\n" * 1000)
        with pytest.raises(ConfigError, match="over the 1000 bytes limit"):
            list(reader.lines())
    with open_regular(path, "data file", 10**6) as reader, open(path, "a") as writer:
        writer.write("1,2\n" * 10**6)
        with pytest.raises(ConfigError, match="over the 976.6 KiB limit"):
            reader.read()


# -- sessions carry their data ---------------------------------------------------------------
def _session_with_data(tmp_path, data_name="mine.csv", text=DATA, **config):
    data = tmp_path / data_name
    data.write_text(text)
    cfg = RunConfig(problem="slope", data_path=str(data), max_steps=20, batch_size=3,
                    **config)
    return Session((RunSpec("mine", "#1a3a8f", cfg),)), cfg


def _params(records):
    return np.array([r.params for r in records])


def test_a_session_carries_its_data_and_replays_identically(tmp_path, monkeypatch):
    monkeypatch.setenv("GDVIZ_CACHE_DIR", str(tmp_path / "cache"))
    session, cfg = _session_with_data(tmp_path)
    saved = tmp_path / "s.gdviz.json"
    save_session(saved, session)
    data = json.loads(saved.read_text())
    assert data["version"] == 2
    assert data["runs"][0]["config"]["data_path"] is None
    assert data["runs"][0]["data"]["csv"] == DATA
    expected = _params(run_to_end(cfg))
    (tmp_path / "mine.csv").unlink()  # the session works without the original file
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    moved = elsewhere / "s.gdviz.json"
    saved.rename(moved)
    loaded = load_session(moved)
    assert np.array_equal(_params(run_to_end(loaded.run.config)), expected)
    # saved again from the loaded session: the same data is embedded again
    save_session(elsewhere / "t.gdviz.json", loaded)
    again = json.loads((elsewhere / "t.gdviz.json").read_text())
    assert again["runs"][0]["data"]["csv"] == DATA
    proc = run_gdviz(["run", "--session", moved, "--out", "-"])
    assert proc.returncode == 0, proc.stderr


def test_big_data_goes_by_a_path_relative_to_the_session(tmp_path, monkeypatch):
    monkeypatch.setattr(session_module, "EMBED_MAX_BYTES", 100)
    session, cfg = _session_with_data(tmp_path / "", data_name="big.csv")
    save_session(tmp_path / "s.gdviz.json", session)
    data = json.loads((tmp_path / "s.gdviz.json").read_text())
    assert "data" not in data["runs"][0]
    assert data["runs"][0]["config"]["data_path"] == "big.csv"
    expected = _params(run_to_end(cfg))
    moved = tmp_path / "moved"
    moved.mkdir()
    for name in ("s.gdviz.json", "big.csv"):
        (tmp_path / name).rename(moved / name)
    loaded = load_session(moved / "s.gdviz.json")
    assert np.array_equal(_params(run_to_end(loaded.run.config)), expected)


def _session_naming(tmp_path, data_path, version=2):
    config = RunConfig(problem="slope", max_steps=5).to_dict()
    config["data_path"] = data_path
    path = tmp_path / "s.gdviz.json"
    path.write_text(json.dumps({"format": "gdviz-session", "version": version,
                                "runs": [{"name": "r", "config": config}]}))
    return path


def test_data_outside_the_session_folder_needs_consent(tmp_path):
    folder = tmp_path / "lesson"
    folder.mkdir()
    (tmp_path / "outside.csv").write_text(DATA)
    os.symlink(tmp_path / "outside.csv", folder / "link.csv")
    outside = [str(tmp_path / "outside.csv"), "../outside.csv", "link.csv",
               "./sub/../../outside.csv", "/etc/passwd"]
    for version in (1, 2):
        for data_path in outside:
            path = _session_naming(folder, data_path, version)
            with pytest.raises(DataOutsideError, match="outside the session's folder"):
                load_session(path)
            proc = run_gdviz(["run", "--session", path, "--out", "-"])
            assert proc.returncode == 2
            assert "--allow-outside-data" in assert_one_line(proc.stderr)
        path = _session_naming(folder, "../outside.csv", version)
        assert load_session(path, allow_outside_data=True).run.config.make_problem()
        proc = run_gdviz(["run", "--session", path, "--allow-outside-data", "--out", "-"])
        assert proc.returncode == 0, proc.stderr


def test_errors_never_quote_a_file_the_session_names(tmp_path):
    folder = tmp_path / "lesson"
    folder.mkdir()
    secrets = {"cells.csv": "x,y\nSECRET_TOKEN_1,2\n",
               "header.csv": "SECRET_TOKEN_1\n1\n",
               "ragged.csv": "x,y\n1,2,SECRET_TOKEN_1\n",
               "binary.csv": "SECRET_TOKEN_1\x00\xff"}
    for name, text in secrets.items():
        (folder / name).write_text(text, errors="surrogateescape")
        path = _session_naming(folder, name)
        with pytest.raises(SessionError) as info:
            load_session(path)
        assert "SECRET" not in str(info.value)
        proc = run_gdviz(["run", "--session", path, "--out", "-"])
        assert proc.returncode == 2
        assert "SECRET" not in proc.stderr
    proc = run_gdviz(["run", "--session", _session_naming(folder, "/etc/shadow"),
                      "--allow-outside-data", "--out", "-"])
    assert proc.returncode == 2
    assert "root:" not in proc.stderr
    # a file the user chose: its errors may point at the cell
    proc = run_gdviz(["run", "--problem", "slope", "--data", folder / "cells.csv",
                      "--out", "-"])
    assert proc.returncode == 2
    assert "SECRET_TOKEN_1" in proc.stderr


def test_old_sessions_still_open(tmp_path):
    (tmp_path / "d.csv").write_text(DATA)
    path = _session_naming(tmp_path, str(tmp_path / "d.csv"), version=1)
    assert load_session(path).run.config.make_problem().n_samples == 30
