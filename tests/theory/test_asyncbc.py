"""AsyncBC (Gao, Takezawa, Stich): the encoded statements, their algebra, and the findings.

Every test asserts a true mathematical fact; where the paper's statement is wrong, the test asserts
the counterexample (and the theorem's notes say so).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.errors import ParameterError
from boundcheck.theory import asyncbc as A
from boundcheck.theory import registry
from boundcheck.theory import symbols as S
from boundcheck.theory.checks import dimension_findings, order_findings
from boundcheck.theory.core import ConditionKind, Direction
from boundcheck.theory.evaluate import (
    check_conditions,
    evaluate_bound,
    evaluate_slack,
    validate,
)

FAST = settings(max_examples=60, deadline=None)
BY_ID = {t.id: t for t in A.THEOREMS}

pos = st.floats(min_value=1e-3, max_value=1e3, allow_nan=False)
counts = st.integers(min_value=1, max_value=64)
horizons = st.integers(min_value=2, max_value=10**7)

_BASELINE_RATE = sp.lambdify(
    [A.L_max, S.F0, S.tau_C, S.tau_max, S.T, S.zeta], A.TABLE1_ASYNC_GD.order.rate
)
_THM1_RATE = sp.lambdify([A.delta_H, S.L, S.tau_C, S.tau_max, S.T, S.F0], A.THM1_ORDER.order.rate)
_TABLE_ROW_RATE = sp.lambdify(
    [A.L_max, S.L, S.tau_C, S.tau_max, S.T, S.F0], A.TABLE1_ASYNCBC_GD.order.rate
)


def cond(thm_id: str, cond_id: str):
    return next(c for c in BY_ID[thm_id].conditions if c.id == cond_id)


def eta1(dH: float, L: float, tC: float, tm: float, T: float) -> float:
    """Theorem 1's stated stepsize, in plain floats."""
    return min(1 / (6 * (dH + L) * math.sqrt(tC * tm)), 1 / (12 * math.sqrt(L * (dH + L) * tm * T)))


def eta2(ell: float, L: float, tC: float, tm: float, T: float) -> float:
    """Theorem 2's stated stepsize, in plain floats."""
    return min(
        1 / (ell * math.sqrt(6 * tC * tm)),
        1 / (10 * ell * math.sqrt(T)),
        1 / (2 * math.sqrt(2 * L * ell * tm * (T - 1))),
    )


# --- registry, examples, conditions ---------------------------------------------------------------


def test_ids_are_registered_and_unique():
    ids = [t.id for t in A.THEOREMS]
    assert len(ids) == len(set(ids))
    for needed in (
        "asyncbc.lemma1",
        "asyncbc.lemma5",
        "asyncbc.thm1",
        "asyncbc.thm1_order",
        "asyncbc.thm2",
        "asyncbc.thm2_order",
        "asyncbc.thm3",
    ):
        assert needed in ids
        assert registry.get(needed) is BY_ID[needed]


@pytest.mark.parametrize("thm", [t for t in A.THEOREMS if t.bound is not None], ids=lambda t: t.id)
def test_example_is_finite_and_every_condition_holds(thm):
    assert sorted(thm.example) == thm.parameters()
    validate(thm, thm.example)  # every example value lies in its symbol's domain
    value = evaluate_bound(thm, thm.example)
    # an identity (Lemma 2) is encoded as 'squared residual <= 0': its bound is exactly 0
    assert math.isfinite(value) and (value > 0 or (thm.bound == 0 and value == 0))
    results = check_conditions(thm, thm.example)
    assert len(results) == len(thm.conditions)
    assert all(r.holds for r in results), [r.condition.id for r in results if not r.holds]


@pytest.mark.parametrize(
    "thm", [t for t in A.THEOREMS if t.direction is Direction.ORDER], ids=lambda t: t.id
)
def test_order_claims_are_data_only_and_finite(thm):
    assert thm.bound is None and thm.order is not None and thm.order.variable is S.T
    point = {
        s: 2.0 for s in thm.order.rate.free_symbols if isinstance(s, sp.Symbol) and s is not S.T
    }
    val = float(thm.order.rate.subs(point).subs(S.T, 10**4))
    assert math.isfinite(val) and val > 0


