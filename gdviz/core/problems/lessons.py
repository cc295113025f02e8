"""The five lesson problems (wavy, linreg, logistic, slope, bowl): settings, data, registration.

Importing this module registers the five families with the problem registry. Each factory
``factory(settings: dict, data_path: str | None) -> Problem`` generates its data deterministically
with ``np.random.default_rng(seed)`` from its validated settings, or (linreg, logistic, slope)
loads it from a CSV file: every column but the last is a feature, the last is the target.

The models and kernels are in ``lesson_models.py``; CSV loading is in ``csv_data.py``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.problems.base import Minimum, ProblemSpec, SettingSpec, read_only
from gdviz.core.problems.csv_data import CsvData, load_csv
from gdviz.core.problems.lesson_models import (
    LessonProblem,
    LinearRegressionProblem,
    LogisticProblem,
    SlopeProblem,
    WavyProblem,
    frame,
    grid_minimum_1d,
    least_squares,
    wavy_curve_minimum,
)
from gdviz.core.problems.registry import register

_SEED_MAX = 2**32 - 1
_N_MAX = 100_000
_BIG = 1e6

_CSV_NOTE = ("With a CSV file (a header row, then numbers; the last column is the target, the "
             "others are features) the data come from the file")


def _seed_spec() -> SettingSpec:
    return SettingSpec("seed", 0, int, "Seed of the random generator that draws the data (and "
                       "the random start). The same seed always gives the same data; change it "
                       "to see how much the run depends on the particular sample.", 0, _SEED_MAX)


def _check_order(settings: Mapping[str, Any], low: str, high: str, owner: str) -> None:
    if not settings[low] < settings[high]:
        raise ConfigError(f"problem {owner!r} {low} must be less than {high}, got "
                          f"{format_number(settings[low])} and {format_number(settings[high])}")


def _with_minimum(problem: LessonProblem, params: np.ndarray | None,
                  kind: str = "global") -> LessonProblem:
    """Record ``params`` (p,) as a known minimum of ``problem``, with its loss (if given)."""
    if params is not None:
        loss = float(problem.loss(params))
        problem.minima = (Minimum(tuple(float(v) for v in params), loss, kind),)
    return problem


def _source(data: CsvData) -> str:
    return (f"Data from {data.path}: {data.n_rows} rows, features "
            f"{', '.join(data.feature_names)}, target {data.target_name}.")


def _weight_names(d: int) -> tuple[str, ...]:
    return (*(f"w{i}" for i in range(1, d + 1)), "b")


# -- 1. wavy -------------------------------------------------------------------------------------
WAVY_TITLE = "Wavy loss: one loss curve per sample (SGD)"
WAVY_DESCRIPTION = (
    "With stochastic gradient descent every training example has its own loss surface, so every "
    "step is taken on a different curve. The model is y = w·x with no target; each sample x "
    "contributes L(w·x) with L(y) = (-y² + y³)·exp(-y²), a wavy curve with flat stretches and a "
    "local minimum beside the global one (about -0.76). Plain gradient descent on one curve "
    "stops in a flat stretch or a local dip; SGD, taking the samples in order with batch size 1, "
    "gets kicked out by the next sample's curve and ends near the global minimum.")
WAVY_SETTINGS = (
    SettingSpec("n", 100, int, "Number of samples x, evenly spaced from x_min to x_max. Each "
                "sample draws its own loss curve over w; try 3 or 10 to see them one by one.",
                1, _N_MAX),
    SettingSpec("x_min", -5.0, float, "Smallest sample x. The curves are L(w·x), so a wider x "
                "range squeezes them along w (the view range shrinks to match).", -_BIG, _BIG),
    SettingSpec("x_max", 5.0, float, "Largest sample x (must exceed x_min).", -_BIG, _BIG),
)
WAVY_START = -0.3


def make_wavy(settings: Mapping[str, Any], data_path: str | None = None) -> WavyProblem:
    """The wavy lesson: x (n, 1) evenly spaced on [x_min, x_max], no targets, w in view ~ ±0.7."""
    _check_order(settings, "x_min", "x_max", "wavy")
    x_lo, x_hi = float(settings["x_min"]), float(settings["x_max"])
    x = np.linspace(x_lo, x_hi, int(settings["n"]))[:, None]
    # The lesson shows w in [-0.7, 0.7] for x in [-5, 5], i.e. w·x in [-3.5, 3.5]; keep that
    # band of y for other x ranges, and keep the start in view.
    half = 0.7 * (5.0 / max(abs(x_lo), abs(x_hi)))
    lo = min(-half, WAVY_START - 0.1 * abs(WAVY_START))
    hi = max(half, WAVY_START + 0.1 * abs(WAVY_START))
    problem = WavyProblem(
        name="wavy", title=WAVY_TITLE, param_names=("w",), data_x=x, data_y=None,
        default_init=[WAVY_START], view_range=[[lo, hi]], settings=settings,
        loss_range=(-1.0, 0.5), data_columns=("x",), description=WAVY_DESCRIPTION)
    span = hi - lo
    points = 1201 if problem.n_samples <= 2000 else 401  # 401 × 100 000 samples: ~0.5 s
    w_best, loss_best = grid_minimum_1d(problem.loss, lo - span, hi + span, points=points,
                                        n_samples=problem.n_samples)
    if not lo <= w_best <= hi:  # frame the solution too
        lo, hi = min(lo, w_best - 0.1 * span), max(hi, w_best + 0.1 * span)
        problem.view_range = read_only([[lo, hi]])
    problem.minima = (Minimum((w_best,), loss_best, "global"),)
    corners = [a * b for a in (lo, hi) for b in (x_lo, x_hi)]
    y_star, l_star = wavy_curve_minimum(min(corners), max(corners))
    problem.surface_argmin_y, problem.surface_minimum = y_star, l_star
    return problem


# -- 2. linreg -----------------------------------------------------------------------------------
LINREG_TITLE = "Linear regression (mini-batch SGD)"
LINREG_DESCRIPTION = (
    "Linear regression ŷ = x·w + b with per-sample loss (ŷ - y)²/2, averaged over a mini-batch. "
    "The full gradient costs O(n) per step; the gradient of a random sample is an unbiased but "
    "noisy estimate of it, and a mini-batch of |B| samples costs O(|B|) and averages the noise "
    "away. Compare batch sizes 1, 10 and 1000 and learning rates 0.002 (too slow), 0.2 (good) "
    "and 5 (diverges: the loss becomes NaN), with the rate cut by 10 from the third epoch. "
    f"{_CSV_NOTE}; the generation settings (n, noise, w_true, b_true, seed, x_std) are then "
    "ignored and the start is all zeros.")
LINREG_SETTINGS = (
    SettingSpec("n", 1000, int, "Number of training samples.", 1, _N_MAX),
    SettingSpec("noise", 0.01, float, "Standard deviation of the Gaussian noise added to every "
                "target; the lowest reachable loss is about noise²/2.", 0.0, _BIG),
    SettingSpec("w_true", (2.0, -3.4), "floats", "The true weights, comma-separated; their "
                "count is the number of features (1 to 10), one parameter each.", -_BIG, _BIG),
    SettingSpec("b_true", 4.2, float, "The true bias (intercept) b.", -_BIG, _BIG),
    _seed_spec(),
    SettingSpec("x_std", 1.0, float, "Standard deviation of the features x ~ N(0, x_std²). "
                "Larger features make the loss steeper, so a smaller learning rate is needed.",
                1e-3, _BIG),
)


def make_linreg(settings: Mapping[str, Any], data_path: str | None = None
                ) -> LinearRegressionProblem:
    """Linear regression: x (n, d) ~ N(0, x_std²), y = x·w_true + b_true + noise·N(0, 1)."""
    if data_path is not None:
        data = load_csv(data_path)
        d = data.x.shape[1]
        start = np.zeros(d + 1)
        solution = least_squares(data.x, data.y, bias=True)
        problem = LinearRegressionProblem(
            name="linreg", title=f"Linear regression on {os.path.basename(data_path)}",
            param_names=_weight_names(d), data_x=data.x, data_y=data.y, default_init=start,
            view_range=frame(start if solution is None else solution, start),
            settings=settings, data_columns=data.columns,
            description=f"{LINREG_DESCRIPTION} {_source(data)}")
        return _with_minimum(problem, solution)
    w_true = np.array(settings["w_true"], dtype=np.float64)
    d = len(w_true)
    if not 1 <= d <= 10:
        raise ConfigError(f"problem 'linreg' w_true needs 1 to 10 numbers, got {d}")
    n, b_true = int(settings["n"]), float(settings["b_true"])
    rng = np.random.default_rng(settings["seed"])
    x = rng.normal(0.0, settings["x_std"], size=(n, d))
    y = x @ w_true + b_true + settings["noise"] * rng.standard_normal(n)
    start = np.append(rng.standard_normal(d), 0.0)
    truth = np.append(w_true, b_true)
    solution = least_squares(x, y, bias=True)
    problem = LinearRegressionProblem(
        name="linreg", title=LINREG_TITLE, param_names=_weight_names(d), data_x=x, data_y=y,
        default_init=start, view_range=frame(truth if solution is None else solution,
                                             start, truth),
        settings=settings, true_params=truth,
        data_columns=(*(f"x{i}" for i in range(1, d + 1)), "y"),
        description=LINREG_DESCRIPTION)
    return _with_minimum(problem, solution)


# -- 3. logistic ---------------------------------------------------------------------------------
LOGISTIC_TITLE = "Two-class logistic model (batch gradient descent)"
LOGISTIC_DESCRIPTION = (
    "Two Gaussian blobs labelled 0 and 1; the model predicts σ(x·w + b), the bias being the last "
    "weight (the bias trick: a column of ones appended to x). The loss is ½·Σ(σ - y)² summed "
    "over the training set, minimised by full-batch gradient descent (lr 0.01, 100 epochs): it "
    "falls from about 200 to below 1 and the held-out test points are all classified "
    "correctly. The optimizer never sees the landscape, only the slope where it stands; the "
    "learning rate matters most; stop after N epochs, at a low enough loss or when it stops "
    "improving; momentum and Nesterov speed it up. Separable data have no finite minimum (the "
    f"weights keep growing). {_CSV_NOTE} (targets 0 or 1); n, spread and box are then ignored, "
    "while seed shuffles the rows and test_fraction still splits off the test set.")
LOGISTIC_SETTINGS = (
    SettingSpec("n", 1000, int, "Number of points, half in each class, before the train/test "
                "split.", 2, _N_MAX),
    SettingSpec("spread", 1.5, float, "Standard deviation of each blob. Wider blobs overlap "
                "and some points can no longer be classified correctly.", 0.0, _BIG),
    SettingSpec("box", 10.0, float, "The two blob centres are drawn uniformly in the square "
                "[-box, box]²; a small box puts them close together.", 0.0, _BIG),
    _seed_spec(),
    SettingSpec("test_fraction", 0.5, float, "Fraction of the points held out as a test set; "
                "the rest is the training set the loss sums over.", 0.0, 0.9),
)
_LOGISTIC_EPOCHS = 100
_LOGISTIC_RATE = 5.0  # lr × training-set size: the lesson's 0.01 for its 500 training points


def _split(x: np.ndarray, y: np.ndarray, order: np.ndarray, test_fraction: float):
    """Reorder by ``order``; the first (1 - test_fraction) part trains, the rest tests."""
    n = len(order)
    n_test = min(int(round(n * test_fraction)), n - 1)
    x, y = x[order], y[order]
    return x[:n - n_test], y[:n - n_test], x[n - n_test:], y[n - n_test:]


def _logistic(settings: Mapping[str, Any], parts: tuple, start: np.ndarray, title: str,
              columns: tuple[str, ...], description: str) -> LogisticProblem:
    """Build the logistic problem from the (train_x, train_y, test_x, test_y) split."""
    train_x, train_y, test_x, test_y = parts
    d = train_x.shape[1]
    problem = LogisticProblem(
        name="logistic", title=title, param_names=_weight_names(d), data_x=train_x,
        data_y=train_y, default_init=start, view_range=frame(start, start), settings=settings,
        reduction="sum", extras={"test_x": test_x, "test_y": test_y}, data_columns=columns,
        description=description)
    # No finite minimum to frame: frame where the lesson's 100 epochs of gradient descent lead.
    params, rate = np.array(start, dtype=np.float64), _LOGISTIC_RATE / problem.n_samples
    for _ in range(_LOGISTIC_EPOCHS):
        params = params - rate * problem.grad(params)
    if np.all(np.isfinite(params)):
        problem.view_range = read_only(frame(params, start))
    return problem


def make_logistic(settings: Mapping[str, Any], data_path: str | None = None) -> LogisticProblem:
    """Two blobs: centres ~ U[-box, box]², points = centre + spread·N(0, I), labels 0/1
    (n/2 each) shuffled; train on the first (1 - test_fraction), test on the rest."""
    rng = np.random.default_rng(settings["seed"])
    if data_path is not None:
        data = load_csv(data_path)
        bad = np.flatnonzero((data.y != 0.0) & (data.y != 1.0))
        if bad.size:
            raise ConfigError(f"{data_path}: line {data.lines[bad[0]]}: logistic targets must be "
                              f"0 or 1, got {format_number(float(data.y[bad[0]]))}")
        if data.n_rows < 2:
            raise ConfigError(f"{data_path}: the logistic lesson needs at least 2 data rows "
                              "(a training and a test point)")
        parts = _split(data.x, data.y, rng.permutation(data.n_rows), settings["test_fraction"])
        return _logistic(settings, parts, np.zeros(data.x.shape[1] + 1),
                         f"Two-class logistic model on {os.path.basename(data_path)}",
                         data.columns, f"{LOGISTIC_DESCRIPTION} {_source(data)}")
    n = int(settings["n"])
    centres = rng.uniform(-settings["box"], settings["box"], size=(2, 2))
    labels = np.repeat([0.0, 1.0], [n // 2, n - n // 2])
    points = centres[labels.astype(int)] + settings["spread"] * rng.standard_normal((n, 2))
    parts = _split(points, labels, rng.permutation(n), settings["test_fraction"])
    start = rng.standard_normal(3)
    return _logistic(settings, parts, start, LOGISTIC_TITLE, ("x1", "x2", "y"),
                     LOGISTIC_DESCRIPTION)


# -- 4. slope ------------------------------------------------------------------------------------
SLOPE_TITLE = "Fitting a slope: learning rate, mini-batches, momentum"
SLOPE_DESCRIPTION = (
    "A 1-D regression through the origin, ŷ = w·x, started at w = 10 with the true slope 3.2. "
    "The cost per point is (w·x - y)² scaled by 1/N, so a one-point gradient is "
    "(2/N)(w·x - y)·x. Run SGD one point at a time with learning rates 1e-4 (too slow to reach "
    "3.2), 1e-3 (the compromise that settles) and 1e-2 (fast, then oscillates around 3.2); then "
    "mini-batches of 5 drawn with replacement (smoother, slower), and momentum, whose effect is "
    f"smaller than the learning rate's. {_CSV_NOTE} (one feature column, then the target); the "
    "generation settings are then ignored and the start is w = 0.")
SLOPE_SETTINGS = (
    SettingSpec("n", 150, int, "Number of points N (the cost is scaled by 1/N).", 1, _N_MAX),
    SettingSpec("x_min", 0.0, float, "Smallest x; x is drawn uniformly on [x_min, x_max].",
                -_BIG, _BIG),
    SettingSpec("x_max", 100.0, float, "Largest x. Large x make the slope steep, which is why "
                "the learning rates here are tiny.", -_BIG, _BIG),
    SettingSpec("w_true", 3.2, float, "The true slope the data are drawn around.", -_BIG, _BIG),
    SettingSpec("noise", 10.0, float, "Standard deviation of the Gaussian noise on y; the "
                "best-fit slope differs from w_true by an amount that grows with it.", 0.0, _BIG),
    _seed_spec(),
)


def _slope_minimum(x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Least squares through the origin, w* = Σxy / Σx², as (1,), or None when all x are 0."""
    sxx = float(np.dot(x[:, 0], x[:, 0]))
    return None if sxx == 0.0 else np.array([float(np.dot(x[:, 0], y)) / sxx])


