"""Regularised logistic regression with Dirichlet label skew (AsyncBC Section 5 / Appendix D.2).

Client ``i`` holds ``m`` samples ``(a_ij, y_ij)``, ``y_ij in {-1, +1}``, and
``f_i(x) = 1/m sum_j l(x; a_ij, y_ij)`` with the per-sample loss of AsyncBC Section 5 plus an L2 term:

    l(x; a, y) = log(1 + exp(-y a^T x)) + lam/2 ||x||^2 + rho sum_k x_k^2 / (1 + x_k^2).

AsyncBC uses ``lam = 0``, ``rho = 0.05`` (the nonconvex regulariser of Zhao et al. 2022) on Fashion
MNIST; here the data are synthetic (two Gaussian classes ``a = y sep u + N(0, I_d/d)``), and each
client's label distribution is ``q_i ~ Dir(alpha p)`` with the uniform prior ``p = (1/2, 1/2)``
(Hsu et al. 2019, as AsyncBC cites; *reading*: concentration ``alpha p``, so ``Dir(alpha/2, alpha/2)``).

Certified constants, with ``r(t) = t^2/(1+t^2)``, ``r'' in [-1/2, 2]`` (``r''(t) = (2 - 6t^2)/(1+t^2)^3``,
minimum ``-1/2`` at ``t^2 = 1``, maximum 2 at 0), ``|r'| <= 3 sqrt(3)/8`` (at ``t^2 = 1/3``), and the
logistic curvature ``sigma'(.) in (0, 1/4]``, so ``0 < nabla^2 log(1+exp(-y a^T x)) <= a a^T / 4``:

* ``L_i = lambda_max(A_i^T A_i)/(4m) + lam + 2 rho``; ``L = lambda_max(1/n sum_i A_i^T A_i/m)/4 + lam
  + 2 rho``: the Hessian lies between ``(lam - rho/2) I`` and these bounds, whose norm dominates.
* ``mu = lam - rho/2`` where positive (a lower bound on every Hessian eigenvalue).
* ``delta_H`` (AsyncBC Assumption 2): the regularisers cancel in ``f - f_i``; with the PSD
  ``P_i = 1/n sum_{k != i} nabla^2 g_k`` and ``Q_i = (1 - 1/n) nabla^2 g_i`` (``g_k`` the logistic
  parts), ``-Q_i <= P_i - Q_i <= P_i`` gives ``||nabla^2 (f - f_i)|| <= max(||P_i||, ||Q_i||)``, and
  the mean value theorem turns this into Assumption 2.
* gradients: ``||grad g_i(x)|| = ||A_i^T s||/m`` with ``|s_j| < 1``, so
  ``<= c_i = min(sqrt(lambda_max(A_i^T A_i/m)), 1/m sum_j ||a_ij||)``; the regulariser adds at most
  ``rho 3 sqrt(3)/8 sqrt(d)`` and the L2 term ``lam ||x||``. Hence ``G`` (QAFeL 3.3), ``M2`` (SAEF
  Assumption 3) are global when ``lam = 0`` and certified over the ball ``||x - xhat|| <= radius``
  otherwise; ``zeta2 = max_i ((1 - 1/n) c_i + 1/n sum_{k != i} c_k)^2`` holds globally.
* ``f_star`` = ``f(xhat)`` at the solver's point: a certified *upper* bound of ``inf f``;
  ``f_star_lower`` = ``f(xhat) - ||grad f(xhat)||^2/(2 mu)`` when ``mu > 0`` (strong convexity),
  else 0 (every term is ``>= 0``). The residual gradient norm is ``grad_norm_at_solution``.
* minibatch oracle (B indices uniform with replacement): ``sigma2 = max_i 1/m sum_j ||a_ij||^2 / B``
  (the per-sample gradients differ only in ``s_j a_j`` with ``|s_j| < 1``, and a variance is at most
  the second moment); ``ell^2 = max_i 1/m sum_j (||a_ij||^2/4 + lam + 2 rho)^2`` (Jensen over the
  batch, then each per-sample gradient is Lipschitz with that constant).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from boundcheck.errors import ParameterError
from boundcheck.problems import _params
from boundcheck.problems.base import Constant
from boundcheck.problems.oracles import Exact, FiniteSum, Oracle, make_oracle
from boundcheck.problems.structure import ClientFactors, blocked

REG_SLOPE = 3.0 * math.sqrt(3.0) / 8.0  # max_t |d/dt t^2/(1+t^2)|


class Logistic(FiniteSum):
    """Logistic regression over clients' samples; see the module docstring for every constant."""

    def __init__(
        self,
        A: object,
        y: object,
        *,
        lam: float = 0.0,
        rho: float = 0.0,
        radius: float | None = None,
        oracle: Oracle | None = None,
        dtype: torch.dtype = torch.float64,
        device: torch.device | str = "cpu",
    ) -> None:
        Aa = _params.sample_array("A", A)
        n, m, d = Aa.shape
        ya = _params.array("y", y, (n, m))
        if not np.all(np.abs(ya) == 1.0):
            raise ParameterError("y holds a label other than -1 or +1; labels must be -1 or +1")
        super().__init__(n, d, dtype, device)
        self.lam = _params.nonneg("lam", lam)
        self.rho = _params.nonneg("rho", rho)
        self.radius = None if radius is None else _params.nonneg("radius", radius)
        self.m = m
        self._m = float(m)  # a float divisor: no integer scalar tensor converted per call
        self.A_np = _params.rounded(Aa, self.dtype)
        self.y_np = ya
        kw = {"dtype": self.dtype, "device": self.device}
        self.A = torch.as_tensor(self.A_np, **kw)
        self.y = torch.as_tensor(self.y_np, **kw)
        self._all = self.all_clients()
        self.ny = -self.y  # the link uses -y twice; negation is exact
        self.products = ClientFactors(self.A, self.ny)
        # all samples stacked: f and grad f of the average in one product each
        self.Aflat = self.A.reshape(n * m, d)
        self.yflat = self.y.reshape(n * m)
        self.nyflat = self.ny.reshape(n * m)
        self._finish(oracle or Exact())

    # --- the contract ------------------------------------------------------------------------
    def _reg(self, x: torch.Tensor) -> torch.Tensor | float:
        """``lam/2 ||x||^2 + rho sum_k x_k^2/(1 + x_k^2)`` per row; zero terms skipped."""
        if not (self.lam or self.rho):
            return 0.0
        x2 = x * x
        out = 0.5 * self.lam * x2.sum(-1) if self.lam else 0.0
        if self.rho:
            out = out + self.rho * (x2 / (1 + x2)).sum(-1)
        return out

    def _reg_grad(self, x: torch.Tensor | np.ndarray) -> torch.Tensor | np.ndarray:
        """Gradient of the regulariser (torch on device, or float64 numpy on the host)."""
        return self.lam * x + self.rho * 2 * x / (1 + x * x) ** 2

    def _add_reg_grad(self, g: torch.Tensor, x: torch.Tensor) -> None:
        """``g += lam x + 2 rho x / (1 + x^2)^2`` in place, the same operations in the same order as
        :meth:`_reg_grad` (so the same numbers) with a zero ``lam`` or ``rho`` term skipped (adding
        ``0 * x`` changes no finite result)."""
        if self.rho:
            t = x * x
            t.add_(1).mul_(t)  # (1 + x^2)^2, as ``** 2`` computes it
            r = x * (self.rho * 2)
            r.div_(t)
            g.add_(torch.mul(x, self.lam).add_(r) if self.lam else r)
        elif self.lam:
            g.add_(torch.mul(x, self.lam))

    def _link(self, z: torch.Tensor, ny: torch.Tensor) -> None:
        """``z <- -y sigma(-y z) / m`` in place (the derivative of the mean loss in ``a^T x``)."""
        z.mul_(ny).sigmoid_().mul_(ny).div_(self._m)

    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        z = self.products.ax(x, cl).mul_(self.ny[cl])
        return torch.nn.functional.softplus(z).mean(-1) + self._reg(x)

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        post = self._add_reg_grad if self.lam or self.rho else None
        return self.products.chain(x, cl, self._link, post)

    def sample_grads(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """Per-sample gradients of ``l(x; a_ij, y_ij)`` for ``idx`` (R, s, B) -> (R, s, B, d);
        ``clients`` shared (s,) or per replica (R, s)."""
        cl = clients.unsqueeze(-1)
        a, y = self.A[cl, idx], self.y[cl, idx]
        z = torch.einsum("rsbd,rsd->rsb", a, x)
        s = -y * torch.sigmoid(-y * z)
        return a * s.unsqueeze(-1) + self._reg_grad(x).unsqueeze(2)

    def f(self, x: torch.Tensor) -> torch.Tensor:
        """``f(x)`` of the average over all ``n m`` samples in one product: ``(R, d) -> (R,)``."""
        self._check_global(x)
        x = x.to(self.dtype)
        z = (x @ self.Aflat.T).mul_(self.nyflat)
        return torch.nn.functional.softplus(z).mean(-1) + self._reg(x)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """``grad f(x)`` over all samples in two products: ``(R, d) -> (R, d)``."""
        self._check_global(x)
        x = x.to(self.dtype)
        ny = self.nyflat
        s = (x @ self.Aflat.T).mul_(ny).sigmoid_().mul_(ny)
        g = (s @ self.Aflat).div_(self.n * self.m)
        if self.lam or self.rho:
            blocked(self._add_reg_grad, g, x)
        return g

    # --- float64 host versions (solver, constants, tests) ----------------------------------------
    def f_np(self, x: np.ndarray) -> float:
        z = self.A_np @ x
        loss = np.mean(np.logaddexp(0.0, -self.y_np * z))
        return float(loss + 0.5 * self.lam * x @ x + self.rho * np.sum(x * x / (1 + x * x)))

    def per_sample_grads_np(self, x: np.ndarray) -> np.ndarray:
        """All per-sample gradients at ``x`` (d,) -> (n, m, d), float64."""
        z = self.A_np @ x
        s = -self.y_np * _sigmoid(-self.y_np * z)
        return self.A_np * s[..., None] + self._reg_grad(x)

    def grads_np(self, x: np.ndarray) -> np.ndarray:
        """``grad f_i(x)`` for every client at one point (d,) -> (n, d), float64."""
        z = self.A_np @ x
        s = -self.y_np * _sigmoid(-self.y_np * z)
        return np.einsum("nmd,nm->nd", self.A_np, s) / self.m + self._reg_grad(x)

    def hess_np(self, x: np.ndarray) -> np.ndarray:
        z = self.A_np @ x
        p = _sigmoid(z)
        wts = p * (1 - p)
        Af = self.A_np.reshape(self.n * self.m, self.d)
        H = (Af * wts.reshape(-1, 1)).T @ Af / (self.n * self.m)  # one BLAS product
        x2 = x * x
        return H + np.diag(self.lam + self.rho * (2 - 6 * x2) / (1 + x2) ** 3)

    def solve(self, tol: float = 1e-13, max_iter: int = 200) -> tuple[np.ndarray, float]:
        """Damped (regularised where indefinite) Newton in float64: ``(xhat, ||grad f(xhat)||)``.

        From 0 when ``d <= 200``; for larger ``d`` (a Newton step costs ``n m d^2``) from the point
        that L-BFGS (SciPy, ``O(n m d)`` per step) reaches, so Newton only polishes.
        """
        x = np.zeros(self.d)
        if self.d > 200:
            from scipy.optimize import minimize

            res = minimize(
                self.f_np,
                x,
                jac=lambda z: self.grads_np(z).mean(axis=0),
                method="L-BFGS-B",
                options={"gtol": tol, "ftol": 0.0, "maxiter": 20000, "maxcor": 20},
            )
            x = np.asarray(res.x, dtype=np.float64)
        g = self.grads_np(x).mean(axis=0)
        for _ in range(max_iter):
            gn = float(np.linalg.norm(g))
            if gn <= tol:
                break
            H = self.hess_np(x)
            try:  # positive definite (always when mu > 0): no eigensolve needed
                np.linalg.cholesky(H - 1e-10 * np.eye(self.d))
            except np.linalg.LinAlgError:
                lmin = float(np.linalg.eigvalsh(H)[0])
                H = H + (1e-10 - lmin + 1e-8 * (1 + abs(lmin))) * np.eye(self.d)
            p = -np.linalg.solve(H, g)
            fx, t, moved = self.f_np(x), 1.0, False
            for _ in range(60):
                xn = x + t * p
                if self.f_np(xn) <= fx + 1e-4 * t * float(g @ p):
                    moved = True
                    break
                t *= 0.5
            if not moved:  # at float64 resolution of f: accept a full step only if |grad| drops
                xn = x + p
                if np.linalg.norm(self.grads_np(xn).mean(axis=0)) >= gn:
                    break
            x = xn
            g = self.grads_np(x).mean(axis=0)
        return x, float(np.linalg.norm(g))

    # --- constants ----------------------------------------------------------------------------
    def _deterministic_constants(self) -> dict[str, Constant]:
        n, d, m, lam, rho = self.n, self.d, self.m, self.lam, self.rho
        A = self.A_np
        Af = A.reshape(n * m, d)
        # lambda_max(A_i^T A_i / m) through the smaller of the two Gram matrices
        G = A @ np.swapaxes(A, 1, 2) / m if m < d else np.swapaxes(A, 1, 2) @ A / m
        lam_i = np.maximum(_params.lmax(G), 0.0)
        if d <= n * m:
            lbar = max(float(_params.lmax(Af.T @ Af / (n * m))), 0.0)
        else:
            lbar = max(float(_params.lmax(Af @ Af.T / (n * m))), 0.0)
        self.L_clients = lam_i / 4 + lam + 2 * rho
        out: dict[str, Constant] = {
            "L": Constant(
                lbar / 4 + lam + 2 * rho,
                "certified",
                "lambda_max(1/n sum_i A_i^T A_i/m)/4 + lam + 2 rho: logistic curvature <= 1/4, "
                "regulariser curvature in [-rho/2, 2 rho]",
            ),
            "L_i": Constant(
                float(self.L_clients.max()),
                "certified",
                "max_i lambda_max(A_i^T A_i)/(4m) + lam + 2 rho",
            ),
        }
        if n * d**3 <= 2e9:  # eigensolves of P_i affordable: the sharper bound
            Abar = Af.T @ Af / (n * m)
            lam_o = np.array(
                [float(_params.lmax(Abar - A[i].T @ A[i] / (n * m))) for i in range(n)]
            )
            how_o = "P_i = 1/n sum_{k!=i} A_k^T A_k/(4m) by eigenvalues"
        else:  # P_i <= 1/n sum_k A_k^T A_k/(4m) in the Loewner order: lambda_max(P_i) <= lbar/4
            lam_o = np.full(n, lbar)
            how_o = "||P_i|| <= lambda_max(1/n sum_k A_k^T A_k)/(4m) (Loewner order, d large)"
        delta_i = np.maximum(np.maximum(lam_o, 0.0) / 4, (1 - 1 / n) * lam_i / 4)
        out["delta_H"] = Constant(
            float(delta_i.max()),
            "certified",
            "max_i max(||P_i||, ||Q_i||) with P_i = 1/n sum_{k!=i} A_k^T A_k/(4m), "
            f"Q_i = (1 - 1/n) A_i^T A_i/(4m) (AsyncBC Assumption 2, read with <=); {how_o}",
        )
        mu = lam - rho / 2
        if mu > 0:
            out["mu"] = Constant(
                mu, "certified", "lam - rho/2: lower bound on every Hessian eigenvalue"
            )
        # solve for f*
        xhat, gnorm = self.solve()
        self.x_hat = xhat
        self._x_star = (
            torch.as_tensor(xhat, dtype=self.dtype, device=self.device) if mu > 0 else None
        )
        fhat = self.f_np(xhat)
        out["grad_norm_at_solution"] = Constant(
            gnorm, "exact", "||grad f(xhat)|| at the Newton solution xhat (float64)"
        )
        out["f_star"] = Constant(
            fhat,
            "certified",
            f"f(xhat) >= inf f (an upper bound); Newton in float64 with ||grad f(xhat)|| = {gnorm:.2e}",
        )
        if mu > 0:
            # f(xhat) itself is known up to float64 rounding: the n m softplus terms (1-Lipschitz,
            # arguments a_j^T x with error <= d eps |a_j|^T |x|) and their mean
            zmax = float(np.max(np.abs(A) @ np.abs(xhat)))
            alw = (n * m + d + 8) * np.finfo(np.float64).eps * (abs(fhat) + zmax + 1.0)
            out["f_star_lower"] = Constant(
                fhat - gnorm**2 / (2 * mu) - alw,
                "certified",
                "f(xhat) - ||grad f(xhat)||^2/(2 mu) <= f* (strong convexity), minus a bound on the "
                "float64 rounding of f(xhat); a lower bound",
            )
            out["x_star_error"] = Constant(
                gnorm / mu, "certified", "||xhat - x*|| <= ||grad f(xhat)||/mu"
            )
        else:
            out["f_star_lower"] = Constant(
                0.0, "certified", "0 <= f* since every loss and regulariser term is >= 0"
            )
        # gradient bounds
        c_i = np.minimum(np.sqrt(lam_i), np.mean(np.linalg.norm(A, axis=2), axis=1))
        c_bar = min(math.sqrt(lbar), float(np.mean(c_i)))
        reg = rho * REG_SLOPE * math.sqrt(d)
        z = (1 - 1 / n) * c_i + (c_i.sum() - c_i) / n
        out["zeta2"] = Constant(
            float(np.max(z**2)),
            "certified",
            "sup over all x: grad f_i - grad f = (1 - 1/n) grad g_i - 1/n sum_{k!=i} grad g_k, "
            "||grad g_k|| <= c_k = min(sqrt(lambda_max(A_k^T A_k/m)), mean_j ||a_kj||)",
        )
        gi = self.grads_np(xhat)
        zhat = float(np.max(np.linalg.norm(gi - gi.mean(axis=0), axis=1)))
        if mu > 0:
            zc = zhat + out["delta_H"].value * gnorm / mu
            out["zeta2_star"] = Constant(
                zc**2,
                "certified",
                "(max_i ||grad f_i(xhat) - grad f(xhat)|| + delta_H ||xhat - x*||)^2 at the optimum",
            )
        else:
            out["zeta2_star"] = Constant(
                zhat**2,
                "observed",
                "max_i ||grad f_i - grad f||^2 at the stationary point found (nonconvex: not "
                "known to be the global minimiser)",
            )
        if lam == 0.0:
            out["G"] = Constant(
                float(np.max((c_i + reg) ** 2)),
                "certified",
                "global: ||grad f_i|| <= c_i + rho 3 sqrt(3)/8 sqrt(d) (QAFeL Assumption 3.3)",
            )
            out["M2"] = Constant(
                (c_bar + reg) ** 2,
                "certified",
                "global: ||grad f|| <= min(sqrt(lambda_max(Abar)), mean_i c_i) + rho 3 sqrt(3)/8 "
                "sqrt(d) (SAEF Assumption 3, eq. 12)",
            )
        elif self.radius is not None:
            rad = float(np.linalg.norm(xhat)) + self.radius
            out["G"] = Constant(
                float(np.max((c_i + reg + lam * rad) ** 2)),
                "certified",
                f"on the ball ||x - xhat|| <= {self.radius}: ||x|| <= {rad:.6g}, so "
                "||grad f_i|| <= c_i + rho 3 sqrt(3)/8 sqrt(d) + lam ||x|| (QAFeL Assumption 3.3)",
            )
            out["M2"] = Constant(
                (c_bar + reg + lam * rad) ** 2,
                "certified",
                f"on the ball ||x - xhat|| <= {self.radius}: ||grad f|| <= c_bar + rho 3 sqrt(3)/8 "
                "sqrt(d) + lam ||x|| (SAEF Assumption 3)",
            )
        else:
            for k in ("G", "M2"):
                out[k] = Constant(
                    math.inf, "exact", "lam > 0: the gradient grows like lam ||x||; pass radius="
                )
        return out

    def minibatch_constants(self, batch_size: int) -> dict[str, Constant]:
        B = batch_size
        sq = np.sum(self.A_np**2, axis=2)  # (n, m)
        ell2 = np.mean((sq / 4 + self.lam + 2 * self.rho) ** 2, axis=1)
        return {
            "sigma2": Constant(
                float(np.max(np.mean(sq, axis=1))) / B,
                "certified",
                f"max_i 1/m sum_j ||a_ij||^2 / B, B = {B}, for every x (see module docstring)",
            ),
            "ell": Constant(
                float(math.sqrt(np.max(ell2))),
                "certified",
                "sqrt(max_i 1/m sum_j (||a_ij||^2/4 + lam + 2 rho)^2) (AsyncBC Assumption 5)",
            ),
        }


def _sigmoid(t: np.ndarray) -> np.ndarray:
    out = np.empty_like(t)
    pos = t >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-t[pos]))
    e = np.exp(t[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def logistic(
    n: int = 8,
    d: int = 10,
    m: int = 50,
    alpha: float = 0.1,
    lam: float = 0.1,
    rho: float = 0.0,
    sep: float = 0.5,
    seed: int = 0,
    radius: float | None = None,
    oracle: str = "exact",
    noise_var: float = 0.0,
    batch_size: int = 1,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Logistic:
    """Synthetic two-class logistic regression with Dirichlet(alpha p) label skew per client.

    ``alpha = inf`` gives i.i.d. labels (``q_i = p``); small ``alpha`` gives single-label clients.
    """
    n, d, m = _params.count("n", n), _params.count("d", d), _params.count("m", m)
    alpha_f = _params._number("alpha", alpha, "a number > 0 or inf") if alpha != math.inf else alpha
    if not alpha_f > 0:
        raise ParameterError(f"alpha={alpha!r} is not allowed; alpha must be a number > 0 or inf")
    sep = _params.nonneg("sep", sep)
    g = _params.rng(seed, "logistic")
    u = g.standard_normal(d)
    u /= np.linalg.norm(u)
    if alpha_f == math.inf:
        q = np.full(n, 0.5)
    else:
        q = np.array([g.dirichlet([alpha_f / 2, alpha_f / 2])[0] for _ in range(n)])
        q = np.nan_to_num(q, nan=0.5)
    y = np.where(g.random((n, m)) < q[:, None], 1.0, -1.0)
    A = y[..., None] * sep * u + g.standard_normal((n, m, d)) / math.sqrt(d)
    return Logistic(
        A,
        y,
        lam=lam,
        rho=rho,
        radius=radius,
        oracle=make_oracle(oracle, noise_var, batch_size),
        dtype=dtype,
        device=device,
    )


def asyncbc_logistic(
    n: int = 64,
    d: int = 20,
    m: int = 50,
    alpha: float = 0.1,
    rho: float = 0.05,
    lam: float = 0.0,
    sep: float = 0.5,
    seed: int = 0,
    oracle: str = "minibatch",
    batch_size: int = 32,
    noise_var: float = 0.0,
    radius: float | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Logistic:
    """AsyncBC Section 5 / D.2 setting on synthetic data: n = 64, batch 32, rho = 0.05, lam = 0."""
    return logistic(
        n=n,
        d=d,
        m=m,
        alpha=alpha,
        lam=lam,
        rho=rho,
        sep=sep,
        seed=seed,
        radius=radius,
        oracle=oracle,
        noise_var=noise_var,
        batch_size=batch_size,
        dtype=dtype,
        device=device,
    )
