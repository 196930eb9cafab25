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
``r`` chosen nodes (a factor ``n/r`` cheaper; the problem is called with ``(R, r)`` per-replica
client indices) and ``bar x_{k,t}`` is not available. In both modes ``S_k`` is drawn independently
per replica from that replica's ``"sampling"`` stream (issue 8), so replicas are independent draws
of the whole algorithm and a confidence interval over them is valid.

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

Speed (issue 9): the local iterates live in one reused ``(B, m, d)`` buffer updated in place, the
oracle noise of a step is one bulk draw per replica, the uploads are quantized over that buffer
(:func:`compress_messages` with ``overwrite=True``: the same numbers, no allocation), and replicas
run in blocks of ``B`` (see :func:`auto_block`) so the working set stays in cache; per-replica
streams make the numbers independent of ``B``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from boundcheck import rng
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

__all__ = ["auto_block", "compress_messages", "eta_theorem1", "eta_theorem2", "fedavg", "fedpaq"]


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


#: Replicas per block when ``block=None``: the block whose per-step working set (local iterates,
#: oracle noise, gradients, quantizer scratch: about 4 arrays of ``block * m * d`` numbers, six to
#: seven with the problem's gathered rows) stays near this many bytes (about the 2 MB L2 cache
#: per core here). Measured by ``benchmarks/bench_sync.py`` (block-size tables, R = 256 and
#: 1024, n = 100, d = 1000, float32, K = r = 10): blocks of 6-12 replicas ran 5-25% faster than 26
#: (QAFeL 2.06e5 / 1.95e5 / 1.97e5 client-steps/s at 6 / 8 / 12 against 1.85e5 at 26, FedPAQ
#: 2.06e5 at 8 against 1.91e5; load 1.3-1.6), one batch of 1024 1.5-1.9x slower (page faults
#: of 40 MB temporaries). 1.25 MiB gives 8 there.
BLOCK_BYTES = 5 << 18


