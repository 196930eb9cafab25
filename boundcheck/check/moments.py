"""Exact moment propagation for methods that are linear in an augmented state (issue 13).

Many of the checked methods are, on quadratic local functions ``f_i(x) = 1/2 x^T H_i x - c_i^T x +
e_i``, *affine in an augmented state* ``z`` given finitely many random choices ``w`` (the client
``k_t`` of AsyncBC/SARAH, the node set ``S_k`` of FedPAQ, the mask of rand-k) plus zero-mean noise
of known covariance (the Gaussian oracle):

    z_{t+1} = A_w z_t + b_w + B_w xi_t,   Pr[w] = p_w,   E xi_t = 0,  Cov xi_t = C_w,

with ``w`` and ``xi_t`` independent of each other and of the past. The first and second moments
``m_t = E z_t`` and ``S_t = E z_t z_t^T`` then obey the closed recursion (:func:`step`)

    m' = sum_w p_w (A_w m + b_w),
    S' = sum_w p_w (A_w S A_w^T + A_w m b_w^T + b_w m^T A_w^T + b_w b_w^T + B_w C_w B_w^T),

and every left-hand side that is a quadratic in an iterate ``x = P z`` is a trace against ``S``
(:func:`grad_norm_sq`, :func:`f_value`, :func:`dist_sq`): the *exact* expectation, no sampling
error. Arithmetic is float64 NumPy, or exact rationals (``fractions.Fraction`` in object arrays)
for tiny instances (:func:`exact`).

Method builders (each reproduces the row semantics of its implementation in
:mod:`boundcheck.algorithms` to the letter; their tests compare against batched Monte Carlo runs
of the real implementations):

* :func:`sarah_moments` -- single-loop SARAH and AsyncBC-GD/-SGD with ``tau_C = 1`` (AsyncBC
  Algorithms 1-2, Section 4.2);
* :func:`fedpaq_moments` -- FedPAQ/FedAvg (FedPAQ Algorithm 1) with node sampling, local SGD with
  Gaussian noise, identity or rand-k quantizers (``virtual=True`` rows ``bar x_{k,t}``, eq. (20));
* :func:`ef_moments` -- EF-SGD/SAEF-SGD (SAEF Algorithm 1, momentum and error averaging included)
  with identity or rand-k compressors on the workers and the server;
* :func:`asyncbc_pinned_moments` -- AsyncBC-GD/-SGD with ``tau_C >= 1`` on a pinned schedule;
* :func:`qafel_pinned_moments` -- QAFeL/FedBuff (QAFeL Algorithms 1-3) on a pinned schedule with
  identity or rand-k quantizers;
* :func:`random_schedule_moments` -- AsyncBC-GD/-SGD and Async-GD/-SGD averaged over their random
  AsyncBC Section 5 schedules (client choices enumerated);
* :func:`async_gd_moments` -- Async-GD/-SGD on a pinned schedule (the state augmented by the delayed
  iterates).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np

from boundcheck.errors import ParameterError

Array = np.ndarray


# --- the generic propagator ----------------------------------------------------------------------
@dataclass(frozen=True)
class Branch:
    """One random choice ``w``: ``z' = A z + b + B xi`` with probability ``p``, ``Cov xi = cov``.

    ``b``, ``B``/``cov`` may be ``None`` (no offset, no noise)."""

    p: Any
    A: Array
    b: Array | None = None
    B: Array | None = None
    cov: Array | None = None


@dataclass
class Moments:
    """``mean = E z`` ``(D,)`` and ``second = E z z^T`` ``(D, D)`` (float64 or object/Fraction)."""

    mean: Array
    second: Array

    @property
    def cov(self) -> Array:
        return self.second - np.outer(self.mean, self.mean)

    def project(self, P: Array) -> Moments:
        """The moments of ``P z``."""
        return Moments(P @ self.mean, P @ self.second @ P.T)


def deterministic(z0: Any, exact_arith: bool = False) -> Moments:
    """The moments of a deterministic initial state ``z0``."""
    z = _arr(z0, exact_arith)
    if z.ndim != 1:
        raise ParameterError(f"z0 must be a vector, got shape {z.shape}")
    return Moments(z, np.outer(z, z))


def _arr(a: Any, exact_arith: bool) -> Array:
    if exact_arith:
        return np.vectorize(_frac, otypes=[object])(np.asarray(a, dtype=object))
    return np.asarray(a, dtype=np.float64)


def _frac(v: Any) -> Fraction:
    return v if isinstance(v, Fraction) else Fraction(v)


def step(mom: Moments, branches: Sequence[Branch], *, check_p: bool = True) -> Moments:
    """One step of the moment recursion (module docstring) over a finite mixture of branches.

    The probabilities must be ``>= 0`` and sum to 1 (within ``1e-12`` in float64, exactly with
    Fractions)."""
    if not branches:
        raise ParameterError("branches must hold at least one random choice")
    D = mom.mean.shape[0]
    if check_p:
        ps = [b.p for b in branches]
        if any(p < 0 for p in ps):
            raise ParameterError(f"branch probabilities must be >= 0, got {ps}")
        tot = sum(ps)
        if (tot != 1) if isinstance(tot, Fraction) else abs(float(tot) - 1.0) > 1e-12:
            raise ParameterError(f"branch probabilities must sum to 1, got {float(tot)!r}")
    mean = np.zeros_like(mom.mean)
    second = np.zeros_like(mom.second)
    for br in branches:
        A = br.A
        if A.shape != (D, D):
            raise ParameterError(f"branch map A has shape {A.shape}; the state needs ({D}, {D})")
        Am = A @ mom.mean
        Sw = A @ mom.second @ A.T
        mw = Am
        if br.b is not None:
            mw = Am + br.b
            Amb = np.outer(Am, br.b)
            Sw = Sw + Amb + Amb.T + np.outer(br.b, br.b)
        if br.B is not None:
            cov = br.cov if br.cov is not None else np.eye(br.B.shape[1], dtype=br.B.dtype)
            Sw = Sw + br.B @ cov @ br.B.T
        mean = mean + br.p * mw
        second = second + br.p * Sw
    return Moments(mean, second)


# --- left-hand sides for a quadratic f(x) = 1/2 x^T H x - c^T x + e ----------------------------------
def grad_norm_sq(mean: Array, second: Array, H: Array, c: Array) -> Any:
    """``E||H x - c||^2 = tr(H S H) - 2 c^T H m + ||c||^2`` for ``x`` with moments ``m``, ``S``."""
    return np.trace(H @ second @ H.T) - 2 * (c @ (H @ mean)) + c @ c


def f_value(mean: Array, second: Array, H: Array, c: Array, e: Any = 0) -> Any:
    """``E f(x) = 1/2 tr(H S) - c^T m + e``."""
    return np.trace(H @ second) / 2 - c @ mean + e


def dist_sq(mean: Array, second: Array, x_star: Array) -> Any:
    """``E||x - x*||^2 = tr(S) - 2 x*^T m + ||x*||^2``."""
    return np.trace(second) - 2 * (x_star @ mean) + x_star @ x_star


@dataclass
class Rows:
    """Moments of the recorded iterate at each row: ``mean`` ``(T, d)``, ``second`` ``(T, d, d)``."""

    mean: Array
    second: Array

    def grad_norm_sq(self, q: Quad) -> Array:
        """Row ``t``: ``E||grad f(x_t)||^2``."""
        return np.array(
            [grad_norm_sq(m, S, q.H, q.c) for m, S in zip(self.mean, self.second, strict=True)]
        )

    def f_gap(self, q: Quad, f_star: Any) -> Array:
        """Row ``t``: ``E f(x_t) - f_star``."""
        return np.array(
            [
                f_value(m, S, q.H, q.c, q.e) - f_star
                for m, S in zip(self.mean, self.second, strict=True)
            ]
        )

    def dist_sq(self, x_star: Array) -> Array:
        """Row ``t``: ``E||x_t - x*||^2``."""
        return np.array(
            [dist_sq(m, S, x_star) for m, S in zip(self.mean, self.second, strict=True)]
        )


class _Recorder:
    def __init__(self) -> None:
        self.means: list[Array] = []
        self.seconds: list[Array] = []

    def add(self, mom: Moments, P: Array) -> None:
        pm = mom.project(P)
        self.means.append(pm.mean)
        self.seconds.append(pm.second)

    def rows(self) -> Rows:
        return Rows(np.array(self.means), np.array(self.seconds))


# --- quadratic problems ---------------------------------------------------------------------
@dataclass
class Quad:
    """``f(x) = 1/2 x^T H x - c^T x + e``."""

    H: Array
    c: Array
    e: Any = 0


@dataclass
class QuadProblem:
    """The data of a quadratic problem: local ``H_i`` ``(n, d, d)``, ``c_i`` ``(n, d)``, ``e_i``;
    the oracle noise covariance per query ``noise_cov`` ``(d, d)`` (``None``: exact) and whether the
    noise is AsyncBC Theorem 3's independent-noise oracle."""

    H: Array
    c: Array
    e: Array
    noise_cov: Array | None
    independent: bool

    @property
    def n(self) -> int:
        return self.H.shape[0]

    @property
    def d(self) -> int:
        return self.H.shape[1]

    def full(self) -> Quad:
        """The objective ``f = 1/n sum_i f_i``."""
        n = self.n
        return Quad(sum(self.H) / n, sum(self.c) / n, sum(self.e) / n)


