"""AsyncBC bindings (AsyncBC Theorems 1-3 with the explicit constants of their proofs, the order
statements, Section 5's least squares).

Symbol -> source (the table of :mod:`boundcheck.algorithms.asyncbc`):

* ``T``, ``tau_C`` -> settings (``tau_C = 1`` fixed for SARAH, Theorem 3);
* ``eta`` -> setting, or ``"theorem"``: the stated stepsize, which needs ``tau_max`` *before* the
  run. The engine therefore generates every batch's schedule first (AsyncBC Section 5 timing,
  :func:`~boundcheck.algorithms.async_sim.asyncbc_schedules`, one per replica), measures ``tau_max`` as the run will
  (applied updates and the tasks still in flight after the last step), takes the maximum over the
  batches, sets the stepsize, and hands each batch its schedule (``schedule=``);
* ``tau_max`` -> that batch maximum (observed), checked after the run against ``meta['tau_max']``;
* ``L`` -> problem ``L``; ``delta_H`` -> problem ``delta_H``; ``ell`` -> problem ``ell``;
* ``sigma`` (Theorem 3, ``sigma^2 = E||xi||^2``) -> ``sqrt(sigma2)``;
* ``F0`` -> ``f(x_0) - f*_lower``.

The expectation of Theorems 1-2 is over the oracle noise *and the uniform client choices*: every
replica has its own schedule (a per-replica :class:`~boundcheck.algorithms.async_sim.ScheduleBatch`),
so the replica mean estimates exactly that expectation. Lemmas 1 and 5 are pathwise (they hold for
every schedule), so their checks pin one schedule per batch, which the virtual iterates are rebuilt
from; several ``batches`` then sample several schedules.
"""

from __future__ import annotations

import numpy as np

from boundcheck.check.bindings.base import Binding, Ctx, Lhs, Sym, f0_value

ASYNC = ("asyncbc_gd", "asyncbc_sgd")


def _tau_max(ctx: Ctx):
    return (
        float(ctx.scratch["tau_max"]),
        "observed",
        (
            "tau_max of the batch: max over the batches' schedules of the applied and in-flight "
            "staleness, measured before the run"
        ),
    )


def _prepare(ctx: Ctx) -> None:
    """Per-replica schedules (issue 8: every replica draws its own client sequence, the randomness
    Theorems 1-2 average over), generated for every batch before the run so that the stated
    stepsize can use the batch ``tau_max``; each batch gets its :class:`ScheduleBatch`."""
    from boundcheck.algorithms import asyncbc as A
    from boundcheck.algorithms.async_sim import asyncbc_schedules

    T = int(ctx.settings["T"])
    tau_C = int(ctx.settings["tau_C"])
    steps = T - 1
    taus = []
    for b, kw in enumerate(ctx.batch_kwargs):
        batch = asyncbc_schedules(
            n=ctx.problem.n,
            T=T,
            tau_C=tau_C,
            R=int(ctx.spec.replicas),
            tau=float(ctx.settings.get("tau", 10.0)),
            seed=int(kw["seed"]) + 7919 * (b + 1),
            busy=ctx.settings.get("busy", "queue"),
        )
        st = batch.staleness[:, :steps]
        in_flight = A._in_flight_tau(batch, steps, tau_C, last_version=steps + 1)
        taus.append(max(int(st.max()) if steps else 0, int(in_flight.max())))
        kw["schedule"] = batch
    ctx.scratch["tau_max"] = max(taus)
    if ctx.settings.get("eta") == "theorem":
        ctx.settings["eta"] = _stated_eta(ctx)


def _stated_eta(ctx: Ctx) -> float:
    from boundcheck.theory import registry
    from boundcheck.theory.core import ConditionKind
    from boundcheck.theory.evaluate import evaluate_slack

    thm = registry.get(
        ctx.spec.theorem
        if not ctx.spec.theorem.endswith("_order")
        else ctx.spec.theorem[: -len("_order")]
    )
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
            f"({ctx.scratch['tau_max']:g})"
        )


