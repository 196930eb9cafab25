"""Async-GD/-SGD, AsyncBC-GD/-SGD and SARAH: AsyncBC paper (Gao, Takezawa & Stich, TMLR).

All ``R`` replicas advance together and **share one schedule** (the event order of
:func:`boundcheck.algorithms.async_sim.asyncbc_schedule`: worker ``i`` needs ``i * tau / n`` time units
per task, ``tau_C`` tasks in flight, a new worker drawn u.a.r. from ``[n]`` after every server step;
AsyncBC Section 5 and Algorithms 1-2). Loops run over server steps (events), never over replicas.

**What the replica mean estimates.** The expectation in Theorems 1-2 is over the oracle noise *and
over the uniform choice of the clients* ``k_{t+1}`` (Lemma 4 / Lemma 6 average over ``k_t``); the
schedule fixes those choices for the whole batch. So a batch's replica mean is the expectation
*conditional on one client sequence*: for AsyncBC-GD/Async-GD with one ``x0`` all replicas are
identical copies (the replica axis then only serves stepsize grids). Estimating the theorems' ``E``
takes several batches with different seeds (different schedules), each a single draw.

**Staleness.** ``meta['tau_max']`` is the smallest ``tau_max`` that Assumption 3 allows for the run:
the maximal staleness of the applied updates *and* of the tasks still in flight after the last step
(a task reading version ``v`` that has not arrived by step ``s`` has staleness ``>= s + 1 - v``; the
proofs count it in the active sets ``C_v..C_s``, Lemma 2). The applied-only maximum is
``meta['schedule']['tau_max_measured']``, the in-flight one ``meta['schedule']['tau_max_in_flight']``.

**Names: theory module** (:mod:`boundcheck.theory.asyncbc`) **-> this trace / the problem.**
``T`` -> keyword ``T`` (rows ``x_0..x_{T-1}``; ``T - 1`` messages received, ``x_T`` =
``meta['x_final']``); ``eta``, ``tau_C`` -> keywords; ``tau_max`` -> ``meta['tau_max']``; ``F0`` ->
``f_gap[0]``; ``L`` -> ``problem.constant('L')``; ``delta_H`` -> ``constant('delta_H')``; ``ell`` ->
``constant('ell')`` (oracle-dependent; ``inf`` for the independent-noise oracle); ``L_max`` ->
``constant('L_i')``; ``sigma`` (Theorem 3, ``sigma^2 = E||xi_t||^2``) -> ``sqrt(constant('sigma2'))``
(``= sqrt(d * noise_var)``); ``zeta`` (Section 3 form) -> ``sqrt(constant('zeta2'))``; ``G_bg``
(Table 1, a norm bound) -> ``sqrt(constant('G'))``; ``D0`` -> ``||x_0 - x*||^2``. Quantities:
``asyncbc.avg_grad_sq`` -> ``grad_norm_sq.mean(0)``; ``asyncbc.xT_sq`` -> ``||meta['x_final']||^2``;
``sum_m2_past`` at ``t`` -> ``m_norm_sq[:t-1].sum(0)``; the virtual iterates of Lemmas 1 and 5 are not
recorded (``record_x`` gives ``x`` and ``m`` to rebuild them with the schedule).

Each client task is evaluated when it is handed out (its inputs ``x_{v}``, ``x_{v-1}`` are known
then) and held until the schedule delivers it; this is the same arithmetic as evaluating it on
arrival, and keeps only the ``tau_C`` tasks in flight in memory instead of the iterate history.

Rows of every trace: row ``t = 0..T-1`` is the iterate ``x_t``; ``grad_norm_sq[t] = ||grad f(x_t)||^2``
so that ``grad_norm_sq.mean(0)`` is the left-hand side ``1/T sum_{t=0}^{T-1} ||grad f(x_t)||^2`` of
AsyncBC Theorems 1-2 (one draw; the expectation is over replicas).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import torch

from boundcheck.algorithms.async_sim import Schedule, asyncbc_schedule
from boundcheck.algorithms.common import (
    Streams,
    check_float,
    check_int,
    f_gap,
    initial_point,
    new_divergence,
    resolve_device,
    sq_norm,
    update_divergence,
)
from boundcheck.algorithms.trace import Trace
from boundcheck.compressors import Identity
from boundcheck.errors import ParameterError
from boundcheck.problems.base import Problem

Sampling = Literal["shared", "independent"]
_FULL = Identity()  # 32 bits per entry of an uncompressed vector
#: The scalar series of AsyncBC and SARAH (rows x_0..x_{T-1}).
_BC_SERIES = ("grad_norm_sq", "f_gap", "m_norm_sq", "bits_up", "bits_down")


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


def _checked(
    problem: Problem, T: Any, R: Any, eta: Any, tau_C: Any, tau: Any, device: Any,
    dtype: torch.dtype,
) -> tuple[int, int, float | torch.Tensor, int, float, torch.device]:  # fmt: skip
    """``T >= 2``, ``R``, ``eta``, ``1 <= tau_C <= n``, ``tau > 0`` and the device, checked in the
    order the event-driven methods (AsyncBC, Async-GD) have always checked them."""
    T, R = check_int("T", T, 2, numpy_ok=True), check_int("R", R, 1, numpy_ok=True)
    tau_C = check_int("tau_C", tau_C, 1, numpy_ok=True)
    if tau_C > problem.n:
        raise ParameterError(f"tau_C={tau_C} must satisfy 1 <= tau_C <= n = {problem.n}")
    tau = check_float("tau", tau)
    dev = resolve_device(problem, device)
    return T, R, _stepsize(eta, R, dev, dtype), tau_C, tau, dev


def _meta(name: str, source: str, params: dict[str, Any], seed: int, dev: torch.device,
          dtype: torch.dtype, problem: Problem, **rest: Any) -> dict[str, Any]:  # fmt: skip
    """The meta every AsyncBC-paper trace starts with, followed by ``rest``."""
    return {"algorithm": name, "source": source, "params": params, "seed": seed,
            "device": str(dev), "dtype": str(dtype), "problem": problem.describe(), **rest}  # fmt: skip


def _schedule(
    problem: Problem,
    schedule: Schedule | None,
    T: int,
    steps: int,
    tau_C: int,
    tau: float,
    busy: str,
    streams: Streams,
) -> Schedule:
    """The given schedule (checked; ``steps`` of it are used) or AsyncBC Section 5's for ``T`` steps."""
    if schedule is None:
        return asyncbc_schedule(
            n=problem.n, T=T, tau_C=tau_C, tau=tau, seed=streams.numpy("delays"), busy=busy
        )
    if not isinstance(schedule, Schedule):
        raise ParameterError(f"schedule must be an async_sim.Schedule or None, got {schedule!r}")
    if schedule.n != problem.n or schedule.K != 1 or schedule.first_step != 1:
        raise ParameterError(
            f"schedule has n={schedule.n}, K={schedule.K}, first_step={schedule.first_step}; "
            f"AsyncBC needs n={problem.n}, K=1, first_step=1 (steps t = 1, 2, ...)"
        )
    if steps > schedule.T:
        raise ParameterError(f"schedule has {schedule.T} steps; this run needs {steps}")
    made_for = schedule.params.get("tau_C")
    if made_for is not None and int(made_for) != tau_C:
        raise ParameterError(
            f"schedule was generated with tau_C={made_for} tasks in flight but this run has "
            f"tau_C={tau_C}: the initial reweighting 1/tau_C (line 3) needs the same tau_C"
        )
    rv = schedule.read_version[:steps]
    initial = int((rv == 1).sum())
    if initial > tau_C:
        raise ParameterError(
            f"schedule delivers {initial} initial tasks (read version 1) but tau_C={tau_C}: "
            "Algorithm 1 line 2 hands out exactly tau_C initial tasks"
        )
    counts = np.bincount(rv[rv >= 2])
    if counts.size and counts.max() > 1:
        v = int(np.argmax(counts))
        raise ParameterError(
            f"schedule has {int(counts[v])} tasks reading version {v}; after each step the server "
            "hands out exactly one task (Algorithm 1 line 8), so each version >= 2 is read once"
        )
    return schedule


