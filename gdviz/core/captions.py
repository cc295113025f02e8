"""Lesson captions: a short script of sentences tied to steps or events of a run, and which one
is active at a given step. Pure (numpy + standard library): the window, the exports and the
tests evaluate the same script on the same history.

A script is a list of captions; in JSON (presets, sessions)::

    [{"at_step": 0, "text": "w0 = -0.3: every sample has its own loss curve"},
     {"when": "grad_norm_below", "value": 0.02,
      "text": "stuck on a flat stretch: |g| = {grad_norm:.1g}"},
     {"when": "moved_again", "text": "the next sample's curve kicks it out"},
     {"when": "ended", "text": "near the global minimum -0.76: current loss {batch_loss:.2f}"},
     {"when": "diverged", "run": 1, "text": "lr 5: the loss passes 1e10 at step {step}"}]

Triggers (``TRIGGERS``), each evaluated on one run's history (step i = history index i):

- ``at_step`` N: fires at step N.
- ``grad_norm_below`` v: fires at each step >= 1 where |g| (the norm of the gradient the step
  used) drops below v, having been >= v the step before (each flat stretch fires once, at its
  first step; step 0, whose gradient is the full one at the start, never counts).
- ``moved_again`` [v]: fires at the first step after such a stretch where |g| >= v again;
  v defaults to the script's first ``grad_norm_below`` value (else 1e-3).
- ``loss_below`` v / ``batch_loss_below`` v: the first step where the full loss / the loss of
  the step's batch (at the parameters before the step) is below v.
- ``diverged``, ``converged``, ``ended`` (any end: finished, converged or diverged): the run's
  last step, once the run has ended that way.

Optional keys: ``run`` (which run of a comparison, 0-based; default the selected run) and
``hold`` (the caption shows for that many steps; default until another caption fires).
The caption shown at step i is the one that fired last at a step <= i (ties: the later in the
list). Its text may name numbers of the step SHOWN with Python format fields: ``{step}``,
``{epoch}``, ``{loss}``, ``{batch_loss}``, ``{grad_norm}``, ``{lr}`` (e.g. ``{loss:.3g}``).
Every event depends only on the steps up to it, so the caption at step i is the same while a
run plays, after it ended and when the timeline is scrubbed back.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError

TRIGGERS = ("at_step", "grad_norm_below", "moved_again", "loss_below", "batch_loss_below",
            "diverged", "converged", "ended")
_NEEDS_VALUE = ("at_step", "grad_norm_below", "loss_below", "batch_loss_below")
_ENDS = {"diverged": ("diverged",), "converged": ("converged",),
         "ended": ("finished", "converged", "diverged")}
FIELDS = ("step", "epoch", "loss", "batch_loss", "grad_norm", "lr")
DEFAULT_FLAT = 1e-3  # |g| below which moved_again counts a stretch as flat, when none is given
MAX_TEXT = 300


@dataclass(frozen=True)
class Caption:
    """One caption: ``trigger`` (one of TRIGGERS), its ``value`` (the step of ``at_step``,
    the threshold of the ``*_below`` triggers and of ``moved_again``; None otherwise),
    ``text`` (may hold format fields of FIELDS), ``run`` (None: the selected run) and ``hold``
    (steps shown; None: until another caption fires)."""

    trigger: str
    text: str
    value: float | None = None
    run: int | None = None
    hold: int | None = None

    def __post_init__(self) -> None:
        if self.trigger not in TRIGGERS:
            raise ConfigError(f"unknown caption trigger {self.trigger!r}; choose from: "
                              f"{', '.join(TRIGGERS)}")
        if not isinstance(self.text, str) or not self.text.strip():
            raise ConfigError(f"a caption ({self.trigger}) needs a text")
        if len(self.text) > MAX_TEXT:
            raise ConfigError(f"a caption's text is at most {MAX_TEXT} characters, "
                              f"got {len(self.text)}")
        object.__setattr__(self, "text", " ".join(self.text.split()))
        try:
            self.text.format(**dict.fromkeys(FIELDS, 1.0))
        except (KeyError, IndexError, ValueError) as err:
            raise ConfigError(f"caption {self.text!r}: a {{field}} must be one of "
                              f"{', '.join(FIELDS)} ({type(err).__name__}: {err})") from None
        value = self.value
        if self.trigger in _NEEDS_VALUE and value is None:
            raise ConfigError(f"caption trigger {self.trigger} needs a value")
        if self.trigger in _ENDS and value is not None:
            raise ConfigError(f"caption trigger {self.trigger} takes no value")
        if value is not None:
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or not math.isfinite(value):
                raise ConfigError(f"caption {self.trigger}: the value must be a finite number, "
                                  f"got {value!r}")
            if self.trigger == "at_step" and (value != int(value) or value < 0):
                raise ConfigError(f"caption at_step: the step must be a whole number >= 0, "
                                  f"got {value!r}")
            if self.trigger in ("grad_norm_below", "moved_again") and value <= 0:
                raise ConfigError(f"caption {self.trigger}: the gradient norm must be > 0, "
                                  f"got {value!r}")
        for name in ("run", "hold"):
            number = getattr(self, name)
            low = 0 if name == "run" else 1
            if number is not None and (isinstance(number, bool) or not isinstance(number, int)
                                       or number < low):
                raise ConfigError(f"caption {name} must be a whole number >= {low}, "
                                  f"got {number!r}")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = ({"at_step": int(self.value)} if self.trigger == "at_step"
                               else {"when": self.trigger})
        if self.trigger != "at_step" and self.value is not None:
            out["value"] = self.value
        if self.run is not None:
            out["run"] = self.run
        if self.hold is not None:
            out["hold"] = self.hold
        out["text"] = self.text
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Caption:
        if not isinstance(data, Mapping):
            raise ConfigError("a caption must be an object with a trigger and a text")
        unknown = sorted(set(data) - {"at_step", "when", "value", "text", "run", "hold"})
        if unknown:
            raise ConfigError(f"unknown caption key(s): {', '.join(unknown)}")
        if ("at_step" in data) == ("when" in data):
            raise ConfigError("a caption needs exactly one of 'at_step' and 'when'")
        if "at_step" in data:
            if "value" in data:
                raise ConfigError("a caption with at_step takes no 'value'")
            trigger, value = "at_step", data["at_step"]
        else:
            trigger, value = data["when"], data.get("value")
        return cls(trigger, data.get("text", ""), value, data.get("run"), data.get("hold"))

    def describe(self) -> str:
        """The trigger in words, for the editor's table: "at step 5", "grad_norm_below 0.02"."""
        if self.trigger == "at_step":
            return f"at step {int(self.value)}"
        return self.trigger if self.value is None else f"{self.trigger} {self.value:g}"


