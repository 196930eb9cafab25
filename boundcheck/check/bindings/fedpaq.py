"""FedPAQ bindings (FedPAQ Theorem 1 eqs. (12)-(15), Theorem 2 eqs. (17)-(19), Remarks 3-4).

Symbol -> source (the table of :mod:`boundcheck.algorithms.fedpaq`):

* ``n`` -> ``problem.n`` (exact); ``r``, ``tau`` -> settings; ``T = K tau`` (keyword ``K`` is the
  number of periods; a sweep over ``T`` sets ``K = T / tau``); ``k`` -> the sweep point (``K = k``
  periods are run, the lhs is row ``k``);
* ``q`` -> ``quantizer.q(d)`` (certified; a biased quantizer fails Assumption 1);
* ``L``, ``mu`` -> problem constants ``L``, ``mu`` (of f); ``sigma`` -> ``sqrt(sigma2)``;
* ``eta`` -> Theorem 1: ``eta_k = 4/(mu (k tau + 1))`` at the period ``k`` of the lhs; Theorem 2:
  ``1/(L sqrt(T))`` (with ``eta = "theorem"``);
* ``k0`` -> ``k0_smallest(L, mu, q, n, r, tau)`` (the smallest integer satisfying (13), derived);
* ``D_k0`` -> per replica ``||x_{k0} - x*||^2`` (``dist_sq[k0]``): the bound is linear in it, so
  the engine tests ``E[||x_k - x*||^2 - c ||x_{k0} - x*||^2] <= rest`` replica by replica;
* ``F0`` -> ``f(x_0) - f*_lower``.

The proofs need homogeneous nodes (``fedpaq.homogeneous``): checked as ``zeta2 == 0``.
"""

from __future__ import annotations

import math

from boundcheck.check.bindings.base import Binding, Ctx, Lhs, Sym, f0_value
from boundcheck.errors import SpecError


def _q(ctx: Ctx):
    c = ctx.settings.get("quantizer")
    if c is None:
        return 0.0, "exact", "no quantizer (identity): q = 0"
    v = c.q(ctx.problem.d)
    if v is None:
        return math.nan, "certified", f"{c.name} is biased: no variance parameter q"
    return float(v), "certified", f"{c.name}.q(d={ctx.problem.d})"


def _n(ctx: Ctx):
    return float(ctx.problem.n), "exact", "problem.n"


def _T(ctx: Ctx):
    return float(ctx.settings["K"] * ctx.settings["tau"]), "chosen", "T = K tau (settings)"


def _k(ctx: Ctx):
    return float(ctx.settings["K"]), "chosen", "k = the number of periods run (sweep point)"


def _k0(ctx: Ctx):
    from boundcheck.theory.fedpaq import k0_smallest

    p = ctx.problem
    q = _q(ctx)[0]
    if not math.isfinite(q):
        return math.nan, "derived", "k0 undefined: q undefined"
    k0 = k0_smallest(
        p.constant("L").value,
        p.constant("mu").value,
        q,
        p.n,
        ctx.settings["r"],
        ctx.settings["tau"],
    )
    ctx.scratch["k0"] = k0
    return float(k0), "derived", "k0_smallest(L, mu, q, n, r, tau): smallest integer with (13)"


def _eta1(ctx: Ctx):
    mu = ctx.problem.constant("mu").value
    k, tau = ctx.settings["K"], ctx.settings["tau"]
    return 4.0 / (mu * (k * tau + 1)), "chosen", "eta_k = 4/(mu (k tau + 1)) at the lhs period k"


def _eta2(ctx: Ctx):
    v = ctx.settings["eta"]
    return float(v), "chosen", 'setting eta (1/(L sqrt(T)) with eta = "theorem")'


def _dk0(ctx: Ctx):
    k0 = int(ctx.scratch["k0"])
    return ctx.series("dist_sq")[k0]


def _settings_T(ctx: Ctx) -> None:
    """A sweep over ``T`` sets ``K = T / tau``; over ``k`` sets ``K = k``."""
    tau = ctx.settings["tau"]
    if "T" in ctx.point:
        T = int(ctx.point["T"])
        if T % tau:
            raise SpecError(f"{ctx.spec.path}: key 'sweep.T': T={T} is not a multiple of tau={tau}")
        ctx.settings["K"] = T // tau
    if "k" in ctx.point:
        ctx.settings["K"] = int(ctx.point["k"])
    if "K" not in ctx.settings:
        raise SpecError(f"{ctx.spec.path}: key 'sweep': FedPAQ needs T, k or K")