def _tasks_by_version(sched: Schedule, steps: int) -> dict[int, np.ndarray]:
    """Version ``v`` -> indices of the used updates (steps ``1..steps``) that read it."""
    out: dict[int, np.ndarray] = {}
    for v, idx in sched.read_at().items():
        idx = idx[idx < steps]
        if idx.size:
            out[v] = idx
    return out


def _in_flight_tau(sched: Schedule, steps: int, tau_C: int, last_version: int) -> int:
    """Staleness charged to the tasks still in flight after step ``steps`` (0 if none).

    The run hands out ``tau_C`` tasks reading version 1 and one task reading each version
    ``2..last_version``; those not received by step ``steps`` arrive at step ``steps + 1`` or later,
    so Assumption 3 needs ``tau_max >= steps + 1 - v`` for each of them. In the proofs (AsyncBC App.
    A) such a task of version ``v`` sits in the active sets ``C_v, ..., C_steps`` and is counted
    ``steps + 1 - v`` times in ``tau_i^{t-1}`` (Lemma 2) and in the term A.
    """
    handed = np.zeros(last_version + 1, dtype=np.int64)
    handed[1] = tau_C
    handed[2:] = 1
    got = np.bincount(sched.read_version[:steps], minlength=last_version + 1)[: last_version + 1]
    v = np.nonzero(handed > got)[0]
    return int(steps + 1 - v.min()) if v.size else 0


