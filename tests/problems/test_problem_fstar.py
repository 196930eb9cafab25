"""f* and x*: exact for quadratics, solved to a stated accuracy for logistic regression."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.problems import make


@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), d=st.integers(1, 6), m=st.integers(1, 8), seed=st.integers(0, 2**20))
def test_least_squares_f_star_against_stacked_lstsq(n, d, m, seed):
    p = make("least_squares", n=n, d=d, m=m, seed=seed)
    # independent solution: minimise 1/n sum_i 1/(2m) ||A_i x - b_i||^2 as one stacked system
    A = p.A_np.reshape(n * m, d)
    b = p.b_np.reshape(n * m)
    xs, *_ = np.linalg.lstsq(A, b, rcond=None)
    f_ref = 0.5 * np.sum((A @ xs - b) ** 2) / (n * m)
    fs = p.constant("f_star")
    if math.isfinite(fs.value):
        assert fs.value == pytest.approx(f_ref, rel=1e-9, abs=1e-12)
        # f* lower-bounds f at random points and the gradient vanishes at x*
        x = torch.randn(32, d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
        assert float(p.f(x).min()) >= fs.value - 1e-12 * (1 + abs(fs.value))
        assert float(p.grad(p.x_star[None]).norm()) <= 1e-9 * (1 + float(np.abs(A).max() ** 2))
        sub = p.suboptimality(x)
        assert torch.allclose(sub, p.f(x) - fs.value, rtol=1e-9, atol=1e-10)


def test_linear_toy_is_unbounded_below():
    p = make("linear_toy", n=3, d=4, seed=0)
    assert p.f_star == -math.inf
    assert p.x_star is None
    x = 1e6 * p.c.mean(0)[None]  # along -grad f = cbar: f decreases without bound
    assert float(p.f(x)) < -1e5


@pytest.mark.parametrize(
    "extra",
    [{"lam": 0.1, "rho": 0.0}, {"lam": 0.2, "rho": 0.3}, {"lam": 1e-3, "rho": 0.0, "alpha": 0.001}],
)
@pytest.mark.parametrize("seed", [0, 1])
def test_logistic_f_star_accuracy_against_scipy(extra, seed):
    p = make("logistic", n=4, d=5, m=30, seed=seed, **extra)
    fs, lo = p.constant("f_star").value, p.constant("f_star_lower").value
    gn = p.constant("grad_norm_at_solution").value
    assert gn <= 1e-10
    assert lo <= fs and fs - lo <= 1e-12  # strongly convex: the stated bracket is tiny
    res = scipy.optimize.minimize(
        p.f_np,
        np.ones(p.d),
        jac=lambda x: p.grads_np(x).mean(0),
        method="BFGS",
        options={"gtol": 1e-10, "maxiter": 10000},
    )
    assert res.fun >= lo - 1e-12  # nobody gets below the certified lower bound
    assert res.fun == pytest.approx(fs, abs=1e-9)
    # f at random points never beats the lower bound either (torch path)
    x = torch.randn(64, p.d, dtype=torch.float64, generator=torch.Generator().manual_seed(seed))
    assert float(p.f(x).min()) >= lo - 1e-12
    assert float(p.f(p.x_star[None])) == pytest.approx(fs, abs=1e-13)


def test_nonconvex_logistic_reports_honest_provenance():
    p = make("asyncbc_logistic", n=8, d=6, m=20, seed=0)  # lam = 0, rho = 0.05: no mu
    assert "mu" not in p.constants
    assert p.x_star is None
    assert p.constant("f_star_lower").value == 0.0
    assert p.constant("zeta2_star").provenance == "observed"
    assert p.constant("grad_norm_at_solution").value <= 1e-8
    x = torch.randn(64, p.d, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    assert float(p.f(x).min()) >= 0.0
    assert p.f_star >= 0.0
