"""QAFeL Lemma F.6 measured (boundcheck.algorithms.quantized_sum): exact values and moments."""

from __future__ import annotations

import math

import pytest
import torch
from quad_problems import quad

from boundcheck.algorithms.quantized_sum import quantized_sum
from boundcheck.compressors import QSGD, Identity, RandK
from boundcheck.errors import ParameterError


def test_identity_gives_the_exact_squared_sum():
    p = quad(n=5, d=4)
    tr = quantized_sum(p, R=3, seed=0, compressor=Identity(), x0=torch.ones(4, dtype=torch.float64))
    xs = p.grad_i(torch.ones(1, 5, 4, dtype=torch.float64))[0]
    assert tr.meta["norm_sum_sq"] == pytest.approx(float((xs.sum(0) ** 2).sum()), rel=1e-14)
    assert tr.meta["sum_norm_sq"] == pytest.approx(float((xs**2).sum()), rel=1e-14)
    assert torch.allclose(tr["quant_sum_sq"], torch.full((1, 3), tr.meta["norm_sum_sq"],
                                                         dtype=torch.float64), rtol=1e-14)  # fmt: skip


def test_unbiased_randk_meets_lemma_f6_with_equality_in_expectation():
    """Independent draws: E||sum Q(x_n)||^2 = ||sum x_n||^2 + (d/k - 1) sum ||x_n||^2 exactly."""
    p = quad(n=5, d=4)
    R = 40000
    tr = quantized_sum(p, R=R, seed=1, compressor=RandK(k=3, unbiased=True),
                       x0=torch.ones(4, dtype=torch.float64))  # fmt: skip
    v = tr["quant_sum_sq"][0]
    exact = tr.meta["norm_sum_sq"] + (4 / 3 - 1) * tr.meta["sum_norm_sq"]
    se = float(v.std()) / math.sqrt(R)
    assert abs(float(v.mean()) - exact) <= 5 * se
    # draws differ across replicas and vectors (not one shared mask)
    assert v.unique().numel() > 5


def test_qsgd_is_below_the_lemma_bound_on_average():
    p = quad(n=5, d=4)
    R = 20000
    c = QSGD(s=2)
    tr = quantized_sum(p, R=R, seed=2, compressor=c, x0=torch.ones(4, dtype=torch.float64))
    v = tr["quant_sum_sq"][0]
    bound = tr.meta["norm_sum_sq"] + (1 - c.delta(4)) * tr.meta["sum_norm_sq"]
    assert float(v.mean()) + 5 * float(v.std()) / math.sqrt(R) <= bound


def test_bad_replica_count_is_refused():
    with pytest.raises(ParameterError, match="R=0"):
        quantized_sum(quad(n=2, d=2), R=0, seed=0)
