"""Async-GD/-SGD, AsyncBC-GD/-SGD and SARAH: AsyncBC paper (Gao, Takezawa & Stich, TMLR).

**Independent replicas (issue 8).** Every replica has its **own schedule** (default:
:func:`boundcheck.algorithms.async_sim.asyncbc_schedules`: worker ``i`` needs ``i * tau / n`` time units
per task, ``tau_C`` tasks in flight, the initial active set and every new worker ``k_{t+1}`` drawn
u.a.r. from ``[n]`` from the replica's own ``sampling`` stream; AsyncBC Section 5 and Algorithms
1-2) and its own oracle noise (``noise`` stream). The expectation in Theorems 1-2 is over the oracle
noise *and over the uniform choice of the clients* ``k_{t+1}`` (Lemma 4 / Lemma 6 average over
``k_t``), so the replica mean estimates exactly the theorems' ``E`` -- for AsyncBC-GD too, whose only
randomness is the client sampling. Replica ``r`` of a batch equals the single-replica run with
``first_replica = r``. ``schedule=`` may be one :class:`~boundcheck.algorithms.async_sim.Schedule`,
pinned across the replicas (the expectation *conditional* on one client sequence, or an adversarial
fixed pattern; ``meta['shared_across_replicas']`` is then true) or a per-replica
:class:`~boundcheck.algorithms.async_sim.ScheduleBatch`.

**Lean event loop (issue 9).** Each task is evaluated lazily: when some replica first receives a
version not yet evaluated, every task handed out by then is evaluated in one oracle call for all
replicas (inputs ``x_v``, ``x_{v-1}`` read as views of a ring of rows, in (version, replica) order;
the same per-row arithmetic as evaluating each task on arrival), and kept in an ``(R tau_C, d)``
buffer of the tasks in flight: the task handed out after step ``t`` takes the slot freed by the
message received at step ``t``. The slots come from the schedules up front (NumPy: pointer jumping
over the chains of slot reuse, no loop over the steps). A step is then one gather of the received
messages (with one replica: a view of the buffer's row), ``m_t = m_{t-1} + g``, ``x_{t+1} = x_t -
eta m_t`` -- on CPU in float32/float64 on NumPy views of the same memory (identical IEEE operations,
a fraction of torch's per-call cost) -- and the hand-out. Iterates go to a ring of ``B`` rows and
``||grad f||^2``, ``f``, ``||m||^2`` are recorded once per block of rows that fits the core's cache,
through the problem's full-objective ``grad``/``f`` (one call per block), written in place into the
series. A replica is marked diverged at the first row whose ``||grad f(x_t)||^2``, ``f(x_t)`` or
``||m_t||^2`` is not finite (a non-finite ``x_t`` or ``m_t`` makes them so), read off the finished
series once. The numbers are bit-identical to the straightforward loop
(``tests/algorithms/test_async_golden.py``).

**Staleness.** ``meta['tau_max']`` is, over the batch, the smallest ``tau_max`` that Assumption 3
allows for the run: the maximal staleness of the applied updates *and* of the tasks still in flight
after the last step (a task reading version ``v`` that has not arrived by step ``s`` has staleness
``>= s + 1 - v``; the proofs count it in the active sets ``C_v..C_s``, Lemma 2); per replica in
``meta['tau_max_per_replica']``. The applied-only maximum is ``meta['schedule']['tau_max_measured']``,
the in-flight one ``meta['schedule']['tau_max_in_flight']``. **tau_C = 1** gives ``tau_max = 0``
(every message is fresh; Algorithm 1 is SARAH), where Theorems 1-2's stated stepsizes are ``1/0``
and their bounds 0; the theory module reads ``tau_max >= 1`` (``boundcheck.theory.asyncbc``,
"Reading: tau_max >= 1"), so ``meta['tau_max_theory'] = max(meta['tau_max'], 1)`` is the value to
hand to the theorems (never a division by zero).

**dtype.** float64 by default: the checks compare averages of ``||grad f(x_t)||^2`` that reach
``1e-6`` of their start (Figure 1) and AsyncBC's bias-correction invariance is exact only up to
rounding; float32 is allowed where a report says so (``meta['dtype']``).

**Names: theory module** (:mod:`boundcheck.theory.asyncbc`) **-> this trace / the problem.**
``T`` -> keyword ``T`` (rows ``x_0..x_{T-1}``; ``T - 1`` messages received, ``x_T`` =
``meta['x_final']``); ``eta``, ``tau_C`` -> keywords; ``tau_max`` -> ``meta['tau_max_theory']``;
``F0`` -> ``f_gap[0]`` (``meta['f_star_used']`` says which ``f*``); ``L`` -> ``problem.constant('L')``;
``delta_H`` -> ``constant('delta_H')``; ``ell`` -> ``constant('ell')`` (oracle-dependent; ``inf`` for
the independent-noise oracle); ``L_max`` -> ``constant('L_i')``; ``sigma`` (Theorem 3, ``sigma^2 =
E||xi_t||^2``) -> ``sqrt(constant('sigma2'))`` (``= sqrt(d * noise_var)``); ``zeta`` (Section 3 form)
-> ``sqrt(constant('zeta2'))``; ``G_bg`` (Table 1, a norm bound) -> ``sqrt(constant('G'))``; ``D0`` ->
``||x_0 - x*||^2``. Quantities: ``asyncbc.avg_grad_sq`` -> ``grad_norm_sq.mean(0)``;
``asyncbc.xT_sq`` -> ``||meta['x_final']||^2``; ``sum_m2_past`` at ``t`` -> ``m_norm_sq[:t-1].sum(0)``;
the virtual iterates of Lemmas 1 and 5 are not recorded (``record_x`` gives ``x`` and ``m`` to
rebuild them with the schedule).

Rows of every trace: row ``t = 0..T-1`` is the iterate ``x_t``; ``grad_norm_sq[t] = ||grad f(x_t)||^2``
so that ``grad_norm_sq.mean(0)`` is the left-hand side ``1/T sum_{t=0}^{T-1} ||grad f(x_t)||^2`` of
AsyncBC Theorems 1-2 (one draw per replica; the expectation is over replicas).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import torch

from boundcheck.algorithms.async_sim import Schedule, ScheduleBatch, asyncbc_schedules
from boundcheck.algorithms.common import (
    ClientCalls,
    Streams,
    check_float,
    check_int,
    f_star_meta,
    f_star_used,
    initial_point,
    new_divergence,
    resolve_device,
    update_divergence,
)
from boundcheck.algorithms.trace import Trace
from boundcheck.compressors import Identity
from boundcheck.errors import ParameterError
from boundcheck.problems.base import Problem
from boundcheck.rng import numpy_generators

Sampling = Literal["shared", "independent"]
_FULL = Identity()  # 32 bits per entry of an uncompressed vector
_TAU0 = (
    "tau_max_theory = max(tau_max, 1): the theory module reads tau_max >= 1 (with tau_C = 1 every "
    "message is fresh, tau_max = 0, and Theorems 1-2's stepsize would be 1/0)"
)


# --- validation and small helpers --------------------------------------------------------------
def _stepsize(eta: Any, R: int, dev: torch.device, dtype: torch.dtype) -> float | torch.Tensor:
    """``eta``: a number, or one stepsize per replica (shape ``(R,)``: a stepsize grid in one batch)."""
    if isinstance(eta, (int, float, np.floating)) and not isinstance(eta, bool):
        return check_float("eta", eta)
    try:
        e = torch.as_tensor(eta, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ParameterError(
            f"eta must be a number > 0 or a ({R},) tensor of them, got {eta!r}"
        ) from None
    if e.shape != (R,) or not bool(torch.isfinite(e).all()) or not bool((e > 0).all()):
        raise ParameterError(
            f"eta must be a number > 0 or one finite stepsize > 0 per replica, shape ({R},); "
            f"got {eta!r}"
        )
    return e.to(device=dev, dtype=dtype).unsqueeze(1)


def _eta_param(eta: float | torch.Tensor) -> float | list[float]:
    return eta if isinstance(eta, float) else eta.squeeze(1).tolist()


def _descend(
    x: torch.Tensor, eta: float | torch.Tensor, m: torch.Tensor, out: torch.Tensor
) -> None:
    """``out = x - eta m`` (``eta`` a number or ``(R, 1)``), into a preallocated row.

    Rounded as written (``eta m`` first, then the difference; no fused multiply-add), so that exact
    identities such as Lemma 2 with ``tau_max = 0`` hold to the last bit.
    """
    torch.mul(m, eta, out=out)
    torch.sub(x, out, out=out)


def _checked(
    problem: Problem, T: Any, R: Any, eta: Any, tau_C: Any, tau: Any, device: Any,
    dtype: torch.dtype, seed: Any, first_replica: Any,
) -> tuple[int, int, float | torch.Tensor, int, float, torch.device, int, int]:  # fmt: skip
    """``T >= 2``, ``R``, ``eta``, ``1 <= tau_C <= n``, ``tau > 0``, the device, seed and
    first replica, checked in the order the event-driven methods have always checked them."""
    T, R = check_int("T", T, 2, numpy_ok=True), check_int("R", R, 1, numpy_ok=True)
    tau_C = check_int("tau_C", tau_C, 1, numpy_ok=True)
    if tau_C > problem.n:
        raise ParameterError(f"tau_C={tau_C} must satisfy 1 <= tau_C <= n = {problem.n}")
    tau = check_float("tau", tau)
    dev = resolve_device(problem, device)
    seed = check_int("seed", seed, 0, numpy_ok=True)
    first_replica = check_int("first_replica", first_replica, 0, numpy_ok=True)
    return T, R, _stepsize(eta, R, dev, dtype), tau_C, tau, dev, seed, first_replica


def _meta(name: str, source: str, params: dict[str, Any], seed: int, first_replica: int,
          dev: torch.device, dtype: torch.dtype, problem: Problem,
          **rest: Any) -> dict[str, Any]:  # fmt: skip
    """The meta every AsyncBC-paper trace starts with, followed by ``rest``."""
    return {"algorithm": name, "source": source, "params": params, "seed": seed,
            "first_replica": first_replica, "device": str(dev), "dtype": str(dtype),
            "dtype_note": "float64 is the default for the checks (Figure 1's relative errors reach "
            "1e-6 and below); float32 only where the report says so",
            "problem": problem.describe(), "f_star_used": f_star_meta(problem), **rest}  # fmt: skip


def _schedule(
    problem: Problem,
    schedule: Schedule | ScheduleBatch | None,
    T: int,
    steps: int,
    tau_C: int,
    tau: float,
    busy: str,
    R: int,
    seed: int,
    first_replica: int,
) -> ScheduleBatch:
    """The given schedule(s) (checked; ``steps`` of them are used) or AsyncBC Section 5's per-replica
    schedules for ``T`` steps."""
    if schedule is None:
        return asyncbc_schedules(n=problem.n, T=T, tau_C=tau_C, R=R, tau=tau, seed=seed,
                                 first_replica=first_replica, busy=busy)  # fmt: skip
    if isinstance(schedule, Schedule):
        batch = ScheduleBatch.pin(schedule, R)
    elif isinstance(schedule, ScheduleBatch):
        batch = schedule
    else:
        raise ParameterError(
            f"schedule must be an async_sim.Schedule (pinned), a ScheduleBatch or None, got "
            f"{schedule!r}"
        )
    if batch.n != problem.n or batch.K != 1 or batch.first_step != 1:
        raise ParameterError(
            f"schedule has n={batch.n}, K={batch.K}, first_step={batch.first_step}; "
            f"AsyncBC needs n={problem.n}, K=1, first_step=1 (steps t = 1, 2, ...)"
        )
    if batch.R != R:
        raise ParameterError(f"schedule batch has R={batch.R} replicas; this run has R={R}")
    if steps > batch.T:
        raise ParameterError(f"schedule has {batch.T} steps; this run needs {steps}")
    made_for = batch.params.get("tau_C")
    if made_for is not None and int(made_for) != tau_C:
        raise ParameterError(
            f"schedule was generated with tau_C={made_for} tasks in flight but this run has "
            f"tau_C={tau_C}: the initial reweighting 1/tau_C (line 3) needs the same tau_C"
        )
    rv = batch.read_version[:, :steps]
    initial = int((rv == 1).sum(axis=1).max())
    if initial > tau_C:
        raise ParameterError(
            f"schedule delivers {initial} initial tasks (read version 1) but tau_C={tau_C}: "
            "Algorithm 1 line 2 hands out exactly tau_C initial tasks"
        )
    late = rv > np.arange(1, steps + 1)
    if late.any():
        r, e = (int(i[0]) for i in np.nonzero(late))
        raise ParameterError(
            f"schedule delivers at step {e + 1} a task reading version {int(rv[r, e])} (replica "
            f"{r}); the task reading version v is handed out after step v - 1 (Algorithm 1 "
            "line 8), so it arrives at a step t >= v"
        )
    srt = np.sort(rv, axis=1)
    dup = (srt[:, 1:] == srt[:, :-1]) & (srt[:, 1:] >= 2)
    if dup.any():
        v = int(srt[:, 1:][dup].min())
        k = int(max((rv[r] == v).sum() for r in np.nonzero(dup.any(axis=1))[0]))
        raise ParameterError(
            f"schedule has {k} tasks reading version {v}; after each step the server "
            "hands out exactly one task (Algorithm 1 line 8), so each version >= 2 is read once"
        )
    return batch


@dataclass
class _Plan:
    """Where each task lives in the ``(R, tau_C, d)`` buffer of tasks in flight (torch, on device),
    as rows of the flattened ``(R tau_C, d)`` buffer (replica ``r``'s slot ``k`` is row ``r tau_C +
    k``), laid out one contiguous ``(R,)`` row per version or step.

    ``init_client[r, k]``: the client of the initial task in slot ``k`` (the ``k``-th initial task to
    arrive; slots of initial tasks that never arrive get client 0: their value is never used);
    ``hand_client[v, r]`` / ``hand_row[v, r]``: client and buffer row of the task reading version
    ``v`` (``v >= 2``), handed out after step ``v - 1`` into the slot freed at that step;
    ``arrive_row[t - 1, r]``: the buffer row of the message received at step ``t``; ``need[t - 1]``:
    the largest version any replica receives at step ``t``.
    """

    init_client: torch.Tensor
    hand_client: torch.Tensor
    hand_row: torch.Tensor
    arrive_row: torch.Tensor
    need: list[int]


def _plan(batch: ScheduleBatch, steps: int, tau_C: int, dev: torch.device) -> _Plan:
    R = batch.R
    rows = np.arange(R)
    rv = np.asarray(batch.read_version[:, :steps])
    cl = np.asarray(batch.client[:, :steps])
    # the initial tasks (read version 1), row by row in arrival order: the k-th of a replica has
    # slot k (at most tau_C of them, so these arrays are small)
    rr, ee = np.nonzero(rv == 1)
    rank1 = np.arange(rr.size) - np.searchsorted(rr, rows)[rr]
    init_client = np.zeros((R, tau_C), dtype=np.int64)
    init_client[rr, rank1] = cl[rr, ee]
    # hand_client[v, r]: one flat scatter (each version >= 2 is read once per replica, checked in
    # _schedule; the initial tasks land in row 1, which no evaluation reads)
    hand_client = np.zeros((steps + 2, R), dtype=np.int64)
    idx = rv * R
    idx += rows[:, None]
    hand_client.reshape(-1)[idx.reshape(-1)] = cl.reshape(-1)
    hand_client[1] = 0
    del idx
    arrive = _arrive_slots(rv, rr, ee, rank1, tau_C)  # (steps, R) flat buffer rows
    hand_row = np.empty((steps + 2, R), dtype=np.int64)
    hand_row[:2] = rows * tau_C
    hand_row[2:] = arrive  # the task handed out after step t takes the slot freed at step t
    as_t = lambda a: torch.as_tensor(a, device=dev, dtype=torch.long)  # noqa: E731
    need = rv.max(axis=0).tolist() if steps else []
    return _Plan(as_t(init_client), as_t(hand_client), as_t(hand_row), as_t(arrive), need)


def _arrive_slots(rv: np.ndarray, rr: np.ndarray, ee: np.ndarray, rank1: np.ndarray,
                  tau_C: int) -> np.ndarray:  # fmt: skip
    """``(steps, R)``: the flat buffer row (``r tau_C + slot``) of the message received at each step.

    The ``k``-th initial task to arrive (``rr, ee``: its replica and 0-based step; ``rank1``: ``k``)
    has slot ``k``; the task reading version ``v >= 2`` was handed out after step ``v - 1`` into the
    slot freed then, so the message received at step ``t`` (0-based column ``t - 1``) has the slot
    of column ``v - 2``: a forest whose roots are the initial tasks, resolved by pointer jumping over
    flat indices (``O(log T)`` vectorised passes, no loop over the steps; int32 and byte-sized
    arrays where they suffice: at R = 1024 fresh memory costs as much as the passes).
    """
    R, steps = rv.shape
    it = np.int32 if R * steps < 2**31 else np.int64
    parent = np.empty((R, steps), dtype=it)
    np.subtract(rv, 2, out=parent, casting="unsafe")  # v <= t (checked in _schedule): earlier
    parent += (np.arange(R) * steps).astype(it)[:, None]
    parent = parent.reshape(-1)
    roots = rr * steps + ee
    parent[roots] = roots
    up = np.empty_like(parent)
    while parent.size:
        np.take(parent, parent, out=up)
        if np.array_equal(up, parent):
            break
        parent, up = up, parent
    del up
    val = np.zeros(R * steps, dtype=np.min_scalar_type(tau_C))
    val[roots] = rank1
    slot = np.take(val, parent).reshape(R, steps).T  # (steps, R) view
    return np.add(slot, np.arange(R) * tau_C, dtype=np.int64)


def _in_flight_tau(batch: ScheduleBatch, steps: int, tau_C: int, last_version: int) -> np.ndarray:
    """Per replica, the staleness charged to the tasks still in flight after step ``steps``.

    The run hands out ``tau_C`` tasks reading version 1 and one task reading each version
    ``2..last_version``; those not received by step ``steps`` arrive at step ``steps + 1`` or later,
    so Assumption 3 needs ``tau_max >= steps + 1 - v`` for each of them. In the proofs (AsyncBC App.
    A) such a task of version ``v`` sits in the active sets ``C_v, ..., C_steps`` and is counted
    ``steps + 1 - v`` times in ``tau_i^{t-1}`` (Lemma 2) and in the term A. ``(R,)``, 0 if none.
    """
    R = batch.R
    rv = np.asarray(batch.read_version[:, :steps])
    got = np.zeros((R, last_version + 2), dtype=np.int64)
    np.add.at(got, (np.repeat(np.arange(R), rv.shape[1]), rv.reshape(-1)), 1)
    handed = np.zeros(last_version + 2, dtype=np.int64)
    handed[1] = tau_C
    handed[2 : last_version + 1] = 1
    missing = handed[None, :] > got
    first = np.argmax(missing, axis=1)
    return np.where(missing.any(axis=1), steps + 1 - first, 0)


def _sched_meta(batch: ScheduleBatch, steps: int, in_flight: np.ndarray) -> dict[str, Any]:
    st = batch.staleness[:, :steps]
    applied = st.max(axis=1) if steps else np.zeros(batch.R, dtype=np.int64)
    per = np.maximum(applied, in_flight)
    out = batch.summary(steps=steps)
    out.update(
        {
            "steps_used": steps,
            "tau_max_measured": int(applied.max()),
            "tau_max_in_flight": int(in_flight.max()),
            "tau_max_measured_per_replica": applied.astype(int).tolist(),
            "tau_max_in_flight_per_replica": in_flight.astype(int).tolist(),
            "tau_max_per_replica": per.astype(int).tolist(),
            "staleness_histogram_used": out["staleness_histogram"],
        }
    )
    if batch.R * steps <= 200_000:  # the event lists themselves, one row per replica
        out["staleness"] = st.tolist()
        out["clients"] = np.asarray(batch.client[:, :steps]).tolist()
        out["read_version"] = np.asarray(batch.read_version[:, :steps]).tolist()
    return out


def _tau_meta(sm: dict[str, Any]) -> dict[str, Any]:
    per = sm["tau_max_per_replica"]
    tau_max = max(per)
    return {
        "tau_max": tau_max,
        "tau_max_per_replica": per,
        "tau_max_theory": max(tau_max, 1),
        "tau_max_theory_note": _TAU0,
        "staleness_mean": sm["staleness_mean"],
        "concurrency_mean": sm.get("concurrency_mean"),
        "concurrency_max": sm.get("concurrency_max"),
        "shared_across_replicas": sm["shared_across_replicas"],
    }


# --- recording: iterates in a row buffer, full-objective quantities once per block ------------------
class _Rows:
    """Rows ``x_0..x_T`` (and ``m_0..m_{T-1}`` if ``with_m``) of all replicas: a ring of ``B`` rows, or
    every row with ``record_x``.

    ``grad_norm_sq``, ``f_gap`` (and ``m_norm_sq``) of rows ``0..T-1`` are computed per block of
    ``F`` rows with one call of the problem's ``grad`` / ``f`` on ``(F R, d)`` points, written in
    place into the series; divergence is read off the finished series once (:meth:`finish`).
    :meth:`views` gives every ring row as a prebuilt view (no tensor call per access in a loop).
    """

    #: elements of one recording block (``F R d``): blocks stay in the core's L2 cache (256 KiB in
    #: float64; 1 << 17 was 8-10% slower at R = 256, d = 100: 1 MiB temporaries)
    BLOCK = 1 << 15
    #: fewest rows in the ring (the lazy evaluation batches up to RING - 3 versions)
    RING = 16

    def __init__(self, problem: Problem, T: int, R: int, dev: torch.device, dtype: torch.dtype,
                 record_x: bool, scalars: Sequence[str], with_m: bool = False) -> None:  # fmt: skip
        self.problem, self.T, self.R, self.d = problem, T, R, problem.d
        fast = type(problem).grad is not Problem.grad  # a closed-form full gradient
        per_row = R * self.d * (1 if fast else problem.n)
        self.F = int(max(1, self.BLOCK // max(per_row, 1)))
        self.B = T + 1 if record_x else int(min(T + 1, max(self.RING, self.F)))
        self.X = torch.empty(self.B, R, self.d, device=dev, dtype=dtype)
        self.M = torch.empty(self.B, R, self.d, device=dev, dtype=dtype) if with_m else None
        self.X1 = self.X.view(1, self.B * R, self.d)  # rows j..j+m-1 = X1[:, jR:(j+m)R]
        self.S = {k: torch.zeros(T, R, device=dev, dtype=dtype) for k in scalars}
        self.fs, _ = f_star_used(problem)
        self.done = 0  # rows 0..done-1 recorded

    def x(self, j: int) -> torch.Tensor:
        return self.X[j % self.B]

    def m(self, j: int) -> torch.Tensor:
        return self.M[j % self.B]

    def views(self) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The ring's rows of ``x`` and ``m`` as lists of views."""
        return list(self.X.unbind(0)), list(self.M.unbind(0)) if self.M is not None else []

    def slots(self, js: Sequence[int]) -> list[int]:
        return [j % self.B for j in js]

    def wrote(self, j: int) -> None:
        """Row ``j`` is final: record the block when it is full (rows ``< T`` only)."""
        if (j + 1) % self.B == 0 or j == self.T - 1:
            self.flush(min(j + 1, self.T))

    def flush(self, upto: int) -> None:
        while self.done < upto:
            self._flush(min(upto, self.done + self.F))

    def _flush(self, upto: int) -> None:
        j0, j1 = self.done, upto
        b0 = j0 % self.B
        flat = self.X[b0 : b0 + (j1 - j0)].reshape(-1, self.d)
        g = self.problem.grad(flat)
        torch.linalg.vecdot(g, g, out=self.S["grad_norm_sq"][j0:j1].view(-1))
        fg = self.S["f_gap"][j0:j1].view(-1)
        f = self.problem.f(flat)  # f_gap (common.f_gap): f - f*, or f where f* is unknown
        torch.sub(f, self.fs, out=fg) if self.fs is not None else fg.copy_(f)
        if self.M is not None:
            ms = self.M[b0 : b0 + (j1 - j0)]
            torch.linalg.vecdot(ms, ms, out=self.S["m_norm_sq"][j0:j1])
        self.done = j1

    def finish(self, name: str, params: dict[str, Any], meta: dict[str, Any],
               extra: dict[str, torch.Tensor]) -> Trace:  # fmt: skip
        self.flush(self.T)
        x_final = self.x(self.T).clone()
        # diverged: the first row whose ||grad f(x_t)||^2, f(x_t) (or ||m_t||^2) is not finite
        bad = ~torch.isfinite(self.S["grad_norm_sq"] + self.S["f_gap"])
        if self.M is not None:
            bad |= ~torch.isfinite(self.S["m_norm_sq"])
        diverged_at = torch.where(
            bad.any(dim=0), bad.to(torch.int8).argmax(dim=0), new_divergence(self.R, bad.device)
        )
        update_divergence(diverged_at, self.T, x_final)
        meta["x_final"] = x_final
        series = {**self.S, **extra}
        return Trace(algorithm=name, params=params, series=series, diverged_at=diverged_at,
                     meta=meta)  # fmt: skip


