"""Caption scripts (core.captions): the format is validated, and each trigger fires at its
step or event on a real run's history."""

import numpy as np
import pytest

from gdviz.core.captions import (
    Caption,
    CaptionScript,
    active_caption,
    caption_text,
    fired_steps,
)
from gdviz.core.errors import ConfigError
from gdviz.core.history import RunHistory
from gdviz.core.lockstep import iterate_lockstep
from gdviz.core.presets import get_preset, list_presets
from gdviz.core.records import RunConfig
from gdviz.core.runner import run_to_end


def history_of(config: RunConfig) -> RunHistory:
    records = run_to_end(config)
    history = RunHistory(len(records[0].params))
    history.append(records)
    return history


def histories_of(configs) -> list[RunHistory]:
    groups = list(iterate_lockstep(configs))
    out = []
    for k in range(len(configs)):
        records = [g[k] for g in groups if g[k] is not None]
        history = RunHistory(len(records[0].params))
        history.append(records)
        out.append(history)
    return out


def texts(script, histories, selected=0):
    longest = max(len(h) for h in histories)
    return [caption_text(script, histories, selected, i) for i in range(longest)]


@pytest.fixture(scope="module")
def wavy():
    preset = get_preset("wavy")
    return preset, history_of(preset.config)


# -- the format ------------------------------------------------------------------------------
def test_a_script_round_trips_through_its_json_list():
    data = [{"at_step": 3, "text": "three"},
            {"when": "grad_norm_below", "value": 0.5, "run": 1, "hold": 4, "text": "flat"},
            {"when": "ended", "text": "done at {step}"}]
    script = CaptionScript.from_list(data)
    assert script.to_list() == data
    assert [c.trigger for c in script.captions] == ["at_step", "grad_norm_below", "ended"]


@pytest.mark.parametrize(("item", "message"), [
    ({"when": "sometimes", "text": "x"}, "unknown caption trigger 'sometimes'"),
    ({"at_step": 2}, "needs a text"),
    ({"at_step": -1, "text": "x"}, "whole number >= 0"),
    ({"at_step": 1.5, "text": "x"}, "whole number >= 0"),
    ({"when": "loss_below", "text": "x"}, "needs a value"),
    ({"when": "ended", "value": 1, "text": "x"}, "takes no value"),
    ({"when": "grad_norm_below", "value": 0, "text": "x"}, "must be > 0"),
    ({"at_step": 1, "when": "ended", "text": "x"}, "exactly one of"),
    ({"at_step": 1, "text": "the {weight}"}, "must be one of step, epoch"),
    ({"at_step": 1, "text": "x", "colour": "red"}, "unknown caption key(s): colour"),
    ({"at_step": 1, "text": "x", "hold": 0}, "hold must be a whole number >= 1"),
    ("text", "must be an object"),
])
def test_a_bad_caption_is_refused_with_its_number_and_reason(item, message):
    with pytest.raises(ConfigError) as err:
        CaptionScript.from_list([{"at_step": 0, "text": "fine"}, item])
    assert str(err.value).startswith("caption 2: ")
    assert message in str(err.value)


def test_a_caption_naming_a_run_the_comparison_lacks_is_refused():
    script = CaptionScript.from_list([{"when": "ended", "run": 3, "text": "x"}])
    with pytest.raises(ConfigError, match="names run 3"):
        script.check_runs(3)


# -- triggers on real runs --------------------------------------------------------------------
def test_at_step_shows_from_its_step_until_the_next_caption():
    history = history_of(RunConfig(problem="bowl", batch_size=None, max_steps=20))
    script = CaptionScript.from_list([{"at_step": 0, "text": "start"},
                                      {"at_step": 5, "text": "five"},
                                      {"at_step": 12, "text": "twelve", "hold": 3}])
    shown = texts(script, [history])
    assert shown[:5] == ["start"] * 5
    assert shown[5:12] == ["five"] * 7
    assert shown[12:15] == ["twelve"] * 3
    assert shown[15:] == [""] * 6  # held 3 steps, then nothing


def test_wavy_flat_stretches_fire_where_the_gradient_is_small_and_moving_again_after(wavy):
    preset, history = wavy
    norms = np.linalg.norm(history.grads, axis=1)
    flat, moved = preset.captions.captions[1], preset.captions.captions[2]
    assert flat.trigger == "grad_norm_below"
    assert moved.trigger == "moved_again"
    starts = fired_steps(flat, history, len(history))
    ends = fired_steps(moved, history, len(history), preset.captions.flat_threshold())
    assert len(starts) >= 1
    assert len(ends) == len(starts)
    for start, end in zip(starts, ends):
        assert np.all(norms[start:end] < flat.value)
        assert norms[start - 1] >= flat.value
        assert norms[end] >= flat.value
    shown = texts(preset.captions, [history])
    first = int(starts[0])
    assert shown[first].startswith("stuck on a flat stretch")
    assert shown[int(ends[0])].startswith("the next sample's curve")


def test_wavy_ends_near_the_global_minimum_with_its_current_loss(wavy):
    preset, history = wavy
    shown = texts(preset.captions, [history])
    last = history.batch_losses[-1]
    assert shown[-1] == (f"one pass done: the current sample's loss {last:.2f} is near the global "
                         "minimum -0.76")
    assert last == pytest.approx(-0.76, abs=0.01)
    before_the_end = active_caption(preset.captions, [history], 0, len(history) - 2)
    assert before_the_end.trigger != "ended"


def test_the_caption_at_a_step_is_the_same_while_playing_and_after_the_end(wavy):
    preset, history = wavy
    records = run_to_end(preset.config)
    partial = RunHistory(1)
    partial.append(records[:61])
    full = texts(preset.captions, [history])
    assert texts(preset.captions, [partial]) == full[:61]


def test_linreg_lr_5_caption_says_the_step_it_diverged_at():
    preset = get_preset("compare_linreg_lr")
    histories = histories_of([r.config for r in preset.runs])
    assert histories[1].status_at(len(histories[1]) - 1) == "diverged"
    shown = texts(preset.captions, histories)
    diverged_at = len(histories[1]) - 1
    assert diverged_at == 8
    assert shown[diverged_at] == ("lr 5 overshoots further every step: its loss passes 1e10 "
                                  "at step 8 and the run stops")
    assert shown[diverged_at - 1].startswith("three learning rates")
    assert shown[-1].startswith("after three epochs lr 0.002 is still far off")


def test_loss_below_fires_once_at_the_first_step_below():
    history = history_of(get_preset("linreg").config)
    caption = Caption("loss_below", "low", 0.01)
    fired = fired_steps(caption, history, len(history))
    first = int(np.flatnonzero(history.losses < 0.01)[0])
    assert fired.tolist() == [first]


def test_every_preset_caption_script_is_valid_and_every_lesson_has_one():
    for preset in list_presets():
        preset.captions.check_runs(max(1, len(preset.runs)))
        if preset.group == "lesson":
            assert len(preset.captions) >= 3, preset.name
