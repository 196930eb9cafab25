"""Cross-check: the batched SAEF implementation reproduces the counterexample to SAEF's lemmas.

The SAEF encoding (boundcheck/theory/saef.py) records that supplement Lemmas 2 (eq. (39)), 4
(eq. (47)) and 5 (= main-text Lemma 1, eq. (15)) are false, with a counterexample worked by hand
in tests/theory/test_saef.py: d = 1, constant gradient 1, eta = M = 1, sigma = mu = 0 and the
fixed compressor C(v) = v/2 if |v| < 1.8 else 3v/2, which satisfies Assumption 4 with delta = 3/4
with equality. Here the real algorithm (SAEF Algorithm 1, boundcheck.algorithms.saef) runs on
that instance and the measured errors are compared with the encoded bounds, at parameters where
every stated condition of the lemmas holds.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from boundcheck.algorithms.saef import saef_sgd
from boundcheck.compressors import Compressor
from boundcheck.problems.quadratic import Quadratic
from boundcheck.theory import registry
from boundcheck.theory.core import ConditionKind
from boundcheck.theory.evaluate import check_conditions, evaluate_bound

DELTA = 0.75


class Overshoot(Compressor):
    """C(v) = v/2 if |v| < 1.8 else 3v/2: ||C(v) - v||^2 = ||v||^2 / 4 for every v (d = 1)."""

    name = "halve_or_overshoot"
    biased = True

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return torch.where(x.abs() < 1.8, x / 2, 1.5 * x)

    def delta(self, d: int) -> float:
        return DELTA

    def bits(self, d: int) -> int:
        return 32 * d


@given(st.floats(-1e6, 1e6, allow_nan=False))
def test_the_compressor_meets_assumption_4_with_equality(v):
    x = torch.tensor([[v]], dtype=torch.float64)
    err = float(((Overshoot()(x) - x) ** 2).sum())
    assert err == pytest.approx((1 - DELTA) * v * v, rel=1e-15, abs=0.0)


def _run(K: int):
    constant_gradient = Quadratic(np.zeros((1, 1, 1)), np.array([[-1.0]]))  # f(x) = x
    assert float(constant_gradient.grad(torch.zeros(1, 1))) == 1.0
    return saef_sgd(
        constant_gradient,
        T=5,
        R=1,
        seed=0,
        eta=1.0,
        K=K,
        client_compressor=Overshoot(),
        server_compressor=Overshoot(),
        record_x=True,
    )


VALUES = {"delta": DELTA, "eta_max": 1.0, "M": 1.0, "sigma": 0.0, "mu_m": 0.0}


@pytest.mark.parametrize("K", [1, 2, 3, 8])
def test_measured_errors_match_the_hand_computation_and_break_the_lemmas(K):
    tr = _run(K)
    e = tr.series["e"][:, 0, 0]  # server error e_t, t = 0..4
    ek = tr.series["e_workers"][:, 0, :, 0]  # (t, K) local errors e_t^(k)
    assert e.tolist() == [0.0, 1 / 4, 1 / 2, 11 / 16, -7 / 4]
    for k in range(K):
        assert ek[:, k].tolist() == [0.0, 1 / 2, 3 / 4, 7 / 8, -15 / 16]

    # Lemma 2 (39): local error bound; measured sup_t ||e_t^(k)||^2 >= 9/16 at t = 2
    local = float((ek**2).max())
    lemma2 = registry.get("saef.lemma2_opt")
    assert local > evaluate_bound(lemma2, VALUES)
    # Lemma 5 (53) = main-text Lemma 1 (15): mismatch (1/K) sum_k ||e_t + ebar_t - e_t^(k)||^2
    ebar = ek.mean(dim=1, keepdim=True)
    mismatch = float(((e[:, None] + ebar - ek) ** 2).mean(dim=1).max())
    assert mismatch == 49 / 16
    for tid in ("saef.lemma5", "saef.lemma1_main"):
        thm = registry.get(tid)
        values = {**VALUES, "K": K}
        assert all(
            r.holds
            for r in check_conditions(thm, values)
            if r.condition.kind is ConditionKind.STATED
        )
        assert mismatch > evaluate_bound(thm, values), tid
    # Lemma 4 (47), claimed for every admissible beta_1: fails at beta_1 = 1
    lemma4 = registry.get("saef.lemma4")
    values = {**VALUES, "beta_1": 1.0}
    assert all(
        r.holds
        for r in check_conditions(lemma4, values)
        if r.condition.kind is ConditionKind.STATED
    )
    assert float((e**2).max()) == 49 / 16 > evaluate_bound(lemma4, values) == pytest.approx(5 / 2)