def _bits(rows: int, R: int, dev: torch.device, dtype: torch.dtype, up0: float, up: float,
          down0: float, down: float, down1: float = 0.0) -> dict[str, torch.Tensor]:  # fmt: skip
    """Cumulative bits per row ``t``: ``up0 + t up`` and ``down0 + t down (+ down1 for t >= 1)``."""
    t = torch.arange(rows, device=dev, dtype=dtype)
    dn = down0 + t * down + (t >= 1).to(dtype) * down1
    return {"bits_up": (up0 + t * up).unsqueeze(1).expand(rows, R).clone(),
            "bits_down": dn.unsqueeze(1).expand(rows, R).clone()}  # fmt: skip


# --- the oracles ----------------------------------------------------------------------------
class _Diff:
    """Gradient differences of AsyncBC Algorithms 1-2 (line 3 and line 9) for a batch of tasks.

    ``draw(clients)`` draws the oracle randomness of tasks (``None`` when deterministic);
    ``__call__`` evaluates them. Drawing when a task is handed out and evaluating later (in one
    call for several tasks) gives the same numbers as evaluating at once.
    """

    def __init__(self, problem: Problem, stochastic: bool, sampling: Sampling, gen: Any) -> None:
        if sampling not in ("shared", "independent"):
            raise ParameterError(f"sampling must be 'shared' or 'independent', got {sampling!r}")
        self.calls = ClientCalls(problem)
        self.stochastic, self.sampling, self.gen = stochastic, sampling, gen

    def draw(self, clients: torch.Tensor) -> Any:
        if not self.stochastic:
            return None
        R, c = clients.shape[0], self.calls
        if self.sampling == "shared":  # Assumption 5 (or the problem's own, e.g. Theorem 3's)
            return c.sample(R, clients, self.gen)
        return (c.sample(R, clients, self.gen), c.sample(R, clients, self.gen))

    def __call__(
        self, clients: torch.Tensor, x_new: torch.Tensor, x_old: torch.Tensor, sample: Any
    ) -> torch.Tensor:
        """Clients ``(R, m)``, points ``(R, m, d)`` -> ``(R, m, d)``:
        ``grad f_k(x_new, xi) - grad f_k(x_old, xi')``, one oracle call for all replicas."""
        return self._difference(self.calls, clients, x_new, x_old, sample)

    def flat(self, clients: torch.Tensor, x_new: torch.Tensor, x_old: torch.Tensor,
             sample: Any) -> torch.Tensor:  # fmt: skip
        """As :meth:`__call__` on the flattened batch: clients ``(N,)``, points ``(1, N, d)``,
        samples ``(1, N, ...)`` (:func:`_version_major`) -> ``(1, N, d)``; the same per-row
        arithmetic (ClientCalls flattens ``(R, m)`` batches the same way), asked of the problem
        directly."""
        return self._difference(self.calls.problem, clients, x_new, x_old, sample)

    def _difference(self, o: Any, clients: torch.Tensor, x_new: torch.Tensor,
                    x_old: torch.Tensor, sample: Any) -> torch.Tensor:  # fmt: skip
        """The difference through ``o`` (:class:`ClientCalls` or the problem itself)."""
        if not self.stochastic or self.sampling == "shared":
            return o.grad_difference_i(x_new, x_old, sample, clients)
        s1, s2 = sample
        return o.stochastic_grad_i(x_new, s1, clients) - o.stochastic_grad_i(x_old, s2, clients)


