"""Identical nodes: every client has the same local function ``f_i = f`` (FedPAQ Theorems 1-2).

FedPAQ (Section 3 and Theorems 1-2) assumes the nodes' data are i.i.d. from one distribution, so
every local function is the same ``f`` and the only randomness is the stochastic gradient oracle.
:class:`IID` turns a one-client problem ``f`` into an ``n``-client problem whose clients all query
``f``'s oracle with their own draws: ``f_i = f`` exactly (one stored copy, no per-client data),
``grad f_i - grad f = 0`` everywhere, hence ``zeta2 = zeta2_star = 0`` and ``delta_H = 0`` exactly;
every other constant (``L = L_i``, ``mu``, ``f_star``, ``sigma2``, ``ell``, ``G``, ``M2``) is the one
client's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from boundcheck.errors import ParameterError
from boundcheck.problems import _params
from boundcheck.problems.base import Constant
from boundcheck.problems.oracles import Oracle, SyntheticProblem, make_oracle
from boundcheck.problems.quadratic import LeastSquares
from boundcheck.rng import Gen

_ZERO = (
    "identical nodes: f_i = f for every i, so grad f_i - grad f = 0 at every x (FedPAQ's i.i.d. "
    "setting)"
)


class IID(SyntheticProblem):
    """``n`` identical clients, each ``f_i = f`` of the one-client problem ``base``."""

    def __init__(self, base: SyntheticProblem, n: int) -> None:
        if not isinstance(base, SyntheticProblem) or base.n != 1:
            raise ParameterError("base must be a one-client boundcheck problem (n = 1)")
        super().__init__(n, base.d, base.dtype, base.device)
        self.base = base
        self.finite_sum = base.finite_sum
        self.radius = getattr(base, "radius", None)
        self.oracle = base.oracle
        self.constants = self._merged()

    def _merged(self) -> dict[str, Constant]:
        out = dict(self.base.constants)
        for key in ("zeta2", "zeta2_star", "zeta2_star_mean", "delta_H"):
            if key in out or key in ("zeta2", "delta_H"):
                out[key] = Constant(0.0, "exact", _ZERO)
        self.L_clients = np.full(self.n, float(getattr(self.base, "L_clients", [np.nan])[0]))
        return out

    def set_oracle(self, oracle: Oracle) -> None:
        self.base.set_oracle(oracle)
        self.oracle = oracle
        self.constants = self._merged()

    @property
    def x_star(self) -> torch.Tensor | None:
        return self.base.x_star

    @property
    def x_star_np(self) -> np.ndarray | None:
        return getattr(self.base, "x_star_np", None)

    def _zero(self, clients: torch.Tensor | None, m: int, R: int) -> torch.Tensor:
        return torch.zeros_like(self._clients(clients, m, R))

    # --- the contract, delegated to the one client ------------------------------------------------
    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        return self.base.f_i(x, self._zero(clients, x.shape[1], x.shape[0]))

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        return self.base.grad_i(x, self._zero(clients, x.shape[1], x.shape[0]))

    def f(self, x: torch.Tensor) -> torch.Tensor:
        return self.base.f(x)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        return self.base.grad(x)

    def suboptimality(self, x: torch.Tensor) -> torch.Tensor:
        return self.base.suboptimality(x)

    def sample(self, R: int, clients: torch.Tensor | None, generator: Gen) -> Any:
        R = _params.count("R", R)
        if clients is None:
            zero = torch.zeros(self.n, dtype=torch.long, device=self.device)
        else:
            cl = torch.as_tensor(clients, device=self.device)
            zero = self._zero(cl, cl.shape[-1] if cl.dim() else -1, R)
        return self.base.sample(R, zero, generator)

    def stochastic_grad_i(
        self, x: torch.Tensor, sample: Any, clients: torch.Tensor | None = None
    ) -> torch.Tensor:
        self._check_local(x)
        return self.base.stochastic_grad_i(x, sample, self._zero(clients, x.shape[1], x.shape[0]))

    def grad_difference_i(
        self,
        x_new: torch.Tensor,
        x_old: torch.Tensor,
        sample: Any,
        clients: torch.Tensor | None = None,
    ) -> torch.Tensor:
        self._check_local(x_new)
        zero = self._zero(clients, x_new.shape[1], x_new.shape[0])
        return self.base.grad_difference_i(x_new, x_old, sample, zero)

    def samples_per_client(self, clients: torch.Tensor) -> torch.Tensor:
        return self.base.samples_per_client(torch.zeros_like(clients))

    def sample_grads(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        return self.base.sample_grads(x, torch.zeros_like(clients), idx)

    def minibatch_grad(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        return self.base.minibatch_grad(x, torch.zeros_like(clients), idx)

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out["identical_nodes"] = True
        return out


def iid_least_squares(
    n: int = 4,
    d: int = 10,
    m: int = 50,
    seed: int = 0,
    scale: str = "mean",
    radius: float | None = None,
    oracle: str = "gaussian",
    noise_var: float = 0.01,
    batch_size: int = 1,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> IID:
    """FedPAQ's i.i.d. setting: ``n`` nodes with the same ``f = 1/(2m) ||A x - b||^2``.

    ``A`` (m, d) has i.i.d. ``N(0, 1)`` entries and ``b = A w + N(0, I_m)/sqrt(m)`` with
    ``w ~ N(0, I_d / d)``; ``m >= d`` makes ``f`` strongly convex (FedPAQ Theorem 1) almost surely.
    Noise enters only through the oracle: ``gaussian`` (default, ``sigma2 = d * noise_var``) or
    ``minibatch`` (``batch_size`` of the shared ``m`` samples, uniform with replacement).
    """
    n, d, m = _params.count("n", n), _params.count("d", d), _params.count("m", m)
    g = _params.rng(seed, "iid_least_squares")
    A = g.standard_normal((m, d))
    b = A @ (g.standard_normal(d) / np.sqrt(d)) + g.standard_normal(m) / np.sqrt(m)
    base = LeastSquares(
        A[None],
        b[None],
        scale=scale,
        radius=radius,
        oracle=make_oracle(oracle, noise_var, batch_size),
        dtype=dtype,
        device=device,
    )
    return IID(base, n)