def _lhs_avg(ctx: Ctx):
    _post_check(ctx)
    T = int(ctx.settings["T"])
    return ctx.series("grad_norm_sq")[:T].mean(axis=0)


def _xT_sq(ctx: Ctx):
    return np.concatenate(
        [(tr.meta["x_final"].detach().cpu().numpy() ** 2).sum(axis=1) for tr in ctx.traces]
    )


def _one(ctx: Ctx):
    return 1.0, "exact", "SARAH: tau_C = 1"


def _sgd_shared(ctx: Ctx) -> str | None:
    if (
        ctx.settings.get("sampling", "shared") != "shared"
        and ctx.spec.algorithm["name"] != "asyncbc_gd"
    ):
        return "independent samples at both points: Assumption 5's shared randomness fails"
    return None


COMMON = {
    "T": Sym("setting", "T"),
    "tau_C": Sym("setting", "tau_C"),
    "eta": Sym("setting", "eta", text='setting eta (the stated stepsize with eta = "theorem")'),
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
    Binding(
        "asyncbc.thm2", ("asyncbc_sgd",), THM2, AVG, {"asyncbc.A5": _sgd_shared}, prepare=_prepare
    ),
    Binding(
        "asyncbc.thm2_eta",
        ("asyncbc_sgd",),
        THM2,
        AVG,
        {"asyncbc.A5": _sgd_shared},
        prepare=_prepare,
    ),
    Binding(
        "asyncbc.thm2_order",
        ("asyncbc_sgd",),
        THM2,
        AVG,
        {"asyncbc.A5": _sgd_shared},
        prepare=_prepare,
    ),
    Binding("asyncbc.thm3", ("sarah",), THM3, XT),
    Binding("asyncbc.thm3_var", ("sarah",), THM3, XT),
]


# --- Lemmas 1 and 5: the virtual iterates, rebuilt from the recorded run and its schedule ---------
def _prepare_lemma(ctx: Ctx) -> None:
    """As :func:`_prepare`, with schedules long enough that every task handed out during the run
    (versions ``<= T - 1``) appears with its client, so the virtual momentum can be rebuilt."""
    from boundcheck.algorithms import asyncbc as A
    from boundcheck.algorithms.async_sim import ScheduleBatch, asyncbc_schedule

    T = int(ctx.settings["T"])
    tau_C = int(ctx.settings["tau_C"])
    steps = T - 1
    taus = []
    for b, kw in enumerate(ctx.batch_kwargs):
        extra = 4 * T + 50 * tau_C
        while True:
            sched = asyncbc_schedule(
                n=ctx.problem.n,
                T=T + extra,
                tau_C=tau_C,
                tau=float(ctx.settings.get("tau", 10.0)),
                seed=int(kw["seed"]) + 7919 * (b + 1),
                busy=ctx.settings.get("busy", "queue"),
            )
            rv = sched.read_version
            if int((rv == 1).sum()) == tau_C and set(range(2, T)) <= set(rv.tolist()):
                break
            extra *= 2
        st = sched.staleness[:steps]
        pinned = ScheduleBatch.pin(sched, 1)  # pathwise lemmas: one schedule per batch suffices
        in_flight = int(A._in_flight_tau(pinned, steps, tau_C, last_version=steps + 1)[0])
        taus.append(max(int(st.max()) if steps else 0, in_flight))
        kw["schedule"] = sched
    ctx.scratch["tau_max"] = max(taus)
    if ctx.settings.get("eta") == "theorem":
        raise ValueError("Lemmas 1 and 5 take a chosen eta")