def make_slope(settings: Mapping[str, Any], data_path: str | None = None) -> SlopeProblem:
    """x (n, 1) ~ U(x_min, x_max), y = w_true·x + noise·N(0, 1); params (w,)."""
    if data_path is not None:
        data = load_csv(data_path)
        if data.x.shape[1] != 1:
            raise ConfigError(
                f"{data_path}: line 1: the slope lesson needs exactly one feature column and the "
                f"target (2 columns), the header has {len(data.columns)}")
        start = np.zeros(1)
        solution = _slope_minimum(data.x, data.y)
        problem = SlopeProblem(
            name="slope", title=f"Fitting a slope on {os.path.basename(data_path)}",
            param_names=("w",), data_x=data.x, data_y=data.y, default_init=start,
            view_range=frame(start if solution is None else solution, start),
            settings=settings, data_columns=data.columns,
            description=f"{SLOPE_DESCRIPTION} {_source(data)}")
        return _with_minimum(problem, solution)
    _check_order(settings, "x_min", "x_max", "slope")
    n, w_true = int(settings["n"]), float(settings["w_true"])
    rng = np.random.default_rng(settings["seed"])
    x = rng.uniform(settings["x_min"], settings["x_max"], size=(n, 1))
    y = w_true * x[:, 0] + settings["noise"] * rng.standard_normal(n)
    start, truth = np.array([10.0]), np.array([w_true])
    solution = _slope_minimum(x, y)
    problem = SlopeProblem(
        name="slope", title=SLOPE_TITLE, param_names=("w",), data_x=x, data_y=y,
        default_init=start, view_range=frame(truth if solution is None else solution,
                                             start, truth),
        settings=settings, true_params=truth, data_columns=("x", "y"),
        description=SLOPE_DESCRIPTION)
    return _with_minimum(problem, solution)