def quad_problem(problem: Any, exact_arith: bool = False) -> QuadProblem:
    """The quadratic data of a :class:`boundcheck.problems.quadratic.Quadratic` (``H_np``, ``c_np``,
    ``e_np``) and its oracle (``exact``: no noise; ``gaussian``/``independent``: ``noise_var I``)."""
    from boundcheck.problems.oracles import Exact, GaussianNoise, IndependentNoise

    try:
        H, c, e = problem.H_np, problem.c_np, problem.e_np
    except AttributeError:
        raise ParameterError(
            f"{type(problem).__name__} is not a quadratic problem (it exposes no H_np, c_np, "
            "e_np); exact moments need quadratic local functions"
        ) from None
    oracle = getattr(problem, "oracle", None)
    if isinstance(oracle, Exact):
        cov = None
    elif isinstance(oracle, GaussianNoise):
        cov = oracle.noise_var * np.eye(problem.d)
    else:
        raise ParameterError(
            f"oracle {getattr(oracle, 'name', oracle)!r} is not allowed for exact moments: "
            "expected 'exact', 'gaussian' or 'independent'"
        )
    conv = lambda a: _arr(a, exact_arith)  # noqa: E731
    return QuadProblem(
        conv(H),
        conv(c),
        conv(e),
        None if cov is None else conv(cov),
        isinstance(oracle, IndependentNoise),
    )


def _count(name: str, v: Any, lo: int = 1) -> int:
    """An integer ``>= lo`` (bool and non-integral values refused)."""
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or int(v) < lo:
        raise ParameterError(f"{name}={v!r} is not allowed: expected an integer >= {lo}")
    return int(v)


def _x0(x0: Any, d: int, exact_arith: bool) -> Array:
    if x0 is None:
        return _arr(np.zeros(d), exact_arith)
    x = _arr(x0, exact_arith)
    if x.shape != (d,):
        raise ParameterError(f"x0 of shape {x.shape} is not allowed: expected ({d},)")
    return x


def _eye(d: int, exact_arith: bool) -> Array:
    return _arr(np.eye(d), exact_arith)


def _zeros(shape: Any, exact_arith: bool) -> Array:
    return _arr(np.zeros(shape), exact_arith)


