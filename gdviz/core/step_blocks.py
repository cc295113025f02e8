"""Lock-step groups packed into columns for the trip from a step server to the window.

Pickling StepRecords one by one costs ~24 µs a record to write and ~18 µs to read (six small
arrays and a mapping each), a third of what computing the step costs. ``pack`` turns a chunk
of consecutive groups into a few stacked arrays per run; ``unpack`` gives back records equal
to the originals bit for bit (same values, dtypes, shapes and Python types), whose arrays are
read-only views of the chunk's columns.

Numpy and the standard library only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from gdviz.core.lockstep import StepGroup, group_finished, split_groups
from gdviz.core.records import StepRecord

_SCALARS = ("step", "epoch", "lr", "batch_loss", "loss")
_VECTORS = ("params_before", "params", "grad")


@dataclass(frozen=True)
class StepChunk:
    """Consecutive lock-step groups still packed (``pack``), as a step server sent them: the
    window's histories append the columns directly, and only the records a view needs (each
    run's first and last) are made into StepRecords. Immutable; its arrays are read-only."""

    packed: tuple

    @property
    def count(self) -> int:
        return self.packed[0]

    def run(self, k: int) -> dict | None:
        """Run k's columns (None: run k had ended before this chunk)."""
        return self.packed[1][k]

    @property
    def first_step(self) -> int:
        return next(int(run["step"][0]) for run in self.packed[1] if run is not None)

    @property
    def ends_iteration(self) -> bool:
        """True when the last group ends the lock-step iteration (no run still running)."""
        return all(run is None or len(run["step"]) < self.count
                   or run["status"][-1] != "running" for run in self.packed[1])

    def record(self, k: int, i: int) -> StepRecord:
        """Run k's i-th record in this chunk (negative i counts from the end)."""
        return _record(self.packed[1][k], i)

    def groups(self) -> list[StepGroup]:
        return unpack(self.packed)


def as_groups(items: Iterable[StepGroup | StepChunk]) -> list[StepGroup]:
    """The groups of a worker emission whose items are groups or chunks, in order."""
    out: list[StepGroup] = []
    for item in items:
        if isinstance(item, StepChunk):
            out.extend(item.groups())
        else:
            out.append(item)
    return out


def item_count(item: StepGroup | StepChunk) -> int:
    return item.count if isinstance(item, StepChunk) else 1


def item_ends_iteration(item: StepGroup | StepChunk) -> bool:
    if isinstance(item, StepChunk):
        return item.ends_iteration
    return group_finished(item)


def item_first_step(item: StepGroup | StepChunk) -> int:
    if isinstance(item, StepChunk):
        return item.first_step
    return next(r.step for r in item if r is not None)


def append_items(items: Iterable[StepGroup | StepChunk], histories: Sequence,
                 states: Sequence) -> list[StepRecord | None]:
    """Append a worker emission (groups, and chunks still packed) to every run's RunHistory
    and StateHistory, in order; each run's last record appended (None: none)."""
    n = len(histories)
    last: list[StepRecord | None] = [None] * n
    stretch: list[StepGroup] = []

    def append_stretch() -> None:
        for k, records in enumerate(split_groups(stretch, n)):
            if records:
                histories[k].append(records)
                states[k].append(records)
                last[k] = records[-1]
        stretch.clear()

    for item in items:
        if not isinstance(item, StepChunk):
            stretch.append(item)
            continue
        append_stretch()
        for k in range(n):
            if item.run(k) is not None:
                histories[k].append_chunk(item, k)
                states[k].append_chunk(item, k)
                last[k] = histories[k].last
    append_stretch()
    return last


def pack(groups: Sequence[StepGroup]) -> tuple:
    """(number of groups, one packed run per column of the groups)."""
    runs = len(groups[0]) if groups else 0
    packed = []
    for k in range(runs):
        records = [group[k] for group in groups if group[k] is not None]
        packed.append(_pack_run(records) if records else None)
    return len(groups), packed


def merge(packs: Sequence[tuple]) -> tuple:
    """One packed chunk holding consecutive packed chunks one after another: what ``pack``
    makes of all their groups (``unpack`` gives the same records). Appending it once costs a
    history what appending one chunk costs, whatever the number of chunks merged."""
    if len(packs) == 1:
        return packs[0]
    runs = []
    for k in range(len(packs[0][1])):
        parts = [packed[1][k] for packed in packs if packed[1][k] is not None]
        runs.append(_merge_runs(parts) if parts else None)
    return sum(packed[0] for packed in packs), runs


def _merge_runs(parts: list[dict]) -> dict:
    if len(parts) == 1:
        return parts[0]
    out: dict = {}
    for name, first in parts[0].items():
        if name == "state":
            out[name] = _merge_states(parts)
        elif isinstance(first, np.ndarray):
            out[name] = np.concatenate([part[name] for part in parts])
        else:
            out[name] = [value for part in parts for value in part[name]]
    return out


def _merge_states(parts: list[dict]) -> tuple[str, object]:
    """States of consecutive packed runs, as ``_pack_states`` packs them all: columns when
    every part has the same columns (keys, kinds, shapes), else one dict per record."""
    packs = [part["state"] for part in parts]
    kind, first = packs[0]
    if kind == "columns" and all(
            other_kind == "columns" and _same_columns(first, other)
            for other_kind, other in packs[1:]):
        return "columns", {
            key: (value_kind, np.concatenate([data[key][1] for _, data in packs])
                  if value_kind == "array" else [v for _, data in packs for v in data[key][1]])
            for key, (value_kind, _values) in first.items()}
    return "dicts", [state for part in parts
                     for state in _state_dicts(part["state"], len(part["step"]))]


