"""The one sanitiser for text that came from a file (run names, column names, paths, cells)
before it is shown on a terminal or in the window.

A session or a CSV file is untrusted: a run name holding ``ESC [2J`` would clear the user's
terminal, a bidirectional override (U+202E) would show a name backwards, a newline would
forge a second message line. ``shown`` escapes every such character the way Python writes
it (``\\x1b``, ``\\u202e``, ``\\n``) and cuts the text to a length, so what reaches stderr,
a label or a dialog is always one line of visible characters.
"""

from __future__ import annotations

import unicodedata

MAX_SHOWN = 200  # characters of one name or value in a message


def _escape(char: str) -> str:
    code = ord(char)
    if code < 0x100:
        return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{code:02x}")
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _unsafe(char: str) -> bool:
    # C*: controls, formats (bidi overrides, zero-width), surrogates, private use,
    # unassigned; Zl/Zp: line and paragraph separators
    return unicodedata.category(char)[0] == "C" or unicodedata.category(char) in ("Zl", "Zp")


def shown(text: object, limit: int = MAX_SHOWN) -> str:
    """``text`` as one line of visible characters: unsafe characters escaped, at most
    ``limit`` characters (then ``…``)."""
    text = str(text)
    if text.isprintable() and len(text) <= limit and text.isascii():
        return text
    out = "".join(_escape(c) if _unsafe(c) else c for c in text[: limit + 1])
    return out[:limit] + "…" if len(out) > limit else out
