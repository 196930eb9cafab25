"""Async-GD/-SGD, AsyncBC-GD/-SGD and SARAH (AsyncBC paper): reductions, closed forms, the claims."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from quad_problems import DiagQuad, diag_quad

from boundcheck.algorithms.async_sim import Schedule, asyncbc_schedule
from boundcheck.algorithms.asyncbc import async_gd, async_sgd, asyncbc_gd, asyncbc_sgd, sarah
from boundcheck.errors import ParameterError
from boundcheck.problems.least_squares import asyncbc_least_squares
from boundcheck.problems.sarah import sarah_counterexample


def randn(*shape, seed=1):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)


# --- exactness: AsyncBC with tau_C = 1 is SARAH --------------------------------------------------
@settings(max_examples=15, deadline=None)
@given(n=st.integers(1, 5), seed=st.integers(0, 1000), eta=st.floats(0.01, 0.5))
def test_asyncbc_gd_tau_c_1_equals_sarah_bitwise(n, seed, eta):
    prob = diag_quad(n=n, d=3, seed=seed)
    T = 30
    sched = asyncbc_schedule(n=n, T=T, tau_C=1, seed=seed)
    assert sched.tau_max == 0
    x0 = randn(2, 3, seed=seed)
    a = asyncbc_gd(
        prob, T=T, R=2, seed=seed, eta=eta, tau_C=1, schedule=sched, x0=x0, record_x=True
    )
    s = sarah(prob, T=T, R=2, seed=seed, eta=eta, clients=sched.client, x0=x0, record_x=True)
    assert torch.equal(a["x"], s["x"])
    assert torch.equal(a["m"], s["m"])
    assert torch.equal(a.meta["x_final"], s.meta["x_final"])
    assert a.meta["tau_max"] == 0


@pytest.mark.parametrize("oracle", ["gaussian", "independent"])
def test_asyncbc_sgd_tau_c_1_equals_stochastic_sarah_bitwise(oracle):
    prob = sarah_counterexample(n=4, d=5, zeta=1.0, noise_var=0.01, oracle=oracle)
    T = 40
    sched = asyncbc_schedule(n=4, T=T, tau_C=1, seed=3)
    kw = dict(T=T, R=3, seed=9, eta=0.2, x0=torch.ones(5, dtype=torch.float64), record_x=True)
    a = asyncbc_sgd(prob, tau_C=1, schedule=sched, **kw)
    s = sarah(prob, stochastic=True, clients=sched.client, **kw)
    assert torch.equal(a["x"], s["x"])
    assert torch.equal(a["m"], s["m"])


# --- closed forms -------------------------------------------------------------------------------
@pytest.mark.parametrize("tau_C", [1, 2, 4])
def test_identity_hessians_closed_form(tau_C):
    """f_i = ||x + b_i||^2/2 (all Hessians I), exact oracle.

    tau_C = 1 (SARAH): m_t = grad f(x_t), so x_t - x* = (1 - eta)^t (x_0 - x*) (AsyncBC App. B,
    proof of Thm. 3, with xi = 0). tau_C = n: every difference is x_v - x_{v-1} whoever computes it.
    """
    prob = sarah_counterexample(n=4, d=3, zeta=1.0, oracle="exact")
    xstar = torch.as_tensor(prob.x_star_np, dtype=torch.float64)
    x0 = randn(2, 3)
    eta, T = 0.3, 12
    tr = asyncbc_gd(prob, T=T, R=2, seed=0, eta=eta, tau_C=tau_C, x0=x0, record_x=True)
    if tau_C == 1:
        for t in range(T):
            assert torch.allclose(tr["x"][t], xstar + (1 - eta) ** t * (x0 - xstar), atol=1e-13)
            assert torch.allclose(tr["m"][t], tr["x"][t] - xstar, atol=1e-13)
    # row 1 is x_1 = x_0 - eta grad f(x_0) for every tau_C (line 1)
    assert torch.allclose(tr["x"][1], x0 - eta * (x0 - xstar), atol=1e-14)


def test_hand_derived_schedule_tau_c_2():
    """A hand-made schedule (n = 2, tau_C = 2) on d = 1 quadratics f_i = a_i x^2/2 - c_i x.

    Events (client, read version): (0,1), (1,1), (0,2), (1,3). Written out from Algorithm 1:
      m0 = abar x0 - cbar, x1 = x0 - eta m0
      m1 = m0 + (a0/2)(x1 - x0),   x2 = x1 - eta m1
      m2 = m1 + (a1/2)(x1 - x0),   x3 = x2 - eta m2        (m2 = grad f(x1): tau_C = n)
      m3 = m2 + a0 (x2 - x1),      x4 = x3 - eta m3
      m4 = m3 + a1 (x3 - x2),      x5 = x4 - eta m4
    """
    a0, a1, c0, c1 = 1.0, 3.0, 0.5, -2.0
    prob = DiagQuad(torch.tensor([[a0], [a1]], dtype=torch.float64),
                    torch.tensor([[c0 / a0], [c1 / a1]], dtype=torch.float64))  # fmt: skip
    sched = Schedule.from_events(n=2, K=1, clients=[0, 1, 0, 1], read_versions=[1, 1, 2, 3],
                                 applied_steps=[1, 2, 3, 4], first_step=1)  # fmt: skip
    eta, x0 = 0.1, 2.0
    abar, cbar = (a0 + a1) / 2, (c0 + c1) / 2
    m0 = abar * x0 - cbar
    x1 = x0 - eta * m0
    m1 = m0 + a0 / 2 * (x1 - x0)
    x2 = x1 - eta * m1
    m2 = m1 + a1 / 2 * (x1 - x0)
    x3 = x2 - eta * m2
    m3 = m2 + a0 * (x2 - x1)
    x4 = x3 - eta * m3
    m4 = m3 + a1 * (x3 - x2)
    x5 = x4 - eta * m4
    tr = asyncbc_gd(prob, T=5, R=1, seed=0, eta=eta, tau_C=2, schedule=sched,
                    x0=torch.tensor([x0], dtype=torch.float64), record_x=True)  # fmt: skip
    got_x = [*tr["x"][:, 0, 0].tolist(), float(tr.meta["x_final"][0, 0])]
    assert got_x == pytest.approx([x0, x1, x2, x3, x4, x5], rel=1e-14, abs=1e-15)
    assert tr["m"][:, 0, 0].tolist() == pytest.approx([m0, m1, m2, m3, m4], rel=1e-14, abs=1e-15)
    assert m2 == pytest.approx(abar * x1 - cbar, rel=1e-14)  # reweighting: m_2 = grad f(x_1)
    assert tr.meta["tau_max"] == 1
    assert tr.meta["schedule"]["staleness"] == [[0, 1, 1, 1]]  # one row per replica

    # Async-GD on the same events: the task reading version v computes at x_{v-1}
    y1 = x0 - eta * (a0 * x0 - c0)
    y2 = y1 - eta * (a1 * x0 - c1)
    y3 = y2 - eta * (a0 * y1 - c0)
    y4 = y3 - eta * (a1 * y2 - c1)
    tg = async_gd(prob, T=4, R=1, seed=0, eta=eta, tau_C=2, schedule=sched,
                  x0=torch.tensor([x0], dtype=torch.float64), record_x=True)  # fmt: skip
    got_y = [*tg["x"][:, 0, 0].tolist(), float(tg.meta["x_final"][0, 0])]
    assert got_y == pytest.approx([x0, y1, y2, y3, y4], rel=1e-14, abs=1e-15)


# --- Lemma 2 and Lemma 1 on the algorithm's own trajectory ---------------------------------------
def _virtual_check(prob, tr, sched, T, eta, tau_C, delta_H):
    """Virtual momenta/iterates of AsyncBC App. A from a trace; asserts Lemma 2 (identity) and Lemma 1.

    ``sched`` must cover every task handed out up to version T - 1 (generate it longer than used).
    Active sets read with the union first: C_t = C_{t-1} + {(k_t, t)} - {received at t}, so a task
    reading version v received at step r is in C_s for v <= s < r (with tau_C = 1 every C_t is empty).
    """
    from boundcheck.theory import asyncbc as TA
    from boundcheck.theory.evaluate import evaluate_bound

    x, m = tr["x"][:, 0], tr["m"][:, 0]  # (T, d): x_0..x_{T-1}, m_0..m_{T-1}
    L = prob.constant("L").value
    tau_max = tr.meta["tau_max"]
    tasks = [(int(c), int(v), int(r)) for c, v, r in
             zip(sched.client, sched.read_version, sched.applied_step, strict=True)]  # fmt: skip
    assert sum(v == 1 for _, v, _ in tasks) == tau_C
    assert {v for _, v, _ in tasks} >= set(range(1, T))

    def g(k, v):
        k_ = torch.tensor([k])
        d = prob.grad_i(x[v].view(1, 1, -1), k_) - prob.grad_i(x[v - 1].view(1, 1, -1), k_)
        return d[0, 0] / (tau_C if v == 1 else 1)

    mt = m[0] + sum(g(k, v) for k, v, _ in tasks if v == 1)  # m~_1
    xt = [x[0], x[1]]
    for t in range(1, T):
        if t >= 2:
            mt = mt + next(g(k, v) for k, v, _ in tasks if v == t)  # m~_t = m~_{t-1} + g_t^{k_t}
        active = [(k, v) for k, v, r in tasks if v <= t < r]
        err = -sum((g(k, v) for k, v in active), torch.zeros_like(mt))
        assert torch.allclose(m[t] - mt, err, rtol=1e-10, atol=1e-12)  # Lemma 2, first line
        bm = evaluate_bound(TA.LEMMA1_M, {"eta": eta, "tau_C": tau_C, "delta_H": delta_H, "L": L,
                            "sum_m2_active": sum(float(m[v - 1] @ m[v - 1]) for _, v in active)})  # fmt: skip
        assert float((m[t] - mt) @ (m[t] - mt)) <= bm * (1 + 1e-9) + 1e-300
        if t >= 2:
            past = sum(float(m[i] @ m[i]) for i in range(t - 1))
            bx = evaluate_bound(TA.LEMMA1, {"eta": eta, "t_idx": t, "delta_H": delta_H, "L": L,
                                "tau_max": tau_max, "sum_m2_past": past})  # fmt: skip
            e = xt[t] - x[t]
            assert float(e @ e) <= bx * (1 + 1e-9) + 1e-300, (t, float(e @ e), bx, tau_max)
        xt.append(xt[t] - eta * mt)


@pytest.mark.parametrize(("n", "tau_C", "seed"), [(4, 4, 0), (5, 3, 1), (6, 6, 2), (4, 1, 3)])
def test_lemma2_identity_and_lemma1_bounds_along_a_run(n, tau_C, seed):
    """AsyncBC-GD on Section 5's least squares: m_t - m~_t = -sum_{C_t} g (Lemma 2) exactly, and
    Lemma 1's two pathwise bounds with the problem's L, delta_H and the trace's tau_max."""
    prob = asyncbc_least_squares(n=n, d=3, zeta=1.0, seed=seed)
    T, eta = 40, 0.05
    sched = asyncbc_schedule(n=n, T=T + 200, tau_C=tau_C, seed=seed)
    tr = asyncbc_gd(prob, T=T, R=1, seed=seed, eta=eta, tau_C=tau_C, schedule=sched,
                    x0=torch.ones(3, dtype=torch.float64), record_x=True)  # fmt: skip
    _virtual_check(prob, tr, sched, T, eta, tau_C, prob.constant("delta_H").value)


