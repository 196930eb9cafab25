"""Physical dimensions of optimisation quantities, and a checker for SymPy expressions.

Two base dimensions suffice for every bound in the four papers:

* ``[X]`` -- a length in parameter space (``x``, ``||x - x*||``),
* ``[F]`` -- an objective value (``f(x)``, ``f(x0) - f*``).

Derived dimensions follow: a gradient is ``[F]/[X]``, the smoothness constants ``L`` and ``mu`` are
``[F]/[X]^2``, a stepsize that multiplies a gradient to give a step is ``[X]^2/[F]``, and a variance
of a stochastic gradient (``sigma^2``, ``G``, ``M^2``) is ``[F]^2/[X]^2``.  Counts and compression
parameters are dimensionless.

A dimensionally inconsistent expression cannot be a correct theorem for every choice of units: if the
problem is rescaled (``x -> a x``, ``f -> b f``), the two sides of the inequality scale differently.
The checker therefore reports every place where dimensions disagree as a :class:`DimIssue`, never as
an exception, so that the registry-wide ``boundcheck dims`` lists all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp

__all__ = [
    "DIMENSIONLESS",
    "GRAD",
    "GRAD2",
    "SMOOTH",
    "STEP",
    "Dim",
    "DimIssue",
    "DimResult",
    "F",
    "X",
    "check_expr",
    "check_relation",
    "identify_f_with_x2",
]


@dataclass(frozen=True)
class Dim:
    """A dimension ``[X]^x [F]^f`` with rational exponents."""

    x: Fraction = Fraction(0)
    f: Fraction = Fraction(0)

    def __post_init__(self) -> None:
        object.__setattr__(self, "x", Fraction(self.x))
        object.__setattr__(self, "f", Fraction(self.f))

    def __mul__(self, other: Dim) -> Dim:
        return Dim(self.x + other.x, self.f + other.f)

    def __truediv__(self, other: Dim) -> Dim:
        return Dim(self.x - other.x, self.f - other.f)

    def __pow__(self, k: Fraction | int) -> Dim:
        k = Fraction(k)
        return Dim(self.x * k, self.f * k)

    @property
    def dimensionless(self) -> bool:
        return self.x == 0 and self.f == 0

    def __str__(self) -> str:
        if self.dimensionless:
            return "1"
        parts = []
        for name, e in (("F", self.f), ("X", self.x)):
            if e == 0:
                continue
            parts.append(f"[{name}]" if e == 1 else f"[{name}]^{e}")
        return " ".join(parts)


DIMENSIONLESS = Dim()
X = Dim(1, 0)
F = Dim(0, 1)
GRAD = F / X  # a gradient
GRAD2 = GRAD**2  # squared gradient norm, gradient variance
SMOOTH = F / X**2  # L, mu
STEP = X**2 / F  # a stepsize multiplying a gradient


def identify_f_with_x2(dim: Dim) -> Dim:
    """Project a dimension onto the one-unit system ``[F] = [X]^2`` (an instance with curvature 1)."""
    return Dim(dim.x + 2 * dim.f, 0)


@dataclass(frozen=True)
class DimIssue:
    """One dimensional inconsistency: where it is and the sub-expressions that disagree."""

    where: str
    message: str
    parts: tuple[tuple[str, str], ...] = ()  # (sub-expression, its dimension)

    def __str__(self) -> str:
        detail = "; ".join(f"{e}  ~  {d}" for e, d in self.parts)
        return f"{self.where}: {self.message}" + (f" [{detail}]" if detail else "")


@dataclass
class DimResult:
    """Outcome of a check: the inferred dimension (None if it could not be inferred) and issues."""

    dim: Dim | None
    issues: list[DimIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.issues


def _is_dimless_number(e: sp.Expr) -> bool:
    return bool(e.is_number)


def check_expr(
    expr: sp.Expr, dims: Mapping[sp.Symbol, Dim], where: str = "expression"
) -> DimResult:
    """Infer the dimension of ``expr`` and collect every inconsistency inside it.

    Rules: numbers are dimensionless; every term of a sum and every argument of ``Max``/``Min``/
    ``Piecewise`` branches must agree; a product multiplies dimensions; in ``b**e`` the exponent must
    be dimensionless and, if ``b`` has a dimension, a rational number; arguments of any other function
    (``log``, ``exp``, ``floor``, ``ceiling``, ...) must be dimensionless. Summation indices of
    ``Sum`` are dimensionless. Symbols missing from ``dims`` are reported once.
    """
    issues: list[DimIssue] = []
    d = _infer(sp.sympify(expr), dims, where, issues)
    return DimResult(d, issues)


def check_relation(
    lhs: sp.Expr, rhs: sp.Expr, dims: Mapping[sp.Symbol, Dim], where: str
) -> DimResult:
    """Check both sides of an (in)equality and that they have the same dimension."""
    issues: list[DimIssue] = []
    dl = _infer(sp.sympify(lhs), dims, f"{where} (left side)", issues)
    dr = _infer(sp.sympify(rhs), dims, f"{where} (right side)", issues)
    # comparing against 0 is dimension-free
    against_zero = sp.sympify(lhs) == 0 or sp.sympify(rhs) == 0
    if dl is not None and dr is not None and dl != dr and not against_zero:
        issues.append(
            DimIssue(
                where,
                "the two sides have different dimensions",
                ((str(lhs), str(dl)), (str(rhs), str(dr))),
            )
        )
    return DimResult(dl if dl is not None else dr, issues)


def _agree(
    args: tuple[sp.Expr, ...],
    dims: Mapping[sp.Symbol, Dim],
    where: str,
    issues: list[DimIssue],
    what: str,
) -> Dim | None:
    inferred = [(a, _infer(a, dims, where, issues)) for a in args]
    known = [(a, d) for a, d in inferred if d is not None]
    # a zero term has any dimension
    known = [(a, d) for a, d in known if not (a.is_number and a == 0)]
    if not known:
        return DIMENSIONLESS if inferred else None
    distinct = {d for _, d in known}
    if len(distinct) > 1:
        issues.append(
            DimIssue(where, f"{what} mix dimensions", tuple((str(a), str(d)) for a, d in known))
        )
        return None
    return known[0][1]


def _infer(
    e: sp.Expr, dims: Mapping[sp.Symbol, Dim], where: str, issues: list[DimIssue]
) -> Dim | None:
    if e.is_number:
        return DIMENSIONLESS
    if isinstance(e, sp.Symbol):
        if e in dims:
            return dims[e]
        issues.append(DimIssue(where, f"symbol {e} has no declared dimension"))
        return None
    if isinstance(e, sp.Add):
        return _agree(e.args, dims, where, issues, "terms of a sum")
    if isinstance(e, (sp.Max, sp.Min)):
        return _agree(e.args, dims, where, issues, f"arguments of {type(e).__name__}")
    if isinstance(e, sp.Piecewise):
        for _, cond in e.args:
            if isinstance(cond, sp.core.relational.Relational):
                r = check_relation(cond.lhs, cond.rhs, dims, f"{where} (piecewise condition)")
                issues.extend(r.issues)
        return _agree(tuple(v for v, _ in e.args), dims, where, issues, "branches of a case split")
    if isinstance(e, sp.Mul):
        out = DIMENSIONLESS
        for a in e.args:
            d = _infer(a, dims, where, issues)
            if d is None:
                return None
            out = out * d
        return out
    if isinstance(e, sp.Pow):
        base, ex = e.args
        db = _infer(base, dims, where, issues)
        de = _infer(ex, dims, where, issues)
        if de is not None and not de.dimensionless:
            issues.append(
                DimIssue(where, "an exponent must be dimensionless", ((str(ex), str(de)),))
            )
            return None
        if db is None:
            return None
        if db.dimensionless:
            return DIMENSIONLESS
        if ex.is_Rational:
            return db ** Fraction(int(ex.p), int(ex.q))
        issues.append(
            DimIssue(
                where,
                "a dimensional base raised to a non-numeric power",
                ((str(base), str(db)), (str(ex), "exponent")),
            )
        )
        return None
    if isinstance(e, (sp.Sum, sp.Product)):
        inner_dims = dict(dims)
        for lim in e.limits:
            inner_dims[lim[0]] = DIMENSIONLESS
            for bound in lim[1:]:
                db = _infer(bound, dims, where, issues)
                if db is not None and not db.dimensionless:
                    issues.append(
                        DimIssue(
                            where, "a summation limit must be a count", ((str(bound), str(db)),)
                        )
                    )
        d = _infer(e.function, inner_dims, where, issues)
        if isinstance(e, sp.Product) and d is not None and not d.dimensionless:
            issues.append(DimIssue(where, "a product over an index of a dimensional factor"))
            return None
        return d
    if isinstance(e, (sp.Abs, sp.sign)) and len(e.args) == 1:
        d = _infer(e.args[0], dims, where, issues)
        return d if isinstance(e, sp.Abs) else DIMENSIONLESS
    if isinstance(e, (sp.Function, sp.core.function.Application)):
        for a in e.args:
            d = _infer(a, dims, where, issues)
            if d is not None and not d.dimensionless:
                issues.append(
                    DimIssue(
                        where,
                        f"the argument of {type(e).__name__} must be dimensionless",
                        ((str(a), str(d)),),
                    )
                )
        return DIMENSIONLESS
    if isinstance(e, sp.core.relational.Relational):
        r = check_relation(e.lhs, e.rhs, dims, where)
        issues.extend(r.issues)
        return DIMENSIONLESS
    if isinstance(e, sp.logic.boolalg.BooleanAtom):
        return DIMENSIONLESS
    issues.append(DimIssue(where, f"cannot infer the dimension of {type(e).__name__}: {e}"))
    return None
