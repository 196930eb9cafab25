"""Quadratic families: general quadratics, heterogeneous least squares, linear toys.

``f_i(x) = 1/2 x^T H_i x - c_i^T x + e_i`` with symmetric ``H_i`` (positive semidefinite unless
``allow_indefinite=True``: AsyncBC Assumptions 1-2, FedPAQ Theorem 2 and QAFeL allow non-convex
local functions). The Hessians are stored by structure (:mod:`boundcheck.problems.structure`:
diagonal, scaled identity, low rank plus diagonal, dense), and every constant is *exact* -- closed
form, or eigenvalues of explicit matrices in float64 rounded outward -- computed from the data as
stored (rounded to the problem's dtype first). Full-objective quantities (``f``, ``grad f``) go
through the precomputed mean ``Hbar``, ``cbar``, never a loop over clients.

Least squares ``f_i(x) = s/2 ||A_i x - b_i||^2`` is the special case ``H_i = s A_i^T A_i``,
``c_i = s A_i^T b_i``, ``e_i = s/2 ||b_i||^2`` with ``s = 1/m`` (``scale="mean"``: the mean of the
``m`` per-sample losses ``1/2 (a_ij^T x - b_ij)^2``) or ``s = 1`` (``scale="sum"``: the papers'
``1/2 ||A_i x - b_i||^2``). Its per-sample structure (``f_i = 1/m sum_j l_ij`` with
``l_ij(x) = w/2 (a_ij^T x - b_ij)^2``, ``w = s m``) gives the minibatch oracle. With diagonal
``A_i = diag(a_i)`` (:class:`DiagonalLeastSquares`) the samples are the rows ``a_ij e_j``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from boundcheck.errors import ParameterError
from boundcheck.problems import _params
from boundcheck.problems.base import Constant
from boundcheck.problems.oracles import Exact, FiniteSum, Oracle, SyntheticProblem
from boundcheck.problems.structure import (
    EPS,
    ClientFactors,
    Dense,
    Diagonal,
    Hessians,
    LowRank,
    spectral_norm,
)


class Quadratic(SyntheticProblem):
    """``f_i(x) = 1/2 x^T H_i x - c_i^T x + e_i``; ``c`` (n, d), ``e`` (n,).

    ``H``: a dense ``(n, d, d)`` array of symmetric matrices, or a
    :class:`~boundcheck.problems.structure.Hessians` (``Diagonal``, ``LowRank``, ``Dense``).
    ``allow_indefinite``: accept indefinite ``H_i`` (non-convex local functions); otherwise every
    ``H_i`` must be positive semidefinite. ``radius``: if given, ``G`` and ``M2`` (unbounded on
    ``R^d`` unless ``H_i = 0``) are certified over the ball ``||x - x_c|| <= radius`` with centre
    ``x_c = x_star`` (or 0 where f has no minimiser).
    """

    def __init__(
        self,
        H: object,
        c: object,
        e: object | None = None,
        *,
        radius: float | None = None,
        oracle: Oracle | None = None,
        allow_indefinite: bool = False,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
        _build: bool = True,
    ) -> None:
        dt = _params.dtype(dtype)
        if isinstance(H, Hessians):
            hess = H
        else:
            Ha = _params.array("H", H, (None, None, None))
            if Ha.shape[2] != Ha.shape[1]:
                raise ParameterError(f"H has shape {Ha.shape}; it must be (n, d, d)")
            hess = _dense(Ha, dt)
        n, d = hess.n, hess.d
        super().__init__(n, d, dt, device)
        ca = _params.array("c", c, (n, d))
        ea = np.zeros(n) if e is None else _params.array("e", e, (n,))
        self.radius = None if radius is None else _params.nonneg("radius", radius)
        self.allow_indefinite = bool(allow_indefinite)
        self._set_quadratic(hess, ca, ea)
        if _build:
            self._finish(oracle or Exact())

    # --- data ------------------------------------------------------------------------------
    def _set_quadratic(self, hess: Hessians, c: np.ndarray, e: np.ndarray) -> None:
        self.hess = hess
        lo, hi = hess.client_bounds()
        if not self.allow_indefinite:
            scale = 1.0 + float(np.max(spectral_norm(lo, hi)))
            if np.any(lo < -1e-10 * scale):
                i = int(np.argmin(lo))
                raise ParameterError(
                    f"H_{i} has eigenvalue {lo[i]:.3g} < 0; each H_i must be positive "
                    "semidefinite (pass allow_indefinite=True for non-convex local functions)"
                )
        self.c_np = _params.rounded(c, self.dtype)
        self.e_np = _params.rounded(e, self.dtype)
        self.cbar_np = self.c_np.mean(axis=0)
        kw = {"dtype": self.dtype, "device": self.device}
        hess.to_torch(self.dtype, self.device)
        self.c = torch.as_tensor(self.c_np, **kw)
        self.e = torch.as_tensor(self.e_np, **kw)
        self.cbar = torch.as_tensor(self.cbar_np, **kw)
        self.ebar = float(self.e_np.mean())

    @property
    def H_np(self) -> np.ndarray:
        """The Hessians as a dense ``(n, d, d)`` float64 array (materialised on demand: tests and
        small problems; the problem itself never stores it unless it is genuinely dense)."""
        return self.hess.dense_np()

    # --- the contract ------------------------------------------------------------------------
    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        Hx = self.hess.matvec(x, cl)
        return 0.5 * (x * Hx).sum(-1) - (x * self.c[cl]).sum(-1) + self.e[cl]

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        return self.hess.matvec(x, cl) - self.c[cl]

    def f(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x)`` through the mean: ``f* + 1/2 (x - x*)^T Hbar (x - x*)`` where the minimiser is
        solved exactly (no cancellation near the optimum), else ``1/2 x^T Hbar x - cbar^T x + ebar``."""
        self._check_global(x)
        x = x.to(self.dtype)
        if self.x_star is not None and self.constants["f_star"].provenance == "exact":
            return self.suboptimality(x) + self.constants["f_star"].value
        return 0.5 * (x * self.hess.mean_matvec(x)).sum(-1) - x @ self.cbar + self.ebar

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """``grad f(x) = Hbar x - cbar`` through the precomputed mean: ``(R, d) -> (R, d)``."""
        self._check_global(x)
        return self.hess.mean_matvec(x.to(self.dtype)) - self.cbar

    def suboptimality(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x) - f*`` as ``1/2 (x - x*)^T Hbar (x - x*)`` (no cancellation), ``x`` (R, d) -> (R,)."""
        self._check_global(x)
        if self.x_star is None:
            raise ParameterError(
                f"{type(self).__name__} has no minimiser, so f(x) - f* is undefined"
            )
        u = x - self.x_star
        return 0.5 * (u * self.hess.mean_matvec(u)).sum(-1)

    # --- constants ----------------------------------------------------------------------------
    def _grads_np(self, x: np.ndarray) -> np.ndarray:
        """``grad f_i(x)`` for every client at one point ``x`` (d,) -> (n, d)."""
        return self.hess.apply_np(x) - self.c_np

    def _f_np(self, x: np.ndarray) -> float:
        Hx = self.hess.apply_np(x)
        return float(np.mean(0.5 * Hx @ x - self.c_np @ x + self.e_np))

    #: every f_i is a sum of squares (least squares), so 0 <= inf f
    sum_of_squares = False

    def _f_star_allowance(self, x: np.ndarray) -> float:
        """A bound on the float64 rounding of ``_f_np(x)``: ``(d + n + 8) eps`` times the
        magnitudes of its terms, ``|x|^T |H_i| |x| <= sqrt(d) ||H_i|| ||x||^2``."""
        x2 = float(x @ x)
        mag = (
            0.5 * math.sqrt(self.d) * self.L_clients * x2
            + np.abs(self.c_np) @ np.abs(x)
            + np.abs(self.e_np)
        )
        return float((self.d + self.n + 8) * EPS * np.mean(mag))

    def _f_star_lower(
        self, fstar: float, xs: np.ndarray, resid: float, mu: Constant | None
    ) -> Constant | None:
        """A certified lower bound of ``inf f`` (item 4 of the f* contract, issue 8).

        With ``mu > 0``: ``f(x*) - f* = 1/2 r^T Hbar^{-1} r <= ||r||^2 / (2 mu)`` for the solver's
        residual ``r = Hbar x* - cbar``, and ``f(x*)`` itself is known up to its float64 rounding.
        Without ``mu``: least squares are sums of squares, so ``0 <= inf f``; otherwise none
        (``f_star`` is then the only value, with its own provenance).
        """
        alw = self._f_star_allowance(xs)
        if mu is not None and mu.value > 0:
            return Constant(
                fstar - alw - resid**2 / (2 * mu.value),
                "certified",
                "f(x*) - ||Hbar x* - cbar||^2/(2 mu) (strong convexity) minus a bound on the float64 "
                "rounding of f(x*) ((d + n + 8) eps times its terms' magnitudes)",
            )
        if self.sum_of_squares:
            return Constant(
                0.0,
                "certified",
                "0 <= inf f: every f_i is a sum of squares",
            )
        return None

    def _deterministic_constants(self) -> dict[str, Constant]:
        hess, c = self.hess, self.c_np
        d = self.d
        cbar = self.cbar_np
        lo_bar, hi_bar = hess.mean_bounds()  # rounded outward: L up, mu down
        L = float(spectral_norm(lo_bar, hi_bar))
        lo_i, hi_i = hess.client_bounds()
        self.L_clients = np.asarray(spectral_norm(lo_i, hi_i), dtype=np.float64)
        Li = float(self.L_clients.max())
        scaleH = max(Li, 1.0)
        prov = hess.provenance
        norm = "||.||_2 = max(lambda_max, -lambda_min)"
        out: dict[str, Constant] = {
            "L": Constant(L, prov, f"{norm} of Hbar = 1/n sum_i H_i ({hess.kind}; {hess.how})"),
            "L_i": Constant(Li, prov, f"max_i {norm} of H_i ({hess.kind}; {hess.how})"),
            "delta_H": Constant(
                float(np.max(hess.deviation_norms())),
                prov,
                "AsyncBC Assumption 2 (read with <=): grad f - grad f_i is linear with matrix "
                "Hbar - H_i, so delta = max_i ||Hbar - H_i||_2 (attained: no smaller delta works; "
                f"{hess.how})",
            ),
            "lambda_min": Constant(
                lo_bar, prov, f"smallest eigenvalue of Hbar, rounded down ({hess.how})"
            ),
        }
        if lo_bar > 1e-12 * scaleH:
            out["mu"] = Constant(
                lo_bar, prov, f"smallest eigenvalue of Hbar, rounded down ({hess.how})"
            )
        indefinite_mean = lo_bar < -1e-10 * (1.0 + L)
        # minimiser
        if indefinite_mean:
            xs, resid = np.zeros(d), math.inf
        else:
            xs = hess.solve_mean(cbar)
            resid = float(np.linalg.norm(hess.mean_apply_np(xs) - cbar))
        # solved to a small backward error, or bounded below anyway (mu > 0: x* exists)
        tol = 1e-9 * (1.0 + float(np.linalg.norm(cbar)) + L * float(np.linalg.norm(xs)))
        if not indefinite_mean and (resid <= tol or "mu" in out):
            self._x_star = torch.as_tensor(xs, dtype=self.dtype, device=self.device)
            self.x_star_np = xs
            fstar = self._f_np(xs)
            out["f_star"] = Constant(
                fstar,
                "exact" if resid <= tol else "certified",
                "f(x*) with x* solving Hbar x* = cbar (least squares, float64; "
                f"residual ||Hbar x* - cbar|| = {resid:.2e})"
                + ("" if resid <= tol else "; an upper bound of inf f (ill-conditioned solve)"),
            )
            lower = self._f_star_lower(fstar, xs, resid, out.get("mu"))
            if lower is not None:
                out["f_star_lower"] = lower
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
            why = (
                f"Hbar has a negative eigenvalue (<= {lo_bar + 2e-10 * (1 + L):.3g}): f is "
                "unbounded below along its eigenvector"
                if indefinite_mean
                else f"cbar is not in the range of Hbar (residual {resid:.2e}): f is unbounded below"
            )
            out["f_star"] = Constant(-math.inf, "exact", why)
            out["f_star_lower"] = Constant(-math.inf, "exact", why)
            centre, cname = np.zeros(d), "0"
        same_H = hess.identical()
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


def _dense(H: np.ndarray, dt: torch.dtype) -> Dense:
    """Dense Hessians rounded to ``dt`` and symmetrised (a non-symmetric ``H_i`` is refused)."""
    H = _params.rounded(H, dt)
    if not np.allclose(H, np.swapaxes(H, 1, 2), rtol=0, atol=1e-12 * (1 + np.abs(H).max())):
        raise ParameterError("H holds a non-symmetric H_i; each H_i must be symmetric")
    return Dense(0.5 * (H + np.swapaxes(H, 1, 2)))


def diagonal_quadratic(
    h: object,
    c: object,
    e: object | None = None,
    *,
    radius: float | None = None,
    oracle: Oracle | None = None,
    allow_indefinite: bool = False,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Quadratic:
    """``f_i(x) = 1/2 x^T diag(h_i) x - c_i^T x + e_i`` stored as diagonals: ``h`` (n, d), or
    (n, 1) for scaled identities ``h_i I``; constants in closed form."""
    ca = _params.array("c", c, (None, None))
    n, d = ca.shape
    ha = _params.array("h", h, (n, None))
    if ha.shape[1] not in (1, d):
        raise ParameterError(f"h has shape {ha.shape}; it must be ({n}, {d}) or ({n}, 1)")
    hess = Diagonal(_params.rounded(ha, _params.dtype(dtype)), d)
    return Quadratic(
        hess,
        ca,
        e,
        radius=radius,
        oracle=oracle,
        allow_indefinite=allow_indefinite,
        dtype=dtype,
        device=device,
    )


class LeastSquares(FiniteSum, Quadratic):
    """``f_i(x) = s/2 ||A_i x - b_i||^2``; ``A`` (n, m, d), ``b`` (n, m); ``scale`` "mean" or "sum".

    Storage: the factors ``A_i`` always (residual form of ``f_i``, per-sample gradients); the
    Hessians as :class:`~boundcheck.problems.structure.LowRank` factors when ``m < d`` (a gradient
    costs ``2 m d``, the client's spectrum comes from an ``m x m`` factor) and densely otherwise.

    Adds the minibatch oracle. Its constants (``minibatch_constants``):

    * ``ell`` (AsyncBC Assumption 5), exact: with ``u = x - y`` and ``C_j = w a_j a_j^T``,
      ``g(x, xi) - g(y, xi) = 1/B sum_b C_{j_b} u`` with i.i.d. uniform ``j_b``, so
      ``E||.||^2 = ||H_i u||^2 + Var_j(C_j u)/B = u^T [(1 - 1/B) H_i^2 + S_i / B] u`` with
      ``S_i = 1/m sum_j C_j^2 = 1/m sum_j w^2 ||a_j||^2 a_j a_j^T``; hence
      ``ell^2 = max_i lambda_max((1 - 1/B) H_i^2 + S_i/B)``. With ``A_i^T = Q_i R_i`` both matrices
      are ``Q_i (.) Q_i^T`` of ``m x m`` ones: ``H_i = s Q R R^T Q^T``, ``S_i = Q R W R^T Q^T``
      with ``W = diag(w^2 ||a_j||^2 / m)``.
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
        dt = _params.dtype(dtype)
        s = 1.0 / m if scale == "mean" else 1.0
        Ar = _params.rounded(Aa, dt)
        br = _params.rounded(ba, dt)
        if m < d:
            hess: Hessians = LowRank(Ar, s)
        else:
            hess = Dense(s * np.einsum("nmi,nmj->nij", Ar, Ar))
        c = s * np.einsum("nmi,nm->ni", Ar, br)
        e = 0.5 * s * np.sum(br**2, axis=1)
        self.m, self.s, self.w = m, s, s * m
        self.A_np, self.b_np = Ar, br
        Quadratic.__init__(self, hess, c, e, radius=radius, dtype=dt, device=device, _build=False)
        self.A = torch.as_tensor(Ar, dtype=self.dtype, device=self.device)
        self.b = torch.as_tensor(br, dtype=self.dtype, device=self.device)
        self._all = self.all_clients()
        self.products = ClientFactors(self.A, self.b)
        self._finish(oracle or Exact())

    sum_of_squares = True

    def _residual(self, x: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
        return self.products.ax(x, cl).sub_(self.b[cl])

    def _link(self, z: torch.Tensor, b: torch.Tensor) -> None:
        """``z <- s (z - b)`` in place: the residual, scaled (``grad f_i = A_i^T s (A_i x - b_i)``)."""
        z.sub_(b).mul_(self.s)

    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        """Residual form ``s/2 ||A_i x - b_i||^2`` (no cancellation near the optimum)."""
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        return 0.5 * self.s * self._residual(x, cl).pow(2).sum(-1)

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        if isinstance(self.hess, Dense):  # m >= d: one d x d product is the cheaper one
            return self.hess.matvec(x, cl) - self.c[cl]
        return self.products.chain(x, cl, self._link)

    def _f_np(self, x: np.ndarray) -> float:
        r = self.A_np @ x - self.b_np
        return float(np.mean(0.5 * self.s * np.sum(r**2, axis=1)))

    def _f_star_allowance(self, x: np.ndarray) -> float:
        """Residual form: each squared residual sum carries ``(d + m + 4) eps`` relative error in
        the magnitudes ``(|A| |x| + |b|)^2``."""
        mag = (np.abs(self.A_np) @ np.abs(x) + np.abs(self.b_np)) ** 2
        return float((self.d + self.m + self.n + 8) * EPS * 0.5 * self.s * mag.sum(axis=1).mean())

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

    def minibatch_grad(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """The mean of the ``B`` per-sample gradients, without forming them: ``(R, s, d)``."""
        cl = clients.unsqueeze(-1)
        a = self.A[cl, idx]  # (R, s, B, d): B rows per slot, the data the gradient reads
        r = torch.einsum("rsbd,rsd->rsb", a, x) - self.b[cl, idx]
        return (self.w / idx.shape[-1]) * torch.einsum("rsbd,rsb->rsd", a, r)

    def per_sample_grads_np(self, x: np.ndarray) -> np.ndarray:
        """All per-sample gradients at one point ``x`` (d,) -> (n, m, d), float64."""
        r = self.A_np @ x - self.b_np
        return self.w * self.A_np * r[..., None]

    def _ms_spectra(self, B: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per client: ``lambda_max((1 - 1/B) H_i^2 + S_i/B)`` and ``lambda_max(S_i - H_i^2)``
        (rounded up) and ``lambda_max(S_i)``; see the class docstring."""
        A, w, s, m = self.A_np, self.w, self.s, self.m
        sq = np.sum(A**2, axis=2)  # (n, m)
        if isinstance(self.hess, LowRank):
            Rf = self.hess.factors()  # (n, k', m) with A_i^T = Q_i R_i
            Wd = (w**2 * sq / m)[:, None, :]
            S = (Rf * Wd) @ np.swapaxes(Rf, 1, 2)
            G = s * Rf @ np.swapaxes(Rf, 1, 2)  # H_i in the basis Q_i
            H2 = G @ G
            # QR is backward stable (R_i exact for A_i + E_i, ||E_i|| <= c m d eps ||A_i||):
            # a relative allowance of 32 m d eps covers the products of up to four factors
            rel = 32 * m * self.d * EPS
        else:
            S = np.einsum("nmi,nm,nmj->nij", A, w**2 * sq, A) / m
            H = self.hess.H_np
            H2 = H @ H
            rel = 0.0
        ell2 = _params.lmax((1 - 1 / B) * H2 + S / B)
        Smax, H2max = _params.lmax(S), _params.lmax(H2)
        allow = rel * (np.abs(Smax) + np.abs(H2max))
        spread = np.maximum(_params.lmax(S - H2) + allow, 0.0)
        return ell2 + allow, spread, Smax + allow

    def minibatch_constants(self, batch_size: int) -> dict[str, Constant]:
        B = batch_size
        ell2_i, spread, Smax = self._ms_spectra(B)
        ell2 = float(np.max(ell2_i))
        out = {
            "ell": Constant(
                math.sqrt(max(ell2, 0.0)),
                "exact",
                f"sqrt(max_i lambda_max((1 - 1/B) H_i^2 + S_i/B)), B = {B}, "
                "S_i = 1/m sum_j w^2 ||a_ij||^2 a_ij a_ij^T (see LeastSquares docstring)",
            )
        }
        return out | self._sigma2_constants(B, spread, Smax)

    def _sigma2_constants(
        self, B: int, spread: np.ndarray, Smax: np.ndarray
    ) -> dict[str, Constant]:
        out: dict[str, Constant] = {}
        if np.all(spread <= 1e-12 * max(float(np.max(Smax)), 1e-300)):
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
        if self.x_star_np is not None:
            out["sigma2_star"] = Constant(
                float(self.minibatch_variance(self.x_star_np, B).max()),
                "exact",
                "max_i minibatch variance at x*",
            )
        return out


class DiagonalLeastSquares(FiniteSum, Quadratic):
    """``f_i(x) = s/2 ||a_i * x - b_i||^2`` with diagonal ``A_i = diag(a_i)``; ``a`` (n, d) or
    (n, 1) (scaled identity ``A_i = a_i I``), ``b`` (n, d); ``scale`` "mean" (``s = 1/d``) or "sum".

    The ``m = d`` samples of client ``i`` are the rows ``a_ij e_j`` (AsyncBC Section 5: the
    minibatch oracle samples coordinates). Everything is in closed form: ``H_i = s diag(a_i^2)``;
    the per-sample gradient is ``g_j = w a_ij (a_ij x_j - b_ij) e_j = s m q_j e_j`` with
    ``q = a_i * (a_i * x - b_i)`` (``grad f_i = s q``, ``w = s m``), so

    * the minibatch variance is ``Var(x) = s^2 (m - 1) ||q||^2 / B`` (exact);
    * ``S_i = 1/m sum_j C_j^2 = diag(s^2 m a_i^4)``, hence
      ``ell^2 = max_ij s^2 a_ij^4 (1 - 1/B + m/B)`` and
      ``lambda_max(S_i - H_i^2) = max_j s^2 (m - 1) a_ij^4``.
    """

    def __init__(
        self,
        a: object,
        b: object,
        *,
        scale: str = "sum",
        radius: float | None = None,
        oracle: Oracle | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> None:
        ba = _params.array("b", b, (None, None))
        n, d = ba.shape
        aa = _params.array("a", a, (n, None))
        if aa.shape[1] not in (1, d):
            raise ParameterError(f"a has shape {aa.shape}; it must be ({n}, {d}) or ({n}, 1)")
        self.scale_mode = _params.choice("scale", scale, ("mean", "sum"))
        dt = _params.dtype(dtype)
        s = 1.0 / d if scale == "mean" else 1.0
        ar, br = _params.rounded(aa, dt), _params.rounded(ba, dt)
        self.m, self.s, self.w = d, s, s * d
        self.a_np, self.b_np = ar, br
        hess = Diagonal(s * ar**2, d)
        c = s * ar * br
        e = 0.5 * s * np.sum(br**2, axis=1)
        Quadratic.__init__(self, hess, c, e, radius=radius, dtype=dt, device=device, _build=False)
        kw = {"dtype": self.dtype, "device": self.device}
        self.a = torch.as_tensor(ar, **kw)
        self.b = torch.as_tensor(br, **kw)
        self._finish(oracle or Exact())

    sum_of_squares = True

    @property
    def A_np(self) -> np.ndarray:
        """The ``A_i`` as dense ``(n, d, d)`` (materialised on demand, for tests)."""
        out = np.zeros((self.n, self.d, self.d))
        i = np.arange(self.d)
        out[:, i, i] = np.broadcast_to(self.a_np, (self.n, self.d))
        return out

    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        """Residual form ``s/2 ||a_i * x - b_i||^2``."""
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        return 0.5 * self.s * (self.a[cl] * x - self.b[cl]).pow(2).sum(-1)

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        a = self.a[cl]
        return self.s * a * (a * x - self.b[cl])

    def _f_np(self, x: np.ndarray) -> float:
        r = self.a_np * x - self.b_np
        return float(np.mean(0.5 * self.s * np.sum(r**2, axis=1)))

    def _f_star_allowance(self, x: np.ndarray) -> float:
        mag = (np.abs(self.a_np) * np.abs(x) + np.abs(self.b_np)) ** 2
        return float((self.d + self.n + 8) * EPS * 0.5 * self.s * mag.sum(axis=1).mean())

    def _q_np(self, x: np.ndarray) -> np.ndarray:
        return self.a_np * (self.a_np * x - self.b_np)

    def _grads_np(self, x: np.ndarray) -> np.ndarray:
        return self.s * self._q_np(x)

    # --- finite-sum hooks ----------------------------------------------------------------------
    def _sample_values(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """``w a_ij (a_ij x_j - b_ij)`` at the sampled coordinates ``j = idx`` (R, s, B)."""
        cl = clients.unsqueeze(-1)
        a = self.a[cl, idx] if self.a.shape[1] > 1 else self.a[cl, 0]
        xj = torch.gather(x, 2, idx)
        return self.w * a * (a * xj - self.b[cl, idx])

    def sample_grads(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """Per-sample gradients (each a multiple of ``e_j``) for ``idx`` (R, s, B) -> (R, s, B, d)."""
        v = self._sample_values(x, clients, idx)
        R, s, B = idx.shape
        out = torch.zeros(R, s, B, self.d, dtype=x.dtype, device=x.device)
        return out.scatter_(3, idx.unsqueeze(-1), v.unsqueeze(-1))

    def minibatch_grad(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """The minibatch mean by one scatter-add: ``(R, s, d)``."""
        v = self._sample_values(x, clients, idx) / idx.shape[-1]
        out = torch.zeros_like(x)
        return out.scatter_add_(2, idx, v)

    def per_sample_grads_np(self, x: np.ndarray) -> np.ndarray:
        """All per-sample gradients at one point ``x`` (d,) -> (n, d, d), float64 (tests)."""
        q = self._q_np(x)
        out = np.zeros((self.n, self.d, self.d))
        i = np.arange(self.d)
        out[:, i, i] = self.s * self.m * q
        return out

    def minibatch_variance(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        """``s^2 (m - 1) ||q||^2 / B`` per client (class docstring), ``(n,)``."""
        q = self._q_np(np.asarray(x, dtype=np.float64))
        return self.s**2 * (self.m - 1) * np.sum(q**2, axis=1) / batch_size

    def minibatch_constants(self, batch_size: int) -> dict[str, Constant]:
        B, s, m = batch_size, self.s, self.m
        a4 = np.max(self.a_np**4, axis=1)  # (n,)
        ell2 = float(np.max(a4)) * s**2 * ((1 - 1 / B) + m / B)
        spread = s**2 * (m - 1) * a4 * (1 + 8 * EPS)
        Smax = s**2 * m * a4 * (1 + 8 * EPS)
        out = {
            "ell": Constant(
                math.sqrt(ell2) * (1 + 8 * EPS),
                "exact",
                f"closed form: sqrt(max_ij s^2 a_ij^4 (1 - 1/B + m/B)), B = {B}, m = d = {m} "
                "(DiagonalLeastSquares docstring), rounded up by 8 eps",
            )
        }
        return out | self._sigma2_constants(B, spread, Smax)

    _sigma2_constants = LeastSquares._sigma2_constants
