"""Honest statistics for bound-versus-measured checks (DESIGN.md, "Honest statistics").

Every interval here is one-sided at a level the caller has already corrected for the number of
comparisons in the run (Bonferroni: ``alpha / n_comparisons``).

* :func:`mean_bounds` -- the replica mean and its one-sided Student-t bounds (replicas are i.i.d.
  draws; the t interval is exact for normal data and asymptotically valid otherwise, which is why
  :func:`spread` reports how much of the mean the largest replicas carry).
* :func:`min_of_means` -- for ``min_t E X_t`` (SAEF Theorems 1-3). The plug-in ``min_t mean_t`` is
  biased low. Lower bound: ``min_t LCB_t`` at level ``alpha`` is valid without correction
  (``min_t LCB_t > min_t mu_t`` implies ``LCB_{t*} > mu_{t*}`` at the minimising row ``t*``).
  Upper bound: ``min_t UCB_t`` needs every row covered at once, so each row's UCB is taken at level
  ``alpha / T`` (Bonferroni over the T rows): a simultaneous bound, valid for correlated rows.
* :func:`max_of_means` -- for ``sup_t E X_t`` (SAEF Lemma 1): the mirror image (upper bound
  ``max_t UCB_t`` at ``alpha``; lower bound ``max_t LCB_t`` at ``alpha / T``).
* :func:`verdict` -- holds / violated / inconclusive for an upper or a lower bound.
* :func:`fit_slope` -- log-log slope over a sweep with a delta-method interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DOMINANCE",
    "Bounds",
    "fit_slope",
    "max_of_means",
    "mean_bounds",
    "min_of_means",
    "spread",
    "t_quantile",
    "verdict",
]

#: a sample is "dominated" when the top 1% of replicas (at least one) carry more than this share
#: of the sum: the mean may then hide a diverging expectation, and "holds" becomes "inconclusive"
DOMINANCE = 0.5


@dataclass(frozen=True)
class Bounds:
    estimate: float
    low: float  # one-sided lower confidence bound
    high: float  # one-sided upper confidence bound
    method: str
    row: int | None = None  # the row a min/max estimate sits on


def t_quantile(level: float, df: int) -> float:
    """The ``1 - level`` quantile of Student's t with ``df`` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(1.0 - level, df))


def _row_bounds(X: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    R = X.shape[-1]
    m = X.mean(axis=-1)
    if R < 2:
        return m, np.full_like(m, -np.inf), np.full_like(m, np.inf)
    s = X.std(axis=-1, ddof=1)
    h = t_quantile(level, R - 1) * s / math.sqrt(R)
    return m, m - h, m + h


def mean_bounds(x: np.ndarray, alpha: float) -> Bounds:
    """Replica mean of ``x`` (R,) with one-sided t bounds, each at level ``alpha``."""
    x = np.asarray(x, dtype=float)
    m, lo, hi = _row_bounds(x[None, :], alpha)
    return Bounds(
        float(m[0]), float(lo[0]), float(hi[0]), f"replica mean, one-sided Student t (R = {x.size})"
    )


def min_of_means(X: np.ndarray, alpha: float) -> Bounds:
    """``min_t`` of the row means of ``X`` (T, R), see the module docstring."""
    X = np.asarray(X, dtype=float)
    T = X.shape[0]
    m, lo, _ = _row_bounds(X, alpha)
    _, _, hi = _row_bounds(X, alpha / T)
    i = int(np.argmin(m))
    return Bounds(
        float(m[i]),
        float(lo.min()),
        float(hi.min()),
        f"min over {T} rows of the replica mean; lower bound min_t LCB_t (level alpha), "
        f"upper bound min_t UCB_t with Bonferroni over the {T} rows (t intervals)",
        i,
    )


def max_of_means(X: np.ndarray, alpha: float) -> Bounds:
    """``max_t`` of the row means of ``X`` (T, R), see the module docstring."""
    X = np.asarray(X, dtype=float)
    T = X.shape[0]
    m, _, hi = _row_bounds(X, alpha)
    _, lo, _ = _row_bounds(X, alpha / T)
    i = int(np.argmax(m))
    return Bounds(
        float(m[i]),
        float(lo.max()),
        float(hi.max()),
        f"max over {T} rows of the replica mean; upper bound max_t UCB_t (level alpha), "
        f"lower bound max_t LCB_t with Bonferroni over the {T} rows (t intervals)",
        i,
    )


def spread(x: np.ndarray) -> dict[str, float]:
    """median, q10, q90, max and ``top_share``: the share of the sum carried by the largest 1% of
    replicas (at least one); for a sample with negative values, of the sum of absolute values."""
    x = np.asarray(x, dtype=float)
    k = max(1, math.ceil(0.01 * x.size))
    a = np.abs(x)
    tot = float(a.sum())
    top = float(np.sort(a)[-k:].sum())
    return {
        "median": float(np.median(x)),
        "q10": float(np.quantile(x, 0.1)),
        "q90": float(np.quantile(x, 0.9)),
        "max": float(x.max()),
        "top_share": top / tot if tot > 0 else 0.0,
    }


def verdict(b: Bounds, bound: float, direction: str, dominated: bool) -> str:
    """``upper`` (lhs <= bound): violated when the lower confidence bound exceeds the bound, holds
    when the upper one is below it (and the sample is not dominated by a few replicas).
    ``lower`` / ``nonconvergence`` (lhs >= bound): the mirror image."""
    if not math.isfinite(bound):
        return "inconclusive"
    if direction == "upper":
        if b.low > bound:
            return "violated"
        if b.high <= bound and not dominated:
            return "holds"
        return "inconclusive"
    if b.high < bound:
        return "violated"
    if b.low >= bound and not dominated:
        return "holds"
    return "inconclusive"


def fit_slope(x: list[float], y: list[float], se_y: list[float], level: float) -> dict[str, float]:
    """Weighted least squares of ``log y`` on ``log x``; ``se_y`` are standard errors of ``y``
    (delta method: ``se(log y) = se_y / y``). Returns the slope and one-sided bounds at ``level``
    (normal quantile; with fewer than three points, or a perfect fit, the interval uses the
    replica standard errors alone)."""
    from scipy.stats import norm

    lx = np.log(np.asarray(x, dtype=float))
    yy = np.asarray(y, dtype=float)
    s = np.maximum(np.asarray(se_y, dtype=float) / yy, 1e-12)
    w = 1.0 / s**2
    xm = float((w * lx).sum() / w.sum())
    sxx = float((w * (lx - xm) ** 2).sum())
    ly = np.log(yy)
    ym = float((w * ly).sum() / w.sum())
    slope = float((w * (lx - xm) * (ly - ym)).sum() / sxx)
    se = math.sqrt(1.0 / sxx)
    z = float(norm.ppf(1.0 - level))
    return {"slope": slope, "se": se, "low": slope - z * se, "high": slope + z * se}
