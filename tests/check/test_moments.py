"""Exact moment propagation (boundcheck.check.moments) against batched Monte Carlo runs of the real
implementations: the exact values must lie in the simultaneous 99.9% confidence band of the replica
means (Bonferroni over every recorded row and every moment used in the test; issue 13)."""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.algorithms.async_sim import asyncbc_schedules
from boundcheck.algorithms.asyncbc import async_gd, async_sgd, asyncbc_gd, asyncbc_sgd, sarah
from boundcheck.algorithms.common import f_star_used
from boundcheck.algorithms.fedpaq import fedavg, fedpaq
from boundcheck.check import moments as mo
from boundcheck.compressors import RandK, TopK
from boundcheck.errors import ParameterError
from boundcheck.problems.oracles import make_oracle
from boundcheck.problems.quadratic import Quadratic

ALPHA = 1e-3  # the exact values must lie in the simultaneous 99.9% confidence band of the MC means
_FAMILY: list[list[tuple[np.ndarray, np.ndarray, np.ndarray, str]]] = []


def _z(m: int) -> float:
    """Two-sided normal quantile for level ``ALPHA / m`` (Bonferroni over ``m`` checked rows)."""
    return NormalDist().inv_cdf(1.0 - ALPHA / (2 * m))


def _simultaneous(test):
    """Run ``test`` collecting every ``_assert_in_ci`` row, then require each exact value within
    ``_z(m)`` standard errors of its MC mean, ``m`` = rows checked in the test: a simultaneous 99.9%
    band over every moment and row (one interval per row at 99.9% would fail by chance in about
    ``m / 1000`` of the cases; these tests check 20-60 rows each)."""

    @functools.wraps(test)
    def run(*args, **kwargs):
        _FAMILY.append([])
        try:
            test(*args, **kwargs)
            checks = _FAMILY[-1]
        finally:
            _FAMILY.pop()
        m = sum(len(c[0]) for c in checks)
        for mean, se, exact, what in checks:
            _verify(mean, se, exact, what, _z(m))

    return run


def _verify(mean: np.ndarray, se: np.ndarray, exact: np.ndarray, what: str, z: float) -> None:
    tol = z * se + 1e-9 * (1.0 + np.abs(exact))
    bad = np.abs(mean - exact) > tol
    assert not bad.any(), (
        f"{what}: rows {np.nonzero(bad)[0].tolist()}: MC {mean[bad]} +- {z * se[bad]} vs exact "
        f"{exact[bad]} (z = {z:.2f})"
    )


def _assert_in_ci(samples: torch.Tensor, exact: np.ndarray, what: str) -> None:
    """``samples`` (rows, R): every row's replica mean against ``exact`` (inside a
    :func:`_simultaneous` test: collected; else at once, at level ``ALPHA`` over these rows)."""
    s = samples.double().numpy()
    mean = s.mean(axis=1)
    se = s.std(axis=1, ddof=1) / np.sqrt(s.shape[1])
    exact = np.asarray(exact, dtype=float)
    if _FAMILY:
        _FAMILY[-1].append((mean, se, exact, what))
    else:
        _verify(mean, se, exact, what, _z(len(mean)))


def _problem(oracle: str = "exact", noise_var: float = 0.0, indefinite: bool = False) -> Quadratic:
    H = np.array(
        [
            [[2.0, 0.5], [0.5, 1.0]],
            [[0.5, 0.0], [0.0, 1.5]],
            [[1.0, -0.3], [-0.3, -0.4 if indefinite else 0.8]],
        ]
    )
    c = np.array([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.3]])
    e = np.array([0.1, -0.2, 0.3])
    return Quadratic(H, c, e, oracle=make_oracle(oracle, noise_var), allow_indefinite=indefinite)


def _assert_x_moments(x: torch.Tensor, rows: mo.Rows, what: str) -> None:
    """Recorded iterates ``x`` (T, R, d): every first and second moment entry at every row."""
    T, R, d = x.shape
    _assert_in_ci(x.permute(0, 2, 1).reshape(T * d, R), rows.mean.reshape(-1), f"{what} E x")
    for a, b in itertools.combinations_with_replacement(range(d), 2):
        _assert_in_ci(x[:, :, a] * x[:, :, b], rows.second[:, a, b], f"{what} E x_{a} x_{b}")


