"""The stepsize solver on conditions whose admissible sets are known in closed form."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.dims import GRAD2
from boundcheck.errors import ParameterError
from boundcheck.theory import stepsize
from boundcheck.theory import symbols as S
from boundcheck.theory.core import Condition, ConditionKind, Direction, Quantity, Theorem
from boundcheck.theory.evaluate import check_conditions, evaluate_bound

Q = Quantity("avg_grad_sq", "1/T sum_t E||grad f(x^t)||^2", "ergodic average", GRAD2)


def toy() -> Theorem:
    """SGD-like toy theorem: eta <= 1/(L (1 + K)), a two-sided quadratic, and T eta >= 5."""
    return Theorem(
        id="toy.thm",
        paper="toy",
        source="toy",
        title="toy",
        statement="toy",
        lhs=Q,
        direction=Direction.UPPER,
        bound=2 * S.F0 / (S.eta * S.T) + S.L * S.eta * S.sigma**2,
        conditions=(
            Condition("c_lin", "toy", sp.Le(S.eta * S.L * (1 + S.K), 1)),
            Condition(
                "c_quad",
                "toy",
                sp.Ge((S.eta * S.L) ** 2 - 3 * S.eta * S.L + 2, 0),
                ConditionKind.SIMPLIFIED,
            ),
            Condition("c_T", "toy", sp.Ge(S.T * S.eta * S.L, 5)),
        ),
    )


positive = st.floats(1e-3, 1e3)


@settings(max_examples=40, deadline=None)
@given(L=positive, K=st.integers(1, 1000))
def test_largest_eta_matches_closed_form_and_is_tight(L, K):
    thm = toy()
    fixed = {"L": L, "K": K, "T": 10**9, "F0": 1.0, "sigma": 1.0}
    per, req, _ = stepsize.solve(thm, "eta", fixed)
    lin = next(s for s in per if s.label == "c_lin")
    truth = 1 / (L * (1 + K))
    assert lin.largest == pytest.approx(truth, rel=1e-12)
    cond = thm.conditions[0]
    assert stepsize.holds_at(thm, cond, {**fixed, "eta": lin.largest})
    assert not stepsize.holds_at(thm, cond, {**fixed, "eta": lin.largest * (1 + 1e-9)})
    # the intersection of required conditions: [5/(T L), 1/(L(1+K))]
    assert req.intervals[0][0] == pytest.approx(5 / (1e9 * L), rel=1e-9)
    assert req.largest == pytest.approx(truth, rel=1e-12)


@settings(max_examples=30, deadline=None)
@given(L=positive)
def test_two_sided_quadratic_gives_two_intervals(L):
    thm = toy()
    sol = stepsize.solve_condition(thm, thm.conditions[1], "eta", {"L": L})
    assert len(sol.intervals) == 2
    (a, b), (c, d) = sol.intervals
    assert a == 0.0 and b == pytest.approx(1 / L, rel=1e-12)
    assert c == pytest.approx(2 / L, rel=1e-12) and math.isinf(d)
    assert sol.contains(0.5 / L) and not sol.contains(1.5 / L) and sol.contains(3 / L)


@settings(max_examples=30, deadline=None)
@given(L=positive, eta=st.floats(1e-4, 1e2))
def test_integer_parameter_solution_is_the_smallest_integer(L, eta):
    thm = toy()
    sol = stepsize.solve_condition(thm, thm.conditions[2], "T", {"L": L, "eta": eta})
    need = 5 / (eta * L)
    smallest = max(1, math.ceil(need - 1e-9 * need))
    if smallest > 10**12:
        assert sol.empty
        return
    assert sol.smallest in (smallest - 1, smallest, smallest + 1)
    assert stepsize.holds_at(thm, thm.conditions[2], {"L": L, "eta": eta, "T": sol.smallest})
    if sol.smallest > 1:
        assert not stepsize.holds_at(
            thm, thm.conditions[2], {"L": L, "eta": eta, "T": sol.smallest - 1}
        )


def test_empty_admissible_set():
    thm = toy()
    fixed = {"L": 1.0, "K": 9, "T": 2, "F0": 1.0, "sigma": 1.0}  # need eta >= 2.5 and eta <= 0.1
    _, req, _ = stepsize.solve(thm, "eta", fixed)
    assert req.empty


def test_conditions_and_bound_at_a_point_match_hand_values():
    thm = toy()
    vals = {"L": 2.0, "K": 3, "T": 100, "F0": 1.5, "sigma": 0.5, "eta": 0.1}
    res = {r.condition.id: r for r in check_conditions(thm, vals)}
    assert res["c_lin"].slack == pytest.approx(1 - 0.1 * 2 * 4)
    assert res["c_lin"].holds
    assert res["c_T"].holds and res["c_T"].slack == pytest.approx(20 - 5)
    assert res["c_quad"].holds and res["c_quad"].slack == pytest.approx(0.2**2 - 0.6 + 2)
    res = {r.condition.id: r for r in check_conditions(thm, {**vals, "eta": 0.75})}
    assert not res["c_quad"].holds  # eta L = 1.5 lies between the roots 1 and 2
    assert not res["c_lin"].holds
    assert evaluate_bound(thm, vals) == pytest.approx(2 * 1.5 / (0.1 * 100) + 2 * 0.1 * 0.25)


def test_solving_for_an_unknown_parameter_is_refused():
    with pytest.raises(ParameterError, match="no parameter"):
        stepsize.solve(toy(), "eta_q", {})
