"""The audit machinery: a check is one self-contained function that decides one claim of a paper.

A check (PEPit style) states the paper's claim with its location, decides it when it is run and
returns a :class:`Result`:

* ``verified`` -- with the simplified identity or the proof object (a SymPy sign decision, an
  exact computation);
* ``refuted`` -- with a counterexample: exact values (or concrete numbers at 50 digits), both sides
  evaluated there, and every hypothesis of the claim shown to hold there;
* ``undecided`` -- with what was tried (e.g. a numeric search that found no counterexample, which is
  evidence, never a proof).

A refuted claim carries a severity: ``typo`` (the step is misprinted, the result stands),
``constant`` (changes a constant), ``order`` (changes an order: a power of T, K, n, delta, ...) or
``invalidates`` (the claim is false and nothing in the paper repairs it).

The deciders below are reusable: :func:`identity`, :func:`inequality` (exact where SymPy can decide
the sign, else a numeric search over the admissible region whose counterexample is re-checked in
exact arithmetic), :func:`minimiser`, :func:`limit`, :func:`closed_form_sum` and
:func:`conditions_hold` ("the stated stepsize satisfies the proof's conditions for all admissible
constants").
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sympy as sp

__all__ = [
    "SEVERITIES",
    "VERDICTS",
    "Check",
    "Outcome",
    "Region",
    "Result",
    "check",
    "closed_form_sum",
    "conditions_hold",
    "identity",
    "inequality",
    "limit",
    "minimiser",
    "refuted",
    "undecided",
    "verified",
]

VERDICTS = ("verified", "refuted", "undecided")
#: severity key -> what it means (printed by ``boundcheck derive``)
SEVERITIES = {
    "typo": "typo",
    "constant": "changes a constant",
    "order": "changes an order",
    "invalidates": "invalidates the claim",
}

DIGITS = 50  # working precision of every exact-or-concrete comparison


# --- results ----------------------------------------------------------------------------------------
@dataclass
class Result:
    """What a check decided, with the evidence (``details`` is plain data: str / number / dict)."""

    verdict: str
    evidence: str  # one line for the table
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} not in {VERDICTS}")


def verified(evidence: str, **details: Any) -> Result:
    return Result("verified", evidence, details)


def refuted(evidence: str, **details: Any) -> Result:
    return Result("refuted", evidence, details)


def undecided(evidence: str, **details: Any) -> Result:
    return Result("undecided", evidence, details)


@dataclass(frozen=True)
class Check:
    """One claim of a paper and the function that decides it.

    ``severity`` is what a refutation means for the paper (see :data:`SEVERITIES`); it is only
    reported when the check refutes the claim.
    """

    id: str
    paper: str
    location: str
    claim: str
    severity: str
    func: Callable[[], Result]
    subject: str = ""  # the registry theorem id the claim belongs to, if any

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(
                f"check {self.id}: severity {self.severity!r} not in {list(SEVERITIES)}"
            )

    def run(self) -> Outcome:
        try:
            res = self.func()
        except Exception as err:  # a check that cannot decide is undecided, never a crash
            res = undecided(f"the check raised {type(err).__name__}: {err}")
        return Outcome(self, res)


@dataclass
class Outcome:
    check: Check
    result: Result

    @property
    def verdict(self) -> str:
        return self.result.verdict

    def to_dict(self) -> dict[str, Any]:
        c, r = self.check, self.result
        return {
            "id": c.id,
            "paper": c.paper,
            "location": c.location,
            "subject": c.subject,
            "claim": c.claim,
            "verdict": r.verdict,
            "severity": SEVERITIES[c.severity] if r.verdict == "refuted" else None,
            "evidence": r.evidence,
            "details": _plain(r.details),
        }


def check(
    registry: list[Check],
    *,
    id: str,
    paper: str,
    location: str,
    claim: str,
    severity: str,
    subject: str = "",
) -> Callable[[Callable[[], Result]], Callable[[], Result]]:
    """Decorator: register the decorated function as a :class:`Check` in ``registry``."""

    def deco(func: Callable[[], Result]) -> Callable[[], Result]:
        if any(c.id == id for c in registry):
            raise ValueError(f"duplicate check id {id}")
        registry.append(Check(id, paper, location, claim, severity, func, subject))
        return func

    return deco


def _plain(obj: Any) -> Any:
    """Details as JSON-friendly data: SymPy objects become strings (exact) or floats."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, float, str)):
        return obj
    if isinstance(obj, sp.Basic):
        if obj.is_Integer:
            return int(obj)
        return str(obj)
    return str(obj)