def _lhs(trace, rows: mo.Rows, problem, what: str, g: str = "grad_norm_sq", f: str = "f_gap"):
    qp = mo.quad_problem(problem)
    full = qp.full()
    _assert_in_ci(trace.series[g], rows.grad_norm_sq(full), f"{what} {g}")
    fs, _ = f_star_used(problem)
    _assert_in_ci(trace.series[f], rows.f_gap(full, fs if fs is not None else 0.0), f"{what} {f}")
    # the averaged lhs of AsyncBC Theorems 1-2: 1/T sum_t E||grad f(x_t)||^2
    avg = trace.series[g].mean(0, keepdim=True)
    _assert_in_ci(avg, np.array([rows.grad_norm_sq(full).mean()]), f"{what} averaged {g}")


# --- the propagator itself ---------------------------------------------------------------------
@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    nb=st.integers(1, 3),
    D=st.integers(1, 3),
    steps=st.integers(1, 4),
)
def test_step_equals_path_enumeration(seed: int, nb: int, D: int, steps: int) -> None:
    """Noise-free mixtures: the recursion equals brute force over all ``nb ** steps`` paths."""
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(nb))
    brs = [mo.Branch(p[i], rng.normal(size=(D, D)), rng.normal(size=D)) for i in range(nb)]
    z0 = rng.normal(size=D)
    mom = mo.deterministic(z0)
    for _ in range(steps):
        mom = mo.step(mom, brs)
    m = sum(q * z for q, z in mo.mixture_paths(brs, z0, steps))
    S = sum(q * np.outer(z, z) for q, z in mo.mixture_paths(brs, z0, steps))
    np.testing.assert_allclose(mom.mean, m, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(mom.second, S, rtol=1e-10, atol=1e-10)


def test_noise_term_and_lhs_identities() -> None:
    """``z' = A z + B xi``: the covariance gains ``B C B^T``; the lhs are traces of the moments."""
    A = np.array([[0.5, 1.0], [0.0, 2.0]])
    B = np.array([[1.0], [3.0]])
    mom = mo.step(mo.deterministic([1.0, 2.0]), [mo.Branch(1.0, A, None, B, np.array([[4.0]]))])
    np.testing.assert_allclose(mom.mean, [2.5, 4.0])
    np.testing.assert_allclose(mom.cov, 4.0 * B @ B.T)
    H, c = np.array([[2.0, 0.0], [0.0, 1.0]]), np.array([1.0, -1.0])
    # E||H x - c||^2 by hand: mean part + tr(H Cov H)
    g = H @ mom.mean - c
    assert mo.grad_norm_sq(mom.mean, mom.second, H, c) == pytest.approx(
        g @ g + np.trace(H @ mom.cov @ H)
    )
    assert mo.dist_sq(mom.mean, mom.second, np.zeros(2)) == pytest.approx(np.trace(mom.second))


def test_exact_rationals_agree_with_float() -> None:
    pb = _problem()
    rows_f = mo.sarah_moments(pb, T=5, eta=0.25)
    rows_q = mo.sarah_moments(pb, T=5, eta=Fraction(1, 4), exact_arith=True)
    assert isinstance(rows_q.mean[3, 0], Fraction)
    g = mo.quad_problem(pb, exact_arith=True).full()
    gq = rows_q.grad_norm_sq(g)
    assert all(isinstance(v, Fraction) for v in gq)
    np.testing.assert_allclose(np.array(gq, dtype=float), rows_f.grad_norm_sq(pb_full(pb)), 1e-12)


def pb_full(pb) -> mo.Quad:
    return mo.quad_problem(pb).full()


def test_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="sum to 1"):
        mo.step(mo.deterministic([0.0]), [mo.Branch(0.4, np.eye(1))])
    with pytest.raises(ParameterError, match="shape"):
        mo.step(mo.deterministic([0.0]), [mo.Branch(1.0, np.eye(2))])
    with pytest.raises(ParameterError, match="quadratic"):
        mo.quad_problem(object())
    with pytest.raises(ParameterError, match="oracle 'minibatch'"):
        pb = _problem()
        pb.oracle = make_oracle("minibatch")
        mo.quad_problem(pb)
    with pytest.raises(ParameterError, match="k=3"):
        mo.randk_masks(2, 3, True)


# --- (a) SARAH and AsyncBC with tau_C = 1 --------------------------------------------------------
R = 16384
T_A = 7


