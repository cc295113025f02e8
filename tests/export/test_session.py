"""Session files: the identical trajectory after a round trip; every kind of bad file refused
with a message and the window left exactly as it was."""

import json

import numpy as np
import pytest
from session_helpers import assert_refused_leaving_window_as_it_was  # tests/export is on sys.path

from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.export.session import (
    DEFAULT_COLOR,
    FORMAT,
    Session,
    SessionError,
    load_session,
    save_session,
)
from gdviz.gui.session_window import collect_session, open_session_file, save_session_file

LINREG = RunConfig(problem="linreg", optimizer="adam", lr=0.05, batch_size=10, seed=7,
                   settings={"n": 200}, max_epochs=2)


def _good() -> dict:
    return Session((RunSpec("linreg", "#ff8800", LINREG),), 0, 25,
                   {"learning_curve": {"log_box": False}}).to_dict()


def test_file_round_trip_keeps_everything(tmp_path):
    session = Session((RunSpec("a", DEFAULT_COLOR, LINREG),
                       RunSpec("b", "#00ff00", LINREG.with_changes(lr=0.1))),
                      1, 12, {"samples": {"param": "b", "zoom_box": True}})
    path = save_session(tmp_path / "s.gdviz.json", session)
    back = load_session(path)
    assert back == session
    assert [p.name for p in tmp_path.iterdir()] == ["s.gdviz.json"]


def test_window_round_trip_reproduces_the_trajectory(make_window, tmp_path, qtbot):
    first = make_window("wavy")
    first.editor.show_config(LINREG)
    first.controller.set_config(LINREG)
    first.controller.run_until(37)
    first.docks["histogram"].hide()
    first.views[2].log_box.setChecked(False)  # learning curve: linear axis
    path = save_session_file(first, tmp_path / "run.gdviz.json")
    saved = json.loads(path.read_text())
    assert saved["step"] == 37
    assert saved["views"]["docks"]["histogram"] is False

    second = make_window("wavy")
    open_session_file(second, path)
    h1, h2 = first.controller.history, second.controller.history
    assert second.controller.config == LINREG
    assert len(h2) == len(h1) == 38
    assert np.array_equal(h1.params, h2.params)  # bit for bit
    assert np.array_equal(h1.losses, h2.losses)
    assert second.docks["histogram"].isHidden()
    assert second.views[2].log_box.isChecked() is False
    assert collect_session(second).step == 37


