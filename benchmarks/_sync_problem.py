"""The diagonal quadratic the synchronous-algorithm benchmarks run on (``bench_sync.py``).

``f_i(x) = 1/2 sum_j a_ij (x_j - b_ij)^2`` with Gaussian gradient noise drawn in the run's dtype
(one normal per coordinate and client step, the cheapest oracle a theorem allows; the noise scale
enters with the gradient's last add), per-replica ``(R, m)`` or shared ``(m,)`` clients, and
closed-form global ``f`` and ``grad f`` (O(R d), so the recording does not dominate). The clients'
rows of ``a`` and ``b`` are gathered once per distinct client set into reused buffers (an
algorithm's local steps query the same clients several times). Defined here so the benchmark measures the algorithms, not a
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

    def __post_init__(self) -> None:
        self._memo: tuple | None = None  # (clients, a gathered, b gathered)

    def _ab(self, clients):
        if clients is None:  # all n clients: broadcast, no copy
            return self.a, self.b
        # the same clients as the last call (the P local steps of one message, the tau steps of
        # one period): their rows are still in the reused buffers. Else one contiguous row gather
        # (index_select, several times faster than a[clients] on CPU) into them.
        memo = self._memo
        if memo is not None and memo[0].shape == clients.shape and torch.equal(memo[0], clients):
            return memo[1], memo[2]
        flat = clients.reshape(-1)
        shape = (*clients.shape, self.d)
        if memo is not None and memo[1].shape == shape:
            a, b = memo[1], memo[2]
        else:
            a = torch.empty(shape, dtype=self.a.dtype, device=self.a.device)
            b = torch.empty_like(a)
        torch.index_select(self.a, 0, flat, out=a.view(-1, self.d))
        torch.index_select(self.b, 0, flat, out=b.view(-1, self.d))
        self._memo = (clients.clone(), a, b)
        return a, b

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
        return rng.normal(generator, (R, m, self.d), dtype=self.dtype, device=self.device)

    def stochastic_grad_i(self, x, sample, clients=None):
        a, b = self._ab(clients)
        g = torch.sub(x, b).mul_(a)  # a fresh tensor: the caller may keep it
        return g if sample is None else g.add_(sample, alpha=self.noise)


def make_problem(n: int, d: int, device: str = "cpu", dtype=torch.float32) -> DiagQuadratic:
    g = torch.Generator().manual_seed(0)
    a = (0.5 + torch.rand(n, d, generator=g)).to(device=device, dtype=dtype)
    b = torch.randn(n, d, generator=g).to(device=device, dtype=dtype)
    p = DiagQuadratic(n=n, d=d, dtype=dtype, device=device, a=a, b=b)
    p.a_bar, p.ab_bar, p.abb_bar = a.mean(0), (a * b).mean(0), (a * b * b).mean(0)
    return p
