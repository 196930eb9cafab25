"""Quadratic families: general quadratics, heterogeneous least squares, linear toys.

``f_i(x) = 1/2 x^T H_i x - c_i^T x + e_i`` with symmetric positive semidefinite ``H_i``. Every
constant is *exact*: eigenvalues of explicit matrices in float64 (LAPACK, relative error ~1e-15),
computed from the data as stored (rounded to the problem's dtype first).

Least squares ``f_i(x) = s/2 ||A_i x - b_i||^2`` is the special case ``H_i = s A_i^T A_i``,
``c_i = s A_i^T b_i``, ``e_i = s/2 ||b_i||^2`` with ``s = 1/m`` (``scale="mean"``: the mean of the
``m`` per-sample losses ``1/2 (a_ij^T x - b_ij)^2``) or ``s = 1`` (``scale="sum"``: the papers'
``1/2 ||A_i x - b_i||^2``). Its per-sample structure (``f_i = 1/m sum_j l_ij`` with
``l_ij(x) = w/2 (a_ij^T x - b_ij)^2``, ``w = s m``) gives the minibatch oracle.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from boundcheck.errors import ParameterError
from boundcheck.problems import _params
from boundcheck.problems.base import Constant
from boundcheck.problems.oracles import Exact, FiniteSum, Oracle, SyntheticProblem


def _ax(A: torch.Tensor, x: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
    """``A_{cl} x``: ``A`` (n, k, d), ``x`` (R, s, d), clients (s,) or (R, s) -> (R, s, k)."""
    if cl.dim() == 1:
        return torch.einsum("skd,rsd->rsk", A[cl], x)
    return torch.einsum("rskd,rsd->rsk", A[cl], x)


def _atr(A: torch.Tensor, r: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
    """``A_{cl}^T r``: ``A`` (n, k, d), ``r`` (R, s, k), clients (s,) or (R, s) -> (R, s, d)."""
    if cl.dim() == 1:
        return torch.einsum("skd,rsk->rsd", A[cl], r)
    return torch.einsum("rskd,rsk->rsd", A[cl], r)


def _spec(M: np.ndarray) -> np.ndarray:
    """Spectral norm(s) of symmetric matrices ``(..., d, d)``, rounded up (``_params.eig_slack``)."""
    lo, hi = _params.eigs(M)
    return np.maximum(np.abs(lo), np.abs(hi))


class Quadratic(SyntheticProblem):
    """``f_i(x) = 1/2 x^T H_i x - c_i^T x + e_i``; ``H`` (n, d, d) PSD, ``c`` (n, d), ``e`` (n,).

    ``radius``: if given, ``G`` and ``M2`` (unbounded on ``R^d`` unless ``H_i = 0``) are certified
    over the ball ``||x - x_c|| <= radius`` with centre ``x_c = x_star`` (or 0 where f has no
    minimiser).
    """

    def __init__(
        self,
        H: object,
        c: object,
        e: object | None = None,
        *,
        radius: float | None = None,
        oracle: Oracle | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        _build: bool = True,
    ) -> None:
        Ha = _params.array("H", H, (None, None, None))
        n, d = Ha.shape[0], Ha.shape[1]
        super().__init__(n, d, dtype, device)
        if Ha.shape[2] != d:
            raise ParameterError(f"H has shape {Ha.shape}; it must be (n, d, d)")
        ca = _params.array("c", c, (n, d))
        ea = np.zeros(n) if e is None else _params.array("e", e, (n,))
        self.radius = None if radius is None else _params.nonneg("radius", radius)
        self._set_quadratic(Ha, ca, ea)
        if _build:
            self._finish(oracle or Exact())

    # --- data ------------------------------------------------------------------------------
    def _set_quadratic(self, H: np.ndarray, c: np.ndarray, e: np.ndarray) -> None:
        H = _params.rounded(H, self.dtype)
        if not np.allclose(H, np.swapaxes(H, 1, 2), rtol=0, atol=1e-12 * (1 + np.abs(H).max())):
            raise ParameterError("H holds a non-symmetric H_i; each H_i must be symmetric")
        H = 0.5 * (H + np.swapaxes(H, 1, 2))
        lmin = np.linalg.eigvalsh(H)[:, 0]
        if np.any(lmin < -1e-10 * (1 + np.abs(H).max())):
            i = int(np.argmin(lmin))
            raise ParameterError(
                f"H_{i} has eigenvalue {lmin[i]:.3g} < 0; each H_i must be positive semidefinite"
            )
        self.H_np, self.c_np = H, _params.rounded(c, self.dtype)
        self.e_np = _params.rounded(e, self.dtype)
        kw = {"dtype": self.dtype, "device": self.device}
        self.H = torch.as_tensor(self.H_np, **kw)
        self.c = torch.as_tensor(self.c_np, **kw)
        self.e = torch.as_tensor(self.e_np, **kw)

    # --- the contract ------------------------------------------------------------------------
    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        Hx = self._hx(x, cl)
        return 0.5 * (x * Hx).sum(-1) - (x * self.c[cl]).sum(-1) + self.e[cl]

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        return self._hx(x, cl) - self.c[cl]

    def _hx(self, x: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
        """``H_{cl} x`` for ``x`` (R, m, d) and shared (m,) or per-replica (R, m) clients."""
        if cl.dim() == 1:
            return torch.einsum("mij,rmj->rmi", self.H[cl], x)
        return torch.einsum("rmij,rmj->rmi", self.H[cl], x)

    def suboptimality(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x) - f*`` as ``1/2 (x - x*)^T Hbar (x - x*)`` (no cancellation), ``x`` (R, d) -> (R,)."""
        self._check_global(x)
        if self.x_star is None:
            raise ParameterError(
                f"{type(self).__name__} has no minimiser, so f(x) - f* is undefined"
            )
        u = x - self.x_star
        Hbar = self.H.mean(dim=0)
        return 0.5 * (u * (u @ Hbar)).sum(-1)

    # --- constants ----------------------------------------------------------------------------
    def _grads_np(self, x: np.ndarray) -> np.ndarray:
        """``grad f_i(x)`` for every client at one point ``x`` (d,) -> (n, d)."""
        return self.H_np @ x - self.c_np

    def _f_np(self, x: np.ndarray) -> float:
        return float(np.mean(0.5 * x @ self.H_np @ x - self.c_np @ x + self.e_np))

    def _deterministic_constants(self) -> dict[str, Constant]:
        H, c = self.H_np, self.c_np
        n, d = self.n, self.d
        Hbar, cbar = H.mean(axis=0), c.mean(axis=0)
        lo, hi = _params.eigs(Hbar)  # rounded outward: L up, mu down
        L, lmin = float(max(hi, 0.0)), float(lo)
        self.L_clients = np.maximum(_params.lmax(H), 0.0)
        Li = float(self.L_clients.max())
        scaleH = max(Li, 1.0)
        out: dict[str, Constant] = {
            "L": Constant(
                L,
                "exact",
                "largest eigenvalue of Hbar = 1/n sum_i H_i (rounded up by 8 d eps ||Hbar||)",
            ),
            "L_i": Constant(
                Li,
                "exact",
                "max_i of the largest eigenvalue of H_i (rounded up by 8 d eps ||H_i||)",
            ),
            "delta_H": Constant(
                float(_spec(Hbar[None] - H).max()),
                "exact",
                "AsyncBC Assumption 2 (read with <=): grad f - grad f_i is linear with matrix "
                "Hbar - H_i, so delta = max_i ||Hbar - H_i||_2 (attained: no smaller delta works)",
            ),
        }
        if lmin > 1e-12 * scaleH:
            out["mu"] = Constant(
                lmin, "exact", "smallest eigenvalue of Hbar (rounded down by 8 d eps ||Hbar||)"
            )
        # minimiser
        xs, *_ = np.linalg.lstsq(Hbar, cbar, rcond=None)
        resid = float(np.linalg.norm(Hbar @ xs - cbar))
        if resid <= 1e-9 * (1.0 + float(np.linalg.norm(cbar))):
            self._x_star = torch.as_tensor(xs, dtype=self.dtype, device=self.device)
            self.x_star_np = xs
            fstar = self._f_np(xs)
            out["f_star"] = Constant(
                fstar,
                "exact",
                "f(x*) with x* solving Hbar x* = cbar (least squares, float64; "
                f"residual ||Hbar x* - cbar|| = {resid:.2e})",
            )
            gi = self._grads_np(xs)
            gstar = np.linalg.norm(gi - gi.mean(axis=0), axis=1)
            out["zeta2_star"] = Constant(
                float(np.max(gstar**2)),
                "exact",
                "max_i ||grad f_i(x*) - grad f(x*)||^2 (gradient dissimilarity at the optimum, "
                "AsyncBC Section 5 footnote 5)",
            )
            out["zeta2_star_mean"] = Constant(
                float(np.mean(gstar**2)), "exact", "1/n sum_i ||grad f_i(x*) - grad f(x*)||^2"
            )
            centre, cname = xs, "x*"
        else:
            self._x_star = None
            self.x_star_np = None
            out["f_star"] = Constant(
                -math.inf,
                "exact",
                f"cbar is not in the range of Hbar (residual {resid:.2e}): f is unbounded below",
            )
            centre, cname = np.zeros(d), "0"
        same_H = all(np.array_equal(H[0], H[i]) for i in range(n))
        dev = np.linalg.norm(c - cbar, axis=1)
        if same_H:
            out["zeta2"] = Constant(
                float(np.max(dev**2)),
                "exact",
                "all H_i equal, so grad f_i - grad f = -(c_i - cbar) for every x: "
                "sup_x max_i ||grad f_i - grad f||^2 = max_i ||c_i - cbar||^2",
            )
        else:
            out["zeta2"] = Constant(
                math.inf,
                "exact",
                "H_i differ, so grad f_i - grad f = (H_i - Hbar) x - (c_i - cbar) is unbounded in x",
            )
        if L == 0.0 and Li == 0.0:
            out["G"] = Constant(
                float(np.max(np.sum(c**2, axis=1))),
                "exact",
                "H_i = 0: grad f_i = -c_i is constant; G = max_i ||c_i||^2 (QAFeL Assumption 3.3)",
            )
            out["M2"] = Constant(
                float(cbar @ cbar),
                "exact",
                "H_i = 0: grad f = -cbar is constant; M^2 = ||cbar||^2 (SAEF Assumption 3, eq. 12)",
            )
        elif self.radius is None:
            for k, what in (("G", "QAFeL Assumption 3.3"), ("M2", "SAEF Assumption 3")):
                out[k] = Constant(
                    math.inf,
                    "exact",
                    f"{what} fails on R^d for a quadratic; pass radius= for a ball",
                )
        else:
            r = self.radius
            g0 = np.linalg.norm(self._grads_np(centre), axis=1)
            gbar0 = float(np.linalg.norm(self._grads_np(centre).mean(axis=0)))
            out["G"] = Constant(
                float(np.max((g0 + self.L_clients * r) ** 2)),
                "certified",
                f"on the ball ||x - {cname}|| <= {r}: ||grad f_i(x)|| <= ||grad f_i({cname})|| + "
                "L_i r by the triangle inequality and ||H_i|| = L_i (QAFeL Assumption 3.3)",
            )
            out["M2"] = Constant(
                float((gbar0 + L * r) ** 2),
                "certified",
                f"on the ball ||x - {cname}|| <= {r}: ||grad f(x)|| <= ||grad f({cname})|| + L r "
                "(SAEF Assumption 3, eq. 12; exact when the centre is x*)",
            )
        return out


