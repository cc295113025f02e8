"""File → Export animation…: choose what to capture, the format (GIF, MP4, WebM, PNG frames),
the steps, the timing and the size; a
progress dialog renders frame by frame from a QTimer on the GUI thread (the views are widgets),
so the window stays responsive between frames and Cancel stops before the next frame (a frame
never runs the event loop, so a click never lands in the middle of one). A comparison exports every
run (replayed in lock-step, each in its colour and with its name), not just the selected one.

The size follows the capture's size on screen (the view's, or the window's) unless "as on
screen" is unticked. The dialog remembers its last settings (format, capture, steps per frame
or frame count, frame rate, size, looping, file) in the window's settings when it exports
(``AppSettings.export_choices``).

``ExportDialog(window).spec()`` is the ExportSpec the fields describe; ``ExportRunner`` drives
an ExportJob and reports ``sig_finished(path)``, ``sig_failed(message)`` or ``sig_cancelled``.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QWidget,
)

from gdviz.core.errors import ConfigError
from gdviz.export.animation import (
    MAX_SIDE,
    MIN_SIDE,
    WINDOW,
    ExportError,
    ExportJob,
    ExportSpec,
    SourceFactory,
    check_writable,
    validate_spec,
)
from gdviz.export.gif import MAX_FPS
from gdviz.export.video import MAX_VIDEO_FPS, VIDEO_KINDS, even_size
from gdviz.gui.offscreen import make_source
from gdviz.gui.view_choices import view_choices

# (kind, label, file filter of the save dialog); "png" is a folder
FORMATS = (
    ("gif", "Animated GIF", "GIF animation (*.gif)"),
    ("mp4", "MP4 video (H.264)", "MP4 video (*.mp4)"),
    ("webm", "WebM video (VP9)", "WebM video (*.webm)"),
    ("png", "PNG frames (numbered, in a folder)", ""),
)


class ExportDialog(QDialog):
    """The export settings. ``kind`` "png" preselects PNG frames; any other kind opens on the
    animation format exported last (``kind`` itself when nothing is remembered)."""

    def __init__(self, window, kind: str = "gif", parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.setWindowTitle("Export PNG frames" if kind == "png" else "Export animation")
        controller = window.controller
        # the export replays every run in lock-step: steps are lock-step indices, up to the
        # longest run's limit (runs with other batch sizes stop after other numbers of steps)
        limit = max(run.config.step_limit() for run in controller.runs)
        # the lock-step index, not the selected run's length: in a comparison the selected run
        # may have ended (diverged at step 8) while the others went on to step 200
        shown = min(limit, max(0, controller.last_index))
        form = QFormLayout(self)

        self.target = QComboBox()
        for view in window.views:
            self.target.addItem(view.title, view.view_id)
        self.target.addItem("Whole window", WINDOW)
        self.target.setToolTip("One view as it looks in its dock, or the whole window")
        form.addRow("Capture", self.target)
        self.kind = QComboBox()
        for key, label, _filter in FORMATS:
            self.kind.addItem(label, key)
        self.kind.setCurrentIndex(max(0, self.kind.findData(kind)))
        self.kind.setToolTip("GIF: plays everywhere, large; MP4 (H.264) and WebM (VP9): "
                             "small videos for slides and web pages")
        form.addRow("Format", self.kind)

        self.first = _spin(0, limit, 0, "Step shown by the first frame (0 = start point)")
        self.last = _spin(0, limit, shown if shown > 0 else min(limit, 100),
                          "Step shown by the last frame")
        form.addRow("From step", self.first)
        form.addRow("To step", self.last)
        self.by_steps = QRadioButton("steps per frame")
        self.by_count = QRadioButton("number of frames")
        self.by_steps.setChecked(True)
        self.per_frame = _spin(1, max(1, limit), 1, "Optimizer steps between two frames")
        self.count = _spin(1, 100_000, 100, "Frames in the animation (spread over the steps)")
        row = QHBoxLayout()
        for w in (self.by_steps, self.per_frame, self.by_count, self.count):
            row.addWidget(w)
        form.addRow("Frames", row)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        form.addRow("", self.summary)

        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.5, MAX_FPS)
        self.fps.setValue(10.0)
        self.fps.setToolTip("Frames per second (GIF delays are whole hundredths of a second)")
        form.addRow("Frames per second", self.fps)
        self.width_box = _spin(MIN_SIDE, MAX_SIDE, 640, "Frame width in pixels")
        self.height_box = _spin(MIN_SIDE, MAX_SIDE, 480, "Frame height in pixels")
        self.on_screen = QCheckBox("as on screen")
        self.on_screen.setChecked(True)
        self.on_screen.setToolTip("The size the capture has on screen now (a video rounds an "
                                  "odd side down to even)")
        self.on_screen.toggled.connect(self._follow_screen_size)
        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box)
        size.addWidget(self.on_screen)
        form.addRow("Size (pixels)", size)
        self.forever = QCheckBox("repeat forever")
        self.forever.setChecked(True)
        self.plays = _spin(1, 1000, 1, "How many times the GIF plays")
        self.plays.setEnabled(False)
        self.forever.toggled.connect(lambda on: self.plays.setEnabled(not on))
        loop = QHBoxLayout()
        loop.addWidget(self.forever)
        loop.addWidget(QLabel("or play"))
        loop.addWidget(self.plays)
        loop.addWidget(QLabel("times"))
        form.addRow("Looping", loop)
        self.whole_frames = QCheckBox("whole frames")
        self.whole_frames.setChecked(True)
        self.whole_frames.setToolTip(
            "Every GIF frame is the whole picture, so any tool shows any frame alone. Untick "
            "for a much smaller file that holds only what changed: browsers and viewers play "
            "it the same, but tools that take one frame (convert 'x.gif[5]') get a fragment")
        form.addRow("GIF frames", self.whole_frames)
        self.captions = QCheckBox("draw the lesson's captions")
        self.captions.setObjectName("export_captions")
        has_captions = bool(window.captions.script)
        self.captions.setChecked(has_captions and window.captions.enabled)
        self.captions.setEnabled(has_captions)
        self.captions.setToolTip("The captions the window shows (View > Edit lesson captions…) "
                                 "on every frame, each at its step" if has_captions else
                                 "This run has no lesson captions (View > Edit lesson "
                                 "captions… adds some)")
        form.addRow("Captions", self.captions)

        self.path = QLineEdit(str(Path.home() / "gdviz.gif"))
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._on_browse_clicked)
        out = QHBoxLayout()
        out.addWidget(self.path, 1)
        out.addWidget(browse)
        form.addRow("Save to", out)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self._on_accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        for w in (self.first, self.last, self.per_frame, self.count):
            w.valueChanged.connect(self._update_summary)
        for w in (self.by_steps, self.by_count):
            w.toggled.connect(self._update_summary)
        for w in (self.fps, self.width_box, self.height_box):
            w.valueChanged.connect(self._update_summary)
        self.target.currentIndexChanged.connect(self._follow_screen_size)
        settings = getattr(window, "settings", None)
        if kind != "png" and settings is not None:
            self.restore(settings.export_choices())
        self.kind.currentIndexChanged.connect(self._on_kind_changed)
        self.kind.currentIndexChanged.connect(self._update_summary)
        self._on_kind_changed()
        self._follow_screen_size()
        self._update_summary()

    # -- remembered settings ------------------------------------------------------------------
    def choices(self) -> dict:
        """The settings the dialog remembers (JSON-able)."""
        return {"kind": self.kind.currentData(), "target": self.target.currentData(),
                "by_count": self.by_count.isChecked(), "per_frame": self.per_frame.value(),
                "count": self.count.value(), "fps": self.fps.value(),
                "on_screen": self.on_screen.isChecked(),
                "size": [self.width_box.value(), self.height_box.value()],
                "forever": self.forever.isChecked(), "plays": self.plays.value(),
                "whole_frames": self.whole_frames.isChecked(),
                "path": self.path.text().strip()}

    def restore(self, choices: dict) -> None:
        """Put back ``choices()`` of an earlier export; a value missing or of the wrong type
        is skipped (the field keeps its default). PNG frames are not restored as the format:
        they have their own menu entry."""

        def value(key: str, kind: type):
            found = choices.get(key)
            if isinstance(found, bool) != (kind is bool) or not isinstance(found, kind):
                return None
            return found

        if value("kind", str) in VIDEO_KINDS + ("gif",):
            self.kind.setCurrentIndex(self.kind.findData(value("kind", str)))
        if value("target", str):
            self.select_target(value("target", str))
        for key, box in (("per_frame", self.per_frame), ("count", self.count),
                         ("plays", self.plays)):
            if value(key, int) is not None:
                box.setValue(value(key, int))
        if value("fps", float) is not None:
            self.fps.setValue(value("fps", float))
        if value("by_count", bool) is not None:
            (self.by_count if value("by_count", bool) else self.by_steps).setChecked(True)
        for key, box in (("forever", self.forever), ("whole_frames", self.whole_frames)):
            if value(key, bool) is not None:
                box.setChecked(value(key, bool))
        size = value("size", list)
        if size and len(size) == 2 and all(type(side) is int for side in size):
            self.width_box.setValue(size[0])
            self.height_box.setValue(size[1])
        if value("on_screen", bool) is not None:
            self.on_screen.setChecked(value("on_screen", bool))
        if value("path", str):
            self.path.setText(value("path", str))

    def remember(self) -> None:
        """Store ``choices()`` in the window's settings (the next dialog opens with them)."""
        settings = getattr(self.window, "settings", None)
        if settings is not None:
            settings.save_export_choices(self.choices())

    def screen_size(self) -> tuple[int, int]:
        """(width, height) of the capture on screen: the view's, or the whole window's."""
        target = self.target.currentData()
        widget = next((v for v in self.window.views if v.view_id == target), self.window)
        return widget.width(), widget.height()

    def select_target(self, view_id: str) -> None:
        index = self.target.findData(view_id)
        if index >= 0:
            self.target.setCurrentIndex(index)

    def frame_plan(self) -> tuple[int, int]:
        """(frames, steps per frame) the step fields describe."""
        first, last = self.first.value(), max(self.first.value(), self.last.value())
        if self.by_steps.isChecked():
            per = self.per_frame.value()
            return (last - first) // per + 1, per
        count = self.count.value()
        per = max(1, (last - first) // max(1, count - 1))
        return min(count, (last - first) // per + 1), per

    def spec(self) -> ExportSpec:
        """The ExportSpec of the fields (ConfigError with a sentence when it is not valid)."""
        frames, per = self.frame_plan()
        window = self.window
        choices = {view.view_id: view_choices(view) for view in window.views}
        kind = self.kind.currentData()
        controller = window.controller
        # every run of the comparison, with its name and colour (one run: a single-run spec)
        spec = ExportSpec.of_runs(
            controller.runs, controller.selected_track, target=self.target.currentData(),
            out=Path(self.path.text().strip()).expanduser(), kind=kind,
            first_step=self.first.value(), frames=frames, steps_per_frame=per,
            fps=float(self.fps.value()), size=(self.width_box.value(), self.height_box.value()),
            loop=0 if self.forever.isChecked() else self.plays.value(),
            gif_whole_frames=self.whole_frames.isChecked(), choices=choices,
            window_state=bytes(window.saveState().data()),
            **({"captions": window.captions.script} if self.captions.isChecked() else {}))
        validate_spec(spec)
        check_writable(spec)
        return spec

    # -- slots ------------------------------------------------------------------------------
    def _update_summary(self) -> None:
        frames, per = self.frame_plan()
        seconds = frames / max(self.fps.value(), 0.5)
        text = (f"{frames} frames, one every {per} step{'s' * (per > 1)} "
                f"(about {seconds:.1f} s at this frame rate)")
        size = (self.width_box.value(), self.height_box.value())
        if self.kind.currentData() in VIDEO_KINDS and even_size(size) != size:
            text += (f"; a video needs even sides: {size[0]}×{size[1]} is written as "
                     f"{even_size(size)[0]}×{even_size(size)[1]}")
        self.summary.setText(text)

    def _follow_screen_size(self) -> None:
        on_screen = self.on_screen.isChecked()
        for box in (self.width_box, self.height_box):
            box.setEnabled(not on_screen)
        if on_screen:
            width, height = self.screen_size()
            self.width_box.setValue(width)
            self.height_box.setValue(height)

    def _on_kind_changed(self) -> None:
        kind = self.kind.currentData()
        gif = kind == "gif"
        for w in (self.forever, self.plays):
            w.setEnabled(gif and (w is self.forever or not self.forever.isChecked()))
        self.whole_frames.setEnabled(gif)
        self.fps.setMaximum(MAX_VIDEO_FPS if kind in VIDEO_KINDS else MAX_FPS)
        text = self.path.text().strip()
        files = {key for key, _label, _filter in FORMATS if key != "png"}
        suffix = Path(text).suffix.lower().lstrip(".")
        if kind != "png" and suffix != kind:
            stem = Path(text or "gdviz")
            if suffix not in files:
                stem = Path(text.removesuffix("_frames") or "gdviz")
            self.path.setText(str(stem.with_suffix(f".{kind}")))
        elif kind == "png" and suffix in files:
            self.path.setText(str(Path(text).with_suffix("")) + "_frames")

    def _on_browse_clicked(self) -> None:
        kind = self.kind.currentData()
        if kind != "png":
            file_filter = next(f for key, _label, f in FORMATS if key == kind)
            path, _ = QFileDialog.getSaveFileName(self, "Export animation", self.path.text(),
                                                  file_filter)
        else:
            path = QFileDialog.getExistingDirectory(self, "Folder for the PNG frames",
                                                    self.path.text())
        if path:
            self.path.setText(path)

    def _on_accept(self) -> None:
        try:
            self.spec()
        except ConfigError as err:
            self.error.setText(str(err)[:1].upper() + str(err)[1:])
            return
        self.remember()
        self.accept()


def _spin(low: int, high: int, value: int, tip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(min(max(value, low), high))
    box.setToolTip(tip)
    return box


class ExportRunner(QObject):
    """Renders one ExportJob frame by frame from a zero-interval QTimer, with a progress dialog
    that shows the frames done and the time left; Cancel (or ``cancel()``) stops before the
    next frame and removes the temporary output. ``source_factory``: what draws the frames
    (default: the window's views, offscreen)."""

    sig_finished = Signal(str)
    sig_failed = Signal(str)
    sig_cancelled = Signal()

    def __init__(self, spec: ExportSpec, parent: QWidget | None = None,
                 show_progress: bool = True,
                 source_factory: SourceFactory = make_source) -> None:
        super().__init__(parent)
        self.job = ExportJob(spec, source_factory)
        self.progress: QProgressDialog | None = None
        if show_progress:
            self.progress = QProgressDialog("Preparing the export…", "Cancel", 0,
                                            self.job.total, parent)
            # the bar is set directly: QProgressDialog.setValue on a modal dialog runs the
            # event loop (processEvents), which would run the next frame's timer or a click
            # inside this one
            self._bar = QProgressBar(self.progress)
            self.progress.setBar(self._bar)
            self._bar.setRange(0, self.job.total)
            self.progress.setWindowTitle("Exporting")
            self.progress.setWindowModality(Qt.WindowModality.WindowModal)
            self.progress.setMinimumDuration(0)
            self.progress.setAutoClose(False)
            self.progress.setAutoReset(False)
            self.progress.canceled.connect(self.cancel)
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._on_timer_timeout)
        self.active = False

    def start(self) -> None:
        try:
            self.job.open()
        except (ConfigError, ExportError) as err:
            self._end()
            self.sig_failed.emit(str(err))
            return
        except Exception as err:
            self._end()
            self.sig_failed.emit(f"the export could not start: {type(err).__name__}: {err}")
            return
        self.active = True
        if self.progress is not None:
            self.progress.show()
        self._timer.start()

    def cancel(self) -> None:
        if not self.active:
            return
        self.job.abort()
        self._end()
        self.sig_cancelled.emit()

    def _on_timer_timeout(self) -> None:
        if not self.active:
            return
        if self.progress is not None and self.progress.wasCanceled():
            self.cancel()  # Esc or cancel() on the dialog: no canceled signal, same meaning
            return
        try:
            more = self.job.render_next()
            if not more:
                path = self.job.finish()
        except (ConfigError, ExportError) as err:
            self.job.abort()
            self._end()
            self.sig_failed.emit(str(err))
            return
        if not more:
            self._end()
            self.sig_finished.emit(str(path))
            return
        self._show_progress()

    def _show_progress(self) -> None:
        if self.progress is None:
            return
        job = self.job
        eta = job.eta_s()
        left = f" · about {eta:.0f} s left" if eta is not None and eta >= 1 else ""
        self.progress.setLabelText(f"Frame {job.done} of {job.total}{left}")
        self._bar.setValue(job.done)

    def _end(self) -> None:
        self.active = False
        self._timer.stop()
        progress, self.progress = self.progress, None
        if progress is not None:
            progress.canceled.disconnect(self.cancel)  # closing emits canceled
            progress.close()
            progress.deleteLater()
