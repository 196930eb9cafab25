"""Shared plumbing of the batched algorithms: parameter checks, seeded random streams, the initial
point, divergence tracking and the quantities every trace records."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from boundcheck.compressors import Compressor
from boundcheck.errors import ParameterError
from boundcheck.problems.base import Problem
from boundcheck.rng import ReplicaGenerator, numpy_generators, replica_seed


@dataclass
class Streams:
    """One seeded stream per source of randomness *and per replica* (DESIGN.md), from one seed.

    ``replica(name)`` is the source's :class:`~boundcheck.rng.ReplicaGenerator` over replicas
    ``first_replica .. first_replica + R - 1`` (see :mod:`boundcheck.rng`: replica ``r`` of a batch
    equals a single-replica run with ``first_replica = r``); ``numpy_replicas(name)`` gives the same
    replicas' NumPy generators for host-side schedules. ``torch(name)`` / ``numpy(name)`` are one
    stream *shared* by all replicas (replica 0's seed), for randomness no expectation averages over.
    Changing how many draws one source makes leaves every other source's streams untouched.
    """

    seed: int
    device: torch.device | str = "cpu"
    R: int = 1
    first_replica: int = 0
    _torch: dict[str, torch.Generator] = field(default_factory=dict, repr=False)
    _replica: dict[str, ReplicaGenerator] = field(default_factory=dict, repr=False)

    def _sub_seed(self, name: str) -> int:
        return replica_seed(self.seed, name, 0)

    def replica(self, name: str) -> ReplicaGenerator:
        """The per-replica generator of stream ``name`` (created on first use)."""
        if name not in self._replica:
            self._replica[name] = ReplicaGenerator.for_run(
                self.seed, name, self.R, first_replica=self.first_replica, device=self.device
            )
        return self._replica[name]

    def numpy_replicas(self, name: str) -> list[np.random.Generator]:
        """Fresh NumPy generators of stream ``name``, one per replica of this run."""
        return numpy_generators(
            self.seed, name, range(self.first_replica, self.first_replica + self.R)
        )

    def torch(self, name: str) -> torch.Generator:
        """The torch generator of stream ``name`` shared by all replicas (created on first use)."""
        if name not in self._torch:
            g = torch.Generator(device=self.device)
            g.manual_seed(self._sub_seed(name))
            self._torch[name] = g
        return self._torch[name]

    def numpy(self, name: str) -> np.random.Generator:
        """A fresh NumPy generator of stream ``name`` shared by all replicas."""
        return np.random.default_rng(self._sub_seed(name))


def update_divergence(diverged_at: torch.Tensor, step: int, *tensors: torch.Tensor) -> None:
    """Mark, in place, replicas whose tensors hold a non-finite value for the first time at ``step``.

    ``diverged_at`` has shape ``(R,)`` with -1 for replicas that have not diverged; every tensor has
    the replica axis first.
    """
    total = None  # fast path: one finite grand total means every entry of every tensor is finite
    for t in tensors:
        s = t.sum()
        total = s if total is None else total.add_(s)
    if total is None or bool(torch.isfinite(total)):
        return
    bad = None
    for t in tensors:
        rows = t.reshape(t.shape[0], -1)
        # a finite row sum means finite entries (NaN and inf propagate): one read, no (R, m) mask;
        # only rows whose sum is not finite (a non-finite entry, or finite ones overflowing the
        # sum) are looked at entry by entry
        s = torch.isfinite(rows.sum(dim=1))
        if not bool(s.all()):
            s |= torch.isfinite(rows).all(dim=1)
            bad = ~s if bad is None else bad | ~s
    if bad is None:
        return
    newly = bad & (diverged_at < 0)
    diverged_at[newly] = step


# --- parameter checks (user mistakes raise ParameterError, DESIGN.md) -----------------------------
def check_int(name: str, value: Any, minimum: int, *, numpy_ok: bool = False) -> int:
    """``value`` as int if it is an integer >= ``minimum`` (never a bool), else ParameterError.

    NumPy integers are accepted only with ``numpy_ok`` (the schedules and AsyncBC take ids and
    counts straight from arrays).
    """
    types = (int, np.integer) if numpy_ok else int
    if isinstance(value, bool) or not isinstance(value, types) or value < minimum:
        raise ParameterError(f"{name}={value!r} is not allowed: expected an integer >= {minimum}")
    return int(value)


def check_float(name: str, value: Any, *, minimum: float = 0.0, strict: bool = True) -> float:
    """``value`` as a finite float > ``minimum`` (or >= if not ``strict``), else ParameterError.

    A bool is refused (as in :func:`check_int`): ``True`` is no stepsize.
    """
    try:
        v = float("nan") if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        v = float("nan")
    if not math.isfinite(v) or (v <= minimum if strict else v < minimum):
        rel = ">" if strict else ">="
        raise ParameterError(
            f"{name}={value!r} is not allowed: expected a finite number {rel} {minimum:g}"
        )
    return v


def check_problem(problem: Any) -> Problem:
    if not isinstance(problem, Problem):
        raise ParameterError(f"problem={problem!r} is not allowed: expected a boundcheck Problem")
    return problem


def check_compressor(name: str, c: Any) -> Compressor:
    if not isinstance(c, Compressor):
        raise ParameterError(f"{name}={c!r} is not allowed: expected a boundcheck Compressor")
    return c


def resolve_device(problem: Problem, device: Any) -> torch.device:
    """The run's device: the problem's unless ``device`` names the same one."""
    pdev = torch.device(problem.device)
    if device is None:
        return pdev
    dev = torch.device(device)
    if dev.type != pdev.type or (dev.index is not None and pdev.index not in (None, dev.index)):
        raise ParameterError(
            f"device={device!r} is not allowed: the problem lives on {pdev}; build it on {dev}"
        )
    return pdev


def initial_point(
    x0: Any, R: int, d: int, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """``x0`` of shape ``(d,)`` or ``(R, d)`` (default zeros) as a fresh ``(R, d)`` tensor."""
    if x0 is None:
        return torch.zeros(R, d, device=device, dtype=dtype)
    x = torch.as_tensor(x0, device=device, dtype=dtype)
    if x.shape == (d,):
        return x.unsqueeze(0).repeat(R, 1)
    if x.shape == (R, d):
        return x.clone()
    raise ParameterError(
        f"x0 of shape {tuple(x.shape)} is not allowed: expected ({d},) or ({R}, {d})"
    )


# --- what the runs compute and record ------------------------------------------------------------
def new_divergence(R: int, device: torch.device) -> torch.Tensor:
    """The ``(R,)`` first-divergence record, -1 everywhere (see :func:`update_divergence`)."""
    return torch.full((R,), -1, dtype=torch.long, device=device)


def sq_norm(x: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean norm over the last axis."""
    return (x * x).sum(dim=-1)


def f_star_used(problem: Problem) -> tuple[float | None, str]:
    """The ``f*`` that :func:`f_gap` subtracts, and how it is known: ``(value, provenance)``.

    * ``("exact")``: ``constants['f_star']`` with provenance ``exact`` (closed form / solved to a
      stated accuracy, e.g. quadratics; ``-inf`` where f is unbounded below);
    * ``("certified_lower_bound")``: else ``constants['f_star_lower']``, a certified lower bound
      of ``inf f`` (e.g. logistic regression, whose ``f_star`` is only the solver's value, an upper
      bound: subtracting it would make ``F0 = f(x_0) - f*`` too small and loosen every check);
    * ``(None, "none")``: the problem knows neither; :func:`f_gap` then returns ``f(x)`` itself.

    Anything feeding a bound (``F0``) must use this value (DESIGN.md: F0 from a certified lower
    bound of ``f*``); record the provenance in ``trace.meta``.
    """
    consts = getattr(problem, "constants", {}) or {}
    fs = consts.get("f_star")
    if fs is not None and fs.provenance == "exact":
        return float(fs.value), "exact"
    lo = consts.get("f_star_lower")
    if lo is not None:
        return float(lo.value), "certified_lower_bound"
    return None, "none"


def f_gap(problem: Problem, x: torch.Tensor) -> torch.Tensor:
    """``f(x) - f*`` with ``f*`` from :func:`f_star_used` (the exact ``f_star`` where known, else a
    certified lower bound ``f_star_lower``), else ``f(x)``; ``(R, d) -> (R,)``. Never smaller than
    the true gap ``f(x) - inf f`` (up to the exact value's own rounding)."""
    f = problem.f(x)
    fs, _ = f_star_used(problem)
    return f - fs if fs is not None else f


def safe_compress(C: Compressor, x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """``C(x)`` with every message (last axis) that a diverged replica has spoilt passed as zeros
    and returned as NaN, so a diverged replica stays diverged (and is reported) without crashing
    the compressor; the compressor draws the same random numbers, so the other replicas' streams
    are unchanged.

    Spoilt means holding a non-finite entry, or finite entries whose 2-norm exceeds the dtype's
    range (the compressors refuse such a message; a replica on its way to infinity passes there).
    """
    m = x.abs().amax(dim=-1, keepdim=True)  # NaN propagates, inf stays inf
    scaled = torch.linalg.vector_norm(
        x / torch.where(m > 0, m, torch.ones_like(m)), dim=-1, keepdim=True
    )
    ok = torch.isfinite(m * scaled) & torch.isfinite(x).all(dim=-1, keepdim=True)
    if bool(ok.all()):
        return C(x, gen)
    out = C(torch.where(ok, x, torch.zeros_like(x)), gen)
    return torch.where(ok, out, torch.full_like(out, math.nan))


# --- per-replica client calls (issue 8) ------------------------------------------------------------
class ClientCalls:
    """The problem's per-client methods called with **per-replica** clients ``(R, m)``.

    Gradients are evaluated on the flattened batch: ``x`` ``(R, m, d)`` -> ``(1, R m, d)`` with
    clients ``(R m,)``, which every :class:`Problem` answers (the contract's shared ``(m,)`` clients)
    and which is the same arithmetic as a per-replica call. Oracle samples are drawn per replica,
    ``(R, m, ...)``, from a :class:`~boundcheck.rng.ReplicaGenerator`: with ``(R, m)`` clients where
    the problem accepts them; otherwise, for oracles whose draw depends only on the shape (exact,
    Gaussian, independent noise, or every replica naming the same clients), with replica 0's clients.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self._native_sample: bool | None = None

    @staticmethod
    def _flat(x: torch.Tensor) -> torch.Tensor:
        return x.reshape(1, x.shape[0] * x.shape[1], *x.shape[2:])

    def grad_i(self, x: torch.Tensor, clients: torch.Tensor) -> torch.Tensor:
        """``grad f_c(x)``: ``x`` ``(R, m, d)``, ``clients`` ``(R, m)`` -> ``(R, m, d)``."""
        return self.problem.grad_i(self._flat(x), clients.reshape(-1)).view(x.shape)

    def sample(self, R: int, clients: torch.Tensor, gen: Any) -> Any:
        """One oracle sample per (replica, slot), replica ``r`` from ``gen``'s row ``r``."""
        p = self.problem
        if self._native_sample is not False:
            try:
                s = p.sample(R, clients, gen)
                if s is None or (torch.is_tensor(s) and s.shape[:2] == clients.shape):
                    self._native_sample = True
                    return s
            except (ParameterError, ValueError, RuntimeError, IndexError, TypeError):
                if self._native_sample:
                    raise
            self._native_sample = False
        oracle = getattr(getattr(p, "oracle", None), "name", None)
        if oracle == "minibatch" and not bool((clients == clients[:1]).all()):
            raise ParameterError(
                f"{type(p).__name__} with oracle='minibatch' does not accept per-replica clients "
                "(R, m) in sample(); it needs the per-replica client API of the problems module"
            )
        return p.sample(R, clients[0], gen)

    def _flat_sample(self, sample: Any) -> Any:
        return self._flat(sample) if torch.is_tensor(sample) else sample

    def stochastic_grad_i(
        self, x: torch.Tensor, sample: Any, clients: torch.Tensor
    ) -> torch.Tensor:
        """``grad f_c(x, xi)`` with per-replica clients ``(R, m)`` and sample ``(R, m, ...)``."""
        g = self.problem.stochastic_grad_i(
            self._flat(x), self._flat_sample(sample), clients.reshape(-1)
        )
        return g.view(x.shape)

    def grad_difference_i(
        self, x_new: torch.Tensor, x_old: torch.Tensor, sample: Any, clients: torch.Tensor
    ) -> torch.Tensor:
        """AsyncBC's gradient-difference oracle (Algorithm 2 line 9) with per-replica clients."""
        g = self.problem.grad_difference_i(
            self._flat(x_new), self._flat(x_old), self._flat_sample(sample), clients.reshape(-1)
        )
        return g.view(x_new.shape)


def f_star_meta(problem: Problem) -> dict[str, Any]:
    """Which ``f*`` the trace's ``f_gap`` subtracts, for ``Trace.meta['f_star_used']``:
    ``{"value", "provenance"}`` from :func:`f_star_used` (exact ``f_star``, else a certified lower
    bound ``f_star_lower``, else none: ``f_gap`` is then ``f(x)``)."""
    value, provenance = f_star_used(problem)
    return {"value": value, "provenance": provenance}
