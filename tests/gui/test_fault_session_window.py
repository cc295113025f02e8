"""File > Open session in the window: a session naming data outside its folder is opened only
after the user confirms; refused, the window is left as it was. Names from the file are shown
escaped."""

from __future__ import annotations

import json

import pytest

from gdviz.core.records import RunConfig

DATA = "x,y\n" + "".join(f"{i / 10},{2 * i / 10 + 1}\n" for i in range(20))


def _session_outside(tmp_path, name="lesson"):
    folder = tmp_path / "lesson"
    folder.mkdir()
    (tmp_path / "outside.csv").write_text(DATA)
    config = RunConfig(problem="slope", max_steps=7).to_dict()
    config["data_path"] = "../outside.csv"
    path = folder / "s.gdviz.json"
    path.write_text(json.dumps({"format": "gdviz-session", "version": 2,
                                "runs": [{"name": name, "config": config}], "step": 3}))
    return path


@pytest.mark.parametrize("answer", ["Yes", "No"])
def test_open_session_asks_before_reading_outside_its_folder(make_window, tmp_path,
                                                             monkeypatch, answer):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    window = make_window("wavy")
    path = _session_outside(tmp_path)
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda parent, title, text, *a: asked.append(text)
        or getattr(QMessageBox.StandardButton, answer)))
    before = window.controller.config
    window.export_actions["open_session"].trigger()
    assert len(asked) == 1
    assert "outside.csv" in asked[0]
    if answer == "Yes":
        assert window.controller.config.data_path.endswith("outside.csv")
        assert window.controller.last_index == 3
    else:
        assert window.controller.config == before


def test_a_run_name_with_escape_codes_reaches_the_window_escaped(make_window, tmp_path):
    from gdviz.gui.session_window import open_session_file

    window = make_window("wavy")
    path = tmp_path / "s.gdviz.json"
    config = RunConfig(problem="booth", max_steps=5).to_dict()
    runs = [{"name": "a\x1b[2Jb\u202e", "config": config},
            {"name": "c", "color": "#d55e00", "config": {**config, "lr": 0.002}}]
    path.write_text(json.dumps({"format": "gdviz-session", "version": 2, "runs": runs}))
    open_session_file(window, path)
    names = [run.name for run in window.controller.runs]
    assert names[0] == "a\\x1b[2Jb\\u202e"


def test_load_csv_reads_the_file_off_the_gui_thread(qtbot, make_window, tmp_path,
                                                    monkeypatch):
    """Load CSV… reads the file in a background thread; a file that is not usable (here a
    FIFO, which a read on the GUI thread would wait on forever) is refused inline."""
    import os
    import threading

    from gdviz.core.problems import csv_data
    from gdviz.gui.panels import problem as problem_module

    window = make_window("linreg")
    panel = window.problem_panel
    readers = []
    real_load = csv_data.load_csv

    def spy(path, *args, **kwargs):
        readers.append(threading.current_thread() is threading.main_thread())
        return real_load(path, *args, **kwargs)

    monkeypatch.setattr(csv_data, "load_csv", spy)
    monkeypatch.setattr("gdviz.core.problems.lessons.load_csv", spy)
    good = tmp_path / "points.csv"
    good.write_text(DATA)
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    chosen = [str(fifo)]
    monkeypatch.setattr(problem_module.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (chosen[0], "")))
    panel.load_button.click()
    qtbot.waitUntil(panel.has_error, timeout=10_000)
    assert "pipe" in panel.error_label.text()
    assert window.controller.config.data_path is None
    chosen[0] = str(good)
    panel.load_button.click()
    qtbot.waitUntil(lambda: window.controller.config.data_path == str(good), timeout=10_000)
    assert readers
    assert not any(readers), "a CSV was read on the GUI thread"
