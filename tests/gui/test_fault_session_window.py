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


def _reader(window):
    from gdviz.gui.session_window import SessionReader

    return window.findChild(SessionReader)


@pytest.mark.parametrize("answer", ["Yes", "No"])
def test_open_session_asks_before_reading_outside_its_folder(qtbot, make_window, tmp_path,
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
    qtbot.waitUntil(lambda: bool(asked), timeout=10_000)     # read in the background, then asked
    assert len(asked) == 1
    assert "outside.csv" in asked[0]
    if answer == "Yes":
        qtbot.waitUntil(lambda: window.controller.last_index == 3, timeout=10_000)
        assert window.controller.config.data_path.endswith("outside.csv")
    else:
        assert not _reader(window).reading
        assert window.controller.config == before
    assert len(asked) == 1


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


def _choose(monkeypatch, path) -> None:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))


def test_open_session_reads_off_the_gui_thread_which_keeps_turning(qtbot, make_window,
                                                                   tmp_path, monkeypatch):
    """File > Open session reads the file in a background thread: while a slow file is being
    read (held here until the GUI thread has turned many times) the window's timers run, and
    once read the session is opened."""
    import threading

    from PySide6.QtCore import QTimer

    from gdviz.gui import session_window

    window = make_window("wavy")
    path = tmp_path / "s.gdviz.json"
    config = RunConfig(problem="booth", lr=0.01, max_steps=9)
    path.write_text(json.dumps({"format": "gdviz-session", "version": 2, "step": 4,
                                "runs": [{"name": "slow", "config": config.to_dict()}]}))
    ticks = [0]
    timer = QTimer()
    timer.setInterval(5)
    timer.timeout.connect(lambda: ticks.__setitem__(0, ticks[0] + 1))
    timer.start()
    release = threading.Event()
    seen = {}
    real_load = session_window.load_session

    def slow_load(*args, **kwargs):
        seen["main thread"] = threading.current_thread() is threading.main_thread()
        seen["ticks before"] = ticks[0]
        release.wait(20)          # a slow disk: the GUI thread must go on meanwhile
        seen["ticks during"] = ticks[0] - seen["ticks before"]
        return real_load(*args, **kwargs)

    monkeypatch.setattr(session_window, "load_session", slow_load)
    _choose(monkeypatch, path)
    window.export_actions["open_session"].trigger()
    assert _reader(window).reading
    qtbot.waitUntil(lambda: "ticks before" in seen and ticks[0] >= seen["ticks before"] + 20,
                    timeout=10_000)
    assert window.controller.config.problem == "wavy"   # nothing applied before it is read
    window.toolbar.act_step.trigger()                    # the window is usable meanwhile
    qtbot.waitUntil(lambda: window.controller.last_index == 1, timeout=10_000)
    release.set()
    qtbot.waitUntil(lambda: window.controller.config == config, timeout=10_000)
    qtbot.waitUntil(lambda: window.controller.last_index == 4, timeout=10_000)
    timer.stop()
    assert seen["main thread"] is False
    assert seen["ticks during"] >= 20
    assert "Opened session" in window.status.currentMessage()


@pytest.mark.parametrize("kind", ["fifo", "not json", "folder"])
def test_a_session_that_cannot_be_read_is_reported_and_changes_nothing(qtbot, make_window,
                                                                       tmp_path, monkeypatch,
                                                                       kind):
    import os

    window = make_window("wavy")
    path = tmp_path / "s.gdviz.json"
    if kind == "fifo":
        os.mkfifo(path)        # a read on the GUI thread would wait on it forever
    elif kind == "folder":
        path.mkdir()
    else:
        path.write_text("{not json")
    boxes = []
    monkeypatch.setattr(window, "show_message_box", lambda title, text: boxes.append(text))
    _choose(monkeypatch, path)
    before = window.controller.config
    window.export_actions["open_session"].trigger()
    qtbot.waitUntil(lambda: bool(boxes), timeout=10_000)
    assert not _reader(window).reading
    assert window.controller.config == before
    assert "s.gdviz.json" in boxes[0]
    assert "Session not opened" in window.status.currentMessage()