# --- exact / concrete evaluation --------------------------------------------------------------------
def num(expr: sp.Expr, at: Mapping[sp.Symbol, Any] | None = None) -> sp.Float:
    """``expr`` at ``at`` (exact substitution, then DIGITS significant digits)."""
    e = sp.sympify(expr)
    if at:
        e = e.subs(dict(at))
    if e.has(sp.Sum):
        e = e.doit()
    return sp.N(e, DIGITS)


def show(x: Any) -> str:
    """A short exact-or-numeric rendering: exact when short, else 12 significant digits."""
    x = sp.sympify(x)
    if isinstance(x, sp.Float) and abs(x) < 10**15:
        r = sp.nsimplify(x, rational=True, tolerance=sp.Float(10) ** (-(DIGITS - 10)))
        if len(str(r)) <= 12:  # a short exact value (6, 1/25) reads better than 0.0400000000000
            x = r
    s = str(x)
    if len(s) <= 24:
        return s
    return str(sp.N(x, 12))


def _exact(v: Any) -> sp.Expr:
    """A float as the exact decimal it prints as (3 significant digits keep counterexamples short)."""
    if isinstance(v, float):
        return sp.Rational(f"{v:.3g}")
    return sp.sympify(v)


def holds_at(rel: sp.Basic, at: Mapping[sp.Symbol, Any]) -> tuple[bool, str]:
    """Whether a relational holds at ``at`` (exact where SymPy decides, else at DIGITS digits)."""
    r = rel.subs(dict(at))
    if r in (sp.true, sp.false):
        return bool(r), str(r)
    lhs, rhs = num(r.lhs), num(r.rhs)
    if isinstance(r, sp.Equality):
        ok = abs(lhs - rhs) <= sp.Float(10) ** (-(DIGITS - 10)) * (1 + abs(rhs))
    elif isinstance(r, sp.StrictLessThan):
        ok = lhs < rhs
    elif isinstance(r, sp.LessThan):
        ok = lhs <= rhs
    elif isinstance(r, sp.StrictGreaterThan):
        ok = lhs > rhs
    else:
        ok = lhs >= rhs
    return bool(ok), f"{show(lhs)} {r.rel_op} {show(rhs)}"


# --- the admissible region ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Region:
    """Where a claim must hold: a box (per symbol ``(lo, hi)``; integers marked) and hypotheses.

    ``box`` maps a symbol to ``(lo, hi)``; a symbol in ``integers`` takes integer values; ``hyps``
    are SymPy relationals that every point must satisfy (points violating one are skipped, and a
    counterexample lists each hypothesis with both sides evaluated).
    """

    box: Mapping[sp.Symbol, tuple[float, float]]
    integers: frozenset[sp.Symbol] = frozenset()
    hyps: tuple[sp.Basic, ...] = ()
    fixed: Mapping[sp.Symbol, Any] = field(default_factory=dict)

    def sample(self, rng: random.Random) -> dict[sp.Symbol, Any]:
        pt: dict[sp.Symbol, Any] = dict(self.fixed)
        for s, (lo, hi) in self.box.items():
            if s in self.integers:
                lo_i, hi_i = math.ceil(lo), math.floor(hi)
                if hi_i > 50 * max(lo_i, 1) and rng.random() < 0.7:  # log-uniform for wide ranges
                    v = round(math.exp(rng.uniform(math.log(max(lo_i, 1)), math.log(hi_i))))
                    pt[s] = sp.Integer(min(max(v, lo_i), hi_i))
                else:
                    pt[s] = sp.Integer(rng.randint(lo_i, hi_i))
            else:
                if lo > 0 and hi / lo > 100 and rng.random() < 0.7:
                    v = math.exp(rng.uniform(math.log(lo), math.log(hi)))
                else:
                    v = rng.uniform(lo, hi)
                pt[s] = _exact(v)
        return pt

    def corners(self) -> Iterable[dict[sp.Symbol, Any]]:
        """Points at the ends of every interval (first, last: at most 2^k for small k)."""
        syms = list(self.box)
        if len(syms) > 8:
            return []
        out = []
        for mask in range(2 ** len(syms)):
            pt = dict(self.fixed)
            for i, s in enumerate(syms):
                lo, hi = self.box[s]
                v = hi if mask >> i & 1 else lo
                pt[s] = sp.Integer(int(v)) if s in self.integers else _exact(float(v))
            out.append(pt)
        return out

    def admits(self, pt: Mapping[sp.Symbol, Any]) -> bool:
        return all(holds_at(h, pt)[0] for h in self.hyps)

    def hypotheses_at(self, pt: Mapping[sp.Symbol, Any]) -> list[str]:
        out = []
        for h in self.hyps:
            ok, txt = holds_at(h, pt)
            out.append(f"{h}: {txt} ({'holds' if ok else 'FAILS'})")
        return out


