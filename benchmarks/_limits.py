"""The machine's own limits, measured in the calling process, for every benchmark to print beside
its figures (DESIGN.md: performance as ratios against the machine's limits, measured in the same run).

    from _limits import limits, time_median
    lim = limits("cpu")   # {"rng_normal_f32": numbers/s, "rng_normal_f64": ..., "rng_uniform_f32": ...,
                          #  "replica_rng_normal_f32": ..., "copy_GBps": ..., "matmul_f32_flops": ...}

* ``rng_*``: one torch generator filling a preallocated ``(2^22,)`` tensor (the serial RNG rate);
* ``replica_rng_normal_*``: :class:`boundcheck.rng.ReplicaGenerator` over 1024 replicas drawing
  ``(1024, 1000)`` blocks (what the algorithms use: per-replica streams);
* ``copy_GBps``: ``dst.copy_(src)`` between two preallocated 64 MiB tensors, bytes read + written;
* ``matmul_*_flops``: a batched ``(64, 256, 256) @ (64, 256, 256)`` product, ``2 n^3`` per matrix.

Each figure is the median of ``repeat`` timed runs after one warm-up. CUDA timings synchronise.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

__all__ = ["limits", "time_median"]


def time_median(f: Callable[[], object], repeat: int = 5, device: str = "cpu") -> float:
    """Median wall time of ``f()`` over ``repeat`` runs after one warm-up (synchronised on CUDA)."""
    sync = torch.cuda.synchronize if str(device).startswith("cuda") else (lambda: None)
    f()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def limits(device: str = "cpu", repeat: int = 5) -> dict[str, float]:
    """Measure the limits listed in the module docstring on ``device``."""
    from boundcheck.rng import ReplicaGenerator

    out: dict[str, float] = {}
    g = torch.Generator(device=device).manual_seed(0)
    n = 1 << 22
    for dt, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        buf = torch.empty(n, dtype=dt, device=device)
        out[f"rng_normal_{tag}"] = n / time_median(
            lambda b=buf: b.normal_(generator=g), repeat, device
        )
        out[f"rng_uniform_{tag}"] = n / time_median(
            lambda b=buf: b.uniform_(generator=g), repeat, device
        )
        rg = ReplicaGenerator.for_run(0, "noise", 1024, device=device)
        out[f"replica_rng_normal_{tag}"] = (1024 * 1000) / time_median(
            lambda rg=rg, dt=dt: rg.draw("normal", (1024, 1000), dt), repeat, device
        )
    src = torch.ones(1 << 24, dtype=torch.float32, device=device)
    dst = torch.empty_like(src)
    out["copy_GBps"] = (
        2 * src.numel() * 4 / time_median(lambda: dst.copy_(src), repeat, device) / 1e9
    )
    for dt, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        a = torch.randn(64, 256, 256, dtype=dt, device=device, generator=g)
        b = torch.randn(64, 256, 256, dtype=dt, device=device, generator=g)
        c = torch.empty_like(a)
        flops = 64 * 2 * 256**3
        out[f"matmul_{tag}_flops"] = flops / time_median(
            lambda a=a, b=b, c=c: torch.bmm(a, b, out=c), repeat, device
        )
    return out


if __name__ == "__main__":
    for k, v in limits().items():
        print(f"{k:28s} {v:14.4g}")
