"""The contract: batched shapes, client subsets, autograd agreement, seeding, devices, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.errors import ParameterError, UnknownIdError
from boundcheck.problems import make, names, parameters
from boundcheck.problems.quadratic import Quadratic

SMALL = {"n": 3, "d": 4, "seed": 1}


@pytest.mark.parametrize("name", names())
def test_batched_shapes_and_consistency(name):
    p = make(name, **SMALL)
    R = 5
    x = torch.randn(R, p.n, p.d, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    assert p.grad_i(x).shape == (R, p.n, p.d)
    assert p.f_i(x).shape == (R, p.n)
    # a subset of clients (FedPAQ) and a single client (async step) give the same rows
    cl = torch.tensor([2, 0])
    assert torch.allclose(p.grad_i(x[:, [2, 0]], cl), p.grad_i(x)[:, [2, 0]], atol=1e-13)
    one = torch.tensor([1])
    assert torch.allclose(p.f_i(x[:, [1]], one), p.f_i(x)[:, [1]], atol=1e-13)
    # f and grad are the client means
    z = x[:, 0]
    zs = z.unsqueeze(1).expand(-1, p.n, -1)
    assert torch.allclose(p.f(z), p.f_i(zs).mean(1), atol=1e-12)
    assert torch.allclose(p.grad(z), p.grad_i(zs).mean(1), atol=1e-12)
    # grad_i agrees with autograd of f_i (an independent derivation)
    xr = x.clone().requires_grad_(True)
    (auto,) = torch.autograd.grad(p.f_i(xr).sum(), xr)
    assert torch.allclose(auto, p.grad_i(x), rtol=1e-10, atol=1e-12)
    # stochastic oracle: shapes, and the same sample gives the same answer
    s = p.sample(R, cl, torch.Generator().manual_seed(3))
    g1 = p.stochastic_grad_i(x[:, [2, 0]], s, cl)
    assert g1.shape == (R, 2, p.d)
    assert torch.equal(g1, p.stochastic_grad_i(x[:, [2, 0]], s, cl))
    assert p.grad_difference_i(x[:, [2, 0]], x[:, [2, 0]], s, cl).shape == (R, 2, p.d)


@pytest.mark.parametrize("oracle", ["minibatch", "gaussian"])
def test_minibatch_and_gaussian_per_sample_agree_with_autograd(oracle):
    p = make(
        "logistic",
        n=3,
        d=4,
        m=9,
        seed=0,
        lam=0.1,
        rho=0.2,
        oracle=oracle,
        batch_size=2,
        noise_var=0.5,
    )
    x = torch.randn(4, 3, 4, dtype=torch.float64)
    s = p.sample(4, None, torch.Generator().manual_seed(0))
    g = p.stochastic_grad_i(x, s)
    if oracle == "minibatch":
        # rebuild the batch loss by hand and differentiate it
        xr = x.clone().requires_grad_(True)
        a = p.A[torch.arange(3).view(1, -1, 1), s]
        yb = p.y[torch.arange(3).view(1, -1, 1), s]
        z = (a * xr.unsqueeze(2)).sum(-1)
        loss = torch.log1p(torch.exp(-yb * z)).mean(-1) + 0.05 * xr.pow(2).sum(-1)
        loss = loss + 0.2 * (xr.pow(2) / (1 + xr.pow(2))).sum(-1)
        (auto,) = torch.autograd.grad(loss.sum(), xr)
        assert torch.allclose(auto, g, rtol=1e-10, atol=1e-12)
    else:
        assert torch.allclose(g - p.grad_i(x), s, atol=1e-14)


def test_seed_determines_the_data():
    a = make("logistic", **SMALL)
    b = make("logistic", **SMALL)
    c = make("logistic", n=3, d=4, seed=2)
    assert np.array_equal(a.A_np, b.A_np) and a.constants == b.constants
    assert not np.array_equal(a.A_np, c.A_np)
    assert np.array_equal(make("least_squares", **SMALL).b_np, make("least_squares", **SMALL).b_np)


def test_float32_problem_keeps_certified_constants():
    p = make("least_squares", n=3, d=4, seed=0, dtype=torch.float32)
    x = torch.randn(64, 4, dtype=torch.float32)
    y = torch.randn(64, 4, dtype=torch.float32)
    assert p.grad(x).dtype == torch.float32
    ratio = (p.grad(x) - p.grad(y)).norm(dim=-1) / (x - y).norm(dim=-1)
    assert float(ratio.max()) <= p.constant("L").value * (1 + 1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize("name", names())
def test_cuda_matches_cpu(name):
    cpu = make(name, **SMALL)
    gpu = make(name, device="cuda", **SMALL)
    assert cpu.constants == gpu.constants
    x = torch.randn(3, cpu.n, cpu.d, dtype=torch.float64)
    assert torch.allclose(gpu.grad_i(x.cuda()).cpu(), cpu.grad_i(x), atol=1e-12)
    s = gpu.sample(3, None, torch.Generator(device="cuda").manual_seed(0))
    assert gpu.stochastic_grad_i(x.cuda(), s).device.type == "cuda"


BAD = [
    ("least_squares", {"n": 0}, "n=0"),
    ("least_squares", {"d": 0}, "d=0"),
    ("least_squares", {"m": -1}, "m=-1"),
    ("least_squares", {"zeta": -1.0}, "zeta=-1.0"),
    ("asyncbc_least_squares", {"zeta": float("nan")}, "zeta=nan"),
    ("logistic", {"rho": -0.1}, "rho=-0.1"),
    ("logistic", {"lam": -1}, "lam=-1"),
    ("logistic", {"alpha": 0.0}, "alpha=0.0"),
    ("quadratic_toy", {"noise_var": -1.0, "oracle": "gaussian"}, "noise_var=-1.0"),
    ("sarah_counterexample", {"noise_var": -0.5}, "noise_var=-0.5"),
    ("quadratic_toy", {"oracle": "minibatch"}, "oracle='minibatch'"),
    ("least_squares", {"oracle": "magic"}, "oracle='magic'"),
    ("least_squares", {"batch_size": 0, "oracle": "minibatch"}, "batch_size=0"),
    ("least_squares", {"radius": -1.0}, "radius=-1.0"),
    ("least_squares", {"n": 2.5}, "n=2.5"),
    ("least_squares", {"seed": -3}, "seed=-3"),
    ("least_squares", {"dtype": torch.int64}, "dtype=torch.int64"),
    ("quadratic_toy", {"mu": 2.0, "L": 1.0}, "mu=2.0"),
    ("least_squares", {"bogus": 1}, "bogus"),
]


@pytest.mark.parametrize(("name", "params", "needle"), BAD)
def test_bad_parameters_are_refused_by_name(name, params, needle):
    with pytest.raises(ValueError) as err:
        make(name, **params)
    assert isinstance(err.value, ParameterError)
    assert needle in str(err.value)


def test_unknown_family_and_constant():
    with pytest.raises(UnknownIdError, match="least_squares"):
        make("least_squarez")
    p = make("least_squares", **SMALL)
    with pytest.raises(UnknownIdError, match="certifies"):
        p.constant("nope")
    assert "zeta" in parameters("asyncbc_least_squares")


def test_inconsistent_shapes_are_refused():
    p = make("least_squares", **SMALL)
    with pytest.raises(ParameterError, match=r"\(R, m, d=4\)"):
        p.grad_i(torch.zeros(2, 3, 5, dtype=torch.float64))
    with pytest.raises(ParameterError, match="clients"):
        p.grad_i(torch.zeros(2, 2, 4, dtype=torch.float64))  # 2 slots but clients=None
    with pytest.raises(ParameterError, match="outside"):
        p.grad_i(torch.zeros(2, 1, 4, dtype=torch.float64), torch.tensor([3]))
    with pytest.raises(ParameterError, match=r"\(R, d=4\)"):
        p.f(torch.zeros(2, 3, 4, dtype=torch.float64))
    with pytest.raises(ParameterError, match="x_old"):
        p.grad_difference_i(torch.zeros(1, 3, 4), torch.zeros(1, 2, 4), None)
    with pytest.raises(ParameterError, match="H_0"):
        Quadratic(-np.eye(2)[None], np.zeros((1, 2)))
    with pytest.raises(ParameterError, match="c has shape"):
        Quadratic(np.eye(2)[None], np.zeros((2, 2)))
    with pytest.raises(ParameterError, match="labels"):
        from boundcheck.problems.logistic import Logistic

        Logistic(np.ones((1, 2, 2)), np.array([[1.0, 0.0]]))


@settings(max_examples=20, deadline=None)
@given(R=st.integers(1, 4), m=st.integers(1, 6), seed=st.integers(0, 1000))
def test_random_client_multisets(R, m, seed):
    """Any multiset of clients (repeats allowed) gives the rows of the full evaluation."""
    p = make("asyncbc_least_squares", n=4, d=3, seed=seed)
    g = torch.Generator().manual_seed(seed)
    cl = torch.randint(0, 4, (m,), generator=g)
    x = torch.randn(R, 3, dtype=torch.float64, generator=g)
    full = p.grad_i(x.unsqueeze(1).expand(-1, 4, -1))
    sub = p.grad_i(x.unsqueeze(1).expand(-1, m, -1), cl)
    assert torch.allclose(sub, full[:, cl], atol=1e-13)
    assert math.isfinite(float(sub.abs().max()))