def test_tau_max_counts_tasks_still_in_flight_at_the_horizon():
    """An initial task that never arrives within the run is in C_1, ..., C_{T-1} (Lemma 2), so
    Assumption 3 needs tau_max >= T - 1 although every *applied* update has staleness 0; with
    tau_max = 0 Lemma 1's bound is 0 while x_t != x~_t. Identity Hessians: the unknown client of the
    missing task does not matter (every difference is x_v - x_{v-1})."""
    prob = sarah_counterexample(n=3, d=2, zeta=1.0, oracle="exact")
    T, eta, tau_C = 5, 0.1, 2
    sched = Schedule.from_events(n=3, K=1, clients=[0, 1, 2, 0], read_versions=[1, 2, 3, 4],
                                 applied_steps=[1, 2, 3, 4], first_step=1)  # fmt: skip
    tr = asyncbc_gd(prob, T=T, R=1, seed=0, eta=eta, tau_C=tau_C, schedule=sched,
                    x0=torch.tensor([1.0, -2.0], dtype=torch.float64), record_x=True)  # fmt: skip
    assert tr.meta["schedule"]["tau_max_measured"] == 0
    assert tr.meta["tau_max"] == T - 1
    # the missing initial task: append it (client 1) after the horizon so the helper can see it
    full = Schedule.from_events(n=3, K=1, clients=[0, 1, 2, 0, 1], read_versions=[1, 2, 3, 4, 1],
                                applied_steps=[1, 2, 3, 4, 5], first_step=1)  # fmt: skip
    _virtual_check(prob, tr, full, T, eta, tau_C, 1e-12)
    g = async_gd(prob, T=4, R=1, seed=0, eta=eta, tau_C=tau_C, schedule=sched)
    assert g.meta["tau_max"] == 4  # Async-GD: the initial task missing after step 4 is >= 5 - 1 old


