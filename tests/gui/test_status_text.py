"""status_label.set_status_text: a status line's height is measured once per text shape (digits made
0) and is what the label itself measures."""

import numpy as np
import pyqtgraph as pg

from gdviz.gui.views import status_label, style


def _label(qtbot, width: int):
    label = status_label.wrapping_label()
    qtbot.addWidget(label)
    label.resize(width, 20)
    label.show()
    return label


def test_status_heights_are_the_measured_ones(qtbot):
    rng = np.random.default_rng(0)
    for width in (120, 246, 700):
        label = _label(qtbot, width)
        tallest = 0
        for i in range(300):
            if i == 150:   # a new run: the line may take fewer lines again
                label.reset_height()
                tallest = 0
            text = (f"step {5000 + i} · sample {rng.integers(0, 100)} · batch loss "
                    f"{style.fmt(rng.uniform(-1, 1))} · slope {style.fmt(rng.uniform(-3, 3), 3)}"
                    + " · held: b = 1" * int(rng.integers(0, 3)))
            status_label.set_status_text(label, text)
            assert label.text() == text
            measured = label.heightForWidth(width)
            assert label.needed == (text, width, measured)
            tallest = max(tallest, measured)
            assert label.minimumHeight() == tallest   # only grows, as SteadyLabel's
        # private: the cache of heights per text shape; the number of measurements it saves
        # shows nowhere else (shapes repeat: fewer measurements than texts)
        assert 0 < len(label._shape_heights) < 300


def test_rich_text_and_plain_labels_are_set_as_usual(qtbot):
    plain = pg.QtWidgets.QLabel()
    qtbot.addWidget(plain)
    status_label.set_status_text(plain, "step 3")
    assert plain.text() == "step 3"
    rich = _label(qtbot, 200)
    rich.setTextFormat(pg.QtCore.Qt.TextFormat.RichText)
    status_label.set_status_text(rich, "<b>step 3</b>")
    assert rich.text() == "<b>step 3</b>"
    assert not hasattr(rich, "_shape_heights")   # private: no height cache for rich text


def test_a_status_line_is_copied_from_its_menu_not_laid_out_as_a_document(qtbot):
    """Status lines change on every frame: they are plain labels (a selectable one lays its
    text out in a text document on each change); the right-click menu's Copy copies them."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication

    label = _label(qtbot, 300)
    assert not label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse
    assert label.contextMenuPolicy() == Qt.ContextMenuPolicy.ActionsContextMenu
    (copy,) = label.actions()
    assert copy.text() == "Copy"
    status_label.set_status_text(label, "step 12 · loss 0.5")
    copy.trigger()
    assert QGuiApplication.clipboard().text() == "step 12 · loss 0.5"
    label.setText("<span style='color:#1a3a8f'>&#9632;</span> sgd &amp; adam")   # an info line
    copy.trigger()
    assert QGuiApplication.clipboard().text() == "■ sgd & adam"