def point_text(pt: Mapping[sp.Symbol, Any]) -> str:
    return ", ".join(f"{s} = {show(v)}" for s, v in pt.items())


# --- deciders ---------------------------------------------------------------------------------------
def identity(
    claimed: sp.Expr,
    derived: sp.Expr,
    *,
    region: Region | None = None,
    what: str = "claimed = derived",
) -> Result:
    """Decide ``claimed == derived`` identically.

    Verified with ``simplify(claimed - derived) = 0``; refuted with the simplified difference and
    a point of ``region`` (first admissible sample) where the two sides differ, both evaluated.
    """
    diff = sp.simplify(sp.sympify(claimed) - sp.sympify(derived))
    if diff == 0:
        return verified(f"{what}: simplify(claimed - derived) = 0", difference="0")
    ratio = sp.simplify(sp.sympify(derived) / sp.sympify(claimed)) if claimed != 0 else None
    details: dict[str, Any] = {"difference": diff, "derived/claimed": ratio}
    if region is not None:
        rng = random.Random(0)
        for _ in range(200):
            pt = region.sample(rng)
            if not region.admits(pt):
                continue
            c, d = num(claimed, pt), num(derived, pt)
            if not (c.is_number and d.is_number):
                continue
            if abs(c - d) > sp.Float(10) ** (-(DIGITS - 10)) * (1 + abs(d)):
                details.update(
                    point=point_text(pt),
                    claimed_value=show(c),
                    derived_value=show(d),
                    hypotheses=region.hypotheses_at(pt),
                )
                return refuted(
                    f"{what} fails: claimed {show(c)} vs derived {show(d)} at {point_text(pt)}",
                    **details,
                )
        return undecided(f"difference {diff} is nonzero symbolically but no admissible point found")
    return refuted(f"{what} fails: derived - claimed = {show(-diff)}", **details)


def _sign_decided(expr: sp.Expr) -> bool | None:
    """True when SymPy proves ``expr >= 0`` from the symbols' assumptions."""
    try:
        for form in (expr, sp.simplify(expr), sp.factor(sp.together(expr))):
            if form.is_nonnegative:
                return True
            if form.is_negative:
                return False
    except Exception:  # SymPy may fail on Min/Max/floor; the numeric search takes over
        return None
    return None