# -- 5. bowl -------------------------------------------------------------------------------------
BOWL_TITLE = "The MSE bowl J(w, b)"
BOWL_DESCRIPTION = (
    "The mean squared error J(w, b) = 1/(2m)·Σ(w·x + b - y)² of a 1-D linear fit is a convex "
    "bowl over (w, b) with one global minimum, unlike non-convex surfaces with local minima and "
    "saddle points. A partial derivative holds the other parameter fixed (a slice of the bowl "
    "and its tangent); both parameters are updated at once from the same snapshot; the step is "
    "the learning rate times the slope, so steps shrink near the minimum; too small a rate "
    "crawls, too large overshoots and diverges. Because x is far from zero on average, the bowl "
    "is a long narrow valley: steep along w, shallow along b.")
BOWL_SETTINGS = (
    SettingSpec("n", 50, int, "Number of examples m.", 1, _N_MAX),
    SettingSpec("x_min", 0.0, float, "Smallest x; x is drawn uniformly on [x_min, x_max]. An x "
                "range centred on 0 makes the bowl round.", -_BIG, _BIG),
    SettingSpec("x_max", 10.0, float, "Largest x (must exceed x_min).", -_BIG, _BIG),
    SettingSpec("w_true", 1.5, float, "The true slope w.", -_BIG, _BIG),
    SettingSpec("b_true", 2.0, float, "The true intercept b.", -_BIG, _BIG),
    SettingSpec("noise", 1.0, float, "Standard deviation of the Gaussian noise on y; it sets "
                "the height of the bowl's floor (about noise²/2).", 0.0, _BIG),
    _seed_spec(),
)
BOWL_START = (-1.0, -4.0)