def _num(v: Any, exact_arith: bool) -> Any:
    return _frac(v) if exact_arith else float(v)


def _block(D: int, d: int, j: int, exact_arith: bool) -> Array:
    """The ``(d, D)`` selector of block ``j``."""
    P = _zeros((d, D), exact_arith)
    P[:, j * d : (j + 1) * d] = _eye(d, exact_arith)
    return P


# --- SARAH / AsyncBC with tau_C = 1 ------------------------------------------------------------
def sarah_moments(
    problem: Any,
    *,
    T: int,
    eta: Any,
    x0: Any = None,
    stochastic: bool = False,
    sampling: str = "shared",
    client_probs: Sequence[Any] | None = None,
    exact_arith: bool = False,
) -> Rows:
    """Moments of rows ``x_0..x_{T-1}`` of :func:`boundcheck.algorithms.asyncbc.sarah` (and of
    ``asyncbc_gd``/``asyncbc_sgd`` with ``tau_C = 1``: every message is fresh, Algorithm 1 is SARAH).

    ``m_0 = grad f(x_0)``, ``x_1 = x_0 - eta m_0``; for ``t = 1..T-1`` client ``i_t`` (u.a.r., or
    ``client_probs``): ``m_t = m_{t-1} + g``, ``x_{t+1} = x_t - eta m_t`` with ``g = H_i (x_t -
    x_{t-1})`` exactly, plus the oracle noise where it does not cancel: a Gaussian oracle with one
    shared sample (Assumption 5) cancels; Theorem 3's independent-noise oracle adds ``xi_t``
    (``Cov = noise_var I``); ``sampling="independent"`` with the Gaussian oracle adds ``xi - xi'``
    (``Cov = 2 noise_var I``). State ``z_t = (x_t, x_{t-1}, m_{t-1})``.
    """
    qp = quad_problem(problem, exact_arith)
    n, d = qp.n, qp.d
    T = _count("T", T, 2)
    if sampling not in ("shared", "independent"):
        raise ParameterError(f"sampling must be 'shared' or 'independent', got {sampling!r}")
    eta = _num(eta, exact_arith)
    probs = _probs(client_probs, n, exact_arith)
    full = qp.full()
    x0v = _x0(x0, d, exact_arith)
    m0 = full.H @ x0v - full.c
    x1 = x0v - eta * m0
    D = 3 * d
    I, Z = _eye(d, exact_arith), _zeros((d, d), exact_arith)
    cov = None
    if stochastic and qp.noise_cov is not None:
        if qp.independent:
            cov = qp.noise_cov
        elif sampling == "independent":
            cov = 2 * qp.noise_cov
    branches = []
    for i in range(n):
        Hi = qp.H[i]
        # m_t = m_{t-1} + H_i x_t - H_i x_{t-1} (+ noise); x_{t+1} = x_t - eta m_t
        Mrow = [Hi, -Hi, I]
        Xrow = [I - eta * Hi, eta * Hi, -eta * I]
        A = np.block([Xrow, [I, Z, Z], Mrow])
        B = None if cov is None else np.vstack([-eta * I, Z, I])
        branches.append(Branch(probs[i], A, None, B, cov))
    rec = _Recorder()
    rec.means.append(x0v)
    rec.seconds.append(np.outer(x0v, x0v))
    mom = deterministic(np.concatenate([x1, x0v, m0]), exact_arith)
    P = _block(D, d, 0, exact_arith)
    for _ in range(1, int(T)):
        rec.add(mom, P)
        mom = step(mom, branches)
    return rec.rows()


def _probs(client_probs: Any, n: int, exact_arith: bool) -> list[Any]:
    if client_probs is None:
        return [_frac(Fraction(1, n)) if exact_arith else 1.0 / n] * n
    ps = [_num(p, exact_arith) for p in client_probs]
    if len(ps) != n:
        raise ParameterError(f"client_probs has {len(ps)} entries; expected n = {n}")
    return ps


# --- FedPAQ / FedAvg ------------------------------------------------------------------------
def randk_masks(d: int, k: int, unbiased: bool, exact_arith: bool = False) -> list[Branch]:
    """rand-k as a mixture of ``binom(d, k)`` diagonal maps ``c 1_S`` (``c = d/k`` if unbiased)."""
    if not 1 <= k <= d:
        raise ParameterError(f"k={k} is not allowed: expected 1 <= k <= d = {d}")
    scale = (Fraction(d, k) if exact_arith else d / k) if unbiased else 1
    subsets = list(itertools.combinations(range(d), k))
    p = Fraction(1, len(subsets)) if exact_arith else 1.0 / len(subsets)
    out = []
    for S in subsets:
        M = _zeros((d, d), exact_arith)
        for j in S:
            M[j, j] = _num(scale, exact_arith)
        out.append(Branch(p, M))
    return out


def _quantizer_maps(quantizer: Any, d: int, exact_arith: bool) -> list[Branch]:
    from boundcheck.compressors import Identity, RandK

    if quantizer is None or isinstance(quantizer, Identity):
        return [Branch(1, _eye(d, exact_arith))]
    if isinstance(quantizer, RandK):
        return randk_masks(d, quantizer.k(d), quantizer.unbiased, exact_arith)
    raise ParameterError(
        f"quantizer {getattr(quantizer, 'name', quantizer)!r} is not linear given finitely many "
        "random choices; exact moments accept the identity and rand-k"
    )


