"""Deterministic, seedable event schedules for the asynchronous methods (issue 5).

A :class:`Schedule` lists the client updates a server applies, in arrival order. For each update
``e`` it records the client, the **server version it read** (``read_version[e]``: the index ``v`` of
the model ``x^v`` / hidden state ``hat x^v`` the client started from) and the **server step at which it
is applied** (``applied_step[e]``: the update enters the step ``x^t -> x^{t+1}`` with ``t =
applied_step[e]``). Its staleness is

    tau[e] = applied_step[e] - read_version[e]  >= 0,

exactly QAFeL Assumption 3.4 ("the difference in model versions between when Client n begins local
training and when its updates are applied to the global model") and AsyncBC Assumption 3 (an output
received at step ``t`` was computed at state ``t - tau_t``). ``tau_max`` is the maximum over the
applied updates; it is *measured*, and handed to the bounds.

Two generators and one manual constructor:

* :func:`fedbuff_schedule` -- QAFeL Appendix D / FedBuff (Nguyen et al., 2022, App. C): clients start
  at a constant rate (one start every ``1/rate`` time units), each trains for a half-normal duration
  ``|X|``, ``X ~ N(0, sigma^2)``; the server applies a step each time its buffer holds ``K`` arrivals.
  **Concurrency** is the number of clients training at the same time; by Little's law its mean is
  ``rate * E|X| = rate * sigma * sqrt(2/pi)`` (QAFeL App. D: rates 125, 627, 1253 for concurrencies
  100, 500, 1000 with sigma = 1); passing ``concurrency`` sets ``rate = concurrency / (sigma *
  sqrt(2/pi))``. The measured time-averaged and maximal concurrency are in the summary.
* :func:`asyncbc_schedule` -- AsyncBC Section 5 / Algorithms 1-2: worker ``i`` (1-based) needs ``i *
  tau / n`` time units per task; ``tau_C`` tasks are in flight at all times (Definition 1); at the
  start ``tau_C`` distinct workers are chosen u.a.r. and read version 1 (Alg. 1 lines 2-3); each server
  step ``t = 1, 2, ...`` receives the earliest finished task (line 5) and hands a new task, reading
  version ``t + 1``, to a worker chosen u.a.r. from ``[n]`` (lines 8-9). With ``tau_C = 1`` every
  staleness is 0 (the synchronous method / SARAH).
* :meth:`Schedule.from_events` and :meth:`Schedule.synchronous` -- a schedule given by hand.

Randomness comes from one NumPy generator (``Streams(seed).numpy("delays")`` in the algorithms), so the
same seed gives the same schedule on every device. All replicas of a batched run share one schedule
(the theorems hold for every delay pattern within ``tau_max``; their expectations are over data,
oracle and quantizer noise, which stay independent across replicas); run several batches with
different schedule seeds to average over schedules.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from boundcheck.algorithms.common import check_float, check_int
from boundcheck.errors import ParameterError

__all__ = ["Schedule", "asyncbc_schedule", "fedbuff_schedule"]


def _rng(seed: int | np.random.Generator) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(check_int("seed", seed, 0, numpy_ok=True))


@dataclass
class Schedule:
    """The applied client updates of an asynchronous run, in arrival order (see module docstring).

    Arrays have one entry per applied update. ``steps`` are ``first_step, ..., first_step + T - 1``
    and each holds exactly ``K`` updates. ``start_time`` / ``arrival_time`` are present for simulated
    schedules and ``None`` for hand-made ones. ``staleness_k1`` (optional) is the staleness the same
    timeline would give with buffer size 1 (QAFeL Assumption 3.4's tau_{max,1}).
    """

    kind: str
    n: int
    K: int
    T: int
    client: np.ndarray
    read_version: np.ndarray
    applied_step: np.ndarray
    first_step: int = 0
    start_time: np.ndarray | None = None
    arrival_time: np.ndarray | None = None
    staleness_k1: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    concurrency_mean: float | None = None
    concurrency_max: int | None = None

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def from_events(
        cls,
        *,
        n: int,
        K: int,
        clients: Any,
        read_versions: Any,
        applied_steps: Any,
        first_step: int = 0,
        kind: str = "manual",
    ) -> Schedule:
        """A schedule given by hand: one (client, read version, applied step) triple per update.

        Refuses (``ParameterError``) client ids outside ``[0, n)``, steps that are not
        ``first_step, first_step+1, ...`` each with exactly ``K`` updates in nondecreasing order,
        and read versions that are negative, below ``first_step`` or after the applied step.
        """
        n = check_int("n", n, 1, numpy_ok=True)
        K = check_int("K", K, 1, numpy_ok=True)
        first_step = check_int("first_step", first_step, 0, numpy_ok=True)
        c = np.asarray(clients, dtype=np.int64).reshape(-1)
        v = np.asarray(read_versions, dtype=np.int64).reshape(-1)
        s = np.asarray(applied_steps, dtype=np.int64).reshape(-1)
        if not (len(c) == len(v) == len(s)) or len(c) == 0:
            raise ParameterError(
                f"clients, read_versions, applied_steps have lengths {len(c)}, {len(v)}, {len(s)}: "
                "expected the same nonzero length"
            )
        if c.min() < 0 or c.max() >= n:
            bad = c[(c < 0) | (c >= n)][0]
            raise ParameterError(f"client id {bad} is not allowed: expected 0 <= id < n = {n}")
        if len(c) % K:
            raise ParameterError(
                f"{len(c)} updates is not allowed: expected a multiple of the buffer size K = {K}"
            )
        T = len(c) // K
        expected = first_step + np.repeat(np.arange(T), K)
        if not np.array_equal(s, expected):
            i = int(np.nonzero(s != expected)[0][0])
            raise ParameterError(
                f"applied step {s[i]} of update {i} is not allowed: expected {expected[i]} "
                f"(steps {first_step}, {first_step + 1}, ... in order, each with K = {K} updates)"
            )
        if (v < first_step).any() or (v > s).any():
            i = int(np.nonzero((v < first_step) | (v > s))[0][0])
            raise ParameterError(
                f"read version {v[i]} of update {i} is not allowed: expected "
                f"{first_step} <= version <= applied step {s[i]}"
            )
        return cls(kind=kind, n=n, K=K, T=T, client=c, read_version=v, applied_step=s,
                   first_step=first_step)  # fmt: skip

    @classmethod
    def synchronous(cls, *, n: int, T: int, first_step: int = 0) -> Schedule:
        """All ``n`` clients read version ``t`` and are applied at step ``t`` (``K = n``, staleness 0).

        With this schedule FedBuff is synchronous FedAvg with full participation.
        """
        n = check_int("n", n, 1, numpy_ok=True)
        T = check_int("T", T, 1, numpy_ok=True)
        steps = first_step + np.repeat(np.arange(T), n)
        return cls.from_events(
            n=n,
            K=n,
            clients=np.tile(np.arange(n), T),
            read_versions=steps,
            applied_steps=steps,
            first_step=first_step,
            kind="synchronous",
        )

    # --- measured quantities --------------------------------------------------------------------
    @property
    def staleness(self) -> np.ndarray:
        """``applied_step - read_version`` per applied update (QAFeL Assumption 3.4)."""
        return self.applied_step - self.read_version

    @property
    def tau_max(self) -> int:
        """Measured maximal staleness, tau_{max,K} for this schedule's buffer size K."""
        return int(self.staleness.max())

    @property
    def tau_max_1(self) -> int | None:
        """Measured maximal staleness of the same timeline with buffer size 1, if known."""
        return None if self.staleness_k1 is None else int(self.staleness_k1.max())

    @property
    def num_events(self) -> int:
        return len(self.client)

    def staleness_histogram(self) -> list[int]:
        """``h[s]`` = number of applied updates with staleness ``s``."""
        return np.bincount(self.staleness).tolist()

    def step_indices(self, t: int) -> np.ndarray:
        """Indices (arrival order) of the updates applied at server step ``t``."""
        i0 = (t - self.first_step) * self.K
        return np.arange(i0, i0 + self.K)

    def read_at(self) -> dict[int, np.ndarray]:
        """Map version ``v`` -> indices of the updates that read version ``v`` (ascending)."""
        order = np.argsort(self.read_version, kind="stable")
        versions, starts = np.unique(self.read_version[order], return_index=True)
        groups = np.split(order, starts[1:])
        return {int(v): g for v, g in zip(versions, groups, strict=True)}

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly summary for ``Trace.meta['schedule']``."""
        out: dict[str, Any] = {
            "kind": self.kind,
            "n": self.n,
            "K": self.K,
            "T": self.T,
            "first_step": self.first_step,
            "num_updates": self.num_events,
            "tau_max": self.tau_max,
            "tau_max_K": self.tau_max,
            "tau_max_1": self.tau_max_1,
            "staleness_mean": float(self.staleness.mean()),
            "staleness_histogram": self.staleness_histogram(),
            "shared_across_replicas": True,
            "params": dict(self.params),
        }
        if self.concurrency_mean is not None:
            out["concurrency_mean"] = self.concurrency_mean
            out["concurrency_max"] = self.concurrency_max
        return out


def _concurrency(start: np.ndarray, end: np.ndarray, t_end: float) -> tuple[float, int]:
    """Time-averaged and maximal number of tasks in flight over ``[start.min(), t_end]``."""
    t0 = float(start.min())
    if t_end <= t0:
        return 0.0, 0
    s = np.minimum(start, t_end)
    e = np.minimum(end, t_end)
    mean = float(np.sum(np.maximum(e - s, 0.0)) / (t_end - t0))
    times = np.concatenate([start, end])
    delta = np.concatenate([np.ones_like(start), -np.ones_like(end)])
    order = np.lexsort((delta, times))  # at equal times, process ends (-1) before starts (+1)
    return mean, int(np.cumsum(delta[order]).max())


def fedbuff_schedule(
    *,
    n: int,
    T: int,
    K: int,
    concurrency: float | None = None,
    rate: float | None = None,
    sigma: float = 1.0,
    seed: int | np.random.Generator = 0,
) -> Schedule:
    """QAFeL Appendix D timing model (FedBuff's): constant arrival rate, half-normal durations.

    Client starts are slotted at times ``j / rate`` (j = 0, 1, ...); the client is drawn u.a.r. among
    the clients not training at that time (QAFeL Alg. 1 line 3, "sample available clients"); if all
    ``n`` are busy the start waits until the first one finishes. It reads the current version
    ``floor(A / K)``, ``A`` = arrivals strictly before its start, trains for ``|X|, X ~ N(0, sigma^2)``
    time units, and its arrival with index ``a`` (0-based, in time order) is applied at step
    ``floor(a / K)`` (Alg. 1 lines 5-15). The schedule covers the first ``T * K`` arrivals.
    Give exactly one of ``concurrency`` (mean number training at once) or ``rate`` (starts per unit
    time): ``rate = concurrency / (sigma * sqrt(2/pi))``.
    """
    n = check_int("n", n, 1, numpy_ok=True)
    T = check_int("T", T, 1, numpy_ok=True)
    K = check_int("K", K, 1, numpy_ok=True)
    sigma = check_float("sigma", sigma)
    if (concurrency is None) == (rate is None):
        raise ParameterError(
            f"concurrency={concurrency!r}, rate={rate!r} is not allowed: give exactly one of them"
        )
    if rate is None:
        concurrency = check_float("concurrency", concurrency)
        rate = concurrency / (sigma * math.sqrt(2.0 / math.pi))
    rate = check_float("rate", rate)
    rng = _rng(seed)

    need = T * K
    busy: list[tuple[float, int]] = []  # heap of (finish time, client) of clients training
    idle = np.ones(n, dtype=bool)
    starts: list[float] = []
    ends: list[float] = []
    who: list[int] = []
    smallest: list[float] = []  # max-heap (negated) of the `need` earliest finish times so far
    last = 0.0
    j = 0
    # Simulate starts until no later start can finish before the need-th arrival.
    while True:
        slot = max(j / rate, last)  # starts are in time order even after a wait
        if len(smallest) == need and slot >= -smallest[0]:
            break
        while busy and busy[0][0] <= slot:
            _, c = heapq.heappop(busy)
            idle[c] = True
        t_start = slot
        if not idle.any():  # all clients busy: wait for the first to finish
            t_start, c = heapq.heappop(busy)
            idle[c] = True
        choices = np.flatnonzero(idle)
        c = int(choices[rng.integers(len(choices))])
        duration = abs(float(rng.normal(0.0, sigma)))
        idle[c] = False
        finish = t_start + duration
        heapq.heappush(busy, (finish, c))
        if len(smallest) < need:
            heapq.heappush(smallest, -finish)
        elif finish < -smallest[0]:
            heapq.heapreplace(smallest, -finish)
        starts.append(t_start)
        ends.append(finish)
        who.append(c)
        last = t_start
        j += 1

    start = np.asarray(starts)
    end = np.asarray(ends)
    clients = np.asarray(who, dtype=np.int64)
    order = np.lexsort((np.arange(len(end)), end))  # arrival order; ties by start order
    sorted_end = end[order]
    arrivals_before = np.searchsorted(sorted_end, start, side="left")  # arrivals strictly before
    keep = order[:need]
    a = np.arange(need)
    read_k1 = arrivals_before[keep]
    sched = Schedule.from_events(
        n=n,
        K=K,
        clients=clients[keep],
        read_versions=read_k1 // K,
        applied_steps=a // K,
        kind="fedbuff-timing",
    )
    sched.start_time = start[keep]
    sched.arrival_time = end[keep]
    sched.staleness_k1 = a - read_k1
    sched.params = {
        "rate": rate,
        "sigma": sigma,
        "concurrency_target": rate * sigma * math.sqrt(2 / math.pi),
    }
    t_end = float(sorted_end[need - 1])
    sched.concurrency_mean, sched.concurrency_max = _concurrency(start, end, t_end)
    return sched


def asyncbc_schedule(
    *,
    n: int,
    T: int,
    tau_C: int,
    tau: float = 10.0,
    seed: int | np.random.Generator = 0,
    busy: str = "queue",
) -> Schedule:
    """AsyncBC Section 5 timing (worker ``i`` takes ``i * tau / n`` per task), Algorithms 1-2 order.

    Steps are ``t = 1, ..., T`` (``first_step = 1``, ``K = 1``). The ``tau_C`` initial tasks go to
    distinct workers chosen u.a.r. and read version 1 (they compute at ``x_1, x_0``, Alg. 1 lines
    2-3); the task handed out after step ``t`` reads version ``t + 1`` (computes at ``x_{t+1}, x_t``,
    lines 8-9), so exactly ``tau_C`` tasks are in flight (Definition 1). Workers are numbered
    ``0..n-1`` here; worker ``w`` is the paper's ``i = w + 1``. A task handed to a busy worker waits
    for that worker's earlier tasks (``busy="queue"``, default: a worker computes one task at a
    time) or runs alongside them (``busy="parallel"``). Equal finish times are broken by the order in
    which the tasks were handed out.
    """
    n = check_int("n", n, 1, numpy_ok=True)
    T = check_int("T", T, 1, numpy_ok=True)
    tau_C = check_int("tau_C", tau_C, 1, numpy_ok=True)
    tau = check_float("tau", tau)
    if tau_C > n:
        raise ParameterError(f"tau_C={tau_C} is not allowed: expected 1 <= tau_C <= n = {n}")
    if busy not in ("queue", "parallel"):
        raise ParameterError(f"busy={busy!r} is not allowed: expected 'queue' or 'parallel'")
    rng = _rng(seed)
    speed = (np.arange(1, n + 1) * tau) / n
    free_at = np.zeros(n)  # when each worker finishes its queued tasks
    heap: list[tuple[float, int, int, int, float]] = []  # (finish, seq, worker, version, start)
    seq = 0

    def hand_out(worker: int, version: int, now: float) -> None:
        nonlocal seq
        begin = max(now, free_at[worker]) if busy == "queue" else now
        finish = begin + speed[worker]
        if busy == "queue":
            free_at[worker] = finish
        heapq.heappush(heap, (finish, seq, worker, version, now))
        seq += 1

    for w in rng.choice(n, size=tau_C, replace=False):
        hand_out(int(w), 1, 0.0)
    clients, versions, starts, ends = [], [], [], []
    for t in range(1, T + 1):
        finish, _, w, v, st = heapq.heappop(heap)
        clients.append(w)
        versions.append(v)
        starts.append(st)
        ends.append(finish)
        hand_out(int(rng.integers(n)), t + 1, finish)
    sched = Schedule.from_events(
        n=n,
        K=1,
        clients=clients,
        read_versions=versions,
        applied_steps=np.arange(1, T + 1),
        first_step=1,
        kind="asyncbc-speeds",
    )
    sched.start_time = np.asarray(starts)
    sched.arrival_time = np.asarray(ends)
    sched.staleness_k1 = sched.staleness.copy()
    sched.params = {"tau": tau, "tau_C": tau_C, "busy": busy}
    sched.concurrency_mean, sched.concurrency_max = float(tau_C), tau_C
    return sched
