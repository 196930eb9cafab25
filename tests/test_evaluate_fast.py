"""The compiled (NumPy) evaluation of every bound and condition agrees with SymPy's exact one.

Property test over every theorem of the registry: parameter points drawn log-uniformly over many
decades around the documented example, with the edges of each domain (stepsizes and compression
parameters at 1e-9 and 1 - 1e-9, counts at 1 and 2, large counts) drawn often. The reference is
SymPy's ``evalf`` at 30 digits on the exact binary value of every input (``Rational(float)``), so
it is exact where the float inputs are (where evalf's adaptive precision would take more than a
few seconds, e.g. ``(1 - 1e-9)^10000``, the same SymPy expression evaluated by mpmath at 120
digits). ``asyncbc.thm3_var`` used to return NaN on ~2% of such
points (``(1-eta)^(-2T)`` overflowing) and lose every digit for eta < 1e-6 (cancellation).
"""

from __future__ import annotations

import contextlib
import math
import signal

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sympy.core.evalf import PrecisionExhausted

from boundcheck.theory import registry
from boundcheck.theory import symbols as S
from boundcheck.theory.evaluate import _prepare, evaluate_bound, evaluate_slack

THEOREMS = [t for t in registry.all_theorems() if t.example]
FLOAT_MAX = np.finfo(float).max


def _value(name: str, example: float):
    """A strategy for one parameter: near the example, over many decades, or at a domain edge."""
    dom = S.info(name).domain
    if dom in ("count", "count0"):
        base = max(float(example), 1.0)
        return st.one_of(
            st.sampled_from([0.0, 1.0, 2.0, 3.0] if dom == "count0" else [1.0, 2.0, 3.0]),
            st.floats(-1.5, 3).map(lambda e: float(max(dom == "count", round(base * 10**e)))),
        )
    if dom in ("unit", "open_unit", "unit0"):
        edges = [1e-9, 1e-6, 0.5, 1 - 1e-6, 1 - 1e-9]
        if dom == "unit":
            edges.append(1.0)
        if dom == "unit0":
            edges.append(0.0)
        return st.one_of(st.sampled_from(edges), st.floats(-9, -1e-9).map(lambda e: 10**e))
    base = example if example > 0 else 1.0
    strat = st.floats(-6, 6).map(lambda e: float(base * 10**e))
    if dom == "nonneg":
        strat = st.one_of(st.just(0.0), strat)
    if dom == "real":
        strat = st.one_of(strat, strat.map(lambda v: -v), st.just(0.0))
    return strat


def _points(thm):
    return st.fixed_dictionaries({k: _value(k, v) for k, v in thm.example.items()})


EVALF_SECONDS = 3
MP_REFERENCE_DIGITS = 120


class _Slow(BaseException):
    pass


@contextlib.contextmanager
def _time_limit(seconds: int):
    def raise_slow(signum, frame):
        raise _Slow

    old = signal.signal(signal.SIGALRM, raise_slow)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def _mpmath_reference(expr: sp.Expr, values: dict) -> float | None:
    """The SymPy expression evaluated by mpmath at 120 digits (where evalf is too slow)."""
    import mpmath

    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    fn = sp.lambdify(syms, expr, modules=["mpmath"])
    with mpmath.workdps(MP_REFERENCE_DIGITS):
        try:
            v = fn(*[mpmath.mpf(values[s.name]) for s in syms])
        except ZeroDivisionError:
            return None
        if isinstance(v, mpmath.mpc) or not mpmath.isfinite(v):
            return None if isinstance(v, mpmath.mpc) or mpmath.isnan(v) else float(v)
        return float(v)


def _exact(expr: sp.Expr, values: dict) -> float | None:
    """SymPy's value at the exact inputs, or None where it is not a real number."""
    subs = {}
    for s in expr.free_symbols:
        v = values[s.name]
        dom = S.info(s.name).domain
        subs[s] = sp.Integer(int(v)) if dom in ("count", "count0") else sp.Rational(v)
    try:
        try:
            with _time_limit(EVALF_SECONDS):
                val = expr.evalf(30, subs=subs)
        except PrecisionExhausted:  # floor(T/2) at an exact integer: substitute exactly first
            val = _exact_subs(expr, values).evalf(30)
        except _Slow:  # evalf's adaptive precision can take minutes ((1 - 1e-9)^10000)
            return _mpmath_reference(expr, values)
    except (ZeroDivisionError, ValueError, TypeError):
        return None
    if val.has(sp.nan, sp.zoo) or not val.is_number:
        return None
    if val.is_infinite:
        return math.inf if val.is_positive else -math.inf
    if not val.is_real:
        return None
    return float(val) if abs(val) <= FLOAT_MAX else math.copysign(math.inf, float(val))


