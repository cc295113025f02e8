"""Parameter panels, the config editor's rules, the step math text, and the status bar."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
)

from gdviz.core.errors import ConfigError
from gdviz.core.optimizers import OPTIMIZERS
from gdviz.core.problems.registry import get_spec, problem_specs
from gdviz.core.records import RunConfig
from gdviz.core.runner import iterate
from gdviz.core.schedules import SCHEDULES
from gdviz.gui.panels.changes import apply_change
from gdviz.gui.panels.editor import ConfigEditor
from gdviz.gui.panels.optimizer import OptimizerPanel
from gdviz.gui.panels.problem import ProblemPanel
from gdviz.gui.panels.run import RunPanel
from gdviz.gui.panels.sampling import SamplingPanel
from gdviz.gui.panels.step_math import describe_batch, num, step_math_html

WAVY = RunConfig(problem="wavy", lr=0.01, batch_size=1, order="sequential", max_epochs=1,
                 init=(-0.3,))


@pytest.fixture
def editor(qtbot):
    panels = [ProblemPanel(), OptimizerPanel(), SamplingPanel(), RunPanel()]
    for panel in panels:
        qtbot.addWidget(panel)
    ed = ConfigEditor(panels, WAVY)
    changes = []
    ed.sig_config_changed.connect(changes.append)
    ed.changes = changes
    return ed


def text_of(html: str) -> str:
    from PySide6.QtGui import QTextDocument

    doc = QTextDocument()
    doc.setHtml(html)
    return doc.toPlainText()


# -- apply_change: the rules -----------------------------------------------------------------

def test_switching_problem_keeps_the_optimizer_and_fits_the_batch():
    config = WAVY.with_changes(batch_size=50, optimizer="adam", hyperparams={"eps": 1e-6})
    new = apply_change(config, ("problem",), "rosenbrock")
    assert new.problem == "rosenbrock"
    assert new.batch_size == 1  # one "sample"
    assert new.init is None
    assert new.optimizer == "adam"
    assert new.hyperparams["eps"] == 1e-6
    assert apply_change(WAVY.with_changes(batch_size=None), ("problem",), "linreg").batch_size \
        is None


def test_switching_optimizer_or_schedule_resets_their_parameters():
    config = WAVY.with_changes(hyperparams={"momentum": 0.9})
    new = apply_change(config, ("optimizer",), "rmsprop")
    assert dict(new.hyperparams) == {hp.name: hp.default
                                     for hp in OPTIMIZERS["rmsprop"].hyperparams}
    new = apply_change(config, ("schedule",), "step")
    assert new.schedule == "step"
    assert set(new.schedule_params) == {p.name for p in SCHEDULES["step"].params}


def test_typed_text_is_parsed_by_the_core():
    assert apply_change(WAVY, ("lr",), "0.5").lr == 0.5
    assert apply_change(WAVY, ("hyperparams", "momentum"), "0.9").hyperparams["momentum"] == 0.9
    assert apply_change(WAVY, ("init", 0), "0.25").init == (0.25,)
    assert apply_change(WAVY, ("init",), None).init is None
    assert apply_change(WAVY, ("init",), (0.1,)).init == (0.1,)
    assert apply_change(WAVY, ("max_steps",), "").max_steps is None
    assert apply_change(WAVY, ("tol",), "1e-4").tol == 1e-4
    assert apply_change(WAVY, ("tol",), None).tol is None
    assert apply_change(WAVY, ("full_batch",), True).batch_size is None
    assert apply_change(WAVY.with_changes(batch_size=None), ("full_batch",), False).batch_size \
        == 10
    both = apply_change(WAVY.with_changes(hyperparams={"dampening": 0.1}), ("lr_momentum",),
                        (0.02, 0.6))
    assert (both.lr, both.hyperparams["momentum"], both.hyperparams["dampening"]) == \
        (0.02, 0.6, 0.1)


@pytest.mark.parametrize(("key", "value", "words"), [
    (("lr",), "-1", "learning rate"),
    (("lr",), "fast", "learning rate must be a number"),
    (("batch_size",), 0, "batch size must be between 1 and 100"),
    (("hyperparams", "momentum"), "-0.5", "momentum"),
    (("hyperparams", "nesterov"), True, "nesterov"),
    (("lr_momentum",), (0.1, -0.5), "momentum"),
    (("settings", "n"), "0", "n"),
    (("init", 0), "nan", "start point"),
    (("seed",), -3, "seed"),
])
def test_invalid_edits_raise_the_cores_message(key, value, words):
    with pytest.raises(ConfigError, match=words):
        apply_change(WAVY, key, value)


# -- panels through the editor ---------------------------------------------------------------

def test_every_problem_shows_its_settings_as_fields(editor):
    panel = editor.panels[0]
    for spec in problem_specs():
        panel.combo.setCurrentIndex(panel.combo.findData(spec.name))
        assert editor.config.problem == spec.name
        shared = ("params", "init", "ranges", "columns") if spec.name == "custom" else ()
        for setting in spec.settings:
            field = panel.fields[("settings", setting.name)]
            if setting.name not in shared:  # the parameter table and the column list
                assert field.toolTip().startswith(setting.help.split("\n")[0][:20])
        assert (panel.custom is not None and not panel.custom.isHidden()) == \
            (spec.name == "custom")
        shown = {k for k in panel.fields if k[0] == "settings"}
        assert shown == {("settings", s.name) for s in spec.settings}
        assert panel.form.isRowVisible(panel.data_row) == (spec.accepts_csv and
                                                           spec.name != "custom")


def test_problem_combo_groups_families(editor):
    combo = editor.panels[0].combo
    headers = [combo.itemText(i) for i in range(combo.count()) if combo.itemData(i) is None]
    assert headers[:2] == ["Lessons", "Test functions"]
    model = combo.model()
    for i in range(combo.count()):
        if combo.itemData(i) is None:
            assert not model.item(i).isEnabled()


def test_every_optimizer_shows_typed_hyperparameter_fields(editor):
    panel = editor.panels[1]
    for name, spec in OPTIMIZERS.items():
        panel.combo.setCurrentIndex(panel.combo.findData(name))
        assert editor.config.optimizer == name
        keys = {k for k in panel.fields if k[0] == "hyperparams"}
        assert keys == {("hyperparams", hp.name) for hp in spec.hyperparams}
        for hp in spec.hyperparams:
            field = panel.fields[("hyperparams", hp.name)]
            assert isinstance(field, QCheckBox if hp.kind is bool else QLineEdit)
            assert hp.help[:20] in field.toolTip()
    panel.combo.setCurrentIndex(panel.combo.findData("adam"))
    betas = panel.fields[("hyperparams", "betas")]
    assert betas.text() == "0.9, 0.999"
    betas.setText("0.8, 0.99")
    betas.editingFinished.emit()
    assert editor.config.hyperparams["betas"] == (0.8, 0.99)
    amsgrad = panel.fields[("hyperparams", "amsgrad")]
    amsgrad.setChecked(True)
    assert editor.config.hyperparams["amsgrad"] is True


def test_schedule_parameters_appear_with_the_schedule(editor):
    panel = editor.panels[1]
    for name, spec in SCHEDULES.items():
        panel.schedule_combo.setCurrentIndex(panel.schedule_combo.findData(name))
        assert editor.config.schedule == name
        keys = {k for k in panel.fields if k[0] == "schedule_params"}
        assert keys == {("schedule_params", p.name) for p in spec.params}


def test_sampling_panel_full_batch_and_order(editor):
    panel = editor.panels[2]
    panel.full_check.setChecked(True)
    assert editor.config.batch_size is None
    assert not panel.batch_spin.isEnabled()
    assert "1 step per epoch" in panel.epoch_label.text()
    panel.full_check.setChecked(False)
    assert editor.config.batch_size == 10
    assert "10 steps per epoch" in panel.epoch_label.text()
    order = panel.fields[("order",)]
    order.setCurrentIndex(order.findData("replacement"))
    assert editor.config.order == "replacement"
    panel.seed_spin.setValue(7)
    assert editor.config.seed == 7


def test_run_panel_start_point_limits_and_tolerance(editor):
    panel = editor.panels[3]
    editor.panels[0].combo.setCurrentIndex(editor.panels[0].combo.findData("linreg"))
    names = get_spec("linreg").param_names or ("w1", "w2", "b")
    assert len([k for k in panel.fields if k[0] == "init"]) == len(names)
    field = panel.fields[("init", 2)]
    field.setText("1.5")
    field.editingFinished.emit()
    assert editor.config.init[2] == 1.5
    assert panel.default_button.isEnabled()
    panel.default_button.click()
    assert editor.config.init is None
    steps = panel.fields[("max_steps",)]
    steps.setText("250")
    steps.editingFinished.emit()
    assert editor.config.max_steps == 250
    panel.tol_check.setChecked(True)
    assert editor.config.tol == 1e-4
    panel.tol_field.setText("0.001")
    panel.tol_field.editingFinished.emit()
    assert editor.config.tol == 0.001
    panel.tol_check.setChecked(False)
    assert editor.config.tol is None


def test_invalid_edit_marks_the_field_and_keeps_the_config(editor):
    panel = editor.panels[1]
    before = editor.config
    panel.lr_field.setText("-1")
    panel.lr_field.editingFinished.emit()
    assert editor.config is before
    assert editor.changes == []
    assert panel.lr_field.property("invalid") is True
    assert "#d00000" in panel.lr_field.styleSheet()
    assert panel.error_text().startswith("Learning rate must be")
    assert editor.has_errors()
    panel.lr_field.setText("0.01")  # back to the valid value: the mark goes, nothing resets
    panel.lr_field.editingFinished.emit()
    assert not editor.has_errors()
    assert editor.changes == []


def test_load_csv_shows_the_file_name(qtbot, editor, tmp_path, monkeypatch):
    csv = tmp_path / "my_points.csv"
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2))
    y = x @ [1.0, -2.0] + 0.5
    csv.write_text("x1,x2,y\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(x, y)))
    panel = editor.panels[0]
    panel.combo.setCurrentIndex(panel.combo.findData("linreg"))
    assert panel.load_button.isVisible() or panel.form.isRowVisible(panel.data_row)
    from gdviz.gui.panels import problem as problem_module

    monkeypatch.setattr(problem_module.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(csv), "")))
    panel.load_button.click()  # the file is read in the background, then applied
    qtbot.waitUntil(lambda: editor.config.data_path == str(csv))
    assert panel.data_label.text() == "my_points.csv"
    assert editor.config.make_problem().n_samples == 40
    assert editor.config.batch_size <= 40
    panel.clear_button.click()
    assert editor.config.data_path is None


def test_every_control_has_a_tooltip(editor):
    for panel in editor.panels:
        for kind in (QLineEdit, QComboBox, QCheckBox, QSpinBox, QPushButton):
            for widget in panel.findChildren(kind):
                if widget.parent() is not None and isinstance(widget.parent(), QComboBox):
                    continue
                if kind is QLineEdit and isinstance(widget.parent(), QSpinBox):
                    continue
                assert widget.toolTip(), f"{type(panel).__name__}: {widget.objectName()}"


# -- step math -------------------------------------------------------------------------------

def first_steps(config: RunConfig, n: int = 1):
    records = iterate(config)
    return [next(records) for _ in range(n + 1)]


def test_sgd_update_is_written_out_with_its_numbers():
    start, step = first_steps(WAVY)
    problem = WAVY.make_problem()
    text = text_of(step_math_html(step, WAVY, problem))
    g = float(step.grad[0])
    expected = (f"w ← w − η·g = −0.3000 − 0.01·{'(' + num(g) + ')' if g < 0 else num(g)} = "
                f"{num(step.params[0])}")
    assert expected in text
    assert "sample 0: x = −5.0000" in text
    assert "step 1" in text
    assert "start point" in text_of(step_math_html(start, WAVY, problem))


@pytest.mark.parametrize(("optimizer", "hp", "formula"), [
    ("sgd", {"momentum": 0.9}, "w ← w − η·v"),
    ("sgd", {"momentum": 0.9, "nesterov": True}, "w ← w − η·(g + μ·v)"),
    ("adam", {}, "w ← w − η·m̂/(√v̂+ε)"),
    ("adamw", {"weight_decay": 0.0}, "w ← w − η·m̂/(√v̂+ε)"),
    ("adagrad", {}, "w ← w − η·g/(√G+ε)"),
    ("rmsprop", {}, "w ← w − η·g/(√v+ε)"),
    ("rmsprop", {"centered": True}, "w ← w + Δ"),
    ("adam", {"weight_decay": 0.1}, "w ← w + Δ"),
])
def test_other_optimizers_show_their_state_terms(optimizer, hp, formula):
    config = WAVY.with_changes(optimizer=optimizer, hyperparams=hp)
    records = first_steps(config, 3)
    text = text_of(step_math_html(records[-1], config, config.make_problem()))
    assert formula in text
    assert text.count("= ") >= 1
    assert "optimizer state after the step" in text
    assert num(records[-1].params[0]) in text


def test_batches_are_summarised():
    config = RunConfig(problem="linreg", batch_size=10, lr=0.1, seed=1)
    _, step = first_steps(config)
    text = describe_batch(step, config.make_problem())
    assert text.startswith("samples ")
    assert text.endswith("… (10)")
    full = config.with_changes(batch_size=None)
    _, step = first_steps(full)
    assert describe_batch(step, full.make_problem()) == "all 1000 samples (full batch)"
    rosen = RunConfig(problem="rosenbrock", max_steps=5)
    _, step = first_steps(rosen)
    assert describe_batch(step, rosen.make_problem()) == "the function itself (no data)"
    html = step_math_html(step, rosen, rosen.make_problem())
    assert "x ←" in text_of(html)
    assert "y ←" in text_of(html)


def test_switching_problem_takes_the_preset_limits_or_keeps_the_step_budget():
    from gdviz.gui.panels.changes import apply_change

    to_function = apply_change(WAVY, ("problem",), "rosenbrock")
    assert to_function.max_steps == 500  # the test function's preset
    assert to_function.max_epochs is None
    to_custom = apply_change(WAVY, ("problem",), "custom")
    assert to_custom.step_limit() == 100  # one wavy epoch = 100 steps, kept in steps
    to_bowl = apply_change(WAVY, ("problem",), "bowl")
    assert to_bowl.tol == 1e-4  # lesson 5 stops on its tolerance


def test_a_refusal_is_shown_under_its_field_until_fixed_and_the_tooltip_stays(window, qtbot):
    """In the core's words, directly under the field, saying what the run still uses."""
    panel = window.optimizer_panel
    field = panel.lr_field
    help_text = field.toolTip()
    field.setText("-1")
    field.editingFinished.emit()
    inline = panel.findChild(QLabel, "error_lr")
    assert inline is not None
    assert inline.isVisible()
    assert inline.text().startswith("Learning rate must be")
    assert "still uses the previous value (0.01)" in inline.text()
    # directly under the field: below it, above the next row
    assert 0 <= inline.geometry().top() - field.geometry().bottom() < 20
    assert field.toolTip() == help_text
    window.runs_panel.setFocus()              # other activity does not clear it
    qtbot.wait(20)
    assert inline.isVisible()
    field.setText("0.05")
    field.editingFinished.emit()
    assert not inline.isVisible()
    assert not panel.has_error()


