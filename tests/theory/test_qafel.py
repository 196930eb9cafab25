"""Tests of the QAFeL encoding (boundcheck/theory/qafel.py): values, algebra, limits, findings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from boundcheck.dims import GRAD2, check_expr, check_relation
from boundcheck.errors import ParameterError
from boundcheck.theory import qafel as Q
from boundcheck.theory import registry
from boundcheck.theory import symbols as S
from boundcheck.theory.core import ConditionKind, Direction
from boundcheck.theory.evaluate import check_conditions, evaluate_bound, evaluate_slack, validate

EXPLICIT = [th for th in Q.THEOREMS if th.bound is not None]
ORDER = [th for th in Q.THEOREMS if th.direction is Direction.ORDER]
GRAD_BOUNDS = [Q.THM_F1, Q.THM_F4_UNBIASED, Q.THM_F4_BIASED, Q.COR_F2]

# --- strategies -----------------------------------------------------------------------------------
unit = st.floats(0.01, 1.0)
pos = st.floats(0.1, 10.0)
counts = st.integers(1, 50)


@st.composite
def points(draw, tau_min: int = 1) -> dict:
    """A parameter point of the gradient-norm bounds (conditions not enforced)."""
    return {
        "F0": draw(pos),
        "G": draw(st.floats(0.0, 10.0)),
        "K": draw(counts),
        "L": draw(pos),
        "P": draw(st.integers(1, 20)),
        "T": draw(st.integers(1, 3000)),
        "delta_c": draw(unit),
        "delta_s": draw(unit),
        "eta_g": draw(pos),
        "eta_l": draw(st.floats(1e-4, 1.0)),
        "sigma_l": draw(st.floats(0.0, 10.0)),
        "tau_max": draw(st.integers(tau_min, 40)),
    }


def _num(expr: sp.Expr, names: tuple[str, ...]):
    return sp.lambdify([S.info(n).symbol for n in names], expr.doit(), "numpy")


PHI_U = _num(Q.PHI_UNBIASED, ("T", "delta_s"))
PHI_B = _num(Q.PHI_BIASED, ("T", "delta_s"))
PHI_60 = _num(Q.PHI_BIASED_EQ60, ("T", "delta_s"))


def _phi_b_loop(T: int, ds: float) -> float:
    """Eq. (14), biased case, by direct summation in floats."""
    return 2 / ds * sum((1 - ds / 2) ** (s - 1) for s in range(T))


def _slack(thm, cond_id: str, values: dict) -> float:
    cond = next(c for c in thm.conditions if c.id == cond_id)
    needed = {s.name for s in thm.expand(cond.slack).free_symbols} - {"t"}
    return float(evaluate_slack(thm, cond, {k: values[k] for k in needed}))


# --- registry, examples, validation ---------------------------------------------------------------
def test_registry_lists_every_qafel_theorem_once():
    ids = [th.id for th in Q.THEOREMS]
    assert len(ids) == len(set(ids)) == 15
    assert "qafel" in registry.PAPER_MODULES  # the registry imports Q.THEOREMS
    assert all(i.startswith("qafel.") and i == i.lower() for i in ids)
    assert all(th.paper == "QAFeL" and th.source.startswith("QAFeL") for th in Q.THEOREMS)
    lemmas = {Q.STALENESS_K, Q.LEMMA_F5, Q.LEMMA_F6, Q.LEMMA_F7, Q.LEMMA_F8, Q.LEMMA_F9}
    lemmas |= {Q.LEMMA_F11, Q.SERVER_STEP}
    assert all(th.lhs is Q.ERGODIC_GRAD_NORM for th in Q.THEOREMS if th not in lemmas)


@pytest.mark.parametrize("thm", Q.THEOREMS, ids=lambda th: th.id)
def test_example_covers_parameters_and_stated_conditions_hold(thm):
    assert sorted(thm.example) == thm.parameters()
    results = check_conditions(thm, thm.example)
    for r in results:
        if r.condition.kind is ConditionKind.STATED:
            assert r.holds, (r.condition.id, r.lhs, r.rhs)
    if thm.bound is not None:
        value = evaluate_bound(thm, thm.example)
        assert math.isfinite(value) and value > 0


def test_examples_also_satisfy_every_simplified_and_proof_condition():
    for thm in EXPLICIT:
        assert all(r.holds for r in check_conditions(thm, thm.example)), thm.id


def test_bad_parameter_is_refused_with_name_and_range():
    values = {**Q.EXAMPLE_F1, "delta_c": 1.5}
    with pytest.raises(ParameterError, match=r"delta_c=1\.5.*\(0, 1\]"):
        validate(Q.THM_F1, values)
    with pytest.raises(ParameterError, match="tau_max_1"):
        validate(Q.STALENESS_K, {"K": 2, "tau_max_1": 2.5})
    with pytest.raises(ValueError, match=r"qafel\.cor_f3"):
        Q.fedbuff_bound(Q.COR_F3)


# --- hand-checked values --------------------------------------------------------------------------
def test_theorem_f1_by_hand_at_example():
    L, K, P, T, F0 = 1.0, 10, 5, 1000, 1.0
    eta_l, eta_g, dc, ds, sig, G, tau = 0.01, 1.0, 0.5, 0.5, 1.0, 1.0, 3
    alpha, beta = P * eta_l, P * eta_l**2  # 0.05, 5e-4
    geo = 0.0
    for s in range(1, T):
        geo += (1 - ds) ** s
    first = 2 * F0 / (eta_g * T * alpha)  # 0.04
    second = (
        3 * L**2 * beta * (eta_g**2 * tau**2 * ((1 - dc) / (K * tau) + 1) + 1) * (sig**2 + P * G)
    )
    third = (
        (L * eta_g / alpha + 3 * L**2 * eta_g**2 * geo) * ((2 - dc) / K) * beta * (sig**2 + 4 * G)
    )
    assert first == pytest.approx(0.04)
    assert second == pytest.approx(0.09135)
    assert third == pytest.approx(0.008625)
    assert evaluate_bound(Q.THM_F1, Q.EXAMPLE_F1) == pytest.approx(
        first + second + third, rel=1e-12
    )
    assert evaluate_bound(Q.THM_F1, Q.EXAMPLE_F1) == pytest.approx(0.139975, rel=1e-12)


def test_corollary_f2_and_biased_f4_by_hand_at_example():
    K, P, T, eta_l, dc, ds = 10, 5, 1000, 0.003, 0.5, 0.5
    alpha, beta = P * eta_l, P * eta_l**2
    first = 2 / (T * alpha)
    second = 3 * beta * (9 * (0.5 / 30 + 1) + 1) * 6
    quant = (2 - dc) / K * beta * 5
    phi = _phi_b_loop(T, ds)
    f2 = first + second + (1 / alpha + 12 / ds**2) * quant
    f4b = first + second + (1 / alpha + 3 * phi) * quant
    assert evaluate_bound(Q.COR_F2, Q.EXAMPLE_F2) == pytest.approx(f2, rel=1e-12)
    assert evaluate_bound(Q.THM_F4_BIASED, Q.EXAMPLE_F2) == pytest.approx(f4b, rel=1e-12)
    # the finding: at this documented point the "corollary" is below the theorem it relaxes
    assert f4b > f2


def test_staleness_bound_by_hand():
    assert evaluate_bound(Q.STALENESS_K, {"K": 10, "tau_max_1": 25}) == 3
    assert evaluate_bound(Q.STALENESS_K, {"K": 5, "tau_max_1": 25}) == 5
    assert evaluate_bound(Q.STALENESS_K, {"K": 4, "tau_max_1": 0}) == 0


# --- dimensions -----------------------------------------------------------------------------------
def test_bounds_and_stated_conditions_are_dimensionally_consistent():
    dims = S.dimensions()
    for thm in GRAD_BOUNDS:
        res = check_expr(thm.expand(thm.bound), dims)
        assert res.ok and res.dim == GRAD2, (thm.id, [str(i) for i in res.issues])
    for cond in (Q.COND_8, Q.COND_11):
        res = check_relation(Q.THM_F1.expand(cond.lhs), cond.rhs, dims, cond.id)
        assert res.ok


def test_simplified_conditions_are_dimensionally_inconsistent():
    """A finding: eta_g <= 1/L and eta_l <= (number) mix [X]^2/[F] with pure numbers."""
    dims = S.dimensions()
    for cond in (Q.COND_8_ETA_G, Q.COND_8_ETA_L_K, Q.COND_8_ETA_L_S, Q.COND_11_ETA_L_S):
        res = check_relation(cond.lhs, cond.rhs, dims, cond.id)
        assert not res.ok
        assert "different dimensions" in res.issues[0].message


# --- phi(T), eq. (14) -----------------------------------------------------------------------------
@given(T=st.integers(1, 5000), ds=unit)
def test_unbiased_phi_is_at_most_one_over_delta_s(T, ds):
    phi = PHI_U(T, ds)
    assert 0 <= phi <= (1 - ds) / ds * (1 + 1e-12) + 1e-15
    assert phi < 1 / ds


def test_biased_phi_counterexample_exact():
    """Eq. (14) claims phi_biased(T) <= 4/delta_s^2; at T = 2, delta_s = 1 it is 6."""
    phi = Q.PHI_BIASED.subs({Q.T: 2, Q.delta_s: 1}).doit()
    assert phi == 6
    assert _phi_b_loop(2, 1.0) == 6.0
    r = 1 - Q.delta_s / 2
    closed = 4 * (1 - r**Q.T) / (Q.delta_s**2 * r)
    assert sp.simplify(Q.PHI_BIASED.doit() - closed) == 0
    # 0 < r < 1, so r^T -> 0 and phi -> 4/(delta_s^2 r) = 8/(delta_s^2 (2 - delta_s))
    assert sp.simplify(closed.subs(r**Q.T, 0) - 8 / (Q.delta_s**2 * (2 - Q.delta_s))) == 0
    assert PHI_B(10**6, 0.5) == pytest.approx(8 / (0.25 * 1.5), rel=1e-12)


@given(T=st.integers(1, 3000), ds=unit)
def test_biased_phi_exceeds_its_claimed_bound_exactly_when_predicted(T, ds):
    r = 1 - ds / 2
    margin = r**T - ds / 2
    assume(abs(margin) > 1e-9)
    phi = PHI_B(T, ds)
    if T <= 200:  # the closed form agrees with direct summation
        assert phi == pytest.approx(_phi_b_loop(T, ds), rel=1e-9)
    assert (phi <= 4 / ds**2) == (margin > 0)


@given(ds=unit)
def test_biased_phi_claim_fails_for_every_delta_s_at_large_T(ds):
    T = math.ceil(math.log(ds / 2) / math.log(1 - ds / 2)) + 1
    assert PHI_B(T, ds) > 4 / ds**2


@given(T=st.integers(1, 5000), ds=unit)
def test_eq60_reading_of_biased_phi_satisfies_the_claimed_bound(T, ds):
    assert PHI_60(T, ds) <= 4 / ds**2 * (1 + 1e-12)


# --- conditions -----------------------------------------------------------------------------------
def test_simplified_condition_8_implies_8_symbolically():
    """LHS of (8) grows in eta_g and eta_l; at the corner eta_g = 1/L it is bounded by 2 * 1/2."""
    eta_a = Q.K / (2 * Q.P * (Q.K + 1 - Q.delta_c))
    eta_b = Q.delta_s / (3 * Q.P)
    lhs = Q.THM_F1.expand(Q.COND_8.lhs).subs(Q.eta_g, 1 / Q.L)
    # split lhs = (3 P eta_l/delta_s + 1) * (1 + (1-delta_c)/K) P eta_l
    f1 = 3 * Q.P * Q.eta_l / Q.delta_s + 1
    f2 = (1 + (1 - Q.delta_c) / Q.K) * Q.P * Q.eta_l
    assert sp.simplify(lhs - f1 * f2) == 0
    assert sp.simplify(f1.subs(Q.eta_l, eta_b)) == 2
    assert sp.simplify(f2.subs(Q.eta_l, eta_a)) == sp.Rational(1, 2)
    # (11): 12 P eta_l / delta_s^2 + 1 = 2 at eta_l = delta_s^2 / (12 P)
    lhs11 = Q.THM_F1.expand(Q.COND_11.lhs).subs(Q.eta_g, 1 / Q.L)
    f1_11 = 12 * Q.P * Q.eta_l / Q.delta_s**2 + 1
    assert sp.simplify(lhs11 - f1_11 * f2) == 0
    assert sp.simplify(f1_11.subs(Q.eta_l, Q.delta_s**2 / (12 * Q.P))) == 2


@given(pt=points(), u=st.floats(0.0, 1.0), v=st.floats(1e-6, 1.0), biased=st.booleans())
def test_simplified_conditions_imply_stated_conditions(pt, u, v, biased):
    K, P, dc, ds = pt["K"], pt["P"], pt["delta_c"], pt["delta_s"]
    cap = ds**2 / (12 * P) if biased else ds / (3 * P)
    pt = {**pt, "eta_g": (u or 1e-9) / pt["L"], "eta_l": v * min(K / (2 * P * (K + 1 - dc)), cap)}
    thm, cid = (Q.COR_F2, "qafel.cond11") if biased else (Q.THM_F1, "qafel.cond8")
    simplified = [c for c in thm.conditions if c.kind is ConditionKind.SIMPLIFIED]
    assert all(_slack(thm, c.id, pt) >= -1e-12 for c in simplified)
    assert _slack(thm, cid, pt) >= -1e-12


@given(pt=points())
def test_condition_8_implies_condition_25_for_unbiased_server_quantizer(pt):
    lhs8 = 1 - _slack(Q.THM_F1, "qafel.cond8", pt)
    lhs25 = 1 - _slack(Q.THM_F1, "qafel.cond25_unbiased", pt)
    assert lhs25 <= lhs8 * (1 + 1e-12)


def _tight_eta_l(thm, cond_id: str, pt: dict) -> float:
    """eta_l at which the condition holds with equality (its LHS increases in eta_l)."""
    lo, hi = 0.0, 1.0
    while _slack(thm, cond_id, {**pt, "eta_l": hi}) > 0:
        hi *= 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _slack(thm, cond_id, {**pt, "eta_l": mid}) >= 0 else (lo, mid)
    return lo


@given(pt=points())
@settings(max_examples=30, deadline=None)
def test_condition_8_does_not_imply_25_for_biased_server_quantizer(pt):
    """Finding: Theorem F.4 (biased) is stated under (8), its proof needs (25) with phi_biased."""
    pt = {**pt, "eta_l": _tight_eta_l(Q.THM_F4_BIASED, "qafel.cond8", pt)}
    assert _slack(Q.THM_F4_BIASED, "qafel.cond8", pt) >= 0
    assert _slack(Q.THM_F4_BIASED, "qafel.cond25", pt) < 0


def test_condition_11_does_not_imply_25_at_large_T_but_does_at_T_1():
    pt = {**Q.EXAMPLE_F2, "T": 1000}
    pt["eta_l"] = _tight_eta_l(Q.COR_F2, "qafel.cond11", pt)
    assert _slack(Q.COR_F2, "qafel.cond11", pt) >= 0
    assert _slack(Q.COR_F2, "qafel.cond25", pt) < 0
    pt1 = {**pt, "T": 1}
    pt1["eta_l"] = _tight_eta_l(Q.COR_F2, "qafel.cond11", pt1)
    assert _slack(Q.COR_F2, "qafel.cond25", pt1) >= 0


def test_condition_25_is_24_times_alpha_P():
    phi = Q.phi_T
    c24 = (3 * Q.L**2 * Q.eta_g**2 * phi + Q.L * Q.eta_g / Q.alpha_P) * (
        1 + (1 - Q.delta_c) / Q.K
    ) * Q.P * Q.eta_l - 1 / Q.alpha_P
    c25 = Q.COND_25_PHI.lhs - 1
    assert sp.simplify(c25 - Q.alpha_P * c24) == 0


# --- relations between the bounds -----------------------------------------------------------------
def test_theorem_f1_equals_f4_with_unbiased_phi():
    diff = Q.THM_F1.expand(Q.THM_F1.bound) - Q.THM_F4_UNBIASED.expand(Q.THM_F4_UNBIASED.bound)
    assert sp.simplify(diff) == 0


def test_corollary_f2_differs_from_biased_f4_only_in_phi():
    diff = Q.COR_F2.expand(Q.COR_F2.bound) - Q.THM_F4_BIASED.expand(Q.THM_F4_BIASED.bound)
    rest = (12 / Q.delta_s**2 - 3 * Q.PHI_BIASED) * Q.L**2 * Q.eta_g**2
    rest *= (2 - Q.delta_c) / Q.K * Q.P * Q.eta_l**2 * (Q.sigma_l**2 + 4 * Q.G)
    assert sp.expand(diff - rest) == 0


@given(pt=points())
def test_corollary_f2_dominates_biased_f4_iff_phi_within_claimed_bound(pt):
    T, ds = pt["T"], pt["delta_s"]
    gap = 4 / ds**2 - PHI_B(T, ds)
    assume(abs(gap) > 1e-6 / ds**2)
    f2, f4 = evaluate_bound(Q.COR_F2, pt), evaluate_bound(Q.THM_F4_BIASED, pt)
    assume(abs(f2 - f4) > 1e-12 * max(f2, f4))
    assert (f2 >= f4) == (gap > 0)


def test_fedbuff_specialisation_matches_hand_formula():
    F0, L, K, P, T = Q.F0, Q.L, Q.K, Q.P, Q.T
    eg, el, sig, G, tau = Q.eta_g, Q.eta_l, Q.sigma_l, Q.G, Q.tau_max
    hand = (
        2 * F0 / (eg * T * P * el)
        + 3 * L**2 * P * el**2 * (eg**2 * tau**2 + 1) * (sig**2 + P * G)
        + L * eg / (P * el) * (1 / K) * P * el**2 * (sig**2 + 4 * G)
    )
    assert sp.simplify(Q.fedbuff_bound(Q.THM_F1) - hand) == 0
    assert sp.simplify(Q.fedbuff_bound(Q.THM_F4_UNBIASED) - hand) == 0


@given(pt=points())
def test_bound_tends_to_fedbuff_bound_as_deltas_tend_to_one(pt):
    fed = evaluate_bound(Q.THM_F1, {**pt, "delta_c": 1.0, "delta_s": 1.0})
    errs = []
    for eps in (1e-3, 1e-6):
        b = evaluate_bound(Q.THM_F1, {**pt, "delta_c": 1 - eps, "delta_s": 1 - eps})
        assert b >= fed * (1 - 1e-12)
        errs.append(abs(b - fed) / fed)
    assert errs[1] <= 1e-2
    assert errs[1] <= errs[0] * 1e-2 + 1e-13  # the gap shrinks linearly with eps


def test_staleness_term_as_printed_is_undefined_at_tau_zero():
    assert Q.TERM_STALE.subs(Q.tau_max, 0) is sp.nan
    assert sp.limit(Q.TERM_STALE, Q.tau_max, 0) == 3 * Q.L**2 * Q.beta_P * (
        Q.sigma_l**2 + Q.P * Q.G
    )


# --- monotonicity ---------------------------------------------------------------------------------
@pytest.mark.parametrize("thm", GRAD_BOUNDS, ids=lambda th: th.id)
@given(pt=points(), a=st.floats(0.0, 5.0), b=st.floats(0.0, 5.0), k=st.integers(1, 10))
@settings(max_examples=40)
def test_bound_increases_in_sigma_l_G_and_tau_max(thm, pt, a, b, k):
    assume(abs(a - b) > 1e-3)
    lo, hi = min(a, b), max(a, b)
    pt = {**pt, "sigma_l": max(pt["sigma_l"], 0.1)}  # with no noise and G = 0, tau_max drops out
    for name, low, high in (("sigma_l", lo, hi), ("G", lo, hi), ("tau_max", k, k + 3)):
        b_lo = evaluate_bound(thm, {**pt, name: low})
        b_hi = evaluate_bound(thm, {**pt, name: high})
        assert b_hi > b_lo, name


@pytest.mark.parametrize("thm", GRAD_BOUNDS, ids=lambda th: th.id)
@given(pt=points(), a=unit, b=unit)
@settings(max_examples=40)
def test_bound_decreases_in_delta_c_and_delta_s(thm, pt, a, b):
    assume(abs(a - b) > 1e-2)
    lo, hi = min(a, b), max(a, b)
    pt = {**pt, "sigma_l": max(pt["sigma_l"], 0.1)}  # strictness needs some noise
    for name in ("delta_c", "delta_s"):
        b_lo = evaluate_bound(thm, {**pt, name: lo})
        b_hi = evaluate_bound(thm, {**pt, name: hi})
        assert b_hi <= b_lo * (1 + 1e-12), name
    assert evaluate_bound(thm, {**pt, "delta_c": hi}) < evaluate_bound(thm, {**pt, "delta_c": lo})


# --- order claims ---------------------------------------------------------------------------------
def _scaled_explicit(thm_order) -> sp.Expr:
    explicit = next(th for th in Q.THEOREMS if th.id == thm_order.order.explicit)
    expr = explicit.expand(explicit.bound).doit()
    return expr.subs(thm_order.order.scalings)


_COR_F3_EXPR = _scaled_explicit(Q.COR_F3)
_COR_F3_NAMES = tuple(sorted(s.name for s in _COR_F3_EXPR.free_symbols))
_COR_F3_SCALED = _num(_COR_F3_EXPR, _COR_F3_NAMES)
_COR_F3_RATE = sp.lambdify([S.info(n).symbol for n in _COR_F3_NAMES], Q.COR_F3.order.rate, "numpy")


@given(
    F0=pos,
    G=pos,
    K=counts,
    L=pos,
    P=counts,
    T=st.integers(1, 10**8),
    dc=unit,
    ds=unit,
    sig=pos,
    tau1=st.integers(0, 100),
)
def test_corollary_f3_scaled_bound_is_at_most_three_times_the_rate(
    F0, G, K, L, P, T, dc, ds, sig, tau1
):
    vals = {
        "F0": F0,
        "G": G,
        "K": K,
        "L": L,
        "P": P,
        "T": T,
        "delta_c": dc,
        "delta_s": ds,
        "sigma_l": sig,
        "tau_max_1": tau1,
    }
    assume(tau1 > 0)  # the printed staleness term is undefined at tau_max,K = 0
    args = [vals[n] for n in _COR_F3_NAMES]
    assert _COR_F3_SCALED(*args) <= 3 * _COR_F3_RATE(*args) * (1 + 1e-12)


_POINT = {
    Q.F0: 2,
    Q.G: 3,
    Q.K: 4,
    Q.L: 5,
    Q.P: 3,
    Q.delta_c: sp.Rational(1, 2),
    Q.delta_s: sp.Rational(1, 4),
    Q.sigma_l: 2,
    Q.tau_max_1: 7,
}


@pytest.mark.parametrize("thm", ORDER, ids=lambda th: th.id)
def test_order_claim_matches_explicit_bound_as_T_grows(thm):
    scaled = _scaled_explicit(thm).subs(_POINT)
    rate = thm.order.rate.subs(thm.order.scalings).subs(_POINT)
    ratio = sp.limit(scaled / rate, Q.T, sp.oo)
    assert ratio.is_finite and ratio > 0
    # Condition (8) holds for all large T under the scalings ("for a sufficiently large T")
    cond = thm.expand(Q.COND_8.lhs).subs(thm.order.scalings).subs(_POINT)
    assert sp.limit(cond, Q.T, sp.oo) == 0


def test_order_examples_follow_the_scalings():
    ex = Q.EXAMPLE_ORDER
    assert ex["eta_g"] == ex["K"]
    assert ex["eta_l"] == pytest.approx(1 / (ex["K"] * math.sqrt(10_000 * ex["P"])))


def test_proposition_7_does_not_reduce_to_6_at_exact_quantizers():
    """(7)'s server term O((2-delta_c)(sigma^2+G)/(delta_s T K)) stays at delta = 1."""
    r6 = Q.PROP_3_5_FEDBUFF.order.rate
    r7 = Q.PROP_3_5_QAFEL.order.rate.subs(Q.FEDBUFF)
    extra = sp.simplify(r7 - r6)
    assert sp.simplify(extra - (Q.sigma_l**2 + Q.G) / (Q.T * Q.K)) == 0
    # whereas the explicit bound's server term vanishes (exact sum, not its 1/delta_s bound)
    fed = Q.fedbuff_bound(Q.THM_F1)
    assert not fed.has(Q.delta_s)


