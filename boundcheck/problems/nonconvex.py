"""Quadratics with indefinite local Hessians: non-convex ``f_i`` (issue 8, "Also fix").

AsyncBC's Assumptions 1-2 ask only that ``f`` be ``L``-smooth and that each ``f_i`` differ from ``f``
by a ``delta``-smooth term (``||grad f(x) - grad f(y) - (grad f_i(x) - grad f_i(y))|| <= delta
||x - y||``); FedPAQ Theorem 2 and QAFeL (Assumption 3.3: each ``F_n`` ``L``-smooth) allow non-convex
functions too. :func:`indefinite_quadratic` builds ``f_i(x) = 1/2 x^T H_i x - c_i^T x`` with

    H_i = Hbar + spread (S_i - Sbar),        Hbar with eigenvalues spread evenly over [lmin, lmax],

so the local Hessians are indefinite as soon as ``spread`` exceeds the mean's smallest curvature,
while the mean is positive semidefinite (``lmin >= 0``; strongly convex for ``lmin > 0``) or not
(``lmin < 0``), as each theorem allows. ``structure="diagonal"``: ``Hbar = diag(linspace(lmin,
lmax, d))``, ``S_i`` diagonal with i.i.d. ``N(0, 1)`` entries (constants in closed form);
``structure="dense"``: ``Hbar = Q diag(.) Q^T`` with a random orthogonal ``Q`` and symmetric
Gaussian ``S_i`` of scale ``1/sqrt(d)`` (eigenvalues rounded outward). Centring over the clients makes
the mean exactly ``Hbar`` up to rounding. ``c_i = u + zeta v_i`` as in the other families.

Constants (all from the data as stored; see :class:`~boundcheck.problems.quadratic.Quadratic`):
``L = ||Hbar||_2`` (Assumption 1; for an indefinite mean the spectral norm, not the largest
eigenvalue), ``L_i = max_i ||H_i||_2`` (QAFeL 3.3's per-client smoothness), ``delta_H = max_i
||Hbar - H_i||_2`` (AsyncBC Assumption 2, attained), ``lambda_min`` (rounded down), ``mu`` where
``lambda_min > 0``; ``f_star = -inf`` where the mean is indefinite (or ``cbar`` leaves its range);
``zeta2 = inf`` (the ``H_i`` differ, so ``grad f_i - grad f`` grows linearly in ``x``) and
``G = M2 = inf`` on ``R^d`` (certified on a ball with ``radius=``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from boundcheck.errors import ParameterError
from boundcheck.problems import _params
from boundcheck.problems.oracles import make_oracle
from boundcheck.problems.quadratic import Quadratic, diagonal_quadratic


def indefinite_quadratic(
    n: int = 4,
    d: int = 10,
    lmin: float = 0.1,
    lmax: float = 1.0,
    spread: float = 1.0,
    zeta: float = 1.0,
    seed: int = 0,
    structure: str = "diagonal",
    radius: float | None = None,
    oracle: str = "exact",
    noise_var: float = 0.0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Quadratic:
    """Non-convex local quadratics around a mean Hessian with spectrum in ``[lmin, lmax]``."""
    n, d = _params.count("n", n), _params.count("d", d)
    lo = _params._number("lmin", lmin, "a finite number")
    hi = _params._number("lmax", lmax, "a finite number")
    if lo > hi:
        raise ParameterError(f"lmin={lmin!r} is not allowed; lmin must be <= lmax={lmax!r}")
    spread = _params.nonneg("spread", spread)
    zeta = _params.nonneg("zeta", zeta)
    _params.choice("structure", structure, ("diagonal", "dense"))
    g = _params.rng(seed, "indefinite_quadratic")
    hbar = np.linspace(lo, hi, d) if d > 1 else np.array([hi])
    c = _params.centres(g, n, d, zeta)
    kw = {
        "radius": radius,
        "oracle": make_oracle(oracle, noise_var),
        "allow_indefinite": True,
        "dtype": dtype,
        "device": device,
    }
    if structure == "diagonal":
        V = g.standard_normal((n, d))
        V -= V.mean(axis=0)
        return diagonal_quadratic(hbar[None, :] + spread * V, c, **kw)
    Q, _ = np.linalg.qr(g.standard_normal((d, d)))
    Hbar = (Q * hbar) @ Q.T
    G = g.standard_normal((n, d, d))
    S = (G + np.swapaxes(G, 1, 2)) / (2 * math.sqrt(d))
    S -= S.mean(axis=0)
    H = Hbar[None] + spread * S
    return Quadratic(0.5 * (H + np.swapaxes(H, 1, 2)), c, **kw)
