"""Tests of FedBuff / QAFeL (QAFeL Algorithms 1-3)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from quad_problems import quad

from boundcheck import rng
from boundcheck.algorithms.async_sim import (
    Schedule,
    ScheduleBatch,
    fedbuff_schedule,
    fedbuff_schedules,
)
from boundcheck.algorithms.fedpaq import fedavg
from boundcheck.algorithms.qafel import fedbuff, qafel
from boundcheck.compressors import QSGDBits, RandK, TopK
from boundcheck.errors import ParameterError
from boundcheck.problems.registry import make


def local(p, x, c, eta, P):
    """Deterministic local SGD of client c from x (d,): b + (1 - eta a)^P (x - b)."""
    return p.b[c] + (1 - eta * p.a[c]) ** P * (x - p.b[c])


def random_schedule(n, T, K, seed):
    """A random valid schedule: the update applied at step t read a version in [t - 3, t]."""
    rng = np.random.default_rng(seed)
    steps = np.repeat(np.arange(T), K)
    reads = np.maximum(0, steps - rng.integers(0, 4, size=T * K))
    return Schedule.from_events(
        n=n, K=K, clients=rng.integers(0, n, T * K), read_versions=reads, applied_steps=steps
    )


def test_identity_qafel_is_fedbuff():
    p = quad(n=6, d=3, noise=0.3)
    kw = dict(T=25, R=4, seed=3, eta_l=0.1, eta_g=1.5, K=2, P=3, concurrency=4, record_x=True)
    a = qafel(p, **kw)
    b = fedbuff(p, **kw)
    assert a.meta["schedule"]["tau_max"] == b.meta["schedule"]["tau_max"] >= 1
    assert torch.equal(a["x"][:2], b["x"][:2])  # hat x^0 = x^0, so the first step is identical
    # afterwards hat x^{t+1} = hat x^t + (x^{t+1} - hat x^t) equals x^{t+1} up to one rounding
    assert torch.allclose(a["x"], b["x"], rtol=0, atol=1e-12)
    assert float(a["hidden_gap"].max()) < 1e-26


def test_fedbuff_all_clients_no_staleness_is_fedavg():
    # FLSim-style equivalence: FedBuff with K = n, every client reading the current version, is
    # FedAvg with full participation. Deterministic gradients: the library's fedavg, to rounding
    # (FedBuff updates in place, y -= eta g, and sums the buffer in one reduction).
    n = 5
    p = quad(n=n, d=3, noise=0.0)
    sched = Schedule.synchronous(n=n, T=6)
    fb = fedbuff(p, T=6, R=3, seed=9, eta_l=0.2, eta_g=1.0, K=n, P=3, schedule=sched, record_x=True)
    fa = fedavg(p, K=6, tau=3, r=n, R=3, seed=9, eta=0.2, record_x=True)
    assert torch.allclose(fb["x"], fa["x"], rtol=0, atol=1e-15)
    assert torch.equal(fb["bits_up"], fa["bits_up"])


def test_fedbuff_synchronous_with_noise_is_fedavg_written_out():
    # The same with oracle noise: FedAvg written out by hand, each replica's noise drawn from its
    # own 'data' stream in the order the algorithm draws it ((R, n, d) per local step).
    from boundcheck.algorithms.common import Streams

    n, d, R, T, P, eta = 5, 3, 3, 6, 3, 0.2
    p = quad(n=n, d=d, noise=0.4)
    sched = Schedule.synchronous(n=n, T=T)
    fb = fedbuff(p, T=T, R=R, seed=9, eta_l=eta, eta_g=1.0, K=n, P=P, schedule=sched,
                 record_x=True)  # fmt: skip
    gen = Streams(9, "cpu", R=R).replica("data")
    a, b = p.a.view(1, n, 1), p.b.unsqueeze(0)
    x = torch.zeros(R, d, dtype=torch.float64)
    for t in range(T):
        assert torch.allclose(fb["x"][t], x, rtol=0, atol=1e-13)
        y = x.unsqueeze(1).expand(R, n, d).clone()
        for _ in range(P):
            y = y - eta * (a * (y - b) + 0.4 * rng.normal(gen, (R, n, d)))
        x = x + (y - x.unsqueeze(1)).sum(1) / n
    assert torch.allclose(fb["x"][T], x, rtol=0, atol=1e-13)
    assert not torch.allclose(fb["x"][T, 0], fb["x"][T, 1])  # replicas draw their own noise


@settings(max_examples=15, deadline=None)
@given(
    T=st.integers(1, 12),
    K=st.integers(1, 3),
    P=st.integers(1, 3),
    eta_g=st.floats(0.2, 2.0),
    seed=st.integers(0, 10_000),
)
def test_fedbuff_matches_hand_loop_on_any_schedule(T, K, P, eta_g, seed):
    # Closed form of each local run; the update applied at step t was computed from x^{read}.
    n, eta_l = 3, 0.15
    p = quad(n=n, d=2, seed=seed)
    s = random_schedule(n, T, K, seed)
    tr = fedbuff(p, T=T, R=1, seed=0, eta_l=eta_l, eta_g=eta_g, K=K, P=P, schedule=s, record_x=True)
    xs = [torch.zeros(2, dtype=torch.float64)]
    for t in range(T):
        idx = s.step_indices(t)
        upd = sum(
            local(p, xs[s.read_version[e]], s.client[e], eta_l, P) - xs[s.read_version[e]]
            for e in idx
        )
        xs.append(xs[t] + eta_g * upd / K)
    assert torch.allclose(tr["x"][:, 0], torch.stack(xs), atol=1e-12)
    assert tr.meta["schedule"]["tau_max"] == s.tau_max


def test_clients_start_from_hidden_state_and_hidden_state_update():
    # Q_s = top-1 (deterministic, biased): hat x^{t+1} = hat x^t + top1(x^{t+1} - hat x^t) and
    # with K = 1, P = 1 and zero staleness x^{t+1} = x^t - eta_g eta_l grad f_c(hat x^t).
    n, d, T = 3, 4, 8
    p = quad(n=n, d=d, seed=5)
    clients = [0, 1, 2, 1, 0, 2, 2, 1]
    s = Schedule.from_events(
        n=n, K=1, clients=clients, read_versions=range(T), applied_steps=range(T)
    )
    x0 = torch.arange(1.0, d + 1, dtype=torch.float64)
    tr = qafel(p, T=T, R=1, seed=0, eta_l=0.1, eta_g=2.0, K=1, P=1, server_compressor=TopK(1),
               schedule=s, x0=x0, record_x=True)  # fmt: skip
    x, xh = tr["x"][:, 0], tr["x_hat"][:, 0]
    top1 = TopK(1)
    for t in range(T):
        c = clients[t]
        g = p.a[c] * (xh[t] - p.b[c])
        assert torch.allclose(x[t + 1], x[t] - 2.0 * 0.1 * g, atol=1e-13)
        assert torch.allclose(xh[t + 1], xh[t] + top1(x[t + 1] - xh[t]), atol=1e-13)
    assert float(tr["hidden_gap"][1:].min()) > 0  # the hidden state really lags x
    assert torch.allclose(tr["hidden_gap"][:, 0], ((x - xh) ** 2).sum(-1))


def test_hidden_gap_closed_form_and_lemma_f9_counterexample():
    # One client, K = P = 1, staleness 0, f = a_0/2 ||x - b_0||^2, Q_c = identity, Q_s = unbiased
    # rand-3 of 4 (d/k-scaled), for which E||Q_s(u) - u||^2 = q ||u||^2 exactly, q = 1 - delta_s.
    # With a = eta_g eta_l a_0 and z = x^0 - b_0 (Algorithm 1 lines 11-14, Algorithm 2 lines 1-5):
    #   E||x^1 - hat x^1||^2 = q a^2 ||z||^2,
    #   E||x^2 - hat x^2||^2 = q (q (1 + a)^2 + (1 - a)^2) a^2 ||z||^2,
    # which exceeds Lemma F.9's bound (48), sum_s q^(2-s) E||x^{s+1} - x^s||^2, by 2 a^3 q^2 ||z||^2
    # (the finding NOTE_F9 in boundcheck/theory/qafel.py).
    p = quad(n=1, d=4, seed=3)
    Qs = RandK(3, unbiased=True)
    q = 1 - Qs.delta(4)
    eta_g, a = 1.0, 0.5
    x0 = p.b[0] + torch.tensor([1.0, -2.0, 0.5, 3.0], dtype=torch.float64)
    z2 = float(((x0 - p.b[0]) ** 2).sum())
    R = 20_000
    tr = qafel(p, T=2, R=R, seed=7, eta_l=a / (eta_g * float(p.a[0])), eta_g=eta_g, K=1, P=1,
               server_compressor=Qs, schedule=Schedule.synchronous(n=1, T=2), x0=x0,
               record_x=True)  # fmt: skip
    gap = tr["hidden_gap"]
    for t, exact in ((1, q * a**2 * z2), (2, q * (q * (1 + a) ** 2 + (1 - a) ** 2) * a**2 * z2)):
        se = float(gap[t].std()) / math.sqrt(R)
        assert abs(float(gap[t].mean()) - exact) < 5 * se, (t, float(gap[t].mean()), exact)
    x = tr["x"]
    steps = ((x[1:] - x[:-1]) ** 2).sum(-1)  # eta_g^2 ||bar Delta^s||^2, per replica
    rhs48 = q**2 * steps[0] + q * steps[1]
    diff = gap[2] - rhs48
    se = float(diff.std()) / math.sqrt(R)
    assert float(diff.mean()) == pytest.approx(2 * a**3 * q**2 * z2, abs=5 * se)
    assert float(diff.mean()) > 10 * se  # Lemma F.9 (48) is violated by the algorithm


def test_staleness_weight_and_momentum():
    n, d = 2, 2
    p = quad(n=n, d=d, seed=1)
    # step 1 applies an update that read version 0: staleness 1, weight 1/sqrt(2)
    s = Schedule.from_events(n=n, K=1, clients=[0, 1], read_versions=[0, 0], applied_steps=[0, 1])
    kw = dict(T=2, R=1, seed=0, eta_l=0.1, eta_g=1.0, K=1, P=2, schedule=s, record_x=True)
    plain = fedbuff(p, **kw)["x"][:, 0]
    weighted = fedbuff(p, staleness_weight=True, **kw)["x"][:, 0]
    u1 = local(p, plain[0], 1, 0.1, 2) - plain[0]
    assert torch.allclose(weighted[1], plain[1], atol=0)  # staleness 0: weight 1
    assert torch.allclose(weighted[2] - weighted[1], u1 / math.sqrt(2), atol=1e-14)
    # server momentum: m^{t+1} = beta m^t + bar Delta^t / K, x^{t+1} = x^t + eta_g m^{t+1}
    mom = fedbuff(p, beta=0.5, **kw)["x"][:, 0]
    u0 = local(p, plain[0], 0, 0.1, 2) - plain[0]
    assert torch.allclose(mom[1], plain[0] + u0, atol=1e-14)
    assert torch.allclose(mom[2], mom[1] + 0.5 * u0 + u1, atol=1e-14)


def test_bits_counted_from_compressors():
    p = quad(n=8, d=10, noise=0.1)
    q4 = QSGDBits(4)
    tr = qafel(p, T=5, R=2, seed=0, eta_l=0.05, eta_g=1.0, K=3, P=2, client_compressor=q4,
               server_compressor=q4, concurrency=3)  # fmt: skip
    assert tr["bits_up"][:, 0].tolist() == [t * 3 * q4.bits(10) for t in range(6)]
    assert tr["bits_down"][:, 0].tolist() == [t * q4.bits(10) for t in range(6)]
    fb = fedbuff(p, T=5, R=2, seed=0, eta_l=0.05, eta_g=1.0, K=3, P=2, concurrency=3)
    assert float(fb["bits_up"][5, 0]) == 5 * 3 * 32 * 10
    assert tr.params["delta_c"] == q4.delta(10)


def test_quantized_run_is_seeded_and_unbiased_client_quantizer():
    p = quad(n=4, d=3)
    sched = Schedule.synchronous(n=4, T=1)
    kw = dict(T=1, seed=4, eta_l=0.1, eta_g=1.0, K=4, P=2, schedule=sched, record_x=True)
    q = QSGDBits(2)
    a = qafel(p, R=3, client_compressor=q, **kw)
    b = qafel(p, R=3, client_compressor=q, **kw)
    assert torch.equal(a["x"], b["x"])
    R = 4000
    big = qafel(p, R=R, client_compressor=q, **kw)["x"][1]
    ref = fedbuff(p, R=1, **kw)["x"][1, 0]
    se = big.std(0) / math.sqrt(R)
    assert ((big.mean(0) - ref).abs() < 5 * se).all()  # Q_c unbiased => E[x^1] is FedBuff's x^1


def test_divergence_reported_with_quantizers():
    p = quad(n=4, d=3, noise=0.1)
    x0 = torch.zeros(3, 3, dtype=torch.float64)
    x0[2, 1] = float("inf")
    q = QSGDBits(4)
    tr = qafel(p, T=6, R=3, seed=0, eta_l=0.1, eta_g=1.0, K=2, P=2, client_compressor=q,
               server_compressor=q, concurrency=2, x0=x0)  # fmt: skip
    assert tr.diverged_at.tolist() == [-1, -1, 0]
    assert torch.isfinite(tr["grad_norm_sq"][:, :2]).all()


@pytest.mark.parametrize(
    "kw, word",
    [
        ({"K": 0}, "K=0"),
        ({"P": 0}, "P=0"),
        ({"eta_l": 0.0}, "eta_l"),
        ({"beta": 1.0}, "beta"),
        ({"schedule": Schedule.synchronous(n=3, T=5)}, "schedule with K=3"),
        ({"schedule": "fifo"}, "schedule="),
        ({"client_compressor": 4}, "client_compressor"),
        ({"x0": torch.zeros(2, 2)}, "x0 of shape"),
    ],
)
def test_bad_parameters_refused(kw, word):
    p = quad(n=4, d=3)
    args = dict(T=5, R=2, seed=0, eta_l=0.1, eta_g=1.0, K=2, P=1, concurrency=2) | kw
    with pytest.raises(ParameterError, match=word):
        qafel(p, **args)


def test_schedule_shorter_than_T_refused():
    p = quad(n=4, d=3)
    s = fedbuff_schedule(n=4, T=3, K=2, concurrency=2, seed=0)
    with pytest.raises(ParameterError, match="covers T=3"):
        fedbuff(p, T=5, R=1, seed=0, eta_l=0.1, eta_g=1.0, K=2, P=1, schedule=s)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_gpu_parity():
    # generators differ across devices; a deterministic run (no noise, top-k) must agree
    kw = dict(T=10, R=4, seed=2, eta_l=0.1, eta_g=1.0, K=2, P=2, concurrency=3,
              server_compressor=TopK(2), client_compressor=TopK(2), record_x=True)  # fmt: skip
    a = qafel(quad(n=5, d=4, device="cpu"), **kw)
    b = qafel(quad(n=5, d=4, device="cuda"), device="cuda", **kw)
    assert torch.allclose(a["x"], b["x"].cpu(), atol=1e-12)
    assert torch.allclose(a["grad_norm_sq"], b["grad_norm_sq"].cpu(), atol=1e-12)


def test_qafel_4bit_reaches_fedbuff_loss_with_several_times_fewer_upload_bits():
    # QAFeL Section 4 / Figure 4: with 4-bit qsgd at client and server, QAFeL converges about as
    # fast as FedBuff and uploads several times fewer bits to reach the same loss. The problem is
    # the problems module's synthetic logistic regression with Dirichlet(0.1) label skew.
    p = make("logistic", n=10, d=50, m=20, alpha=0.1, lam=0.01, seed=0)
    q4 = QSGDBits(4)
    kw = dict(T=80, R=16, seed=1, eta_l=0.5, eta_g=1.0, K=5, P=2, concurrency=5)
    fb = fedbuff(p, **kw)
    qa = qafel(p, client_compressor=q4, server_compressor=q4, **kw)
    assert qa.meta["schedule"]["tau_max"] >= 1  # a genuinely asynchronous schedule
    f_fb, f_qa = fb["f_gap"].mean(1), qa["f_gap"].mean(1)
    assert float(f_fb[40]) < 0.75 * float(f_fb[0])  # FedBuff makes real progress
    for t_fb in (20, 40):
        reached = (f_qa <= f_fb[t_fb]).nonzero()
        assert len(reached), f"QAFeL never reaches FedBuff's loss at step {t_fb}"
        t_qa = int(reached[0])
        ratio = float(fb["bits_up"][t_fb, 0]) / float(qa["bits_up"][t_qa, 0])
        assert ratio >= 3.0, (t_fb, t_qa, ratio)


@pytest.mark.parametrize(("start", "diverges"), [(1e305, False), (5e307, True)])
def test_a_message_whose_norm_overflows_marks_its_replica_diverged_without_raising(start, diverges):
    p = quad(n=4, d=1000)
    x0 = torch.zeros(3, 1000, dtype=torch.float64)
    x0[1] = start  # finite entries; at 5e307 the norm of a d = 1000 message exceeds float64's range
    q = QSGDBits(4)
    tr = qafel(p, T=6, R=3, seed=0, eta_l=0.1, eta_g=1.0, K=2, P=2, client_compressor=q,
               server_compressor=q, concurrency=2, x0=x0)  # fmt: skip
    assert (tr.diverged_at[1] >= 0) == diverges
    assert tr.diverged_at[[0, 2]].tolist() == [-1, -1]
    assert torch.isfinite(tr["grad_norm_sq"][:, [0, 2]]).all()


# --- independent replicas (issue 8) ------------------------------------------------------------
def _lhs(tr, T):
    return tr["grad_norm_sq"][:T].mean(0)


@pytest.mark.parametrize("algo", ["fedbuff", "qafel"])
def test_replicas_are_independent_draws_even_without_oracle_noise(algo):
    # Deterministic gradients (noise 0) and a deterministic quantizer for QAFeL: the replicas then
    # differ only through their own client choices and durations (QAFeL Alg. 1 line 3).
    p = quad(n=8, d=3, noise=0.0)
    kw = dict(T=15, R=6, seed=2, eta_l=0.1, eta_g=1.0, K=2, P=2, concurrency=4)
    if algo == "qafel":
        tr = qafel(p, client_compressor=TopK(2), server_compressor=TopK(2), **kw)
    else:
        tr = fedbuff(p, **kw)
    lhs = _lhs(tr, 15)
    assert len(set(lhs.tolist())) == 6
    assert tr.meta["shared_across_replicas"] is False
    assert len(tr.meta["tau_max_per_replica"]) == 6
    assert tr.meta["tau_max"] == max(tr.meta["tau_max_per_replica"])
    # pinned: one schedule for all replicas, identical deterministic runs
    pinned = fedbuff_schedule(n=8, T=15, K=2, concurrency=4, seed=5)
    kw["schedule"] = pinned
    tp = qafel(p, client_compressor=TopK(2), server_compressor=TopK(2), **kw) if algo == "qafel" \
        else fedbuff(p, **kw)  # fmt: skip
    assert len(set(_lhs(tp, 15).tolist())) == 1
    assert tp.meta["shared_across_replicas"] is True
    assert tp.meta["tau_max"] == pinned.tau_max


@pytest.mark.parametrize("algo", ["fedbuff", "qafel"])
def test_batch_equals_separate_single_replica_runs(algo):
    p = quad(n=6, d=4, noise=0.3)
    q = QSGDBits(2)
    kw = dict(T=12, seed=11, eta_l=0.1, eta_g=1.2, K=3, P=2, concurrency=5, record_x=True)
    if algo == "qafel":
        kw |= dict(client_compressor=q, server_compressor=RandK(2, unbiased=True))
    fn = qafel if algo == "qafel" else fedbuff
    R = 5
    batch = fn(p, R=R, **kw)
    assert batch.meta["tau_max"] >= 1
    for r in range(R):
        one = fn(p, R=1, first_replica=r, **kw)
        assert torch.allclose(batch["x"][:, r], one["x"][:, 0], rtol=1e-12, atol=1e-12)
        assert torch.allclose(batch["grad_norm_sq"][:, r], one["grad_norm_sq"][:, 0], rtol=1e-12)
        assert batch.meta["tau_max_per_replica"][r] == one.meta["tau_max"]
    assert len(set(_lhs(batch, 12).tolist())) == R


def test_stacked_schedules_equal_pinned_single_runs():
    p = quad(n=5, d=3, noise=0.2)
    scheds = [random_schedule(5, 8, 2, seed=s) for s in range(3)]
    kw = dict(T=8, seed=3, eta_l=0.1, eta_g=1.0, K=2, P=2, record_x=True)
    batch = fedbuff(p, R=3, schedule=ScheduleBatch.stack(scheds), **kw)
    assert batch.meta["tau_max_per_replica"] == [s.tau_max for s in scheds]
    for r, s in enumerate(scheds):
        one = fedbuff(p, R=1, first_replica=r, schedule=s, **kw)
        assert torch.allclose(batch["x"][:, r], one["x"][:, 0], rtol=1e-12, atol=1e-13)
    with pytest.raises(ParameterError, match="R=3"):
        fedbuff(p, R=2, schedule=ScheduleBatch.stack(scheds), **kw)


def test_identity_qafel_is_fedbuff_per_replica_on_generated_schedules():
    p = quad(n=6, d=3, noise=0.3)
    b = fedbuff_schedules(n=6, T=20, K=2, R=4, concurrency=4, seed=1)
    assert len(set(b.tau_max_per_replica.tolist())) > 1 or b.tau_max >= 1
    kw = dict(T=20, R=4, seed=1, eta_l=0.1, eta_g=1.5, K=2, P=3, schedule=b, record_x=True)
    a, f = qafel(p, **kw), fedbuff(p, **kw)
    assert torch.allclose(a["x"], f["x"], rtol=0, atol=1e-12)


def test_trace_records_the_f_star_used_and_f_gap_subtracts_it():
    from boundcheck.algorithms.common import f_star_used

    p = make("logistic", n=4, d=5, m=10, alpha=0.1, lam=0.01, seed=0)
    tr = qafel(p, T=3, R=2, seed=0, eta_l=0.1, eta_g=1.0, K=2, P=1, concurrency=2)
    value, provenance = f_star_used(p)
    assert tr.meta["f_star_used"] == {"value": value, "provenance": provenance}
    assert provenance == "certified_lower_bound"  # logistic: never the solver's upper value
    x0 = torch.zeros(2, 5, dtype=torch.float64)
    assert torch.allclose(tr["f_gap"][0], p.f(x0) - value, rtol=1e-12)