class LeastSquares(FiniteSum, Quadratic):
    """``f_i(x) = s/2 ||A_i x - b_i||^2``; ``A`` (n, m, d), ``b`` (n, m); ``scale`` "mean" or "sum".

    Adds the minibatch oracle. Its constants (``minibatch_constants``):

    * ``ell`` (AsyncBC Assumption 5), exact: with ``u = x - y`` and ``C_j = w a_j a_j^T``,
      ``g(x, xi) - g(y, xi) = 1/B sum_b C_{j_b} u`` with i.i.d. uniform ``j_b``, so
      ``E||.||^2 = ||H_i u||^2 + Var_j(C_j u)/B = u^T [(1 - 1/B) H_i^2 + S_i / B] u`` with
      ``S_i = 1/m sum_j C_j^2 = 1/m sum_j w^2 ||a_j||^2 a_j a_j^T``; hence
      ``ell^2 = max_i lambda_max((1 - 1/B) H_i^2 + S_i/B)``.
    * ``sigma2`` (QAFeL 3.2 / FedPAQ 3 / SAEF 2): the variance at ``x`` is
      ``Var_j(C_j x - w a_j b_j)/B``, a quadratic in ``x``, unbounded unless every ``C_j = H_i``.
      Over the ball ``||x - x*|| <= radius``, Minkowski's inequality in ``L^2(j)`` gives
      ``sqrt(Var(x)) <= radius sqrt(lambda_max(S_i - H_i^2)) + sqrt(Var(x*))``: certified.
    """

    def __init__(
        self,
        A: object,
        b: object,
        *,
        scale: str = "mean",
        radius: float | None = None,
        oracle: Oracle | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> None:
        Aa = _params.sample_array("A", A)
        n, m, d = Aa.shape
        ba = _params.array("b", b, (n, m))
        self.scale_mode = _params.choice("scale", scale, ("mean", "sum"))
        s = 1.0 / m if scale == "mean" else 1.0
        Ar = _params.rounded(Aa, _params.dtype(dtype))
        br = _params.rounded(ba, dtype)
        H = s * np.einsum("nmi,nmj->nij", Ar, Ar)
        c = s * np.einsum("nmi,nm->ni", Ar, br)
        e = 0.5 * s * np.sum(br**2, axis=1)
        super().__init__(
            np.zeros((n, d, d)),
            np.zeros((n, d)),
            radius=radius,
            dtype=dtype,
            device=device,
            _build=False,
        )
        self._set_quadratic(H, c, e)
        self.m, self.s, self.w = m, s, s * m
        self.A_np, self.b_np = Ar, br
        self.A = torch.as_tensor(Ar, dtype=self.dtype, device=self.device)
        self.b = torch.as_tensor(br, dtype=self.dtype, device=self.device)
        self._finish(oracle or Exact())

    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        """Residual form ``s/2 ||A_i x - b_i||^2`` (no cancellation near the optimum)."""
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        r = _ax(self.A, x, cl) - self.b[cl]
        return 0.5 * self.s * r.pow(2).sum(-1)

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        r = _ax(self.A, x, cl) - self.b[cl]
        return self.s * _atr(self.A, r, cl)

    def _f_np(self, x: np.ndarray) -> float:
        r = self.A_np @ x - self.b_np
        return float(np.mean(0.5 * self.s * np.sum(r**2, axis=1)))

    def _grads_np(self, x: np.ndarray) -> np.ndarray:
        r = self.A_np @ x - self.b_np
        return self.s * np.einsum("nmd,nm->nd", self.A_np, r)

    # --- finite-sum hooks ----------------------------------------------------------------------
    def sample_grads(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """Per-sample gradients ``w a_j (a_j^T x - b_j)`` for ``idx`` (R, s, B) -> (R, s, B, d);
        ``clients`` shared (s,) or per replica (R, s)."""
        cl = clients.unsqueeze(-1)
        a = self.A[cl, idx]  # (R, s, B, d)
        r = torch.einsum("rsbd,rsd->rsb", a, x) - self.b[cl, idx]
        return self.w * a * r.unsqueeze(-1)

    def per_sample_grads_np(self, x: np.ndarray) -> np.ndarray:
        """All per-sample gradients at one point ``x`` (d,) -> (n, m, d), float64."""
        r = self.A_np @ x - self.b_np
        return self.w * self.A_np * r[..., None]

    def minibatch_constants(self, batch_size: int) -> dict[str, Constant]:
        B = batch_size
        A, w, H = self.A_np, self.w, self.H_np
        sq = np.sum(A**2, axis=2)  # (n, m)
        S = np.einsum("nmi,nm,nmj->nij", A, w**2 * sq, A) / self.m
        H2 = H @ H
        ell2 = float(np.max(_params.lmax((1 - 1 / B) * H2 + S / B)))
        out = {
            "ell": Constant(
                math.sqrt(max(ell2, 0.0)),
                "exact",
                f"sqrt(max_i lambda_max((1 - 1/B) H_i^2 + S_i/B)), B = {B}, "
                "S_i = 1/m sum_j w^2 ||a_ij||^2 a_ij a_ij^T (see LeastSquares docstring)",
            )
        }
        spread = np.maximum(_params.lmax(S - H2), 0.0)  # lambda_max(Var_j C_j), per client
        if np.all(spread <= 1e-12 * max(float(np.max(_params.lmax(S))), 1e-300)):
            v = self.minibatch_variance(np.zeros(self.d), B)
            out["sigma2"] = Constant(
                float(v.max()),
                "exact",
                "every per-sample Hessian equals H_i, so the minibatch variance is the same at "
                f"every x: max_i Var_j(w a_ij b_ij) / B with B = {B}",
            )
        elif self.radius is not None and self.x_star_np is not None:
            r = self.radius
            vstar = self.minibatch_variance(self.x_star_np, B)
            bound = (r * np.sqrt(spread) + np.sqrt(vstar * B)) ** 2 / B
            out["sigma2"] = Constant(
                float(bound.max()),
                "certified",
                f"on the ball ||x - x*|| <= {r}: sqrt(B Var(x)) <= r sqrt(lambda_max(S_i - H_i^2)) "
                "+ sqrt(B Var(x*)) by Minkowski's inequality (see LeastSquares docstring)",
            )
        else:
            out["sigma2"] = Constant(
                math.inf,
                "exact",
                "per-sample Hessians differ, so the minibatch variance grows like ||x||^2 and is "
                "unbounded on R^d; pass radius= for a ball around x*",
            )
        out["sigma2_star"] = Constant(
            float(self.minibatch_variance(self.x_star_np, B).max())
            if self.x_star_np is not None
            else math.nan,
            "exact",
            "max_i minibatch variance at x*",
        )
        if self.x_star_np is None:
            del out["sigma2_star"]
        return out
