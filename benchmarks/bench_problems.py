"""Batched gradient evaluation vs a Python loop over replicas (ratio in the same process).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_problems.py``. Prints seconds per call and the
speed-up of one batched ``grad_i`` call on ``(R, n, d)`` over ``R`` calls on ``(1, n, d)``.
"""

from __future__ import annotations

import time

import torch

from boundcheck.problems import make


def _time(fn, reps: int = 5) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - t) / reps


def main(R: int = 256) -> None:
    for name, kw in (
        ("asyncbc_least_squares", {"n": 4, "d": 10}),
        ("least_squares", {"n": 16, "d": 20, "m": 50}),
        ("asyncbc_logistic", {"n": 64, "d": 20, "m": 50}),
    ):
        p = make(name, **kw)
        x = torch.randn(R, p.n, p.d, dtype=torch.float64)
        batched = _time(lambda p=p, x=x: p.grad_i(x))
        looped = _time(lambda p=p, x=x: [p.grad_i(x[r : r + 1]) for r in range(R)], reps=2)
        print(
            f"{name:24s} R={R}: batched {batched:.2e} s, loop {looped:.2e} s, x{looped / batched:.1f}"
        )


if __name__ == "__main__":
    main()
