"""The audit of FedPAQ (Reisizadeh et al., AISTATS 2020): Appendix A.6 (the k0 condition (13) versus
the stepsize facts (67)), N1 of Theorem 2 from (84)-(86), Lemmas 6-9 -> (82), Condition (18) versus
the proof's (83)/(91), and the parallel-SGD special cases of Remarks 2 and 4.
"""

from __future__ import annotations

import sympy as sp

from boundcheck.theory import fedpaq as FP
from boundcheck.theory import symbols as S
from derivations.core import (
    Check,
    Region,
    check,
    conditions_hold,
    identity,
    inequality,
    refuted,
    verified,
)

CHECKS: list[Check] = []
PAPER = "FedPAQ"

L, mu, n, T, sigma, eta, F0 = S.L, S.mu, S.n, S.T, S.sigma, S.eta, S.F0
q, r, tau, k, k0, D_k0 = FP.q, FP.r, FP.tau, FP.k, FP.k0, FP.D_k0
PP = FP.PP


def _cond(thm, cid):
    return next(c for c in thm.conditions if c.id == cid)


@check(
    CHECKS,
    id="fedpaq.a6_stepsize",
    paper=PAPER,
    location="FedPAQ Appendix A.6, eq. (67), from the k0 condition (13)",
    claim="for k >= k0 (the smallest integer satisfying (13)), eta_k = 4/(mu(k tau + 1)) satisfies "
    "eta_k tau <= 1/L, eta_k tau <= mu/(4(mu^2+B1)), eta_k <= mu/L^2, eta_k <= mu/(4n), "
    "eta_k <= 1/mu",
    severity="invalidates",
    subject="fedpaq.thm1",
)
def a6_stepsize():
    thm = FP.THM1
    k0_expr = sp.ceiling(thm.expand(FP.K0_RHS))
    eta_k0 = FP.ETA_K0_DEF.subs(k0, k0_expr)
    conds = {
        c.id: thm.expand(c.relation).subs(FP.eta_k0, FP.eta_k0).subs(k0, k0_expr)
        for c in thm.conditions
        if c.id.startswith("a6_")
    }
    conds = {cid: rel.subs(FP.eta_k0, eta_k0) for cid, rel in conds.items()}
    region = Region(
        {L: (1, 100), mu: (0.01, 1), q: (0, 2), n: (2, 50), tau: (1, 20)},
        integers=frozenset({n, tau}),
        hyps=(sp.Le(mu, L),),
        fixed={r: 2},
    )
    res = conditions_hold(
        conds,
        {},
        region,
        what="(13) implies (67)",
        extra_points=[{L: 10, mu: 1, q: 0, n: 2, r: 2, tau: 1}],
    )
    if res.verdict == "refuted":
        res.evidence += (
            " (the contraction (39) still holds for eta <= 2/(mu+L), which eta_k tau <= 1/L gives:"
            " the gap is repairable)"
        )
    return res


@check(
    CHECKS,
    id="fedpaq.thm2_n1",
    paper=PAPER,
    location="FedPAQ Theorem 2, eq. (19) and N1, from (86) with eta = 1/(L sqrt(T))",
    claim="(86) at eta = 1/(L sqrt T) is 2L F0/sqrt(T) + N1/sqrt(T) + N2(tau-1)/T with "
    "N1 = (1+q) sigma^2/n (1 + n(n-r)/(r(n-1)))",
    severity="constant",
    subject="fedpaq.thm2",
)
def thm2_n1():
    Kp = T / tau
    eq86 = (
        2 * F0 / (eta * Kp * tau)
        + eta * L * (1 + q) * (sigma**2 / n + 4 * sigma**2 / r * (n - r) / (n - 1))
        + eta**2 * sigma**2 / n * (n + 1) * (tau - 1) * L**2
    ).subs(eta, FP.STEPSIZE_2)
    region = Region(
        {F0: (0.1, 10), L: (0.1, 10), T: (2, 10**6), sigma: (0.1, 10), q: (0, 2), tau: (1, 10)},
        integers=frozenset({T, tau}),
        fixed={n: 10, r: 5},
    )
    res = identity(FP.THM2.expand(FP.THM2.bound), eq86, region=region, what="(19) = (86)")
    if res.verdict == "refuted":
        res.evidence = (
            "N1 drops the factor 4 of (84)-(86): proof - stated = 3(1+q) sigma^2 (n-r)/(r(n-1))"
            "/sqrt(T) > 0 when r < n; " + res.evidence
        )
    return res


