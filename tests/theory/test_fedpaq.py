"""FedPAQ (Reisizadeh et al., AISTATS 2020): Theorems 1-2 and Remarks 1-4 as encoded.

Hand values are recomputed in plain floats; the paper's own derivation steps (Lemmas 2-9, (25)-(30),
(82)-(87), Appendix A.6 and B.1, Lemma 5) are re-derived in SymPy or checked numerically; the
findings are asserted as the true mathematical facts they are.
"""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from boundcheck.dims import GRAD2, X, check_expr
from boundcheck.errors import ParameterError
from boundcheck.theory import fedpaq as FP
from boundcheck.theory import registry
from boundcheck.theory import symbols as S
from boundcheck.theory.core import ConditionKind, Direction
from boundcheck.theory.evaluate import (
    check_conditions,
    evaluate_bound,
    evaluate_slack,
    validate,
)

L, mu, n, T, sigma, eta, F0 = S.L, S.mu, S.n, S.T, S.sigma, S.eta, S.F0
q, r, tau, k, k0, D_k0 = FP.q, FP.r, FP.tau, FP.k, FP.k0, FP.D_k0
C1, C2, C3, B1 = FP.C1, FP.C2, FP.C3, FP.B1
DIMS = S.dimensions()
SETTINGS = settings(max_examples=40, deadline=None)


def cond(thm, cid):
    return next(c for c in thm.conditions if c.id == cid)


def _holds_exactly(thm, c, vals) -> bool:
    """Whether condition ``c`` holds at ``vals`` in exact rational arithmetic (every float input
    taken at its exact binary value, the theorem's definitions substituted)."""
    subs = {S.info(k).symbol: sp.Rational(v) for k, v in vals.items()}
    rel = c.relation
    for sym, expr in reversed(thm.definitions):
        rel = rel.subs(sym, expr)
    return bool(rel.subs(subs))


def thm1_values(Lv, muv, qv, nv, rv, tauv, sigmav, kv, k0v=None, Dv=1.0):
    k0v = FP.k0_smallest(Lv, muv, qv, nv, rv, tauv) if k0v is None else k0v
    return {
        "D_k0": Dv,
        "L": Lv,
        "eta": 4.0 / (muv * (kv * tauv + 1.0)),
        "k": float(kv),
        "k0": float(k0v),
        "mu": muv,
        "n": float(nv),
        "q": qv,
        "r": float(rv),
        "sigma": sigmav,
        "tau": float(tauv),
    }


def thm2_values(Lv, qv, nv, rv, tauv, Tv, sigmav=1.0, F0v=1.0):
    return {
        "F0": F0v,
        "L": Lv,
        "T": float(Tv),
        "eta": 1.0 / (Lv * math.sqrt(Tv)),
        "n": float(nv),
        "q": qv,
        "r": float(rv),
        "sigma": sigmav,
        "tau": float(tauv),
    }


def tau_max_18(qv, nv, rv, Tv):
    b2 = qv / nv + 4 * (nv - rv) / (rv * (nv - 1)) * (1 + qv)
    return (math.sqrt(b2**2 + 0.8) - b2) / 8 * math.sqrt(Tv)


# --- registry, examples, hand-checked values ------------------------------------------------------


def test_registry_holds_the_fedpaq_theorems_with_their_kinds():
    ids = [t.id for t in FP.THEOREMS]
    assert ids == [
        "fedpaq.thm1",
        "fedpaq.remark1",
        "fedpaq.remark2",
        "fedpaq.thm2",
        "fedpaq.remark3",
        "fedpaq.remark3_tau_sqrt_t",
        "fedpaq.remark4",
        "fedpaq.lemma1",
        "fedpaq.lemma1_rev",
        "fedpaq.lemma2",
        "fedpaq.lemma3",
        "fedpaq.lemma4",
        "fedpaq.lemma5",
        "fedpaq.lemma6",
        "fedpaq.lemma7",
        "fedpaq.lemma8",
        "fedpaq.lemma9",
    ]
    assert all(registry.get(i) is t for i, t in zip(ids, FP.THEOREMS, strict=True))
    assert FP.THM1.direction is Direction.UPPER and FP.THM2.direction is Direction.UPPER
    orders = [t for t in FP.THEOREMS if t.direction is Direction.ORDER]
    assert len(orders) == 5 and all(t.order.explicit in ids for t in orders)