def auto_block(R: int, m: int, d: int, itemsize: int, budget: int = BLOCK_BYTES) -> int:
    """Replicas per block for a working set of ``~4 * block * m * d * itemsize`` <= ``budget``."""
    per = 4 * m * d * itemsize
    return max(1, min(R, budget // max(per, 1)))


def _check_block(block: Any, R: int) -> int | None:
    if block is None:
        return None
    return min(check_int("block", block, 1), R)


def compress_messages(
    Q: Compressor, x: torch.Tensor, gen: Any, *, overwrite: bool = False
) -> torch.Tensor:
    """``Q(x)``; one pass decides that every message is finite (then :func:`safe_compress`'s
    careful check is skipped: a finite 2-norm means finite entries and no overflow).

    ``overwrite=True``: ``x`` is a buffer the caller gives up; a compressor with an in-place
    form (``Q.compress_``, e.g. QSGD) writes ``Q(x)`` over it -- the same numbers, no
    allocation, its norm pass doubling as the finiteness check."""
    if isinstance(Q, Identity):
        return x
    if overwrite:
        inplace = getattr(Q, "compress_", None)
        if inplace is not None:
            out = inplace(x, gen)
            if out is not None:
                return out
    if bool(torch.isfinite(torch.linalg.vector_norm(x, dim=-1)).all()):
        return Q(x, gen)
    return safe_compress(Q, x, gen)


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
    first_replica: int = 0,
    block: int | None = None,
    pin_sampling: bool = False,
    record_lemmas: bool = False,
) -> Trace:
    """Run FedPAQ (Algorithm 1) for ``K`` periods of ``tau`` local steps on ``R`` replicas.

    Randomness (one stream per source and replica, :mod:`boundcheck.rng`): ``"sampling"`` draws
    ``S_k`` (line 2), ``"data"`` the oracle samples (line 7), ``"compressor_up"`` the quantizer
    (line 11). Replica ``r`` of the batch equals the single-replica run with
    ``first_replica = first_replica + r``, number for number; so does every block of ``block``
    replicas (``None``: :func:`auto_block`), which is how the batch is processed.

    ``pin_sampling=True`` draws ``S_0, ..., S_{K-1}`` from one ``"sampling"`` stream shared by all
    replicas (the same sets in every replica and every block): the batch then estimates the
    *conditional* expectation given that sequence, not Theorems 1-2's expectation over ``S_k``; a
    confidence interval over such a batch does not cover the unconditional mean at its nominal rate
    (``tests/algorithms/test_replica_statistics.py`` shows it). ``meta['sampling_shared_across_
    replicas']`` records the choice.

    ``dtype``: float64 by default; float32 is enough for Theorems 1-2 (the left-hand sides are
    Monte Carlo means whose statistical error is orders above float32 rounding unless
    ``||x_k - x*||^2`` falls below about ``1e-10 ||x*||^2``); it needs a problem built in the same
    dtype. ``meta['dtype']`` and ``meta['dtype_note']`` record what was used.

    Returns a :class:`Trace` whose series are indexed as follows (also in ``meta['index']``):

    * per local iteration ``s = k tau + t`` (``T = K tau`` rows), only with ``virtual=True``:
      ``grad_norm_sq`` = ``||grad f(bar x_{k,t})||^2`` (Theorem 2's lhs, eq. (19)) and
      ``f_gap_bar`` at ``bar x_{k,t}``;
    * per period ``k = 0..K`` (``K + 1`` rows, row ``k`` is the state at ``x_k``): ``grad_norm_sq_x``
      and ``f_gap`` at ``x_k``; ``dist_sq`` = ``||x_k - x*||^2`` (Theorem 1's lhs, eq. (14)) when the
      problem exposes ``x_star``; ``bits_up`` / ``bits_down`` cumulative up to ``x_k`` (``r`` uploads
      of ``Q.bits(d)`` and ``r`` full-precision downloads of ``32 d`` bits per period, line 3);
      ``hat_gap`` = ``||x_k - hat x_k||^2`` (Lemma 4's quantity, ``virtual=True``; row 0 is 0);
      ``x`` (``(K+1, R, d)``) if ``record_x``;
    * with ``record_lemmas`` (needs ``virtual=True``; FedPAQ Lemmas 1, 6, 7), per period ``k``:
      rows ``k + 1`` of ``quant_gap`` = ``||hat x_{k+1} - bar x_{k,tau}||^2``, ``f_gap_avg_end`` =
      ``f(bar x_{k,tau}) - f*`` and ``avg_end_dist`` = ``||bar x_{k,tau} - x*||^2`` (with
      ``x_star``; row 0 is NaN), and ``node_grad_sq_sum`` (``K`` rows) =
      ``sum_{t<tau} sum_{i in [n]} ||grad f(x_{k,t}^(i))||^2``.
    """
    problem = check_problem(problem)
    K = check_int("K", K, 1)
    tau = check_int("tau", tau, 1)
    R = check_int("R", R, 1)
    seed = check_int("seed", seed, 0)
    first_replica = check_int("first_replica", first_replica, 0)
    n, d = problem.n, problem.d
    r = check_int("r", r, 1)
    if r > n:
        raise ParameterError(f"r={r} is not allowed: expected 1 <= r <= n = {n}")
    Q = check_compressor("quantizer", quantizer if quantizer is not None else Identity())
    etas = _stepsizes(eta, K)
    dev = resolve_device(problem, device)
    block = _check_block(block, R)
    m = n if virtual else r
    B = block if block is not None else auto_block(R, m, d, torch.empty((), dtype=dtype).itemsize)

    x_all = initial_point(x0, R, d, dev, dtype)
    diverged = new_divergence(R, dev)
    T = K * tau
    z = dict(device=dev, dtype=dtype)
    has_star = x_star_of(problem, 1, dev, dtype) is not None
    out: dict[str, torch.Tensor] = {
        "grad_norm_sq_x": torch.empty(K + 1, R, **z),
        "f_gap": torch.empty(K + 1, R, **z),
    }
    if virtual:
        out["grad_norm_sq"] = torch.empty(T, R, **z)
        out["f_gap_bar"] = torch.empty(T, R, **z)
        out["hat_gap"] = torch.zeros(K + 1, R, **z)
    if has_star:
        out["dist_sq"] = torch.empty(K + 1, R, **z)
    if record_x:
        out["x"] = torch.empty(K + 1, R, d, **z)
    if record_lemmas:
        if not virtual:
            raise ParameterError(
                "record_lemmas=True is not allowed with virtual=False: FedPAQ Lemmas 1, 6, 7 "
                "need every node's local iterates (eq. (20))"
            )
        for name in ("quant_gap", "f_gap_avg_end") + (("avg_end_dist",) if has_star else ()):
            out[name] = torch.full((K + 1, R), math.nan, **z)
        out["node_grad_sq_sum"] = torch.zeros(K, R, **z)

    for b0 in range(0, R, B):
        b1 = min(R, b0 + B)
        _run_block(
            problem, Q, etas, tau, r, virtual, bool(pin_sampling), seed, first_replica + b0,
            x_all[b0:b1],
            diverged[b0:b1], {k: v[:, b0:b1] for k, v in out.items()},
        )  # fmt: skip

    bits_up_k = r * Q.bits(d)
    bits_down_k = r * Identity().bits(d)
    ks = torch.arange(K + 1, device=dev, dtype=dtype).unsqueeze(1).expand(K + 1, R)
    series: dict[str, torch.Tensor] = {
        "grad_norm_sq_x": out["grad_norm_sq_x"],
        "f_gap": out["f_gap"],
        "bits_up": ks * float(bits_up_k),
        "bits_down": ks * float(bits_down_k),
    }
    index = {name: "period k = 0..K (state at x_k)" for name in series}
    if virtual:
        series.update(grad_norm_sq=out["grad_norm_sq"], f_gap_bar=out["f_gap_bar"])
        series["hat_gap"] = out["hat_gap"]
        index.update(
            grad_norm_sq="local iteration k*tau + t (at bar x_{k,t}, eq. (20))",
            f_gap_bar="local iteration k*tau + t (at bar x_{k,t})",
            hat_gap="period k = 0..K (||x_k - hat x_k||^2, eq. (20))",
        )
    if has_star:
        series["dist_sq"] = out["dist_sq"]
        index["dist_sq"] = "period k = 0..K (||x_k - x*||^2)"
    if record_x:
        series["x"] = out["x"]
        index["x"] = "period k = 0..K"
    for name in ("quant_gap", "f_gap_avg_end", "avg_end_dist", "node_grad_sq_sum"):
        if name in out:
            series[name] = out[name]
            index[name] = (
                "period k = 0..K-1" if name == "node_grad_sq_sum" else "row k+1: end of period k"
            )
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
        "pin_sampling": bool(pin_sampling),
        "first_replica": first_replica,
    }
    meta = {
        "seed": seed,
        "first_replica": first_replica,
        "device": str(dev),
        "dtype": str(dtype),
        "dtype_note": DTYPE_NOTE,
        "problem": problem.describe(),
        "index": index,
        "bits": "cumulative",
        "f_gap_is_gap": "f_star" in problem.constants,
        "sampling_shared_across_replicas": bool(pin_sampling),
        "rng_dtypes": {
            "sampling": "float64 uniforms (n per period: exact ranks, negligible)",
            "data": "the problem's oracle (Gaussian noise: the run's dtype)",
            "compressor_up": str(dtype),
        },
        "streams": {
            "sampling": "S_k (line 2)",
            "data": "oracle (line 7)",
            "compressor_up": "Q (line 11)",
        },
        "block": B,
        "client_steps": K * tau * m * R,
    }
    return Trace(algorithm="fedpaq", params=params, series=series, diverged_at=diverged, meta=meta)


