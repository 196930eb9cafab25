"""Tests of FedAvg / FedPAQ (FedPAQ Algorithm 1) on diagonal quadratics with closed forms."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from quad_problems import Quadratic, quad

from boundcheck import rng
from boundcheck.algorithms.common import Streams
from boundcheck.algorithms.fedpaq import eta_theorem1, eta_theorem2, fedavg, fedpaq
from boundcheck.compressors import QSGD, Compressor
from boundcheck.errors import ParameterError


def closed_form_local(p, x, eta, tau):
    """x_{k,tau}^{(i)} = b_i + (1 - eta a_i)^tau (x - b_i) for every node: (R, n, d)."""
    c = (1 - eta * p.a).pow(tau).view(1, -1, 1)
    return p.b.unsqueeze(0) + c * (x.unsqueeze(1) - p.b.unsqueeze(0))


def test_tau1_full_participation_identity_is_gradient_descent():
    # FedPAQ Remark 2 / DESIGN.md: tau = 1, q = 0, r = n, sigma = 0 is gradient descent.
    p = quad(n=5, d=4)
    x0 = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    tr = fedavg(p, K=6, tau=1, r=5, R=3, seed=0, eta=0.3, x0=x0, record_x=True)
    x = x0.clone()
    for k in range(7):
        assert torch.allclose(tr["x"][k], x, rtol=0, atol=1e-13)
        x = x - 0.3 * p.grad(x)


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(1, 6),
    tau=st.integers(1, 5),
    eta=st.floats(0.01, 0.9),
    seed=st.integers(0, 1000),
)
def test_closed_form_local_sgd_full_participation(n, tau, eta, seed):
    p = quad(n=n, d=2, seed=seed)
    x0 = torch.ones(2, dtype=torch.float64)
    tr = fedpaq(p, K=3, tau=tau, r=n, R=2, seed=seed, eta=eta, x0=x0, record_x=True)
    x = x0.expand(2, 2)
    for k in range(3):
        assert torch.allclose(tr["x"][k], x, atol=1e-12)
        # bar x_{k,t} of eq. (20) and Theorem 2's lhs at it
        for t in range(tau):
            bar = closed_form_local(p, x, eta, t).mean(1)
            assert torch.allclose(
                tr["grad_norm_sq"][k * tau + t], (p.grad(bar) ** 2).sum(-1), atol=1e-12
            )
        x = closed_form_local(p, x, eta, tau).mean(1)
    assert torch.allclose(tr["x"][3], x, atol=1e-12)
    assert torch.allclose(tr["dist_sq"][3], ((x - p.x_star) ** 2).sum(-1), atol=1e-12)
    assert torch.allclose(tr["f_gap"][3], p.f(x) - p.constants["f_star"].value, atol=1e-12)
    assert (tr["f_gap"] >= -1e-12).all()


def test_lhs_rows_align_with_the_server_iterates():
    # bar x_{k,0} = x_k (eq. (20)): Theorem 2's row k tau is ||grad f(x_k)||^2, for k < K
    p = quad(n=5, d=3, noise=0.4, seed=5)
    tr = fedpaq(p, K=4, tau=3, r=2, R=3, seed=1, eta=0.2)
    assert tr["grad_norm_sq"].shape == (12, 3) and tr["dist_sq"].shape == (5, 3)
    assert torch.allclose(tr["grad_norm_sq"][::3], tr["grad_norm_sq_x"][:4], rtol=1e-13, atol=0)
    assert torch.allclose(tr["f_gap_bar"][::3], tr["f_gap"][:4], rtol=1e-13, atol=1e-15)


def test_identical_clients_are_one_client():
    # "n identical clients are one client" (DESIGN.md): n = 4 copies vs n = 1, no noise.
    p1 = quad(n=1, d=3, seed=2)
    p4 = Quadratic(n=4, d=3, a=p1.a.repeat(4), b=p1.b.repeat(4, 1))
    kw = dict(K=4, tau=3, R=2, seed=0, eta=0.2, x0=torch.ones(3), record_x=True)
    t1 = fedavg(p1, r=1, **kw)
    t4 = fedavg(p4, r=2, **kw)
    assert torch.allclose(t1["x"], t4["x"], atol=1e-14)


def test_partial_participation_is_uniform_without_replacement():
    # Line 2: S_k is uniform over the binom(n, r) subsets, independently per replica.
    n, r, R = 4, 2, 3000
    p = quad(n=n, d=2, seed=3)
    x0 = torch.zeros(2, dtype=torch.float64)
    tr = fedpaq(p, K=1, tau=2, r=r, R=R, seed=11, eta=0.1, x0=x0, record_x=True)
    local = closed_form_local(p, x0.expand(1, 2), 0.1, 2)[0]  # (n, d)
    subsets = list(itertools.combinations(range(n), r))
    cands = torch.stack([local[list(s)].mean(0) for s in subsets])  # (6, d)
    dist = (tr["x"][1].unsqueeze(1) - cands.unsqueeze(0)).norm(dim=-1)  # (R, 6)
    assert (dist.min(1).values < 1e-12).all()  # every x_1 is the average of one r-subset
    counts = torch.bincount(dist.argmin(1), minlength=len(subsets)).double()
    expected = R / len(subsets)
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 25.7  # 99.99% quantile of chi-square with 5 degrees of freedom


def test_virtual_and_direct_agree_without_noise_at_full_participation():
    p = quad(n=4, d=3, seed=4)
    kw = dict(K=3, tau=2, r=4, R=2, seed=0, eta=0.2, record_x=True)
    a = fedavg(p, virtual=True, **kw)
    b = fedavg(p, virtual=False, **kw)
    assert torch.allclose(a["x"], b["x"], atol=1e-14)
    assert "grad_norm_sq" not in b.series and not b.meta["sampling_shared_across_replicas"]


def test_seeded_and_replicas_independent():
    p = quad(n=6, d=3, noise=0.5)
    kw = dict(K=3, tau=2, r=3, R=4, eta=0.1, record_x=True)
    a, b, c = fedavg(p, seed=5, **kw), fedavg(p, seed=5, **kw), fedavg(p, seed=6, **kw)
    assert torch.equal(a["x"], b["x"]) and torch.equal(a["grad_norm_sq"], b["grad_norm_sq"])
    assert not torch.equal(a["x"], c["x"])
    assert not torch.equal(a["x"][3, 0], a["x"][3, 1])  # replicas draw independent noise


def test_noise_variance_of_one_local_step():
    # tau = 1, r = n: x_1 = x_0 - eta (grad f(x_0) + mean_i noise_i); Var = eta^2 noise^2 / n.
    n, R, eta, s = 5, 4000, 0.5, 2.0
    p = quad(n=n, d=1, noise=s)
    tr = fedavg(p, K=1, tau=1, r=n, R=R, seed=1, eta=eta, x0=torch.zeros(1), record_x=True)
    mean_x1 = -eta * p.grad(torch.zeros(1, 1, dtype=torch.float64))[0, 0]
    err = tr["x"][1, :, 0] - mean_x1
    var = eta**2 * s**2 / n
    assert abs(float(err.mean())) < 5 * math.sqrt(var / R)
    assert abs(float(err.var()) / var - 1) < 5 * math.sqrt(2 / R)


class HalfRandK(Compressor):
    """Unbiased: keep each coordinate w.p. 1/2 and double it (q = 1); 16 bits per float kept."""

    name = "half_rand"
    biased = False

    def __call__(self, x, generator=None):
        keep = rng.uniform(generator, x.shape, device=x.device, dtype=x.dtype) < 0.5
        return torch.where(keep, 2 * x, torch.zeros_like(x))

    def q(self, d):
        return 1.0

    def bits(self, d):
        return 16 * d


def test_quantized_uploads_are_unbiased_and_counted():
    p = quad(n=3, d=4, seed=7)
    R = 4000
    kw = dict(K=1, tau=2, r=3, R=R, seed=2, eta=0.2, x0=torch.ones(4), record_x=True)
    tr = fedpaq(p, quantizer=HalfRandK(), **kw)
    ref = fedavg(p, **{k: v for k, v in kw.items() if k != "R"} | {"R": 1})
    mean = tr["x"][1].mean(0)
    se = tr["x"][1].std(0) / math.sqrt(R)
    assert ((mean - ref["x"][1, 0]).abs() < 5 * se + 1e-12).all()
    assert float(tr["bits_up"][1, 0]) == 3 * 16 * 4
    assert float(tr["bits_down"][1, 0]) == 3 * 32 * 4
    assert float(ref["bits_up"][1, 0]) == 3 * 32 * 4
    # Lemma 4's quantity is 0 when r = n: x_{k+1} = hat x_{k+1}
    assert float(tr["hat_gap"].abs().max()) < 1e-24


def test_divergence_is_reported_not_raised():
    p = quad(n=3, d=2)
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    x0[1, 0] = float("nan")
    tr = fedpaq(
        p, K=3, tau=2, r=2, R=3, seed=0, eta=0.2, x0=x0, quantizer=HalfRandK(), record_x=True
    )
    assert tr.diverged_at.tolist() == [-1, 0, -1]
    assert torch.isfinite(tr["x"][:, [0, 2]]).all()
    blow = fedavg(p, K=120, tau=1, r=3, R=2, seed=0, eta=1e4, x0=torch.ones(2))
    assert (blow.diverged_at > 0).all()


def test_stepsize_helpers():
    f = eta_theorem1(mu=2.0, tau=3)
    assert f(0) == pytest.approx(2.0) and f(2) == pytest.approx(4 / (2 * 7))
    assert eta_theorem2(L=4.0, T=16) == pytest.approx(1 / 16)
    p = quad(n=2, d=1)
    tr = fedavg(p, K=3, tau=3, r=2, R=1, seed=0, eta=f)
    assert tr.params["eta"] == pytest.approx([2.0, 4 / 8, 4 / 14])


def test_stepsize_as_tensor_or_array_is_accepted():
    # a 0-d tensor is a constant stepsize, a 1-d array one stepsize per period (as a list is)
    p = quad(n=3, d=2, noise=0.3)
    kw = dict(K=3, tau=2, r=2, R=2, seed=0, record_x=True)
    ref = fedpaq(p, eta=0.1, **kw)
    per = fedpaq(p, eta=[0.1, 0.2, 0.3], **kw)
    for const in (torch.tensor(0.1, dtype=torch.float64), np.array(0.1), np.float64(0.1)):
        assert torch.equal(fedpaq(p, eta=const, **kw)["x"], ref["x"])
    for seq in (np.array([0.1, 0.2, 0.3]), torch.tensor([0.1, 0.2, 0.3], dtype=torch.float64)):
        tr = fedpaq(p, eta=seq, **kw)
        assert tr.params["eta"] == [0.1, 0.2, 0.3] and torch.equal(tr["x"], per["x"])
    with pytest.raises(ParameterError, match="one per period"):
        fedpaq(p, eta=np.array([0.1, 0.2]), **kw)


@pytest.mark.parametrize(
    "kw, word",
    [
        ({"r": 7}, "r=7"),
        ({"tau": 0}, "tau=0"),
        ({"eta": -0.1}, "eta_0"),
        ({"eta": [0.1, 0.1]}, "one per period"),
        ({"x0": torch.zeros(5)}, "x0 of shape"),
        ({"quantizer": "qsgd"}, "quantizer="),
        ({"R": 0}, "R=0"),
    ],
)
def test_bad_parameters_refused(kw, word):
    p = quad(n=3, d=2)
    args = dict(K=3, tau=2, r=2, R=2, seed=0, eta=0.1) | kw
    with pytest.raises(ParameterError, match=word):
        fedpaq(p, **args)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_gpu_parity():
    kw = dict(K=3, tau=2, r=3, R=8, seed=3, eta=0.1, quantizer=HalfRandK(), record_x=True)
    a = fedpaq(quad(n=5, d=3, noise=0.3, device="cpu"), **kw)
    b = fedpaq(quad(n=5, d=3, noise=0.3, device="cuda"), device="cuda", **kw)
    # generators differ across devices, so compare a noiseless identity run exactly-ish
    kw0 = dict(K=3, tau=2, r=5, R=4, seed=3, eta=0.1, record_x=True)
    c = fedavg(quad(n=5, d=3, device="cpu"), **kw0)
    e = fedavg(quad(n=5, d=3, device="cuda"), **kw0)
    assert torch.allclose(c["x"], e["x"].cpu(), atol=1e-12)
    assert a["x"].shape == b["x"].shape and torch.isfinite(b["x"]).all()


# --- independent replicas (issue 8) ---------------------------------------------------------------
def _series_equal_per_replica(batch, single, r, rtol=1e-12, atol=1e-14):
    for name, v in batch.series.items():
        assert torch.allclose(v[:, r], single[name][:, 0], rtol=rtol, atol=atol), name
    assert int(batch.diverged_at[r]) == int(single.diverged_at[0])


CONFIGS = [
    ("fedavg", dict(virtual=True)),
    ("fedavg", dict(virtual=False)),
    ("fedpaq", dict(virtual=True, quantizer=QSGD(s=2))),
    ("fedpaq", dict(virtual=False, quantizer=QSGD(s=2))),
]


@pytest.mark.parametrize("name, extra", CONFIGS)
def test_batch_equals_separate_single_replica_runs(name, extra):
    # replica r of a batch with first_replica = f is the run with R = 1, first_replica = f + r,
    # whatever the block size: sampling, oracle noise and quantizer all drawn per replica
    algo = fedavg if name == "fedavg" else fedpaq
    p = quad(n=5, d=3, noise=0.3, seed=3)
    R, first = 5, 7
    x0 = torch.randn(R, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    kw = dict(K=3, tau=2, r=2, seed=11, eta=0.2, record_x=True) | extra
    batch = algo(p, R=R, x0=x0, first_replica=first, **kw)
    for blk in (1, 2):
        blocked = algo(p, R=R, x0=x0, first_replica=first, block=blk, **kw)
        for s in batch.series:
            assert torch.allclose(blocked[s], batch[s], rtol=1e-12, atol=1e-14), s
    for r in range(R):
        single = algo(p, R=1, x0=x0[r], first_replica=first + r, **kw)
        _series_equal_per_replica(batch, single, r)
    assert batch.params["first_replica"] == first and batch.meta["first_replica"] == first


@pytest.mark.parametrize("virtual", [True, False])
def test_replicas_differ_through_node_sampling_alone(virtual):
    # deterministic gradients, identity quantizer: only S_k is random, and Theorems 1-2 average
    # over it, so the replicas' left-hand sides must differ; pinned S_k makes them all equal
    p = quad(n=6, d=3, seed=4)
    kw = dict(K=3, tau=2, r=2, R=16, seed=0, eta=0.3, virtual=virtual)
    tr = fedavg(p, **kw)
    lhs = tr["dist_sq"][-1] if not virtual else tr["grad_norm_sq"].mean(0)
    assert len(set(lhs.tolist())) > 8
    assert not tr.meta["sampling_shared_across_replicas"]
    pinned = fedavg(p, pin_sampling=True, **kw)
    lhs_p = pinned["dist_sq"][-1] if not virtual else pinned["grad_norm_sq"].mean(0)
    assert len(set(lhs_p.tolist())) == 1 and pinned.meta["sampling_shared_across_replicas"]


@pytest.mark.parametrize("virtual", [True, False])
def test_full_participation_with_noise_is_local_sgd_written_out_per_replica(virtual):
    # r = n, identity Q: x_{k+1} = x_k + 1/n sum_i (x_{k,tau}^(i) - x_k) with each replica's own
    # 'data' stream, (R, n, d) per local step (the order Algorithm 1 draws it)
    n, d, R, K, tau, eta, s = 4, 3, 3, 3, 2, 0.2, 0.4
    p = quad(n=n, d=d, noise=s, seed=5)
    tr = fedavg(p, K=K, tau=tau, r=n, R=R, seed=9, eta=eta, virtual=virtual, record_x=True)
    gen = Streams(9, "cpu", R=R).replica("data")
    a, b = p.a.view(1, n, 1), p.b.unsqueeze(0)
    x = torch.zeros(R, d, dtype=torch.float64)
    for k in range(K):
        assert torch.allclose(tr["x"][k], x, rtol=0, atol=1e-13)
        y = x.unsqueeze(1).expand(R, n, d).clone()
        for _ in range(tau):
            y = y - eta * (a * (y - b) + s * rng.normal(gen, (R, n, d)))
        x = x + (y - x.unsqueeze(1)).sum(1) / n
    assert torch.allclose(tr["x"][K], x, rtol=0, atol=1e-13)
    assert not torch.allclose(tr["x"][K, 0], tr["x"][K, 1])


def test_gradient_descent_reduction_holds_per_replica_without_virtual_nodes():
    # tau = 1, q = 0, r = n, sigma = 0: gradient descent, replica by replica, in both modes
    p = quad(n=5, d=4)
    x0 = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(8))
    tr = fedavg(p, K=5, tau=1, r=5, R=3, seed=0, eta=0.3, x0=x0, virtual=False, record_x=True)
    x = x0.clone()
    for k in range(6):
        assert torch.allclose(tr["x"][k], x, rtol=0, atol=1e-13)
        x = x - 0.3 * p.grad(x)


def test_float32_runs_and_records_its_dtype():
    def build(dtype):
        p = quad(n=4, d=3, seed=6)  # deterministic gradients: only S_k is random
        p.a, p.b, p.dtype = p.a.to(dtype), p.b.to(dtype), dtype
        return p

    kw = dict(K=3, tau=2, r=2, R=4, seed=0, eta=0.2, record_x=True, virtual=False)
    tr = fedavg(build(torch.float32), dtype=torch.float32, **kw)
    assert tr["x"].dtype == torch.float32 and tr.meta["dtype"] == "torch.float32"
    assert "float32" in tr.meta["dtype_note"]
    ref = fedavg(build(torch.float64), **kw)
    # the same S_k (float64 keys in both), float32 rounding only
    assert torch.allclose(tr["x"].double(), ref["x"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("kw, word", [({"first_replica": -1}, "first_replica"),
                                      ({"block": 0}, "block")])  # fmt: skip
def test_bad_replica_parameters_refused(kw, word):
    p = quad(n=3, d=2)
    with pytest.raises(ParameterError, match=word):
        fedpaq(p, K=2, tau=1, r=2, R=2, seed=0, eta=0.1, **kw)


@pytest.mark.parametrize("oracle", ["gaussian", "minibatch"])
@pytest.mark.parametrize("virtual", [True, False])
def test_real_family_batch_equals_single_runs(oracle, virtual):
    # the problems' per-replica client API: S_k of shape (R, r) when virtual=False
    from boundcheck.problems.least_squares import least_squares

    p = least_squares(n=5, d=4, m=6, zeta=1.0, oracle=oracle, noise_var=0.05, batch_size=2)
    kw = dict(K=2, tau=2, r=2, seed=1, eta=0.05, virtual=virtual, quantizer=QSGD(s=1))
    batch = fedpaq(p, R=3, record_x=True, **kw)
    for r in range(3):
        single = fedpaq(p, R=1, first_replica=r, record_x=True, **kw)
        _series_equal_per_replica(batch, single, r)
    assert not torch.equal(batch["x"][-1, 0], batch["x"][-1, 1])


# --- record_lemmas: the per-period series of FedPAQ Lemmas 1, 6, 7 ------------------------------
def test_lemma_series_reduce_to_the_server_ones_without_sampling_or_quantization():
    """r = n, identity quantizer: x_{k+1} = xhat_{k+1} = xbar_{k,tau}, so the new series equal the
    server's (and the quantization gap is 0); with tau = 1 every node starts at x_k, so the node
    gradient sum is n ||grad f(x_k)||^2."""
    p = quad(n=4, d=3)
    tr = fedavg(p, K=5, tau=1, r=4, R=2, seed=0, eta=0.2, x0=torch.ones(3, dtype=torch.float64),
                record_lemmas=True)  # fmt: skip
    assert torch.isnan(tr["quant_gap"][0]).all()
    assert torch.allclose(tr["quant_gap"][1:], torch.zeros(5, 2, dtype=torch.float64), atol=1e-24)
    assert torch.allclose(tr["f_gap_avg_end"][1:], tr["f_gap"][1:], rtol=1e-12)
    assert torch.allclose(tr["avg_end_dist"][1:], tr["dist_sq"][1:], rtol=1e-12)
    assert torch.allclose(tr["node_grad_sq_sum"], 4 * tr["grad_norm_sq_x"][:5], rtol=1e-12)


def test_lemma_series_with_quantization_and_local_steps():
    """tau = 3, qsgd, r < n: the quantization gap is positive and the decomposition of Lemma 1 holds
    on average (the cross terms have mean zero): a loose Monte Carlo sanity check."""
    p = quad(n=4, d=3)
    tr = fedpaq(p, K=3, tau=3, r=2, R=4000, seed=1, eta=0.05, quantizer=QSGD(s=2),
                x0=torch.ones(3, dtype=torch.float64), record_lemmas=True)  # fmt: skip
    assert (tr["quant_gap"][1:] > 0).any()
    parts = tr["hat_gap"][1:] + tr["quant_gap"][1:] + tr["avg_end_dist"][1:]
    dist = tr["dist_sq"][1:]
    diff = (dist - parts).mean(dim=1)
    se = (dist - parts).std(dim=1) / math.sqrt(4000)
    assert (diff.abs() <= 5 * se + 1e-12).all()
    assert (tr["node_grad_sq_sum"] > 0).all()


def test_record_lemmas_needs_the_virtual_nodes():
    with pytest.raises(ParameterError, match="record_lemmas"):
        fedpaq(quad(n=4, d=3), K=2, tau=1, r=2, R=1, seed=0, eta=0.1, virtual=False,
               record_lemmas=True)  # fmt: skip