def test_lemmas_2_to_4_recombine_as_the_registry_encodes_them():
    """The registry's Lemmas 2-4 at E||x_k - x*||^2 sum to (27) before the contraction."""
    total = sum(FP.THM1.expand(t.bound) for t in (FP.LEMMA2, FP.LEMMA3, FP.LEMMA4))
    eq27 = (
        FP.C0_DEF * FP.D_k
        + mu**2 / 16 * FP.C1_DEF * tau**2 * eta**2
        + mu**2 / 16 * FP.C2_DEF * tau * (tau - 1) ** 2 * eta**2
        + mu**4 / 256 * FP.C3_DEF * (tau - 1) * tau**2 * eta**4
    )
    assert sp.expand(total - eq27) == 0


@pytest.mark.parametrize("thm", [FP.THM1, FP.THM2], ids=lambda t: t.id)
def test_example_is_finite_and_every_stated_and_proof_condition_holds(thm):
    assert sorted(thm.example) == thm.parameters()
    b = evaluate_bound(thm, thm.example)
    assert math.isfinite(b) and b > 0
    results = check_conditions(thm, thm.example)
    assert len(results) == len(thm.conditions)
    for res in results:
        assert res.holds, (res.condition.id, res.slack)


def test_thm1_bound_at_the_example_by_hand():
    Lv, muv, qv, nv, rv, tauv, sv, kv, k0v, Dv = 2.0, 1.0, 0.5, 10, 5, 4, 1.0, 200, 108, 1.0
    pp = (nv - rv) / (rv * (nv - 1))  # 1/9
    c1 = 16 * sv**2 / (muv**2 * nv) * (1 + 2 * qv + 8 * (1 + qv) * nv * pp)
    c2 = 16 * math.e * Lv**2 * sv**2 / (muv**2 * nv)
    c3 = 256 * math.e * Lv**2 * sv**2 / (muv**4 * nv) * (nv + 2 * qv + 8 * (1 + qv) * nv * pp)
    a = kv * tauv + 1  # 801
    hand = (
        (k0v * tauv + 1) ** 2 / a**2 * Dv
        + c1 * tauv / a
        + c2 * (tauv - 1) ** 2 / a
        + c3 * (tauv - 1) / a**2
    )
    assert c1 == pytest.approx(1.6 * (2 + 120 / 9))
    assert hand == pytest.approx(0.6418763, rel=1e-6)
    assert evaluate_bound(FP.THM1, FP.THM1.example) == pytest.approx(hand, rel=1e-12)


def test_k0_smallest_at_the_example_by_hand():
    # B1 = 2*4*(0.5/10 + (5/45)*4*1.5) = 5.7333..., 4*max{2, 4*(B1+1), 1/4, 40/4} = 107.73...
    b1 = 2 * 4 * (0.05 + 6 / 9)
    assert 4 * 4 * (b1 + 1) == pytest.approx(107.7333333, rel=1e-9)
    assert FP.k0_smallest(2.0, 1.0, 0.5, 10, 5, 4) == 108 == FP.THM1.example["k0"]


def test_thm2_bound_at_the_example_by_hand():
    Lv, F0v, sv, qv, nv, rv, tauv, Tv = 2.0, 1.0, 1.0, 0.5, 10, 5, 2, 10_000
    n1 = (1 + qv) * sv**2 / nv * (1 + nv * (nv - rv) / (rv * (nv - 1)))
    n2 = sv**2 / nv * (nv + 1)
    hand = 2 * Lv * F0v / math.sqrt(Tv) + n1 / math.sqrt(Tv) + n2 * (tauv - 1) / Tv
    assert hand == pytest.approx(0.04 + 0.15 * (19 / 9) / 100 + 1.1e-4, rel=1e-12)
    assert evaluate_bound(FP.THM2, FP.THM2.example) == pytest.approx(hand, rel=1e-12)


# --- reductions to parallel SGD (tau = 1, q = 0, r = n) ------------------------------------------

SGD = {tau: 1, q: 0, r: n}


