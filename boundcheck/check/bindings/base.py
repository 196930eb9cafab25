"""Bindings as data: where every symbol of a theorem gets its value (issue 11, DESIGN.md).

A :class:`Binding` declares, for one theorem, the algorithms that implement it, one :class:`Sym`
per free symbol of its bound and conditions (a certified problem constant, an algorithm setting,
a measured schedule statistic, a derived value, a fixed number, or a per-replica measured value
that enters the bound linearly), the measured left-hand side (:class:`Lhs`), checks of the
assumptions that code can decide, and the theorem's stepsize rule where the spec asks for it.

Provenance (``boundcheck.check.results.PROVENANCES``): ``exact`` / ``certified`` (problem
constants as the family certifies them, compressor parameters proven in
:mod:`boundcheck.compressors`), ``observed`` (measured along this run: tau_max of the batch,
per-replica values), ``chosen`` (algorithm settings from the spec), ``derived`` (computed from the
others, e.g. ``F0 = f(x0) - f*_lower``).

Never a value smaller than the truth where that would loosen the check: ``F0`` uses a certified
lower bound of ``f*`` (``f_star_lower``; ``f_star`` only where its provenance is ``exact``), and
constants certified on a ball (``G``, ``M2`` of a quadratic with ``radius``) are used only after
checking that every recorded iterate stayed in the ball (:func:`ball_check`).
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any

import numpy as np

__all__ = [
    "ALGORITHMS",
    "Binding",
    "Ctx",
    "Lhs",
    "Sym",
    "algorithm_parameters",
    "ball_check",
    "constant",
    "f0_value",
]

#: algorithm name -> "module:function" (imported when used: torch is heavy)
ALGORITHMS: dict[str, str] = {
    "qafel": "boundcheck.algorithms.qafel:qafel",
    "fedbuff": "boundcheck.algorithms.qafel:fedbuff",
    "fedpaq": "boundcheck.algorithms.fedpaq:fedpaq",
    "ef_sgd": "boundcheck.algorithms.saef:ef_sgd",
    "saef_sgd": "boundcheck.algorithms.saef:saef_sgd",
    "momentum_sgd": "boundcheck.algorithms.saef:momentum_sgd",
    "asyncbc_gd": "boundcheck.algorithms.asyncbc:asyncbc_gd",
    "asyncbc_sgd": "boundcheck.algorithms.asyncbc:asyncbc_sgd",
    "sarah": "boundcheck.algorithms.asyncbc:sarah",
    "async_gd": "boundcheck.algorithms.asyncbc:async_gd",
    "async_sgd": "boundcheck.algorithms.asyncbc:async_sgd",
    "quantized_sum": "boundcheck.algorithms.quantized_sum:quantized_sum",
}
#: keywords the engine sets itself (never from a spec)
_ENGINE_KEYS = {"problem", "R", "seed", "device", "dtype", "record_x", "schedule", "clients"}
_CHOICES = {
    "sampling": "choice:shared|independent",
    "assignment": "choice:shared|partition",
    "busy": "choice:queue|parallel",
}


#: users' own algorithms (issue 15): name -> the checked callable (see bindings.user)
USER_ALGORITHMS: dict[str, Callable[..., Any]] = {}


def algorithm_function(name: str) -> Callable[..., Any]:
    if name in USER_ALGORITHMS:
        return USER_ALGORITHMS[name]
    mod, fn = ALGORITHMS[name].split(":")
    return getattr(import_module(mod), fn)


def algorithm_parameters(name: str) -> dict[str, str]:
    """The spec-settable keywords of algorithm ``name`` and their kinds (int, float, bool,
    compressor, choice:...). ``x0`` is a number: the start ``x0 * ones(d)``."""
    fn = algorithm_function(name)
    out: dict[str, str] = {}
    user = name in USER_ALGORITHMS
    fn = getattr(fn, "__wrapped__", fn)
    for k, p in inspect.signature(fn).parameters.items():
        if k in _ENGINE_KEYS or p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL):
            continue
        if user:  # a user's algorithm: the kind from the default's type
            if k == "first_replica":
                continue
            d = p.default
            out[k] = (
                "bool" if isinstance(d, bool) else "int" if isinstance(d, int) or k == "T" else
                "compressor" if k.endswith("compressor") else "float"
            )  # fmt: skip
            continue
        if k.endswith("compressor") or k == "quantizer":
            out[k] = "compressor"
        elif k in _CHOICES:
            out[k] = _CHOICES[k]
        elif k in ("T", "K", "P", "tau_C", "r") or (k == "tau" and name == "fedpaq"):
            out[k] = "int"
        elif isinstance(p.default, bool):
            out[k] = "bool"
        elif k == "p":
            out[k] = "int"
        else:
            out[k] = "float"
    return out


@dataclass
class Ctx:
    """What a binding sees while one sweep point runs."""

    spec: Any  # boundcheck.check.specs.Spec
    point: dict[str, Any]
    problem: Any  # a Problem
    settings: dict[str, Any]  # algorithm keywords, resolved (numbers, compressor objects)
    force: bool = False
    traces: list[Any] = field(default_factory=list)  # one Trace per batch
    batch_kwargs: list[dict[str, Any]] = field(default_factory=list)  # extra keywords per batch
    scratch: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)

    @property
    def R(self) -> int:
        return self.spec.replicas

    def series(self, name: str) -> np.ndarray:
        """The series ``name`` of every batch, replicas side by side: ``(rows, batches * R)``."""
        return np.concatenate([_np(tr.series[name]) for tr in self.traces], axis=1)

    def meta_max(self, getter: Callable[[Any], float]) -> float:
        return max(float(getter(tr)) for tr in self.traces)


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


@dataclass(frozen=True)
class Sym:
    """Where one theorem symbol's value comes from.

    ``kind``: ``constant`` (problem constant ``ref``; ``sqrt`` for a norm bound of a squared
    constant), ``setting`` (algorithm keyword ``ref``), ``fixed`` (``value``), ``derived`` /
    ``schedule`` (``fn(ctx) -> (value, provenance, source)``; ``after_run`` when it needs the
    traces), ``measured`` (per-replica values ``fn(ctx) -> (R,)`` array; the bound must be linear
    in it, and the engine moves it to the left-hand side replica by replica).
    """

    kind: str
    ref: str = ""
    text: str = ""
    sqrt: bool = False
    value: float | None = None
    fn: Callable[[Ctx], Any] | None = None
    after_run: bool = False

    def describe(self) -> str:
        if self.text:
            return self.text
        if self.kind == "constant":
            return f"{'sqrt of ' if self.sqrt else ''}problem constant {self.ref}"
        if self.kind == "setting":
            return f"algorithm setting {self.ref}"
        return self.kind


@dataclass(frozen=True)
class Lhs:
    """The measured left-hand side.

    ``kind``: ``mean`` (``fn`` gives one value per replica, ``(R,)``; the claim is about its
    expectation), ``min_t`` / ``max_t`` (``fn`` gives ``(T, R)``; the claim is about the min / max
    over rows of the expectations), ``pathwise`` (``fn`` gives ``(T, R)`` of ``lhs - bound`` that
    must be ``<= 0`` on every replica and row), ``step_mean`` (``fn`` gives ``(T, R)`` of
    ``lhs - bound``; the claim is ``E[lhs_t - bound_t] <= 0`` at every row ``t``).
    """

    kind: str
    fn: Callable[[Ctx], np.ndarray]
    text: str = ""


@dataclass(frozen=True)
class Binding:
    theorem: str
    algorithms: tuple[str, ...]
    symbols: Mapping[str, Sym]
    lhs: Lhs
    assumptions: Mapping[str, Callable[[Ctx], str | None]] = field(default_factory=dict)
    prepare: Callable[[Ctx], None] | None = None  # before the run: stepsizes, schedules
    settings_from_point: Callable[[Ctx], None] | None = None  # e.g. FedPAQ K from T and tau
    sweep_keys: tuple[str, ...] = ()
    ball_constants: tuple[str, ...] = ("G", "M2")
    notes: tuple[str, ...] = ()
    record_x: bool = False


# --- helpers shared by the paper modules ----------------------------------------------------------
def constant(ctx: Ctx, name: str) -> tuple[float, str, str]:
    """A problem constant, its provenance and how it is known."""
    c = ctx.problem.constant(name)
    return float(c.value), c.provenance, c.how


def f0_value(ctx: Ctx) -> tuple[float, str, str]:
    """``F0 = f(x0) - f*`` from a value of ``f*`` never above the truth.

    ``f_star_lower`` (a certified lower bound) where the family gives one; else ``f_star`` only
    where its provenance is ``exact``; otherwise ``nan`` (the point cannot be checked). The start
    ``x0`` is the one the algorithm uses (zeros unless the spec sets ``x0``)."""
    import torch

    p = ctx.problem
    x0 = start_point(ctx)
    fx0 = float(p.f(torch.as_tensor(x0, dtype=p.dtype).reshape(1, -1))[0])
    if "f_star_lower" in p.constants:
        fl = p.constants["f_star_lower"]
        return fx0 - fl.value, "derived", f"f(x0) - f_star_lower ({fl.provenance}: {fl.how[:80]})"
    fs = p.constants.get("f_star")
    if fs is not None and fs.provenance == "exact" and math.isfinite(fs.value):
        # f_star is f(x*) computed in floating point: add a relative rounding margin
        margin = 1e-12 * max(1.0, abs(fs.value), abs(fx0))
        return fx0 - fs.value + margin, "derived", "f(x0) - f_star (exact) + rounding margin"
    return math.nan, "derived", "no certified lower bound of f* for this family"


def start_point(ctx: Ctx) -> np.ndarray:
    x0 = ctx.settings.get("x0")
    d = ctx.problem.d
    return np.zeros(d) if x0 is None else np.full(d, float(x0))


def ball_check(ctx: Ctx, used: list[str]) -> str | None:
    """``None`` if no used constant is ball-certified or every iterate stayed in the ball; else
    the reason (a finding). Membership is certified from the recorded gaps without recording
    iterates: ``||x - x*||^2 <= 2 (f(x) - f*) / mu`` for a ``mu``-strongly convex ``f`` (exact
    ``f*``), plus ``||x - hat x||`` (QAFeL's ``hidden_gap``) for the hidden state."""
    p = ctx.problem
    ball = [n for n in used if n in p.constants and p.constants[n].how.startswith("on the ball")]
    if not ball:
        return None
    radius = getattr(p, "radius", None)
    mu = p.constants.get("mu")
    fs = p.constants.get("f_star")
    if radius is None or mu is None or mu.value <= 0 or fs is None or fs.provenance != "exact":
        return (
            f"constants {', '.join(ball)} are certified on a ball but membership cannot be "
            "certified for this family (needs an exact f* and mu > 0)"
        )
    worst = 0.0
    for tr in ctx.traces:
        for name in ("f_gap", "f_gap_tilde", "f_gap_bar"):
            if name in tr.series:
                g = _np(tr.series[name])
                g = g[np.isfinite(g)]
                if g.size:
                    worst = max(worst, math.sqrt(max(2.0 * float(g.max()) / mu.value, 0.0)))
        if "hidden_gap" in tr.series:
            hg = _np(tr.series["hidden_gap"])
            fg = _np(tr.series["f_gap"])
            d = np.sqrt(np.maximum(2.0 * fg / mu.value, 0)) + np.sqrt(np.maximum(hg, 0))
            d = d[np.isfinite(d)]
            if d.size:
                worst = max(worst, float(d.max()))
    ctx.scratch["ball_radius_needed"] = worst
    if worst > radius:
        return (
            f"an iterate left the ball ||x - x*|| <= {radius:g} on which "
            f"{', '.join(ball)} {'is' if len(ball) == 1 else 'are'} certified (certified "
            f"distance up to {worst:.4g}): the constants do not apply"
        )
    if ctx.scratch.get("local_iterates_unchecked"):
        ctx.notes.append(
            "ball membership certified for the server iterates (and hidden states), "
            "not for the clients' local iterates"
        )
    return None