BAD_FILES = {
    "not JSON": "this is not json",
    "truncated": json.dumps(_good())[:60],
    "empty": "",
    "a list": "[1, 2, 3]",
    "wrong format tag": json.dumps({**_good(), "format": "something-else"}),
    "no format tag": json.dumps({k: v for k, v in _good().items() if k != "format"}),
    "version 99": json.dumps({**_good(), "version": 99}),
    "version text": json.dumps({**_good(), "version": "1"}),
    "version 0": json.dumps({**_good(), "version": 0}),
    "missing runs": json.dumps({k: v for k, v in _good().items() if k != "runs"}),
    "empty runs": json.dumps({**_good(), "runs": []}),
    "run not an object": json.dumps({**_good(), "runs": [5]}),
    "config not an object": json.dumps({**_good(), "runs": [{"name": "x", "config": []}]}),
    "negative lr": json.dumps({**_good(), "runs": [
        {"name": "x", "config": {**LINREG.to_dict(), "lr": -1}}]}),
    "unknown problem": json.dumps({**_good(), "runs": [
        {"name": "x", "config": {**LINREG.to_dict(), "problem": "nope"}}]}),
    "unknown setting": json.dumps({**_good(), "runs": [
        {"name": "x", "config": {**LINREG.to_dict(), "speed": 3}}]}),
    "lr of the wrong type": json.dumps({**_good(), "runs": [
        {"name": "x", "config": {**LINREG.to_dict(), "lr": [1, 2]}}]}),
    "settings of the wrong type": json.dumps({**_good(), "runs": [
        {"name": "x", "config": {**LINREG.to_dict(), "settings": 5}}]}),
    "init of the wrong type": json.dumps({**_good(), "runs": [
        {"name": "x", "config": {**LINREG.to_dict(), "init": 3}}]}),
    "bad colour": json.dumps({**_good(), "runs": [
        {"name": "x", "color": "red", "config": LINREG.to_dict()}]}),
    "name a number": json.dumps({**_good(), "runs": [{"name": 3, "config": LINREG.to_dict()}]}),
    "selected out of range": json.dumps({**_good(), "selected": 3}),
    "selected true": json.dumps({**_good(), "selected": True}),
    "step negative": json.dumps({**_good(), "step": -1}),
    "step past the run": json.dumps({**_good(), "step": 10**9}),
    "step a float": json.dumps({**_good(), "step": 2.5}),
    "views a list": json.dumps({**_good(), "views": []}),
    "view choice an object": json.dumps({**_good(), "views": {"samples": {"param": {}}}}),
    "deeply nested": "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_bad_files_are_refused_with_a_sentence(tmp_path, name):
    path = tmp_path / "bad.gdviz.json"
    path.write_text(BAD_FILES[name], encoding="utf-8")
    with pytest.raises(SessionError) as info:
        load_session(path)
    message = str(info.value)
    assert "\n" not in message
    assert "bad.gdviz.json" in message


def test_binary_and_missing_files_are_refused(tmp_path):
    binary = tmp_path / "b.gdviz.json"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(SessionError, match="not text"):
        load_session(binary)
    with pytest.raises(SessionError, match="(?i)no such file"):
        load_session(tmp_path / "missing.gdviz.json")
    with pytest.raises(SessionError, match="folder"):
        load_session(tmp_path)


def test_future_version_says_to_update(tmp_path):
    path = tmp_path / "new.gdviz.json"
    path.write_text(json.dumps({**_good(), "version": 99}))
    with pytest.raises(SessionError, match="newer gdviz"):
        load_session(path)


def _state(window):
    c = window.controller
    return (c.config, len(c.history), c.history.params.tobytes(), c.state,
            {k: d.isHidden() for k, d in window.docks.items()},
            [v.log_box.isChecked() for v in window.views if hasattr(v, "log_box")])


def test_bad_files_leave_the_window_untouched(make_window, tmp_path):
    window = make_window("wavy")
    window.controller.run_until(9)
    assert_refused_leaving_window_as_it_was(window, BAD_FILES, tmp_path, _state)


def test_format_tag_constant():
    assert FORMAT == "gdviz-session"


# -- captions ----------------------------------------------------------------------------------
def test_captions_round_trip_and_a_file_without_them_still_loads(tmp_path):
    from gdviz.core.captions import CaptionScript

    script = CaptionScript.from_list([{"at_step": 2, "text": "two"},
                                      {"when": "ended", "text": "loss {loss:.3g}"}])
    session = Session((RunSpec("linreg", "#ff8800", LINREG),), 0, 3, {}, script)
    back = load_session(save_session(tmp_path / "c.gdviz.json", session))
    assert back.captions == script
    old = _good()
    assert "captions" not in old
    path = tmp_path / "old.gdviz.json"
    path.write_text(json.dumps(old))
    assert load_session(path).captions is None


@pytest.mark.parametrize(("captions", "why"), [
    ([{"when": "soon", "text": "x"}], "caption 1: unknown caption trigger 'soon'"),
    ([{"at_step": 1, "text": "x", "run": 1}], "names run 1"),
    ({"at_step": 1}, "captions must be a list"),
])
def test_bad_captions_in_a_session_are_refused_in_one_sentence(tmp_path, captions, why):
    data = {**_good(), "captions": captions}
    path = tmp_path / "bad.gdviz.json"
    path.write_text(json.dumps(data))
    with pytest.raises(SessionError, match="is not a usable gdviz session") as err:
        load_session(path)
    assert why in str(err.value)


def test_edited_captions_are_saved_with_the_window_and_come_back(make_window, tmp_path):
    from gdviz.core.captions import CaptionScript

    first = make_window("wavy")
    assert first.captions.script == first.preset.captions
    edited = CaptionScript.from_list([{"at_step": 0, "text": "my own first words"},
                                      {"at_step": 3, "text": "step three, loss {loss:.2f}"}])
    first.set_captions(edited)
    first.controller.run_until(4)
    path = save_session_file(first, tmp_path / "taught.gdviz.json")
    assert json.loads(path.read_text())["captions"] == edited.to_list()

    second = make_window("linreg")
    open_session_file(second, path)
    assert second.captions.script == edited
    loss = second.controller.history.losses[4]
    assert second.captions.text == f"step three, loss {loss:.2f}"
    assert second.captions.overlay.text() == second.captions.text
    second.show_step(1)
    assert second.captions.overlay.text() == "my own first words"
