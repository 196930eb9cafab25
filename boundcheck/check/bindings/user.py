"""Bindings of users' theorem files, and the "bring your own algorithm" protocol (issue 15).

**Where the symbols' values come from.** A theorem file's ``[bind]`` table maps a symbol to a source:
``constant:NAME`` (the problem's certified constant), ``sqrt:NAME`` (its square root: ``sigma`` from
``sigma2``), ``setting:NAME`` (an algorithm setting or sweep key), ``F0`` (``f(x0) - f*`` from a
certified lower bound of ``f*``), ``D0`` (``||x0 - x*||^2``), ``n`` / ``d`` (the problem's sizes) or
a number. Unbound symbols default to: an algorithm setting or sweep key of that name; ``F0``, ``D0``,
``n``, ``d`` as named; ``sigma`` -> ``sqrt:sigma2``; ``zeta`` -> ``sqrt:zeta2``; else
``constant:NAME``.

**Bring your own algorithm.** A function ``fn(problem, *, T, R, seed, device, first_replica=0,
**settings) -> Trace`` (``boundcheck.algorithms.trace.Trace``), batched over ``R`` replicas:
every series has shape ``(steps, R, ...)``, ``diverged_at`` shape ``(R,)`` (or ``None``: derived
from the series), and replica ``r`` depends only on ``(seed, first_replica + r)``
(:mod:`boundcheck.rng`). :func:`checked_algorithm` wraps it so every call's trace is checked for
shapes, and the independence contract is checked on small runs (``R <= 2``, ``T <= 16``): replica
1 of a batch must equal a run with ``first_replica = 1``; replicas of one batch may be equal only
when the algorithm ignores the seed (deterministic); random replicas must change with the seed. A violation raises
:class:`~boundcheck.errors.BoundcheckError` with what differs.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from boundcheck.check.bindings.base import (
    ALGORITHMS,
    USER_ALGORITHMS,
    Binding,
    Ctx,
    Lhs,
    Sym,
    algorithm_parameters,
    f0_value,
    start_point,
)
from boundcheck.errors import BoundcheckError, SpecError

__all__ = ["binding_for", "check_independence", "check_trace", "checked_algorithm", "register"]

#: rows of the independence check's small run
CONTRACT_T = 16


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


# --- the protocol ----------------------------------------------------------------------------------
def check_trace(trace: Any, R: int, label: str) -> Any:
    """Refuse a trace that breaks the protocol's shapes; fill ``diverged_at`` when ``None``."""
    import torch

    from boundcheck.algorithms.trace import Trace

    if not isinstance(trace, Trace):
        raise BoundcheckError(
            f"algorithm {label!r} returned {type(trace).__name__}, not a "
            "boundcheck.algorithms.trace.Trace"
        )
    if not trace.series:
        raise BoundcheckError(f"algorithm {label!r} returned a trace without series")
    first_bad = None
    for k, v in trace.series.items():
        shape = tuple(getattr(v, "shape", ()))
        if len(shape) < 2 or shape[1] != R or shape[0] < 1:
            raise BoundcheckError(
                f"algorithm {label!r}: series {k!r} has shape {shape}; the protocol needs "
                f"(steps, R, ...) with R = {R} replicas on axis 1"
            )
        if len(shape) == 2:
            a = _np(v)
            bad = ~np.isfinite(a)
            rows = np.where(bad.any(axis=0), bad.argmax(axis=0), -1)
            first_bad = rows if first_bad is None else np.where(
                (first_bad < 0) | ((rows >= 0) & (rows < first_bad)), rows, first_bad
            )  # fmt: skip
    if trace.diverged_at is None:
        fb = first_bad if first_bad is not None else np.full(R, -1)
        trace.diverged_at = torch.as_tensor(fb, dtype=torch.long)
    elif tuple(trace.diverged_at.shape) != (R,):
        raise BoundcheckError(
            f"algorithm {label!r}: diverged_at has shape {tuple(trace.diverged_at.shape)}; "
            f"expected ({R},) (the first non-finite step per replica, -1 if none)"
        )
    return trace


