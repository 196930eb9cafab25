"""EF-SGD / SAEF-SGD (SAEF Algorithm 1): exactness reductions, the paper's identities, refusals."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from quad_problems import diag_quad

from boundcheck import rng
from boundcheck.algorithms.common import Streams
from boundcheck.algorithms.saef import ef_sgd, momentum_sgd, saef_sgd
from boundcheck.compressors import QSGD, Identity, RandK, ScaledSign, TopK
from boundcheck.errors import ParameterError


def x0_for(prob, R=4, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(R, prob.d, generator=g, dtype=torch.float64)


# --- exactness -----------------------------------------------------------------------------------
@pytest.mark.parametrize("mu", [0.0, 0.9])
@pytest.mark.parametrize("double_way", [False, True])
def test_identity_compressors_reduce_to_momentum_sgd_bitwise(mu, double_way):
    prob = diag_quad(d=6, sigma=0.3)
    x0 = x0_for(prob)
    kw = dict(T=25, R=4, seed=7, eta=0.05, K=3, mu=mu, x0=x0, record_x=True)
    server = Identity() if double_way else None
    ref = momentum_sgd(prob, **kw)
    for algo in (ef_sgd, saef_sgd):
        tr = algo(prob, client_compressor=Identity(), server_compressor=server, **kw)
        assert torch.equal(tr["x"], ref["x"])
        assert torch.equal(tr.meta["x_final"], ref.meta["x_final"])
        assert torch.equal(tr["grad_norm_sq"], ref["grad_norm_sq"])
        assert float(tr["err_workers_sq"].abs().max()) == 0.0
        assert float(tr["epsilon"].abs().max()) == 0.0  # tilde x_t = x_t: no mismatch


def test_momentum_sgd_matches_hand_loop():
    """Plain per-replica momentum GD written out by hand (deterministic oracle)."""
    prob = diag_quad(n=2, d=3)
    x0 = x0_for(prob, R=2)
    T, eta, mu = 6, 0.1, 0.5
    tr = momentum_sgd(prob, T=T, R=2, seed=0, eta=eta, K=2, mu=mu, x0=x0, record_x=True)
    for r in range(2):
        x, m = x0[r].clone(), torch.zeros(3, dtype=torch.float64)
        for t in range(T):
            assert torch.allclose(tr["x"][t, r], x, rtol=1e-13, atol=1e-15)
            m = mu * m + prob.grad(x.unsqueeze(0))[0]
            x = x - eta * m


def test_k_identical_workers_equal_one_worker():
    prob = diag_quad(d=6, sigma=0.0)
    x0 = x0_for(prob)
    kw = dict(T=30, R=4, seed=3, eta=0.08, mu=0.5, x0=x0, record_x=True,
              client_compressor=TopK(k=2), server_compressor=TopK(k=3))  # fmt: skip
    for algo in (ef_sgd, saef_sgd):
        one = algo(prob, K=1, **kw)
        many = algo(prob, K=5, **kw)
        assert torch.allclose(many["x"], one["x"], rtol=1e-12, atol=1e-13)
        assert torch.allclose(many["e_workers"][:, :, 3], one["e_workers"][:, :, 0], atol=1e-13)
        assert float(many["err_spread_sq"].max()) < 1e-24


@pytest.mark.parametrize("mu", [0.0, 0.9])
def test_p1_single_way_saef_has_no_mismatch_and_tilde_x_is_momentum_sgd(mu):
    """p = 1: errors averaged every step, so x_{t+1/2}^(k) = tilde x_t (eq. (11) with e_t = 0)."""
    prob = diag_quad(d=6, sigma=0.2)
    x0 = x0_for(prob)
    kw = dict(T=40, R=4, seed=11, eta=0.05, K=4, mu=mu, x0=x0, record_x=True)
    tr = saef_sgd(prob, p=1, client_compressor=TopK(k=1), **kw)
    ref = momentum_sgd(prob, **kw)
    assert float(tr["epsilon"].max()) < 1e-20
    assert float(tr["averaged"].min()) == 1.0
    assert torch.allclose(tr["x_tilde"], ref["x"], rtol=1e-11, atol=1e-12)
    # ...while the iterate x_t itself is a compressed run that differs from SGD
    assert float((tr["x"] - ref["x"]).abs().max()) > 1e-3
    # EF at the same settings does have a mismatch (eq. (9))
    ef = ef_sgd(prob, p=1, client_compressor=TopK(k=1), **kw)
    assert float(ef["epsilon"][1:].mean()) > 1e-6


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(1, 5),
    K=st.integers(1, 4),
    eta=st.floats(0.01, 0.3),
    variant=st.sampled_from(["ef", "saef"]),
    double_way=st.booleans(),
    p=st.sampled_from([None, 1, 3]),
    seed=st.integers(0, 10_000),
)
def test_auxiliary_iterate_update_eqs_25_27(k, K, eta, variant, double_way, p, seed):
    """Supp. eqs. (25), (27) (mu = 0): tilde x_{t+1} = tilde x_t - eta/K sum_k grad f(z_t^(k))."""
    prob = diag_quad(d=6, seed=seed % 7)
    algo = ef_sgd if variant == "ef" else saef_sgd
    tr = algo(prob, T=8, R=3, seed=seed, eta=eta, K=K, p=p, x0=x0_for(prob, R=3, seed=seed),
              client_compressor=RandK(k=k), server_compressor=TopK(k=k) if double_way else None,
              record_x=True)  # fmt: skip
    x, xt, ek = tr["x"], tr["x_tilde"], tr["e_workers"]
    for t in range(7):
        z = x[t].unsqueeze(1) - ek[t] if variant == "saef" else x[t].unsqueeze(1).expand_as(ek[t])
        g = prob.grad_i(z.reshape(-1, 1, 6).expand(-1, prob.n, 6)).mean(1).reshape(3, K, 6)
        pred = xt[t] - eta * g.mean(1)
        assert torch.allclose(xt[t + 1], pred, rtol=1e-10, atol=1e-12)
        # tilde x_t = x_t - (e_t + mean_k e_t^(k)) (definition, main text)
        assert torch.allclose(xt[t], x[t] - tr["e"][t] - ek[t].mean(1), atol=1e-13)


@settings(max_examples=25, deadline=None)
@given(
    k=st.integers(1, 6),
    K=st.integers(1, 4),
    eta=st.floats(0.01, 0.5),
    mu=st.floats(0.0, 0.95),
    variant=st.sampled_from(["ef", "saef"]),
    double_way=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_mismatch_bounded_by_L2_times_error_term(k, K, eta, mu, variant, double_way, seed):
    """Eqs. (9)-(10) with sigma = 0: epsilon_t <= L^2 * mismatch_err, for every draw and step."""
    prob = diag_quad(d=6, seed=seed % 5)
    algo = ef_sgd if variant == "ef" else saef_sgd
    tr = algo(prob, T=12, R=3, seed=seed, eta=eta, K=K, mu=mu, x0=x0_for(prob, R=3, seed=seed),
              client_compressor=TopK(k=k), server_compressor=RandK(k=k) if double_way else None)  # fmt: skip
    L = prob.constants["L"].value
    lhs, rhs = tr["epsilon"], L**2 * tr["mismatch_err"]
    assert bool((lhs <= rhs * (1 + 1e-9) + 1e-30).all())


@settings(max_examples=20, deadline=None)
@given(k=st.integers(1, 6), seed=st.integers(0, 10_000), variant=st.sampled_from(["ef", "saef"]))
def test_worker_error_contracts(k, seed, variant):
    """Line 18 + Assumption 4 (mu = 0, sigma = 0): ||e_{t+1}^(k)||^2 <= (1 - delta) ||Delta_{t+1}^(k)||^2
    with Delta_{t+1}^(k) = e_t^(k) + eta grad f(z_t^(k)) (lines 12/16)."""
    prob = diag_quad(d=6)
    algo = ef_sgd if variant == "ef" else saef_sgd
    eta, K = 0.1, 2
    tr = algo(prob, T=6, R=2, seed=seed, eta=eta, K=K, x0=x0_for(prob, R=2, seed=seed),
              client_compressor=TopK(k=k), record_x=True)  # fmt: skip
    x, ek = tr["x"], tr["e_workers"]
    for t in range(5):
        z = x[t].unsqueeze(1) - ek[t] if variant == "saef" else x[t].unsqueeze(1).expand_as(ek[t])
        g = prob.grad_i(z.reshape(-1, 1, 6).expand(-1, prob.n, 6)).mean(1).reshape(2, K, 6)
        delta_k = ek[t] + eta * g
        lhs = (ek[t + 1] ** 2).sum(-1)
        rhs = (1 - k / 6) * (delta_k**2).sum(-1)
        assert bool((lhs <= rhs * (1 + 1e-12) + 1e-30).all())
        # and the stored error is exactly the part TopK dropped
        assert torch.allclose(ek[t + 1], delta_k - TopK(k=k)(delta_k), atol=1e-14)


def test_bits_are_counted_per_message():
    prob = diag_quad(d=8)
    C, S = TopK(k=2), TopK(k=3)
    tr = saef_sgd(prob, T=10, R=2, seed=0, eta=0.1, K=3, p=4, client_compressor=C,
                  server_compressor=S)  # fmt: skip
    full = 32 * 8
    # averaging at t = 3, 7 (mod(t+1, 4) = 0), paid when step t is taken
    for t in range(10):
        n_avg = sum(1 for s in range(t) if (s + 1) % 4 == 0)
        assert float(tr["bits_up"][t, 0]) == t * 3 * C.bits(8) + n_avg * 3 * full
        assert float(tr["bits_down"][t, 1]) == t * S.bits(8) + n_avg * full  # one broadcast
    assert C.bits(8) == 2 * 32 + 2 * 3  # top-2 of 8: values + 3-bit positions
    single = ef_sgd(prob, T=5, R=1, seed=0, eta=0.1, K=2, client_compressor=C)
    assert float(single["bits_down"][4, 0]) == 4 * full  # uncompressed broadcast
    assert single.meta["delta_c"] == pytest.approx(2 / 8)
    assert single.meta["delta_s"] is None


@pytest.mark.parametrize("comp", [TopK(k=2), ScaledSign()])
def test_converges_on_quadratic_with_compression_and_momentum(comp):
    prob = diag_quad(d=10, sigma=0.0)
    x0 = x0_for(prob, R=4)
    kw = dict(T=300, R=4, seed=0, eta=0.05, K=4, mu=0.5, x0=x0,
              client_compressor=comp, server_compressor=TopK(k=5))  # fmt: skip
    for algo in (ef_sgd, saef_sgd):
        tr = algo(prob, **kw)
        g0 = tr["grad_norm_sq"][0]
        assert bool((tr.meta["grad_norm_sq_final"] < 1e-8 * g0).all())
        assert bool((tr["f_gap"][-1] >= -1e-12).all())
        assert int((tr.diverged_at >= 0).sum()) == 0


def test_diverged_replica_is_reported_and_isolated():
    prob = diag_quad(d=6)
    x0 = x0_for(prob, R=3)
    x0[1, 2] = float("nan")
    tr = saef_sgd(prob, T=20, R=3, seed=0, eta=0.1, K=2, x0=x0, client_compressor=TopK(k=2),
                  server_compressor=TopK(k=2))  # fmt: skip
    assert tr.diverged_at.tolist() == [-1, 0, -1]
    assert bool(torch.isfinite(tr["grad_norm_sq"][:, [0, 2]]).all())
    blow = ef_sgd(prob, T=200, R=2, seed=0, eta=50.0, K=2, x0=x0_for(prob, R=2))
    assert bool((blow.diverged_at > 0).all())
    # with real compressors (which refuse non-finite input) a blow-up is reported, not raised:
    # replica 0 starts at 1e290 and overflows within 60 steps, replica 1 (near x*) stays finite
    x0 = x0_for(prob, R=2)
    x0[0] *= 1e290
    x0[1] = torch.as_tensor((prob.a * prob.b).mean(0) / prob.a.mean(0))
    for comp in (TopK(k=2), ScaledSign()):
        tr = saef_sgd(prob, T=60, R=2, seed=0, eta=50.0, K=2, x0=x0, client_compressor=comp,
                      server_compressor=comp)  # fmt: skip
        assert int(tr.diverged_at[0]) > 0 and int(tr.diverged_at[1]) == -1
        assert bool(torch.isfinite(tr["grad_norm_sq"][:, 1]).all())


@pytest.mark.parametrize(
    ("kw", "word"),
    [
        ({"mu": 1.0}, "mu"),
        ({"mu": -0.1}, "mu"),
        ({"p": 0}, "p"),
        ({"p": 2.5}, "p"),
        ({"K": 0}, "K"),
        ({"T": 0}, "T"),
        ({"eta": -0.1}, "eta"),
        ({"eta": [0.1, 0.1]}, "eta"),
        ({"eta": float("nan")}, "eta"),
        ({"x0": torch.zeros(5)}, "x0"),
        ({"assignment": "partition", "K": 2}, "partition"),
        ({"assignment": "bogus"}, "assignment"),
        ({"client_compressor": "top_k"}, "client_compressor"),
    ],
)
def test_bad_parameters_are_refused(kw, word):
    prob = diag_quad(n=3, d=6)
    args = dict(T=5, R=2, seed=0, eta=0.1, K=3)
    args.update(kw)
    with pytest.raises(ParameterError, match=word):
        saef_sgd(prob, **args)


def test_infinite_period_and_eta_schedule_accepted():
    prob = diag_quad(d=6)
    a = saef_sgd(
        prob, T=5, R=1, seed=0, eta=[0.1] * 5, K=3, p=math.inf, client_compressor=TopK(k=2)
    )
    b = saef_sgd(prob, T=5, R=1, seed=0, eta=0.1, K=3, p=None, client_compressor=TopK(k=2))
    assert torch.equal(a["f_gap"], b["f_gap"])
    assert float(a["averaged"].sum()) == 0.0


def test_partition_assignment_uses_client_k():
    """K = n, one client per worker: with identity compressors this is full-gradient GD on f."""
    prob = diag_quad(n=3, d=4)
    x0 = x0_for(prob, R=2)
    tr = ef_sgd(prob, T=5, R=2, seed=0, eta=0.1, K=3, assignment="partition", x0=x0, record_x=True)
    x = x0.clone()
    for t in range(5):
        assert torch.allclose(tr["x"][t], x, rtol=1e-13, atol=1e-15)
        x = x - 0.1 * prob.grad(x)
    assert tr.meta["assignment_in_paper_setting"] is False


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_gpu_parity_deterministic_oracle():
    cpu = diag_quad(d=8)
    gpu = diag_quad(d=8, device="cuda")
    x0 = x0_for(cpu)
    kw = dict(T=30, R=4, seed=5, eta=0.05, K=3, mu=0.9, p=5, client_compressor=TopK(k=3),
              server_compressor=TopK(k=4), x0=x0)  # fmt: skip
    a = saef_sgd(cpu, **kw)
    b = saef_sgd(gpu, device="cuda", **kw)
    for name in ("grad_norm_sq", "f_gap", "epsilon", "err_workers_sq", "bits_up"):
        assert torch.allclose(a[name], b[name].cpu(), rtol=1e-9, atol=1e-12), name


def test_runs_on_the_real_least_squares_family_with_gaussian_oracle():
    """The problems package's oracle API: one sample per (replica, worker, client) slot."""
    from boundcheck.problems.least_squares import least_squares

    prob = least_squares(n=3, d=6, m=10, zeta=1.0, oracle="gaussian", noise_var=0.01)
    kw = dict(T=30, R=4, seed=2, eta=0.05, K=2, mu=0.9, record_x=True)
    ref = momentum_sgd(prob, **kw)
    tr = saef_sgd(prob, client_compressor=Identity(), **kw)
    assert torch.equal(tr["x"], ref["x"])
    assert not torch.equal(tr["x"][-1, 0], tr["x"][-1, 1])  # independent noise per replica
    tk = saef_sgd(prob, client_compressor=TopK(k=2), server_compressor=TopK(k=3), **kw)
    assert float(tk["grad_norm_sq"][-1].mean()) < float(tk["grad_norm_sq"][0].mean())