def test_async_gd_tau_c_1_is_sgd_over_clients():
    prob = diag_quad(n=4, d=3)
    x0 = randn(2, 3)
    tr = async_gd(prob, T=25, R=2, seed=4, eta=0.2, tau_C=1, x0=x0, record_x=True)
    clients = torch.tensor(tr.meta["schedule"]["clients"])  # (R, T): each replica its own
    assert tr.meta["tau_max"] == 0
    x = x0.clone()
    for t in range(25):
        assert torch.allclose(tr["x"][t], x, rtol=1e-14, atol=1e-15)
        g = torch.stack([prob.grad_i(x[r].view(1, 1, -1), clients[r, t : t + 1])[0, 0]
                         for r in range(2)])  # fmt: skip
        x = x - 0.2 * g


# --- bias correction: heterogeneity does not enter AsyncBC-GD ------------------------------------
@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 5),
    tau_C=st.integers(1, 5),
    seed=st.integers(0, 1000),
    eta=st.floats(0.005, 0.1),
    scale=st.floats(0.1, 10.0),
)
def test_asyncbc_gd_invariant_to_gradient_shifts_summing_to_zero(n, tau_C, seed, eta, scale):
    """Shifting grad f_i by c_i with sum_i c_i = 0 leaves f's gradient, every difference
    grad f_i(x) - grad f_i(y), and hence every AsyncBC-GD iterate unchanged (Section 3); Async-GD moves."""
    tau_C = min(tau_C, n)
    p1 = diag_quad(n=n, d=3, seed=seed)
    r = scale * randn(n, 3, seed=seed + 1)
    # choose db with sum_i a_i db_i = 0 per coordinate
    db = r - (p1.a * r).sum(0) / (n * p1.a)
    p2 = DiagQuad(p1.a, p1.b + db)
    kw = dict(T=40, R=2, seed=seed, eta=eta, tau_C=tau_C, x0=randn(2, 3, seed=seed), record_x=True)
    a1, a2 = asyncbc_gd(p1, **kw), asyncbc_gd(p2, **kw)
    assert torch.allclose(a1["x"], a2["x"], rtol=1e-9, atol=1e-10 * (1 + scale))
    g1, g2 = async_gd(p1, **kw), async_gd(p2, **kw)
    assert float((g1["x"][1:] - g2["x"][1:]).abs().max()) > 1e-6 * scale


