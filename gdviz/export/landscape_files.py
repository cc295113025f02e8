"""Write a computed loss landscape (``core.landscape.Landscape``) as NPZ or CSV.

NPZ arrays: ``a`` (m,), ``b`` (m,), ``losses`` (m, m) (row i at b[i], column j at a[j]),
``center``, ``direction_a``, ``direction_b`` (p,), ``param_names`` (p,), ``kind`` (a string),
``explained`` (2,; pca only), and the projected paths as flat arrays over all runs' points:
``path_run``, ``path_step``, ``path_a``, ``path_b``, ``path_distance``, ``path_loss``,
``path_surface_loss``.

CSV: ``#`` lines first (kind, explained variance, parameter names, centre, directions; skip
them with ``comment='#'``), then one table with the columns
``part,run,step,a,b,loss,surface_loss,distance``: part ``grid`` rows hold the grid (run, step,
surface_loss and distance empty), part ``path`` rows the projected paths. Floats use ``repr``
(they round-trip exactly).
"""

from __future__ import annotations

import os
from typing import TextIO

import numpy as np

from gdviz.core.errors import ConfigError
from gdviz.core.landscape import Landscape

FORMATS = (".npz", ".csv")


def _path_columns(landscape: Landscape) -> dict[str, np.ndarray]:
    runs = [np.full(len(p.a), i) for i, p in enumerate(landscape.paths)]
    steps = [np.arange(len(p.a)) for p in landscape.paths]
    out = {"path_run": np.concatenate(runs), "path_step": np.concatenate(steps)}
    for field in ("a", "b", "distance", "loss", "surface_loss"):
        out[f"path_{field}"] = np.concatenate([getattr(p, field) for p in landscape.paths])
    return out


def write_npz(path: str, landscape: Landscape, param_names: tuple[str, ...]) -> None:
    arrays = {"a": landscape.a, "b": landscape.b, "losses": landscape.losses,
              "center": landscape.center, "direction_a": landscape.direction_a,
              "direction_b": landscape.direction_b, "param_names": np.array(param_names),
              "kind": np.array(landscape.kind), **_path_columns(landscape)}
    if landscape.explained is not None:
        arrays["explained"] = landscape.explained
    with open(path, "wb") as handle:
        np.savez_compressed(handle, **arrays)


def _numbers(values: np.ndarray) -> str:
    return ",".join(map(repr, np.asarray(values, dtype=np.float64).tolist()))


def write_csv(out: TextIO, landscape: Landscape, param_names: tuple[str, ...]) -> None:
    out.write(f"# kind: {landscape.kind}\n")
    if landscape.explained is not None:
        out.write(f"# explained_variance: {_numbers(landscape.explained)}\n")
    out.write(f"# parameters: {','.join(param_names)}\n")
    out.write(f"# center: {_numbers(landscape.center)}\n")
    out.write(f"# direction_a: {_numbers(landscape.direction_a)}\n")
    out.write(f"# direction_b: {_numbers(landscape.direction_b)}\n")
    out.write("part,run,step,a,b,loss,surface_loss,distance\n")
    for i, b in enumerate(landscape.b.tolist()):
        for a, loss in zip(landscape.a.tolist(), landscape.losses[i].tolist()):
            out.write(f"grid,,,{a!r},{b!r},{loss!r},,\n")
    columns = _path_columns(landscape)
    rows = zip(*(columns[k].tolist() for k in ("path_run", "path_step", "path_a", "path_b",
                                                 "path_loss", "path_surface_loss",
                                                 "path_distance")))
    for run, step, *values in rows:
        out.write(f"path,{run},{step}," + ",".join(map(repr, values)) + "\n")


def write_landscape(path: str, landscape: Landscape, param_names: tuple[str, ...]) -> None:
    """Write to ``path`` as NPZ or CSV by its extension; ConfigError for anything else or a
    file that cannot be written."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise ConfigError(f"--out must end in .npz or .csv, got {path!r}")
    try:
        if ext == ".npz":
            write_npz(path, landscape, param_names)
        else:
            with open(path, "w", encoding="utf-8", newline="") as handle:
                write_csv(handle, landscape, param_names)
    except OSError as err:
        raise ConfigError(f"cannot write {path}: {err.strerror}") from None