def test_bad_parameter_values_are_refused_with_name_and_domain():
    thm = BY_ID["asyncbc.thm1"]
    for name, bad, allowed in (
        ("delta_H", -1.0, "> 0"),
        ("tau_C", 0.0, "integer >= 1"),
        ("tau_max", 1.5, "integer >= 0"),
    ):
        with pytest.raises(ParameterError, match=name) as err:
            validate(thm, {**thm.example, name: bad})
        assert allowed in str(err.value)
    with pytest.raises(ParameterError, match="t_idx"):
        validate(BY_ID["asyncbc.lemma1"], {**BY_ID["asyncbc.lemma1"].example, "t_idx": 2.5})
    with pytest.raises(ParameterError, match="ell"):
        validate(BY_ID["asyncbc.thm2"], {**BY_ID["asyncbc.thm2"].example, "ell": 0.0})


# --- hand-checked values --------------------------------------------------------------------------


def test_thm1_hand_value():
    L, dH, tC, tm, T, F0 = 1.0, 1.0, 4.0, 4.0, 10_000.0, 1.0
    hand = 12 * 2 * 4 * 1 / 10_000 + 24 * math.sqrt(8) * 1 / 100  # = 0.0096 + 0.678823
    assert hand == pytest.approx(0.68842251, rel=1e-8)
    vals = {"L": L, "delta_H": dH, "tau_C": tC, "tau_max": tm, "T": T, "F0": F0}
    assert evaluate_bound(BY_ID["asyncbc.thm1"], vals) == pytest.approx(hand, rel=1e-12)


def test_thm2_hand_value():
    vals = {"L": 1.0, "ell": 2.0, "tau_C": 4.0, "tau_max": 4.0, "T": 10_000.0, "F0": 1.0}
    hand = 2 * 2 * math.sqrt(96) / 10_000 + (40 + 4 * math.sqrt(16)) / 100  # 0.0039192 + 0.56
    assert evaluate_bound(BY_ID["asyncbc.thm2"], vals) == pytest.approx(hand, rel=1e-12)
    assert hand == pytest.approx(0.56391918, rel=1e-7)


def test_lemma_and_thm3_hand_values():
    l1 = {"eta": 0.01, "t_idx": 10, "delta_H": 3.0, "L": 2.0, "tau_max": 5, "sum_m2_past": 7.0}
    assert evaluate_bound(BY_ID["asyncbc.lemma1"], l1) == pytest.approx(
        2 * 1e-8 * 9 * 13 * 25 * 7.0, rel=1e-12
    )
    l5m = {"eta": 0.1, "tau_C": 3, "ell": 2.0, "sum_m2_active": 4.0}
    assert evaluate_bound(BY_ID["asyncbc.lemma5_m"], l5m) == pytest.approx(0.48, rel=1e-12)
    t3 = {"sigma": 0.3, "T": 11, "eta": 0.5, "tau_C": 1}
    assert evaluate_bound(BY_ID["asyncbc.thm3"], t3) == pytest.approx(0.09 * 5 / 25, rel=1e-12)
    # the exact variance sum of the proof, in plain floats
    hand = 0.09 * sum((1 - 0.5 ** (11 - s)) ** 2 for s in range(1, 11))
    assert evaluate_bound(BY_ID["asyncbc.thm3_var"], t3) == pytest.approx(hand, rel=1e-12)


# --- heterogeneity: the headline claim ------------------------------------------------------------


def test_asyncbc_bounds_do_not_depend_on_zeta_but_the_baseline_does():
    baselines = {"asyncbc.table1_async_gd", "asyncbc.table1_asgrad"}
    for thm in (t for t in A.THEOREMS if t.id not in baselines):
        exprs = [thm.expand(c.slack) for c in thm.conditions]
        exprs += [thm.expand(thm.bound)] if thm.bound is not None else list(thm.order.terms)
        for e in exprs:
            assert S.zeta not in e.free_symbols, thm.id
    base = BY_ID["asyncbc.table1_async_gd"].order.rate
    assert S.zeta in base.free_symbols
    assert S.zeta in BY_ID["asyncbc.table1_asgrad"].order.rate.free_symbols


