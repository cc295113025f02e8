"""Session files (``.gdviz.json``): the runs, their settings and seeds, the view choices and
the current step, so that opening one replays the identical trajectories. No Qt here.

Layout (version 1)::

    {"format": "gdviz-session", "version": 1,
     "runs": [{"name": "wavy", "color": "#1a3a8f", "config": {<RunConfig.to_dict()>}}, ...],
     "selected": 0,               # index into runs
     "step": 57,                  # the lock-step index shown when the session was saved
     "views": {"samples": {"param": "w", "zoom_box": false},   # per view: its choices
               "learning_curve": {"log_box": true},
               "docks": {"samples": true, "histogram": false, ...}},   # dock visibility
     "captions": [{"at_step": 0, "text": "..."}, ...]}   # the lesson's captions (optional)

``captions`` (core.captions format) was added without a new version: a file without it loads
with ``captions`` None (the window then uses its lesson's, if any), and an older gdviz ignores
it.

``load_session`` checks EVERYTHING (JSON, types, the format tag, the version, every run's
configuration through RunConfig's own validation, that the runs can be compared -- 1 to 6 runs
sharing problem, start point and limits, as core.lockstep.check_runs says -- and the step
against the longest run's limit) before returning, so a caller that applies the result only
after it returned never half-applies a bad file. Every refusal is a SessionError with one
sentence that names the file.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdviz.core.captions import CaptionScript
from gdviz.core.errors import ConfigError
from gdviz.core.lockstep import check_runs
from gdviz.core.records import RunConfig
from gdviz.core.run_set import PALETTE, RunSpec
from gdviz.export.files import atomic_text

FORMAT = "gdviz-session"
VERSION = 1
SUFFIX = ".gdviz.json"
MAX_BYTES = 16 * 1024 * 1024  # a session is a few kB; refuse to parse anything huge
DEFAULT_COLOR = PALETTE[0]  # a run saved without a colour: the single run's
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SCALARS = (bool, int, float, str)


class SessionError(ConfigError):
    """A session file that cannot be used; the message says why in one sentence."""


@dataclass(frozen=True)
class Session:
    """What a session file holds (validated). ``runs``: the window's ``RunSpec``s; the file
    keeps their names, colours and configurations (not ``named_by``: a loaded run has the
    default, and the window decides how a saved name follows later edits)."""

    runs: tuple[RunSpec, ...]
    selected: int = 0
    step: int = 0
    views: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    captions: CaptionScript | None = None  # None: the file has no captions (an older one)

    @property
    def run(self) -> RunSpec:
        """The selected run."""
        return self.runs[self.selected]

    def to_dict(self) -> dict[str, Any]:
        out = {"format": FORMAT, "version": VERSION,
               "runs": [{"name": r.name, "color": r.color, "config": r.config.to_dict()}
                        for r in self.runs],
               "selected": self.selected, "step": self.step,
               "views": {k: dict(v) for k, v in self.views.items()}}
        if self.captions is not None:
            out["captions"] = self.captions.to_list()
        return out


def session_to_json(session: Session) -> str:
    return json.dumps(session.to_dict(), indent=2, sort_keys=False) + "\n"


def save_session(path: str | os.PathLike, session: Session) -> Path:
    """Write ``session`` atomically (a temporary file beside it, renamed): an existing file is
    never left half-written. OSError propagates with the reason."""
    path = Path(path)
    validate_session(session.to_dict(), str(path))  # never write a file we would refuse
    text = session_to_json(session)
    with atomic_text(path) as handle:
        handle.write(text)
    return path


def load_session(path: str | os.PathLike) -> Session:
    """Read and validate a session file; SessionError (one sentence) when it is not usable."""
    path = Path(path)
    name = str(path)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SessionError(f"{name} is not a gdviz session: {size} bytes is far too large")
        text = path.read_text(encoding="utf-8")
    except SessionError:
        raise
    except FileNotFoundError:
        raise SessionError(f"cannot open the session {name}: no such file") from None
    except IsADirectoryError:
        raise SessionError(f"cannot open the session {name}: it is a folder") from None
    except UnicodeDecodeError:
        raise SessionError(f"{name} is not a gdviz session: it is not text (UTF-8)") from None
    except OSError as err:
        raise SessionError(f"cannot open the session {name}: {err.strerror or err}") from None
    return parse_session(text, name)


def parse_session(text: str, name: str = "the session") -> Session:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        what = "it is cut short" if err.pos >= len(text.rstrip()) else "it is not valid JSON"
        raise SessionError(f"{name} is not a gdviz session: {what} (line {err.lineno}, "
                           f"column {err.colno})") from None
    except RecursionError:
        raise SessionError(f"{name} is not a gdviz session: it is nested too deeply") from None
    return validate_session(data, name)


def validate_session(data: Any, name: str = "the session") -> Session:
    """The Session ``data`` (parsed JSON) describes; SessionError for anything wrong."""
    def bad(why: str) -> SessionError:
        return SessionError(f"{name} is not a usable gdviz session: {why}")

    if not isinstance(data, dict):
        raise bad(f"the file holds {_kind(data)}, not an object")
    if data.get("format") != FORMAT:
        raise bad(f"the format tag is {data.get('format')!r}, expected {FORMAT!r}")
    version = data.get("version")
    if not _is_int(version):
        raise bad(f"the version must be a whole number, got {_kind(version)}")
    if version > VERSION:
        raise SessionError(f"{name} was saved by a newer gdviz (session version {version}; "
                           f"this gdviz reads version {VERSION}): update gdviz to open it")
    if version < 1:
        raise bad(f"unknown session version {version}")
    runs_data = data.get("runs")
    if not isinstance(runs_data, list) or not runs_data:
        raise bad("'runs' must be a non-empty list of runs")
    runs = tuple(_run(r, i, bad) for i, r in enumerate(runs_data))
    try:  # the window runs them in lock-step: refuse here, before anything is applied
        check_runs([r.config for r in runs])
    except ConfigError as err:
        raise bad(str(err)) from None
    selected = data.get("selected", 0)
    if not _is_int(selected) or not 0 <= selected < len(runs):
        raise bad(f"'selected' must be a run index from 0 to {len(runs) - 1}, "
                  f"got {selected!r}")
    step = data.get("step", 0)
    # a lock-step index: up to the longest run's limit (runs with other batch sizes have
    # other limits: max_epochs is shared, the steps per epoch are not)
    limit = max(r.config.step_limit() for r in runs)
    if not _is_int(step) or not 0 <= step <= limit:
        raise bad(f"'step' must be a whole number from 0 to {limit} (the "
                  f"{'longest ' if len(runs) > 1 else ''}run's limit), got {step!r}")
    views = data.get("views", {})
    if not isinstance(views, dict):
        raise bad(f"'views' must be an object, got {_kind(views)}")
    for view, choices in views.items():
        if not isinstance(choices, dict):
            raise bad(f"the choices of view {view!r} must be an object, got {_kind(choices)}")
        for key, value in choices.items():
            if not isinstance(value, _SCALARS):
                raise bad(f"the choice {view}.{key} must be true/false, a number or a text, "
                          f"got {_kind(value)}")
    captions = None
    if "captions" in data:
        try:
            captions = CaptionScript.from_list(data["captions"])
            captions.check_runs(len(runs))
        except ConfigError as err:
            raise bad(str(err)) from None
    return Session(runs, selected, step, {k: dict(v) for k, v in views.items()}, captions)


def _run(data: Any, i: int, bad) -> RunSpec:
    if not isinstance(data, dict):
        raise bad(f"run {i} must be an object, got {_kind(data)}")
    name = data.get("name", f"run {i + 1}")
    if not isinstance(name, str) or not name.strip():
        raise bad(f"run {i}: 'name' must be a non-empty text")
    color = data.get("color", DEFAULT_COLOR)
    if not isinstance(color, str) or not _COLOR.match(color):
        raise bad(f"run {i}: 'color' must look like #rrggbb, got {color!r}")
    config = data.get("config")
    if not isinstance(config, dict):
        raise bad(f"run {i}: 'config' must be an object, got {_kind(config)}")
    try:
        cfg = RunConfig.from_dict(config)
    except ConfigError as err:
        raise bad(f"run {i} ({name}): {err}") from None
    except Exception as err:  # wrong JSON types reach code that expects numbers or objects
        raise bad(f"run {i} ({name}): a setting has the wrong type "
                  f"({type(err).__name__}: {err})") from None
    return RunSpec(name.strip(), color, cfg)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a text", bool: "true/false",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(value), type(value).__name__)


def session_name(path: str | os.PathLike) -> str:
    """The file name without the .gdviz.json suffix (for run names and titles)."""
    name = Path(path).name
    return name[: -len(SUFFIX)] if name.endswith(SUFFIX) else Path(name).stem