def _sched_meta(sched: Schedule, steps: int, in_flight: int) -> dict[str, Any]:
    st = sched.staleness[:steps]
    out = sched.summary()
    out.update(
        {
            "steps_used": steps,
            "tau_max_measured": int(st.max()) if steps else 0,
            "tau_max_in_flight": in_flight,
            "staleness_histogram_used": np.bincount(st).tolist() if steps else [],
            "staleness": st.tolist(),
            "clients": sched.client[:steps].tolist(),
            "read_version": sched.read_version[:steps].tolist(),
            "shared_across_replicas": True,
        }
    )
    return out


class _Recorder:
    """Per-row scalar series (T, R), optional vectors, divergence."""

    def __init__(self, T: int, R: int, d: int, dev: torch.device, dtype: torch.dtype,
                 names: Sequence[str], vectors: Sequence[str]) -> None:  # fmt: skip
        self.S = {k: torch.empty(T, R, device=dev, dtype=dtype) for k in names}
        self.V = {k: torch.empty(T, R, d, device=dev, dtype=dtype) for k in vectors}
        self.diverged_at = new_divergence(R, dev)

    def row(self, t: int, problem: Problem, x: torch.Tensor, **extra: Any) -> None:
        update_divergence(
            self.diverged_at,
            t,
            x,
            *[v for v in extra.values() if torch.is_tensor(v) and v.dim() == 2],
        )
        self.S["grad_norm_sq"][t] = sq_norm(problem.grad(x))
        self.S["f_gap"][t] = f_gap(problem, x)
        if "x" in self.V:
            self.V["x"][t] = x
        for k, v in extra.items():
            if k in self.V:
                self.V[k][t] = v
            elif k in self.S:
                self.S[k][t] = v

    def finish(self, T: int, x: torch.Tensor, name: str, params: dict[str, Any],
               meta: dict[str, Any]) -> Trace:  # fmt: skip
        """The trace, after marking replicas whose final iterate ``x = x_T`` is not finite."""
        update_divergence(self.diverged_at, T, x)
        return Trace(algorithm=name, params=params, series={**self.S, **self.V},
                     diverged_at=self.diverged_at, meta=meta)  # fmt: skip


