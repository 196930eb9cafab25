"""Problem families at d = 1000, n = 100: build time before/after structured storage, and gradient
throughput against this machine's limits measured in the same run (issue 9).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_problems.py [--cap 60] [--no-before] [--R 1024]``.

* **Build**: seconds to construct each shipped family (every certified constant included) with
  ``n = 100, d = 1000`` in this tree ("after") and at commit ``0ae7604`` ("before": the last commit
  before structured storage), the latter in a temporary ``git worktree`` in a subprocess, each family
  capped at ``--cap`` seconds and 8 GiB of address space (the old dense families take minutes and
  gigabytes: a capped entry prints ``>cap``). Families that did not exist before print ``-``.
* **Gradient throughput** (after): one ``grad_i`` call per shape, median of 5 timed calls, for
  (a) the asynchronous step, per-replica clients ``(R, 1)`` (QAFeL/AsyncBC), and (b) full
  participation, shared clients, ``(R_full, n)`` (SAEF / FedPAQ with r = n). Each figure is printed
  as useful FLOP/s against the batched matmul limit and as bytes/s against the preallocated-copy
  bandwidth; the larger fraction is the binding limit. Useful flops per slot: diagonal ``3d``, low
  rank ``4kd``, dense ``2d^2``, logistic ``4md + 10m``. Bytes per call, the least any implementation
  must move (float64): every distinct client's data once (diagonal ``16d``, scaled identity
  ``8(d + 1)``, low rank ``8(kd + k)``, dense ``8(d^2 + d)``, logistic ``8(md + m)``) plus ``16d`` per
  slot (read ``x``, write the gradient). A byte fraction far below the flop fraction means the
  products are compute-bound, and vice versa.

Figures measured on a shared 2-core host are disturbed by other processes: compare ratios within
one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _limits import limits, time_median

from boundcheck.problems import make, structure

N, D = 100, 1000
BEFORE = "0ae7604"
FAMILIES = [
    "quadratic_toy",
    "linear_toy",
    "asyncbc_least_squares",
    "sarah_counterexample",
    "least_squares",
    "logistic",
    "asyncbc_logistic",
    "indefinite_quadratic",
    "iid_least_squares",
]

GOAL_S = 1.0
#: why a family's build is dense work (printed where the build misses GOAL_S)
DENSE_WHY = {
    "least_squares": "n m = 2000 >= d, so the mean Hessian is a dense d x d matrix; delta_H needs "
    "||Hbar - H_i||_2 per client: one d x d eigendecomposition (eigh) plus k x k secular "
    "equations, a d x d eigvalsh for L and mu, a d x d lstsq for x*",
    "logistic": "no closed form for f*: L-BFGS (SciPy, imported on first use) polished by Newton "
    "steps with the dense d x d Hessian (n m d^2 flops each); L from a d x d Gram eigensolve",
    "asyncbc_logistic": "as logistic (f* by L-BFGS and dense Newton, L by a d x d eigensolve)",
}

# Runs in a subprocess against the old tree: build one family, report seconds (and a grad timing).
CHILD = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))
import torch
from boundcheck.problems import make
name, n, d = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
t = time.perf_counter()
p = make(name, n=n, d=d)
build = time.perf_counter() - t
x = torch.randn(4, n, d, dtype=torch.float64)
p.grad_i(x)
t = time.perf_counter()
for _ in range(3):
    p.grad_i(x)
print(json.dumps({"build": build, "grad_full": (time.perf_counter() - t) / 3}))
"""


def before_builds(names: list[str], cap: float) -> dict[str, str]:
    """Build seconds at commit BEFORE, each family in its own capped subprocess."""
    root = Path(__file__).resolve().parent.parent
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        wt = Path(tmp) / "before"
        subprocess.run(
            ["git", "-C", str(root), "worktree", "add", "--detach", str(wt), BEFORE],
            check=True,
            capture_output=True,
        )
        try:
            env = dict(os.environ, PYTHONPATH=str(wt), OMP_NUM_THREADS="1")
            for name in names:
                try:
                    r = subprocess.run(
                        [sys.executable, "-c", CHILD, name, str(N), str(D)],
                        env=env,
                        cwd=tmp,
                        capture_output=True,
                        text=True,
                        timeout=cap,
                    )
                except subprocess.TimeoutExpired:
                    out[name] = f">{cap:.0f}"
                    continue
                if r.returncode != 0:
                    last = (r.stderr.strip().splitlines() or ["?"])[-1]
                    out[name] = "-" if "unknown problem family" in last else f"failed ({last[:40]})"
                    continue
                out[name] = f"{json.loads(r.stdout.strip().splitlines()[-1])['build']:.2f}"
        finally:
            subprocess.run(
                ["git", "-C", str(root), "worktree", "remove", "--force", str(wt)],
                capture_output=True,
            )
    return out


