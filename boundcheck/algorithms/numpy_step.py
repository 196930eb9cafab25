"""A user's plain NumPy step function as a batched algorithm (issue 15, "bring your own algorithm").

:func:`numpy_algorithm` turns ``step(x, g, *, t, rng, **settings) -> x_next`` into an algorithm of
the engine's protocol ``(problem, *, T, R, seed, device, first_replica, ..., **settings) -> Trace``:

* ``x`` is the iterate, ``g`` an unbiased stochastic gradient of ``f = 1/n sum_i f_i`` at ``x`` (the
  mean of one oracle draw per client, from the replica's own ``"noise"`` stream: variance
  ``<= sigma2 / n``), ``t`` the step number and ``rng`` the replica's own NumPy generator (stream
  ``"user"``) for the step's own randomness;
* **vectorised**: the step accepts a batch, ``x`` and ``g`` of shape ``(R, d)`` and ``rng`` a list of
  the ``R`` replicas' generators (``np.stack([r.normal(size=d) for r in rng])``); **looped**: ``x``,
  ``g`` of shape ``(d,)`` and ``rng`` one generator, called once per replica per step -- ``R`` Python calls
  per step instead of one, said once in a :class:`SlowStepWarning` (benchmarks/bench_user_step.py
  measures the cost against the vectorised form and the shipped torch SGD). ``vectorized=None`` decides at the first
  step: the batched call must succeed and agree with the per-replica calls (on copies of the
  generators), else the loop is used.

The trace records, at rows ``t = 0..T-1`` (before step ``t``), ``grad_norm_sq`` (``||grad f(x_t)||^2``),
``f_gap`` (``f(x_t) - f*``) and with ``record_x`` the iterates; ``meta["x_final"]`` holds ``x_T``.
With ``step = x - eta g`` this is exactly ``momentum_sgd(K=1, mu=0)`` (a test checks it number for
number). Replica ``r`` depends only on ``(seed, first_replica + r)``: the independence contract.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from boundcheck.algorithms.common import (
    Streams,
    f_gap,
    initial_point,
    new_divergence,
    sq_norm,
    update_divergence,
)
from boundcheck.algorithms.trace import Trace
from boundcheck.errors import ParameterError
from boundcheck.rng import numpy_generators

__all__ = ["SlowStepWarning", "numpy_algorithm"]


class SlowStepWarning(UserWarning):
    """A step function that is not vectorised over replicas runs in a Python loop."""


_WARNED: set[int] = set()
_RESERVED = ("x", "g", "t", "rng")


def _settings_of(step: Callable[..., Any]) -> list[inspect.Parameter]:
    try:
        params = inspect.signature(step).parameters
    except (TypeError, ValueError):
        raise ParameterError(f"{step!r} is not a function step(x, g, *, t, rng, ...)") from None
    names = list(params)
    if names[:2] != ["x", "g"] or "t" not in params or "rng" not in params:
        raise ParameterError(
            f"step function {getattr(step, '__name__', step)!r} has parameters ({', '.join(names)}); "
            "expected step(x, g, *, t, rng, **settings)"
        )
    return [
        inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=p.default)
        for k, p in params.items()
        if k not in _RESERVED and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
    ]


def numpy_algorithm(
    step: Callable[..., Any], *, name: str | None = None, vectorized: bool | None = None
) -> Callable[..., Trace]:
    """The batched algorithm running ``step`` (see the module docstring). The step's own keyword
    parameters (e.g. ``eta``) become the algorithm's settings, settable from a theorem file."""
    extra = _settings_of(step)
    label = name or getattr(step, "__name__", "numpy_step")

    def algorithm(
        problem: Any,
        *,
        T: int,
        R: int,
        seed: int,
        device: Any = None,
        first_replica: int = 0,
        dtype: torch.dtype = torch.float64,
        record_x: bool = False,
        x0: Any = None,
        **settings: Any,
    ) -> Trace:
        dev = torch.device(device if device is not None else problem.device)
        d, n = problem.d, problem.n
        x = initial_point(x0, R, d, dev, dtype)
        noise = Streams(seed, dev, R=R, first_replica=first_replica).replica("noise")
        rngs = numpy_generators(seed, "user", range(first_replica, first_replica + R))
        clients = problem.all_clients()
        diverged_at = new_divergence(R, dev)
        S = {k: torch.empty(T, R, device=dev, dtype=dtype) for k in ("grad_norm_sq", "f_gap")}
        if record_x:
            S["x"] = torch.empty(T, R, d, device=dev, dtype=dtype)
        vec = vectorized
        for t in range(T):
            update_divergence(diverged_at, t, x)
            S["grad_norm_sq"][t] = sq_norm(problem.grad(x))
            S["f_gap"][t] = f_gap(problem, x)
            if record_x:
                S["x"][t] = x
            sample = problem.sample(R, clients, noise)
            g = problem.stochastic_grad_i(x.unsqueeze(1).expand(R, n, d), sample, clients)
            xn, gn = x.cpu().numpy(), g.mean(dim=1).cpu().numpy()
            if vec is None:
                vec = _try_batch(step, xn, gn, t, rngs, settings)
                if not vec and id(step) not in _WARNED:
                    _WARNED.add(id(step))
                    warnings.warn(
                        f"step function {label!r} is not vectorised over replicas: it runs in a "
                        f"Python loop over the R = {R} replicas ({R} calls per step instead of one: "
                        "slower as R grows); accept x and g of shape (R, d) and rng as a list of "
                        "generators to vectorise it",
                        SlowStepWarning,
                        stacklevel=2,
                    )
            if vec:
                new = np.asarray(step(xn, gn, t=t, rng=rngs, **settings), dtype=float)
            else:
                new = np.stack(
                    [np.asarray(step(xn[r], gn[r], t=t, rng=rngs[r], **settings), dtype=float)
                     for r in range(R)]
                )  # fmt: skip
            if new.shape != (R, d):
                raise ParameterError(
                    f"step function {label!r} returned shape {new.shape}; expected {(R, d)} "
                    f"(vectorised) or ({d},) per replica"
                )
            x = torch.as_tensor(new, dtype=dtype, device=dev)
        update_divergence(diverged_at, T, x)
        params = {"T": T, "R": R, "first_replica": first_replica, **settings}
        meta = {
            "algorithm": label,
            "source": "user step function (boundcheck.algorithms.numpy_step)",
            "params": params,
            "seed": seed,
            "first_replica": first_replica,
            "device": str(dev),
            "dtype": str(dtype),
            "vectorized": bool(vec),
            "streams": {"noise": "the oracle draws", "user": "the step's rng"},
            "x_final": x,
        }
        return Trace(algorithm=label, params=params, series=S, diverged_at=diverged_at, meta=meta)

    base = [p for p in inspect.signature(algorithm).parameters.values() if p.kind != p.VAR_KEYWORD]
    algorithm.__signature__ = inspect.Signature(base + extra)  # type: ignore[attr-defined]
    algorithm.__name__ = label
    algorithm.__doc__ = f"The NumPy step function {label!r} run over a batch of replicas."
    return algorithm


def _try_batch(step, xn, gn, t, rngs, settings) -> bool:
    """Whether ``step`` works on the batch: it returns ``(R, d)`` equal to the per-replica calls
    (both on copies of the generators, so the run's own draws are untouched)."""
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            batch = np.asarray(step(xn, gn, t=t, rng=copy.deepcopy(rngs), **settings), dtype=float)
    except Exception:
        return False
    if batch.shape != xn.shape:
        return False
    copies = copy.deepcopy(rngs)
    try:
        loop = np.stack(
            [np.asarray(step(xn[r], gn[r], t=t, rng=copies[r], **settings), dtype=float)
             for r in range(len(rngs))]
        )  # fmt: skip
    except Exception:
        return True  # only the batched form works
    return bool(np.allclose(batch, loop, rtol=1e-12, atol=0.0, equal_nan=True))
