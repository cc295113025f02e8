"""The extreme eigenvalues of symmetric operators known only through their products with
vectors (a network's Hessian-vector products), by the Lanczos method with full
reorthogonalisation, for m operators at once.

Each operator i builds its Krylov basis q_0, q_1, ... from the same start vector, drawn from a
fixed seed (``START_SEED``: the same answer every time). Every new vector is orthogonalised
against the whole basis twice ("twice is enough", Parlett), so no ghost copies of converged
eigenvalues appear. After j steps the eigenvalues θ of the tridiagonal T_j (the Ritz values)
approximate the extremes from inside: θ_max ≤ λmax and θ_min ≥ λmin. Each Ritz value has an
eigenvalue of the operator within its residual |β_j·s_j| (s_j the last entry of its
eigenvector of T_j); an operator stops when both extremes' residuals are below
``tol``·max|θ| (the error of the values is then far smaller, of order residual²/gap), when
the Krylov space is invariant (β_j ≈ 0: its Ritz values are exact), or after ``max_steps``
(at most p: the space is then the whole space and the values exact to rounding).

Shapes: m operators on vectors of length p; ``apply(vectors (a, p), which (a,) int) -> (a, p)``
applies operator which[r] to vectors[r].
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

START_SEED = 20_210_226   # the start vector's seed (Cohen et al.'s arXiv date)
TOLERANCE = 1e-10         # residual of both extremes, relative to the largest |Ritz value|
MAX_STEPS = 300           # Lanczos steps at most (fewer when p is smaller)

Apply = Callable[[np.ndarray, np.ndarray], np.ndarray]


def start_vector(p: int) -> np.ndarray:
    """The unit start vector (p,) every operator shares, from ``START_SEED``."""
    vector = np.random.default_rng(START_SEED).standard_normal(p)
    return vector / np.linalg.norm(vector)


def extreme_eigenvalues(apply: Apply, m: int, p: int, tol: float = TOLERANCE,
                        max_steps: int = MAX_STEPS) -> tuple[np.ndarray, np.ndarray]:
    """(λmin (m,), λmax (m,)) of m symmetric p × p operators (see the module docstring).
    NaN for an operator whose products are not finite (a diverged run)."""
    steps = max(1, min(p, max_steps))
    basis = np.zeros((m, steps, p))
    basis[:, 0] = start_vector(p)
    alphas = np.zeros((m, steps))
    betas = np.zeros((m, steps))
    low, high = np.full(m, np.nan), np.full(m, np.nan)
    active = np.arange(m)
    for j in range(steps):
        q = basis[active, j]
        with np.errstate(all="ignore"):
            w = np.asarray(apply(q, active), dtype=np.float64)
        finite = np.all(np.isfinite(w), axis=1)
        if not finite.all():   # NaN stays in low and high
            active, q, w = active[finite], q[finite], w[finite]
            if not len(active):
                break
        kept = basis[active, :j + 1]                       # (a, j + 1, p)
        alpha = np.einsum("ap,ap->a", q, w)
        for _ in range(2):                                 # full reorthogonalisation, twice
            w = w - np.einsum("akp,ak->ap", kept, np.einsum("akp,ap->ak", kept, w))
        alphas[active, j] = alpha
        beta = np.linalg.norm(w, axis=1)
        tridiagonal = _tridiagonal(alphas[active, :j + 1], betas[active, :j])
        ritz, vectors = np.linalg.eigh(tridiagonal)       # (a, j + 1), (a, j + 1, j + 1)
        residual = beta[:, None] * np.abs(vectors[:, -1, [0, -1]])   # (a, 2)
        scale = np.maximum(np.abs(ritz[:, 0]), np.abs(ritz[:, -1]))
        invariant = beta <= 1e-13 * np.maximum(scale, np.finfo(float).tiny)
        done = invariant | np.all(residual <= tol * scale[:, None], axis=1) | (j + 1 == steps)
        low[active[done]], high[active[done]] = ritz[done, 0], ritz[done, -1]
        going = ~done
        active, w, beta = active[going], w[going], beta[going]
        if not len(active):
            break
        basis[active, j + 1] = w / beta[:, None]
        betas[active, j] = beta
    return low, high


def _tridiagonal(alphas: np.ndarray, betas: np.ndarray) -> np.ndarray:
    """The symmetric tridiagonal matrices (a, j, j) with diagonals alphas (a, j) and
    off-diagonals betas (a, j - 1)."""
    a, j = alphas.shape
    out = np.zeros((a, j, j))
    diagonal = np.arange(j)
    out[:, diagonal, diagonal] = alphas
    out[:, diagonal[1:], diagonal[:-1]] = betas
    out[:, diagonal[:-1], diagonal[1:]] = betas
    return out
