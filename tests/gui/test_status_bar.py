"""The window's status bar: a message too long for the room beside the fields ends in "…" with
the whole of it in the tooltip; currentMessage() is the whole message; timeouts clear it."""

from gdviz.gui.panels.status import RunStatusBar


def test_a_long_message_is_cut_with_an_ellipsis_and_kept_whole(qtbot):
    bar = RunStatusBar()
    qtbot.addWidget(bar)
    bar.resize(700, 24)
    bar.show()
    long = ("Every run ended (1 finished, 1 diverged): nesterov lr=0.002 diverged at step 22 — "
            "try a smaller learning rate, then Reset (R); sgd lr=0.001 finished after 2000 steps")
    bar.showMessage(long)
    label = bar.message_label
    qtbot.waitUntil(lambda: label.text().endswith("…"), timeout=3000)
    assert label.fontMetrics().horizontalAdvance(label.text()) <= label.width()
    assert label.toolTip() == long
    assert bar.currentMessage() == long
    assert long in bar.text()
    bar.resize(3000, 24)   # room for all of it: whole, no tooltip
    qtbot.waitUntil(lambda: label.text() == long, timeout=3000)
    assert label.toolTip() == ""


def test_a_message_with_a_timeout_goes_away(qtbot):
    bar = RunStatusBar()
    qtbot.addWidget(bar)
    bar.show()
    bar.showMessage("short lived", 50)
    assert bar.currentMessage() == "short lived"
    qtbot.waitUntil(lambda: bar.currentMessage() == "", timeout=3000)
    assert bar.message_label.text() == ""
    bar.showMessage("stays")   # no timeout: an earlier timer does not clear it
    qtbot.wait(120)
    assert bar.currentMessage() == "stays"
