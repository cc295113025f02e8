"""The custom problem's formula editor, parameter table, data choice and saved formulas."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QCheckBox, QComboBox, QLineEdit, QPushButton, QToolButton

from gdviz.core.formula import FormulaError, parse_formula
from gdviz.core.records import RunConfig
from gdviz.gui.formula_presets import KEY, FormulaStore
from gdviz.gui.panels.editor import ConfigEditor
from gdviz.gui.panels.formula_analysis import formula_changes, pretty
from gdviz.gui.panels.optimizer import OptimizerPanel
from gdviz.gui.panels.problem import ProblemPanel
from gdviz.gui.panels.run import RunPanel
from gdviz.gui.panels.sampling import SamplingPanel
from gdviz.gui.settings import AppSettings
from gdviz.gui.tasks import TaskRunner, running_threads

CUSTOM = RunConfig(problem="custom", lr=0.05, batch_size=5, max_steps=200)


def slow(k: int) -> str:
    """A formula the core refuses after ~1 s (its time budget). Each test uses its own ``k``:
    sympy caches what it derived, so a formula seen before may pass the second time."""
    return "exp(w*" * 45 + f"(w + {k})" + ")" * 45  # depth 24 is borderline (~1 s)


@pytest.fixture
def editor(qtbot):
    panels = [ProblemPanel(), OptimizerPanel(), SamplingPanel(), RunPanel()]
    for panel in panels:
        qtbot.addWidget(panel)
    ed = ConfigEditor(panels, CUSTOM)
    ed.changes = []
    ed.sig_config_changed.connect(ed.changes.append)
    ed.formula = panels[0].formula_editor
    panels[0].show()
    yield ed
    for panel in panels:
        panel.close()


def type_formula(qtbot, formula_editor, text: str) -> None:
    box = formula_editor.text_box
    box.clear()
    qtbot.keyClicks(box, text)


def wait_analysed(qtbot, fe) -> None:
    qtbot.waitUntil(lambda: not fe.timer.isActive() and not fe.worker.busy, timeout=15000)


# -- pure parts ------------------------------------------------------------------------------

def test_gradient_text_is_made_readable():
    assert pretty("-400*p*(-p**2 + q) + 2*p - 2") == "−400·p·(−p² + q) + 2·p − 2"
    assert pretty("x**(a + 1)") == "x^(a + 1)"
    assert pretty("3*x**12") == "3·x¹²"


def test_formula_changes_keep_or_clear_what_no_longer_fits():
    s = {"params": "", "init": "", "ranges": "", "expr": "(w*x + b - y)**2"}
    assert formula_changes(s, ("w", "b"), "(b + w*x - y)**2", ("b", "w"), False) == \
        [("expr", "(b + w*x - y)**2")]
    assert formula_changes({**s, "init": "1, 2"}, ("w", "b"), "b + w", ("b", "w"), True) == \
        [("params", "w, b"), ("expr", "b + w")]
    assert formula_changes({**s, "params": "b, w", "init": "1, 2"}, ("b", "w"), "a*w + b",
                           ("a", "w", "b"), True) == \
        [("params", ""), ("init", ""), ("expr", "a*w + b")]


# -- live validation -------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["w*x +", "__import__('os')", "exp(w", "w**1000",
                                  "w + + * 2", "eval(w)", "sqrt(-1)*w"])
def test_invalid_formula_is_underlined_where_the_error_is(qtbot, editor, text):
    fe = editor.formula
    before = editor.config
    with pytest.raises(FormulaError) as caught:
        parse_formula(text)
    err = caught.value
    type_formula(qtbot, fe, text)
    assert fe.error is not None
    assert fe.error.offset == err.offset
    selections = fe.text_box.extraSelections()
    assert len(selections) == 1
    cursor = selections[0].cursor
    # an error past the end (the formula stops too early) marks the last character
    assert cursor.selectionStart() == min(err.offset, len(text) - 1)
    assert cursor.selectionEnd() - cursor.selectionStart() == \
        max(1, min(err.length, len(text) - cursor.selectionStart()))
    assert selections[0].format.underlineStyle().name == "WaveUnderline"
    assert err.reason in fe.message.text()
    assert f"Position {err.position}" in fe.message.text()
    assert "c00000" in fe.message.styleSheet()
    assert not fe.apply_button.isEnabled()
    qtbot.keyClick(fe.text_box, Qt.Key.Key_Return)   # Enter: nothing is applied
    fe.apply_button.click()
    assert not fe.timer.isActive()   # never analysed either
    assert not fe.worker.busy
    assert editor.changes == []
    assert editor.config is before
    type_formula(qtbot, fe, "(w*x + b - y)**2")       # fixed: the mark goes
    assert fe.text_box.extraSelections() == []
    assert fe.error is None


def test_valid_formula_shows_parameters_then_gradient_and_preview(qtbot, editor):
    fe = editor.formula
    type_formula(qtbot, fe, "(a*x + c - y)**2")
    assert fe.message.text().startswith("Parameters: a, c; data columns: x, y")  # at once
    assert fe.timer.isActive()            # the gradient waits for the typing to pause
    qtbot.waitUntil(lambda: "∂ℓ/∂a" in fe.gradient.text(), timeout=15000)
    assert fe.gradient_lines == ("∂ℓ/∂a = 2·x·(a·x + c − y)", "∂ℓ/∂c = 2·(a·x + c − y)")
    assert "2·(a·x + c − y)</td>" in fe.gradient.text()
    assert "∂ℓ/∂a = 2*x*(a*x + c - y)" in fe.gradient.toolTip()
    assert fe.analysis.param_names == ("a", "c")
    xs, ys = fe.curve.getData()
    assert len(xs) > 50
    assert len(ys) == len(xs)
    assert "Loss at the start (a = 0, c = 0)" in fe.preview_label.text()
    assert fe.apply_button.isEnabled()
    assert editor.changes == []           # shown, not applied


def test_typing_never_waits_for_sympy(qtbot, editor):
    fe = editor.formula
    fe.text_box.setPlainText(slow(1))
    fe.start_analysis()                   # the ~1 s build runs now, in the background
    assert fe.worker.busy
    fe.text_box.moveCursor(QTextCursor.MoveOperation.End)
    started = time.perf_counter()
    qtbot.keyClicks(fe.text_box, " + 1")
    # the background build takes > 1 s by construction: typing that waited for it would not
    # finish in under 0.9 s, typing that does not wait does (with room for a loaded machine)
    assert time.perf_counter() - started < 0.9
    assert fe.message.text().startswith("Parameters: w")
    fe.text_box.setPlainText(slow(2))
    qtbot.waitUntil(lambda: "takes longer than" in fe.message.text(), timeout=20000)
    assert fe.error is not None
    assert not fe.apply_button.isEnabled()
    fe.submit()
    assert editor.changes == []


def test_a_formula_that_parses_but_cannot_be_built_says_why_inline(qtbot, editor):
    fe = editor.formula
    type_formula(qtbot, fe, "w/(w - w)")
    assert fe.error is None               # it parses
    qtbot.keyClick(fe.text_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "undefined or complex" in fe.message.text(), timeout=15000)
    assert fe.error is not None
    assert editor.changes == []
    assert editor.config.settings["expr"] == CUSTOM.settings["expr"]


# -- applying --------------------------------------------------------------------------------

def test_enter_applies_a_formula_once_it_has_built(qtbot, editor):
    fe = editor.formula
    run_panel = editor.panels[3]
    type_formula(qtbot, fe, "(a*x**2 + b*x + c - y)**2")
    qtbot.keyClick(fe.text_box, Qt.Key.Key_Return)   # before the analysis: applied when ready
    qtbot.waitUntil(lambda: len(editor.changes) == 1, timeout=15000)
    config = editor.changes[0]
    assert config.problem == "custom"
    assert config.settings["expr"] == "(a*x**2 + b*x + c - y)**2"
    assert config.make_problem().param_names == ("a", "b", "c")
    assert len([k for k in run_panel.fields if k[0] == "init"]) == 3   # start point follows
    assert editor.panels[0].param_table.names == ("a", "b", "c")
    assert not fe.apply_button.isEnabled()
    fe.submit()                                       # same text again: nothing new
    assert len(editor.changes) == 1


def test_reordering_parameters_changes_the_config_and_keeps_start_values(qtbot, editor):
    panel = editor.panels[0]
    table = panel.param_table
    assert table.names == ("w", "b")
    table.table.item(1, 1).setText("2.5")             # start of b
    assert editor.config.settings["init"] == "0, 2.5"
    table.table.selectRow(1)
    assert table.up_button.isEnabled()
    assert not table.down_button.isEnabled()
    table.up_button.click()
    config = editor.config
    assert config.settings["params"] == "b, w"
    assert config.make_problem().param_names == ("b", "w")
    assert tuple(config.start_point()) == (2.5, 0.0)  # the value moved with its name
    assert table.names == ("b", "w")
    assert table.selected_name() == "b"
    table.table.item(0, 2).setText("-1 : 4")          # view range of b
    assert tuple(config.make_problem().view_range[0]) != (-1.0, 4.0)
    assert tuple(editor.config.make_problem().view_range[0]) == (-1.0, 4.0)
    table.table.item(1, 1).setText("oops")            # refused by the core, shown
    assert panel.has_error()
    assert "init" in panel.error_text()


def test_csv_columns_are_chosen_in_a_checkable_list(qtbot, editor, tmp_path, monkeypatch):
    csv = tmp_path / "points.csv"
    rows = [f"{i / 10},{i % 3},{(-1) ** i},{2 * i / 10 + 1}" for i in range(30)]
    csv.write_text("x,x2,noise,y\n" + "\n".join(rows) + "\n")
    panel = editor.panels[0]
    from gdviz.gui.panels import problem as problem_module

    monkeypatch.setattr(problem_module.QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(csv), "")))
    combo = panel.source_combo
    combo.activated.emit(combo.findData("csv"))  # read in the background, then applied
    qtbot.waitUntil(lambda: editor.config.data_path == str(csv))
    assert combo.currentData() == "csv"
    columns = panel.column_list
    assert columns.checked() == ("x", "x2", "noise", "y")
    columns.set_checked("noise", False)
    columns.set_checked("x2", False)
    assert editor.config.settings["columns"] == "x, y"
    problem = editor.config.make_problem()
    assert problem.data_columns == ("x", "y")
    assert problem.n_samples == 30
    assert columns.summary.text() == "features: x → target: y"
    combo.activated.emit(combo.findData("none"))      # back to no data: the file is dropped
    assert editor.config.data_path is None
    assert editor.config.settings["columns"] == ""
    assert editor.config.settings["data_expr"] == ""
    assert editor.config.make_problem().param_names == ("w", "x", "b", "y")
    combo.activated.emit(combo.findData("formula"))
    assert editor.config.settings["data_expr"].startswith("y = 2*x + 1")


def test_every_custom_control_has_a_tooltip(editor):
    panel = editor.panels[0]
    for kind in (QLineEdit, QComboBox, QCheckBox, QPushButton, QToolButton):
        for widget in panel.custom.findChildren(kind):
            if isinstance(widget.parent(), QComboBox):
                continue
            assert widget.toolTip(), widget.objectName()


# -- in the window ---------------------------------------------------------------------------

def to_custom(qtbot, window) -> None:
    combo = window.problem_panel.combo
    combo.setCurrentIndex(combo.findData("custom"))
    assert window.controller.config.problem == "custom"


def test_invalid_formula_never_reaches_the_controller(qtbot, window):
    to_custom(qtbot, window)
    resets = []
    window.controller.sig_run_reset.connect(lambda *a: resets.append(a))
    before = window.controller.config
    fe = window.problem_panel.formula_editor
    type_formula(qtbot, fe, "w*x +")
    qtbot.keyClick(fe.text_box, Qt.Key.Key_Return)
    qtbot.wait(50)
    assert resets == []
    assert window.controller.config is before


def test_applied_formula_resets_the_run_in_the_window(qtbot, window):
    to_custom(qtbot, window)
    window.controller.step(3)
    qtbot.waitUntil(lambda: len(window.controller.history) >= 4, timeout=10000)
    fe = window.problem_panel.formula_editor
    type_formula(qtbot, fe, "(p*x + q - y)**2 + 0.1*p**2")
    fe.apply_button.click()
    qtbot.waitUntil(lambda: window.controller.config.settings["expr"].startswith("(p*x"),
                    timeout=15000)
    assert window.controller.problem.param_names == ("p", "q")
    assert len(window.controller.history) <= 1        # back at step 0
    window.controller.step(2)
    qtbot.waitUntil(lambda: len(window.controller.history) >= 3, timeout=10000)


def test_saved_formulas_appear_in_the_presets_menu(qtbot, window, isolated_settings,
                                                   monkeypatch):
    menu = window.formula_menu
    presets = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Presets")
    assert menu.save_action in presets.actions()
    assert menu.submenu.menuAction() in presets.actions()
    menu.refresh()
    assert not menu.save_action.isEnabled()           # the window opens on a lesson
    to_custom(qtbot, window)
    fe = window.problem_panel.formula_editor
    type_formula(qtbot, fe, "(m*x + k - y)**2")
    fe.submit()
    qtbot.waitUntil(lambda: window.editor.config.settings["expr"] == "(m*x + k - y)**2",
                    timeout=15000)
    window.problem_panel.param_table.table.selectRow(1)
    window.problem_panel.param_table.up_button.click()
    saved_settings = dict(window.editor.config.settings)
    from gdviz.gui import formula_presets

    monkeypatch.setattr(formula_presets.QInputDialog, "getText",
                        staticmethod(lambda *a, **k: ("my line", True)))
    menu.refresh()
    assert menu.save_action.isEnabled()
    menu.save_action.trigger()
    assert "my line" in menu.actions_by_name()
    window.load_preset("wavy")
    assert window.controller.config.problem == "wavy"
    menu.actions_by_name()["my line"].trigger()
    config = window.controller.config
    assert config.problem == "custom"
    assert dict(config.settings) == saved_settings
    assert config.make_problem().param_names == ("k", "m")
    assert window.problem_panel.formula_editor.text_box.text() == "(m*x + k - y)**2"
    # stored in the settings file: a fresh store reads it; corrupt entries are skipped
    qs = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    raw = json.loads(qs.value(KEY))
    raw["formulas"] += [{"name": "broken", "settings": {"n": "many"}}, "junk", {"name": 3}]
    qs.setValue(KEY, json.dumps(raw))
    qs.sync()
    store = FormulaStore(AppSettings(isolated_settings))
    assert [e.name for e in store.all()] == ["my line"]
    yes = formula_presets.QMessageBox.StandardButton.Yes
    monkeypatch.setattr(formula_presets.QMessageBox, "question",
                        staticmethod(lambda *a, **k: yes))
    assert menu.delete("my line")
    assert "my line" not in menu.actions_by_name()


def test_a_saved_formula_whose_data_file_is_gone_says_so(qtbot, window, tmp_path):
    csv = tmp_path / "gone.csv"
    csv.write_text("x,y\n1,2\n2,4\n3,6\n")
    store = FormulaStore(window.settings)
    store.save("with data", {"expr": "(w*x - y)**2"}, str(csv))
    csv.unlink()
    menu = window.formula_menu
    before = window.controller.config
    assert not menu.load("with data")
    assert "gone.csv is missing" in window.statusBar().currentMessage()
    assert window.controller.config is before


def test_corrupt_store_is_ignored(isolated_settings):
    qs = QSettings(str(isolated_settings), QSettings.Format.IniFormat)
    for corrupt in ("{not json", json.dumps({"formulas": {"a": 1}})):
        qs.setValue(KEY, corrupt)
        qs.sync()
        assert FormulaStore(AppSettings(isolated_settings)).all() == []


def test_closing_while_the_gradient_is_derived_leaves_no_thread(qtbot, window):
    to_custom(qtbot, window)
    fe = window.problem_panel.formula_editor
    fe.text_box.setPlainText(slow(3))
    fe.start_analysis()
    assert fe.worker.busy
    window.close()
    assert running_threads() == []


def test_opening_the_problem_list_prepares_the_custom_problem(qtbot):
    panel = ProblemPanel()
    qtbot.addWidget(panel)
    editor = ConfigEditor([panel], RunConfig(problem="wavy"))
    panel.show()
    direct = Qt.FindChildOption.FindDirectChildrenOnly
    assert panel.findChild(TaskRunner, options=direct) is None
    panel.combo.showPopup()                   # sympy starts loading in the background
    warm = panel.findChild(TaskRunner, options=direct)
    assert warm is not None
    panel.combo.hidePopup()
    panel.combo.setCurrentIndex(panel.combo.findData("custom"))   # waits for it, then builds
    assert not warm.busy
    assert editor.config.problem == "custom"
    assert panel.formula_editor.text_box.text() == editor.config.settings["expr"]
