"""The map (contour, and the 3-D view's stand-in) with several runs: the runs share a
budget of path points and (x, w) dots, and the (x, w) rows are computed once per history."""

from __future__ import annotations

import dataclasses
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np

from gdviz.core.history import decimate
from gdviz.core.records import RunConfig
from gdviz.core.run_set import RunSpec
from gdviz.gui.views.base import RunTrack
from gdviz.gui.views.contour import MAX_POINTS
from gdviz.gui.views.pair_view import sample_path
from tests.gui.test_contour import COLORS, history_of, rosenbrock_tracks, show


def test_six_runs_share_a_budget_of_path_points(qtbot):
    from gdviz.gui.views.contour import MAX_PATH_POINTS, path_points

    assert [path_points(n) for n in (1, 3, 5, 6)] == [MAX_POINTS, MAX_POINTS, 600, 500]
    track = rosenbrock_tracks(steps=3000)[0]
    tracks = tuple(dataclasses.replace(track, run=dataclasses.replace(track.run, name=f"run {k}"))
                   for k in range(6))
    view = show(qtbot, tracks)
    view.show_step(2999)
    keep = decimate(track.history.steps[:3000], 500)
    for item in view.tracks_items[:6]:
        assert np.array_equal(item.xData, track.history.params[keep][:, 0])
    assert sum(len(item.xData) for item in view.tracks_items[:6]) <= MAX_PATH_POINTS + 6


def test_several_runs_share_a_budget_of_dots(qtbot):
    """Six shuffled runs show at most MAX_DOTS (x, w) dots together, each run the same
    growing subset (every s-th step) as one run would, with a coarser stride."""
    from gdviz.gui.views.contour import MAX_DOTS, dots_per_run

    assert [dots_per_run(n) for n in (1, 2, 3, 6)] == [MAX_POINTS, 750, 500, 250]
    base = RunConfig(problem="wavy", optimizer="sgd", lr=0.01, batch_size=1, max_steps=3000,
                     max_epochs=None, order="shuffle")
    tracks = tuple(RunTrack(RunSpec(f"run {k}", COLORS[k % 3], c), history_of(c))
                   for k, c in enumerate(base.with_changes(lr=0.01 * 2 ** k)
                                         for k in range(6)))
    view = show(qtbot, tracks)
    view.show_step(3000)
    counts = [len(dots.item.getData()[0]) for dots in view.tracks_dots[:6]]
    assert sum(counts) <= MAX_DOTS
    assert all(125 < n <= 250 for n in counts), counts
    stride = 16         # the smallest power of two with 3000 / stride <= dots_per_run(6)
    for dots, track in zip(view.tracks_dots, tracks):
        steps = np.arange(1, 3001)[::stride]
        assert np.array_equal(dots.item.getData()[1], track.history.params[steps - 1, 0])
    view.set_tracks(tracks[:1], 0)                       # one run again: its 1000 dots
    view.show_step(3000)
    assert 500 < len(view.tracks_dots[0].item.getData()[0]) <= MAX_POINTS


def test_sample_paths_are_computed_once_per_history_for_every_view(monkeypatch):
    """The contour and the 3-D view draw the same (x, w) paths: the rows are computed once
    per history and step, whichever asks first."""
    config = RunConfig(problem="wavy", batch_size=1, order="shuffle", max_steps=200,
                       max_epochs=None, lr=0.01)
    problem_, history = config.make_problem(), history_of(config)
    calls = []
    original = history.first_samples
    monkeypatch.setattr(history, "first_samples",
                        lambda lo, hi: (calls.append((lo, hi)), original(lo, hi))[1])
    first = sample_path(problem_, history, 150)      # the contour asks
    again = sample_path(problem_, history, 150)      # the 3-D view asks
    assert calls == [(1, len(history))]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    sample_path(problem_, history, 199)
    assert len(calls) == 1