DTYPE_NOTE = (
    "FedPAQ needs no float64: Theorems 1-2 compare Monte Carlo means of ||x_k - x*||^2 and "
    "||grad f(bar x_{k,t})||^2 whose statistical error exceeds float32 rounding by orders; use "
    "float64 where ||x_k - x*||^2 approaches 1e-10 ||x*||^2"
)


def _run_block(
    problem: Problem,
    Q: Compressor,
    etas: list[float],
    tau: int,
    r: int,
    virtual: bool,
    pinned: bool,
    seed: int,
    first_replica: int,
    x: torch.Tensor,
    diverged: torch.Tensor,
    out: dict[str, torch.Tensor],
) -> None:
    """Algorithm 1 on one block of replicas (``x`` (B, d), written in place with ``out``'s views)."""
    Bn, d = x.shape
    n = problem.n
    K = len(etas)
    dev, dtype = x.device, x.dtype
    streams = Streams(seed, dev, R=Bn, first_replica=first_replica)
    g_data, g_samp, g_comp = (streams.replica(s) for s in ("data", "sampling", "compressor_up"))
    g_pin = streams.torch("sampling") if pinned else None
    x = x.clone()
    x_star = x_star_of(problem, Bn, dev, dtype)
    m = n if virtual else r
    x_loc = torch.empty(Bn, m, d, device=dev, dtype=dtype)  # reused every period
    record_x = "x" in out
    lemmas = "quant_gap" in out  # FedPAQ Lemmas 1, 6, 7 (record_lemmas)

    def record_x_k(k: int) -> None:
        out["grad_norm_sq_x"][k] = sq_norm(problem.grad(x))
        out["f_gap"][k] = f_gap(problem, x)
        if x_star is not None:
            out["dist_sq"][k] = sq_norm(x - x_star)
        if record_x:
            out["x"][k] = x

    update_divergence(diverged, 0, x)
    record_x_k(0)
    for k in range(K):
        eta_k = etas[k]
        # line 2: S_k, r of n u.a.r. without replacement, per replica (sorted: a set)
        if pinned:  # one S_k for all replicas (documented option)
            S = rng.without_replacement(g_pin, n, r, (1,), device=dev).sort(dim=1).values
            S = S.expand(Bn, r)
        else:
            S = rng.without_replacement(g_samp, n, r, (Bn,), device=dev).sort(dim=1).values
        clients = None if virtual else S  # None: all n nodes (no gather of client data)
        x_loc.copy_(x.unsqueeze(1))  # line 5
        for t in range(tau):  # lines 6-10
            if virtual:
                bar = x_loc.mean(dim=1)  # eq. (20)
                out["grad_norm_sq"][k * tau + t] = sq_norm(problem.grad(bar))
                out["f_gap_bar"][k * tau + t] = f_gap(problem, bar)
            if lemmas:
                gi = problem.grad(x_loc.reshape(Bn * n, d))
                out["node_grad_sq_sum"][k] += sq_norm(gi).reshape(Bn, n).sum(dim=1)
            sample = problem.sample(Bn, clients, g_data)
            x_loc.sub_(problem.stochastic_grad_i(x_loc, sample, clients), alpha=eta_k)
        if lemmas:
            bar_end = x_loc.mean(dim=1)  # bar x_{k,tau}, eq. (20)
            out["f_gap_avg_end"][k + 1] = f_gap(problem, bar_end)
            if x_star is not None and "avg_end_dist" in out:
                out["avg_end_dist"][k + 1] = sq_norm(bar_end - x_star)
        x_loc.sub_(x.unsqueeze(1))  # x_{k,tau}^{(i)} - x_k
        q = compress_messages(Q, x_loc, g_comp, overwrite=True)  # line 11, over the buffer
        if virtual:
            hat_next = x + q.mean(dim=1)  # eq. (20), hat x_{k+1}
            if lemmas:
                out["quant_gap"][k + 1] = sq_norm(hat_next - bar_end)
            q = torch.gather(q, 1, S.unsqueeze(-1).expand(Bn, r, d))
        x.add_(q.sum(dim=1), alpha=1.0 / r)  # line 13, eq. (8)
        if virtual:
            out["hat_gap"][k + 1] = sq_norm(x - hat_next)
        update_divergence(diverged, k + 1, x)
        record_x_k(k + 1)


def fedavg(problem: Problem, **kwargs: Any) -> Trace:
    """FedAvg: :func:`fedpaq` with the identity quantizer (``q = 0``)."""
    if kwargs.get("quantizer") is not None:
        raise ParameterError(
            "quantizer is not allowed for fedavg: FedAvg uploads unquantized updates"
        )
    trace = fedpaq(problem, **kwargs)
    trace.algorithm = "fedavg"
    return trace