# --- the map to the theory module (boundcheck/theory/saef.py) -------------------------------------
def test_every_measured_saef_quantity_names_a_series_of_the_trace():
    """Each lhs Quantity of the SAEF theorems is recorded under the series LHS_SERIES names."""
    from boundcheck.algorithms.saef import LHS_SERIES
    from boundcheck.theory import saef as theory

    not_measured = {"saef.compression_term", "saef.scaled_sign_error"}  # terms of bounds, eq. (2)
    measured = {q.id for q in theory.QUANTITIES} - not_measured
    assert set(LHS_SERIES) == measured
    assert {t.lhs.id for t in theory.THEOREMS} <= measured | not_measured
    prob = diag_quad(d=6, sigma=0.1)
    tr = saef_sgd(prob, T=6, R=2, seed=0, eta=0.1, K=3, mu=0.5, p=3, client_compressor=TopK(k=2),
                  server_compressor=TopK(k=3))  # fmt: skip
    for qid, (series, how) in LHS_SERIES.items():
        assert tr[series].shape == (6, 2), qid
        assert how, qid
    assert tr.meta["lhs"] == LHS_SERIES


def test_worker_noise_is_the_client_noise_averaged_over_n_clients():
    """SAEF's sigma^2 bounds the variance of one worker's gradient; with assignment='shared' a
    worker averages n independent client draws, so sigma^2 = sigma2/n (meta['sigma2_worker'])."""
    from boundcheck.problems.least_squares import least_squares

    prob = least_squares(n=4, d=6, m=10, zeta=1.0, oracle="gaussian", noise_var=0.01)
    sigma2 = prob.constants["sigma2"].value
    R = 4000
    x0 = prob.x_star  # grad F(x0) = 0: no cross term <grad F, xi> to average away
    tr = saef_sgd(prob, T=1, R=R, seed=5, eta=0.1, K=3, x0=x0, client_compressor=TopK(k=2))
    assert tr.meta["sigma2_worker"]["value"] == pytest.approx(sigma2 / 4, rel=1e-15)
    assert tr.meta["sigma2_worker"]["provenance"] == prob.constants["sigma2"].provenance
    # row 0: m_1^(k) = grad f(x_0; xi^(k)) (e_0 = 0), so E||m_1||^2 = ||grad F(x_0)||^2 + sigma^2
    measured = float((tr["m_norm_sq"][0] - tr["grad_norm_sq"][0]).mean())
    assert measured == pytest.approx(sigma2 / 4, rel=0.05)
    assert measured < 0.5 * sigma2  # not the per-client sigma2
    part = saef_sgd(prob, T=1, R=2, seed=5, eta=0.1, K=4, assignment="partition")
    assert part.meta["sigma2_worker"]["value"] == sigma2
    assert saef_sgd(diag_quad(d=6), T=1, R=1, seed=0, eta=0.1, K=2).meta["sigma2_worker"] is None


