"""Throughput of the batched QAFeL and FedPAQ implementations against a plain per-replica loop.

Issue 5: R = 1024 replicas, n = 100 clients, d = 1000. A *client-step* is one local SGD step of one
client in one replica. The batched figure runs all R replicas in one call; the per-replica loop
runs the same function with R = 1, ``--loop-replicas`` times (default 8), and its rate is
extrapolated to R replicas (the loop's cost is linear in R: every replica is a separate run of the
same size). Both are timed in the same process; the ratio is batched / loop (target >= 100x on CPU).

The problem is a heterogeneous diagonal quadratic ``f_i(x) = 1/2 sum_j a_ij (x_j - b_ij)^2`` with
Gaussian gradient noise and closed-form global f and grad f (recorded at every server step), defined here so the benchmark measures the algorithms, not a problem
family. FedPAQ runs with ``virtual=False`` (only the r sampled nodes train; ``--virtual`` simulates
all n nodes for eq. (20), n/r times the work and memory).

    python benchmarks/bench_algorithms.py [--device cuda] [--R 1024] [--dtype float32]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import torch

from boundcheck.algorithms.fedpaq import fedpaq
from boundcheck.algorithms.qafel import qafel
from boundcheck.compressors import QSGDBits
from boundcheck.problems.base import Problem


@dataclass
class DiagQuadratic(Problem):
    a: torch.Tensor = None
    b: torch.Tensor = None
    noise: float = 0.1

    def f_i(self, x, clients=None):
        c = self.all_clients() if clients is None else clients
        return 0.5 * (self.a[c] * (x - self.b[c]) ** 2).sum(-1)

    def grad_i(self, x, clients=None):
        c = self.all_clients() if clients is None else clients
        return self.a[c] * (x - self.b[c])

    def f(self, x):  # closed form of 1/n sum_i f_i, O(R d) instead of O(R n d)
        return 0.5 * (self.a_bar * x * x - 2 * self.ab_bar * x + self.abb_bar).sum(-1)

    def grad(self, x):
        return self.a_bar * x - self.ab_bar

    def sample(self, R, clients, generator):
        m = self.n if clients is None else len(clients)
        return torch.randn(R, m, self.d, generator=generator, device=self.device, dtype=self.dtype)

    def stochastic_grad_i(self, x, sample, clients=None):
        return self.grad_i(x, clients) + self.noise * sample


def make_problem(n: int, d: int, device: str, dtype: torch.dtype) -> DiagQuadratic:
    g = torch.Generator().manual_seed(0)
    a = (0.5 + torch.rand(n, d, generator=g)).to(device=device, dtype=dtype)
    b = torch.randn(n, d, generator=g).to(device=device, dtype=dtype)
    p = DiagQuadratic(n=n, d=d, dtype=dtype, device=device, a=a, b=b)
    p.a_bar, p.ab_bar, p.abb_bar = a.mean(0), (a * b).mean(0), (a * b * b).mean(0)
    return p


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def rate(run, R: int, device: str) -> tuple[float, float]:
    """(client-steps per second, seconds) of one call ``run(R)``."""
    _sync(device)
    t0 = time.perf_counter()
    tr = run(R)
    _sync(device)
    dt = time.perf_counter() - t0
    return tr.meta["client_steps"] / dt, dt


def bench(name: str, run, R: int, loop_replicas: int, device: str) -> None:
    run(2)  # warm-up (allocator, kernels)
    batched, tb = rate(run, R, device)
    tl = 0.0
    for _ in range(loop_replicas):
        _, dt = rate(run, 1, device)
        tl += dt
    steps_one = run(1).meta["client_steps"]
    loop = steps_one * loop_replicas / tl
    print(
        f"{name:8s} {device:5s} batched R={R}: {batched:12.0f} client-steps/s ({tb:6.2f} s) | "
        f"per-replica loop (R=1 x {loop_replicas}, extrapolated): {loop:10.0f} client-steps/s "
        f"(~{tl / loop_replicas * R:7.1f} s for R={R}) | ratio {batched / loop:7.1f}x"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--R", type=int, default=1024)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--d", type=int, default=1000)
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    ap.add_argument("--loop-replicas", type=int, default=8)
    ap.add_argument("--virtual", action="store_true", help="FedPAQ simulates all n nodes")
    args = ap.parse_args()
    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("CUDA is not available on this machine: no GPU figures.")
        return
    dtype = getattr(torch, args.dtype)
    p = make_problem(args.n, args.d, args.device, dtype)
    q4 = QSGDBits(4)

    def run_qafel(R: int):
        return qafel(p, T=5, R=R, seed=0, eta_l=0.01, eta_g=1.0, K=10, P=5, concurrency=20,
                     client_compressor=q4, server_compressor=q4, dtype=dtype)  # fmt: skip

    def run_fedpaq(R: int):
        return fedpaq(p, K=3, tau=5, r=10, R=R, seed=0, eta=0.01, quantizer=q4,
                      virtual=args.virtual, dtype=dtype)  # fmt: skip

    print(f"n={args.n} d={args.d} dtype={args.dtype} torch threads={torch.get_num_threads()}")
    bench("QAFeL", run_qafel, args.R, args.loop_replicas, args.device)
    bench("FedPAQ", run_fedpaq, args.R, args.loop_replicas, args.device)


if __name__ == "__main__":
    main()