@pytest.mark.parametrize(("optimizer", "hp", "formula", "state_word"), [
    ("rprop", {}, "w ← w − sign(g)·s", "per-parameter step sizes"),
    ("lion", {}, "w ← w − η·sign(β₁m + (1−β₁)g)", "average gradient"),
    ("nadam", {}, "w ← w − η·(a·g + b·m)/(√v̂+ε)", "mu_product"),
    ("adamax", {}, "w ← w − η/(1−β₁ᵗ)·m/u", "exp_inf"),
    ("radam", {}, "w ← w − η·m̂ (ρ_t = ", "exp_avg_sq"),
    ("adadelta", {}, "w ← w + Δ", "acc_delta"),
    ("asgd", {}, "w ← w + Δ", "averaged parameters"),
    ("adafactor", {}, "w ← w + Δ", "variance"),
    ("lbfgs", {"line_search_fn": "strong_wolfe"}, "w ← w + Δ", "curvature pairs remembered"),
])
def test_newer_optimizers_show_their_state(optimizer, hp, formula, state_word):
    config = WAVY.with_changes(optimizer=optimizer, hyperparams=hp, lr=0.01)
    records = first_steps(config, 3)
    text = text_of(step_math_html(records[-1], config, config.make_problem()))
    assert formula in text
    assert state_word in text
    assert num(records[-1].params[0]) in text
    if optimizer == "lbfgs":
        evals = records[-1].state["evals"]
        assert f"one torch step(closure): {evals} loss/gradient evaluations" in text


