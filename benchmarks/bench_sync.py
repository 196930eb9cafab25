"""Client-steps per second of QAFeL, FedPAQ and SAEF beside the machine's limits (issue 9).

    python benchmarks/bench_sync.py [--quick] [--before COMMIT] [--clock cpu|wall] [--threads 1]

One run prints, all measured in that run:

1. the machine's limits (``benchmarks/_limits.py``): float32/float64 normals and uniforms per second
   of the serial torch generator filling a 2^22 buffer and of the per-replica generator filling a
   cache-sized block in place (the faster of the two is the random-number limit: the algorithms
   draw per replica, row by row), preallocated copy bandwidth, batched matmul rate;
2. the headline (issue 9's goal: QAFeL and FedPAQ at R = 1024, n = 100, d = 1000, float32 at >= 60%
   of the random-number limit): per algorithm the marginal client-steps/s (a call with ``T`` and one
   with ``2 T`` steps: set-up such as schedules and generators excluded), the per-client-step counts
   (normals, uniforms, minimal bytes), the rate each limit allows, which binds and the fraction
   reached; SAEF with the full recording and with ``record=["grad_norm_sq"]`` (the lhs of its
   Theorems 2-3 alone). ``--before COMMIT`` adds the same figures for that commit (a temporary
   ``git worktree`` run by this file in a subprocess; keywords it lacks, e.g. ``block`` or
   ``record``, are left out there);
3. the block-size table (replicas per block, QAFeL and FedPAQ; ``None`` is ``auto_block``);
4. a scaling table in ``R``, ``d`` and ``T`` (QAFeL and FedPAQ, whole calls, set-up included;
   ``T`` is QAFeL's server steps, FedPAQ's periods ``K``).

Counts per client step (one local SGD step of one client in one replica; SAEF: one worker's step):
QAFeL draws ``d`` normals (oracle) and ``d / P + d / (K P)`` uniforms (client and server QSGD);
FedPAQ ``d`` normals, ``d / tau`` uniforms (QSGD) and ``n / (tau r)`` float64 uniforms (``S_k``);
SAEF ``n d`` normals (each worker averages ``n`` client draws; scaled sign draws nothing). The
RNG-bound rate is ``1 / sum_k numbers_k / rate_k``; the copy-bound rate assumes one read and one
write of the local iterate, ``8 d`` bytes in float32. The smaller binds.

``--clock cpu`` (default) times this process's CPU time (``time.process_time``) with one torch
thread: on a shared host it leaves out the time other processes held the core (they still share
caches and memory bandwidth, so figures stay noisy: compare within one run). ``--quick`` (under
two minutes on a calm machine): fewer steps, R = 256 for the block table, a smaller scaling table.
The problem is the diagonal quadratic of ``_sync_problem.py``.
"""

from __future__ import annotations

import argparse
import inspect
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

QAFEL = dict(n=100, d=1000, K=10, P=5)
FEDPAQ = dict(n=100, d=1000, tau=5, r=10)
SAEF = dict(n=1, d=1000, K=10)
HEADLINE_R = 1024


# --- the measurement (runs in a subprocess against whichever boundcheck is importable) ------------
def _accepts(fn, name: str) -> bool:
    return name in inspect.signature(fn).parameters


def runner(algo: str, R: int, cfg: dict, block=None, record=None):
    """``steps -> trace`` for one configuration (``steps``: QAFeL T, FedPAQ K, SAEF T)."""
    from _sync_problem import make_problem

    from boundcheck.compressors import QSGDBits, ScaledSign

    p = make_problem(cfg["n"], cfg["d"])
    f32 = torch.float32
    if algo == "qafel":
        from boundcheck.algorithms.qafel import qafel as fn

        q4 = QSGDBits(4)
        kw = dict(R=R, seed=0, eta_l=0.01, eta_g=1.0, K=cfg["K"], P=cfg["P"], concurrency=20,
                  client_compressor=q4, server_compressor=q4, dtype=f32)  # fmt: skip
        key = "T"
    elif algo == "fedpaq":
        from boundcheck.algorithms.fedpaq import fedpaq as fn

        kw = dict(R=R, seed=0, eta=0.01, tau=cfg["tau"], r=cfg["r"], quantizer=QSGDBits(4),
                  virtual=False, dtype=f32)  # fmt: skip
        key = "K"
    else:
        from boundcheck.algorithms.saef import saef_sgd as fn

        kw = dict(R=R, seed=0, eta=0.01, K=cfg["K"], mu=0.9, p=4, client_compressor=ScaledSign(),
                  server_compressor=ScaledSign(), dtype=f32)  # fmt: skip
        key = "T"
    if block is not None and _accepts(fn, "block"):
        kw["block"] = block
    if record is not None:
        if not _accepts(fn, "record"):
            return None
        kw["record"] = record
    return lambda steps: fn(p, **{key: steps}, **kw)


