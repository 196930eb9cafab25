"""The audit of QAFeL (Ortega & Jafarkhani, 2023): phi(T) of eq. (14), Conditions (8), (11), (25),
Theorem F.4 / Corollary F.2, Lemmas F.6-F.9, the re-indexed sum (47), Proposition 3.5, the FedBuff
limit, tau_max = 0.
"""

from __future__ import annotations

from fractions import Fraction

import sympy as sp

from boundcheck.theory import qafel as Q
from derivations.core import (
    Check,
    Region,
    check,
    closed_form_sum,
    identity,
    inequality,
    limit,
    num,
    point_text,
    refuted,
    show,
    verified,
)

CHECKS: list[Check] = []
PAPER = "QAFeL"

L, K, P, T, F0 = Q.L, Q.K, Q.P, Q.T, Q.F0
eta_l, eta_g, delta_c, delta_s = Q.eta_l, Q.eta_g, Q.delta_c, Q.delta_s
sigma_l, G, tau_max, tau_max_1 = Q.sigma_l, Q.G, Q.tau_max, Q.tau_max_1


# --- phi(T), eq. (14) ----------------------------------------------------------------------------
@check(
    CHECKS,
    id="qafel.phi_biased",
    paper=PAPER,
    location="QAFeL eq. (14), biased server quantizer",
    claim="phi(T) = (2/delta_s) sum_{t=0}^{T-1} (1 - delta_s/2)^(t-1) <= 4/delta_s^2",
    severity="constant",
    subject="qafel.thm_f4_biased",
)
def phi_biased():
    region = Region({T: (1, 10**4), delta_s: (0.01, 1)}, integers=frozenset({T}))
    res = closed_form_sum(
        Q.PHI_BIASED,
        4 / delta_s**2,
        relation="<=",
        region=region,
        what="phi_biased(T) <= 4/delta_s^2",
        extra_points=[{T: 2, delta_s: 1}],
    )
    if res.verdict == "refuted":
        res.details["limit_T_to_oo"] = sp.simplify(8 / (delta_s**2 * (2 - delta_s)))
        res.evidence += (
            "; phi -> 8/(delta_s^2 (2 - delta_s)) as T -> oo; with the exponent t of eq. (60) "
            "the bound holds"
        )
    return res


@check(
    CHECKS,
    id="qafel.phi_biased_eq60",
    paper=PAPER,
    location="QAFeL proof of Corollary F.12, eq. (60)",
    claim="(2/delta_s) sum_{t=0}^{T-1} (1 - delta_s/2)^t <= 4/delta_s^2",
    severity="constant",
    subject="qafel.thm_f4_biased",
)
def phi_biased_eq60():
    # closed form 4(1 - r^T)/delta_s^2 with r = 1 - delta_s/2 in [1/2, 1): 4/delta_s^2 - it = 4 r^T/ds^2
    closed = sp.simplify(Q.PHI_BIASED_EQ60.doit())
    slack = sp.simplify(4 / delta_s**2 - closed)
    expected = 4 * (1 - delta_s / 2) ** T / delta_s**2
    if sp.simplify(slack - expected) == 0:
        return verified(
            "4/delta_s^2 - phi_(60)(T) = 4 (1 - delta_s/2)^T / delta_s^2 >= 0 (closed form)",
            closed_form=closed,
        )
    return refuted(f"slack {slack}")  # pragma: no cover


# --- conditions -----------------------------------------------------------------------------------
_POINT = {K: 10, L: 1, P: 5, delta_c: sp.Rational(1, 2), delta_s: sp.Rational(1, 2), eta_g: 1}


def _tight_eta_l(cond_lhs: sp.Expr, at: dict) -> sp.Expr:
    """The positive eta_l at which ``cond_lhs(eta_l) = 1`` (the left side is increasing)."""
    sols = [s for s in sp.solve(sp.Eq(cond_lhs.subs(at), 1), eta_l) if s.is_positive]
    return min(sols, key=lambda s: float(s))


def _expand(thm, expr):
    return thm.expand(expr).doit()


@check(
    CHECKS,
    id="qafel.f4_biased_condition",
    paper=PAPER,
    location="QAFeL Theorem F.4 (biased Q_s) under Condition (8); proof Condition (25)",
    claim="Condition (8) implies the proof's Condition (25) with the biased phi(T) of (14)",
    severity="invalidates",
    subject="qafel.thm_f4_biased",
)
def f4_biased_condition():
    thm = Q.THM_F4_BIASED
    c8 = _expand(thm, Q.COND_8.lhs)
    c25 = _expand(thm, Q.COND_25_PHI.lhs)
    at = {**_POINT, T: 10}
    el = _tight_eta_l(c8, at)
    pt = {**at, eta_l: el}
    v8, v25 = num(c8, pt), num(c25, pt)
    if v8 <= 1 and v25 > 1:
        return refuted(
            f"at {point_text(at)} and eta_l = {show(el)} (where (8) is tight): (8) lhs = "
            f"{show(v8)} <= 1 but (25) lhs = {show(v25)} > 1; phi_biased(T) >= "
            "2/(delta_s(1-delta_s/2)) > 1/delta_s for every T",
            point=point_text(pt),
            cond8_lhs=show(v8),
            cond25_lhs=show(v25),
        )
    return verified("(25) holds where (8) is tight")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.cor_f2_from_f4",
    paper=PAPER,
    location="QAFeL Corollary F.2, eqs. (11)-(12), from Theorem F.4 (biased)",
    claim="Condition (11) implies (25) with the biased phi(T), and bound (12) >= the Theorem F.4 "
    "bound (so (12) follows from F.4)",
    severity="constant",
    subject="qafel.cor_f2",
)
def cor_f2_from_f4():
    thm = Q.COR_F2
    c11 = _expand(thm, Q.COND_11.lhs)
    c25 = _expand(thm, Q.COND_25_PHI.lhs)
    at = {**_POINT, T: 1000}
    el = _tight_eta_l(c11, at)
    pt = {**at, eta_l: el, F0: 1, G: 1, sigma_l: 1, tau_max: 3}
    v11, v25 = num(c11, pt), num(c25, pt)
    b12 = num(_expand(thm, thm.bound), pt)
    b4 = num(_expand(Q.THM_F4_BIASED, Q.THM_F4_BIASED.bound), pt)
    if v11 <= 1 and (v25 > 1 or b12 < b4):
        return refuted(
            f"at {point_text(at)}, eta_l = {show(el)}: (11) lhs = {show(v11)} <= 1 but (25) lhs = "
            f"{show(v25)}; bound (12) = {show(b12)} < F.4 = {show(b4)} (phi_biased(T) > "
            "4/delta_s^2 for large T)",
            point=point_text(pt),
            cond11_lhs=show(v11),
            cond25_lhs=show(v25),
            bound_12=show(b12),
            bound_f4=show(b4),
        )
    return verified("(11) implies (25) and (12) >= F.4 at the tested point")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.cond8_simplified",
    paper=PAPER,
    location="QAFeL Condition (8), simplified form",
    claim="eta_g <= 1/L, eta_l <= K/(2P(K+1-delta_c)) and eta_l <= delta_s/(3P) imply (8)",
    severity="invalidates",
    subject="qafel.thm_f1",
)
def cond8_simplified():
    lhs = Q.THM_F1.expand(Q.COND_8.lhs).subs(eta_g, 1 / L)
    f1 = 3 * P * eta_l / delta_s + 1
    f2 = (1 + (1 - delta_c) / K) * P * eta_l
    split = sp.simplify(lhs - f1 * f2) == 0
    v1 = sp.simplify(f1.subs(eta_l, delta_s / (3 * P)))
    v2 = sp.simplify(f2.subs(eta_l, K / (2 * P * (K + 1 - delta_c))))
    if split and v1 == 2 and v2 == sp.Rational(1, 2):
        return verified(
            "(8) lhs is increasing in eta_g and eta_l; at eta_g = 1/L it factors as "
            "(3 P eta_l/delta_s + 1)((1+(1-delta_c)/K) P eta_l), the factors are 2 and 1/2 at the "
            "simplified caps: product <= 1",
        )
    return refuted(f"factorisation {split}, factor values {v1}, {v2}")  # pragma: no cover


