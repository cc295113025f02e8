"""Limits and numbers: every number is parsed within bounds and in one documented form
(ASCII digits, no "_"), limits are checked before the work they limit, and text from files
reaches the terminal escaped (``core.text.shown``). The bad values are generated per option."""

from __future__ import annotations

import io
import json
import random
import unicodedata

import pytest

from gdviz.cli.main import main
from gdviz.core.errors import ConfigError
from gdviz.core.records import RunConfig
from gdviz.core.text import shown
from gdviz.export.animation import ExportSpec, validate_spec
from gdviz.export.gif import MAX_FPS, MIN_FPS, GifWriter
from gdviz.export.session import SessionError, parse_session
from tests.faults.helpers import run_gdviz

BAD_NUMBERS = ["1_0", "²", "١٢", "５", "1" * 5000, "0x10", "", " ", "1e3e3", "--",
               "\x1b[2J5", "5\u202e", "٣.٥", "1,5,"]
INT_OPTIONS = ["--steps", "--epochs", "--seed", "--batch-size"]
FLOAT_OPTIONS = ["--lr", "--tol"]
EXPORT_INT_OPTIONS = ["--frames", "--steps-per-frame", "--first-step", "--loop"]


def _unsafe_chars(text: str) -> list[str]:
    return [c for c in text.rstrip("\n") if unicodedata.category(c)[0] == "C"
            or unicodedata.category(c) in ("Zl", "Zp")]


def _one_escaped_line(err: str) -> str:
    lines = err.strip("\n").split("\n")
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert not _unsafe_chars(lines[0]), repr(lines[0])
    return lines[0]