# --- the oracles ----------------------------------------------------------------------------
class _Diff:
    """Gradient differences of AsyncBC Algorithms 1-2 (line 3 and line 9) for a batch of tasks."""

    def __init__(self, problem: Problem, stochastic: bool, sampling: Sampling,
                 gen: torch.Generator) -> None:  # fmt: skip
        if sampling not in ("shared", "independent"):
            raise ParameterError(f"sampling must be 'shared' or 'independent', got {sampling!r}")
        self.problem, self.stochastic, self.sampling, self.gen = problem, stochastic, sampling, gen

    def __call__(
        self, clients: torch.Tensor, x_new: torch.Tensor, x_old: torch.Tensor
    ) -> torch.Tensor:
        """``(R, d), (R, d)`` -> ``(R, m, d)``: ``grad f_k(x_new, xi) - grad f_k(x_old, xi')``."""
        p, R, m = self.problem, x_new.shape[0], clients.numel()
        a = x_new.unsqueeze(1).expand(R, m, -1)
        b = x_old.unsqueeze(1).expand(R, m, -1)
        if not self.stochastic:
            return p.grad_i(a, clients) - p.grad_i(b, clients)
        if self.sampling == "shared":  # Assumption 5 (or the problem's own, e.g. Theorem 3's)
            s = p.sample(R, clients, self.gen)
            return p.grad_difference_i(a, b, s, clients)
        s1 = p.sample(R, clients, self.gen)
        s2 = p.sample(R, clients, self.gen)
        return p.stochastic_grad_i(a, s1, clients) - p.stochastic_grad_i(b, s2, clients)


# --- AsyncBC ---------------------------------------------------------------------------------
def _asyncbc(
    problem: Problem,
    *,
    stochastic: bool,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    tau: float,
    busy: str,
    schedule: Schedule | None,
    sampling: Sampling,
    x0: Any,
    device: Any,
    dtype: torch.dtype,
    record_x: bool,
    name: str,
) -> Trace:
    T, R, eta, tau_C, tau, dev = _checked(problem, T, R, eta, tau_C, tau, device, dtype)
    d, n = problem.d, problem.n
    streams = Streams(seed, dev)
    steps = T - 1  # server steps t = 1..T-1 produce x_2..x_T; rows hold x_0..x_{T-1}
    sched = _schedule(problem, schedule, T, steps, tau_C, tau, busy, streams)
    by_version = _tasks_by_version(sched, steps)
    clients_np = sched.client
    diff = _Diff(problem, stochastic, sampling, streams.torch("noise"))
    rec = _Recorder(T, R, d, dev, dtype, _BC_SERIES, ("x", "m") if record_x else ())
    pending: dict[int, torch.Tensor] = {}

    def hand_out(version: int, x_new: torch.Tensor, x_old: torch.Tensor) -> int:
        idx = by_version.get(version)
        if idx is None:
            return 0
        cl = torch.as_tensor(clients_np[idx], device=dev, dtype=torch.long)
        g = diff(cl, x_new, x_old)
        if version == 1:  # line 3: the 1/tau_C reweighting of the initial differences
            g = g / tau_C
        for j, e in enumerate(idx.tolist()):
            pending[e] = g[:, j]
        return len(idx)

    # line 1: m_0 = grad f(x_0) (exact, footnote 3), x_1 = x_0 - eta m_0
    x_prev = initial_point(x0, R, d, dev, dtype)
    m = problem.grad(x_prev).to(dtype)
    bits_up = n * _FULL.bits(d)  # n local gradients for m_0 (footnote 3: omitted from the rates)
    bits_down = n * _FULL.bits(d)  # x_0 sent to all n clients
    rec.row(0, problem, x_prev, m=m, m_norm_sq=sq_norm(m), bits_up=bits_up, bits_down=bits_down)
    x = x_prev - eta * m
    # line 2-3: tau_C initial tasks, each gets (x_1, x_0)
    hand_out(1, x, x_prev)
    bits_down += tau_C * 2 * _FULL.bits(d)
    for t in range(1, T):
        e = t - 1
        g = pending.pop(e)  # line 5: g_{t - tau_t}^{j_t}
        m = m + g  # line 6
        bits_up += _FULL.bits(d)
        rec.row(t, problem, x, m=m, m_norm_sq=sq_norm(m), bits_up=bits_up, bits_down=bits_down)
        x_next = x - eta * m  # line 7
        hand_out(t + 1, x_next, x)  # lines 8-9: the next task reads (x_{t+1}, x_t)
        bits_down += 2 * _FULL.bits(d)
        x_prev, x = x, x_next
    params = {"T": T, "R": R, "eta": _eta_param(eta), "tau_C": tau_C, "tau": tau, "busy": busy,
              "sampling": sampling if stochastic else None}  # fmt: skip
    # lines 8-9 run after every step t = 1..steps: versions 2..steps+1 are handed out
    in_flight = _in_flight_tau(sched, steps, tau_C, last_version=steps + 1)
    meta = _meta(
        name,
        "AsyncBC Algorithm 2" if stochastic else "AsyncBC Algorithm 1",
        params,
        seed,
        dev,
        dtype,
        problem,
        schedule=_sched_meta(sched, steps, in_flight),
        tau_max=max(int(sched.staleness[:steps].max()), in_flight),
        x_final=x,
        grad_norm_sq="row t: ||grad f(x_t)||^2, t = 0..T-1 (lhs of Theorems 1-2: mean over rows)",
        m_norm_sq="row t: ||m_t||^2 with x_{t+1} = x_t - eta m_t (the proofs' sums of ||m_i||^2)",
        bits="cumulative; row 0 counts m_0 = grad f(x_0) (n uploads, n downloads of x_0); each "
        "step one upload and two downloaded vectors (x_{t+1}, x_t); 32 bits per entry",
    )
    return rec.finish(T, x, name, params, meta)


