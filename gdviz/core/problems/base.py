"""The Problem contract every loss landscape in gdviz follows.

A problem has named parameters, a dataset of n samples (analytic test functions have one
"sample" and no data), a per-sample loss and its analytic gradient. Both are vectorised over
samples *and* over arbitrary leading grid dimensions of parameter values, so the same code
serves the optimizer (params shape ``(p,)``), the per-sample curves (``(m, p)``) and the
contour / 3-D surfaces (``(rows, cols, p)``).

Shapes used throughout:
    params:  (..., p)
    losses:  (..., k)        k = number of selected samples
    grads:   (..., k, p)
    hessians (summed over the selected samples): (..., p, p)
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

_MEMBER_BLOCK = 65_536  # sample evaluations per block of member_sample_losses


def read_only(array: Any, dtype: Any = np.float64) -> np.ndarray:
    """A read-only float64 copy of ``array`` (safe to hand across threads)."""
    out = np.array(array, dtype=dtype, copy=True)
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class Minimum:
    """A known minimum: parameter values and the loss there (``kind``: global or local)."""

    params: tuple[float, ...]
    loss: float
    kind: str = "global"


@dataclass(frozen=True)
class SettingSpec:
    """One user-changeable setting of a problem family (n, noise, seed, data range, ...).

    ``kind`` is ``int``, ``float`` or ``"floats"`` (a comma-separated tuple of floats).
    ``minimum``/``maximum`` bound the value (inclusive) and are enforced on construction.
    """

    name: str
    default: Any
    kind: Any
    help: str
    minimum: float | None = None
    maximum: float | None = None


class Problem(ABC):
    """A loss landscape with data. Subclasses fill the attributes and implement the two
    vectorised kernels ``_sample_losses`` and ``_sample_grads``.

    Attributes (set by subclasses in ``__init__``; arrays are read-only float64):
        name:          registry name, e.g. ``"linreg"``
        title:         human title, e.g. ``"Linear regression (mini-batch SGD)"``
        param_names:   tuple of p names, in the order of every params vector
        data_x:        (n, d) features; analytic functions use shape (1, 0)
        data_y:        (n,) targets, or None when the loss has no target (``wavy``)
        reduction:     ``"mean"`` or ``"sum"``: how the full loss combines per-sample losses
        default_init:  (p,) start point
        view_range:    (p, 2) lower/upper bound of each parameter for plots
        true_params:   (p,) parameters that generated the data, or None
        minima:        known minima (possibly empty)
        grad_noise:    σ of additive Gaussian noise the runner adds to each per-sample gradient
        settings:      the validated settings this problem was built from
        extras:        read-only mapping of extra arrays, e.g. ``test_x``/``test_y`` for logistic
        loss_range:    optional (lo, hi) for the loss axis of the lesson's pictures, or None
    """

    name: str = ""
    title: str = ""
    param_names: tuple[str, ...] = ()
    reduction: str = "mean"
    grad_noise: float = 0.0
    true_params: np.ndarray | None = None
    minima: tuple[Minimum, ...] = ()
    loss_range: tuple[float, float] | None = None
    # True when the model's output over a 2-D input plane is the picture to draw (the Data
    # view's heat map: a network's decision surface or prediction)
    input_plane: bool = False
    #: True when the kernels compute elementwise only, so a sample's loss and gradient round
    #: the same whatever other samples and parameter points share the call. The ensemble
    #: runner then reads a batch's losses from the previous step's per-sample losses instead
    #: of computing them again. (A BLAS product rounds a sample's x·w differently with other
    #: samples beside it: linreg and logistic are False.)
    elementwise_kernels: bool = False
    #: True when the kernels accept per-member data, x (..., k, d) and y (..., k) with the
    #: leading dimensions of params (..., p), and row m of such a call rounds as a call for
    #: member m alone: the ensemble runner evaluates K runs with K different batches in one
    #: call (else it loops over them). Elementwise kernels do; linreg's and logistic's make
    #: one BLAS call per member, shaped as a single run's (``lesson_models._affine``).
    member_kernels: bool = False
    #: True when ``loss`` is not the sum of the per-sample losses but a closed form equal to
    #: it (linreg's quadratic, ``lesson_models.LinearRegressionProblem``) that costs less than
    #: n sample evaluations and rounds every point of a stack as that point alone: the runners
    #: call ``loss`` on K (or B) points at once.
    fast_loss: bool = False

    def __init__(self) -> None:
        self.data_x: np.ndarray = read_only(np.zeros((1, 0)))
        self.data_y: np.ndarray | None = None
        self.default_init: np.ndarray = read_only(np.zeros(len(self.param_names)))
        self.view_range: np.ndarray = read_only(np.tile([-1.0, 1.0], (len(self.param_names), 1)))
        self.settings: Mapping[str, Any] = MappingProxyType({})
        self.extras: Mapping[str, np.ndarray] = MappingProxyType({})

    # -- sizes -------------------------------------------------------------------------------
    @property
    def n_samples(self) -> int:
        return int(self.data_x.shape[0])

    @property
    def n_params(self) -> int:
        return len(self.param_names)

    @property
    def has_data(self) -> bool:
        """True for problems with a real dataset (False for analytic test functions)."""
        return self.data_x.shape[1] > 0

    # -- kernels subclasses implement ---------------------------------------------------------
    @abstractmethod
    def _sample_losses(self, params: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """params (..., p), x (k, d), y (k,) or None -> losses (..., k)."""

    @abstractmethod
    def _sample_grads(self, params: np.ndarray, x: np.ndarray, y: np.ndarray | None) -> np.ndarray:
        """params (..., p), x (k, d), y (k,) or None -> gradients (..., k, p)."""

    def _hessian_sum(self, params: np.ndarray, x: np.ndarray,
                     y: np.ndarray | None) -> np.ndarray | None:
        """The sum over the k selected samples of their exact Hessians: params (..., p), x (k, d),
        y (k,) or None -> (..., p, p); None when the problem supplies no full Hessian (a large
        network, which will give Hessian-vector products instead)."""
        return None

    def _hvp_sum(self, params: np.ndarray, vectors: np.ndarray, x: np.ndarray,
                 y: np.ndarray | None) -> np.ndarray | None:
        """The sum over the k selected samples of their exact Hessian-vector products:
        params (..., p), vectors (..., m, p) (leading dimensions broadcast), x (k, d),
        y (k,) or None -> (..., m, p); None when the problem computes them from its full
        Hessian (the default; the network computes them directly, by the R-operator)."""
        return None

    def constant_hessian(self) -> np.ndarray | None:
        """The Hessian of the full loss, (p, p), when it is the same at every point (a quadratic
        loss: the noise model of core.noise applies), else None."""
        return None

    def predict(self, params: np.ndarray, x: np.ndarray) -> np.ndarray | None:
        """The model's output for inputs x (k, d) at params (..., p) -> (..., k), or None when
        the problem has no model (analytic functions). Used by the Data view."""
        return None

    def start_for_seed(self, seed: int) -> np.ndarray:
        """The default start point (p,) of a run with this ``seed``: ``default_init`` for
        every problem but the network, whose initialisation is drawn from the run's seed."""
        return np.array(self.default_init, dtype=np.float64)

    def filter_groups(self) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
        """(rows, biases) for filter-normalised directions: index arrays of the parameters
        that feed one unit (one per unit), and the indices of the biases. A problem without
        layers is one group of all its parameters and has no biases."""
        return (np.arange(self.n_params),), np.zeros(0, dtype=np.int64)

    # -- public, vectorised API ---------------------------------------------------------------
    def _select(self, idx: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        if idx is None:
            return self.data_x, self.data_y
        # take copies the same rows as data_x[idx]; measured 20x faster for a (256, 10)
        # index array (the ensemble's batches), 5 µs instead of 90 µs (the method: np.take's
        # wrapper adds ~0.4 µs, a few % of a one-sample step)
        y = None if self.data_y is None else self.data_y.take(idx)
        return self.data_x.take(idx, axis=0), y

    # The numbers below may be inf or NaN (a formula's log of a negative number, a diverging
    # run): every caller reports that in words (the runner's "diverged ...", a view's gap), so
    # numpy's RuntimeWarnings are silenced here, where they arise, instead of reaching stderr
    # before the status line. ``np.errstate`` is a context variable: it ends with the call.
    def sample_losses(self, params: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Per-sample losses: params (..., p) -> (..., k) for samples ``idx`` (all if None)."""
        x, y = self._select(idx)
        with np.errstate(all="ignore"):
            return self._sample_losses(np.asarray(params, dtype=np.float64), x, y)

    def sample_grads(self, params: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Per-sample gradients: params (..., p) -> (..., k, p) for samples ``idx``."""
        x, y = self._select(idx)
        with np.errstate(all="ignore"):
            return self._sample_grads(np.asarray(params, dtype=np.float64), x, y)

    def rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The data of samples ``idx`` (k,): (x (k, d), y (k,) or None), for
        ``sample_grads_of``."""
        return self._select(idx)

    def sample_grads_of(self, params: np.ndarray, x: np.ndarray,
                        y: np.ndarray | None) -> np.ndarray:
        """``sample_grads`` of the samples ``rows`` gave: params (p,) float64, x (k, d), y ->
        (k, p), the same numbers. For a loop of many steps that has silenced numpy's warnings
        around all of them (``np.errstate``; core.run_blocks): it skips that per call."""
        return self._sample_grads(params, x, y)

    def reduce_factor(self, k: int) -> float:
        """Factor turning a sum over k selected samples into the (estimated) full loss.

        ``mean``: 1/k. ``sum``: n/k, so a mini-batch estimate is unbiased for the full sum
        (and equals the plain sum for the full batch).
        """
        return 1.0 / k if self.reduction == "mean" else self.n_samples / k

    def batch_loss(self, params: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Loss estimated on samples ``idx`` (the full loss when idx is None): (..., p) -> (...)."""
        losses = self.sample_losses(params, idx)
        with np.errstate(all="ignore"):  # inf - inf in the sum
            return losses.sum(axis=-1) * self.reduce_factor(losses.shape[-1])

    def batch_grad(self, params: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Gradient of ``batch_loss``: (..., p) -> (..., p)."""
        grads = self.sample_grads(params, idx)
        with np.errstate(all="ignore"):
            return grads.sum(axis=-2) * self.reduce_factor(grads.shape[-2])

    @property
    def has_hessian(self) -> bool:
        """True when ``hessian`` / ``batch_hessian`` give the exact full Hessian."""
        return type(self)._hessian_sum is not Problem._hessian_sum

    @property
    def no_hessian_reason(self) -> str:
        """Why ``has_hessian`` is False, one sentence part for refusals."""
        return f"problem {self.name!r} gives no full Hessian"

    @property
    def has_hessian_vector_products(self) -> bool:
        """True when ``hessian_vector_products`` is exact: from the full Hessian, or computed
        directly without it (a network too large for its full Hessian)."""
        return self.has_hessian or type(self)._hvp_sum is not Problem._hvp_sum

    @property
    def hessian_ready(self) -> bool:
        """True when ``hessian`` answers at once (a formula derives its second derivatives on
        first use, up to seconds: the GUI asks for them in the background first)."""
        return self.has_hessian

    def batch_hessian(self, params: np.ndarray, idx: np.ndarray | None = None) -> np.ndarray:
        """Exact Hessian of ``batch_loss``: (..., p) -> (..., p, p). Raises ValueError when the
        problem has none (``has_hessian`` False)."""
        x, y = self._select(idx)
        summed = self._hessian_sum(np.asarray(params, dtype=np.float64), x, y)
        if summed is None:
            raise ValueError(self.no_hessian_reason)
        return summed * self.reduce_factor(x.shape[0])

    def batch_hessian_vector_products(self, params: np.ndarray, vectors: np.ndarray,
                                      idx: np.ndarray | None = None) -> np.ndarray:
        """Exact products of ``batch_loss``'s Hessian with m directions: params (..., p),
        vectors (..., m, p) (leading dimensions broadcast) -> (..., m, p). Raises ValueError
        when the problem has neither (``has_hessian_vector_products`` False)."""
        x, y = self._select(idx)
        params = np.asarray(params, dtype=np.float64)
        vectors = np.asarray(vectors, dtype=np.float64)
        with np.errstate(all="ignore"):
            summed = self._hvp_sum(params, vectors, x, y)
            if summed is None:
                hessian = self._hessian_sum(params, x, y)
                if hessian is None:
                    raise ValueError(self.no_hessian_reason)
                summed = np.matmul(vectors, hessian)   # H symmetric: (H·v)ᵀ = vᵀ·H
        return summed * self.reduce_factor(x.shape[0])

    def hessian_vector_products(self, params: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        """Exact products of the full loss's Hessian with m directions: params (..., p),
        vectors (..., m, p) -> (..., m, p)."""
        return self.batch_hessian_vector_products(params, vectors, None)

    def hessian_vector_product(self, params: np.ndarray, vector: np.ndarray) -> np.ndarray:
        """H·v of the full loss at one point: params (p,), vector (p,) -> (p,)."""
        return self.hessian_vector_products(params, np.asarray(vector)[None])[0]

    def hessian(self, params: np.ndarray) -> np.ndarray:
        """Exact Hessian of the full loss: (..., p) -> (..., p, p)."""
        return self.batch_hessian(params, None)

    # -- K runs at once (core.ensemble): member m has its own params[m] and batch idx[m] -------
    def member_sample_grads(self, params: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """params (K, p), idx (K, k) int -> (K, k, p); row m equals, bit for bit,
        ``sample_grads(params[m], idx[m])``."""
        if self.member_kernels:
            x, y = self._select(idx)
            return self._sample_grads(np.asarray(params, dtype=np.float64), x, y)
        return np.stack([self.sample_grads(params[m], idx[m]) for m in range(len(params))])

    def member_sample_losses(self, params: np.ndarray,
                             idx: np.ndarray | None = None) -> np.ndarray:
        """params (K, p), idx (K, k) int or None (every sample) -> (K, k); row m equals
        ``sample_losses(params[m], idx[m])``."""
        if not self.member_kernels:
            return np.stack([self.sample_losses(params[m], None if idx is None else idx[m])
                             for m in range(len(params))])
        params = np.asarray(params, dtype=np.float64)
        with np.errstate(all="ignore"):
            if idx is not None:
                x, y = self._select(idx)
                return self._sample_losses(params, x, y)
            # every sample for every member: the data as per-member data (a broadcast view),
            # so a BLAS kernel makes one call per member; in blocks of ~64k sample
            # evaluations, so the temporaries stay in cache (linreg, 256 members x 1000
            # samples: 0.83 ms a call instead of 2.6 ms in one block)
            rows = max(1, _MEMBER_BLOCK // max(1, self.n_samples))
            return np.concatenate([self._all_member_losses(params[i:i + rows])
                                   for i in range(0, len(params), rows)])

    def member_losses(self, params: np.ndarray) -> np.ndarray:
        """params (K, p) -> the full loss at each point (K,); row m equals, bit for bit,
        ``float(loss(params[m]))``: one call for a closed-form loss or member kernels (the
        per-sample losses summed along the contiguous last axis, as ``loss`` sums them), a
        loop over the points for the others."""
        params = np.asarray(params, dtype=np.float64)
        if self.fast_loss:
            return np.asarray(self.loss(params), dtype=np.float64)
        if self.member_kernels:
            with np.errstate(all="ignore"):
                return (self.member_sample_losses(params).sum(axis=-1)
                        * self.reduce_factor(self.n_samples))
        return np.array([float(self.loss(row)) for row in params], dtype=np.float64)

    def _all_member_losses(self, params: np.ndarray) -> np.ndarray:
        """params (K, p) -> every sample's loss at every member's point (K, n)."""
        k = len(params)
        x = np.broadcast_to(self.data_x, (k, *self.data_x.shape))
        y = None if self.data_y is None else np.broadcast_to(self.data_y, (k, self.n_samples))
        return self._sample_losses(params, x, y)

    def loss(self, params: np.ndarray) -> np.ndarray:
        """The full loss over all samples: (..., p) -> (...)."""
        return self.batch_loss(params, None)

    def grad(self, params: np.ndarray) -> np.ndarray:
        """The full gradient: (..., p) -> (..., p)."""
        return self.batch_grad(params, None)


@dataclass(frozen=True)
class ProblemSpec:
    """A registry entry: how to build a problem family from validated settings.

    ``factory(settings: dict, data_path: str | None) -> Problem``. ``accepts_csv`` says whether
    the family takes user data from a CSV file (``data_path``).
    """

    name: str
    title: str
    family: str  # "lesson" | "analytic" | "custom"
    description: str
    settings: tuple[SettingSpec, ...]
    factory: Any
    accepts_csv: bool = False
    param_names: tuple[str, ...] = field(default=())