def _version_major(samples: list[Any]) -> Any:
    """Samples of consecutive tasks, each ``(R, 1, ...)`` (``None``, or a tuple of them) -> one
    ``(1, m R, ...)`` batch in (version, replica) order (``None`` stays ``None``)."""
    s0 = samples[0]
    if s0 is None:
        return None
    if isinstance(s0, tuple):
        return tuple(_version_major([s[i] for s in samples]) for i in range(len(s0)))
    if len(samples) == 1 and not torch.is_tensor(s0):  # passed on as the problem made it
        return s0
    if not all(torch.is_tensor(s) and s.dim() >= 2 and s.shape[1] == 1 for s in samples):
        raise ParameterError(
            "the problem's sample() must return None or a tensor shaped (R, m, ...) for (R, m) "
            f"clients; got {type(s0).__name__} {getattr(s0, 'shape', '')}"
        )
    t = s0 if len(samples) == 1 else torch.cat(samples, dim=1)
    return t.transpose(0, 1).reshape(1, -1, *t.shape[2:])


class _Flight:
    """The ``(R, tau_C, d)`` buffer of tasks in flight, evaluated lazily.

    A task reading version ``v`` is handed out after step ``v - 1`` (its randomness is drawn then, in
    hand-out order); its value is computed only when some replica first receives a version ``>= v``,
    together with every other task handed out by then, in one oracle call (``evaluate(clients
    (m R,), v0, v1, sample)`` -> ``m R`` rows of ``d``: versions ``v0..v1`` in (version, replica)
    order, the order of the plan's rows, so clients and buffer rows are contiguous slices). The
    plan's ``need[t]`` (the largest version any replica receives at step ``t``) says when; the
    caller checks it before :meth:`message`. Rows of the versions not yet evaluated stay in the row ring
    (``limit``). A step gathers the received messages into one reused ``(R, d)`` buffer, or with one
    replica takes a view of the buffer's row.
    """

    def __init__(self, plan: _Plan, first: torch.Tensor, evaluate: Any, draw: Any,
                 last_version: int, limit: int, stochastic: bool) -> None:  # fmt: skip
        R, tau_C = first.shape[:2]
        self.R, self.tau_C = R, tau_C
        self.buf = first.reshape(R * tau_C, -1).contiguous()
        self.msg = torch.empty(R, self.buf.shape[1], dtype=first.dtype, device=first.device)
        self.evaluate, self.draw = evaluate, draw
        self.last, self.limit, self.stochastic = last_version, limit, stochastic
        self.done = 1  # versions evaluated (version 1: the initial tasks)
        self.handed = 1
        self.samples: list[Any] = []
        # per step / version, contiguous (R,) rows: flat buffer rows and clients
        self.arrive = plan.arrive_row  # (steps, R)
        self.hand_client = plan.hand_client  # (versions, R)
        self.hf, self.hc = plan.hand_row.view(-1), plan.hand_client.view(-1)  # flat, same order
        host = _host_arrays(self.buf) and self.hf.device.type == "cpu"
        self.bufn = self.buf.numpy() if host else None
        self.hfn = self.hf.numpy() if host else None
        self.need = plan.need
        # one replica: the received row is a view of the buffer (no gather call per step)
        self.rows1 = list(self.buf.unsqueeze(1).unbind(0)) if R == 1 else None
        self.arrive1 = plan.arrive_row[:, 0].tolist() if R == 1 else None

    def hand_out(self, v: int) -> None:
        """Version ``v``'s task is handed out (after step ``v - 1``): draw its randomness now."""
        if v > self.last:
            return
        self.handed = v
        if self.stochastic:
            self.samples.append(self.draw(self.hand_client[v].unsqueeze(1)))
        if v - self.done >= self.limit:
            self._evaluate()

    def _evaluate(self) -> None:
        v0, v1 = self.done + 1, self.handed
        if v1 < v0:
            return
        # versions v0..v1 of all replicas, in (version, replica) order: contiguous rows of the
        # plan, views of the ring's rows, no transposed copies
        sample = _version_major(self.samples) if self.stochastic else None
        a, m = v0 * self.R, (v1 - v0 + 1) * self.R
        g = self.evaluate(self.hc[a : a + m], v0, v1, sample)
        self.samples = []
        d = self.buf.shape[1]
        if self.bufn is not None and g.dtype == self.buf.dtype:  # half index_copy_'s time
            self.bufn[self.hfn[a : a + m]] = g.numpy().reshape(m, d)
        else:
            self.buf.index_copy_(0, self.hf[a : a + m], g.reshape(m, d))
        self.done = v1

    def message(self, t: int) -> torch.Tensor:
        """``(R, d)``: the messages received at step ``t`` (evaluated already)."""
        if self.rows1 is not None:
            return self.rows1[self.arrive1[t - 1]]
        return torch.index_select(self.buf, 0, self.arrive[t - 1], out=self.msg)