# --- Lemma F.9 ----------------------------------------------------------------------------------
@check(
    CHECKS,
    id="qafel.lemma_f9",
    paper=PAPER,
    location="QAFeL Lemma F.9, eqs. (48)-(50)",
    claim="E||x^t - hat x^t||^2 <= eta_g^2 sum_{s<t} (1-delta_s)^(t-s) E||bar Delta^s||^2 for an "
    "unbiased Q_s (the cross term of (50) vanishes)",
    severity="invalidates",
    subject="qafel.lemma_f9",
)
def lemma_f9():
    """Exact expectation on a small instance: one client, K = P = 1, staleness 0, no gradient noise,
    f = h/2 x^2, Q_c = identity, Q_s(u) = u/p w.p. p else 0 (unbiased, 1 - delta_s = (1-p)/p)."""
    p, a, x0 = sp.symbols("p a x0", positive=True)
    omd = (1 - p) / p
    e2 = d0 = d1 = sp.Integer(0)
    for keep0, w0 in ((True, p), (False, 1 - p)):
        x1 = x0 - a * x0
        xh1 = x0 + ((x1 - x0) / p if keep0 else 0)
        for keep1, w1 in ((True, p), (False, 1 - p)):
            x2 = x1 - a * xh1
            xh2 = xh1 + ((x2 - xh1) / p if keep1 else 0)
            e2 += w0 * w1 * (x2 - xh2) ** 2
            d0 += w0 * w1 * (x1 - x0) ** 2
            d1 += w0 * w1 * (x2 - x1) ** 2
    u = sp.Symbol("u", real=True)
    unbiased = sp.simplify(p * (u / p) - u) == 0
    variance = sp.simplify(p * (u / p - u) ** 2 + (1 - p) * u**2 - omd * u**2) == 0
    rhs48 = omd**2 * d0 + omd * d1
    excess = sp.factor(sp.simplify(e2 - rhs48))
    at = {p: sp.Rational(3, 4), a: sp.Rational(1, 2), x0: 1}
    val = excess.subs(at)
    if unbiased and variance and val > 0:
        return refuted(
            f"exact expectation at t = 2: E||x^2 - hat x^2||^2 - rhs(48) = {excess} "
            f"(a = eta_g eta_l h, 1 - delta_s = (1-p)/p); = {val} > 0 at p = 3/4 (delta_s = 2/3), "
            "a = 1/2, x0 = 1. Theorem F.1/F.4 (unbiased) are not refuted; their proof has a gap",
            excess=excess,
            lhs=e2.subs(at),
            rhs=rhs48.subs(at),
            hypotheses=[
                "Q_s unbiased: p (u/p) + (1-p) 0 = u",
                "Definition 2.1 with equality: E|Q_s(u)-u|^2 = (1-p)/p u^2, delta_s = (2p-1)/p > 0",
                "K = P = 1, staleness 0, sigma_l = 0, Q_c = identity",
            ],
        )
    return verified(f"excess {excess}")  # pragma: no cover


# --- order claims and special cases -------------------------------------------------------------
@check(
    CHECKS,
    id="qafel.prop35_server_term",
    paper=PAPER,
    location="QAFeL Proposition 3.5, eq. (7) ('with an unbiased client quantizer')",
    claim="the server-quantizer term is O((2-delta_c)(sigma_l^2+G)/(delta_s T K)) for any server "
    "quantizer of Definition 2.1",
    severity="order",
    subject="qafel.prop3_5_qafel",
)
def prop35_server_term():
    at = {F0: 2, G: 3, K: 4, L: 5, P: 3, delta_c: sp.Rational(1, 2), sigma_l: 2, tau_max_1: 7}
    f2 = Q.COR_F2.expand(Q.COR_F2.bound).subs(Q.SCALINGS).subs(at)
    coeff = sp.limit((f2 - f2.subs(delta_s, 1)) * T, T, sp.oo)  # the 1/T server term of (12)
    power = sp.limit(sp.log(coeff) / sp.log(1 / delta_s), delta_s, 0)
    if power > 1:
        return refuted(
            f"for a biased Q_s (Corollary F.2, e.g. top-k of Table 2) the server term of (12) "
            f"under the scalings is ({sp.simplify(coeff)})/T ~ delta_s^-{power}, not delta_s^-1; "
            "the 1/delta_s of (7) needs an unbiased server quantizer too",
            coefficient_of_1_over_T=sp.simplify(coeff),
            power_of_1_over_delta_s=power,
            at=at,
        )
    return verified(f"server term ~ delta_s^-{power}")


