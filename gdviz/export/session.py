"""Session files (``.gdviz.json``): the runs, their settings and seeds, the view choices and
the current step, so that opening one replays the identical trajectories. No Qt here.

Layout (version 2; version 1 files are read too)::

    {"format": "gdviz-session", "version": 2,
     "runs": [{"name": "wavy", "color": "#1a3a8f", "config": {<RunConfig.to_dict()>},
               "data": {"name": "mydata.csv", "csv": "x,y\\n1,2\\n..."}}, ...],   # optional
     "selected": 0,               # index into runs
     "step": 57,                  # the lock-step index shown when the session was saved
     "views": {"samples": {"param": "w", "zoom_box": false},   # per view: its choices
               "learning_curve": {"log_box": true},
               "docks": {"samples": true, "histogram": false, ...}},   # dock visibility
     "captions": [{"at_step": 0, "text": "..."}, ...],   # the lesson's captions (optional)
     "seeds": 64}                 # seeds of every run the window runs at once (optional)

``captions`` (core.captions format) was added without a new version: a file without it loads
with ``captions`` None (the window then uses its lesson's, if any), and an older gdviz ignores
it. ``seeds`` likewise (written only when more than 1; a file without it means 1).

A session is shared between people (a teacher sends one to a class), so it is untrusted
input. Its data travels inside it: a run's CSV data up to ``EMBED_MAX_BYTES`` is embedded as
``data`` (its ``config`` has no ``data_path``) and, when loaded, is written to gdviz's cache
folder under a name made of its hash (``data_cache_dir``), which the run's ``data_path`` then
names. Bigger data is named by a ``data_path`` relative to the session's folder; a path that
leaves that folder (``..``, an absolute path, a symbolic link out of it) is refused with
``DataOutsideError`` unless the caller allows it (``--allow-outside-data``, or the user's
confirmation in the window). Errors about the data a session names never quote its content,
and every text from the file shown in a message is escaped (``core.text.shown``).

``load_session`` checks EVERYTHING (JSON, types, the format tag, the version, every run's
configuration through RunConfig's own validation, that the runs can be compared -- 1 to 6 runs
sharing problem, start point and limits, as core.lockstep.check_runs says -- and the step
against the longest run's limit) before returning, so a caller that applies the result only
after it returned never half-applies a bad file. Every refusal is a SessionError with one
sentence that names the file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gdviz.core.captions import CaptionScript
from gdviz.core.errors import ConfigError
from gdviz.core.file_read import read_regular
from gdviz.core.lockstep import MAX_RUNS, check_runs
from gdviz.core.problems.csv_data import load_csv
from gdviz.core.records import RunConfig
from gdviz.core.run_set import PALETTE, RunSpec
from gdviz.core.seed_paths import checked_seed_count
from gdviz.core.text import shown
from gdviz.export.files import atomic_file, atomic_text

FORMAT = "gdviz-session"
VERSION = 2  # 2: data embedded or relative to the session's folder; 1: data_path as saved
SUFFIX = ".gdviz.json"
EMBED_MAX_BYTES = 2 * 1024 * 1024  # CSV data up to this size travels inside the session
# a session is a few kB (plus its embedded data); refuse to parse anything huge
MAX_BYTES = 4 * EMBED_MAX_BYTES + 1024 * 1024
CACHE_ENV = "GDVIZ_CACHE_DIR"
DEFAULT_COLOR = PALETTE[0]  # a run saved without a colour: the single run's
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_SCALARS = (bool, int, float, str)
MAX_NAME = 200  # characters of a run name
MAX_VIEWS = 100  # entries of 'views' and of each view's choices


class SessionError(ConfigError):
    """A session file that cannot be used; the message says why in one sentence."""


class DataOutsideError(SessionError):
    """The session names a data file outside its own folder; ``path`` is that file. Loading
    it needs the user's consent (``allow_outside_data=True``)."""

    def __init__(self, message: str, path: str) -> None:
        super().__init__(message)
        self.path = path


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
    seeds: int = 1   # seeds of every run the window runs at once (gui.seed_runs)

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
        if self.seeds > 1:
            out["seeds"] = self.seeds
        return out


def session_to_json(session: Session, folder: str | os.PathLike | None = None) -> str:
    """The file's text. ``folder`` is where the session goes: each run's data is embedded up
    to EMBED_MAX_BYTES, else named relative to ``folder`` (None: the current folder)."""
    data = session.to_dict()
    base = Path(folder if folder is not None else ".").absolute()
    for run, saved in zip(session.runs, data["runs"]):
        path = run.config.data_path
        if not path:
            continue
        try:
            raw = read_regular(path, "data file", EMBED_MAX_BYTES)
            saved["data"] = {"name": Path(path).name, "csv": raw.decode("utf-8")}
            saved["config"]["data_path"] = None
        except (ConfigError, UnicodeDecodeError):  # too big to embed: a relative path
            saved["config"]["data_path"] = os.path.relpath(Path(path).absolute(), base)
    return json.dumps(data, indent=2, sort_keys=False) + "\n"