EPS = 2.0**-52  # float64 machine epsilon


@FAST
@given(pos, pos, counts, counts, horizons, pos, pos)
def test_baseline_rate_increases_with_zeta(Lmax, F0, tC, tm, T, z, factor):
    rate = _BASELINE_RATE
    lo = rate(Lmax, F0, tC, tm, T, z)
    hi = rate(Lmax, F0, tC, tm, T, z * (1 + factor))
    assert hi > lo


@FAST
@given(pos, pos, pos, counts, st.floats(min_value=1e-3, max_value=1e3))
def test_section31_comparison_of_sqrtT_terms(L, Lmax, F0, tm, z):
    """AsyncBC's F0 sqrt(L L_max tau_max) <= Async-GD's sqrt(L_max F0 zeta^2) iff zeta^2 >= L F0 tau_max."""
    ours = F0 * math.sqrt(L * Lmax * tm)
    theirs = math.sqrt(Lmax * F0 * z**2)
    crit = z**2 - L * F0 * tm
    if abs(crit) > 1e-9 * (z**2 + L * F0 * tm):
        assert (ours <= theirs) == (crit >= 0)


# --- monotonicity in tau_C and tau_max ------------------------------------------------------------


@FAST
@given(pos, pos, counts, counts, horizons, pos, counts)
def test_thm1_thm2_bounds_monotone_in_concurrency_and_staleness(L, x, tC, tm, T, F0, k):
    for tid, name in (("asyncbc.thm1", "delta_H"), ("asyncbc.thm2", "ell")):
        v = {"L": L, name: x, "tau_C": tC, "tau_max": tm, "T": T, "F0": F0}
        b0 = evaluate_bound(BY_ID[tid], v)
        assert evaluate_bound(BY_ID[tid], {**v, "tau_C": tC + k}) > b0
        assert evaluate_bound(BY_ID[tid], {**v, "tau_max": tm + k}) > b0
    # the stated stepsizes shrink as concurrency or staleness grow
    assert eta1(x, L, tC + k, tm, T) <= eta1(x, L, tC, tm, T)
    assert eta2(x, L, tC, tm + k, T) <= eta2(x, L, tC, tm, T)


@FAST
@given(pos, pos, pos, counts, counts, st.integers(2, 10**6), pos, counts)
def test_lemma_bounds_monotone_in_tau(eta, dH, L, tC, tm, t, msq, k):
    v = {"eta": eta * 1e-3, "delta_H": dH, "L": L, "tau_max": tm, "t_idx": t, "sum_m2_past": msq}
    b = evaluate_bound(BY_ID["asyncbc.lemma1"], v)
    assert evaluate_bound(BY_ID["asyncbc.lemma1"], {**v, "tau_max": tm + k}) > b
    vm = {"eta": eta * 1e-3, "delta_H": dH, "L": L, "tau_C": tC, "sum_m2_active": msq}
    bm = evaluate_bound(BY_ID["asyncbc.lemma1_m"], vm)
    assert evaluate_bound(BY_ID["asyncbc.lemma1_m"], {**vm, "tau_C": tC + k}) > bm


def test_lemma5_is_lemma1_without_factor_2_when_ell_squared_is_delta2_plus_L2():
    l1 = BY_ID["asyncbc.lemma1"].bound
    l5 = BY_ID["asyncbc.lemma5"].bound.subs(A.ell, sp.sqrt(A.delta_H**2 + S.L**2))
    assert sp.simplify(l1 - 2 * l5) == 0
    m1 = BY_ID["asyncbc.lemma1_m"].bound
    m5 = BY_ID["asyncbc.lemma5_m"].bound.subs(A.ell, sp.sqrt(A.delta_H**2 + S.L**2))
    assert sp.simplify(m1 - 2 * m5) == 0