def work(p) -> tuple[float, float, str, int]:
    """(flops per slot, bytes per distinct client, storage kind, clients stored) in float64."""
    d = p.d
    hess = getattr(p, "hess", None)
    base = getattr(p, "base", None)
    stored = p.n
    if hess is None and base is not None:
        hess, stored = getattr(base, "hess", None), base.n
    if hess is None:  # logistic: m samples per client
        m = p.m
        return 4 * m * d + 10 * m, 8 * (m * d + m), "samples", stored
    if isinstance(hess, structure.Diagonal):
        per = 8 * (d + 1) if hess.kind == "scaled_identity" else 16 * d
        return 3 * d, per, hess.kind, stored
    if isinstance(hess, structure.LowRank):
        k = hess.k
        return 4 * k * d, 8 * (k * d + k), f"low_rank k={k}", stored
    return 2 * d * d, 8 * (d * d + d), "dense", stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cap", type=float, default=60.0, help="seconds per old build (default 60)")
    ap.add_argument("--no-before", action="store_true", help="skip the old-commit builds")
    ap.add_argument("--R", type=int, default=1024, help="replicas of the async-step shape")
    ap.add_argument(
        "--R-full", type=int, default=8, help="replicas of the full-participation shape"
    )
    args = ap.parse_args()
    torch.manual_seed(0)
    lim = limits("cpu")
    mm, bw = lim["matmul_f64_flops"], lim["copy_GBps"] * 1e9
    print(f"machine limits (this run): matmul f64 {mm / 1e9:.1f} GFLOP/s, copy {bw / 1e9:.1f} GB/s")
    print(f"torch threads: {torch.get_num_threads()}")
    print()

    before = {} if args.no_before else before_builds(FAMILIES, args.cap)
    rows = []
    for name in FAMILIES:
        t = time.perf_counter()
        p = make(name, n=N, d=D)
        build = time.perf_counter() - t
        flops, per_client, kind, stored = work(p)
        g = torch.Generator().manual_seed(1)
        R = args.R
        x1 = torch.randn(R, 1, D, dtype=torch.float64, generator=g)
        cl1 = torch.randint(0, N, (R, 1), generator=g)
        t1 = time_median(lambda p=p, x=x1, c=cl1: p.grad_i(x, c))
        distinct = min(stored, int(cl1.unique().numel()))
        bytes1 = distinct * per_client + R * 16 * D
        bytesf = min(stored, N) * per_client + args.R_full * N * 16 * D
        xf = torch.randn(args.R_full, N, D, dtype=torch.float64, generator=g)
        tf = time_median(lambda p=p, x=xf: p.grad_i(x))
        z = torch.randn(R, D, dtype=torch.float64, generator=g)
        tg = time_median(lambda p=p, z=z: p.grad(z))
        rows.append(
            (name, kind, build, before.get(name, "skipped"), t1, tf, tg, flops, bytes1, bytesf)
        )

    print(f"build at n={N}, d={D} (seconds; before = commit {BEFORE}, capped at {args.cap:.0f} s)")
    print(f"goal (issue 9): under {GOAL_S:.0f} s unless genuinely dense (then: why, and the work)")
    print(f"{'family':24s} {'storage':16s} {'after':>8s} {'before':>10s}  goal")
    for name, kind, build, old, *_ in rows:
        verdict = "met" if build < GOAL_S else f"not met: {DENSE_WHY.get(name, '?')}"
        print(f"{name:24s} {kind:16s} {build:8.2f} {old:>10s}  {verdict}")
    print()
    print(
        f"grad_i throughput, per-replica clients (R={args.R}, 1) and full participation "
        f"(R={args.R_full}, n={N}); fractions of the limits above"
    )
    print(
        "roof% = achieved flop/s over the roofline min(matmul limit, flops/bytes x copy bandwidth):\n"
        "the fraction of what the call's arithmetic intensity allows on this machine"
    )
    print(
        f"{'family':24s} {'slots/s async':>14s} {'flop%':>6s} {'byte%':>6s} {'roof%':>6s} "
        f"{'slots/s full':>13s} {'flop%':>6s} {'byte%':>6s} {'roof%':>6s} {'grad f (R,d) s':>15s}"
    )

    def roof(slots: int, flops: float, nbytes: float, t: float) -> float:
        achieved = slots * flops / t
        return 100 * achieved / min(mm, bw * slots * flops / nbytes)

    for name, _, _, _, t1, tf, tg, flops, bytes1, bytesf in rows:
        s1, sf = args.R, args.R_full * N  # slots per call
        print(
            f"{name:24s} {s1 / t1:14.3g} {100 * s1 * flops / t1 / mm:6.1f} "
            f"{100 * bytes1 / t1 / bw:6.1f} {roof(s1, flops, bytes1, t1):6.1f} "
            f"{sf / tf:13.3g} {100 * sf * flops / tf / mm:6.1f} "
            f"{100 * bytesf / tf / bw:6.1f} {roof(sf, flops, bytesf, tf):6.1f} {tg:15.2e}"
        )


if __name__ == "__main__":
    main()