def _prepare1(ctx: Ctx) -> None:
    if ctx.settings.get("eta") == "theorem":
        from boundcheck.algorithms.fedpaq import eta_theorem1

        ctx.settings["eta"] = eta_theorem1(ctx.problem.constant("mu").value, ctx.settings["tau"])
    _k0(ctx)


def _prepare2(ctx: Ctx) -> None:
    if ctx.settings.get("eta") == "theorem":
        T = ctx.settings["K"] * ctx.settings["tau"]
        ctx.settings["eta"] = 1.0 / (ctx.problem.constant("L").value * math.sqrt(T))


def _homogeneous(ctx: Ctx) -> str | None:
    z = ctx.problem.constants.get("zeta2")
    if z is not None and z.value == 0:
        return None
    return "nodes are not homogeneous (zeta2 != 0): the proofs need E grad~f_i = grad f"


def _unbiased(ctx: Ctx) -> str | None:
    c = ctx.settings.get("quantizer")
    return None if c is None or not c.biased else f"quantizer {c.name} is biased (Assumption 1)"


def _lhs1(ctx: Ctx):
    return ctx.series("dist_sq")[int(ctx.settings["K"])]


def _lhs2(ctx: Ctx):
    T = ctx.settings["K"] * ctx.settings["tau"]
    return ctx.series("grad_norm_sq")[:T].mean(axis=0)


COMMON = {
    "n": Sym("derived", fn=_n, text="problem.n"),
    "r": Sym("setting", "r"),
    "tau": Sym("setting", "tau"),
    "q": Sym("derived", fn=_q, text="quantizer.q(d)"),
    "L": Sym("constant", "L"),
    "sigma": Sym("constant", "sigma2", sqrt=True, text="sqrt of problem constant sigma2"),
}
ASSUME = {"fedpaq.homogeneous": _homogeneous, "fedpaq.a1": _unbiased}

THM1 = Binding(
    "fedpaq.thm1",
    ("fedpaq",),
    {
        **COMMON,
        "mu": Sym("constant", "mu"),
        "k": Sym("derived", fn=_k, text="sweep point k (periods run)"),
        "k0": Sym("derived", fn=_k0, text="smallest integer satisfying (13)"),
        "eta": Sym("derived", fn=_eta1, text="eta_k = 4/(mu (k tau + 1))"),
        "D_k0": Sym(
            "measured",
            fn=_dk0,
            after_run=True,
            text="per replica ||x_{k0} - x*||^2 (dist_sq[k0]), moved to the lhs",
        ),
    },
    Lhs("mean", _lhs1, "per replica ||x_k - x*||^2 (dist_sq row k)"),
    ASSUME,
    prepare=_prepare1,
    settings_from_point=_settings_T,
    sweep_keys=("k", "T"),
)
THM2_SYMBOLS = {
    **COMMON,
    "T": Sym("derived", fn=_T, text="T = K tau"),
    "eta": Sym("derived", fn=_eta2, text="setting eta"),
    "F0": Sym("derived", fn=f0_value, text="f(x_0) - certified lower bound of f*"),
}
THM2_LHS = Lhs(
    "mean", _lhs2, "per replica 1/T sum_{k,t} ||grad f(xbar_{k,t})||^2 (grad_norm_sq rows 0..T-1)"
)

BINDINGS = [
    THM1,
    *[
        Binding(
            tid,
            ("fedpaq",),
            THM2_SYMBOLS,
            THM2_LHS,
            ASSUME,
            prepare=_prepare2,
            settings_from_point=_settings_T,
            sweep_keys=("T",),
        )
        for tid in ("fedpaq.thm2", "fedpaq.remark3", "fedpaq.remark4")
    ],
]


# --- Lemmas 1, 6, 7: one period at a time, every period k = 0..K-1 (record_lemmas) ------------------
def _settings_lemmas(ctx: Ctx) -> None:
    _settings_T(ctx)
    ctx.settings["record_lemmas"] = True  # quant_gap, f_gap_avg_end, avg_end_dist, node sums


def _rows(ctx: Ctx, name: str, first: int = 1):
    """Rows ``first .. first + K - 1`` of series ``name``: one row per period ``k = 0..K-1``."""
    K = int(ctx.settings["K"])
    return ctx.series(name)[first : first + K]