@check(
    CHECKS,
    id="fedpaq.lemmas_6_9",
    paper=PAPER,
    location="FedPAQ Appendix B, Lemmas 6-9 -> eq. (82)",
    claim="Lemma 7 + L/2 Lemma 8 + L/2 Lemma 9 (Lemma 6) recombine into (82)",
    severity="constant",
    subject="fedpaq.thm2",
)
def lemmas_6_9():
    g = sp.Symbol("G_sum", nonnegative=True)
    lemma7 = (
        -eta * (1 / (2 * n) - L * eta / (2 * n) - L**2 * tau * (tau - 1) * eta**2 / n) * g
        + eta**2 * L / 2 * sigma**2 / n * tau
        + eta**3 * sigma**2 / n * (n + 1) * tau * (tau - 1) / 2 * L**2
    )
    lemma8 = q * sigma**2 / n * tau * eta**2 + q / n**2 * tau * eta**2 * g
    lemma9 = PP * 4 * (1 + q) * (n * sigma**2 * tau * eta**2 + tau * eta**2 * g) / n
    eq82 = (
        -eta / (2 * n)
        * (1 - L * (1 + q * tau / n + 4 * PP * (1 + q) * tau) * eta
           - 2 * L**2 * tau * (tau - 1) * eta**2)
        * g
        + eta**2 * L / 2 * (1 + q) * tau * (sigma**2 / n + 4 * sigma**2 / r * (n - r) / (n - 1))
        + eta**3 * sigma**2 / n * (n + 1) * tau * (tau - 1) / 2 * L**2
    )  # fmt: skip
    return identity(eq82, lemma7 + L / 2 * lemma8 + L / 2 * lemma9, what="(82) = Lemmas 6-9")


@check(
    CHECKS,
    id="fedpaq.thm2_conditions",
    paper=PAPER,
    location="FedPAQ Theorem 2, condition (18), and Appendix B.1 (83), (91), eta <= 0.9/L",
    claim="T >= 2 and tau <= (sqrt(B2^2+0.8) - B2)/8 sqrt(T) with eta = 1/(L sqrt T) imply the "
    "proof's conditions (83), (91) and eta <= 0.9/L",
    severity="invalidates",
    subject="fedpaq.thm2",
)
def thm2_conditions():
    thm = FP.THM2
    conds = {
        cid: thm.expand(_cond(thm, cid).relation).subs(eta, FP.STEPSIZE_2)
        for cid in ("b1_eq83", "b1_eq91", "b1_eta_le_0_9_over_L")
    }
    # Proof. Write tau = u sqrt(T), c = sqrt(B2^2 + 0.8) - B2 (so c^2 + 2 B2 c = 4/5), u <= c/8.
    # (91): eta tau = u/L <= c/(8L) <= c/(4L). eta <= 0.9/L: 1/sqrt(T) <= 1/sqrt(2) < 0.9.
    # (83): 1 - 1/sqrt(T) - B2 u - 2 u (u - 1/sqrt(T)) >= 1 - 1/sqrt(T) - B2 u - 2 u^2, decreasing
    # in u, so >= its value at u = c/8, which is 1 - 1/sqrt(T) - 1/20 + c^2/32 (SymPy below).
    c, u, B2 = sp.Symbol("c", positive=True), sp.Symbol("u", positive=True), FP.B2
    slack83 = 1 - 1 / sp.sqrt(T) - B2 * u - 2 * u**2
    at_cap = sp.simplify(slack83.subs(u, c / 8).subs(B2, (sp.Rational(4, 5) - c**2) / (2 * c)))
    claimed_form = 1 - 1 / sp.sqrt(T) - sp.Rational(1, 20) + c**2 / 32
    lower = (1 - 1 / sp.sqrt(2) - sp.Rational(1, 20)).evalf(30)
    drop = sp.expand(
        conds["b1_eq83"].lhs.subs(tau, u * sp.sqrt(T)).subs(L, 1) - 0
    )  # (83) with L scaled out: L eta = 1/sqrt(T)
    rest = sp.simplify(drop - slack83.subs(B2, thm.expand(B2)) - 2 * u / sp.sqrt(T))
    ok = sp.simplify(at_cap - claimed_form) == 0 and lower > 0 and rest == 0
    if ok:
        return verified(
            "proof: with tau = u sqrt(T), u <= c/8, c^2 + 2 B2 c = 4/5: (91) eta tau <= c/(8L); "
            "eta = 1/(L sqrt T) <= 0.71/L; (83) slack >= 1 - 1/sqrt(T) - 1/20 + c^2/32 >= "
            f"1 - 1/sqrt(2) - 1/20 = {lower:.4f} > 0 (SymPy checked the substitutions)",
            slack_83_at_cap=at_cap,
        )
    return conditions_hold(conds, {}, Region({L: (1e-3, 1e3)}), what="(18) implies the proof's")


