"""torch.optim.LBFGS in numpy: one call is one torch ``step(closure)``.

The closure is ``evaluate(params) -> (loss, grad)``: the loss and its gradient at ``params``
(float64, ``(n_params,)``), for whatever the caller's closure covers (gdviz's runner: the
current batch). Torch calls the closure first thing in ``step``; here the caller passes that
first evaluation in (it records it), and it counts as one of the step's evaluations.

The state holds what torch keeps between steps (``d``, ``t``, ``old_dirs``, ``old_stps``, ``ro``,
``H_diag``, ``prev_flat_grad``, ``prev_loss``, ``n_iter``, ``func_evals``) plus, for the views,
``evals`` (the loss/gradient evaluations this step used) and ``history_len`` (the number of
curvature pairs held). History arrays are ``(history_len, n_params)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from gdviz.core.optimizers.kernels import dot, frozen

Evaluate = Callable[[np.ndarray], tuple[float, np.ndarray]]


def init_lbfgs(shape: tuple, hp: Mapping[str, Any], lr: float) -> dict[str, Any]:
    return {"func_evals": 0, "n_iter": 0, "evals": 0, "history_len": 0}


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through two points with slopes, clamped to ``bounds``."""
    if bounds is not None:
        xmin_bound, xmax_bound = bounds
    else:
        xmin_bound, xmax_bound = (x1, x2) if x1 <= x2 else (x2, x1)
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1**2 - g1 * g2
    if d2_square >= 0:
        d2 = np.sqrt(d2_square)
        if x1 <= x2:
            min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
        else:
            min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
        return min(max(min_pos, xmin_bound), xmax_bound)
    return (xmin_bound + xmax_bound) / 2.0


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9,
                  max_ls=25):
    """torch's line search for a step length t meeting the strong Wolfe conditions:
    (loss, grad, t, evaluations)."""
    d_norm = np.max(np.abs(d))
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = dot(g_new, d)
    t_prev, f_prev, g_prev, gtd_prev = 0, f, g, gtd
    done = False
    ls_iter = 0
    while ls_iter < max_ls:                                   # bracketing phase
        if f_new > (f + c1 * t * gtd) or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f = [t_prev, t], [f_prev, f_new]
            bracket_g, bracket_gtd = [g_prev, g_new], [gtd_prev, gtd_new]
            break
        min_step = t + 0.01 * (t - t_prev)
        max_step = t * 10
        tmp = t
        t = _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new,
                               bounds=(min_step, max_step))
        t_prev, f_prev, g_prev, gtd_prev = tmp, f_new, g_new, gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = dot(g_new, d)
        ls_iter += 1
    if ls_iter == max_ls:
        bracket, bracket_f, bracket_g = [0, t], [f, f_new], [g, g_new]
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:                      # zoom phase
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0],
                               bracket[1], bracket_f[1], bracket_gtd[1])
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                if abs(t - max(bracket)) < abs(t - min(bracket)):
                    t = max(bracket) - eps
                else:
                    t = min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = dot(g_new, d)
        ls_iter += 1
        if f_new > (f + c1 * t * gtd) or f_new >= bracket_f[low_pos]:
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new, gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos] = bracket_g[low_pos]
                bracket_gtd[high_pos] = bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new, gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals


