"""FedAvg and FedPAQ (FedPAQ Algorithm 1), batched over R replicas.

FedPAQ (Reisizadeh et al., AISTATS 2020), Algorithm 1, per period ``k = 0, ..., K-1``:

* line 2: the server picks ``r`` of the ``n`` nodes uniformly at random, without replacement
  (``Pr[S_k] = 1 / binom(n, r)``, Section 3.2) -- independently in every replica;
* lines 5-10: every chosen node starts from ``x_{k,0}^{(i)} = x_k`` and runs ``tau`` local SGD steps
  ``x_{k,t+1}^{(i)} = x_{k,t}^{(i)} - eta_{k,t} grad~f_i(x_{k,t}^{(i)})`` (eq. (7));
* line 11: it uploads ``Q(x_{k,tau}^{(i)} - x_k)``;
* line 13: ``x_{k+1} = x_k + 1/r sum_{i in S_k} Q(x_{k,tau}^{(i)} - x_k)`` (eq. (8)).

FedAvg is FedPAQ with the identity quantizer.

**Virtual iterates (eq. (20)).** The proofs define ``bar x_{k,t} = 1/n sum_{i in [n]} x_{k,t}^{(i)}``
over *all* ``n`` nodes, i.e. every node -- chosen or not -- runs the local recursion (34) from ``x_k``
with its own stochastic gradients, and the chosen ones are those whose trajectories reach the
server; likewise ``hat x_{k+1} = x_k + 1/n sum_{i in [n]} Q(x_{k,tau}^{(i)} - x_k)``. Theorem 2's
left-hand side is ``1/T sum_k sum_{t<tau} E||grad f(bar x_{k,t})||^2``. With ``virtual=True``
(default) all ``n`` nodes are simulated, every node's update is quantized, and ``S_k`` selects ``r``
of them: exactly the coupling of the analysis (Lemmas 1-4). ``virtual=False`` simulates only the
``r`` chosen nodes (a factor ``n/r`` cheaper); then ``S_k`` is shared by all replicas (the problem
contract takes one client list per call) and ``bar x_{k,t}`` is not available.

Stepsizes: ``eta`` is a constant, a sequence ``eta_k`` of length ``K``, or a callable ``k -> eta_k``.
:func:`eta_theorem1` gives Theorem 1's ``eta_k = 4 mu^{-1} / (k tau + 1)`` (the extracted text reads
"4\\mu^{-1}/k\\tau+1"; the proof of Theorem 1 substitutes ``4 mu^{-1} / (k tau + 1)`` into (27), which we use);
:func:`eta_theorem2` gives Theorem 2's ``eta = 1 / (L sqrt(T))``. Algorithm 1 allows ``eta_{k,t}``;
both theorems take it constant within a period (``eta_{k,t} = eta_k``), which is all we implement.

**Mapping to** :mod:`boundcheck.theory.fedpaq` (symbol -> keyword / trace / problem constant):

* ``n`` -> ``problem.n``; ``r``, ``tau`` -> keywords ``r``, ``tau``; ``T = K tau`` -> ``params['T']``
  (keyword ``K`` is the number of periods, not the catalogue's buffer size ``K``); ``k`` -> row ``k``
  of the per-period series; ``eta`` -> ``eta`` (``eta_k``, per period);
* ``q`` -> ``params['q'] = quantizer.q(d)`` (``None`` for a biased compressor: Assumption 1 fails);
* ``L``, ``mu`` -> ``problem.constants['L']``, ``['mu']`` (of ``f``: the proofs use only these);
  ``sigma`` -> ``sqrt(problem.constants['sigma2'])`` (a standard deviation; ``sigma2`` is the
  per-client oracle variance, max over clients); the proofs need ``E grad~f_i = grad f`` at every
  node (``fedpaq.homogeneous``), i.e. identical ``f_i`` (``zeta2 = 0``);
* Theorem 1's lhs ``fedpaq.dist_sq_server`` ``E||x_k - x*||^2`` -> ``dist_sq[k].mean()``, and
  ``D_k0`` -> ``dist_sq[k0].mean()``; Theorem 2's lhs ``fedpaq.avg_grad_sq_node_mean`` ->
  ``grad_norm_sq.mean(0).mean()`` (rows ``k tau + t``, ``t = 0..tau-1``, at ``bar x_{k,t}``);
  ``F0 = f(x_0) - f*`` -> ``f_gap[0]`` (when ``f_star`` is known, ``meta['f_gap_is_gap']``).

Replicas are independent only with ``virtual=True``; with ``virtual=False`` they share ``S_k``, so
a mean over replicas estimates the expectation but a confidence interval over them is invalid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from boundcheck.algorithms.common import (
    Streams,
    check_compressor,
    check_float,
    check_int,
    check_problem,
    f_gap,
    initial_point,
    new_divergence,
    resolve_device,
    safe_compress,
    sq_norm,
    update_divergence,
)
from boundcheck.algorithms.trace import Trace
from boundcheck.compressors import Compressor, Identity
from boundcheck.errors import ParameterError
from boundcheck.problems.base import Problem

__all__ = ["eta_theorem1", "eta_theorem2", "fedavg", "fedpaq"]


# --- helpers -------------------------------------------------------------------------------------
def x_star_of(problem: Problem, R: int, device: torch.device, dtype: torch.dtype):
    """The problem's minimiser as ``(R, d)`` if it exposes ``x_star`` (attribute or method)."""
    xs = getattr(problem, "x_star", None)
    if callable(xs):
        xs = xs()
    if xs is None:
        return None
    xs = torch.as_tensor(xs, device=device, dtype=dtype)
    return xs.expand(R, -1) if xs.dim() == 1 else xs


