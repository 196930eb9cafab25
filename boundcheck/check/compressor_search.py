"""Empirical worst case of a compressor: ``sup_x E||C(x) - x||^2 / ||x||^2`` by search.

The ratio is scale-invariant, so the search runs on the unit sphere in float64. Where the compressor
has a closed form of ``E||C(x) - x||^2`` (every built-in one: QSGD's per-coordinate two-point law,
rand-k's inclusion probabilities, deterministic compressors directly) the objective is *exact* and
free of noise; otherwise it is a Monte Carlo mean over ``mc_samples`` draws, and the winner is
re-estimated with fresh draws and a one-sided confidence bound (false-alarm rate ``alpha``).

Search (vectorised, seeded, deterministic): (1) a structured pool -- one-hot, constant,
alternating-sign, constant on the first ``m`` coordinates for ``m`` on a geometric grid, two-level
vectors, sparse and dense Gaussians -- because the extremes of the known compressors sit there
(top-k and QSGD at constant magnitude, scaled sign at one-hot); (2) batched hill climbing from the
best ``population`` members: Gaussian perturbations with a per-member step size (grown by 1.5 on
success, shrunk by 0.85 on failure), renormalised to the sphere, only improvements kept. Hill
climbing rather than gradients because the QSGD ratio is piecewise smooth in ``x`` (``frac`` has
jumps) and the Monte Carlo ratio has no gradient at all.

A declared (or published) parameter is *beaten* when the worst ratio found exceeds the ratio bound
it asserts (``1 - delta`` or ``q``): beyond the float64 rounding tolerance ``max(1e-9, 4 d eps)``
for exact objectives (a closed form sums ``d`` terms, relative error <= ``d eps``), or with the
one-sided lower confidence bound above it for Monte Carlo ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

from boundcheck.compressors import Compressor, Published, _check_d, _check_int
from boundcheck.errors import ParameterError

__all__ = ["BoundCheck", "SearchResult", "ratio", "structured_pool", "worst_case"]

EPS64 = float(torch.finfo(torch.float64).eps)


@dataclass(frozen=True)
class BoundCheck:
    """One parameter (declared by the module or published) against the worst ratio found."""

    origin: str  # "declared" (proven here) or "published"
    param: str  # "delta" or "q"
    value: float
    ratio_bound: float
    source: str
    applies_to: str
    beaten: bool
    not_contraction: bool  # a delta <= 0: no contraction at this d (QAFeL Def. 2.1 needs > 0)
    note: str = ""
    # False: the value is claimed for another compressor (e.g. the rescaled Q/(1+q) shown beside
    # Q); it is listed for reference and never compared with this compressor's worst ratio
    applies: bool = True


@dataclass
class SearchResult:
    compressor: str
    d: int
    ratio: float  # worst E||C(x)-x||^2/||x||^2 found
    x: torch.Tensor  # the worst input (unit norm, float64)
    method: str  # "exact" or "monte-carlo"
    evaluations: int
    exact_sup: float | None  # closed-form sup where known
    ci_low: float | None = None
    ci_high: float | None = None
    checks: list[BoundCheck] = field(default_factory=list)

    @property
    def beaten(self) -> list[BoundCheck]:
        return [c for c in self.checks if c.beaten]

    def to_dict(self) -> dict[str, object]:
        return {
            "compressor": self.compressor,
            "d": self.d,
            "worst_ratio": self.ratio,
            "method": self.method,
            "ci": None if self.ci_low is None else [self.ci_low, self.ci_high],
            "exact_sup": self.exact_sup,
            "evaluations": self.evaluations,
            "checks": [c.__dict__ for c in self.checks],
            "beaten": bool(self.beaten),
            "worst_input": self.x.tolist(),
        }


def ratio(
    C: Compressor,
    X: torch.Tensor,
    generator: torch.Generator | None = None,
    mc_samples: int = 256,
) -> tuple[torch.Tensor, bool]:
    """``E||C(x)-x||^2 / ||x||^2`` per row of ``X`` (rows nonzero) and whether it is exact."""
    X = X.double()
    e = C.expected_sq_error(X)
    if e is not None:
        return e / (X * X).sum(-1), True
    return _mc_ratios(C, X, generator, mc_samples).mean(0), False


def _mc_ratios(
    C: Compressor, X: torch.Tensor, generator: torch.Generator | None, m: int
) -> torch.Tensor:
    """``m`` independent draws of ``||C(x)-x||^2 / ||x||^2`` per row of ``X``: ``(m, *X.shape[:-1])``."""
    reps = X.expand(m, *X.shape)
    Y = C(reps, generator)
    return ((Y - reps) ** 2).sum(-1) / (X * X).sum(-1)


def _unit(X: torch.Tensor) -> torch.Tensor:
    return X / torch.linalg.vector_norm(X, dim=-1, keepdim=True).clamp_min(1e-300)


def structured_pool(d: int, generator: torch.Generator) -> torch.Tensor:
    """The structured starting inputs (unit rows, float64): see the module docstring."""
    d = _check_d(d)
    rows = [torch.ones(d), torch.zeros(d).index_fill_(0, torch.tensor([0]), 1.0)]
    rows.append(torch.tensor([(-1.0) ** i for i in range(d)]))
    ms = sorted({max(1, round(d / 2**j)) for j in range(int(math.log2(d)) + 1)} | {d})
    for m in ms:
        v = torch.zeros(d)
        v[:m] = 1.0
        rows.append(v)
        for a in (0.1, 0.5, 2.0, 10.0):
            w = torch.ones(d)
            w[:m] = a
            rows.append(w)
    n_rand = 32
    G = torch.randn(n_rand, d, generator=generator, dtype=torch.float64)
    sparse = G * (torch.rand(n_rand, d, generator=generator, dtype=torch.float64) < 0.1)
    sparse[:, 0] += 1.0  # never all-zero
    out = torch.cat([torch.stack(rows).double(), G, sparse, G.abs()])
    return _unit(out)


def worst_case(
    C: Compressor,
    d: int,
    *,
    seed: int = 0,
    population: int = 32,
    steps: int = 200,
    mc_samples: int = 256,
    alpha: float = 1e-6,
    progress: Callable[[int, int], None] | None = None,
) -> SearchResult:
    """Search for the worst input of ``C`` at dimension ``d`` and check every parameter.

    ``progress(i, steps)`` is called after each hill-climbing step (for a progress bar).
    """
    d = _check_d(d)
    population = _check_int("population", population, 1)
    steps = _check_int("steps", steps, 0)
    mc_samples = _check_int("mc_samples", mc_samples, 2)
    if not (0.0 < alpha < 1.0):
        raise ParameterError(f"alpha={alpha} is outside the allowed range (0, 1)")
    C.bits(d)  # validates d against the compressor's parameters (k <= d, block sizes, ...)
    g = torch.Generator().manual_seed(seed)
    g_eval = torch.Generator().manual_seed(seed + 1)

    pool = structured_pool(d, g)
    r, exact = ratio(C, pool, g_eval, mc_samples)
    evaluations = pool.shape[0]
    order = torch.argsort(r, descending=True)[:population]
    X, R = pool[order], r[order]
    sigma = torch.full((X.shape[0], 1), 0.3, dtype=torch.float64)
    for i in range(steps):
        noise = torch.randn(X.shape, generator=g, dtype=torch.float64) / math.sqrt(d)
        cand = _unit(X + sigma * noise)
        rc, _ = ratio(C, cand, g_eval, mc_samples)
        evaluations += cand.shape[0]
        better = rc > R
        X = torch.where(better.unsqueeze(-1), cand, X)
        R = torch.where(better, rc, R)
        sigma = torch.where(better.unsqueeze(-1), sigma * 1.5, sigma * 0.85).clamp(1e-6, 3.0)
        if progress is not None:
            progress(i + 1, steps)
    best = int(torch.argmax(R))
    x, worst = X[best], float(R[best])
    ci_low = ci_high = None
    if exact:
        tol = max(1e-9, 4 * d * EPS64)
        lo_for_test = worst
    else:
        # fresh draws for the winner (the search's maximum is biased upward)
        m = max(mc_samples, 4096)
        samples = _mc_ratios(C, x, g_eval, m)
        evaluations += 1
        mean, sd = float(samples.mean()), float(samples.std())
        z = _z(alpha)
        ci_low, ci_high = mean - z * sd / math.sqrt(m), mean + z * sd / math.sqrt(m)
        worst, tol, lo_for_test = mean, 0.0, ci_low

    checks: list[BoundCheck] = []
    declared: list[Published] = []
    if (dl := C.delta(d)) is not None:
        declared.append(Published("delta", dl, "proven (boundcheck.compressors)", C.describe()))
    if (q := C.q(d)) is not None:
        declared.append(Published("q", q, "proven (boundcheck.compressors)", C.describe()))
    for origin, items in (("declared", declared), ("published", C.published(d))):
        for p in items:
            bound = p.ratio_bound
            applies = _applies(p, C)
            checks.append(
                BoundCheck(
                    origin=origin,
                    param=p.param,
                    value=p.value,
                    ratio_bound=bound,
                    source=p.source,
                    applies_to=p.applies_to,
                    beaten=applies and lo_for_test > bound * (1 + tol) + tol * 1e-6,
                    not_contraction=p.param == "delta" and p.value <= 0,
                    note=p.note,
                    applies=applies,
                )
            )
    return SearchResult(
        compressor=C.describe(),
        d=d,
        ratio=worst,
        x=x,
        method="exact" if exact else "monte-carlo",
        evaluations=evaluations,
        exact_sup=C.worst_ratio(d),
        ci_low=ci_low,
        ci_high=ci_high,
        checks=checks,
    )


def _applies(p: Published, C: Compressor) -> bool:
    """A published value claimed for a rescaled ``Q/(1+q)`` says nothing about ``Q`` itself."""
    return "/ (1 + q)" not in p.applies_to or C.name.startswith("rescaled")


def _z(alpha: float) -> float:
    """Upper ``alpha`` quantile of the standard normal."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(1.0 - alpha)