def test_thm1_at_tau1_q0_rn_is_parallel_sgd_with_batch_n():
    """(k0+1)^2/(k+1)^2 E||x_k0-x*||^2 + 16 sigma^2/(mu^2 n (k+1)), stepsize 4/(mu(k+1))."""
    b = FP.THM1.expand(FP.THM1.bound).subs(SGD)
    sgd = (k0 + 1) ** 2 / (k + 1) ** 2 * D_k0 + 16 * sigma**2 / (mu**2 * n * (k + 1))
    assert sp.simplify(b - sgd) == 0
    assert sp.simplify(cond(FP.THM1, "stepsize").rhs.subs(SGD) - 4 / (mu * (k + 1))) == 0
    # B1 vanishes, so (13) reads k0 >= 4 max{L/mu, 4, 1, 4n/mu^2}
    assert FP.B1_DEF.subs(SGD) == 0
    assert FP.k0_smallest(10.0, 1.0, 0.0, 2, 2, 1) == 40


def test_thm2_at_tau1_q0_rn_is_parallel_sgd_with_batch_n():
    """(2 L F0 + sigma^2/n)/sqrt(T) = 2 F0/(eta T) + L eta sigma^2/n at eta = 1/(L sqrt(T))."""
    b = FP.THM2.expand(FP.THM2.bound).subs(SGD)
    sgd = (2 * F0 / (eta * T) + L * eta * sigma**2 / n).subs(eta, 1 / (L * sp.sqrt(T)))
    assert sp.simplify(b - sgd) == 0
    assert sp.simplify(b - (2 * L * F0 + sigma**2 / n) / sp.sqrt(T)) == 0


def test_thm2_condition_18_at_tau1_needs_T_at_least_80():
    c = cond(FP.THM2, "tau_le")
    exact = FP.THM2.expand(c.rhs).subs(SGD).subs(n, 5)
    assert sp.simplify(exact.subs(T, 80)) == 1  # tau_max = sqrt(0.8 T)/8 = 1 exactly at T = 80
    base = thm2_values(1.0, 0.0, 5, 5, 1, 81)
    assert evaluate_slack(FP.THM2, c, base) >= 0
    assert evaluate_slack(FP.THM2, c, {**base, "T": 79.0}) < 0


# --- monotonicity in q, sigma, r -------------------------------------------------------------------

pos = st.floats(0.05, 20.0)
qs = st.floats(0.0, 5.0)
REL = 1 + 1e-12


def _ordered_q_sigma_r(q1, q2, s1, s2, nv, data):
    """Sorts the drawn q and sigma pairs and draws 1 <= r1 <= r2 <= n."""
    r1 = data.draw(st.integers(1, nv))
    r2 = data.draw(st.integers(r1, nv))
    return (*sorted((q1, q2)), *sorted((s1, s2)), r1, r2)


def _assert_grows_with_q_and_sigma_shrinks_with_r(ev, q1, q2, s1, s2, r1, r2):
    """ev(q, r, sigma) is nondecreasing in q and sigma and nonincreasing in r."""
    assert ev(q1, r1, s2) <= ev(q2, r1, s2) * REL
    assert ev(q1, r1, s1) <= ev(q1, r1, s2) * REL
    assert ev(q1, r2, s1) <= ev(q1, r1, s1) * REL


@SETTINGS
@given(
    muv=st.floats(0.1, 5.0),
    kappa=st.floats(1.0, 30.0),
    q1=qs,
    q2=qs,
    nv=st.integers(2, 60),
    data=st.data(),
    tauv=st.integers(1, 20),
    s1=st.floats(0.0, 10.0),
    s2=st.floats(0.0, 10.0),
)
def test_thm1_bound_grows_with_q_and_sigma_and_shrinks_with_r(
    muv, kappa, q1, q2, nv, data, tauv, s1, s2
):
    q1, q2, s1, s2, r1, r2 = _ordered_q_sigma_r(q1, q2, s1, s2, nv, data)
    Lv = kappa * muv
    kv = 2 * FP.k0_smallest(Lv, muv, 5.0, nv, 1, tauv)  # k >= k0 at every q, r below
    ev = lambda qv, rv, sv: evaluate_bound(  # noqa: E731
        FP.THM1, thm1_values(Lv, muv, qv, nv, rv, tauv, sv, kv)
    )
    _assert_grows_with_q_and_sigma_shrinks_with_r(ev, q1, q2, s1, s2, r1, r2)
    if r1 < nv and s1 > 0.01:  # strictly: partial participation costs
        assert ev(q1, nv, s1) < ev(q1, r1, s1)


