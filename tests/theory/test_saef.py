"""Tests of the SAEF encoding (boundcheck/theory/saef.py): values, derivations, limits, findings."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.dims import check_expr, check_relation
from boundcheck.errors import ParameterError
from boundcheck.theory import registry
from boundcheck.theory import saef as S
from boundcheck.theory import symbols as cat
from boundcheck.theory.core import ConditionKind, Direction
from boundcheck.theory.evaluate import check_conditions, evaluate_bound, validate

THMS = {t.id: t for t in S.THEOREMS}
WITH_BOUND = [t for t in S.THEOREMS if t.bound is not None]
delta, K, L, eta, T = S.delta, S.K, S.L, S.eta, S.T
F0, M, sigma, mu_m, eta_max = S.F0, S.M, S.sigma, S.mu_m, S.eta_max
s = sp.sqrt(1 - delta)

unit_open = st.floats(0.01, 0.99)
small_pos = st.floats(0.01, 10.0)
counts = st.integers(1, 64)


def ev(thm_id: str, **values: float) -> float:
    return float(evaluate_bound(THMS[thm_id], values))


# --- registry, examples, dimensions -------------------------------------------------------------


def test_module_lists_every_saef_theorem_once_under_its_registry_name() -> None:
    # registry-wide loading is the lead's test; here: the registry loads this module by this name
    assert "saef" in registry.PAPER_MODULES
    ids = [t.id for t in S.THEOREMS]
    assert len(ids) == len(set(ids)) == 17
    for t in S.THEOREMS:
        assert t.id.startswith("saef.") and t.id == t.id.lower() and t.paper == "SAEF"
        assert t.source.startswith("SAEF ") and t.statement and "\n" not in t.statement


@pytest.mark.parametrize("thm", S.THEOREMS, ids=lambda t: t.id)
def test_example_is_complete_finite_and_satisfies_conditions(thm) -> None:
    assert sorted(thm.example) == thm.parameters()
    validate(thm, thm.example)
    if thm.bound is not None:
        b = evaluate_bound(thm, thm.example)
        assert math.isfinite(b) and b > 0
    else:
        assert thm.direction is Direction.ORDER and thm.order is not None
    results = check_conditions(thm, thm.example)
    assert len(results) == len(thm.conditions)
    assert all(r.holds for r in results if r.condition.kind is ConditionKind.STATED)


@pytest.mark.parametrize("thm", WITH_BOUND, ids=lambda t: t.id)
def test_bounds_and_conditions_are_dimensionally_consistent(thm) -> None:
    dims = cat.dimensions()
    res = check_expr(thm.expanded_bound, dims, thm.id)
    assert res.ok, [str(i) for i in res.issues]
    assert res.dim == thm.lhs.dim
    for c in thm.conditions:
        r = check_relation(thm.expand(c.lhs), thm.expand(c.rhs), dims, c.id)
        assert r.ok, [str(i) for i in r.issues]


def test_momentum_symbol_is_not_strong_convexity_and_refuses_mu_one() -> None:
    assert S.mu_m is not cat.mu and cat.info("mu_m").domain == "unit0"
    bad = dict(THMS["saef.thm3"].example, mu_m=1.0)
    with pytest.raises(ParameterError, match=r"mu_m=1\.0.*\[0, 1\)"):
        validate(THMS["saef.thm3"], bad)


@pytest.mark.parametrize(
    "tid", ["saef.thm1", "saef.thm2", "saef.cor1", "saef.cor1_ef", "saef.cor2"]
)
def test_sgd_theorems_refuse_a_momentum_run(tid) -> None:
    """Theorems 1-2 and Corollaries 1-2 are stated "for SAEF-SGD" (no momentum; (64)/(74) set
    mu = 0): their lhs quantities are shared with Theorem 3, so mu_m = 0 must be a stated condition
    or a check could hold an SGDM run to an SGD bound."""
    thm = THMS[tid]
    assert "mu_m" in thm.parameters() and thm.example["mu_m"] == 0.0
    bad = check_conditions(thm, dict(thm.example, mu_m=0.9))
    failed = [r.condition.id for r in bad if not r.holds]
    assert failed == ["sgd_no_momentum"]
    cond = next(c for c in thm.conditions if c.id == "sgd_no_momentum")
    assert cond.kind is ConditionKind.STATED and cond.is_equality


# --- hand-computed values (plain floats) --------------------------------------------------------


def test_theorem2_hand_value() -> None:
    F, Lv, Tv, Kv, dl, et, Mv, sg = 1.0, 1.0, 1000, 4, 0.5, 0.1, 1.0, 1.0
    sq = math.sqrt(1 - dl)
    C = (2 - dl) / (1 - sq) + (Kv - 1) / Kv
    a = 3 - 2 * et * Lv
    hand = (
        4 * F / (et * a * Tv)
        + 4 * et * Lv * sg**2 / (a * Kv)
        + (1 + 8 * C / a) * (1 - dl) / (1 - sq) * et**2 * Lv**2 * (Mv**2 + sg**2)
    )
    got = ev("saef.thm2", F0=F, L=Lv, T=Tv, K=Kv, delta=dl, eta=et, M=Mv, sigma=sg)
    assert got == pytest.approx(hand, rel=1e-12)
    assert got == pytest.approx(0.6568833226528281, rel=1e-12)


def test_theorem3_hand_value() -> None:
    F, Lv, Tv, Kv, dl, et, Mv, sg, mu = 2.0, 3.0, 500, 8, 0.3, 0.02, 0.7, 1.5, 0.6
    sq = math.sqrt(1 - dl)
    C = (2 - dl) / (1 - sq) + (Kv - 1) / Kv
    al = 1 - et * Lv / (1 - mu) - 2 * mu**2 * et**2 * Lv**2 / (1 - mu) ** 4
    assert al > 0
    r = (1 - dl) / (1 - sq)
    head = 4 * (1 - mu) * F / (al * et * Tv) + 2 * (
        1 + 2 * mu**2 * et * Lv / (1 - mu) ** 3
    ) * et * Lv * sg**2 / (al * (1 - mu) * Kv)
    g = et**2 * Lv**2 * (Mv**2 + sg**2) / (1 - mu) ** 2
    vals = dict(F0=F, L=Lv, T=Tv, K=Kv, delta=dl, eta=et, M=Mv, sigma=sg, mu_m=mu)
    assert ev("saef.thm3", **vals) == pytest.approx(head + (4 * C + al) * r * g / al, rel=1e-12)
    assert ev("saef.thm3_xtilde", **vals) == pytest.approx(
        head + (4 / al + 2) * C * r * g, rel=1e-12
    )


def test_main_lemma1_hand_value() -> None:
    # delta = 3/4: sqrt(1-delta) = 1/2, C = 1.25/0.5 + 3/4 = 3.25, ratio = 0.25/0.5 = 0.5
    got = ev("saef.lemma1_main", delta=0.75, K=4, eta_max=2.0, M=1.0, sigma=1.0, mu_m=0.5)
    assert got == pytest.approx(3.25 * 0.5 * 4.0 * 2.0 / 0.25, rel=1e-12)


# --- main-text Lemma 1 versus supplement Lemma 5 ------------------------------------------------


def test_main_lemma1_equals_supplement_lemma5_symbolically() -> None:
    a = THMS["saef.lemma1_main"].expanded_bound
    b = THMS["saef.lemma5"].expanded_bound
    assert sp.simplify(a - b) == 0
    assert THMS["saef.lemma1_main"].lhs is THMS["saef.lemma5"].lhs


@settings(max_examples=60, deadline=None)
@given(
    dl=st.floats(0.01, 1.0), k=counts, e=small_pos, m=small_pos, sg=small_pos, mu=st.floats(0, 0.95)
)
def test_main_lemma1_equals_supplement_lemma5_numerically(dl, k, e, m, sg, mu) -> None:
    v = dict(delta=dl, K=k, eta_max=e, M=m, sigma=sg, mu_m=mu)
    assert ev("saef.lemma1_main", **v) == pytest.approx(ev("saef.lemma5", **v), rel=1e-10)


# --- Lemma 2: the minimum over beta_1 -----------------------------------------------------------


def test_lemma2_minimiser_right_but_minimum_value_wrong() -> None:
    b = sp.Symbol("b", positive=True)
    h = S.h_beta(b)
    assert sp.simplify(sp.diff(h, b).subs(b, S.BETA_STAR)) == 0
    true_min = sp.simplify(h.subs(b, S.BETA_STAR))
    assert sp.simplify(true_min - S.H_MIN_TRUE) == 0
    published = THMS["saef.lemma2_opt"].bound / S.G_ERR
    # the published (39)/(43) value is smaller than the true minimum by the factor 2/(1 - s)
    assert sp.simplify(true_min / published - 2 / (1 - s)) == 0
    assert sp.simplify(true_min - published) != 0


@settings(max_examples=80, deadline=None)
@given(dl=unit_open, frac=st.floats(0.001, 0.999))
def test_lemma2_published_minimum_lies_below_every_value_of_h(dl, frac) -> None:
    beta = frac * dl / (1 - dl)
    base = dict(delta=dl, eta_max=1.0, M=1.0, sigma=0.0, mu_m=0.0)
    h = ev("saef.lemma2", beta_1=beta, **base)
    assert h >= (1 - dl) / (1 - math.sqrt(1 - dl)) ** 2 * (1 - 1e-9)
    assert ev("saef.lemma2_opt", **base) < h


@settings(max_examples=80, deadline=None)
@given(dl=unit_open, beta=st.floats(0.001, 100.0))
def test_lemma2_simplified_condition_is_equivalent_to_stated(dl, beta) -> None:
    thm = THMS["saef.lemma2"]
    res = {
        r.condition.id: r.holds
        for r in check_conditions(thm, dict(thm.example, delta=dl, beta_1=beta))
    }
    assert res["beta1_contraction"] == res["beta1_range"]


def test_lemma4_is_lemma4_general_at_paper_beta2_with_the_wrong_minimum() -> None:
    gen = THMS["saef.lemma4_general"].bound.subs(S.beta_2, S.BETA_STAR)
    pub = THMS["saef.lemma4"].bound
    assert sp.simplify(gen / pub - 2 / (1 - s)) == 0


def test_lemma5_beta_is_two_lemma4_plus_two_lemma3_and_its_minimum_is_not_lemma5() -> None:
    l3, l4 = THMS["saef.lemma3"].bound, THMS["saef.lemma4"].bound
    assert sp.simplify(THMS["saef.lemma5_beta"].bound - 2 * l3 - 2 * l4) == 0
    at_star = THMS["saef.lemma5_beta"].bound.subs(S.beta_1, S.BETA_STAR)
    ratio = sp.simplify(at_star / THMS["saef.lemma5"].bound)
    assert sp.simplify(ratio - 2 / (1 - s)) == 0


# --- the counterexample to Lemmas 2 (39), 4 and 5 (plain floats, exact dyadic numbers) ----------


def _compressor(v: float) -> float:
    """A fixed delta-approximate compressor for delta = 3/4: ||C(v) - v||^2 = ||v||^2/4."""
    return v / 2 if abs(v) < 1.8 else 3 * v / 2


def _run_saef_constant_gradient(n_workers: int, steps: int):
    """Algorithm 1 (SAEF branch, mu = 0, eta = 1, no averaging) on grad F = 1, sigma = 0, d = 1."""
    x, e_srv, e_loc, m = 100.0, 0.0, [0.0] * n_workers, [0.0] * n_workers
    hist = []
    for _ in range(steps):
        sends = []
        for k in range(n_workers):
            x_half = x - e_loc[k]
            m[k] = 0.0 * m[k] + 1.0  # constant gradient 1 at x_half
            x_new = x_half - 1.0 * m[k]
            delta_k = e_loc[k] + x_half - x_new
            c = _compressor(delta_k)
            assert (c - delta_k) ** 2 == pytest.approx(0.25 * delta_k**2)
            e_loc[k] = delta_k - c
            sends.append(c)
        delta_srv = e_srv + sum(sends) / n_workers
        c = _compressor(delta_srv)
        assert (c - delta_srv) ** 2 == pytest.approx(0.25 * delta_srv**2)
        e_srv = delta_srv - c
        x = x - c
        ebar = sum(e_loc) / n_workers
        mismatch = sum((e_srv + ebar - ek) ** 2 for ek in e_loc) / n_workers
        hist.append((list(e_loc), e_srv, mismatch, max(mk**2 for mk in m)))
    return hist


@pytest.mark.parametrize("n_workers", [1, 3])
def test_counterexample_run_is_exact(n_workers) -> None:
    hist = _run_saef_constant_gradient(n_workers, 4)
    assert [h[0][0] for h in hist] == list(S.COUNTEREXAMPLE["local_errors"])
    assert [h[1] for h in hist] == list(S.COUNTEREXAMPLE["server_errors"])
    assert [h[2] for h in hist] == [0.0625, 0.25, 0.47265625, 3.0625]


BASE_CE = dict(delta=0.75, eta_max=1.0, M=1.0, sigma=0.0, mu_m=0.0)


def test_counterexample_refutes_lemma2_eq39_but_not_eq38() -> None:
    hist = _run_saef_constant_gradient(1, 4)
    e2_sq = hist[1][0][0] ** 2
    assert e2_sq == 0.5625
    assert ev("saef.lemma2_opt", **BASE_CE) == pytest.approx(0.25)  # (1/4)/(2 * 1/2)
    assert e2_sq > ev("saef.lemma2_opt", **BASE_CE)  # (39) violated
    betas = np.linspace(0.01, 2.99, 300)  # (0, delta/(1-delta)) = (0, 3)
    b38 = evaluate_bound(THMS["saef.lemma2"], dict(BASE_CE, beta_1=betas))
    worst_local = max(h[0][0] ** 2 for h in hist)
    assert worst_local <= b38.min()  # (38) holds for every beta_1
    assert b38.min() >= 1.0 - 1e-12  # its infimum (1-delta)/(1-s)^2 = 1
    assert all(h[3] <= ev("saef.lemma1", M=1.0, sigma=0.0, mu_m=0.0) for h in hist)


def test_counterexample_refutes_lemma4_near_the_best_beta1() -> None:
    """(47) is claimed for every admissible beta_1; it fails on an interval around beta_1* = 1."""
    e4_sq = _run_saef_constant_gradient(1, 4)[3][1] ** 2
    assert e4_sq == 3.0625
    # hand: beta_1* = 1/s - 1 = 1, g(1) = 2/(1 - 1/4 * 2) = 4, bound = (1/4)(5/4)/(1/2) * 4 = 5/2
    assert ev("saef.lemma4", beta_1=1.0, **BASE_CE) == pytest.approx(2.5)
    betas = np.linspace(0.001, 2.999, 3000)
    b47 = evaluate_bound(THMS["saef.lemma4"], dict(BASE_CE, beta_1=betas))
    assert b47.min() == pytest.approx(2.5, rel=1e-5)
    violated = betas[e4_sq > b47]
    assert violated.min() < 0.9 and violated.max() > 1.1  # an interval around beta_1* = 1
    assert not np.all(e4_sq > b47)  # far from beta_1* the bound is larger


@pytest.mark.parametrize("k", [1, 2, 3, 8, 1000])
def test_counterexample_refutes_lemma5_and_main_lemma1_for_every_k(k) -> None:
    mismatch = _run_saef_constant_gradient(min(k, 3), 4)[3][2]
    b5 = ev("saef.lemma5", K=k, **BASE_CE)
    # hand: C * ratio = (1.25/0.5 + (k-1)/k) * 0.5
    assert b5 == pytest.approx((2.5 + (k - 1) / k) * 0.5)
    assert mismatch == 3.0625 > b5
    assert mismatch > ev("saef.lemma1_main", K=k, **BASE_CE)


# --- derivation checks of Theorems 1-3 ----------------------------------------------------------

rho = sp.Symbol("rho", positive=True)
RATIO, CEX = S.RATIO, S.C_EXPR
L5 = CEX * RATIO * eta**2 * (M**2 + sigma**2)  # Lemma 5 at mu = 0, eta_max = eta
L2opt = RATIO / 2 * eta**2 * (M**2 + sigma**2)  # Lemma 2 (39) at mu = 0, eta_max = eta


def test_theorem1_follows_from_eq63_with_rho_half() -> None:
    a = 1 - rho / 2 - eta * L
    eq63 = (
        F0 / (eta * a * T)
        + eta * L * sigma**2 / (2 * a * K)
        + (eta * L + 1 / (2 * rho)) * L**2 / a * L5
    )
    assert sp.simplify(eq63.subs(rho, sp.Rational(1, 2)) - THMS["saef.thm1"].expanded_bound) == 0


def test_theorem2_f0_term_is_half_of_what_its_proof_gives() -> None:
    a = 1 - rho / 2 - eta * L / 2
    eq73 = (
        2 * F0 / (eta * a * T)
        + eta * L * sigma**2 / (a * K)
        + 2 * L**2 * L2opt
        + L**2 / (rho * a) * L5
    ).subs(rho, sp.Rational(1, 2))
    published = THMS["saef.thm2"].expanded_bound
    missing = sp.simplify(eq73 - published)
    assert sp.simplify(missing - 4 * F0 / (eta * (3 - 2 * eta * L) * T)) == 0
    assert missing != 0


def _thm3_proof(mu: sp.Expr, rho_v: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    a = 1 - rho / 2 - eta * L / (2 * (1 - mu)) - mu**2 * eta**2 * L**2 / (rho * (1 - mu) ** 4)
    g = eta**2 * (M**2 + sigma**2) / (1 - mu) ** 2
    l5 = CEX * RATIO * g
    l2 = RATIO / 2 * g
    eq98 = (
        (1 - mu) * F0 / (eta * T * a)
        + (sp.Rational(1, 2) + mu**2 * eta * L / (rho * (1 - mu) ** 3))
        * eta
        * L
        * sigma**2
        / ((1 - mu) * a * K)
        + L**2 / (rho * a) * l5
    )
    eq99 = 2 * eq98 + 2 * L**2 * l2
    eq100 = 2 * eq98 + 2 * L**2 * l5
    return eq99.subs(rho, rho_v), eq100.subs(rho, rho_v)


def test_theorem3_follows_from_eqs_97_to_100_with_rho_one() -> None:
    eq99, eq100 = _thm3_proof(mu_m, sp.Integer(1))
    vals = {F0: 1.3, L: 2.0, T: 700, K: 5, delta: 0.4, eta: 0.03, M: 0.9, sigma: 1.1, mu_m: 0.7}
    for proof, tid in ((eq99, "saef.thm3"), (eq100, "saef.thm3_xtilde")):
        pub = THMS[tid].expanded_bound
        assert float((proof - pub).subs(vals)) == pytest.approx(
            0.0, abs=1e-9 * float(pub.subs(vals))
        )
    # symbolic check at mu = 0 (cheap to simplify)
    eq99_0, _ = _thm3_proof(sp.Integer(0), sp.Integer(1))
    assert sp.simplify(eq99_0 - THMS["saef.thm3"].expanded_bound.subs(mu_m, 0)) == 0


# --- monotonicity in delta and the delta -> 1 limit ---------------------------------------------

MONO = ["saef.thm1", "saef.thm2", "saef.thm3", "saef.thm3_xtilde", "saef.lemma5", "saef.lemma1_main",
        "saef.lemma2_opt", "saef.cor1", "saef.cor1_ef"]  # fmt: skip


@pytest.mark.parametrize("tid", MONO)
@settings(max_examples=40, deadline=None)
@given(d1=st.floats(0.01, 1.0), d2=st.floats(0.01, 1.0), k=counts, etaL=st.floats(0.001, 0.5))
def test_more_compression_gives_a_larger_bound(tid, d1, d2, k, etaL) -> None:
    lo, hi = sorted((d1, d2))
    thm = THMS[tid]
    base = dict(thm.example)
    base.update({n: v for n, v in dict(K=k, eta=etaL, L=1.0, mu_m=0.2).items() if n in base})
    assert evaluate_bound(thm, dict(base, delta=lo)) >= evaluate_bound(
        thm, dict(base, delta=hi)
    ) * (1 - 1e-12)


@pytest.mark.parametrize("tid", ["saef.lemma2", "saef.lemma3", "saef.lemma4", "saef.lemma5_beta"])
@settings(max_examples=40, deadline=None)
@given(d1=unit_open, d2=unit_open, frac=st.floats(0.01, 0.99))
def test_beta_lemmas_grow_with_compression_at_fixed_beta(tid, d1, d2, frac) -> None:
    lo, hi = sorted((d1, d2))
    beta = frac * lo / (1 - lo)  # admissible for both
    thm = THMS[tid]
    b = dict(thm.example, beta_1=beta)
    assert evaluate_bound(thm, dict(b, delta=lo)) >= evaluate_bound(thm, dict(b, delta=hi)) * (
        1 - 1e-12
    )


def test_no_compression_limit_removes_the_compression_terms() -> None:
    for tid, at, uncompressed in (
        (
            "saef.thm1",
            {delta: 1},
            4 * F0 / (eta * (3 - 4 * eta * L) * T)
            + 2 * eta * L * sigma**2 / ((3 - 4 * eta * L) * K),
        ),
        (
            "saef.thm2",
            {delta: 1},
            4 * F0 / (eta * (3 - 2 * eta * L) * T)
            + 4 * eta * L * sigma**2 / ((3 - 2 * eta * L) * K),
        ),
        (
            "saef.thm3",
            {delta: 1, mu_m: 0},
            4 * F0 / ((1 - eta * L) * eta * T) + 2 * eta * L * sigma**2 / ((1 - eta * L) * K),
        ),
    ):
        assert sp.simplify(THMS[tid].expanded_bound.subs(at) - uncompressed) == 0, tid
    for tid in (
        "saef.thm3",
        "saef.thm3_xtilde",
        "saef.lemma5",
        "saef.lemma2_opt",
        "saef.cor1",
        "saef.cor1_ef",
    ):
        full = THMS[tid].expanded_bound
        no_comp = full.subs(delta, 1)
        assert not no_comp.has(M)  # every M-term is a compression term


def _sgd_bound(f0, lv, t, k, e, sg):
    """Standard mini-batch SGD bound (K samples/step): 2F0/(eta(2-eta L)T) + eta L sigma^2/((2-eta L)K)."""
    return 2 * f0 / (e * (2 - e * lv) * t) + e * lv * sg**2 / ((2 - e * lv) * k)


@settings(max_examples=60, deadline=None)
@given(
    f0=small_pos,
    lv=small_pos,
    t=st.integers(1, 10**6),
    k=counts,
    frac=st.floats(0.01, 0.99),
    sg=small_pos,
)
def test_no_compression_bounds_dominate_the_sgd_bound(f0, lv, t, k, frac, sg) -> None:
    common = dict(F0=f0, L=lv, T=t, K=k, delta=1.0, M=1.0, sigma=sg)
    sgd = _sgd_bound(f0, lv, t, k, frac * 0.75 / lv, sg)
    assert ev("saef.thm1", eta=frac * 0.75 / lv, **common) >= sgd
    e2 = frac * 1.5 / lv
    assert ev("saef.thm2", eta=e2, **common) >= _sgd_bound(f0, lv, t, k, e2, sg)
    e3 = frac / lv
    assert ev("saef.thm3", eta=e3, mu_m=0.0, **common) >= _sgd_bound(f0, lv, t, k, e3, sg)


# --- Corollary 1 --------------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(
    dl=st.floats(0.001, 0.999),
    k=counts,
    frac=st.floats(0.001, 0.999),
    lv=small_pos,
    m=small_pos,
    sg=small_pos,
)
def test_corollary1_saef_term_is_below_the_ef_term(dl, k, frac, lv, m, sg) -> None:
    v = dict(L=lv, delta=dl, eta=frac * 1.5 / lv, M=m, sigma=sg)
    assert ev("saef.cor1", K=k, **v) < ev("saef.cor1_ef", **v)


def test_corollary1_terms_vanish_together_without_compression() -> None:
    v = dict(L=1.0, delta=1.0, eta=0.5, M=1.0, sigma=1.0)
    assert ev("saef.cor1", K=3, **v) == 0.0 == ev("saef.cor1_ef", **v)
    assert sp.simplify(S.EQ18 - THMS["saef.cor1"].expanded_bound) == 0
    # (18) is exactly the compression part of Theorem 2
    t2 = THMS["saef.thm2"].expanded_bound
    assert (
        sp.simplify(
            t2
            - t2.subs({M: 0, sigma: 0})
            - S.EQ18
            - (t2.subs(delta, 1) - t2.subs({delta: 1, M: 0, sigma: 0}))
        )
        == 0
    )


# --- Corollaries 2-3: the order claims ----------------------------------------------------------

NUM = {F0: 1, L: 1, sigma: 1, M: 1, delta: sp.Rational(1, 2), S.c_eta: 1, mu_m: sp.Rational(1, 2)}


@pytest.mark.parametrize("tid", ["saef.cor2", "saef.cor3"])
def test_order_claim_rate_in_T(tid) -> None:
    cor = THMS[tid]
    explicit = THMS[cor.order.explicit].expanded_bound.subs(cor.order.scalings).subs(NUM)
    scaled = (explicit / cor.order.rate).subs(K, 4)
    lim = sp.limit(scaled, T, sp.oo)
    assert lim.is_finite and lim > 0
    # the F0 term alone is exactly of the claimed order, so the rate cannot be faster
    assert (
        sp.limit(
            (4 * F0 / (eta * T)).subs(eta, cor.order.scalings[eta]).subs(NUM) / cor.order.rate,
            T,
            sp.oo,
        )
        == 4
    )


def test_corollary2_k_dependence_needs_T_ge_K3() -> None:
    cor = THMS["saef.cor2"]
    explicit = THMS["saef.thm2"].expanded_bound.subs(cor.order.scalings).subs(NUM)
    ratio = explicit / cor.order.rate
    f_k3 = sp.lambdify(K, ratio.subs(T, K**3))
    f_k2 = sp.lambdify(K, ratio.subs(T, K**2))
    # along T = K^3 the ratio stays bounded; along T = K^2 (violating T >= K^3) it grows like sqrt(K)
    assert f_k3(10**6) < 2 * f_k3(10**2)
    assert f_k2(10**6) > 50 * f_k2(10**2)


def test_corollary_stated_stepsize_is_not_sufficient() -> None:
    """eta < c sqrt(K/T) allows eta -> 0, where the Theorem 2 bound grows without limit."""
    vals = dict(F0=1.0, L=1.0, T=10**4, K=4, delta=0.5, M=1.0, sigma=1.0)
    assert ev("saef.thm2", eta=1e-8, **vals) > 1e3 * ev("saef.thm2", eta=0.02, **vals)


# --- scaled sign, eq. (2) -----------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e3, 1e3, allow_subnormal=False), min_size=1, max_size=40))
def test_scaled_sign_is_a_delta_approximate_compressor_with_delta_one_over_d(xs) -> None:
    v = np.array(xs, dtype=float)
    nv2 = float(v @ v)
    if nv2 < 1e-12:
        return
    dim = v.size
    c = np.abs(v).sum() / dim * np.sign(v)
    err = float((c - v) @ (c - v))
    nnz = int(np.count_nonzero(v))  # sign(0) = 0: zero coordinates stay zero
    l1 = np.abs(v).sum()
    assert err == pytest.approx(nv2 - (2 * dim - nnz) * l1**2 / dim**2, rel=1e-9, abs=1e-9 * nv2)
    dl = float(S.DELTA_SCALED_SIGN.subs(cat.d, dim))
    assert dl == pytest.approx(1 / dim)
    assert err <= (1 - dl) * nv2 * (1 + 1e-12) + 1e-12


def test_scaled_sign_worst_case_delta_is_approached() -> None:
    # one dominant coordinate, the others tiny but nonzero: the error ratio tends to 1 - 1/d
    v = np.full(5, 1e-9)
    v[2] = 3.0
    c = np.abs(v).sum() / 5 * np.sign(v)
    assert float((c - v) @ (c - v)) == pytest.approx((1 - 1 / 5) * 9.0, rel=1e-6)
    # exactly e_i (sign(0) = 0) gives 9 - 9 * 9/25 = 5.76, below (1 - 1/d) * 9
    w = np.zeros(5)
    w[2] = 3.0
    cw = np.abs(w).sum() / 5 * np.sign(w)
    assert float((cw - w) @ (cw - w)) == pytest.approx(5.76)


def test_library_scaled_sign_uses_the_other_sign_of_zero_noted_in_the_quantity() -> None:
    """boundcheck.compressors.ScaledSign maps a zero entry to +-scale (sign bit of the zero): its
    error is ||v||^2 - ||v||_1^2/d, not the sign(0) = 0 formula; both stay <= (1 - 1/d)||v||^2."""
    import torch

    from boundcheck.compressors import ScaledSign

    assert "sign(+-0) = +-1" in S.SCALED_SIGN_ERROR.definition
    v = np.array([3.0, 0.0, -1.0, 0.0, 0.0])
    dim, l1, nv2 = v.size, 4.0, 10.0
    out = ScaledSign()(torch.from_numpy(v)[None]).numpy()[0]
    err = float((out - v) @ (out - v))
    assert err == pytest.approx(nv2 - l1**2 / dim, rel=1e-12)  # 6.8
    assert err != pytest.approx(nv2 - (2 * dim - 2) * l1**2 / dim**2)  # 5.52 with sign(0) = 0
    assert err <= (1 - 1 / dim) * nv2