@check(
    CHECKS,
    id="qafel.fedbuff_limit",
    paper=PAPER,
    location="QAFeL Section 3 / eq. (9): QAFeL recovers FedBuff as delta_c, delta_s -> 1",
    claim="bound (9) tends to the FedBuff bound (9) at delta_c = delta_s = 1 as delta -> 1",
    severity="invalidates",
    subject="qafel.thm_f1",
)
def fedbuff_limit():
    d = sp.Symbol("d", positive=True)
    b = Q.THM_F1.expand(Q.THM_F1.bound).doit().subs({delta_c: d, delta_s: d})
    fed = Q.fedbuff_bound(Q.THM_F1)
    return limit(b, d, 1, fed, what="lim_{delta_c = delta_s -> 1} (9)")


@check(
    CHECKS,
    id="qafel.tau0_removable",
    paper=PAPER,
    location="QAFeL eq. (9), staleness term at tau_max,K = 0",
    claim="the printed term eta_g^2 tau^2 ((1-delta_c)/(K tau) + 1) has the value the proof gives "
    "(0) at tau_max,K = 0 (a removable singularity of the printed form)",
    severity="typo",
    subject="qafel.thm_f1",
)
def tau0_removable():
    expected = 3 * L**2 * Q.beta_P * (sigma_l**2 + P * G)
    return limit(Q.TERM_STALE, tau_max, 0, expected, what="lim_{tau_max -> 0} staleness term")


@check(
    CHECKS,
    id="qafel.cor_f3_explicit",
    paper=PAPER,
    location="QAFeL Corollary F.3, eq. (13)",
    claim="(9) with eta_l = 1/(K sqrt(TP)), eta_g = K, tau_max,K = tau_max,1/K is "
    "2F0/sqrt(TP) + 3L^2(sigma_l^2+PG)(tau_1^2+tau_1(1-delta_c)+1)/(TK^2) + "
    "L(2-delta_c)(sigma_l^2+4G)/(K sqrt(TP)) + 3L^2(2-delta_c)(sigma_l^2+4G) phi(T)/(TK)",
    severity="constant",
    subject="qafel.cor_f3",
)
def cor_f3_explicit():
    scaled = Q.THM_F1.expand(Q.THM_F1.bound).subs(Q.SCALINGS)
    phi = Q.PHI_UNBIASED
    hand = (
        2 * F0 / sp.sqrt(T * P)
        + 3 * L**2 * (sigma_l**2 + P * G) * (tau_max_1**2 + tau_max_1 * (1 - delta_c) + 1)
        / (T * K**2)
        + L * (2 - delta_c) * (sigma_l**2 + 4 * G) / (K * sp.sqrt(T * P))
        + 3 * L**2 * (2 - delta_c) * (sigma_l**2 + 4 * G) * phi / (T * K)
    )  # fmt: skip
    return identity(hand, scaled, what="(9) under the scalings of (13)")


_ = (inequality,)


@check(
    CHECKS,
    id="qafel.phi_unbiased",
    paper=PAPER,
    location="QAFeL eq. (14), unbiased server quantizer",
    claim="phi(T) = sum_{t=1}^{T-1} (1 - delta_s)^t <= 1/delta_s",
    severity="constant",
    subject="qafel.thm_f4_unbiased",
)
def phi_unbiased():
    closed = sp.simplify(Q.PHI_UNBIASED.doit())
    slack = 1 / delta_s - closed
    certificate = (delta_s + (1 - delta_s) ** T) / delta_s  # > 0 for 0 < delta_s <= 1
    region = Region({T: (1, 500), delta_s: (0.01, 1)}, integers=frozenset({T}))
    same = identity(certificate, slack, region=region, what="1/delta_s - phi(T)")
    if same.verdict == "verified":
        return verified(
            "1/delta_s - phi(T) = (delta_s + (1 - delta_s)^T)/delta_s > 0 (closed form, simplified)",
            closed_form=closed,
        )
    return same


# --- numbers in the text and tables -------------------------------------------------------------
#: Table 1 (qsgd client/server bits -> kB per message; uploads in thousands, means) and FedBuff
TABLE1_KB = {8: Fraction("29.924"), 4: Fraction("15.380"), 2: Fraction("8.108")}
FEDBUFF_KB = Fraction("117.128")
FEDBUFF_UPLOADS = Fraction("26.1")
TABLE1_UPLOADS = {  # (client bits, server bits) -> uploads (thousands)
    (8, 8): Fraction("27.6"), (8, 4): Fraction("29.8"), (8, 2): Fraction("35.7"),
    (4, 8): Fraction("39.7"), (4, 4): Fraction("27.8"), (4, 2): Fraction("37.7"),
    (2, 8): Fraction("58.6"), (2, 4): Fraction("74.6"), (2, 2): Fraction("91.9"),
}  # fmt: skip


