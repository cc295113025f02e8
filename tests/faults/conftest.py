"""Fault tests: the command line run as a child process (as a user or a script runs it), with
the limits, signals and files a careful tester throws at it (helpers.py). The window's fault
tests are in tests/gui/test_fault_*.py."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