@check(
    CHECKS,
    id="fedpaq.remark2_parallel_sgd",
    paper=PAPER,
    location="FedPAQ Remark 2 (tau = 1, q = 0, r = n)",
    claim="Theorem 1 at tau = 1, q = 0, r = n is parallel SGD with batch n: "
    "(k0+1)^2/(k+1)^2 E||x_k0 - x*||^2 + 16 sigma^2/(mu^2 n (k+1))",
    severity="constant",
    subject="fedpaq.remark2",
)
def remark2_parallel_sgd():
    sub = {tau: 1, q: 0, r: n}
    b = FP.THM1.expand(FP.THM1.bound).subs(sub)
    sgd = (k0 + 1) ** 2 / (k + 1) ** 2 * D_k0 + 16 * sigma**2 / (mu**2 * n * (k + 1))
    return identity(sgd, b, what="Theorem 1 at tau = 1, q = 0, r = n")


@check(
    CHECKS,
    id="fedpaq.remark4_parallel_sgd",
    paper=PAPER,
    location="FedPAQ Remark 4 (tau = 1, q = 0, r = n)",
    claim="Theorem 2 at tau = 1, q = 0, r = n is (2 L F0 + sigma^2/n)/sqrt(T): parallel SGD with "
    "batch n and eta = 1/(L sqrt T), linear speed-up in n of the noise term",
    severity="constant",
    subject="fedpaq.remark4",
)
def remark4_parallel_sgd():
    sub = {tau: 1, q: 0, r: n}
    b = FP.THM2.expand(FP.THM2.bound).subs(sub)
    sgd = (2 * L * F0 + sigma**2 / n) / sp.sqrt(T)
    return identity(sgd, b, what="Theorem 2 at tau = 1, q = 0, r = n")


_ = (verified,)


