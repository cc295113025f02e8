"""Write the example files of examples/ (run from the repository root; the same files every time):

    python examples/make_examples.py

- linreg.csv    60 rows x1,x2,y: y = 2 x1 - 3.4 x2 + 4.2 + N(0, 0.1²)   (gdviz run --problem linreg)
- logistic.csv  80 rows x1,x2,label: two Gaussian blobs, labels 0 and 1  (--problem logistic)
- slope.csv     40 rows x,y: y = 3.2 x + N(0, 10²), x in [0, 100]        (--problem slope)
- compare_wavy.gdviz.json  a session of a comparison on the wavy lesson: SGD, SGD with
  momentum 0.9 and Adam at lr 0.01, shown at step 100 (gdviz --session / File > Open session)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # this checkout's gdviz, for the session file


def _write_csv(folder: Path, name: str, header: list[str], columns: list[np.ndarray],
               decimals: list[int]) -> None:
    rows = [",".join(header)]
    rows += [",".join(f"{v:.{d}f}" for v, d in zip(row, decimals)) for row in zip(*columns)]
    (folder / name).write_text("\n".join(rows) + "\n", encoding="utf-8")


def main(folder: Path = HERE) -> None:
    """Write the example files into ``folder`` (default: examples/)."""
    rng = np.random.default_rng(14)
    x = rng.standard_normal((60, 2))
    y = 2.0 * x[:, 0] - 3.4 * x[:, 1] + 4.2 + 0.1 * rng.standard_normal(60)
    _write_csv(folder, "linreg.csv", ["x1", "x2", "y"], [x[:, 0], x[:, 1], y], [4, 4, 4])

    centres = np.array([[-2.0, 1.0], [2.0, -1.0]])
    labels = np.repeat([0, 1], 40)
    points = centres[labels] + 1.2 * rng.standard_normal((80, 2))
    order = rng.permutation(80)
    _write_csv(folder, "logistic.csv", ["x1", "x2", "label"],
               [points[order, 0], points[order, 1], labels[order]], [3, 3, 0])

    x = np.sort(rng.uniform(0.0, 100.0, 40))
    _write_csv(folder, "slope.csv", ["x", "y"], [x, 3.2 * x + 10.0 * rng.standard_normal(40)],
               [2, 2])

    from gdviz.core.presets import get_preset
    from gdviz.core.run_set import PALETTE, RunSpec
    from gdviz.export.session import Session, session_to_json

    base = get_preset("wavy").config
    runs = (
        RunSpec("SGD lr 0.01", PALETTE[0], base),
        RunSpec("momentum 0.9", PALETTE[1],
                base.with_changes(hyperparams={**base.hyperparams, "momentum": 0.9})),
        RunSpec("Adam lr 0.01", PALETTE[2], base.with_changes(optimizer="adam",
                                                             hyperparams={})),
    )
    session = Session(runs=runs, selected=0, step=100)
    (folder / "compare_wavy.gdviz.json").write_text(session_to_json(session), encoding="utf-8")


if __name__ == "__main__":
    main()