def _active_sets(received, initial, tau_C, union_first):
    """C_1..C_T of AsyncBC Section 3.1 for a run whose step t receives task ``received[t-1]``
    (a (worker, version) pair) and hands (t, t+1) to worker t (worker names do not matter here)."""
    C = {(k, 1) for k in initial} - {received[0]}  # C_1: initial workers other than j_1
    out = [C]
    for t in range(1, len(received)):
        add, drop = {(t, t + 1)}, {received[t]}
        C = (C | add) - drop if union_first else (C - drop) | add
        out.append(C)
    return out


def test_active_set_recursion_needs_the_union_first():
    """FINDING (typo): read left to right, C_{t+1} := C_t minus the received task, union the new
    one, keeps every staleness-0 task forever; Lemma 2 (m_t - m~_t = -sum_{C_t} g) needs the
    union first, under which a task sits in staleness-many sets (tau_i^{t-1} <= tau_max)."""
    assert any("C_{t+1}" in n and "asyncbc.active_sets" in n for n in A.LEMMA1.notes)
    # tau_C = 1 (SARAH, m_t = m~_t): step t receives the task handed out at step t-1, version t
    sarah = [(0, 1)] + [(t - 1, t) for t in range(2, 8)]
    assert not any(_active_sets(sarah, [0], 1, union_first=True))
    literal = _active_sets(sarah, [0], 1, union_first=False)
    assert len(literal[-1]) == 6  # every task handed out is still 'active'
    # tau_C = 2: initial workers 0 and 9; step 1 receives (0, 1); step 2 the task of version 2;
    # steps 3, 4 receive (9, 1) (staleness 2) and version 3 (staleness 1)
    recv = [(0, 1), (1, 2), (9, 1), (2, 3)]
    C = _active_sets(recv, [0, 9], 2, union_first=True)
    assert [sorted(c) for c in C] == [[(9, 1)], [(9, 1)], [(2, 3)], [(3, 4)]]
    for task, staleness in (((9, 1), 2), ((2, 3), 1), ((1, 2), 0)):
        assert sum(task in c for c in C) == staleness


def test_lemma1_proof_tau_c_typo():
    """(tau_C-1)/tau_C^2 <= 1/tau_C always; the printed (tau_C-1)^2/tau_C^2 <= 1/tau_C fails at 3."""
    tC = S.tau_C
    assert sp.simplify(1 / tC - (tC - 1) / tC**2) == 1 / tC**2  # > 0
    assert (3 - 1) ** 2 / 3**2 > 1 / 3
    assert all((c - 1) ** 2 / c**2 <= 1 / c for c in (1, 2))


# --- stated stepsizes versus the proofs' conditions -----------------------------------------------


@FAST
@given(pos, pos, counts, counts, horizons)
def test_thm2_stated_stepsize_meets_the_proof_conditions(ell, L, tC, tm, T):
    v = {"ell": ell, "L": L, "tau_C": tC, "tau_max": tm, "T": T, "eta": eta2(ell, L, tC, tm, T)}
    for cid in ("proof_eta_A", "proof_eta_B", "proof_eta_C"):
        # the stated eta is the min of the proof's bounds: equality up to relative rounding of eta
        slack = evaluate_slack(BY_ID["asyncbc.thm2"], cond("asyncbc.thm2", cid), v)
        assert slack >= -8 * EPS * v["eta"]
    # the intended 1/(4L) holds whenever L <= ell (Assumption 5 gives it by Jensen)
    if ell >= L:
        assert v["eta"] <= 1 / (4 * L)


@FAST
@given(pos, pos, counts, counts, horizons)
def test_thm1_stated_stepsize_meets_conditions_A_and_C(dH, L, tC, tm, T):
    v = {"delta_H": dH, "L": L, "tau_C": tC, "tau_max": tm, "T": T}
    v["eta"] = eta1(dH, L, tC, tm, T)
    for cid in ("proof_eta_A", "proof_eta_C"):
        slack = evaluate_slack(BY_ID["asyncbc.thm1"], cond("asyncbc.thm1", cid), v)
        assert slack >= -8 * EPS * v["eta"]
    assert v["eta"] <= 1 / (4 * L)  # the intended form of 'eta <= L/4'


