"""AsyncBC Theorem 3's counterexample and the evidence for the findings about its proof."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.problems import make


def test_sarah_constants_are_exact():
    p = make("sarah_counterexample", n=5, d=3, zeta=2.0, seed=4)
    b = -p.b_np  # f_i = ||x + b_i||^2 / 2 is stored as 1/2 ||I x - (-b_i)||^2
    bbar = b.mean(0)
    # eigenvalue constants are rounded outward by 8 d eps ||H|| (never on the wrong side of the
    # truth): upper constants lie in [truth, truth + slack], mu in [truth - slack, truth]
    slack = 8 * 3 * np.finfo(np.float64).eps * 1.0 + np.finfo(np.float64).tiny
    for k, v in (("L", 1.0), ("L_i", 1.0), ("delta_H", 0.0)):
        assert v <= p.constant(k).value <= v + slack, k
    assert 1.0 - slack <= p.constant("mu").value <= 1.0
    assert torch.allclose(p.x_star, torch.as_tensor(-bbar), atol=1e-14)
    assert p.f_star == pytest.approx(0.5 * ((b - bbar) ** 2).sum(1).mean(), rel=1e-12)
    zeta2 = ((b - bbar) ** 2).sum(1).max()
    assert p.constant("zeta2").value == pytest.approx(zeta2, rel=1e-12)
    # gradient dissimilarity is the same at every x (finite sup over R^d)
    x = 100 * torch.randn(7, 3, dtype=torch.float64)
    gi = p.grad_i(x.unsqueeze(1).expand(-1, 5, -1))
    dev = (gi - gi.mean(1, keepdim=True)).pow(2).sum(-1).max(1).values
    assert torch.allclose(dev, torch.full_like(dev, zeta2), rtol=1e-9)


def _sarah_noiseless(p, x0, eta, T):
    """Algorithm 2 with concurrency 1, m_0 = grad f(x_0), b = 0, sigma = 0."""
    m = p.grad(x0)
    x_prev, x = x0, x0 - eta * m
    for _ in range(1, T):
        i = torch.tensor([0])
        g = p.grad_difference_i(x.unsqueeze(1), x_prev.unsqueeze(1), None, i)[:, 0]
        m = m + g
        x_prev, x = x, x - eta * m
    return x


@pytest.mark.parametrize("T", [1, 2, 10, 100])
def test_finding_small_stepsize_case_of_theorem3_proof(T):
    """x_T = (1-eta)^T x_0, so ||x_T||^2 = (1-eta)^{2T} ||x_0||^2 < ||x_0||^2/2 at eta = 1/(2T).

    The proof claims ||x_T||^2 = (1-eta)^T ||x_0||^2 >= ||x_0||^2/2: false; >= 1/4 holds.
    """
    p = make("sarah_counterexample", n=3, d=4, zeta=0.0, noise_var=0.0, oracle="exact", seed=0)
    x0 = torch.randn(2, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(T))
    eta = 1 / (2 * T)
    xT = _sarah_noiseless(p, x0, eta, T)
    ratio = xT.pow(2).sum(-1) / x0.pow(2).sum(-1)
    assert torch.allclose(ratio, torch.full_like(ratio, (1 - eta) ** (2 * T)), rtol=1e-12)
    assert float(ratio.max()) < 0.5  # the paper's ">= ||x_0||^2 / 2" fails
    # the corrected constant 1/4, attained exactly at T = 1: allow float64 rounding of the ratio
    assert float(ratio.min()) >= 0.25 * (1 - 1e-12)


@settings(max_examples=50, deadline=None)
@given(T=st.integers(2, 10_000), frac=st.floats(0.0, 1.0), sfrac=st.floats(0.0, 0.5))
def test_finding_four_fifths_not_five_fourths(T, frac, sfrac):
    """For 1/(2T) <= eta <= 1 and s <= T/2: (1 - eta)^{T-s} <= 4/5 (the proof prints 5/4)."""
    eta = 1 / (2 * T) + frac * (1 - 1 / (2 * T))
    s = math.floor(sfrac * T)
    assert (1 - eta) ** (T - s) <= 0.8 + 1e-12
    assert (1 - (1 - eta) ** (T - s)) ** 2 >= 1 / 25 - 1e-12