# --- Figure 1: AsyncBC-GD unaffected by zeta, Async-GD degrades ----------------------------------
def _tail_rel(tr, k=20, S=1):
    """Appendix D.1's metric (mean of the last 20 iterates), relative to ||grad f(x_0)||^2, per
    replica, averaged over consecutive groups of ``S`` replicas (one group per stepsize)."""
    g = tr["grad_norm_sq"]
    return (g[-k:].mean(0) / g[0]).view(-1, S).mean(1).tolist()


def test_figure1_zeta_independence_of_asyncbc_and_degradation_of_async_gd():
    """Section 5, Figure 1: n = 4, d = 10, tau = 10 (worker i takes i tau / n), tau_C = n, best
    stepsize of a grid; S = 6 replicas per stepsize, each with its own client sequence, so each
    figure estimates the expectation over the client sampling. Measured (T = 1500, means):
    AsyncBC-GD's best relative error 1.1e-3 for every zeta; Async-GD's 8e-131 (zeta = 0), 1.5e-4
    (1), 3.9e-3 (10). On one client sequence (the shared schedule of earlier versions) AsyncBC-GD reached
    5e-6 and won at zeta = 1 by 10x; over independent sequences it does not at this horizon (its
    per-replica tail errors spread from 3e-6 to 3e-2), so that claim is not asserted. Why (issue 9,
    test below): with a constant stepsize AsyncBC-GD converges to a biased point whose error is
    random per client sequence -- the paper's own Theorem 1 shrinks eta as 1/sqrt(T); eta = 0.1
    left the grid because its floor (6e-2) is the worst, not because of a bug."""
    zetas = [0.0, 1.0, 10.0]
    S = 6
    etas = torch.tensor([0.003, 0.01, 0.03], dtype=torch.float64).repeat_interleave(S)
    x0 = torch.ones(10, dtype=torch.float64)
    bc, plain = {}, {}
    for z in zetas:
        prob = asyncbc_least_squares(n=4, d=10, zeta=z, seed=0)
        kw = dict(T=1500, R=len(etas), seed=0, eta=etas, tau_C=4, tau=10.0, x0=x0)
        bc[z] = _tail_rel(asyncbc_gd(prob, **kw), S=S)
        plain[z] = _tail_rel(async_gd(prob, **kw), S=S)
    # AsyncBC-GD: the same relative curve for every zeta, at every stepsize (exact invariance)
    assert bc[1.0] == pytest.approx(bc[0.0], rel=1e-6)
    assert bc[10.0] == pytest.approx(bc[0.0], rel=1e-6)
    best_bc = {z: min(bc[z]) for z in zetas}
    best_plain = {z: min(plain[z]) for z in zetas}
    # Async-GD's best error grows with zeta, by orders of magnitude ...
    assert best_plain[0.0] < 1e-6 * best_plain[1.0]
    assert 10 * best_plain[1.0] < best_plain[10.0]
    # ... so at zeta = 10 AsyncBC-GD wins; at zeta = 0 Async-GD is faster (the paper's remark)
    assert best_bc[10.0] < best_plain[10.0]
    assert best_plain[0.0] < 1e-3 * best_bc[0.0]


