"""A log-scale axis that labels decades only, so its labels never crowd."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class LogAxis(pg.AxisItem):
    """An axis whose log mode labels only decades, at most one per ~28 px (and 2, 5 within a
    single decade), instead of pyqtgraph's "9·10¹ 8·10¹ 7·10¹ ..." that crowds short ranges
    (the learning curve's loss, the gradient noise view's batch size and variance, the
    quadratic theory's error)."""

    def logTickValues(self, minVal, maxVal, size, stdTicks):  # noqa: N802, N803 (Qt style)
        v1, v2 = int(np.floor(minVal)), int(np.ceil(maxVal))
        decades = [float(v) for v in range(v1, v2 + 1) if minVal <= v <= maxVal]
        minor = [v + np.log10(k) for v in range(v1, v2) for k in range(2, 10)
                 if minVal <= v + np.log10(k) <= maxVal]
        if len(decades) >= 2:
            # at most one label per ~28 px (8 on a tall axis): a short plot must not overlap
            fit = int(max(2, min(8, size // 28)))
            stride = max(1, -(-len(decades) // fit))
            return [(float(stride), decades[::stride]), (None, minor)]
        labelled = sorted(decades + [m for m in minor if round(10 ** (m % 1)) in (2, 5)])
        return [(None, labelled), (None, [m for m in minor if m not in labelled])]

    def logTickStrings(self, values, scale, spacing):  # noqa: N802 (Qt style)
        """Plain numbers from 0.001 to 10 000 ("0.01", "1", "100": not pyqtgraph's mix of
        "1" and "10¹"), powers of ten beyond ("10⁻⁵", "10⁶")."""
        out = []
        for value in values:
            number = 10.0 ** float(value) * float(scale)
            exponent = np.log10(abs(number)) if number else 0.0
            if 0.0 <= exponent <= 4.0:
                out.append(f"{round(number):d}")    # 1, 20, 500, 10000
            elif -3.0 <= exponent < 0.0:
                out.append(f"{number:.3g}")         # 0.5, 0.02, 0.001
            else:
                out.append(super().logTickStrings([value], scale, spacing)[0])
        return out