def _host_arrays(*ts: Any) -> bool:
    """Whether the server's arithmetic can run on NumPy views of these tensors (CPU, float32/64):
    the same IEEE operations as torch's elementwise kernels, at a fraction of the per-call cost."""
    return all(
        not torch.is_tensor(t) or (t.device.type == "cpu" and t.dtype in _HOST_DTYPES) for t in ts
    )


_HOST_DTYPES = (torch.float32, torch.float64)


def _server(rows: _Rows, fl: _Flight, eta: float | torch.Tensor) -> tuple[Any, ...]:
    """What a server step works on: the ring's rows of ``x`` and ``m`` (lists of views), the
    stepsize, the elementwise ``add``, ``mul``, ``sub`` (each taking ``out=``) and ``msg(t)``, the
    ``(R, d)`` messages received at step ``t`` (evaluated already). On CPU in float32/float64 these
    are NumPy views of the same memory and NumPy's ufuncs (elementwise ``+``, ``*``, ``-`` round as
    torch's do; a NumPy call costs a fraction of a torch call, which dominates at small ``R d``);
    elsewhere torch's."""
    if not _host_arrays(rows.X, eta):
        xs, ms = rows.views()
        return xs, ms, eta, (torch.add, torch.mul, torch.sub), fl.message
    xs = list(rows.X.numpy())
    ms = list(rows.M.numpy()) if rows.M is not None else []
    e = eta if isinstance(eta, float) else eta.numpy()
    if rows.R == 1:  # the received row is a view of the buffer: no call at all
        views = list(fl.buf.numpy().reshape(fl.tau_C, 1, -1))
        msgs = [views[k] for k in fl.arrive1]
        msg = lambda t: msgs[t - 1]  # noqa: E731
    else:
        buf, out, out_np, arrive = fl.buf, fl.msg, fl.msg.numpy(), fl.arrive

        def msg(t: int) -> np.ndarray:
            torch.index_select(buf, 0, arrive[t - 1], out=out)
            return out_np

    return xs, ms, e, (np.add, np.multiply, np.subtract), msg