@pytest.mark.parametrize("indefinite", [False, True])
@_simultaneous
def test_sarah_exact_matches_mc(indefinite: bool) -> None:
    pb = _problem(indefinite=indefinite)
    x0 = np.array([0.5, -1.0])
    rows = mo.sarah_moments(pb, T=T_A, eta=0.3, x0=x0)
    tr = sarah(pb, T=T_A, R=R, seed=3, eta=0.3, x0=x0, record_x=True)
    _lhs(tr, rows, pb, "sarah")
    _assert_x_moments(tr.series["x"], rows, "sarah")


@_simultaneous
def test_asyncbc_gd_tau1_exact_matches_mc() -> None:
    pb = _problem()
    rows = mo.sarah_moments(pb, T=T_A, eta=0.3)
    tr = asyncbc_gd(pb, T=T_A, R=R, seed=5, eta=0.3, tau_C=1, record_x=True)
    _lhs(tr, rows, pb, "asyncbc_gd tau_C=1")
    _assert_x_moments(tr.series["x"], rows, "asyncbc_gd tau_C=1")


@pytest.mark.parametrize(
    ("oracle", "sampling"), [("independent", "shared"), ("gaussian", "independent")]
)
@_simultaneous
def test_asyncbc_sgd_tau1_exact_matches_mc(oracle: str, sampling: str) -> None:
    pb = _problem(oracle, noise_var=0.2)
    rows = mo.sarah_moments(pb, T=T_A, eta=0.3, stochastic=True, sampling=sampling)
    tr = asyncbc_sgd(pb, T=T_A, R=R, seed=7, eta=0.3, tau_C=1, sampling=sampling, record_x=True)
    _lhs(tr, rows, pb, f"asyncbc_sgd {oracle}/{sampling}")
    _assert_x_moments(tr.series["x"], rows, f"asyncbc_sgd {oracle}/{sampling}")


def test_gaussian_shared_noise_cancels_exactly() -> None:
    """With one shared sample the additive noise cancels: the moments equal the exact oracle's."""
    a = mo.sarah_moments(_problem("gaussian", 0.5), T=6, eta=0.3, stochastic=True)
    b = mo.sarah_moments(_problem(), T=6, eta=0.3)
    np.testing.assert_allclose(a.second, b.second, rtol=1e-14)


def test_wrong_model_is_detected() -> None:
    """The comparison can fail: a model with the noise left out is rejected by the MC run."""
    pb = _problem("independent", noise_var=0.2)
    wrong = mo.sarah_moments(pb, T=T_A, eta=0.3, stochastic=False)
    tr = asyncbc_sgd(pb, T=T_A, R=R, seed=7, eta=0.3, tau_C=1)
    with pytest.raises(AssertionError):
        _assert_in_ci(tr.series["grad_norm_sq"], wrong.grad_norm_sq(pb_full(pb)), "wrong")


# --- (b) FedPAQ / FedAvg --------------------------------------------------------------------
@pytest.mark.parametrize(
    "quantizer", [None, RandK(k=1, unbiased=True), RandK(k=1, unbiased=False)], ids=str
)
@_simultaneous
def test_fedpaq_exact_matches_mc(quantizer) -> None:
    pb = _problem("gaussian", noise_var=0.3)
    x0 = np.array([1.0, -0.5])
    K, tau, r = 3, 2, 2
    rx, rbar = mo.fedpaq_moments(pb, K=K, tau=tau, r=r, eta=0.2, quantizer=quantizer, x0=x0)
    run = fedavg if quantizer is None else fedpaq
    kw = {} if quantizer is None else {"quantizer": quantizer}
    tr = run(pb, K=K, tau=tau, r=r, R=R, seed=11, eta=0.2, x0=x0, record_x=True, **kw)
    full = pb_full(pb)
    what = f"fedpaq {quantizer}"
    _assert_in_ci(tr.series["grad_norm_sq_x"], rx.grad_norm_sq(full), f"{what} grad x_k")
    fs, _ = f_star_used(pb)
    _assert_in_ci(tr.series["f_gap"], rx.f_gap(full, fs), f"{what} f_gap x_k")
    xs = np.asarray(pb.x_star, dtype=float).reshape(-1)
    _assert_in_ci(tr.series["dist_sq"], rx.dist_sq(xs), f"{what} dist_sq")
    _assert_in_ci(tr.series["grad_norm_sq"], rbar.grad_norm_sq(full), f"{what} grad bar x")
    _assert_x_moments(tr.series["x"], rx, what)