def make_bowl(settings: Mapping[str, Any], data_path: str | None = None
              ) -> LinearRegressionProblem:
    """x (n, 1) ~ U(x_min, x_max), y = w_true·x + b_true + noise·N(0, 1); params (w, b)."""
    _check_order(settings, "x_min", "x_max", "bowl")
    n = int(settings["n"])
    rng = np.random.default_rng(settings["seed"])
    x = rng.uniform(settings["x_min"], settings["x_max"], size=(n, 1))
    truth = np.array([settings["w_true"], settings["b_true"]], dtype=np.float64)
    y = truth[0] * x[:, 0] + truth[1] + settings["noise"] * rng.standard_normal(n)
    start = np.array(BOWL_START)
    solution = least_squares(x, y, bias=True)
    problem = LinearRegressionProblem(
        name="bowl", title=BOWL_TITLE, param_names=("w", "b"), data_x=x, data_y=y,
        default_init=start, view_range=frame(truth if solution is None else solution,
                                             start, truth),
        settings=settings, true_params=truth, data_columns=("x", "y"),
        description=BOWL_DESCRIPTION)
    return _with_minimum(problem, solution)


# -- registration --------------------------------------------------------------------------------
_SPECS = (
    ProblemSpec("wavy", WAVY_TITLE, "lesson", WAVY_DESCRIPTION, WAVY_SETTINGS, make_wavy,
                param_names=("w",)),
    ProblemSpec("linreg", LINREG_TITLE, "lesson", LINREG_DESCRIPTION, LINREG_SETTINGS,
                make_linreg, accepts_csv=True, param_names=("w1", "w2", "b")),
    ProblemSpec("logistic", LOGISTIC_TITLE, "lesson", LOGISTIC_DESCRIPTION, LOGISTIC_SETTINGS,
                make_logistic, accepts_csv=True, param_names=("w1", "w2", "b")),
    ProblemSpec("slope", SLOPE_TITLE, "lesson", SLOPE_DESCRIPTION, SLOPE_SETTINGS, make_slope,
                accepts_csv=True, param_names=("w",)),
    ProblemSpec("bowl", BOWL_TITLE, "lesson", BOWL_DESCRIPTION, BOWL_SETTINGS, make_bowl,
                param_names=("w", "b")),
)
for _spec in _SPECS:
    register(_spec)


def lesson_names() -> tuple[str, ...]:
    """The lesson problems in the order of the lessons: wavy, linreg, logistic, slope, bowl."""
    return tuple(spec.name for spec in _SPECS)