def asyncbc_gd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | None = None,
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
    searched in one batch, as Section 5's grid search). ``T`` is the number of iterates recorded (rows ``x_0..x_{T-1}``, the theorems' average);
    ``T - 1`` server steps are taken (``x_T`` is in ``meta['x_final']``). Without ``schedule`` the
    order comes from :func:`~boundcheck.algorithms.async_sim.asyncbc_schedule` (``tau``, ``busy``,
    the ``delays`` stream of ``seed``) generated for ``T`` steps, so that :func:`async_gd` with the same
    arguments follows the same event order. Trace: ``grad_norm_sq``, ``f_gap``, ``m_norm_sq``,
    cumulative ``bits_up``/``bits_down``; with ``record_x`` also ``x`` and ``m`` (T, R, d).
    ``meta['tau_max']`` is measured over the applied updates and the tasks still in flight at the
    end (module docstring).

    Example: ``asyncbc_gd(problem, T=2000, R=4, seed=0, eta=1e-2, tau_C=4)``.
    """
    return _asyncbc(problem, stochastic=False, T=T, R=R, seed=seed, eta=eta, tau_C=tau_C, tau=tau,
                    busy=busy, schedule=schedule, sampling="shared", x0=x0, device=device,
                    dtype=dtype, record_x=record_x, name="asyncbc_gd")  # fmt: skip


def asyncbc_sgd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    sampling: Sampling = "shared",
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """AsyncBC-SGD, AsyncBC Algorithm 2 (stochastic gradient differences).

    As :func:`asyncbc_gd` with the stochastic oracle ``grad f_k(x, xi)``. ``sampling="shared"``
    (default, Assumption 5 and footnote a): one sample per task, ``problem.grad_difference_i(x_{t+1},
    x_t, xi_{t+1})``; a problem built with the independent-noise oracle of Theorem 3 answers this with
    ``grad f_k(x_{t+1}) - grad f_k(x_t) + xi_t``. ``sampling="independent"``: Algorithm 2 read
    literally with two independent samples ``xi_{t+1}, xi'_{t+1}``. ``m_0 = grad f(x_0)`` is exact
    (line 1). The initial differences (line 3), noise included, are divided by ``tau_C``.
    """
    return _asyncbc(problem, stochastic=True, T=T, R=R, seed=seed, eta=eta, tau_C=tau_C, tau=tau,
                    busy=busy, schedule=schedule, sampling=sampling, x0=x0, device=device,
                    dtype=dtype, record_x=record_x, name="asyncbc_sgd")  # fmt: skip


# --- SARAH ------------------------------------------------------------------------------------
def sarah(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
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
    ``[n]`` (or take ``clients[t-1]``), ``m_t = m_{t-1} + grad f_{i_t}(x_t, xi_t) - grad f_{i_t}(x_{t-1},
    xi_t')``, ``x_{t+1} = x_t - eta m_t``. With ``stochastic=False`` the gradients are exact;
    otherwise as in :func:`asyncbc_sgd` (``sampling="shared"``: ``problem.grad_difference_i``, which
    is Theorem 3's oracle ``grad f_i(x_t) - grad f_i(x_{t-1}) + xi_t`` on a problem with the
    independent-noise oracle). Written without the event machinery, so that "AsyncBC with ``tau_C = 1``
    is SARAH" is a test between two implementations. Trace as :func:`asyncbc_gd`.
    """
    T, R = check_int("T", T, 2, numpy_ok=True), check_int("R", R, 1, numpy_ok=True)
    dev = resolve_device(problem, device)
    eta = _stepsize(eta, R, dev, dtype)
    d, n = problem.d, problem.n
    streams = Streams(seed, dev)
    if clients is None:
        cl_np = streams.numpy("sampling").integers(n, size=T - 1)
    else:
        cl_np = np.asarray(clients, dtype=np.int64).reshape(-1)
        if cl_np.size < T - 1 or (cl_np[: T - 1] < 0).any() or (cl_np[: T - 1] >= n).any():
            raise ParameterError(
                f"clients must hold at least T-1={T - 1} ids in [0, {n}), got {cl_np.tolist()[:10]}..."
            )
    diff = _Diff(problem, stochastic, sampling, streams.torch("noise"))
    rec = _Recorder(T, R, d, dev, dtype, _BC_SERIES, ("x", "m") if record_x else ())
    x_prev = initial_point(x0, R, d, dev, dtype)
    m = problem.grad(x_prev).to(dtype)
    bits_up = bits_down = n * _FULL.bits(d)
    rec.row(0, problem, x_prev, m=m, m_norm_sq=sq_norm(m), bits_up=bits_up, bits_down=bits_down)
    x = x_prev - eta * m
    for t in range(1, T):
        i_t = torch.as_tensor(cl_np[t - 1 : t], device=dev, dtype=torch.long)
        bits_down += 2 * _FULL.bits(d)
        m = m + diff(i_t, x, x_prev)[:, 0]
        bits_up += _FULL.bits(d)
        rec.row(t, problem, x, m=m, m_norm_sq=sq_norm(m), bits_up=bits_up, bits_down=bits_down)
        x_prev, x = x, x - eta * m
    params = {
        "T": T,
        "R": R,
        "eta": _eta_param(eta),
        "stochastic": stochastic,
        "sampling": sampling,
    }
    meta = _meta("sarah", "AsyncBC Section 4.2 (Nguyen et al., 2017)", params, seed, dev, dtype,
                 problem, clients=cl_np[: T - 1].tolist(), x_final=x)  # fmt: skip
    return rec.finish(T, x, "sarah", params, meta)