@FAST
@given(pos, pos, counts, counts, horizons)
def test_thm1_stated_stepsize_meets_condition_B_exactly_when(dH, L, tC, tm, T):
    """FINDING: eta_stated <= 1/(10 delta sqrt T) iff 100 d^2 <= 144 L (d+L) tm or
    100 d^2 T <= 36 (d+L)^2 tC tm; 'by Fact 1' does not give it."""
    v = {"delta_H": dH, "L": L, "tau_C": tC, "tau_max": tm, "T": T}
    v["eta"] = eta1(dH, L, tC, tm, T)
    slack = evaluate_slack(BY_ID["asyncbc.thm1"], cond("asyncbc.thm1", "proof_eta_B"), v)
    c1 = 144 * L * (dH + L) * tm - 100 * dH**2
    c2 = 36 * (dH + L) ** 2 * tC * tm - 100 * dH**2 * T
    margin = 1e-9 * max(144 * L * (dH + L) * tm, 100 * dH**2 * T)
    if abs(c1) > margin and abs(c2) > margin and abs(slack) > 1e-12 * v["eta"]:
        assert (slack >= 0) == (c1 >= 0 or c2 >= 0)


def test_thm1_footnote_instance_violates_condition_B():
    """Footnote 1: f_n = a||x||^2/2, others 0 -> L = a/n, delta* = a(n-1)/n (Fact 1 instance)."""
    a, n = 1.0, 100
    L, dH = a / n, a * (n - 1) / n
    v = {"delta_H": dH, "L": L, "tau_C": 10, "tau_max": 10, "T": 10**6}
    v["eta"] = eta1(dH, L, 10, 10, 10**6)
    thm = BY_ID["asyncbc.thm1"]
    assert evaluate_slack(thm, cond("asyncbc.thm1", "stated_eta"), v) == pytest.approx(0, abs=1e-15)
    assert evaluate_slack(thm, cond("asyncbc.thm1", "proof_eta_B"), v) < 0
    assert v["eta"] > 1 / (10 * dH * math.sqrt(10**6))  # same fact in plain floats
    # ... while Fact 1's bound holds for it
    assert dH <= evaluate_bound(BY_ID["asyncbc.fact1"], {"L": L, "L_max": a})


def test_eta_le_L_over_4_is_dimensionally_wrong_and_not_implied():
    for tid in ("asyncbc.thm1", "asyncbc.thm1_eta", "asyncbc.thm2", "asyncbc.thm2_eta"):
        found = [f for f in dimension_findings(BY_ID[tid]) if "proof_eta_L4" in f.message]
        assert len(found) == 1, tid
    # small L: the stated stepsizes exceed L/4
    v = {"delta_H": 0.01, "L": 0.01, "tau_C": 1, "tau_max": 1, "T": 4}
    v["eta"] = eta1(0.01, 0.01, 1, 1, 4)
    assert evaluate_slack(BY_ID["asyncbc.thm1"], cond("asyncbc.thm1", "proof_eta_L4"), v) < 0
    w = {"ell": 0.02, "L": 0.01, "tau_C": 1, "tau_max": 1, "T": 4}
    w["eta"] = eta2(0.02, 0.01, 1, 1, 4)
    assert evaluate_slack(BY_ID["asyncbc.thm2"], cond("asyncbc.thm2", "proof_eta_L4"), w) < 0


def test_all_dimension_findings_are_the_documented_ones():
    bad = {}
    for thm in A.THEOREMS:
        msgs = [f.message for f in dimension_findings(thm)]
        if msgs:
            bad[thm.id] = msgs
    assert set(bad) == {
        "asyncbc.thm1",
        "asyncbc.thm1_eta",
        "asyncbc.thm2",
        "asyncbc.thm2_eta",
    }
    for tid in ("asyncbc.thm1", "asyncbc.thm2"):
        assert len(bad[tid]) == 1