def test_constant_stepsize_asyncbc_gd_stops_at_a_biased_point():
    """Investigation of Figure 1 (issue 9): at a fixed eta the mean tail error does not fall from
    T = 1500 to T = 3000 because the iterates have *converged* -- to the wrong point. The estimator
    error e_t = m_t - grad f(x_t) is a sum of (H_k - Hbar)(x_s - x_{s-1}) over the random clients
    k (single-loop SARAH's accumulation, AsyncBC Section 4: "inherent to the algorithm design"); it
    freezes once the steps vanish, and x_t stops where m_t = 0, i.e. grad f(x_t) = -e_t != 0. Its
    size is random per client sequence and shrinks with eta (term B of the proof of Theorem 1 grows
    like eta^3 T, which is why the theorem takes eta ~ 1/sqrt(T))."""
    S = 6
    etas = torch.tensor([0.003, 0.01], dtype=torch.float64).repeat_interleave(S)
    x0 = torch.ones(10, dtype=torch.float64)
    prob = asyncbc_least_squares(n=4, d=10, zeta=1.0, seed=0)
    tail = {}
    for T in (3000, 6000):
        tr = asyncbc_gd(prob, T=T, R=2 * S, seed=0, eta=etas, tau_C=4, tau=10.0, x0=x0,
                        record_x=True)  # fmt: skip
        g = tr["grad_norm_sq"]
        tail[T] = g[-20:].mean(0) / g[0]
        gx = prob.grad(tr["x"][-1])
        m = tr["m"][-1]
        # eta = 0.01 has converged (m_t ~ 0) with a gradient far from 0: a fixed point that is
        # not stationary (eta = 0.003 is still creeping towards its own)
        assert bool((m[S:].norm(dim=1) < 1e-9 * gx[S:].norm(dim=1)).all())
        assert bool((gx.norm(dim=1) ** 2 > 1e-8 * g[0]).all())
    assert torch.allclose(tail[6000], tail[3000], rtol=1e-3)  # the floor, not slow progress
    floors = tail[6000].view(2, S)
    assert floors[0].mean() < 0.3 * floors[1].mean()  # smaller eta, lower floor
    assert floors[1].max() > 100 * floors[1].min()  # random per client sequence


