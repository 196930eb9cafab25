"""QAFeL / FedBuff bindings (QAFeL Theorem F.1 eq. (9), Corollary F.2 eq. (12), Theorem F.4 with
phi(T) of eq. (14), Proposition 3.5 eqs. (6)-(7)).

Symbol -> source (the table of :mod:`boundcheck.algorithms.qafel`):

==============  ==========================================================================
``eta_l``       setting ``eta_l`` (constant over the P local steps), chosen
``eta_g``       setting ``eta_g``; ``K``, ``P``, ``T`` settings
``delta_c``     ``client_compressor.delta(d)`` (certified in boundcheck.compressors; 1 for none)
``delta_s``     ``server_compressor.delta(d)``
``tau_max``     ``meta['schedule']['tau_max_used']``: tau_max,K of the T*K applied updates,
                maximum over the batches (observed)
``L``           problem constant ``L_i`` (Assumption 3.3: *each* F_n is L-smooth)
``sigma_l``     ``sqrt(sigma2)`` (sigma_l is a standard deviation)
``G``           problem constant ``G`` (a bound on the squared norm ||grad F_n||^2)
``F0``          ``f(x^0) - f*_lower`` (derived)
lhs             per replica: mean of ``grad_norm_sq`` over rows ``t = 0..T-1`` (``x^t``)
==============  ==========================================================================
"""

from __future__ import annotations

import math

from boundcheck.check.bindings.base import Binding, Ctx, Lhs, Sym, f0_value

ALGS = ("qafel", "fedbuff")


def _delta(which: str):
    def fn(ctx: Ctx):
        c = ctx.settings.get(which)
        if ctx.spec.algorithm["name"] == "fedbuff" or c is None:
            return 1.0, "exact", "no quantizer (identity): delta = 1"
        v = c.delta(ctx.problem.d)
        if v is None:
            return math.nan, "certified", f"{c.name} is no contraction at d={ctx.problem.d}"
        return float(v), "certified", f"{c.name}.delta(d={ctx.problem.d})"

    return fn


def _tau_max(ctx: Ctx):
    v = ctx.meta_max(lambda tr: tr.meta["schedule"]["tau_max_used"])
    return float(v), "observed", "tau_max,K of the applied updates, max over the batches"


def _unbiased(which: str, label: str):
    def check(ctx: Ctx) -> str | None:
        c = ctx.settings.get(which)
        if c is None or ctx.spec.algorithm["name"] == "fedbuff" or not c.biased:
            return None
        return f"{label} {c.name} is biased"

    return check


def _contraction(which: str, label: str):
    def check(ctx: Ctx) -> str | None:
        c = ctx.settings.get(which)
        if c is None or ctx.spec.algorithm["name"] == "fedbuff":
            return None
        return None if c.delta(ctx.problem.d) is not None else f"{label} is no contraction"

    return check


def _lhs(ctx: Ctx):
    T = int(ctx.settings["T"])
    g = ctx.series("grad_norm_sq")
    return g[:T].mean(axis=0)


SYMBOLS = {
    "eta_l": Sym("setting", "eta_l"),
    "eta_g": Sym("setting", "eta_g"),
    "K": Sym("setting", "K"),
    "P": Sym("setting", "P"),
    "T": Sym("setting", "T"),
    "delta_c": Sym("derived", fn=_delta("client_compressor"), text="client_compressor.delta(d)"),
    "delta_s": Sym("derived", fn=_delta("server_compressor"), text="server_compressor.delta(d)"),
    "tau_max": Sym(
        "schedule",
        fn=_tau_max,
        after_run=True,
        text="measured tau_max,K of the batch (meta['schedule']['tau_max_used'])",
    ),
    "L": Sym("constant", "L_i", text="problem constant L_i (each F_n is L-smooth)"),
    "sigma_l": Sym("constant", "sigma2", sqrt=True, text="sqrt of problem constant sigma2"),
    "G": Sym("constant", "G", text="problem constant G (bound on ||grad F_n||^2)"),
    "F0": Sym("derived", fn=f0_value, text="f(x^0) - certified lower bound of f*"),
}
LHS = Lhs(
    "mean", _lhs, "per replica: 1/T sum_{t=0}^{T-1} ||grad f(x^t)||^2 (grad_norm_sq rows 0..T-1)"
)


def _assumptions(server: str) -> dict:
    out = {
        "qafel.qc_unbiased": _unbiased("client_compressor", "client quantizer"),
        "qafel.def2_1": _contraction("client_compressor", "client quantizer"),
    }
    if server == "unbiased":
        out["qafel.qs_unbiased"] = _unbiased("server_compressor", "server quantizer")
    else:
        out["qafel.qs_general"] = _contraction("server_compressor", "server quantizer")
    return out


def _binding(tid: str, server: str) -> Binding:
    return Binding(tid, ALGS, SYMBOLS, LHS, _assumptions(server))


BINDINGS = [
    _binding("qafel.thm_f1", "unbiased"),
    _binding("qafel.thm_f4_unbiased", "unbiased"),
    _binding("qafel.thm_f4_biased", "general"),
    _binding("qafel.cor_f2", "general"),
    _binding("qafel.prop3_5_fedbuff", "unbiased"),
    _binding("qafel.prop3_5_qafel", "unbiased"),
    _binding("qafel.cor_f3", "unbiased"),
]


# --- Lemma F.6: the quantized sum of the clients' gradients at x0 (algorithm quantized_sum) -------
def _f6_meta(key: str, text: str):
    def fn(ctx: Ctx):
        return float(ctx.meta_max(lambda tr: tr.meta[key])), "exact", text

    return fn


def _f6_delta(ctx: Ctx):
    c = ctx.settings.get("compressor")
    if c is None:
        return 1.0, "exact", "no quantizer (identity): delta = 1"
    v = c.delta(ctx.problem.d)
    if v is None:
        return math.nan, "certified", f"{c.name} is no contraction at d={ctx.problem.d}"
    return float(v), "certified", f"{c.name}.delta(d={ctx.problem.d})"


def _f6_unbiased(ctx: Ctx) -> str | None:
    c = ctx.settings.get("compressor")
    return None if c is None or not c.biased else f"quantizer {c.name} is biased"


BINDINGS.append(
    Binding(
        "qafel.lemma_f6",
        ("quantized_sum",),
        {
            "delta_q": Sym("derived", fn=_f6_delta, text="compressor.delta(d)"),
            "norm_sum_sq": Sym(
                "derived",
                fn=_f6_meta("norm_sum_sq", "||sum_n grad F_n(x0)||^2"),
                after_run=True,
                text="||sum_n x_n||^2 with x_n = grad F_n(x0) (meta)",
            ),
            "sum_norm_sq": Sym(
                "derived",
                fn=_f6_meta("sum_norm_sq", "sum_n ||grad F_n(x0)||^2"),
                after_run=True,
                text="sum_n ||x_n||^2 with x_n = grad F_n(x0) (meta)",
            ),
        },
        Lhs(
            "mean",
            lambda ctx: ctx.series("quant_sum_sq")[0],
            "per replica ||sum_n Q(x_n)||^2, one independent draw per vector",
        ),
        {"qafel.qc_unbiased": _f6_unbiased},
    )
)
