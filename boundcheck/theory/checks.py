"""Registry-wide symbolic checks: physical dimensions and order claims.

Every finding is a :class:`~boundcheck.theory.core.Finding` with the offending sub-expressions as
evidence; nothing here raises on a wrong theorem.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import sympy as sp

from boundcheck import dims as D
from boundcheck.theory import symbols as S
from boundcheck.theory.core import Direction, Finding, Theorem


def _issue_findings(thm: Theorem, issues: Iterable[D.DimIssue]) -> list[Finding]:
    return [
        Finding(
            kind="dimension",
            subject=thm.id,
            severity="error",
            message=f"{i.where}: {i.message}",
            evidence={"parts": [{"expr": e, "dim": d} for e, d in i.parts], "source": thm.source},
        )
        for i in issues
    ]


def dimension_findings(thm: Theorem) -> list[Finding]:
    """Check every encoded expression of ``thm`` for dimensional consistency.

    * each definition ``a := expr`` against the declared dimension of ``a``;
    * the bound (as written, definitions as symbols) against the dimension of the measured ``lhs``;
    * both sides of every condition;
    and, inside each, every term of every sum and every argument of max/min and of functions.

    A theorem about one fixed instance with unit curvature declares ``extra["unit_instance"]`` (the
    reason, as text); it is then checked with ``[F] = [X]^2``, the only unit relation such an
    instance implies, so a mismatch in powers of ``[X]`` is still caught.
    """
    dims = S.dimensions()
    lhs_dim = thm.lhs.dim
    if thm.extra.get("unit_instance"):
        # The statement is about one instance whose curvature is fixed to 1 (e.g. f(x) = ||x||^2/2),
        # which ties the units together: [F] = [X]^2. Check in that one-unit system instead.
        dims = {s: D.identify_f_with_x2(dm) for s, dm in dims.items()}
        lhs_dim = D.identify_f_with_x2(lhs_dim)
    issues: list[D.DimIssue] = []
    for sym, expr in thm.definitions:
        issues += D.check_relation(sym, expr, dims, f"definition of {sym}").issues
    if thm.bound is not None:
        r = D.check_expr(thm.bound, dims, "bound")
        issues += r.issues
        # zero is dimension-free (an identity encoded as 'squared residual <= 0')
        if r.dim is not None and r.dim != lhs_dim and thm.bound != 0:
            issues.append(
                D.DimIssue(
                    "bound vs left-hand side",
                    "the bound and the quantity it bounds have different dimensions",
                    ((thm.lhs.text, str(lhs_dim)), (str(thm.bound), str(r.dim))),
                )
            )
    for c in thm.conditions:
        issues += D.check_relation(c.lhs, c.rhs, dims, f"condition {c.id}").issues
    if thm.order is not None:
        for i, term in enumerate(thm.order.terms):
            issues += D.check_expr(term, dims, f"order term {i + 1}").issues
    return _issue_findings(thm, issues)


def order_check(
    thm: Theorem, explicit: Theorem, exponents: Iterable[int] = (6, 8, 10, 12, 14)
) -> tuple[list[Finding], list[dict[str, str]]]:
    """Compare an order claim with the explicit bound it summarises, as ``variable -> oo``.

    The scalings (constants set to 1) are substituted into the explicit bound ``B`` and into the
    claimed rate ``R``; the other parameters take the example values of the two theorems (the order
    claim's own take precedence, then its ``extra["order_example"]``, values of the claim's own
    parameters that its conditions do not involve). If
    ``B/R`` keeps growing along ``variable = 10^6, ..., 10^14`` (each step at least 1.5x the last),
    the claimed rate misses a term of the explicit bound: a finding, with the ratios as evidence.
    Arithmetic is done at 50 significant digits, so no float overflow hides a trend.

    Returns ``(findings, not_checked)``: a comparison the tool cannot make (a parameter without an
    example value, a non-finite value) is a tool limitation, listed in ``not_checked`` with its
    reason, never a finding.
    """
    claim = thm.order
    if claim is None or explicit.bound is None:
        return [], []
    b = explicit.expand(explicit.bound)
    if b.has(sp.Sum):
        b = b.doit()
    subs = dict(claim.scalings)
    b = b.subs(subs)
    rate = claim.rate.subs(subs)
    values = {**explicit.example, **thm.example, **thm.extra.get("order_example", {})}
    base = {S.info(k).symbol: v for k, v in values.items()}
    base.pop(claim.variable, None)
    for s in subs:
        base.pop(s, None)
    unset = sorted(
        str(s) for s in (b.free_symbols | rate.free_symbols) - set(base) - {claim.variable}
    )
    if unset:
        reason = f"order claim vs {explicit.id}: no example value for {', '.join(unset)}"
        return [], [{"subject": thm.id, "reason": reason}]
    ratios = []
    for e in exponents:
        at = dict(base)
        at[claim.variable] = sp.Integer(10) ** e
        num = sp.N(b.subs(at), 50)
        den = sp.N(rate.subs(at), 50)
        if not (num.is_finite and den.is_finite) or den == 0:
            reason = f"order claim vs {explicit.id}: non-finite value at {claim.variable}=1e{e}"
            return [], [{"subject": thm.id, "reason": reason}]
        ratios.append(float(num / den))
    growing = all(b2 >= 1.5 * b1 for b1, b2 in itertools.pairwise(ratios))
    if growing and ratios[-1] > 0:
        return [
            Finding(
                "order",
                thm.id,
                "error",
                f"the explicit bound of {explicit.id} under the stated scalings grows faster than "
                f"the claimed rate as {claim.variable} -> oo",
                {
                    "ratios": dict(zip([f"1e{e}" for e in exponents], ratios, strict=False)),
                    "scalings": {str(k): str(v) for k, v in subs.items()},
                    "claimed_rate": str(claim.rate),
                },
            )
        ], []
    return [], []


def order_findings(
    thm: Theorem, explicit: Theorem, exponents: Iterable[int] = (6, 8, 10, 12, 14)
) -> list[Finding]:
    """The findings of :func:`order_check` (tool limitations left out)."""
    return order_check(thm, explicit, exponents)[0]


def symbolic_findings(
    theorems: Iterable[Theorem], by_id: dict[str, Theorem]
) -> tuple[list[Finding], list[dict[str, str]]]:
    """Dimension findings for every theorem and order-claim findings where an explicit bound
    exists, plus the list of what could not be checked (``{"subject", "reason"}``)."""
    out: list[Finding] = []
    limits: list[dict[str, str]] = []
    for thm in theorems:
        out += dimension_findings(thm)
        if thm.direction is Direction.ORDER and thm.order and thm.order.explicit in by_id:
            found, lim = order_check(thm, by_id[thm.order.explicit])
            out += found
            limits += lim
    return out, limits


def all_findings(theorems: Iterable[Theorem], by_id: dict[str, Theorem]) -> list[Finding]:
    """Dimension findings for every theorem, plus order-claim findings where an explicit bound exists
    (what could not be checked is left out: it is not a finding)."""
    return symbolic_findings(theorems, by_id)[0]
