"""The one description of a run (RunSpec) and the rules of a comparison, without a window:
names follow the settings until the user names a run, colours are distinct palette colours,
1..MAX_RUNS runs sharing the problem, start point and limits."""

import pytest

from gdviz.core import run_set
from gdviz.core.errors import ConfigError
from gdviz.core.lockstep import MAX_RUNS, default_run_name
from gdviz.core.presets import get_preset
from gdviz.core.records import RunConfig
from gdviz.core.run_set import PALETTE, RunSpec

LINREG = RunConfig(problem="linreg", optimizer="sgd", lr=0.01, batch_size=10, max_steps=50)


def test_a_single_run_is_named_from_its_settings_in_the_first_colour():
    run = run_set.single(LINREG)
    assert (run.name, run.color, run.named_by) == (default_run_name(LINREG), PALETTE[0], "auto")
    assert run_set.single(LINREG, name="mine").named_by == "user"


def test_copies_get_unique_names_and_distinct_colours_up_to_the_limit():
    runs = (run_set.single(LINREG),)
    while len(runs) < MAX_RUNS:
        runs = run_set.add_copy(runs, 0)
    assert len({r.name for r in runs}) == MAX_RUNS
    assert {r.color for r in runs} == set(PALETTE)
    assert runs[1].name == f"{runs[0].name} (2)"
    with pytest.raises(ConfigError, match=f"at most {MAX_RUNS} runs"):
        run_set.add_copy(runs, 0)


def test_an_edit_shares_the_common_settings_and_renames_automatic_runs_only():
    runs = run_set.add_copy((run_set.single(LINREG),), 0)
    runs = run_set.renamed(runs, 1, "  my   run ")
    faster = LINREG.with_changes(lr=0.1, max_steps=80)
    runs = run_set.with_config(runs, 0, faster)
    assert [r.config.lr for r in runs] == [0.1, 0.01]  # the run's own setting
    assert [r.config.max_steps for r in runs] == [80, 80]  # a shared one reaches every run
    assert [r.name for r in runs] == [default_run_name(faster), "my run"]
    assert [r.named_by for r in runs] == ["auto", "user"]


def test_a_preset_name_is_kept_until_the_run_settings_change():
    preset = get_preset("compare_linreg_lr")
    runs = preset.runs
    assert all(isinstance(r, RunSpec) and r.named_by == "preset" for r in runs)
    assert [r.color for r in runs] == list(PALETTE[:len(runs)])
    same = run_set.with_config(runs, 0, runs[0].config)
    assert [r.name for r in same] == [r.name for r in runs]
    changed = run_set.with_config(runs, 0, runs[0].config.with_changes(seed=5))
    assert changed[0].named_by == "auto"
    assert changed[0].name == default_run_name(changed[0].config)
    assert [r.name for r in changed[1:]] == [r.name for r in runs[1:]]


def test_bad_comparisons_are_refused_with_a_sentence():
    one = (run_set.single(LINREG),)
    with pytest.raises(ConfigError, match="last run"):
        run_set.remove(one, 0)
    with pytest.raises(ConfigError, match="#rrggbb"):
        run_set.recolored(one, 0, "red")
    with pytest.raises(ConfigError, match="#rrggbb"):
        run_set.validate((RunSpec("a", "blue", LINREG),))
    with pytest.raises(ConfigError, match="needs a name"):
        run_set.validate((RunSpec(" ", PALETTE[0], LINREG),))
    assert run_set.recolored(one, 0, "#AABBCC")[0].color == "#aabbcc"


def test_a_preset_name_survives_edits_of_the_shared_settings():
    """Moving the start point or changing a limit in any run keeps every preset name (a
    teacher's names were lost on the next edit); the run whose own settings change gets the
    automatic name, a typed name is kept through everything."""
    runs = get_preset("compare_rosenbrock").runs
    moved = run_set.with_config(runs, 2, runs[2].config.with_changes(init=(0.5, 1.5),
                                                                     max_steps=300))
    assert [r.name for r in moved] == [r.name for r in runs]
    assert all(r.config.init == (0.5, 1.5) for r in moved)
    typed = run_set.renamed(moved, 1, "the teacher's run")
    faster = run_set.with_config(typed, 1, typed[1].config.with_changes(lr=0.002))
    assert faster[1].name == "the teacher's run"
    assert faster[1].named_by == "user"
    retuned = run_set.with_config(faster, 3, faster[3].config.with_changes(lr=0.02))
    assert retuned[3].named_by == "auto"
    assert [r.name for k, r in enumerate(retuned) if k != 3] == \
        [r.name for k, r in enumerate(faster) if k != 3]
