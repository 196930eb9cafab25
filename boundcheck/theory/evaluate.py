"""Numeric evaluation of theorems: validated parameters, vectorised bounds and condition slacks.

Bounds and conditions compile once to NumPy with :func:`sympy.lambdify` (cached per theorem), so a
bound evaluates on arrays of parameter points at NumPy speed. Finite sums with symbolic limits
(``sum_{t=1}^{T-1} (1 - delta_s)^t``) are put in closed form with ``doit()`` first.

Where the closed form has powers with a negative symbolic exponent (``r^(-2T)``), the compiled
form combines powers first (:func:`_fast_form`). The fast path is checked on every point (:class:`SafeFunction`): closed forms can overflow
(``(1-eta)^(-2T)`` times ``(1-eta)^(2T)``) or cancel catastrophically (``T - 1 - 2 sum r^j + sum
r^(2j)`` for a tiny stepsize), so the compiled expression is evaluated twice, in float64 and in
float32. Where the two agree to ``FLOAT32_AGREEMENT`` (relative) the float64 value is kept: an
algorithm that loses k digits loses them in both, so agreement bounds the float64 error by about
``FLOAT32_AGREEMENT * eps64 / eps32`` (~2e-12). Every other point (non-finite, zero, or
disagreeing) is evaluated again with mpmath at ``MP_DIGITS`` significant digits, whose exponent
range is unbounded. The property test ``tests/theory/test_evaluate_fast.py`` checks the result
against SymPy's exact evaluation over every theorem's admissible region.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import numpy as np
import sympy as sp

from boundcheck.errors import ParameterError
from boundcheck.theory import symbols as S
from boundcheck.theory.core import Condition, Theorem

ArrayLike = float | np.ndarray


def validate(thm: Theorem, values: Mapping[str, float], needed: list[str] | None = None) -> dict:
    """Check that ``values`` names exactly the parameters needed, each inside its domain.

    Raises :class:`ParameterError` with a one-line message naming the bad value and what is allowed.
    """
    needed = thm.parameters() if needed is None else needed
    unknown = sorted(set(values) - set(needed))
    if unknown:
        raise ParameterError(
            f"unknown parameter(s) {', '.join(unknown)} for {thm.id}; it takes: {', '.join(needed)}"
        )
    missing = [p for p in needed if p not in values]
    if missing:
        raise ParameterError(
            f"missing parameter(s) {', '.join(missing)} for {thm.id}; it takes: {', '.join(needed)}"
        )
    return {k: S.info(k).validate(v) for k, v in values.items()}


def _prepare(thm: Theorem, expr: sp.Expr) -> sp.Expr:
    e = thm.expand(expr)
    if e.has(sp.Sum, sp.Product):
        e = e.doit()
    return e


def _fast_form(thm: Theorem, expr: sp.Expr) -> sp.Expr:
    """The form compiled for NumPy: a closed-form sum has its powers combined
    (``r^(2T) (r^(-2T) - r^(-2))`` becomes ``1 - r^(2T-2)``), so it does not overflow; an
    identity (``powsimp`` of ``expand``), checked against the exact expression by the tests."""
    e = _prepare(thm, expr)
    if any(
        p.exp.free_symbols and p.exp.could_extract_minus_sign() for p in e.atoms(sp.Pow)
    ):  # r^(-T): overflows where r^T underflows
        e = sp.powsimp(sp.expand(e))
    return e


#: float32 and float64 values that agree to this relative tolerance keep the float64 value
FLOAT32_AGREEMENT = 1e-3
#: significant digits of the mpmath evaluation of the points the fast path cannot vouch for
MP_DIGITS = 60
#: printed significant digits of a parameter value (``boundcheck show``'s ready command line)
PRINTED_DIGITS = 6
#: a prescribed stepsize (an ``Eq`` condition) holds when both sides agree to the rounding of a
#: value printed with PRINTED_DIGITS digits: |lhs - rhs| <= EQUALITY_RTOL * max(|lhs|, |rhs|)
EQUALITY_RTOL = 10.0 ** (1 - PRINTED_DIGITS)


class SafeFunction:
    """A compiled expression: NumPy float64, checked against float32, mpmath where they disagree."""

    def __init__(self, expr: sp.Expr, names: tuple[str, ...]) -> None:
        syms = [S.info(nm).symbol for nm in names]
        self.expr = expr
        self.names = names
        self._np = sp.lambdify(
            syms, expr, modules=[{"floor": np.floor, "ceiling": np.ceil}, "numpy"]
        )
        self._syms = syms
        self._mp: Callable[..., object] | None = None
        self.fallbacks = 0  # points evaluated with mpmath so far (for benchmarks)

    def _mpmath(self) -> Callable[..., object]:
        if self._mp is None:
            import mpmath

            self._mp = sp.lambdify(
                self._syms,
                self.expr,
                modules=[{"floor": mpmath.floor, "ceiling": mpmath.ceil}, "mpmath"],
            )
        return self._mp

    def exact_at(self, *args: float) -> float:
        """The value at one point with mpmath at MP_DIGITS digits (inf where it overflows float)."""
        import mpmath

        with mpmath.workdps(MP_DIGITS):
            try:
                v = self._mpmath()(*[mpmath.mpf(float(a)) for a in args])
                v = complex(v) if isinstance(v, mpmath.mpc) else v
                if isinstance(v, complex):
                    return v.real if v.imag == 0 else math.nan
                return float(v)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                return math.nan

    def exact_text(self, *args: float, digits: int = 6) -> str:
        """The value at one point as text, beyond float64's range where needed (``2.4e+310``)."""
        import mpmath

        with mpmath.workdps(MP_DIGITS):
            try:
                return mpmath.nstr(self._mpmath()(*[mpmath.mpf(float(a)) for a in args]), digits)
            except (ZeroDivisionError, ValueError, TypeError, OverflowError):
                return "nan"

    def __call__(self, *args: ArrayLike) -> ArrayLike:
        arrs = [np.asarray(a, dtype=float) for a in args]
        with np.errstate(all="ignore"):
            v64 = np.asarray(self._np(*arrs), dtype=float)
            v32 = np.asarray(self._np(*[a.astype(np.float32) for a in arrs]), dtype=float)
        shape = np.broadcast_shapes(v64.shape, *[a.shape for a in arrs])
        v64 = np.broadcast_to(v64, shape)
        v32 = np.broadcast_to(v32, shape)
        with np.errstate(all="ignore"):
            bad = ~np.isfinite(v64) | ~(np.abs(v32 - v64) <= FLOAT32_AGREEMENT * np.abs(v64))
        if bad.any():
            v64 = v64.copy()
            full = [np.broadcast_to(a, shape) for a in arrs]
            for idx in zip(*np.nonzero(bad), strict=True) if shape else [()]:
                v64[idx] = self.exact_at(*[a[idx] for a in full])
            self.fallbacks += int(bad.sum())
        return float(v64) if v64.ndim == 0 else v64


