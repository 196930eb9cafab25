"""The audit of AsyncBC (Gao, Takezawa, Stich, TMLR): the stated stepsizes of Theorems 1-2 versus
their proofs' conditions, the rate Theorem 1 claims with the proof's own stepsize, the active sets of
Section 3.1, the identities of Lemma 2 on random schedules, the Cauchy-Schwarz step of Lemma 1, the
steps of Lemma 3, and Theorem 3's proof.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from boundcheck.theory import asyncbc as A
from boundcheck.theory import symbols as S
from derivations.core import (
    Check,
    Region,
    check,
    conditions_hold,
    inequality,
    refuted,
    verified,
)

CHECKS: list[Check] = []
PAPER = "AsyncBC"

L, T, F0, eta = S.L, S.T, S.F0, S.eta
tau_C, tau_max, delta_H, ell = S.tau_C, S.tau_max, A.delta_H, A.ell
_BY_ID = {t.id: t for t in A.THEOREMS}


def _proof_conds(thm_id: str) -> dict[str, sp.Basic]:
    thm = _BY_ID[thm_id]
    return {c.id: c.relation for c in thm.conditions if c.id in ("proof_eta_A", "proof_eta_B",
                                                                 "proof_eta_C")}  # fmt: skip


#: footnote 1's instance: f_n = a||x||^2/2, the others 0 (a = 1, n = 100): L = 1/100, delta = 99/100
_FOOTNOTE = {L: sp.Rational(1, 100), delta_H: sp.Rational(99, 100), tau_C: 10, tau_max: 10,
             T: 10**6}  # fmt: skip


@check(
    CHECKS,
    id="asyncbc.thm1_stepsize",
    paper=PAPER,
    location="AsyncBC Theorem 1 and its proof (Appendix A, before 'A + B + C <= eta/16 ...')",
    claim="the stated eta = min{1/(6(delta+L) sqrt(tau_C tau_max)), 1/(12 sqrt(L(delta+L) tau_max "
    "T))} satisfies the proof's conditions (A), (B) eta <= 1/(10 delta sqrt T), (C) ('by Fact 1, "
    "it suffices')",
    severity="order",
    subject="asyncbc.thm1",
)
def thm1_stepsize():
    region = Region(
        {L: (1e-3, 10), delta_H: (1e-3, 100), tau_C: (1, 64), tau_max: (1, 64), T: (2, 10**8)},
        integers=frozenset({tau_C, tau_max, T}),
    )
    res = conditions_hold(
        _proof_conds("asyncbc.thm1"),
        {eta: A.ETA_THM1},
        region,
        what="stated eta meets the proof's conditions",
        extra_points=[_FOOTNOTE],
    )
    if res.verdict == "refuted":
        res.evidence += (
            " -- holds iff 100 delta^2 <= 144 L(delta+L) tau_max or 100 delta^2 T <= "
            "36 (delta+L)^2 tau_C tau_max; Fact 1 bounds delta by L + L_max, not by a multiple of L"
        )
    return res


@check(
    CHECKS,
    id="asyncbc.thm1_rate",
    paper=PAPER,
    location="AsyncBC Theorem 1 (O-statement) from its proof's bound 2F0/(eta T)",
    claim="with a stepsize meeting the proof's conditions the rate is "
    "O((delta+L) sqrt(tau_C tau_max) F0/T + sqrt(L(delta+L) tau_max) F0/sqrt(T))",
    severity="order",
    subject="asyncbc.thm1_order",
)
def thm1_rate():
    conds = _proof_conds("asyncbc.thm1")
    rate = A.THM1_ORDER.order.rate
    # the 1/sqrt(T) coefficient of 2F0/(eta T), eta = min of the conditions, as T -> oo:
    # 2F0 / min_i lim(sqrt(T) eta_i) (an eta_i not decaying like 1/sqrt(T) does not bind)
    lims = [sp.limit(c.rhs * sp.sqrt(T), T, sp.oo) for c in conds.values()]
    got = 2 * F0 * sp.Max(*[1 / v for v in lims if not v.has(sp.oo, sp.zoo)])
    claimed = sp.limit(rate * sp.sqrt(T), T, sp.oo)
    at = {L: 1, tau_max: 4, tau_C: 4, F0: 1}
    ratio = (got / claimed).subs(at)
    r1, r2 = (sp.N(ratio.subs(delta_H, 10**e), 30) for e in (4, 8))
    growth = round(float(sp.log(r2 / r1) / sp.log(10**4)), 3)  # slope in log-log, delta 1e4..1e8
    if growth > 0.1:
        return refuted(
            f"with the proof's conditions 2F0/(eta T) has 1/sqrt(T) coefficient {got}; the claimed "
            f"{claimed}; their ratio grows like delta^{growth} (L = 1, delta 1e4 -> 1e8): the rate needs an extra "
            "delta F0/sqrt(T) term (corrected: O((delta+L) sqrt(tau_C tau_max) F0/T + "
            "(delta + sqrt(L(delta+L) tau_max)) F0/sqrt(T)))",
            proof_coefficient=got,
            claimed_coefficient=claimed,
            growth_in_delta=growth,
        )
    return verified(f"coefficient ratio {ratio}")


@check(
    CHECKS,
    id="asyncbc.thm2_stepsize",
    paper=PAPER,
    location="AsyncBC Theorem 2 and its proof (Appendix B)",
    claim="the stated eta = min{1/(ell sqrt(6 tau_C tau_max)), 1/(10 ell sqrt T), "
    "1/(2 sqrt(2 L ell tau_max (T-1)))} satisfies the proof's conditions (A), (B), (C)",
    severity="order",
    subject="asyncbc.thm2",
)
def thm2_stepsize():
    conds = _proof_conds("asyncbc.thm2")
    args = set(A.ETA_THM2.args)
    if all(c.rhs in args for c in conds.values()):
        return verified(
            "each condition's right side is an argument of the Min that defines eta: "
            "Min(a, b, c) <= a, b, c",
        )
    return refuted("a condition is not an argument of the stated Min")  # pragma: no cover


def _active_sets(received, initial, union_first):
    C = {(k, 1) for k in initial} - {received[0]}
    out = [C]
    for t in range(1, len(received)):
        add, drop = {(t, t + 1)}, {received[t]}
        C = (C | add) - drop if union_first else (C - drop) | add
        out.append(C)
    return out


@check(
    CHECKS,
    id="asyncbc.active_sets",
    paper=PAPER,
    location="AsyncBC Section 3.1, definition of C_{t+1} (used in Lemma 2)",
    claim="C_{t+1} := C_t \\ {(j_{t+1}, t+1-tau_{t+1})} U {(k_{t+1}, t+1)} (read left to right) "
    "makes m_t - m~_t = -sum_{C_t} g; with tau_C = 1 (SARAH, m_t = m~_t) every C_t is empty",
    severity="typo",
    subject="asyncbc.lemma1",
)
def active_sets():
    sarah = [(0, 1)] + [(t - 1, t) for t in range(2, 8)]  # staleness 0 at every step
    literal = _active_sets(sarah, [0], union_first=False)
    fixed = _active_sets(sarah, [0], union_first=True)
    if literal[-1] and not any(fixed):
        return refuted(
            f"tau_C = 1, 7 steps: the literal order leaves |C_7| = {len(literal[-1])} tasks 'active' "
            "(each staleness-0 task is removed before it is added); the union first gives C_t = {} "
            "as Lemma 2 needs",
            literal_sizes=[len(c) for c in literal],
            union_first_sizes=[len(c) for c in fixed],
        )
    return verified("both orders agree")  # pragma: no cover


@check(
    CHECKS,
    id="asyncbc.lemma1_cs_step",
    paper=PAPER,
    location="AsyncBC proof of Lemma 1 (Cauchy-Schwarz step)",
    claim="(tau_C - 1)^2 / tau_C^2 <= 1/tau_C for every tau_C >= 1, as the printed step uses",
    severity="typo",
    subject="asyncbc.lemma1",
)
def lemma1_cs_step():
    region = Region({tau_C: (1, 64)}, integers=frozenset({tau_C}))
    res = inequality(
        (tau_C - 1) ** 2 / tau_C**2,
        1 / tau_C,
        region,
        what="(tau_C-1)^2/tau_C^2 <= 1/tau_C",
        symbolic=False,
        extra_points=[{tau_C: 3}],
    )
    if res.verdict == "refuted":
        ok = sp.simplify(1 / tau_C - (tau_C - 1) / tau_C**2)
        res.evidence += (
            f"; the Cauchy-Schwarz step gives (tau_C-1)/tau_C^2, and 1/tau_C - it = {ok}"
        )
    return res


@check(
    CHECKS,
    id="asyncbc.thm3_step",
    paper=PAPER,
    location="AsyncBC proof of Theorem 3 ('(1-eta)^(T-s) <= 5/4 ... (1 - 4/5)^2')",
    claim="from 0 <= (1-eta)^(T-s) <= 5/4 it follows that (1 - (1-eta)^(T-s))^2 >= 1/25",
    severity="typo",
    subject="asyncbc.thm3",
)
def thm3_step():
    x = sp.Symbol("x", nonnegative=True)
    region = Region({x: (0, 1.25)})
    res = inequality(
        sp.Rational(1, 25), (1 - x) ** 2, region, what="1/25 <= (1-x)^2 for 0 <= x <= 5/4",
        symbolic=False,
    )  # fmt: skip
    if res.verdict == "refuted":
        res.evidence += "; the preceding line gives x <= 4/5, for which (1-x)^2 >= 1/25 holds"
    return res


@check(
    CHECKS,
    id="asyncbc.thm3_small_eta",
    paper=PAPER,
    location="AsyncBC proof of Theorem 3, regime eta <= 1/(2T) (b_i = 0, sigma = 0, m_0 = x_0)",
    claim="||x_T||^2 = (1-eta)^T ||x_0||^2 >= ||x_0||^2/2 for eta <= 1/(2T)",
    severity="constant",
    subject="asyncbc.thm3_small_eta",
)
def thm3_small_eta():
    # Algorithm 2 with tau_C = 1 (SARAH), f_i = x^2/2, no noise: run exactly in rationals
    T_, eta_ = 1, Fraction(1, 2)
    x_prev = Fraction(1)
    m = x_prev
    x = x_prev - eta_ * m
    for _ in range(1, T_):
        m = m + (x - x_prev)
        x_prev, x = x, x - eta_ * m
    xt2 = x * x
    if xt2 < Fraction(1, 2):
        return refuted(
            f"exact run at T = 1, eta = 1/(2T) = 1/2, x_0 = 1: ||x_T||^2 = {xt2} < 1/2 = "
            "||x_0||^2/2; ||x_T||^2 = (1-eta)^(2T) ||x_0||^2 (exponent 2T), which is < 1/2 at "
            "eta = 1/(2T) for every T (it rises to 1/e); ||x_0||^2/4 holds",
            x_T_squared=str(xt2),
            hypotheses=["eta = 1/(2T) <= 1/(2T)", "tau_C = 1", "b_i = 0, sigma = 0, m_0 = x_0"],
        )
    return verified(f"||x_T||^2 = {xt2} >= 1/2")  # pragma: no cover


@check(
    CHECKS,
    id="asyncbc.lemma5_vs_lemma1",
    paper=PAPER,
    location="AsyncBC Lemmas 1 and 5, eqs. (5), (10)",
    claim="Lemma 5 is Lemma 1 without the factor 2 when ell^2 = delta^2 + L^2",
    severity="constant",
    subject="asyncbc.lemma5",
)
def lemma5_vs_lemma1():
    l1 = _BY_ID["asyncbc.lemma1"].bound
    l5 = _BY_ID["asyncbc.lemma5"].bound.subs(ell, sp.sqrt(delta_H**2 + L**2))
    if sp.simplify(l1 - 2 * l5) == 0:
        return verified("simplify(Lemma 1 - 2 Lemma 5|ell^2 = delta^2 + L^2) = 0")
    return refuted(f"difference {sp.simplify(l1 - 2 * l5)}")  # pragma: no cover


@check(
    CHECKS,
    id="asyncbc.thm1_bound",
    paper=PAPER,
    location="AsyncBC Theorem 1, last display of the proof (Appendix A)",
    claim="2F0/(eta T) at the stated eta is at most 12(delta+L) sqrt(tau_C tau_max) F0/T + "
    "24 sqrt(L(delta+L) tau_max) F0/sqrt(T)",
    severity="constant",
    subject="asyncbc.thm1",
)
def thm1_bound():
    a, b = A.ETA_THM1.args if len(A.ETA_THM1.args) == 2 else (None, None)
    both = 2 * F0 / (a * T) + 2 * F0 / (b * T)  # max{1/a, 1/b} <= 1/a + 1/b
    diff = sp.simplify(both - _BY_ID["asyncbc.thm1"].bound)
    if diff == 0:
        return verified("2F0/(eta T) = 2F0 max{1/a, 1/b}/T <= 2F0/(aT) + 2F0/(bT) = the bound")
    return refuted(f"2F0/(aT) + 2F0/(bT) - bound = {diff}")


@check(
    CHECKS,
    id="asyncbc.thm2_bound",
    paper=PAPER,
    location="AsyncBC Theorem 2, last display of the proof (Appendix B)",
    claim="2F0/(eta T) at the stated eta is at most 2 ell sqrt(6 tau_C tau_max) F0/T + "
    "(20 ell + 4 sqrt(2 L ell tau_max)) F0/sqrt(T)",
    severity="constant",
    subject="asyncbc.thm2",
)
def thm2_bound():
    args = A.ETA_THM2.args
    both = sum(2 * F0 / (arg * T) for arg in args)
    bound = _BY_ID["asyncbc.thm2"].bound
    # sqrt(T - 1) <= sqrt(T) turns the third term into the stated one
    diff = sp.simplify(both.subs(T - 1, T) - bound)
    if diff == 0:
        return verified(
            "2F0/(eta T) <= sum over the three branches of 2F0/(eta_i T), and with "
            "sqrt(T-1) <= sqrt(T) that sum is the stated bound"
        )
    region = Region(
        {L: (0.1, 10), ell: (0.1, 10), tau_C: (1, 64), tau_max: (1, 64), T: (2, 10**6),
         F0: (0.1, 10)},
        integers=frozenset({tau_C, tau_max, T}),
    )  # fmt: skip
    return inequality(both, bound, region, what="sum of the branches <= stated bound")


def _abc(coeffs: tuple[sp.Rational, ...]) -> tuple[bool, sp.Rational]:
    total = sum(coeffs, sp.Integer(0))
    return total <= sp.Rational(1, 16), total


@check(
    CHECKS,
    id="asyncbc.abc_constants",
    paper=PAPER,
    location="AsyncBC proofs of Theorems 1 and 2 ('A + B + C <= eta/16 sum E||m_t||^2')",
    claim="the proofs' conditions give A + B + C <= eta/16 sum E||m_t||^2: Theorem 1 with "
    "1/144 + 1/200 + 1/2048, Theorem 2 with 1/48 + 1/200 + 1/64",
    severity="constant",
    subject="asyncbc.thm1_eta",
)
def abc_constants():
    ok1, t1 = _abc((sp.Rational(1, 144), sp.Rational(1, 200), sp.Rational(1, 2048)))
    ok2, t2 = _abc((sp.Rational(1, 48), sp.Rational(1, 200), sp.Rational(1, 64)))
    if ok1 and ok2:
        return verified(f"exact sums {t1} and {t2} are <= 1/16")
    return refuted(f"exact sums {t1}, {t2} vs 1/16")


@check(
    CHECKS,
    id="asyncbc.thm3_variance",
    paper=PAPER,
    location="AsyncBC Theorem 3, proof ('by the independence of xi_i')",
    claim="for tau_C = 1 on f_i = ||x + b_i||^2/2 the noise part of x_T is "
    "-sum_{s=1}^{T-1} (1 - (1-eta)^(T-s)) xi_s, so E||x_T||^2 >= sigma^2 sum_s (1-(1-eta)^(T-s))^2",
    severity="invalidates",
    subject="asyncbc.thm3_var",
)
def thm3_variance():
    """Exact on the explicit instance: run Algorithm 2 (SARAH, tau_C = 1) symbolically for T = 6
    with symbolic noises xi_1..xi_5 (f_i(x) = x^2/2 in d = 1, b_i = 0) and read off each noise's
    coefficient in x_T; independent zero-mean noises of variance sigma^2 then give the variance."""
    e = sp.Symbol("eta", positive=True)
    T_ = 6
    xi = sp.symbols(f"xi1:{T_}")
    x0 = sp.Symbol("x0")
    x_prev, m = x0, x0  # m_0 = grad f(x_0) = x_0
    x = x_prev - e * m
    for s_ in range(1, T_):
        m = m + (x - x_prev) + xi[s_ - 1]  # g_t = grad f(x_t) - grad f(x_{t-1}) + xi_t
        x_prev, x = x, x - e * m
    coeffs = [sp.expand(sp.diff(x, xi[s_ - 1])) for s_ in range(1, T_)]
    claimed = [sp.expand(-(1 - (1 - e) ** (T_ - s_))) for s_ in range(1, T_)]
    if all(sp.simplify(c - d) == 0 for c, d in zip(coeffs, claimed, strict=True)):
        return verified(
            f"T = {T_}: the coefficient of xi_s in x_T is -(1 - (1-eta)^(T-s)) for s = 1..{T_ - 1} "
            "(symbolic run of the recursion); with independent zero-mean xi_s the noise variance "
            "is sigma^2 sum_s (1 - (1-eta)^(T-s))^2"
        )
    bad = [(s_ + 1, c) for s_, (c, d) in enumerate(zip(coeffs, claimed, strict=True)) if c != d]
    return refuted(f"coefficients differ at {bad}")


@check(
    CHECKS,
    id="asyncbc.thm3_regime",
    paper=PAPER,
    location="AsyncBC Theorem 3, proof, regime 1/(2T) <= eta <= 1 (with 4/5 for the printed 5/4)",
    claim="for 1/(2T) <= eta <= 1: sigma^2 sum_{s=1}^{T-1} (1-(1-eta)^(T-s))^2 >= sigma^2 "
    "floor(T/2)/25",
    severity="invalidates",
    subject="asyncbc.thm3",
)
def thm3_regime():
    """Proof: for s <= T/2, T - s >= T/2, so (1-eta)^(T-s) <= (1 - 1/(2T))^(T/2) <= exp(-1/4)
    (1 - x <= e^-x) and exp(-1/4) < 4/5; each of the floor(T/2) terms s = 1..floor(T/2) (all
    <= T - 1 for T >= 2) is then >= (1/5)^2, the others >= 0."""
    e14 = sp.exp(-sp.Rational(1, 4))
    gap = sp.Rational(4, 5) - e14
    if gap.is_positive and sp.N(gap, 30) > 0:
        return verified(
            f"(1-eta)^(T-s) <= (1-1/(2T))^(T/2) <= e^(-1/4) = {sp.N(e14, 8)} < 4/5 for s <= T/2; "
            "floor(T/2) terms each >= 1/25",
            margin=sp.N(gap, 10),
        )
    return refuted("e^(-1/4) >= 4/5")  # pragma: no cover


def _two_client_step(stochastic: bool):
    """One step of the virtual-momentum recursion on f_i(x) = a_i x^2/2 (d = 1, two clients, k_t
    uniform; with ``stochastic`` the oracle is (a_k + xi) x with xi = +-s w.p. 1/2, the same xi at
    x_t and x_{t-1} as Assumption 5 requires). Returns E[(grad f(x_t) - m~_t)^2], the previous
    error, E||m_{t-1}||^2 and the exact constant delta^2 or ell^2 of the instance."""
    a1, a2, x_prev, m_prev, mt_prev, eta_, s_ = sp.symbols("a1 a2 x_prev m_prev mt_prev eta s",
                                                          real=True)  # fmt: skip
    abar = (a1 + a2) / 2
    x_t = x_prev - eta_ * m_prev
    noises = [(s_, sp.Rational(1, 2)), (-s_, sp.Rational(1, 2))] if stochastic else [(0, 1)]
    lhs = sp.Integer(0)
    for a_k in (a1, a2):
        for xi, w in noises:
            g = (a_k + xi) * (x_t - x_prev)
            lhs += sp.Rational(1, 2) * w * (abar * x_t - (mt_prev + g)) ** 2
    prev = (abar * x_prev - mt_prev) ** 2
    # ell^2 = max_i E_xi (a_i + xi)^2 = a1^2 + s^2 (taking a1^2 >= a2^2); delta = |a1 - a2|/2
    const = a1**2 + s_**2 if stochastic else (a1 - a2) ** 2 / 4
    return lhs, prev, m_prev**2, const, eta_, (a1, a2, s_)


@check(
    CHECKS,
    id="asyncbc.lemma4_instance",
    paper=PAPER,
    location="AsyncBC Lemma 4, eq. (9), on an explicit instance",
    claim="E||grad f(x_t) - m~_t||^2 <= E||grad f(x_{t-1}) - m~_{t-1}||^2 + eta^2 delta^2 "
    "E||m_{t-1}||^2 (two clients, f_i = a_i x^2/2, uniform k_t)",
    severity="invalidates",
    subject="asyncbc.lemma4",
)
def lemma4_instance():
    lhs, prev, m2, d2, e, _ = _two_client_step(stochastic=False)
    slack = sp.factor(sp.expand(prev + e**2 * d2 * m2 - lhs))
    if slack == 0:
        return verified(
            "exact expectation over k_t: E[...] = previous error + eta^2 delta^2 m_{t-1}^2 with "
            "delta = |a1 - a2|/2 (the cross term vanishes; the lemma is tight here)"
        )
    return refuted(f"bound - E[...] = {slack}")


@check(
    CHECKS,
    id="asyncbc.lemma6_instance",
    paper=PAPER,
    location="AsyncBC Lemma 6, eq. (11), on an explicit instance",
    claim="E||grad f(x_t) - m~_t||^2 <= E||grad f(x_{t-1}) - m~_{t-1}||^2 + eta^2 ell^2 "
    "E||m_{t-1}||^2 (two clients, f_i(x, xi) = (a_i + xi) x^2/2, xi = +-s)",
    severity="invalidates",
    subject="asyncbc.lemma6",
)
def lemma6_instance():
    lhs, prev, m2, l2, e, (a1, a2, _s) = _two_client_step(stochastic=True)
    slack = sp.expand(prev + e**2 * l2 * m2 - lhs)
    # expected form: eta^2 m^2 (abar^2 + (a1^2 - a2^2)/2) >= 0 when a1^2 >= a2^2
    m_prev = next(sym for sym in m2.free_symbols)
    cert = e**2 * m_prev**2 * (((a1 + a2) / 2) ** 2 + (a1**2 - a2**2) / 2)
    if sp.simplify(slack - cert) == 0:
        return verified(
            "exact expectation over k_t and xi: bound - E[...] = eta^2 m_{t-1}^2 (abar^2 + "
            "(a1^2 - a2^2)/2) >= 0 with ell^2 = a1^2 + s^2 >= a2^2 + s^2"
        )
    return refuted(f"bound - E[...] = {sp.factor(slack)}")


@check(
    CHECKS,
    id="asyncbc.footnote1",
    paper=PAPER,
    location="AsyncBC footnote 1 (f_n = a||x||^2/2, f_i = 0 otherwise)",
    claim="on footnote 1's instance the smallest delta of Assumption 2 is a(n-1)/n while L = a/n, "
    "so delta/L = n - 1 (Assumption 2 does not bound delta by a multiple of L)",
    severity="constant",
    subject="asyncbc.fact1",
)
def footnote1():
    a, m = sp.symbols("a m", positive=True)
    n = m + 2  # n >= 2 clients (m > 0; n = 2 is the limit m -> 0)
    L_ = a / n  # f = (1/n) sum_i f_i = (a/n)||x||^2/2
    # grad f - grad f_i is linear: coefficient a/n - a for i = n, a/n for the others
    dev_n, dev_other = sp.simplify(sp.Abs(a / n - a)), a / n
    ordered = sp.simplify(dev_n - dev_other)  # a(n-2)/n >= 0
    ratio = sp.simplify(dev_n / L_)
    if sp.simplify(ratio - (n - 1)) == 0 and ordered.is_nonnegative:
        return verified(
            f"delta* = max(|a/n - a|, a/n) = a(n-1)/n (difference of the two: {ordered} >= 0 with "
            "n = m + 2) and L = a/n: delta*/L = n - 1"
        )
    return refuted(f"delta*/L = {ratio}")


@check(
    CHECKS,
    id="asyncbc.thm3_outside_a5",
    paper=PAPER,
    location="AsyncBC Theorem 3 versus Theorem 2 (both tau_C = 1)",
    claim="Theorem 3's oracle g = grad f_i(x) - grad f_i(y) + xi'' violates Assumption 5, so its "
    "non-convergence does not contradict Theorem 2",
    severity="invalidates",
    subject="asyncbc.thm3",
)
def thm3_outside_a5():
    sig, ell_, d2 = sp.symbols("sigma ell d2", nonnegative=True)  # d2 = ||x - y||^2
    second_moment = d2 + sig**2  # f_i = ||x + b_i||^2/2: grad difference x - y, plus the noise
    gap_at_equal_points = sp.simplify((second_moment - ell_**2 * d2).subs(d2, 0))
    if gap_at_equal_points == sig**2:
        return verified(
            "E||g||^2 = ||x - y||^2 + sigma^2 exceeds ell^2 ||x - y||^2 at x = y for every ell when "
            "sigma > 0: Assumption 5 fails, Theorem 2 does not apply"
        )
    return refuted(f"gap at x = y: {gap_at_equal_points}")


# --- Lemma 2 on random schedules, Lemma 3's steps -----------------------------------------------------
def _random_schedule(rng, tau_C: int, steps: int):
    """Algorithm 1's task flow: tau_C initial tasks of version 1; at each step t = 1..steps one
    active task (uniform) is received and a task of version t+1 handed out. Returns the tasks as
    (version, received_step or None) in hand-out order and the task received at each step."""
    tasks = [[1, None] for _ in range(tau_C)]
    active = list(range(tau_C))
    received = []
    for t in range(1, steps + 1):
        j = active.pop(rng.randrange(len(active)))
        tasks[j][1] = t
        received.append(j)
        tasks.append([t + 1, None])
        active.append(len(tasks) - 1)
    return tasks, received


@check(
    CHECKS,
    id="asyncbc.lemma2_schedules",
    paper=PAPER,
    location="AsyncBC Lemma 2, eq. (7), with m~ and x~ from their recursions (3)-(4)",
    claim="m_t - m~_t = -sum_{C_t} g_i^k (t >= 1) and x_t - x~_t = eta sum_i tau_i^{t-1} g_i "
    "(t >= 2) for every schedule of Algorithm 1",
    severity="invalidates",
    subject="asyncbc.lemma2_m",
)
def lemma2_schedules():
    """Symbolic gradient differences (one SymPy symbol per task: the identities are linear in them),
    200 random schedules with tau_C in 1..4 and up to 12 steps; C_t read union-first (a task of
    version v received at step r is in C_v .. C_{r-1}), tau_i^{t-1} = #{s in 1..t-1: i in C_s}."""
    import random

    rng = random.Random(12)
    et = sp.Symbol("eta", positive=True)
    m0 = sp.Symbol("m0")
    checked = 0
    for _ in range(200):
        tau_c = rng.randint(1, 4)
        steps = rng.randint(2, 12)
        tasks, received = _random_schedule(rng, tau_c, steps)
        g = sp.symbols(f"g0:{len(tasks)}")
        m, mt = [m0], [m0]
        x, xt = [sp.Integer(0)], [sp.Integer(0)]
        x.append(x[0] - et * m[0])
        xt.append(x[1])
        for t in range(1, steps + 1):
            m.append(m[-1] + g[received[t - 1]])
            new = [i for i, (v, _r) in enumerate(tasks) if v == t]
            mt.append(mt[-1] + sum(g[i] for i in new))
            x.append(x[-1] - et * m[t])
            xt.append(xt[-1] - et * mt[t])

        def active(i, s_, tasks=tasks):
            v, r_ = tasks[i]
            return v <= s_ and (r_ is None or s_ < r_)

        for t in range(1, steps + 1):
            rhs = -sum(g[i] for i in range(len(tasks)) if active(i, t))
            if sp.expand(m[t] - mt[t] - rhs) != 0:
                return refuted(f"first identity fails at t = {t}, tau_C = {tau_c}: {tasks}")
            if t >= 2:
                cnt = [sum(1 for s_ in range(1, t) if active(i, s_)) for i in range(len(tasks))]
                rhs_x = et * sum(c * g[i] for i, c in enumerate(cnt))
                if sp.expand(x[t] - xt[t] - rhs_x) != 0:
                    return refuted(f"second identity fails at t = {t}, tau_C = {tau_c}: {tasks}")
            checked += 1
    return verified(
        f"both identities hold symbolically in the g's at {checked} (schedule, t) pairs of 200 "
        "random schedules (tau_C 1..4), with C_t read union-first",
        checked=checked,
    )


