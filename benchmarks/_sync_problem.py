"""The diagonal quadratic the synchronous-algorithm benchmarks run on (``bench_sync.py``).

``f_i(x) = 1/2 sum_j a_ij (x_j - b_ij)^2`` with Gaussian gradient noise drawn in the run's dtype
(one normal per coordinate and client step, the cheapest oracle a theorem allows), per-replica
``(R, m)`` or shared ``(m,)`` clients, and closed-form global ``f`` and ``grad f`` (O(R d), so the
recording does not dominate). Defined here so the benchmark measures the algorithms, not a
problem family; works with a plain ``torch.Generator`` (the code before issue 8) and with a
:class:`boundcheck.rng.ReplicaGenerator`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from boundcheck import rng
from boundcheck.problems.base import Problem


@dataclass
class DiagQuadratic(Problem):
    a: torch.Tensor = None
    b: torch.Tensor = None
    noise: float = 0.1

    def _ab(self, clients):
        if clients is None:  # all n clients: broadcast, no copy
            return self.a, self.b
        # index_select: a contiguous row gather, several times faster than a[clients] on CPU
        flat = clients.reshape(-1)
        shape = (*clients.shape, self.d)
        return self.a.index_select(0, flat).view(shape), self.b.index_select(0, flat).view(shape)

    def f_i(self, x, clients=None):
        a, b = self._ab(clients)
        return 0.5 * (a * (x - b) ** 2).sum(-1)

    def grad_i(self, x, clients=None):
        a, b = self._ab(clients)
        return a * (x - b)

    def f(self, x):  # closed form of 1/n sum_i f_i
        return 0.5 * (self.a_bar * x * x - 2 * self.ab_bar * x + self.abb_bar).sum(-1)

    def grad(self, x):
        return self.a_bar * x - self.ab_bar

    def sample(self, R, clients, generator):
        m = self.n if clients is None else clients.shape[-1]
        xi = rng.normal(generator, (R, m, self.d), dtype=self.dtype, device=self.device)
        return xi.mul_(self.noise)

    def stochastic_grad_i(self, x, sample, clients=None):
        a, b = self._ab(clients)
        if clients is None or clients.dim() == 1:
            g = torch.sub(x, b).mul_(a)
        else:  # per-replica clients: the gathered b is fresh and of x's shape, reuse it
            g = torch.sub(x, b, out=b).mul_(a)
        return g if sample is None else g.add_(sample)


def make_problem(n: int, d: int, device: str = "cpu", dtype=torch.float32) -> DiagQuadratic:
    g = torch.Generator().manual_seed(0)
    a = (0.5 + torch.rand(n, d, generator=g)).to(device=device, dtype=dtype)
    b = torch.randn(n, d, generator=g).to(device=device, dtype=dtype)
    p = DiagQuadratic(n=n, d=d, dtype=dtype, device=device, a=a, b=b)
    p.a_bar, p.ab_bar, p.abb_bar = a.mean(0), (a * b).mean(0), (a * b * b).mean(0)
    return p
