"""SAEF bindings (SAEF main-text Lemma 1 eq. (15) in two readings, Theorems 1-3 eqs. (16), (17),
(21), (22), Corollaries 2-3).

Symbol -> source (the table of :mod:`boundcheck.algorithms.saef`):

* ``T``, ``K``, ``eta`` (``eta_max`` = ``eta``: a constant stepsize) -> settings;
* ``mu_m`` -> setting ``mu`` (the *momentum* of Algorithm 1, not strong convexity);
* ``delta`` -> ``min(delta_c, delta_s)`` (``delta_c`` alone with single-way compression);
* ``L`` -> problem ``L``; ``M`` -> ``sqrt(M2)`` (a norm bound); ``sigma`` ->
  ``sqrt(meta['sigma2_worker'])``: one worker's oracle variance (``sigma2 / n`` when a worker
  averages one draw per client);
* ``F0`` -> ``f(x_0) - f*_lower``.

Left-hand sides, over a trace with exactly ``T`` rows ``t = 0..T-1``: Theorem 1 and eq. (22) are
about ``tilde x_t`` (``grad_norm_sq_tilde``), Theorems 2 and 3 about ``x_t`` (``grad_norm_sq``),
both as ``min_t`` of the replica mean; Lemma 1 (``sup_t``) as ``max_t`` of the replica mean of
``mismatch_err`` (the supplement's Lemma 5, reading "supplement", default) or of ``lemma1_lhs``
(the printed eq. (15), reading "printed"; ``[check] reading``).
"""

from __future__ import annotations

import math

from boundcheck.check.bindings.base import Binding, Ctx, Lhs, Sym, f0_value

ALGS = ("saef_sgd",)


def _delta(ctx: Ctx):
    d = ctx.problem.d
    cc, cs = ctx.settings.get("client_compressor"), ctx.settings.get("server_compressor")
    dc = 1.0 if cc is None else cc.delta(d)
    ds = 1.0 if cs is None else cs.delta(d)
    if dc is None or ds is None:
        return math.nan, "certified", "a compressor is no contraction (Assumption 4 fails)"
    txt = "min(delta_c, delta_s)" if cs is not None else "delta_c (single-way compression)"
    return float(min(dc, ds)), "certified", txt


def _mu_m(ctx: Ctx):
    return float(ctx.settings.get("mu", 0.0)), "chosen", "setting mu (momentum of Algorithm 1)"


def _sigma(ctx: Ctx):
    s = ctx.traces[0].meta["sigma2_worker"]
    v = s["value"] if isinstance(s, dict) else s
    return math.sqrt(float(v)), "certified", "sqrt(meta['sigma2_worker']): one worker's variance"


def _eta_max(ctx: Ctx):
    return float(ctx.settings["eta"]), "chosen", "constant stepsize eta"


def _rows(name: str):
    def fn(ctx: Ctx):
        T = int(ctx.settings["T"])
        X = ctx.series(name)
        assert X.shape[0] == T, (name, X.shape, T)
        return X

    return fn


def _lemma1(ctx: Ctx):
    reading = ctx.spec.check.get("reading", "supplement")
    return _rows("lemma1_lhs" if reading == "printed" else "mismatch_err")(ctx)


def _no_partition(ctx: Ctx) -> str | None:
    if ctx.settings.get("assignment", "shared") != "shared":
        return "workers hold different data (assignment='partition'): Assumption 2's identical distribution fails"
    return None


SYMS = {
    "T": Sym("setting", "T"),
    "K": Sym("setting", "K"),
    "eta": Sym("setting", "eta"),
    "mu_m": Sym("derived", fn=_mu_m, text="setting mu (momentum)"),
    "delta": Sym("derived", fn=_delta, text="min(delta_c, delta_s)"),
    "L": Sym("constant", "L"),
    "M": Sym("constant", "M2", sqrt=True, text="sqrt of problem constant M2"),
    "sigma": Sym("derived", fn=_sigma, after_run=True, text="sqrt(meta['sigma2_worker'])"),
    "F0": Sym("derived", fn=f0_value, text="f(x_0) - certified lower bound of f*"),
    "eta_max": Sym("derived", fn=_eta_max, text="max_t eta_t = eta"),
}
ASSUME = {"saef.A2": _no_partition}


def _b(tid: str, lhs: Lhs) -> Binding:
    return Binding(tid, ALGS, SYMS, lhs, ASSUME)


X = Lhs(
    "min_t", _rows("grad_norm_sq"), "min over t=0..T-1 of the replica mean of ||grad F(x_t)||^2"
)
XT = Lhs(
    "min_t",
    _rows("grad_norm_sq_tilde"),
    "min over t=0..T-1 of the replica mean of ||grad F(tilde x_t)||^2",
)
BINDINGS = [
    _b("saef.thm1", XT),
    _b("saef.thm2", X),
    _b("saef.thm3", X),
    _b("saef.thm3_xtilde", XT),
    _b("saef.cor2", X),
    _b("saef.cor3", X),
    _b(
        "saef.lemma1_main",
        Lhs(
            "max_t",
            _lemma1,
            "max over t of the replica mean of the mismatch error (reading: "
            "[check] reading = supplement | printed)",
        ),
    ),
    _b(
        "saef.lemma1",
        Lhs(
            "max_t",
            _rows("m_norm_sq"),
            "max over t of the replica mean of 1/K sum_k ||m_{t+1}^(k)||^2",
        ),
    ),
]