@check(
    CHECKS,
    id="qafel.table1_sizes",
    paper=PAPER,
    location="QAFeL Table 1 (kB/upload, kB/download) and Example B.1 (n-bit qsgd)",
    claim="the message sizes of n-bit qsgd are a fixed overhead plus n bits per coordinate",
    severity="typo",
    subject="qafel.thm_f1",
)
def table1_sizes():
    # sign in the n bits: size = a n + b; literal reading (n bits for xi, +1 sign bit): a (n+1) + b
    out = {}
    for name, shift in (("sign in the n bits", 0), ("n bits + 1 sign bit", 1)):
        a = (TABLE1_KB[8] - TABLE1_KB[4]) / 4
        b = TABLE1_KB[8] - a * (8 + shift)
        fits = a * (2 + shift) + b == TABLE1_KB[2]
        out[name] = {"kB_per_bit_level": str(a), "overhead_kB": str(b), "fits_2_bit": fits}
    sign, lit = out["sign in the n bits"], out["n bits + 1 sign bit"]
    if sign["fits_2_bit"] and Fraction(sign["overhead_kB"]) >= 0 > Fraction(lit["overhead_kB"]):
        d = Fraction(sign["kB_per_bit_level"]) * 1000 * 8  # coordinates quantized
        return verified(
            f"all three sizes are exactly {float(Fraction(sign['kB_per_bit_level'])):g} n + "
            f"{float(Fraction(sign['overhead_kB'])):g} kB (d = {d} quantized coordinates, n bits "
            "each including the sign); the n + 1 bits reading would need overhead "
            f"{float(Fraction(lit['overhead_kB'])):g} kB < 0. The table is consistent "
            "with the sign-in-the-bits reading of Example B.1 (a reading, not an error)",
            fits=out,
        )
    return refuted(f"no affine fit: {out}")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.fig4_savings",
    paper=PAPER,
    location="QAFeL Figure 4 caption (data of Table 1)",
    claim="in all cases QAFeL saves at least 3x upload cost and 2x broadcast cost over FedBuff",
    severity="constant",
    subject="qafel.thm_f1",
)
def fig4_savings():
    fed = FEDBUFF_UPLOADS * FEDBUFF_KB  # MB (thousands x kB)
    up = {k: fed / (u * TABLE1_KB[k[0]]) for k, u in TABLE1_UPLOADS.items()}
    down = {k: fed / (u * TABLE1_KB[k[1]]) for k, u in TABLE1_UPLOADS.items()}
    bad_up = {k: v for k, v in up.items() if v < 3}
    bad_down = {k: v for k, v in down.items() if v < 2}
    details = {
        "reading": "total cost = mean uploads x kB per message; one download per upload",
        "upload_saving": {f"client {c}/server {s}": float(v) for (c, s), v in up.items()},
        "broadcast_saving": {f"client {c}/server {s}": float(v) for (c, s), v in down.items()},
    }
    if bad_up or bad_down:
        parts = [f"upload {float(v):.3f}x at client {c}-bit/server {s}-bit"
                 for (c, s), v in bad_up.items()]  # fmt: skip
        parts += [f"broadcast {float(v):.3f}x at client {c}-bit/server {s}-bit"
                  for (c, s), v in bad_down.items()]  # fmt: skip
        return refuted(
            f"from Table 1's means (FedBuff {float(fed):.1f} MB): " + "; ".join(parts), **details
        )
    return verified("every row saves >= 3x upload and >= 2x broadcast", **details)


@check(
    CHECKS,
    id="qafel.fig4_7x",
    paper=PAPER,
    location="QAFeL Figure 4 caption ('from 3052 MB to 428 MB, a 7x decrease')",
    claim="4-bit client and server qsgd: upload cost 3052 MB -> 428 MB, a 7x decrease",
    severity="typo",
    subject="qafel.thm_f1",
)
def fig4_7x():
    fed = FEDBUFF_UPLOADS * FEDBUFF_KB
    q44 = TABLE1_UPLOADS[(4, 4)] * TABLE1_KB[4]
    # the uploads are printed to 3 significant digits: 26.05 <= uploads < 26.15 thousand
    lo, hi = Fraction("26.05") * FEDBUFF_KB, Fraction("26.15") * FEDBUFF_KB
    if lo <= 3052 <= hi and round(q44) == 428 and round(Fraction(3052, 428)) == 7:
        return verified(
            f"26.1k x 117.128 kB = {float(fed):.1f} MB (3052 within the rounding of 26.1k: "
            f"[{float(lo):.1f}, {float(hi):.1f}]); 27.8k x 15.380 kB = {float(q44):.1f} MB; "
            f"ratio {3052 / 428:.2f}"
        )
    return refuted(f"FedBuff {float(fed)} MB, QAFeL {float(q44)} MB")


@check(
    CHECKS,
    id="qafel.server_step_61",
    paper=PAPER,
    location="QAFeL Appendix F.5, server-step bound (61) from (65)-(66); used as (22)",
    claim="the Cauchy-Schwarz step from (65) bounds the third term by (2-delta_c)/K beta_P "
    "(sigma_l^2 + 2G), as (61) states",
    severity="typo",
    subject="qafel.server_step",
)
def server_step_61():
    g = sp.Symbol("g", nonnegative=True)  # ||grad F_k||^2 <= G and ||avg grad||^2 <= G
    # ||a - b||^2 <= 2||a||^2 + 2||b||^2 with ||a||^2, ||b||^2 <= G (the step the proof names)
    per_term = 2 * g + 2 * g
    third = (2 - delta_c) / K**2 * K * Q.beta_P * per_term  # K clients, sum_p eta_p^2 = beta_P
    derived = sp.simplify(third.subs(g, G) + (2 - delta_c) / K * Q.beta_P * sigma_l**2)
    stated = (2 - delta_c) / K * Q.beta_P * (sigma_l**2 + 2 * G)
    diff = sp.factor(derived - stated)
    if diff != 0:
        return refuted(
            f"the named step gives (2-delta_c)/K beta_P (sigma_l^2 + 4G) as (66) and (22) print; "
            f"(61) states 2G (difference {diff}); the theorems use 4G, so they are unaffected "
            "(the variance identity under uniform sampling would even give G)",
            derived=derived,
            stated=stated,
        )
    return verified("(61) = (66)")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.lemma_f11_unroll",
    paper=PAPER,
    location="QAFeL Lemma F.11, eqs. (55)-(58)",
    claim="e_{t+1} <= (1 - delta_s/2) e_t + (2/delta_s) eta_g^2 D_t with e_0 = 0 unrolls to "
    "e_t <= eta_g^2 (2/delta_s) sum_{s<t} (1 - delta_s/2)^(t-1-s) D_s",
    severity="constant",
    subject="qafel.lemma_f11",
)
def lemma_f11_unroll():
    t_max = 5
    d = sp.symbols(f"D0:{t_max}", nonnegative=True)
    # Young with beta = delta_s/2 in (56)-(57): the two coefficients of the recursion
    c_e = sp.simplify((1 - delta_s) * (1 + delta_s / 2))
    c_d = sp.simplify((1 - delta_s) * (1 + 2 / delta_s))
    young = (
        sp.simplify(1 - delta_s / 2 - c_e - delta_s**2 / 2) == 0
        and sp.simplify(2 / delta_s - c_d - (1 + delta_s)) == 0
    )
    e = sp.Integer(0)
    for t_ in range(t_max):
        e = (1 - delta_s / 2) * e + 2 / delta_s * eta_g**2 * d[t_]
    claimed = eta_g**2 * 2 / delta_s * sum((1 - delta_s / 2) ** (t_max - 1 - s) * d[s]
                                           for s in range(t_max))  # fmt: skip
    if young and sp.expand(e - claimed) == 0:
        return verified(
            "(1-delta_s)(1+delta_s/2) = 1 - delta_s/2 - delta_s^2/2 and (1-delta_s)(1+2/delta_s) = "
            f"2/delta_s - (1 + delta_s); the recursion unrolled to t = {t_max} equals "
            "(55) term by term"
        )
    return refuted(f"unrolled recursion differs from (55): {sp.expand(e - claimed)}")


