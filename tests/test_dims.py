"""The dimension checker: hand cases and a scaling property that does not trust the checker."""

from __future__ import annotations

import math

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck import dims as D
from boundcheck.theory import symbols as S

DIMS = S.dimensions()


def test_consistent_bound_has_gradient_squared_dimension():
    expr = 2 * S.F0 / (S.eta * S.T) + S.L * S.eta * S.sigma**2
    r = D.check_expr(expr, DIMS)
    assert r.ok
    assert r.dim == D.GRAD2


def test_inconsistent_sum_names_both_terms():
    r = D.check_expr(S.F0 / S.eta + S.L, DIMS)
    assert not r.ok
    (issue,) = r.issues
    assert "sum" in issue.message
    exprs = {p[0] for p in issue.parts}
    assert "L" in exprs and any("F0" in e for e in exprs)


def test_inconsistent_max_is_reported_not_raised():
    r = D.check_expr(sp.Max(S.eta, 1 / S.mu, S.K), DIMS)
    assert not r.ok
    assert "Max" in r.issues[0].message
    assert r.dim is None


def test_function_argument_must_be_dimensionless():
    assert D.check_expr(sp.log(S.T * S.K), DIMS).ok
    r = D.check_expr(sp.log(S.L), DIMS)
    assert not r.ok and "log" in r.issues[0].message


def test_relation_sides_must_agree_and_zero_is_dimension_free():
    assert D.check_relation(S.eta, 1 / S.L, DIMS, "c").ok
    assert not D.check_relation(S.eta * S.L, 1 / S.L, DIMS, "c").ok
    assert D.check_relation(S.eta, 0, DIMS, "c").ok


def test_symbolic_exponent_on_dimensional_base_is_flagged():
    assert not D.check_expr(S.L**S.K, DIMS).ok
    assert D.check_expr(S.delta**S.T, DIMS).ok


def test_sum_index_is_dimensionless():
    t = sp.Symbol("t", integer=True)
    expr = sp.Sum((1 - S.delta) ** t, (t, 1, S.T - 1)) * S.L * S.eta
    assert D.check_expr(expr, DIMS).ok


# A property that does not trust the checker: a dimensionally consistent expression is homogeneous
# under the change of units x -> a x, f -> b f, with the degree the checker reports.
BASE = [S.L, S.mu, S.eta, S.F0, S.D0, S.sigma, S.K, S.T, S.delta]


@st.composite
def monomials(draw):
    exps = draw(st.lists(st.integers(-2, 2), min_size=len(BASE), max_size=len(BASE)))
    coef = draw(st.integers(1, 5))
    return coef * sp.Mul(*[s**e for s, e in zip(BASE, exps, strict=True)])


def _scaled(expr, a, b, vals):
    sub = {}
    for s in BASE:
        dim = DIMS[s]
        sub[s] = vals[s] * a ** float(dim.x) * b ** float(dim.f)
    return float(expr.subs(sub))


@settings(max_examples=60, deadline=None)
@given(monomials(), monomials(), st.floats(0.5, 3), st.floats(0.5, 3))
def test_checker_agrees_with_unit_scaling(m1, m2, a, b):
    vals = {s: 1.0 + 0.1 * i for i, s in enumerate(BASE)}
    d1 = D.check_expr(m1, DIMS).dim
    d2 = D.check_expr(m2, DIMS).dim
    expr = m1 + m2
    r = D.check_expr(expr, DIMS)
    v0 = float(expr.subs(vals))
    v1 = _scaled(expr, a, b, vals)
    if r.ok:
        # homogeneous of the reported degree
        assert math.isclose(v1, v0 * a ** float(r.dim.x) * b ** float(r.dim.f), rel_tol=1e-9)
    else:
        assert d1 != d2
        # and then, generically, not homogeneous: each monomial scales with its own degree
        s1 = a ** float(d1.x) * b ** float(d1.f)
        s2 = a ** float(d2.x) * b ** float(d2.f)
        v_m1, v_m2 = float(m1.subs(vals)), float(m2.subs(vals))
        assert math.isclose(v1, v_m1 * s1 + v_m2 * s2, rel_tol=1e-9)