@SETTINGS
@given(
    Lv=pos,
    q1=qs,
    q2=qs,
    nv=st.integers(2, 60),
    data=st.data(),
    tauv=st.integers(1, 50),
    Tv=st.integers(2, 10**8),
    s1=st.floats(0.0, 10.0),
    s2=st.floats(0.0, 10.0),
)
def test_thm2_bound_grows_with_q_and_sigma_and_shrinks_with_r(
    Lv, q1, q2, nv, data, tauv, Tv, s1, s2
):
    q1, q2, s1, s2, r1, r2 = _ordered_q_sigma_r(q1, q2, s1, s2, nv, data)
    ev = lambda qv, rv, sv: evaluate_bound(  # noqa: E731
        FP.THM2, thm2_values(Lv, qv, nv, rv, tauv, Tv, sv)
    )
    _assert_grows_with_q_and_sigma_shrinks_with_r(ev, q1, q2, s1, s2, r1, r2)
    # the admissible period length of (18) shrinks with q and grows with r
    assert tau_max_18(q2, nv, r1, Tv) <= tau_max_18(q1, nv, r1, Tv) * REL
    assert tau_max_18(q1, nv, r1, Tv) <= tau_max_18(q1, nv, r2, Tv) * REL


# --- Theorem 1: the k0 condition and Appendix A.6 -----------------------------------------------


@SETTINGS
@given(
    muv=st.floats(0.01, 10.0),
    kappa=st.floats(1.0, 100.0),
    qv=qs,
    nv=st.integers(2, 100),
    data=st.data(),
    tauv=st.integers(1, 50),
    extra=st.sampled_from([0, 1, 7, 1000]),
)
def test_k0_is_the_smallest_integer_of_13_and_implies_most_of_67(
    muv, kappa, qv, nv, data, tauv, extra
):
    rv = data.draw(st.integers(1, nv))
    Lv = kappa * muv
    k0v = FP.k0_smallest(Lv, muv, qv, nv, rv, tauv)
    vals = thm1_values(Lv, muv, qv, nv, rv, tauv, 1.0, k0v + extra)
    assert evaluate_slack(FP.THM1, cond(FP.THM1, "k0"), vals) >= 0
    # minimality is decided exactly: at q ~ 1e-234 the excess of (13)'s rhs over k0 - 1 is below
    # float resolution, and the float slack reads 0 (k0_smallest itself is exact)
    at_k0 = {**vals, "k0": float(k0v)}
    assert _holds_exactly(FP.THM1, cond(FP.THM1, "k0_smallest"), at_k0)
    below = {**vals, "k0": float(k0v - 1)}
    assert not _holds_exactly(FP.THM1, cond(FP.THM1, "k0"), below)
    assert k0v >= 16
    # (67) at eta_k, k >= k0, in plain floats -- every part except eta_k <= mu/L^2 follows
    b1 = 2 * Lv**2 * (qv / nv + (nv - rv) / (rv * (nv - 1)) * 4 * (1 + qv))
    kv = k0v + extra
    e_k = 4 / (muv * (kv * tauv + 1))
    tol = 1 + 1e-12
    assert e_k * tauv <= tol / Lv
    assert e_k * tauv <= tol * muv / (4 * (muv**2 + b1))
    assert e_k <= tol * muv / (4 * nv)
    assert e_k <= tol / muv
    # ... and A.6's conclusion C0 <= 1 - mu tau eta_k / 2 (C0 of eq. (26))
    c0 = (1 + nv * e_k**2) * (1 - muv * e_k) ** tauv + b1 * tauv**2 * e_k**2
    assert c0 <= 1 - 0.5 * muv * tauv * e_k + 1e-12


def test_finding_13_does_not_imply_eta_le_mu_over_L2():
    """A.6 claims (13) gives eta_k <= mu/L^2; q=0, r=n=2, tau=1, mu=1, L=10 refutes it."""
    vals = thm1_values(10.0, 1.0, 0.0, 2, 2, 1, 1.0, 40)
    assert vals["k0"] == 40.0
    by_id = {res.condition.id: res for res in check_conditions(FP.THM1, vals)}
    for cid in ("k0", "k0_smallest", "k_ge_k0", "stepsize", "a6_eta_tau_le_1_over_L"):
        assert by_id[cid].holds, cid
    bad = by_id["a6_eta_le_mu_over_L2"]
    assert not bad.holds
    assert bad.lhs == pytest.approx(4 / 41) and bad.rhs == pytest.approx(0.01)


