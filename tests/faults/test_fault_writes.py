"""Files written: every file appears whole or not at all, whatever fails and wherever.

The failures are generated: a writer that raises after every possible number of bytes
(in-process), and a file-size limit (RLIMIT_FSIZE: writes past it fail as on a full disk)
at many sizes for ``gdviz run --out``, sessions and GIF exports (child processes)."""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from gdviz.core.errors import ConfigError
from gdviz.export.files import (
    atomic_file,
    atomic_path,
    check_target,
    remove_stale_temporaries,
    stale_temporaries,
    temp_file_beside,
)
from tests.faults.helpers import assert_one_line, listing, run_gdviz


class _Boom(Exception):
    pass


def _write_then_fail(target, mode, data) -> None:
    with atomic_file(target, mode) as handle:
        handle.write(data)
        raise _Boom


@pytest.mark.parametrize("mode", ["w", "wb"])
def test_a_writer_failing_after_any_number_of_bytes_leaves_the_old_file_whole(tmp_path, mode):
    target = tmp_path / "t.csv"
    old = "old content\n"
    target.write_text(old)
    text = "step,loss\n" + "".join(f"{i},{i / 7!r}\n" for i in range(40))
    data = text if mode == "w" else text.encode()
    for cut in range(0, len(data) + 1, 7):
        with pytest.raises(_Boom):
            _write_then_fail(target, mode, data[:cut])
        assert target.read_text() == old
        assert listing(tmp_path) == ["t.csv"]
    with atomic_file(target, mode) as handle:
        handle.write(data)
    assert target.read_text() == text
    assert listing(tmp_path) == ["t.csv"]


def test_published_files_get_the_umask_permissions(tmp_path):
    mask = os.umask(0o027)
    try:
        with atomic_file(tmp_path / "a.txt") as handle:
            handle.write("x")
    finally:
        os.umask(mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640


def test_targets_that_are_not_files_are_refused_before_any_work(tmp_path):
    cases = {tmp_path: "it is a folder",
             tmp_path / "missing" / "t.csv": "does not exist"}
    for target, why in cases.items():
        with pytest.raises(ConfigError, match=why):
            check_target(target)
    with pytest.raises(ConfigError, match="cannot write"), atomic_path("/proc/gdviz.csv"):
        pass


def _write_full() -> None:
    with atomic_file("/dev/full") as handle:
        handle.write("x" * 100_000)


def test_a_device_is_written_directly(tmp_path):
    with atomic_file("/dev/null") as handle:
        handle.write("nothing")
    with pytest.raises(OSError, match="No space left"):
        _write_full()


def test_temporaries_of_dead_processes_are_found_and_removed(tmp_path):
    import subprocess

    child = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
        from pathlib import Path
        from gdviz.export.files import temp_file_beside, temp_folder_in
        temp_file_beside(Path({str(tmp_path)!r}) / "a.gif", ".gif.part")
        temp_folder_in(Path({str(tmp_path)!r}))
        """)], env={**os.environ, "PYTHONPATH": os.getcwd()}, check=True)
    assert child.returncode == 0
    mine = temp_file_beside(tmp_path / "b.gif", ".gif.part")  # alive: never stale
    (tmp_path / ".not-ours.part").write_text("")  # not gdviz's: left alone
    stale = stale_temporaries(tmp_path)
    assert len(stale) == 2
    assert mine not in stale
    assert sorted(remove_stale_temporaries(tmp_path)) == sorted(stale)
    assert listing(tmp_path) == sorted([mine.name, ".not-ours.part"])


# -- the command line under a file-size limit (a full disk) -----------------------------------
RUN = ["run", "--preset", "wavy"]


def test_run_out_full_device_is_one_line_status_1(tmp_path):
    proc = run_gdviz([*RUN, "--out", "/dev/full"])
    assert proc.returncode == 1
    assert "No space left on device" in assert_one_line(proc.stderr)


@pytest.mark.parametrize(("target", "why"), [("/proc/gdviz.csv", "cannot write"),
                                        ("missing/t.csv", "does not exist"),
                                        (".", "is a folder")])
def test_run_out_unwritable_targets_are_bad_input(tmp_path, target, why):
    proc = run_gdviz([*RUN, "--out", target], cwd=tmp_path)
    assert proc.returncode == 2
    assert why in assert_one_line(proc.stderr)
    assert listing(tmp_path) == []


def test_run_out_under_many_disk_limits_leaves_no_partial_file(tmp_path):
    full = run_gdviz([*RUN, "--out", "whole.csv"], cwd=tmp_path)
    assert full.returncode == 0
    size = (tmp_path / "whole.csv").stat().st_size
    (tmp_path / "t.csv").write_text("the old trace\n")
    for limit in (0, 1, 100, 4096, size // 2, size - 1):
        proc = run_gdviz([*RUN, "--out", "t.csv"], cwd=tmp_path, fsize=limit)
        assert proc.returncode == 1, (limit, proc.stderr)
        assert "could not write t.csv: File too large" in assert_one_line(proc.stderr)
        assert (tmp_path / "t.csv").read_text() == "the old trace\n"
        assert listing(tmp_path) == ["t.csv", "whole.csv"]
    proc = run_gdviz([*RUN, "--out", "t.csv"], cwd=tmp_path, fsize=size)
    assert proc.returncode == 0
    assert (tmp_path / "t.csv").read_bytes() == (tmp_path / "whole.csv").read_bytes()


def test_session_save_under_disk_limits_leaves_no_partial_file(tmp_path):
    script = textwrap.dedent("""
        import sys
        from gdviz.core.presets import get_preset
        from gdviz.export.session import Session, save_session
        try:
            save_session(sys.argv[1], Session(get_preset("compare_rosenbrock").runs))
        except OSError as err:
            print(err.strerror, file=sys.stderr)
            sys.exit(1)
        """)
    import subprocess

    from tests.faults.helpers import file_size_limit, gdviz_env

    target = tmp_path / "s.gdviz.json"
    for limit in (0, 10, 300, 1000, None):
        proc = subprocess.run([sys.executable, "-c", script, str(target)], env=gdviz_env(),
                              capture_output=True, text=True,
                              preexec_fn=None if limit is None else file_size_limit(limit))
        if limit is None:
            assert proc.returncode == 0, proc.stderr
            assert json.loads(target.read_text())["format"] == "gdviz-session"
        else:
            assert proc.returncode == 1
            assert "File too large" in proc.stderr
            assert listing(tmp_path) == []


def test_gif_export_under_disk_limits_leaves_no_partial_file(tmp_path):
    args = ["export", "--preset", "wavy", "--frames", "5", "--size", "64x48", "--out", "a.gif"]
    for limit in (0, 500, 3000):
        proc = run_gdviz(args, cwd=tmp_path, fsize=limit)
        assert proc.returncode == 1, proc.stderr
        assert "could not write a.gif" in assert_one_line(proc.stderr)
        assert listing(tmp_path) == []
