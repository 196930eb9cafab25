"""Numeric evaluation of theorems: validated parameters, vectorised bounds and condition slacks.

Bounds and conditions compile once to NumPy with :func:`sympy.lambdify` (cached per theorem), so a
bound evaluates on arrays of parameter points at NumPy speed. Finite sums with symbolic limits
(``sum_{t=1}^{T-1} (1 - delta_s)^t``) are put in closed form with ``doit()`` first.
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


def _compile(expr: sp.Expr, names: tuple[str, ...]) -> Callable[..., ArrayLike]:
    syms = [S.info(nm).symbol for nm in names]
    return sp.lambdify(syms, expr, modules=["numpy", {"floor": np.floor, "ceiling": np.ceil}])


@cache
def bound_function(thm: Theorem) -> tuple[Callable[..., ArrayLike], tuple[str, ...]]:
    """The bound compiled to NumPy, and the parameter names in the order it takes them."""
    if thm.bound is None:
        raise ParameterError(f"{thm.id} has no explicit bound (it is an order claim)")
    expr = _prepare(thm, thm.bound)
    names = tuple(sorted(s.name for s in expr.free_symbols))
    return _compile(expr, names), names


@cache
def slack_function(
    thm: Theorem, cond: Condition
) -> tuple[Callable[..., ArrayLike], tuple[str, ...]]:
    """The condition's slack (>= 0 iff it holds) compiled to NumPy, and its parameter names."""
    expr = _prepare(thm, cond.slack)
    names = tuple(sorted(s.name for s in expr.free_symbols))
    return _compile(expr, names), names


def _call(fn_names: tuple[Callable[..., ArrayLike], tuple[str, ...]], values: Mapping) -> ArrayLike:
    fn, names = fn_names
    with np.errstate(all="ignore"):
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


def condition_holds(cond: Condition, slack: float) -> bool:
    if not math.isfinite(slack):
        return False
    if cond.is_equality:
        return abs(slack) <= 1e-12
    return slack > 0 if cond.strict else slack >= 0


def check_conditions(thm: Theorem, values: Mapping[str, float]) -> list[ConditionResult]:
    """Evaluate every condition at ``values``: both sides, slack, holds or not."""
    out = []
    for c in thm.conditions:
        slack = evaluate_slack(thm, c, values)
        lhs = _side(thm, c.lhs, values)
        rhs = _side(thm, c.rhs, values)
        out.append(ConditionResult(c, lhs, rhs, float(slack), condition_holds(c, float(slack))))
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
        return float(e.subs(subs).evalf())
    except (TypeError, ValueError):
        return float("nan")