def check_independence(
    fn: Callable[..., Any], problem: Any, seed: int, settings: dict[str, Any], label: str
) -> str:
    """Check the per-replica independence contract on a small run; return a note (deterministic
    or independent) or raise with what differs (see the module docstring)."""
    kw = dict(settings)
    kw["T"] = min(int(kw.get("T", CONTRACT_T)), CONTRACT_T)
    batch = check_trace(fn(problem, R=2, seed=seed, first_replica=0, **kw), 2, label)
    single = check_trace(fn(problem, R=1, seed=seed, first_replica=1, **kw), 1, label)
    same_within = True
    for k, v in batch.series.items():
        a, b = _np(v), _np(single.series.get(k, np.empty((0, 1))))
        if a.shape[0] != b.shape[0] or a.shape[2:] != b.shape[2:]:
            raise BoundcheckError(
                f"algorithm {label!r} breaks the independence contract: series {k!r} of a "
                f"single-replica run has shape {b.shape}, of a batch {a.shape}"
            )
        r1, s0 = a[:, 1], b[:, 0]
        if not np.allclose(r1, s0, rtol=1e-9, atol=1e-12, equal_nan=True):
            i = np.argwhere(~np.isclose(r1, s0, rtol=1e-9, atol=1e-12, equal_nan=True))[0]
            raise BoundcheckError(
                f"algorithm {label!r} breaks the independence contract: replica 1 of a batch "
                f"differs from a run with first_replica=1 (series {k!r} at index "
                f"{tuple(int(j) for j in i)}: {r1[tuple(i)]:.6g} vs {s0[tuple(i)]:.6g}); draw "
                "every replica's randomness from its own stream (boundcheck.rng)"
            )
        if not np.array_equal(a[:, 0], a[:, 1], equal_nan=True):
            same_within = False
    other = check_trace(fn(problem, R=2, seed=seed + 1, first_replica=0, **kw), 2, label)
    seed_matters = any(
        not np.array_equal(_np(v), _np(other.series[k]), equal_nan=True)
        for k, v in batch.series.items()
        if k in other.series
    )
    if not same_within:
        if not seed_matters:
            raise BoundcheckError(
                f"algorithm {label!r} breaks the independence contract: its replicas are random "
                "but another seed gives the same run (the seed is ignored); derive every "
                "replica's stream from (seed, first_replica + r) (boundcheck.rng.replica_seed)"
            )
        return "independence contract checked: replica r equals a run with first_replica = r"
    if seed_matters:
        raise BoundcheckError(
            f"algorithm {label!r} breaks the independence contract: the replicas of a batch are "
            "identical although the seed changes the run (all replicas share one random stream); "
            "draw every replica's randomness from its own stream (boundcheck.rng)"
        )
    return "deterministic algorithm: every replica is the same run (the seed changes nothing)"


def checked_algorithm(fn: Callable[..., Any], label: str) -> Callable[..., Any]:
    """``fn`` with the engine's calling convention, its traces checked (shapes every call, the
    independence contract once per call on a small run)."""
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        raise SpecError(f"algorithm {label!r} is not a function") from None
    has_var = any(p.kind is p.VAR_KEYWORD for p in params.values())
    missing = [k for k in ("T", "R", "seed", "first_replica") if k not in params and not has_var]
    if missing or not params:
        raise SpecError(
            f"algorithm {label!r} does not follow the protocol fn(problem, *, T, R, seed, device, "
            f"first_replica=0, **settings): missing {', '.join(missing) or 'problem'}"
        )

    def accepts(k: str) -> bool:
        return k in params or has_var

    @functools.wraps(fn)
    def run(problem: Any, *, R: int, seed: int, **kw: Any) -> Any:
        for k in ("dtype", "record_x", "device"):
            if k in kw and not accepts(k):
                kw.pop(k)
        if accepts("device"):
            kw.setdefault("device", problem.device)
        note = check_independence(fn, problem, seed, kw, label)
        trace = check_trace(fn(problem, R=R, seed=seed, **kw), R, label)
        trace.meta.setdefault("contract", note)
        return trace

    return run


