"""Factor-product families (issue 9, dense families): every layout of
:class:`~boundcheck.problems.structure.ClientFactors` gives the float64 host numbers.

``grad_i`` and ``f_i`` of logistic regression (with and without each regulariser term), least squares
and i.i.d. least squares are compared, slot by slot, with the host versions (``grads_np``,
``_grads_np`` and the per-client losses written out in numpy) for random shapes and clients in every
layout: one client, full participation, shared subsets, per-replica clients gathered and grouped by
client (forced with ``GATHER_LIMIT = 0``), and a broadcast (expanded) ``x``. The products' summation
order is the BLAS kernel's, so the agreement is to float64 rounding: ``(d + m + 8) eps`` relative to
the magnitudes ``|A| |x|`` that the sums involve. The regulariser and the blocked post-step are
elementwise and must agree bit for bit with the formulas they replace.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.problems import make, structure
from boundcheck.problems.logistic import logistic
from boundcheck.problems.structure import ClientFactors, blocked

EPS = float(np.finfo(np.float64).eps)

#: (family, keyword arguments): each regulariser case of logistic, least squares, i.i.d.
FAMILIES = [
    ("logistic", {"lam": 0.1, "rho": 0.0}),
    ("logistic", {"lam": 0.0, "rho": 0.05}),
    ("logistic", {"lam": 0.2, "rho": 0.3}),
    ("logistic", {"lam": 0.0, "rho": 0.0}),
    ("asyncbc_logistic", {}),
    ("least_squares", {}),
    ("iid_least_squares", {}),
]


def _build(name: str, extra: dict, n: int, d: int, m: int, seed: int):
    if name == "logistic":
        return logistic(n=n, d=d, m=m, seed=seed, **extra)
    kw = {"n": n, "d": d, "seed": seed} | extra
    if name != "asyncbc_logistic":
        kw["m"] = m
    return make(name, **kw)


def _host(p, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(grad f_i(x), f_i(x), scale)`` for every client at one point, float64 on the host;
    ``scale`` bounds the magnitudes the sums involve (``|A| |x| + |b|`` and the regulariser)."""
    base = getattr(p, "base", p)
    A = base.A_np  # (n', m, d)
    mag = np.abs(A) @ np.abs(x)  # (n', m)
    if hasattr(base, "grads_np"):  # logistic
        z = A @ x
        f = np.mean(np.logaddexp(0.0, -base.y_np * z), axis=1)
        f = f + 0.5 * base.lam * x @ x + base.rho * np.sum(x * x / (1 + x * x))
        g = base.grads_np(x)
        scale = np.max(np.abs(A), axis=(1, 2)) * (1 + mag.max(axis=1)) + base.lam * np.abs(x).max()
        scale = scale + base.rho
    else:  # least squares, residual form
        r = A @ x - base.b_np
        f = 0.5 * base.s * np.sum(r**2, axis=1)
        g = base._grads_np(x)
        big = mag + np.abs(base.b_np)
        scale = base.s * np.max(np.abs(A), axis=(1, 2)) * big.sum(axis=1) + base.s * (big**2).sum(1)
    if base is not p:  # identical clients: every client is the one base client
        g, f, scale = (np.broadcast_to(v[0], (p.n, *v.shape[1:])) for v in (g, f, scale))
    return g, f, scale


def _check(p, x: torch.Tensor, cl: torch.Tensor | None) -> None:
    R, m, d = x.shape
    gi, fi = p.grad_i(x, cl), p.f_i(x, cl)
    assert gi.shape == (R, m, d) and fi.shape == (R, m)
    clr = (
        torch.arange(p.n).expand(R, m) if cl is None else (cl.expand(R, m) if cl.dim() == 1 else cl)
    )
    tol = (d + getattr(getattr(p, "base", p), "m", 1) + 8) * EPS
    for r in range(R):
        for s in range(m):
            g, f, scale = _host(p, x[r, s].numpy())
            c = int(clr[r, s])
            err = np.max(np.abs(gi[r, s].numpy() - g[c]))
            assert err <= tol * (scale[c] + 1e-300), (r, s, c, err, scale[c])
            assert abs(float(fi[r, s]) - f[c]) <= tol * (abs(f[c]) + scale[c] + 1e-300)


