"""The network problem ``mlp``: a fully connected network with one output, trained on 2-D data
(or a CSV file) with torch's losses, its parameters named and ordered as torch's.

The model is ``nn.Sequential(Linear(d, h1), act, Linear(h1, h2), act, ..., Linear(h_last, 1))``.
Its parameters, flattened in the order of ``.parameters()``, are ``W1_i_j`` (layer 1, output
unit i, input j, from 0; row-major like ``weight``), then ``b1_i``, then ``W2_...``, ``b2_...``
and so on. Per-sample losses follow torch: classification (0/1 targets) uses
``BCEWithLogitsLoss`` on the logit z, l = softplus(z) - y·z, stable for any z; regression uses
``MSELoss``, l = (z - y)². The batch and full losses are means.

Per-sample gradients of a whole batch come from one vectorised backward pass: the error of
each layer's output, delta (..., k, out), is carried back through the layers with one batched
matmul per layer, and the weight gradient of every sample is the outer product delta ⊗ input.
Every kernel also takes leading grid dimensions on params, (..., p), like the other problems.

Curvature is exact, by Pearlmutter's R-operator (1994) through the same passes: the forward
pass carries, beside each layer's output a, its directional derivative R{a} along a direction
v of the parameters, and the backward pass carries R{delta} beside delta; the summed gradient's
derivative R{g} = H·v comes out where the gradient does, for many directions at once
(``_hvp_sum``). The full Hessian is H·I in blocks of directions, offered only up to
``FULL_HESSIAN_MAX`` parameters; a larger network gives its Hessian-vector products (its
extreme eigenvalues come from core.lanczos).

The default start is torch's ``Linear`` initialisation (weights and biases uniform in
±1/sqrt(fan_in)) drawn from the run's seed (``start_for_seed``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from gdviz.core.errors import ConfigError, format_number
from gdviz.core.problems.base import ProblemSpec, SettingSpec
from gdviz.core.problems.csv_data import load_csv
from gdviz.core.problems.lesson_models import LessonProblem, stable_sigmoid
from gdviz.core.problems.mlp_data import CLASSIFICATION, DATASETS, GENERATORS
from gdviz.core.problems.registry import register

ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
_MAX_UNITS = 256
_MAX_LAYERS = 6
_N_MAX = 100_000
_WORKSPACE_NUMBERS = 4_000_000  # largest buffer kept per layer and thread (32 MB)
#: the most parameters whose full Hessian (p × p, from p Hessian-vector products) is offered
FULL_HESSIAN_MAX = 200
_HVP_NUMBERS = 2_000_000  # directions × samples × units per block of _hvp_sum's directions
# A separate stream for the start point, so the init and the run's batches (both drawn from
# the run's seed) are independent draws.
_INIT_STREAM = 0x4D4C50


@dataclass(frozen=True)
class Layer:
    """One Linear layer: its weight (out, inp) and bias (out,) as slices of the params vector."""

    inp: int
    out: int
    weights: slice
    bias: slice


def build_layers(sizes: tuple[int, ...]) -> tuple[Layer, ...]:
    """The Linear layers of a network with unit counts ``sizes`` (inputs, hidden..., 1)."""
    layers, start = [], 0
    for inp, out in zip(sizes[:-1], sizes[1:]):
        w_end = start + inp * out
        layers.append(Layer(inp, out, slice(start, w_end), slice(w_end, w_end + out)))
        start = w_end + out
    return tuple(layers)


def parameter_names(layers: tuple[Layer, ...]) -> tuple[str, ...]:
    """``W1_0_0, W1_0_1, ..., b1_0, ..., W2_0_0, ...`` in torch's ``.parameters()`` order."""
    names: list[str] = []
    for number, layer in enumerate(layers, start=1):
        names += [f"W{number}_{i}_{j}" for i in range(layer.out) for j in range(layer.inp)]
        names += [f"b{number}_{i}" for i in range(layer.out)]
    return tuple(names)