def fedpaq_moments(
    problem: Any,
    *,
    K: int,
    tau: int,
    r: int,
    eta: Any,
    quantizer: Any = None,
    x0: Any = None,
    exact_arith: bool = False,
) -> tuple[Rows, Rows]:
    """Moments of :func:`boundcheck.algorithms.fedpaq.fedpaq` (``virtual=True``): the per-period rows
    ``x_k`` (``k = 0..K``) and the per-local-iteration rows ``bar x_{k,t}`` (``k tau + t``).

    State ``z = (x, x^{(1)}, ..., x^{(n)})``. Per period: every node starts at ``x_k`` (line 5) and
    runs ``tau`` steps ``x^{(i)} <- (I - eta_k H_i) x^{(i)} + eta_k c_i - eta_k xi`` (independent
    noise per node and step, eq. (7)); its message ``Q(x^{(i)} - x_k)`` (line 11) is a mixture over
    rand-k masks, node by node (independent draws); ``S_k`` is one of the ``binom(n, r)`` subsets with
    equal probability and ``x_{k+1} = x_k + 1/r sum_{i in S_k} Q_i`` (line 13). ``eta``: a number or
    one per period.
    """
    qp = quad_problem(problem, exact_arith)
    n, d = qp.n, qp.d
    K, tau, r = _count("K", K), _count("tau", tau), _count("r", r)
    if not 1 <= r <= n:
        raise ParameterError(f"r={r} is not allowed: expected 1 <= r <= n = {n}")
    etas = list(eta) if isinstance(eta, (list, tuple)) else [eta] * K
    if len(etas) != K:
        raise ParameterError(f"eta has {len(etas)} entries; expected K = {K}")
    D = (n + 1) * d
    I = _eye(D, exact_arith)
    Px = _block(D, d, 0, exact_arith)
    Pbar = sum(_block(D, d, i + 1, exact_arith) for i in range(n)) * (
        Fraction(1, n) if exact_arith else 1.0 / n
    )
    # line 5: x^{(i)} = x
    reset = I.copy()
    for i in range(n):
        reset[(i + 1) * d : (i + 2) * d] = Px
    qmaps = _quantizer_maps(quantizer, d, exact_arith)
    # line 11 for node i: x^{(i)} <- M (x^{(i)} - x)
    quant_stages = []
    for i in range(n):
        stage = []
        sl = slice((i + 1) * d, (i + 2) * d)
        for br in qmaps:
            A = I.copy()
            A[sl, :] = 0
            A[sl, sl] = br.A
            A[sl, 0:d] = -br.A
            stage.append(Branch(br.p, A))
        quant_stages.append(stage)
    subsets = list(itertools.combinations(range(n), r))
    ps = Fraction(1, len(subsets)) if exact_arith else 1.0 / len(subsets)
    inv_r = Fraction(1, r) if exact_arith else 1.0 / r
    select = []
    for S in subsets:
        A = I.copy()
        for i in S:
            A[0:d, (i + 1) * d : (i + 2) * d] = inv_r * _eye(d, exact_arith)
        select.append(Branch(ps, A))
    recx, recbar = _Recorder(), _Recorder()
    x0v = _x0(x0, d, exact_arith)
    mom = deterministic(np.concatenate([x0v] * (n + 1)), exact_arith)
    for k in range(K):
        recx.add(mom, Px)
        e = _num(etas[k], exact_arith)
        mom = step(mom, [Branch(1, reset)])
        A = I.copy()
        b = _zeros(D, exact_arith)
        for i in range(n):
            sl = slice((i + 1) * d, (i + 2) * d)
            A[sl, sl] = _eye(d, exact_arith) - e * qp.H[i]
            b[sl] = e * qp.c[i]
        if qp.noise_cov is not None:
            B = _zeros((D, n * d), exact_arith)
            B[d:, :] = -e * _eye(n * d, exact_arith)
            cov = np.kron(np.eye(n, dtype=int), qp.noise_cov)
            local = Branch(1, A, b, B, cov)
        else:
            local = Branch(1, A, b)
        for _ in range(tau):
            recbar.add(mom, Pbar)
            mom = step(mom, [local])
        for stage in quant_stages:
            mom = step(mom, stage)
        mom = step(mom, select)
    recx.add(mom, Px)
    return recx.rows(), recbar.rows()


# --- EF-SGD / SAEF-SGD --------------------------------------------------------------------------
@dataclass
class EFMoments:
    """Rows ``t = 0..T-1`` of :func:`ef_moments`: moments of ``x_t`` and ``tilde x_t``, and the exact
    ``E||e_t||^2`` (``err_server_sq``) and ``E 1/K sum_k ||e_t^(k)||^2`` (``err_workers_sq``)."""

    x: Rows
    x_tilde: Rows
    err_server_sq: Array
    err_workers_sq: Array


