"""The export entries of the File menu: animation, PNG frames, snapshots, traces, sessions.

``install_export_actions(window)`` adds them above Quit. Each action asks for a path with a
file dialog and then calls a plain function of this module (``save_snapshot``,
``export_traces``, ...), which tests call directly. Failures are shown with the window's
non-modal message box and never leave a partial file behind.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from PySide6.QtGui import QAction, QGuiApplication, QImage, QKeySequence
from PySide6.QtWidgets import QFileDialog

from gdviz.core.errors import ConfigError
from gdviz.core.text import shown
from gdviz.export.files import atomic_path, atomic_text, check_target, write_failure
from gdviz.export.session import SUFFIX, DataOutsideError, session_name
from gdviz.export.trace import write_history

log = logging.getLogger(__name__)


def install_export_actions(window) -> dict[str, QAction]:
    """Add the export actions to ``window.file_menu`` (before Quit); returns them by key."""
    menu = window.file_menu
    quit_action = next((a for a in menu.actions() if a.text().replace("&", "") == "Quit"),
                       None)
    from gdviz.gui.session_window import SessionReader

    reader = SessionReader(window, lambda outside: _confirm_outside_data(window, outside),
                           lambda title, message: _report(window, title, message))
    entries = (
        ("open_session", "&Open session…", "Ctrl+O",
         "Open a saved session: its runs, settings, view choices and step",
         lambda: _ask_open_session(window, reader)),
        ("save_session", "&Save session…", "Ctrl+S",
         "Save the runs, settings, seeds, view choices and current step to a .gdviz.json file",
         lambda: _ask_save_session(window)),
        None,
        ("export_animation", "Export &animation…", "Ctrl+E",
         "Render the run (every run of a comparison) as an animated GIF, an MP4 or a WebM "
         "video of one view or of "
         "the whole window",
         lambda: open_export_dialog(window, "gif")),
        ("export_frames", "Export PNG &frames…", "",
         "Render the run (every run of a comparison) as numbered PNG frames in a folder",
         lambda: open_export_dialog(window, "png")),
        ("save_snapshot", "Save &snapshot (PNG, SVG, PDF)…", "",
         "Save the current view (the one last clicked) as a PNG image, or as SVG or PDF "
         "vector graphics",
         lambda: _ask_save_snapshot(window)),
        ("copy_snapshot", "&Copy snapshot to clipboard", "Ctrl+Shift+C",
         "Copy the current view (the one last clicked) to the clipboard as an image",
         lambda: copy_snapshot(window)),
        ("export_trace", "Export &trace (CSV)…", "",
         "Write the run's steps as CSV, with the columns of `gdviz run`",
         lambda: _ask_export_trace(window)),
        None,
    )
    actions: dict[str, QAction] = {}
    for entry in entries:
        if entry is None:
            separator = QAction(window)
            separator.setSeparator(True)
            menu.insertAction(quit_action, separator)
            continue
        key, text, shortcut, tip, slot = entry
        action = QAction(text, window)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(tip)
        action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.insertAction(quit_action, action)
        actions[key] = action
    return actions


# -- current view and snapshots ---------------------------------------------------------------
def current_view(window):
    """The view the user is working with: the one holding the keyboard focus (the last one
    clicked), else the first visible view."""
    focus = QGuiApplication.focusObject()
    for view in window.views:
        if focus is not None and (focus is view or view.isAncestorOf(focus)):
            return view
    visible = [v for v in window.views if not window.docks[v.view_id].isHidden()]
    return (visible or window.views)[0]


def snapshot_image(view) -> QImage:
    """The view as on screen; a 3-D picture with its axis labels (a view's ``grab_image``:
    Qt's grab of an OpenGL widget drops them)."""
    grab = getattr(view, "grab_image", None)
    return grab() if grab is not None else view.grab().toImage()


def save_snapshot(window, path: str | Path, view=None) -> Path:
    """Save ``view`` (default: the current view) as PNG, atomically (a temporary file beside
    it, renamed), or as SVG or PDF vectors when ``path`` ends so (``vector_snapshot.
    save_vector``); any other ending becomes .png. ConfigError when it cannot."""
    from gdviz.gui.vector_snapshot import VECTOR_SUFFIXES, save_vector

    view = view or current_view(window)
    path = Path(path)
    if path.suffix.lower() in VECTOR_SUFFIXES:
        save_vector(view, check_target(path), f"gdviz: {view.title}")
    else:
        if path.suffix.lower() != ".png":
            path = path.with_suffix(".png")
        check_target(path)
        try:
            with atomic_path(path, ".png.part") as temp:
                if not snapshot_image(view).save(str(temp), "PNG"):
                    raise OSError(f"cannot write {path}")
        except OSError as err:
            raise ConfigError(str(write_failure(path, err))) from None
    window.status.showMessage(f"Saved the {view.title} view to {path}", 5000)
    return path


def copy_snapshot(window, view=None) -> QImage:
    view = view or current_view(window)
    image = snapshot_image(view)
    QGuiApplication.clipboard().setImage(image)
    window.status.showMessage(f"Copied the {view.title} view to the clipboard", 5000)
    return image


# -- traces -------------------------------------------------------------------------------
def run_tracks(window) -> list[tuple[str, object, object]]:
    """(name, problem, history) of every run in the window: each run of a comparison
    (``controller.tracks``), with all its recorded steps."""
    tracks = getattr(window.controller, "tracks", None)
    if tracks:
        return [(t.name, t.config.make_problem(), t.history) for t in tracks]
    from gdviz.gui.session_window import run_name

    c = window.controller
    return [(run_name(window), c.problem, c.history)]


def trace_paths(path: str | Path, names: list[str]) -> list[Path]:
    """One CSV per run: ``path`` itself for one run, else ``<stem>_<run name>.csv``."""
    path = Path(path)
    if path.suffix.lower() != ".csv":
        path = path.with_suffix(".csv")
    if len(names) == 1:
        return [path]
    return [path.with_name(f"{path.stem}_{_slug(n)}{path.suffix}") for n in names]


def export_traces(window, path: str | Path) -> list[Path]:
    """Write each run's recorded steps as CSV (the format of ``gdviz run``). Each file goes to
    a temporary name first, so a failure leaves no partial file; OSError on failure."""
    tracks = run_tracks(window)
    paths = trace_paths(path, [t[0] for t in tracks])
    for (_name, problem, history), target in zip(tracks, paths):
        with atomic_text(target) as handle:
            write_history(handle, problem.param_names, history)
    window.status.showMessage(f"Wrote {', '.join(p.name for p in paths)}", 5000)
    return paths


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", name).strip("_") or "run"


# -- dialogs ------------------------------------------------------------------------------
def open_export_dialog(window, kind: str = "gif"):
    """Show the export dialog; on Export, render with a progress dialog. Returns the runner
    (or None when the dialog was cancelled)."""
    from gdviz.gui.export_dialog import ExportDialog

    dialog = ExportDialog(window, kind)
    try:
        dialog.select_target(current_view(window).view_id)
        if dialog.exec() != ExportDialog.DialogCode.Accepted:
            return None
        spec = dialog.spec()
    finally:
        dialog.deleteLater()
    return window.start_export(spec)


def start_export(window, spec, show_progress: bool = True, source_factory=None):
    """Render ``spec`` frame by frame; the window shows the outcome. ``source_factory``: what
    draws the frames (None: the window's views, offscreen: ``gdviz.gui.offscreen``). The
    caller keeps the returned runner alive while it renders (``MainWindow.start_export``)."""
    from gdviz.gui.export_dialog import ExportRunner
    from gdviz.gui.offscreen import make_source

    runner = ExportRunner(spec, window, show_progress, source_factory or make_source)
    runner.sig_finished.connect(
        lambda path: window.status.showMessage(
            f"Exported {spec.frames} frames to {path}"
            + (f" — note: {runner.job.note}" if runner.job.note else ""), 12000))
    runner.sig_failed.connect(lambda message: _report(window, "Export failed", message))
    runner.sig_cancelled.connect(
        lambda: window.status.showMessage("Export cancelled; no file was written", 5000))
    runner.start()
    return runner


def _report(window, title: str, message: str) -> None:
    message = shown(message, 1000)  # it may quote a name from a file
    window.status.showMessage(f"{title}: {message}", 10000)
    window.show_message_box(title, message[:1].upper() + message[1:])


def _ask_save_snapshot(window) -> None:
    view = current_view(window)
    path, chosen = QFileDialog.getSaveFileName(
        window, f"Save the {view.title} view", f"{view.view_id}.png",
        "PNG image (*.png);;SVG vector graphics (*.svg);;PDF vector graphics (*.pdf)")
    ending = {"SVG": ".svg", "PDF": ".pdf"}.get(chosen[:3], ".png")
    if path and Path(path).suffix.lower() not in (".png", ".svg", ".pdf"):
        path = str(Path(path).with_suffix(ending))  # the type chosen, when none was typed
    if path:
        try:
            save_snapshot(window, path, view)
        except ConfigError as err:
            _report(window, "Snapshot not saved", str(err))


def _ask_export_trace(window) -> None:
    path, _ = QFileDialog.getSaveFileName(window, "Export trace", "trace.csv", "CSV (*.csv)")
    if path:
        try:
            export_traces(window, path)
        except OSError as err:
            _report(window, "Trace not written", str(write_failure(path, err)))
        except ConfigError as err:
            _report(window, "Trace not written", str(err))


def _ask_save_session(window) -> None:
    from gdviz.gui.session_window import run_name, save_session_file

    path, _ = QFileDialog.getSaveFileName(window, "Save session", run_name(window) + SUFFIX,
                                          f"gdviz session (*{SUFFIX})")
    if not path:
        return
    if not path.endswith(SUFFIX):
        path = str(Path(path).with_suffix("")) + SUFFIX
    try:
        save_session_file(window, path)
    except OSError as err:
        _report(window, "Session not saved", str(write_failure(path, err)))
        return
    except ConfigError as err:
        _report(window, "Session not saved", str(err))
        return
    window.status.showMessage(f"Saved session {session_name(path)}", 5000)


def _ask_open_session(window, reader) -> None:
    """The file is read in the background (``SessionReader``); the window answers meanwhile."""
    path, _ = QFileDialog.getOpenFileName(window, "Open session", "",
                                          f"gdviz session (*{SUFFIX});;JSON (*.json)")
    if path:
        reader.open(path)


def _confirm_outside_data(window, outside: DataOutsideError) -> bool:
    """Ask before a session reads a file outside its own folder (it may come from someone
    else and name any file the user can read)."""
    from PySide6.QtWidgets import QMessageBox

    answer = QMessageBox.question(
        window, "Read data outside the session's folder?",
        f"This session reads its data from\n{shown(outside.path)}\noutside the session's "
        "folder. Open it only if you trust the session. Read that file?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No)
    return answer == QMessageBox.StandardButton.Yes