# --- stepsizes ------------------------------------------------------------------------------------
def eta_theorem1(mu: float, tau: int) -> Callable[[int], float]:
    """FedPAQ Theorem 1's stepsize ``eta_k = 4 / (mu (k tau + 1))`` (as substituted into (27))."""
    mu = check_float("mu", mu)
    tau = check_int("tau", tau, 1)
    return lambda k: 4.0 / (mu * (k * tau + 1))


def eta_theorem2(L: float, T: int) -> float:
    """FedPAQ Theorem 2's stepsize ``eta = 1 / (L sqrt(T))``."""
    return 1.0 / (check_float("L", L) * math.sqrt(check_int("T", T, 1)))


def _stepsizes(eta: Any, K: int) -> list[float]:
    """``eta_k`` for ``k = 0..K-1`` from a constant, a length-``K`` sequence (list, tuple, 1-d
    tensor or array) or a callable; a 0-d tensor or array is a constant."""
    if callable(eta):
        vals = [eta(k) for k in range(K)]
    elif getattr(eta, "ndim", None) == 0:
        vals = [eta.item()] * K
    elif isinstance(eta, (Sequence, torch.Tensor, np.ndarray)) and not isinstance(eta, str):
        vals = [float(v) for v in eta]
        if len(vals) != K:
            raise ParameterError(f"eta has {len(vals)} entries: expected one per period, K = {K}")
    else:
        vals = [eta] * K
    return [check_float(f"eta_{k}", v) for k, v in enumerate(vals)]