def save_session(path: str | os.PathLike, session: Session) -> Path:
    """Write ``session`` atomically (a temporary file beside it, renamed): an existing file is
    never left half-written. OSError propagates with the reason."""
    path = Path(path)
    validate_session(session.to_dict(), shown(path), folder=None, allow_outside_data=True)
    text = session_to_json(session, path.absolute().parent)
    with atomic_text(path) as handle:
        handle.write(text)
    return path


def load_session(path: str | os.PathLike, allow_outside_data: bool = False) -> Session:
    """Read and validate a session file; SessionError (one sentence) when it is not usable,
    DataOutsideError when it names data outside its folder and ``allow_outside_data`` is
    False. Only a regular file is read, at most MAX_BYTES (``core.file_read``)."""
    path = Path(path)
    name = shown(path)
    try:
        raw = read_regular(path, "session", MAX_BYTES)
    except ConfigError as err:
        raise SessionError(str(err)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SessionError(f"{name} is not a gdviz session: it is not text (UTF-8)") from None
    return parse_session(text, name, folder=path.absolute().parent,
                         allow_outside_data=allow_outside_data)


def parse_session(text: str, name: str = "the session",
                  folder: str | os.PathLike | None = None,
                  allow_outside_data: bool = False) -> Session:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        what = "it is cut short" if err.pos >= len(text.rstrip()) else "it is not valid JSON"
        raise SessionError(f"{name} is not a gdviz session: {what} (line {err.lineno}, "
                           f"column {err.colno})") from None
    except RecursionError:
        raise SessionError(f"{name} is not a gdviz session: it is nested too deeply") from None
    except ValueError:  # an integer of thousands of digits (Python's int_max_str_digits)
        raise SessionError(f"{name} is not a gdviz session: it holds a number too long to "
                           "read") from None
    return validate_session(data, name, folder, allow_outside_data)


def validate_session(data: Any, name: str = "the session",
                     folder: str | os.PathLike | None = None,
                     allow_outside_data: bool = False) -> Session:
    """The Session ``data`` (parsed JSON) describes; SessionError for anything wrong.
    ``folder``: the session file's folder, which relative data paths start from and which
    they may not leave unless ``allow_outside_data`` (None: data paths are used as they
    are, for a session the program made itself)."""
    def bad(why: str) -> SessionError:
        return SessionError(f"{name} is not a usable gdviz session: {why}")

    if not isinstance(data, dict):
        raise bad(f"the file holds {_kind(data)}, not an object")
    if data.get("format") != FORMAT:
        raise bad(f"the format tag is {_quoted(data.get('format'))}, expected {FORMAT!r}")
    version = data.get("version")
    if not _is_int(version):
        raise bad(f"the version must be a whole number, got {_kind(version)}")
    if version > VERSION:
        raise SessionError(f"{name} was saved by a newer gdviz (session version "
                           f"{_quoted(version)}; "
                           f"this gdviz reads version {VERSION}): update gdviz to open it")
    if version < 1:
        raise bad(f"unknown session version {_quoted(version)}")
    runs_data = data.get("runs")
    if not isinstance(runs_data, list) or not runs_data:
        raise bad("'runs' must be a non-empty list of runs")
    if len(runs_data) > MAX_RUNS:  # before any run is looked at
        raise bad(f"it holds {len(runs_data)} runs; a comparison holds 1 to {MAX_RUNS}")
    runs = tuple(_run(r, i, bad, folder, allow_outside_data, version)
                 for i, r in enumerate(runs_data))
    try:  # the window runs them in lock-step: refuse here, before anything is applied
        check_runs([r.config for r in runs])
    except ConfigError as err:
        raise bad(str(err)) from None
    selected = data.get("selected", 0)
    if not _is_int(selected) or not 0 <= selected < len(runs):
        raise bad(f"'selected' must be a run index from 0 to {len(runs) - 1}, "
                  f"got {_quoted(selected)}")
    step = data.get("step", 0)
    # a lock-step index: up to the longest run's limit (runs with other batch sizes have
    # other limits: max_epochs is shared, the steps per epoch are not)
    limit = max(r.config.step_limit() for r in runs)
    if not _is_int(step) or not 0 <= step <= limit:
        raise bad(f"'step' must be a whole number from 0 to {limit} (the "
                  f"{'longest ' if len(runs) > 1 else ''}run's limit), got {_quoted(step)}")
    views = data.get("views", {})
    if not isinstance(views, dict):
        raise bad(f"'views' must be an object, got {_kind(views)}")
    if len(views) > MAX_VIEWS or any(isinstance(c, dict) and len(c) > MAX_VIEWS
                                     for c in views.values()):
        raise bad(f"'views' holds more than {MAX_VIEWS} entries")
    for view, choices in views.items():
        if not isinstance(choices, dict):
            raise bad(f"the choices of view '{shown(view, 40)}' must be an object, got "
                      f"{_kind(choices)}")
        for key, value in choices.items():
            if not isinstance(value, _SCALARS):
                raise bad(f"the choice {shown(view, 40)}.{shown(key, 40)} must be true/false, "
                          f"a number or a text, got {_kind(value)}")
    captions = None
    if "captions" in data:
        try:
            captions = CaptionScript.from_list(data["captions"])
            captions.check_runs(len(runs))
        except ConfigError as err:
            raise bad(str(err)) from None
    try:
        seeds = checked_seed_count(data.get("seeds", 1))
    except ConfigError as err:
        raise bad(f"'seeds': {err}") from None
    return Session(runs, selected, step, {k: dict(v) for k, v in views.items()}, captions,
                   seeds)


def _run(data: Any, i: int, bad, folder, allow_outside: bool, version: int) -> RunSpec:
    if not isinstance(data, dict):
        raise bad(f"run {i} must be an object, got {_kind(data)}")
    name = data.get("name", f"run {i + 1}")
    if not isinstance(name, str) or not name.strip():
        raise bad(f"run {i}: 'name' must be a non-empty text")
    if len(name) > MAX_NAME:
        raise bad(f"run {i}: 'name' is longer than {MAX_NAME} characters")
    name = shown(name.strip())  # a name is shown on terminals and in the window: no escapes
    color = data.get("color", DEFAULT_COLOR)
    if not isinstance(color, str) or not _COLOR.match(color):
        raise bad(f"run {i}: 'color' must look like #rrggbb, got '{shown(color, 20)}'")
    config = data.get("config")
    if not isinstance(config, dict):
        raise bad(f"run {i}: 'config' must be an object, got {_kind(config)}")
    config = dict(config)
    if "data" in data:
        config["data_path"] = _embedded_data(data["data"], i, name, bad)
    elif config.get("data_path") is not None and folder is not None:
        config["data_path"] = _data_path(config["data_path"], i, name, bad, Path(folder),
                                         allow_outside, version)
        _check_named_data(config["data_path"], i, name, bad)
    try:
        cfg = RunConfig.from_dict(config)
    except ConfigError as err:
        raise bad(f"run {i} ({name}): {shown(err, 300)}") from None
    except Exception as err:  # wrong JSON types reach code that expects numbers or objects
        raise bad(f"run {i} ({name}): a setting has the wrong type "
                  f"({type(err).__name__}: {shown(err, 80)})") from None
    return RunSpec(name, color, cfg)


def data_cache_dir() -> Path:
    """Where embedded data is put when a session is opened: ``$GDVIZ_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/gdviz/session-data``, else ``~/.cache/gdviz/session-data``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gdviz" / "session-data"


def _embedded_data(data: Any, i: int, name: str, bad) -> str:
    """The path of run i's embedded CSV, written (once: the name is its hash) to the cache."""
    if not isinstance(data, dict) or not isinstance(data.get("csv"), str):
        raise bad(f"run {i} ({name}): 'data' must be an object with the CSV text as 'csv'")
    raw = data["csv"].encode("utf-8", "surrogatepass")
    if len(raw) > EMBED_MAX_BYTES:
        raise bad(f"run {i} ({name}): its embedded data is over {EMBED_MAX_BYTES} bytes")
    label = data.get("name") if isinstance(data.get("name"), str) else "data.csv"
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", Path(label).stem)[:40] or "data"
    folder = data_cache_dir()
    target = folder / f"{stem}-{hashlib.sha256(raw).hexdigest()[:16]}.csv"
    if not (target.is_file() and target.read_bytes() == raw):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_file(target, "wb") as handle:
                handle.write(raw)
        except (OSError, ConfigError) as err:
            why = err.strerror if isinstance(err, OSError) else str(err)
            raise SessionError(f"cannot store the data of run {i} ({name}) in {folder}: "
                               f"{why}") from None
    return str(target)


def _data_path(value: Any, i: int, name: str, bad, folder: Path, allow_outside: bool,
               version: int) -> str:
    """Run i's data file: ``value`` relative to the session's ``folder``; DataOutsideError if
    it leaves the folder (a version 1 file saved absolute paths: the same rule applies)."""
    if not isinstance(value, str) or not value or "\0" in value:
        raise bad(f"run {i} ({name}): 'data_path' must be a file name")
    path = Path(value)
    resolved = os.path.realpath(folder / path)
    inside = os.path.realpath(folder)
    if os.path.commonpath([resolved, inside]) != inside and not allow_outside:
        raise DataOutsideError(
            f"run {i} ({name}) of the session reads its data from {shown(resolved)}, outside "
            f"the session's folder {shown(inside)}; to read it, confirm in the window or pass "
            "--allow-outside-data", resolved)
    return str(folder / path) if not path.is_absolute() else value


def _check_named_data(path: str, i: int, name: str, bad) -> None:
    """Refuse data the session names (not chosen by the user) without quoting any of it."""
    try:
        load_csv(path)
    except ConfigError:
        raise bad(f"run {i} ({name}): its data file {shown(path)} is missing, unreadable or "
                  "not CSV data gdviz can use (open it with Load CSV… to see why)") from None


def _quoted(value: Any) -> str:
    """A value from the file for a message: its repr, escaped and cut short."""
    return shown(repr(value), 60)


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
