"""Reference standard deviations of torch's initialisers, for tests/core/test_init_schemes.py.

Run once with torch (never a runtime or test dependency):
    /work/torchvenv/bin/python tests/reference/make_init_stds.py
It writes init_stds.json: for each (fan_in, fan_out), the standard deviation torch's
xavier_normal_ (gain 1) and kaiming_normal_ (mode fan_in, relu) give a (fan_out, fan_in)
weight, measured on 4 000 000 draws (statistical error about 0.04 %), and torch's gain.
It draws one small weight at a time, as torch initialises a layer: about 7 minutes.
"""

import json
from pathlib import Path

import torch

torch.manual_seed(0)
rows = []
for fan_in, fan_out in ((1, 1), (2, 1), (3, 1), (8, 4), (100, 10)):
    reps = 4_000_000 // (fan_in * fan_out) + 1
    xavier = torch.empty(fan_out, fan_in, dtype=torch.float64)
    kaiming = torch.empty(fan_out, fan_in, dtype=torch.float64)
    xs, ks = [], []
    for _ in range(reps):
        xs.append(torch.nn.init.xavier_normal_(xavier).clone())
        ks.append(torch.nn.init.kaiming_normal_(kaiming, mode="fan_in",
                                                nonlinearity="relu").clone())
    rows.append({"fan_in": fan_in, "fan_out": fan_out,
                 "xavier_std": float(torch.stack(xs).std()),
                 "kaiming_std": float(torch.stack(ks).std()),
                 "relu_gain": torch.nn.init.calculate_gain("relu")})
out = Path(__file__).with_name("init_stds.json")
out.write_text(json.dumps({"torch": torch.__version__, "rows": rows}, indent=1) + "\n")
print(out)