def _bc_steps(
    rows: _Rows, fl: _Flight, eta: float | torch.Tensor, T: int, stochastic: bool
) -> None:
    """AsyncBC Algorithm 1/2 lines 5-9 for ``t = 1..T-1``, all replicas at once.

    Per step: the received messages (a view of the buffer with one replica, else one gather),
    ``m_t = m_{t-1} + g`` (lines 5-6) and ``x_{t+1} = x_t - eta m_t`` (line 7, rounded as
    :func:`_descend`: ``eta m_t`` first, then the difference) into the ring's rows, the recording
    block when row ``t`` completes it, and the hand-out of version ``t + 1`` (lines 8-9; evaluated
    lazily by ``fl``), with the operations of :func:`_server`.
    """
    B, wrote = rows.B, rows.wrote
    need, last, limit, evaluate, hand_out = fl.need, fl.last, fl.limit, fl._evaluate, fl.hand_out
    xs, ms, e, (add, mul, sub), msg = _server(rows, fl, eta)
    with np.errstate(all="ignore"):  # a diverging replica overflows quietly, as in torch
        for t in range(1, T):
            if need[t - 1] > fl.done:
                evaluate()
            m = ms[t % B]
            add(ms[(t - 1) % B], msg(t), out=m)  # lines 5-6
            wrote(t)  # row t is final: record it before x_{t+1} may take its ring slot
            x1 = xs[(t + 1) % B]
            mul(m, e, out=x1)  # line 7: x_{t+1} = x_t - eta m_t
            sub(xs[t % B], x1, out=x1)
            # lines 8-9: the next task reads (x_{t+1}, x_t) (SGD: its noise is drawn now)
            if stochastic:
                hand_out(t + 1)
            elif t < last:
                fl.handed = t + 1
                if t + 1 - fl.done >= limit:
                    evaluate()