def _virtual(ctx: Ctx, b: int):
    """``x_t``, ``x~_t``, ``m_t``, ``m~_t`` (t = 0..T-1) and the per-row sums over the active set
    ``C_t`` of ``||m_{i-1}||^2`` for batch ``b`` (AsyncBC Lemma 2: ``m_t - m~_t = -sum_{C_t} g``,
    ``x~_{t+1} = x~_t - eta m~_t``, ``x~_1 = x_1``).

    A task reading version ``v`` by client ``k`` computes ``g = grad f_k(x_v) - grad f_k(x_{v-1})``
    (divided by tau_C for the initial tasks, v = 1); with the shared-sample Gaussian oracle the noise
    cancels in the difference, so the exact difference is the one the run used."""
    import torch

    tr = ctx.traces[b]
    sched = ctx.batch_kwargs[b]["schedule"]
    X = tr.series["x"]  # (T, R, d)
    M = tr.series["m"]
    T = X.shape[0]
    tau_C = int(ctx.settings["tau_C"])
    eta = float(ctx.settings["eta"])
    rv = np.asarray(sched.read_version)
    ap = np.asarray(sched.applied_step)
    cl = np.asarray(sched.client)
    keep = rv <= T - 1
    rv, ap, cl = rv[keep], ap[keep], cl[keep]
    xv = X[torch.as_tensor(rv)].permute(1, 0, 2)  # (R, E, d)
    xp = X[torch.as_tensor(rv - 1)].permute(1, 0, 2)
    clients = torch.as_tensor(cl, dtype=torch.long)
    g = ctx.problem.grad_i(xv, clients) - ctx.problem.grad_i(xp, clients)
    g = torch.where(torch.as_tensor(rv == 1)[None, :, None], g / tau_C, g)
    # active at t: v <= t < applied step (received at step ap). Summed directly over the active
    # tasks (no running sum of +g at hand-out and -g at delivery: that cancels catastrophically
    # once the iterates have converged and the early terms dominate the rounding).
    R, d = X.shape[1], X.shape[2]
    E = rv.size
    m2 = (M * M).sum(-1)  # (T, R)
    w = m2[torch.as_tensor(rv - 1)]  # ||m_{v-1}||^2 per task, (E, R)
    gf = g.permute(1, 0, 2).reshape(E, R * d)
    act = torch.zeros(T, R * d, dtype=X.dtype)
    active_m2 = torch.zeros(T, R, dtype=X.dtype)
    rv_t, ap_t = torch.as_tensor(rv), torch.as_tensor(ap)
    for lo in range(0, T, 256):
        t = torch.arange(lo, min(T, lo + 256))[:, None]
        mask = ((rv_t[None, :] <= t) & (t < ap_t[None, :])).to(X.dtype)  # (chunk, E)
        act[lo : lo + t.shape[0]] = mask @ gf
        active_m2[lo : lo + t.shape[0]] = mask @ w
    act = act.reshape(T, R, d)  # sum of g over C_t = m~_t - m_t
    mt = M + act
    mt[0] = M[0]
    act[0] = 0.0
    # x_t - x~_t = -eta sum_{s=1}^{t-1} (m_s - m~_s) = eta sum_{s=1}^{t-1} act_s (Lemma 2)
    diff_x = torch.zeros_like(X)
    diff_x[2:] = eta * torch.cumsum(act[1:-1], 0)
    xt = X - diff_x
    ctx.scratch.setdefault("diff", []).append((diff_x, act))
    return X, xt, M, mt, m2, active_m2


def _lemma_rows(ctx: Ctx, which: str):
    """Per row t and replica: (lhs_t, bound_t) of the lemma's line ``which`` ("x" or "m")."""
    from boundcheck.theory import registry
    from boundcheck.theory.evaluate import evaluate_bound

    thm = ctx.scratch.get("theorem") or registry.get(ctx.spec.theorem)
    vals = dict(ctx.scratch["values"])
    L_, R_ = [], []
    for b in range(len(ctx.traces)):
        X, _xt, _M, _mt, m2, active = _virtual(ctx, b)
        T = X.shape[0]
        m2n = m2.numpy()
        diff_x, act = ctx.scratch["diff"][-1]
        if which == "x":
            lhs = (diff_x**2).sum(-1).numpy()[2:]  # t = 2..T-1
            t = np.arange(2, T, dtype=float)[:, None]
            past = np.cumsum(m2n, axis=0)[: T - 2]  # sum_{i=1}^{t-1} ||m_{i-1}||^2
            bnd = evaluate_bound(thm, {**vals, "t_idx": t, "sum_m2_past": past})
            scale = (X * X).sum(-1).numpy()[2:]
        else:
            lhs = (act**2).sum(-1).numpy()[1:]
            bnd = evaluate_bound(thm, {**vals, "sum_m2_active": active.numpy()[1:]})
            scale = m2n[1:]
        L_.append(lhs)
        R_.append(np.broadcast_to(bnd, lhs.shape) + 0.0)
        ctx.scratch.setdefault("scale", []).append(scale)
    return np.concatenate(L_, axis=1), np.concatenate(R_, axis=1)