@check(
    CHECKS,
    id="asyncbc.lemma3_steps",
    paper=PAPER,
    location="AsyncBC Lemma 3, eq. (8), proof steps (ii)-(iii)",
    claim="-eta<u, m> = -eta/2||u||^2 - eta/2||m||^2 + eta/2||u - m||^2 and eta<v, m> <= "
    "eta||v||^2 + eta/4||m||^2 (the polarisation and Young steps), in R^2",
    severity="constant",
    subject="asyncbc.lemma3",
)
def lemma3_steps():
    u = sp.symbols("u1 u2", real=True)
    v = sp.symbols("v1 v2", real=True)
    m = sp.symbols("m1 m2", real=True)
    et = sp.Symbol("eta", positive=True)

    def dot(a, b):
        return a[0] * b[0] + a[1] * b[1]

    diff = [u[i] - m[i] for i in range(2)]
    polar = sp.expand(
        -et * dot(u, m) - (-et / 2 * dot(u, u) - et / 2 * dot(m, m) + et / 2 * dot(diff, diff))
    )
    half = [v[i] - m[i] / 2 for i in range(2)]
    young = sp.expand(et * dot(v, v) + et / 4 * dot(m, m) - et * dot(v, m) - et * dot(half, half))
    if polar == 0 and young == 0:
        return verified(
            "polarisation: difference expands to 0; Young: eta||v||^2 + eta/4||m||^2 - eta<v, m> = "
            "eta||v - m/2||^2 >= 0 (identity); (i), (iii) are L-smoothness",
            polarisation=polar,
            young=young,
        )
    return refuted(f"polarisation {polar}, Young {young}")  # pragma: no cover