@check(
    CHECKS,
    id="qafel.cor_f3_ceiling",
    paper=PAPER,
    location="QAFeL Corollary F.3, eq. (13), and Proposition 3.5 with tau_max,K <= "
    "ceil(tau_max,1/K)",
    claim="with tau_max,K = ceil(tau_max,1/K), the staleness term of (9) under the scalings is "
    "O(L^2 (sigma_l^2 + PG)(tau_1^2 + tau_1(1-delta_c) + 1)/(T K^2)), i.e. decays like 1/K^2",
    severity="order",
    subject="qafel.cor_f3",
)
def cor_f3_ceiling():
    term = Q.THM_F1.expand(Q.TERM_STALE).subs({k: v for k, v in Q.SCALINGS.items()
                                               if k is not tau_max})  # fmt: skip
    claimed = (L**2 * (sigma_l**2 + P * G) * (tau_max_1**2 + tau_max_1 * (1 - delta_c) + 1)
               / (T * K**2))  # fmt: skip
    at = {L: 1, sigma_l: 1, G: 1, P: 1, delta_c: sp.Rational(1, 2), tau_max_1: 5}
    rows = {}
    for kv in (10, 100, 1000):
        tk = sp.ceiling(sp.Rational(5, kv))  # = 1 for K > tau_max,1
        ratio = sp.simplify(term.subs({**at, K: kv, tau_max: tk}) / claimed.subs({**at, K: kv}))
        rows[kv] = ratio
    if rows[1000] > 10 * rows[10]:
        return refuted(
            "with the ceiling, tau_max,K >= 1, so the term is 3L^2(sigma_l^2+PG)(tau_K^2 + "
            "tau_K(1-delta_c)/K + 1/K^2)/T = Theta((tau_1^2/K^2 + 1)/T): explicit/claimed at "
            f"tau_1 = 5, K = 10, 100, 1000 is {', '.join(str(v) for v in rows.values())} "
            "(grows like K^2); the 1/K^2 holds only without the ceiling",
            ratios={str(kv): v for kv, v in rows.items()},
        )
    return verified(f"ratios {rows}")


# --- Example B.1: the quantizers as literally written -------------------------------------------
@check(
    CHECKS,
    id="qafel.rand_k_unbiased",
    paper=PAPER,
    location="QAFeL Example B.1 (rand_k; 'top_k is the only biased quantizer out of the three')",
    claim="rand_k(x), which 'sends k out of the d coordinates of x, chosen at random', is unbiased "
    "and satisfies Definition 2.1 with delta = k/d",
    severity="typo",
    subject="qafel.thm_f1",
)
def rand_k_unbiased():
    from itertools import combinations

    d, k = 3, 1
    x = sp.symbols("x1:4", real=True)
    subsets = list(combinations(range(d), k))
    w = sp.Rational(1, len(subsets))
    mean = [sum(w * (x[i] if i in sub else 0) for sub in subsets) for i in range(d)]
    err = sum(w * sum((0 if i in sub else x[i]) ** 2 for i in range(d)) for sub in subsets)
    nx2 = sum(xi**2 for xi in x)
    var_ok = sp.simplify(err - (1 - sp.Rational(k, d)) * nx2) == 0
    # the unbiased variant (d/k scaling) has E||Q(x)-x||^2 = (d/k - 1)||x||^2: 1 - delta = d/k - 1
    scaled_err = sum(
        w * sum(((sp.Rational(d, k) - 1) * x[i] if i in sub else x[i]) ** 2 for i in range(d))
        for sub in subsets
    )
    scaled_var = sp.simplify(scaled_err / nx2)
    if var_ok and sp.simplify(mean[0] - x[0]) != 0:
        return refuted(
            f"d = 3, k = 1 (exact over the 3 subsets): E[rand_k(x)] = {mean[0]}, ... = (k/d) x, "
            f"so rand_k as written is biased (it meets Definition 2.1 with delta = k/d); the "
            f"unbiased (d/k)-scaled version has E||Q(x)-x||^2 = {scaled_var} ||x||^2, i.e. "
            "delta = 2 - d/k <= 0 for k <= d/2. Either reading contradicts 'unbiased with delta = k/d'",
            mean=mean,
            scaled_variance_ratio=scaled_var,
        )
    return verified("rand_k is unbiased with delta = k/d")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.qsgd_literal",
    paper=PAPER,
    location="QAFeL Example B.1 (qsgd_s: xi_i(x, s) from x_i s/||x||, reconstruction "
    "||x||/s sign(x) xi(x, s))",
    claim="qsgd_s as written is unbiased: E[||x||/s sign(x_i) xi_i(x, s)] = x_i",
    severity="typo",
    subject="qafel.thm_f1",
)
def qsgd_literal():
    x, s = [sp.Integer(3), sp.Integer(-4)], 2
    nrm = sp.sqrt(sum(v**2 for v in x))  # = 5
    means = []
    for xi in x:
        u = xi * s / nrm
        p_up = u - sp.floor(u)
        e_xi = p_up * sp.ceiling(u) + (1 - p_up) * sp.floor(u)
        means.append(nrm / s * sp.sign(xi) * e_xi)
    if means != x:
        return refuted(
            f"x = (3, -4), s = 2 (||x|| = 5): E[Q(x)] = ({means[0]}, {means[1]}) != x; with the "
            "signed x_i inside xi the sign is applied twice, E[Q(x)] = |x|. Reading: xi from "
            "|x_i| (Alistarh et al.), as the library's QSGD does",
            mean=means,
        )
    return verified("unbiased at the test point")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.qsgd_delta_experiments",
    paper=PAPER,
    location="QAFeL Example B.1 (qsgd delta = 1 - min(2d/s^2, sqrt(2d)/s)) with Section 4 / "
    "Table 1 (n-bit qsgd, d from Table 1)",
    claim="the n-bit qsgd quantizers of the experiments (n = 2, 4, 8) satisfy Definition 2.1 "
    "with Example B.1's delta > 0, as Theorems F.1/F.4 require",
    severity="invalidates",
    subject="qafel.thm_f1",
)
def qsgd_delta_experiments():
    d = int((TABLE1_KB[8] - TABLE1_KB[4]) / 4 * 1000 * 8)  # quantized coordinates, Table 1 fit
    rows = {}
    for n in (2, 4, 8):
        for reading, s in (("s = 2^n - 1", 2**n - 1), ("s = 2^(n-1) - 1", 2 ** (n - 1) - 1)):
            delta = 1 - sp.Min(sp.Rational(2 * d, s**2), sp.sqrt(2 * d) / s)
            rows[f"{n}-bit, {reading}"] = delta
    bad = {k: v for k, v in rows.items() if not v > 0}
    if bad:
        shown = "; ".join(f"{k}: delta = {float(v):.3g}" for k, v in bad.items())
        return refuted(
            f"d = {d} (Table 1): {shown}. Definition 2.1 needs delta > 0, so Theorems F.1/F.4 do "
            "not cover these quantizers (4-bit qsgd is the default of Section 4)",
            d=d,
            deltas={k: float(v) for k, v in rows.items()},
        )
    return verified(f"every delta > 0: {rows}")


