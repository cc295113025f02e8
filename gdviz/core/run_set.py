"""One description of a run, ``RunSpec`` (configuration, name, colour), and the runs of a
comparison as the window, sessions, exports and the CLI share them. Qt-free: it sits in core so
that export and the CLI use it without importing the GUI layer.

Pure functions over tuples of frozen ``RunSpec``s (no widgets), so the rules are easy to test:
1..MAX_RUNS runs, every run shares the problem, start point and limits (core.lockstep), names
are unique and follow the settings until the user renames a run, colours come from a
colour-blind-friendly palette and are distinct.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from gdviz.core.errors import ConfigError
from gdviz.core.lockstep import MAX_RUNS, check_runs, default_run_name, share_settings
from gdviz.core.records import RunConfig

# Okabe & Ito's palette for colour-vision deficiencies (no yellow: unreadable on white), with
# gdviz's dark blue first so that a single run looks as it always did. Orange comes last: next
# to vermillion it is the pair most easily confused on thin lines.
PALETTE = ("#1a3a8f", "#d55e00", "#009e73", "#cc79a7", "#56b4e9", "#e69f00")
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")


NAMED_BY = ("auto", "preset", "user")


@dataclass(frozen=True)
class RunSpec:
    """One run of a comparison. ``named_by``: "auto" (the name describes the settings and
    follows them), "preset" (a preset's name: kept until the run's settings change, then
    automatic) or "user" (typed by the user: always kept)."""

    name: str
    color: str
    config: RunConfig
    named_by: str = "auto"

    @property
    def auto_name(self) -> bool:
        return self.named_by == "auto"


def next_color(used: Sequence[str]) -> str:
    """The first palette colour no run uses (the palette has MAX_RUNS colours)."""
    taken = {c.lower() for c in used}
    for color in PALETTE:
        if color not in taken:
            return color
    return PALETTE[len(used) % len(PALETTE)]


def named(runs: Sequence[RunSpec]) -> tuple[RunSpec, ...]:
    """``runs`` with every automatic name refreshed from its settings, made unique with
    " (2)", " (3)" ... (user-typed names are kept as they are)."""
    out: list[RunSpec] = []
    taken = {r.name for r in runs if not r.auto_name}
    for run in runs:
        if not run.auto_name:
            out.append(run)
            continue
        base = default_run_name(run.config)
        name, k = base, 2
        while name in taken:
            name, k = f"{base} ({k})", k + 1
        taken.add(name)
        out.append(replace(run, name=name))
    return tuple(out)


def single(config: RunConfig, name: str | None = None, color: str = PALETTE[0]) -> RunSpec:
    if name:
        return RunSpec(name, color, config, named_by="user")
    return named((RunSpec("", color, config),))[0]


def from_pairs(pairs: Sequence[tuple[str, RunConfig]]) -> tuple[RunSpec, ...]:
    """A preset's (name, config) pairs with palette colours."""
    runs = tuple(RunSpec(name, PALETTE[k % len(PALETTE)], config,
                         named_by="preset" if name else "auto")
                 for k, (name, config) in enumerate(pairs))
    return named(runs)


def validate(runs: Sequence[RunSpec]) -> tuple[RunSpec, ...]:
    """ConfigError unless ``runs`` is a valid comparison (count, shared settings, colours)."""
    check_runs([r.config for r in runs])
    for run in runs:
        if not _COLOR.match(run.color):
            raise ConfigError(f"run {run.name!r}: the colour must look like #rrggbb, "
                              f"got {run.color!r}")
        if not run.name.strip():
            raise ConfigError("a run needs a name")
        if run.named_by not in NAMED_BY:
            raise ConfigError(f"run {run.name!r}: unknown naming {run.named_by!r}")
    return tuple(runs)


def add_copy(runs: Sequence[RunSpec], k: int) -> tuple[RunSpec, ...]:
    """A copy of run k (its settings, a new colour) at the end; ConfigError at MAX_RUNS."""
    if len(runs) >= MAX_RUNS:
        raise ConfigError(f"at most {MAX_RUNS} runs can be compared; remove one first")
    source = runs[k]
    copy = RunSpec(source.name, next_color([r.color for r in runs]), source.config)
    if source.named_by == "user":
        copy = replace(copy, name=_copy_name(source.name, runs), named_by="user")
    return named((*runs, copy))


def _copy_name(name: str, runs: Sequence[RunSpec]) -> str:
    names = {r.name for r in runs}
    k = 2
    while f"{name} ({k})" in names:
        k += 1
    return f"{name} ({k})"


def remove(runs: Sequence[RunSpec], k: int) -> tuple[RunSpec, ...]:
    if len(runs) <= 1:
        raise ConfigError("the last run cannot be removed")
    return named(tuple(r for i, r in enumerate(runs) if i != k))


def with_config(runs: Sequence[RunSpec], k: int, config: RunConfig) -> tuple[RunSpec, ...]:
    """Run k gets ``config``; the others take its shared settings (problem, start, limits,
    seed). A name the user typed is always kept; a preset's name too while the run's own
    settings (optimizer, learning rate, batch ...) stay as the preset made them, whatever
    happens to the shared ones; once they change it no longer describes the run and becomes
    automatic."""
    out = []
    for i, run in enumerate(runs):
        new = config if i == k else share_settings(run.config, config)
        own_changed = share_settings(new, run.config) != run.config
        named_by = "auto" if run.named_by == "preset" and own_changed else run.named_by
        out.append(replace(run, config=new, named_by=named_by))
    return named(out)


def renamed(runs: Sequence[RunSpec], k: int, name: str) -> tuple[RunSpec, ...]:
    """Run k named ``name`` (typed by the user); an empty name goes back to the automatic one."""
    name = " ".join(name.split())
    out = list(runs)
    out[k] = replace(runs[k], name=name or runs[k].name, named_by="user" if name else "auto")
    return named(out)


def recolored(runs: Sequence[RunSpec], k: int, color: str) -> tuple[RunSpec, ...]:
    if not _COLOR.match(color):
        raise ConfigError(f"a colour looks like #rrggbb, got {color!r}")
    out = list(runs)
    out[k] = replace(runs[k], color=color.lower())
    return tuple(out)
