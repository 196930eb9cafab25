"""``boundcheck.check.falsify`` (issue 13): planted false theorems are falsified, true statements
never are, the certificate's replay agrees with the exact value, bad search spaces are refused."""

from __future__ import annotations

import dataclasses
import json

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.check import falsify as F
from boundcheck.errors import BoundcheckError, ParameterError
from boundcheck.jsonutil import dumps
from boundcheck.theory import registry
from boundcheck.theory.core import Condition, ConditionKind
from boundcheck.theory.symbols import F0, L, T, eta, sigma

THM2 = registry.get("fedpaq.thm2")


def planted(tid: str, bound: sp.Expr) -> object:
    """A statement about gradient descent with Gaussian noise (FedPAQ with tau = 1, no quantizer:
    ``x_{k+1} = x_k - eta (grad f(x_k) + mean of r noises)``), under the one stated condition
    ``eta <= 1/L``; the left-hand side is FedPAQ Theorem 2's ``1/T sum_t E||grad f(x_t)||^2``."""
    return dataclasses.replace(
        THM2,
        id=tid,
        source="planted (tests)",
        statement=f"planted: 1/T sum E||grad f||^2 <= {bound}",
        bound=bound,
        conditions=(
            Condition("eta_le_1_over_L", "descent lemma", sp.Le(eta, 1 / L), ConditionKind.STATED),
        ),
        definitions=(),
        notes=(),
        extra={},
    )


#: the descent-lemma bound (true, and tight at T = 1 on f = L/2 ||x||^2 with eta = 1/L)
TRUE_GD = 2 * F0 / (eta * T) + L * eta * sigma**2

SPACE = {
    "spec": {
        "theorem": "fedpaq.thm2",
        "replicas": 64,
        "seed": 0,
        "problem": {"family": "quadratic_toy", "n": 2, "d": 2, "mu": 0.1, "L": 1.0, "zeta": 0.0},
        "algorithm": {"name": "fedpaq", "eta": 0.1, "tau": 1, "r": 2, "x0": 1.0},
        "sweep": {"K": [10]},
    },
    "binding": "fedpaq.thm2",
    "replicas": 64,
    "set": {"problem.oracle": "gaussian"},
    "free": {
        "problem.n": {"choice": [1, 2, 4]},
        "problem.d": {"int": [1, 3]},
        "problem.mu": {"log": [0.01, 1.0]},
        "problem.noise_var": {"log": [1e-4, 1.0]},
        "algorithm.r": {"int": [1, 4]},
        "algorithm.x0": {"float": [-2.0, 2.0]},
        "algorithm.eta": {"log": [0.01, 1.0]},
        "sweep.K": {"logint": [1, 60]},
    },
}


def test_true_gd_bound_is_never_violated():
    r = F.falsify(planted("planted.gd", TRUE_GD), budget=40, seed=0, space=SPACE)
    assert r.inside >= 10
    assert r.method == "exact"
    assert r.verdict == "holds"
    assert 0.5 < r.best_ratio <= 1.0 + F.EXACT_RTOL  # the search gets close to the tight case


def test_half_of_a_true_bound_is_falsified_with_agreeing_replay():
    r = F.falsify(planted("planted.gd_half", TRUE_GD / 2), budget=40, seed=0, space=SPACE)
    assert r.verdict == "violated" and r.violated
    assert r.best_ratio > 1.1
    cert = r.certificate
    assert cert["method"] == "exact"
    assert cert["replay"]["agrees"] is True
    lo, hi = cert["replay"]["interval_lhs"]
    assert lo <= cert["lhs"] <= hi
    # every stated hypothesis holds at the reported instance
    stated = [h for h in cert["hypotheses"] if h["kind"] in ("stated", "stepsize", "assumption")]
    assert stated and all(h["holds"] for h in stated)
    json.loads(dumps(r.to_dict()))  # JSON-serialisable


def test_missing_noise_term_is_found_where_noise_dominates():
    # without L eta sigma^2 the bound fails only when sigma^2 L eta T / F0 is large
    r = F.falsify(
        planted("planted.gd_no_noise", 2 * F0 / (eta * T)), budget=60, seed=1, space=SPACE
    )
    assert r.verdict == "violated"
    a = r.instance["assignment"]
    cert = r.certificate
    vals = {v["name"]: v["value"] for v in cert["values"]}
    assert vals["sigma"] ** 2 * vals["L"] * a["algorithm.eta"] * vals["T"] > vals["F0"]


def test_asyncbc_thm3_variance_identity_holds():
    r = F.falsify("asyncbc.thm3_var", budget=30, seed=0)
    assert r.method == "exact" and r.inside >= 5
    assert r.verdict == "holds"
    assert r.best_ratio <= 1 + F.EXACT_RTOL
    assert r.best_ratio > 0.99  # the identity: zeta = 0, x0 = 0 is inside and gives equality
    assert r.certificate["replay"]["agrees"] is True  # the exact E||x_T||^2 within the replay's


def test_fedpaq_thm2_own_stepsize_identical_nodes_holds():
    space = F.search.space("fedpaq.thm2")
    space["free"]["algorithm.quantizer"] = {"choice": ["none", {"name": "randk_unbiased", "k": 1}]}
    r = F.falsify("fedpaq.thm2", budget=30, seed=0, space=space)
    assert r.inside >= 1
    assert r.verdict == "holds" and r.best_ratio <= 1


