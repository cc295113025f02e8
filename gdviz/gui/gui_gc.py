"""Python's cyclic garbage collector runs in the GUI thread only.

A collection runs in whichever thread allocates when a threshold is crossed. When a grid or
analysis thread started one, it destroyed Qt objects held in reference cycles (widgets, plot
items, their connections) from that thread. Measured here: a deadlock — the worker, inside
``QObject::disconnect`` and holding Qt's connection mutex, waited for the GIL, which the GUI
thread held while it waited for that mutex to build a QMenu — and the SIGSEGVs in Qt's scene
painting that issue 13 could only work around (a scene painting an item another thread had
just deleted). So automatic collection is off and the GUI thread collects on a 1 s timer,
generation by generation as Python would (pyqtgraph's ``GarbageCollector``)."""

from __future__ import annotations

import gc

_collector = None


def collect_in_gui_thread(interval_s: float = 1.0) -> None:
    """Turn automatic collection off and collect from the GUI thread (call it from the GUI
    thread, once a QApplication exists; later calls do nothing)."""
    global _collector
    if _collector is not None:
        return
    from pyqtgraph.util.garbage_collector import GarbageCollector

    _collector = GarbageCollector(interval=interval_s)


def is_collecting_in_gui_thread() -> bool:
    return _collector is not None and not gc.isenabled()
