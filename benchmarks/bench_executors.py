"""Executors on this machine (issue 16): a sweep of >= 200 simulation points serial, in a local
process pool and on a local Ray; wall time, speed-up against serial, and the per-task overhead.

    python benchmarks/bench_executors.py [--points 200] [--T 40] [--R 16]

Each point is a real batched run: SAEF-SGD on a least-squares instance for ``T`` steps and ``R``
replicas with its own seed (about the work of one small report point). The per-task overhead is
measured with empty tasks (``len(tasks) = points``): (wall time) / points. The machine's cores
bound the speed-up (printed beside it). Ray's start-up is timed separately and not counted in the
sweep (a cluster is started once per session).
"""

from __future__ import annotations

import argparse
import os
import time

from boundcheck.check.executor import make_executor


def point(task: tuple[int, int, int]) -> float:
    """One sweep point: the SAEF lhs (min over t of the replica mean of ||grad F(x~_t)||^2)."""
    import torch

    from boundcheck.algorithms.saef import saef_sgd
    from boundcheck.compressors import get
    from boundcheck.problems import make

    seed, T, R = task
    torch.set_num_threads(1)
    p = make("least_squares", n=4, d=20, seed=seed)
    tr = saef_sgd(p, T=T, R=R, seed=seed, eta=0.05, K=4, client_compressor=get("topk", k=4))
    return float(tr.series["grad_norm_sq"].mean(dim=1).min())


def empty(task: int) -> int:
    return task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=200)
    ap.add_argument("--T", type=int, default=40)
    ap.add_argument("--R", type=int, default=16)
    a = ap.parse_args()
    tasks = [(s, a.T, a.R) for s in range(a.points)]
    cores = os.cpu_count() or 1
    print(f"{a.points} points (SAEF-SGD, T={a.T}, R={a.R}), {cores} cores")
    rows = []
    ref = None
    for name in ("serial", "process", "ray"):
        try:
            ex = make_executor(name, jobs=cores, quiet=True)
        except Exception as err:
            print(f"{name:8s} unavailable: {err}")
            continue
        t0 = time.perf_counter()
        if name == "ray":
            ex.map(empty, [0])  # start Ray here, timed apart
        start = time.perf_counter() - t0
        t0 = time.perf_counter()
        out = ex.map(point, tasks)
        wall = time.perf_counter() - t0
        t0 = time.perf_counter()
        ex.map(empty, list(range(a.points)))
        overhead = (time.perf_counter() - t0) / a.points
        if ref is None:
            ref = out
        same = out == ref
        rows.append((name, wall, overhead, start, same))
        if name == "ray":
            ex.shutdown()
    base = rows[0][1]
    print(f"{'executor':8s} {'wall s':>8s} {'speed-up':>9s} {'of cores':>9s} {'task ms':>8s} "
          f"{'start s':>8s} same")  # fmt: skip
    for name, wall, ovh, start, same in rows:
        print(f"{name:8s} {wall:8.2f} {base / wall:9.2f} {base / wall / cores:9.2f} "
              f"{1e3 * ovh:8.2f} {start:8.2f} {same}")  # fmt: skip


if __name__ == "__main__":
    main()