def inequality(
    lhs: sp.Expr,
    rhs: sp.Expr,
    region: Region,
    *,
    what: str = "lhs <= rhs",
    samples: int = 1500,
    seed: int = 0,
    extra_points: Sequence[Mapping[sp.Symbol, Any]] = (),
    symbolic: bool = True,
) -> Result:
    """Decide ``lhs <= rhs`` at every point of ``region``.

    1. SymPy sign decision of ``rhs - lhs`` from the symbols' declared assumptions (only sound when
       the box does not restrict the symbols further than their assumptions; pass
       ``symbolic=False`` otherwise) -> verified with the simplified slack;
    2. otherwise a numeric search: the given points, the box corners and ``samples`` random
       (log-uniform over wide ranges) admissible points, then a local refinement around the
       worst; the worst point is re-evaluated exactly (rational inputs, DIGITS digits) with every
       hypothesis -> refuted with it, or undecided (what was tried).
    """
    slack = sp.sympify(rhs) - sp.sympify(lhs)
    if symbolic and not region.hyps:
        s = _sign_decided(slack)
        if s:
            return verified(f"{what}: SymPy proves rhs - lhs >= 0", slack=sp.simplify(slack))
    pts = [{**region.fixed, **p} for p in extra_points] + list(region.corners())
    rng = random.Random(seed)
    pts += [region.sample(rng) for _ in range(samples)]
    fast = _vector(slack, region.hyps, pts)
    # the given points first (in order), then the most negative candidates
    n_extra = len(extra_points)
    order = list(range(n_extra)) + sorted(range(n_extra, len(pts)), key=lambda i: fast[i])
    tried = sum(1 for v in fast if v != math.inf)
    worst = min(fast, default=math.inf)
    for i in order[: n_extra + 25]:  # re-check the candidates exactly, in order
        if not fast[i] < 0:
            if i < n_extra:
                continue
            break
        pt = pts[i]
        if not region.admits(pt):
            continue
        exact = num(slack, pt)
        if exact.is_number and exact < 0:
            lv, rv = num(lhs, pt), num(rhs, pt)
            return refuted(
                f"{what} fails at {point_text(pt)}: lhs = {show(lv)} > rhs = {show(rv)}",
                point=point_text(pt),
                lhs=show(lv),
                rhs=show(rv),
                hypotheses=region.hypotheses_at(pt),
            )
    return undecided(
        f"{what}: no SymPy proof; no counterexample in {tried} admissible points"
        + (f" (smallest slack {worst:.3g})" if math.isfinite(worst) else ""),
        tried=tried,
    )


def _as_float(v: sp.Expr) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):  # complex or symbolic: not a usable point
        return math.inf


def _vector(slack: sp.Expr, hyps: Sequence[sp.Basic], pts: list[dict]) -> list[float]:
    """Float slack at every point (inf where a hypothesis fails or the value is not finite)."""
    import numpy as np

    expr = slack.doit() if slack.has(sp.Sum) else slack
    syms = sorted(set(expr.free_symbols).union(*[h.free_symbols for h in hyps]), key=str)
    if not pts:
        return []
    cols = [np.array([float(p.get(s, np.nan)) for p in pts]) for s in syms]
    with np.errstate(all="ignore"):
        try:
            vals = np.broadcast_to(
                np.asarray(sp.lambdify(syms, expr, "numpy")(*cols), dtype=float), (len(pts),)
            ).copy()
        except (TypeError, ValueError, ZeroDivisionError):
            vals = np.array([_as_float(num(expr, p)) for p in pts], dtype=float)
        ok = np.isfinite(vals)
        for h in hyps:
            hv = sp.lambdify(syms, h.lhs - h.rhs, "numpy")(*cols)
            hv = np.broadcast_to(np.asarray(hv, dtype=float), (len(pts),))
            tol = 1e-12 * (1 + np.abs(hv))
            if isinstance(h, sp.Equality):
                ok &= np.abs(hv) <= tol
            elif isinstance(h, (sp.LessThan, sp.StrictLessThan)):
                ok &= hv <= tol
            else:
                ok &= hv >= -tol
    vals[~ok] = np.inf
    return [float(v) for v in vals]


def minimiser(
    expr: sp.Expr,
    var: sp.Symbol,
    claimed_argmin: sp.Expr,
    claimed_min: sp.Expr,
    *,
    region: Region,
    what: str = "",
) -> Result:
    """Decide a claim "``min_var expr`` is attained at ``claimed_argmin`` with value ``claimed_min``".

    The argmin is checked by ``d expr / d var = 0`` there (simplified) and by comparing with the
    value at nearby points; the value by :func:`identity`. Refuted with the exact minimum (when the
    argmin is right) or with a point where ``expr`` is below the claimed minimum.
    """
    label = what or f"min over {var}"
    deriv = sp.simplify(sp.diff(expr, var).subs(var, claimed_argmin))
    value = sp.simplify(expr.subs(var, claimed_argmin))
    argmin_ok = deriv == 0
    value_ok = sp.simplify(value - claimed_min) == 0
    details: dict[str, Any] = {
        "derivative_at_claimed_argmin": deriv,
        "value_at_claimed_argmin": value,
        "claimed_min": claimed_min,
    }
    if argmin_ok and value_ok:
        return verified(
            f"{label}: d/d{var} = 0 at {claimed_argmin} and the value there simplifies to the "
            "claimed minimum",
            **details,
        )
    rng = random.Random(0)
    for _ in range(200):
        pt = region.sample(rng)
        if not region.admits(pt):
            continue
        v_claim = num(claimed_min, pt)
        v_true = num(value, pt)
        if not (v_claim.is_number and v_true.is_number):
            continue
        if not value_ok and abs(v_claim - v_true) > sp.Float(10) ** (-30) * (1 + abs(v_true)):
            details.update(
                point=point_text(pt),
                claimed_min_value=show(v_claim),
                value_at_argmin=show(v_true),
                hypotheses=region.hypotheses_at(pt),
            )
            head = "argmin right, " if argmin_ok else "argmin wrong, "
            return refuted(
                f"{label}: {head}minimum is {value} (= {show(v_true)}), not {claimed_min} "
                f"(= {show(v_claim)}) at {point_text(pt)}",
                **details,
            )
        if not argmin_ok:
            d = num(deriv, pt)
            if d != 0:
                details.update(point=point_text(pt), derivative=show(d))
                return refuted(
                    f"{label}: claimed argmin is not stationary: derivative {show(d)} at "
                    f"{point_text(pt)}",
                    **details,
                )
    return undecided(f"{label}: could not find an admissible point to exhibit the difference")