def ef_moments(
    problem: Any,
    *,
    variant: str,
    T: int,
    eta: Any,
    K: int,
    mu: Any = 0,
    p: int | None = None,
    client_compressor: Any = None,
    server_compressor: Any = None,
    assignment: str = "shared",
    x0: Any = None,
    exact_arith: bool = False,
) -> EFMoments:
    """Moments of :func:`boundcheck.algorithms.saef.ef_sgd` (``variant="ef"``) and ``saef_sgd``
    (``"saef"``), SAEF Algorithm 1, with identity or rand-k compressors (linear given the mask).

    State ``z = (x, e, s, e^(1..K), m^(1..K))`` (``s``: the server's ``Delta_{t+1}`` being summed).
    Iteration ``t``: error averaging if ``(t + 1) % p == 0`` (lines 6-8); row ``t`` records ``x_t``,
    ``tilde x_t = x_t - (e_t + 1/K sum_k e_t^(k))``; ``m^(k) <- mu m^(k) + grad f(z_k; xi^(k))`` at
    ``z_k = x - e^(k)`` (SAEF) or ``x`` (EF) -- with ``assignment="shared"`` the worker gradient is
    ``Hbar z_k - cbar`` plus the mean of ``n`` independent client noises (``Cov = noise_var / n I``),
    with ``"partition"`` ``H_k z_k - c_k + xi``; ``Delta^(k) = e^(k) + eta_t m^(k)`` (lines 12/16);
    worker ``k``'s mask ``M``: ``s += 1/K M Delta^(k)``, ``e^(k) = Delta^(k) - M Delta^(k)`` (line 18);
    server (lines 21-23): ``s = e + 1/K sum_k C(Delta^(k))``, ``c = C(s)`` (``s`` itself for
    single-way compression, ``server_compressor=None``), ``e = s - c``; ``x -= c`` (line 25).
    """
    if variant not in ("ef", "saef"):
        raise ParameterError(f"variant must be 'ef' or 'saef', got {variant!r}")
    if assignment not in ("shared", "partition"):
        raise ParameterError(f"assignment must be 'shared' or 'partition', got {assignment!r}")
    qp = quad_problem(problem, exact_arith)
    n, d = qp.n, qp.d
    T, K = _count("T", T), _count("K", K)
    if assignment == "partition" and n != K:
        raise ParameterError(f"assignment='partition' needs K == n, got K={K}, n={n}")
    etas = list(eta) if isinstance(eta, (list, tuple)) else [eta] * T
    if len(etas) != T:
        raise ParameterError(f"eta has {len(etas)} entries; expected T = {T}")
    mu = _num(mu, exact_arith)
    nb = 3 + 2 * K
    D = nb * d
    X, E, S = 0, 1, 2
    EK = lambda k: 3 + k  # noqa: E731
    MK = lambda k: 3 + K + k  # noqa: E731
    Id, I = _eye(d, exact_arith), _eye(D, exact_arith)
    sl = lambda j: slice(j * d, (j + 1) * d)  # noqa: E731
    one = lambda: I.copy()  # noqa: E731
    invK = Fraction(1, K) if exact_arith else 1.0 / K
    full = qp.full()

    # lines 6-8: e^(k) <- 1/K sum_k' e^(k')
    avg = one()
    for k in range(K):
        avg[sl(EK(k)), :] = 0
        for j in range(K):
            avg[sl(EK(k)), sl(EK(j))] = invK * Id
    # worker gradients and momentum
    grad_A, grad_b = one(), _zeros(D, exact_arith)
    for k in range(K):
        Hk, ck = (full.H, full.c) if assignment == "shared" else (qp.H[k], qp.c[k])
        r = sl(MK(k))
        grad_A[r, :] = 0
        grad_A[r, r] = mu * Id
        grad_A[r, sl(X)] = Hk
        if variant == "saef":
            grad_A[r, sl(EK(k))] = -Hk
        grad_b[r] = -ck
    noise = None
    if qp.noise_cov is not None:
        # shared: the mean of n independent client draws; partition: one client's draw
        inv_n = Fraction(1, n) if exact_arith else 1.0 / n
        cov1 = qp.noise_cov * inv_n if assignment == "shared" else qp.noise_cov
        Bn = _zeros((D, K * d), exact_arith)
        for k in range(K):
            Bn[sl(MK(k)), k * d : (k + 1) * d] = Id
        noise = (Bn, np.kron(np.eye(K, dtype=int), cov1))
    # server accumulator starts at e
    s_init = one()
    s_init[sl(S), :] = 0
    s_init[sl(S), sl(E)] = Id
    up = _quantizer_maps(client_compressor, d, exact_arith)
    down = None if server_compressor is None else _quantizer_maps(server_compressor, d, exact_arith)
    worker_stages = []
    for k in range(K):
        stage = []
        for br in up:
            A = one()
            A[sl(S), sl(EK(k))] = invK * br.A
            A[sl(EK(k)), sl(EK(k))] = Id - br.A
            stage.append(Branch(br.p, A))
        worker_stages.append(stage)
    server_stage = []
    for br in down if down is not None else [Branch(1, Id)]:
        A = one()
        A[sl(X), sl(S)] = -br.A
        A[sl(E), :] = 0
        if down is not None:
            A[sl(E), sl(S)] = Id - br.A
        server_stage.append(Branch(br.p, A))

    Px = _block(D, d, X, exact_arith)
    Pt = Px - _block(D, d, E, exact_arith)
    for k in range(K):
        Pt = Pt - invK * _block(D, d, EK(k), exact_arith)
    Pe = _block(D, d, E, exact_arith)
    Pek = [_block(D, d, EK(k), exact_arith) for k in range(K)]
    rx, rt = _Recorder(), _Recorder()
    es, ew = [], []
    x0v = _x0(x0, d, exact_arith)
    z0 = _zeros(D, exact_arith)
    z0[sl(X)] = x0v
    mom = deterministic(z0, exact_arith)
    per = None if p is None or p == math.inf else int(p)
    for t in range(T):
        if per is not None and (t + 1) % per == 0:
            mom = step(mom, [Branch(1, avg)])
        rx.add(mom, Px)
        rt.add(mom, Pt)
        es.append(np.trace(mom.project(Pe).second))
        ew.append(sum(np.trace(mom.project(P).second) for P in Pek) * invK)
        g = Branch(1, grad_A, grad_b, *(noise if noise is not None else (None, None)))
        mom = step(mom, [g])
        e_t = _num(etas[t], exact_arith)
        delta = one()
        for k in range(K):
            delta[sl(EK(k)), sl(MK(k))] = e_t * Id
        mom = step(mom, [Branch(1, delta @ s_init)])
        for stage in worker_stages:
            mom = step(mom, stage)
        mom = step(mom, server_stage)
    return EFMoments(rx.rows(), rt.rows(), np.array(es), np.array(ew))


