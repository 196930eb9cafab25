"""Eigenvalue constants are rounded outward: never on the wrong side of the 50-digit truth."""

from __future__ import annotations

import mpmath
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.problems.quadratic import Quadratic


def _eig50(M: np.ndarray) -> tuple[mpmath.mpf, mpmath.mpf]:
    with mpmath.workdps(50):
        ev = mpmath.eigsy(mpmath.matrix(M.tolist()), eigvals_only=True)
        vals = sorted(ev[i] for i in range(M.shape[0]))
    return vals[0], vals[-1]


@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 4), d=st.integers(1, 6), seed=st.integers(0, 2**16), same=st.booleans())
def test_L_Li_mu_bracket_the_high_precision_eigenvalues(n, d, seed, same):
    g = np.random.default_rng(seed)
    A = g.standard_normal((n, d, d))
    H = A @ np.swapaxes(A, 1, 2) + 0.1 * np.eye(d)  # symmetric positive definite
    if same:  # identical clients: L_i and L are the same eigenvalue computed twice
        H = np.broadcast_to(H[0], (n, d, d)).copy()
    p = Quadratic(H, g.standard_normal((n, d)))
    Hbar = H.mean(axis=0)
    lo, hi = _eig50(Hbar)
    assert mpmath.mpf(p.constant("L").value) >= hi
    assert mpmath.mpf(p.constant("mu").value) <= lo
    top = max(_eig50(H[i])[1] for i in range(n))
    assert mpmath.mpf(p.constant("L_i").value) >= top
    # and outward by no more than the stated slack 8 d eps ||H|| plus eigvalsh's own error
    slack = 8 * d * np.finfo(np.float64).eps * float(hi)
    assert p.constant("L").value - float(hi) <= 2 * slack + np.finfo(np.float64).tiny