def test_a_pasted_pytorch_line_sets_the_optimizer_and_copy_gives_the_code(editor, qtbot):
    panel = editor.panels[1]
    panel.torch_field.setText("torch.optim.AdamW(model.parameters(), lr=3e-4, "
                              "betas=(0.9, 0.95), weight_decay=0.1)")
    panel.torch_field.editingFinished.emit()
    config = editor.config
    assert (config.optimizer, config.lr) == ("adamw", 3e-4)
    assert config.hyperparams["betas"] == (0.9, 0.95)
    assert panel.combo.currentData() == "adamw"
    assert panel.fields[("hyperparams", "weight_decay")].text() == "0.1"
    assert panel.torch_field.text() == ""
    panel.torch_field.setText("torch.optim.lr_scheduler.StepLR(opt, 3, gamma=0.5)")
    panel.torch_field.editingFinished.emit()
    assert editor.config.schedule == "step"
    panel.every_combo.setCurrentIndex(panel.every_combo.findData("step"))
    assert editor.config.schedule_every == "step"
    code = panel.copy_as_pytorch()
    assert QApplication.clipboard().text() == code
    assert "torch.optim.AdamW(model.parameters(), lr=0.0003, betas=(0.9, 0.95), " \
           "weight_decay=0.1)" in code
    assert "StepLR(optimizer, step_size=3, gamma=0.5)" in code
    assert "after every optimizer step" in code
    panel.torch_field.setText("torch.optim.AdamW(model.parameters(), lr=eval('1'))")
    panel.torch_field.editingFinished.emit()
    assert panel.has_error()
    assert "at column 42" in panel.error_text()
    assert editor.config.optimizer == "adamw"


