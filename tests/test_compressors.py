"""Contracts of boundcheck.compressors: contraction / variance parameters against exact expectations,
unbiasedness (closed form and statistically), bits, seeding, shapes and refusals.

Floating-point tolerance (deterministic compressors): the ratio ||C(v)-v||^2/||v||^2 is computed in
float64 after scaling v by an exact power of two (no under/overflow for 1e-300 or 1e300). Each
coordinate of C(v) - v carries a relative rounding error <= 2 eps, the norms and scales are sums of
d terms (relative error <= d eps), so the computed ratio is within (4 d + 16) eps of the exact one;
we allow 8 (d + 4) eps.

Statistical tests use z-tests with Bonferroni correction over coordinates at a family false-alarm
rate of 1e-6 per test (fixed seeds make them reproducible, the rate says how unlucky a seed must be).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest
import torch
from hypothesis import given, settings, target
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from boundcheck import compressors as C
from boundcheck.errors import ParameterError, UnknownIdError

EPS = float(np.finfo(np.float64).eps)
ALPHA = 1e-6
SCALES = [1e-300, 1e-150, 1e-8, 1.0, 1e8, 1e150, 1e300]
KINDS = ["zeros", "onehot", "constant", "alternating", "gauss", "sparse", "heavy"]


def make_vector(kind: str, d: int, scale: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if kind == "zeros":
        v = np.zeros(d)
    elif kind == "onehot":
        v = np.zeros(d)
        v[rng.integers(d)] = 1.0
    elif kind == "constant":
        v = np.ones(d)
    elif kind == "alternating":
        v = (-1.0) ** np.arange(d)
    elif kind == "gauss":
        v = rng.standard_normal(d)
    elif kind == "sparse":
        v = rng.standard_normal(d) * (rng.random(d) < 0.05)
    else:  # heavy tails: magnitudes spanning many orders
        v = rng.standard_normal(d) * 10.0 ** rng.uniform(-6, 6, d)
    v = v / max(1.0, float(np.abs(v).max()))
    return v * scale


vectors = st.builds(
    make_vector,
    st.sampled_from(KINDS),
    st.integers(1, 3000),
    st.sampled_from(SCALES),
    st.integers(0, 2**32 - 1),
)
small_arrays = st.integers(1, 40).flatmap(
    lambda d: hnp.arrays(
        np.float64, d, elements=st.floats(-1e300, 1e300, allow_nan=False, allow_infinity=False)
    )
)


def pow2_exp(v: np.ndarray) -> int:
    """-e with max|v| = f 2^e, f in [0.5, 1): np.ldexp(v, pow2_exp(v)) is exact and in [0.5, 1)."""
    m = float(np.abs(v).max())
    return 0 if m == 0 else -math.frexp(m)[1]


def ratio(c_v: np.ndarray, v: np.ndarray) -> float:
    e = pow2_exp(v)
    den = float(np.sum(np.ldexp(v, e) ** 2))
    return float(np.sum(np.ldexp(c_v - v, e) ** 2)) / den if den > 0 else 0.0


def tol(d: int) -> float:
    return 8 * (d + 4) * EPS


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


DETERMINISTIC = [
    ("identity", {}),
    ("topk", {"k": 1}),
    ("topk", {"ratio": 0.1}),
    ("topk", {"ratio": 0.5}),
    ("scaled_sign", {}),
    ("shrink", {"delta": 0.2}),
    ("overshoot", {"delta": 0.2}),
    ("shrink", {"delta": 1.0}),
]


# ------------------------------------------------------------------------- deterministic contraction


@settings(max_examples=60, deadline=None)
@given(v=vectors, which=st.sampled_from(DETERMINISTIC))
def test_deterministic_contraction_holds_for_every_input(v, which):
    name, p = which
    c = C.get(name, **p)
    d = v.shape[0]
    out = c(torch.from_numpy(v)).numpy()
    assert np.all(np.isfinite(out))
    r = ratio(out, v)
    bound = 1.0 - c.delta(d)
    assert r <= bound + tol(d), (r, bound)
    target(r - bound)


@settings(max_examples=60, deadline=None)
@given(v=small_arrays)
def test_scaled_sign_error_identity_on_arbitrary_finite_vectors(v):
    """||C(v)-v||^2 = ||v||^2 - ||v||_1^2/d (SAEF eq. (2)): the delta(v) = ||v||_1^2/(d||v||^2)."""
    d = v.shape[0]
    out = C.ScaledSign()(torch.from_numpy(v)).numpy()
    vs = np.ldexp(v, pow2_exp(v))
    if not np.any(vs):
        assert not np.any(out)
        return
    exact = 1.0 - np.sum(np.abs(vs)) ** 2 / (d * np.sum(vs**2))
    assert exact <= 1 - 1 / d + tol(d)
    e = pow2_exp(v)
    if np.ldexp(np.sum(np.abs(vs)) / d, -e) < np.finfo(np.float64).tiny:
        # the scale ||v||_1/d is below the smallest normal float64: the output lies on the
        # subnormal grid, so only its absolute rounding (one grid step, 2^-1074) can be promised
        step = np.ldexp(2.0**-1074, e)
        assert np.all(np.abs(np.ldexp(np.abs(out), e) - np.sum(np.abs(vs)) / d) <= step * 1.0001)
        return
    assert abs(ratio(out, v) - exact) <= tol(d)


def test_scaled_sign_contraction_fails_when_its_scale_underflows():
    """A float64 limit, not a bug to hide: no representable scaled-sign output exists for
    v = (0, 2^-1074) (the scale 2^-1075 rounds to 0), so ||C(v) - v||^2 = ||v||^2 > (1 - 1/d)||v||^2.
    """
    v = np.array([0.0, 5e-324])
    out = C.ScaledSign()(torch.from_numpy(v)).numpy()
    assert not np.any(out)
    assert ratio(out, v) == 1.0 > 1 - C.ScaledSign().delta(2)


@settings(max_examples=40, deadline=None)
@given(v=vectors, k=st.integers(1, 3000))
def test_topk_error_is_sum_of_smallest_squares(v, k):
    d = v.shape[0]
    k = min(k, d)
    out = C.TopK(k=k)(torch.from_numpy(v)).numpy()
    assert np.count_nonzero(out) <= k
    sq = np.sort(np.ldexp(v, pow2_exp(v)) ** 2)
    den = sq.sum()
    expected = sq[: d - k].sum() / den if den > 0 else 0.0
    assert abs(ratio(out, v) - expected) <= tol(d)
    assert np.all((out == 0) | (out == v))


def test_scaled_sign_delta_attained_at_one_hot_and_topk_at_constant():
    d = 37
    e = torch.zeros(d, dtype=torch.float64)
    e[5] = -3.0
    r = ratio(C.ScaledSign()(e).numpy(), e.numpy())
    assert r == pytest.approx(1 - 1 / d, abs=tol(d))
    ones = torch.ones(d, dtype=torch.float64)
    assert ratio(C.TopK(k=4)(ones).numpy(), ones.numpy()) == pytest.approx(1 - 4 / d, abs=tol(d))


@pytest.mark.parametrize("side", ["shrink", "overshoot"])
def test_scale_extremes_meet_the_bound_with_equality(side):
    delta = 0.36
    c = C.Scale(delta, side)
    assert c.c == pytest.approx(0.2 if side == "shrink" else 1.8)
    v = torch.randn(5, 50, generator=gen(), dtype=torch.float64)
    for row in range(5):
        assert ratio(c(v)[row].numpy(), v[row].numpy()) == pytest.approx(1 - delta, abs=tol(50))


# ------------------------------------------------------------------------------------------- QSGD


@settings(max_examples=60, deadline=None)
@given(v=vectors, s=st.integers(1, 300), seed=st.integers(0, 2**31))
def test_qsgd_two_point_law_and_exact_expectation(v, s, seed):
    """Every output coordinate is one of the two published levels; the closed-form mean is x and
    the closed-form error never exceeds the declared q (which never exceeds Alistarh's)."""
    d = v.shape[0]
    c = C.QSGD(s)
    x = torch.from_numpy(v)
    out = c(x, gen(seed))
    lo, hi, p = c.levels(x)
    assert torch.all((out == lo) | (out == hi))
    assert torch.all((p >= 0) & (p < 1))
    sc = math.ldexp(1.0, pow2_exp(v)) if pow2_exp(v) < 1000 else 0.0
    if sc == 0.0:  # subnormal inputs: the scaling below would overflow; levels checked above
        return
    # E[Q(x)] = lo + p (hi - lo) = x, to rounding of the level arithmetic
    mean = (lo + p * (hi - lo)).numpy()
    nrm = float(np.linalg.norm(v * sc))
    assert np.all(np.abs(mean * sc - v * sc) <= 8 * EPS * max(nrm, 1e-300) * (1 + s) / s)
    # closed-form E||Q-x||^2 recomputed independently from the two-point law
    if nrm > 0:
        u = np.minimum(np.abs(v * sc) / nrm * s, s)
        pp = u - np.floor(u)
        e_ratio = float(np.sum(pp * (1 - pp))) / s**2
        xs = torch.from_numpy(v * sc)  # exact power-of-two rescaling: the law is scale-equivariant
        assert c.expected_sq_error(xs).item() / nrm**2 == pytest.approx(
            e_ratio, rel=1e-9, abs=1e-12
        )
        assert e_ratio <= c.q(d) * (1 + 1e-9) + 1e-12
        target(e_ratio / c.q(d) if c.q(d) > 0 else 0.0)
    assert c.q(d) <= min(d / s**2, math.sqrt(d) / s) + 1e-12


@settings(max_examples=40, deadline=None)
@given(d=st.integers(1, 10**6), s=st.integers(1, 10**4))
def test_qsgd_declared_q_tight_at_constant_vectors(d, s):
    c = C.QSGD(s)
    q = c.q(d)
    assert q <= min(d / s**2, math.sqrt(d) / s) + 1e-12  # Alistarh et al. Lemma 3.1 is looser
    if 4 * s * s <= d and d <= 20000:
        x = torch.ones(1, d, dtype=torch.float64)
        assert c.expected_sq_error(x).item() / d == pytest.approx(q, rel=1e-9)
    assert (c.delta(d) is None) == (q >= 1)


def test_qsgd_statistically_unbiased_with_the_closed_form_variance():
    d, s, n = 64, 3, 20000
    x = torch.randn(d, generator=gen(1), dtype=torch.float64)
    c = C.QSGD(s)
    draws = c(x.expand(n, d), gen(2))
    lo, hi, p = c.levels(x)
    sd = (p * (1 - p)).sqrt() * (hi - lo).abs()
    z = NormalDist().inv_cdf(1 - ALPHA / (2 * d))
    dev = (draws.mean(0) - x).abs()
    assert torch.all(dev <= z * sd / math.sqrt(n) + 1e-15)
    err = ((draws - x) ** 2).sum(-1)
    e = c.expected_sq_error(x).item()
    assert abs(err.mean().item() - e) <= z * err.std().item() / math.sqrt(n)
    # P(hi) per coordinate is p: frequency test
    freq = (draws == hi).double().mean(0)
    assert torch.all((freq - p).abs() <= z * (p * (1 - p)).sqrt() / math.sqrt(n) + 1e-12)


def test_qsgd_float32_levels_and_one_hot_is_exact():
    c = C.QSGD(4)
    x = torch.zeros(3, 10)
    x[:, 2] = torch.tensor([1.0, -2.5, 1e-30])
    out = c(x, gen())
    assert torch.equal(out, x)  # |x_i| = ||x|| -> top level with probability 1
    assert out.dtype == torch.float32


def test_qsgd_bits_levels_and_published_delta_is_no_contraction_for_qafel_sizes():
    assert C.QSGDBits(4).s == 15 and C.QSGDBits(4, sign_in_bits=True).s == 7
    assert C.QSGDBits(8).bits(1000) == 32 + 9000
    assert C.QSGDBits(8, sign_in_bits=True).bits(1000) == 32 + 8000
    pubs = {p.source: p for p in C.QSGD(15).published(1000)}
    qafel = pubs["QAFeL Example B.1"]
    assert qafel.value == pytest.approx(1 - math.sqrt(2000) / 15)
    assert qafel.value < 0  # QAFeL's own delta for 4-bit qsgd at d = 1000 violates Definition 2.1
    # the truth at d=1000, s=15 is no contraction either: q = sqrt(1000)/15 - 1 > 1 - 0
    assert C.QSGD(15).q(1000) == pytest.approx(math.sqrt(1000) / 15 - 1)
    assert C.QSGD(15).delta(1000) is None


def test_lowprec_matches_qsgd_law():
    x = torch.randn(4, 30, generator=gen(3), dtype=torch.float64)
    a, b = C.LowPrecision(5)(x, gen(7)), C.QSGD(5)(x, gen(7))
    assert torch.equal(a, b)


# ----------------------------------------------------------------------------------------- rand-k


@pytest.mark.parametrize("unbiased", [False, True])
def test_randk_inclusion_probabilities_and_exact_moments(unbiased):
    d, k, n = 40, 7, 20000
    c = C.RandK(k=k, unbiased=unbiased)
    x = torch.randn(d, generator=gen(4), dtype=torch.float64) + 3.0  # no zero entries
    draws = c(x.expand(n, d), gen(5))
    kept = draws != 0
    assert torch.all(kept.sum(-1) == k)
    factor = d / k if unbiased else 1.0
    assert torch.allclose(draws[kept], (x.expand(n, d) * factor)[kept], rtol=1e-15, atol=0)
    z = NormalDist().inv_cdf(1 - ALPHA / (2 * d))
    p = k / d
    freq = kept.double().mean(0)
    assert torch.all((freq - p).abs() <= z * math.sqrt(p * (1 - p) / n))
    # closed forms follow from the inclusion probability p = k/d
    e = c.expected_sq_error(x).item() / (x**2).sum().item()
    assert e == pytest.approx((d / k - 1) if unbiased else (1 - k / d), rel=1e-12)
    mean_exact = c.expectation(x)
    assert torch.allclose(mean_exact, x if unbiased else x * p, rtol=1e-14)
    if unbiased:
        sd = x.abs() * math.sqrt(p * (1 - p)) * factor
        assert torch.all((draws.mean(0) - x).abs() <= z * sd / math.sqrt(n))
        assert c.q(d) == pytest.approx(d / k - 1) and c.delta(d) is None  # k <= d/2
    else:
        assert c.delta(d) == pytest.approx(k / d) and c.q(d) is None


def test_unbiased_randk_claims_of_qafel_are_inconsistent():
    d, k = 1000, 100
    c = C.RandK(k=k, unbiased=True)
    pub = next(p for p in c.published(d) if p.param == "delta")
    assert pub.value == pytest.approx(k / d)
    assert c.worst_ratio(d) > pub.ratio_bound  # the unbiased rand_k beats QAFeL's delta = k/d
    assert C.RandK(k=k).worst_ratio(d) == pytest.approx(pub.ratio_bound)  # plain one meets it
    assert C.RandK(k=600, unbiased=True).delta(1000) == pytest.approx(2 - 1000 / 600)


# ---------------------------------------------------------------------------------- combinators


def test_rescaled_qsgd_is_a_contraction_with_delta_one_over_one_plus_q():
    d, s = 400, 2
    q = C.QSGD(s).q(d)  # = 20/2 - 1 = 9
    assert q == pytest.approx(9.0)
    r = C.get("qsgd", s=s, rescale=True)
    assert r.biased and r.delta(d) == pytest.approx(1 / (1 + q))
    x = torch.ones(1, d, dtype=torch.float64)
    assert r.expected_sq_error(x).item() / d == pytest.approx(q / (1 + q), rel=1e-12)
    n = 4000
    draws = r(x.expand(n, d), gen(6))
    err = ((draws - x) ** 2).sum(-1) / d
    z = NormalDist().inv_cdf(1 - ALPHA)
    assert err.mean().item() <= 1 - r.delta(d) + z * err.std().item() / math.sqrt(n)
    assert torch.allclose(draws.mean(0), x / (1 + q), atol=z * 3 / math.sqrt(n))


def test_blockwise_equals_per_block_application_and_combines_parameters():
    x = torch.randn(3, 2, 25, generator=gen(8), dtype=torch.float64)
    b = C.Blockwise(C.TopK(k=2), sizes=[10, 10, 5])
    out = b(x)
    ref = torch.cat([C.TopK(k=2)(p) for p in x.split([10, 10, 5], -1)], -1)
    assert torch.equal(out, ref)
    assert b.delta(25) == pytest.approx(2 / 10)
    assert b.bits(25) == 2 * (64 + 2 * 4) + (64 + 5)  # 5-bit mask < 2 indices of 3 bits
    s = C.get("scaled_sign", block_size=250)
    assert s.bits(1000) == 4 * (32 + 250) and s.delta(1000) == pytest.approx(1 / 250)
    with pytest.raises(ParameterError, match="d=24"):
        b(x[..., :24])
    q = C.get("qsgd", s=3, block_size=7)
    assert q.q(20) == pytest.approx(max(C.QSGD(3).q(7), C.QSGD(3).q(6)))
    e = q.expected_sq_error(x[..., :20])
    parts = [C.QSGD(3).expected_sq_error(p) for p in x[..., :20].split([7, 7, 6], -1)]
    assert torch.allclose(e, sum(parts))


# ---------------------------------------------------------------------------------- adversarial


@settings(max_examples=30, deadline=None)
@given(
    v=st.builds(
        make_vector,
        st.sampled_from(KINDS),
        st.integers(1, 60),
        st.sampled_from(SCALES),
        st.integers(0, 2**32 - 1),
    ),
    delta=st.floats(0.01, 1.0),
    w_seed=st.integers(0, 1000),
    kind=st.sampled_from(["linear", "norm", "neg_norm", "error"]),
)
def test_adversarial_never_leaves_the_admissible_ball(v, delta, w_seed, kind):
    d = v.shape[0]
    w = torch.randn(d, generator=gen(w_seed), dtype=torch.float64)
    objectives = {
        "linear": lambda a, y: (y * w).sum(-1),
        "norm": lambda a, y: (y**2).sum(-1),
        "neg_norm": lambda a, y: -(y**2).sum(-1),
        "error": lambda a, y: ((y - a) ** 2).sum(-1),
    }
    c = C.Adversarial(delta, objectives[kind], n_random=4, steps=5)
    x = torch.from_numpy(v)
    y = c(x, gen(w_seed))
    e = pow2_exp(v)
    err = float(np.sum(np.ldexp(y.numpy() - v, e) ** 2))
    assert err <= (1 - delta) * float(np.sum(np.ldexp(v, e) ** 2))  # no tolerance: by construction


def test_adversarial_finds_the_linear_optimum():
    d, delta = 20, 0.5
    v = torch.randn(4, d, generator=gen(9), dtype=torch.float64)
    w = torch.randn(d, generator=gen(10), dtype=torch.float64)
    c = C.Adversarial(delta, lambda a, y: (y * w).sum(-1), n_random=2, steps=30)
    y = c(v, gen(11))
    rho = math.sqrt(1 - delta) * v.norm(dim=-1)
    best = (v * w).sum(-1) + rho * w.norm()
    got = (y * w).sum(-1)
    assert torch.all(got >= best - 1e-3 * best.abs() - 1e-6)
    assert torch.all(got <= best + 1e-9)


# --------------------------------------------------------------------- generic contract, refusals

ALL = [
    ("identity", {}),
    ("topk", {"k": 3}),
    ("randk", {"k": 3}),
    ("randk_unbiased", {"k": 3}),
    ("qsgd", {"s": 4}),
    ("qsgd_bits", {"bits": 2}),
    ("lowprec", {"s": 1}),
    ("scaled_sign", {}),
    ("shrink", {"delta": 0.5}),
    ("overshoot", {"delta": 0.5}),
    ("adversarial", {"delta": 0.5}),
]


@pytest.mark.parametrize(("name", "p"), ALL)
def test_shapes_dtypes_zero_vector_and_seeding(name, p):
    c = C.get(name, **p)
    for shape in [(10,), (5, 10), (3, 4, 10)]:
        for dtype in (torch.float32, torch.float64):
            x = torch.randn(shape, generator=gen(12), dtype=dtype)
            y1, y2 = c(x, gen(13)), c(x, gen(13))
            assert y1.shape == x.shape and y1.dtype == dtype
            assert torch.equal(y1, y2)  # same seed, same output
    z = c(torch.zeros(2, 3, 10), gen(0))
    assert torch.equal(z, torch.zeros(2, 3, 10))
    assert c.bits(10) > 0


@pytest.mark.parametrize("name", ["randk", "qsgd", "adversarial"])
def test_different_seeds_differ_and_none_is_refused(name):
    c = C.get(name, **dict(ALL)[name])
    x = torch.randn(8, 50, generator=gen(14), dtype=torch.float64)
    assert not torch.equal(c(x, gen(1)), c(x, gen(2)))
    with pytest.raises(ParameterError, match="generator=None"):
        c(x)


def test_bits_exact_per_message():
    assert C.Identity().bits(1000) == 32000
    assert C.QSGD(15).bits(1000) == 32 + 1000 * (1 + 4)
    assert C.QSGD(16).bits(1000) == 32 + 1000 * (1 + 5)
    assert C.TopK(k=100).bits(1000) == 100 * 32 + min(100 * 10, 1000)
    assert C.TopK(k=10).bits(1000) == 10 * 32 + 10 * 10
    assert C.TopK(k=1).bits(1) == 32
    assert C.ScaledSign().bits(1000) == 1032
    assert C.index_bits(1024) == 10 and C.index_bits(1025) == 11 and C.index_bits(1) == 0


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: C.TopK(k=0), "k=0"),
        (lambda: C.TopK(k=11)(torch.ones(10)), "k=11"),
        (lambda: C.QSGD(0), "s=0"),
        (lambda: C.QSGDBits(0), "bits=0"),
        (lambda: C.QSGDBits(1, sign_in_bits=True), "bits=1"),
        (lambda: C.Scale(1.5), "delta=1.5"),
        (lambda: C.Adversarial(0.0), "delta=0.0"),
        (lambda: C.ScaledSign()(torch.tensor([1.0, float("nan")])), "nan"),
        (lambda: C.ScaledSign()(torch.tensor([[1.0], [float("inf")]])), "inf"),
        (lambda: C.ScaledSign()(torch.tensor(1.0)), "shape ()"),
        (lambda: C.ScaledSign()(torch.ones(3, 0)), "shape (3, 0)"),
        (lambda: C.ScaledSign()(torch.ones(3, dtype=torch.int64)), "torch.int64"),
        (lambda: C.get("qsgd", k=3), "'k'"),
        (lambda: C.get("topk", k=2, ratio=0.5), "exactly one"),
        (lambda: C.get("topk", ratio=0.0), "ratio=0.0"),
        (lambda: C.RandK(k=2.5), "k=2.5"),
    ],
)
def test_bad_input_raises_value_error_naming_the_value(call, needle):
    with pytest.raises(ValueError) as err:
        call()
    assert isinstance(err.value, ParameterError)
    assert needle in str(err.value)


