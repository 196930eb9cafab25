"""FedBuff and QAFeL (QAFeL Algorithms 1-3), batched over R replicas.

QAFeL-server (Algorithm 1): ``hat x^0 = x^0`` (line 1); clients are sampled asynchronously (lines
3-4); each received quantized update is added to the buffer (lines 5-8); when it holds ``K`` updates
(line 10) the server steps ``x^{t+1} = x^t + eta_g bar Delta^t / K`` (lines 11-12, eq. (3)),
broadcasts ``q^t = Q_s(x^{t+1} - hat x^t)`` (line 13) and updates the shared hidden state
``hat x^{t+1} = hat x^t + q^t`` (line 14, eq. (4); the clients do the same in Algorithm 3).
QAFeL-client (Algorithm 2): ``y_0 = hat x^t`` -- the client starts from the **hidden state**, not
from ``x^t`` (line 1) -- runs ``P`` local SGD steps ``y_p = y_{p-1} - eta_l g_p(y_{p-1})`` (lines
2-4, eq. (2)) and sends ``Delta = Q_c(y_P - y_0)`` (line 5).

FedBuff (Nguyen et al., 2022) is the same loop without quantization and without hidden state: the
client starts from ``x^t`` and uploads ``y_P - y_0`` unquantized; the server broadcasts ``x^{t+1}``.

Readings of the extracted text (see also the report / theorem notes):

* Algorithm 2 line 5 writes ``Q_c(y_0 - y_p)`` and Section 2 writes ``Q_c(y_{P-1} - y_0)``. With
  line 12's ``x^{t+1} = x^t + eta_g bar Delta^t`` the first sign would make the server *ascend*, and
  the second drops the last local step; the proof of Theorem F.4 uses ``Delta = -eta_l sum_{p=1}^P
  g(...)``, i.e. ``y_P - y_0``, which we implement.
* The proof writes ``x^{t+1} = x^t + eta_g / K Q_c(sum_k ...)`` (one quantization of the sum);
  Algorithms 1-2 quantize every client's message separately, which we implement.
* Server momentum (QAFeL App. D, "as in FedBuff"; not in the theory): FedBuff's server optimizer is
  SGD with momentum ``beta`` on the pseudo-gradient ``-bar Delta^t / K``:
  ``m^{t+1} = beta m^t + bar Delta^t / K``, ``x^{t+1} = x^t + eta_g m^{t+1}`` (``beta = 0``: eq. (3)).
* Staleness weighting (App. D, Figure 3 only): the update of a client with staleness ``tau`` is
  multiplied by ``1 / sqrt(1 + tau)`` before it enters the buffer; the buffer is still divided by
  ``K``.

Asynchrony comes from a per-replica :class:`~boundcheck.algorithms.async_sim.ScheduleBatch` (default:
:func:`~boundcheck.algorithms.async_sim.fedbuff_schedules` with App. D's 100 arrivals per unit time;
each replica's client choices ("sample available clients", Alg. 1 line 3) from its own ``sampling``
stream and its durations, hence its staleness, from its own ``delays`` stream). ``schedule=`` may
instead be one :class:`~boundcheck.algorithms.async_sim.Schedule`, pinned across the replicas (the
conditional expectation given one delay pattern, or an adversarial fixed pattern), or a
``ScheduleBatch``. Every other random choice is per replica too: oracle noise (``data``), client and
server quantizers (``compressor_up`` / ``compressor_down``), so replica ``r`` of a batch equals the
single-replica run with ``first_replica = r`` (:mod:`boundcheck.rng`).

**Staleness by gathering.** The server keeps a ring of the last ``tau_max + 1`` hidden states
``hat x^v`` (``x^v`` for FedBuff), ``(tau_max + 1, R, d)`` with ``tau_max`` the batch maximum. Each
update applied at step ``t`` is computed *at that step* from the gathered ``hat x^{read_version}`` of
its replica: its ``P`` local steps and its quantization use noise drawn then. This equals computing
it when the client starts, in distribution: the local noise and the quantizer randomness are
independent of everything else (of the iterates, the schedule and the other updates), so drawing
them later only relabels independent draws. Python work per server step does not grow with ``R``.

**Speed (issue 9).** The server's side of a step (recording, ``x^{t+1}``, the broadcast and its
quantizer, the divergence check) runs once per step over a *server block* of replicas
(:func:`server_block`: its ``(B, d)`` arrays stay in cache), the clients' side in *chunks* of
``block`` replicas (default: :func:`~boundcheck.algorithms.fedpaq.auto_block`, a cache-sized
``(block, K, d)`` working set). Per-replica streams make the numbers independent of both sizes
(``tests/algorithms/test_sync_golden.py``): each chunk draws from its own rows of the streams.
Within a chunk the stale states are one ``index_select`` from the ring into a reused buffer, the
first local step reads them and writes the local iterates (no copy), the later steps update in
place, and the uploads are quantized over their buffer (:meth:`~boundcheck.compressors.QSGD.
compress_` through :func:`~boundcheck.algorithms.fedpaq.compress_messages`: the same numbers, no
allocation, its norm pass doubling as the finiteness check).

**dtype.** float64 is the default: the checks compare ``grad_norm_sq`` means with bounds and take
differences such as ``hidden_gap`` (Lemma F.9's finding is a gap of order ``1e-2`` of the terms).
float32 is allowed (the benchmark's setting; ``meta['dtype']`` says which) for throughput where a
check tolerates single-precision rounding.

Theory symbols (``boundcheck/theory/qafel.py``) -> this trace and the problem's constants:

==============  ==========================================================================
``eta_l``       keyword ``eta_l`` (constant over the P local steps: ``eta_l^(p) = eta_l``)
``eta_g``       keyword ``eta_g``; ``K``, ``P``, ``T`` the keywords of the same name
``delta_c``     ``params['delta_c']`` = ``client_compressor.delta(d)`` (Theorem F.1 also needs
                an unbiased ``Q_c`` and ``Q_s``: check ``compressor.biased``)
``delta_s``     ``params['delta_s']`` = ``server_compressor.delta(d)``
``tau_max``     tau_max,K = ``meta['schedule']['tau_max_used']``: the batch maximum of the
                staleness of the T*K applied updates (per replica: ``tau_max_per_replica``)
``tau_max_1``   ``meta['schedule']['tau_max_1']`` (same timelines with K = 1, batch maximum)
``L``           problem constant ``L_i`` (Assumption 3.3: *each* F_n is L-smooth), not ``L``
``sigma_l``     ``sqrt(sigma2)``: ``sigma2`` is max_n E||g_n - grad F_n||^2 (the theory's
                sigma_l is a standard deviation and enters as sigma_l^2)
``G``           problem constant ``G`` = sup_x max_n ||grad F_n(x)||^2 (a squared norm)
``F0``          ``f_gap[0]`` = f(x^0) - f*, f* = ``meta["f_star_used"]`` (exact, else certified lower)
lhs             mean of ``grad_norm_sq`` over rows ``t = 0..T-1`` (``x^t``, not ``hat x^t``)
==============  ==========================================================================
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from boundcheck.algorithms.async_sim import Schedule, ScheduleBatch, fedbuff_schedules
from boundcheck.algorithms.common import (
    ClientCalls,
    Streams,
    check_compressor,
    check_float,
    check_int,
    check_problem,
    f_gap,
    f_star_meta,
    initial_point,
    new_divergence,
    resolve_device,
    sq_norm,
    update_divergence,
)
from boundcheck.algorithms.fedpaq import auto_block, compress_messages
from boundcheck.algorithms.trace import Trace
from boundcheck.compressors import Compressor, Identity
from boundcheck.errors import ParameterError
from boundcheck.problems.base import Problem

__all__ = ["fedbuff", "qafel"]


DTYPE_NOTE = (
    "float64 (the default) where a check takes differences of recorded terms: hidden_gap "
    "||x^t - hat x^t||^2 against Lemmas F.9/F.11 (the Lemma F.9 finding is a gap of order 1e-2 of "
    "the terms); float32 suffices for Theorem F.1/F.4's lhs, a Monte Carlo mean of "
    "||grad f(x^t)||^2 whose statistical error is orders above float32 rounding (the benchmark's "
    "setting: float32 normals are ~6x cheaper)"
)


def _schedule(
    schedule: Schedule | ScheduleBatch | None, n: int, T: int, K: int, R: int,
    rate: float | None, concurrency: float | None, sigma: float, seed: int, first_replica: int,
) -> ScheduleBatch:  # fmt: skip
    if schedule is None:
        if rate is None and concurrency is None:
            rate = 100.0  # QAFeL App. D: "clients arriving at 100 clients per unit of time"
        return fedbuff_schedules(
            n=n, T=T, K=K, R=R, rate=rate, concurrency=concurrency, sigma=sigma, seed=seed,
            first_replica=first_replica,
        )  # fmt: skip
    if isinstance(schedule, Schedule):
        batch = ScheduleBatch.pin(schedule, R)
    elif isinstance(schedule, ScheduleBatch):
        batch = schedule
    else:
        raise ParameterError(
            f"schedule={schedule!r} is not allowed: expected an async_sim.Schedule (pinned across "
            "replicas), a ScheduleBatch or None"
        )
    if batch.K != K or batch.n != n or batch.first_step != 0:
        raise ParameterError(
            f"schedule with K={batch.K}, n={batch.n}, first_step={batch.first_step} is not "
            f"allowed: expected K={K}, n={n} (the problem's), first_step=0"
        )
    if batch.T < T:
        raise ParameterError(f"schedule covers T={batch.T} steps: expected at least T={T}")
    if batch.R != R:
        raise ParameterError(f"schedule batch has R={batch.R} replicas: expected R={R}")
    return batch


def _check_block(block: Any, R: int, K: int, d: int, dtype: torch.dtype) -> int:
    """Replicas per chunk of client work: ``block`` (an integer >= 1) or :func:`~boundcheck.
    algorithms.fedpaq.auto_block`'s cache-sized choice for the ``(block, K, d)`` client iterates."""
    if block is None:
        return auto_block(R, K, d, torch.empty((), dtype=dtype).itemsize)
    return min(check_int("block", block, 1), R)


