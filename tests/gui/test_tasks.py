"""Background work in the GUI (gdviz.gui.tasks): the task runner, the registry of running
threads, closing the window, and the fixture that fails a test leaving a thread running."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QTimer

from gdviz.core.records import RunConfig
from gdviz.gui import tasks
from gdviz.gui.panels.editor import ConfigEditor
from gdviz.gui.panels.problem import ProblemPanel
from gdviz.gui.tasks import TaskRunner, running_threads, stop_all_threads

ROOT = Path(__file__).resolve().parents[2]


def until_stopped(should_stop) -> None:
    """A job that works until it is told to stop (then gives up: no result)."""
    while not should_stop():
        threading.Event().wait(0.005)


class Answers:
    def __init__(self, runner: TaskRunner) -> None:
        self.ready: list[tuple] = []
        self.partial: list[tuple] = []
        runner.sig_ready.connect(lambda key, result: self.ready.append((key, result)))
        runner.sig_partial.connect(lambda key, value: self.partial.append((key, value)))


def test_a_generator_job_reports_partial_results_then_its_result(qtbot):
    runner = TaskRunner()
    answers = Answers(runner)

    def job(should_stop):
        total = 0
        for k in range(1, 4):
            total += k
            yield total
        return f"sum {total}"

    runner.request("sums", job)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    assert answers.partial == [("sums", 1), ("sums", 3), ("sums", 6)]
    assert answers.ready == [("sums", "sum 6")]
    assert runner.shutdown()


def test_a_new_request_abandons_the_running_job_and_only_it_is_answered(qtbot):
    runner = TaskRunner()
    answers = Answers(runner)
    started, gave_up = threading.Event(), threading.Event()

    def first(should_stop):
        started.set()
        until_stopped(should_stop)
        gave_up.set()
        return "first"          # returned after being told to stop: dropped

    runner.request("first", first)
    assert started.wait(5)
    runner.request("second", lambda should_stop: "second")
    assert gave_up.wait(5)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    QCoreApplication.sendPostedEvents()   # anything still queued from the first job
    assert answers.ready == [("second", "second")]
    assert runner.shutdown()


def test_an_exception_in_a_job_is_the_answer_and_the_runner_goes_on(qtbot):
    runner = TaskRunner()
    answers = Answers(runner)
    runner.request("bad", lambda should_stop: 1 / 0)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    runner.request("good", lambda should_stop: 2)
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    (key, error), good = answers.ready
    assert key == "bad"
    assert isinstance(error, ZeroDivisionError)
    assert good == ("good", 2)
    assert runner.shutdown()


def test_wait_delivers_the_answer_without_processing_events(qtbot):
    runner = TaskRunner()
    answers = Answers(runner)
    other_work = []
    QTimer.singleShot(0, lambda: other_work.append("a timer (or a click) ran"))
    runner.request("k", lambda should_stop: 42)
    assert runner.wait(10000)
    assert answers.ready == [("k", 42)]   # delivered in this thread, before wait returned
    assert not runner.busy
    assert other_work == []               # no event was processed meanwhile
    QCoreApplication.sendPostedEvents()   # the thread's own (queued) answer arrives later
    qtbot.waitUntil(lambda: len(other_work) == 1, timeout=5000)
    assert answers.ready == [("k", 42)]   # and is not delivered twice
    assert runner.shutdown()


def test_wait_delivers_a_generator_jobs_result_last(qtbot):
    runner = TaskRunner()
    answers = Answers(runner)

    def job(should_stop):
        yield "half way"
        return "done"

    runner.request("k", job)
    assert runner.wait(10000)
    QCoreApplication.sendPostedEvents()   # the partial value queued by the thread
    assert answers.ready == [("k", "done")]
    assert answers.partial == []          # never after the result
    assert runner.shutdown()


def test_wait_is_bounded(qtbot):
    runner = TaskRunner()
    release = threading.Event()
    runner.request("slow", lambda should_stop: release.wait(10) and "done")
    assert not runner.wait(50)            # not in yet: wait gives up, the job goes on
    assert runner.busy
    release.set()
    assert runner.wait(10000)
    assert not runner.busy
    assert runner.shutdown()


def test_the_formula_editor_waits_for_its_analysis_without_processing_events(qtbot):
    panel = ProblemPanel()
    qtbot.addWidget(panel)
    editor = ConfigEditor([panel], RunConfig(problem="custom", lr=0.05, batch_size=5))
    panel.show()
    fe = panel.formula_editor
    fe.text_box.setPlainText("(a*x + c - y)**2")     # the analysis waits for typing to pause
    other_work = []
    QTimer.singleShot(0, lambda: other_work.append("a timer (or a click) ran"))
    fe.wait_ready(15000)
    assert fe.gradient_lines == ("∂ℓ/∂a = 2·x·(a·x + c − y)", "∂ℓ/∂c = 2·(a·x + c − y)")
    assert not fe.worker.busy
    assert other_work == []       # the old wait processed events: the timer ran inside it
    assert editor.config.problem == "custom"
    panel.close()


def test_stop_all_threads_joins_within_one_bound_and_keeps_a_late_thread():
    polite, stubborn = TaskRunner(), TaskRunner()
    started, release = threading.Event(), threading.Event()

    def ignores_stop(should_stop):
        started.set()
        return release.wait(10)

    polite.request("polite", until_stopped)
    stubborn.request("stubborn", ignores_stop)
    assert started.wait(5)           # (a job not started yet would just be dropped)
    assert len(running_threads()) == 2
    assert stop_all_threads(100) == 2
    left = running_threads()
    assert len(left) == 1            # the stubborn one: kept (referenced), never terminated
    release.set()
    assert tasks.join_thread(left[0], 10000)
    assert running_threads() == []


def test_closing_a_window_stops_the_threads_working_for_it_and_no_other(qtbot, make_window):
    first, second = make_window(), make_window()
    for window in (first, second):
        TaskRunner(window).request("work", until_stopped)
    second.controller.step(1)                       # its optimizer thread runs (paused)
    qtbot.waitUntil(lambda: second.controller.last_index == 1, timeout=10000)
    assert len(running_threads(within=first)) == 1
    assert len(running_threads(within=second)) == 2
    first.close()
    assert running_threads(within=first) == []
    assert len(running_threads(within=second)) == 2  # the other window works on
    second.close()
    assert running_threads() == []


def test_the_fixture_fails_a_thread_left_running_or_started_without_the_registry(tmp_path):
    (tmp_path / "test_leak.py").write_text(textwrap.dedent("""
        import threading

        from PySide6.QtCore import QThread

        from gdviz.gui.tasks import TaskRunner, running_threads

        KEPT = []   # a runner that is never shut down (one deleted is joined on deletion)

        def test_leaks(qtbot):
            def forever(should_stop):
                while not should_stop():
                    threading.Event().wait(0.005)
            KEPT.append(TaskRunner())
            KEPT[0].request("k", forever)

        def test_next_starts_clean(qtbot):
            assert running_threads() == []

        def test_starts_a_thread_the_registry_does_not_know(qtbot):
            thread = QThread()
            thread.setObjectName("stray")
            thread.start()
            thread.quit()
            thread.wait()
    """))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         "-c", str(ROOT / "pyproject.toml"), "--rootdir", str(ROOT),
         "-p", "conftest", str(tmp_path / "test_leak.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={**_env(), "PYTHONPATH": f"{ROOT / 'tests'}:{ROOT}"})
    out = result.stdout + result.stderr
    assert result.returncode == 1, out
    assert "1 background thread(s) still running after the test: gdviz-task" in out
    assert "1 QThread(s) started without the registry (gdviz.gui.tasks.start_thread): " \
        "stray" in out
    assert "3 passed, 2 errors" in out, out   # each fault is an error; the next test is clean


def _env() -> dict[str, str]:
    import os

    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def test_the_garbage_collector_runs_in_the_gui_thread_only(qapp):
    """A collection started by a grid thread deleted Qt objects there: a deadlock (py-spy:
    the worker in QObject::disconnect waiting for the GIL, the GUI thread for Qt's connection
    mutex). With a QApplication, automatic collection is off and a GUI-thread timer collects."""
    import gc
    import threading

    from gdviz.gui.gui_gc import is_collecting_in_gui_thread

    assert is_collecting_in_gui_thread()
    assert not gc.isenabled()
    counts = []

    def allocate():          # far past generation 0's threshold, in another thread
        junk = [[] for _ in range(50_000)]
        for a, b in zip(junk, junk[1:]):
            a.append(b)
            b.append(a)       # cycles only a collection can free
        counts.append(gc.get_count()[0])

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    assert counts[0] > gc.get_threshold()[0]    # no collection ran in that thread
