"""Problem ``custom``: the user's own per-sample loss formula, with an exact gradient.

The formula is parsed by ``gdviz.core.formula`` (a whitelist parser: a formula is data, never
code), differentiated symbolically with sympy and compiled to vectorised numpy. Data comes
from a CSV file (``data_path``, header row required), from a data formula with noise
(``data_expr``, used only when there is no file), or there is none: then the problem is
analytic-like, ``data_x`` has shape (1, 0) and the loss is the formula itself.

Data layout (as for every problem): the selected columns in order, features first and the
target last -> ``data_x`` (n, d) and ``data_y`` (n,). A single selected column is a feature
and ``data_y`` is None. ``data_columns`` holds their names.

Shapes: params (..., p) -> losses (..., k) and grads (..., k, p); overflow gives inf/nan
without warnings, so a run that leaves the sensible region ends ``diverged``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.formula.limits import MAX_DATA_CELLS
from gdviz.core.formula.nodes import FormulaError
from gdviz.core.formula.parser import parse_formula
from gdviz.core.formula.resolve import resolve_names
from gdviz.core.problems.base import Problem, ProblemSpec, SettingSpec, read_only
from gdviz.core.problems.registry import register
from gdviz.core.settings_parse import parse_floats, validate_specs

OWNER = "problem 'custom'"
DEFAULT_EXPR = "(w*x + b - y)**2"
DEFAULT_DATA_EXPR = "y = 2*x + 1 + normal(0, 0.5)"
_HALF_VIEW = 5.0  # default view: start point ± 5 in every parameter

CUSTOM_SETTINGS = (
    SettingSpec("expr", DEFAULT_EXPR, str,
                "The per-sample loss ℓ: a formula over parameter names and data column "
                "names, e.g. (w*x + b - y)**2 or log(1 + exp(-y*(w1*x1 + w2*x2 + b))); with "
                "no data, e.g. (1 - p)**2 + 100*(q - p**2)**2. Operators + - * / ** (or ^); "
                "functions exp, log, log1p, sqrt, abs, sin, cos, tan, tanh, sigmoid, "
                "softplus, relu, min(a, b), max(a, b). Its gradient is derived exactly."),
    SettingSpec("params", "", str,
                "Optional comma-separated parameter order, e.g. w, b. Default: every name "
                "that is not a data column, in order of first appearance."),
    SettingSpec("init", "", str,
                "Optional comma-separated start values, one per parameter. Default: zeros "
                "(or ones / halves where the loss is not finite at zero)."),
    SettingSpec("ranges", "", str,
                "Optional view ranges lo:hi, comma-separated, one per parameter (or one for "
                "all), e.g. -1:4,-2:2. Default: start ± 5."),
    SettingSpec("columns", "", str,
                "Optional comma-separated CSV columns to use, the target last. Default: all "
                "columns of the file."),
    SettingSpec("data_expr", DEFAULT_DATA_EXPR, str,
                "Data made by a formula with noise when no CSV file is given, e.g. "
                "y = 3*x + normal(0, 2); x is drawn uniformly from [x_min, x_max]; noise: "
                "normal(mean, std), uniform(lo, hi). Empty: no data (the formula is the "
                "loss)."),
    SettingSpec("x_min", -3.0, float, "Smallest x of the generated data.", -1e6, 1e6),
    SettingSpec("x_max", 3.0, float, "Largest x of the generated data.", -1e6, 1e6),
    SettingSpec("n", 50, int, "Number of generated samples.", 1, MAX_DATA_CELLS // 2),
    SettingSpec("seed", 0, int, "Seed of the generated data (same seed, same data).", 0,
                2**32 - 1),
    SettingSpec("reduction", "mean", str,
                "How per-sample losses combine into the loss: mean or sum."),
)


def _loaded_csv(data_path: str, selection: str) -> tuple[tuple[str, ...], np.ndarray]:
    """(column names, table (n, m)) of the selected CSV columns, in the selected order."""
    from gdviz.core.problems.csv_data import load_csv

    data = load_csv(data_path)
    header = data.columns
    table = np.column_stack([data.x, data.y])
    if not selection.strip():
        return header, table
    chosen = [name.strip() for name in selection.split(",")]
    if "" in chosen or len(set(chosen)) != len(chosen):
        raise ConfigError(f"{OWNER} columns: list each column once, comma-separated, e.g. "
                          f"x,y; got {selection!r}")
    missing = [name for name in chosen if name not in header]
    if missing:
        raise ConfigError(f"{OWNER} columns: {', '.join(map(repr, missing))} not in "
                          f"{os.path.basename(data_path)}; its columns: {', '.join(header)}")
    index = [header.index(name) for name in chosen]
    return tuple(chosen), table[:, index]


def _generated(settings: Mapping[str, Any]) -> tuple[tuple[str, ...], np.ndarray]:
    from gdviz.core.formula.evaluate import generate

    x_min, x_max = settings["x_min"], settings["x_max"]
    if not x_min < x_max:
        raise ConfigError(f"{OWNER} x_min must be below x_max, got {format_number(x_min)} "
                          f"and {format_number(x_max)}")
    try:
        formula = parse_formula(settings["data_expr"], data=True)
        names, x, y = generate(formula, x_min, x_max, settings["n"], settings["seed"])
    except FormulaError as err:
        raise err.for_setting("data_expr") from None
    return names, np.column_stack([x, y])


def _ranges(text: str, start: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    p = len(names)
    if not text.strip():
        return np.column_stack([start - _HALF_VIEW, start + _HALF_VIEW])
    pairs = []
    for part in text.split(","):
        bounds = part.split(":")
        if len(bounds) != 2:
            raise ConfigError(f"{OWNER} ranges: write lo:hi for each parameter, e.g. -1:4, "
                              f"got {part.strip()!r}")
        lo, hi = parse_floats(bounds, f"{OWNER} ranges", length=2)
        if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
            raise ConfigError(f"{OWNER} ranges: need finite lo < hi, got {part.strip()!r}")
        pairs.append((lo, hi))
    if len(pairs) == 1:
        pairs *= p
    if len(pairs) != p:
        raise ConfigError(f"{OWNER} ranges needs 1 or {p} lo:hi pairs ({', '.join(names)}), "
                          f"got {len(pairs)}")
    return np.array(pairs, dtype=np.float64)


class CustomProblem(Problem):
    """The user's formula as a Problem. Extra attributes for the GUI:

    formula_text:  the loss formula as typed
    expr_text:     the loss as sympy prints it, with the user's names
    gradient_text: one line per parameter, e.g. ``"∂ℓ/∂w = 2*x*(b + w*x - y)"``
    used_columns:  the data columns the formula uses
    data_columns:  the selected data columns (features, then the target)
    """

    def __init__(self, settings: Mapping[str, Any], data_path: str | None = None) -> None:
        from gdviz.core.formula.compile import compile_formula  # sympy, on first use

        checked = validate_specs(CUSTOM_SETTINGS, settings, OWNER)
        if checked["reduction"] not in ("mean", "sum"):
            raise ConfigError(f"{OWNER} reduction must be mean or sum, "
                              f"got {checked['reduction']!r}")
        try:
            formula = parse_formula(checked["expr"])
        except FormulaError as err:
            raise err.for_setting("expr") from None
        if data_path is not None:
            columns, table = _loaded_csv(data_path, checked["columns"])
            source = f"data from {os.path.basename(data_path)}"
        elif checked["columns"].strip():
            raise ConfigError(f"{OWNER} columns chooses columns of a CSV file, but no data "
                              "file is given")
        elif checked["data_expr"].strip():
            columns, table = _generated(checked)
            source = f"data generated by {checked['data_expr'].strip()}"
        else:
            columns, table = (), np.zeros((1, 0))
            source = "no data"
        if table.size > MAX_DATA_CELLS:
            raise ConfigError(f"{OWNER}: the data has {table.size:,} numbers; the limit is "
                              f"{MAX_DATA_CELLS:,}")
        try:
            names, used = resolve_names(formula, columns, checked["params"])
            compiled = compile_formula(formula, names, used)
        except FormulaError as err:
            raise (err if err.setting else err.for_setting("expr")) from None

        self.param_names = names
        super().__init__()
        self.name = "custom"
        self.title = "Your own formula"
        self.reduction = checked["reduction"]
        self.settings = MappingProxyType(checked)
        self.formula_text = checked["expr"]
        self.compiled = compiled
        self.expr_text = compiled.expr_text
        self.gradient_text = compiled.gradient_text
        self.used_columns = used
        self.data_columns = tuple(columns)
        if table.shape[1] >= 2:
            self.data_x, self.data_y = read_only(table[:, :-1]), read_only(table[:, -1])
        else:
            self.data_x, self.data_y = read_only(table), None
        self._sources = tuple(columns.index(name) for name in used)
        start = self._start(checked["init"])
        self.default_init = read_only(start)
        self.view_range = read_only(_ranges(checked["ranges"], start, names))
        self.description = f"ℓ = {compiled.expr_text}; {source}."
        self._hessian = None  # compiled on first use (formula.hessian.CompiledHessian)

    def _start(self, text: str) -> np.ndarray:
        p = self.n_params
        if text.strip():
            values = parse_floats(text, f"{OWNER} init")
            if len(values) != p:
                raise ConfigError(f"{OWNER} init needs {p} values ({', '.join(self.param_names)})"
                                  f", got {len(values)}")
            if not all(math.isfinite(v) for v in values):
                raise ConfigError(f"{OWNER} init values must be finite numbers")
            return np.array(values, dtype=np.float64)
        for value in (0.0, 1.0, 0.5):  # log(w) or 1/w are not finite at zero
            start = np.full(p, value)
            if np.isfinite(self.loss(start)):
                return start
        return np.zeros(p)

    def _columns(self, x: np.ndarray, y: np.ndarray | None) -> list[np.ndarray]:
        d = x.shape[1]
        return [x[:, i] if i < d else y for i in self._sources]

    def _sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """params (..., p), x (k, d), y (k,) or None -> losses (..., k)."""
        return self.compiled.losses(params, self._columns(x, y), x.shape[0])

    def _sample_grads(self, params: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """params (..., p), x (k, d), y (k,) or None -> exact gradients (..., k, p)."""
        return self.compiled.grads(params, self._columns(x, y), x.shape[0])

    @property
    def hessian_ready(self) -> bool:
        return self._hessian is not None

    def _hessian_sum(self, params: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """params (..., p), x (k, d), y (k,) or None -> Σ of the k exact Hessians (..., p, p).
        The second derivatives are derived on first use (formula/hessian.py); a FormulaError
        (a ConfigError) says why when they cannot be."""
        if self._hessian is None:
            from gdviz.core.formula.hessian import compile_hessian  # sympy, on first use

            self._hessian = compile_hessian(self.compiled)
        return self._hessian.summed(params, self._columns(x, y), x.shape[0])

    def constant_hessian(self) -> np.ndarray | None:
        """The full loss's Hessian (p, p) when no second derivative depends on a parameter (a
        formula quadratic in its parameters), else None. Derives the second derivatives on
        first use, as ``hessian`` does (None when they cannot be derived)."""
        try:
            hessian = self.hessian(np.array(self.default_init))
        except FormulaError:
            return None
        return read_only(hessian) if self._hessian.constant else None


def make_custom(settings: Mapping[str, Any], data_path: str | None = None) -> CustomProblem:
    return CustomProblem(settings, data_path)


register(ProblemSpec(
    name="custom", title="Your own formula", family="custom",
    description="Type a per-sample loss formula; gdviz derives its exact gradient. Data from "
                "a CSV file, generated by a formula with noise, or none.",
    settings=CUSTOM_SETTINGS, factory=make_custom, accepts_csv=True,
))