# --- Lemmas F.6-F.8 -----------------------------------------------------------------------------
def _bernoulli_q(p):
    """The unbiased quantizer Q(u) = u/p with probability p, else 0: E Q(u) = u and
    E|Q(u) - u|^2 = (1-p)/p u^2 (Definition 2.1 with equality, delta = (2p-1)/p)."""
    return ((1 / p, p), (sp.Integer(0), 1 - p))


def _randk_vectors():
    x1 = [sp.Integer(1), sp.Integer(2), sp.Integer(0)]
    x2 = [sp.Integer(-1), sp.Integer(1), sp.Integer(3)]
    return x1, x2


def _sq(v):
    return sum(c * c for c in v)


@check(
    CHECKS,
    id="qafel.lemma_f6_randk",
    paper=PAPER,
    location="QAFeL Lemma F.6, eqs. (29)-(30)",
    claim="E||Q(x_1) + Q(x_2)||^2 <= ||x_1 + x_2||^2 + (1 - delta)(||x_1||^2 + ||x_2||^2) for the "
    "shipped unbiased rand-k (one independent mask per vector)",
    severity="invalidates",
    subject="qafel.lemma_f6",
)
def lemma_f6_randk():
    """Exact expectation over the 3 x 3 mask pairs of unbiased rand-2 in d = 3 (boundcheck's
    ``RandK(k=2, unbiased=True)``, delta from its own ``delta(d)``)."""
    from boundcheck.check.moments import randk_masks
    from boundcheck.compressors import RandK

    d, k = 3, 2
    comp = RandK(k=k, unbiased=True)
    delta = sp.nsimplify(comp.delta(d))
    x1, x2 = _randk_vectors()
    masks = randk_masks(d, k, True, exact_arith=True)
    lhs = sp.Integer(0)
    for m1 in masks:
        for m2 in masks:
            q1 = [sp.Rational(str(m1.A[j, j])) * x1[j] for j in range(d)]
            q2 = [sp.Rational(str(m2.A[j, j])) * x2[j] for j in range(d)]
            lhs += (
                sp.Rational(str(m1.p))
                * sp.Rational(str(m2.p))
                * _sq([a + b for a, b in zip(q1, q2, strict=True)])
            )
    rhs = _sq([a + b for a, b in zip(x1, x2, strict=True)]) + (1 - delta) * (_sq(x1) + _sq(x2))
    if lhs <= rhs:
        return verified(
            f"exact over all mask pairs: E||Q(x1)+Q(x2)||^2 = {lhs} <= {rhs} (delta = {delta}; "
            "equality: rand-k meets Definition 2.1 with equality)",
            lhs=lhs,
            rhs=rhs,
        )
    return refuted(f"E||Q(x1)+Q(x2)||^2 = {lhs} > {rhs}", lhs=lhs, rhs=rhs)  # pragma: no cover


