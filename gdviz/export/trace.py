"""CSV traces of a run: the format of ``gdviz run --out`` and File → Export trace.

Columns: step, epoch, lr, loss, batch_loss, one column per parameter (the problem's names in
its order), then grad_<name> for each. Row step=0 is the start point (its gradient columns hold
the full gradient there); each later row holds the parameters after that step and the batch
gradient the step used. With ``extra`` columns (``gdviz run --curvature``: sharpness,
lambda_min[, preconditioned_sharpness], see core/curvature.py) they follow, computed at each
row's parameters and optimizer state. Floats are written with ``repr`` (shortest round-trip
form), so a trace reproduces the run's float64 values exactly.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol, TextIO

import numpy as np

from gdviz.core.ensemble import EnsembleStep
from gdviz.core.history import RunHistory
from gdviz.core.records import StepRecord
from gdviz.core.step_blocks import RunBlock


class ExtraColumns(Protocol):
    """Columns computed from records: ``names`` and ``table(params (m, p), states)`` ->
    (m, len(names)) floats, from the parameters and optimizer states after m steps."""

    names: tuple[str, ...]

    def table(self, params: Any, states: list[Mapping[str, Any]]) -> Any: ...


# records whose extra columns are computed together: the Hessians and eigenvalues of many
# steps in one vectorised call cost a fraction of one call per step (benchmarks/
# bench_curvature.py: rosenbrock ~190 µs per step one at a time, ~1 µs in blocks)
EXTRA_BLOCK = 256


def trace_header(param_names: tuple[str, ...]) -> list[str]:
    return (["step", "epoch", "lr", "loss", "batch_loss", *param_names]
            + [f"grad_{name}" for name in param_names])


def _row(step: int, epoch: int, values: Iterable[float]) -> str:
    return f"{step},{epoch}," + ",".join(map(repr, values)) + "\n"


def write_records(out: TextIO, param_names: tuple[str, ...],
                  records: Iterable[StepRecord],
                  extra: ExtraColumns | None = None) -> StepRecord | None:
    """Stream records to ``out`` as CSV (header first); returns the last record written.
    ``extra`` adds its columns after the gradient's."""
    out.write(",".join(trace_header(param_names) + list(extra.names if extra else ())) + "\n")
    last = None
    block: list[StepRecord] = []
    for r in records:
        last = r
        if extra is None:
            out.write(_row(r.step, r.epoch, _values(r)))
            continue
        block.append(r)
        if len(block) == EXTRA_BLOCK:
            _write_block(out, block, extra)
            block = []
    if block:
        _write_block(out, block, extra)
    return last


def _values(r: StepRecord) -> list[float]:
    return [r.lr, r.loss, r.batch_loss, *r.params.tolist(), *r.grad.tolist()]


def _write_block(out: TextIO, block: list[StepRecord], extra: ExtraColumns) -> None:
    table = extra.table(np.array([r.params for r in block]), [r.state for r in block])
    out.write("".join(_row(r.step, r.epoch, _values(r) + row)
                      for r, row in zip(block, np.asarray(table).tolist())))


def write_blocks(out: TextIO, param_names: tuple[str, ...],
                 blocks: Iterable[RunBlock]) -> RunBlock | None:
    """Stream a run given as consecutive blocks of steps (``core.run_blocks``) to ``out``:
    the same CSV, byte for byte, as ``write_records`` of their records, each block's rows
    formatted from its columns and written at once. Returns the last block written."""
    out.write(",".join(trace_header(param_names)) + "\n")
    last = None
    for block in blocks:
        last = block
        out.write(_rows(block.steps, block.epochs, block.lrs, block.losses, block.batch_losses,
                        block.params, block.grads))
    return last


def _rows(steps: np.ndarray, epochs: np.ndarray, lrs: np.ndarray, losses: np.ndarray,
          batch_losses: np.ndarray, params: np.ndarray, grads: np.ndarray,
          seed: int | None = None) -> str:
    """The CSV rows of m steps given as columns ((m,) each, params and grads (m, p)),
    after a first column ``seed`` when one is given (``write_ensemble``)."""
    # column by column: each column's numbers through map(str)/map(repr) at once, then the
    # rows joined (what _row writes, in ~60 % of its time: gdviz run's 2e5 rows of wavy)
    columns = [*(() if seed is None else (itertools.repeat(str(seed), len(steps)),)),
               map(str, steps.tolist()), map(str, epochs.tolist()),
               *map(_reprs, (lrs, losses, batch_losses, *params.T, *grads.T))]
    rows = list(map(",".join, zip(*columns)))
    return "\n".join(rows) + "\n" if rows else ""


def _reprs(column: np.ndarray) -> Iterable[str]:
    """repr of each float of ``column`` (m,). A column whose floats are all the same bits (the
    lr of a constant schedule) is formatted once: repr costs ~0.5 µs a float."""
    if len(column) > 1 and (column.view(np.int64) == column[:1].view(np.int64)).all():
        return itertools.repeat(repr(float(column[0])), len(column))
    return map(repr, column.tolist())


def write_ensemble(out: TextIO, param_names: tuple[str, ...], seeds: Sequence[int],
                   steps: Iterable[EnsembleStep]) -> dict[int, tuple[str, str]]:
    """K runs of an ensemble (``core.ensemble``) as one CSV: a first column ``seed``, then the
    columns of ``write_records``; each seed's rows in step order, seed after seed (the rows a
    single run with that seed writes). The steps are kept as numbers until the last one
    (8·(3 + 2p) bytes per row), then written. Returns member -> (status, message) of its end.
    """
    kept: list[tuple[int, int, np.ndarray, np.ndarray]] = []
    ends: dict[int, tuple[str, str]] = {}
    for e in steps:
        table = np.column_stack([e.lr, e.loss, e.batch_loss, e.params, e.grad])
        kept.append((e.step, e.epoch, e.active, table))
        ends.update(e.ended)
    out.write(",".join(["seed", *trace_header(param_names)]) + "\n")
    p = len(param_names)
    for m, seed in enumerate(seeds):
        taken = [(step, epoch, table[m]) for step, epoch, active, table in kept if active[m]]
        steps, epochs, rows = zip(*taken)
        table = np.array(rows)
        out.write(_rows(np.array(steps), np.array(epochs), table[:, 0], table[:, 1],
                        table[:, 2], table[:, 3:3 + p], table[:, 3 + p:], seed))
    return ends


def write_history(out: TextIO, param_names: tuple[str, ...], history: RunHistory,
                  stop: int | None = None) -> None:
    """Write a recorded history (the GUI's runs) in the same format, up to step ``stop``."""
    n = len(history) if stop is None else int(np.searchsorted(history.steps, stop, side="right"))
    out.write(",".join(trace_header(param_names)) + "\n")
    out.write(_rows(history.steps[:n], history.epochs[:n], history.lrs[:n], history.losses[:n],
                    history.batch_losses[:n], history.params[:n], history.grads[:n]))