def test_unknown_name():
    with pytest.raises(UnknownIdError, match=r"'nope'.*allowed: identity"):
        C.get("nope")
    assert {"topk", "randk", "qsgd", "qsgd_bits", "lowprec", "scaled_sign"} <= set(C.names())


def test_huge_and_tiny_magnitudes_do_not_overflow():
    x = torch.tensor([[1e300, -1e300, 1e299], [1e-300, 0.0, -1e-300]], dtype=torch.float64)
    for c in (C.QSGD(2), C.ScaledSign(), C.TopK(k=1)):
        y = c(x, gen())
        assert torch.all(torch.isfinite(y))
        for row in range(2):
            assert ratio(y[row].numpy(), x[row].numpy()) <= 1.0 + 1e-12 or isinstance(c, C.QSGD)
    lo, hi, p = C.QSGD(2).levels(x)
    y = C.QSGD(2)(x, gen())
    assert torch.all((y == lo) | (y == hi)) and torch.all(torch.isfinite(hi))
    assert torch.allclose(lo[0] + p[0] * (hi[0] - lo[0]), x[0], rtol=1e-14)
    assert torch.allclose(lo[1] + p[1] * (hi[1] - lo[1]), x[1], rtol=1e-14, atol=0)
    big = torch.full((1, 4), 1e38)  # float32 sum of squares overflows without rescaling
    y = C.QSGD(4)(big, gen())
    assert torch.all(torch.isfinite(y)) and torch.allclose(y, big, rtol=1e-6)  # u_i = s/2 exactly
    with pytest.raises(ParameterError, match="norm of an input row exceeds"):
        C.QSGD(3)(torch.full((1, 4), 3e38), gen())  # the norm 6e38 is no float32


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
@pytest.mark.parametrize(("name", "p"), ALL)
def test_cuda_same_contract(name, p):
    c = C.get(name, **p)
    g = torch.Generator(device="cuda").manual_seed(0)
    x = torch.randn(64, 10, device="cuda", dtype=torch.float64)
    y = c(x, g)
    assert y.device == x.device and y.shape == x.shape
    assert torch.equal(y, c(x, torch.Generator(device="cuda").manual_seed(0)))
    e = c.expected_sq_error(x)
    if e is not None and c.delta(10) is not None:
        assert torch.all(e <= (1 - c.delta(10)) * (x**2).sum(-1) * (1 + 1e-9))


