"""Heterogeneous least-squares families.

* :func:`least_squares` -- general random ``A_i``: ``f_i(x) = 1/(2m) ||A_i x - b_i||^2`` (the mean
  over the client's ``m`` samples; ``scale="sum"`` drops the ``1/m``), entries of ``A_i`` i.i.d.
  ``N(0, 1)``, ``b_i = A_i (w + zeta v_i)`` with ``w, v_i ~ N(0, I_d / d)``: ``zeta`` is the
  heterogeneity knob (``zeta = 0`` gives one common minimiser ``w``, so ``zeta2_star = 0``).
* :func:`asyncbc_least_squares` -- AsyncBC Section 5 / Appendix D.1 (after Koloskova et al. 2020b):
  ``f_i(x) = 1/2 ||A_i x - b_i||^2`` with ``A_i^2 = i^2/n I_d`` (so ``A_i = i/sqrt(n) I_d``,
  ``i = 1..n``; client index ``k`` in code is ``i = k + 1``) and ``b_i ~ N(0, zeta^2/i^2 I_d)``.

  *Reading* (recorded): ``zeta^2/i^2`` is the **variance** of each entry of ``b_i`` (standard
  deviation ``zeta/i``). Under it ``grad f_i(x) = i^2/n x - zeta/sqrt(n) g_i`` with ``g_i ~ N(0, I)``,
  so the heterogeneity term has the same law for every client and is controlled by ``zeta`` alone,
  which is what the paper says the knob does.

  Exact constants (``H_i = i^2/n I``): ``L_i = n`` (max over i), ``L = mu = (n+1)(2n+1)/(6n)``,
  ``delta_H = max_i |i^2/n - L|``; ``zeta2 = inf`` for ``n > 1`` (the ``H_i`` differ), finite at the
  optimum.

The per-sample rows of the AsyncBC family are ``a_ij = i/sqrt(n) e_j`` (``m = d`` samples), so its
minibatch oracle samples coordinates; with ``scale="sum"`` each per-sample loss is weighted
``w = m``. It is stored as scaled identities (:class:`DiagonalLeastSquares`): every constant is in
closed form, and a gradient costs ``O(d)``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from boundcheck.problems import _params
from boundcheck.problems.oracles import make_oracle
from boundcheck.problems.quadratic import DiagonalLeastSquares, LeastSquares


def least_squares(
    n: int = 4,
    d: int = 10,
    m: int = 20,
    zeta: float = 1.0,
    seed: int = 0,
    scale: str = "mean",
    radius: float | None = None,
    oracle: str = "exact",
    noise_var: float = 0.0,
    batch_size: int = 1,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> LeastSquares:
    """General random heterogeneous least squares (module docstring)."""
    n, d, m = _params.count("n", n), _params.count("d", d), _params.count("m", m)
    zeta = _params.nonneg("zeta", zeta)
    g = _params.rng(seed, "least_squares")
    A = g.standard_normal((n, m, d))
    b = np.einsum("nmd,nd->nm", A, _params.centres(g, n, d, zeta))
    return LeastSquares(
        A,
        b,
        scale=scale,
        radius=radius,
        oracle=make_oracle(oracle, noise_var, batch_size),
        dtype=dtype,
        device=device,
    )


def asyncbc_least_squares(
    n: int = 4,
    d: int = 10,
    zeta: float = 1.0,
    seed: int = 0,
    radius: float | None = None,
    oracle: str = "exact",
    noise_var: float = 0.0,
    batch_size: int = 1,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> DiagonalLeastSquares:
    """AsyncBC Section 5 synthetic least squares (defaults n = 4, d = 10 as in Appendix D.1)."""
    n, d = _params.count("n", n), _params.count("d", d)
    zeta = _params.nonneg("zeta", zeta)
    g = _params.rng(seed, "asyncbc_least_squares")
    i = np.arange(1, n + 1, dtype=np.float64)
    a = (i / math.sqrt(n))[:, None]  # A_i = i/sqrt(n) I, stored as a scaled identity
    b = (zeta / i)[:, None] * g.standard_normal((n, d))
    return DiagonalLeastSquares(
        a,
        b,
        scale="sum",
        radius=radius,
        oracle=make_oracle(oracle, noise_var, batch_size),
        dtype=dtype,
        device=device,
    )