@check(
    CHECKS,
    id="qafel.lemma_f6_shared",
    paper=PAPER,
    location="QAFeL Lemma F.6 (statement) vs its proof, eq. (30)",
    claim="for ANY unbiased Q of Definition 2.1 (as stated: nothing on how the n quantizations are "
    "drawn) E||sum_n Q(x_n)||^2 <= ||sum_n x_n||^2 + (1 - delta) sum_n ||x_n||^2",
    severity="typo",
    subject="qafel.lemma_f6",
)
def lemma_f6_shared():
    """One shared mask of unbiased rand-2 (d = 3) for both vectors: Q(x1) + Q(x2) = Q(x1 + x2)."""
    from boundcheck.check.moments import randk_masks

    d, k = 3, 2
    delta = sp.Rational(1, 2)  # 1 - delta = d/k - 1
    x1 = x2 = [sp.Integer(1), sp.Integer(0), sp.Integer(0)]
    lhs = sp.Integer(0)
    for m in randk_masks(d, k, True, exact_arith=True):
        q = [sp.Rational(str(m.A[j, j])) * (x1[j] + x2[j]) for j in range(d)]
        lhs += sp.Rational(str(m.p)) * _sq(q)
    rhs = _sq([a + b for a, b in zip(x1, x2, strict=True)]) + (1 - delta) * (_sq(x1) + _sq(x2))
    if lhs > rhs:
        return refuted(
            f"one shared rand-2 mask in d = 3 (unbiased, 1 - delta = 1/2), x_1 = x_2 = e_1: "
            f"E||Q(x_1) + Q(x_2)||^2 = {lhs} > {rhs}. The proof's (30) needs independent draws per "
            "vector; QAFeL quantizes each client's update with its own draw, so its uses stand",
            lhs=lhs,
            rhs=rhs,
            hypotheses=["Q unbiased: E Q(x) = x", "E||Q(x) - x||^2 = (1/2)||x||^2 (delta = 1/2)"],
        )
    return verified(f"{lhs} <= {rhs}")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.lemma_f6_adaptive",
    paper=PAPER,
    location="QAFeL Lemma F.6 as applied in (42) (staleness term, Appendix F.3)",
    claim="(42): Lemma F.6 bounds E||sum Q_c(v_j)||^2 over the updates of the buffers "
    "t - tau_n .. t - 1, although later updates are computed from states that contain the "
    "earlier quantized ones",
    severity="constant",
    subject="qafel.lemma_f8",
)
def lemma_f6_adaptive():
    """Exact: x_1 = 1, x_2 = a (Q(x_1) - x_1) (a later update that depends on the earlier
    quantization error), independent draws, Q(u) = u/p w.p. p (unbiased, 1 - delta = (1-p)/p)."""
    p, a = sp.symbols("p a", positive=True)
    lhs = rhs_a = rhs_b = sp.Integer(0)
    for q1v, w1 in _bernoulli_q(p):
        Q1 = q1v * 1
        x2 = a * (Q1 - 1)
        for q2v, w2 in _bernoulli_q(p):
            Q2 = q2v * x2
            lhs += w1 * w2 * (Q1 + Q2) ** 2
            rhs_a += w1 * w2 * (1 + x2) ** 2
            rhs_b += w1 * w2 * (1 + x2**2)
    omd = (1 - p) / p
    rhs = rhs_a + omd * rhs_b
    excess = sp.factor(sp.simplify(lhs - rhs))
    at = {p: sp.Rational(3, 4), a: 1}
    if excess.subs(at) > 0:
        return refuted(
            f"E||Q(x_1) + Q(x_2)||^2 - [E||x_1 + x_2||^2 + (1-delta) E(||x_1||^2 + ||x_2||^2)] = "
            f"{excess} > 0 (= {excess.subs(at)} at p = 3/4, delta = 2/3, a = 1): the cross term "
            "2 E<x_2, Q(x_1) - x_1> of (29) does not vanish when x_2 depends on Q(x_1). In (42) the "
            "updates of buffer rho' > rho may be computed from hidden states containing buffer "
            "rho's quantized updates (linearly, on a quadratic: x_2 = a (Q(x_1) - x_1) with a of "
            "the sign of -curvature, so the term is favourable on convex quadratics and not with "
            "negative curvature, which Assumption 3.3 allows); Young's inequality repairs (42) at "
            "a factor 2",
            excess=excess,
            hypotheses=[
                "Q unbiased, E|Q(u) - u|^2 = (1-p)/p u^2, delta = (2p-1)/p = 2/3 > 0",
                "independent draws for Q(x_1) and Q(x_2)",
                "x_2 = a (Q(x_1) - x_1): a function of the earlier quantized value",
            ],
        )
    return verified(f"excess {excess}")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.lemma_f7_polarization",
    paper=PAPER,
    location="QAFeL Lemma F.7, (34) -> (35) = (31)",
    claim="-eta_g sum_p eta_l^(p) <a, b_p> = -(eta_g/2) alpha_P ||a||^2 + sum_p (eta_g eta_l^(p)/2) "
    "(-||b_p||^2 + ||a - b_p||^2)",
    severity="constant",
    subject="qafel.lemma_f7",
)
def lemma_f7_polarization():
    a1, a2 = sp.symbols("a1 a2", real=True)
    e = sp.symbols("e0 e1", positive=True)  # eta_l^(0), eta_l^(1): varying local stepsizes
    bs = [sp.symbols(f"b{p}_1 b{p}_2", real=True) for p in range(2)]

    def dot(u, v):
        return u[0] * v[0] + u[1] * v[1]

    a = (a1, a2)
    lhs = -eta_g * sum(e[p] * dot(a, bs[p]) for p in range(2))
    rhs = -eta_g / 2 * (e[0] + e[1]) * dot(a, a) + sum(
        eta_g * e[p] / 2 * (-dot(bs[p], bs[p]) + dot([a[i] - bs[p][i] for i in range(2)],
                                                     [a[i] - bs[p][i] for i in range(2)]))
        for p in range(2)
    )  # fmt: skip
    return identity(rhs, lhs, what="(35) from (34), P = 2, R^2, varying eta_l^(p)")


@check(
    CHECKS,
    id="qafel.lemma_f7_sign",
    paper=PAPER,
    location="QAFeL Lemma F.7 with Delta_k from the iterate formula after Table 3, and (32)",
    claim="E[T_{1,t}] = (31) with T_{1,t} = -(eta_g/K) sum_k <grad f(x^t), Delta_k> and the update "
    "Delta_k = Q_c(-eta_l sum_p g_k(y_{k,p})) of x^{t+1} = x^t + eta_g (1/K) sum_k Delta_k",
    severity="typo",
    subject="qafel.lemma_f7",
)
def lemma_f7_sign():
    """K = P = 1, Q_c = identity, exact gradient: T_1 = -eta_g <a, -eta_l b> with a = grad f(x^t),
    b = grad F_k(y); (31) gives -(eta_g eta_l/2)(||a||^2 + ||b||^2 - ||a - b||^2)."""
    a, b = sp.symbols("a b", real=True)
    t1 = -eta_g * a * (-eta_l * b)
    eq31 = -eta_g / 2 * eta_l * a**2 + eta_g * eta_l / 2 * (-(b**2) + (a - b) ** 2)
    at = {a: 1, b: 1, eta_g: 1, eta_l: sp.Rational(1, 10)}
    if sp.simplify(t1 + eq31) == 0 and t1.subs(at) != eq31.subs(at):
        return refuted(
            f"with the iterate formula's Delta_k = Q_c(-eta_l sum_p g_k), E[T_1] = {sp.factor(t1)} "
            f"= -(31) (31 gives {sp.factor(sp.simplify(eq31))}); at a = b = 1, eta_g = 1, "
            f"eta_l = 1/10: {t1.subs(at)} vs {eq31.subs(at)}. (32) uses Delta_k = Q_c(+eta_l "
            "sum_p g_k); with the sign slip of (15) (smoothness gives +eta_g <grad f, bar Delta>) "
            "the two cancel and (17) stands",
            t1=t1,
            eq31=eq31,
        )
    return verified("signs agree")  # pragma: no cover