def _lemma_rows(kind: str):
    def fn(ctx: Ctx):
        import numpy as np

        from boundcheck.theory import registry
        from boundcheck.theory.evaluate import evaluate_bound

        thm = registry.get(ctx.spec.theorem)
        vals = dict(ctx.scratch["values"])
        if kind in ("lemma1", "lemma1_rev"):
            dist = _rows(ctx, "dist_sq")
            parts = _rows(ctx, "hat_gap") + _rows(ctx, "quant_gap") + _rows(ctx, "avg_end_dist")
            lhs, bnd = (dist, parts) if kind == "lemma1" else (parts, dist)
            size = dist + parts
        elif kind == "lemma6":
            lhs = _rows(ctx, "f_gap")
            q = {
                "f_avg_end": _rows(ctx, "f_gap_avg_end"),
                "quant_err": _rows(ctx, "quant_gap"),
                "sampling_err": _rows(ctx, "hat_gap"),
            }
            bnd = np.broadcast_to(evaluate_bound(thm, {**vals, **q}), lhs.shape) + 0.0
            size = np.abs(lhs) + np.abs(bnd)
        else:  # lemma7
            K, tau = int(ctx.settings["K"]), int(ctx.settings["tau"])
            lhs = _rows(ctx, "f_gap_avg_end")
            gb = ctx.series("grad_norm_sq")[: K * tau]
            q = {
                "f_start": _rows(ctx, "f_gap", first=0),
                "G_bar_sum": gb.reshape(K, tau, -1).sum(axis=1),
                "G_sum": _rows(ctx, "node_grad_sq_sum", first=0),
            }
            bnd = np.broadcast_to(evaluate_bound(thm, {**vals, **q}), lhs.shape) + 0.0
            size = np.abs(lhs) + np.abs(bnd)
        return {"lhs": lhs, "bound": bnd, "tol": 1e-12 * size}

    return fn


def _virtual_only(ctx: Ctx) -> str | None:
    if ctx.settings.get("virtual", True) is False:
        return "virtual=False: xbar_{k,tau} and xhat_{k+1} of eq. (20) need every node's iterates"
    return None


def _lemma_binding(tid: str, kind: str, symbols: dict, text: str, assume: dict) -> Binding:
    return Binding(
        tid,
        ("fedpaq",),
        symbols,
        Lhs("step_mean", _lemma_rows(kind), text),
        {**assume, "fedpaq.virtual": _virtual_only},
        settings_from_point=_settings_lemmas,
        sweep_keys=("k", "T"),
    )


_ETA_SET = Sym("setting", "eta", text="setting eta (constant over the periods)")
#: Lemma 1 has no constant: the run's settings and the quantizer's q are shown for context
_L1_CONTEXT = {"r": Sym("setting", "r"), "tau": Sym("setting", "tau"), "q": COMMON["q"]}
BINDINGS += [
    _lemma_binding(
        "fedpaq.lemma1",
        "lemma1",
        _L1_CONTEXT,
        "E||x_{k+1} - x*||^2 - (hat_gap + quant_gap + avg_end_dist)[k+1] at every period k",
        {"fedpaq.a1": _unbiased},
    ),
    _lemma_binding(
        "fedpaq.lemma1_rev",
        "lemma1_rev",
        _L1_CONTEXT,
        "(hat_gap + quant_gap + avg_end_dist)[k+1] - E||x_{k+1} - x*||^2 at every period k",
        {"fedpaq.a1": _unbiased},
    ),
    _lemma_binding(
        "fedpaq.lemma6",
        "lemma6",
        {"L": Sym("constant", "L")},
        "E[f(x_{k+1}) - f(xbar_{k,tau}) - L/2 quant_gap - L/2 hat_gap] at every period k "
        "(f - f* on both sides)",
        {"fedpaq.a1": _unbiased},
    ),
    _lemma_binding(
        "fedpaq.lemma7",
        "lemma7",
        {
            "eta": _ETA_SET,
            "n": Sym("derived", fn=_n, text="problem.n"),
            "L": Sym("constant", "L"),
            "tau": Sym("setting", "tau"),
            "sigma": Sym("constant", "sigma2", sqrt=True, text="sqrt of problem constant sigma2"),
        },
        "E[f(xbar_{k,tau}) - (79) with f(x_k), sum_t ||grad f(xbar_{k,t})||^2 and sum_{t,i} "
        "||grad f(x_{k,t}^(i))||^2 of the same replica] at every period k (f - f* throughout)",
        {"fedpaq.homogeneous": _homogeneous},
    ),
]
