"""The families added for issue 8: indefinite local Hessians and identical (i.i.d.) nodes."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.errors import ParameterError
from boundcheck.problems import make


@pytest.mark.parametrize("structure", ["diagonal", "dense"])
@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(2, 5),
    d=st.integers(2, 6),
    lmin=st.floats(-1.0, 0.5),
    seed=st.integers(0, 2**16),
)
def test_indefinite_local_hessians_with_exact_constants(structure, n, d, lmin, seed):
    p = make(
        "indefinite_quadratic", n=n, d=d, lmin=lmin, spread=3.0, seed=seed, structure=structure
    )
    H = p.H_np
    ev = np.linalg.eigvalsh(H)
    assert ev[:, 0].min() < 0  # spread 3 > the mean's curvature: some local f_i is non-convex
    Hbar = H.mean(0)
    evb = np.linalg.eigvalsh(Hbar)
    scale = 1e-9 * (1 + np.abs(ev).max())
    # exact, attained constants: spectral norms of Hbar, H_i and Hbar - H_i
    assert p.constant("L").value == pytest.approx(np.abs(evb).max(), abs=scale)
    assert p.constant("L_i").value == pytest.approx(np.abs(ev).max(), abs=scale)
    dev = max(np.abs(np.linalg.eigvalsh(Hbar - Hi)).max() for Hi in H)
    assert p.constant("delta_H").value == pytest.approx(dev, abs=scale)
    assert p.constant("lambda_min").value <= evb[0] + 1e-15
    if evb[0] > 1e-9:
        assert p.constant("mu").value == pytest.approx(evb[0], abs=scale)
        assert math.isfinite(p.f_star) and p.x_star is not None
    if evb[0] < -1e-9:  # indefinite mean: unbounded below, and f really decreases without bound
        assert "mu" not in p.constants
        assert p.f_star == -math.inf and p.constant("f_star_lower").value == -math.inf
        v = torch.as_tensor(np.linalg.eigh(Hbar)[1][:, 0])[None]
        t = 1e3 * (1 + float(p.cbar.norm())) / abs(evb[0])  # the quadratic term dominates
        assert float(p.f(t * v)) < -1e2
    assert p.constant("zeta2").value == math.inf
    assert p.constant("G").value == math.inf


def test_mean_psd_or_not_is_the_lmin_parameter():
    psd = make("indefinite_quadratic", n=6, d=8, lmin=0.3, spread=2.0, seed=1)
    assert psd.constant("mu").value == pytest.approx(0.3, rel=1e-12)
    assert psd.constant("lambda_min").value <= 0.3
    assert np.linalg.eigvalsh(psd.H_np)[:, 0].min() < 0
    indef = make("indefinite_quadratic", n=6, d=8, lmin=-0.3, spread=2.0, seed=1)
    assert indef.constant("lambda_min").value == pytest.approx(-0.3, rel=1e-12)
    assert indef.constant("L").value == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(ParameterError, match="lmin=2"):
        make("indefinite_quadratic", lmin=2, lmax=1)
    with pytest.raises(ParameterError, match="structure='sparse'"):
        make("indefinite_quadratic", structure="sparse")
    with pytest.raises(ParameterError, match="spread=-1"):
        make("indefinite_quadratic", spread=-1)


@pytest.mark.parametrize("oracle", ["gaussian", "minibatch", "exact"])
def test_iid_nodes_share_one_function(oracle):
    p = make("iid_least_squares", n=5, d=4, m=12, seed=3, oracle=oracle, batch_size=2)
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    xs = x.unsqueeze(1).expand(-1, 5, -1)
    fi, gi = p.f_i(xs), p.grad_i(xs)
    assert torch.equal(fi, fi[:, :1].expand_as(fi))  # f_i = f for every node, bit for bit
    assert torch.allclose(gi.mean(1), p.grad(x), rtol=1e-13, atol=1e-14)
    assert torch.allclose(fi[:, 0], p.f(x), rtol=1e-12, atol=1e-13)
    for key in ("zeta2", "zeta2_star", "delta_H"):
        assert p.constant(key).value == 0.0 and p.constant(key).provenance == "exact"
    assert p.constant("L").value == p.constant("L_i").value
    assert p.constant("mu").value > 0  # m >= d: strongly convex (FedPAQ Theorem 1)
    # noise only through the oracle: the nodes' draws differ, their expectations do not
    s = p.sample(2000, None, torch.Generator().manual_seed(1))
    g = p.stochastic_grad_i(x[:1].unsqueeze(1).expand(2000, 5, 4), s)
    if oracle == "exact":
        assert torch.allclose(g, gi[:1].expand(2000, 5, 4), rtol=1e-13, atol=1e-14)
    else:
        assert float((g[:, 0] - g[:, 1]).abs().max()) > 0
        se = g.std(0) / math.sqrt(2000)
        assert torch.all((g.mean(0) - gi[0]).abs() <= 6 * se + 1e-12)
        err = (g - gi[0]).pow(2).sum(-1).mean(0)  # per node E||g - grad f||^2 <= sigma2
        assert (
            float(err.max()) <= p.constant("sigma2").value * (1 + 6 * math.sqrt(2 / 2000)) + 1e-12
        )


def test_iid_x_star_is_the_one_client_minimiser():
    p = make("iid_least_squares", n=3, d=5, m=20, seed=0, oracle="exact")
    A, b = p.base.A_np[0], p.base.b_np[0]
    xs, *_ = np.linalg.lstsq(A, b, rcond=None)
    assert np.allclose(p.x_star.numpy(), xs, rtol=1e-10, atol=1e-12)
    assert p.f_star == pytest.approx(0.5 * np.sum((A @ xs - b) ** 2) / 20, rel=1e-12)
    assert float(p.grad(p.x_star[None]).norm()) <= 1e-12


def test_cli_lists_the_new_families_with_their_constants(capsys):
    import json

    from boundcheck.cli import main

    assert main(["problem"]) == 0
    listing = capsys.readouterr().out
    assert "indefinite_quadratic" in listing and "iid_least_squares" in listing
    rc = main(["problem", "indefinite_quadratic", "--lmin", "-0.25", "--spread", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    consts = out["constants"]
    assert consts["lambda_min"]["value"] == pytest.approx(-0.25, rel=1e-12)
    assert consts["delta_H"]["provenance"] == "exact"
    rc = main(["problem", "iid_least_squares", "--json"])
    consts = json.loads(capsys.readouterr().out)["constants"]
    assert rc == 0 and consts["zeta2"]["value"] == 0.0 and consts["delta_H"]["value"] == 0.0
