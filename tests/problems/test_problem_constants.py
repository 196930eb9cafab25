"""Property tests: no measured Lipschitz / curvature / gradient ratio beats a certified constant."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.problems import make

REL = 1e-9  # float64 round-off allowance on a ratio
SETTINGS = settings(max_examples=15, deadline=None)


def _pairs(p, seed: int, R: int = 16, scale: float = 3.0):
    g = torch.Generator().manual_seed(seed)
    x = scale * torch.randn(R, p.d, dtype=torch.float64, generator=g)
    y = x + scale * torch.randn(R, p.d, dtype=torch.float64, generator=g) * torch.rand(
        R, 1, dtype=torch.float64, generator=g
    )
    return x, y


def _local(p, x):
    return x.unsqueeze(1).expand(-1, p.n, -1)


FAMILY_CASES = [
    ("least_squares", {}),
    ("least_squares", {"scale": "sum", "m": 3}),
    ("asyncbc_least_squares", {}),
    ("sarah_counterexample", {}),
    ("quadratic_toy", {}),
    ("linear_toy", {}),
    ("logistic", {"lam": 0.1, "rho": 0.0}),
    ("logistic", {"lam": 0.0, "rho": 0.05}),
    ("logistic", {"lam": 0.2, "rho": 0.3, "alpha": 0.01}),
    ("indefinite_quadratic", {"lmin": -0.5, "spread": 2.0}),
    ("indefinite_quadratic", {"lmin": 0.2, "spread": 1.5, "structure": "dense"}),
    ("indefinite_quadratic", {"lmin": 0.0, "spread": 0.5}),
    ("iid_least_squares", {}),
    ("iid_least_squares", {"m": 3, "oracle": "minibatch", "batch_size": 2}),
]


# sizes and data seed of a problem, and the seed of the probe points (shared by the property tests)
FAMILY_DRAWS = given(
    n=st.integers(1, 5), d=st.integers(1, 6), seed=st.integers(0, 2**20), pseed=st.integers(0, 99)
)


def _build(name, extra, n, d, seed):
    return make(name, n=n, d=d, seed=seed, **extra)


@pytest.mark.parametrize(("name", "extra"), FAMILY_CASES)
@SETTINGS
@FAMILY_DRAWS
def test_lipschitz_ratios_never_exceed_certified(name, extra, n, d, seed, pseed):
    p = _build(name, extra, n, d, seed)
    x, y = _pairs(p, pseed)
    dist = (x - y).norm(dim=-1)
    gx, gy = p.grad_i(_local(p, x)), p.grad_i(_local(p, y))
    # float64 rounding of a measured ratio ||g(x) - g(y)|| / ||x - y||: each gradient carries a
    # relative error of a few eps (sums over d and over clients), so the numerator is known only up
    # to ~ 64 eps (||g(x)|| + ||g(y)||); that, over the distance, is the measurement's own slack.
    eps = torch.finfo(torch.float64).eps
    size = gx.norm(dim=-1).amax(dim=1) + gy.norm(dim=-1).amax(dim=1)  # (R,)
    slack = 64 * eps * size / dist  # (R,)
    per_client = (gx - gy).norm(dim=-1) / dist[:, None]  # (R, n)
    Lc = torch.as_tensor(p.L_clients)
    assert torch.all(per_client <= Lc * (1 + REL) + slack[:, None])
    assert torch.all(per_client.amax(1) <= p.constant("L_i").value * (1 + REL) + slack)
    glob = (p.grad(x) - p.grad(y)).norm(dim=-1) / dist
    assert torch.all(glob <= p.constant("L").value * (1 + REL) + slack)
    # AsyncBC Assumption 2: Hessian dissimilarity
    dx = gx.mean(1, keepdim=True) - gx
    dy = gy.mean(1, keepdim=True) - gy
    hd = (dx - dy).norm(dim=-1) / dist[:, None]
    assert torch.all(hd.amax(1) <= p.constant("delta_H").value * (1 + REL) + 2 * slack)
    # mu lower-bounds the measured curvature <grad f(x) - grad f(y), x - y> / ||x - y||^2
    if "mu" in p.constants:
        curv = ((p.grad(x) - p.grad(y)) * (x - y)).sum(-1) / dist**2
        assert float(curv.min()) >= p.constant("mu").value * (1 - REL) - 1e-12


@pytest.mark.parametrize(("name", "extra"), FAMILY_CASES)
@SETTINGS
@FAMILY_DRAWS
def test_global_gradient_bounds_hold_where_certified(name, extra, n, d, seed, pseed):
    p = _build(name, extra, n, d, seed)
    x, _ = _pairs(p, pseed, scale=30.0)  # far-away points too
    gi = p.grad_i(_local(p, x))
    g = gi.mean(1)
    checked = 0
    for key, measured in (
        ("G", gi.pow(2).sum(-1).max()),
        ("M2", g.pow(2).sum(-1).max()),
        ("zeta2", (gi - g.unsqueeze(1)).pow(2).sum(-1).max()),
    ):
        c = p.constant(key)
        if math.isfinite(c.value):
            checked += 1
            assert float(measured) <= c.value * (1 + REL) + 1e-12, key
    # families that must certify these globally really do
    if name == "logistic" and extra["lam"] == 0.0:
        assert checked == 3
    if name in ("linear_toy", "sarah_counterexample", "quadratic_toy"):
        assert math.isfinite(p.constant("zeta2").value)


@SETTINGS
@given(seed=st.integers(0, 2**20), radius=st.floats(0.1, 5.0), pseed=st.integers(0, 99))
def test_ball_constants_hold_inside_the_ball(seed, radius, pseed):
    for name, extra in (
        ("least_squares", {}),
        ("logistic", {"lam": 0.3, "rho": 0.1}),
        ("indefinite_quadratic", {"lmin": 0.1, "spread": 2.0}),
        ("indefinite_quadratic", {"lmin": 0.1, "spread": 2.0, "structure": "dense"}),
    ):
        p = make(name, n=3, d=4, seed=seed, radius=radius, **extra)
        centre = torch.as_tensor(p.x_star if p.x_star is not None else p.x_hat)
        g = torch.Generator().manual_seed(pseed)
        u = torch.randn(64, p.d, dtype=torch.float64, generator=g)
        u = (
            u
            / u.norm(dim=-1, keepdim=True)
            * radius
            * torch.rand(64, 1, dtype=torch.float64, generator=g)
        )
        x = centre + u
        gi = p.grad_i(_local(p, x))
        assert float(gi.pow(2).sum(-1).max()) <= p.constant("G").value * (1 + REL)
        assert float(gi.mean(1).pow(2).sum(-1).max()) <= p.constant("M2").value * (1 + REL)


def test_exact_constants_are_attained():
    """'exact' means tight: the top eigenvector of Hbar / H_i attains L / L_i / mu / delta_H."""
    p = make("least_squares", n=3, d=5, seed=7)
    Hbar = p.H_np.mean(0)
    _, V = np.linalg.eigh(Hbar)
    x = torch.as_tensor(V[:, -1])[None]
    ratio = float(p.grad(x).sub(p.grad(torch.zeros_like(x))).norm())
    assert ratio == pytest.approx(p.constant("L").value, rel=1e-12)
    xm = torch.as_tensor(V[:, 0])[None]
    curv = float(((p.grad(xm) - p.grad(torch.zeros_like(xm))) * xm).sum())
    assert curv == pytest.approx(p.constant("mu").value, rel=1e-10)
    D = Hbar[None] - p.H_np
    k = int(np.argmax([np.abs(np.linalg.eigvalsh(Di)).max() for Di in D]))
    evd, Vd = np.linalg.eigh(D[k])
    v = Vd[:, int(np.argmax(np.abs(evd)))]
    xs = torch.as_tensor(v)[None]
    gi = p.grad_i(_local(p, xs)) - p.grad_i(_local(p, torch.zeros_like(xs)))
    hd = float((gi.mean(1) - gi[:, k]).norm())
    assert hd == pytest.approx(p.constant("delta_H").value, rel=1e-10)


def test_asyncbc_least_squares_closed_form_constants():
    """AsyncBC Section 5: A_i^2 = i^2/n I -> L = mu = (n+1)(2n+1)/(6n), L_i = n."""
    for n in (1, 2, 4, 7):
        p = make("asyncbc_least_squares", n=n, d=3, zeta=2.0, seed=n)
        L = (n + 1) * (2 * n + 1) / (6 * n)
        assert p.constant("L").value == pytest.approx(L, rel=1e-13)
        assert p.constant("mu").value == pytest.approx(L, rel=1e-13)
        assert p.constant("L_i").value == pytest.approx(n, rel=1e-13)
        assert p.constant("delta_H").value == pytest.approx(max(n - L, L - 1 / n), abs=1e-13)
        assert p.constant("zeta2").value == (math.inf if n > 1 else 0.0)
        # x* = sqrt(n) sum_i i b_i / sum_i i^2 in closed form
        i = np.arange(1, n + 1)
        xs = math.sqrt(n) * (i[:, None] * p.b_np).sum(0) / (i**2).sum()
        assert np.allclose(p.x_star.numpy(), xs, rtol=1e-12, atol=1e-14)


def test_asyncbc_b_variance_reading_is_zeta2_over_i2():
    """Reading: b_i ~ N(0, zeta^2/i^2 I) has per-entry variance zeta^2/i^2 (not std)."""
    n, d, zeta = 3, 600, 1.5
    p = make("asyncbc_least_squares", n=n, d=d, zeta=zeta, seed=1)
    for k in range(n):
        i = k + 1
        var = float(np.mean(p.b_np[k] ** 2))
        # sample variance of d Gaussians: relative sd sqrt(2/d); 6 sd tolerance
        assert abs(var / (zeta**2 / i**2) - 1) <= 6 * math.sqrt(2 / d)
    # zeta = 0 is the homogeneous case: grad f_i(x*) = 0 for all i
    p0 = make("asyncbc_least_squares", n=4, d=5, zeta=0.0, seed=1)
    assert p0.constant("zeta2_star").value == 0.0


def test_zeta_zero_gives_common_minimiser():
    p = make("least_squares", n=4, d=3, m=10, zeta=0.0, seed=3)
    assert p.constant("zeta2_star").value <= 1e-20
    p1 = make("least_squares", n=4, d=3, m=10, zeta=1.0, seed=3)
    assert p1.constant("zeta2_star").value > 1e-3


def test_observed_constants_are_below_certified_ones():
    p = make("logistic", n=4, d=5, lam=0.0, rho=0.05, seed=2)
    xs = 10 * torch.randn(50, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    obs = p.observe(xs)
    for k in ("G", "M2", "zeta2"):
        assert obs[k].provenance == "observed"
        assert 0 < obs[k].value <= p.constant(k).value