# --- Theorem 3 / Appendix C: SARAH with independent noise does not converge ----------------------
def test_theorem3_sarah_independent_noise_variance_and_nonconvergence():
    """x_T - x* = (1-eta)^T (x_0 - x*) - sum_s (1 - (1-eta)^{T-s}) xi_s (proof of Thm. 3), so
    E||x_T - x*||^2 = (1-eta)^{2T}||x_0 - x*||^2 + d noise_var sum_{s=1}^{T-1} (1 - (1-eta)^{T-s})^2,
    which grows linearly in T."""
    d, nv, eta, R = 10, 0.01, 0.1, 400
    prob = sarah_counterexample(n=4, d=d, zeta=1.0, noise_var=nv, oracle="independent")
    xstar = torch.as_tensor(prob.x_star_np, dtype=torch.float64)
    x0 = torch.zeros(d, dtype=torch.float64)
    means = {}
    for T in (100, 400):
        tr = sarah(prob, T=T, R=R, seed=1, eta=eta, stochastic=True, x0=x0)
        err = ((tr.meta["x_final"] - xstar) ** 2).sum(-1)
        det = (1 - eta) ** (2 * T) * float(((x0 - xstar) ** 2).sum())
        pred = det + d * nv * sum((1 - (1 - eta) ** (T - s)) ** 2 for s in range(1, T))
        means[T] = float(err.mean())
        # chi-square with d*R degrees of freedom: relative sd sqrt(2/(dR)) = 0.022
        assert means[T] == pytest.approx(pred, rel=0.15)
        # the theorem's lower bound sigma^2 floor(T/2)/25 (eta >= 1/(2T)), sigma^2 = d * noise_var
        assert means[T] >= d * nv * (T // 2) / 25
    assert means[400] > 3.0 * means[100]  # diverges: no convergence to the stationary point
    # same problem, same noise level, shared randomness (Assumption 5): the noise cancels -> converges
    shared = sarah_counterexample(n=4, d=d, zeta=1.0, noise_var=nv, oracle="gaussian")
    tr = sarah(shared, T=400, R=8, seed=1, eta=eta, stochastic=True, x0=x0)
    assert float(((tr.meta["x_final"] - xstar) ** 2).sum(-1).max()) < 1e-30 + 1e-12


def test_appendix_c_setting_fails_to_converge():
    """Appendix C: Section 5 least squares, n = 4, zeta = 0, tau_C = 1 (SARAH), noise variance 0.01.

    Measured: at eta = 1e-2 the mean ||grad f||^2 grows ~ linearly in t (44 at t = 500, 175 at
    t = 2000) while the noise-free run settles at 0.55; at eta = 1e-4, 1e-6 nothing moves (the
    noise-free run does not reach App. D.1's target 0.01 either, so those stepsizes alone cannot
    show the noise's effect)."""
    prob = asyncbc_least_squares(n=4, d=10, zeta=0.0, oracle="independent", noise_var=0.01)
    exact = asyncbc_least_squares(n=4, d=10, zeta=0.0)
    x0 = torch.ones(10, dtype=torch.float64)
    tr = asyncbc_sgd(prob, T=1600, R=16, seed=2, eta=1e-2, tau_C=1, x0=x0)
    g = tr["grad_norm_sq"]
    early, late = float(g[380:400].mean()), float(g[1580:1600].mean())
    assert late > 2.5 * early  # grows with t: diverges
    ex = asyncbc_gd(exact, T=1600, R=1, seed=2, eta=1e-2, tau_C=1, x0=x0)
    assert late > 50 * float(ex["grad_norm_sq"][1580:1600].mean())
    for eta in (1e-4, 1e-6):
        small = asyncbc_sgd(prob, T=300, R=4, seed=2, eta=eta, tau_C=1, x0=x0)
        assert float(small["grad_norm_sq"][-20:].mean(0).min()) > 0.01  # target never reached


def test_independent_sampling_breaks_cancellation():
    """Algorithm 2 read with two samples xi, xi' (not Assumption 5): gaussian noise no longer cancels."""
    prob = sarah_counterexample(n=4, d=5, zeta=1.0, noise_var=0.01, oracle="gaussian")
    kw = dict(T=300, R=16, seed=0, eta=0.1, tau_C=1, x0=torch.zeros(5, dtype=torch.float64))
    shared = asyncbc_sgd(prob, sampling="shared", **kw)
    indep = asyncbc_sgd(prob, sampling="independent", **kw)
    assert float(shared["grad_norm_sq"][-1].max()) < 1e-20
    assert float(indep["grad_norm_sq"][-1].mean()) > 0.1


def test_async_sgd_runs_stochastic_and_bits():
    prob = sarah_counterexample(n=4, d=5, zeta=1.0, noise_var=0.01, oracle="gaussian")
    tr = async_sgd(prob, T=50, R=3, seed=0, eta=0.1, tau_C=2)
    assert not torch.equal(tr.meta["x_final"][0], tr.meta["x_final"][1])  # independent noise
    full = 32 * 5
    assert float(tr["bits_up"][10, 0]) == 10 * full
    assert float(tr["bits_down"][10, 0]) == 2 * full + 10 * full
    bc = asyncbc_gd(prob, T=50, R=1, seed=0, eta=0.1, tau_C=2)
    # row 0: m_0 costs n uploads and n downloads; each step 1 up, 2 down; tau_C initial pairs
    assert float(bc["bits_up"][0, 0]) == 4 * full
    assert float(bc["bits_up"][10, 0]) == 4 * full + 10 * full
    assert float(bc["bits_down"][10, 0]) == 4 * full + 2 * 2 * full + 9 * 2 * full


def test_schedule_shared_and_meta():
    prob = diag_quad(n=4, d=3)
    a = asyncbc_gd(prob, T=60, R=2, seed=5, eta=0.05, tau_C=3)
    g = async_gd(prob, T=60, R=2, seed=5, eta=0.05, tau_C=3)
    sa, sg = a.meta["schedule"], g.meta["schedule"]
    assert sa["shared_across_replicas"] is False  # each replica its own client sequence
    assert [c[:59] for c in sg["clients"]] == sa[
        "clients"
    ]  # same event orders (AsyncBC: T-1 steps)
    assert sa["clients"][0] != sa["clients"][1]
    assert sa["tau_max_measured"] == max(max(r) for r in sa["staleness"]) >= 1
    assert a.meta["tau_max"] == max(sa["tau_max_measured"], sa["tau_max_in_flight"])
    assert sum(sa["staleness_histogram_used"]) == 59 * 2  # over both replicas
    per = [max(m, f) for m, f in zip(sa["tau_max_measured_per_replica"],
                                     sa["tau_max_in_flight_per_replica"], strict=True)]  # fmt: skip
    assert a.meta["tau_max_per_replica"] == per and a.meta["tau_max"] == max(per)
    assert a["grad_norm_sq"].shape == (60, 2) and g["grad_norm_sq"].shape == (60, 2)


def test_diverged_replica_is_reported():
    prob = diag_quad(n=3, d=3)
    x0 = randn(3, 3)
    x0[2, 0] = float("inf")
    tr = asyncbc_gd(prob, T=30, R=3, seed=0, eta=0.05, tau_C=2, x0=x0)
    assert tr.diverged_at.tolist() == [-1, -1, 0]
    assert bool(torch.isfinite(tr["grad_norm_sq"][:, :2]).all())
    blow = async_gd(prob, T=400, R=1, seed=0, eta=50.0, tau_C=1, x0=randn(3))
    assert int(blow.diverged_at[0]) > 0


#: version 2 read by two tasks: impossible in Algorithm 1 (one task handed out per step)
_TWO_TASKS_READ_V2 = Schedule.from_events(
    n=3,
    K=1,
    clients=[0, 1, 2] * 7,
    read_versions=[1, 2, 2, *range(3, 21)],
    applied_steps=range(1, 22),
    first_step=1,
)


@pytest.mark.parametrize(
    ("fn", "kw", "word"),
    [
        (asyncbc_gd, {"tau_C": 5}, "tau_C"),
        (asyncbc_gd, {"tau_C": 0}, "tau_C"),
        (asyncbc_gd, {"eta": 0.0}, "eta"),
        (asyncbc_gd, {"eta": torch.tensor([0.1, 0.1, 0.1])}, "eta"),
        (async_gd, {"eta": torch.tensor([0.1, -0.1])}, "eta"),
        (asyncbc_gd, {"T": 1}, "T"),
        (async_gd, {"tau": -1.0}, "tau"),
        (asyncbc_sgd, {"sampling": "bogus"}, "sampling"),
        (asyncbc_gd, {"x0": torch.zeros(7)}, "x0"),
        (asyncbc_gd, {"schedule": "fast"}, "schedule"),
        (asyncbc_gd, {"schedule": asyncbc_schedule(n=2, T=30, tau_C=1)}, "n=2"),
        (asyncbc_gd, {"schedule": asyncbc_schedule(n=3, T=5, tau_C=1)}, "steps"),
        (async_gd, {"schedule": asyncbc_schedule(n=3, T=30, tau_C=3), "tau_C": 1}, "tau_C"),
        (sarah, {"clients": [0, 7]}, "clients"),
        (asyncbc_gd, {"schedule": asyncbc_schedule(n=3, T=30, tau_C=2), "tau_C": 3}, "tau_C"),
        (asyncbc_gd, {"schedule": _TWO_TASKS_READ_V2, "tau_C": 1}, "version 2"),
    ],
)
def test_bad_parameters_are_refused(fn, kw, word):
    prob = diag_quad(n=3, d=3)
    args = dict(T=20, R=2, seed=0, eta=0.1, tau_C=2)
    if fn is sarah:
        args.pop("tau_C")
    args.update(kw)
    with pytest.raises(ParameterError, match=word):
        fn(prob, **args)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cpu_gpu_parity():
    cpu = asyncbc_least_squares(n=4, d=10, zeta=1.0)
    gpu = asyncbc_least_squares(n=4, d=10, zeta=1.0, device="cuda")
    kw = dict(T=300, R=4, seed=3, eta=0.02, tau_C=4, x0=torch.ones(10, dtype=torch.float64))
    for fn in (asyncbc_gd, async_gd):
        a, b = fn(cpu, **kw), fn(gpu, device="cuda", **kw)
        assert a.meta["schedule"]["clients"] == b.meta["schedule"]["clients"]
        assert torch.allclose(a["grad_norm_sq"], b["grad_norm_sq"].cpu(), rtol=1e-9, atol=1e-14)


# --- independent replicas (issue 8) ------------------------------------------------------------
_RUNS = {
    "asyncbc_gd": lambda p, **k: asyncbc_gd(p, tau_C=3, **k),
    "asyncbc_sgd": lambda p, **k: asyncbc_sgd(p, tau_C=3, **k),
    "async_gd": lambda p, **k: async_gd(p, tau_C=3, **k),
    "async_sgd": lambda p, **k: async_sgd(p, tau_C=3, **k),
    "sarah": lambda p, **k: sarah(p, stochastic=True, **k),
}


@pytest.mark.parametrize("name", list(_RUNS))
def test_replicas_differ_and_batch_equals_single_replica_runs(name):
    """Theorems 1-2 average over the client sampling k_{t+1} (and the oracle noise): every
    replica draws its own, so the LHS values differ -- AsyncBC-GD's too, whose only randomness is
    the client sampling -- and replica r of a batch is the run with first_replica = r."""
    stoch = name in ("asyncbc_sgd", "async_sgd", "sarah")
    p = diag_quad(n=5, d=3, sigma=0.1 if stoch else 0.0)
    kw = dict(T=40, seed=7, eta=0.05, x0=torch.ones(3, dtype=torch.float64), record_x=True)
    R = 4
    batch = _RUNS[name](p, R=R, **kw)
    lhs = batch["grad_norm_sq"].mean(0)
    assert len(set(lhs.tolist())) == R
    if name != "sarah":
        assert batch.meta["shared_across_replicas"] is False
        assert len(batch.meta["tau_max_per_replica"]) == R
    for r in range(R):
        one = _RUNS[name](p, R=1, first_replica=r, **kw)
        assert torch.allclose(batch["x"][:, r], one["x"][:, 0], rtol=1e-13, atol=1e-14)
        assert torch.allclose(batch.meta["x_final"][r], one.meta["x_final"][0], rtol=1e-13)
        if name != "sarah":
            assert batch.meta["tau_max_per_replica"][r] == one.meta["tau_max"]


def test_asyncbc_gd_pinned_schedule_gives_identical_replicas():
    p = diag_quad(n=5, d=3)
    sched = asyncbc_schedule(n=5, T=40, tau_C=3, seed=2)
    tr = asyncbc_gd(p, T=40, R=3, seed=0, eta=0.05, tau_C=3, schedule=sched,
                    x0=torch.ones(3, dtype=torch.float64))  # fmt: skip
    assert tr.meta["shared_across_replicas"] is True
    assert len(set(tr["grad_norm_sq"].mean(0).tolist())) == 1


def test_tau_c_1_is_sarah_per_replica_and_tau_max_theory():
    """AsyncBC with tau_C = 1 is SARAH replica for replica (each with its own client sequence);
    tau_max = 0 there, and the trace hands the theorems tau_max_theory = 1 (Theorem 1's stated
    stepsize is then finite)."""
    from boundcheck.theory import asyncbc as TA
    from boundcheck.theory.evaluate import evaluate_bound

    p = diag_quad(n=4, d=3, seed=3)
    x0 = randn(3, 3, seed=2)
    a = asyncbc_gd(p, T=30, R=3, seed=4, eta=0.1, tau_C=1, x0=x0, record_x=True)
    clients = a.meta["schedule_batch"].client[:, :29]
    assert len({tuple(c) for c in clients}) == 3
    s = sarah(p, T=30, R=3, seed=4, eta=0.1, clients=clients, x0=x0, record_x=True)
    assert torch.equal(a["x"], s["x"]) and torch.equal(a["m"], s["m"])
    assert a.meta["tau_max"] == 0 and a.meta["tau_max_per_replica"] == [0, 0, 0]
    assert a.meta["tau_max_theory"] == 1 == s.meta["tau_max_theory"]
    vals = {"L": 1.5, "delta_H": 1.0, "tau_C": 1, "tau_max": a.meta["tau_max_theory"], "T": 30,
            "F0": 1.0}  # fmt: skip
    b = evaluate_bound(TA.THM1, vals)
    assert 0 < float(b) < float("inf")


def test_confidence_interval_of_one_batch_covers_the_mean_of_independent_batches():
    """20 batches of 64 replicas (replica blocks of one run; block b equals the run with
    first_replica = 64 b): a 95% interval from each batch covers the mean over all batches about
    95% of the time. With a schedule shared by the replicas (earlier versions) AsyncBC-GD's
    replicas were identical, every interval had width 0 and the coverage was about 0."""
    p = diag_quad(n=5, d=3, seed=1)
    B, S = 20, 64
    tr = asyncbc_gd(p, T=60, R=B * S, seed=3, eta=0.05, tau_C=3,
                    x0=torch.ones(3, dtype=torch.float64))  # fmt: skip
    lhs = tr["grad_norm_sq"].mean(0).view(B, S)
    grand = float(lhs.mean())
    half = 1.96 * lhs.std(dim=1) / S**0.5
    covered = int(((lhs.mean(dim=1) - grand).abs() <= half).sum())
    print(f"coverage of the 95% interval: {covered}/{B}")
    # Binomial(20, 0.95 (a bit less: the grand mean is itself an estimate)): P(X <= 14) < 1e-3
    assert covered >= 15
    pinned = asyncbc_gd(p, T=60, R=S, seed=3, eta=0.05, tau_C=3,
                        schedule=asyncbc_schedule(n=5, T=60, tau_C=3, seed=0),
                        x0=torch.ones(3, dtype=torch.float64))  # fmt: skip
    assert float(pinned["grad_norm_sq"].mean(0).std()) == 0.0


def test_asyncbc_trace_records_f_star_used():
    prob = asyncbc_least_squares(n=4, d=3, zeta=1.0, seed=0)
    tr = asyncbc_gd(prob, T=10, R=2, seed=0, eta=0.05, tau_C=2)
    fs = tr.meta["f_star_used"]
    assert fs["provenance"] in ("exact", "certified_lower_bound") and fs["value"] is not None
    x0 = torch.zeros(2, 3, dtype=torch.float64)
    assert torch.allclose(tr["f_gap"][0], prob.f(x0) - fs["value"], rtol=1e-12)