def lbfgs(params: np.ndarray, loss: float, grad: np.ndarray, state: Mapping[str, Any],
          lr: float, hp: Mapping[str, Any], evaluate: Evaluate
          ) -> tuple[np.ndarray, dict[str, Any]]:
    """One ``LBFGS.step(closure)``: ``(new_params, new_state)``; ``loss``/``grad`` are the
    closure's value at ``params`` (already evaluated by the caller)."""
    max_iter = hp["max_iter"]
    max_eval = hp["max_eval"] if hp["max_eval"] is not None else max_iter * 5 // 4
    tolerance_grad, tolerance_change = hp["tolerance_grad"], hp["tolerance_change"]
    history_size = hp["history_size"]
    total_evals, total_iter = state["func_evals"] + 1, state["n_iter"]
    current_evals = 1
    flat_grad = np.array(grad, dtype=np.float64)
    x = np.array(params, dtype=np.float64)
    if np.max(np.abs(flat_grad)) <= tolerance_grad:            # optimal already: no move
        return frozen(x), {**state, "func_evals": total_evals, "evals": 1}
    d, t = state.get("d"), state.get("t")
    old_dirs = list(state.get("old_dirs", ()))
    old_stps = list(state.get("old_stps", ()))
    ro = list(state.get("ro", ()))
    h_diag = state.get("H_diag", 1)
    prev_flat_grad = state.get("prev_flat_grad")
    prev_loss = state.get("prev_loss")
    n_iter = 0
    while n_iter < max_iter:
        n_iter += 1
        total_iter += 1
        if total_iter == 1:
            d = -flat_grad
            old_dirs, old_stps, ro, h_diag = [], [], [], 1
        else:
            y = flat_grad - prev_flat_grad
            s = d * t
            ys = dot(y, s)
            if ys > 1e-10:                                    # keep the pair: curvature > 0
                if len(old_dirs) == history_size:
                    old_dirs.pop(0)
                    old_stps.pop(0)
                    ro.pop(0)
                old_dirs.append(y)
                old_stps.append(s)
                ro.append(1.0 / ys)
                h_diag = ys / dot(y, y)
            num_old = len(old_dirs)
            al = [0.0] * num_old
            q = -flat_grad                                    # two-loop recursion
            for i in range(num_old - 1, -1, -1):
                al[i] = dot(old_stps[i], q) * ro[i]
                q = q + -al[i] * old_dirs[i]
            d = r = q * h_diag
            for i in range(num_old):
                be_i = dot(old_dirs[i], r) * ro[i]
                r = r + (al[i] - be_i) * old_stps[i]
            d = r
        prev_flat_grad = flat_grad.copy()
        prev_loss = loss
        if total_iter == 1:
            t = min(1.0, 1.0 / np.sum(np.abs(flat_grad))) * lr
        else:
            t = lr
        gtd = dot(flat_grad, d)
        if gtd > -tolerance_change:                           # not a descent direction
            break
        ls_func_evals = 0
        if hp["line_search_fn"] == "strong_wolfe":
            def obj_func(start, step_length, direction):
                value, gradient = evaluate(start + step_length * direction)
                return float(value), np.asarray(gradient, dtype=np.float64)

            loss, flat_grad, t, ls_func_evals = _strong_wolfe(
                obj_func, x, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals)
            x = x + t * d
            opt_cond = np.max(np.abs(flat_grad)) <= tolerance_grad
        else:
            x = x + t * d
            opt_cond = False
            if n_iter != max_iter:
                loss, flat_grad = evaluate(x)
                loss = float(loss)
                flat_grad = np.asarray(flat_grad, dtype=np.float64)
                opt_cond = np.max(np.abs(flat_grad)) <= tolerance_grad
                ls_func_evals = 1
        current_evals += ls_func_evals
        total_evals += ls_func_evals
        if n_iter == max_iter or current_evals >= max_eval or opt_cond:
            break
        if np.max(np.abs(d * t)) <= tolerance_change:
            break
        if abs(loss - prev_loss) < tolerance_change:
            break
    n = x.size
    new_state = {
        "func_evals": total_evals, "n_iter": total_iter, "evals": current_evals,
        "history_len": len(old_dirs), "d": frozen(np.array(d, dtype=np.float64)),
        "t": float(t), "old_dirs": frozen(np.array(old_dirs).reshape(-1, n)),
        "old_stps": frozen(np.array(old_stps).reshape(-1, n)),
        "ro": frozen(np.array(ro, dtype=np.float64)), "H_diag": float(h_diag),
        "prev_flat_grad": frozen(prev_flat_grad), "prev_loss": float(prev_loss)}
    return frozen(x), new_state