def test_biased_server_term_is_not_of_the_order_claimed_in_7():
    """Corollary F.2's server term scales like 1/delta_s^2, (7) claims 1/delta_s."""
    f2 = (
        Q.COR_F2.expand(Q.COR_F2.bound)
        .subs(Q.SCALINGS)
        .subs({k: v for k, v in _POINT.items() if k is not Q.delta_s})
    )
    # the delta_s-dependent part of (12) is exactly its server term, of order 1/T
    coeff = sp.limit((f2 - f2.subs(Q.delta_s, 1)) * Q.T, Q.T, sp.oo)
    assert coeff.has(Q.delta_s)
    ratio = sp.limit(coeff * Q.delta_s, Q.delta_s, 0)  # bounded iff O(1/delta_s)
    assert ratio == sp.oo


# --- staleness ------------------------------------------------------------------------------------
def _max_staleness(jobs: list[tuple[float, float]], K: int) -> int | None:
    """Largest staleness (server versions) of an update applied by a buffer-K server."""
    arrivals = sorted(end for _, end in jobs)
    applied = K * (len(arrivals) // K)  # updates in a full buffer
    worst = None
    for start, end in jobs:
        i = arrivals.index(end)
        if i >= applied:
            continue
        seen = sum(1 for a in arrivals if a < start)  # arrivals before the client started
        stale = i // K - seen // K
        worst = stale if worst is None else max(worst, stale)
    return worst


@given(
    jobs=st.lists(
        st.tuples(st.integers(0, 10**6), st.integers(1, 10**6)),
        min_size=1,
        max_size=40,
        unique_by=lambda j: j[0] + j[1],
    ),
    K=st.integers(1, 8),
)
def test_staleness_with_buffer_K_is_at_most_ceil_tau1_over_K(jobs, K):
    jobs = [(float(s), float(s + d) + 0.5) for s, d in jobs]  # distinct arrivals, after starts
    tau1 = _max_staleness(jobs, 1)
    tauK = _max_staleness(jobs, K)
    assume(tauK is not None)
    assert tauK <= evaluate_bound(Q.STALENESS_K, {"K": K, "tau_max_1": tau1})


def test_staleness_bound_is_attained_and_needs_the_ceiling():
    # client X starts at 1.5 with one update already buffered (arrived at 1); three updates
    # arrive (2, 3, 4) while X trains, X arrives at 5: staleness 3 with K = 1, 2 with K = 2
    jobs = [(0.0, 1.0), (1.5, 5.0), (1.6, 2.0), (1.7, 3.0), (1.8, 4.0), (5.5, 6.0)]
    tau1 = _max_staleness(jobs, 1)
    assert tau1 == 3
    assert _max_staleness(jobs, 2) == math.ceil(tau1 / 2) == 2 > tau1 // 2


def test_numpy_broadcast_evaluation_of_bound():
    vals = {**Q.EXAMPLE_F1, "T": np.array([10, 100, 1000])}
    out = evaluate_bound(Q.THM_F1, vals)
    assert out.shape == (3,) and np.all(np.diff(out) < 0)


# --- Lemma F.9 ------------------------------------------------------------------------------------
def test_lemma_f9_hidden_state_bound_fails_with_zero_staleness():
    """Finding: (50) drops a cross term; exact counterexample to (48) at t = 2.

    One client, K = P = 1, staleness 0, no gradient noise, f = h/2 x^2 (x* = 0), Q_c = identity and
    the unbiased Q_s(u) = u/p with probability p, else 0, for which E|Q_s(u) - u|^2 = (1-p)/p u^2
    exactly, i.e. 1 - delta_s = (1-p)/p (1/2 < p <= 1). With a = eta_g eta_l h the iterates are
    x^{t+1} = x^t - a hat x^t (Algorithm 1 lines 11-12, client update -eta_l h hat x^t) and
    hat x^{t+1} = hat x^t + Q_s(x^{t+1} - hat x^t) (lines 13-14). Expectations are exact sums over
    the four outcomes of the two server quantizations.
    """
    p, a, x0 = sp.symbols("p a x0", positive=True)
    one_minus_ds = (1 - p) / p
    # E|x^2 - hat x^2|^2, E|eta_g bar Delta^0|^2, E|eta_g bar Delta^1|^2
    e2 = d0 = d1 = sp.Integer(0)
    for keep0, w0 in ((True, p), (False, 1 - p)):
        x1 = x0 - a * x0
        xh1 = x0 + ((x1 - x0) / p if keep0 else 0)
        for keep1, w1 in ((True, p), (False, 1 - p)):
            x2 = x1 - a * xh1
            xh2 = xh1 + ((x2 - xh1) / p if keep1 else 0)
            e2 += w0 * w1 * (x2 - xh2) ** 2
            d0 += w0 * w1 * (x1 - x0) ** 2
            d1 += w0 * w1 * (x2 - x1) ** 2
    # the quantizer meets Definition 2.1 with equality and is unbiased
    u = sp.Symbol("u", real=True)
    assert sp.simplify(p * (u / p) + (1 - p) * 0 - u) == 0
    assert sp.simplify(p * (u / p - u) ** 2 + (1 - p) * u**2 - one_minus_ds * u**2) == 0
    # right-hand side of (48) at t = 2: eta_g^2 sum_{s=0}^{1} (1 - delta_s)^(2-s) E|bar Delta^s|^2
    rhs48 = one_minus_ds**2 * d0 + one_minus_ds * d1
    excess = sp.simplify(e2 - rhs48)
    assert sp.simplify(excess - 2 * a**3 * one_minus_ds**2 * x0**2) == 0
    # strictly positive whenever the quantizer is inexact (p < 1): (48) fails
    val = excess.subs({p: sp.Rational(3, 4), a: sp.Rational(1, 2), x0: 1})
    assert val == sp.Rational(1, 36) and val > 0
    assert Q.NOTE_F9 in Q.THM_F1.notes and Q.NOTE_F9 in Q.THM_F4_UNBIASED.notes