def test_thm1_bound_decays_like_one_over_k():
    lim = sp.limit(k * FP.THM1.bound, k, sp.oo)
    assert sp.simplify(lim - (C1 * tau + C2 * (tau - 1) ** 2) / tau) == 0
    # numerically: k * bound approaches that limit from the example values on
    ex = dict(FP.THM1.example)
    vals = [kv * evaluate_bound(FP.THM1, {**ex, "k": kv}) for kv in (1e3, 1e5, 1e7)]
    c1 = FP.THM1.expand(C1).subs({S.info(a).symbol: v for a, v in ex.items()})
    c2 = FP.THM1.expand(C2).subs({S.info(a).symbol: v for a, v in ex.items()})
    target = float((c1 * 4 + c2 * 9) / 4)
    assert abs(vals[2] - target) < abs(vals[1] - target) < abs(vals[0] - target)
    assert vals[2] == pytest.approx(target, rel=1e-4)


# --- Theorem 1: the paper's derivation, re-done -----------------------------------------------------

delta_k = sp.Symbol("delta_k", nonnegative=True)
E = sp.E


def test_lemmas_2_to_4_recombine_into_25_26_with_the_stated_constants():
    pp = (n - r) / (r * (n - 1))
    lemma2 = (
        (1 + n * eta**2) * (1 - mu * eta) ** tau * delta_k
        + tau * (tau - 1) ** 2 * L**2 * sigma**2 / n * E * eta**2
        + tau**2 * sigma**2 / n * eta**2
        + tau**2 * (tau - 1) * L**2 * sigma**2 * E * eta**4
    )
    lemma3 = (
        2 * q / n * tau**2 * L**2 * eta**2 * delta_k
        + 2 * q * tau**2 * sigma**2 / n * eta**2
        + 2 * q * (tau - 1) * tau**2 * L**2 * sigma**2 / n * E * eta**4
    )
    lemma4 = (
        pp
        * 8
        * (1 + q)
        * (
            tau**2 * L**2 * eta**2 * delta_k
            + tau**2 * sigma**2 * eta**2
            + (tau - 1) * tau**2 * L**2 * sigma**2 * E * eta**4
        )
    )
    eq27_before_contraction = (
        FP.C0_DEF * delta_k
        + mu**2 / 16 * FP.C1_DEF * tau**2 * eta**2
        + mu**2 / 16 * FP.C2_DEF * tau * (tau - 1) ** 2 * eta**2
        + mu**4 / 256 * FP.C3_DEF * (tau - 1) * tau**2 * eta**4
    )
    assert sp.expand(lemma2 + lemma3 + lemma4 - eq27_before_contraction) == 0


def test_27_with_the_stepsize_and_lemma_5_give_bound_14():
    eta_k = cond(FP.THM1, "stepsize").rhs
    s = k + 1 / tau  # k + k1 with k1 = 1/tau
    assert sp.simplify((1 - mu * tau * eta_k / 2) - (1 - 2 / s)) == 0
    assert sp.simplify(mu**2 / 16 * C1 * tau**2 * eta_k**2 - C1 / s**2) == 0
    assert (
        sp.simplify(
            mu**2 / 16 * C2 * tau * (tau - 1) ** 2 * eta_k**2 - C2 * (tau - 1) ** 2 / tau / s**2
        )
        == 0
    )
    assert (
        sp.simplify(
            mu**4 / 256 * C3 * (tau - 1) * tau**2 * eta_k**4 - C3 * (tau - 1) / tau**2 / s**4
        )
        == 0
    )
    a = C1 + C2 * (tau - 1) ** 2 / tau
    b = C3 * (tau - 1) / tau**2
    eq74 = (k0 + 1 / tau) ** 2 / s**2 * D_k0 + a / s + b / s**2  # (29)
    assert sp.simplify(eq74 - FP.THM1.bound) == 0


