"""AsyncBC bindings (AsyncBC Theorems 1-3 with the explicit constants of their proofs, the order
statements, Section 5's least squares).

Symbol -> source (the table of :mod:`boundcheck.algorithms.asyncbc`):

* ``T``, ``tau_C`` -> settings (``tau_C = 1`` fixed for SARAH, Theorem 3);
* ``eta`` -> setting, or ``"theorem"``: the stated stepsize, which needs ``tau_max`` *before* the
  run. The engine therefore generates every batch's schedule first (AsyncBC Section 5 timing,
  :func:`~boundcheck.algorithms.async_sim.asyncbc_schedule`), measures ``tau_max`` as the run will
  (applied updates and the tasks still in flight after the last step), takes the maximum over the
  batches, sets the stepsize, and hands each batch its schedule (``schedule=``);
* ``tau_max`` -> that batch maximum (observed), checked after the run against ``meta['tau_max']``;
* ``L`` -> problem ``L``; ``delta_H`` -> problem ``delta_H``; ``ell`` -> problem ``ell``;
* ``sigma`` (Theorem 3, ``sigma^2 = E||xi||^2``) -> ``sqrt(sigma2)``;
* ``F0`` -> ``f(x_0) - f*_lower``.

The expectation of Theorems 1-2 is over the oracle noise *and the uniform client choices*, which a
schedule fixes for its batch: a replica mean over one batch is conditional on one client sequence.
Specs therefore use several ``batches`` (independent schedules); every batch contributes its
replicas to the sample.
"""

from __future__ import annotations

import math

import numpy as np

from boundcheck.check.bindings.base import Binding, Ctx, Lhs, Sym, f0_value

ASYNC = ("asyncbc_gd", "asyncbc_sgd")


def _tau_max(ctx: Ctx):
    return float(ctx.scratch["tau_max"]), "observed", (
        "tau_max of the batch: max over the batches' schedules of the applied and in-flight "
        "staleness, measured before the run")


def _prepare(ctx: Ctx) -> None:
    from boundcheck.algorithms import asyncbc as A
    from boundcheck.algorithms.async_sim import asyncbc_schedule

    T = int(ctx.settings["T"])
    tau_C = int(ctx.settings["tau_C"])
    steps = T - 1
    taus = []
    for b, kw in enumerate(ctx.batch_kwargs):
        sched = asyncbc_schedule(
            n=ctx.problem.n, T=T, tau_C=tau_C, tau=float(ctx.settings.get("tau", 10.0)),
            seed=int(kw["seed"]) + 7919 * (b + 1), busy=ctx.settings.get("busy", "queue"),
        )
        st = sched.staleness[:steps]
        in_flight = A._in_flight_tau(sched, steps, tau_C, last_version=steps + 1)
        taus.append(max(int(st.max()) if steps else 0, in_flight))
        kw["schedule"] = sched
    ctx.scratch["tau_max"] = max(taus)
    if ctx.settings.get("eta") == "theorem":
        ctx.settings["eta"] = _stated_eta(ctx)


def _stated_eta(ctx: Ctx) -> float:
    from boundcheck.theory import registry
    from boundcheck.theory.core import ConditionKind
    from boundcheck.theory.evaluate import evaluate_slack

    thm = registry.get(ctx.spec.theorem if not ctx.spec.theorem.endswith("_order")
                       else ctx.spec.theorem[: -len("_order")])
    cond = next(c for c in thm.conditions if c.kind is ConditionKind.STEPSIZE)
    vals = dict(ctx.scratch["pre_values"])
    vals["tau_max"] = float(ctx.scratch["tau_max"])
    vals["eta"] = 0.0
    return float(evaluate_slack(thm, cond, vals))  # slack = rhs - eta at eta = 0


def _post_check(ctx: Ctx) -> None:
    measured = ctx.meta_max(lambda tr: tr.meta["tau_max"])
    if measured > ctx.scratch["tau_max"]:
        ctx.findings.append(
            f"tau_max measured by the run ({measured:g}) exceeds the one the stepsize used "
            f"({ctx.scratch['tau_max']:g})")


def _lhs_avg(ctx: Ctx):
    _post_check(ctx)
    T = int(ctx.settings["T"])
    return ctx.series("grad_norm_sq")[:T].mean(axis=0)


def _xT_sq(ctx: Ctx):
    return np.concatenate([
        (tr.meta["x_final"].detach().cpu().numpy() ** 2).sum(axis=1) for tr in ctx.traces
    ])


def _one(ctx: Ctx):
    return 1.0, "exact", "SARAH: tau_C = 1"


def _sgd_shared(ctx: Ctx) -> str | None:
    if ctx.settings.get("sampling", "shared") != "shared" and ctx.spec.algorithm["name"] != "asyncbc_gd":
        return "independent samples at both points: Assumption 5's shared randomness fails"
    return None


COMMON = {
    "T": Sym("setting", "T"),
    "tau_C": Sym("setting", "tau_C"),
    "eta": Sym("setting", "eta", text="setting eta (the stated stepsize with eta = \"theorem\")"),
    "tau_max": Sym("schedule", fn=_tau_max, text="tau_max of the batch (pre-generated schedules)"),
    "L": Sym("constant", "L"),
    "F0": Sym("derived", fn=f0_value, text="f(x_0) - certified lower bound of f*"),
}
AVG = Lhs("mean", _lhs_avg, "per replica 1/T sum_{t=0}^{T-1} ||grad f(x_t)||^2 (rows x_0..x_{T-1})")
THM1 = {**COMMON, "delta_H": Sym("constant", "delta_H")}
THM2 = {**COMMON, "ell": Sym("constant", "ell")}
THM3 = {
    "T": Sym("setting", "T"),
    "eta": Sym("setting", "eta"),
    "tau_C": Sym("derived", fn=_one, text="SARAH is AsyncBC with tau_C = 1"),
    "sigma": Sym("constant", "sigma2", sqrt=True, text="sqrt(sigma2), sigma^2 = E||xi||^2"),
}
XT = Lhs("mean", _xT_sq, "per replica ||x_T||^2 (meta['x_final'])")

BINDINGS = [
    Binding("asyncbc.thm1", ("asyncbc_gd",), THM1, AVG, prepare=_prepare, sweep_keys=()),
    Binding("asyncbc.thm1_eta", ("asyncbc_gd",), THM1, AVG, prepare=_prepare),
    Binding("asyncbc.thm1_order", ("asyncbc_gd",), THM1, AVG, prepare=_prepare),
    Binding("asyncbc.thm2", ("asyncbc_sgd",), THM2, AVG, {"asyncbc.A5": _sgd_shared}, prepare=_prepare),
    Binding("asyncbc.thm2_eta", ("asyncbc_sgd",), THM2, AVG, {"asyncbc.A5": _sgd_shared}, prepare=_prepare),
    Binding("asyncbc.thm2_order", ("asyncbc_sgd",), THM2, AVG, {"asyncbc.A5": _sgd_shared}, prepare=_prepare),
    Binding("asyncbc.thm3", ("sarah",), THM3, XT),
    Binding("asyncbc.thm3_var", ("sarah",), THM3, XT),
]
