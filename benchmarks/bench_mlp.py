"""Network training speed: the runner against a hand-written numpy loop, measured in one run.

Both train a 2-8-8-1 tanh network (105 parameters) on 500 training samples (spiral) with
mini-batches of 10 in shuffled order, plain SGD (lr 0.1), from the same start, and per step
compute what the runner records: the batch's forward and backward pass, the batch loss, the
update, and the full loss over all 500 samples after the step. The hand loop is what one would
write for this network alone: the mean gradient of the batch straight from the layers (no
per-sample gradients, no records). The ratio runner/hand is what matters (target >= 1/3).

    python benchmarks/bench_mlp.py [--steps N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the gdviz command does

import numpy as np  # noqa: E402

from gdviz.core.records import RunConfig  # noqa: E402
from gdviz.core.runner import iterate  # noqa: E402


def config(steps: int) -> RunConfig:
    return RunConfig(problem="mlp", settings={"layers": "8,8", "dataset": "spiral",
                                              "n": 1000}, optimizer="sgd", lr=0.1,
                     batch_size=10, max_steps=steps, seed=0)


def runner_rate(steps: int) -> tuple[float, np.ndarray]:
    t0 = time.perf_counter()
    records = iterate(config(steps))
    last = next(records)
    for record in records:
        last = record
    return steps / (time.perf_counter() - t0), last.params


def hand_rate(steps: int) -> tuple[float, np.ndarray]:
    cfg = config(steps)
    problem = cfg.make_problem()
    x, y = problem.data_x, problem.data_y
    p = cfg.start_point()
    w1, b1 = p[0:16].reshape(8, 2).copy(), p[16:24].copy()
    w2, b2 = p[24:88].reshape(8, 8).copy(), p[88:96].copy()
    w3, b3 = p[96:104].reshape(1, 8).copy(), p[104:105].copy()
    rng = np.random.default_rng(cfg.seed)  # the runner's batches: the same generator calls
    n, lr = len(y), cfg.lr

    def logits(xs):
        h1 = np.tanh(xs @ w1.T + b1)
        h2 = np.tanh(h1 @ w2.T + b2)
        return h1, h2, (h2 @ w3.T + b3)[:, 0]

    def bce(z, t):
        return np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z))) - t * z

    t0 = time.perf_counter()
    done = 0
    while done < steps:
        perm = rng.permutation(n)
        for start in range(0, n, 10):
            if done == steps:
                break
            idx = perm[start:start + 10]
            xb, yb = x[idx], y[idx]
            h1, h2, z = logits(xb)
            batch_loss = float(np.mean(bce(z, yb)))
            dz = (1 / (1 + np.exp(-z)) - yb)[:, None] / len(idx)
            g_w3, g_b3 = dz.T @ h2, dz.sum(0)
            d2 = (dz @ w3) * (1 - h2 * h2)
            g_w2, g_b2 = d2.T @ h1, d2.sum(0)
            d1 = (d2 @ w2) * (1 - h1 * h1)
            g_w1, g_b1 = d1.T @ xb, d1.sum(0)
            for param, grad in ((w1, g_w1), (b1, g_b1), (w2, g_w2), (b2, g_b2),
                                (w3, g_w3), (b3, g_b3)):
                param -= lr * grad
            full = float(np.mean(bce(logits(x)[2], y)))
            if not (np.isfinite(full) and np.isfinite(batch_loss)):
                break
            done += 1
    rate = steps / (time.perf_counter() - t0)
    return rate, np.concatenate([w1.ravel(), b1, w2.ravel(), b2, w3.ravel(), b3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    runner_rate(200)  # warm the problem cache
    ours, hand = [], []
    for _ in range(args.repeat):  # interleaved, so both see the same machine load
        r, end_runner = runner_rate(args.steps)
        h, end_hand = hand_rate(args.steps)
        ours.append(r)
        hand.append(h)
    same = float(np.max(np.abs(end_runner - end_hand)))
    print(f"2-8-8-1 tanh, 500 samples, batch 10, SGD, {args.steps} steps "
          f"(best of {args.repeat}):")
    print(f"  runner {max(ours):,.0f} steps/s, hand-written numpy {max(hand):,.0f} steps/s, "
          f"ratio {max(ours) / max(hand):.2f} (target >= 0.33)")
    print(f"  the two end at the same weights to {same:.1e} (the same arithmetic)")


if __name__ == "__main__":
    main()
