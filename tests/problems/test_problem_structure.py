"""Structured Hessians (issue 9): products and certified spectra agree with the dense matrices.

Every structure is checked against its own dense materialisation: ``H_cl x`` (shared and
per-replica clients, gathered and grouped-by-client paths), ``Hbar x``, and outward-rounded spectra
that bracket 50-digit eigenvalues.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.problems import make, structure
from boundcheck.problems.quadratic import Quadratic, diagonal_quadratic
from boundcheck.problems.structure import Dense, Diagonal, LowRank

TOL50 = mpmath.mpf("1e-40")


def _eig50(M) -> tuple[mpmath.mpf, mpmath.mpf]:
    with mpmath.workdps(50):
        M = M if isinstance(M, mpmath.matrix) else mpmath.matrix(M.tolist())
        ev = mpmath.eigsy(M, eigvals_only=True)
        vals = sorted(ev[i] for i in range(M.rows))
    return vals[0], vals[-1]


def _norm50(M) -> mpmath.mpf:
    lo, hi = _eig50(M)
    return max(abs(lo), abs(hi))


def _truth(h) -> list:
    """The stored Hessians as 50-digit matrices (the factors multiplied out exactly)."""
    with mpmath.workdps(50):
        if isinstance(h, LowRank):
            D = np.broadcast_to(h.D_np, (h.d,))
            out = []
            for i in range(h.n):
                A = mpmath.matrix(h.A_np[i].tolist())
                M = mpmath.mpf(h.s) * (A.T * A)
                for j in range(h.d):
                    M[j, j] += mpmath.mpf(float(D[j]))
                out.append(M)
            return out
        return [mpmath.matrix(Hi.tolist()) for Hi in h.dense_np()]


def _mean50(Ms: list):
    with mpmath.workdps(50):
        S = Ms[0] * 0
        for M in Ms:
            S += M
        return S / len(Ms)


def _structures(draw_seed: int, n: int, k: int, d: int, kind: str):
    g = np.random.default_rng(draw_seed)
    if kind == "diagonal":
        return Diagonal(g.standard_normal((n, d)), d)
    if kind == "scaled_identity":
        return Diagonal(g.standard_normal((n, 1)), d)
    if kind == "low_rank":
        return LowRank(g.standard_normal((n, k, d)), 0.5)
    if kind == "low_rank_ridge":
        return LowRank(g.standard_normal((n, k, d)), 0.5, D=0.3)
    if kind == "low_rank_diag":
        return LowRank(g.standard_normal((n, k, d)), 0.5, D=g.standard_normal(d))
    M = g.standard_normal((n, d, d))
    return Dense(M + np.swapaxes(M, 1, 2))


KINDS = ["diagonal", "scaled_identity", "low_rank", "low_rank_ridge", "low_rank_diag", "dense"]


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=12, deadline=None)
@given(n=st.integers(1, 4), k=st.integers(1, 4), d=st.integers(1, 6), seed=st.integers(0, 2**16))
def test_spectra_bracket_the_50_digit_truth(kind, n, k, d, seed):
    h = _structures(seed, n, k, d, kind)
    H = _truth(h)
    lo_i, hi_i = h.client_bounds()
    for i in range(n):
        lo, hi = _eig50(H[i])
        tol = TOL50 * (1 + abs(lo) + abs(hi))  # the 50-digit eigensolver's own error
        assert mpmath.mpf(float(lo_i[i])) <= lo + tol and mpmath.mpf(float(hi_i[i])) >= hi - tol
        if h.provenance == "exact":  # tight: outward by rounding only
            scale = 1e-9 * (1 + float(abs(hi)) + float(abs(lo)))
            assert float(hi_i[i]) - float(hi) <= scale and float(lo) - float(lo_i[i]) <= scale
    Hbar = _mean50(H)
    lo, hi = _eig50(Hbar)
    mlo, mhi = h.mean_bounds()
    tol = TOL50 * (1 + abs(lo) + abs(hi))
    assert mpmath.mpf(mlo) <= lo + tol and mpmath.mpf(mhi) >= hi - tol
    dev = h.deviation_norms()
    for i in range(n):
        with mpmath.workdps(50):
            diff = Hbar - H[i]
        true = _norm50(diff)
        assert mpmath.mpf(float(dev[i])) >= true - TOL50 * (1 + true)
        assert float(dev[i]) - float(true) <= 1e-8 * (1 + float(true))


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("grouped", [False, True])
@settings(max_examples=8, deadline=None)
@given(R=st.integers(1, 4), m=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_products_match_the_dense_matrices(kind, grouped, R, m, seed):
    h = _structures(seed, 3, 2, 5, kind)
    h.to_torch(torch.float64, torch.device("cpu"))
    H = torch.as_tensor(h.dense_np())
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(R, m, 5, dtype=torch.float64, generator=g)
    old = structure.GATHER_LIMIT
    structure.GATHER_LIMIT = 0 if grouped else old  # force the grouped-by-client path
    try:
        for cl in (
            torch.randint(0, 3, (m,), generator=g),
            torch.randint(0, 3, (R, m), generator=g),
            torch.arange(3) if m == 3 else torch.randint(0, 3, (m,), generator=g),
        ):
            Hc = H[cl] if cl.dim() == 2 else H[cl].unsqueeze(0).expand(R, m, 5, 5)
            want = (Hc @ x.unsqueeze(-1)).squeeze(-1)
            assert torch.allclose(h.matvec(x, cl), want, rtol=1e-12, atol=1e-12)
    finally:
        structure.GATHER_LIMIT = old
    z = x[:, 0]
    assert torch.allclose(h.mean_matvec(z), z @ H.mean(0), rtol=1e-12, atol=1e-12)
    xn = z[0].numpy()
    assert np.allclose(h.apply_np(xn), h.dense_np() @ xn, rtol=1e-12, atol=1e-12)
    assert np.allclose(h.mean_apply_np(xn), h.dense_np().mean(0) @ xn, rtol=1e-12, atol=1e-12)


@settings(max_examples=10, deadline=None)
@given(n=st.integers(1, 3), k=st.integers(1, 3), d=st.integers(4, 12), seed=st.integers(0, 2**16))
def test_low_rank_mean_solve_is_the_minimum_norm_solution(n, k, d, seed):
    g = np.random.default_rng(seed)
    h = LowRank(g.standard_normal((n, k, d)), 0.7)
    Hbar = h.dense_np().mean(0)
    c = Hbar @ g.standard_normal(d)  # in the range
    xs = h.solve_mean(c)
    ref = np.linalg.pinv(Hbar) @ c
    assert np.allclose(xs, ref, rtol=1e-7, atol=1e-9 * (1 + np.abs(ref).max()))


def test_diagonal_quadratic_constants_equal_the_dense_ones():
    g = np.random.default_rng(3)
    h = np.abs(g.standard_normal((4, 6))) + 0.1
    c = g.standard_normal((4, 6))
    diag = diagonal_quadratic(h, c)
    dense = Quadratic(np.stack([np.diag(r) for r in h]), c)
    for key in ("L", "L_i", "mu", "delta_H", "f_star", "zeta2_star"):
        assert diag.constant(key).value == pytest.approx(dense.constant(key).value, rel=1e-12)
    x = torch.randn(5, 6, dtype=torch.float64)
    assert torch.allclose(diag.grad(x), dense.grad(x), rtol=1e-13, atol=1e-13)
    assert torch.allclose(diag.f(x), dense.f(x), rtol=1e-12, atol=1e-12)


def test_identical_diagonal_clients_have_delta_zero_exactly():
    p = make("quadratic_toy", n=5, d=7, seed=0)
    assert p.constant("delta_H").value == 0.0
    assert p.constant("mu").value <= 0.1 <= p.constant("mu").value * (1 + 1e-15)
    lin = make("linear_toy", n=3, d=4, seed=0)
    assert lin.constant("L").value == 0.0 and lin.constant("L_i").value == 0.0
    assert np.isfinite(lin.constant("G").value)  # H_i = 0: G exists and is exact


@pytest.mark.parametrize("m", [2, 9])  # low-rank (m < d) and dense (m >= d) least squares
def test_least_squares_full_objective_through_the_mean(m):
    p = make("least_squares", n=5, d=6, m=m, seed=4, oracle="minibatch", batch_size=2)
    x = torch.randn(7, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    xs = x.unsqueeze(1).expand(-1, 5, -1)
    assert torch.allclose(p.f(x), p.f_i(xs).mean(1), rtol=1e-11, atol=1e-12)
    assert torch.allclose(p.grad(x), p.grad_i(xs).mean(1), rtol=1e-11, atol=1e-12)
    # ell by the dense formula of the LeastSquares docstring
    A, w, H = p.A_np, p.w, p.H_np
    S = np.einsum("nmi,nm,nmj->nij", A, w**2 * np.sum(A**2, 2), A) / m
    M = 0.5 * H @ H + S / 2
    ell2 = max(float(np.linalg.eigvalsh(Mi)[-1]) for Mi in M)
    assert p.constant("ell").value ** 2 == pytest.approx(ell2, rel=1e-9)
    assert p.constant("ell").value ** 2 >= ell2 * (1 - 1e-14)


@settings(max_examples=15, deadline=None)
@given(
    n=st.integers(2, 8), k=st.integers(1, 5), extra=st.integers(0, 6), seed=st.integers(0, 2**16)
)
def test_low_rank_deviation_from_one_eigensolve_matches_the_dense_one(n, k, extra, seed):
    """``n k >= d``: the secular-equation deviation norms (one eigendecomposition of the mean) are
    upper bounds of the per-client dense eigensolves and tight to rounding where they apply; a client
    whose ``s A_i^T A_i`` is tiny (the mean's top eigenvalue dominates) falls back to the dense
    way."""
    d = max(1, n * k - extra)
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, k, d))
    A[0] *= 1e-3 if seed % 2 else 1.0  # odd seeds: client 0 needs the fallback
    h = LowRank(A, 1.0 / k)
    nrm, ok = h._deviation_secular()
    dense = np.array(
        [np.abs(np.linalg.eigvalsh(h.Hbar0_np - h.s * A[i].T @ A[i])).max() for i in range(n)]
    )
    assert np.all(nrm[ok] >= dense[ok] * (1 - 1e-12))
    assert np.all(nrm[ok] <= dense[ok] * (1 + 1e-7) + 1e-300)
    if seed % 2:
        assert not ok[0]  # P_0 is nearly the mean: lambda_max dominates, the dense way decides
    dev = h.deviation_norms()  # fast path where ok, dense fallback elsewhere: all bound the truth
    assert np.all(dev >= dense * (1 - 1e-12)) and np.all(dev <= dense * (1 + 1e-7) + 1e-12)


def test_least_squares_delta_h_needs_no_per_client_eigensolve(monkeypatch):
    """least_squares with n k >= d certifies delta_H through one eigendecomposition: the dense
    per-client eigensolve (``_params.eigs`` on a d x d matrix) is never called for it."""
    calls = []
    real = structure._params.eigs

    def spy(M):
        calls.append(M.shape)
        return real(M)

    monkeypatch.setattr(structure._params, "eigs", spy)
    p = make("least_squares", n=12, d=30, m=5)
    assert p.hess.k * p.n >= p.d
    assert calls == [(30, 30)]  # the mean's bounds only
    assert p.constant("delta_H").provenance == "exact"
