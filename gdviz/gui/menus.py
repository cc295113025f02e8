"""The main window's menus: File (Quit; export entries are added by export_actions), View
(every dock and toolbar), Presets (lessons, test functions, comparisons) and Help."""

from __future__ import annotations

from typing import NamedTuple

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from gdviz import __version__
from gdviz.core.errors import ConfigError
from gdviz.core.presets import list_presets
from gdviz.gui.caption_editor import install_caption_actions
from gdviz.gui.formula_presets import FormulaMenu, install_formula_menu
from gdviz.gui.presenter import SCALES

PRESET_GROUPS = (("lesson", "Lessons"), ("function", "Test functions"),
                 ("network", "Networks"), ("comparison", "Comparisons"))


class Menus(NamedTuple):
    """What the window keeps of its menus: File (export actions go in above Quit), an action
    per preset (name -> action), the saved formulas' menu."""

    file_menu: QMenu
    preset_actions: dict[str, QAction]
    formula_menu: FormulaMenu


def build_menus(window) -> Menus:
    """The menu bar of ``window``: File, View, Presets, Help."""
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.setToolTipsVisible(True)
    quit_act = QAction("&Quit", window)
    quit_act.setShortcut(QKeySequence("Ctrl+Q"))
    quit_act.setToolTip("Close gdviz (settings, runs and window layout are saved)")
    quit_act.triggered.connect(window.close)
    file_menu.addAction(quit_act)

    view_menu = bar.addMenu("&View")
    view_menu.setToolTipsVisible(True)
    focus = view_menu.addAction("&Focus view")
    focus.setShortcut(QKeySequence("F"))
    focus.setToolTip("Show the view under the mouse (or the one last clicked) alone in the "
                     "window; again to go back. Double-clicking a view's title does the same.")
    focus.triggered.connect(lambda: window.focus.toggle())
    reset = view_menu.addAction("&Reset layout")
    reset.setToolTip("Put every panel and view back where a fresh window has them")
    reset.triggered.connect(window.reset_layout)
    presenter_menu = view_menu.addMenu("&Presenter mode")
    presenter_menu.setToolTipsVisible(True)
    group = QActionGroup(presenter_menu)
    stored = window.settings.presenter_scale()
    for scale in SCALES:
        action = presenter_menu.addAction("Off" if scale == 1.0 else f"×{scale:g}")
        action.setCheckable(True)
        action.setChecked(scale == stored)
        action.setToolTip("Text, lines, markers and controls drawn larger, for a projector "
                          "(gdviz restarts to apply it)")
        action.triggered.connect(lambda _checked=False, s=scale: window.set_presenter_scale(s))
        group.addAction(action)
    keep = view_menu.addAction("&Keep view options across presets")
    keep.setCheckable(True)
    keep.setChecked(window.settings.keep_view_options())
    keep.setToolTip("Off: each preset opens its views with their default options (log "
                    "scales, zoom on the step ...). On: the options stay as you set them.")
    keep.toggled.connect(window.settings.save_keep_view_options)
    install_caption_actions(window, view_menu)
    view_menu.addSeparator()
    for dock in window.docks.values():
        view_menu.addAction(dock.toggleViewAction())
    view_menu.addSeparator()
    view_menu.addAction(window.toolbar.toggleViewAction())
    view_menu.addAction(window.timeline.toggleViewAction())

    preset_actions, formula_menu = _build_preset_menu(window, bar.addMenu("&Presets"))

    help_menu = bar.addMenu("&Help")
    how = help_menu.addAction("How to read the views")
    how.setShortcut(QKeySequence("F1"))
    how.triggered.connect(lambda: show_how_to_read(window))
    about = help_menu.addAction("About gdviz")
    about.triggered.connect(lambda: QMessageBox.about(window, "About gdviz", about_text()))
    return Menus(file_menu, preset_actions, formula_menu)


def _build_preset_menu(window, menu) -> tuple[dict[str, QAction], FormulaMenu]:
    menu.setToolTipsVisible(True)
    try:
        presets = list_presets()
    except ConfigError as err:
        presets = ()
        window.status.showMessage(f"Presets not available: {err}", 10000)
    actions: dict[str, QAction] = {}
    for group, title in PRESET_GROUPS:
        members = [p for p in presets if p.group == group]
        if not members:
            continue
        sub = menu.addMenu(title)
        sub.setToolTipsVisible(True)
        for preset in members:
            action = sub.addAction(preset.title)
            tip = preset.description or preset.title
            if preset.runs:
                tip += "\nRuns: " + "; ".join(run.name for run in preset.runs)
            action.setToolTip(tip)
            action.triggered.connect(lambda _=False, n=preset.name: window.load_preset(n))
            actions[preset.name] = action
    return actions, install_formula_menu(menu, window)  # Save formula…, My formulas


def how_to_read_text(window) -> str:
    parts = ["<p>Press <b>Step</b> (→) to take one step and read its arithmetic in "
             "<i>Step math</i>; <b>Play</b> (Space) keeps stepping; <b>Reset</b> (R) goes "
             "back to the start. Every setting has a tooltip: hover it.</p>",
             "<p><b>Runs</b>: compare up to six runs from the same start point, each in its "
             "colour in every view. <b>Add</b> copies the selected run; change the copy's "
             "optimizer, learning rate or batch size. All runs take their steps together.</p>",
             "<p><b>Timeline</b> (under the views): drag it back to see every view as it was "
             "at an earlier step; Play continues from the newest step.</p>"]
    for view in window.views:
        tip = view.tooltip.replace("\n", "<br>")
        parts.append(f"<p><b>{view.title}</b>: {tip}</p>")
    return "".join(parts)


def show_how_to_read(window) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, "How to read the views",
                      how_to_read_text(window), QMessageBox.StandardButton.Ok, window)
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setModal(False)
    box.show()


def about_text() -> str:
    return (f"<b>gdviz {__version__}</b><br>Watch gradient descent and stochastic "
            "gradient descent work, step by step: per-sample loss curves, update arrows, "
            "gradient histograms and learning curves; compare optimizers side by side.")
