"""A user's NumPy step function (boundcheck.api.numpy_algorithm): vectorised vs looped over replicas,
against the shipped batched SGD (momentum_sgd, K = 1) measured in the same run.

    python benchmarks/bench_user_step.py [--R 64] [--T 200] [--d 10] [--repeat 3]

Prints the median time per run of the shipped torch SGD, of the same SGD as a vectorised NumPy step
and as a step that cannot take a batch (looped: one Python call per replica per step), and the
ratios against the shipped one (the cost of bringing your own algorithm, and of not vectorising it).
The three give the same numbers (tests/user/test_byo.py). The host is shared: compare ratios.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _limits import time_median

from boundcheck.algorithms.numpy_step import numpy_algorithm
from boundcheck.algorithms.saef import momentum_sgd
from boundcheck.problems import registry


def sgd_step(x, g, *, t, rng, eta=0.1):
    return x - eta * g


def looped_step(x, g, *, t, rng, eta=0.1):
    if np.ndim(x) != 1:
        raise ValueError("one replica at a time")
    return x - eta * g


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--R", type=int, default=64)
    ap.add_argument("--T", type=int, default=200)
    ap.add_argument("--d", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(1)
    p = registry.make("iid_least_squares", n=1, d=a.d)
    vec, loop = numpy_algorithm(sgd_step), numpy_algorithm(looped_step)
    kw = {"T": a.T, "R": a.R, "seed": 0, "eta": 0.2}
    warnings.simplefilter("ignore")
    t_ref = time_median(lambda: momentum_sgd(p, K=1, **kw), a.repeat)
    t_vec = time_median(lambda: vec(p, **kw), a.repeat)
    t_loop = time_median(lambda: loop(p, **kw), a.repeat)
    print(f"R = {a.R}, T = {a.T}, d = {a.d} (shared host: compare ratios)")
    print(f"{'algorithm':28s} {'median s':>10s} {'vs shipped':>11s}")
    for name, t in (("shipped momentum_sgd K=1", t_ref), ("NumPy step, vectorised", t_vec),
                    ("NumPy step, looped", t_loop)):  # fmt: skip
        print(f"{name:28s} {t:10.4f} {t / t_ref:11.2f}")
    print(f"looped / vectorised: {t_loop / t_vec:.1f} (R = {a.R})")


if __name__ == "__main__":
    main()