#: Bytes of the server's per-step arrays of one server block (``x``, ``hat x``, the step, the
#: broadcast message and its quantizer's scratch: about 8 arrays of ``(B, d)``): the server's work
#: (recording, ``x^{t+1}``, the broadcast, the divergence check) runs once per step for ``B``
#: replicas, in cache; their clients' work in chunks of ``block`` replicas.
SERVER_BYTES = 2 << 20


def server_block(R: int, block: int, d: int, itemsize: int) -> int:
    """Replicas per server block: as many whole chunks of ``block`` replicas as keep the server's
    arrays within :data:`SERVER_BYTES` (at least one chunk, at most ``R``)."""
    fit = SERVER_BYTES // max(8 * d * itemsize, 1)
    return min(R, max(block, fit // block * block))


class _Loop:
    """Algorithms 1-3 (or FedBuff) on one server block of replicas (issue 9).

    The server's side of a step (recording, ``x^{t+1}``, the broadcast and its quantizer, the
    divergence check) is one set of calls over the whole block; the clients' side (gathering the
    stale states, the ``P`` local steps, the uploads' quantizer, their sum) runs in chunks of
    ``chunk`` replicas, sized so that the ``(chunk, K, d)`` iterates, noise and gradients stay in
    cache, with every temporary in buffers reused across chunks and steps. Each chunk draws from
    its own rows of the per-replica streams (:meth:`~boundcheck.rng.ReplicaGenerator.select`),
    so the numbers do not depend on the chunk or block sizes."""

    def __init__(
        self, problem: Problem, calls: ClientCalls, hidden: bool, T: int, K: int, P: int,
        eta_l: float, eta_g: float, beta: float, Qc: Compressor, Qs: Compressor, D: int,
        chunk: int,
    ) -> None:  # fmt: skip
        self.problem, self.calls, self.hidden = problem, calls, hidden
        self.T, self.K, self.P, self.D, self.chunk = T, K, P, D, chunk
        self.eta_l, self.eta_g, self.beta, self.Qc, self.Qs = eta_l, eta_g, beta, Qc, Qs

    def __call__(
        self, streams: Streams, x: torch.Tensor, slots: torch.Tensor, clients: torch.Tensor,
        weights: torch.Tensor | None, diverged: torch.Tensor, out: dict[str, torch.Tensor],
    ) -> None:  # fmt: skip
        problem, calls, hidden = self.problem, self.calls, self.hidden
        T, K, P, D, eta_l, eta_g = self.T, self.K, self.P, self.D, self.eta_l, self.eta_g
        Qc, Qs = self.Qc, self.Qs
        # ClientCalls.stochastic_grad_i's calls, with the flat views made once per chunk and step
        grad_i, flat_sample = problem.stochastic_grad_i, calls._flat_sample
        g_data, g_up, g_down = (
            streams.replica(s) for s in ("data", "compressor_up", "compressor_down")
        )
        Bn, d = x.shape
        dev, dtype = x.device, x.dtype
        C = min(self.chunk, Bn)
        chunks = []  # (c0, c1, its rows of the data and upload streams)
        for c0 in range(0, Bn, C):
            c1 = min(Bn, c0 + C)
            if c0 == 0 and c1 == Bn:
                chunks.append((c0, c1, g_data, g_up))
            else:
                rows = range(c0, c1)
                chunks.append((c0, c1, g_data.select(rows), g_up.select(rows)))
        x = x.clone()
        ring = torch.empty(D, Bn, d, device=dev, dtype=dtype)  # hat x^v (x^v) at slot v mod D
        ring[0] = x  # Alg. 1 line 1 / Alg. 3 line 1: hat x^0 = x^0
        ring_rows = ring.view(D * Bn, d)
        # row of ring_rows holding replica b's read version of update (t, k): slot * Bn + b;
        # step t's rows of chunk [c0, c1) are gather[t, c0 K : c1 K]
        gather = (slots * Bn + torch.arange(Bn, device=dev).view(Bn, 1, 1)).transpose(0, 1)
        gather = gather.reshape(T, Bn * K).contiguous()
        clients = clients.transpose(0, 1).contiguous()  # (T, Bn, K): step t's clients contiguous
        if weights is not None:
            weights = weights.transpose(0, 1).unsqueeze(-1).contiguous()  # (T, Bn, K, 1)
        x_hat = ring[0] if hidden else x  # QAFeL's hidden state lives in the ring
        mom = torch.zeros_like(x) if self.beta > 0 else None
        step = torch.empty_like(x)
        y0_buf = torch.empty(C, K, d, device=dev, dtype=dtype)
        y_buf = torch.empty_like(y0_buf)
        gn, fg, hgap = out["grad_norm_sq"], out["f_gap"], out["hidden_gap"]
        xs_rec, xh_rec = out.get("x"), out.get("x_hat")

        def record(t: int, x_hat: torch.Tensor) -> None:
            gn[t] = sq_norm(problem.grad(x))
            fg[t] = f_gap(problem, x)
            if hidden:
                hgap[t] = sq_norm(x - x_hat)
            if xs_rec is not None:
                xs_rec[t] = x
            if xh_rec is not None:
                xh_rec[t] = x_hat

        update_divergence(diverged, 0, x)
        for t in range(T):
            record(t, x_hat)
            gather_t, clients_t = gather[t], clients[t]
            for c0, c1, gd, gu in chunks:
                nb = c1 - c0
                y0, y = (y0_buf, y_buf) if nb == C else (y0_buf[:nb], y_buf[:nb])
                c = clients_t[c0:c1]  # (nb, K): the K updates applied at step t (Alg. 1 l. 5-10)
                # hat x^{read version} (Alg. 2 line 1) or x^{read} (FedBuff), one gather
                y0f, yf = y0.view(1, nb * K, d), y.view(1, nb * K, d)  # ClientCalls' flat form
                cf = c.view(nb * K)
                torch.index_select(ring_rows, 0, gather_t[c0 * K : c1 * K], out=y0f[0])
                # Alg. 2 lines 2-4; the first step reads y_0 and writes y (no copy of y_0)
                g = grad_i(y0f, flat_sample(calls.sample(nb, c, gd)), cf)
                torch.sub(y0f, g.view(y0f.shape), alpha=eta_l, out=yf)
                for _ in range(P - 1):
                    g = grad_i(yf, flat_sample(calls.sample(nb, c, gd)), cf)
                    yf.sub_(g.view(yf.shape), alpha=eta_l)
                delta = y.sub_(y0)
                if hidden:  # Alg. 2 line 5 (y_P - y_0), quantized over the buffer
                    delta = compress_messages(Qc, delta, gu, overwrite=True)
                if weights is not None:
                    delta.mul_(weights[t, c0:c1])
                torch.sum(delta, dim=1, out=step[c0:c1])
            step.div_(K)  # line 11
            if mom is not None:
                mom.mul_(self.beta).add_(step)
                upd = mom
            else:
                upd = step
            x.add_(upd, alpha=eta_g)  # line 12, eq. (3)
            new = ring[(t + 1) % D]
            if hidden:  # lines 13-14, eq. (4): hat x^{t+1} = hat x^t + Q_s(x^{t+1} - hat x^t)
                q = compress_messages(Qs, torch.sub(x, x_hat), g_down, overwrite=True)
                torch.add(x_hat, q, out=new)
                x_hat = new
            else:  # FedBuff broadcasts x^{t+1} itself
                new.copy_(x)
            update_divergence(diverged, t + 1, x, x_hat)
        record(T, x_hat)


def _run(
    problem: Problem,
    *,
    algorithm: str,
    hidden: bool,
    T: int,
    R: int,
    seed: int,
    first_replica: int,
    eta_l: float,
    eta_g: float,
    K: int,
    P: int,
    client_compressor: Compressor,
    server_compressor: Compressor,
    schedule: Schedule | ScheduleBatch | None,
    rate: float | None,
    concurrency: float | None,
    sigma: float,
    staleness_weight: bool,
    beta: float,
    x0: Any,
    device: Any,
    dtype: torch.dtype,
    record_x: bool,
    block: int | None = None,
) -> Trace:
    problem = check_problem(problem)
    T = check_int("T", T, 1)
    R = check_int("R", R, 1)
    seed = check_int("seed", seed, 0)
    first_replica = check_int("first_replica", first_replica, 0)
    K = check_int("K", K, 1)
    P = check_int("P", P, 1)
    eta_l = check_float("eta_l", eta_l)
    eta_g = check_float("eta_g", eta_g)
    beta = check_float("beta", beta, strict=False)
    if beta >= 1:
        raise ParameterError(f"beta={beta!r} is not allowed: expected 0 <= beta < 1")
    Qc = check_compressor("client_compressor", client_compressor)
    Qs = check_compressor("server_compressor", server_compressor)
    n, d = problem.n, problem.d
    dev = resolve_device(problem, device)
    sched = _schedule(schedule, n, T, K, R, rate, concurrency, sigma, seed, first_replica)
    calls = ClientCalls(problem)

    E = T * K
    read = sched.read_version[:, :E]
    stale = sched.staleness[:, :E]
    D = int(stale.max()) + 1  # ring depth: hat x^{t - tau_max}, ..., hat x^t
    slots = torch.as_tensor(np.array(read % D), device=dev, dtype=torch.long).view(R, T, K)
    clients = torch.as_tensor(np.array(sched.client[:, :E]), device=dev, dtype=torch.long).view(
        R, T, K
    )
    weights = None
    if staleness_weight:  # App. D: 1/sqrt(1 + tau) per update, (R, T, K)
        weights = torch.as_tensor(1.0 / np.sqrt(1.0 + stale), device=dev, dtype=dtype).view(R, T, K)

    z = dict(device=dev, dtype=dtype)
    x_all = initial_point(x0, R, d, dev, dtype)
    diverged = new_divergence(R, dev)
    series_out = {
        "grad_norm_sq": torch.empty(T + 1, R, **z),
        "f_gap": torch.empty(T + 1, R, **z),
        "hidden_gap": torch.zeros(T + 1, R, **z),
    }
    if record_x:
        series_out["x"] = torch.empty(T + 1, R, d, **z)
        if hidden:
            series_out["x_hat"] = torch.empty(T + 1, R, d, **z)
    B = _check_block(block, R, K, d, dtype)
    SB = server_block(R, B, d, torch.empty((), dtype=dtype).itemsize)
    run = _Loop(problem, calls, hidden, T, K, P, eta_l, eta_g, beta, Qc, Qs, D, B)
    for b0 in range(0, R, SB):
        b1 = min(R, b0 + SB)
        g = Streams(seed, dev, R=b1 - b0, first_replica=first_replica + b0)
        run(
            g, x_all[b0:b1], slots[b0:b1], clients[b0:b1],
            None if weights is None else weights[b0:b1], diverged[b0:b1],
            {k: v[:, b0:b1] for k, v in series_out.items()},
        )  # fmt: skip
    gn, fg, hidden_gap = (series_out[k] for k in ("grad_norm_sq", "f_gap", "hidden_gap"))
    xs_rec, xh_rec = series_out.get("x"), series_out.get("x_hat")

    ts = torch.arange(T + 1, device=dev, dtype=dtype).unsqueeze(1).expand(T + 1, R)
    up_bits = K * (Qc.bits(d) if hidden else Identity().bits(d))
    down_bits = Qs.bits(d) if hidden else Identity().bits(d)
    series = {
        "grad_norm_sq": gn,
        "f_gap": fg,
        "bits_up": ts * float(up_bits),
        "bits_down": ts * float(down_bits),
        "hidden_gap": hidden_gap,
    }
    if xs_rec is not None:
        series["x"] = xs_rec
    if xh_rec is not None:
        series["x_hat"] = xh_rec
    s = stale.reshape(R, T, K)
    summary = sched.summary(steps=T)
    summary.update(
        tau_max_used=int(s.max()),
        tau_max_used_per_replica=s.max(axis=(1, 2)).tolist(),
        staleness_mean_per_step=s.mean(axis=(0, 2)).tolist(),
        staleness_max_per_step=s.max(axis=(0, 2)).tolist(),
    )
    params = {
        "T": T, "R": R, "K": K, "P": P, "eta_l": eta_l, "eta_g": eta_g, "n": n, "d": d,
        "client_compressor": Qc.describe() if hidden else "none",
        "server_compressor": Qs.describe() if hidden else "none",
        "delta_c": Qc.delta(d) if hidden else 1.0,
        "delta_s": Qs.delta(d) if hidden else 1.0,
        "staleness_weight": staleness_weight, "beta": beta, "first_replica": first_replica,
    }  # fmt: skip
    meta = {
        "seed": seed,
        "first_replica": first_replica,
        "device": str(dev),
        "dtype": str(dtype),
        "dtype_note": DTYPE_NOTE,
        "rng_dtypes": {
            "data": "the problem's oracle (Gaussian noise: the run's dtype)",
            "compressor_up": str(dtype),
            "compressor_down": str(dtype),
            "sampling/delays": "float64 (host-side schedules)",
        },
        "problem": problem.describe(),
        "schedule": summary,
        "tau_max": summary["tau_max_used"],
        "tau_max_per_replica": summary["tau_max_used_per_replica"],
        "shared_across_replicas": summary["shared_across_replicas"],
        "f_star_used": f_star_meta(problem),
        "index": "server step t = 0..T (row t is the state at x^t; lhs of Thm F.1 = mean of rows 0..T-1)",
        "bits": "cumulative: K uploads and one broadcast per server step (broadcast mode, Section 2)",
        "f_gap_is_gap": f_star_meta(problem)["value"] is not None,
        "client_steps": T * K * P * R,
        "block": B,
        "server_block": SB,
    }
    return Trace(algorithm=algorithm, params=params, series=series, diverged_at=diverged, meta=meta)


def qafel(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    first_replica: int = 0,
    eta_l: float,
    eta_g: float,
    K: int,
    P: int,
    client_compressor: Compressor | None = None,
    server_compressor: Compressor | None = None,
    schedule: Schedule | ScheduleBatch | None = None,
    rate: float | None = None,
    concurrency: float | None = None,
    sigma: float = 1.0,
    staleness_weight: bool = False,
    beta: float = 0.0,
    x0: Any = None,
    device: Any = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
    block: int | None = None,
) -> Trace:
    """Run QAFeL (Algorithms 1-3) for ``T`` server steps on ``R`` replicas.

    Series (``T + 1`` rows, row ``t`` is the state at ``x^t``): ``grad_norm_sq`` =
    ``||grad f(x^t)||^2`` (Theorem F.1/F.4's lhs is the mean over ``t = 0..T-1``), ``f_gap`` at
    ``x^t``, ``bits_up`` / ``bits_down`` cumulative (``K Q_c.bits(d)`` and one broadcast of
    ``Q_s.bits(d)`` per step), ``hidden_gap`` = ``||x^t - hat x^t||^2`` (Lemmas F.9/F.11),
    ``x`` and ``x_hat`` (``(T+1, R, d)``) if ``record_x``. ``meta['schedule']`` holds the measured
    staleness (``tau_max``, ``tau_max_1``, histogram, per-step mean and max).
    ``staleness_weight`` and server momentum ``beta`` are off by default (the theorems' setting).

    Replicas are independent draws (module docstring): ``schedule=None`` generates one FedBuff
    timing per replica (``rate`` / ``concurrency``, ``sigma``); a ``Schedule`` is pinned across the
    replicas; a ``ScheduleBatch`` gives one per replica. ``first_replica`` numbers the replicas
    (replica ``r`` of a batch equals the run with ``R=1, first_replica=r``). ``meta['tau_max']`` is
    the batch maximum of the applied staleness (the value for the bounds), per replica in
    ``meta['tau_max_per_replica']``; ``meta['shared_across_replicas']`` says whether the schedule
    was pinned; ``meta['f_star_used']`` which ``f*`` ``f_gap`` subtracts.
    """
    return _run(
        problem, algorithm="qafel", hidden=True, T=T, R=R, seed=seed, first_replica=first_replica, eta_l=eta_l, eta_g=eta_g,
        K=K, P=P, client_compressor=client_compressor or Identity(),
        server_compressor=server_compressor or Identity(), schedule=schedule, rate=rate,
        concurrency=concurrency, sigma=sigma, staleness_weight=staleness_weight, beta=beta, x0=x0,
        device=device, dtype=dtype, record_x=record_x, block=block,
    )  # fmt: skip


def fedbuff(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    first_replica: int = 0,
    eta_l: float,
    eta_g: float,
    K: int,
    P: int,
    schedule: Schedule | ScheduleBatch | None = None,
    rate: float | None = None,
    concurrency: float | None = None,
    sigma: float = 1.0,
    staleness_weight: bool = False,
    beta: float = 0.0,
    x0: Any = None,
    device: Any = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
    block: int | None = None,
) -> Trace:
    """Run FedBuff: :func:`qafel`'s loop with clients starting from ``x^t`` and no quantization.

    Same series as :func:`qafel` (``hidden_gap`` is 0; bits are ``K * 32 d`` up and ``32 d`` down
    per step).
    """
    return _run(
        problem, algorithm="fedbuff", hidden=False, T=T, R=R, seed=seed, first_replica=first_replica, eta_l=eta_l, eta_g=eta_g,
        K=K, P=P, client_compressor=Identity(), server_compressor=Identity(), schedule=schedule,
        rate=rate, concurrency=concurrency, sigma=sigma, staleness_weight=staleness_weight,
        beta=beta, x0=x0, device=device, dtype=dtype, record_x=record_x, block=block,
    )  # fmt: skip