@pytest.mark.parametrize(("name", "extra"), FAMILIES)
@pytest.mark.parametrize("grouped", [False, True])
@settings(max_examples=6, deadline=None)
@given(
    n=st.integers(1, 5),
    d=st.integers(1, 7),
    m=st.integers(1, 6),
    R=st.integers(1, 5),
    slots=st.integers(1, 4),
    seed=st.integers(0, 2**16),
)
def test_every_layout_gives_the_host_numbers(name, extra, grouped, n, d, m, R, slots, seed):
    p = _build(name, extra, n, d, m, seed)
    g = torch.Generator().manual_seed(seed)
    old = structure.GATHER_LIMIT
    structure.GATHER_LIMIT = 0 if grouped else old
    try:
        _check(p, torch.randn(R, p.n, p.d, dtype=torch.float64, generator=g), None)  # all
        x = torch.randn(R, slots, p.d, dtype=torch.float64, generator=g)
        _check(p, x, torch.randint(0, p.n, (slots,), generator=g))  # shared subset
        _check(p, x, torch.randint(0, p.n, (R, slots), generator=g))  # per replica
        xe = torch.randn(R, 1, p.d, dtype=torch.float64, generator=g).expand(R, p.n, p.d)
        _check(p, xe, None)  # a broadcast x (stride 0), as FedPAQ's first local step passes
    finally:
        structure.GATHER_LIMIT = old


@pytest.mark.parametrize(("name", "extra"), FAMILIES[:1] + FAMILIES[4:])
def test_many_replicas_per_client_at_benchmark_like_shapes(name, extra):
    """The grouped path with many rows per client (R = 300 replicas over 7 clients)."""
    p = _build(name, extra, 7, 40, 12, 3)
    g = torch.Generator().manual_seed(5)
    x = torch.randn(300, 1, p.d, dtype=torch.float64, generator=g)
    cl = torch.randint(0, p.n, (300, 1), generator=g)
    _check(p, x, cl)
    _check(p, torch.randn(9, p.n, p.d, dtype=torch.float64, generator=g), None)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 4),
    k=st.integers(1, 5),
    d=st.integers(1, 9),
    R=st.integers(1, 6),
    m=st.integers(1, 4),
    per_replica=st.booleans(),
    grouped=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_client_factors_match_explicit_products(n, k, d, R, m, per_replica, grouped, seed):
    """``ax``, ``atr`` and ``chain`` against the products written with the slots' own factors."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, k, d, dtype=torch.float64, generator=g)
    b = torch.randn(n, k, dtype=torch.float64, generator=g)
    F = ClientFactors(A, b)
    x = torch.randn(R, m, d, dtype=torch.float64, generator=g)
    cl = torch.randint(0, n, (R, m) if per_replica else (m,), generator=g)
    Ac = A[cl] if per_replica else A[cl].expand(R, m, k, d)
    bc = b[cl] if per_replica else b[cl].expand(R, m, k)
    z = torch.einsum("rmkd,rmd->rmk", Ac, x)
    want = torch.einsum("rmkd,rmk->rmd", Ac, torch.tanh(z - bc)) + 0.5 * x

    def link(t, bt):
        t.sub_(bt).tanh_()

    def post(gr, xr):
        gr.add_(0.5 * xr)

    old = structure.GATHER_LIMIT
    structure.GATHER_LIMIT = 0 if grouped else old
    try:
        for c in (cl, torch.arange(n)) if m == n and not per_replica else (cl,):
            if c is not cl:
                Ac, bc = A.expand(R, n, k, d), b.expand(R, n, k)
                z = torch.einsum("rmkd,rmd->rmk", Ac, x)
                want = torch.einsum("rmkd,rmk->rmd", Ac, torch.tanh(z - bc)) + 0.5 * x
            assert torch.allclose(F.ax(x, c), z, rtol=1e-13, atol=1e-13)
            got = F.chain(x, c, link, post)
            assert got.is_contiguous() and F.ax(x, c).is_contiguous()
            assert torch.allclose(got, want, rtol=1e-13, atol=1e-13)
            r = torch.randn(R, m, k, dtype=torch.float64, generator=g)
            assert torch.allclose(
                F.atr(r, c), torch.einsum("rmkd,rmk->rmd", Ac, r), rtol=1e-13, atol=1e-13
            )
    finally:
        structure.GATHER_LIMIT = old


@settings(max_examples=25, deadline=None)
@given(
    lam=st.sampled_from([0.0, 0.1, 1.7]),
    rho=st.sampled_from([0.0, 0.05, 2.5]),
    rows=st.integers(1, 200),
    block=st.integers(1, 70),
    seed=st.integers(0, 2**16),
)
def test_in_place_regulariser_is_bit_identical(lam, rho, rows, block, seed):
    """``g += reg'(x)``, in place, blocked and with zero terms skipped, equals ``g + reg'(x)``."""
    p = logistic(n=2, d=7, m=3, lam=lam, rho=rho, seed=1)
    g = torch.Generator().manual_seed(seed)
    x = 3 * torch.randn(rows, p.d, dtype=torch.float64, generator=g)
    g0 = torch.randn(rows, p.d, dtype=torch.float64, generator=g)
    want = g0 + p._reg_grad(x)
    got = g0.clone()
    blocked(p._add_reg_grad, got, x, rows=block)
    assert torch.equal(got, want)
