"""Structured storage of the clients' Hessians ``H_i`` (issue 9) and their certified spectra.

Three kinds, each with a batched ``H_cl x`` that never copies a client's ``d x d`` matrix per call,
the mean ``Hbar = 1/n sum_i H_i`` precomputed once, and its constants in closed form where the
structure allows:

* :class:`Diagonal` -- ``H_i = diag(h_i)``, ``h`` of shape ``(n, d)``, or ``(n, 1)`` for scaled
  identities ``h_i I``. The eigenvalues are the stored entries (exact, no eigensolver); only the mean
  ``hbar`` carries rounding, bounded by the summation error ``(n + 1) eps mean_i |h_i|`` entrywise.
* :class:`LowRank` -- ``H_i = s A_i^T A_i + D`` with factors ``A`` ``(n, k, d)``, ``s > 0`` and a
  shared diagonal ``D`` (a scalar ``rho I`` or a vector): least squares with ``k < d`` samples per
  client, "low rank plus diagonal". A client's spectrum comes from the ``k x k`` triangle ``R_i`` of
  the QR factorisation ``A_i^T = Q_i R_i`` (Householder QR is backward stable: ``R_i`` is the exact
  factor of ``A_i + E_i`` with ``||E_i|| <= c k d eps ||A_i||``), shifted exactly by a scalar ``D``
  or bracketed by Weyl's inequality for a vector ``D``.
* :class:`Dense` -- ``H`` ``(n, d, d)``, symmetric; eigenvalues by LAPACK rounded outward by
  :func:`boundcheck.problems._params.eig_slack` (genuinely dense: this costs ``n`` eigensolves).

Every bound is rounded outward (largest eigenvalues, norms and ``delta_H`` up, smallest eigenvalues
down), the convention of tests/problems/test_problem_rounding.py. ``lo``/``hi`` below are such
bounds of the smallest / largest eigenvalue; a spectral norm is ``max(hi, -lo)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from boundcheck.problems import _params

EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)
#: Above this many gathered matrix entries per call, per-replica products are grouped by client
#: (one matmul per distinct client present) instead of gathering each slot's matrix.
GATHER_LIMIT = 1 << 18


def flat_clients(cl: torch.Tensor, R: int) -> torch.Tensor:
    """Shared ``(m,)`` or per-replica ``(R, m)`` clients as one ``(R * m,)`` index vector."""
    return cl.expand(R, cl.shape[-1]).reshape(-1) if cl.dim() == 1 else cl.reshape(-1)


def grouped(cl: torch.Tensor, X: torch.Tensor, out_dim: int, mat: Any, n: int) -> torch.Tensor:
    """``out[p] = X[p] @ mat(cl[p])`` for the flat client index ``cl`` ``(P,)`` and rows ``X``
    ``(P, q)``: the rows are sorted by client once, each distinct client present multiplies its
    contiguous block in place (one matmul), and one scatter restores the order. Python work grows
    with the number of clients ``n``, never with the number of replicas."""
    order = torch.argsort(cl, stable=True)
    counts = torch.bincount(cl, minlength=n).tolist()
    Xs = X.index_select(0, order)
    outs = torch.empty(X.shape[0], out_dim, dtype=X.dtype, device=X.device)
    pos = 0
    for k, c in enumerate(counts):
        if c:
            torch.matmul(Xs[pos : pos + c], mat(k), out=outs[pos : pos + c])
            pos += c
    return torch.empty_like(outs).index_copy_(0, order, outs)


def _is_all(cl: torch.Tensor, m: int, all_clients: torch.Tensor) -> bool:
    return cl.dim() == 1 and m == all_clients.shape[0] and torch.equal(cl, all_clients)


#: a link ``link(z, *data)``: elementwise and in place on the factor products ``z = A_i x``, with
#: each per-sample data tensor broadcast against ``z`` (see :class:`ClientFactors`)
Link = Callable[..., object]
#: a post-step ``post(g, x)``: adds an elementwise term of ``x`` to ``g`` in place (same shapes)
Post = Callable[[torch.Tensor, torch.Tensor], object]
#: rows per block of :func:`blocked`: 64 rows of d = 1000 float64 (512 KB) stay in the L2 cache
BLOCK_ROWS = 64


def blocked(post: Post, g: torch.Tensor, x: torch.Tensor, rows: int = BLOCK_ROWS) -> None:
    """``post(g, x)`` over blocks of ``rows`` rows, so that ``post``'s temporaries stay in cache
    and one pass over ``g`` and ``x`` suffices (elementwise, hence the same numbers)."""
    d = g.shape[-1]
    if not (g.is_contiguous() and x.is_contiguous()) or g.numel() <= rows * d:
        post(g, x)
        return
    gf, xf = g.view(-1, d), x.reshape(-1, d)
    for lo in range(0, gf.shape[0], rows):
        post(gf[lo : lo + rows], xf[lo : lo + rows])


class ClientFactors:
    """Per-client factors ``A`` ``(n, k, d)`` with per-row data ``(n, k)`` (labels, targets), for
    products that never copy a client's factor per call:

    * :meth:`ax` -- ``A_{cl} x``: ``x`` (R, m, d) -> (R, m, k);
    * :meth:`chain` -- ``A_{cl}^T link(A_{cl} x) (+ post(., x))``: ``x`` (R, m, d) -> (R, m, d),
      the gradient of every family whose loss depends on ``x`` through ``A_i x``
      (least squares: ``link(z) = s (z - b)``; logistic: ``link(z) = -y sigma(-y z) / m``).

    The layout follows the clients: one client (``n = 1``, i.i.d. families) two plain products;
    full participation (clients ``0..n-1`` shared) two batched products over the clients, ``x``
    read through a transposed view (``A_i X_i^T``, the orientation MKL runs fastest at these shapes);
    few rows (at most :data:`GATHER_LIMIT` gathered entries) a gather of the slots' factors;
    otherwise the rows are grouped by client and each client present does both of its products
    back to back while ``A_i`` is in cache, its rows gathered into and scattered out of a
    cache-sized block (only the output has ``R m`` rows: no large temporaries, whose page faults
    cost as much as the products). ``post`` runs once over the output in cache-sized row blocks
    (:func:`blocked`). The link sees ``z`` as ``(c, k)`` (a client's rows by its
    samples), ``(k, R m)`` (one client), ``(n, k, R)`` (full participation) or ``(R, m, k)``
    (gathered), each data tensor shaped to broadcast against it. Python work grows with the number
    of clients present, never with ``R``; every path computes the same sums (the products'
    summation order is the BLAS kernel's, so paths agree to float rounding, not bit for bit).
    """

    def __init__(self, A: torch.Tensor, *data: torch.Tensor) -> None:
        self.A = A
        self.n, self.k, self.d = A.shape
        self.mats = A.unbind(0)
        self.data = data
        self.full_data = tuple(t.unsqueeze(-1) for t in data)  # (n, k, 1)
        self.cols = [tuple(t[i] for t in self.full_data) for i in range(self.n)]  # (k, 1) each
        self.rows = [tuple(t[i] for t in data) for i in range(self.n)]  # (k,) each
        self.all = torch.arange(self.n, device=A.device)

    def _groups(self, cl: torch.Tensor, R: int) -> list[tuple[int, torch.Tensor]]:
        """``(client, rows)`` for every client present in the flat ``(R * m,)`` slot order."""
        flat = flat_clients(cl, R)
        order = torch.argsort(flat, stable=True)
        counts = torch.bincount(flat, minlength=self.n).tolist()
        return [(i, rows) for i, rows in enumerate(order.split(counts)) if rows.numel()]

    def _gather(self, cl: torch.Tensor, R: int, m: int) -> bool:
        return R * m * self.k * self.d <= GATHER_LIMIT

    def ax(self, x: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
        """``A_{cl} x``: ``x`` (R, m, d), clients (m,) or (R, m) -> (R, m, k)."""
        R, m, d = x.shape
        if self.n == 1:
            return torch.matmul(x, self.mats[0].T)
        if _is_all(cl, m, self.all):
            return torch.bmm(self.A, x.permute(1, 2, 0)).permute(2, 0, 1).contiguous()
        if self._gather(cl, R, m):
            pat = "skd" if cl.dim() == 1 else "rskd"
            return torch.einsum(f"{pat},rsd->rsk", self.A[cl], x).contiguous()
        xf = x.reshape(R * m, d)
        out = torch.empty(R * m, self.k, dtype=x.dtype, device=x.device)
        for i, rows in self._groups(cl, R):
            out.index_copy_(0, rows, torch.mm(xf.index_select(0, rows), self.mats[i].t()))
        return out.view(R, m, self.k)

    def atr(self, r: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
        """``A_{cl}^T r``: ``r`` (R, m, k) -> (R, m, d)."""
        return self.chain(r, cl, None, pre_multiplied=True)

    def chain(
        self,
        x: torch.Tensor,
        cl: torch.Tensor,
        link: Link | None,
        post: Post | None = None,
        *,
        pre_multiplied: bool = False,
    ) -> torch.Tensor:
        """``A_{cl}^T link(A_{cl} x)``, then ``post(g, x)`` (class docstring): (R, m, d) -> (R, m, d).

        With ``pre_multiplied`` the input is already ``z`` (R, m, k) and only ``A^T z`` is formed."""
        R, m = x.shape[0], x.shape[1]
        d = self.d
        if self.n == 1:
            A0 = self.mats[0]
            if pre_multiplied:
                return torch.matmul(x, A0)
            xf = x.reshape(R * m, d)
            zt = torch.mm(A0, xf.T)  # (k, R m)
            if link is not None:
                link(zt, *self.cols[0])
            g = torch.mm(zt.T, A0)
            if post is not None:
                blocked(post, g, xf)
            return g.view(R, m, d)
        out = torch.empty(R, m, d, dtype=x.dtype, device=x.device)
        if _is_all(cl, m, self.all):
            if pre_multiplied:
                zt = x.permute(1, 2, 0)
            else:
                zt = torch.bmm(self.A, x.permute(1, 2, 0))  # (n, k, R)
                if link is not None:
                    link(zt, *self.full_data)
            torch.bmm(zt.transpose(1, 2), self.A, out=out.transpose(0, 1))
        elif self._gather(cl, R, m):
            Ag = self.A[cl]
            pat = "skd" if cl.dim() == 1 else "rskd"
            z = x if pre_multiplied else torch.einsum(f"{pat},rsd->rsk", Ag, x)
            if link is not None and not pre_multiplied:
                link(z, *(t[cl] for t in self.data))
            out = torch.einsum(f"{pat},rsk->rsd", Ag, z).contiguous()  # einsum may permute
        else:
            # per client: gather its rows into a cache-sized block, both products while A_i is in
            # cache, scatter the block into the output (no sorted (R m, d) copies: only the output
            # is of that size, so no page faults of large temporaries)
            xf, of = x.reshape(R * m, x.shape[-1]), out.view(R * m, d)
            for i, rows in self._groups(cl, R):
                Ai, xi = self.mats[i], xf.index_select(0, rows)
                if pre_multiplied:
                    of.index_copy_(0, rows, torch.mm(xi, Ai))
                    continue
                z = torch.mm(xi, Ai.t())  # (c, k): the faster orientation here (measured)
                if link is not None:
                    link(z, *self.rows[i])
                of.index_copy_(0, rows, torch.mm(z, Ai))
        if post is not None and not pre_multiplied:  # after the loop: fewer calls (measured)
            blocked(post, out, x)
        return out


def up(v: np.ndarray | float, rel: float = 4 * EPS) -> np.ndarray | float:
    """``v`` nudged up by a relative ``rel`` plus the smallest normal (a few roundings' worth)."""
    return v + rel * np.abs(v) + TINY


class Hessians(ABC):
    """The ``n`` Hessians of a quadratic family (see the module docstring)."""

    kind: str
    n: int
    d: int

    # --- torch side ------------------------------------------------------------------------
    @abstractmethod
    def to_torch(self, dtype: torch.dtype, device: torch.device) -> None:
        """Create the device tensors (after the data are final)."""

    @abstractmethod
    def matvec(self, x: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
        """``H_{cl} x``: ``x`` (R, m, d), clients (m,) or (R, m) -> (R, m, d)."""

    @abstractmethod
    def mean_matvec(self, x: torch.Tensor) -> torch.Tensor:
        """``Hbar x``: ``x`` (R, d) -> (R, d) through the precomputed mean."""

    # --- host side (float64) -------------------------------------------------------------------
    @abstractmethod
    def apply_np(self, x: np.ndarray) -> np.ndarray:
        """``H_i x`` for every client at one point ``x`` (d,) -> (n, d)."""

    @abstractmethod
    def mean_apply_np(self, x: np.ndarray) -> np.ndarray:
        """``Hbar x`` at one point (d,) -> (d,)."""

    @abstractmethod
    def dense_np(self) -> np.ndarray:
        """The Hessians as a dense ``(n, d, d)`` array (tests and small problems only)."""

    @abstractmethod
    def client_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """``(lo_i, hi_i)``, shape ``(n,)`` each: outward bounds of each ``H_i``'s spectrum."""

    @abstractmethod
    def mean_bounds(self) -> tuple[float, float]:
        """``(lo, hi)``: outward bounds of ``Hbar``'s smallest and largest eigenvalue."""

    @abstractmethod
    def deviation_norms(self) -> np.ndarray:
        """Upper bounds of ``||Hbar - H_i||_2``, shape ``(n,)``."""

    @abstractmethod
    def solve_mean(self, cbar: np.ndarray) -> np.ndarray:
        """A least-squares solution of ``Hbar x = cbar`` (float64)."""

    @abstractmethod
    def identical(self) -> bool:
        """Whether every ``H_i`` is the same matrix (as stored)."""

    #: how the spectra are known: "exact" (closed form / eigenvalues rounded outward) or
    #: "certified" (a proven bracket, e.g. Weyl's inequality)
    provenance: str = "exact"
    how: str = ""


class Diagonal(Hessians):
    """``H_i = diag(h_i)``; ``h`` ``(n, d)`` or ``(n, 1)`` (scaled identity ``h_i I``)."""

    def __init__(self, h: np.ndarray, d: int) -> None:
        h = np.asarray(h, dtype=np.float64)
        if h.ndim != 2 or h.shape[1] not in (1, d):
            raise ValueError(f"h has shape {h.shape}; it must be (n, {d}) or (n, 1)")
        self.h_np = h
        self.n, self.d = h.shape[0], d
        self.kind = "scaled_identity" if h.shape[1] == 1 else "diagonal"
        if np.all(h == h[:1]):  # identical clients: the mean is h_0, exactly
            self.hbar_np, self.hbar_slack = h[0].copy(), np.zeros(h.shape[1])
        else:
            self.hbar_np = h.mean(axis=0)
            # recursive summation error of a mean of n terms: (n + 1) eps mean_i |h_i| (+ tiny)
            mag = np.abs(h).mean(axis=0)
            self.hbar_slack = np.where(mag > 0, (self.n + 1) * EPS * mag + TINY, 0.0)
        self.how = (
            "closed form: the eigenvalues of diag(h_i) are its entries; the mean's entries rounded "
            "outward by (n + 1) eps mean_i |h_i|"
        )

    def to_torch(self, dtype, device):
        kw = {"dtype": dtype, "device": device}
        self.h = torch.as_tensor(self.h_np, **kw)
        self.hbar = torch.as_tensor(self.hbar_np, **kw)

    def matvec(self, x, cl):
        return self.h[cl] * x

    def mean_matvec(self, x):
        return self.hbar * x

    def apply_np(self, x):
        return self.h_np * x

    def mean_apply_np(self, x):
        return self.hbar_np * x

    def dense_np(self):
        h = np.broadcast_to(self.h_np, (self.n, self.d))
        out = np.zeros((self.n, self.d, self.d))
        i = np.arange(self.d)
        out[:, i, i] = h
        return out

    def client_bounds(self):
        return self.h_np.min(axis=1), self.h_np.max(axis=1)

    def mean_bounds(self):
        return (
            float(np.min(self.hbar_np - self.hbar_slack)),
            float(np.max(self.hbar_np + self.hbar_slack)),
        )

    def deviation_norms(self):
        dev = (np.abs(self.hbar_np[None, :] - self.h_np) + self.hbar_slack[None, :]).max(axis=1)
        return np.where(dev > 0, up(dev), 0.0)  # a difference of one rounding, rounded up

    def solve_mean(self, cbar):
        hb = np.broadcast_to(self.hbar_np, (self.d,))
        safe = np.where(hb != 0, hb, 1.0)
        return np.where(hb != 0, cbar / safe, 0.0)

    def identical(self):
        return bool(np.all(self.h_np == self.h_np[:1]))


class Dense(Hessians):
    """``H`` ``(n, d, d)`` symmetric, stored densely (the genuinely dense case)."""

    kind = "dense"

    def __init__(self, H: np.ndarray) -> None:
        self.H_np = H
        self.n, self.d = H.shape[0], H.shape[1]
        self.Hbar_np = H.mean(axis=0)
        self._client: tuple[np.ndarray, np.ndarray] | None = None
        self.how = "eigenvalues (LAPACK eigvalsh, float64) rounded outward by 8 d eps ||M||"

    def to_torch(self, dtype, device):
        kw = {"dtype": dtype, "device": device}
        self.H = torch.as_tensor(self.H_np, **kw)
        self.Hbar = torch.as_tensor(self.Hbar_np, **kw)
        self._all = torch.arange(self.n, device=device)

    def matvec(self, x, cl):
        R, m, d = x.shape
        if self.n == 1:
            return x @ self.H[0]
        if _is_all(cl, m, self._all):
            return torch.einsum("mij,rmj->rmi", self.H, x)  # full participation: no gather
        if R * m * d * d <= GATHER_LIMIT:
            if cl.dim() == 1:
                return torch.einsum("mij,rmj->rmi", self.H[cl], x)
            return torch.einsum("rmij,rmj->rmi", self.H[cl], x)
        H = self.H  # symmetric: rows X H_k = (H_k X^T)^T
        out = grouped(flat_clients(cl, R), x.reshape(R * m, d), d, lambda k: H[k], self.n)
        return out.view(R, m, d)

    def mean_matvec(self, x):
        return x @ self.Hbar

    def apply_np(self, x):
        return self.H_np @ x

    def mean_apply_np(self, x):
        return self.Hbar_np @ x

    def dense_np(self):
        return self.H_np

    def client_bounds(self):
        if self._client is None:
            self._client = _params.eigs(self.H_np)
        return self._client

    def mean_bounds(self):
        lo, hi = _params.eigs(self.Hbar_np)
        return float(lo), float(hi)

    def deviation_norms(self):
        out = np.empty(self.n)
        for i in range(self.n):  # one d x d temporary at a time
            lo, hi = _params.eigs(self.Hbar_np - self.H_np[i])
            out[i] = max(abs(float(lo)), abs(float(hi)))
        return out

    def solve_mean(self, cbar):
        xs, *_ = np.linalg.lstsq(self.Hbar_np, cbar, rcond=None)
        return xs

    def identical(self):
        return all(np.array_equal(self.H_np[0], self.H_np[i]) for i in range(self.n))


class LowRank(Hessians):
    """``H_i = s A_i^T A_i + D``: factors ``A`` ``(n, k, d)``, scale ``s > 0``, shared diagonal ``D``
    (``0``, a scalar, or a ``(d,)`` vector)."""

    kind = "low_rank"

    def __init__(self, A: np.ndarray, s: float, D: float | np.ndarray = 0.0) -> None:
        self.A_np = A
        self.s = float(s)
        self.n, self.k, self.d = A.shape
        D = np.asarray(D, dtype=np.float64)
        self.D_np = D
        self.scalar_D = D.ndim == 0
        self.Dlo, self.Dhi = float(D.min()), float(D.max())
        self.Aflat_np = A.reshape(self.n * self.k, self.d)
        nk = self.n * self.k
        # the mean s/n A_flat^T A_flat (+ D): dense d x d where that is the cheaper product
        self.mean_dense = self.d <= nk
        self.Hbar0_np = (  # s/n A_flat^T A_flat, without D
            (self.s / self.n) * (self.Aflat_np.T @ self.Aflat_np) if self.mean_dense else None
        )
        self.Hbar_np = (
            self.Hbar0_np + np.diag(np.broadcast_to(D, (self.d,))) if self.mean_dense else None
        )
        self._client: tuple[np.ndarray, np.ndarray] | None = None
        self.provenance = "exact" if self.scalar_D else "certified"
        self.how = (
            "eigenvalues of the k x k factor R_i R_i^T (QR of A_i^T, backward stable) rounded "
            "outward by 16 k d eps ||A_i||^2 s"
            + ("" if self.scalar_D else ", plus Weyl's inequality for the diagonal D")
        )

    def to_torch(self, dtype, device):
        kw = {"dtype": dtype, "device": device}
        self.A = torch.as_tensor(self.A_np, **kw)
        self.D = torch.as_tensor(self.D_np, **kw)
        self.Aflat = self.A.reshape(self.n * self.k, self.d)
        self.Hbar = None if self.Hbar_np is None else torch.as_tensor(self.Hbar_np, **kw)
        self._all = torch.arange(self.n, device=device)
        self.products = ClientFactors(self.A)

    def ax(self, x: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
        """``A_{cl} x``: (R, m, d) -> (R, m, k)."""
        return self.products.ax(x, cl)

    def atr(self, r: torch.Tensor, cl: torch.Tensor) -> torch.Tensor:
        """``A_{cl}^T r``: (R, m, k) -> (R, m, d)."""
        return self.products.atr(r, cl)

    def matvec(self, x, cl):
        """``s A_cl^T (A_cl x) + D x``: both factor products per client back to back."""
        post = self._add_Dx if self.D_np.any() else None
        return self.products.chain(x, cl, self._scale, post)

    def _scale(self, z: torch.Tensor) -> None:
        z.mul_(self.s)

    def _add_Dx(self, g: torch.Tensor, x: torch.Tensor) -> None:
        g.add_(self.D * x)

    def mean_matvec(self, x):
        if self.Hbar is not None:
            return x @ self.Hbar
        return (self.s / self.n) * ((x @ self.Aflat.T) @ self.Aflat) + self.D * x

    def apply_np(self, x):
        return self.s * np.einsum("nkd,nk->nd", self.A_np, self.A_np @ x) + self.D_np * x

    def mean_apply_np(self, x):
        if self.Hbar_np is not None:
            return self.Hbar_np @ x
        return (self.s / self.n) * (self.Aflat_np.T @ (self.Aflat_np @ x)) + self.D_np * x

    def dense_np(self):
        D = np.diag(np.broadcast_to(self.D_np, (self.d,)))
        return self.s * np.einsum("nki,nkj->nij", self.A_np, self.A_np) + D[None]

    def factors(self) -> np.ndarray:
        """``R_i`` ``(n, k', k)`` with ``A_i^T = Q_i R_i`` (``k' = min(k, d)``): ``A_i^T M A_i`` has
        the nonzero eigenvalues of ``R_i M R_i^T``."""
        if not hasattr(self, "_R"):
            self._R = np.linalg.qr(np.swapaxes(self.A_np, 1, 2), mode="r")
        return self._R

    def factor_slack(self) -> np.ndarray:
        """Rounding allowance of a client's factored spectrum: ``16 k d eps s ||A_i||_F^2``."""
        fro2 = np.sum(self.A_np**2, axis=(1, 2))
        return 16 * self.k * self.d * EPS * self.s * fro2 + TINY

    def client_bounds(self):
        if self._client is None:
            Rf = self.factors()
            ev = np.linalg.eigvalsh(self.s * Rf @ np.swapaxes(Rf, 1, 2))  # (n, min(k, d))
            sl = self.factor_slack()
            # k < d: A_i^T A_i has rank <= k < d, so its smallest eigenvalue is exactly 0
            lo = ev[:, 0] - sl if self.k >= self.d else np.zeros(self.n)
            self._client = (lo + self.Dlo, ev[:, -1] + sl + self.Dhi)
        return self._client

    def mean_bounds(self):
        if self.Hbar_np is not None:
            lo, hi = _params.eigs(self.Hbar_np)
            form = self._form_slack(self.n * self.k)
            return float(lo) - form, float(hi) + form
        # rank <= n k < d: the nonzero spectrum of s/n A_flat^T A_flat is that of its Gram matrix
        G = (self.s / self.n) * (self.Aflat_np @ self.Aflat_np.T)
        lo, hi = _params.eigs(G)
        form = self._form_slack(self.d)
        return min(float(lo) - form, 0.0) + self.Dlo, float(hi) + form + self.Dhi

    def _form_slack(self, inner: int) -> float:
        """Rounding of forming ``s/n A_flat^T A_flat`` (inner products of length ``inner``):
        ``||dM||_2 <= gamma_{inner + 3} s/n ||A_flat||_F^2`` (inner products, then the scaling)."""
        fro2 = float(np.sum(self.Aflat_np**2))
        return 1.01 * (inner + 3) * EPS * self.s / self.n * fro2 + TINY

    def deviation_norms(self):
        # D cancels in Hbar - H_i = s (1/n A_flat^T A_flat - A_i^T A_i)
        nk = self.n * self.k
        if nk < self.d:  # work in an orthonormal basis of the row space of A_flat
            Q = np.linalg.qr(self.Aflat_np.T)[0]  # (d, nk)
            B = self.A_np @ Q  # (n, k, nk)
            Bf = B.reshape(nk, nk)
            M = (self.s / self.n) * (Bf.T @ Bf)[None] - self.s * np.swapaxes(B, 1, 2) @ B
            ev = np.linalg.eigvalsh(M)
            nrm = np.max(np.abs(ev), axis=1)
            # rounding of Q (Householder: orthonormal to c nk d eps) and of forming M
            slack = (
                64
                * nk
                * self.d
                * EPS
                * self.s
                * (float(np.sum(self.Aflat_np**2)) / self.n + np.sum(self.A_np**2, axis=(1, 2)))
            )
            return up(nrm + slack)
        Hb = self.Hbar0_np
        form = self._form_slack(nk) + 1.01 * (self.k + 3) * EPS * self.s * np.sum(
            self.A_np**2, axis=(1, 2)
        )
        nrm, ok = self._deviation_secular()
        for i in np.nonzero(~ok)[0]:  # the dense way: one d x d eigensolve per client
            Ai = self.A_np[i]
            lo, hi = _params.eigs(Hb - self.s * (Ai.T @ Ai))
            nrm[i] = max(abs(float(lo)), abs(float(hi)))
        return up(nrm + form)

    def _deviation_secular(self) -> tuple[np.ndarray, np.ndarray]:
        """``||Hbar0 - s A_i^T A_i||_2`` for every client from **one** eigendecomposition of the
        dense mean ``Hbar0 = s/n A_flat^T A_flat = V diag(lam) V^T`` (``n k >= d``).

        ``P_i = diag(lam) - s B_i^T B_i`` with ``B_i = A_i V`` (``k x d``) is ``Hbar0 - s A_i^T A_i``
        in the basis ``V``. Subtracting a positive semidefinite matrix only lowers eigenvalues, so
        ``lambda_max(P_i) <= lam_max``; for ``l < lam_min``, ``P_i - l I`` is positive definite iff
        the ``k x k`` matrix ``K_i(l) = I - s B_i (diag(lam) - l I)^{-1} B_i^T`` is (Schur
        complement), and ``mu_i(l) = lambda_min(K_i(l))`` is concave and decreasing in ``l``. Its
        root, found by safeguarded Newton steps inside a bisection bracket (every sign test a
        ``k x k`` eigensolve), is ``lambda_min(P_i)``. Where ``-lambda_min(P_i) >= lam_max`` (the
        usual case: ``s A_i^T A_i`` is far larger than the mean) the norm is ``-lambda_min(P_i)``
        exactly; the bracket's lower end is returned, rounded down by the bracket width and by the
        rounding of the eigendecomposition, ``V``, ``B_i`` and ``K_i`` (``16 (d + k) eps (||Hbar0||
        + s ||A_i||_F^2)``, twice :func:`~boundcheck.problems._params.eig_slack`'s allowance).
        Returns ``(norms, ok)``; clients with ``ok`` false (e.g. ``lam_max`` dominates) need the
        dense eigensolve.
        """
        n, k, d, s = self.n, self.k, self.d, self.s
        lam, V = np.linalg.eigh(self.Hbar0_np)
        B = self.A_np @ V  # (n, k, d)
        fro2 = np.sum(self.A_np**2, axis=(1, 2))
        # backward errors of the eigendecomposition (as _params.eig_slack, 8 d eps ||M||), of V's
        # orthogonality and of forming B_i, K_i (inner products of length d and k), rounded up
        slack = 16 * (d + k) * EPS * (abs(lam[-1]) + abs(lam[0]) + s * fro2) + TINY
        eye = np.eye(k)

        def mu(l: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            w = 1.0 / (lam[None, :] - l[:, None])  # (n, d), positive for l < lam[0]
            Bw = B * np.sqrt(w)[:, None, :]
            ev, U = np.linalg.eigh(eye - s * (Bw @ np.swapaxes(Bw, 1, 2)))
            u = U[:, :, 0]
            bu = np.einsum("nkd,nk->nd", B, u)
            return ev[:, 0], -s * np.sum((w * bu) ** 2, axis=1)

        # bracket: lambda_min(P_i) >= lam_min - s ||B_i||_2^2 (Weyl), the norm from the k x k Gram
        # matrix, rounded up generously (a wider bracket costs a few more steps, never a wrong root)
        top = np.linalg.eigvalsh(B @ np.swapaxes(B, 1, 2))[:, -1]
        lo = lam[0] - s * top * (1 + 1e-6) - 1e-300
        hi = np.full(n, lam[0])
        p = lo.copy()
        tol = lambda a, b: 4 * EPS * np.maximum(np.abs(a), np.abs(b)) + 1e-300  # noqa: E731
        for _ in range(200):
            live = hi - lo > tol(lo, hi)
            if not live.any():
                break
            m, dm = mu(np.where(live, p, 0.5 * (lo + hi)))
            pos = m > 0
            lo = np.where(live & pos, p, lo)
            hi = np.where(live & ~pos, p, hi)
            with np.errstate(divide="ignore", invalid="ignore"):
                q = p - m / dm  # Newton (from the right it converges monotonically)
            near = np.abs(q - p) <= tol(q, p)
            q = np.where(near & ~pos, hi - tol(hi, hi), q)  # converged: test just below the root
            inside = np.isfinite(q) & (q > lo) & (q < hi)
            p = np.where(inside, q, 0.5 * (lo + hi))
        lam_min_p = lo - (hi - lo) - slack
        ok = (hi - lo <= tol(lo, hi)) & (-lam_min_p >= lam[-1] + slack)
        return np.where(ok, -lam_min_p, 0.0), ok

    def solve_mean(self, cbar):
        if self.Hbar_np is not None:
            xs, *_ = np.linalg.lstsq(self.Hbar_np, cbar, rcond=None)
            return xs
        # rank(A_flat) <= n k < d and D = 0: Hbar^+ = s/n A^T (G^+)^2 A with G = s/n A A^T
        # (from the SVD of A_flat), so the minimum-norm solution needs only n k x n k solves
        if self.scalar_D and float(self.D_np) == 0.0:
            G = (self.s / self.n) * (self.Aflat_np @ self.Aflat_np.T)
            z, *_ = np.linalg.lstsq(G, self.Aflat_np @ cbar, rcond=None)
            y, *_ = np.linalg.lstsq(G, z, rcond=None)
            return (self.s / self.n) * (self.Aflat_np.T @ y)
        dense = self.dense_np().mean(axis=0)
        xs, *_ = np.linalg.lstsq(dense, cbar, rcond=None)
        return xs

    def identical(self):
        return bool(np.all(self.A_np == self.A_np[:1]))


def spectral_norm(lo: float | np.ndarray, hi: float | np.ndarray) -> Any:
    """``max(hi, -lo, 0)``: an upper bound of ``||M||_2`` from outward eigenvalue bounds."""
    return np.maximum(np.maximum(hi, -np.asarray(lo)), 0.0)


__all__ = [
    "GATHER_LIMIT",
    "ClientFactors",
    "Dense",
    "Diagonal",
    "Hessians",
    "LowRank",
    "blocked",
    "flat_clients",
    "grouped",
    "spectral_norm",
]