def _exact_subs(expr: sp.Expr, values: dict) -> sp.Expr:
    """Exact substitution: rationals for reals, integers for counts (50-digit floats for counts
    above 1e4, whose exact powers would not finish)."""
    subs = {}
    for s in expr.free_symbols:
        v = values[s.name]
        if S.info(s.name).domain in ("count", "count0"):
            subs[s] = sp.Integer(int(v)) if v <= 1e4 else sp.Float(v, 50)
        else:
            subs[s] = sp.Rational(v)
    return expr.subs(subs)


def _undefined(expr: sp.Expr, values: dict) -> bool:
    """Exact arithmetic says the expression is undefined here (a zero denominator, 0/0)."""
    return bool(_exact_subs(expr, values).has(sp.nan, sp.zoo, sp.oo, -sp.oo))


def _exactly_zero(expr: sp.Expr, values: dict) -> bool:
    return _exact_subs(expr, values) == 0


def _term_scale(expr: sp.Expr, values: dict) -> float:
    """Sum of the magnitudes of the terms of the expanded expression: the scale of a sum's
    rounding error (``sigma^2 (T - 1 - ...)`` at ``T = 1`` is a cancellation to exactly 0)."""
    e = sp.expand(expr)
    terms = e.args if isinstance(e, sp.Add) else (e,)
    return sum(abs(_exact(t, values) or 0.0) for t in terms)


def _agree(fast: float, exact: float | None, expr: sp.Expr, values: dict) -> bool:
    """Agreement to 1e-9 relative, or to float64 rounding of a sum whose terms cancel
    (1e-13 of the terms' magnitudes: a slack that is zero at the boundary of its condition)."""
    if exact is None:
        return True  # not a real number here (outside every domain the theorem speaks of)
    if not math.isfinite(fast) and _undefined(expr, values):
        return True  # e.g. 0/0 at T = 1, which evalf (numeric) cannot see
    if math.isinf(exact):
        return fast == exact
    if fast == 0 and abs(exact) < 1e-100 and _exactly_zero(expr, values):
        return True  # a true zero that evalf leaves as noise below 1e-100
    if math.isclose(fast, exact, rel_tol=1e-9, abs_tol=1e-300):
        return True
    return math.isfinite(fast) and abs(fast - exact) <= 1e-13 * _term_scale(expr, values)


@pytest.mark.parametrize("thm", THEOREMS, ids=[t.id for t in THEOREMS])
def test_compiled_evaluation_agrees_with_sympy(thm):
    exprs = []
    if thm.bound is not None:
        exprs.append(("bound", _prepare(thm, thm.bound), lambda v: evaluate_bound(thm, v)))
    for c in thm.conditions:
        exprs.append((c.id, _prepare(thm, c.slack), lambda v, c=c: evaluate_slack(thm, c, v)))

    @settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck))
    @given(_points(thm))
    def check(values):
        for label, expr, fast in exprs:
            got = float(fast(values))
            ref = _exact(expr, values)
            assert _agree(got, ref, expr, values), (thm.id, label, values, got, ref)

    check()


def test_thm3_var_regression_points():
    """The points issue 9 reported: NaN where SymPy is finite (eta in [0.68, 1), T in [37, 316])."""
    thm = registry.get("asyncbc.thm3_var")
    expr = _prepare(thm, thm.bound)
    eta = np.array([0.68, 0.8, 0.95, 0.999, 1e-8, 1e-12])
    T = np.array([37.0, 100.0, 316.0, 316.0, 100.0, 10.0])
    fast = evaluate_bound(thm, {"eta": eta, "T": T, "sigma": 1.0, "tau_C": 1.0})
    for i in range(len(eta)):
        ref = _exact(expr, {"eta": eta[i], "T": T[i], "sigma": 1.0})
        assert math.isclose(fast[i], ref, rel_tol=1e-9), (eta[i], T[i], fast[i], ref)
