"""The public Hypothesis strategies (issue 15) generate valid members: every generated compressor
meets its declared parameter, every generated problem carries its certified constants, and the
stress vectors are finite with representable norms. These are also compressor contract tests."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck import strategies as bst

D = 7


def _ratio_bound_ok(err: torch.Tensor, x: torch.Tensor, factor: float) -> bool:
    """``err <= factor ||x||^2`` per row up to float64 rounding of both sides."""
    nx = (x.double() ** 2).sum(-1)
    tol = 64 * torch.finfo(torch.float64).eps * (nx + err.abs()) + 1e-300
    return bool((err <= factor * nx + tol).all())


@settings(max_examples=60, deadline=None)
@given(C=bst.contractions(D), x=bst.stress_vectors(D, batch=3))
def test_generated_contractions_meet_their_declared_delta(C, x) -> None:
    delta = C.delta(D)
    assert delta is not None and 0.0 < delta <= 1.0
    err = C.expected_sq_error(x)
    if err is None:  # no closed form: the realised error of a deterministic member
        assert not C.stochastic
        err = ((C(x) - x).double() ** 2).sum(-1)
    assert _ratio_bound_ok(err, x, 1.0 - delta), (C.describe(), err, delta)


@settings(max_examples=60, deadline=None)
@given(C=bst.unbiased_quantizers(D), x=bst.stress_vectors(D, batch=3))
def test_generated_quantizers_are_unbiased_with_their_declared_q(C, x) -> None:
    q = C.q(D)
    assert q is not None and q >= 0
    assert not C.biased
    mean = C.expectation(x)
    scale = x.double().abs().amax(-1, keepdim=True).clamp_min(1e-300)
    assert torch.allclose(mean.double() / scale, x.double() / scale, atol=1e-12, rtol=0)
    assert _ratio_bound_ok(C.expected_sq_error(x), x, q)


@settings(max_examples=40, deadline=None)
@given(C=bst.unbiased_quantizers(D), seed=st.integers(0, 2**31 - 1))
def test_quantizer_monte_carlo_matches_declared_mean(C, seed) -> None:
    """The sampled output averages to x: for an unbiased quantizer E||mean - x||^2 is exactly
    E||Q(x) - x||^2 / m (the closed form), so ||mean - x||^2 stays below 36 times that (a chi-square
    tail of about 2e-9 for one coordinate); a bias of size b adds b^2. The closed form is used, not
    the sample spread: a rare quantization level that no draw hits gives a sample spread of 0."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, D, generator=g, dtype=torch.float64)
    m = 4000
    y = C(x.expand(m, D).contiguous(), g)
    err2 = float(((y.mean(0) - x[0]) ** 2).sum())
    expected = float(C.expected_sq_error(x).reshape(-1)[0]) / m
    assert err2 <= 36 * expected + 1e-24, (err2, expected)


@settings(max_examples=40, deadline=None)
@given(x=bst.stress_vectors(5, dtype=torch.float32, batch=2))
def test_stress_vectors_are_finite_with_representable_norms(x) -> None:
    assert x.shape == (2, 5) and x.dtype == torch.float32
    assert bool(torch.isfinite(x).all())
    assert bool(torch.isfinite(torch.linalg.vector_norm(x, dim=-1)).all())


@settings(max_examples=15, deadline=None)
@given(p=bst.problems("least_squares", n=(1, 4), d=(1, 3)))
def test_generated_problems_carry_certified_constants(p) -> None:
    assert 1 <= p.n <= 4 and 1 <= p.d <= 3
    L = p.constants["L"]
    assert L.provenance in ("exact", "certified") and L.value >= 0
    # the certified smoothness really bounds the gradient's Lipschitz ratio at random pairs
    g = torch.Generator().manual_seed(0)
    x, y = (torch.randn(8, p.d, generator=g, dtype=p.dtype) for _ in range(2))
    lhs = torch.linalg.vector_norm(p.grad(x) - p.grad(y), dim=-1)
    rhs = L.value * torch.linalg.vector_norm(x - y, dim=-1)
    assert bool((lhs <= rhs * (1 + 1e-9) + 1e-12).all())


def test_strategies_refuse_bad_arguments() -> None:
    with pytest.raises(ValueError, match="d=0 is not allowed"):
        bst.contractions(0)
    with pytest.raises(ValueError, match="min_value=2"):
        bst.deltas(2.0)
    from boundcheck.errors import UnknownIdError

    with pytest.raises(UnknownIdError):
        bst.problems("no_such_family")
