"""Problem families at d = 1000, n = 100: build time before/after structured storage, and gradient
throughput against this machine's limits measured in the same run (issue 9).

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_problems.py [--cap 60] [--no-before]
[--R 1024,256] [--R-full 8,64] [--grad-before REF] [--clock process|wall]``.

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

* **Matrix-product families** (logistic, asyncbc_logistic, least_squares, iid_least_squares: the
  gradient is two products with per-client factors ``A_i`` (k x d)): for every shape in ``--R``
  (per-replica clients ``(R, 1)``) and ``--R-full`` (full participation ``(R_full, n)``), the
  flop fraction of ``grad_i`` beside the **shape-matched ceiling**: the rate of plain batched
  products at the family's own shapes, measured in the same run -- ``(b, c, d) x (b, d, k)`` (the
  faster of the two orientations) then ``(b, c, k) x (b, k, d)``, preallocated outputs, with ``b``
  the clients present and ``c`` the rows per client (``R/b`` for the asynchronous step, ``R_full``
  for full participation; one client of ``R`` rows for the i.i.d. family). The ceiling says how
  much of the gap to the matmul limit is the BLAS at these shapes and how much is our code
  (``ours/ceil``). ``grad_i`` returns a fresh tensor, so its time includes the page faults of the
  output (51 MB at ``R_full = 64``: a third to a half of the time there); the ceiling writes into
  preallocated outputs. The goal (issue 9: at least 50% of the batched matmul limit of
  :mod:`_limits`) is judged against the limit, not the ceiling: "goal met" / "not met" per row.
  ``--grad-before REF`` times the same calls at commit ``REF`` (in a temporary worktree, a
  subprocess, the same inputs) against this run's limits: the before/after table.

Timing: ``--clock process`` (default) times this process's CPU time (``time.process_time``, user +
system: page faults of fresh outputs count), so time other processes hold the core is left out;
``--clock wall`` times wall time. The limits use the same clock. Figures measured on a shared
2-core host are disturbed by other processes: compare ratios within one run, and repeat.
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

#: the families whose gradient is a product with per-client factor matrices (the dense-goal rows)
PRODUCT_FAMILIES = ["least_squares", "logistic", "asyncbc_logistic", "iid_least_squares"]
PRODUCT_GOAL = 0.5  # issue 9: at least 50% of the batched matmul limit

# Runs in a subprocess against a tree: grad_i timings of one family at the given shapes (JSON).
GRAD_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[5])
from _limits import time_median
import torch
from boundcheck.problems import make
name, n, d, shapes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[4])
clock = time.process_time if sys.argv[6] == "process" else time.perf_counter
p = make(name, n=n, d=d)
out = {}
for kind, R in shapes:
    x, cl = None, None
    g = torch.Generator().manual_seed(7)
    if kind == "async":
        x = torch.randn(R, 1, d, dtype=torch.float64, generator=g)
        cl = torch.randint(0, n, (R, 1), generator=g)
    else:
        x = torch.randn(R, n, d, dtype=torch.float64, generator=g)
    out[f"{kind}:{R}"] = time_median(lambda: p.grad_i(x, cl), clock=clock)
print(json.dumps(out))
"""

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
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        wt = _worktree(BEFORE, tmp)
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
            _remove_worktree(wt)
    return out


def _worktree(ref: str, tmp: str) -> Path:
    root = Path(__file__).resolve().parent.parent
    wt = Path(tmp) / "tree"
    subprocess.run(
        ["git", "-C", str(root), "worktree", "add", "--detach", str(wt), ref],
        check=True,
        capture_output=True,
    )
    return wt