def test_theorem3_is_consistent_only_in_its_unit_curvature_instance():
    """Theorem 3 fixes f_i = ||x + b_i||^2/2 (L = 1): consistent with [F] = [X]^2, not without."""
    import dataclasses

    for tid in ("asyncbc.thm3", "asyncbc.thm3_var", "asyncbc.thm3_small_eta"):
        thm = BY_ID[tid]
        assert thm.extra["unit_instance"]
        assert dimension_findings(thm) == []
        general = dataclasses.replace(thm, extra={})
        assert dimension_findings(general), tid


# --- proof bookkeeping ----------------------------------------------------------------------------


@FAST
@given(pos, pos, counts, counts, horizons)
def test_thm1_proof_conditions_make_A_plus_B_plus_C_at_most_eta_over_16(dH, L, tC, tm, T):
    eta = min(
        1 / (6 * (dH + L) * math.sqrt(tC * tm)),
        1 / (10 * dH * math.sqrt(T)),
        1 / (8 * math.sqrt(L * (dH + L) * tm * (T - 1))),
    )
    coef = (
        eta**3 * tC * tm * (dH**2 + L**2) / 4
        + eta**3 * dH**2 * T / 2
        + 2 * eta**5 * L**2 * (dH**2 + L**2) * tm**2 * (T - 1) ** 2
    )
    assert coef <= eta / 16 * (1 + 1e-12)


@FAST
@given(pos, pos, counts, counts, horizons)
def test_thm2_proof_conditions_make_A_plus_B_plus_C_at_most_eta_over_16(ell, L, tC, tm, T):
    eta = eta2(ell, L, tC, tm, T)
    coef = (
        eta**3 * tC * tm * ell**2 / 8
        + eta**3 * ell**2 * T / 2
        + eta**5 * L**2 * ell**2 * tm**2 * (T - 1) ** 2
    )
    assert coef <= eta / 16 * (1 + 1e-12)


@FAST
@given(pos, pos, counts, counts, horizons, pos)
def test_explicit_bounds_dominate_2F0_over_eta_T_at_the_stated_stepsize(x, L, tC, tm, T, F0):
    v1 = {"delta_H": x, "L": L, "tau_C": tC, "tau_max": tm, "T": T, "F0": F0}
    e1 = {**v1, "eta": eta1(x, L, tC, tm, T)}
    assert evaluate_bound(BY_ID["asyncbc.thm1_eta"], e1) <= evaluate_bound(
        BY_ID["asyncbc.thm1"], v1
    ) * (1 + 1e-12)
    v2 = {"ell": x, "L": L, "tau_C": tC, "tau_max": tm, "T": T, "F0": F0}
    e2 = {**v2, "eta": eta2(x, L, tC, tm, T)}
    assert evaluate_bound(BY_ID["asyncbc.thm2_eta"], e2) <= evaluate_bound(
        BY_ID["asyncbc.thm2"], v2
    ) * (1 + 1e-12)


# --- order claims ---------------------------------------------------------------------------------


@pytest.mark.parametrize("oid", ["asyncbc.thm1_order", "asyncbc.thm2_order"])
def test_order_claims_match_their_explicit_bounds(oid):
    claim = BY_ID[oid].order
    explicit = BY_ID[claim.explicit]
    at = {S.info(k).symbol: v for k, v in explicit.example.items() if k not in ("T", "eta")}
    ratio = sp.limit(explicit.bound / claim.rate, S.T, sp.oo)
    assert 0 < float(ratio.subs(at)) < math.inf
    assert order_findings(BY_ID[oid], explicit) == []
    # the proof's 2 F0/(eta T) at each 1/sqrt(T) branch of the stated stepsize is O(rate) too
    eta_bound = BY_ID[oid.replace("_order", "_eta")].bound
    for branch in claim.scalings[S.eta].args:
        if S.T not in branch.free_symbols:
            continue
        r = sp.limit(eta_bound.subs(S.eta, branch) / claim.rate, S.T, sp.oo)
        assert 0 < float(r.subs(at)) < math.inf


