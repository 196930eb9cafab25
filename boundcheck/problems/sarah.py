"""The counterexample of AsyncBC Theorem 3: ``f_i(x) = ||x + b_i||^2 / 2`` with independent noise.

Every ``f_i`` has Hessian ``I``: ``L = L_i = mu = 1``, ``delta_H = 0`` exact (AsyncBC Assumption 2
asks for ``delta > 0``; any positive delta works), ``x* = -mean(b_i)``,
``f* = 1/(2n) sum_i ||b_i - bbar||^2``, and ``grad f_i - grad f = b_i - bbar`` for every ``x``, so
``zeta2 = max_i ||b_i - bbar||^2`` is exact and finite. The default oracle is ``independent``: the
gradient difference ``g^i_t = grad f_i(x_t) - grad f_i(x_{t-1}) + xi_t``, ``xi_t ~ N(0, noise_var I)``.
"for any b_i": here ``b_i ~ N(0, zeta^2 I_d)`` from the seed, or given explicitly.

Findings about the proof of Theorem 3 (Appendix B; evidence in tests/problems/test_problem_sarah.py):

1. "For s <= T/2, we have (1 - eta)^{T-s} <= 5/4" -- the chain just before it gives
   ``(1 - eta)^{T-s} <= 1/(3/2 - s/(2T)) <= 4/5``; "5/4" is a typo, and the next line's ``1/25``
   (``= (1 - 4/5)^2``) only follows from 4/5.
2. The small-stepsize case: with ``b_i = 0``, ``sigma = 0``, ``m_0 = x_0``, the iterates are
   ``x_T = (1 - eta)^T x_0``, hence ``||x_T||^2 = (1 - eta)^{2T} ||x_0||^2`` -- not
   ``(1 - eta)^T ||x_0||^2`` as written -- and at ``eta = 1/(2T)`` this is
   ``(1 - 1/(2T))^{2T} ||x_0||^2 < ||x_0||^2 / 2`` for every ``T >= 1`` (it tends to ``1/e``), so the
   claimed ``||x_T||^2 >= ||x_0||^2/2`` is false. The conclusion survives with ``1/4``:
   ``(1 - eta)^{2T} >= 1 - 2 T eta`` is useless at ``eta = 1/(2T)``, but
   ``(1 - 1/(2T))^{2T} >= 1/4`` for ``T >= 1``.
3. Appendix C "verifies Theorem 3" on the Section 5 least squares with ``zeta = 0``, whose
   ``f_i = i^2/(2n) ||x||^2`` have Hessians ``i^2/n I != I``: outside the theorem's construction,
   whose proof uses ``grad f_i(x_t) - grad f_i(x_{t-1}) = x_t - x_{t-1}``.
"""

from __future__ import annotations

import numpy as np
import torch

from boundcheck.problems import _params
from boundcheck.problems.oracles import make_oracle
from boundcheck.problems.quadratic import DiagonalLeastSquares


def sarah_counterexample(
    n: int = 4,
    d: int = 10,
    zeta: float = 1.0,
    noise_var: float = 0.01,
    seed: int = 0,
    b: object | None = None,
    oracle: str = "independent",
    batch_size: int = 1,
    radius: float | None = None,
    dtype: torch.dtype = torch.float64,
    device: torch.device | str = "cpu",
) -> DiagonalLeastSquares:
    """``f_i(x) = ||x + b_i||^2/2`` (AsyncBC Theorem 3); ``b`` (n, d) overrides the random ``b_i``."""
    n, d = _params.count("n", n), _params.count("d", d)
    zeta = _params.nonneg("zeta", zeta)
    _params.nonneg("noise_var", noise_var)
    if b is None:
        bi = zeta * _params.rng(seed, "sarah").standard_normal((n, d))
    else:
        bi = _params.array("b", b, (n, d))
    return DiagonalLeastSquares(
        np.ones((n, 1)),  # A_i = I, stored as a scaled identity
        -bi,
        scale="sum",
        radius=radius,
        oracle=make_oracle(oracle, noise_var, batch_size),
        dtype=dtype,
        device=device,
    )
