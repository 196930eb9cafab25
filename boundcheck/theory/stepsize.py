"""Solve a theorem's conditions for one parameter with the others fixed (``boundcheck stepsize``).

For a condition with slack ``s(p)`` (``s >= 0`` iff the condition holds), the admissible set of the
free parameter ``p`` is ``{p in domain(p) : s(p) >= 0}``. It is found numerically and robustly:

1. ``s`` is evaluated on a log-spaced grid over the domain (``1e-12 .. 1e12`` for positive reals,
   the integers ``1 .. 10^6`` (then log-spaced to ``1e12``) for counts, ``(0, 1]`` for
   compression parameters);
2. every sign change between neighbouring grid points is refined to machine precision by bisection
   (Brent's method for reals, integer bisection for counts);
3. the admissible set is returned as a union of closed intervals.

The largest admissible value is the supremum of the set (``inf`` if unbounded). Features narrower
than the grid spacing (about 0.6% relative for reals) can be missed; the grid is fine enough for
the stepsize conditions in the four papers, which are monotone or unimodal in each stepsize.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from boundcheck.errors import ParameterError
from boundcheck.theory import symbols as S
from boundcheck.theory.core import Condition, ConditionKind, Theorem
from boundcheck.theory.evaluate import condition_holds, evaluate_slack, slack_function

Interval = tuple[float, float]

#: relative tolerance of the root finder: the smallest SciPy's ``brentq`` accepts (4 eps)
_RTOL = 4 * float(np.finfo(float).eps)


@dataclass(frozen=True)
class Solution:
    """Admissible set of ``param`` for one condition (or an intersection)."""

    param: str
    intervals: tuple[Interval, ...]
    label: str  # condition id, or "all stated" for an intersection

    @property
    def empty(self) -> bool:
        return not self.intervals

    @property
    def largest(self) -> float | None:
        return self.intervals[-1][1] if self.intervals else None

    @property
    def smallest(self) -> float | None:
        return self.intervals[0][0] if self.intervals else None

    def contains(self, v: float) -> bool:
        return any(a <= v <= b for a, b in self.intervals)


def _grid(domain: str) -> np.ndarray:
    if domain in ("count", "count0"):
        lo = 0 if domain == "count0" else 1
        small = np.arange(lo, 100_001, dtype=float)
        big = np.unique(np.round(np.logspace(5, 12, 700)))
        return np.unique(np.concatenate([small, big]))
    if domain in ("unit", "open_unit"):
        g = np.concatenate([np.logspace(-12, -1e-9, 4000), [1.0]])
        return g if domain == "unit" else g[:-1]
    if domain == "unit0":
        return np.concatenate([[0.0], np.logspace(-12, math.log10(1 - 1e-12), 4000)])
    if domain == "nonneg":
        return np.concatenate([[0.0], np.logspace(-12, 12, 4000)])
    if domain == "positive":
        return np.logspace(-12, 12, 4000)
    return np.concatenate([-np.logspace(12, -12, 2000), [0.0], np.logspace(-12, 12, 2000)])


def _slack_fn(thm: Theorem, cond: Condition, param: str, fixed: Mapping[str, float]):
    def f(v):
        vals = dict(fixed)
        vals[param] = v
        out = evaluate_slack(thm, cond, vals)
        return np.broadcast_to(np.asarray(out, dtype=float), np.shape(v)) if np.ndim(v) else out

    return f


def _refine(
    f, a: float, b: float, integer: bool, want_ok_at_b: bool, strict: bool = False
) -> float:
    """The boundary between ``a`` and ``b``: the last admissible point (closed interval ends)."""
    fa_ok = f(a) > 0 if strict else f(a) >= 0
    if integer:
        lo, hi = int(a), int(b)  # invariant: ok(lo) == fa_ok, ok(hi) != fa_ok
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if (f(float(mid)) > 0 if strict else f(float(mid)) >= 0) == fa_ok:
                lo = mid
            else:
                hi = mid
        return float(hi if want_ok_at_b else lo)
    from scipy.optimize import brentq  # SciPy only when solving (a fast start for the CLI)

    try:
        r = brentq(f, a, b, xtol=1e-300, rtol=_RTOL, maxiter=500)
    except ValueError:  # a non-finite slack at one end: fall back to bisection
        lo, hi = a, b
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            if (f(mid) >= 0) == fa_ok:
                lo = mid
            else:
                hi = mid
        r = hi if want_ok_at_b else lo
    # make sure the reported end is itself admissible (strictly inside for a strict condition)
    step = 0
    while not (f(r) > 0 if strict else f(r) >= 0) and step < 64:
        r = np.nextafter(r, a if fa_ok else b)
        step += 1
    return float(r)


def solve_condition(
    thm: Theorem, cond: Condition, param: str, fixed: Mapping[str, float]
) -> Solution:
    """The set of values of ``param`` satisfying ``cond`` with ``fixed`` values for the rest."""
    info = S.info(param)
    integer = info.domain in ("count", "count0")
    grid = _grid(info.domain)
    f = _slack_fn(thm, cond, param, fixed)
    s = np.asarray(f(grid), dtype=float)
    ok = np.isfinite(s) & (s >= 0) if not cond.strict else np.isfinite(s) & (s > 0)
    if cond.is_equality:
        return _solve_equality(f, grid, s, param, cond.id, integer)
    intervals: list[Interval] = []
    i = 0
    nxt = len(grid)
    while i < len(grid):
        if not ok[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(grid) and ok[j + 1]:
            j += 1
        lo = grid[i] if i == 0 else _refine(f, grid[i - 1], grid[i], integer, True, cond.strict)
        if i == 0 and info.domain in ("positive", "unit", "open_unit"):
            lo = 0.0  # admissible from the bottom of the grid: the open end of the domain
        hi = (
            grid[j]
            if j == nxt - 1
            else _refine(f, grid[j], grid[j + 1], integer, False, cond.strict)
        )
        if j == nxt - 1 and info.domain in ("positive", "nonneg", "count", "count0", "real"):
            hi = math.inf  # admissible up to the end of the grid: report as unbounded
        intervals.append((float(lo), float(hi)))
        i = j + 1
    return Solution(param, tuple(intervals), cond.id)


def _solve_equality(f, grid, s, param: str, label: str, integer: bool) -> Solution:
    """Where ``f == 0``: isolated roots (sign changes, refined by Brent's method) and whole
    intervals where the slack is exactly zero (``eta = min(a, b(L))`` holds for every small
    ``L`` where ``a`` is the minimum)."""
    from scipy.optimize import brentq

    out: list[Interval] = []
    zero = np.isfinite(s) & (s == 0)
    k = 0
    n = len(grid)
    while k < n:
        if zero[k]:
            j = k
            while j + 1 < n and zero[j + 1]:
                j += 1
            if j > k:  # a run of exact zeros: an interval, its ends refined by bisection
                lo = grid[k] if k == 0 else _zero_edge(f, grid[k - 1], grid[k], integer)
                hi = grid[j] if j == n - 1 else _zero_edge(f, grid[j + 1], grid[j], integer)
                out.append((float(lo), float(hi)))
            else:
                out.append((float(grid[k]), float(grid[k])))
            k = j + 1
            continue
        if k + 1 < n and np.isfinite(s[k]) and np.isfinite(s[k + 1]) and s[k] * s[k + 1] < 0:
            a, b = grid[k], grid[k + 1]
            r = (
                round(brentq(f, a, b))
                if integer
                else brentq(f, a, b, xtol=1e-300, rtol=_RTOL, maxiter=500)
            )
            if abs(f(float(r))) <= 1e-9 * max(1.0, abs(r)):
                out.append((float(r), float(r)))
        k += 1
    return Solution(param, tuple(sorted(set(out))), label)


def _zero_edge(f, outside: float, inside: float, integer: bool) -> float:
    """The last point from ``inside`` towards ``outside`` where ``f`` is exactly zero."""
    for _ in range(200):
        if integer and abs(inside - outside) <= 1:
            break
        mid = round(0.5 * (outside + inside)) if integer else 0.5 * (outside + inside)
        if mid in (outside, inside):
            break
        if f(float(mid)) == 0:
            inside = mid
        else:
            outside = mid
    return float(inside)


def intersect(solutions: list[Solution], label: str) -> Solution:
    """The intersection of several admissible sets of the same parameter."""
    if not solutions:
        raise ValueError("nothing to intersect")
    cur = list(solutions[0].intervals)
    for sol in solutions[1:]:
        nxt = []
        for a, b in cur:
            for c, d in sol.intervals:
                lo, hi = max(a, c), min(b, d)
                if lo <= hi:
                    nxt.append((lo, hi))
        cur = nxt
    return Solution(solutions[0].param, tuple(sorted(cur)), label)


def required_kinds() -> tuple[ConditionKind, ...]:
    """Condition kinds that decide whether a point is admissible: the stated conditions and the
    prescribed stepsize. The paper's SIMPLIFIED forms are sufficient, not required (a point that
    meets the stated condition is admissible even where it misses them), and PROOF conditions are
    not hypotheses of the stated theorem: both are reported, neither decides."""
    return (ConditionKind.STATED, ConditionKind.STEPSIZE)


def solve(
    thm: Theorem, param: str, fixed: Mapping[str, float]
) -> tuple[list[Solution], Solution | None, Solution | None]:
    """Solve every condition of ``thm`` that involves ``param``.

    Returns the per-condition solutions (every kind), the intersection over the required conditions
    (stated, prescribed stepsize: :func:`required_kinds`) and the intersection over the simplified
    sufficient forms (None where there are none).
    """
    if param not in thm.parameters():
        raise ParameterError(
            f"--solve-for {param}: {thm.id} has no parameter {param}; "
            f"it takes: {', '.join(thm.parameters())}"
        )
    per: list[Solution] = []
    req: list[Solution] = []
    simp: list[Solution] = []
    for c in thm.conditions:
        if param not in slack_function(thm, c)[1]:
            continue
        sol = solve_condition(thm, c, param, fixed)
        per.append(sol)
        if c.kind in required_kinds():
            req.append(sol)
        elif c.kind is ConditionKind.SIMPLIFIED:
            simp.append(sol)
    both = intersect(req, "all required conditions") if req else None
    simple = intersect(simp, "all simplified conditions") if simp else None
    return per, both, simple


def holds_at(thm: Theorem, cond: Condition, values: Mapping[str, float]) -> bool:
    return condition_holds(cond, float(evaluate_slack(thm, cond, values)))