# --- per-replica streams and the in-place fast paths (issues 8, 9) --------------------------------
@pytest.mark.parametrize(
    "name, kw", [("qsgd", {"s": 3}), ("randk", {"k": 4}), ("randk_unbiased", {"k": 4})]
)
def test_row_r_of_a_replica_batch_equals_a_single_row_call(name, kw):
    # a ReplicaGenerator over R rows: row r is the call on row r alone with row r's stream
    from boundcheck.rng import ReplicaGenerator

    x = torch.randn(5, 3, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    seeds = [11, 12, 13, 14, 15]
    c = C.get(name, **kw)
    batch = c(x, ReplicaGenerator(seeds))
    for r in range(5):
        assert torch.equal(batch[r], c(x[r : r + 1], ReplicaGenerator([seeds[r]]))[0])


@pytest.mark.parametrize("unbiased", [False, True])
def test_randk_gather_scatter_is_the_masked_formula(unbiased):
    # the fast path (gather and scatter the k kept entries) returns exactly x * 1_S (* d/k)
    x = torch.randn(6, 50, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    c = C.RandK(k=7, unbiased=unbiased)
    out = c(x, torch.Generator().manual_seed(3))
    mask = c.keep_mask(x, torch.Generator().manual_seed(3))
    ref = torch.where(mask, x, torch.zeros_like(x)) * (50 / 7 if unbiased else 1.0)
    assert torch.equal(out, ref)
    assert (mask.sum(-1) == 7).all()


def test_qsgd_fast_path_keeps_its_refusals_and_edge_rows():
    q = C.QSGD(2)
    g = torch.Generator().manual_seed(0)
    bad = torch.tensor([[1.0, float("inf"), 2.0]])
    with pytest.raises(ParameterError, match="non-finite entry"):
        q(bad, g)
    # zero rows and subnormal rows take the careful norm: zero stays zero, tiny rows stay finite
    x = torch.tensor(
        [[0.0, 0.0, 0.0], [1e-310, 0.0, -1e-310], [3.0, -4.0, 0.0]], dtype=torch.float64
    )
    out = q(x, g)
    assert torch.equal(out[0], torch.zeros(3, dtype=torch.float64))
    assert torch.isfinite(out).all()
    norms = C.safe_norm(x)  # overflow/underflow-free reference norm
    levels = out[1:] / (norms[1:] / 2)  # xi_i in {0, 1, 2} times sign(x_i)
    assert torch.equal(levels, levels.round()) and float(levels.abs().max()) <= 2


def test_fill_helpers_draw_the_same_numbers_as_the_allocating_draws():
    from boundcheck import rng
    from boundcheck.rng import ReplicaGenerator

    for shape in [(3, 7), (3, 2000, 3)]:  # pooled (<= block) and direct (> block) draws
        for fill, draw in ((rng.fill_uniform_, rng.uniform), (rng.fill_normal_, rng.normal)):
            a, b = ReplicaGenerator([1, 2, 3]), ReplicaGenerator([1, 2, 3])
            for _ in range(3):
                out = torch.empty(shape, dtype=torch.float32)
                assert torch.equal(fill(a, out), draw(b, shape, dtype=torch.float32))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    out = torch.empty(4, 9, dtype=torch.float64)
    assert torch.equal(rng.fill_uniform_(g1, out), rng.uniform(g2, (4, 9)))
    with pytest.raises(ValueError, match="replica axis"):
        rng.fill_uniform_(ReplicaGenerator([1, 2]), torch.empty(3, 4))


# --- the public strategies (boundcheck.strategies) drive the contracts too ----------------------
@settings(max_examples=40, deadline=None)
@given(data=st.data(), d=st.integers(1, 40))
def test_every_generated_contraction_meets_its_declared_delta_on_stress_vectors(data, d):
    """Members of the delta-contraction class from ``bst.contractions`` (adversarial ones included)
    on ``bst.stress_vectors``: the exact expected error (closed form; the realised error of a
    deterministic member) is at most ``(1 - delta) ||x||^2`` per row."""
    from boundcheck import strategies as bst

    c = data.draw(bst.contractions(d), label="compressor")
    x = data.draw(bst.stress_vectors(d, batch=2), label="x")
    delta = c.delta(d)
    assert delta is not None and 0.0 < delta <= 1.0
    for row in range(x.shape[0]):
        # each row scaled by an exact power of two to max |v| in [0.5, 1): the class is
        # scale-equivariant, and q ||x||^2 of a huge row would overflow float64
        v = np.ldexp(x[row].numpy(), pow2_exp(x[row].numpy()))
        xs = torch.from_numpy(v).reshape(1, d)
        err = c.expected_sq_error(xs)
        if err is None:
            assert not c.stochastic
            err = ((c(xs) - xs).double() ** 2).sum(-1)
        den = float(np.sum(v**2))
        r = float(err[0]) / den if den > 0 else 0.0
        assert r <= 1.0 - delta + tol(d), (c.describe(), r, delta)


@settings(max_examples=30, deadline=None)
@given(data=st.data(), d=st.integers(1, 40), seed=st.integers(0, 2**31 - 1))
def test_every_generated_quantizer_is_unbiased_with_its_declared_q(data, d, seed):
    """``bst.unbiased_quantizers``: closed-form mean equal to x, closed-form error at most
    ``q ||x||^2``, and every sampled output finite."""
    from boundcheck import strategies as bst

    c = data.draw(bst.unbiased_quantizers(d), label="quantizer")
    x = data.draw(bst.stress_vectors(d, batch=2), label="x")
    q = c.q(d)
    assert q is not None and q >= 0 and not c.biased
    scale = x.abs().amax(-1, keepdim=True).clamp_min(1e-300)
    assert torch.allclose(c.expectation(x) / scale, x / scale, atol=1e-12, rtol=0)
    for row in range(x.shape[0]):  # scaled as above: q ||x||^2 of a huge row overflows
        v = np.ldexp(x[row].numpy(), pow2_exp(x[row].numpy()))
        err = c.expected_sq_error(torch.from_numpy(v).reshape(1, d))
        den = float(np.sum(v**2))
        r = float(err[0]) / den if den > 0 else 0.0
        assert r <= q * (1.0 + tol(d)) + tol(d), (c.describe(), r, q)
    assert torch.isfinite(c(x, gen(seed))).all()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.integers(1, 5),
    d=st.integers(1, 40),
    s=st.integers(1, 40),
    dtype=st.sampled_from([torch.float32, torch.float64]),
    scale=st.sampled_from([1e-30, 1e-3, 1.0, 1e4]),
    zero_row=st.booleans(),
    seed=st.integers(0, 2**31),
)
def test_qsgd_in_place_form_draws_and_returns_the_same_numbers(
    rows, d, s, dtype, scale, zero_row, seed
):
    """``compress_`` (issue 9: the algorithms' in-place upload path) writes ``Q(x)`` over ``x``
    with exactly ``__call__``'s numbers from the same stream, or returns None, untouched and with
    no draw, for rows the fast path does not take (zero and tiny norms: then ``__call__``)."""
    from boundcheck.algorithms.fedpaq import compress_messages
    from boundcheck.rng import ReplicaGenerator

    g = torch.Generator().manual_seed(seed)
    x = (torch.randn(rows, 3, d, generator=g, dtype=torch.float64) * scale).to(dtype)
    if zero_row:
        x[0, 1] = 0.0
    q = C.QSGDBits(4) if s == 15 else C.QSGD(s)
    seeds = [seed + r for r in range(rows)]
    want = q(x.clone(), ReplicaGenerator(seeds))
    buf = x.clone()
    gen = ReplicaGenerator(seeds)
    got = q.compress_(buf, gen)
    if got is None:  # refused before drawing: x untouched, the stream where it was
        assert torch.equal(buf, x)
        assert torch.equal(q(buf, gen), want)
    else:
        assert got.data_ptr() == buf.data_ptr() and torch.equal(got, want)
    over = compress_messages(q, x.clone(), ReplicaGenerator(seeds), overwrite=True)
    assert torch.equal(over, want)  # the algorithms' entry point: either path, same numbers


def test_qsgd_in_place_form_refuses_non_finite_rows_and_other_quantizers():
    q = C.QSGD(3)
    x = torch.tensor([[1.0, float("nan")], [1.0, 2.0]])
    assert q.compress_(x.clone(), torch.Generator().manual_seed(0)) is None

    class Coarser(C.QSGD):  # a subclass with its own rule: only its __call__ knows it
        def __call__(self, x, generator=None):
            return super().__call__(x, generator).round()

    assert Coarser(3).compress_(torch.ones(2, 4), torch.Generator().manual_seed(0)) is None
