"""One exception type for anything a user typed or loaded that we cannot accept.

Its message is shown to the user as is (GUI: inline or in a dialog; CLI: one line on stderr),
so it must read as a sentence about their input, never as a programmer's trace.
"""


class ConfigError(ValueError):
    """A user-facing validation error. ``str(err)`` is the message to show."""


def format_number(value: object) -> str:
    """Render a number the way a user typed it (``-1``, ``0.5``, ``nan``) for messages."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)
