"""A small LRU of computed results per problem, weakly keyed so a dropped problem frees them.

Shared by the loss grids (grids.GridCache) and the 1-D slices (surfaces.SliceCache).
``hits``/``misses`` count lookups (the views count a miss as one computation)."""

from __future__ import annotations

import weakref
from collections import OrderedDict
from typing import Any

from gdviz.core.problems.base import Problem


class ProblemLRU:
    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._by_problem: weakref.WeakKeyDictionary[Problem, OrderedDict] = \
            weakref.WeakKeyDictionary()
        self.hits = 0
        self.misses = 0

    def lookup(self, problem: Problem, key: Any) -> Any | None:
        """The stored value for (problem, key), marked most recent; None (a miss) if absent."""
        entries = self._by_problem.get(problem)
        found = None if entries is None else entries.get(key)
        if found is None:
            self.misses += 1
            return None
        entries.move_to_end(key)
        self.hits += 1
        return found

    def store(self, problem: Problem, key: Any, value: Any) -> None:
        entries = self._by_problem.setdefault(problem, OrderedDict())
        entries[key] = value
        while len(entries) > self.max_entries:
            entries.popitem(last=False)

    def clear(self) -> None:
        self._by_problem.clear()