@check(
    CHECKS,
    id="fedpaq.lemmas_2_4",
    paper=PAPER,
    location="FedPAQ Appendix A, Lemmas 2-4 -> eqs. (25)-(27)",
    claim="Lemmas 2 + 3 + 4 recombine into C0 Delta_k + mu^2/16 C1 tau^2 eta^2 + mu^2/16 C2 "
    "tau (tau-1)^2 eta^2 + mu^4/256 C3 (tau-1) tau^2 eta^4 with B1, C1-C3 of (12), (15)",
    severity="constant",
    subject="fedpaq.thm1",
)
def lemmas_2_4():
    dk, e = sp.Symbol("Delta_k", nonnegative=True), sp.E
    lemma2 = (
        (1 + n * eta**2) * (1 - mu * eta) ** tau * dk
        + tau * (tau - 1) ** 2 * L**2 * sigma**2 / n * e * eta**2
        + tau**2 * sigma**2 / n * eta**2
        + tau**2 * (tau - 1) * L**2 * sigma**2 * e * eta**4
    )
    lemma3 = (
        2 * q / n * tau**2 * L**2 * eta**2 * dk
        + 2 * q * tau**2 * sigma**2 / n * eta**2
        + 2 * q * (tau - 1) * tau**2 * L**2 * sigma**2 / n * e * eta**4
    )
    lemma4 = PP * 8 * (1 + q) * (
        tau**2 * L**2 * eta**2 * dk + tau**2 * sigma**2 * eta**2
        + (tau - 1) * tau**2 * L**2 * sigma**2 * e * eta**4
    )  # fmt: skip
    eq27 = (
        FP.C0_DEF * dk
        + mu**2 / 16 * FP.C1_DEF * tau**2 * eta**2
        + mu**2 / 16 * FP.C2_DEF * tau * (tau - 1) ** 2 * eta**2
        + mu**4 / 256 * FP.C3_DEF * (tau - 1) * tau**2 * eta**4
    )
    diff = sp.expand(lemma2 + lemma3 + lemma4 - eq27)
    if diff == 0:
        return verified("expand(Lemma 2 + Lemma 3 + Lemma 4 - (27)) = 0")
    return refuted(f"Lemmas 2-4 - (27) = {diff}")  # pragma: no cover


@check(
    CHECKS,
    id="fedpaq.bound14_from_29",
    paper=PAPER,
    location="FedPAQ Appendix A, eqs. (27)-(29) and Lemma 5 -> bound (14)",
    claim="(29), (k0 + 1/tau)^2/(k + 1/tau)^2 D_k0 + (C1 + C2(tau-1)^2/tau)/(k + 1/tau) + "
    "C3 (tau-1)/tau^2/(k + 1/tau)^2, is bound (14)",
    severity="constant",
    subject="fedpaq.thm1",
)
def bound14_from_29():
    s = k + 1 / tau
    C1, C2, C3 = FP.C1, FP.C2, FP.C3
    eq29 = (k0 + 1 / tau) ** 2 / s**2 * D_k0 + (C1 + C2 * (tau - 1) ** 2 / tau) / s
    eq29 += C3 * (tau - 1) / tau**2 / s**2
    return identity(FP.THM1.bound, eq29, what="(14) = (29)")


@check(
    CHECKS,
    id="fedpaq.remark1_tau",
    paper=PAPER,
    location="FedPAQ Remark 1, eq. (16)",
    claim="the bound tends to 0 when tau = o(sqrt(T)): with tau = T^(1/2 - eps) the C2 term "
    "C2 (tau-1)^2/(T+1) -> 0, and with tau = sqrt(T) it does not",
    severity="order",
    subject="fedpaq.remark1",
)
def remark1_tau():
    term = (tau - 1) ** 2 / (T + 1)  # C2 (tau-1)^2/(k tau + 1) at k = T/tau, C2 aside
    small = sp.limit(term.subs(tau, T ** sp.Rational(2, 5)), T, sp.oo)
    edge = sp.limit(term.subs(tau, sp.sqrt(T)), T, sp.oo)
    if small == 0 and edge != 0:
        return verified(f"limit is {small} at tau = T^(2/5) and {edge} at tau = T^(1/2)")
    return refuted(f"limits {small} (tau = T^(2/5)), {edge} (tau = sqrt(T))")