# --- independent replicas (issue 8) ---------------------------------------------------------------
SAEF_CONFIGS = [
    (ef_sgd, dict(client_compressor=RandK(k=2), server_compressor=QSGD(s=1))),
    (saef_sgd, dict(mu=0.5, p=3, client_compressor=RandK(k=2), server_compressor=QSGD(s=1))),
    (saef_sgd, dict(client_compressor=QSGD(s=2))),
    (momentum_sgd, dict(mu=0.5)),
]


@pytest.mark.parametrize("algo, extra", SAEF_CONFIGS)
def test_batch_equals_separate_single_replica_runs(algo, extra):
    # replica r of a batch with first_replica = f is the run with R = 1, first_replica = f + r,
    # whatever the block size: noise and both compressors draw from per-replica streams
    prob = diag_quad(d=6, sigma=0.3, seed=4)
    R, first = 5, 3
    x0 = x0_for(prob, R=R, seed=2)
    kw = dict(T=8, seed=13, eta=0.1, K=3, record_x=True) | extra
    batch = algo(prob, R=R, x0=x0, first_replica=first, **kw)
    blocked = algo(prob, R=R, x0=x0, first_replica=first, block=2, **kw)
    for s in batch.series:
        assert torch.allclose(blocked[s], batch[s], rtol=1e-12, atol=1e-14), s
    for r in range(R):
        one = algo(prob, R=1, x0=x0[r], first_replica=first + r, **kw)
        for s, v in batch.series.items():
            assert torch.allclose(v[:, r], one[s][:, 0], rtol=1e-12, atol=1e-14), s
        assert torch.allclose(batch.meta["x_final"][r], one.meta["x_final"][0], atol=1e-14)
    assert batch.meta["first_replica"] == first


