"""The machine's own limits, measured in the calling process, for every benchmark to print beside
its figures (DESIGN.md: performance as ratios against the machine's limits, measured in the same run).

    from _limits import limits, time_median
    lim = limits("cpu")   # {"rng_normal_f32": numbers/s, "rng_normal_f64": ..., "rng_uniform_f32": ...,
                          #  "replica_rng_normal_f32": ..., "replica_rng_uniform_f32": ...,
                          #  "copy_GBps": ..., "matmul_f32_flops": ...}

* ``rng_*``: one torch generator filling a preallocated ``(2^22,)`` tensor (the serial RNG rate);
* ``replica_rng_normal_*`` / ``replica_rng_uniform_*``: :class:`boundcheck.rng.ReplicaGenerator`
  over 16 replicas filling a preallocated, cache-sized ``(16, 10000)`` block in place (one generator
  call per replica, 10000 numbers each: what the algorithms' direct draws do). Generation into a
  buffer that stays in cache is the fastest this CPU's generator gets, so it is the honest
  random-number limit (the serial figure writes 16-32 MB and waits on memory). Before issue 9 this
  figure timed ``draw((1024, 1000))`` from the pool, whose median draw only sliced an already
  filled pool: a copy rate, not a random-number rate;
* ``copy_GBps``: ``dst.copy_(src)`` between two preallocated 64 MiB tensors, bytes read + written;
* ``matmul_*_flops``: a batched ``(64, 256, 256) @ (64, 256, 256)`` product, ``2 n^3`` per matrix.

Each figure is the median of ``repeat`` timed runs after one warm-up. CUDA timings synchronise.
``clock=time.process_time`` (CPU only) times this process's CPU time instead of wall time: on a
shared host, with one torch thread, it leaves out the time other processes held the core.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

__all__ = ["limits", "time_median"]


def time_median(
    f: Callable[[], object],
    repeat: int = 5,
    device: str = "cpu",
    clock: Callable[[], float] = time.perf_counter,
) -> float:
    """Median time of ``f()`` by ``clock`` over ``repeat`` runs after one warm-up (synchronised on
    CUDA, where only the wall clock means anything)."""
    cuda = str(device).startswith("cuda")
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    if cuda:
        clock = time.perf_counter
    f()
    sync()
    times = []
    for _ in range(repeat):
        t0 = clock()
        f()
        sync()
        times.append(clock() - t0)
    return statistics.median(times)


def limits(
    device: str = "cpu", repeat: int = 5, clock: Callable[[], float] = time.perf_counter
) -> dict[str, float]:
    """Measure the limits listed in the module docstring on ``device`` (timed by ``clock``)."""
    from boundcheck.rng import ReplicaGenerator

    out: dict[str, float] = {}
    g = torch.Generator(device=device).manual_seed(0)
    n = 1 << 22
    for dt, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        buf = torch.empty(n, dtype=dt, device=device)
        out[f"rng_normal_{tag}"] = n / time_median(
            lambda b=buf: b.normal_(generator=g), repeat, device, clock
        )
        out[f"rng_uniform_{tag}"] = n / time_median(
            lambda b=buf: b.uniform_(generator=g), repeat, device, clock
        )
        rg = ReplicaGenerator.for_run(0, "noise", 16, device=device)
        blk = torch.empty(16, 10000, dtype=dt, device=device)
        reps = 10  # 1.6 M numbers per timed run
        for kind in ("normal", "uniform"):
            out[f"replica_rng_{kind}_{tag}"] = (reps * blk.numel()) / time_median(
                lambda k=kind, rg=rg, b=blk, n=reps: [rg.fill_(k, b) for _ in range(n)],
                repeat, device, clock,
            )  # fmt: skip
    src = torch.ones(1 << 24, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    out["copy_GBps"] = (
        2 * src.numel() * 4 / time_median(lambda: dst.copy_(src), repeat, device, clock) / 1e9
    )
    for dt, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        a = torch.randn(64, 256, 256, dtype=dt, device=device, generator=g)
        b = torch.randn(64, 256, 256, dtype=dt, device=device, generator=g)
        c = torch.empty_like(a)
        flops = 64 * 2 * 256**3
        out[f"matmul_{tag}_flops"] = flops / time_median(
            lambda a=a, b=b, c=c: torch.bmm(a, b, out=c), repeat, device, clock
        )
    return out


if __name__ == "__main__":
    for k, v in limits().items():
        print(f"{k:28s} {v:14.4g}")
