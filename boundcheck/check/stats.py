"""Honest statistics for bound-versus-measured checks (DESIGN.md, "Honest statistics").

Every interval here is one-sided at a level the caller has already corrected for the number of
comparisons in the run (Bonferroni: ``alpha / n_comparisons``).

* :func:`mean_bounds` -- the replica mean and its one-sided bounds (replicas are i.i.d. draws): the
  wider of Student t and bootstrap-t, so a skewed sample does not make a bound anti-conservative
  (rows of :func:`min_of_means` / :func:`max_of_means` use t alone); :func:`spread` reports how
  much of the mean the largest replicas carry.
* :func:`min_of_means` -- for ``min_t E X_t`` (SAEF Theorems 1-3). The plug-in ``min_t mean_t`` is
  biased low. Lower bound: ``min_t LCB_t`` at level ``alpha`` is valid without correction
  (``min_t LCB_t > min_t mu_t`` implies ``LCB_{t*} > mu_{t*}`` at the minimising row ``t*``).
  Upper bound: ``min_t UCB_t`` needs every row covered at once, so each row's UCB is taken at level
  ``alpha / T`` (Bonferroni over the T rows): a simultaneous bound, valid for correlated rows.
* :func:`max_of_means` -- for ``sup_t E X_t`` (SAEF Lemma 1): the mirror image (upper bound
  ``max_t UCB_t`` at ``alpha``; lower bound ``max_t LCB_t`` at ``alpha / T``).
* :func:`verdict` -- holds / violated / inconclusive for an upper or a lower bound.
* :func:`fit_slope` -- log-log slope over a sweep with a delta-method interval.
* :func:`ratio_of_means` -- ``mean(x) / mean(y)`` of two independent samples (a comparison claim's
  ratio candidate / baseline) with delta-method bounds on the log scale, censoring-aware.
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
    "ratio_of_means",
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
    """Replica mean of ``x`` (R,) with one-sided bounds, each at level ``alpha``: for ``R >= 10``
    the wider of the Student-t and the studentized-bootstrap (bootstrap-t) bound on each side.

    The t bound alone is anti-conservative on the long side of a skewed sample; bootstrap-t
    corrects for skewness, and taking the wider of the two keeps whichever is valid. The bootstrap
    uses ``max(2000, 50 / alpha)`` resamples (at most 200000) from a fixed seed: reproducible."""
    x = np.asarray(x, dtype=float)
    m, lo, hi = _row_bounds(x[None, :], alpha)
    low, high = float(lo[0]), float(hi[0])
    R = x.size
    method = f"replica mean, one-sided Student t (R = {R})"
    s = float(x.std(ddof=1)) if R > 1 and np.all(np.isfinite(x)) else 0.0
    if R >= 10 and s > 0:
        B = int(min(max(2000, math.ceil(50 / alpha)), 200_000))
        rng = np.random.default_rng(20231)
        t_star = np.empty(B)
        mean = float(x.mean())
        done = 0
        while done < B:  # in chunks: memory stays O(chunk * R)
            n = min(B - done, max(1, 2_000_000 // R))
            xs = x[rng.integers(0, R, size=(n, R))]
            ss = xs.std(axis=1, ddof=1)
            ss = np.where(ss > 0, ss, s)
            t_star[done : done + n] = (xs.mean(axis=1) - mean) / (ss / math.sqrt(R))
            done += n
        q_lo, q_hi = np.quantile(t_star, [alpha, 1.0 - alpha])
        low = min(low, mean - float(q_hi) * s / math.sqrt(R))
        high = max(high, mean - float(q_lo) * s / math.sqrt(R))
        method = (
            f"replica mean, one-sided: the wider of the Student-t and bootstrap-t bounds "
            f"({B} resamples; R = {R})"
        )
    return Bounds(float(m[0]), low, high, method)


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


def ratio_of_means(
    x: np.ndarray, y: np.ndarray, level: float, *, x_censored: int = 0, y_censored: int = 0
) -> dict[str, float]:
    """``mean(x) / mean(y)`` for independent samples with one-sided bounds at ``level`` each:
    delta method on ``log``: ``se^2 = s_x^2/(n xbar^2) + s_y^2/(m ybar^2)``, Student t with
    Welch-Satterthwaite degrees of freedom. ``x`` and ``y`` hold censored replicas at their
    smallest possible value; ``x_censored`` / ``y_censored`` of them make the upper / lower bound
    infinite / 0 (the smallest value a censored replica can have is known; its largest is not:
    :mod:`boundcheck.check.comparison`)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n, m = x.size, y.size
    mx, my = float(x.mean()), float(y.mean())
    if not (mx > 0 and my > 0):
        return {"estimate": math.nan, "low": 0.0, "high": math.inf, "df": 0.0}
    est = mx / my
    if n < 2 or m < 2:
        low, high, df = 0.0, math.inf, 0.0
    else:
        a = float(x.var(ddof=1)) / (n * mx * mx)
        b = float(y.var(ddof=1)) / (m * my * my)
        se = math.sqrt(a + b)
        if se == 0:
            low = high = est
            df = math.inf
        else:
            den = (a * a / (n - 1) if a else 0.0) + (b * b / (m - 1) if b else 0.0)
            df = (a + b) ** 2 / den
            q = t_quantile(level, max(1.0, df))  # type: ignore[arg-type]  # Welch: real df
            # exp(q se) overflows for a tiny level with few degrees of freedom: an infinite bound
            w = q * se
            low = est * math.exp(-w) if w < 700 else 0.0
            high = est * math.exp(w) if w < 700 else math.inf
    if x_censored:
        high = math.inf
    if y_censored:
        low = 0.0
    return {"estimate": est, "low": low, "high": high, "df": df}