@dataclass(frozen=True)
class CaptionScript:
    """A validated, ordered tuple of captions (may be empty)."""

    captions: tuple[Caption, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.captions)

    def __len__(self) -> int:
        return len(self.captions)

    def to_list(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.captions]

    @classmethod
    def from_list(cls, data: Any) -> CaptionScript:
        """From JSON (a list of caption objects); ConfigError naming the caption otherwise."""
        if data is None:
            return cls()
        if not isinstance(data, list):
            raise ConfigError("captions must be a list of caption objects")
        out = []
        for k, item in enumerate(data):
            try:
                out.append(Caption.from_dict(item))
            except ConfigError as err:
                raise ConfigError(f"caption {k + 1}: {err}") from None
        return cls(tuple(out))

    def check_runs(self, n_runs: int) -> None:
        """ConfigError when a caption names a run the comparison does not have."""
        for caption in self.captions:
            if caption.run is not None and caption.run >= n_runs:
                raise ConfigError(f"caption {caption.text!r} names run {caption.run}, but there "
                                  f"{'is' if n_runs == 1 else 'are'} {n_runs} "
                                  f"run{'s' if n_runs != 1 else ''} (0-based)")

    def flat_threshold(self) -> float:
        for caption in self.captions:
            if caption.trigger == "grad_norm_below":
                return float(caption.value)
        return DEFAULT_FLAT