# --- the baseline without bias correction ---------------------------------------------------
def _async_plain(
    problem: Problem,
    *,
    stochastic: bool,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    tau: float,
    busy: str,
    schedule: Schedule | None,
    x0: Any,
    device: Any,
    dtype: torch.dtype,
    record_x: bool,
    name: str,
) -> Trace:
    T, R, eta, tau_C, tau, dev = _checked(problem, T, R, eta, tau_C, tau, device, dtype)
    d = problem.d
    streams = Streams(seed, dev)
    steps = T  # steps t = 1..T produce x_1..x_T; rows hold x_0..x_{T-1}
    sched = _schedule(problem, schedule, T, steps, tau_C, tau, busy, streams)
    by_version = _tasks_by_version(sched, steps)
    gen = streams.torch("noise")
    rec = _Recorder(T, R, d, dev, dtype, ("grad_norm_sq", "f_gap", "bits_up", "bits_down"),
                    ("x",) if record_x else ())  # fmt: skip
    pending: dict[int, torch.Tensor] = {}

    def hand_out(version: int, x_read: torch.Tensor) -> None:
        idx = by_version.get(version)
        if idx is None:
            return
        cl = torch.as_tensor(sched.client[idx], device=dev, dtype=torch.long)
        xs = x_read.unsqueeze(1).expand(R, len(idx), d)
        if stochastic:
            g = problem.stochastic_grad_i(xs, problem.sample(R, cl, gen), cl)
        else:
            g = problem.grad_i(xs, cl)
        for j, e in enumerate(idx.tolist()):
            pending[e] = g[:, j]

    x = initial_point(x0, R, d, dev, dtype)
    bits_up, bits_down = 0, tau_C * _FULL.bits(d)
    hand_out(1, x)  # the tau_C initial tasks compute at x_0
    for t in range(1, T + 1):
        rec.row(t - 1, problem, x, bits_up=bits_up, bits_down=bits_down)
        g = pending.pop(t - 1)  # grad f_{j_t}(x_{t-1-tau_t})
        x = x - eta * g
        bits_up += _FULL.bits(d)
        if t < T:
            hand_out(t + 1, x)  # a new client u.a.r. computes at x_t
            bits_down += _FULL.bits(d)
    params = {"T": T, "R": R, "eta": _eta_param(eta), "tau_C": tau_C, "tau": tau, "busy": busy}
    # a task is handed out after steps t = 1..steps-1 only: versions 2..steps
    in_flight = _in_flight_tau(sched, steps, tau_C, last_version=steps)
    meta = _meta(
        name,
        "AsyncBC Table 1 / Section 5 baseline (Koloskova et al., 2022)",
        params,
        seed,
        dev,
        dtype,
        problem,
        schedule=_sched_meta(sched, steps, in_flight),
        tau_max=max(int(sched.staleness[:steps].max()), in_flight),
        x_final=x,
        grad_norm_sq="row t: ||grad f(x_t)||^2, t = 0..T-1",
        bits="cumulative bits before step t+1; tau_C initial downloads of x_0 at row 0; one "
        "upload and one download per step; 32 bits per entry",
    )
    return rec.finish(T, x, name, params, meta)