def _pathwise(which: str):
    def fn(ctx: Ctx):
        lhs, bnd = _lemma_rows(ctx, which)
        scale = np.concatenate(ctx.scratch["scale"], axis=1)
        # both sides are sums without cancellation: a relative rounding allowance suffices
        return {"lhs": lhs, "bound": bnd, "tol": 1e-9 * np.maximum(bnd, lhs) + 0.0 * scale}

    return fn


def _oracle_ok(ctx: Ctx) -> str | None:
    name = getattr(getattr(ctx.problem, "oracle", None), "name", "exact")
    if name not in ("exact", "gaussian"):
        return (
            f"the {name} oracle's samples are not recorded: the virtual iterates can be rebuilt "
            "only for the exact or the shared-sample Gaussian oracle"
        )
    return None


LEMMA_SYMS = {
    "tau_C": Sym("setting", "tau_C"),
    "eta": Sym("setting", "eta"),
    "tau_max": Sym("schedule", fn=_tau_max, text="tau_max of the batch (pre-generated schedules)"),
    "L": Sym("constant", "L"),
    "delta_H": Sym("constant", "delta_H"),
    "ell": Sym("constant", "ell"),
}
BINDINGS += [
    Binding(
        "asyncbc.lemma1",
        ("asyncbc_gd",),
        {k: v for k, v in LEMMA_SYMS.items() if k != "ell"},
        Lhs("pathwise", _pathwise("x"), "||x_t - x~_t||^2 on every replica and step t >= 2"),
        prepare=_prepare_lemma,
        record_x=True,
    ),
    Binding(
        "asyncbc.lemma1_m",
        ("asyncbc_gd",),
        {k: v for k, v in LEMMA_SYMS.items() if k != "ell"},
        Lhs("pathwise", _pathwise("m"), "||m_t - m~_t||^2 on every replica and step t >= 1"),
        prepare=_prepare_lemma,
        record_x=True,
    ),
    Binding(
        "asyncbc.lemma5",
        ("asyncbc_sgd",),
        {k: v for k, v in LEMMA_SYMS.items() if k != "delta_H"},
        Lhs(
            "step_mean",
            _pathwise("x"),
            "E||x_t - x~_t||^2 - bound_t at every step t >= 2 (replica mean)",
        ),
        {"oracle": _oracle_ok},
        prepare=_prepare_lemma,
        record_x=True,
    ),
    Binding(
        "asyncbc.lemma5_m",
        ("asyncbc_sgd",),
        {k: v for k, v in LEMMA_SYMS.items() if k != "delta_H"},
        Lhs(
            "step_mean",
            _pathwise("m"),
            "E||m_t - m~_t||^2 - bound_t at every step t >= 1 (replica mean)",
        ),
        {"oracle": _oracle_ok},
        prepare=_prepare_lemma,
        record_x=True,
    ),
]


