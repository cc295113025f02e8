"""Shared by the session tests: bad files are refused and change nothing in the window."""

from __future__ import annotations

import pytest

from gdviz.export.session import SessionError
from gdviz.gui.session_window import open_session_file


def assert_refused_leaving_window_as_it_was(window, bad_files: dict[str, str], tmp_path,
                                            state) -> None:
    """Every text of ``bad_files`` (name -> file text) is refused with a SessionError, and
    ``state(window)`` is the same after each as before."""
    before = state(window)
    for name, text in bad_files.items():
        path = tmp_path / "bad.gdviz.json"
        path.write_text(text, encoding="utf-8")
        with pytest.raises(SessionError):
            open_session_file(window, path)
        assert state(window) == before, name