# --- (d) Async-GD/-SGD on a pinned schedule ------------------------------------------------------
@pytest.mark.parametrize("stochastic", [False, True])
@_simultaneous
def test_async_gd_pinned_schedule_exact_matches_mc(stochastic: bool) -> None:
    pb = _problem("gaussian", noise_var=0.3)
    T = 8
    sched = asyncbc_schedules(n=pb.n, T=T, tau_C=3, R=1, tau=10.0, seed=2).replica(0)
    assert sched.tau_max >= 1  # a genuinely delayed pattern
    rows = mo.async_gd_moments(
        pb,
        T=T,
        eta=0.2,
        clients=sched.client[:T],
        read_version=sched.read_version[:T],
        stochastic=stochastic,
    )
    run = async_sgd if stochastic else async_gd
    tr = run(pb, T=T, R=4096 if not stochastic else R, seed=13, eta=0.2, tau_C=3, schedule=sched,
             record_x=True)  # fmt: skip
    if not stochastic:  # deterministic given the schedule: every replica equals the exact value
        np.testing.assert_allclose(tr.series["x"][:, 0].numpy(), rows.mean, rtol=1e-12)
        np.testing.assert_allclose(rows.second, np.einsum("ti,tj->tij", rows.mean, rows.mean))
        return
    _lhs(tr, rows, pb, "async_sgd pinned")
    _assert_x_moments(tr.series["x"], rows, "async_sgd pinned")


# --- (c) EF-SGD / SAEF-SGD -------------------------------------------------------------------
@pytest.mark.parametrize(
    ("variant", "K", "mu", "p", "up", "down", "assignment"),
    [
        ("ef", 1, 0.0, None, RandK(k=1), None, "shared"),
        ("saef", 1, 0.0, None, RandK(k=1), RandK(k=1), "shared"),
        ("saef", 3, 0.5, 2, RandK(k=1, unbiased=True), None, "partition"),
        ("ef", 2, 0.0, None, None, RandK(k=1), "shared"),
    ],
    ids=["ef-randk", "saef-double-randk", "saefm-avg-partition", "ef-server-randk"],
)
@_simultaneous
def test_ef_saef_exact_matches_mc(variant, K, mu, p, up, down, assignment) -> None:
    from boundcheck.algorithms.saef import ef_sgd, saef_sgd

    pb = _problem("gaussian", noise_var=0.3)
    T, eta, x0 = 6, 0.15, np.array([1.0, 0.5])
    ex = mo.ef_moments(pb, variant=variant, T=T, eta=eta, K=K, mu=mu, p=p, client_compressor=up,
                       server_compressor=down, assignment=assignment, x0=x0)  # fmt: skip
    run = ef_sgd if variant == "ef" else saef_sgd
    tr = run(pb, T=T, R=R, seed=17, eta=eta, K=K, mu=mu, p=p, client_compressor=up,
             server_compressor=down, assignment=assignment, x0=torch.tensor(x0),
             record_x=True)  # fmt: skip
    what = f"{variant} K={K} {up}/{down}"
    _lhs(tr, ex.x, pb, what)
    _lhs(tr, ex.x_tilde, pb, what, g="grad_norm_sq_tilde", f="f_gap_tilde")
    _assert_in_ci(tr.series["err_server_sq"], ex.err_server_sq, f"{what} ||e_t||^2")
    _assert_in_ci(tr.series["err_workers_sq"], ex.err_workers_sq, f"{what} ||e_t^(k)||^2")
    _assert_x_moments(tr.series["x"], ex.x, what)


# --- regression: the row ring of asyncbc._Rows overwrote the first row of each block (fixed) ----------
@pytest.mark.parametrize("method", ["sarah", "asyncbc_gd", "async_gd"])
@_simultaneous
def test_asyncbc_row_ring_records_every_row(method: str) -> None:
    pb = _problem()
    T, Rr = 20, 8192  # R * d = 16384 > 2^15 / 16: the ring holds 16 < T + 1 rows
    if method == "async_gd":  # deterministic on a pinned schedule: rows known exactly
        sched = asyncbc_schedules(n=pb.n, T=T, tau_C=2, R=1, tau=10.0, seed=2).replica(0)
        rows = mo.async_gd_moments(pb, T=T, eta=0.3, clients=sched.client[:T],
                                   read_version=sched.read_version[:T])  # fmt: skip
        tr = async_gd(pb, T=T, R=Rr, seed=1, eta=0.3, tau_C=2, schedule=sched)
    else:
        rows = mo.sarah_moments(pb, T=T, eta=0.3)
        run = sarah if method == "sarah" else asyncbc_gd
        kw = {} if method == "sarah" else {"tau_C": 1}
        tr = run(pb, T=T, R=Rr, seed=1, eta=0.3, **kw)
    _assert_in_ci(tr.series["grad_norm_sq"], rows.grad_norm_sq(pb_full(pb)), method)