# --- Lemma 2 (identities) and Lemma 3 (descent): virtual sequences from their own recursions ------
def _recursions(ctx: Ctx, b: int) -> dict:
    """For batch ``b``: the tasks' gradient differences and the virtual sequences computed from
    eqs. (3)-(4) themselves (m~_0 = m_0, m~_t = m~_{t-1} + the g's handed out with version t;
    x~_1 = x_1, x~_{t+1} = x~_t - eta m~_t), *not* from Lemma 2 (which :func:`_virtual` uses)."""
    import torch

    tr = ctx.traces[b]
    sched = ctx.batch_kwargs[b]["schedule"]
    X, M = tr.series["x"], tr.series["m"]  # (T, R, d)
    T, R, d = X.shape
    tau_C = int(ctx.settings["tau_C"])
    eta = float(ctx.settings["eta"])
    rv = np.asarray(sched.read_version)
    ap = np.asarray(sched.applied_step)
    cl = np.asarray(sched.client)
    keep = rv <= T - 1
    rv, ap, cl = rv[keep], ap[keep], cl[keep]
    clients = torch.as_tensor(cl, dtype=torch.long)
    ga = ctx.problem.grad_i(X[torch.as_tensor(rv)].permute(1, 0, 2), clients)  # (R, E, d)
    gb = ctx.problem.grad_i(X[torch.as_tensor(rv - 1)].permute(1, 0, 2), clients)
    g = ga - gb
    g = torch.where(torch.as_tensor(rv == 1)[None, :, None], g / tau_C, g)
    gmax2 = float(torch.maximum((ga * ga).sum(-1), (gb * gb).sum(-1)).max()) if rv.size else 0.0
    add = torch.zeros(T, R, d, dtype=X.dtype)
    add.index_add_(0, torch.as_tensor(rv), g.permute(1, 0, 2))
    mt = M[0] + torch.cumsum(add, 0)  # rv >= 1, so mt[0] = m_0
    xt = X.clone()
    if T > 2:
        xt[2:] = X[1] - eta * torch.cumsum(mt[1:-1], 0)
    return {"X": X, "M": M, "mt": mt, "xt": xt, "g": g, "rv": rv, "ap": ap, "gmax2": gmax2}


def _identity_rows(ctx: Ctx, which: str):
    """Per row and replica: the squared residual of Lemma 2's identity ``which`` ("m": rows
    t = 1..T-1; "x": rows t = 2..T-1) and its rounding allowance."""
    import torch

    eta = float(ctx.settings["eta"])
    res_all, allow_all = [], []
    for b in range(len(ctx.traces)):
        v = _recursions(ctx, b)
        X, M, mt, xt, g = v["X"], v["M"], v["mt"], v["xt"], v["g"]
        T, R, d = X.shape
        rv_t, ap_t = torch.as_tensor(v["rv"]), torch.as_tensor(v["ap"])
        E = rv_t.numel()
        gf = g.permute(1, 0, 2).reshape(E, R * d)
        rhs = torch.zeros(T, R * d, dtype=X.dtype)
        for lo in range(0, T, 256):
            t = torch.arange(lo, min(T, lo + 256))[:, None]
            if which == "m":  # C_t, union first: version v <= t < received step
                w = ((rv_t[None, :] <= t) & (t < ap_t[None, :])).to(X.dtype)
            else:  # tau_i^{t-1} = #{s in 1..t-1 : task active at s}
                hi = torch.minimum(t - 1, ap_t[None, :] - 1)
                w = (hi - torch.clamp(rv_t[None, :], min=1) + 1).clamp(min=0).to(X.dtype)
            rhs[lo : lo + t.shape[0]] = w @ gf
        rhs = rhs.reshape(T, R, d)
        m2 = torch.cummax(((M * M).sum(-1) + (mt * mt).sum(-1)), 0).values  # (T, R)
        tt = torch.arange(T, dtype=X.dtype)[:, None] + 1.0
        if which == "m":
            res = ((M - mt) + rhs).pow(2).sum(-1)[1:]
            allow = 1e-20 * tt**2 * (m2 + v["gmax2"])
            allow = allow[1:]
        else:
            res = ((X - xt) - eta * rhs).pow(2).sum(-1)[2:]
            x2 = torch.cummax(((X * X).sum(-1) + (xt * xt).sum(-1)), 0).values
            allow = 1e-20 * tt**4 * eta**2 * (m2 + v["gmax2"]) + 1e-20 * tt**2 * x2
            allow = allow[2:]
        res_all.append(res.numpy())
        allow_all.append(allow.numpy())
    return np.concatenate(res_all, axis=1), np.concatenate(allow_all, axis=1)


