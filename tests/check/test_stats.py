"""Statistics contracts: interval order, coverage of the min/max-over-t bounds (the plug-in
min of means is biased low), spread, the slope fit."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from boundcheck.check import stats

finite = st.floats(-1e6, 1e6, allow_nan=False)


@given(arrays(float, st.integers(2, 50), elements=finite), st.floats(1e-4, 0.4))
def test_mean_bounds_bracket_the_mean(x, alpha):
    b = stats.mean_bounds(x, alpha)
    assert b.low <= b.estimate + 1e-9 * (1 + abs(b.estimate))
    assert b.estimate <= b.high + 1e-9 * (1 + abs(b.estimate))


@given(
    arrays(float, st.tuples(st.integers(1, 20), st.integers(2, 20)), elements=finite),
    st.floats(1e-4, 0.4),
)
def test_min_and_max_of_means_bracket_their_estimates(X, alpha):
    for f in (stats.min_of_means, stats.max_of_means):
        b = f(X, alpha)
        tol = 1e-9 * (1 + np.abs(X).max())
        assert b.low <= b.estimate + tol and b.estimate <= b.high + tol


@given(arrays(float, st.integers(1, 300), elements=st.floats(0, 1e6)))
def test_spread_is_ordered_and_top_share_is_a_share(x):
    s = stats.spread(x)
    assert s["q10"] <= s["median"] + 1e-9 * (1 + s["max"]) <= s["q90"] + 2e-9 * (1 + s["max"])
    assert s["q90"] <= s["max"] + 1e-9 * (1 + s["max"])
    assert 0.0 <= s["top_share"] <= 1.0 + 1e-12


def test_top_share_flags_a_dominating_replica():
    x = np.ones(100)
    assert stats.spread(x)["top_share"] < stats.DOMINANCE
    x[7] = 1e4
    assert stats.spread(x)["top_share"] > stats.DOMINANCE


def test_min_of_means_upper_bound_covers_the_true_minimum():
    """30 rows with equal true means 1.0: the plug-in min of the row means is biased low; the
    simultaneous (Bonferroni) upper bound still covers min_t mu_t = 1 at the nominal level, while
    the per-row bound without the correction would not."""
    rng = np.random.default_rng(0)
    alpha, T, R, trials = 0.05, 30, 20, 2000
    miss_simultaneous = miss_naive = 0
    below = 0
    for _ in range(trials):
        X = 1.0 + rng.standard_normal((T, R))
        b = stats.min_of_means(X, alpha)
        miss_simultaneous += b.high < 1.0
        m = X.mean(1)
        naive = (m + stats.t_quantile(alpha, R - 1) * X.std(1, ddof=1) / np.sqrt(R)).min()
        miss_naive += naive < 1.0
        below += b.estimate < 1.0
    print(
        f"min of means: plug-in below truth {below / trials:.2f}; UCB misses: simultaneous "
        f"{miss_simultaneous / trials:.3f}, per-row {miss_naive / trials:.3f}"
    )
    assert below / trials > 0.9  # the bias the simultaneous bound corrects
    assert miss_simultaneous / trials <= alpha
    assert miss_naive / trials > 2 * alpha


def test_min_of_means_lower_bound_needs_no_correction():
    rng = np.random.default_rng(1)
    alpha, trials = 0.05, 2000
    mu = np.linspace(1.0, 2.0, 10)
    miss = sum(
        stats.min_of_means(mu[:, None] + rng.standard_normal((10, 15)), alpha).low > 1.0
        for _ in range(trials)
    )
    assert miss / trials <= alpha + 0.01


def test_max_of_means_mirrors_min():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((12, 9))
    a, b = stats.max_of_means(X, 0.05), stats.min_of_means(-X, 0.05)
    assert np.isclose(a.estimate, -b.estimate)
    assert np.isclose(a.low, -b.high) and np.isclose(a.high, -b.low)


def test_verdict_directions():
    b = stats.Bounds(1.0, 0.9, 1.1, "t")
    assert stats.verdict(b, 2.0, "upper", False) == "holds"
    assert stats.verdict(b, 2.0, "upper", True) == "inconclusive"
    assert stats.verdict(b, 0.5, "upper", False) == "violated"
    assert stats.verdict(b, 1.0, "upper", False) == "inconclusive"
    assert stats.verdict(b, 0.5, "lower", False) == "holds"
    assert stats.verdict(b, 2.0, "lower", False) == "violated"
    assert stats.verdict(b, float("nan"), "upper", False) == "inconclusive"


@given(st.floats(-2, 1), st.floats(0.1, 10))
def test_fit_slope_recovers_a_power_law(slope, c):
    x = [10.0, 100.0, 1000.0]
    y = [c * v**slope for v in x]
    fit = stats.fit_slope(x, y, [1e-3 * v for v in y], 0.05)
    assert abs(fit["slope"] - slope) < 1e-9
    assert fit["low"] <= slope <= fit["high"]