def _main(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("option", INT_OPTIONS + FLOAT_OPTIONS + ["--init"])
def test_bad_numbers_for_run_options_are_one_escaped_line(option, capsys, tmp_path):
    for value in BAD_NUMBERS:
        if option == "--init" and value.startswith("1,5"):
            continue
        argv = ["run", "--problem", "booth", f"{option}={value}", "--out", "-"]
        if option == "--epochs":
            argv = ["run", "--problem", "linreg", f"{option}={value}", "--out", "-"]
        code, err = _main(argv, capsys)
        assert code == 2, (option, value)
        _one_escaped_line(err)


@pytest.mark.parametrize("option", EXPORT_INT_OPTIONS + ["--fps", "--size"])
def test_bad_numbers_for_export_options_are_one_escaped_line(option, capsys, tmp_path):
    for value in [*BAD_NUMBERS, "²x480", "640x٤٨٠", "640x480x2", "0.001", "1e400", "nan",
                  "9" * 30]:
        code, err = _main(["export", "--preset", "wavy", f"{option}={value}",
                           "--out", str(tmp_path / "x.gif")], capsys)
        assert code == 2, (option, value, err)
        _one_escaped_line(err)
    assert list(tmp_path.iterdir()) == []


def test_the_accepted_fps_range_is_what_the_gif_writer_accepts(tmp_path):
    config = RunConfig(problem="booth", max_steps=5)
    rng = random.Random(0)
    candidates = [MIN_FPS, MAX_FPS, MIN_FPS / 2, MAX_FPS * 1.01, 1 / 3, 0.0015, 100 / 65535]
    candidates += [10 ** rng.uniform(-3, 2) for _ in range(30)]
    for fps in candidates:
        try:
            validate_spec(ExportSpec(config=config, target="samples", out=tmp_path / "a.gif",
                                     frames=3, fps=fps))
            accepted = True
        except ConfigError:
            accepted = False
        assert accepted == (MIN_FPS <= fps <= MAX_FPS)
        if accepted:  # the writer takes every accepted rate, delays fit in 16 bits
            writer = GifWriter(io.BytesIO(), (16, 16), fps, 0, None)
            assert all(0 < writer._next_delay_cs() <= 65535 for _ in range(3))


def test_the_slowest_rate_exports(tmp_path):
    proc = run_gdviz(["export", "--problem", "booth", "--steps", "5", "--frames", "2",
                      "--size", "32x32", "--fps", str(MIN_FPS), "--out", "a.gif"],
                     cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    from PIL import Image

    with Image.open(tmp_path / "a.gif") as gif:
        assert gif.info["duration"] == 100_000  # ms: 10000 hundredths


# -- sessions: limits before the work, numbers within bounds ----------------------------------
def _good_run():
    return {"name": "r", "config": RunConfig(problem="booth", max_steps=5).to_dict()}


def _session(**fields):
    return {"format": "gdviz-session", "version": 2, "runs": [_good_run()], **fields}


def test_a_million_runs_are_refused_before_any_is_validated():
    text = json.dumps(_session(runs=[{}] * 1_000_000))
    with pytest.raises(SessionError, match="holds 1000000 runs; a comparison holds 1 to 6"):
        parse_session(text)


def test_huge_and_long_numbers_anywhere_in_a_session_are_refused_in_one_line():
    long_digits = "9" * 5000  # past Python's int_max_str_digits: json.loads raises
    big = "9" * 4000          # parses to an int far past 64 bits
    places = ["version", "selected", "step"]
    config_places = ["lr", "seed", "max_steps", "batch_size", "tol"]
    for digits in (long_digits, big, "1e400", "-1e400"):
        for place in places:
            text = json.dumps(_session()).replace('"version": 2', '"version": 2', 1)
            data = json.loads(text)
            data[place] = 0
            text = json.dumps(data).replace(f'"{place}": 0', f'"{place}": {digits}', 1)
            with pytest.raises(SessionError) as info:
                parse_session(text)
            assert len(str(info.value)) < 400
        for place in config_places:
            data = _session()
            data["runs"][0]["config"][place] = 0
            text = json.dumps(data).replace(f'"{place}": 0', f'"{place}": {digits}', 1)
            with pytest.raises(SessionError) as info:
                parse_session(text)
            assert len(str(info.value)) < 400


CONTROL = ["\x1b[2J", "\x1b]0;owned\x07", "\x07", "\r", "\n", "\x9b31m", "\u202e", "\u2028",
           "\x00", "\x7f", "\u200b", "\U000e0041"]


def test_control_characters_from_a_session_never_reach_stderr_raw(tmp_path):
    for i, bad in enumerate(CONTROL):
        data = _session()
        data["runs"][0]["name"] = f"run{bad}name"
        data["runs"][0]["config"]["lr"] = -1  # so that the message names the run
        data["runs"][0]["config"]["optimizer"] = f"x{bad}"
        path = tmp_path / f"s{i}.gdviz.json"
        path.write_text(json.dumps(data))
        proc = run_gdviz(["run", "--session", path, "--out", "-"])
        assert proc.returncode == 2
        _one_escaped_line(proc.stderr)
        data["views"] = {f"v{bad}": 3}
        path.write_text(json.dumps(data))
        proc = run_gdviz(["run", "--session", path, "--out", "-"])
        assert proc.returncode == 2
        _one_escaped_line(proc.stderr)


def test_shown_never_lets_an_unsafe_character_through():
    rng = random.Random(1)
    for _ in range(2000):
        text = "".join(chr(rng.choice([rng.randrange(0, 0x250), rng.randrange(0, 0x110000)]))
                       for _ in range(rng.randrange(0, 30)))
        out = shown(text, 50)
        assert not _unsafe_chars(out)
        assert "\n" not in out
        assert len(out) <= 51
    assert shown("plain name, ünïcode ok") == "plain name, ünïcode ok"
    assert shown("a\x1b[31mb") == "a\\x1b[31mb"


def test_csv_cells_follow_the_same_number_rule(tmp_path):
    from gdviz.core.problems.csv_data import load_csv

    for cell in ["1_0", "١٢", "²", "５", "1e3_0"]:
        path = tmp_path / "d.csv"
        path.write_text(f"x,y\n1,2\n{cell},3\n", encoding="utf-8")
        with pytest.raises(ConfigError, match="line 3.*is not a number"):
            load_csv(str(path))
    path.write_text("x,y\n1e3,-2.5\n.5,inf\n")
    with pytest.raises(ConfigError, match="not a finite number"):
        load_csv(str(path))


def test_mutated_sessions_are_refused_in_one_sentence_or_open():
    """Generated: 500 sessions, each a valid one with 1 to 3 values replaced by a value of
    another kind (or removed); each opens, or is refused with one bounded, escaped sentence."""
    from gdviz.core.presets import get_preset
    from gdviz.export.session import Session, session_to_json

    base = json.loads(session_to_json(Session(get_preset("compare_rosenbrock").runs)))
    values = [None, True, 0, -1, 1.5, 1e308, "x", "", [], {}, [1, 2], {"a": 1}, "9" * 70,
              10**30, -(10**30), "\x1b[2J", [[[]]]]

    def paths(obj, prefix=()):
        yield prefix
        items = obj.items() if isinstance(obj, dict) else \
            enumerate(obj) if isinstance(obj, list) else ()
        for key, value in items:
            yield from paths(value, (*prefix, key))

    every = [p for p in paths(base) if p]
    rng = random.Random(19)
    for _ in range(500):
        data = json.loads(json.dumps(base))
        for _ in range(rng.randint(1, 3)):
            path = rng.choice(every)
            parent = data
            try:
                for key in path[:-1]:
                    parent = parent[key]
                if isinstance(parent, dict) and rng.random() < 0.2:
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = rng.choice(values)
            except (KeyError, IndexError, TypeError):
                pass
        message = _refusal(json.dumps(data))
        if message is not None:
            _one_escaped_line(message)
            assert len(message) < 1000


def _refusal(text: str) -> str | None:
    """The SessionError's message for the session ``text``; None when it opens (any other
    exception fails the test)."""
    try:
        parse_session(text, "s.gdviz.json")
    except SessionError as err:
        return str(err)
    return None