def _gather_rows(rows: _Rows, j0: int, m: int) -> torch.Tensor:
    """Rows ``j0..j0+m-1`` of the ring as ``(1, m R, d)`` in (row, replica) order: a view where they
    do not wrap around the ring (no copy), else one gather."""
    b0, X = j0 % rows.B, rows.X
    if b0 + m <= rows.B:
        return rows.X1.narrow(1, b0 * rows.R, m * rows.R)
    idx = torch.as_tensor(rows.slots(range(j0, j0 + m)), device=X.device, dtype=torch.long)
    return X.index_select(0, idx).view(1, -1, rows.d)


# --- AsyncBC ---------------------------------------------------------------------------------
def _asyncbc(
    problem: Problem,
    *,
    stochastic: bool,
    T: int,
    R: int,
    seed: int,
    first_replica: int,
    eta: float | torch.Tensor,
    tau_C: int,
    tau: float,
    busy: str,
    schedule: Schedule | ScheduleBatch | None,
    sampling: Sampling,
    x0: Any,
    device: Any,
    dtype: torch.dtype,
    record_x: bool,
    name: str,
) -> Trace:
    T, R, eta, tau_C, tau, dev, seed, first_replica = _checked(
        problem, T, R, eta, tau_C, tau, device, dtype, seed, first_replica
    )
    d, n = problem.d, problem.n
    steps = T - 1  # server steps t = 1..T-1 produce x_2..x_T; rows hold x_0..x_{T-1}
    batch = _schedule(problem, schedule, T, steps, tau_C, tau, busy, R, seed, first_replica)
    plan = _plan(batch, steps, tau_C, dev)
    streams = Streams(seed, dev, R=R, first_replica=first_replica)
    noise = streams.replica("noise") if stochastic else None  # GD draws nothing: no R generators
    diff = _Diff(problem, stochastic, sampling, noise)
    rows = _Rows(problem, T, R, dev, dtype, record_x, ("grad_norm_sq", "f_gap", "m_norm_sq"),
                 with_m=True)  # fmt: skip

    def evaluate(cl: torch.Tensor, v0: int, v1: int, sample: Any) -> torch.Tensor:
        # lines 8-9: the task reading version v computes grad f_k(x_v) - grad f_k(x_{v-1})
        m = v1 - v0 + 1
        return diff.flat(cl, _gather_rows(rows, v0, m), _gather_rows(rows, v0 - 1, m), sample)

    # line 1: m_0 = grad f(x_0) (exact, footnote 3), x_1 = x_0 - eta m_0
    rows.x(0).copy_(initial_point(x0, R, d, dev, dtype))
    rows.m(0).copy_(problem.grad(rows.x(0)))
    _descend(rows.x(0), eta, rows.m(0), rows.x(1))
    # lines 2-3: tau_C initial tasks get (x_1, x_0); the difference is divided by tau_C
    ic = plan.init_client
    x1 = rows.x(1).unsqueeze(1).expand(R, tau_C, d)
    x0_ = rows.x(0).unsqueeze(1).expand(R, tau_C, d)
    first = diff(ic, x1, x0_, diff.draw(ic)).div_(tau_C)
    flight = _Flight(plan, first, evaluate, diff.draw, last_version=steps,
                     limit=max(1, rows.B - 3), stochastic=stochastic)  # fmt: skip
    rows.wrote(0)
    _bc_steps(rows, flight, eta, T, stochastic)
    params = {"T": T, "R": R, "eta": _eta_param(eta), "tau_C": tau_C, "tau": tau, "busy": busy,
              "sampling": sampling if stochastic else None,
              "first_replica": first_replica}  # fmt: skip
    # lines 8-9 run after every step t = 1..steps: versions 2..steps+1 are handed out
    in_flight = _in_flight_tau(batch, steps, tau_C, last_version=steps + 1)
    sm = _sched_meta(batch, steps, in_flight)
    full = float(_FULL.bits(d))
    meta = _meta(
        name,
        "AsyncBC Algorithm 2" if stochastic else "AsyncBC Algorithm 1",
        params, seed, first_replica, dev, dtype, problem,
        schedule=sm, schedule_batch=batch, **_tau_meta(sm),
        grad_norm_sq="row t: ||grad f(x_t)||^2, t = 0..T-1 (lhs of Theorems 1-2: mean over rows)",
        m_norm_sq="row t: ||m_t||^2 with x_{t+1} = x_t - eta m_t (the proofs' sums of ||m_i||^2)",
        bits="cumulative; row 0 counts m_0 = grad f(x_0) (n uploads, n downloads of x_0); each "
        "step one upload and two downloaded vectors (x_{t+1}, x_t); 32 bits per entry",
    )  # fmt: skip
    extra = _bits(T, R, dev, dtype, n * full, full, n * full, 2 * full, (tau_C - 1) * 2 * full)
    if record_x:
        extra["x"] = rows.X[:T]
        extra["m"] = rows.M[:T]
    return rows.finish(name, params, meta, extra)