@check(
    CHECKS,
    id="fedpaq.remark4_speedup",
    paper=PAPER,
    location="FedPAQ Remark 4 ('recovers the convergence rate of the vanilla parallel SGD "
    "[Yu et al., 2019]')",
    claim="Theorem 2 at tau = 1, q = 0, r = n gives parallel SGD's rate O(1/sqrt(nT)) "
    "(linear speed-up in the number of nodes n)",
    severity="order",
    subject="fedpaq.remark4",
)
def remark4_speedup():
    b = FP.THM2.expand(FP.THM2.bound).subs({tau: 1, q: 0, r: n})
    large_n = sp.limit(b, n, sp.oo)
    if large_n != 0:
        return refuted(
            f"the bound at tau = 1, q = 0, r = n is {sp.simplify(b)}: as n -> oo it tends to "
            f"{large_n}, not 0; only the noise term is divided by n (reading: Yu et al. 2019's rate "
            "is O(1/sqrt(nT))). The rate O(1/sqrt(T)) in T is recovered, the linear speed-up O(1/sqrt(nT)) is not "
            "(the stepsize 1/(L sqrt(T)) does not grow with n)",
            bound=b,
            limit_n_to_oo=large_n,
        )
    return verified(f"bound -> 0 as n -> oo: {large_n}")


@check(
    CHECKS,
    id="fedpaq.lemma5",
    paper=PAPER,
    location="FedPAQ Lemma 5, eqs. (73)-(77)",
    claim="for any positive reals a, b, k1 and positive integer k0, a non-negative sequence with "
    "delta_{k+1} <= (1 - 2/(k+k1)) delta_k + a/(k+k1)^2 + b/(k+k1)^4 (k >= k0) satisfies "
    "delta_k <= (k0+k1)^2/(k+k1)^2 delta_k0 + a/(k+k1) + b/(k+k1)^2",
    severity="invalidates",
    subject="fedpaq.lemma5",
)
def lemma5():
    """The induction multiplies the hypothesis by 1 - 2/(s + k1), negative when s + k1 < 2. A
    counterexample: k0 = 1, k1 = 1/2, a = b = 1, delta_1 = 0 and delta_2 = a/s^2 + b/s^4 (s = 3/2),
    which meets (73) with equality; (77) itself holds for s' >= 1 (checked)."""
    k0v, k1v, a, b = 1, sp.Rational(1, 2), 1, 1
    s1 = k0v + k1v
    d1 = sp.Integer(0)
    d2 = (1 - 2 / s1) * d1 + a / s1**2 + b / s1**4  # (73) with equality at k = k0
    claim = (k0v + k1v) ** 2 / (s1 + 1) ** 2 * d1 + a / (s1 + 1) + b / (s1 + 1) ** 2
    sp_ = sp.Symbol("s", positive=True)
    eq77 = [
        sp.expand(sp_**3 - (sp_ - 2) * (sp_ + 1) ** 2),  # = 3s + 2 > 0
        sp.expand(sp_**2 - (sp_ - 1) * (sp_ + 1)),  # = 1
    ]
    if d2 > claim:
        return refuted(
            f"k0 = 1, k1 = 1/2, a = b = 1, delta_1 = 0, delta_2 = {d2} (meets (73) with equality) "
            f"> (74) at k = 2: {claim}. The step (76) multiplies by 1 - 2/(k+k1) < 0 when "
            f"k + k1 < 2; (77) holds ({eq77[0]} > 0, {eq77[1]} > 0). Theorem 1 is unaffected "
            "(k1 = 1/tau, k0 >= 16)",
            delta_2=d2,
            claim=claim,
            hypotheses=[
                "delta_k >= 0; for k >= 2 continue (73) with equality (1 - 2/(k + 1/2) > 0)",
                "a, b, k1 > 0, k0 = 1 a positive integer",
            ],
        )
    return verified(f"delta_2 = {d2} <= {claim}")