def test_a_cycled_momentum_is_shown_and_used_in_the_formula():
    config = WAVY.with_changes(optimizer="sgd", hyperparams={"momentum": 0.9},
                               schedule="onecycle", schedule_every="step", max_epochs=None,
                               max_steps=50)
    records = first_steps(config, 5)
    record = records[-1]
    assert 0.85 < record.state["cycled_momentum"] < 0.95
    text = text_of(step_math_html(record, config, config.make_problem()))
    assert "momentum (or β₁) the schedule set for this step" in text
    assert "w ← w − η·v" in text                      # the formula holds with that momentum
    assert f"μ = {record.state['cycled_momentum']:g}" in text


def test_radam_shows_its_rectified_step_once_rho_exceeds_5():
    config = WAVY.with_changes(optimizer="radam", hyperparams={}, lr=0.001)
    records = first_steps(config, 8)
    text = text_of(step_math_html(records[-1], config, config.make_problem()))
    assert "w ← w − η·r·m̂·√(1−β₂ᵗ)/(√v+ε)" in text
    assert num(records[-1].params[0]) in text


def test_a_schedule_that_cycles_momentum_turns_it_off_for_an_optimizer_without_one():
    config = WAVY.with_changes(optimizer="adagrad", hyperparams={})
    new = apply_change(config, ("schedule",), "onecycle")
    assert new.schedule_params["cycle_momentum"] is False
    back = apply_change(new, ("optimizer",), "adam")
    assert back.schedule_params["cycle_momentum"] is False      # kept as the user saw it
    adam = apply_change(config.with_changes(optimizer="adam", hyperparams={}), ("schedule",),
                        "cyclic")
    assert adam.schedule_params["cycle_momentum"] is True
    switched = apply_change(adam, ("optimizer",), "rprop")
    assert switched.schedule_params["cycle_momentum"] is False


