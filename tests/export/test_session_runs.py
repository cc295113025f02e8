"""Sessions of a comparison (several runs): opening one restores every run -- names, colours,
settings, the selected run -- replayed in lock-step to the saved step, trajectories identical to
the saved window's and to the runner's. The step saved is the lock-step index shown, not the
selected run's length; the export dialog's step range uses the lock-step index too."""

import json

import numpy as np
import pytest
from session_helpers import assert_refused_leaving_window_as_it_was  # tests/export is on sys.path

from gdviz.core.presets import get_preset
from gdviz.core.run_set import RunSpec
from gdviz.core.runner import run_to_end
from gdviz.export.session import DEFAULT_COLOR, Session, SessionError, load_session
from gdviz.gui.export_dialog import ExportDialog
from gdviz.gui.session_window import (
    collect_session,
    open_session_file,
    save_session_file,
    session_runs,
)

DIVERGES_AT = 8  # compare_linreg_lr: "lr 5 (diverges)" (run 1) diverges at step 8


def _runs(window):
    c = window.controller
    return [(r.name, r.color, r.config) for r in c.runs]


def _assert_same_trajectories(saved, opened, steps: int) -> None:
    """Every run of ``opened`` has exactly the history of the same run in ``saved``, which is
    the runner's (run_to_end on the run's config) cut at lock-step ``steps``."""
    c1, c2 = saved.controller, opened.controller
    assert len(c2.histories) == len(c1.histories)
    for k, (h1, h2) in enumerate(zip(c1.histories, c2.histories)):
        records = run_to_end(c2.runs[k].config)[: steps + 1]
        assert len(h2) == len(h1) == len(records), k
        assert np.array_equal(h2.params, h1.params), k  # bit for bit
        assert np.array_equal(h2.losses, h1.losses), k
        assert np.array_equal(h2.params, np.stack([r.params for r in records])), k
        assert np.array_equal(h2.losses, np.array([r.loss for r in records])), k


@pytest.mark.parametrize(("preset", "selected", "steps"), [
    ("compare_linreg_batch", 2, 40),
    ("compare_rosenbrock", 3, 60),
])
def test_comparison_round_trip_restores_every_run(make_window, tmp_path, preset, selected,
                                                  steps):
    first = make_window(preset)
    first.controller.select_run(selected)
    first.controller.run_until(steps)
    assert first.controller.last_index == steps
    path = save_session_file(first, tmp_path / "cmp.gdviz.json")
    saved = json.loads(path.read_text())
    n = len(get_preset(preset).runs)
    assert (len(saved["runs"]), saved["selected"], saved["step"]) == (n, selected, steps)

    second = make_window("wavy")  # a single run before: the comparison replaces it
    open_session_file(second, path)
    c1, c2 = first.controller, second.controller
    assert _runs(second) == _runs(first)
    assert [r.name for r in c2.runs] == [run.name for run in get_preset(preset).runs]
    assert c2.selected_track == selected
    assert c2.last_index == c2.shown_index == steps
    _assert_same_trajectories(first, second, steps)
    # the window follows, as after loading the preset: Runs panel, editor, tracks, timeline
    assert second.runs_panel.names() == [r.name for r in c1.runs]
    assert second.runs_panel.selected() == selected
    assert second.editor.config == c1.runs[selected].config
    assert [(t.name, t.color) for t in c2.tracks] == [(r.name, r.color) for r in c1.runs]
    assert second.run_label.isVisible()
    assert c1.runs[selected].name in second.run_label.text()
    assert getattr(second.preset, "name", None) == preset  # its title and lesson text
    assert get_preset(preset).title in second.problem_panel.lesson_label.text()
    assert (second.timeline.slider.value(), second.timeline.slider.maximum()) == (steps, steps)
    assert collect_session(second) == collect_session(first)  # saving again: the same file


def test_early_ending_selected_run_keeps_the_step_of_the_longest_run(make_window, tmp_path):
    first = make_window("compare_linreg_lr")
    first.controller.select_run(1)  # lr 5: diverges at step 8
    first.controller.run_until(50)
    c1 = first.controller
    assert len(c1.history) - 1 == DIVERGES_AT  # the selected run ended early ...
    assert c1.last_index == 50  # ... the others went on
    assert collect_session(first).step == 50
    path = save_session_file(first, tmp_path / "lr.gdviz.json")

    second = make_window("wavy")
    open_session_file(second, path)
    c2 = second.controller
    assert c2.selected_track == 1
    assert c2.last_index == 50
    assert [len(h) for h in c2.histories] == [51, DIVERGES_AT + 1, 51]
    assert c2.history.last.status == "diverged"
    _assert_same_trajectories(first, second, 50)
    assert second.runs_panel.ended_texts()[1] == f"diverged at {DIVERGES_AT}"


def test_the_step_saved_is_the_step_shown(make_window, tmp_path):
    """Dragged back on the timeline to step 20 of 50: the session opens at step 20, as the
    window showed it (the documented choice)."""
    first = make_window("compare_linreg_lr")
    first.controller.run_until(50)
    first.controller.show_index(20)
    path = save_session_file(first, tmp_path / "back.gdviz.json")
    assert json.loads(path.read_text())["step"] == 20

    second = make_window("wavy")
    open_session_file(second, path)
    c1, c2 = first.controller, second.controller
    assert c2.last_index == c2.shown_index == 20
    for k, h2 in enumerate(c2.histories):
        h1 = c1.histories[k]
        assert np.array_equal(h2.params, h1.params[: len(h2)])
        assert len(h2) == min(len(h1), 21)