def _same_columns(a: dict, b: dict) -> bool:
    return tuple(a) == tuple(b) and all(
        a[key][0] == b[key][0] and (a[key][0] != "array" or (
            a[key][1].shape[1:] == b[key][1].shape[1:] and a[key][1].dtype == b[key][1].dtype))
        for key in a)


def _state_dicts(packed: tuple[str, object], count: int) -> list[dict]:
    kind, data = packed
    if kind == "dicts":
        return list(data)
    return [{key: values[i] for key, (_kind, values) in data.items()} for i in range(count)]


def unpack(packed: tuple) -> list[StepGroup]:
    count, runs = packed
    columns = [_unpack_run(run) if run is not None else [] for run in runs]
    # a run's records are the first len(records) groups of the chunk: it ended after them
    return [tuple(records[i] if i < len(records) else None for records in columns)
            for i in range(count)]


def _pack_run(records: list[StepRecord]) -> dict:
    out: dict = {name: [getattr(r, name) for r in records] for name in _SCALARS}
    for name in _VECTORS:
        out[name] = np.stack([getattr(r, name) for r in records])
    out["batch_len"] = [len(r.batch) for r in records]
    out["batch"] = np.concatenate([r.batch for r in records])
    out["grads_len"] = [len(r.sample_grads) for r in records]
    out["sample_grads"] = np.concatenate([r.sample_grads for r in records])
    out["status"] = [r.status for r in records]
    out["message"] = [r.message for r in records]
    out["state"] = _pack_states([r.state for r in records])
    return out


def _pack_states(states: list) -> tuple[str, object]:
    """("columns", {key: (kind, values)}) when every state has the same keys and each key the
    same kind of value; else ("dicts", [dict, ...])."""
    keys = tuple(states[0])
    if any(tuple(s) != keys for s in states):
        return "dicts", [dict(s) for s in states]
    columns = {}
    for key in keys:
        values = [s[key] for s in states]
        first = values[0]
        if isinstance(first, np.ndarray) and first.ndim > 0 and all(
                isinstance(v, np.ndarray) and v.shape == first.shape
                and v.dtype == first.dtype for v in values):
            columns[key] = ("array", np.stack(values))
        elif all(type(v) is type(first) for v in values) and type(first) in (int, float):
            columns[key] = (type(first).__name__, values)
        else:
            return "dicts", [dict(s) for s in states]
    return "columns", columns


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _unpack_run(run: dict) -> list[StepRecord]:
    vectors = [_read_only(run[name]) for name in _VECTORS]
    batch, sample_grads = _read_only(run["batch"]), _read_only(run["sample_grads"])
    batch_ends = np.cumsum(run["batch_len"]).tolist()
    grads_ends = np.cumsum(run["grads_len"]).tolist()
    states = _unpack_states(run["state"], len(batch_ends))
    steps, epochs, lrs, batch_losses, losses = (run[name] for name in _SCALARS)
    records = []
    b0 = g0 = 0
    for i, (b1, g1) in enumerate(zip(batch_ends, grads_ends)):
        records.append(StepRecord(
            steps[i], epochs[i], lrs[i], batch[b0:b1], vectors[0][i], vectors[1][i],
            vectors[2][i], sample_grads[g0:g1], states[i], batch_losses[i], losses[i],
            run["status"][i], run["message"][i]))
        b0, g0 = b1, g1
    return records


def _record(run: dict, i: int) -> StepRecord:
    """One record of a packed run, as ``_unpack_run`` would make it."""
    count = len(run["step"])
    i = i + count if i < 0 else i
    b_len, g_len = run["batch_len"], run["grads_len"]
    b0, g0 = sum(b_len[:i]), sum(g_len[:i])
    kind, data = run["state"]
    if kind == "dicts":
        state = MappingProxyType(_read_only_values(data[i]))
    else:
        state = MappingProxyType({key: (_read_only(values) if value_kind == "array"
                                        else values)[i]
                                  for key, (value_kind, values) in data.items()})
    vectors = [_read_only(run[name]) for name in _VECTORS]
    return StepRecord(
        run["step"][i], run["epoch"][i], run["lr"][i],
        _read_only(run["batch"])[b0:b0 + b_len[i]], vectors[0][i], vectors[1][i],
        vectors[2][i], _read_only(run["sample_grads"])[g0:g0 + g_len[i]], state,
        run["batch_loss"][i], run["loss"][i], run["status"][i], run["message"][i])


def _unpack_states(packed: tuple[str, object], count: int) -> list:
    kind, data = packed
    if kind == "dicts":
        return [MappingProxyType(_read_only_values(d)) for d in data]
    items = []
    for key, (value_kind, values) in data.items():
        items.append((key, _read_only(values) if value_kind == "array" else values))
    return [MappingProxyType({key: values[i] for key, values in items}) for i in range(count)]


def _read_only_values(state: dict) -> dict:
    for value in state.values():
        if isinstance(value, np.ndarray):
            value.setflags(write=False)
    return state