# --- a user theorem's binding ----------------------------------------------------------------------
def _import_ref(ref: str, base_dir: str, what: str) -> Any:
    """``file.py:name`` (relative to the theorem file) or ``package.module:name``."""
    mod_name, _, attr = ref.rpartition(":")
    if not mod_name or not attr:
        raise SpecError(f"{what} {ref!r}: expected 'file.py:name' or 'module:name'")
    try:
        if mod_name.endswith(".py"):
            p = Path(mod_name)
            p = p if p.is_absolute() else Path(base_dir) / p
            if not p.is_file():
                raise SpecError(f"{what} {ref!r}: no such file {p}")
            st = p.stat()  # an edited file is imported again
            key = f"boundcheck_user_{abs(hash((str(p.resolve()), st.st_mtime_ns, st.st_size)))}"
            mod = sys.modules.get(key)
            if mod is None:
                spec = importlib.util.spec_from_file_location(key, p)
                if spec is None or spec.loader is None:
                    raise SpecError(f"{what} {ref!r}: cannot import {p}")
                mod = importlib.util.module_from_spec(spec)
                sys.modules[key] = mod
                spec.loader.exec_module(mod)
        else:
            mod = importlib.import_module(mod_name)
    except BoundcheckError:
        raise
    except Exception as e:
        raise SpecError(f"{what} {ref!r}: importing it failed: {type(e).__name__}: {e}") from None
    obj = getattr(mod, attr, None)
    if obj is None:
        raise SpecError(f"{what} {ref!r}: {mod_name} has no {attr!r}")
    return obj


def _default_source(name: str, settings: set[str]) -> str:
    if name in settings:
        return f"setting:{name}"
    if name in ("F0", "D0", "n", "d"):
        return name
    return {"sigma": "sqrt:sigma2", "zeta": "sqrt:zeta2"}.get(name, f"constant:{name}")


def _sym(name: str, src: Any) -> Sym:
    if not isinstance(src, str):
        return Sym("fixed", value=float(src), text=f"{src} (from [bind])")
    kind, _, ref = src.partition(":")
    if kind == "constant":
        return Sym("constant", ref)
    if kind == "sqrt":
        return Sym("constant", ref, sqrt=True)
    if kind == "setting":
        return Sym("setting", ref)
    if src == "F0":
        return Sym("derived", fn=f0_value, text="F0 = f(x0) - f*_lower")
    if src == "D0":
        return Sym("derived", fn=_d0, text="D0 = ||x0 - x*||^2")
    return Sym("derived", fn=lambda ctx, a=src: (float(getattr(ctx.problem, a)), "exact",
                                                  f"problem.{a}"))  # fmt: skip


def _d0(ctx: Ctx) -> tuple[float, str, str]:
    xs = ctx.problem.x_star
    if xs is None:
        return math.nan, "derived", "no x* known for this family"
    x0 = start_point(ctx)
    return float(((x0 - _np(xs).ravel()) ** 2).sum()), "derived", "||x0 - x*||^2 (exact x*)"


def _assumption_checks(ids: list[str]) -> dict[str, Callable[[Ctx], str | None]]:
    def finite(const: str, what: str, positive: bool = False):
        def chk(ctx: Ctx) -> str | None:
            c = ctx.problem.constants.get(const)
            if c is None or not math.isfinite(c.value) or (positive and c.value <= 0):
                v = "unknown" if c is None else f"{c.value:g}"
                return f"{what}: the family's {const} is {v}"
            return None

        return chk

    def lower(ctx: Ctx) -> str | None:
        c = ctx.problem.constants.get("f_star_lower") or ctx.problem.constants.get("f_star")
        return None if c is not None and math.isfinite(c.value) else "no finite f* is known"

    table = {
        "smooth": finite("L", "not L-smooth"),
        "strongly_convex": finite("mu", "not strongly convex", positive=True),
        "lower_bounded": lower,
        "bounded_variance": finite("sigma2", "no bounded oracle variance"),
        "bounded_gradient": finite("G", "gradients not bounded"),
        "bounded_dissimilarity": finite("zeta2", "no bounded dissimilarity"),
    }
    return {a: table[a] for a in ids if a in table}