def fired_steps(caption: Caption, history, upto: int, flat: float = DEFAULT_FLAT) -> np.ndarray:
    """(k,) int64 history rows <= row ``upto`` at which ``caption`` fires on ``history`` (a
    ``core.history.RunHistory``: its steps, losses, batch_losses, grads and status_at; a row
    is its step below the history's bound, beyond it the kept steps: core.thinning)."""
    n = min(len(history), upto + 1)
    if n <= 0:
        return np.empty(0, np.int64)
    trigger = caption.trigger
    if trigger == "at_step":
        row = int(np.searchsorted(history.steps[:n], int(caption.value)))  # or the next kept
        return np.array([row] if row < n else [], np.int64)
    if trigger in _ENDS:
        last = n - 1
        ended = last == len(history) - 1 and history.status_at(last) in _ENDS[trigger]
        return np.array([last] if ended else [], np.int64)
    if trigger in ("loss_below", "batch_loss_below"):
        values = (history.losses if trigger == "loss_below" else history.batch_losses)[:n]
        hits = np.flatnonzero(values < caption.value)
        return hits[:1].astype(np.int64)
    grads = history.grads[:n]
    norms = np.sqrt(np.einsum("ij,ij->i", grads, grads))
    threshold = caption.value if caption.value is not None else flat
    below = norms < threshold  # NaN counts as not flat
    below[0] = False  # step 0 holds the full gradient at the start, not a step's gradient
    before = np.concatenate(([False], below[:-1]))
    if trigger == "grad_norm_below":
        return np.flatnonzero(below & ~before).astype(np.int64)
    return np.flatnonzero(~below & before).astype(np.int64)  # moved_again


def active_caption(script: CaptionScript, histories: Sequence, selected: int,
                   index: int) -> Caption | None:
    """The caption shown at lock-step ``index`` (run k at its step min(index, len_k - 1)), or
    None. ``histories``: every run's history; captions without ``run`` follow ``selected``."""
    best: tuple[int, int] | None = None
    found = None
    flat = script.flat_threshold()
    for order, caption in enumerate(script.captions):
        run = selected if caption.run is None else caption.run
        if not 0 <= run < len(histories) or len(histories[run]) == 0:
            continue
        history = histories[run]
        shown = history.row_at(index)
        fired = fired_steps(caption, history, shown, flat)
        if not len(fired):
            continue
        at = int(fired[-1])
        if best is None or (at, order) >= best:
            best, found = (at, order), (caption, at, shown)
    if found is None:
        return None
    caption, at, shown = found
    steps = histories[selected if caption.run is None else caption.run].steps
    if caption.hold is not None and steps[shown] >= steps[at] + caption.hold:
        return None
    return caption


def caption_text(script: CaptionScript, histories: Sequence, selected: int,
                 index: int) -> str:
    """The text shown at lock-step ``index``, its fields filled with the numbers of the step
    shown (of the run the caption follows); "" when no caption is active."""
    caption = active_caption(script, histories, selected, index)
    if caption is None:
        return ""
    run = selected if caption.run is None else caption.run
    history = histories[run]
    i = history.row_at(index)
    grad = history.grads[i]
    values = {"step": int(history.steps[i]), "epoch": int(history.epochs[i]),
              "loss": float(history.losses[i]), "batch_loss": float(history.batch_losses[i]),
              "grad_norm": float(np.sqrt(np.dot(grad, grad))), "lr": float(history.lrs[i])}
    try:
        return caption.text.format(**values)
    except (ValueError, TypeError):  # a format spec that does not fit an int, e.g. {step:.2f}
        return caption.text
