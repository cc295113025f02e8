"""Presets: the five lessons of SCENARIOS.md, the classic functions, and run comparisons.

Lesson and comparison presets are JSON files in resources/presets (bundled everywhere);
one preset per analytic test function is derived from the problem registry.
JSON layout::

    {"name": "wavy", "title": "...", "group": "lesson" | "comparison", "description": "...",
     "config": {<RunConfig fields>},
     "runs": [{"name": "adam lr=0.05", "config": {<fields overriding "config">}}, ...],
     "front": ["step_math", ...],     # views the lesson brings to the front (optional)
     "captions": [{"at_step": 0, "text": "..."}, ...],   # the lesson's script (core.captions)
     "views": {"surface3d": {"log_box": false}},      # view choices the lesson opens with
     "seeds": 64}                     # seeds the window runs at once (optional, 1 to 256)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from gdviz.core.captions import CaptionScript
from gdviz.core.errors import ConfigError
from gdviz.core.problems.registry import problem_specs
from gdviz.core.records import RunConfig
from gdviz.core.resources import resource_path
from gdviz.core.run_set import RunSpec, from_pairs
from gdviz.core.seed_paths import checked_seed_count


@dataclass(frozen=True)
class Preset:
    """A named starting point. ``runs`` is empty for single-run presets; for comparisons it
    holds the runs as the window opens them (``RunSpec``: the preset's name for each run,
    palette colours), sharing ``config``'s problem and start point. ``front``: the views (ids)
    the lesson brings in front of the tabs they share a place with. ``captions``: the
    lesson's script of captions (``core.captions``), shown on the main view as it plays.
    ``views``: {view id: {choice: value}} the lesson opens its views with, as a session
    stores them (the bowl: a linear 3-D height). ``seeds``: how many seeds of every run the
    window runs at once (gui.seed_runs; 1: the runs alone)."""

    name: str
    title: str
    group: str  # "lesson" | "function" | "network" | "comparison"
    description: str
    config: RunConfig
    runs: tuple[RunSpec, ...] = ()
    front: tuple[str, ...] = ()
    captions: CaptionScript = CaptionScript()
    views: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    seeds: int = 1


def _from_json(data: dict) -> Preset:
    config = RunConfig.from_dict(data["config"])
    runs = []
    for run in data.get("runs", ()):
        merged = {**config.to_dict(), **run.get("config", {})}
        runs.append((run["name"], RunConfig.from_dict(merged)))
    captions = CaptionScript.from_list(data.get("captions"))
    captions.check_runs(max(1, len(runs)))
    views = data.get("views", {})
    if not isinstance(views, dict) or not all(isinstance(v, dict) for v in views.values()):
        raise ConfigError("'views' must map view ids to objects of choices")
    return Preset(data["name"], data["title"], data.get("group", "lesson"),
                  data.get("description", ""), config, from_pairs(runs),
                  tuple(data.get("front", ())), captions,
                  {k: dict(v) for k, v in views.items()},
                  checked_seed_count(data.get("seeds", 1)))


def _function_preset(spec) -> Preset:
    config = RunConfig(problem=spec.name, optimizer="sgd", lr=_FUNCTION_LR.get(spec.name, 0.01),
                       batch_size=1, max_steps=500)
    return Preset(spec.name, spec.title, "function", spec.description, config)


# Learning rates that make plain SGD progress visibly without diverging from the default start.
_FUNCTION_LR = {"rosenbrock": 0.001, "beale": 0.001, "styblinski-tang": 0.01,
                "six-hump-camel": 0.01, "monkey-saddle": 0.01, "rastrigin": 0.001,
                "matyas": 0.5, "quadratic": 0.018}


@lru_cache(maxsize=1)
def list_presets() -> tuple[Preset, ...]:
    """Every preset: lessons (JSON), one per analytic function, networks (JSON), then
    comparisons (JSON)."""
    loaded = []
    for path in sorted(resource_path("presets").glob("*.json")):
        try:
            loaded.append(_from_json(json.loads(path.read_text(encoding="utf-8"))))
        except (OSError, ValueError, KeyError, TypeError, ConfigError) as err:
            raise ConfigError(f"preset file {path.name} is invalid: {err}") from err
    lessons = [p for p in loaded if p.group == "lesson"]
    comparisons = [p for p in loaded if p.group == "comparison"]
    networks = [p for p in loaded if p.group == "network"]
    functions = [_function_preset(s) for s in problem_specs() if s.family == "analytic"]
    order = {"wavy": 0, "linreg": 1, "logistic": 2, "slope": 3, "slope_minibatch": 3.5, "bowl": 4}
    lessons.sort(key=lambda p: order.get(p.name, 9))
    return tuple(lessons + functions + networks + comparisons)


def get_preset(name: str) -> Preset:
    for preset in list_presets():
        if preset.name == name:
            return preset
    names = ", ".join(p.name for p in list_presets())
    raise ConfigError(f"unknown preset {name!r}; choose from: {names}")


def preset_of(config: RunConfig) -> Preset | None:
    """The preset whose (first) run is exactly ``config`` (its lesson text is shown), else
    None."""
    for preset in list_presets():
        if (preset.runs[0].config if preset.runs else preset.config) == config:
            return preset
    return None


def comparison_preset_of(configs) -> Preset | None:
    """The comparison preset whose runs have exactly the settings ``configs``, else None."""
    configs = list(configs)
    for preset in list_presets():
        if preset.runs and [run.config for run in preset.runs] == configs:
            return preset
    return None