# --- Async-GD on a pinned schedule ------------------------------------------------------------
def async_gd_moments(
    problem: Any,
    *,
    T: int,
    eta: Any,
    clients: Sequence[int],
    read_version: Sequence[int],
    x0: Any = None,
    stochastic: bool = False,
    exact_arith: bool = False,
) -> Rows:
    """Moments of rows ``x_0..x_{T-1}`` of :func:`boundcheck.algorithms.asyncbc.async_gd` (``async_sgd``
    with ``stochastic``) on one pinned schedule: at step ``t = 1..T`` the server receives ``grad
    f_{j_t}(x_{v_t - 1}) (+ xi)`` (the task reading version ``v_t`` computed at ``x_{v_t - 1}``) and sets
    ``x_t = x_{t-1} - eta g``. With the schedule fixed only the oracle noise is random; the state
    is the whole history ``(x_0, ..., x_t)`` (rows are read back from it), which holds the last
    ``tau_max + 1`` iterates that the recursion needs.
    """
    qp = quad_problem(problem, exact_arith)
    d = qp.d
    T = _count("T", T)
    cl, rv = list(clients), list(read_version)
    if len(cl) < T or len(rv) < T:
        raise ParameterError(f"the schedule has {min(len(cl), len(rv))} steps; this run needs {T}")
    e = _num(eta, exact_arith)
    x0v = _x0(x0, d, exact_arith)
    # moments of the history as a growing state (T small in tests)
    mean = [x0v]
    cov_hist = {(0, 0): _zeros((d, d), exact_arith)}  # Cov(x_a, x_b)
    for t in range(1, T + 1):
        j, v = int(cl[t - 1]), int(rv[t - 1])
        a = v - 1
        if not 0 <= a <= t - 1:
            raise ParameterError(f"step {t} reads version {v}; expected 1 <= v <= {t}")
        # x_t = x_{t-1} - e (H_j x_a - c_j) - e xi
        Hj = qp.H[j]
        mean.append(mean[t - 1] - e * (Hj @ mean[a] - qp.c[j]))
        for s in range(t):
            # Cov(x_t, x_s) = Cov(x_{t-1}, x_s) - e H_j Cov(x_a, x_s)
            cov_hist[(t, s)] = _get(cov_hist, t - 1, s) - e * Hj @ _get(cov_hist, a, s)
        ct = (
            _get(cov_hist, t - 1, t - 1)
            - e * Hj @ _get(cov_hist, a, t - 1)
            - e * _get(cov_hist, t - 1, a) @ Hj.T
            + e * e * Hj @ _get(cov_hist, a, a) @ Hj.T
        )
        if stochastic and qp.noise_cov is not None:
            ct = ct + e * e * qp.noise_cov
        cov_hist[(t, t)] = ct
    seconds = [cov_hist[(t, t)] + np.outer(mean[t], mean[t]) for t in range(T)]
    return Rows(np.array(mean[:T]), np.array(seconds))


def asyncbc_pinned_moments(
    problem: Any,
    *,
    T: int,
    eta: Any,
    tau_C: int,
    clients: Sequence[int],
    read_version: Sequence[int],
    x0: Any = None,
    stochastic: bool = False,
    sampling: str = "shared",
    exact_arith: bool = False,
) -> Rows:
    """Moments of rows ``x_0..x_{T-1}`` of :func:`boundcheck.algorithms.asyncbc.asyncbc_gd` /
    ``asyncbc_sgd`` (AsyncBC Algorithms 1-2) on one pinned schedule with ``tau_C`` tasks in flight.

    ``m_0 = grad f(x_0)``, ``x_1 = x_0 - eta m_0``; at step ``t = 1..T-1`` the server receives the
    task of client ``j_t`` reading version ``v_t``: ``1/tau_C (grad f_j(x_1) - grad f_j(x_0))`` for
    an initial task (``v_t = 1``, line 3), ``grad f_j(x_v) - grad f_j(x_{v-1})`` otherwise (line 9);
    ``m_t = m_{t-1} + g``, ``x_{t+1} = x_t - eta m_t``. Each task's oracle noise is independent and
    enters once, when it is received (Gaussian with one shared sample: cancels; independent-noise
    oracle: ``+ xi``; ``sampling="independent"``: ``+ xi - xi'``; divided by ``tau_C`` for initial
    tasks). State: the history ``(x_0, ..., x_T, m)`` (it holds the last ``tau_max + 1`` iterates
    that the recursion reads).
    """
    qp = quad_problem(problem, exact_arith)
    d = qp.d
    T, tau_C = _count("T", T, 2), _count("tau_C", tau_C)
    if sampling not in ("shared", "independent"):
        raise ParameterError(f"sampling must be 'shared' or 'independent', got {sampling!r}")
    cl, rv = list(clients), list(read_version)
    if len(cl) < T - 1 or len(rv) < T - 1:
        raise ParameterError(
            f"the schedule has {min(len(cl), len(rv))} steps; this run needs {T - 1}"
        )
    e = _num(eta, exact_arith)
    nb = T + 2  # x_0..x_T, m
    D = nb * d
    Id = _eye(d, exact_arith)
    sl = lambda j: slice(j * d, (j + 1) * d)  # noqa: E731
    M = T + 1
    full = qp.full()
    x0v = _x0(x0, d, exact_arith)
    z0 = _zeros(D, exact_arith)
    m0 = full.H @ x0v - full.c
    z0[sl(0)], z0[sl(1)], z0[sl(M)] = x0v, x0v - e * m0, m0
    mom = deterministic(z0, exact_arith)
    cov = None
    if stochastic and qp.noise_cov is not None:
        if qp.independent:
            cov = qp.noise_cov
        elif sampling == "independent":
            cov = 2 * qp.noise_cov
    inv_tc = Fraction(1, tau_C) if exact_arith else 1.0 / tau_C
    rec = _Recorder()
    rec.add(mom, _block(D, d, 0, exact_arith))
    for t in range(1, T):
        j, v = int(cl[t - 1]), int(rv[t - 1])
        if not 1 <= v <= t:
            raise ParameterError(f"step {t} reads version {v}; expected 1 <= v <= {t}")
        w = inv_tc if v == 1 else 1
        Hj = qp.H[j]
        A = _eye(D, exact_arith)
        # m_t = m_{t-1} + w H_j (x_v - x_{v-1}) (+ w xi)
        A[sl(M), sl(v)] = A[sl(M), sl(v)] + w * Hj
        A[sl(M), sl(v - 1)] = A[sl(M), sl(v - 1)] - w * Hj
        # x_{t+1} = x_t - eta m_t (the new m): rows of A applied after, as a second map
        X = _eye(D, exact_arith)
        X[sl(t + 1), :] = 0
        X[sl(t + 1), sl(t)] = Id
        X[sl(t + 1), sl(M)] = -e * Id
        B = None
        if cov is not None:
            B = _zeros((D, d), exact_arith)
            B[sl(M)] = w * Id
        mom = step(mom, [Branch(1, A, None, B, cov)])
        mom = step(mom, [Branch(1, X)])
        rec.add(mom, _block(D, d, t, exact_arith))
    return rec.rows()