def test_run_panel_initialisation_scheme_draws_the_start_from_the_runs_seed(editor):
    from gdviz.core.init_schemes import init_point

    panel = editor.panels[3]
    editor.panels[0].combo.setCurrentIndex(editor.panels[0].combo.findData("linreg"))
    combo = panel.scheme_combo
    assert combo.currentData() == ""  # the problem's default start: "values typed"
    problem = editor.config.make_problem()
    for scheme in ("zeros", "normal", "xavier", "kaiming"):
        combo.activated.emit(combo.findData(scheme))
        expected = tuple(init_point(problem, scheme, editor.config.seed).tolist())
        assert editor.config.init == expected
        assert combo.currentData() == scheme
        assert [float(panel.fields[("init", i)].text()) for i in range(3)] == \
            pytest.approx(expected)
    drawn = editor.config.init
    seed = editor.panels[2].fields[("seed",)]
    seed.setValue(5)
    assert editor.config.seed == 5
    assert editor.config.init == drawn  # the values are kept ...
    assert combo.currentData() == ""  # ... and no longer the scheme's draw for this seed
    field = panel.fields[("init", 0)]
    field.setText("0.25")
    field.editingFinished.emit()
    assert editor.config.init[0] == 0.25
    assert combo.currentData() == ""


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_step_math_of_a_network_writes_out_the_parameters_that_moved_most(optimizer):
    """105 parameters: the panel writes out the SHOWN_PARAMS with the largest |update| (their
    formulas, gradient and state entries) and says how many it leaves out."""
    from gdviz.gui.panels.step_math import SHOWN_PARAMS

    config = RunConfig(problem="mlp", settings={"layers": "8,8", "dataset": "spiral"},
                       optimizer=optimizer, lr=0.05, batch_size=10, max_steps=40)
    problem = config.make_problem()
    record = list(iterate(config))[7]
    names = problem.param_names
    moved = np.abs(record.params - record.params_before)
    largest = set(np.argsort(-moved)[:SHOWN_PARAMS])
    text = text_of(step_math_html(record, config, problem))
    updated = [line.split("←")[0].strip() for line in text.splitlines() if "←" in line]
    assert len(updated) == SHOWN_PARAMS
    assert {names.index(n) for n in updated} == largest
    assert f"the {SHOWN_PARAMS} of {len(names)} parameters that moved most" in text
    assert f"… ({len(names) - SHOWN_PARAMS} more)" in text
    smallest = names[int(np.argmin(moved))]
    assert f"{smallest} ←" not in text
    assert f"{smallest}:" not in text


def test_step_math_of_a_few_parameters_writes_out_every_one():
    record = list(iterate(RunConfig(problem="rosenbrock", lr=0.001, max_steps=3)))[2]
    config = RunConfig(problem="rosenbrock", lr=0.001, max_steps=3)
    text = text_of(step_math_html(record, config, config.make_problem()))
    assert "more)" not in text
    assert sum("←" in line for line in text.splitlines()) == 2