def test_thm1_rate_misses_the_delta_term_the_proof_needs():
    """With the proof's own admissible stepsize, 2F0/(eta T) / rate grows like sqrt(delta/L)."""
    L, tC, tm, T, F0 = 1.0, 4, 4, 10**12, 1.0
    rate = _THM1_RATE

    def ratio(dH):
        eta = min(
            1 / (6 * (dH + L) * math.sqrt(tC * tm)),
            1 / (10 * dH * math.sqrt(T)),
            1 / (8 * math.sqrt(L * (dH + L) * tm * (T - 1))),
        )
        return (2 * F0 / (eta * T)) / rate(dH, L, tC, tm, T, F0)

    assert ratio(1e6) > 30 * ratio(1e2)  # sqrt(1e4) = 100 in the limit


@FAST
@given(pos, pos, counts, counts, horizons, pos)
def test_table1_asyncbc_row_follows_from_thm1_with_fact1(L, extra, tC, tm, T, F0):
    Lmax = L + extra  # L <= L_max
    thm1, row = _THM1_RATE, _TABLE_ROW_RATE
    assert thm1(L + Lmax, L, tC, tm, T, F0) <= 3 * row(Lmax, L, tC, tm, T, F0) * (1 + 1e-12)


# --- Fact 1 on random quadratics -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(1, 5), st.integers(0, 2**31 - 1))
def test_fact1_on_random_quadratics(n, d, seed):
    rng = np.random.default_rng(seed)
    mats = []
    for _ in range(n):
        B = rng.normal(size=(d, d))
        mats.append(B @ B.T)  # f_i(x) = x^T A_i x / 2
    mean = sum(mats) / n
    L = np.linalg.norm(mean, 2)
    Lmax = max(np.linalg.norm(M, 2) for M in mats)
    delta_star = max(np.linalg.norm(mean - M, 2) for M in mats)
    assert delta_star <= evaluate_bound(A.FACT1, {"L": L, "L_max": Lmax}) * (1 + 1e-12)
    assert Lmax * (1 + 1e-12) >= L


def test_footnote1_instance_has_delta_over_L_equal_n_minus_1():
    a, n, d = 2.0, 7, 3
    mats = [np.zeros((d, d))] * (n - 1) + [a * np.eye(d)]
    mean = sum(mats) / n
    delta_star = max(np.linalg.norm(mean - M, 2) for M in mats)
    assert delta_star / np.linalg.norm(mean, 2) == pytest.approx(n - 1)


# --- Theorem 3 ------------------------------------------------------------------------------------


@FAST
@given(st.floats(0.0, 10.0), st.integers(1, 10**6))
def test_thm3_bound_grows_linearly_in_T(sig, T):
    thm = A.THM3
    v = {"sigma": sig, "T": T, "eta": 0.5, "tau_C": 1}
    step = evaluate_bound(thm, {**v, "T": T + 2}) - evaluate_bound(thm, v)
    assert step == pytest.approx(sig**2 / 25, rel=1e-9, abs=1e-300)


def test_thm3_bound_is_linear_in_T_in_the_limit():
    assert sp.limit(A.THM3.bound / S.T, S.T, sp.oo) == S.sigma**2 / 50