def per_step(algo: str, cfg: dict) -> int:
    """Client steps per unit of ``steps`` and replica."""
    if algo == "qafel":
        return cfg["K"] * cfg["P"]
    return cfg["tau"] * cfg["r"] if algo == "fedpaq" else cfg["K"]


def marginal(clock, algo: str, R: int, cfg: dict, steps: int, **kw) -> dict | None:
    """Client-steps/s of the extra ``steps`` of a ``2 steps`` call over a ``steps`` call."""
    run = runner(algo, R, cfg, **kw)
    if run is None:
        return None
    run(1)  # warm-up (allocator, caches, lazy imports)
    t = []
    for s in (steps, 2 * steps):
        t0 = clock()
        tr = run(s)
        t.append(clock() - t0)
    extra = steps * per_step(algo, cfg) * R
    return {"rate": extra / (t[1] - t[0]) if t[1] > t[0] else float("nan"),
            "whole": 2 * extra / t[1], "block": tr.meta.get("block")}  # fmt: skip


def whole(clock, algo: str, R: int, cfg: dict, steps: int) -> float:
    run = runner(algo, R, cfg)
    run(1)
    t0 = clock()
    run(steps)
    return steps * per_step(algo, cfg) * R / (clock() - t0)


def worker(args: argparse.Namespace) -> dict:
    import boundcheck

    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    q = args.quick
    R = HEADLINE_R
    head_steps = {"qafel": 2 if q else 4, "fedpaq": 2 if q else 4, "saef": 10 if q else 20}
    cfgs = {"qafel": QAFEL, "fedpaq": FEDPAQ, "saef": SAEF}
    out: dict = {"boundcheck": str(Path(boundcheck.__file__).parent), "head": {}}
    for algo in ("qafel", "fedpaq", "saef"):
        out["head"][algo] = marginal(clock, algo, R, cfgs[algo], head_steps[algo])
    out["head"]["saef_lean"] = marginal(
        clock, "saef", R, SAEF, head_steps["saef"], record=["grad_norm_sq"]
    )
    if args.tables:
        Rb = 256 if q else 1024
        out["block_R"] = Rb
        out["block"] = {
            algo: {
                str(b): marginal(clock, algo, Rb, cfgs[algo], 2, block=b)
                for b in ((8, 26, 64, None) if q else (4, 8, 16, 26, 64, 256, None))
            }
            for algo in ("qafel", "fedpaq")
        }
        out["scaling"] = []
        Rs, ds, Ts = (
            ((16, 1024), (100, 1000), (2, 8)) if q else ((1, 16, 256, 1024), (100, 1000), (2, 8))
        )
        for algo in ("qafel", "fedpaq"):
            for R_ in Rs:
                for d in ds:
                    for T in Ts:
                        cfg = cfgs[algo] | {"d": d}
                        out["scaling"].append([algo, R_, d, T, whole(clock, algo, R_, cfg, T)])
    return out


