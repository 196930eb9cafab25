"""Toy objectives for error-feedback accumulation (SAEF; constant or affine gradients).

* :func:`linear_toy` -- ``f_i(x) = -c_i^T x``: the gradient ``-c_i`` is constant, so a compressor's
  error accumulates from the same input every step. ``L = L_i = delta_H = 0``; ``G = max_i ||c_i||^2``
  (QAFeL 3.3), ``M2 = ||cbar||^2`` (SAEF Assumption 3) and ``zeta2 = max_i ||c_i - cbar||^2`` hold
  globally and exactly; ``f* = -inf`` unless ``cbar = 0`` (no minimiser: no ``x_star``).
  ``c_i = u + zeta v_i`` with ``u, v_i ~ N(0, I_d / d)``.
* :func:`quadratic_toy` -- ``f_i(x) = 1/2 x^T diag(h) x - c_i^T x`` with one diagonal ``h`` for all
  clients, log-spaced in ``[mu, L]``: strongly convex, ``delta_H = 0`` and a finite, exact
  ``zeta2 = max_i ||c_i - cbar||^2`` for every ``x``.
"""

from __future__ import annotations

import numpy as np
import torch

from boundcheck.errors import ParameterError
from boundcheck.problems import _params
from boundcheck.problems.oracles import make_oracle
from boundcheck.problems.quadratic import Quadratic, diagonal_quadratic


def linear_toy(
    n: int = 4,
    d: int = 10,
    zeta: float = 1.0,
    seed: int = 0,
    oracle: str = "exact",
    noise_var: float = 0.0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Quadratic:
    """``f_i(x) = -c_i^T x`` (constant gradient ``-c_i``)."""
    n, d = _params.count("n", n), _params.count("d", d)
    zeta = _params.nonneg("zeta", zeta)
    c = _params.centres(_params.rng(seed, "linear_toy"), n, d, zeta)
    return diagonal_quadratic(
        np.zeros((n, 1)),  # H_i = 0, stored as a scaled identity
        c,
        oracle=make_oracle(oracle, noise_var),
        dtype=dtype,
        device=device,
    )


def quadratic_toy(
    n: int = 4,
    d: int = 10,
    mu: float = 0.1,
    L: float = 1.0,
    zeta: float = 1.0,
    seed: int = 0,
    radius: float | None = None,
    oracle: str = "exact",
    noise_var: float = 0.0,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> Quadratic:
    """``f_i(x) = 1/2 x^T diag(h) x - c_i^T x``, ``h`` log-spaced in ``[mu, L]`` (shared)."""
    n, d = _params.count("n", n), _params.count("d", d)
    mu, L = _params.positive("mu", mu), _params.positive("L", L)
    if mu > L:
        raise ParameterError(f"mu={mu!r} is not allowed; mu must be <= L={L!r}")
    zeta = _params.nonneg("zeta", zeta)
    h = np.geomspace(mu, L, d)
    c = _params.centres(_params.rng(seed, "quadratic_toy"), n, d, zeta)
    return diagonal_quadratic(
        np.broadcast_to(h, (n, d)),  # diagonal storage: constants in closed form
        c,
        radius=radius,
        oracle=make_oracle(oracle, noise_var),
        dtype=dtype,
        device=device,
    )