@FAST
@given(st.integers(2, 400), st.floats(0.0, 1.0), st.floats(0.01, 10.0))
def test_thm3_variance_sum_dominates_the_stated_bound_in_its_regime(T, u, sig):
    eta = 1 / (2 * T) + u * (1 - 1 / (2 * T))  # 1/(2T) <= eta <= 1
    hand = sig**2 * sum((1 - (1 - eta) ** (T - s)) ** 2 for s in range(1, T))
    assert hand >= sig**2 * (T // 2) / 25 * (1 - 1e-12)
    # the corrected step of the proof: (1 - eta)^(T-s) <= 4/5 for s <= T/2 (printed: 5/4)
    assert all((1 - eta) ** (T - s) <= 0.8 + 1e-12 for s in range(1, T // 2 + 1))


def test_thm3_bound_fails_below_its_regime():
    """For eta < 1/(2T) the sigma^2 floor(T/2)/25 bound can fail (the regime matters)."""
    T, eta, sig, x0sq = 10, 1e-3, 1.0, 1e-6  # b_i = 0, m_0 = x_0: E x_T = (1-eta)^T x_0
    exact = (1 - eta) ** (2 * T) * x0sq + sig**2 * sum(
        (1 - (1 - eta) ** (T - s)) ** 2 for s in range(1, T)
    )
    v = {"sigma": sig, "T": T, "eta": eta, "tau_C": 1}
    assert exact < evaluate_bound(A.THM3, v)
    assert not check_conditions(A.THM3, v)[2].holds  # proof_eta_ge_1_2T is what excludes it


def test_thm3_variance_formula_against_simulated_sarah():
    """Monte Carlo of Algorithm 2 with tau_C = 1, f_i = ||x||^2/2 (b_i = 0), x_0 = 0 (so E x_T = 0)."""
    rng = np.random.default_rng(12345)
    R, T, eta, sig = 40_000, 30, 0.2, 0.5
    x_prev = np.zeros(R)
    m = x_prev.copy()  # m_0 = grad f(x_0) = x_0
    x = x_prev - eta * m
    for _ in range(1, T):
        m = m + (x - x_prev) + rng.normal(0.0, sig, size=R)  # g_t = grad diff + xi_t
        x_prev, x = x, x - eta * m
    measured = float(np.mean(x**2))
    v = {"sigma": sig, "T": T, "eta": eta, "tau_C": 1}
    exact = evaluate_bound(A.THM3_VAR, v)
    se = float(np.std(x**2)) / math.sqrt(R)
    assert abs(measured - exact) < 5 * se
    assert measured > evaluate_bound(A.THM3, v)


@FAST
@given(st.integers(1, 10**5))
def test_thm3_small_eta_branch_is_false_at_eta_1_over_2T(T):
    """FINDING: ||x_T||^2 = (1-eta)^(2T) ||x_0||^2 (printed exponent T); at eta = 1/(2T) it is
    below ||x_0||^2/2 for every T, while ||x_0||^2/4 holds."""
    eta = 1 / (2 * T)
    v = {"D0": 1.0, "T": T, "eta": eta, "tau_C": 1, "sigma": 0.0}
    assert all(r.holds for r in check_conditions(A.THM3_SMALL, v))
    exact = (1 - eta) ** (2 * T)
    assert exact < evaluate_bound(A.THM3_SMALL, v)
    assert exact >= 0.25 - 1e-15
    assert (1 - eta) ** T >= 0.5 - 1e-15  # the paper's exponent would have given 1/2


def test_thm3_small_eta_by_running_the_recursion():
    T, eta, x0 = 8, 1 / 16, np.array([1.0, -2.0])
    x_prev, m = x0.copy(), x0.copy()
    x = x_prev - eta * m
    for _ in range(1, T):
        m = m + (x - x_prev)  # noiseless, homogeneous
        x_prev, x = x, x - eta * m
    got = float(x @ x)
    assert got == pytest.approx((1 - eta) ** (2 * T) * float(x0 @ x0), rel=1e-12)
    bound = evaluate_bound(
        A.THM3_SMALL, {"D0": float(x0 @ x0), "T": T, "eta": eta, "tau_C": 1, "sigma": 0.0}
    )
    assert got < bound


def test_tau_max_zero_degenerates_thm1():
    """Reading tau_max >= 1: at tau_max = 0 the explicit bound is 0 (impossible for x_0 non-stationary)."""
    v = {**A._EX1, "tau_max": 0.0}
    assert evaluate_bound(A.THM1, v) == 0.0
    at = {S.tau_max: 0, S.T: 10, S.L: 1, A.delta_H: 1, S.tau_C: 1}
    assert all(arg.subs(at) is sp.zoo for arg in A.ETA_THM1.args)  # eta = min(1/0, 1/0)


def test_kinds_of_conditions():
    kinds = {c.kind for c in A.THM1.conditions}
    assert kinds == {ConditionKind.PROOF, ConditionKind.STEPSIZE}
    assert {c.kind for c in A.THM3.conditions} == {ConditionKind.STATED, ConditionKind.PROOF}
    assert A.THM3.direction is Direction.NONCONVERGENCE
    assert A.THM3_VAR.direction is Direction.LOWER