def limit(expr: sp.Expr, var: sp.Symbol, point: Any, claimed: sp.Expr, *, what: str = "") -> Result:
    """Decide ``lim_{var -> point} expr == claimed`` (SymPy's limit, compared by simplify)."""
    lim = sp.limit(expr, var, point)
    label = what or f"limit as {var} -> {point}"
    if sp.simplify(lim - claimed) == 0:
        return verified(f"{label} = {claimed} (SymPy limit)", limit=lim)
    return refuted(f"{label} is {lim}, not {claimed}", limit=lim, claimed=claimed)


def closed_form_sum(
    summation: sp.Sum,
    claimed: sp.Expr,
    *,
    relation: str = "==",
    region: Region | None = None,
    what: str = "",
    extra_points: Sequence[Mapping[sp.Symbol, Any]] = (),
) -> Result:
    """Decide a closed form (``==``) or a bound (``<=``) of a finite sum ``summation``.

    The sum is evaluated by SymPy (``doit``); ``==`` goes to :func:`identity`, ``<=`` to
    :func:`inequality` over ``region``.
    """
    closed = sp.simplify(summation.doit())
    label = what or f"{summation} {relation} {claimed}"
    if relation == "==":
        res = identity(claimed, closed, region=region, what=label)
    else:
        if region is None:
            raise ValueError("a bound on a sum needs a region")
        res = inequality(closed, claimed, region, what=label, extra_points=extra_points)
    res.details.setdefault("closed_form", closed)
    return res


def conditions_hold(
    conditions: Mapping[str, sp.Basic],
    substitution: Mapping[sp.Symbol, sp.Expr],
    region: Region,
    *,
    what: str = "the stated stepsize satisfies the proof's conditions",
    samples: int = 1500,
    extra_points: Sequence[Mapping[sp.Symbol, Any]] = (),
) -> Result:
    """Decide that, after ``substitution`` (the stated stepsize), every condition holds on ``region``.

    Each condition (a ``<=``/``>=`` relational) is decided by :func:`inequality`; refuted as soon as
    one fails, naming it, with the constants where it fails and the other conditions evaluated there.
    """
    results = {}
    for name, rel in conditions.items():
        r = rel.subs(dict(substitution))
        if r in (sp.true, sp.false):
            results[name] = (
                verified("decided by substitution") if r else refuted(f"{name} is false")
            )
            continue
        lhs, rhs = (
            (r.lhs, r.rhs)
            if isinstance(r, (sp.LessThan, sp.StrictLessThan))
            else (
                r.rhs,
                r.lhs,
            )
        )
        res = inequality(
            lhs, rhs, region, what=name, samples=samples, extra_points=extra_points, symbolic=False
        )
        results[name] = res
        if res.verdict == "refuted":
            res.details["conditions"] = {n: v.verdict for n, v in results.items()}
            return refuted(f"{what}: {res.evidence}", failing=name, **res.details)
    verdicts = {n: v.verdict for n, v in results.items()}
    if all(v == "verified" for v in verdicts.values()):
        return verified(f"{what}: every condition proved", conditions=verdicts)
    return undecided(
        f"{what}: no counterexample found ({'; '.join(v.evidence for v in results.values())})",
        conditions=verdicts,
    )