@settings(max_examples=60, deadline=None)
@given(
    a=st.floats(0.0, 100.0),
    b=st.floats(0.0, 100.0),
    k1=st.floats(0.01, 1.0),
    k0v=st.integers(2, 50),
    d0=st.floats(0.0, 100.0),
)
def test_lemma_5_holds_along_the_worst_case_recursion(a, b, k1, k0v, d0):
    d = d0
    for kv in range(k0v, k0v + 300):
        s = kv + k1
        claim = (k0v + k1) ** 2 / s**2 * d0 + a / s + b / s**2
        assert d <= claim * (1 + 1e-12) + 1e-300
        d = (1 - 2 / s) * d + a / s**2 + b / s**4


# --- Theorem 2: conditions and the constant N1 ------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    Lv=st.floats(1e-3, 1e3),
    qv=qs,
    nv=st.integers(2, 100),
    data=st.data(),
    Tv=st.integers(2, 10**9),
    frac=st.floats(0.0, 1.0),
)
def test_condition_18_and_T_ge_2_imply_the_proof_conditions_83_91(Lv, qv, nv, data, Tv, frac):
    rv = data.draw(st.integers(1, nv))
    top = tau_max_18(qv, nv, rv, Tv)
    assume(top >= 1)
    tauv = max(1, math.floor(frac * top))
    vals = thm2_values(Lv, qv, nv, rv, tauv, Tv)
    for c in FP.THM2.conditions:
        slack = evaluate_slack(FP.THM2, c, vals)
        if c.is_equality:
            assert abs(slack) <= 1e-12 * vals["eta"]
        else:
            assert slack >= -1e-12, (c.id, slack)


def test_finding_18_is_twice_as_strict_as_the_proof_needs():
    """(91) at eta = 1/(L sqrt T) allows tau up to c sqrt(T)/4; (18) states c sqrt(T)/8."""
    eta_T = 1 / (L * sp.sqrt(T))
    c91 = cond(FP.THM2, "b1_eq91")
    tau_91 = sp.solve(sp.Eq(c91.lhs.subs(eta, eta_T), c91.rhs), tau)[0]
    assert sp.simplify(tau_91 - FP.TAU_MAX_91) == 0
    assert sp.simplify(tau_91 / cond(FP.THM2, "tau_le").rhs) == 2
    vals = thm2_values(1.0, 0.0, 4, 4, 30, 10_000)  # c sqrt(T)/8 = 11.2, c sqrt(T)/4 = 22.4
    slack = {c: evaluate_slack(FP.THM2, cond(FP.THM2, c), vals) for c in ("tau_le", "b1_eq91")}
    assert slack["tau_le"] < 0 and slack["b1_eq91"] < 0  # tau = 30 > 22.4
    # (91) is itself only sufficient for (83): 1 - 0.01 - 2 * 30 * 29 * 1e-4 = 0.816
    assert evaluate_slack(FP.THM2, cond(FP.THM2, "b1_eq83"), vals) == pytest.approx(0.816)
    vals = {**vals, "tau": 20.0}
    assert evaluate_slack(FP.THM2, cond(FP.THM2, "tau_le"), vals) < 0
    assert evaluate_slack(FP.THM2, cond(FP.THM2, "b1_eq91"), vals) > 0
    assert evaluate_slack(FP.THM2, cond(FP.THM2, "b1_eq83"), vals) > 0


def test_lemmas_6_to_9_recombine_into_82_84_with_the_factor_4():
    pp = (n - r) / (r * (n - 1))
    g = sp.Symbol("G_sum", nonnegative=True)  # sum_t sum_i E||grad f(x_{k,t}^(i))||^2
    lemma7 = (
        -eta * (1 / (2 * n) - L * eta / (2 * n) - L**2 * tau * (tau - 1) * eta**2 / n) * g
        + eta**2 * L / 2 * sigma**2 / n * tau
        + eta**3 * sigma**2 / n * (n + 1) * tau * (tau - 1) / 2 * L**2
    )
    lemma8 = q * sigma**2 / n * tau * eta**2 + q / n**2 * tau * eta**2 * g
    lemma9 = (
        1
        / (r * (n - 1))
        * (1 - r / n)
        * 4
        * (1 + q)
        * (n * sigma**2 * tau * eta**2 + tau * eta**2 * g)
    )
    combined = lemma7 + L / 2 * lemma8 + L / 2 * lemma9  # Lemma 6
    eq82 = (
        -eta
        / (2 * n)
        * (
            1
            - L * (1 + q * tau / n + 4 * pp * (1 + q) * tau) * eta
            - 2 * L**2 * tau * (tau - 1) * eta**2
        )
        * g
        + eta**2 * L / 2 * (1 + q) * tau * (sigma**2 / n + 4 * sigma**2 / r * (n - r) / (n - 1))
        + eta**3 * sigma**2 / n * (n + 1) * tau * (tau - 1) / 2 * L**2
    )
    assert sp.simplify(combined - eq82) == 0
    # (83) is exactly "the bracket of (82) is >= 0"
    bracket = sp.simplify(-eq82.coeff(g) * 2 * n / eta)
    assert sp.simplify(bracket - cond(FP.THM2, "b1_eq83").lhs) == 0