def random_schedule_moments(
    problem: Any,
    *,
    method: str,
    T: int,
    eta: Any,
    tau_C: int,
    tau: float = 10.0,
    busy: str = "queue",
    x0: Any = None,
    stochastic: bool = False,
    sampling: str = "shared",
    max_paths: int = 200_000,
) -> Rows:
    """Moments of rows ``x_0..x_{T-1}`` of ``asyncbc_gd``/``asyncbc_sgd`` (``method="asyncbc"``) or
    ``async_gd``/``async_sgd`` (``"async"``) averaged over their *random* AsyncBC Section 5 schedules
    (the default ``schedule=None``), by enumerating the client choices.

    The schedule is a deterministic function of the ordered ``tau_C`` distinct initial workers
    (uniform over the ``n!/(n-tau_C)!`` orders) and of the workers ``k_{t+1}`` u.a.r. handed a task
    after each step; only those handed out after steps ``1..T-2`` can reach the recorded rows. Each
    choice sequence is mapped to its events by the implementation's own event loop
    (``async_sim._asyncbc_heap``), equal event lists are merged with their probabilities, and the
    pinned-schedule moments (:func:`asyncbc_pinned_moments`, :func:`async_gd_moments`) are averaged
    -- exact, over ``n!/(n-tau_C)! n^(T-2)`` choice sequences (at most ``max_paths``).
    """
    from boundcheck.algorithms.async_sim import _asyncbc_heap

    if method not in ("asyncbc", "async"):
        raise ParameterError(f"method must be 'asyncbc' or 'async', got {method!r}")
    if busy not in ("queue", "parallel"):
        raise ParameterError(f"busy={busy!r} is not allowed: expected 'queue' or 'parallel'")
    qp = quad_problem(problem)
    n = qp.n
    T, tau_C = _count("T", T, 2), _count("tau_C", tau_C)
    if not tau_C <= n:
        raise ParameterError(f"T={T}, tau_C={tau_C}: expected T >= 2 and 1 <= tau_C <= n = {n}")
    n_paths = math.perm(n, tau_C) * n ** max(T - 2, 0)
    if n_paths > max_paths:
        raise ParameterError(
            f"{n_paths} client-choice sequences exceed max_paths={max_paths}: use a smaller T, n "
            "or tau_C (or Monte Carlo)"
        )
    speed = (np.arange(1, n + 1) * float(tau)) / n
    p_path = 1.0 / n_paths
    merged: dict[tuple[tuple[int, ...], tuple[int, ...]], list[Any]] = {}
    for first in itertools.permutations(range(n), tau_C):
        for picks in itertools.product(range(n), repeat=max(T - 2, 0)):
            new_w = np.zeros(T, dtype=np.int64)
            new_w[: len(picks)] = picks
            cl, rv, _, _ = _asyncbc_heap(speed, np.array(first), new_w, T, busy)
            key = (tuple(cl[0, : T - 1].tolist()), tuple(rv[0, : T - 1].tolist()))
            if key in merged:
                merged[key][0] += p_path
            else:
                merged[key] = [p_path, cl[0], rv[0]]
    mean = None
    second = None
    for p, cl, rv in merged.values():
        if method == "asyncbc":
            r = asyncbc_pinned_moments(problem, T=T, eta=eta, tau_C=tau_C, clients=cl,
                                       read_version=rv, x0=x0, stochastic=stochastic,
                                       sampling=sampling)  # fmt: skip
        else:
            r = async_gd_moments(problem, T=T, eta=eta, clients=cl, read_version=rv, x0=x0,
                                 stochastic=stochastic)  # fmt: skip
        mean = p * r.mean if mean is None else mean + p * r.mean
        second = p * r.second if second is None else second + p * r.second
    return Rows(mean, second)


@dataclass
class QAFeLMoments:
    """Rows ``t = 0..T`` of :func:`qafel_pinned_moments`: moments of ``x^t`` and the exact
    ``E||x^t - hat x^t||^2`` (``hidden_gap``; zeros for FedBuff)."""

    x: Rows
    hidden_gap: Array