def async_gd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """Async-GD without bias correction (AsyncBC Table 1 and Figure 1's baseline; Koloskova et al. 2022).

    ``tau_C`` clients start at ``x_0``; at step ``t = 1..T`` the server receives ``grad f_{j_t}
    (x_{t-1-tau_t})``, sets ``x_t = x_{t-1} - eta g`` and hands ``x_t`` to a client drawn u.a.r. On the
    same schedule as :func:`asyncbc_gd` (a task reading version ``v`` computes at ``x_{v-1}`` here and
    at ``(x_v, x_{v-1})`` there; the staleness ``t - v`` is the same). Rows ``x_0..x_{T-1}``.
    """
    return _async_plain(problem, stochastic=False, T=T, R=R, seed=seed, eta=eta, tau_C=tau_C,
                        tau=tau, busy=busy, schedule=schedule, x0=x0, device=device, dtype=dtype,
                        record_x=record_x, name="async_gd")  # fmt: skip


def async_sgd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | torch.Tensor,
    tau_C: int,
    tau: float = 10.0,
    busy: str = "queue",
    schedule: Schedule | None = None,
    x0: Any = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """Async-SGD: :func:`async_gd` with the stochastic oracle ``grad f_j(x, xi)`` (AsyncBC Figure 2)."""
    return _async_plain(problem, stochastic=True, T=T, R=R, seed=seed, eta=eta, tau_C=tau_C,
                        tau=tau, busy=busy, schedule=schedule, x0=x0, device=device, dtype=dtype,
                        record_x=record_x, name="async_sgd")  # fmt: skip
