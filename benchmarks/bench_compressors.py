"""Throughput of every compressor on an R x d float32 batch, against this machine's limits.

    python benchmarks/bench_compressors.py [--R 256] [--d 100000] [--repeat 5] [--threads 1]

Prints, per compressor and device (CPU, and CUDA when available), the median time and, measured in
the same run (``benchmarks/_limits.py`` and beside it):

* ``vs copy``: the time of a **preallocated** copy of the same tensor (``dst.copy_(src)``: one read,
  one write, no page faults) over the compressor's time; 1.0 = as fast as a copy. (An allocating
  ``x.clone()`` page-faults on every call and made every compressor look fast.)
* ``vs RNG``: for a stochastic compressor, the time to draw its random numbers alone (``R d``
  float32 uniforms per call, qsgd and rand-k alike) at the serial torch RNG rate and at the
  per-replica generator's rate (``--replicas``: a :class:`boundcheck.rng.ReplicaGenerator` over the
  R rows, what the algorithms pass), over the compressor's time: the honest limit of a quantizer.

The compressors are called as the algorithms call them: with a plain ``torch.Generator`` (one
shared stream) and with a ``ReplicaGenerator`` (per-row streams). The adversarial compressor (a
worst-case analysis tool, not a wire format) is left out. The host is shared: compare ratios.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _limits import time_median

from boundcheck import compressors as C
from boundcheck import rng

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


def run(device: str, R: int, d: int, repeat: int) -> None:
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(R, d, generator=g, device=device, dtype=torch.float32)
    dst = torch.empty_like(x)
    nbytes = x.numel() * x.element_size()
    t_copy = time_median(lambda: dst.copy_(x), repeat, device)
    t_clone = time_median(lambda: x.clone(), repeat, device)
    t_rng = time_median(lambda: dst.uniform_(generator=g), repeat, device)
    rg = rng.ReplicaGenerator.for_run(0, "compressor_up", R, device=device)
    t_rrng = time_median(lambda: rng.fill_uniform_(rg, dst), repeat, device)
    print(f"device={device} R={R} d={d} float32 ({nbytes / 1e6:.0f} MB), "
          f"{torch.get_num_threads()} thread(s)")  # fmt: skip
    print(f"preallocated copy (dst.copy_(x)) {t_copy * 1e3:8.2f} ms = "
          f"{2 * nbytes / t_copy / 1e9:6.2f} GB/s read+write; x.clone() {t_clone * 1e3:8.2f} ms "
          f"({t_copy / t_clone:.2f} of the copy's speed)")  # fmt: skip
    print(f"uniforms for R d numbers: serial RNG {t_rng * 1e3:8.2f} ms "
          f"({x.numel() / t_rng / 1e6:.0f} M/s), per-replica RNG {t_rrng * 1e3:8.2f} ms "
          f"({x.numel() / t_rrng / 1e6:.0f} M/s)")  # fmt: skip
    hdr = f"{'compressor':28s} {'generator':9s} {'ms':>9s} {'vs copy':>8s} {'vs RNG':>7s}"
    print(hdr + f" {'vs replica RNG':>14s}")
    cases = [C.get(n, **p) for n, p in CASES]
    cases.append(C.get("qsgd", s=15, block_size=10_000))
    for comp in cases:
        gens = [("shared", g), ("replica", rng.ReplicaGenerator.for_run(1, "c", R, device=device))]
        for gname, gen in gens if comp.stochastic else gens[:1]:
            t = time_median(lambda comp=comp, gen=gen: comp(x, gen), repeat, device)
            vr = f"{t_rng / t:7.3f}" if comp.stochastic else f"{'-':>7s}"
            vrr = f"{t_rrng / t:14.3f}" if comp.stochastic else f"{'-':>14s}"
            print(
                f"{comp.describe()[:28]:28s} {gname:9s} {t * 1e3:9.2f} {t_copy / t:8.3f} {vr} {vrr}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--R", type=int, default=256)
    ap.add_argument("--d", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    run("cpu", args.R, args.d, args.repeat)
    if torch.cuda.is_available():
        print()
        run("cuda", args.R, args.d, args.repeat)


if __name__ == "__main__":
    main()