def qafel_pinned_moments(
    problem: Any,
    *,
    T: int,
    eta_l: Any,
    eta_g: Any,
    K: int,
    P: int,
    clients: Sequence[int],
    read_version: Sequence[int],
    hidden: bool = True,
    client_compressor: Any = None,
    server_compressor: Any = None,
    x0: Any = None,
    exact_arith: bool = False,
) -> QAFeLMoments:
    """Moments of :func:`boundcheck.algorithms.qafel.qafel` (``hidden=True``) and ``fedbuff``
    (``hidden=False``) on one pinned schedule (``beta = 0``, no staleness weighting: the theorems'
    setting), with identity or rand-k quantizers.

    State ``(x, h^0..h^T, s)``: ``h^v`` is the hidden state ``hat x^v`` (QAFeL) or ``x^v`` (FedBuff),
    ``s`` the buffer. Step ``t``: for each of the ``K`` events ``(j, v)`` of the step, client ``j``
    runs ``P`` local steps from ``y_0 = h^v`` (Alg. 2 lines 1-4), ``y_P - y_0 = (A_j^P - I) h^v + b_P
    + noise`` with ``A_j = I - eta_l H_j``; QAFeL quantizes it (line 5, a rand-k mask ``M``; the
    oracle noise, covariance ``eta_l^2 sum_p A^p C A^{pT}``, enters through ``M`` too), and
    ``s += M delta / K`` (line 11); ``x^{t+1} = x^t + eta_g s`` (line 12); ``h^{t+1} = h^t +
    Q_s(x^{t+1} - h^t)`` (lines 13-14) or ``x^{t+1}`` (FedBuff); ``s = 0``.
    """
    qp = quad_problem(problem, exact_arith)
    d = qp.d
    T, K, P = _count("T", T), _count("K", K), _count("P", P)
    cl, rv = list(clients), list(read_version)
    if len(cl) < T * K or len(rv) < T * K:
        raise ParameterError(
            f"the schedule has {min(len(cl), len(rv))} events; this run needs {T * K}"
        )
    el, eg = _num(eta_l, exact_arith), _num(eta_g, exact_arith)
    nb = T + 3
    D = nb * d
    Id = _eye(d, exact_arith)
    sl = lambda j: slice(j * d, (j + 1) * d)  # noqa: E731
    X, S = 0, T + 2
    Hs = lambda v: 1 + v  # noqa: E731
    invK = Fraction(1, K) if exact_arith else 1.0 / K
    up = _quantizer_maps(client_compressor if hidden else None, d, exact_arith)
    down = _quantizer_maps(server_compressor if hidden else None, d, exact_arith)
    # per client: delta = G_j h + b_j + noise
    local = []
    for j in range(qp.n):
        Aj = Id - el * qp.H[j]
        Ap, bp, cv = Id, _zeros(d, exact_arith), _zeros((d, d), exact_arith)
        for _ in range(P):
            Ap, bp = Aj @ Ap, Aj @ bp + el * qp.c[j]
            if qp.noise_cov is not None:
                cv = Aj @ cv @ Aj.T + el * el * qp.noise_cov
        local.append((Ap - Id, bp, None if qp.noise_cov is None else cv))
    x0v = _x0(x0, d, exact_arith)
    z0 = _zeros(D, exact_arith)
    z0[sl(X)], z0[sl(Hs(0))] = x0v, x0v
    mom = deterministic(z0, exact_arith)
    recx = _Recorder()
    gaps = []
    Px = _block(D, d, X, exact_arith)
    for t in range(T + 1):
        recx.add(mom, Px)
        gap = mom.project(Px - _block(D, d, Hs(t), exact_arith)) if hidden else None
        gaps.append(np.trace(gap.second) if gap is not None else 0 * Px[0, 0])
        if t == T:
            break
        for k in range(K):
            j, v = int(cl[t * K + k]), int(rv[t * K + k])
            if not 0 <= v <= t:
                raise ParameterError(f"step {t} reads version {v}; expected 0 <= v <= {t}")
            G, b, cv = local[j]
            stage = []
            for br in up:
                A = _eye(D, exact_arith)
                A[sl(S), sl(Hs(v))] = A[sl(S), sl(Hs(v))] + invK * br.A @ G
                bb = _zeros(D, exact_arith)
                bb[sl(S)] = invK * br.A @ b
                B = None
                if cv is not None:
                    B = _zeros((D, d), exact_arith)
                    B[sl(S)] = invK * br.A
                stage.append(Branch(br.p, A, bb, B, cv))
            mom = step(mom, stage)
        A = _eye(D, exact_arith)
        A[sl(X), sl(S)] = eg * Id
        A[sl(S), sl(S)] = 0 * Id
        mom = step(mom, [Branch(1, A)])
        stage = []
        for br in down:
            A = _eye(D, exact_arith)
            n_ = sl(Hs(t + 1))
            A[n_, :] = 0
            if hidden:
                A[n_, sl(Hs(t))] = Id - br.A
                A[n_, sl(X)] = br.A
            else:
                A[n_, sl(X)] = Id
            stage.append(Branch(br.p, A))
        mom = step(mom, stage)
    return QAFeLMoments(recx.rows(), np.array(gaps))


def _get(c: dict[tuple[int, int], Array], a: int, b: int) -> Array:
    return c[(a, b)] if (a, b) in c else c[(b, a)].T


# --- exact rationals ---------------------------------------------------------------------------
def exact(value: Any) -> Fraction:
    """A value computed with ``exact_arith=True`` as one :class:`~fractions.Fraction`."""
    return _frac(value)


def mixture_paths(branches: Sequence[Branch], z0: Array, steps: int) -> Iterable[tuple[Any, Array]]:
    """Every path of ``steps`` noise-free branch choices from ``z0``: ``(probability, z)`` (for
    tests: brute-force enumeration, ``len(branches) ** steps`` paths)."""
    for path in itertools.product(branches, repeat=steps):
        z, p = z0, 1
        for br in path:
            z = br.A @ z + (br.b if br.b is not None else 0)
            p = p * br.p
        yield p, z


__all__ = [
    "Branch",
    "EFMoments",
    "Moments",
    "QAFeLMoments",
    "Quad",
    "QuadProblem",
    "Rows",
    "async_gd_moments",
    "asyncbc_pinned_moments",
    "deterministic",
    "dist_sq",
    "ef_moments",
    "exact",
    "f_value",
    "fedpaq_moments",
    "grad_norm_sq",
    "mixture_paths",
    "qafel_pinned_moments",
    "quad_problem",
    "randk_masks",
    "random_schedule_moments",
    "sarah_moments",
    "step",
]
