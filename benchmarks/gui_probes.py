"""Instruments for ``bench_gui.py``: time the plots' paint events, every view's
``show_step``, and (``--events``) the GUI thread's time per event type. Not tests."""

from __future__ import annotations

import time


class PaintTimer:
    """Times the paint events of a plot (a QGraphicsView): an event filter on its viewport
    that, on a Paint event, has the view paint it between two clock readings and swallows the
    original (QAbstractScrollArea sends viewport events to ``viewportEvent``)."""

    def __init__(self, views) -> None:
        from PySide6.QtCore import QEvent, QObject

        self.times: list[float] = []
        self.cpu: list[float] = []   # the GUI thread's CPU time in the same paints
        outer = self

        class _Filter(QObject):
            inside = False

            def eventFilter(self, obj, event):  # noqa: N802 (Qt name)
                if event.type() != QEvent.Type.Paint or self.inside:
                    return False
                self.inside = True
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    obj.parent().viewportEvent(event)
                finally:
                    outer.times.append(time.perf_counter() - t0)
                    outer.cpu.append(time.thread_time() - c0)
                    self.inside = False
                return True

        self._filter = _Filter()
        for view in views:
            view.viewport().installEventFilter(self._filter)


class EventClock:
    """``--events``: GUI-thread time per (receiver class, event type), exclusive of nested
    events, from a QApplication whose ``notify`` reads the clock around every event. Shows
    what besides the views' show_step and paint fills a frame (layouts, labels, other
    widgets). Adds a few microseconds per event."""

    def __init__(self) -> None:
        self.exclusive: dict[tuple[str, str], float] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self._stack: list[float] = []   # time spent in nested events, per open level

    def app_class(self):
        from PySide6.QtWidgets import QApplication

        clock = self

        class TimedApplication(QApplication):
            def notify(self, receiver, event):
                clock._stack.append(0.0)
                t0 = time.perf_counter()
                try:
                    return super().notify(receiver, event)
                finally:
                    spent = time.perf_counter() - t0
                    nested = clock._stack.pop()
                    if clock._stack:
                        clock._stack[-1] += spent
                    key = (_receiver_name(receiver), _event_name(event))
                    clock.exclusive[key] = clock.exclusive.get(key, 0.0) + spent - nested
                    clock.counts[key] = clock.counts.get(key, 0) + 1

        return TimedApplication

    def reset(self) -> None:
        self.exclusive.clear()
        self.counts.clear()


def _receiver_name(obj) -> str:
    """Class name; a plain QWidget (a viewport) is named by its parent."""
    name = type(obj).__name__
    if name == "QWidget" and obj.parent() is not None:
        return f"{type(obj.parent()).__name__}>QWidget"
    return name


def _event_name(event) -> str:
    kind = event.type()
    return getattr(kind, "name", str(kind))


def wrap_show_step(view, times: list[float], cpu: list[float]) -> None:
    """Record the duration of every ``view.show_step`` call (an instance attribute shadows
    the method, so the controller's calls go through it)."""
    original = view.show_step

    def timed(index: int) -> None:
        t0, c0 = time.perf_counter(), time.thread_time()
        try:
            original(index)
        finally:
            times.append(time.perf_counter() - t0)
            cpu.append(time.thread_time() - c0)

    view.show_step = timed


def thread_times(pid: int | str = "self") -> dict[str, tuple[float, float]]:
    """Every thread of a process (Linux ``/proc/PID/task/*/schedstat``): {"name tid": (seconds
    on a core, seconds runnable but waiting for one, voluntary and involuntary context
    switches)}. A thread neither running nor waiting
    for a core is blocked (a lock such as the GIL, a pipe, a timer). Empty elsewhere."""
    import glob
    import threading

    names = {t.native_id: t.name for t in threading.enumerate()} if pid == "self" else {}
    out = {}
    for task in glob.glob(f"/proc/{pid}/task/*"):
        try:
            with open(f"{task}/comm") as f:
                name = f.read().strip()
            with open(f"{task}/schedstat") as f:
                run_ns, wait_ns = (int(x) for x in f.read().split()[:2])
            with open(f"{task}/status") as f:
                switches = {line.split(":")[0]: int(line.split()[1]) for line in f
                            if "ctxt_switches" in line}
        except (OSError, ValueError):
            continue
        tid = task.rsplit("/", 1)[1]
        name = names.get(int(tid), name)
        out[f"{name} {tid}"] = (run_ns / 1e9, wait_ns / 1e9,
                                switches.get("voluntary_ctxt_switches", 0),
                                switches.get("nonvoluntary_ctxt_switches", 0))
    return out


def children_pids() -> list[int]:
    """This process's child processes (Linux ``/proc/self/task/*/children``)."""
    import glob

    pids = []
    for path in glob.glob("/proc/self/task/*/children"):
        try:
            with open(path) as f:
                pids += [int(p) for p in f.read().split()]
        except OSError:
            continue
    return pids


def times_between(before: dict, after: dict) -> dict[str, tuple]:
    """Per thread between two ``thread_times`` readings: (run, wait) seconds and the
    (voluntary, involuntary) context switches."""
    zero = (0, 0, 0, 0)
    return {k: tuple(a - b for a, b in zip(after[k], before.get(k, zero))) for k in after}
