"""Seedable event schedules for the asynchronous methods, batched over replicas (issues 5 and 8).

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

A :class:`ScheduleBatch` holds one schedule **per replica** (arrays ``(R, E)``, ``E = T K``); every
step holds exactly ``K`` arrivals in every replica, so ``applied_step`` is one ``(E,)`` array. The
random choices of the timing model -- which client is sampled, how long it trains, hence the
staleness -- are what QAFeL's and AsyncBC's expectations average over (QAFeL Alg. 1 line 3 "sample
available clients"; AsyncBC Alg. 1 line 8 "k_{t+1} u.a.r.", Lemmas 4 and 6 average over it), so the
generators draw them **per replica** from that replica's own streams (:mod:`boundcheck.rng`): client
choices from ``"sampling"``, durations from ``"delays"``. Replica ``r`` of a batch equals the
single-replica schedule with ``first_replica = r`` (number for number). The simulation advances all
replicas in lockstep with NumPy arrays over the replica axis (``(R, n)`` times at which each client is
free; ``(R, tau_C)`` finish times of the tasks in flight); each replica's random numbers are drawn in
blocks, one call per replica and block. With ``R = 1`` the same events are computed with a heap
(AsyncBC) or Python scalars (FedBuff timing), which costs fewer array calls per event. The
bound-relevant staleness is the **batch maximum** ``ScheduleBatch.tau_max`` (the verification
engine hands it to the bounds); per replica it is ``tau_max_per_replica``.

**Pinning.** ``ScheduleBatch.pin(schedule, R)`` shares one :class:`Schedule` across all replicas: the
documented way to estimate the conditional expectation given one delay pattern, or to run an
adversarial fixed pattern; ``ScheduleBatch.stack([...])`` is a per-replica batch of hand-made
schedules. The algorithms accept ``schedule=None`` (generated per replica), a :class:`Schedule`
(pinned) or a :class:`ScheduleBatch`.

Generators:

* :func:`fedbuff_schedules` -- QAFeL Appendix D / FedBuff (Nguyen et al., 2022, App. C): clients start
  at a constant rate (one start every ``1/rate`` time units), each trains for a half-normal duration
  ``|X|``, ``X ~ N(0, sigma^2)``; the server applies a step each time its buffer holds ``K`` arrivals.
  **Concurrency** is the number of clients training at the same time; by Little's law its mean is
  ``rate * E|X| = rate * sigma * sqrt(2/pi)`` (QAFeL App. D: rates 125, 627, 1253 for concurrencies
  100, 500, 1000 with sigma = 1); passing ``concurrency`` sets ``rate = concurrency / (sigma *
  sqrt(2/pi))``. The measured time-averaged and maximal concurrency are in the summary.
* :func:`asyncbc_schedules` -- AsyncBC Section 5 / Algorithms 1-2: worker ``i`` (1-based) needs ``i *
  tau / n`` time units per task; ``tau_C`` tasks are in flight at all times (Definition 1); at the
  start ``tau_C`` distinct workers are chosen u.a.r. and read version 1 (Alg. 1 lines 2-3); each server
  step ``t = 1, 2, ...`` receives the earliest finished task (line 5) and hands a new task, reading
  version ``t + 1``, to a worker chosen u.a.r. from ``[n]`` (lines 8-9). With ``tau_C = 1`` every
  staleness is 0 (the synchronous method / SARAH).
* :func:`fedbuff_schedule`, :func:`asyncbc_schedule` -- one replica (a batch of one).
* :meth:`Schedule.from_events` and :meth:`Schedule.synchronous` -- a schedule given by hand.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from boundcheck.algorithms.common import check_float, check_int
from boundcheck.errors import ParameterError
from boundcheck.rng import numpy_generators

__all__ = [
    "Schedule",
    "ScheduleBatch",
    "asyncbc_schedule",
    "asyncbc_schedules",
    "fedbuff_schedule",
    "fedbuff_schedules",
]


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
            "params": dict(self.params),
        }
        if self.concurrency_mean is not None:
            out["concurrency_mean"] = self.concurrency_mean
            out["concurrency_max"] = self.concurrency_max
        return out


def _stat(a: np.ndarray) -> dict[str, Any]:
    """min / mean / max of a per-replica statistic (JSON-friendly)."""
    return {"min": float(a.min()), "mean": float(a.mean()), "max": float(a.max())}


@dataclass
class ScheduleBatch:
    """One schedule per replica (see the module docstring); arrays have the replica axis first.

    ``client``, ``read_version`` (and, when simulated, ``start_time``, ``arrival_time``,
    ``staleness_k1``) have shape ``(R, E)`` with ``E = T K`` updates per replica in arrival order;
    ``applied_step`` (``(E,)``) is the same for every replica: steps ``first_step, ...,
    first_step + T - 1`` with exactly ``K`` arrivals each. ``concurrency_mean`` / ``concurrency_max``
    are ``(R,)`` when measured. ``shared`` is true when every replica holds the same schedule
    (:meth:`pin`).
    """

    kind: str
    n: int
    K: int
    T: int
    R: int
    client: np.ndarray
    read_version: np.ndarray
    applied_step: np.ndarray
    first_step: int = 0
    start_time: np.ndarray | None = None
    arrival_time: np.ndarray | None = None
    staleness_k1: np.ndarray | None = None
    params: dict[str, Any] = field(default_factory=dict)
    concurrency_mean: np.ndarray | None = None
    concurrency_max: np.ndarray | None = None
    shared: bool = False

    # --- construction -------------------------------------------------------------------------
    @classmethod
    def pin(cls, schedule: Schedule, R: int) -> ScheduleBatch:
        """One :class:`Schedule` shared by all ``R`` replicas (``shared = True``).

        The documented option for the expectation *conditional* on one delay pattern, or for an
        adversarial fixed pattern: the replicas then differ only in oracle and quantizer noise.
        """
        if not isinstance(schedule, Schedule):
            raise ParameterError(f"schedule={schedule!r} is not allowed: expected a Schedule")
        R = check_int("R", R, 1, numpy_ok=True)

        def rep(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.broadcast_to(a, (R, len(a)))

        cm = schedule.concurrency_mean
        return cls(
            kind=schedule.kind, n=schedule.n, K=schedule.K, T=schedule.T, R=R,
            client=rep(schedule.client), read_version=rep(schedule.read_version),
            applied_step=schedule.applied_step, first_step=schedule.first_step,
            start_time=rep(schedule.start_time), arrival_time=rep(schedule.arrival_time),
            staleness_k1=rep(schedule.staleness_k1), params=dict(schedule.params),
            concurrency_mean=None if cm is None else np.full(R, float(cm)),
            concurrency_max=None if cm is None else np.full(R, int(schedule.concurrency_max)),
            shared=True,
        )  # fmt: skip

    @classmethod
    def stack(cls, schedules: Sequence[Schedule]) -> ScheduleBatch:
        """A per-replica batch of schedules (replica ``r`` is ``schedules[r]``).

        They must agree in ``n``, ``K``, ``T`` and ``first_step`` (then their applied steps agree).
        """
        scheds = list(schedules)
        if not scheds or not all(isinstance(s, Schedule) for s in scheds):
            raise ParameterError(
                f"schedules={schedules!r} is not allowed: expected a nonempty list of Schedule"
            )
        s0 = scheds[0]
        for i, s in enumerate(scheds):
            if (s.n, s.K, s.T, s.first_step) != (s0.n, s0.K, s0.T, s0.first_step):
                raise ParameterError(
                    f"schedule {i} has n={s.n}, K={s.K}, T={s.T}, first_step={s.first_step}: "
                    f"expected those of schedule 0 (n={s0.n}, K={s0.K}, T={s0.T}, "
                    f"first_step={s0.first_step})"
                )

        def st(name: str) -> np.ndarray | None:
            vals = [getattr(s, name) for s in scheds]
            return None if any(v is None for v in vals) else np.stack(vals)

        cms = [s.concurrency_mean for s in scheds]
        have_c = all(c is not None for c in cms)
        return cls(
            kind=s0.kind if all(s.kind == s0.kind for s in scheds) else "mixed",
            n=s0.n, K=s0.K, T=s0.T, R=len(scheds), client=st("client"),
            read_version=st("read_version"), applied_step=s0.applied_step,
            first_step=s0.first_step, start_time=st("start_time"),
            arrival_time=st("arrival_time"), staleness_k1=st("staleness_k1"),
            params=dict(s0.params),
            concurrency_mean=np.asarray(cms, dtype=float) if have_c else None,
            concurrency_max=np.asarray([s.concurrency_max for s in scheds]) if have_c else None,
        )  # fmt: skip

    def replica(self, r: int) -> Schedule:
        """Replica ``r``'s schedule as a :class:`Schedule`."""
        r = check_int("r", r, 0, numpy_ok=True)
        if r >= self.R:
            raise ParameterError(f"r={r} is not allowed: expected 0 <= r < R = {self.R}")

        def row(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.array(a[r])

        return Schedule(
            kind=self.kind, n=self.n, K=self.K, T=self.T, client=row(self.client),
            read_version=row(self.read_version), applied_step=np.array(self.applied_step),
            first_step=self.first_step, start_time=row(self.start_time),
            arrival_time=row(self.arrival_time), staleness_k1=row(self.staleness_k1),
            params=dict(self.params),
            concurrency_mean=None if self.concurrency_mean is None
            else float(self.concurrency_mean[r]),
            concurrency_max=None if self.concurrency_max is None
            else int(self.concurrency_max[r]),
        )  # fmt: skip

    def select(self, rows: np.ndarray | Sequence[int]) -> ScheduleBatch:
        """The batch of the given replicas (e.g. a chunk of a larger run)."""
        idx = np.asarray(rows, dtype=np.int64).reshape(-1)

        def sub(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else np.asarray(a)[idx]

        return ScheduleBatch(
            kind=self.kind, n=self.n, K=self.K, T=self.T, R=len(idx), client=sub(self.client),
            read_version=sub(self.read_version), applied_step=self.applied_step,
            first_step=self.first_step, start_time=sub(self.start_time),
            arrival_time=sub(self.arrival_time), staleness_k1=sub(self.staleness_k1),
            params=dict(self.params), concurrency_mean=sub(self.concurrency_mean),
            concurrency_max=sub(self.concurrency_max), shared=self.shared,
        )  # fmt: skip

    # --- measured quantities --------------------------------------------------------------------
    @property
    def num_events(self) -> int:
        return int(self.applied_step.shape[0])

    @property
    def staleness(self) -> np.ndarray:
        """``(R, E)``: ``applied_step - read_version`` per replica and applied update."""
        return self.applied_step[None, :] - self.read_version

    @property
    def tau_max_per_replica(self) -> np.ndarray:
        """``(R,)`` maximal staleness of each replica's applied updates."""
        return self.staleness.max(axis=1)

    @property
    def tau_max(self) -> int:
        """The batch maximum of the staleness: the value the bounds get (module docstring)."""
        return int(self.staleness.max())

    @property
    def tau_max_1(self) -> int | None:
        """Batch maximum of the staleness of the same timelines with buffer size 1, if known."""
        return None if self.staleness_k1 is None else int(self.staleness_k1.max())

    def step_indices(self, t: int) -> np.ndarray:
        """Indices (arrival order) of the updates applied at server step ``t`` (every replica)."""
        i0 = (t - self.first_step) * self.K
        return np.arange(i0, i0 + self.K)

    def summary(self, steps: int | None = None) -> dict[str, Any]:
        """A JSON-friendly summary for ``Trace.meta['schedule']`` over the first ``steps`` steps
        (default all): batch and per-replica ``tau_max``, mean staleness, concurrency."""
        E = self.num_events if steps is None else steps * self.K
        st = self.staleness[:, :E]
        per_tau = st.max(axis=1) if E else np.zeros(self.R, dtype=np.int64)
        per_mean = st.mean(axis=1) if E else np.zeros(self.R)
        out: dict[str, Any] = {
            "kind": self.kind,
            "n": self.n,
            "K": self.K,
            "T": self.T,
            "R": self.R,
            "first_step": self.first_step,
            "num_updates": E,
            "shared_across_replicas": bool(self.shared or self.R == 1),
            "tau_max": int(per_tau.max()),
            "tau_max_K": int(per_tau.max()),
            "tau_max_per_replica": per_tau.astype(int).tolist(),
            "tau_max_stats": _stat(per_tau),
            "staleness_mean": float(per_mean.mean()),
            "staleness_mean_per_replica": per_mean.tolist(),
            "staleness_histogram": np.bincount(st.reshape(-1)).tolist() if E else [],
            "params": dict(self.params),
        }
        if self.staleness_k1 is not None:
            k1 = self.staleness_k1[:, :E]
            out["tau_max_1"] = int(k1.max()) if E else 0
            out["tau_max_1_per_replica"] = (k1.max(axis=1) if E else per_tau * 0).tolist()
        else:
            out["tau_max_1"] = None
        if self.concurrency_mean is not None:
            out["concurrency_mean"] = float(np.mean(self.concurrency_mean))
            out["concurrency_max"] = int(np.max(self.concurrency_max))
            out["concurrency_mean_per_replica"] = np.asarray(self.concurrency_mean).tolist()
            out["concurrency_max_per_replica"] = np.asarray(self.concurrency_max).tolist()
        return out


class _Blocks:
    """Per-replica random numbers drawn in blocks: ``next()`` gives one ``(R,)`` number per replica.

    Each refill is one call per replica producing ``block`` numbers; a NumPy generator's
    ``random`` / ``standard_normal`` output does not depend on how it is split into calls, so replica
    ``r``'s sequence is the same in every batch that contains it (and for every ``block``). With
    ``scale`` a block of normals is stored as ``|scale z|`` (the same operations, elementwise, as on
    one number at a time).
    """

    def __init__(
        self, gens: list[np.random.Generator], kind: str, block: int, scale: float | None = None
    ) -> None:
        self.gens, self.kind, self.block = gens, kind, max(int(block), 16)
        self.scale = scale
        self.buf = np.empty((len(gens), 0))
        self.pos = 0

    def _refill(self) -> None:
        if self.kind == "uniform":
            self.buf = np.stack([g.random(self.block) for g in self.gens])
        else:
            self.buf = np.stack([g.standard_normal(self.block) for g in self.gens])
            if self.scale is not None:
                self.buf = np.abs(self.scale * self.buf)
        self.pos = 0

    def next(self) -> np.ndarray:
        if self.pos >= self.buf.shape[1]:
            self._refill()
        out = self.buf[:, self.pos]
        self.pos += 1
        return out


def _replicas(seed: Any, R: Any, first_replica: Any) -> tuple[int, int, int]:
    if isinstance(seed, np.random.Generator):
        raise ParameterError(
            "seed=<numpy Generator> is not allowed: expected an integer seed >= 0 (each replica "
            "draws from its own stream of that seed, boundcheck.rng)"
        )
    return (
        check_int("seed", seed, 0, numpy_ok=True),
        check_int("R", R, 1, numpy_ok=True),
        check_int("first_replica", first_replica, 0, numpy_ok=True),
    )


def _idle_rows(idle: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The idle clients of each row of an ``(m, n)`` mask, without an ``(m, n)`` cumsum.

    ``bounds`` is ``arange(m + 1) * n``. Returns ``flat`` (the flat indices ``r n + i`` of the idle
    entries, ascending: row by row, each row's clients in index order), ``first`` (``(m,)``: where
    row ``r``'s entries start in ``flat``) and ``count`` (``(m,)`` int64: row ``r``'s number of
    idle clients). Row ``r``'s ``k``-th idle client (0-based, ``k < count[r]``) has the flat index
    ``flat[first[r] + k]``.
    """
    flat = np.flatnonzero(idle)
    pos = np.searchsorted(flat, bounds)
    first = pos[:-1]
    return flat, first, pos[1:] - first


def _kth(u: np.ndarray, n_idle: np.ndarray) -> np.ndarray:
    """The idle client a uniform ``u`` picks: the ``floor(u * n_idle)``-th (0-based, capped)."""
    return np.minimum((u * n_idle).astype(np.int64), n_idle - 1)


#: A pass where some replicas wait compares only their rows again when the other rows hold more
#: than this many clients (then a second full comparison costs more than the extra calls).
_WAIT_ROWS_ONLY = 8192


def _after_wait(
    free_at: np.ndarray,
    slot: np.ndarray,
    wait: np.ndarray,
    u: np.ndarray,
    idle_at_slot: tuple[np.ndarray, np.ndarray, np.ndarray],
    bounds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A pass of :func:`_fedbuff_lockstep` in which the replicas ``wait`` have no idle client.

    They start when their first client finishes, choosing among the clients free at that time;
    the other replicas start at the slot with the idle clients found there (``idle_at_slot``, from
    :func:`_idle_rows`). Returns the start times, the numbers of idle clients and the flat indices
    ``r n + c`` of the chosen clients.
    """
    R, n = free_at.shape
    w = np.flatnonzero(wait)
    if (R - len(w)) * n <= _WAIT_ROWS_ONLY:  # all rows again, at the start times
        t_start = np.where(wait, free_at.min(axis=1), slot)
        flat, first, n_idle = _idle_rows(free_at <= t_start[:, None], bounds)
        return t_start, n_idle, flat[first + _kth(u, n_idle)]
    flat, first, n_idle = idle_at_slot
    busy = free_at[w]
    t_w = busy.min(axis=1)
    t_start = slot.copy()
    t_start[w] = t_w
    flat_w, first_w, n_idle[w] = _idle_rows(busy <= t_w[:, None], bounds[: len(w) + 1])
    k = _kth(u, n_idle)
    fi = np.empty(R, dtype=np.int64)
    go = np.flatnonzero(~wait)
    fi[go] = flat[first[go] + k[go]]
    fi[w] = flat_w[first_w + k[w]] + (bounds[w] - bounds[: len(w)])  # rows of busy -> of free_at
    return t_start, n_idle, fi


# The simulation of fedbuff_schedules (see its docstring). Both simulators return (R, J) arrays
# over the slotted starts j < J, J the first j at which every replica has stopped: start and
# finish times, client, arrivals strictly before the start, valid (the replica had not stopped;
# the other entries are not used); and the (R,) maximal concurrency. At start j at least j - n
# arrivals lie at or before the slot, so J <= need + n.
_Sim = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _fedbuff_lockstep(n: int, rate: float, need: int, pick: _Blocks, dur: _Blocks) -> _Sim:
    """All replicas in lockstep, one slotted start ``j`` per pass (``dur`` holds ``|sigma z|``).

    Per pass: one ``(R, n)`` comparison gives the idle clients and :func:`_idle_rows` their flat
    indices (the ``k``-th idle client is a lookup, not an ``(R, n)`` cumsum); a second comparison,
    at the start times, only in passes where some replica's clients are all busy (it waits for the
    first to finish; :func:`_after_wait`). No replica can stop before ``j = need``, so the
    stopping test starts there.
    """
    R = len(pick.gens)
    base = np.arange(R) * n
    bounds = np.arange(R + 1) * n
    free_at = np.full((R, n), -np.inf)  # when each client finishes its task (-inf: none yet)
    free_flat = free_at.reshape(-1)
    last = np.zeros(R)
    stopped = np.zeros(R, dtype=bool)
    cap = need + n
    # outputs written one row per start (contiguous), transposed once at the end
    starts, ends = np.empty((cap, R)), np.empty((cap, R))
    who, before = np.empty((cap, R), dtype=np.int64), np.empty((cap, R), dtype=np.int64)
    valid = np.ones((cap, R), dtype=bool)
    # maximal concurrency = n + 1 - the least number of idle clients at a start (in flight right
    # after it: the busy ones and the new one; ends before starts)
    min_idle = np.full(R, n, dtype=np.int64)
    all_live, live = True, ~stopped
    j = 0
    while True:
        slot = np.maximum(j / rate, last)  # starts stay in time order after a wait
        flat, first, n_idle = _idle_rows(free_at <= slot[:, None], bounds)
        if j >= need:
            # arrivals at or before the slot = starts so far - tasks still running after it
            # (j - (n - n_idle)); once a replica has T K of them no later start can be among its
            # first T K arrivals
            stopped |= n_idle >= need + n - j
            if stopped.all():
                break
            live = ~stopped
            all_live = not stopped.any()
        u = pick.next()
        wait = None
        if n_idle.min() == 0:  # all clients busy: the start waits for the first to finish
            wait = n_idle == 0
            t_start, n_idle, fi = _after_wait(free_at, slot, wait, u, (flat, first, n_idle), bounds)
        else:
            t_start = slot
            fi = flat[first + _kth(u, n_idle)]
        # arrivals strictly before the start: after a wait the clients finishing exactly then (the
        # idle ones) have not arrived before it; otherwise a finish exactly at the slot
        # (probability 0) counts as before
        if wait is None:
            np.add(n_idle, j - n, out=before[j])
        else:
            before[j] = np.where(wait, j - n, n_idle + (j - n))
        finish = np.add(t_start, dur.next(), out=ends[j])
        np.subtract(fi, base, out=who[j])
        starts[j] = t_start
        if all_live:
            free_flat[fi] = finish
            np.minimum(min_idle, n_idle, out=min_idle)
            last = t_start
        else:
            free_flat[fi[live]] = finish[live]
            min_idle = np.where(live, np.minimum(min_idle, n_idle), min_idle)
            last = np.where(live, t_start, last)
            valid[j] = live
        j += 1

    conc_max = n + 1 - min_idle

    def out(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(a[:j].T)

    return out(starts), out(ends), out(who), out(before), out(valid), conc_max


def _fedbuff_single(
    n: int, rate: float, sigma: float, need: int, pick: np.random.Generator,
    dur: np.random.Generator,
) -> _Sim:  # fmt: skip
    """One replica, the same events and numbers as :func:`_fedbuff_lockstep` with Python scalars.

    Per start: one comparison and ``flatnonzero`` over the ``n`` clients; the rest is scalar
    arithmetic on Python floats (IEEE doubles: the same roundings as NumPy's elementwise
    operations). All ``need + n`` numbers a run can use are drawn in one call per stream.
    """
    cap = need + n
    us = pick.random(cap).tolist()
    ds = np.abs(sigma * dur.standard_normal(cap)).tolist()
    free_at = np.full(n, -np.inf)
    last, min_idle = 0.0, n
    starts, ends, who, before = [], [], [], []
    flatnonzero = np.flatnonzero
    for j in range(cap + 1):
        slot = max(j / rate, last)
        idle = flatnonzero(free_at <= slot)
        n_idle = len(idle)
        if n_idle >= need + n - j:  # (see _fedbuff_lockstep)
            break
        if n_idle:
            t_start, b = slot, n_idle + (j - n)
        else:  # all busy: wait for the first to finish
            t_start = float(free_at.min())
            idle = flatnonzero(free_at <= t_start)
            n_idle, b = len(idle), j - n
        c = int(idle[min(int(us[j] * n_idle), n_idle - 1)])
        finish = t_start + ds[j]
        free_at[c] = finish
        min_idle = min(min_idle, n_idle)
        starts.append(t_start)
        ends.append(finish)
        who.append(c)
        before.append(b)
        last = t_start

    def row(a: list[Any], dtype: Any) -> np.ndarray:
        return np.array(a, dtype=dtype)[None, :]

    J = len(starts)
    return (
        row(starts, np.float64), row(ends, np.float64), row(who, np.int64),
        row(before, np.int64), np.ones((1, J), dtype=bool), np.array([n + 1 - min_idle]),
    )  # fmt: skip


def fedbuff_schedules(
    *,
    n: int,
    T: int,
    K: int,
    R: int = 1,
    concurrency: float | None = None,
    rate: float | None = None,
    sigma: float = 1.0,
    seed: int = 0,
    first_replica: int = 0,
) -> ScheduleBatch:
    """QAFeL Appendix D timing model (FedBuff's) for ``R`` replicas: constant arrival rate,
    half-normal durations.

    Client starts are slotted at times ``j / rate`` (j = 0, 1, ...); the client is drawn u.a.r. among
    the clients not training at that time (QAFeL Alg. 1 line 3, "sample available clients": a
    uniform ``u`` from the replica's ``"sampling"`` stream picks the ``floor(u * #idle)``-th idle
    client); if all ``n`` are busy the start waits until the first one finishes (then the clients
    free at that time are the idle ones). It reads the current version ``floor(A / K)``, ``A`` =
    arrivals strictly before its start, trains for ``|sigma z|`` time units (``z`` from the
    ``"delays"`` stream), and its arrival with index ``a`` (0-based, in time order; ties by start
    order) is applied at step ``floor(a / K)`` (Alg. 1 lines 5-15). Each replica is simulated until
    no later start can arrive among its first ``T K`` arrivals. Give exactly one of ``concurrency``
    (mean number training at once) or ``rate`` (starts per unit time): ``rate = concurrency /
    (sigma * sqrt(2/pi))``. Replica ``r`` equals ``fedbuff_schedules(..., R=1, first_replica=r)``.
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
    seed, R, first_replica = _replicas(seed, R, first_replica)
    reps = range(first_replica, first_replica + R)
    need = T * K
    # at most need + n starts are simulated (see _fedbuff_lockstep): usually one call per replica
    block = min(need + n, 1 << 16)
    picks = numpy_generators(seed, "sampling", reps)
    durs = numpy_generators(seed, "delays", reps)
    if R == 1:  # one replica: the same events with Python scalars (few array calls per start)
        sim = _fedbuff_single(n, rate, sigma, need, picks[0], durs[0])
    else:
        pick = _Blocks(picks, "uniform", block)
        sim = _fedbuff_lockstep(n, rate, need, pick, _Blocks(durs, "normal", block, scale=sigma))
    start, end, who, before, ok, conc_max = sim
    all_ok = bool(ok.all())  # then where(ok, x, y) is x
    end_key = end if all_ok else np.where(ok, end, np.inf)
    order = np.argsort(end_key, axis=1, kind="stable")[:, :need]  # arrival order, ties by start
    take = np.take_along_axis
    read_k1 = take(before, order, axis=1)
    a = np.arange(need)
    t_end = take(end, order[:, -1:], axis=1)  # the T K-th arrival
    s_c = np.minimum(start if all_ok else np.where(ok, start, t_end), t_end)
    e_c = np.minimum(end if all_ok else np.where(ok, end, t_end), t_end)
    t0 = start[:, :1]
    span = t_end[:, 0] - t0[:, 0]
    busy_time = np.maximum(e_c - s_c, 0.0).sum(axis=1)
    conc_mean = np.where(span > 0, busy_time / np.where(span > 0, span, 1.0), 0.0)
    return ScheduleBatch(
        kind="fedbuff-timing", n=n, K=K, T=T, R=R,
        client=take(who, order, axis=1),
        read_version=read_k1 // K, applied_step=a // K, first_step=0,
        start_time=take(start, order, axis=1), arrival_time=take(end, order, axis=1),
        staleness_k1=a[None, :] - read_k1,
        params={"rate": rate, "sigma": sigma,
                "concurrency_target": rate * sigma * math.sqrt(2 / math.pi),
                "seed": seed, "first_replica": first_replica},
        concurrency_mean=conc_mean, concurrency_max=conc_max,
    )  # fmt: skip


def fedbuff_schedule(
    *,
    n: int,
    T: int,
    K: int,
    concurrency: float | None = None,
    rate: float | None = None,
    sigma: float = 1.0,
    seed: int = 0,
    first_replica: int = 0,
) -> Schedule:
    """One replica of :func:`fedbuff_schedules` (replica ``first_replica`` of seed ``seed``)."""
    return fedbuff_schedules(
        n=n, T=T, K=K, R=1, concurrency=concurrency, rate=rate, sigma=sigma, seed=seed,
        first_replica=first_replica,
    ).replica(0)  # fmt: skip


def _asyncbc_lockstep(
    speed: np.ndarray, first: np.ndarray, new_w: np.ndarray, T: int, busy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """All replicas in lockstep: ``(tau_C, R)`` tasks in flight, ``(R, n)`` worker free times.

    A step finds each replica's earliest finish (ties: the task handed out first), records the
    version its slot holds and the time, and hands the slot to the new worker. Clients and start
    times follow from the versions afterwards (the task reading ``v >= 2`` went to ``new_w[v - 2]``
    at the time of step ``v - 1``), so the loop carries only what the event order needs; the
    ``(tau_C, R)`` layout makes the per-step reductions run along contiguous replica rows.
    """
    R, tau_C = first.shape
    n = speed.shape[0]
    rows = np.arange(R)
    queue = busy == "queue"
    free_at = np.zeros((R, n))
    # the tau_C tasks in flight, one row per slot: finish time, hand-out order, version
    fin = np.empty((tau_C, R))
    for s in range(tau_C):  # initial tasks in hand-out order (tau_C <= n steps, not per replica)
        w = first[:, s]
        begin = free_at[rows, w] if queue else np.zeros(R)
        fin[s] = begin + speed[w]
        if queue:
            free_at[rows, w] = fin[s]
    seq = np.repeat(np.arange(tau_C, dtype=np.int64)[:, None], R, axis=1)
    ver = np.ones((tau_C, R), dtype=np.int64)
    seq_f, ver_f, fin_f = seq.reshape(-1), ver.reshape(-1), fin.reshape(-1)
    free_f = free_at.reshape(-1)
    wbase = rows * n
    # outputs (R, T), written one column per step (the lines of consecutive columns stay in
    # cache): no transposed copies, as little fresh memory as possible (at R = 1024 the kernel's
    # zeroing of fresh pages cost as much as the simulation)
    versions = np.empty((R, T), dtype=np.int64)
    small = np.min_scalar_type(tau_C)  # slot numbers: a byte each for tau_C < 256
    slots = np.empty((R, T), dtype=small)
    ends = np.empty((R, T))
    big = np.iinfo(np.int64).max
    # slot_of[r, q]: the slot of replica r's q-th task handed out (q = its seq): the tie-break is a
    # min-reduction over the slots plus one lookup (an argmin across slots costs 10x a min)
    slot_of = np.empty((R, T + tau_C), dtype=small)
    slot_of[:, :tau_C] = np.arange(tau_C)
    of_f, qbase = slot_of.reshape(-1), rows * (T + tau_C)
    for t in range(1, T + 1):
        now = fin.min(axis=0)
        q = np.where(fin == now, seq, big).min(axis=0)  # earliest; ties: handed out first
        slot = of_f[qbase + q]
        of_f[qbase + (tau_C + t - 1)] = slot
        k = slot.astype(np.int64) * R + rows
        versions[:, t - 1] = ver_f[k]
        slots[:, t - 1] = slot
        ends[:, t - 1] = now
        w = new_w[:, t - 1]
        if queue:
            kw = wbase + w
            f = np.maximum(now, free_f[kw]) + speed[w]
            free_f[kw] = f
        else:
            f = now + speed[w]
        fin_f[k] = f
        seq_f[k] = tau_C + t - 1
        ver_f[k] = t + 1
    back = np.maximum(versions - 2, 0)  # the task reading v >= 2 was handed out at step v - 1
    clients = np.take_along_axis(new_w, back, axis=1)
    starts = np.take_along_axis(ends, back, axis=1)
    r0, e0 = np.nonzero(versions == 1)  # the initial tasks: at most tau_C per replica
    clients[r0, e0] = first[r0, slots[r0, e0]]
    starts[r0, e0] = 0.0
    return clients, versions, starts, ends


def _asyncbc_heap(
    speed: np.ndarray, first: np.ndarray, new_w: np.ndarray, T: int, busy: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One replica with a heap; the same events as :func:`_asyncbc_lockstep` (ties by hand-out order)."""
    queue = busy == "queue"
    free_at = [0.0] * speed.shape[0]
    sp = speed.tolist()
    heap: list[tuple[float, int, int, int, float]] = []  # (finish, seq, worker, version, start)
    for s, w in enumerate(first.tolist()):
        f = (free_at[w] if queue else 0.0) + sp[w]
        if queue:
            free_at[w] = f
        heap.append((f, s, w, 1, 0.0))
    heapq.heapify(heap)
    seq = len(heap)
    events = []  # (finish, seq, worker, version, start) in arrival order (a list: no array call)
    nw = new_w.tolist()
    pop, push = heapq.heappop, heapq.heappush
    for t in range(1, T + 1):
        ev = pop(heap)
        events.append(ev)
        now = ev[0]
        w = nw[t - 1]
        f = (max(now, free_at[w]) if queue else now) + sp[w]
        if queue:
            free_at[w] = f
        push(heap, (f, seq, w, t + 1, now))
        seq += 1
    ends, _, workers, versions, starts = (np.array(c)[None, :] for c in zip(*events, strict=True))
    return workers.astype(np.int64), versions.astype(np.int64), starts, ends


def asyncbc_schedules(
    *,
    n: int,
    T: int,
    tau_C: int,
    R: int = 1,
    tau: float = 10.0,
    seed: int = 0,
    first_replica: int = 0,
    busy: str = "queue",
) -> ScheduleBatch:
    """AsyncBC Section 5 timing (worker ``i`` takes ``i * tau / n`` per task), Algorithms 1-2 order,
    for ``R`` replicas.

    Steps are ``t = 1, ..., T`` (``first_step = 1``, ``K = 1``). The ``tau_C`` initial tasks go to
    distinct workers chosen u.a.r. (the ``tau_C`` smallest of ``n`` uniform keys from the replica's
    ``"sampling"`` stream) and read version 1 (they compute at ``x_1, x_0``, Alg. 1 lines 2-3); the
    task handed out after step ``t`` reads version ``t + 1`` (computes at ``x_{t+1}, x_t``, lines
    8-9) and goes to worker ``floor(u n)``, ``u`` the replica's next uniform (line 8, ``k_{t+1}
    u.a.r.``), so exactly ``tau_C`` tasks are in flight (Definition 1). Workers are numbered
    ``0..n-1`` here; worker ``w`` is the paper's ``i = w + 1``. A task handed to a busy worker waits
    for that worker's earlier tasks (``busy="queue"``, default: a worker computes one task at a
    time) or runs alongside them (``busy="parallel"``). Equal finish times are broken by the order in
    which the tasks were handed out. Durations are deterministic, so the ``"delays"`` stream is not
    used; the staleness is random through the client choices. Replica ``r`` equals
    ``asyncbc_schedules(..., R=1, first_replica=r)``.
    """
    n = check_int("n", n, 1, numpy_ok=True)
    T = check_int("T", T, 1, numpy_ok=True)
    tau_C = check_int("tau_C", tau_C, 1, numpy_ok=True)
    tau = check_float("tau", tau)
    if tau_C > n:
        raise ParameterError(f"tau_C={tau_C} is not allowed: expected 1 <= tau_C <= n = {n}")
    if busy not in ("queue", "parallel"):
        raise ParameterError(f"busy={busy!r} is not allowed: expected 'queue' or 'parallel'")
    seed, R, first_replica = _replicas(seed, R, first_replica)
    reps = range(first_replica, first_replica + R)
    u = np.stack([g.random(n + T) for g in numpy_generators(seed, "sampling", reps)])
    speed = (np.arange(1, n + 1) * tau) / n
    first = np.argsort(u[:, :n], axis=1, kind="stable")[:, :tau_C]
    new_w = np.minimum((u[:, n:] * n).astype(np.int64), n - 1)
    if R == 1:  # one replica: the same event order with a heap (no per-step array calls)
        clients, versions, starts, ends = _asyncbc_heap(speed, first[0], new_w[0], T, busy)
    else:
        clients, versions, starts, ends = _asyncbc_lockstep(speed, first, new_w, T, busy)
    return ScheduleBatch(
        kind="asyncbc-speeds", n=n, K=1, T=T, R=R, client=clients, read_version=versions,
        applied_step=np.arange(1, T + 1), first_step=1, start_time=starts, arrival_time=ends,
        staleness_k1=np.arange(1, T + 1)[None, :] - versions,
        params={"tau": tau, "tau_C": tau_C, "busy": busy, "seed": seed,
                "first_replica": first_replica},
        concurrency_mean=np.full(R, float(tau_C)), concurrency_max=np.full(R, tau_C),
    )  # fmt: skip


def asyncbc_schedule(
    *,
    n: int,
    T: int,
    tau_C: int,
    tau: float = 10.0,
    seed: int = 0,
    first_replica: int = 0,
    busy: str = "queue",
) -> Schedule:
    """One replica of :func:`asyncbc_schedules` (replica ``first_replica`` of seed ``seed``)."""
    return asyncbc_schedules(
        n=n, T=T, tau_C=tau_C, R=1, tau=tau, seed=seed, first_replica=first_replica, busy=busy
    ).replica(0)
