"""Client-steps per second of FedPAQ and SAEF, before and after issues 8-9, beside the machine's limits.

    python benchmarks/bench_sync.py [--before 0ae7604] [--Rs 1,64,1024] [--threads 1] [--quick]

One run prints, all measured in that run:

1. the machine's limits (``benchmarks/_limits.py``): the per-replica generator's float32 normals
   (``replica_rng_normal_f32``, what the algorithms draw from) beside the serial torch RNG, uniforms,
   preallocated copy bandwidth;
2. client-steps per second of FedPAQ (``virtual=False``, the r sampled nodes train) and SAEF-SGD at
   R = 1, 64, 1024 with the code of ``--before`` (a temporary ``git worktree``, run in a
   subprocess) and with this tree (also a subprocess, same script; once more with glibc told to
   keep freed memory, ``MALLOC_KEEP``, to show what page faults of temporaries still cost), the
   ratio after / before, and the fraction of the binding limit. Per client step FedPAQ draws ``d`` normals (oracle), ``d /
   tau`` uniforms (QSGD, once a period) and ``n / (tau r)`` float64 uniforms (S_k); SAEF (scaled
   sign both ways, deterministic) draws ``n d`` normals per worker step. The RNG-bound rate is
   ``1 / sum_k (numbers_k / rate_k)``; the copy-bound rate assumes the minimal traffic of one read
   and one write of the local iterate (``8 d`` bytes in float32). The smaller one binds;
3. a block-size table (replicas per block, FedPAQ at R = 1024; the default ``auto_block``) and a
   small scaling table in R, d and T.

A *client step* is one local SGD step of one node in one replica (FedPAQ: ``K tau r R`` per run);
for SAEF one worker's gradient step (``T K R``). float32, CPU, ``--threads`` torch threads (default
1: the host is shared, and the RNG is no faster on 2 threads). The problem is the diagonal quadratic
of ``_sync_problem.py`` (noise in the run's dtype, closed-form recording). Figures from a shared,
loaded machine are noisy: compare ratios within one run.
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

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

FEDPAQ = dict(n=100, d=1000, K=2, tau=5, r=10)
SAEF = dict(n=1, d=1000, T=10, K=10)


# --- the measurement (runs in a subprocess against whichever boundcheck is importable) ------------
def run_fedpaq(R: int, n: int, d: int, K: int, tau: int, r: int, block: int | None = None):
    from _sync_problem import make_problem

    from boundcheck.algorithms.fedpaq import fedpaq
    from boundcheck.compressors import QSGDBits

    p = make_problem(n, d)
    kw = dict(K=K, tau=tau, r=r, R=R, seed=0, eta=0.01, quantizer=QSGDBits(4), virtual=False,
              dtype=torch.float32)  # fmt: skip
    if block is not None:
        kw["block"] = block
    return fedpaq(p, **kw)


def run_saef(R: int, n: int, d: int, T: int, K: int):
    from _sync_problem import make_problem

    from boundcheck.algorithms.saef import saef_sgd
    from boundcheck.compressors import ScaledSign

    p = make_problem(n, d)
    return saef_sgd(p, T=T, R=R, seed=0, eta=0.01, K=K, mu=0.9, p=4,
                    client_compressor=ScaledSign(), server_compressor=ScaledSign(),
                    dtype=torch.float32)  # fmt: skip


def timed(f, repeat: int) -> float:
    """Client-steps per second: the best of ``repeat`` timed calls after one warm-up (at R = 1)."""
    best = 0.0
    for _ in range(repeat):
        t0 = time.perf_counter()
        tr = f()
        dt = time.perf_counter() - t0
        steps = tr.meta.get("client_steps") or tr.params["T"] * tr.params["K"] * tr.params["R"]
        best = max(best, steps / dt)
    return best


def worker(Rs: list[int], tables: bool, quick: bool) -> dict:
    import boundcheck

    out: dict = {"boundcheck": str(Path(boundcheck.__file__).parent), "fedpaq": {}, "saef": {}}
    run_fedpaq(1, **FEDPAQ), run_saef(1, **SAEF)  # warm-up
    for R in Rs:
        rep = 1 if R >= 256 else 3
        out["fedpaq"][R] = timed(lambda R=R: run_fedpaq(R, **FEDPAQ), rep)
        out["saef"][R] = timed(lambda R=R: run_saef(R, **SAEF), rep)
    if tables:
        R = 256 if quick else 1024
        out["block"] = {
            str(b): timed(lambda b=b: run_fedpaq(R, block=b, **FEDPAQ), 1)
            for b in (R, 256, 64, 16, None)
        }
        out["block_R"] = R
        from boundcheck.algorithms.fedpaq import auto_block

        out["auto_block"] = auto_block(R, FEDPAQ["r"], FEDPAQ["d"], 4)
        out["scaling"] = []
        for R in (16, 256):
            for d in (100, 1000):
                for K in (2, 8):
                    cfg = FEDPAQ | {"d": d, "K": K}
                    out["scaling"].append(
                        [R, d, K * cfg["tau"], timed(lambda R=R, c=cfg: run_fedpaq(R, **c), 1)]
                    )
    return out


#: glibc settings that keep freed temporaries in the process instead of returning them to the
#: kernel (no page faults when the next step allocates the same sizes again): a host setting, not
#: part of boundcheck; the "after, malloc kept" column shows what page faults still cost.
MALLOC_KEEP = {
    "MALLOC_MMAP_THRESHOLD_": str(1 << 30),
    "MALLOC_TRIM_THRESHOLD_": str(1 << 32),
    "MALLOC_TOP_PAD_": str(1 << 28),
}


def spawn(root: Path, args: list[str], env_extra: dict | None = None) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{HERE}", **(env_extra or {}))
    res = subprocess.run(
        [sys.executable, str(HERE / "bench_sync.py"), "--worker", *args],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if res.returncode != 0:
        raise SystemExit(f"benchmark worker in {root} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# --- the report ---------------------------------------------------------------------------------
def bound_rates(lim: dict) -> dict[str, dict[str, float]]:
    """RNG- and copy-bound client-steps/s per algorithm (see the module docstring)."""
    f, s = FEDPAQ, SAEF
    rng_rate = lim["replica_rng_normal_f32"]
    fed_rng = 1.0 / (
        f["d"] / rng_rate
        + (f["d"] / f["tau"]) / lim["rng_uniform_f32"]
        + (f["n"] / (f["tau"] * f["r"])) / lim["rng_uniform_f64"]
    )
    saef_rng = rng_rate / (s["n"] * s["d"])
    copy = lim["copy_GBps"] * 1e9
    return {
        "fedpaq": {"rng": fed_rng, "copy": copy / (8 * f["d"])},
        "saef": {"rng": saef_rng, "copy": copy / (8 * s["d"])},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="0ae7604", help="commit to compare with ('' to skip)")
    ap.add_argument("--Rs", default="1,64,1024")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="R = 256 for the block table")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tables", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    Rs = [int(v) for v in args.Rs.split(",")]
    wargs = ["--Rs", args.Rs, "--threads", str(args.threads)] + (["--quick"] if args.quick else [])
    if args.worker:
        print(json.dumps(worker(Rs, args.tables, args.quick)))
        return

    sys.path.insert(0, str(HERE))
    from _limits import limits

    lim = limits("cpu")
    print(f"torch {torch.__version__}, {args.threads} thread(s), float32, CPU; host load "
          f"{os.getloadavg()[0]:.1f} (shared machine: figures are noisy)")  # fmt: skip
    print("limits:  " + "  ".join(f"{k} {v:.3g}" for k, v in lim.items()))
    print(f"         per-replica RNG {lim['replica_rng_normal_f32'] / 1e6:.1f} M normals/s beside "
          f"the serial torch RNG {lim['rng_normal_f32'] / 1e6:.1f} M/s")  # fmt: skip

    before = None
    if args.before:
        tmp = Path(tempfile.mkdtemp(prefix="bc_before_"))
        wt = tmp / "tree"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(wt),
                        args.before], check=True, capture_output=True)  # fmt: skip
        try:
            before = spawn(wt, wargs)
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(wt)],
                           check=False, capture_output=True)  # fmt: skip
    after = spawn(ROOT, [*wargs, "--tables"])
    kept = spawn(ROOT, wargs, MALLOC_KEEP)

    bounds = bound_rates(lim)
    print(f"\nFedPAQ {FEDPAQ} virtual=False, QSGD 4 bits; SAEF {SAEF} scaled sign both ways, "
          "mu=0.9, p=4")  # fmt: skip
    print("client-steps/s; 'kept': after, with glibc keeping freed memory (MALLOC_KEEP)")
    print(f"{'algorithm':8s} {'R':>5s} {'before':>10s} {'after':>10s} {'ratio':>6s} "
          f"{'kept':>10s} {'RNG bound':>10s} {'copy bound':>10s} {'binding':>7s} "
          f"{'fraction':>8s} {'kept':>6s}")  # fmt: skip
    for alg in ("fedpaq", "saef"):
        b = bounds[alg]
        bind = "rng" if b["rng"] <= b["copy"] else "copy"
        for R in Rs:
            a, k = after[alg][str(R)], kept[alg][str(R)]
            bf = before[alg][str(R)] if before else float("nan")
            print(f"{alg:8s} {R:5d} {bf:10.0f} {a:10.0f} {a / bf:6.2f} {k:10.0f} {b['rng']:10.0f} "
                  f"{b['copy']:10.0f} {bind:>7s} {a / b[bind]:8.1%} {k / b[bind]:6.1%}")  # fmt: skip
    R = after["block_R"]
    print(
        f"\nblock size (replicas per block), FedPAQ R = {R} (auto_block = {after['auto_block']}):"
    )
    for blk, v in after["block"].items():
        name = "auto" if blk == "None" else blk
        print(f"  block {name:>5s}: {v:12.0f} client-steps/s")
    print("\nscaling (FedPAQ after): R, d, T = K tau -> client-steps/s")
    for R, d, T, v in after["scaling"]:
        print(f"  R={R:5d} d={d:5d} T={T:3d}: {v:12.0f}")
    print(f"\nbefore: {before['boundcheck'] if before else '-'}; after: {after['boundcheck']}")


if __name__ == "__main__":
    main()
