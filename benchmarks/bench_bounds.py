"""Vectorised bound evaluation: parameter points per second on one core, against SymPy point by point.

Every theorem with an explicit bound is compiled to NumPy (``boundcheck.theory.evaluate``) and
evaluated on N random parameter points scattered (log-uniformly, one decade either way) around its
documented example values; the baseline substitutes the same points one by one into the SymPy
expression (``expr.subs(...).evalf()``) in the same process, and every baseline point must agree.
The compiled path checks float64 against float32 and re-evaluates disagreeing points with mpmath
(``boundcheck.theory.evaluate.SafeFunction``); the share of such points is printed.
Target: >= 1,000,000 points/s.

    OMP_NUM_THREADS=1 python benchmarks/bench_bounds.py [--points 1000000] [--baseline 200]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from boundcheck.theory import registry
from boundcheck.theory import symbols as S
from boundcheck.theory.evaluate import _prepare, bound_function, evaluate_bound, sympy_number


def sample(thm, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    out = {}
    for name, v in thm.example.items():
        dom = S.info(name).domain
        if dom in ("count", "count0"):
            out[name] = np.maximum(dom == "count", np.round(v * 10 ** rng.uniform(-0.5, 0.5, n)))
        elif dom in ("unit", "open_unit", "unit0"):
            out[name] = np.clip(v * 10 ** rng.uniform(-0.3, 0, n), 1e-6, 1 - 1e-9)
        else:
            out[name] = v * 10 ** rng.uniform(-1, 1, n)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1_000_000)
    ap.add_argument("--baseline", type=int, default=100, help="points for the SymPy baseline")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"{'theorem':22s} {'points/s (numpy)':>18s} {'points/s (sympy)':>18s} {'ratio':>9s} "
        f"{'mpmath':>8s}"
    )
    worst = np.inf
    for thm in registry.all_theorems():
        if thm.bound is None or not thm.example:
            continue
        pts = sample(thm, args.points, rng)
        bound_function(thm)  # compile outside the timing
        evaluate_bound(thm, {k: v[:10] for k, v in pts.items()})
        fn = bound_function(thm)[0]
        before = fn.fallbacks
        t0 = time.perf_counter()
        vals = evaluate_bound(thm, pts)
        fast = args.points / (time.perf_counter() - t0)
        share = (fn.fallbacks - before) / args.points
        expr = _prepare(thm, thm.bound)
        syms = {name: S.info(name).symbol for name in pts}
        t0 = time.perf_counter()
        for i in range(args.baseline):
            ref = float(expr.subs({syms[k]: sympy_number(k, v[i]) for k, v in pts.items()}).evalf())
            got = float(np.broadcast_to(vals, (args.points,))[i])
            assert np.isclose(ref, got, rtol=1e-8, equal_nan=True) or not np.isfinite(ref), (
                thm.id,
                ref,
                got,
            )
        slow = args.baseline / (time.perf_counter() - t0)
        worst = min(worst, fast)
        print(f"{thm.id:22s} {fast:18,.0f} {slow:18,.0f} {fast / slow:9,.0f}x {share:8.3%}")
    print(f"slowest vectorised bound: {worst:,.0f} points/s (target >= 1,000,000)")


if __name__ == "__main__":
    main()
