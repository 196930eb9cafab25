"""Registry-wide contracts every encoded theorem must meet."""

from __future__ import annotations

import math
import re

import pytest

from boundcheck.dims import check_expr
from boundcheck.theory import registry, stepsize
from boundcheck.theory import symbols as S
from boundcheck.theory.core import ConditionKind, Direction
from boundcheck.theory.evaluate import check_conditions, evaluate_bound

THEOREMS = registry.all_theorems()
IDS = [t.id for t in THEOREMS]
EVALUABLE = [t for t in THEOREMS if t.bound is not None or t.conditions]


def test_every_paper_is_encoded():
    assert {t.paper for t in THEOREMS} >= {"QAFeL", "FedPAQ", "SAEF", "AsyncBC"}


@pytest.mark.parametrize("thm", THEOREMS, ids=IDS)
def test_ids_and_sources_follow_the_conventions(thm):
    assert re.fullmatch(r"(qafel|fedpaq|saef|asyncbc)\.[a-z0-9_]+", thm.id)
    assert thm.id.split(".")[0] == thm.paper.lower()
    assert thm.source.startswith(thm.paper)
    assert thm.statement and "\n" not in thm.statement
    if thm.direction is Direction.ORDER:
        assert thm.order is not None and thm.bound is None
        if thm.order.explicit is not None:
            assert thm.order.explicit in IDS
    else:
        assert thm.bound is not None


@pytest.mark.parametrize("thm", THEOREMS, ids=IDS)
def test_every_symbol_is_catalogued_with_a_dimension(thm):
    dims = S.dimensions()
    exprs = [c.relation for c in thm.conditions] + [e for _, e in thm.definitions]
    if thm.bound is not None:
        exprs.append(thm.bound)
    for e in exprs:
        missing = [i for i in check_expr(e, dims).issues if "no declared dimension" in i.message]
        assert not missing, missing


@pytest.mark.parametrize("thm", EVALUABLE, ids=[t.id for t in EVALUABLE])
def test_example_values_give_a_finite_bound_and_satisfy_the_stated_conditions(thm):
    assert sorted(thm.example) == thm.parameters(), "example must name exactly the parameters"
    for name, value in thm.example.items():
        S.info(name).validate(value)
    if thm.bound is not None:
        b = evaluate_bound(thm, thm.example)
        assert math.isfinite(b), b
        assert b >= 0 or thm.direction is not Direction.UPPER
    for r in check_conditions(thm, thm.example):
        if r.condition.kind in (ConditionKind.STATED, ConditionKind.PROOF):
            assert r.holds, f"{r.condition.id} fails at the example: slack {r.slack}"


def _solvable():
    out = []
    for t in EVALUABLE:
        for c in t.conditions:
            if c.kind is not ConditionKind.STATED or c.is_equality:
                continue
            for s in sorted(c.relation.free_symbols, key=str):
                if s.name in t.parameters() and S.info(s.name).domain == "positive":
                    out.append(pytest.param(t, c, s.name, id=f"{t.id}:{c.id}:{s.name}"))
    return out


@pytest.mark.parametrize(("thm", "cond", "param"), _solvable())
def test_solved_value_satisfies_its_condition_and_a_slightly_larger_one_does_not(thm, cond, param):
    fixed = {k: v for k, v in thm.example.items() if k != param}
    sol = stepsize.solve_condition(thm, cond, param, fixed)
    assert not sol.empty, "the example value itself is admissible"
    assert sol.contains(thm.example[param]) or math.isclose(
        thm.example[param], sol.largest, rel_tol=1e-9
    )
    top = sol.largest
    if math.isinf(top):
        return
    assert stepsize.holds_at(thm, cond, {**fixed, param: top})
    assert not stepsize.holds_at(thm, cond, {**fixed, param: top * (1 + 1e-6)})