def _compile(expr: sp.Expr, names: tuple[str, ...]) -> SafeFunction:
    return SafeFunction(expr, names)


@cache
def bound_function(thm: Theorem) -> tuple[SafeFunction, tuple[str, ...]]:
    """The bound compiled to NumPy, and the parameter names in the order it takes them."""
    if thm.bound is None:
        raise ParameterError(f"{thm.id} has no explicit bound (it is an order claim)")
    expr = _fast_form(thm, thm.bound)
    names = tuple(sorted(s.name for s in expr.free_symbols))
    return _compile(expr, names), names


@cache
def slack_function(thm: Theorem, cond: Condition) -> tuple[SafeFunction, tuple[str, ...]]:
    """The condition's slack (>= 0 iff it holds) compiled to NumPy, and its parameter names."""
    expr = _fast_form(thm, cond.slack)
    names = tuple(sorted(s.name for s in expr.free_symbols))
    return _compile(expr, names), names


def _call(fn_names: tuple[SafeFunction, tuple[str, ...]], values: Mapping) -> ArrayLike:
    fn, names = fn_names
    out = fn(*[values[nm] for nm in names])
    if np.ndim(out) == 0:
        return float(out)
    return np.asarray(out, dtype=float)


def evaluate_bound(thm: Theorem, values: Mapping[str, ArrayLike]) -> ArrayLike:
    """The bound at ``values`` (scalars or broadcastable arrays); no validation (hot path)."""
    return _call(bound_function(thm), values)


def evaluate_slack(thm: Theorem, cond: Condition, values: Mapping[str, ArrayLike]) -> ArrayLike:
    """The condition's slack at ``values``: >= 0 where it holds (> 0 for a strict one)."""
    return _call(slack_function(thm, cond), values)


@dataclass(frozen=True)
class ConditionResult:
    condition: Condition
    lhs: float
    rhs: float
    slack: float
    holds: bool

    @property
    def relative_margin(self) -> float:
        """slack / |rhs|: how far inside (positive) or outside (negative) the condition we are."""
        scale = abs(self.rhs) if self.rhs != 0 else 1.0
        return self.slack / scale


def condition_holds(cond: Condition, slack: float, scale: float = 0.0) -> bool:
    """Whether a condition with this slack holds; ``scale`` = max(|lhs|, |rhs|) for an ``Eq``.

    A prescribed value (``Eq``) holds when its sides agree to the rounding of a value printed
    with :data:`PRINTED_DIGITS` significant digits (:data:`EQUALITY_RTOL` relative).
    """
    if not math.isfinite(slack):
        return False
    if cond.is_equality:
        tol = EQUALITY_RTOL * scale if math.isfinite(scale) else 0.0
        return slack == 0 or abs(slack) <= tol
    return slack > 0 if cond.strict else slack >= 0


def check_conditions(thm: Theorem, values: Mapping[str, float]) -> list[ConditionResult]:
    """Evaluate every condition at ``values``: both sides, slack, holds or not."""
    out = []
    for c in thm.conditions:
        slack = evaluate_slack(thm, c, values)
        lhs = _side(thm, c.lhs, values)
        rhs = _side(thm, c.rhs, values)
        scale = max(abs(lhs), abs(rhs)) if math.isfinite(lhs) and math.isfinite(rhs) else math.nan
        holds = condition_holds(c, float(slack), scale)
        out.append(ConditionResult(c, lhs, rhs, float(slack), holds))
    return out


def sympy_number(name: str, value: float) -> sp.Number:
    """``value`` as a SymPy number: an exact Integer for a count, else a 30-digit Float.

    SymPy's ``floor``/``ceiling`` need SymPy numbers, and exact integers (``floor(T/2)`` at
    ``T = 132.0`` cannot be decided at finite precision).
    """
    if S.info(name).domain in ("count", "count0") and float(value).is_integer():
        return sp.Integer(int(value))
    return sp.Float(float(value), 30)


def _side(thm: Theorem, expr: sp.Expr, values: Mapping[str, float]) -> float:
    e = _prepare(thm, expr)
    subs = {S.info(s.name).symbol: sympy_number(s.name, values[s.name]) for s in e.free_symbols}
    try:
        v = e.subs(subs).evalf()
        return float(v) if v.is_real or v.is_extended_real else float("nan")
    except (TypeError, ValueError, OverflowError, ZeroDivisionError):
        return float("nan")