def _identity(which: str):
    def fn(ctx: Ctx):
        res, allow = _identity_rows(ctx, which)
        # measured = residual / rounding allowance: the identity holds on a row when <= 1
        return {"lhs": res, "bound": allow, "tol": np.zeros_like(res)}

    return fn


def _lemma3(ctx: Ctx):
    """Lemma 3 pathwise at rows t = 0..T-2: lhs f(x~_{t+1}) - f_ref, bound (8) with the five
    quantities of the same replica at t (f_ref = f_star_lower or f_star; it cancels)."""
    from boundcheck.theory import registry
    from boundcheck.theory.evaluate import evaluate_bound

    thm = registry.get(ctx.spec.theorem)
    vals = dict(ctx.scratch["values"])
    p = ctx.problem
    ref = p.constants.get("f_star_lower") or p.constants.get("f_star")
    f_ref = float(ref.value) if ref is not None else 0.0
    L_, B_, tol_ = [], [], []
    for b in range(len(ctx.traces)):
        v = _recursions(ctx, b)
        X, mt, xt = v["X"], v["mt"], v["xt"]
        T, R, d = X.shape
        fx = p.f(xt.reshape(T * R, d)).reshape(T, R) - f_ref
        gx = p.grad(X.reshape(T * R, d)).reshape(T, R, d)
        q = {
            "F_tilde_t": fx[:-1].numpy(),
            "gn2_t": (gx * gx).sum(-1)[:-1].numpy(),
            "mt2_t": (mt * mt).sum(-1)[:-1].numpy(),
            "gerr_t": ((gx - mt) ** 2).sum(-1)[:-1].numpy(),
            "xerr_t": ((xt - X) ** 2).sum(-1)[:-1].numpy(),
        }
        bnd = np.broadcast_to(evaluate_bound(thm, {**vals, **q}), q["gn2_t"].shape) + 0.0
        lhs = fx[1:].numpy()
        eta, Lc = float(vals["eta"]), float(vals["L"])
        size = (
            np.abs(fx[1:].numpy() + f_ref)
            + np.abs(fx[:-1].numpy() + f_ref)
            + eta * (q["gn2_t"] + q["mt2_t"] + q["gerr_t"])
            + eta * Lc**2 * q["xerr_t"]
        )
        L_.append(lhs)
        B_.append(bnd)
        tol_.append(1e-12 * size)
    return {
        "lhs": np.concatenate(L_, 1),
        "bound": np.concatenate(B_, 1),
        "tol": np.concatenate(tol_, 1),
    }


_L23_SYMS = {
    "tau_C": Sym("setting", "tau_C"),
    "eta": Sym("setting", "eta"),
    "L": Sym("constant", "L"),
}
BINDINGS += [
    Binding(
        "asyncbc.lemma2_m",
        ("asyncbc_gd",),
        {"tau_C": Sym("setting", "tau_C"), "eta": Sym("setting", "eta")},
        Lhs(
            "pathwise",
            _identity("m"),
            "||(m_t - m~_t) + sum_{C_t} g||^2 / rounding allowance on every replica and step t >= 1 "
            "(m~ from its recursion (4))",
        ),
        prepare=_prepare_lemma,
        record_x=True,
    ),
    Binding(
        "asyncbc.lemma2_x",
        ("asyncbc_gd",),
        {"tau_C": Sym("setting", "tau_C"), "eta": Sym("setting", "eta")},
        Lhs(
            "pathwise",
            _identity("x"),
            "||(x_t - x~_t) - eta sum_i tau_i^{t-1} g_i||^2 / rounding allowance on every replica "
            "and step t >= 2 (x~ from its recursion (3))",
        ),
        prepare=_prepare_lemma,
        record_x=True,
    ),
    Binding(
        "asyncbc.lemma3",
        ("asyncbc_gd",),
        _L23_SYMS,
        Lhs(
            "pathwise",
            _lemma3,
            "f(x~_{t+1}) - f_ref against (8) at t, every replica and step t = 0..T-2 (pathwise, "
            "which implies the expectation form)",
        ),
        prepare=_prepare_lemma,
        record_x=True,
    ),
]
