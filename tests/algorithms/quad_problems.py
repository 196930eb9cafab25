"""Tiny quadratic problems with closed forms, shared by the algorithm tests (imported by name:
pytest puts this folder on ``sys.path``)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from boundcheck import rng
from boundcheck.problems.base import Constant, Problem


@dataclass
class Quadratic(Problem):
    """f_i(x) = a_i/2 ||x - b_i||^2 with Gaussian gradient noise of std ``noise`` per coordinate."""

    a: torch.Tensor = None
    b: torch.Tensor = None
    noise: float = 0.0

    def _sel(self, clients):
        # clients: (m,) shared by all replicas or (R, m) per replica
        if clients is None:
            clients = self.all_clients()
        a, b = self.a[clients].unsqueeze(-1), self.b[clients]
        return (a, b) if clients.dim() == 2 else (a.unsqueeze(0), b.unsqueeze(0))

    def f_i(self, x, clients=None):
        a, b = self._sel(clients)
        return 0.5 * a.squeeze(-1) * ((x - b) ** 2).sum(-1)

    def grad_i(self, x, clients=None):
        a, b = self._sel(clients)
        return a * (x - b)

    def sample(self, R, clients, generator):
        m = self.n if clients is None else clients.shape[-1]  # clients (m,) or per replica (R, m)
        return rng.normal(generator, (R, m, self.d), dtype=self.dtype, device=self.device)

    def stochastic_grad_i(self, x, sample, clients=None):
        return self.grad_i(x, clients) + self.noise * sample

    @property
    def x_star(self):
        return (self.a.unsqueeze(1) * self.b).sum(0) / self.a.sum()


def quad(n=4, d=3, noise=0.0, seed=0, device="cpu"):
    """A random :class:`Quadratic` (``a_i`` in [0.5, 1.5), Gaussian ``b_i``) with exact ``f_star``."""
    g = torch.Generator().manual_seed(seed)
    a = (0.5 + torch.rand(n, generator=g, dtype=torch.float64)).to(device)
    b = torch.randn(n, d, generator=g, dtype=torch.float64).to(device)
    p = Quadratic(n=n, d=d, device=device, a=a, b=b, noise=noise)
    xs = p.x_star
    fstar = float(p.f(xs.unsqueeze(0))[0])
    p.constants["f_star"] = Constant(fstar, "exact", "closed form")
    return p


class DiagQuad(Problem):
    """f_i(x) = 1/2 sum_j a_ij (x_j - b_ij)^2, optional additive Gaussian oracle noise of std
    ``sigma`` (``sigma = 0``: exact gradients, no random draws)."""

    def __init__(self, a: torch.Tensor, b: torch.Tensor, sigma: float = 0.0, device="cpu"):
        n, d = a.shape
        super().__init__(n=n, d=d, dtype=torch.float64, device=device)
        self.a, self.b, self.sigma = a.to(device), b.to(device), sigma
        abar = a.mean(0)
        xstar = (a * b).mean(0) / abar
        fstar = float((0.5 * a * (xstar - b) ** 2).sum(1).mean())
        self.constants = {
            "L": Constant(float(abar.max()), "exact"),
            "f_star": Constant(fstar, "exact"),
        }

    def _ab(self, clients):
        if clients is None:
            return self.a, self.b
        return self.a[clients], self.b[clients]

    def f_i(self, x, clients=None):
        a, b = self._ab(clients)
        return 0.5 * (a * (x - b) ** 2).sum(-1)

    def grad_i(self, x, clients=None):
        a, b = self._ab(clients)
        return a * (x - b)

    def sample(self, R, clients, generator):
        if self.sigma == 0:
            return None
        m = self.n if clients is None else clients.shape[-1]  # clients (m,) or per replica (R, m)
        return self.sigma * rng.normal(
            generator, (R, m, self.d), dtype=self.dtype, device=self.device
        )

    def stochastic_grad_i(self, x, sample, clients=None):
        g = self.grad_i(x, clients)
        return g if sample is None else g + sample


def diag_quad(n=3, d=4, sigma=0.0, seed=0, device="cpu"):
    """A random :class:`DiagQuad` (``a_ij`` in [0.5, 1.5), Gaussian ``b_ij``)."""
    g = torch.Generator().manual_seed(seed)
    a = 0.5 + torch.rand(n, d, generator=g, dtype=torch.float64)
    b = torch.randn(n, d, generator=g, dtype=torch.float64)
    return DiagQuad(a, b, sigma=sigma, device=device)