def test_single_run_session_still_opens_as_one_run(make_window, tmp_path):
    first = make_window("wavy")
    first.controller.run_until(12)
    path = save_session_file(first, tmp_path / "one.gdviz.json")
    second = make_window("compare_linreg_lr")  # a comparison before: one run after
    open_session_file(second, path)
    c2 = second.controller
    assert len(c2.runs) == 1
    assert c2.config == first.controller.config
    assert c2.runs[0].name == first.controller.runs[0].name  # named from its settings
    assert np.array_equal(c2.history.params, first.controller.history.params)
    assert second.runs_panel.names() == [c2.runs[0].name]
    assert not second.run_label.isVisible()


def test_saved_names_are_kept_and_automatic_names_stay_automatic():
    preset = get_preset("compare_linreg_lr")
    name0, c0, c1, c2 = preset.runs[0].name, *(run.config for run in preset.runs)
    from gdviz.core.lockstep import default_run_name

    session = Session((RunSpec(name0, "#d55e00", c0),
                       RunSpec(default_run_name(c1), "#009e73", c1),
                       RunSpec("mine", "#AABBCC", c2)), 2, 5)
    runs = session_runs(session)
    assert [r.name for r in runs] == [name0, default_run_name(c1), "mine"]
    assert [r.color for r in runs] == ["#d55e00", "#009e73", "#AABBCC"]
    assert [r.named_by for r in runs] == ["preset", "auto", "preset"]
    # two runs with the same automatic name: both kept as saved
    twin = Session((RunSpec("x", DEFAULT_COLOR, c0), RunSpec("x", "#009e73", c0)))
    assert [r.name for r in session_runs(twin)] == ["x", "x"]


def _comparison(step: int = 30) -> dict:
    preset = get_preset("compare_linreg_lr")
    runs = tuple(RunSpec(run.name, color, run.config) for run, color in
                 zip(preset.runs, ("#1a3a8f", "#d55e00", "#009e73")))
    return Session(runs, 1, step, {"learning_curve": {"log_box": False}}).to_dict()


def _with_run(k: int, **changes) -> dict:
    data = _comparison()
    run = data["runs"][k]
    run.update({key: value for key, value in changes.items() if key != "config"})
    run["config"].update(changes.get("config", {}))
    return data


BAD_COMPARISONS = {
    "truncated": json.dumps(_comparison())[:300],
    "runs of different problems": json.dumps(_with_run(2, config={"problem": "wavy",
                                                                  "settings": {}})),
    "runs with different starts": json.dumps(_with_run(1, config={"init": [9.0, 9.0]})),
    "runs with different limits": json.dumps(_with_run(1, config={"max_steps": 7})),
    "seven runs": json.dumps({**_comparison(), "runs": _comparison()["runs"] * 2 + [
        _comparison()["runs"][0]]}),
    "third run has a negative lr": json.dumps(_with_run(2, config={"lr": -1})),
    "third run has a bad colour": json.dumps(_with_run(2, color="blue")),
    "third run not an object": json.dumps({**_comparison(),
                                           "runs": _comparison()["runs"][:2] + [3]}),
    "selected past the runs": json.dumps({**_comparison(), "selected": 3}),
    "step past the limit": json.dumps(_comparison(step=10**6)),
}


def test_comparison_fixture_is_valid(tmp_path):
    path = tmp_path / "good.gdviz.json"
    path.write_text(json.dumps(_comparison()))
    assert len(load_session(path).runs) == 3


@pytest.mark.parametrize("name", list(BAD_COMPARISONS))
def test_bad_comparison_files_are_refused(tmp_path, name):
    path = tmp_path / "bad.gdviz.json"
    path.write_text(BAD_COMPARISONS[name], encoding="utf-8")
    with pytest.raises(SessionError) as info:
        load_session(path)
    assert "bad.gdviz.json" in str(info.value)
    assert "\n" not in str(info.value)


def _state(window):
    c = window.controller
    return (_runs(window), c.selected_track, c.state, c.last_index, c.shown_index,
            [h.params.tobytes() for h in c.histories], window.preset,
            window.editor.config, window.runs_panel.names(),
            window.problem_panel.lesson_label.text(),
            {k: d.isHidden() for k, d in window.docks.items()},
            [v.log_box.isChecked() for v in window.views if hasattr(v, "log_box")])


def test_bad_comparison_files_leave_the_window_untouched(make_window, tmp_path):
    window = make_window("compare_linreg_batch")
    window.controller.select_run(2)
    window.controller.run_until(15)
    assert_refused_leaving_window_as_it_was(window, BAD_COMPARISONS, tmp_path, _state)


def test_export_dialog_range_uses_the_lock_step_index(make_window):
    window = make_window("compare_linreg_lr")
    window.controller.select_run(1)  # ends at step 8
    window.controller.run_until(50)
    c = window.controller
    assert len(c.history) - 1 == DIVERGES_AT
    dialog = ExportDialog(window)
    assert dialog.last.value() == c.last_index == 50  # not 8
    assert dialog.last.maximum() == dialog.first.maximum() == c.config.step_limit()
    assert c.last_index <= dialog.last.maximum()
    dialog.deleteLater()