def test_candidate_outside_is_never_reported():
    # eta <= 1/L is the only stated condition: every reported instance meets it
    space = json.loads(json.dumps(SPACE))
    space["free"]["algorithm.eta"] = {"log": [0.5, 4.0]}
    r = F.falsify(planted("planted.gd_half", TRUE_GD / 2), budget=20, seed=2, space=space)
    assert r.outside > 0
    assert r.instance is not None and r.instance["assignment"]["algorithm.eta"] <= 1.0


@pytest.mark.parametrize(
    "space, match",
    [
        ({"free": {}}, "'spec' is missing"),
        ({"spec": "fedpaq_thm2", "bogus": 1}, "'bogus' is not allowed"),
        ({"spec": "fedpaq_thm2", "free": {"problem.d": {"int": [3, 1]}}}, "lo <= hi"),
        ({"spec": "fedpaq_thm2", "free": {"problem.mu": {"log": [0, 1]}}}, "positive"),
        ({"spec": "fedpaq_thm2", "free": {"nope": {"int": [1, 2]}}}, "'nope' is not allowed"),
        ({"spec": "fedpaq_thm2", "free": {"problem.d": [1, 2]}}, "free.problem.d"),
        ({"spec": "fedpaq_thm2", "replicas": 1}, "replicas=1"),
        ({"spec": 3}, "'spec' = 3"),
    ],
)
def test_bad_space_is_refused_with_one_line(space, match):
    with pytest.raises(ParameterError, match=match) as e:
        F.parse_space(space)
    assert "\n" not in str(e.value)


@pytest.mark.parametrize("budget", [0, -1, 1.5, True])
def test_bad_budget(budget):
    with pytest.raises(ParameterError, match="budget"):
        F.falsify("fedpaq.thm2", budget=budget)


def test_unknown_theorem_and_no_space():
    with pytest.raises(BoundcheckError):
        F.falsify("no.such", budget=2)
    with pytest.raises(ParameterError, match="no declared search space"):
        F.falsify("fedpaq.lemma2", budget=2)


def test_every_declared_space_parses_and_names_a_bound_with_a_binding():
    from boundcheck.check import bindings

    for tid in F.falsifiable_ids():
        thm = registry.get(tid)
        assert thm.bound is not None and thm.direction.value != "order", tid
        assert bindings.get(tid) is not None, tid
        sp_ = F.parse_space(F.search.space(tid))
        assert sp_.dims, tid


def test_every_encoded_upper_bound_with_a_binding_has_a_space():
    from boundcheck.check import bindings
    from boundcheck.check.bindings.search import NOT_SEARCHED

    missing = [
        t.id
        for t in registry.all_theorems()
        if t.direction.value == "upper" and bindings.get(t.id) is not None
        and t.id not in F.falsifiable_ids()
        and t.id not in NOT_SEARCHED
    ]  # fmt: skip
    assert missing == []
    # every exclusion names a real statement and the exact check that decides it instead
    from derivations import all_checks

    check_ids = {c.id for c in all_checks()}
    for tid, why in NOT_SEARCHED.items():
        assert bindings.get(tid) is not None and tid not in F.falsifiable_ids()
        assert any(cid in why for cid in check_ids), (tid, why)


def test_dim_decoding_covers_its_range():
    d = F._Dim("x", "int", 1, 4)
    assert {d.value(u) for u in (0, 0.26, 0.51, 0.76, 1.0)} == {1, 2, 3, 4}
    lg = F._Dim("y", "logint", 1, 800)
    assert lg.value(0) == 1 and lg.value(1) == 800
    c = F._Dim("z", "choice", choices=("a", "b"))
    assert c.value(0.2) == "a" and c.value(0.99) == "b"


@settings(max_examples=200, deadline=None)
@given(
    lo=st.integers(1, 50),
    width=st.integers(0, 1000),
    u=st.floats(-0.5, 1.5, allow_nan=False),
    kind=st.sampled_from(["int", "logint", "float", "log"]),
)
def test_dim_value_stays_in_its_range(lo, width, u, kind):
    d = F._Dim("k", kind, float(lo), float(lo + width))
    v = d.value(u)
    assert lo <= v <= lo + width * (1 + 1e-12)
    if kind in ("int", "logint"):
        assert isinstance(v, int)


@settings(max_examples=200, deadline=None)
@given(
    lhs=st.floats(0, 1e6, allow_nan=False),
    bound=st.floats(1e-6, 1e6, allow_nan=False),
)
def test_ratio_is_above_one_exactly_when_the_bound_fails(lhs, bound):
    assert (F._ratio(lhs, bound, "upper") > 1) == (lhs > bound)
    if lhs > 0:
        assert (F._ratio(lhs, bound, "lower") > 1) == (bound > lhs)


@pytest.mark.slow
def test_process_executor_gives_the_serial_numbers():
    a = F.falsify("asyncbc.thm2", budget=4, seed=3)
    b = F.falsify("asyncbc.thm2", budget=4, seed=3, executor="process", jobs=2)
    assert a.best_ratio == b.best_ratio and a.instance == b.instance
    assert a.certificate["replay"]["mean"] == b.certificate["replay"]["mean"]


def test_asyncbc_exact_over_all_schedules_agrees_with_the_replay():
    # n <= 2 and T <= 8: every client-choice sequence is enumerated (exact expectation over the
    # random Section 5 schedules, tau_max over all of them); the batched run agrees
    space = F.search.space("asyncbc.thm2_eta")
    space["free"]["problem.n"] = {"int": [1, 2]}
    space["free"]["sweep.T"] = {"int": [3, 8]}
    r = F.falsify("asyncbc.thm2_eta", budget=10, seed=0, space=space)
    assert r.method == "exact"
    assert r.certificate["replay"]["agrees"] is True
    assert r.verdict == "holds"