# --- the algorithm --------------------------------------------------------------------------------
def fedpaq(
    problem: Problem,
    *,
    K: int,
    tau: int,
    r: int,
    R: int,
    seed: int,
    eta: float | Sequence[float] | Callable[[int], float],
    quantizer: Compressor | None = None,
    virtual: bool = True,
    x0: Any = None,
    device: Any = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """Run FedPAQ (Algorithm 1) for ``K`` periods of ``tau`` local steps on ``R`` replicas.

    Returns a :class:`Trace` whose series are indexed as follows (also in ``meta['index']``):

    * per local iteration ``s = k tau + t`` (``T = K tau`` rows), only with ``virtual=True``:
      ``grad_norm_sq`` = ``||grad f(bar x_{k,t})||^2`` (Theorem 2's lhs, eq. (19)) and
      ``f_gap_bar`` at ``bar x_{k,t}``;
    * per period ``k = 0..K`` (``K + 1`` rows, row ``k`` is the state at ``x_k``): ``grad_norm_sq_x``
      and ``f_gap`` at ``x_k``; ``dist_sq`` = ``||x_k - x*||^2`` (Theorem 1's lhs, eq. (14)) when the
      problem exposes ``x_star``; ``bits_up`` / ``bits_down`` cumulative up to ``x_k`` (``r`` uploads
      of ``Q.bits(d)`` and ``r`` full-precision downloads of ``32 d`` bits per period, line 3);
      ``hat_gap`` = ``||x_k - hat x_k||^2`` (Lemma 4's quantity, ``virtual=True``; row 0 is 0);
      ``x`` (``(K+1, R, d)``) if ``record_x``.
    """
    problem = check_problem(problem)
    K = check_int("K", K, 1)
    tau = check_int("tau", tau, 1)
    R = check_int("R", R, 1)
    seed = check_int("seed", seed, 0)
    n, d = problem.n, problem.d
    r = check_int("r", r, 1)
    if r > n:
        raise ParameterError(f"r={r} is not allowed: expected 1 <= r <= n = {n}")
    Q = check_compressor("quantizer", quantizer if quantizer is not None else Identity())
    etas = _stepsizes(eta, K)
    dev = resolve_device(problem, device)
    streams = Streams(seed, dev)
    g_data, g_samp, g_comp = (streams.torch(s) for s in ("data", "sampling", "compressor_up"))

    x = initial_point(x0, R, d, dev, dtype)
    x_star = x_star_of(problem, R, dev, dtype)
    diverged = new_divergence(R, dev)
    all_clients = problem.all_clients()
    T = K * tau
    z = dict(device=dev, dtype=dtype)
    gn_bar = torch.empty(T, R, **z) if virtual else None
    fg_bar = torch.empty(T, R, **z) if virtual else None
    gn_x = torch.empty(K + 1, R, **z)
    fg_x = torch.empty(K + 1, R, **z)
    dist = torch.empty(K + 1, R, **z) if x_star is not None else None
    hat_gap = torch.zeros(K + 1, R, **z) if virtual else None
    xs_rec = torch.empty(K + 1, R, d, **z) if record_x else None
    bits_up_k = r * Q.bits(d)
    bits_down_k = r * Identity().bits(d)

    def record_x_k(k: int) -> None:
        gn_x[k] = sq_norm(problem.grad(x))
        fg_x[k] = f_gap(problem, x)
        if dist is not None:
            dist[k] = sq_norm(x - x_star)
        if xs_rec is not None:
            xs_rec[k] = x

    update_divergence(diverged, 0, x)
    record_x_k(0)
    for k in range(K):
        eta_k = etas[k]
        # line 2: S_k, r of n u.a.r. without replacement, sorted (a set: order is immaterial)
        if virtual:
            S = (
                torch.rand(R, n, generator=g_samp, device=dev)
                .argsort(dim=1)[:, :r]
                .sort(dim=1)
                .values
            )
            clients = all_clients
        else:
            S = None
            clients = torch.randperm(n, generator=g_samp, device=dev)[:r].sort().values
        m = len(clients)
        x_loc = x.unsqueeze(1).expand(R, m, d)  # line 5
        for t in range(tau):  # lines 6-10
            if virtual:
                bar = x_loc.mean(dim=1)  # eq. (20)
                gn_bar[k * tau + t] = sq_norm(problem.grad(bar))
                fg_bar[k * tau + t] = f_gap(problem, bar)
            sample = problem.sample(R, clients, g_data)
            x_loc = x_loc - eta_k * problem.stochastic_grad_i(x_loc, sample, clients)
        q = safe_compress(Q, x_loc - x.unsqueeze(1), g_comp)  # line 11
        if virtual:
            hat_next = x + q.mean(dim=1)  # eq. (20), hat x_{k+1}
            q = torch.gather(q, 1, S.unsqueeze(-1).expand(R, r, d))
        x = x + q.sum(dim=1) / r  # line 13, eq. (8)
        if virtual:
            hat_gap[k + 1] = sq_norm(x - hat_next)
        update_divergence(diverged, k + 1, x)
        record_x_k(k + 1)

    ks = torch.arange(K + 1, device=dev, dtype=dtype).unsqueeze(1).expand(K + 1, R)
    series: dict[str, torch.Tensor] = {
        "grad_norm_sq_x": gn_x,
        "f_gap": fg_x,
        "bits_up": ks * float(bits_up_k),
        "bits_down": ks * float(bits_down_k),
    }
    index = {name: "period k = 0..K (state at x_k)" for name in series}
    if virtual:
        series.update(grad_norm_sq=gn_bar, f_gap_bar=fg_bar, hat_gap=hat_gap)
        index.update(
            grad_norm_sq="local iteration k*tau + t (at bar x_{k,t}, eq. (20))",
            f_gap_bar="local iteration k*tau + t (at bar x_{k,t})",
            hat_gap="period k = 0..K (||x_k - hat x_k||^2, eq. (20))",
        )
    if dist is not None:
        series["dist_sq"] = dist
        index["dist_sq"] = "period k = 0..K (||x_k - x*||^2)"
    if xs_rec is not None:
        series["x"] = xs_rec
        index["x"] = "period k = 0..K"
    params = {
        "K": K,
        "tau": tau,
        "T": T,
        "r": r,
        "n": n,
        "d": d,
        "R": R,
        "eta": etas,
        "quantizer": Q.name,
        "q": Q.q(d),
        "virtual": virtual,
    }
    meta = {
        "seed": seed,
        "device": str(dev),
        "dtype": str(dtype),
        "problem": problem.describe(),
        "index": index,
        "bits": "cumulative",
        "f_gap_is_gap": "f_star" in problem.constants,
        "sampling_shared_across_replicas": not virtual,
        "client_steps": K * tau * (n if virtual else r) * R,
    }
    return Trace(algorithm="fedpaq", params=params, series=series, diverged_at=diverged, meta=meta)


def fedavg(problem: Problem, **kwargs: Any) -> Trace:
    """FedAvg: :func:`fedpaq` with the identity quantizer (``q = 0``)."""
    if kwargs.get("quantizer") is not None:
        raise ParameterError(
            "quantizer is not allowed for fedavg: FedAvg uploads unquantized updates"
        )
    trace = fedpaq(problem, **kwargs)
    trace.algorithm = "fedavg"
    return trace