@pytest.mark.parametrize("algo, extra", SAEF_CONFIGS)
def test_replicas_lhs_differ(algo, extra):
    # Theorems 1-3 average over the oracle noise and the compressors: the lhs differ by replica
    prob = diag_quad(d=6, sigma=0.3, seed=4)
    tr = algo(prob, T=6, R=12, seed=1, eta=0.1, K=3, **extra)
    assert len(set(tr["grad_norm_sq"].mean(0).tolist())) == 12


def test_replicas_differ_through_the_compressor_alone():
    # deterministic gradients: rand-k's choice of coordinates is the only randomness
    prob = diag_quad(d=6, sigma=0.0, seed=4)
    x0 = x0_for(prob, R=1)[0]
    for algo in (ef_sgd, saef_sgd):
        tr = algo(prob, T=6, R=12, seed=1, eta=0.1, K=3, x0=x0, client_compressor=RandK(k=2))
        assert len(set(tr["grad_norm_sq"][-1].tolist())) > 6


@pytest.mark.parametrize("algo", [ef_sgd, saef_sgd])
def test_identity_compressor_is_sgd_written_out_per_replica(algo):
    # delta = 1 (identity C), mu = 0: x_{t+1} = x_t - eta/K sum_k g^(k), each worker's gradient the
    # mean of n client draws from the replica's own 'noise' stream, (R, K n, d) per iteration
    n, d, R, K, T, eta, s = 3, 4, 3, 2, 5, 0.1, 0.3
    prob = diag_quad(n=n, d=d, sigma=s, seed=6)
    x0 = x0_for(prob, R=R)
    tr = algo(prob, T=T, R=R, seed=4, eta=eta, K=K, x0=x0, client_compressor=Identity(),
              server_compressor=Identity(), record_x=True)  # fmt: skip
    gen = Streams(4, "cpu", R=R).replica("noise")
    a, b = prob.a.view(1, 1, n, d), prob.b.view(1, 1, n, d)
    x = x0.clone()
    for t in range(T):
        assert torch.allclose(tr["x"][t], x, rtol=0, atol=1e-13)
        xi = s * rng.normal(gen, (R, K * n, d)).view(R, K, n, d)
        g = (a * (x.view(R, 1, 1, d) - b) + xi).mean(2)
        x = x - (eta * g).mean(1)
    assert torch.allclose(tr.meta["x_final"], x, rtol=0, atol=1e-13)


def test_bad_replica_parameters_refused():
    prob = diag_quad(d=4)
    with pytest.raises(ParameterError, match="first_replica"):
        saef_sgd(prob, T=2, R=2, seed=0, eta=0.1, K=2, first_replica=-2)
    with pytest.raises(ParameterError, match="block"):
        momentum_sgd(prob, T=2, R=2, seed=0, eta=0.1, K=2, block=0)