def spawn(root: Path, args: list[str]) -> dict:
    env = dict(os.environ, PYTHONPATH=f"{root}{os.pathsep}{HERE}")
    res = subprocess.run(
        [sys.executable, str(HERE / "bench_sync.py"), "--worker", *args],
        cwd=root, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if res.returncode != 0:
        raise SystemExit(f"benchmark worker in {root} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


# --- the report ---------------------------------------------------------------------------------
def counts(algo: str) -> dict[str, float]:
    """Random numbers and minimal bytes per client step (module docstring)."""
    if algo == "qafel":
        c = QAFEL
        return {"normal": c["d"], "uniform": c["d"] / c["P"] + c["d"] / (c["K"] * c["P"]),
                "uniform64": 0.0, "bytes": 8 * c["d"]}  # fmt: skip
    if algo == "fedpaq":
        c = FEDPAQ
        return {"normal": c["d"], "uniform": c["d"] / c["tau"],
                "uniform64": c["n"] / (c["tau"] * c["r"]), "bytes": 8 * c["d"]}  # fmt: skip
    c = SAEF
    return {"normal": c["n"] * c["d"], "uniform": 0.0, "uniform64": 0.0, "bytes": 8 * c["d"]}


def bounds(algo: str, lim: dict) -> dict[str, float]:
    """Client-steps/s each limit allows: RNG at the fastest generator rate (binding candidate), RNG
    at the serial 2^22-buffer rate (issue 9's figure), copy bandwidth."""
    c = counts(algo)

    def rng(tag: str) -> float:
        return 1.0 / (
            c["normal"] / lim[f"{tag}normal_f32"]
            + c["uniform"] / lim[f"{tag}uniform_f32"]
            + c["uniform64"] / lim[f"{tag}uniform_f64"]
        )

    return {"rng": max(rng("rng_"), rng("replica_rng_")), "rng_serial": rng("rng_"),
            "copy": lim["copy_GBps"] * 1e9 / c["bytes"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--before", default="", help="commit to compare with (default: none)")
    ap.add_argument("--quick", action="store_true", help="the headline figures in < 2 minutes")
    ap.add_argument("--clock", choices=("cpu", "wall"), default="cpu")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--tables", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    wargs = ["--clock", args.clock, "--threads", str(args.threads)] + (
        ["--quick"] if args.quick else []
    )
    if args.worker:
        print(json.dumps(worker(args)))
        return

    sys.path.insert(0, str(HERE))
    from _limits import limits

    t_start = time.perf_counter()
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    lim = limits("cpu", repeat=3 if args.quick else 5, clock=clock)
    print(f"torch {torch.__version__}, {args.threads} thread(s), float32, CPU, clock={args.clock}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (a shared machine: "
          "figures are noisy, compare within one run)")  # fmt: skip
    print("1. limits (this run):")
    print(f"   normals f32: serial {lim['rng_normal_f32'] / 1e6:.0f} M/s, per-replica in cache "
          f"{lim['replica_rng_normal_f32'] / 1e6:.0f} M/s | uniforms f32: "
          f"{lim['rng_uniform_f32'] / 1e6:.0f} / {lim['replica_rng_uniform_f32'] / 1e6:.0f} M/s | "
          f"normals f64: {lim['rng_normal_f64'] / 1e6:.0f} / "
          f"{lim['replica_rng_normal_f64'] / 1e6:.0f} M/s")  # fmt: skip
    print(f"   copy {lim['copy_GBps']:.1f} GB/s | matmul f32 {lim['matmul_f32_flops'] / 1e9:.0f} "
          f"GFLOP/s, f64 {lim['matmul_f64_flops'] / 1e9:.0f} GFLOP/s")  # fmt: skip

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

    print(f"\n2. headline, R = {HEADLINE_R}, float32; marginal client-steps/s (set-up excluded)")
    print(f"   QAFeL {QAFEL} concurrency 20, QSGD 4 bits both ways; FedPAQ {FEDPAQ} "
          f"virtual=False, QSGD 4 bits; SAEF {SAEF} mu 0.9, p 4, scaled sign both ways")  # fmt: skip
    print(f"   {'algorithm':11s} {'block':>5s} {'normals':>8s} {'unif':>6s} {'rate':>10s} "
          f"{'RNG bound':>10s} {'copy bound':>10s} {'binding':>7s} {'fraction':>8s} "
          f"{'vs serial RNG':>13s} {'before':>10s} {'ratio':>6s}")  # fmt: skip
    for name in ("qafel", "fedpaq", "saef", "saef_lean"):
        algo = "saef" if name.startswith("saef") else name
        a = after["head"][name]
        b = before["head"].get(name) if before else None
        bd = bounds(algo, lim)
        bind = "rng" if bd["rng"] <= bd["copy"] else "copy"
        c = counts(algo)
        brate = b["rate"] if b else float("nan")
        label = "saef (lean)" if name == "saef_lean" else name
        print(f"   {label:11s} {a['block']!s:>5s} {c['normal']:8.0f} "
              f"{c['uniform'] + c['uniform64']:6.0f} {a['rate']:10.4g} {bd['rng']:10.4g} "
              f"{bd['copy']:10.4g} {bind:>7s} {a['rate'] / bd[bind]:8.1%} "
              f"{a['rate'] / bd['rng_serial']:13.1%} {brate:10.4g} "
              f"{a['rate'] / brate:6.2f}")  # fmt: skip
    print(
        "   'fraction': of the binding limit (the faster RNG rate); 'vs serial RNG': of the rate "
        "the serial 2^22-buffer generator allows (issue 9's definition)"
    )

    R = after["block_R"]
    print(f"\n3. replicas per block at R = {R} (None: auto_block); marginal client-steps/s")
    for algo, row in after["block"].items():
        cells = "  ".join(
            f"{'auto' if b == 'None' else b}{'=' + str(v['block']) if b == 'None' else ''}: "
            f"{v['rate']:.4g}"
            for b, v in row.items()
        )
        print(f"   {algo:7s} {cells}")

    print("\n4. scaling (whole calls, set-up included): client-steps/s")
    print(f"   {'algorithm':8s} {'R':>5s} {'d':>5s} {'T':>3s} {'rate':>10s}")
    for algo, R_, d, T, v in after["scaling"]:
        print(f"   {algo:8s} {R_:5d} {d:5d} {T:3d} {v:10.4g}")
    print(f"\nbefore: {before['boundcheck'] if before else '-'}; after: {after['boundcheck']}; "
          f"{time.perf_counter() - t_start:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
