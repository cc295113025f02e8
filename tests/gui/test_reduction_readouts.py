"""Defect 6 of issue 13: every readout follows the problem's reduction. Logistic's loss is a SUM
over its 500 samples: its gradient g is 500/k times the batch's sum of per-sample gradients
(500 times their mean), never "the mean over k samples"."""

from __future__ import annotations

import re

import numpy as np
import pytest

from gdviz.core.presets import get_preset
from gdviz.core.runner import iterate
from gdviz.gui.panels.step_math import step_math_html
from gdviz.gui.views import HistogramView
from tests.gui.view_helpers import make_view


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", "", html)


def second_record(preset: str, **changes):
    config = get_preset(preset).config.with_changes(max_steps=5, **changes)
    records = iterate(config)
    next(records)
    return next(records), config


@pytest.mark.parametrize(("batch", "words"), [
    (None, "gradient g (sum over all 500 samples)"),
    (10, "gradient g (500/10 × the sum over 10 samples: the sum over 500, estimated)"),
    (1, "gradient g (500 × this sample's: the sum over 500 samples, estimated)"),
])
def test_step_math_of_a_sum_loss_says_sum(batch, words):
    record, config = second_record("logistic", batch_size=batch)
    problem = config.make_problem()
    assert problem.reduction == "sum"
    k = len(record.batch)
    # what the words say is what the runner computed
    np.testing.assert_allclose(record.grad, 500 / k * record.sample_grads.sum(axis=0))
    text = text_of(step_math_html(record, config, problem))
    assert "mean over" not in text
    assert words in text
    if k > 1:
        assert "per-sample gradients in this batch (g is 500 × their mean)" in text
    if k < 500:
        assert f"loss on the batch × 500/{k} " in text


@pytest.mark.parametrize(("batch", "words"), [
    (10, "gradient g (mean over 10 samples)"),
    (1, "gradient g (this sample's)"),
])
def test_step_math_of_a_mean_loss_says_mean(batch, words):
    record, config = second_record("linreg", batch_size=batch)
    problem = config.make_problem()
    assert problem.reduction == "mean"
    np.testing.assert_allclose(record.grad, record.sample_grads.mean(axis=0))
    text = text_of(step_math_html(record, config, problem))
    assert words in text
    assert "sum" not in text
    assert "loss on the batch " in text


def test_the_window_s_readouts_follow_the_reduction(qtbot, make_window):
    window = make_window("logistic")
    window.toolbar.act_step.trigger()
    qtbot.waitUntil(lambda: "step 1" in window.step_math.plain_text(), timeout=10_000)
    text = window.step_math.plain_text()
    assert "gradient g (sum over all 500 samples)" in text
    assert "mean over" not in text
    assert "sum of ℓ over the 500 samples" in window.status.labels["loss"].toolTip()
    assert "the sum of the batch's k per-sample gradients" in \
        window.status.labels["grad"].toolTip()
    window.load_preset("linreg")
    window.toolbar.act_step.trigger()
    qtbot.waitUntil(lambda: "step 1" in window.step_math.plain_text(), timeout=10_000)
    assert "mean of ℓ over the 1000 samples" in window.status.labels["loss"].toolTip()
    assert "the mean of the batch's per-sample gradients" in \
        window.status.labels["grad"].toolTip()


def test_the_histogram_caption_names_both_markers_on_the_per_sample_scale(qtbot):
    view, problem, config, history = make_view(qtbot, HistogramView, "logistic",
                                               batch_size=10)
    view.show_step(3)
    info = view.frame.info.text()
    assert "full gradient / n (black)" in info
    assert "gradient of the step / n (violet)" in info
    # the key names the lines as the caption does
    assert "gradient of the step / n" in view.key.texts()
    assert "full gradient / n" in view.key.texts()
