"""The data types of the symbolic layer: a theorem is data (DESIGN.md, "Core ideas").

A :class:`Theorem` holds, exactly as published, the bound, the stepsize conditions, the auxiliary
definitions the bound refers to (``alpha_P``, ``C_1``, ``k_0``, ...), the assumptions, the measured
left-hand side (a :class:`Quantity`), the direction of the inequality and notes on every reading of
an ambiguous text. Numeric evaluation goes through :mod:`boundcheck.theory.evaluate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import sympy as sp

from boundcheck.dims import Dim


class Direction(str, Enum):
    """What the theorem asserts about ``lhs`` relative to ``bound``."""

    UPPER = "upper"  # lhs <= bound
    LOWER = "lower"  # lhs >= bound
    NONCONVERGENCE = "nonconvergence"  # lhs >= bound and bound does not tend to 0
    ORDER = "order"  # an O(.) statement, see OrderClaim


class ConditionKind(str, Enum):
    STATED = "stated"  # the condition exactly as the paper states it
    SIMPLIFIED = "simplified"  # the paper's simpler sufficient form
    PROOF = "proof"  # a condition used inside the proof but not stated in the theorem
    STEPSIZE = "stepsize"  # the stepsize choice the theorem prescribes (an equality or schedule)


@dataclass(frozen=True)
class Assumption:
    """A hypothesis of a theorem, e.g. 'FedPAQ Assumption 2: f_i is L-smooth'."""

    id: str
    source: str
    statement: str


@dataclass(frozen=True)
class Quantity:
    """A measured left-hand side, defined once and precisely (which iterates, which average)."""

    id: str
    text: str  # readable formula, e.g. "1/T sum_{t=0}^{T-1} E||grad f(x^t)||^2"
    definition: str  # in words: the iterates, the average, the expectation
    dim: Dim


@dataclass(frozen=True)
class Condition:
    """A stepsize (or parameter) condition ``relation``, e.g. ``Le(eta_g, 1/L)``.

    ``relation`` is a SymPy relational (``<=``, ``<``, ``>=``, ``>``, or ``Eq`` for a prescribed
    stepsize). ``kind`` says whether it is the stated condition, the paper's simplified sufficient
    form, one used inside the proof, or the prescribed stepsize.
    """

    id: str
    source: str
    relation: sp.Basic
    kind: ConditionKind = ConditionKind.STATED
    description: str = ""

    @property
    def lhs(self) -> sp.Expr:
        return self.relation.lhs

    @property
    def rhs(self) -> sp.Expr:
        return self.relation.rhs

    @property
    def slack(self) -> sp.Expr:
        """An expression that is >= 0 exactly when the condition holds (== 0 for ``Eq``)."""
        r = self.relation
        if isinstance(r, (sp.LessThan, sp.StrictLessThan)):
            return r.rhs - r.lhs
        if isinstance(r, (sp.GreaterThan, sp.StrictGreaterThan)):
            return r.lhs - r.rhs
        if isinstance(r, sp.Equality):
            return r.rhs - r.lhs
        raise TypeError(f"condition {self.id}: unsupported relation {type(r).__name__}")

    @property
    def strict(self) -> bool:
        return isinstance(self.relation, (sp.StrictLessThan, sp.StrictGreaterThan))

    @property
    def is_equality(self) -> bool:
        return isinstance(self.relation, sp.Equality)


@dataclass(frozen=True, eq=False)
class OrderClaim:
    """An ``O(.)`` statement: ``lhs = O(sum(terms))`` as ``variable -> oo`` under ``scalings``.

    ``scalings`` maps a parameter to the expression it is set to (up to constants), e.g.
    ``eta_l -> 1/(K sqrt(T P))``. ``explicit`` names the theorem whose explicit bound this summarises
    (if any) so the claim can be checked against it: substituting the scalings into the explicit bound
    must give something ``O(sum(terms))``.
    """

    terms: tuple[sp.Expr, ...]
    variable: sp.Symbol
    scalings: Mapping[sp.Symbol, sp.Expr] = field(default_factory=dict)
    explicit: str | None = None
    absorbed: tuple[sp.Symbol, ...] = ()  # constants the paper assimilates into O(.)

    @property
    def rate(self) -> sp.Expr:
        return sp.Add(*self.terms)


@dataclass(frozen=True, eq=False)
class Theorem:
    """One published statement, encoded exactly as published (errors included).

    ``definitions`` are auxiliary symbols in the order they must be substituted (later ones may use
    earlier ones), e.g. ``alpha_P := sum_p eta_l^(p)``. ``example`` holds documented example values at
    which the bound is finite and (where possible) every stated condition holds; tests use it.
    Theorems compare and hash by identity: each is a module-level singleton.
    """

    id: str
    paper: str  # "QAFeL", "FedPAQ", "SAEF", "AsyncBC"
    source: str  # the paper's own numbering, e.g. "QAFeL Theorem F.1, eq. (9)"
    title: str
    statement: str  # one line
    lhs: Quantity
    direction: Direction
    bound: sp.Expr | None = None
    conditions: tuple[Condition, ...] = ()
    assumptions: tuple[Assumption, ...] = ()
    definitions: tuple[tuple[sp.Symbol, sp.Expr], ...] = ()
    order: OrderClaim | None = None
    notes: tuple[str, ...] = ()
    example: Mapping[str, float] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)

    def expand(self, expr: sp.Expr) -> sp.Expr:
        """Substitute every definition into ``expr`` (last definition first, so chains resolve)."""
        for sym, value in reversed(self.definitions):
            expr = expr.subs(sym, value)
        return expr

    @property
    def defined_symbols(self) -> set[sp.Symbol]:
        return {s for s, _ in self.definitions}

    @property
    def expanded_bound(self) -> sp.Expr | None:
        return None if self.bound is None else self.expand(self.bound)

    def parameters(self, include_conditions: bool = True) -> list[str]:
        """Names of the free parameters a user must supply, sorted."""
        exprs: list[sp.Expr] = []
        if self.bound is not None:
            exprs.append(self.expand(self.bound))
        if include_conditions:
            exprs += [self.expand(c.slack) for c in self.conditions]
        free: set[sp.Symbol] = set()
        for e in exprs:
            free |= {s for s in e.free_symbols if isinstance(s, sp.Symbol)}
        bound_vars: set[sp.Symbol] = set()
        for e in exprs:
            for s in e.atoms(sp.Sum, sp.Product):
                bound_vars |= {lim[0] for lim in s.limits}
        return sorted(s.name for s in free - bound_vars)


@dataclass
class Finding:
    """A result worth reporting: a dimension mismatch, a violated bound, a refuted step, ..."""

    kind: str  # "dimension", "algebra", "order", "bound_violated", "condition", "diverged", ...
    subject: str  # theorem id, derivation id, compressor name
    severity: str  # "error" (the statement is wrong), "warning", "info"
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "subject": self.subject,
            "severity": self.severity,
            "message": self.message,
            "evidence": self.evidence,
        }
