"""``gdviz noise``: the mini-batch gradient's noise at a point, as JSON (core.noise)."""

from __future__ import annotations

import argparse
import json
import math
import sys

from gdviz.cli.options import config_from_args
from gdviz.core.errors import ConfigError
from gdviz.core.noise import gradient_noise
from gdviz.core.settings_parse import parse_floats


def add_noise_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--at", metavar="V1,V2,...",
                        help="the point, one value per parameter (default: the start point)")


def noise_command(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    names = config.make_problem().param_names
    at = None
    if args.at is not None:
        at = parse_floats(args.at, "--at")
        if len(at) != len(names):
            raise ConfigError(f"--at needs {len(names)} values ({', '.join(names)}), "
                              f"got {len(at)}")
        if not all(math.isfinite(v) for v in at):
            raise ConfigError("--at values must be finite numbers")
    result = gradient_noise(config, at).to_json(names)
    # one key a line, each value compact (a matrix is one line of rows)
    lines = [f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}"
             for key, value in result.items()]
    sys.stdout.write("{\n" + ",\n".join(lines) + "\n}\n")
    sys.stdout.flush()
    return 0