def test_finding_N1_drops_the_factor_4_of_86():
    K = T / tau
    eta_T = 1 / (L * sp.sqrt(T))
    eq86 = (
        2 * F0 / (eta * K * tau)
        + eta * L * (1 + q) * (sigma**2 / n + 4 * sigma**2 / r * (n - r) / (n - 1))
        + eta**2 * sigma**2 / n * (n + 1) * (tau - 1) * L**2
    ).subs(eta, eta_T)
    stated = FP.THM2.expand(FP.THM2.bound)
    gap = 3 * (1 + q) * sigma**2 * (n - r) / (r * (n - 1)) / sp.sqrt(T)
    assert sp.simplify(eq86 - stated - gap) == 0
    proof_bound = (2 * L * F0 + FP.N1_PROOF) / sp.sqrt(T) + FP.N2_DEF * (tau - 1) / T
    assert sp.simplify(proof_bound - eq86) == 0
    assert FP.THM2.extra["N1_proof"] == FP.N1_PROOF
    # the stated bound is strictly below the proof's whenever r < n and sigma > 0; equal at r = n
    vals = {q: 0.5, n: 10, r: 5, sigma: 1, T: 100}
    assert float(gap.subs(vals)) == pytest.approx(3 * 1.5 * 5 / 45 / 10)
    assert gap.subs(r, n) == 0


# --- order claims (Remarks 1-4) ---------------------------------------------------------------------


def _explicit(thm):
    return registry.get(thm.order.explicit)


def test_remark1_rate_matches_theorem1_at_k_equals_T_over_tau():
    claim = FP.REMARK1.order
    b = FP.THM1.bound.subs(claim.scalings)
    ratio = sp.limit(b / claim.rate, T, sp.oo)
    assert sp.simplify(ratio - (C1 * tau + C2 * (tau - 1) ** 2) / (tau + (tau - 1) ** 2)) == 0


def test_remark1_tau_little_o_sqrt_T_converges_but_tau_sqrt_T_does_not():
    b = FP.THM1.bound.subs(k, T / tau)
    assert sp.limit(b.subs(tau, T ** sp.Rational(2, 5)), T, sp.oo) == 0
    assert sp.simplify(sp.limit(b.subs(tau, sp.sqrt(T)), T, sp.oo) - C2) == 0


def test_remark2_and_remark4_rates():
    b2 = FP.THM1.bound.subs(FP.REMARK2.order.scalings)
    assert sp.limit(T * b2, T, sp.oo) == C1
    assert FP.THM1.expand(C1).subs(SGD) == 16 * sigma**2 / (mu**2 * n)
    b4 = FP.THM2.expand(FP.THM2.bound).subs(FP.REMARK4.order.scalings)
    assert sp.simplify(sp.limit(sp.sqrt(T) * b4, T, sp.oo) - (2 * L * F0 + sigma**2 / n)) == 0


def test_remark3_rates_with_fixed_tau_and_with_tau_of_order_sqrt_T():
    b = FP.THM2.bound
    ratio = sp.limit(b / FP.REMARK3.order.rate, T, sp.oo)
    assert sp.simplify(ratio - (2 * L * F0 + FP.N1)) == 0
    claim = FP.REMARK3_TAU_SQRT_T.order
    b_sqrt = FP.THM2.expand(b).subs(claim.scalings)
    at = {q: sp.Rational(1, 2), n: 10, r: 5, L: 2, F0: 1, sigma: 1}
    lim = sp.limit(sp.sqrt(T) * b_sqrt.subs(at), T, sp.oo)
    assert lim.is_finite and float(lim) > 0
    # tau ~ sqrt(T) keeps K = T/tau = O(sqrt(T)) rounds
    rounds = sp.limit(T / claim.scalings[tau].subs(at) / sp.sqrt(T), T, sp.oo)
    assert rounds.is_finite and float(rounds) > 0