# --- (d) AsyncBC-GD/-SGD with tau_C > 1 on a pinned schedule ---------------------------------------
@pytest.mark.parametrize("stochastic", [False, True])
@_simultaneous
def test_asyncbc_pinned_schedule_exact_matches_mc(stochastic: bool) -> None:
    pb = _problem("independent" if stochastic else "exact", noise_var=0.3)
    T, tau_C = 9, 3
    sched = asyncbc_schedules(n=pb.n, T=T, tau_C=tau_C, R=1, tau=10.0, seed=4).replica(0)
    assert sched.tau_max >= 1
    rows = mo.asyncbc_pinned_moments(pb, T=T, eta=0.25, tau_C=tau_C, clients=sched.client,
                                     read_version=sched.read_version,
                                     stochastic=stochastic)  # fmt: skip
    run = asyncbc_sgd if stochastic else asyncbc_gd
    tr = run(pb, T=T, R=R if stochastic else 64, seed=19, eta=0.25, tau_C=tau_C, schedule=sched,
             record_x=True)  # fmt: skip
    if not stochastic:  # deterministic given the schedule
        np.testing.assert_allclose(tr.series["x"][:, 0].numpy(), rows.mean, rtol=1e-12)
        np.testing.assert_allclose(rows.second, np.einsum("ti,tj->tij", rows.mean, rows.mean))
        return
    _lhs(tr, rows, pb, "asyncbc_sgd pinned")
    _assert_x_moments(tr.series["x"], rows, "asyncbc_sgd pinned")


# --- QAFeL / FedBuff on a pinned schedule ----------------------------------------------------------
@pytest.mark.parametrize(
    ("hidden", "qc", "qs"),
    [(False, None, None), (True, RandK(k=1, unbiased=True), RandK(k=1)), (True, None, RandK(k=1))],
    ids=["fedbuff", "qafel-randk-both", "qafel-server-randk"],
)
@_simultaneous
def test_qafel_pinned_schedule_exact_matches_mc(hidden, qc, qs) -> None:
    from boundcheck.algorithms.async_sim import fedbuff_schedules
    from boundcheck.algorithms.qafel import fedbuff, qafel

    pb = _problem("gaussian", noise_var=0.3)
    T, K, P = 5, 2, 2
    sched = fedbuff_schedules(n=pb.n, T=T, K=K, R=1, rate=2.0, seed=6).replica(0)
    assert sched.tau_max >= 1
    x0 = np.array([1.0, -1.0])
    ex = mo.qafel_pinned_moments(pb, T=T, eta_l=0.2, eta_g=1.0, K=K, P=P, clients=sched.client,
                                 read_version=sched.read_version, hidden=hidden,
                                 client_compressor=qc, server_compressor=qs, x0=x0)  # fmt: skip
    kw = {"client_compressor": qc, "server_compressor": qs} if hidden else {}
    run = qafel if hidden else fedbuff
    tr = run(pb, T=T, R=R, seed=23, eta_l=0.2, eta_g=1.0, K=K, P=P, schedule=sched,
             x0=torch.tensor(x0), record_x=True, **kw)  # fmt: skip
    what = "qafel" if hidden else "fedbuff"
    _lhs(tr, ex.x, pb, what)
    _assert_x_moments(tr.series["x"], ex.x, what)
    if hidden:
        _assert_in_ci(tr.series["hidden_gap"], ex.hidden_gap, f"{what} hidden_gap")


