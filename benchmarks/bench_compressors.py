"""Throughput of every compressor on an R x d float32 batch, against a plain copy in the same process.

    OMP_NUM_THREADS=1 python benchmarks/bench_compressors.py [--R 256] [--d 100000] [--repeat 5]

Prints, per compressor and device (CPU, and CUDA when available), the median time, the input
bandwidth in GB/s (R d 4 bytes / time) and the ratio to ``x.clone()`` of the same tensor (1.0 =
as fast as a copy). The target of issue 3: qsgd and scaled sign at >= 0.25 of copy speed.
The adversarial compressor (a worst-case analysis tool, not a wire format) is left out.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from boundcheck import compressors as C

CASES: list[tuple[str, dict[str, object]]] = [
    ("identity", {}),
    ("qsgd", {"s": 15}),
    ("qsgd_bits", {"bits": 4}),
    ("lowprec", {"s": 1}),
    ("scaled_sign", {}),
    ("topk", {"ratio": 0.1}),
    ("randk", {"ratio": 0.1}),
    ("randk_unbiased", {"ratio": 0.1}),
    ("shrink", {"delta": 0.5}),
]


def _time(f: Callable[[], object], repeat: int, sync: Callable[[], None]) -> float:
    f()
    sync()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run(device: str, R: int, d: int, repeat: int) -> None:
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(R, d, generator=g, device=device, dtype=torch.float32)
    nbytes = x.numel() * x.element_size()
    t_copy = _time(lambda: x.clone(), repeat, sync)
    print(f"device={device} R={R} d={d} float32 ({nbytes / 1e6:.0f} MB)")
    print(f"{'compressor':34s} {'ms':>9s} {'GB/s':>8s} {'vs copy':>8s}")
    print(f"{'copy (x.clone())':34s} {t_copy * 1e3:9.2f} {nbytes / t_copy / 1e9:8.2f} {1.0:8.3f}")
    cases = [C.get(n, **p) for n, p in CASES]
    cases.append(C.get("qsgd", s=15, block_size=10_000))
    for comp in cases:
        t = _time(lambda comp=comp: comp(x, g), repeat, sync)
        print(
            f"{comp.describe()[:34]:34s} {t * 1e3:9.2f} {nbytes / t / 1e9:8.2f} {t_copy / t:8.3f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--R", type=int, default=256)
    ap.add_argument("--d", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    run("cpu", args.R, args.d, args.repeat)
    if torch.cuda.is_available():
        print()
        run("cuda", args.R, args.d, args.repeat)


if __name__ == "__main__":
    main()