# --- Lemma 1, Lemma 5's range, Lemmas 6-7 ------------------------------------------------------------
def _one_period_instance():
    """FedPAQ Algorithm 1, one period, exactly: n = 2 homogeneous nodes f_i(x) = mu/2 (x - xs)^2
    (so f = f_i, L = mu), r = 1, tau = 1, stochastic gradient f'(x) + xi with xi = +-s, the
    unbiased quantizer Q(u) = u/p w.p. p else 0 (q = (1-p)/p), node sampling uniform. Yields
    (weight, x_{k+1}, xhat_{k+1}, xbar_{k,tau}) over every outcome."""
    x0, xs, s_, p = sp.symbols("x0 xs s p", positive=True)
    et, m = sp.symbols("eta mu", positive=True)
    out = []
    for xi1 in (s_, -s_):
        for xi2 in (s_, -s_):
            loc = [x0 - et * (m * (x0 - xs) + xi) for xi in (xi1, xi2)]
            bar = (loc[0] + loc[1]) / 2
            for b1, w1 in ((1 / p, p), (0, 1 - p)):
                for b2, w2 in ((1 / p, p), (0, 1 - p)):
                    qs = [b1 * (loc[0] - x0), b2 * (loc[1] - x0)]
                    hat = x0 + (qs[0] + qs[1]) / 2
                    for S_ in (0, 1):
                        nxt = x0 + qs[S_]
                        w = sp.Rational(1, 4) * w1 * w2 * sp.Rational(1, 2)
                        out.append((w, nxt, hat, bar))
    return out, (x0, xs, s_, p, et, m)


@check(
    CHECKS,
    id="fedpaq.lemma1_instance",
    paper=PAPER,
    location="FedPAQ Lemma 1, eq. (21) (proof (31)-(33))",
    claim="E||x_{k+1} - x*||^2 = E||x_{k+1} - xhat_{k+1}||^2 + E||xhat_{k+1} - xbar_{k,tau}||^2 + "
    "E||xbar_{k,tau} - x*||^2 (exact expectation on a one-period instance)",
    severity="invalidates",
    subject="fedpaq.lemma1",
)
def lemma1_instance():
    outs, syms = _one_period_instance()
    xs = syms[1]
    lhs = sum(w * (nxt - xs) ** 2 for w, nxt, _h, _b in outs)
    rhs = sum(
        w * ((nxt - hat) ** 2 + (hat - bar) ** 2 + (bar - xs) ** 2) for w, nxt, hat, bar in outs
    )
    return identity(lhs, rhs, what="(21) on n = 2, r = 1, tau = 1, unbiased Q, noise +-s")


@check(
    CHECKS,
    id="fedpaq.lemma6_instance",
    paper=PAPER,
    location="FedPAQ Lemma 6, eq. (78) (proof (93)-(96))",
    claim="E f(x_{k+1}) <= E f(xbar_{k,tau}) + L/2 E||xhat_{k+1} - xbar_{k,tau}||^2 + L/2 "
    "E||xhat_{k+1} - x_{k+1}||^2 (exact expectation on a one-period instance; equality on "
    "quadratics)",
    severity="invalidates",
    subject="fedpaq.lemma6",
)
def lemma6_instance():
    outs, (x0, xs, s_, p, et, m) = _one_period_instance()

    def f(x):
        return m / 2 * (x - xs) ** 2

    lhs = sum(w * f(nxt) for w, nxt, _h, _b in outs)
    rhs = sum(
        w * (f(bar) + m / 2 * (hat - bar) ** 2 + m / 2 * (hat - nxt) ** 2)
        for w, nxt, hat, bar in outs
    )
    slack = sp.factor(sp.simplify(rhs - lhs))
    if slack == 0:
        return verified(
            "exact on n = 2, r = 1, tau = 1, f = mu/2 (x - x*)^2 (L = mu), unbiased Q: (78) holds "
            "with equality (both smoothness steps are equalities on a quadratic: L/2 is tight)",
            slack=slack,
        )
    return inequality(lhs, rhs, Region({p: (0.55, 1), et: (0.01, 1), m: (0.1, 10), s_: (0.1, 3),
                                        x0: (0.1, 5), xs: (0.1, 5)}), what="(78)")  # fmt: skip