def _remove_worktree(wt: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    subprocess.run(
        ["git", "-C", str(root), "worktree", "remove", "--force", str(wt)], capture_output=True
    )


def grad_times(tree: Path | None, name: str, shapes: list, clock: str) -> dict[str, float]:
    """``grad_i`` seconds of ``name`` at ``shapes`` ((kind, R) pairs) in ``tree`` (None: this
    tree), in a subprocess (one torch thread), with inputs drawn from the same seed."""
    here = Path(__file__).resolve().parent
    path = str(tree) if tree is not None else str(here.parent)
    env = dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS="1")
    r = subprocess.run(
        [
            sys.executable,
            "-c",
            GRAD_CHILD,
            name,
            str(N),
            str(D),
            json.dumps(shapes),
            str(here),
            clock,
        ],
        env=env,
        cwd=path,  # ``python -c`` puts the working directory first on sys.path
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(r.stdout.strip().splitlines()[-1])


def product_shape(p, kind: str, R: int) -> tuple[int, int, int, int]:
    """``(b, c, k, d)``: clients, rows per client, factor rows, dimension of a family's products."""
    base = getattr(p, "base", p)
    A = base.A
    nb, k, d = A.shape
    if nb == 1:  # identical clients: one factor for every slot
        return 1, R if kind == "async" else R * p.n, k, d
    if kind == "async":
        b = min(nb, R)
        return b, -(-R // b), k, d
    return nb, R, k, d


def ceiling(b: int, c: int, k: int, d: int, clock) -> float:
    """FLOP/s of plain batched products at a family's shapes (module docstring), preallocated."""
    g = torch.Generator().manual_seed(3)
    A = torch.randn(b, k, d, dtype=torch.float64, generator=g)
    X = torch.randn(b, c, d, dtype=torch.float64, generator=g)
    Z = torch.empty(b, c, k, dtype=torch.float64)
    Zt = torch.empty(b, k, c, dtype=torch.float64)
    G = torch.empty(b, c, d, dtype=torch.float64)
    t1 = min(
        time_median(lambda: torch.bmm(X, A.transpose(1, 2), out=Z), clock=clock),
        time_median(lambda: torch.bmm(A, X.transpose(1, 2), out=Zt), clock=clock),
    )
    t2 = time_median(lambda: torch.bmm(Z, A, out=G), clock=clock)
    return 4 * b * c * k * d / (t1 + t2)


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
    ap.add_argument(
        "--R",
        default="1024,256",
        help="replicas of the async-step shape, comma-separated (the first one in the main table)",
    )
    ap.add_argument(
        "--R-full",
        default="8,64",
        help="replicas of the full-participation shape, comma-separated (the first one in the "
        "main table)",
    )
    ap.add_argument("--clock", choices=("process", "wall"), default="process")
    ap.add_argument(
        "--grad-before",
        metavar="REF",
        default=None,
        help="also time the product families' grad_i at commit REF (before/after table)",
    )
    args = ap.parse_args()
    Rs = [int(v) for v in str(args.R).split(",")]
    Rfs = [int(v) for v in str(args.R_full).split(",")]
    args.R, args.R_full = Rs[0], Rfs[0]
    clock = time.process_time if args.clock == "process" else time.perf_counter
    torch.manual_seed(0)
    lim = limits("cpu", clock=clock)
    mm, bw = lim["matmul_f64_flops"], lim["copy_GBps"] * 1e9
    print(f"machine limits (this run): matmul f64 {mm / 1e9:.1f} GFLOP/s, copy {bw / 1e9:.1f} GB/s")
    print(f"torch threads: {torch.get_num_threads()}; clock: {args.clock}")
    print()

    before = {} if args.no_before else before_builds(FAMILIES, args.cap)
    rows = []
    problems: dict[str, tuple] = {}
    for name in FAMILIES:
        t = time.perf_counter()
        p = make(name, n=N, d=D)
        build = time.perf_counter() - t
        flops, per_client, kind, stored = work(p)
        g = torch.Generator().manual_seed(1)
        R = args.R
        x1 = torch.randn(R, 1, D, dtype=torch.float64, generator=g)
        cl1 = torch.randint(0, N, (R, 1), generator=g)
        t1 = time_median(lambda p=p, x=x1, c=cl1: p.grad_i(x, c), clock=clock)
        distinct = min(stored, int(cl1.unique().numel()))
        bytes1 = distinct * per_client + R * 16 * D
        bytesf = min(stored, N) * per_client + args.R_full * N * 16 * D
        xf = torch.randn(args.R_full, N, D, dtype=torch.float64, generator=g)
        tf = time_median(lambda p=p, x=xf: p.grad_i(x), clock=clock)
        z = torch.randn(R, D, dtype=torch.float64, generator=g)
        tg = time_median(lambda p=p, z=z: p.grad(z), clock=clock)
        rows.append(
            (name, kind, build, before.get(name, "skipped"), t1, tf, tg, flops, bytes1, bytesf)
        )
        if name in PRODUCT_FAMILIES:
            problems[name] = (p, flops)

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
    products(problems, Rs, Rfs, mm, clock, args.clock, args.grad_before)


def products(problems: dict, Rs: list, Rfs: list, mm: float, clock, clock_name: str, ref) -> None:
    """The matrix-product families at every shape: flop% against the batched matmul limit beside
    the shape-matched ceiling, and the issue's goal (module docstring)."""
    shapes = [("async", R) for R in Rs] + [("full", R) for R in Rfs]
    before: dict[str, dict[str, float]] = {}
    if ref is not None:
        with tempfile.TemporaryDirectory() as tmp:
            wt = _worktree(ref, tmp)
            try:
                for name in problems:
                    before[name] = grad_times(wt, name, shapes, clock_name)
            finally:
                _remove_worktree(wt)
    print()
    print(
        "matrix-product families: grad_i flop% of the batched matmul limit; ceil% = plain "
        "batched products\nat the family's own shapes (b clients x c rows per client, k x d "
        f"factors), same run; goal: >= {100 * PRODUCT_GOAL:.0f}% of the limit"
    )
    head = f"{'family':20s} {'shape':>12s} {'b x c':>10s} {'k':>3s} {'ms':>7s} {'flop%':>6s} "
    head += f"{'ceil%':>6s} {'ours/ceil':>9s}"
    if ref is not None:
        head += f" {'before ms':>9s} {'flop%':>6s} {'speed-up':>8s}"
    print(head + "  goal")
    for name, (p, flops) in problems.items():
        for kind, R in shapes:
            g = torch.Generator().manual_seed(7)  # the same inputs as GRAD_CHILD
            if kind == "async":
                x = torch.randn(R, 1, D, dtype=torch.float64, generator=g)
                cl = torch.randint(0, N, (R, 1), generator=g)
                slots = R
            else:
                x = torch.randn(R, N, D, dtype=torch.float64, generator=g)
                cl, slots = None, R * N
            t = time_median(lambda p=p, x=x, c=cl: p.grad_i(x, c), clock=clock)
            b, c, k, d = product_shape(p, kind, R)
            ceil = ceiling(b, c, k, d, clock)
            frac = slots * flops / t / mm
            label = f"({R}, {1 if kind == 'async' else N})"
            line = (
                f"{name:20s} {label:>12s} {f'{b}x{c}':>10s} {k:3d} {1e3 * t:7.2f} {100 * frac:6.1f} "
                f"{100 * ceil / mm:6.1f} {slots * flops / t / ceil:9.2f}"
            )
            if ref is not None:
                t0 = before[name][f"{kind}:{R}"]
                line += f" {1e3 * t0:9.2f} {100 * slots * flops / t0 / mm:6.1f} {t0 / t:8.2f}"
            print(line + ("  goal met" if frac >= PRODUCT_GOAL else "  not met"))


if __name__ == "__main__":
    main()