# --- (d) averaged over the random schedule ---------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "stochastic"), [("asyncbc", False), ("asyncbc", True), ("async", True)]
)
@_simultaneous
def test_random_schedule_exact_matches_mc(method: str, stochastic: bool) -> None:
    pb = _problem("independent" if method == "asyncbc" and stochastic else "gaussian", 0.3)
    T, tau_C = 6, 2
    rows = mo.random_schedule_moments(pb, method=method, T=T, eta=0.25, tau_C=tau_C,
                                      stochastic=stochastic)  # fmt: skip
    if method == "asyncbc":
        run = asyncbc_sgd if stochastic else asyncbc_gd
    else:
        run = async_sgd if stochastic else async_gd
    tr = run(pb, T=T, R=R, seed=29, eta=0.25, tau_C=tau_C, record_x=True)
    assert tr.meta["tau_max"] >= 1
    what = f"{method} random schedule"
    _lhs(tr, rows, pb, what)
    _assert_x_moments(tr.series["x"], rows, what)


def test_random_schedule_refuses_too_many_paths() -> None:
    with pytest.raises(ParameterError, match="max_paths"):
        mo.random_schedule_moments(_problem(), method="async", T=30, eta=0.1, tau_C=2)


@pytest.mark.parametrize("builder", ["fedpaq", "saef", "qafel", "asyncbc", "async"])
def test_exact_rationals_every_builder(builder: str) -> None:
    """``exact_arith=True`` gives Fractions equal (to float rounding) to the float64 moments."""
    from boundcheck.algorithms.async_sim import fedbuff_schedules

    pb = _problem("gaussian", 0.25)
    q = RandK(k=1)
    a = asyncbc_schedules(n=3, T=5, tau_C=2, R=1, seed=1).replica(0)
    s = fedbuff_schedules(n=3, T=3, K=2, R=1, rate=2.0, seed=6).replica(0)

    def build(eta, ex):
        if builder == "fedpaq":
            return mo.fedpaq_moments(pb, K=2, tau=2, r=2, eta=eta, quantizer=q, exact_arith=ex)[1]
        if builder == "saef":
            return mo.ef_moments(pb, variant="saef", T=3, eta=eta, K=2, client_compressor=q,
                                 server_compressor=q, exact_arith=ex).x_tilde  # fmt: skip
        if builder == "qafel":
            return mo.qafel_pinned_moments(pb, T=3, eta_l=eta, eta_g=1, K=2, P=2, clients=s.client,
                                           read_version=s.read_version, client_compressor=q,
                                           server_compressor=q, exact_arith=ex).x  # fmt: skip
        if builder == "asyncbc":
            return mo.asyncbc_pinned_moments(pb, T=5, eta=eta, tau_C=2, clients=a.client,
                                             read_version=a.read_version, exact_arith=ex)  # fmt: skip
        return mo.async_gd_moments(pb, T=5, eta=eta, clients=a.client, read_version=a.read_version,
                                   stochastic=True, exact_arith=ex)  # fmt: skip

    rq, rf = build(Fraction(1, 5), True), build(0.2, False)
    assert all(isinstance(v, Fraction) for v in rq.second.flat)
    np.testing.assert_allclose(np.array(rq.second, dtype=float), rf.second, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(np.array(rq.mean, dtype=float), rf.mean, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda pb: mo.sarah_moments(pb, T=1, eta=0.1), "T=1"),
        (lambda pb: mo.fedpaq_moments(pb, K=0, tau=1, r=1, eta=0.1), "K=0"),
        (lambda pb: mo.fedpaq_moments(pb, K=1, tau=1, r=4, eta=0.1), "r=4"),
        (
            lambda pb: mo.ef_moments(pb, variant="ef", T=2, eta=0.1, K=2, assignment="partition"),
            "K == n",
        ),
        (lambda pb: mo.ef_moments(pb, variant="xx", T=2, eta=0.1, K=1), "variant"),
        (lambda pb: mo.fedpaq_moments(pb, K=1, tau=1, r=1, eta=0.1, quantizer=TopK(k=1)), "topk"),
        (lambda pb: mo.sarah_moments(pb, T=3, eta=0.1, client_probs=[0.5, 0.5]), "client_probs"),
        (lambda pb: mo.random_schedule_moments(pb, method="x", T=3, eta=0.1, tau_C=1), "method"),
        (
            lambda pb: mo.async_gd_moments(
                pb, T=3, eta=0.1, clients=[0, 0, 0], read_version=[1, 5, 1]
            ),
            "version 5",
        ),
    ],
)
def test_builders_refuse_bad_input(call, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        call(_problem())