# --- dimensions and units -----------------------------------------------------------------------


def test_finding_thm1_dimension_mismatch_is_exactly_the_C2_term_and_13():
    res = check_expr(FP.THM1.bound, DIMS)
    assert not res.ok and res.dim is None
    (issue,) = res.issues
    assert any("C2" in part for part, _ in issue.parts)
    without_c2 = FP.THM1.bound - C2 * (tau - 1) ** 2 / (k * tau + 1)
    clean = check_expr(without_c2, DIMS)
    assert clean.ok and clean.dim == X**2 == FP.THM1.lhs.dim
    assert check_expr(FP.C2_DEF, DIMS).dim == GRAD2
    r13 = check_expr(cond(FP.THM1, "k0").rhs, DIMS)
    assert not r13.ok and "Max" in r13.issues[0].message
    assert check_expr(FP.B1_DEF, DIMS).dim == S.info("B1").dim


def test_thm2_is_dimensionally_consistent():
    res = check_expr(FP.THM2.bound, DIMS)
    assert res.ok and res.dim == GRAD2 == FP.THM2.lhs.dim
    for c in FP.THM2.conditions:
        assert check_expr(c.relation, DIMS).ok, c.id


@SETTINGS
@given(a=st.floats(0.1, 10.0), tauv=st.integers(1, 20))
def test_units_thm2_is_scale_covariant_thm1_is_not(a, tauv):
    """Rescale x -> a x: L, mu -> /a^2, sigma -> /a, distances^2 -> a^2, gradients^2 -> /a^2."""
    v2 = thm2_values(2.0, 0.5, 10, 5, tauv, 10**6)
    s2 = {**v2, "L": 2.0 / a**2, "sigma": 1.0 / a, "eta": v2["eta"] * a**2}
    assert evaluate_bound(FP.THM2, s2) == pytest.approx(evaluate_bound(FP.THM2, v2) / a**2)
    assume(abs(a - 1) > 0.05 and tauv > 1)
    v1 = thm1_values(2.0, 1.0, 0.5, 10, 5, tauv, 1.0, 10**6, k0v=10**4)
    s1 = {**v1, "L": 2.0 / a**2, "mu": 1.0 / a**2, "sigma": 1.0 / a, "D_k0": a**2}
    s1["eta"] = v1["eta"] * a**2
    scaled, plain = evaluate_bound(FP.THM1, s1) / a**2, evaluate_bound(FP.THM1, v1)
    assert scaled != pytest.approx(plain, rel=1e-6)


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "word"),
    [
        ((2.0, 1.0, 0.5, 1, 1, 4), "n=1"),
        ((2.0, 1.0, 0.5, 4, 5, 4), "r=5"),
        ((2.0, -1.0, 0.5, 4, 2, 4), "mu=-1.0"),
        ((2.0, 1.0, -0.1, 4, 2, 4), "q=-0.1"),
        ((2.0, 1.0, 0.5, 4, 2, 1.5), "tau=1.5"),
    ],
)
def test_k0_smallest_refuses_bad_values(args, word):
    with pytest.raises(ParameterError, match=word.replace(".", r"\.")):
        FP.k0_smallest(*args)


def test_validate_refuses_values_outside_the_fedpaq_domains():
    with pytest.raises(ParameterError, match=r"q=-0\.5.*>= 0"):
        validate(FP.THM2, {**FP.THM2.example, "q": -0.5})
    with pytest.raises(ParameterError, match=r"r=2\.5.*integer"):
        validate(FP.THM2, {**FP.THM2.example, "r": 2.5})


def test_condition_kinds_are_as_published():
    kinds = {c.id: c.kind for c in FP.THM1.conditions}
    assert kinds["k0"] is kinds["k0_smallest"] is kinds["k_ge_k0"] is ConditionKind.STATED
    assert kinds["stepsize"] is ConditionKind.STEPSIZE
    assert kinds["a6_eta_le_mu_over_L2"] is ConditionKind.PROOF
    kinds2 = {c.id: c.kind for c in FP.THM2.conditions}
    assert kinds2["tau_le"] is kinds2["T_ge_2"] is ConditionKind.STATED
    assert kinds2["b1_eq83"] is kinds2["b1_eq91"] is ConditionKind.PROOF