def torch_default_init(layers: tuple[Layer, ...], rng: np.random.Generator) -> np.ndarray:
    """torch's ``Linear.reset_parameters``: weight and bias uniform in ±1/sqrt(fan_in), drawn
    layer by layer (weight, then bias) from ``rng``; (p,)."""
    parts = []
    for layer in layers:
        bound = 1.0 / np.sqrt(layer.inp)
        parts.append(rng.uniform(-bound, bound, layer.inp * layer.out))
        parts.append(rng.uniform(-bound, bound, layer.out))
    return np.concatenate(parts)


def _activate(name: str, z: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The activation of z, elementwise; into ``out`` when given (``out`` may be z itself)."""
    if name == "tanh":
        return np.tanh(z, out=out)
    if name == "relu":
        return np.maximum(z, 0.0, out=out)
    if name == "sigmoid":
        if out is None:
            return _sigmoid(z)
        out[...] = _sigmoid(z)
        return out
    if out is not None and out is not z:
        out[...] = z
        return out
    return z


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z), stable for any z."""
    return stable_sigmoid(z)


def _activation_slope(name: str, z: np.ndarray, a: np.ndarray) -> np.ndarray | None:
    """d act / dz from the input z and the output a (None for linear: the slope is 1). ReLU's
    slope is 0 at z = 0, as torch's."""
    if name == "tanh":
        return 1.0 - a * a
    if name == "relu":
        return (z > 0.0).astype(np.float64)
    if name == "sigmoid":
        return a * (1.0 - a)
    return None


def _activation_bend(name: str, a: np.ndarray, slope: np.ndarray | None) -> np.ndarray | None:
    """d² act / dz² from the output a and the slope (None where it is 0: ReLU, whose kink
    counts as flat as in torch's autograd, and linear): tanh -2·a·(1 - a²), sigmoid
    a(1 - a)(1 - 2a)."""
    if name == "tanh":
        return -2.0 * a * slope
    if name == "sigmoid":
        return slope * (1.0 - 2.0 * a)
    return None


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z) without overflow: max(z, 0) + log1p(e^-|z|)."""
    return np.maximum(z, 0.0) + np.log1p(np.exp(-np.abs(z)))


class MlpProblem(LessonProblem):
    """A fully connected network (see the module docstring). Besides the LessonProblem
    attributes: ``layers`` (the Linear layers), ``activation`` and ``classification`` (True:
    BCEWithLogits on 0/1 targets; False: MSE)."""

    layers: tuple[Layer, ...] = ()
    activation: str = "tanh"
    classification: bool = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._workspace = threading.local()

    # -- the network ---------------------------------------------------------------------------
    def _forward(self, params: np.ndarray, x: np.ndarray):
        """Pre-activations and outputs of every layer. params (..., p), x (k, d) ->
        (zs, outs): zs[l] (..., k, out_l); outs[0] is x (k, d), outs[l + 1] the output of
        layer l after its activation (none on the last layer, whose output is the logit)."""
        lead = params.shape[:-1]
        zs, outs = [], [x]
        last = len(self.layers) - 1
        for number, layer in enumerate(self.layers):
            w = params[..., layer.weights].reshape(*lead, layer.out, layer.inp)
            z = np.matmul(outs[-1], np.swapaxes(w, -1, -2)) + params[..., None, layer.bias]
            zs.append(z)
            outs.append(z if number == last else _activate(self.activation, z))
        return zs, outs

    def logits(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The network's output z before any squashing: params (..., p), x (k, d) -> (..., k)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._forward(np.asarray(params, dtype=np.float64), x)[1][-1][..., 0]

    def _loss_of(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        if self.classification:
            return softplus(z) - y * z
        r = z - y
        return r * r

    def _loss_slope(self, z: np.ndarray, y: np.ndarray) -> np.ndarray:
        """d loss / d z per sample: σ(z) - y (BCE with logits) or 2(z - y) (MSE)."""
        if self.classification:
            return _sigmoid(z) - y
        return 2.0 * (z - y)

    def _loss_bend(self, z: np.ndarray, y: np.ndarray) -> np.ndarray | float:
        """d² loss / d z² per sample: σ(z)(1 - σ(z)) (BCE with logits) or 2 (MSE)."""
        if self.classification:
            s = _sigmoid(z)
            return s * (1.0 - s)
        return 2.0

    def _logits_in_workspace(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The logits (..., k) for the loss alone, each layer computed in place in a buffer
        kept per thread and reused while the shapes repeat (a landscape's chunks). Fresh
        multi-megabyte arrays per layer cost page faults: measured 3.4x slower for chunks of
        8 points × 1000 samples × 30 units. The result is a view into the buffers: use it
        before the next call on this thread."""
        lead, k = params.shape[:-1], x.shape[0]
        buffers = self._workspace.__dict__.setdefault("layers", {})
        out = x
        last = len(self.layers) - 1
        for number, layer in enumerate(self.layers):
            shape = (*lead, k, layer.out)
            buf = buffers.get(number)
            if buf is None or buf.shape != shape:
                buf = np.empty(shape)
                if buf.size <= _WORKSPACE_NUMBERS:
                    buffers[number] = buf
            w = params[..., layer.weights].reshape(*lead, layer.out, layer.inp)
            np.matmul(out, np.swapaxes(w, -1, -2), out=buf)
            buf += params[..., None, layer.bias]
            out = buf if number == last else _activate(self.activation, buf, out=buf)
        return out[..., 0]

    def _sample_losses(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            return self._loss_of(self._logits_in_workspace(params, x), y)

    def _sample_grads(self, params, x, y):
        with np.errstate(over="ignore", invalid="ignore"):
            return self._backward(params, x, y)

    def _backward(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Per-sample gradients (..., k, p) in one pass over the layers (no loop over samples)."""
        lead, k = params.shape[:-1], x.shape[0]
        zs, outs = self._forward(params, x)
        grads = np.empty((*lead, k, self.n_params), dtype=params.dtype)
        delta = self._loss_slope(zs[-1][..., 0], y)[..., None]  # (..., k, 1)
        for number in range(len(self.layers) - 1, -1, -1):
            layer = self.layers[number]
            below = outs[number]  # (..., k, inp) or x (k, inp)
            outer = delta[..., :, :, None] * below[..., :, None, :]  # (..., k, out, inp)
            grads[..., layer.weights] = outer.reshape(*lead, k, layer.out * layer.inp)
            grads[..., layer.bias] = delta
            if number:
                w = params[..., layer.weights].reshape(*lead, layer.out, layer.inp)
                delta = np.matmul(delta, w)  # (..., k, inp)
                slope = _activation_slope(self.activation, zs[number - 1], outs[number])
                if slope is not None:
                    delta = delta * slope
        return grads

    # -- curvature: Pearlmutter's R-operator ---------------------------------------------------
    @property
    def has_hessian(self) -> bool:
        return self.n_params <= FULL_HESSIAN_MAX

    @property
    def no_hessian_reason(self) -> str:
        return (f"the network's full Hessian is computed for at most {FULL_HESSIAN_MAX} "
                f"parameters, and this one has {self.n_params}")

    def _hvp_sum(self, params: np.ndarray, vectors: np.ndarray, x: np.ndarray,
                 y: np.ndarray) -> np.ndarray:
        """The sum over the k samples of their exact Hessian-vector products: params (..., p),
        vectors (..., m, p) (m directions; the leading dimensions broadcast), x (k, d),
        y (k,) -> (..., m, p). Blocks of directions keep the arrays near _HVP_NUMBERS."""
        m = vectors.shape[-2]
        units = max(layer.out for layer in self.layers)
        lead = np.broadcast_shapes(params.shape[:-1], vectors.shape[:-2])
        per_direction = max(1, int(np.prod(lead)) * x.shape[0] * units)
        block = max(1, _HVP_NUMBERS // per_direction)
        if m <= block:
            return self._r_pass(params, vectors, x, y)
        return np.concatenate([self._r_pass(params, vectors[..., i:i + block, :], x, y)
                               for i in range(0, m, block)], axis=-2)

    def _r_pass(self, params: np.ndarray, vectors: np.ndarray, x: np.ndarray,
                y: np.ndarray) -> np.ndarray:
        """One forward and one backward pass with the R-operator for all of ``vectors`` at
        once (see ``_hvp_sum``). Forward: R{z} = V·a + W·R{a} + v_b, R{a} = act'(z)·R{z}.
        Backward from delta = loss'(z), R{delta} = loss''(z)·R{z}: R{∇W} = R{delta}ᵀ·a +
        deltaᵀ·R{a}, R{∇b} = Σ R{delta}, and through a layer R{delta} = (R{delta}·W +
        delta·V)·act'(z) + (delta·W)·act''(z)·R{z}. Sums over samples are inside the matmuls."""
        p_lead, v_lead = params.shape[:-1], vectors.shape[:-2]
        m = vectors.shape[-2]
        zs, outs = self._forward(params, x)
        # the forward pass's numbers gain the directions' axis: (..., 1, k, units)
        zs = [z[..., None, :, :] for z in zs]
        outs = [outs[0]] + [a[..., None, :, :] for a in outs[1:]]
        weights = [params[..., None, layer.weights].reshape(*p_lead, 1, layer.out, layer.inp)
                   for layer in self.layers]
        turns = [vectors[..., layer.weights].reshape(*v_lead, m, layer.out, layer.inp)
                 for layer in self.layers]
        last = len(self.layers) - 1
        r_outs: list[np.ndarray | None] = [None]
        r_zs = []
        for number, layer in enumerate(self.layers):
            r_z = np.matmul(outs[number], np.swapaxes(turns[number], -1, -2)) \
                + vectors[..., None, layer.bias]
            if r_outs[number] is not None:
                r_z = r_z + np.matmul(r_outs[number], np.swapaxes(weights[number], -1, -2))
            r_zs.append(r_z)
            if number < last:
                slope = _activation_slope(self.activation, zs[number], outs[number + 1])
                r_outs.append(r_z if slope is None else r_z * slope)
        z = zs[-1][..., 0]
        delta = self._loss_slope(z, y)[..., None]                     # (..., 1, k, 1)
        r_delta = np.asarray(self._loss_bend(z, y))[..., None] * r_zs[-1]  # (..., m, k, 1)
        shape = np.broadcast_shapes((*p_lead, 1), (*v_lead, m)) + (self.n_params,)
        out = np.empty(shape)
        for number in range(last, -1, -1):
            layer = self.layers[number]
            r_grad = np.matmul(np.swapaxes(r_delta, -1, -2), outs[number])
            if r_outs[number] is not None:
                r_grad = r_grad + np.matmul(np.swapaxes(delta, -1, -2), r_outs[number])
            out[..., layer.weights] = r_grad.reshape(*r_grad.shape[:-2], -1)
            out[..., layer.bias] = r_delta.sum(axis=-2)
            if number:
                back = np.matmul(delta, weights[number])             # (..., 1, k, inp)
                r_back = np.matmul(r_delta, weights[number]) + np.matmul(delta, turns[number])
                slope = _activation_slope(self.activation, zs[number - 1], outs[number])
                if slope is None:
                    delta, r_delta = back, r_back
                    continue
                r_delta = r_back * slope
                bend = _activation_bend(self.activation, outs[number], slope)
                if bend is not None:
                    r_delta = r_delta + back * bend * r_zs[number - 1]
                delta = back * slope
        return out

    def _hessian_sum(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
        """The sum over the k samples of their exact Hessians, H·I by the R-operator: params
        (..., p), x (k, d), y (k,) -> (..., p, p), symmetric (the mean of H and Hᵀ, which
        differ by rounding); None above FULL_HESSIAN_MAX parameters."""
        if not self.has_hessian:
            return None
        with np.errstate(over="ignore", invalid="ignore"):
            columns = self._hvp_sum(params, np.eye(self.n_params), x, y)
        return 0.5 * (columns + np.swapaxes(columns, -1, -2))

    def unit_outputs(self, params: np.ndarray, x: np.ndarray) -> list[np.ndarray]:
        """What every unit outputs for the inputs x (k, d) at params (p,): one (k, out) array
        per Linear layer, the hidden layers after their activation and the last one as
        ``predict`` gives it (σ(z) for classification, z for regression)."""
        params = np.asarray(params, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore"):
            outs = self._forward(params, np.asarray(x, dtype=np.float64))[1][1:]
        if self.classification:
            outs[-1] = stable_sigmoid(outs[-1])
        return outs

    def layer_groups(self) -> tuple[tuple[str, np.ndarray], ...]:
        """Every layer's weights and biases as (name, parameter indices (m,)) in torch's
        order: ("W1", ...), ("b1", ...), ("W2", ...), ..."""
        groups = []
        for number, layer in enumerate(self.layers, start=1):
            groups.append((f"W{number}", np.arange(layer.weights.start, layer.weights.stop)))
            groups.append((f"b{number}", np.arange(layer.bias.start, layer.bias.stop)))
        return tuple(groups)

    def predict(self, params, x):
        """The probability of class 1, σ(z) (classification), or the prediction z
        (regression): params (..., p), x (k, d) -> (..., k)."""
        z = self.logits(params, x)
        return stable_sigmoid(z) if self.classification else z

    def score(self, params: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
        """The fraction of samples classified correctly (σ(z) > 0.5 against y; classification)
        or the mean squared error (regression), at params (p,) for x (k, d), y (k,)."""
        z = self.logits(params, x)
        if self.classification:
            return float(np.mean((z > 0.0) == (y > 0.5)))
        return float(np.mean((z - y) ** 2))

    def start_for_seed(self, seed: int) -> np.ndarray:
        """torch's Linear default initialisation drawn from the run's ``seed``; (p,)."""
        rng = np.random.default_rng([seed, _INIT_STREAM])
        return torch_default_init(self.layers, rng)

    def filter_groups(self) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """Each unit's incoming weights (one index array per row of every weight matrix), and
        the indices of all biases."""
        rows, biases = [], []
        for layer in self.layers:
            start = layer.weights.start
            rows += [np.arange(start + i * layer.inp, start + (i + 1) * layer.inp)
                     for i in range(layer.out)]
            biases.append(np.arange(layer.bias.start, layer.bias.stop))
        return tuple(rows), np.concatenate(biases)


# -- settings and the factory ------------------------------------------------------------------
MLP_TITLE = "Neural network (fully connected, one output)"
MLP_DESCRIPTION = (
    "A small fully connected network, inputs → hidden layers → one output, trained on 2-D data "
    "as in TensorFlow Playground: circle, xor, gauss, spiral and moons are classification "
    "(binary cross-entropy on the logit, torch's BCEWithLogitsLoss), plane and multigauss are "
    "regression (squared error, torch's MSELoss); the batch loss is the mean. Parameters are "
    "named and ordered as torch's nn.Sequential: W1_i_j is the weight from input j to unit i "
    "of layer 1, b1_i its bias, then W2, b2 and so on. The start is torch's default "
    "initialisation (uniform ±1/√fan_in) drawn from the run's seed. With a CSV file (features, "
    "then the target; a 0/1 target means classification) dataset, n and noise are ignored; "
    "seed still shuffles the rows and test_fraction splits off the test set.")
MLP_SETTINGS = (
    SettingSpec("layers", (8.0, 8.0), "floats", "Units of each hidden layer, comma-separated "
                "(e.g. 8,8); empty for no hidden layer (logistic or linear regression).",
                1, _MAX_UNITS),
    SettingSpec("activation", "tanh", str, "The hidden units' activation: tanh, relu, sigmoid "
                "or linear."),
    SettingSpec("dataset", "spiral", str, "The data: circle, xor, gauss, spiral or moons "
                "(classification); plane or multigauss (regression)."),
    SettingSpec("n", 500, int, "Number of points before the train/test split.", 2, _N_MAX),
    SettingSpec("noise", 0.0, float, "Noise level as in the Playground (0 to 0.5): moves the "
                "points or flips labels near the class border.", 0.0, 0.5),
    SettingSpec("seed", 0, int, "Seed of the random generator that draws the data (the start "
                "point comes from the run's seed).", 0, 2**32 - 1),
    SettingSpec("test_fraction", 0.5, float, "Fraction of the points held out as a test set.",
                0.0, 0.9),
)


def _hidden_sizes(values: tuple[float, ...]) -> tuple[int, ...]:
    if len(values) > _MAX_LAYERS:
        raise ConfigError(f"problem 'mlp' layers takes at most {_MAX_LAYERS} hidden layers, "
                          f"got {len(values)}")
    for value in values:
        if not float(value).is_integer():
            raise ConfigError(f"problem 'mlp' layers must be whole numbers of units, got "
                              f"{format_number(value)}")
    return tuple(int(v) for v in values)


def _choice(settings: Mapping[str, Any], name: str, choices: tuple[str, ...]) -> str:
    value = str(settings[name]).strip().lower()
    if value not in choices:
        raise ConfigError(f"problem 'mlp' {name} must be one of {', '.join(choices)}, "
                          f"got {settings[name]!r}")
    return value


def _split(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, test_fraction: float):
    """Shuffle, then the first (1 - test_fraction) part trains and the rest tests."""
    n = len(y)
    order = rng.permutation(n)
    n_test = min(int(round(n * test_fraction)), n - 1)
    x, y = x[order], y[order]
    return x[:n - n_test], y[:n - n_test], x[n - n_test:], y[n - n_test:]


def make_mlp(settings: Mapping[str, Any], data_path: str | None = None) -> MlpProblem:
    """Build the network and its data from validated settings (or the CSV file)."""
    hidden = _hidden_sizes(settings["layers"])
    activation = _choice(settings, "activation", ACTIVATIONS)
    dataset = _choice(settings, "dataset", DATASETS)
    rng = np.random.default_rng(settings["seed"])
    if data_path is not None:
        data = load_csv(data_path)
        if data.n_rows < 2:
            raise ConfigError(f"{data_path}: the network problem needs at least 2 data rows "
                              "(a training and a test point)")
        x, y, columns = data.x, data.y, data.columns
        classification = bool(np.all((y == 0.0) | (y == 1.0)))
        title = f"Neural network on {os.path.basename(data_path)}"
        source = (f" Data from {data_path}: {data.n_rows} rows, "
                  f"{'classification' if classification else 'regression'}.")
    else:
        x, y = GENERATORS[dataset](int(settings["n"]), float(settings["noise"]), rng)
        columns, classification = ("x1", "x2", "y"), dataset in CLASSIFICATION
        title, source = f"{MLP_TITLE}: {dataset}", ""
    train_x, train_y, test_x, test_y = _split(x, y, rng, float(settings["test_fraction"]))
    layers = build_layers((x.shape[1], *hidden, 1))
    names = parameter_names(layers)
    start = torch_default_init(layers, np.random.default_rng([0, _INIT_STREAM]))
    half = np.maximum(2.0, 2.0 * np.abs(start))
    problem = MlpProblem(
        name="mlp", title=title, param_names=names, data_x=train_x, data_y=train_y,
        default_init=start, view_range=np.stack([start - half, start + half], axis=1),
        settings=settings, extras={"test_x": test_x, "test_y": test_y}, data_columns=columns,
        description=MLP_DESCRIPTION + source)
    problem.layers, problem.activation = layers, activation
    problem.classification = classification
    problem.input_plane = x.shape[1] == 2
    return problem


register(ProblemSpec("mlp", MLP_TITLE, "network", MLP_DESCRIPTION, MLP_SETTINGS, make_mlp,
                     accepts_csv=True, param_names=parameter_names(build_layers((2, 8, 8, 1)))))