def _lhs_fn(ut: Any) -> Lhs:
    spec = ut.lhs
    user_fn = spec.function
    if isinstance(user_fn, str):
        user_fn = _import_ref(user_fn, ut.base_dir, "theorem.lhs.function")

    def series(ctx: Ctx, name: str) -> np.ndarray:
        for tr in ctx.traces:
            if name not in tr.series:
                raise BoundcheckError(
                    f"{ut.theorem.id}: left-hand side {spec.id} needs the trace series {name!r}; "
                    f"algorithm {ctx.spec.algorithm['name']!r} records {', '.join(tr.series)}"
                )
        return ctx.series(name)

    def final(ctx: Ctx) -> list[Any]:
        out = []
        for tr in ctx.traces:
            if "x_final" not in tr.meta:
                raise BoundcheckError(
                    f"{ut.theorem.id}: left-hand side {spec.id} needs meta['x_final'] (x_T) "
                    "in the trace"
                )
            out.append(tr.meta["x_final"])
        return out

    def fn(ctx: Ctx) -> np.ndarray:
        import torch

        if spec.reduce == "row_mean":
            return series(ctx, spec.series).mean(axis=0)
        if spec.reduce == "rows":
            return series(ctx, spec.series)
        if spec.reduce == "final_f_gap":
            from boundcheck.algorithms.common import f_gap

            return np.concatenate([_np(f_gap(ctx.problem, x)) for x in final(ctx)])
        if spec.reduce == "final_dist_sq":
            xs = ctx.problem.x_star
            if xs is None:
                raise BoundcheckError(f"{spec.id} needs x*, which this problem family lacks")
            xs = torch.as_tensor(xs).reshape(1, -1)
            return np.concatenate([_np(((x - xs) ** 2).sum(dim=-1)) for x in final(ctx)])
        out = _np(user_fn(ctx.traces, ctx.problem))
        want = 1 if spec.kind == "mean" else 2
        if out.ndim != want or out.shape[-1] != ctx.R * len(ctx.traces):
            raise BoundcheckError(
                f"{ut.theorem.id}: the left-hand side function returned shape {out.shape}; "
                f"expected {'(R,)' if want == 1 else '(T, R)'} with R = {ctx.R * len(ctx.traces)}"
            )
        return out

    return Lhs(spec.kind, fn, f"{spec.text}: {spec.definition}")


def binding_for(ut: Any) -> Binding:
    """The binding of a loaded theorem file (:class:`~boundcheck.theory.userfile.UserTheorem`);
    registers the user's own algorithm (if any) under its name."""
    thm = ut.theorem
    alg = dict(ut.experiment.get("algorithm", {}))
    name = alg.get("name")
    algorithms = tuple(ALGORITHMS)
    if ut.algorithm is not None and name in ALGORITHMS:
        raise SpecError(
            f"{ut.where('algorithm.name')}: key 'algorithm.name': your function is named "
            f"{name!r} like a shipped algorithm; give it another name (numpy_algorithm(step, "
            "name=...))"
        )
    if ut.algorithm is not None or (isinstance(name, str) and ":" in name):
        fn = ut.algorithm if ut.algorithm is not None else _import_ref(
            name, ut.base_dir, "algorithm.name"
        )  # fmt: skip
        if not callable(fn):
            raise SpecError(f"{ut.where('algorithm.name')}: key 'algorithm.name': not callable")
        USER_ALGORITHMS[name] = checked_algorithm(fn, name)
        algorithms = (name,)
    settings = set(ut.experiment.get("sweep", {}))
    if isinstance(name, str) and (name in ALGORITHMS or name in USER_ALGORITHMS):
        settings |= set(algorithm_parameters(name))
    symbols: dict[str, Sym] = {}
    for p in thm.parameters():
        src = ut.bind.get(p, _default_source(p, settings))
        symbols[p] = _sym(p, src)
    return Binding(
        theorem=thm.id,
        algorithms=algorithms,
        symbols=symbols,
        lhs=_lhs_fn(ut),
        assumptions=_assumption_checks([a.id for a in thm.assumptions]),
        sweep_keys=tuple(k for k in ut.experiment.get("sweep", {}) if k not in settings),
    )


def register(ut: Any) -> Binding:
    """Build and register the binding of a loaded theorem file."""
    from boundcheck.check import bindings

    b = binding_for(ut)
    bindings.register_user(b)
    return b