@check(
    CHECKS,
    id="qafel.lemma_f7_instance",
    paper=PAPER,
    location="QAFeL Lemma F.7, eqs. (32)-(35), under uniform client sampling",
    claim="E[T_{1,t}] = (31) when the buffered client is uniform over the N clients given the "
    "history (exact expectation on N = 2, K = 1, P = 2, staleness 0, noise +-s)",
    severity="invalidates",
    subject="qafel.lemma_f7",
)
def lemma_f7_instance():
    """F_n(y) = h_n/2 (y - c_n)^2, g_n(y) = F_n'(y) + xi (xi = +-s), Q_c = Q_s = identity,
    eta_g = 1: client n runs y_0 = x, y_1 = y_0 - eta_l g_n(y_0); T_1 = -<f'(x), Delta> with the
    sign (32) uses, Delta = eta_l (g(y_0) + g(y_1))."""
    x, s, el = sp.symbols("x s eta_l", positive=True)
    h = sp.symbols("h1 h2", positive=True)
    c = sp.symbols("c1 c2", real=True)

    def dF(n, y):
        return h[n] * (y - c[n])

    fp = (dF(0, x) + dF(1, x)) / 2
    lhs = sp.Integer(0)
    b = [sp.Integer(0), sp.Integer(0)]  # E (1/N) sum_n grad F_n(y_{n,p}), p = 0, 1
    e_b2 = [sp.Integer(0), sp.Integer(0)]  # E ||(1/N) sum_n grad F_n(y_{n,p})||^2
    # every client's local run (the 1/N sum needs all of them), noise draws independent
    runs = {}
    for n in range(2):
        runs[n] = []
        for x0 in (s, -s):
            for x1 in (s, -s):
                y1 = x - el * (dF(n, x) + x0)
                runs[n].append((sp.Rational(1, 4), y1, dF(n, x) + x0 + dF(n, y1) + x1))
    for n in range(2):  # the buffered client, uniform
        for w, _y1, gsum in runs[n]:
            lhs += sp.Rational(1, 2) * w * (-fp * el * gsum)
    for w0, y10, _ in runs[0]:
        for w1, y11, _ in runs[1]:
            avg = [fp, (dF(0, y10) + dF(1, y11)) / 2]
            for p in range(2):
                b[p] += w0 * w1 * avg[p]
                e_b2[p] += w0 * w1 * avg[p] ** 2
    e_t2 = [e_b2[p] - 2 * fp * b[p] + fp**2 for p in range(2)]
    rhs = -sp.Rational(1, 2) * 2 * el * fp**2 + sum(el / 2 * (-e_b2[p] + e_t2[p]) for p in range(2))
    return identity(rhs, lhs, what="E[T_1] = (31) on the instance")


@check(
    CHECKS,
    id="qafel.lemma_f8_eq40",
    paper=PAPER,
    location="QAFeL Lemma F.8, statement (36) vs the proof's (40)",
    claim="(36) and (40) are the same bound",
    severity="typo",
    subject="qafel.lemma_f8",
)
def lemma_f8_eq40():
    sd = sp.Symbol("sum_step_sq", nonnegative=True)
    phi = sp.Symbol("phi_T", nonnegative=True)
    s2g = sigma_l**2 + P * G
    stale = eta_g**2 * tau_max**2 * ((1 - delta_c) / (K * tau_max) + 1)
    eq36 = 3 * L**2 * T * Q.beta_P * (stale + 1) * s2g + 3 * L**2 * eta_g**2 * phi * sd
    eq40 = 3 * L**2 * T * Q.beta_P * (stale * s2g + s2g) + 3 * L**2 * eta_g**2 * phi * sd
    return identity(eq36, eq40, what="(36) = (40)")


@check(
    CHECKS,
    id="qafel.eq47_reindex",
    paper=PAPER,
    location="QAFeL Appendix F.3, eq. (47) from Corollary F.10 (used in (40) and (36))",
    claim="sum_{t=0}^{T-1} E||x^{t-tau_n} - hat x^{t-tau_n}||^2 <= eta_g^2 phi(T) sum_{t<=T-2} "
    "E||bar Delta^t||^2 is 'a direct consequence of Corollary F.10' for staleness tau_n <= tau_max,K",
    severity="constant",
    subject="qafel.lemma_f8",
)
def eq47_reindex():
    """Sequences meeting Lemma F.9's bound (48) with equality: e_s = eta_g^2 sum_{r<s}
    (1-delta_s)^{s-r} D_r, D_r = E||bar Delta^r||^2. T = 3, one client whose stale indices
    t - tau_n(t) are 0, 1, 1 (tau_n(2) = 1 = tau_max,K), D_0 = 1, D_1 = 0."""
    d = delta_s
    D = [sp.Integer(1), sp.Integer(0)]

    def e(s_):
        return eta_g**2 * sum((1 - d) ** (s_ - r_) * D[r_] for r_ in range(s_))

    stale_idx = [0, 1, 1]
    lhs = sum(e(i) for i in stale_idx)
    phi3 = sp.Sum((1 - d) ** Q.t, (Q.t, 1, 2)).doit()
    rhs = eta_g**2 * phi3 * sum(D)
    excess = sp.factor(sp.simplify(lhs - rhs))
    at = {d: sp.Rational(1, 2), eta_g: 1}
    if excess.subs(at) > 0:
        return refuted(
            f"T = 3, stale indices t - tau_n(t) = 0, 1, 1 (tau_max,K = 1), D_0 = 1, D_1 = 0: "
            f"sum_t e_(t-tau_n) - eta_g^2 phi(3) sum D = {excess} > 0 for 0 < delta_s < 1 "
            f"(= {excess.subs(at)} at delta_s = 1/2, eta_g = 1). A version read for several steps "
            "is counted several times: the re-indexed sum is up to (tau_max,K + 1) times "
            "Corollary F.10's, so (47), (40) and (36) need the factor (tau_max,K + 1) on the "
            "phi(T) term",
            excess=excess,
            lhs=lhs.subs(at),
            rhs=rhs.subs(at),
            hypotheses=[
                "e_s meets (48) with equality; D_r >= 0",
                "staleness tau_n(t) in {0, 1} <= tau_max,K = 1",
            ],
        )
    return verified(f"excess {excess}")  # pragma: no cover