def asyncbc_gd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    first_replica: int = 0,
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | ScheduleBatch | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """AsyncBC-GD, AsyncBC Algorithm 1 (exact local gradients).

    Line 1: ``m_0 = grad f(x_0)``, ``x_1 = x_0 - eta m_0``. Lines 2-3: ``tau_C`` distinct clients
    receive ``(x_1, x_0)`` and compute ``g_1^k = 1/tau_C (grad f_k(x_1) - grad f_k(x_0))``. Lines 5-9,
    ``t = 1, ..., T-1``: receive ``g_{t-tau_t}^{j_t}``, ``m_t = m_{t-1} + g``, ``x_{t+1} = x_t - eta
    m_t``, hand ``(x_{t+1}, x_t)`` to a client ``k_{t+1}`` u.a.r. which computes ``grad f_k(x_{t+1})
    - grad f_k(x_t)``.

    ``eta`` is one stepsize, or a ``(R,)`` tensor giving each replica its own (a stepsize grid
    searched in one batch, as Section 5's grid search). ``T`` is the number of iterates recorded
    (rows ``x_0..x_{T-1}``, the theorems' average); ``T - 1`` server steps are taken (``x_T`` is in
    ``meta['x_final']``). Without ``schedule`` each replica's order comes from
    :func:`~boundcheck.algorithms.async_sim.asyncbc_schedules` (``tau``, ``busy``, replica ``r``'s
    ``sampling`` stream of ``seed``, replicas ``first_replica..first_replica+R-1``) generated for ``T``
    steps, so that :func:`async_gd` with the same arguments follows the same event orders; a
    ``Schedule`` is pinned across replicas, a ``ScheduleBatch`` gives one per replica. Trace:
    ``grad_norm_sq``, ``f_gap``, ``m_norm_sq``, cumulative ``bits_up``/``bits_down``; with
    ``record_x`` also ``x`` and ``m`` (T, R, d). ``meta['tau_max']`` is measured over the applied
    updates and the tasks still in flight at the end (batch maximum; per replica in
    ``meta['tau_max_per_replica']``); ``meta['tau_max_theory']`` is the value for the theorems.

    Example: ``asyncbc_gd(problem, T=2000, R=4, seed=0, eta=1e-2, tau_C=4)``.
    """
    return _asyncbc(problem, stochastic=False, T=T, R=R, seed=seed, first_replica=first_replica,
                    eta=eta, tau_C=tau_C, tau=tau, busy=busy, schedule=schedule, sampling="shared",
                    x0=x0, device=device, dtype=dtype, record_x=record_x,
                    name="asyncbc_gd")  # fmt: skip


def asyncbc_sgd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    first_replica: int = 0,
    sampling: Sampling = "shared",
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | ScheduleBatch | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """AsyncBC-SGD, AsyncBC Algorithm 2 (stochastic gradient differences).

    As :func:`asyncbc_gd` with the stochastic oracle ``grad f_k(x, xi)``, each replica's noise from
    its own ``noise`` stream. ``sampling="shared"`` (default, Assumption 5 and footnote a): one
    sample per task, ``problem.grad_difference_i(x_{t+1}, x_t, xi_{t+1})``; a problem built with the
    independent-noise oracle of Theorem 3 answers this with ``grad f_k(x_{t+1}) - grad f_k(x_t) +
    xi_t``. ``sampling="independent"``: Algorithm 2 read literally with two independent samples
    ``xi_{t+1}, xi'_{t+1}``. ``m_0 = grad f(x_0)`` is exact (line 1). The initial differences (line
    3), noise included, are divided by ``tau_C``.
    """
    return _asyncbc(problem, stochastic=True, T=T, R=R, seed=seed, first_replica=first_replica,
                    eta=eta, tau_C=tau_C, tau=tau, busy=busy, schedule=schedule, sampling=sampling,
                    x0=x0, device=device, dtype=dtype, record_x=record_x,
                    name="asyncbc_sgd")  # fmt: skip