@check(
    CHECKS,
    id="fedpaq.lemma5_threshold",
    paper=PAPER,
    location="FedPAQ Lemma 5, (76)-(77), and its use in Theorem 1 ((28)-(29): k1 = 1/tau)",
    claim="the induction step (73) -> (74) holds for every delta_s >= 0 exactly when s + k1 >= "
    "(1 + sqrt 5)/2, and Theorem 1's use (k >= k0 >= 16) is in that range",
    severity="invalidates",
    subject="fedpaq.lemma5",
)
def lemma5_threshold():
    """With s' = s + k1: for s' >= 2 the coefficient 1 - 2/s' >= 0 and (77) closes the step; for
    s' < 2 the worst delta_s >= 0 is 0, leaving a/s'^2 + b/s'^4 <= a/(s'+1) + b/(s'+1)^2, which
    holds for all a, b > 0 iff s'^2 >= s' + 1."""
    u = sp.Symbol("u", nonnegative=True)  # s' = 2 + u
    sp_ = 2 + u
    eq77 = [
        sp.expand(sp_**3 - (sp_ - 2) * (sp_ + 1) ** 2),
        sp.expand(sp_ * sp_ - (sp_ - 1) * (sp_ + 1)),
        sp.expand(sp_**4 - (sp_ - 1) ** 2 * (sp_ + 1) ** 2),
    ]
    s = sp.Symbol("s", positive=True)
    gold = (1 + sp.sqrt(5)) / 2
    root = sp.solve(sp.Eq(s**2, s + 1), s)
    k0_min = 4 * FP.K0_ARGS[1].subs(FP.B1, 0)  # (13): k0 >= 4 * 4 (B1/mu^2 + 1) >= 16
    ok77 = all(e.is_nonnegative for e in eq77)
    if ok77 and root == [gold] and k0_min >= 2:
        return verified(
            f"s' = s + k1 >= 2: (77) differences {eq77[0]}, {eq77[1]}, {eq77[2]} (s' = 2 + u) are "
            f">= 0; (1+sqrt5)/2 <= s' < 2: needs s'^2 - s' - 1 >= 0 (root {gold}); below it "
            "delta_s = 0 gives a counterexample. Theorem 1 uses s' = k + 1/tau with k >= k0 >= {k0_min}",
            eq77=eq77,
            threshold=gold,
        )
    return refuted(f"(77) differences {eq77}, roots {root}")  # pragma: no cover


@check(
    CHECKS,
    id="fedpaq.lemma7_assembly",
    paper=PAPER,
    location="FedPAQ Lemma 7, eq. (79) = (108) from (98), (99), (100), (105), (107)",
    claim="summing (98) over t with (99)-(100), (105) and (107) gives (79)",
    severity="constant",
    subject="fedpaq.lemma7",
)
def lemma7_assembly():
    A_ = sp.Symbol("G_bar_sum", nonnegative=True)  # sum_t E||grad f(xbar_{k,t})||^2
    Gs = sp.Symbol("G_sum", nonnegative=True)  # sum_t sum_i E||grad f(x_{k,t}^(i))||^2
    fk = sp.Symbol("f_start", real=True)
    dev = eta**2 * sigma**2 * (n + 1) * tau * (tau - 1) + 2 * eta**2 * tau * (tau - 1) * Gs  # (105)
    assembled = (
        fk
        - eta / 2 * A_
        - eta / (2 * n) * Gs
        + eta / (2 * n) * L**2 * dev  # (99)-(100) with (105)
        + eta**2 * L / 2 * (Gs / n + sigma**2 / n * tau)  # (107)
    )
    eq79 = FP.LEMMA7.bound.subs({FP.G_bar_sum: A_, FP.G_sum: Gs, FP.f_start: fk})
    return identity(eq79, assembled, what="(79) = (98) summed with (99), (105), (107)")
