"""File → Export animation…: choose what to capture, the steps, the timing and the size; a
progress dialog renders frame by frame from a QTimer on the GUI thread (the views are widgets),
so the window stays responsive between frames and Cancel stops before the next frame (a frame
never runs the event loop, so a click never lands in the middle of one). A comparison exports every
run (replayed in lock-step, each in its colour and with its name), not just the selected one.

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
from gdviz.gui.offscreen import make_source
from gdviz.gui.view_choices import view_choices


class ExportDialog(QDialog):
    """The export settings. ``kind`` preselects "gif" or "png"."""

    def __init__(self, window, kind: str = "gif", parent: QWidget | None = None) -> None:
        super().__init__(parent or window)
        self.window = window
        self.setWindowTitle("Export animation" if kind == "gif" else "Export PNG frames")
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
        self.kind.addItem("Animated GIF", "gif")
        self.kind.addItem("PNG frames (numbered, in a folder)", "png")
        self.kind.setCurrentIndex(0 if kind == "gif" else 1)
        self.kind.currentIndexChanged.connect(self._on_kind_changed)
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
        form.addRow("", self.summary)

        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.5, MAX_FPS)
        self.fps.setValue(10.0)
        self.fps.setToolTip("Frames per second (GIF delays are whole hundredths of a second)")
        form.addRow("Frames per second", self.fps)
        self.width_box = _spin(MIN_SIDE, MAX_SIDE, 640, "Frame width in pixels")
        self.height_box = _spin(MIN_SIDE, MAX_SIDE, 480, "Frame height in pixels")
        size = QHBoxLayout()
        size.addWidget(self.width_box)
        size.addWidget(QLabel("×"))
        size.addWidget(self.height_box)
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
        self.fps.valueChanged.connect(self._update_summary)
        self._on_kind_changed()
        self._update_summary()

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
            loop=0 if self.forever.isChecked() else self.plays.value(), choices=choices,
            window_state=bytes(window.saveState().data()),
            **({"captions": window.captions.script} if self.captions.isChecked() else {}))
        validate_spec(spec)
        check_writable(spec)
        return spec

    # -- slots ------------------------------------------------------------------------------
    def _update_summary(self) -> None:
        frames, per = self.frame_plan()
        seconds = frames / max(self.fps.value(), 0.5)
        self.summary.setText(f"{frames} frames, one every {per} step{'s' * (per > 1)} "
                             f"(about {seconds:.1f} s at this frame rate)")

    def _on_kind_changed(self) -> None:
        gif = self.kind.currentData() == "gif"
        for w in (self.forever, self.plays):
            w.setEnabled(gif and (w is self.forever or not self.forever.isChecked()))
        text = self.path.text().strip()
        if gif and not text.lower().endswith(".gif"):
            self.path.setText(str(Path(text or "gdviz").with_suffix(".gif")))
        elif not gif and text.lower().endswith(".gif"):
            self.path.setText(str(Path(text).with_suffix("")) + "_frames")

    def _on_browse_clicked(self) -> None:
        if self.kind.currentData() == "gif":
            path, _ = QFileDialog.getSaveFileName(self, "Export animation", self.path.text(),
                                                  "GIF animation (*.gif)")
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