# --- SARAH ------------------------------------------------------------------------------------
def sarah(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    first_replica: int = 0,
    stochastic: bool = False,
    sampling: Sampling = "shared",
    clients: Sequence[int] | np.ndarray | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """Single-loop SARAH (Nguyen et al., 2017) as AsyncBC Section 4.2 describes it (``tau_C = 1``).

    ``m_0 = grad f(x_0)``, ``x_1 = x_0 - eta m_0``; for ``t = 1..T-1``: draw ``i_t`` u.a.r. from
    ``[n]`` (per replica, from its own ``sampling`` stream), or take ``clients[t-1]`` (shape
    ``(T-1,)`` shared by the replicas, or ``(R, T-1)`` one row per replica), ``m_t = m_{t-1} + grad
    f_{i_t}(x_t, xi_t) - grad f_{i_t}(x_{t-1}, xi_t')``, ``x_{t+1} = x_t - eta m_t``. With
    ``stochastic=False`` the gradients are exact; otherwise as in :func:`asyncbc_sgd`
    (``sampling="shared"``: ``problem.grad_difference_i``, which is Theorem 3's oracle ``grad
    f_i(x_t) - grad f_i(x_{t-1}) + xi_t`` on a problem with the independent-noise oracle). Written
    without the event machinery (no schedule, no buffer of tasks in flight), so that "AsyncBC with
    ``tau_C = 1`` is SARAH" is a test between two implementations. Trace as :func:`asyncbc_gd`.
    """
    T, R = check_int("T", T, 2, numpy_ok=True), check_int("R", R, 1, numpy_ok=True)
    seed = check_int("seed", seed, 0, numpy_ok=True)
    first_replica = check_int("first_replica", first_replica, 0, numpy_ok=True)
    dev = resolve_device(problem, device)
    eta = _stepsize(eta, R, dev, dtype)
    d, n = problem.d, problem.n
    if clients is None:
        reps = range(first_replica, first_replica + R)
        cl_np = np.stack(
            [g.integers(n, size=T - 1) for g in numpy_generators(seed, "sampling", reps)]
        )
    else:
        cl_np = np.asarray(clients, dtype=np.int64)
        if cl_np.ndim == 1:
            cl_np = np.broadcast_to(cl_np, (R, cl_np.size))
        ok = cl_np.ndim == 2 and cl_np.shape[0] == R and cl_np.shape[1] >= T - 1
        if not ok or (cl_np[:, : T - 1] < 0).any() or (cl_np[:, : T - 1] >= n).any():
            raise ParameterError(
                f"clients must hold at least T-1={T - 1} ids in [0, {n}) (shape (T-1,) or "
                f"({R}, T-1)), got {np.asarray(clients).tolist()[:10]}..."
            )
        cl_np = cl_np[:, : T - 1]
    cl = torch.as_tensor(np.array(cl_np), device=dev, dtype=torch.long)
    streams = Streams(seed, dev, R=R, first_replica=first_replica)
    diff = _Diff(problem, stochastic, sampling, streams.replica("noise"))
    rows = _Rows(problem, T, R, dev, dtype, record_x, ("grad_norm_sq", "f_gap", "m_norm_sq"),
                 with_m=True)  # fmt: skip
    rows.x(0).copy_(initial_point(x0, R, d, dev, dtype))
    rows.m(0).copy_(problem.grad(rows.x(0)))
    _descend(rows.x(0), eta, rows.m(0), rows.x(1))
    rows.wrote(0)
    for t in range(1, T):
        c = cl[:, t - 1 : t]
        g = diff(c, rows.x(t).unsqueeze(1), rows.x(t - 1).unsqueeze(1), diff.draw(c))
        m = torch.add(rows.m(t - 1), g[:, 0], out=rows.m(t))
        rows.wrote(t)  # row t is final; record it before x_{t+1} may take its ring slot
        _descend(rows.x(t), eta, m, rows.x(t + 1))
    params = {"T": T, "R": R, "eta": _eta_param(eta), "stochastic": stochastic,
              "sampling": sampling, "first_replica": first_replica}  # fmt: skip
    shared = bool((cl_np == cl_np[:1]).all())
    meta = _meta("sarah", "AsyncBC Section 4.2 (Nguyen et al., 2017)", params, seed, first_replica,
                 dev, dtype, problem, clients=np.asarray(cl_np).tolist(),
                 shared_across_replicas=shared or R == 1, tau_max=0, tau_max_theory=1,
                 tau_max_theory_note=_TAU0)  # fmt: skip
    full = float(_FULL.bits(d))
    extra = _bits(T, R, dev, dtype, n * full, full, n * full, 2 * full)
    if record_x:
        extra["x"] = rows.X[:T]
        extra["m"] = rows.M[:T]
    return rows.finish("sarah", params, meta, extra)


# --- the baseline without bias correction ---------------------------------------------------
def _async_plain(
    problem: Problem,
    *,
    stochastic: bool,
    T: int,
    R: int,
    seed: int,
    first_replica: int,
    eta: float | torch.Tensor,
    tau_C: int,
    tau: float,
    busy: str,
    schedule: Schedule | ScheduleBatch | None,
    x0: Any,
    device: Any,
    dtype: torch.dtype,
    record_x: bool,
    name: str,
) -> Trace:
    T, R, eta, tau_C, tau, dev, seed, first_replica = _checked(
        problem, T, R, eta, tau_C, tau, device, dtype, seed, first_replica
    )
    d = problem.d
    steps = T  # steps t = 1..T produce x_1..x_T; rows hold x_0..x_{T-1}
    batch = _schedule(problem, schedule, T, steps, tau_C, tau, busy, R, seed, first_replica)
    plan = _plan(batch, steps, tau_C, dev)
    streams = Streams(seed, dev, R=R, first_replica=first_replica)
    gen = streams.replica("noise") if stochastic else None
    calls = ClientCalls(problem)
    rows = _Rows(problem, T, R, dev, dtype, record_x, ("grad_norm_sq", "f_gap"))

    def draw(c: torch.Tensor) -> Any:
        return calls.sample(R, c, gen) if stochastic else None

    def evaluate(cl: torch.Tensor, v0: int, v1: int, sample: Any) -> torch.Tensor:
        # the task reading version v computes at x_{v-1}; flattened (version, replica) rows
        xs = _gather_rows(rows, v0 - 1, v1 - v0 + 1)
        return problem.stochastic_grad_i(xs, sample, cl) if stochastic else problem.grad_i(xs, cl)

    rows.x(0).copy_(initial_point(x0, R, d, dev, dtype))
    ic = plan.init_client
    x0_ = rows.x(0).unsqueeze(1).expand(R, tau_C, d)
    first = calls.stochastic_grad_i(x0_, draw(ic), ic) if stochastic else calls.grad_i(x0_, ic)
    flight = _Flight(plan, first, evaluate, draw, last_version=steps, limit=max(1, rows.B - 3),
                     stochastic=stochastic)  # fmt: skip
    B, wrote, need, hand_out = rows.B, rows.wrote, flight.need, flight.hand_out
    xs, _, e, (_, mul, sub), msg = _server(rows, flight, eta)
    with np.errstate(all="ignore"):  # a diverging replica overflows quietly, as in torch
        for t in range(1, T + 1):
            if need[t - 1] > flight.done:
                flight._evaluate()
            g = msg(t)  # grad f_{j_t}(x_{t-1-tau_t})
            wrote(t - 1)  # row t-1 is final: record it before x_t may take its ring slot
            x1 = xs[t % B]
            mul(g, e, out=x1)  # x_t = x_{t-1} - eta g, rounded as _descend
            sub(xs[(t - 1) % B], x1, out=x1)
            hand_out(t + 1)  # a new client u.a.r. computes at x_t
    params = {"T": T, "R": R, "eta": _eta_param(eta), "tau_C": tau_C, "tau": tau, "busy": busy,
              "first_replica": first_replica}  # fmt: skip
    # a task is handed out after steps t = 1..steps-1 only: versions 2..steps
    in_flight = _in_flight_tau(batch, steps, tau_C, last_version=steps)
    sm = _sched_meta(batch, steps, in_flight)
    full = float(_FULL.bits(d))
    meta = _meta(
        name,
        "AsyncBC Table 1 / Section 5 baseline (Koloskova et al., 2022)",
        params, seed, first_replica, dev, dtype, problem,
        schedule=sm, schedule_batch=batch, **_tau_meta(sm),
        grad_norm_sq="row t: ||grad f(x_t)||^2, t = 0..T-1",
        bits="cumulative bits before step t+1; tau_C initial downloads of x_0 at row 0; one "
        "upload and one download per step; 32 bits per entry",
    )  # fmt: skip
    extra = _bits(T, R, dev, dtype, 0.0, full, tau_C * full, full)
    if record_x:
        extra["x"] = rows.X[:T]
    return rows.finish(name, params, meta, extra)


def async_gd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    first_replica: int = 0,
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | ScheduleBatch | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """Async-GD without bias correction (AsyncBC Table 1 and Figure 1's baseline; Koloskova et al. 2022).

    ``tau_C`` clients start at ``x_0``; at step ``t = 1..T`` the server receives ``grad f_{j_t}
    (x_{t-1-tau_t})``, sets ``x_t = x_{t-1} - eta g`` and hands ``x_t`` to a client drawn u.a.r. On the
    same schedules as :func:`asyncbc_gd` (a task reading version ``v`` computes at ``x_{v-1}`` here and
    at ``(x_v, x_{v-1})`` there; the staleness ``t - v`` is the same). Rows ``x_0..x_{T-1}``.
    Replicas, schedules and ``first_replica`` as in :func:`asyncbc_gd`.
    """
    return _async_plain(problem, stochastic=False, T=T, R=R, seed=seed,
                        first_replica=first_replica, eta=eta, tau_C=tau_C, tau=tau, busy=busy,
                        schedule=schedule, x0=x0, device=device, dtype=dtype, record_x=record_x,
                        name="async_gd")  # fmt: skip


def async_sgd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    first_replica: int = 0,
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | ScheduleBatch | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """Async-SGD: :func:`async_gd` with the stochastic oracle ``grad f_j(x, xi)`` (AsyncBC Figure 2),
    each replica's noise from its own ``noise`` stream."""
    return _async_plain(problem, stochastic=True, T=T, R=R, seed=seed,
                        first_replica=first_replica, eta=eta, tau_C=tau_C, tau=tau, busy=busy,
                        schedule=schedule, x0=x0, device=device, dtype=dtype, record_x=record_x,
                        name="async_sgd")  # fmt: skip
