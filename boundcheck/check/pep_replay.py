"""A second, independent witness for a PEPit worst case: the interpolated function, run through
boundcheck's own algorithm implementation.

PEPit's primal solution is a finite set of triplets ``(x_i, g_i, f_i)`` (in R^d, d = the Gram
matrix's size). :class:`InterpolatedFunction` turns them into a function *defined everywhere* and
certainly in the class, by the conjugate construction of smooth (strongly) convex interpolation
(Taylor, Hendrickx & Glineur 2017, Thm 4; Taylor 2017, Thm 3.14). With ``h = f - mu/2 ||x||^2``,
``L' = L - mu``, ``s_i = g_i - mu x_i``, ``h_i = f_i - mu/2 ||x_i||^2``:

    h(x) = min_{alpha in simplex} sum_i alpha_i b_i + L'/2 ||x - A alpha / L'||^2,
    b_i = h_i - ||s_i||^2/(2 L'),   a_i = L' x_i - s_i,   grad h(x) = L' x - A alpha*.

``h`` is the conjugate of ``max_i [<x_i, y - s_i> + h*_i + ||y - s_i||^2/(2L')]``, a
``1/L'``-strongly convex function, so ``h`` is convex and ``L'``-smooth *whatever the data*, and
``f = h + mu/2 ||x||^2`` is L-smooth and mu-strongly convex (mu = -L: L-smooth). When the data
satisfy the interpolation conditions (up to the SDP's accuracy) ``f`` passes through them. The
algorithm (:mod:`boundcheck.algorithms`) then runs on this ``f`` with its own code; its measured
left-hand side is compared with PEPit's primal value and with the bound.

Each value and gradient is one small convex QP in ``alpha`` (solved by Clarabel through cvxpy, from
the ``pep`` extra): fine for the handful of points a replay visits.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from boundcheck.errors import ParameterError
from boundcheck.problems.base import Constant, Problem


class InterpolatedFunction(Problem):
    """``f_i = f`` for every client, ``f`` the interpolant of PEPit triplets (module docstring)."""

    def __init__(
        self,
        xs: np.ndarray,
        gs: np.ndarray,
        fs: np.ndarray,
        L: float,
        mu: float,
        n: int = 1,
        x_star: np.ndarray | None = None,
    ) -> None:
        xs, gs, fs = (np.asarray(a, dtype=float) for a in (xs, gs, fs))
        if not (-L <= mu < L):
            raise ParameterError(f"mu={mu!r} is not allowed; need -L <= mu < L (L={L!r})")
        super().__init__(n=n, d=xs.shape[1])
        self.L_, self.mu_ = float(L), float(mu)
        lp = self.L_ - self.mu_
        s = gs - self.mu_ * xs
        h = fs - 0.5 * self.mu_ * np.sum(xs**2, axis=1)
        self._lp = lp
        self._b = h - np.sum(s**2, axis=1) / (2 * lp)
        self._A = (lp * xs - s).T  # (d, m)
        self.constants = {
            "L": Constant(self.L_, "exact", "interpolant of smoothness L by construction"),
        }
        if self.mu_ > 0:
            self.constants["mu"] = Constant(self.mu_, "exact", "strongly convex by construction")
        if x_star is not None:
            self._x_star = torch.as_tensor(np.asarray(x_star, dtype=float))

    def value_and_grad(self, x: np.ndarray) -> tuple[float, np.ndarray]:
        """``f(x)`` and ``grad f(x)`` at one point ``x`` of shape (d,)."""
        import cvxpy as cp

        x = np.asarray(x, dtype=float)
        m = self._A.shape[1]
        alpha = cp.Variable(m, nonneg=True)
        obj = self._b @ alpha + self._lp / 2 * cp.sum_squares(x - self._A @ alpha / self._lp)
        prob = cp.Problem(cp.Minimize(obj), [cp.sum(alpha) == 1])
        prob.solve(solver="CLARABEL")
        if prob.status != "optimal":
            raise RuntimeError(f"interpolant QP not solved: {prob.status}")
        a = np.clip(alpha.value, 0.0, None)
        a = a / a.sum()
        y = self._A @ a
        h = float(self._b @ a + self._lp / 2 * np.sum((x - y / self._lp) ** 2))
        gh = self._lp * x - y
        return h + 0.5 * self.mu_ * float(x @ x), gh + self.mu_ * x

    def _map(self, x: torch.Tensor, which: int) -> torch.Tensor:
        self._check_local(x)
        flat = x.detach().cpu().numpy().reshape(-1, self.d)
        outs = [self.value_and_grad(p)[which] for p in flat]
        if which == 0:
            return torch.tensor(outs, dtype=x.dtype, device=x.device).reshape(x.shape[:2])
        return torch.tensor(np.stack(outs), dtype=x.dtype, device=x.device).reshape(x.shape)

    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._clients(clients, x.shape[1])
        return self._map(x, 0)

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._clients(clients, x.shape[1])
        return self._map(x, 1)


def replay_fedpaq_thm1(
    T: int,
    L: float = 10.0,
    mu: float = 1.0,
    n: int = 2,
    D: float = 1.0,
    result: Any = None,
) -> dict[str, Any]:
    """FedPAQ Theorem 1's PEP worst case, replayed in :func:`boundcheck.algorithms.fedpaq.fedpaq`.

    Solves :func:`boundcheck.check.pep.fedpaq_thm1`, interpolates its triplets (an L-smooth
    mu-strongly convex function, exact class), and runs FedPAQ (Algorithm 1: tau = 1, identity
    quantizer q = 0, r = n homogeneous nodes, exact gradients) from ``x_{k0}`` with the stepsizes
    ``eta_j = 4/(mu (j + 1))``, j = k0..k0+T-1. Returns both values of ``||x_k - x^*||^2`` (PEPit's
    primal and the algorithm's), the bound, and whether the replay exceeds the bound. ``result``:
    an already solved :func:`~boundcheck.check.pep.fedpaq_thm1` at the same arguments (not solved
    again).
    """
    from boundcheck.algorithms.fedpaq import fedpaq
    from boundcheck.check.pep import fedpaq_thm1

    res = result if result is not None else fedpaq_thm1(T, L=L, mu=mu, n=n, D=D)
    if res.instance is None:
        raise RuntimeError(f"PEP not solved ({res.status}); nothing to replay")
    inst = res.instance
    k0 = int(res.params["k0"])
    prob = InterpolatedFunction(
        np.array(inst["x"]), np.array(inst["g"]), np.array(inst["f"]), L, mu, n=n,
        x_star=np.array(inst["x_star"]),
    )  # fmt: skip
    x0 = torch.tensor([inst["x0"]], dtype=torch.float64)
    etas = [4.0 / (mu * (j + 1)) for j in range(k0, k0 + T)]
    trace = fedpaq(prob, K=T, tau=1, r=n, R=1, seed=0, eta=etas, x0=x0)
    dist = trace.series["dist_sq"]
    lhs, d0 = float(dist[T, 0]), float(dist[0, 0])
    _, g_star = prob.value_and_grad(np.array(inst["x_star"]))
    return {
        "theorem": "fedpaq.thm1",
        "T": T,
        "pep_primal": res.primal,
        "replay_lhs": lhs,
        "replay_D_k0": d0,
        "bound": res.bound,
        "bound_at_replay_D_k0": res.bound * d0 / D,
        "rel_diff": abs(lhs - res.primal) / max(abs(res.primal), 1e-300),
        "grad_norm_at_x_star": float(np.linalg.norm(g_star)),
        "x_star_error_bound": float(np.linalg.norm(g_star)) / mu,
        "violated": lhs > res.bound * d0 / D,
        "verdict_pep": res.verdict,
        "finite": math.isfinite(lhs),
    }
