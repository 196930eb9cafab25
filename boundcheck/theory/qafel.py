"""QAFeL / FedBuff (Ortega & Jafarkhani, ICML-FL workshop 2023), encoded exactly as published.

Paper: *Asynchronous Federated Learning with Bidirectional Quantized Communications and Buffered
Aggregation* (``/work/shared/papers/000_fec3ff425af69b15.txt``). FedBuff is QAFeL with identity
quantizers, ``delta_c = delta_s = 1`` (:data:`FEDBUFF`).

Encoded here:

* Definition 2.1 and Assumptions 3.1-3.4 (:class:`Assumption` constants), plus the hypotheses the
  theorems add (unbiased client / server quantizer, uniform client sampling used in Lemma F.7);
* Condition (8) and its simplified sufficient form; Condition (11) and its simplified form; the
  proof's Condition (25) with ``phi(T)``;
* Theorem F.1 eq. (9) (``qafel.thm_f1``); Theorem F.4 in two versions, unbiased and biased server
  quantizer (``qafel.thm_f4_unbiased``, ``qafel.thm_f4_biased``), with ``phi(T)`` of eq. (14);
  Corollary F.2 eq. (12) (``qafel.cor_f2``);
* the order claims Corollary F.3 eq. (13) (``qafel.cor_f3``) and Proposition 3.5 eqs. (6)-(7)
  (``qafel.prop3_5_fedbuff``, ``qafel.prop3_5_qafel``);
* the staleness relation ``tau_max,K <= ceil(tau_max,1 / K)`` (``qafel.staleness_k``);
* the lemmas of Appendix F: F.5, F.6 (quantized sum), F.7 (E[T_1,t]), F.8 (sum of E[T_2,t]), F.9,
  F.11 and the server step (22)/(61) (``qafel.lemma_f5`` ... ``qafel.server_step``).

Constant local stepsize: the paper lets ``eta_l^(p)`` vary with the local step ``p``; we encode the
case ``eta_l^(p) = eta_l`` for all ``p``, so ``alpha_P := sum_p eta_l^(p) = P eta_l`` and
``beta_P := sum_p (eta_l^(p))^2 = P eta_l^2``, kept as named definitions.

Dimensions follow the update equations (2)-(4): ``y_p = y_{p-1} - eta_l g_p`` makes ``eta_l`` a
stepsize ``[X]^2/[F]``; ``x^{t+1} = x^t + eta_g Delta/K`` with ``Delta`` already in ``[X]`` makes
``eta_g`` dimensionless; ``sigma_l`` is a gradient standard deviation ``[F]/[X]``; ``G`` bounds a
*squared* gradient norm, ``[F]^2/[X]^2``.
"""

from __future__ import annotations

import sympy as sp

from boundcheck.dims import DIMENSIONLESS, GRAD, GRAD2, STEP, F, X
from boundcheck.theory import symbols as S
from boundcheck.theory.core import (
    Assumption,
    Condition,
    ConditionKind,
    Direction,
    OrderClaim,
    Quantity,
    Theorem,
)

PAPER = "QAFeL"

# --- symbols ------------------------------------------------------------------------------------
L, K, P, T, F0 = S.L, S.K, S.P, S.T, S.F0
tau_max = S.tau_max  # QAFeL's tau_max,K: maximal staleness with buffer size K

eta_l = S.define(
    "eta_l",
    "positive",
    STEP,
    "local (client) learning rate, constant over the P local steps (eta_l^(p) = eta_l)",
    r"\eta_{\ell}",
)
eta_g = S.define(
    "eta_g",
    "positive",
    DIMENSIONLESS,
    "server (global) learning rate, multiplies the buffered update: x + eta_g * Delta / K",
    r"\eta_{g}",
)
delta_c = S.define(
    "delta_c", "unit", DIMENSIONLESS, "client quantizer parameter (Definition 2.1)", r"\delta_{c}"
)
delta_s = S.define(
    "delta_s", "unit", DIMENSIONLESS, "server quantizer parameter (Definition 2.1)", r"\delta_{s}"
)
sigma_l = S.define(
    "sigma_l",
    "nonneg",
    GRAD,
    "local stochastic-gradient noise std: E||g_n(x) - grad F_n(x)||^2 <= sigma_l^2",
    r"\sigma_{\ell}",
)
G = S.define(
    "G", "nonneg", GRAD2, "bound on the squared gradient norm: ||grad F_n(x)||^2 <= G", "G"
)
tau_max_1 = S.define(
    "tau_max_1",
    "count0",
    DIMENSIONLESS,
    "maximal staleness (in server versions) when the buffer size is K = 1",
    r"\tau_{\max,1}",
)
alpha_P = S.define(
    "alpha_P", "positive", STEP, "sum of the local learning rates over P steps", r"\alpha_{P}"
)
beta_P = S.define(
    "beta_P", "positive", STEP**2, "sum of the squared local learning rates", r"\beta_{P}"
)
phi_T = S.define(
    "phi_T",
    "nonneg",
    DIMENSIONLESS,
    "QAFeL phi(T), eq. (14): geometric partial sum from the server quantizer",
    r"\phi(T)",
)

#: summation index of the geometric sums (bound inside ``Sum``, never a parameter)
t = sp.Symbol("t", integer=True)

#: FedBuff is QAFeL with exact (identity) quantizers
FEDBUFF: dict[sp.Symbol, sp.Expr] = {delta_c: sp.Integer(1), delta_s: sp.Integer(1)}

# --- assumptions --------------------------------------------------------------------------------
DEF_2_1 = Assumption(
    "qafel.def2_1",
    "QAFeL Definition 2.1, eq. (1)",
    "a quantizer Q satisfies E_Q||Q(x) - x||^2 <= (1 - delta)||x||^2 for all x, with delta > 0; "
    "Q_c has delta_c, Q_s has delta_s",
)
ASM_3_1 = Assumption(
    "qafel.asm3_1",
    "QAFeL Assumption 3.1",
    "unbiased stochastic gradients: E[g_n(x; zeta_n)] = grad F_n(x) for all clients n and all x",
)
ASM_3_2 = Assumption(
    "qafel.asm3_2",
    "QAFeL Assumption 3.2",
    "bounded local variance: E||g_n(x; zeta_n) - grad F_n(x)||^2 <= sigma_l^2 for all n, x",
)
ASM_3_3 = Assumption(
    "qafel.asm3_3",
    "QAFeL Assumption 3.3",
    "each F_n is L-smooth, ||grad F_n(x) - grad F_n(x')|| <= L||x - x'||, and "
    "||grad F_n(x)||^2 <= G for all x (the paper calls G a 'variance' bound)",
)
ASM_3_4 = Assumption(
    "qafel.asm3_4",
    "QAFeL Assumption 3.4",
    "bounded staleness when K = 1: tau_n(t) <= tau_max,1 for all clients n and server steps t; "
    "with buffer K the maximal staleness is tau_max,K <= ceil(tau_max,1 / K)",
)
QC_UNBIASED = Assumption(
    "qafel.qc_unbiased",
    "QAFeL Theorem F.1 / Corollary F.2 hypothesis",
    "the client quantizer is unbiased, E_Q[Q_c(x)] = x, with randomness independent of all else",
)
QS_UNBIASED = Assumption(
    "qafel.qs_unbiased",
    "QAFeL Theorem F.1 hypothesis; Lemma F.9",
    "the server quantizer is unbiased, E_Q[Q_s(x)] = x",
)
QS_GENERAL = Assumption(
    "qafel.qs_general",
    "QAFeL Corollary F.2; Lemma F.11",
    "the server quantizer is any quantizer of Definition 2.1, possibly biased (e.g. top_k)",
)
UNIFORM_SAMPLING = Assumption(
    "qafel.uniform_sampling",
    "QAFeL proof of Lemma F.7, eq. (33), and eq. (64) (implicit hypothesis)",
    "the client whose update enters the buffer is uniformly distributed over the N clients, "
    "given the history",
)

#: Definition 2.1, Assumptions 3.1-3.4 and an unbiased client quantizer, common to (9), F.4, (12)
_ASSUMPTIONS_BASE = (DEF_2_1, ASM_3_1, ASM_3_2, ASM_3_3, ASM_3_4, QC_UNBIASED)
#: Theorem F.1, the unbiased branch of Theorem F.4, Corollary F.3 and eq. (7)
ASSUMPTIONS_F1 = (*_ASSUMPTIONS_BASE, QS_UNBIASED, UNIFORM_SAMPLING)
#: Corollary F.2 and the biased branch of Theorem F.4
ASSUMPTIONS_BIASED = (*_ASSUMPTIONS_BASE, QS_GENERAL, UNIFORM_SAMPLING)

# --- measured quantities ------------------------------------------------------------------------
ERGODIC_GRAD_NORM = Quantity(
    "qafel.ergodic_grad_norm",
    "1/T sum_{t=0}^{T-1} E||grad f(x^t)||^2",
    "average over the server steps t = 0..T-1 of the expected squared norm of the gradient of the "
    "global objective f = 1/N sum_n F_n at the server iterate x^t (not the hidden state x_hat^t); "
    "expectation over stochastic gradients, client sampling/arrival order and both quantizers",
    GRAD2,
)
MAX_STALENESS_K = Quantity(
    "qafel.max_staleness_k",
    "tau_max,K = max_{t, n in S^t} tau_n(t)",
    "in a run with buffer size K, the maximum over all server steps t and all client updates n "
    "applied at step t of the staleness tau_n(t): the number of server model versions between the "
    "version the client started local training from and the step that applies its update",
    DIMENSIONLESS,
)

# --- definitions --------------------------------------------------------------------------------
ALPHA_P = (alpha_P, P * eta_l)  # alpha_P := sum_{p=0}^{P-1} eta_l^(p), constant stepsize
BETA_P = (beta_P, P * eta_l**2)  # beta_P := sum_{p=0}^{P-1} (eta_l^(p))^2, constant stepsize

#: eq. (14), unbiased Q_s: sum_{t=1}^{T-1} (1 - delta_s)^t  (claimed <= 1/delta_s)
PHI_UNBIASED = sp.Sum((1 - delta_s) ** t, (t, 1, T - 1))
#: eq. (14), biased Q_s: (2/delta_s) sum_{t=0}^{T-1} (1 - delta_s/2)^(t-1)  (claimed <= 4/delta_s^2)
PHI_BIASED = 2 / delta_s * sp.Sum((1 - delta_s / 2) ** (t - 1), (t, 0, T - 1))
#: the biased sum as derived in the proof of Corollary F.12, eq. (60): exponent t, not t - 1
PHI_BIASED_EQ60 = 2 / delta_s * sp.Sum((1 - delta_s / 2) ** t, (t, 0, T - 1))
#: Corollary F.2 and the biased branch of Theorem F.4 refer to phi(T) of the biased case
DEFINITIONS_BIASED = (ALPHA_P, BETA_P, (phi_T, PHI_BIASED))

# --- the pieces of the published bounds -----------------------------------------------------------
#: first term of (9)/(12)/F.4: 2 (f(x^0) - f^*) / (eta_g T alpha_P)
TERM_INIT = 2 * F0 / (eta_g * T * alpha_P)
#: second term: staleness + local drift, exactly as printed (undefined at tau_max = 0)
TERM_STALE = (
    3
    * L**2
    * beta_P
    * (eta_g**2 * tau_max**2 * ((1 - delta_c) / (K * tau_max) + 1) + 1)
    * (sigma_l**2 + P * G)
)


def _term_server(server_coeff: sp.Expr) -> sp.Expr:
    """Third term of (9)/(12)/F.4: (L eta_g / alpha_P + server_coeff) (2 - delta_c)/K beta_P (...)."""
    return (
        (L * eta_g / alpha_P + server_coeff) * ((2 - delta_c) / K) * beta_P * (sigma_l**2 + 4 * G)
    )


def _condition_lhs(server_coeff: sp.Expr) -> sp.Expr:
    """(alpha_P * server_coeff + L eta_g)(1 + (1 - delta_c)/K) P eta_l, the form of (8)/(11)/(25)."""
    return (alpha_P * server_coeff + L * eta_g) * (1 + (1 - delta_c) / K) * P * eta_l


BOUND_F1 = TERM_INIT + TERM_STALE + _term_server(3 * L**2 * eta_g**2 * PHI_UNBIASED)
BOUND_F4 = TERM_INIT + TERM_STALE + _term_server(3 * L**2 * eta_g**2 * phi_T)
BOUND_F2 = TERM_INIT + TERM_STALE + _term_server(12 * L**2 * eta_g**2 / delta_s**2)

# --- conditions ---------------------------------------------------------------------------------
_SRC8 = "QAFeL Appendix F, Condition (8)"
_SRC11 = "QAFeL Appendix F, Condition (11)"
_SRC25 = "QAFeL proof of Theorem F.4, Condition (25)"

COND_8 = Condition(
    "qafel.cond8",
    _SRC8,
    sp.Le(_condition_lhs(3 * L**2 * eta_g**2 / delta_s), 1),
    ConditionKind.STATED,
    "(alpha_P 3 L^2 eta_g^2 / delta_s + L eta_g)(1 + (1 - delta_c)/K) P eta_l <= 1",
)
COND_8_ETA_G = Condition(
    "qafel.cond8_eta_g",
    _SRC8 + ", simplified form",
    sp.Le(eta_g, 1 / L),
    ConditionKind.SIMPLIFIED,
    "eta_g <= 1/L (dimensionally inconsistent: eta_g is dimensionless, 1/L is [X]^2/[F])",
)
COND_8_ETA_L_K = Condition(
    "qafel.cond8_eta_l_k",
    _SRC8 + ", simplified form",
    sp.Le(eta_l, K / (2 * P * (K + 1 - delta_c))),
    ConditionKind.SIMPLIFIED,
    "eta_l <= K / (2 P (K + 1 - delta_c)) (dimensionally inconsistent: eta_l is [X]^2/[F])",
)
COND_8_ETA_L_S = Condition(
    "qafel.cond8_eta_l_s",
    _SRC8 + ", simplified form",
    sp.Le(eta_l, delta_s / (3 * P)),
    ConditionKind.SIMPLIFIED,
    "eta_l <= delta_s / (3 P) (dimensionally inconsistent: eta_l is [X]^2/[F])",
)
COND_11 = Condition(
    "qafel.cond11",
    _SRC11,
    sp.Le(_condition_lhs(12 * L**2 * eta_g**2 / delta_s**2), 1),
    ConditionKind.STATED,
    "(12 alpha_P L^2 eta_g^2 / delta_s^2 + L eta_g)(1 + (1 - delta_c)/K) P eta_l <= 1",
)
COND_11_ETA_L_S = Condition(
    "qafel.cond11_eta_l_s",
    _SRC11 + ", simplified form",
    sp.Le(eta_l, delta_s**2 / (12 * P)),
    ConditionKind.SIMPLIFIED,
    "eta_l <= delta_s^2 / (12 P) (dimensionally inconsistent: eta_l is [X]^2/[F])",
)
COND_25_PHI = Condition(
    "qafel.cond25",
    _SRC25,
    sp.Le(_condition_lhs(3 * L**2 * eta_g**2 * phi_T), 1),
    ConditionKind.PROOF,
    "(alpha_P 3 L^2 eta_g^2 phi(T) + L eta_g)(1 + (1 - delta_c)/K) P eta_l <= 1, "
    "what the proof actually needs",
)
COND_25_F1 = Condition(
    "qafel.cond25_unbiased",
    _SRC25 + " with the unbiased phi(T) of (14)",
    sp.Le(_condition_lhs(3 * L**2 * eta_g**2 * PHI_UNBIASED), 1),
    ConditionKind.PROOF,
    "(alpha_P 3 L^2 eta_g^2 sum_{t=1}^{T-1}(1-delta_s)^t + L eta_g)(1 + (1-delta_c)/K) P eta_l <= 1",
)
COND_25_ETA_L_PHI = Condition(
    "qafel.cond25_eta_l_phi",
    _SRC25 + ", simplified form",
    sp.Le(eta_l, 1 / (3 * phi_T * P)),
    ConditionKind.PROOF,
    "eta_l <= 1 / (3 phi(T) P) (with eta_g <= 1/L and eta_l <= K/(2P(K+1-delta_c)))",
)

CONDITIONS_8 = (COND_8, COND_8_ETA_G, COND_8_ETA_L_K, COND_8_ETA_L_S)
CONDITIONS_11 = (COND_11, COND_8_ETA_G, COND_8_ETA_L_K, COND_11_ETA_L_S)
#: Theorem F.4 (both server quantizers): Condition (8) as stated, and what its proof needs
CONDITIONS_F4 = (*CONDITIONS_8, COND_25_PHI, COND_25_ETA_L_PHI)

# --- notes shared by several theorems -------------------------------------------------------------
NOTE_CONSTANT_STEP = (
    "Reading: the paper allows eta_l^(p) to vary with the local step p; this encoding takes the "
    "constant case eta_l^(p) = eta_l, so alpha_P = P eta_l and beta_P = P eta_l^2 (definitions)."
)
NOTE_DIMS_SIMPLIFIED = (
    "Dimensions (computed by `boundcheck dims`): the simplified sufficient conditions eta_g <= 1/L, "
    "eta_l <= K/(2P(K+1-delta_c)), eta_l <= delta_s/(3P) (and delta_s^2/(12P) for (11), 1/(3 phi(T) P) for (25)) are "
    "dimensionally inconsistent: eta_g is dimensionless (it multiplies an update already in [X]) "
    "but 1/L is [X]^2/[F]; eta_l is [X]^2/[F] but the right-hand sides are pure numbers. They are "
    "still numerically sufficient for (8)/(11) in any fixed unit system (tested), since the proof "
    "only uses L eta_g <= 1 and alpha_P L^2 eta_g^2 <= P eta_l, but they are not unit-invariant. "
    "Condition (8)/(11) itself and the bound (9) are dimensionally consistent."
)
NOTE_TAU_ZERO = (
    "As printed, the staleness term eta_g^2 tau_max,K^2 ((1 - delta_c)/(K tau_max,K) + 1) divides "
    "by tau_max,K and is undefined at tau_max,K = 0 (its limit, 0, is what the proof gives); the "
    "expression is kept as printed, so evaluate it at tau_max >= 1."
)
NOTE_SIGN = (
    "Reading of the update: main text eq. (2)-(3) sends Q_c(y_{P-1} - y_0) and adds it; Algorithm 2 "
    "line 5 sends Q_c(y_0 - y_P) and Algorithm 1 adds it (an ascent step); (15) subtracts. We read "
    "the client update as y_P - y_0 = -eta_l sum_{p=1}^P g_p (P local steps, descent), as in the "
    "proof's iterate formula after Table 3. The proof's Delta-bar^t is the buffer average (Algorithm "
    "1 line 11) while (3) divides the buffer sum by K; both give x^{t+1} = x^t + eta_g * average."
)
NOTE_61 = (
    "Inconsistency inside the proof: the server-step bound is stated in (61) with (sigma_l^2 + 2G) "
    "but derived in (66) and used in (22)/(23) with (sigma_l^2 + 4G); the bounds use 4G as printed."
)
NOTE_G = (
    "Reading: Assumption 3.3 calls G a bound on the 'variance' of grad F_n; we read it as "
    "sup_x ||grad F_n(x)||^2 <= G (a squared-gradient bound, dimension [F]^2/[X]^2), as used in "
    "Lemma F.5 and (66)."
)
NOTE_SUM = (
    "The geometric sums are encoded as sympy Sum over the published range (the evaluator's doit() "
    "gives the closed form); the paper gives no closed form."
)
NOTE_PHI_BIASED = (
    "Audit (`boundcheck derive qafel.phi_biased`, `qafel.phi_biased_eq60`): the biased phi(T) = (2/delta_s) sum_{t=0}^{T-1} (1 - delta_s/2)^(t-1) of "
    "eq. (14) equals 4 (1 - r^T) / (delta_s^2 r) with r = 1 - delta_s/2, which exceeds the claimed "
    "bound 4/delta_s^2 exactly when (1 - delta_s/2)^T < delta_s/2 (e.g. T = 2, delta_s = 1: "
    "phi = 6 > 4) and tends to 8/(delta_s^2 (2 - delta_s)) as T -> oo. The t = 0 term r^(-1) comes "
    "from the exponent t - 1; the proof of Corollary F.12, eq. (60), has exponent t (then "
    "phi <= 4/delta_s^2 holds), while eq. (59) prints (1 - 2/delta_s)^s, a third, garbled, version. "
    "Encoded as printed in (14)."
)
NOTE_F4_COND = (
    "Audit (`boundcheck derive qafel.f4_biased_condition`): Theorem F.4 is stated under Condition (8) for both server quantizers, but "
    "its proof needs Condition (25) with phi(T). (8) implies (25) for the unbiased phi(T) "
    "(phi <= (1 - delta_s)/delta_s < 1/delta_s), not for the biased one: phi_biased(T) >= "
    "2/(delta_s (1 - delta_s/2)) > 1/delta_s for every T >= 1, so at a point where (8) is tight "
    "(25) fails (tested). The biased case needs (25), for which (11) was meant."
)

NOTE_F9 = (
    "Audit (`boundcheck derive qafel.lemma_f9`): Lemma F.9, used for the unbiased phi(T) (Corollary F.10), is false as "
    "stated. Its step (50) drops the cross term 2 eta_g E<x^t - hat x^t, bar Delta^t> 'by the "
    "unbiasedness of Q_s', but an update in the buffer at step t that was computed from hat x^t "
    "(staleness 0) depends on the very quantization error x^t - hat x^t. Counterexample (exact, "
    "tested): one client, K = P = 1, staleness 0, no gradient noise, f = h/2 ||x - x*||^2, "
    "Q_c = identity, Q_s unbiased with E||Q_s(u) - u||^2 = (1 - delta_s)||u||^2 for every u; with "
    "a = eta_g eta_l h, E||x^2 - hat x^2||^2 exceeds the right-hand side of (48) at t = 2 by "
    "2 a^3 (1 - delta_s)^2 ||x^0 - x*||^2 > 0 (also measured on the algorithm). The cross term "
    "vanishes only if every buffered update read a version older than t. Theorem F.1 / F.4 "
    "(unbiased) is not refuted by this; their proof has a gap there. The biased Lemma F.11 uses "
    "Young's inequality and is unaffected."
)

#: the readings and findings shared by every explicit bound, (9), F.4 and (12)
NOTES_EXPLICIT = (
    NOTE_CONSTANT_STEP,
    NOTE_TAU_ZERO,
    NOTE_DIMS_SIMPLIFIED,
    NOTE_SUM,
    NOTE_G,
    NOTE_SIGN,
    NOTE_61,
)


# --- examples -----------------------------------------------------------------------------------
_BASE = {
    "F0": 1.0,
    "G": 1.0,
    "K": 10,
    "L": 1.0,
    "P": 5,
    "T": 1000,
    "delta_c": 0.5,
    "delta_s": 0.5,
    "eta_g": 1.0,
    "sigma_l": 1.0,
    "tau_max": 3,
}
EXAMPLE_F1 = {**_BASE, "eta_l": 0.01}
EXAMPLE_F2 = {**_BASE, "eta_l": 0.003}  # inside (11), its simplified form and (25)
_COND8_ONLY = {k: _BASE[k] for k in ("K", "L", "P", "delta_c", "delta_s", "eta_g")}
#: order claims: eta_g = K, eta_l = 1/(K sqrt(T P)) at T = 10^4, inside Condition (8)
EXAMPLE_ORDER = {
    **_COND8_ONLY,
    "eta_g": 10.0,
    "eta_l": 1 / (10 * (10_000 * 5) ** 0.5),
}
#: the values of the order claims' own parameters (not parameters of their condition (8)), used to
#: compare each claim with the explicit bound (9): tau_max,1 = 30 with K = 10
ORDER_EXAMPLE = {"tau_max_1": 30}

# --- theorems -----------------------------------------------------------------------------------
THM_F1 = Theorem(
    id="qafel.thm_f1",
    paper=PAPER,
    source="QAFeL Theorem F.1, eq. (9)",
    title="Convergence of QAFeL (unbiased client and server quantizers)",
    statement=(
        "Under Condition (8) and unbiased Q_c, Q_s, 1/T sum_t E||grad f(x^t)||^2 <= "
        "2F0/(eta_g T alpha_P) + staleness/drift term + server/client quantization term (9)."
    ),
    lhs=ERGODIC_GRAD_NORM,
    direction=Direction.UPPER,
    bound=BOUND_F1,
    conditions=(*CONDITIONS_8, COND_25_F1),
    assumptions=ASSUMPTIONS_F1,
    definitions=(ALPHA_P, BETA_P),
    notes=(
        *NOTES_EXPLICIT,
        "The theorem assumes unbiased client and server quantizers; it equals Theorem F.4 with "
        "the unbiased phi(T) (tested). Condition (8) is (25) with phi(T) replaced by its bound "
        "1/delta_s, so (8) implies (25) here (tested); (25) is listed as a PROOF condition.",
        "FedBuff is the case delta_c = delta_s = 1: the geometric sum vanishes (0^t, t >= 1) and "
        "the bound tends continuously to the FedBuff bound as delta_c, delta_s -> 1 (tested).",
        "tau_max here is tau_max,K, the maximal staleness with buffer size K (Assumption 3.4).",
        NOTE_F9,
    ),
    example=EXAMPLE_F1,
)

THM_F4_UNBIASED = Theorem(
    id="qafel.thm_f4_unbiased",
    paper=PAPER,
    source="QAFeL Theorem F.4 with phi(T) of eq. (14), unbiased server quantizer",
    title="Convergence of QAFeL, general version: unbiased server quantizer",
    statement=(
        "Under Condition (8), 1/T sum_t E||grad f(x^t)||^2 <= 2F0/(eta_g T alpha_P) + staleness/"
        "drift term + (3 L^2 eta_g^2 phi(T) + L eta_g/alpha_P)(2-delta_c)/K beta_P (sigma_l^2 + 4G)."
    ),
    lhs=ERGODIC_GRAD_NORM,
    direction=Direction.UPPER,
    bound=BOUND_F4,
    conditions=CONDITIONS_F4,
    assumptions=ASSUMPTIONS_F1,
    definitions=(ALPHA_P, BETA_P, (phi_T, PHI_UNBIASED)),
    notes=(
        "Encoding choice: Theorem F.4 covers both server quantizers through the case split of "
        "phi(T) in (14); it is encoded as two theorems (this one and qafel.thm_f4_biased) sharing "
        "the symbol phi_T with different definitions, so that every bound is a plain expression "
        "without a discrete switch parameter.",
        "phi(T) = sum_{t=1}^{T-1} (1 - delta_s)^t <= (1 - delta_s)/delta_s < 1/delta_s, so the "
        "claimed bound 1/delta_s of (14) holds (tested). With this phi the bound is identical to "
        "(9) of Theorem F.1 (tested).",
        NOTE_F9,
        *NOTES_EXPLICIT,
    ),
    example=EXAMPLE_F1,
)

THM_F4_BIASED = Theorem(
    id="qafel.thm_f4_biased",
    paper=PAPER,
    source="QAFeL Theorem F.4 with phi(T) of eq. (14), biased server quantizer",
    title="Convergence of QAFeL, general version: possibly biased server quantizer",
    statement=(
        "Under Condition (8) (as stated), 1/T sum_t E||grad f(x^t)||^2 <= 2F0/(eta_g T alpha_P) + "
        "staleness/drift term + (3 L^2 eta_g^2 phi(T) + L eta_g/alpha_P)(2-delta_c)/K beta_P "
        "(sigma_l^2 + 4G), phi(T) = (2/delta_s) sum_{t=0}^{T-1} (1 - delta_s/2)^(t-1)."
    ),
    lhs=ERGODIC_GRAD_NORM,
    direction=Direction.UPPER,
    bound=BOUND_F4,
    conditions=CONDITIONS_F4,
    assumptions=ASSUMPTIONS_BIASED,
    definitions=DEFINITIONS_BIASED,
    notes=(
        "Encoding choice: the biased branch of Theorem F.4 (see qafel.thm_f4_unbiased).",
        NOTE_PHI_BIASED,
        NOTE_F4_COND,
        *NOTES_EXPLICIT,
    ),
    example=EXAMPLE_F2,
)

COR_F2 = Theorem(
    id="qafel.cor_f2",
    paper=PAPER,
    source="QAFeL Corollary F.2, eq. (12)",
    title="Convergence of QAFeL with a possibly biased server quantizer",
    statement=(
        "Under Condition (11), unbiased Q_c and any Q_s, 1/T sum_t E||grad f(x^t)||^2 <= "
        "2F0/(eta_g T alpha_P) + staleness/drift term + (L eta_g/alpha_P + 12 L^2 eta_g^2/delta_s^2)"
        "(2-delta_c)/K beta_P (sigma_l^2 + 4G)."
    ),
    lhs=ERGODIC_GRAD_NORM,
    direction=Direction.UPPER,
    bound=BOUND_F2,
    conditions=(*CONDITIONS_11, COND_25_PHI),
    assumptions=ASSUMPTIONS_BIASED,
    definitions=DEFINITIONS_BIASED,
    notes=(
        "(12) is Theorem F.4 with 3 phi(T) replaced by its claimed bound 3 * 4/delta_s^2, and (11) "
        "is (25) with the same replacement. Because the biased phi(T) of (14) can exceed "
        "4/delta_s^2 (see qafel.thm_f4_biased), (12) is smaller than the biased Theorem F.4 bound "
        "exactly when phi(T) > 4/delta_s^2, e.g. for all large T (tested), and (11) does not imply "
        "the proof's condition (25) for large T (tested): Corollary F.2 does not follow from "
        "Theorem F.4 as printed. It does follow with the exponent t of eq. (60).",
        "Condition (25) with the biased phi(T) is listed as a PROOF condition (it introduces T).",
        NOTE_PHI_BIASED,
        *NOTES_EXPLICIT,
    ),
    example=EXAMPLE_F2,
)

# --- order claims -------------------------------------------------------------------------------
#: the stepsize scalings of Corollary F.3 and Proposition 3.5 (constants dropped, as in the paper);
#: tau_max,K -> tau_max,1 / K is the paper's use of tau_max,K <= ceil(tau_max,1/K) without ceil
SCALINGS = {eta_l: 1 / (K * sp.sqrt(T * P)), eta_g: K, tau_max: tau_max_1 / K}

NOTE_ORDER_DIMS = (
    "The O(.) terms are not dimensionally homogeneous (e.g. F0/sqrt(TP) is [F], the lhs [F]^2/[X]^2) "
    "because the scalings eta_l = O(1/(K sqrt(TP))) hide a constant of dimension [X]^2/[F]; with "
    "eta_l = c/(K sqrt(TP)) the explicit bound is consistent again."
)
NOTE_ORDER_CEIL = (
    "Reading: the paper passes from tau_max,K to tau_max,1 via tau_max,K ~ tau_max,1/K, dropping the "
    "ceiling of ceil(tau_max,1/K); the scaling tau_max -> tau_max_1/K encodes this. With the ceiling "
    "and tau_max,1 < K one has tau_max,K = 1 and the staleness term is of order "
    "(1 + (1-delta_c)/K + 1/K^2)/T, not (tau_1^2 + tau_1(1-delta_c) + 1)/(T K^2): the 1/K^2 "
    "dependence holds only for tau_max,1 >= K (the O(1/T) rate in T is unaffected)."
)
NOTE_ORDER_EXACT = (
    "Check: with eta_l = 1/(K sqrt(TP)), eta_g = K, tau_max,K = tau_max,1/K, the bound (9) equals "
    "2F0/sqrt(TP) + 3L^2(sigma_l^2+PG)(tau_1^2 + tau_1(1-delta_c) + 1)/(TK^2) + "
    "L(2-delta_c)(sigma_l^2+4G)/(K sqrt(TP)) + 3L^2 (2-delta_c)(sigma_l^2+4G) phi(T)/(TK), "
    "so it is at most 3 times the sum of the terms for every T, using phi(T) <= 1/delta_s (tested). "
    "Condition (8) then holds for all large T, as 'for a sufficiently large T' requires."
)


def _order_claim(
    *,
    terms: tuple[sp.Expr, ...],
    scalings: dict[sp.Symbol, sp.Expr],
    absorbed: tuple[sp.Symbol, ...],
    **fields,
) -> Theorem:
    """An O(.) claim of Corollary F.3 / Proposition 3.5: under Condition (8), from the bound (9).

    ``fields`` are the claim's own :class:`Theorem` fields (id, source, title, statement,
    assumptions, notes).
    """
    return Theorem(
        paper=PAPER,
        lhs=ERGODIC_GRAD_NORM,
        direction=Direction.ORDER,
        bound=None,
        conditions=(COND_8,),
        definitions=(ALPHA_P, BETA_P),
        order=OrderClaim(
            terms=terms, variable=T, scalings=scalings, explicit="qafel.thm_f1", absorbed=absorbed
        ),
        example=EXAMPLE_ORDER,
        extra={"order_example": ORDER_EXAMPLE},
        **fields,
    )


#: R_FedBuff, the rate of eq. (6); eq. (7) adds three terms to it
R_FEDBUFF_TERMS = (
    F0 / sp.sqrt(T * P),
    (sigma_l**2 + G) / (K * sp.sqrt(T * P)),
    (tau_max_1**2 + 1) * (sigma_l**2 + P * G) / (T * K**2),
)

COR_F3 = _order_claim(
    id="qafel.cor_f3",
    source="QAFeL Corollary F.3, eq. (13)",
    title="Complexity order of QAFeL",
    statement=(
        "Under Condition (8) with eta_l = O(1/(K sqrt(TP))) and eta_g = O(K), for large T the "
        "ergodic gradient norm is O(F0/sqrt(TP)) + O(L^2(sigma_l^2+PG)(tau_1^2+tau_1(1-delta_c)+1)"
        "/(TK^2)) + O(L^2(2-delta_c)(sigma_l^2+4G)/(delta_s T K)) + O(L(2-delta_c)(sigma_l^2+4G)/"
        "(K sqrt(TP)))."
    ),
    terms=(
        F0 / sp.sqrt(T * P),
        L**2 * (sigma_l**2 + P * G) * (tau_max_1**2 + tau_max_1 * (1 - delta_c) + 1) / (T * K**2),
        L**2 * (2 - delta_c) * (sigma_l**2 + 4 * G) / (delta_s * T * K),
        L * (2 - delta_c) * (sigma_l**2 + 4 * G) / (K * sp.sqrt(T * P)),
    ),
    scalings=SCALINGS,
    absorbed=(),
    assumptions=ASSUMPTIONS_F1,
    notes=(
        "Scalings: eta_l -> 1/(K sqrt(T P)), eta_g -> K, tau_max (= tau_max,K) -> tau_max_1/K; only "
        "numeric factors (2, 3) and phi(T) <= 1/delta_s are absorbed into O(.).",
        NOTE_ORDER_EXACT,
        NOTE_ORDER_CEIL,
        NOTE_ORDER_DIMS,
        NOTE_CONSTANT_STEP,
    ),
)

PROP_3_5_FEDBUFF = _order_claim(
    id="qafel.prop3_5_fedbuff",
    source="QAFeL Proposition 3.5, eq. (6)",
    title="Complexity order of FedBuff",
    statement=(
        "Under Assumptions 3.1-3.4, Condition (8), eta_l = O(1/(K sqrt(TP))), eta_g = O(K): "
        "R_FedBuff = O(F0/sqrt(TP)) + O((sigma_l^2+G)/(K sqrt(TP))) + "
        "O((tau_1^2+1)(sigma_l^2+PG)/(TK^2))."
    ),
    terms=R_FEDBUFF_TERMS,
    scalings={**SCALINGS, **FEDBUFF},
    absorbed=(L,),
    assumptions=(ASM_3_1, ASM_3_2, ASM_3_3, ASM_3_4, UNIFORM_SAMPLING),
    notes=(
        "FedBuff = QAFeL with delta_c = delta_s = 1 (exact quantizers); the scalings include "
        "delta_c -> 1, delta_s -> 1. The paper absorbs L into O(.) ('the gradient bound L is "
        "assimilated', though L is the smoothness constant).",
        "The lhs R is defined in Proposition 3.5 as 1/T sum_{t=0}^{T-1} E||grad f(x^t)||^2.",
        NOTE_ORDER_CEIL,
        NOTE_ORDER_DIMS,
    ),
)

PROP_3_5_QAFEL = _order_claim(
    id="qafel.prop3_5_qafel",
    source="QAFeL Proposition 3.5, eq. (7)",
    title="Complexity order of QAFeL relative to FedBuff",
    statement=(
        "With an unbiased client quantizer: R_QAFeL <= R_FedBuff + O((1-delta_c)(sigma_l^2+G)/"
        "(K sqrt(TP))) + O((2-delta_c)(sigma_l^2+G)/(delta_s T K)) + "
        "O(tau_1(1-delta_c)(sigma_l^2+PG)/(TK^2))."
    ),
    terms=(
        *R_FEDBUFF_TERMS,
        (1 - delta_c) * (sigma_l**2 + G) / (K * sp.sqrt(T * P)),
        (2 - delta_c) * (sigma_l**2 + G) / (delta_s * T * K),
        tau_max_1 * (1 - delta_c) * (sigma_l**2 + P * G) / (T * K**2),
    ),
    scalings=SCALINGS,
    absorbed=(L,),
    assumptions=ASSUMPTIONS_F1,
    notes=(
        "The first three terms are R_FedBuff of (6); the claim is encoded as the whole rate.",
        "Audit (`boundcheck derive qafel.prop35_server_term`): (7) is stated 'with an unbiased client quantizer' only, but its "
        "1/delta_s server term follows from Theorem F.1 / Corollary F.3, which also need an "
        "unbiased SERVER quantizer; for a biased Q_s (top_k, used in Table 2) Corollary F.2 gives "
        "12/delta_s^2, i.e. O((2-delta_c)(sigma_l^2+G)/(delta_s^2 T K)). Encoded with the theorem's "
        "assumptions (unbiased Q_c and Q_s).",
        "As delta_c, delta_s -> 1 the term O((2-delta_c)(sigma_l^2+G)/(delta_s T K)) tends to "
        "O((sigma_l^2+G)/(TK)), not 0, so (7) alone does not give lim R_QAFeL = R_FedBuff; the "
        "paper says so and argues with the exact sum sum_{t>=1}(1-delta_s)^t -> 0 (tested on (9)).",
        NOTE_ORDER_CEIL,
        NOTE_ORDER_DIMS,
    ),
)

STALENESS_K = Theorem(
    id="qafel.staleness_k",
    paper=PAPER,
    source="QAFeL Section 3 after Assumption 3.4 (citing Nguyen et al. 2022, Appendix A)",
    title="Maximal staleness with buffer size K",
    statement="If Assumption 3.4 holds, for any K > 1 the maximal staleness is "
    "tau_max,K <= ceil(tau_max,1 / K).",
    lhs=MAX_STALENESS_K,
    direction=Direction.UPPER,
    bound=sp.ceiling(tau_max_1 / K),
    assumptions=(ASM_3_4,),
    notes=(
        "Reading: tau_max,1 bounds the staleness of the same client schedule (start and arrival "
        "times) run with K = 1, i.e. the number of other updates arriving while a client trains. "
        "Then an update that arrives after a <= tau_max,1 others, with b <= K-1 updates buffered "
        "when its client started, is applied floor((b + a)/K) <= ceil(tau_max,1/K) versions late "
        "(verified on random schedules in the tests). Stated for K > 1; it holds trivially at K = 1.",
    ),
    example={"K": 10, "tau_max_1": 25},
)

# --- lemmas of Appendix F (statements the proofs of (9), F.4 and (12) chain) ---------------------
wsum_f9 = S.define(
    "wsum_f9",
    "nonneg",
    X**2,
    "QAFeL Lemma F.9: sum_{s=0}^{t-1} (1 - delta_s)^(t-s) E||bar Delta^s||^2, measured along a run",
    r"\sum_{s<t}(1-\delta_s)^{t-s}\mathbb{E}\|\bar\Delta^{s}\|^{2}",
)
wsum_f11 = S.define(
    "wsum_f11",
    "nonneg",
    X**2,
    "QAFeL Lemma F.11: sum_{s=0}^{t-1} (1 - delta_s/2)^(t-1-s) E||bar Delta^s||^2, along a run",
    r"\sum_{s<t}(1-\delta_s/2)^{t-1-s}\mathbb{E}\|\bar\Delta^{s}\|^{2}",
)
grad_avg_sum = S.define(
    "grad_avg_sum",
    "nonneg",
    GRAD2,
    "QAFeL (22)/(61): sum_{p=0}^{P-1} E||(1/N) sum_n grad F_n(y_{n,p}^{t-tau_n})||^2 along a run",
    r"\sum_{p}\mathbb{E}\|\frac{1}{N}\sum_n\nabla F_n(y_{n,p})\|^{2}",
)
LOCAL_UPDATE_SQ = Quantity(
    "qafel.local_update_sq",
    "E||sum_{p=0}^{P-1} eta_l^(p) g_k(x)||^2",
    "squared norm of the sum of P stochastic gradients of one client at one fixed point x, each "
    "weighted by its local stepsize (Lemma F.5), in expectation over the gradient noise",
    X**2,
)
HIDDEN_GAP = Quantity(
    "qafel.hidden_gap",
    "E||x^t - hat x^t||^2",
    "squared distance at server step t between the server model x^t and the hidden state hat x^t "
    "that clients see (Algorithm 1, lines 13-14), in expectation over all randomness",
    X**2,
)
SERVER_STEP_SQ = Quantity(
    "qafel.server_step_sq",
    "E||bar Delta^t||^2",
    "squared norm of the buffer average bar Delta^t applied at server step t (Algorithm 1 line 11), "
    "in expectation over all randomness",
    X**2,
)
LEMMA_F5 = Theorem(
    id="qafel.lemma_f5",
    paper=PAPER,
    source="QAFeL Lemma F.5, eq. (27)",
    title="Stochastic gradient bound",
    statement="For any x: E||sum_p eta_l^(p) g_k(x)||^2 <= beta_P (sigma_l^2 + P G).",
    lhs=LOCAL_UPDATE_SQ,
    direction=Direction.UPPER,
    bound=beta_P * (sigma_l**2 + P * G),
    assumptions=(ASM_3_1, ASM_3_2, ASM_3_3),
    definitions=(BETA_P,),
    notes=(
        NOTE_CONSTANT_STEP,
        "Stated at a fixed point x; the proofs apply it at y^{t-tau}, which depends on earlier "
        "noise; the statement holds conditionally on that point (fresh noise at each step).",
    ),
    example={"eta_l": 0.01, "P": 5, "sigma_l": 1.0, "G": 1.0},
)
LEMMA_F9 = Theorem(
    id="qafel.lemma_f9",
    paper=PAPER,
    source="QAFeL Lemma F.9, eq. (48)",
    title="Hidden state bound with an unbiased server quantizer",
    statement="E||x^t - hat x^t||^2 <= eta_g^2 sum_{s=0}^{t-1} (1 - delta_s)^(t-s) E||bar Delta^s||^2.",
    lhs=HIDDEN_GAP,
    direction=Direction.UPPER,
    bound=eta_g**2 * wsum_f9,
    assumptions=(DEF_2_1, QS_UNBIASED),
    notes=(NOTE_F9, "The weighted sum of E||bar Delta^s||^2 is a parameter (wsum_f9)."),
    example={"eta_g": 1.0, "wsum_f9": 1.0},
)
LEMMA_F11 = Theorem(
    id="qafel.lemma_f11",
    paper=PAPER,
    source="QAFeL Lemma F.11, eq. (55)",
    title="Hidden state bound with a general server quantizer",
    statement="E||x^t - hat x^t||^2 <= eta_g^2 (2/delta_s) sum_{s=0}^{t-1} (1 - delta_s/2)^(t-1-s) "
    "E||bar Delta^s||^2.",
    lhs=HIDDEN_GAP,
    direction=Direction.UPPER,
    bound=eta_g**2 * 2 / delta_s * wsum_f11,
    assumptions=(DEF_2_1, QS_GENERAL),
    notes=(
        "Young's inequality with beta = delta_s/2 gives e_{t+1} <= (1 - delta_s/2) e_t + "
        "(2/delta_s) eta_g^2 E||bar Delta^t||^2, which unrolls to (55) "
        "(`boundcheck derive qafel.lemma_f11_unroll`).",
    ),
    example={"eta_g": 1.0, "delta_s": 0.5, "wsum_f11": 1.0},
)
SERVER_STEP = Theorem(
    id="qafel.server_step",
    paper=PAPER,
    source="QAFeL eq. (22) (= (66) then Cauchy-Schwarz; printed (61) has 2G)",
    title="Server step bound",
    statement="E||bar Delta^t||^2 <= (2-delta_c)/K beta_P (sigma_l^2 + 4G) + (1 + (1-delta_c)/K) "
    "P sum_p (eta_l^(p))^2 E||(1/N) sum_n grad F_n(y_{n,p}^{t-tau_n})||^2.",
    lhs=SERVER_STEP_SQ,
    direction=Direction.UPPER,
    bound=(2 - delta_c) / K * beta_P * (sigma_l**2 + 4 * G)
    + (1 + (1 - delta_c) / K) * P * eta_l**2 * grad_avg_sum,
    assumptions=(*_ASSUMPTIONS_BASE, UNIFORM_SAMPLING),
    definitions=(BETA_P,),
    notes=(
        NOTE_CONSTANT_STEP,
        NOTE_61,
        "Encoded with 4G as derived in (66) and used in (22)-(23) (`boundcheck derive "
        "qafel.server_step_61`); the sum over p of the averaged gradients is a parameter "
        "(grad_avg_sum).",
    ),
    example={
        "delta_c": 0.5,
        "K": 10,
        "eta_l": 0.01,
        "P": 5,
        "sigma_l": 1.0,
        "G": 1.0,
        "grad_avg_sum": 1.0,
    },
)

# --- Lemmas F.6-F.8 -------------------------------------------------------------------------------
delta_q = S.define(
    "delta_q",
    "unit",
    DIMENSIONLESS,
    "QAFeL Lemma F.6: parameter delta of the (unbiased) quantizer Q of Definition 2.1 it is "
    "stated for (applied to Q_c in (42) and (62))",
    r"\delta",
)
norm_sum_sq = S.define(
    "norm_sum_sq",
    "nonneg",
    X**2,
    "QAFeL Lemma F.6: ||sum_{n} x_n||^2 for the given vectors x_1..x_n",
    r"\|\sum_n x_n\|^{2}",
)
sum_norm_sq = S.define(
    "sum_norm_sq",
    "nonneg",
    X**2,
    "QAFeL Lemma F.6: sum_{n} ||x_n||^2 for the given vectors x_1..x_n",
    r"\sum_n\|x_n\|^{2}",
)
gn2_server = S.define(
    "gn2_server",
    "nonneg",
    GRAD2,
    "QAFeL Lemma F.7: E||grad f(x^t)||^2 at the server model x^t (measured along a run)",
    r"\mathbb{E}\|\nabla f(x^{t})\|^{2}",
)
t2_sum = S.define(
    "t2_sum",
    "nonneg",
    GRAD2,
    "QAFeL Lemma F.7: sum_{p=0}^{P-1} E||grad f(x^t) - (1/N) sum_n grad F_n(y_{n,p}^{t-tau_n})||^2 "
    "(T_{2,t} at each local step p, summed over p; measured along a run)",
    r"\sum_p\mathbb{E}[T_{2,t}^{(p)}]",
)
sum_t2 = S.define(
    "sum_t2",
    "nonneg",
    GRAD2,
    "QAFeL Lemma F.8: sum_{t=0}^{T-1} E[T_{2,t}] (measured along a run)",
    r"\sum_{t<T}\mathbb{E}[T_{2,t}]",
)
sum_step_sq = S.define(
    "sum_step_sq",
    "nonneg",
    X**2,
    "QAFeL Lemma F.8: sum_{t=0}^{T-2} E||bar Delta^t||^2 (measured along a run)",
    r"\sum_{t\le T-2}\mathbb{E}\|\bar\Delta^{t}\|^{2}",
)
QUANT_SUM_SQ = Quantity(
    "qafel.quantized_sum_sq",
    "E_Q||sum_{n=1}^{n} Q(x_n)||^2",
    "squared norm of the sum of the quantized vectors Q(x_1), ..., Q(x_n) of fixed vectors x_n, in "
    "expectation over the quantizer's randomness (one independent draw per vector: the reading "
    "the proof's (30) needs)",
    X**2,
)
T1_EXPECTED = Quantity(
    "qafel.t1_expected",
    "E[T_{1,t}], T_{1,t} = -(eta_g/K) sum_{k in S_t} <grad f(x^t), Delta_k^{t-tau_k}>",
    "the first-order term of the descent inequality (15) at server step t: minus eta_g/K times "
    "the inner products of the gradient at the server model with the K buffered client updates "
    "Delta_k = Q_c(eta_l sum_p g_k(y_{k,p})) (the sign the proof's (32) uses), in expectation",
    F,
)
T2_SUM = Quantity(
    "qafel.t2_sum",
    "sum_{t=0}^{T-1} E[T_{2,t}]",
    "sum over the server steps t = 0..T-1 of E||grad f(x^t) - (1/N) sum_n grad F_n(y_{n,p}^{t-tau_n})||^2, "
    "the distance between the gradient at the server model and the average of the clients' "
    "gradients at their stale local iterates (local step p)",
    GRAD2,
)
_F6_INDEP = (
    "Reading: the statement says 'any unbiased compression operator' and nothing about how the "
    "n quantizations are drawn; its proof, eq. (30), needs the Q(x_n) - x_n independent (the "
    "cross terms vanish). Encoded with one independent draw per vector, as QAFeL applies Q_c (one "
    "draw per client update). With one shared draw the statement is false "
    "(`boundcheck derive qafel.lemma_f6_shared`)."
)
_F6_FIXED = (
    "Stated for fixed vectors; (42) applies it to client updates computed from hidden states that "
    "already contain earlier quantized updates of the same sum. Then the cross term "
    "2 E<sum x_n, sum (Q(x_n) - x_n)> of (29) need not vanish and the inequality can fail "
    "(`boundcheck derive qafel.lemma_f6_adaptive`, exact)."
)
LEMMA_F6 = Theorem(
    id="qafel.lemma_f6",
    paper=PAPER,
    source="QAFeL Lemma F.6, eqs. (29)-(30)",
    title="Sum of unbiasedly quantized terms",
    statement="For vectors x_1..x_n and an unbiased Q of Definition 2.1: E_Q||sum_n Q(x_n)||^2 <= "
    "||sum_n x_n||^2 + (1 - delta) sum_n ||x_n||^2.",
    lhs=QUANT_SUM_SQ,
    direction=Direction.UPPER,
    bound=norm_sum_sq + (1 - delta_q) * sum_norm_sq,
    assumptions=(DEF_2_1, QC_UNBIASED),
    notes=(
        _F6_INDEP,
        _F6_FIXED,
        "Checked exactly for the shipped unbiased quantizers on small instances "
        "(`boundcheck derive qafel.lemma_f6_randk`).",
        "The vectors enter through norm_sum_sq = ||sum x_n||^2 and sum_norm_sq = sum ||x_n||^2.",
    ),
    example={"norm_sum_sq": 1.0, "delta_q": 0.5, "sum_norm_sq": 2.0},
)
LEMMA_F7 = Theorem(
    id="qafel.lemma_f7",
    paper=PAPER,
    source="QAFeL Lemma F.7, eq. (31) (proof (32)-(35))",
    title="Expected value of T_{1,t}",
    statement="E[T_{1,t}] = -(eta_g/2) alpha_P E||grad f(x^t)||^2 + sum_p (eta_g eta_l^(p)/2) "
    "E[-||(1/N) sum_n grad F_n(y_{n,p}^{t-tau_n})||^2 + T_{2,t}].",
    lhs=T1_EXPECTED,
    direction=Direction.UPPER,
    bound=-eta_g / 2 * alpha_P * gn2_server + eta_g * eta_l / 2 * (-grad_avg_sum + t2_sum),
    assumptions=(ASM_3_1, QC_UNBIASED, UNIFORM_SAMPLING),
    definitions=(ALPHA_P,),
    notes=(
        "An equality; encoded as its '<=' half (Direction.UPPER) with the equality decided by "
        "`boundcheck derive qafel.lemma_f7_polarization` (the identity <a,b> = (||a||^2 + ||b||^2 - "
        "||a-b||^2)/2 after (34)).",
        NOTE_CONSTANT_STEP,
        NOTE_SIGN,
        "Sign: with the update of the iterate formula after Table 3, Delta_k = Q_c(-eta_l sum_p "
        "g_k), T_{1,t} as defined has expectation +eta_g sum_p eta_l <grad f(x^t), avg grad> = minus "
        "the right-hand side of (31); (32) silently uses Delta_k = Q_c(+eta_l sum_p g_k). Together "
        "with the minus sign of (15) (smoothness gives + eta_g <grad f, bar Delta>) the two slips "
        "cancel (`boundcheck derive qafel.lemma_f7_sign`). Encoded with the sign (32) uses.",
        "T_{2,t} depends on the local step p (it is written inside sum_p); (17) pulls it out as "
        "alpha_P E[T_{2,t}], valid when T_{2,t} means the eta_l^(p)-weighted average over p. "
        "Encoded with the sum over p (t2_sum); with a constant eta_l both agree.",
        "The (1/N) sum_n grad F_n(y_{n,p}^{t-tau_n}) needs every client's local iterate at its own "
        "staleness; the simulation has such iterates only for the clients whose update arrives at "
        "t, so this lemma has no measured left-hand side on runs: it is decided on an exact "
        "instance (`boundcheck derive qafel.lemma_f7_instance`).",
        "The sums over p of the averaged gradients and of T_{2,t} are parameters "
        "(grad_avg_sum, t2_sum); E||grad f(x^t)||^2 is gn2_server.",
    ),
    example={
        "eta_g": 1.0,
        "P": 5,
        "eta_l": 0.01,
        "gn2_server": 1.0,
        "grad_avg_sum": 5.0,
        "t2_sum": 12.0,
    },
)
LEMMA_F8 = Theorem(
    id="qafel.lemma_f8",
    paper=PAPER,
    source="QAFeL Lemma F.8, eq. (36) (proof (37)-(47))",
    title="Expected value of T_{2,t}, summed over t",
    statement="sum_{t<T} E[T_{2,t}] <= 3 L^2 T beta_P (eta_g^2 tau_max,K^2 ((1-delta_c)/(K tau_max,K) "
    "+ 1) + 1)(sigma_l^2 + P G) + 3 L^2 eta_g^2 phi(T) sum_{t<=T-2} E||bar Delta^t||^2.",
    lhs=T2_SUM,
    direction=Direction.UPPER,
    bound=3
    * L**2
    * T
    * beta_P
    * (eta_g**2 * tau_max**2 * ((1 - delta_c) / (K * tau_max) + 1) + 1)
    * (sigma_l**2 + P * G)
    + 3 * L**2 * eta_g**2 * phi_T * sum_step_sq,
    assumptions=ASSUMPTIONS_F1,
    definitions=(BETA_P, (phi_T, PHI_UNBIASED)),
    notes=(
        NOTE_CONSTANT_STEP,
        "phi(T) is that of eq. (14); encoded with the unbiased branch (Theorem F.1). The biased "
        "branch is the same expression with phi(T) of the biased case.",
        NOTE_TAU_ZERO,
        "Audit (`boundcheck derive qafel.eq47_reindex`): the quantization term (47) sums "
        "E||x^{t-tau_n} - hat x^{t-tau_n}||^2 over t and bounds it by Corollary F.10's sum over "
        "s of E||x^s - hat x^s||^2. When the stale index t - tau_n repeats (a client reads one "
        "version for several server steps) the left sum counts a term up to tau_max,K + 1 times: "
        "(47) and hence (36) miss that factor on the phi(T) term.",
        "(36) and the proof's (40) are the same expression (`boundcheck derive qafel.lemma_f8_eq40`).",
        "Like Lemma F.7, T_{2,t} needs every client's stale local iterate: no measured left-hand "
        "side on runs (see qafel.lemma_f7).",
        "The sum over t of E||bar Delta^t||^2 is a parameter (sum_step_sq).",
    ),
    example={
        "L": 1.0,
        "T": 100,
        "eta_l": 0.01,
        "P": 5,
        "eta_g": 1.0,
        "tau_max": 3,
        "delta_c": 0.5,
        "K": 10,
        "sigma_l": 1.0,
        "G": 1.0,
        "delta_s": 0.5,
        "sum_step_sq": 10.0,
    },
)

THEOREMS: list[Theorem] = [
    THM_F1,
    THM_F4_UNBIASED,
    THM_F4_BIASED,
    COR_F2,
    COR_F3,
    PROP_3_5_FEDBUFF,
    PROP_3_5_QAFEL,
    STALENESS_K,
    LEMMA_F5,
    LEMMA_F6,
    LEMMA_F7,
    LEMMA_F8,
    LEMMA_F9,
    LEMMA_F11,
    SERVER_STEP,
]


def fedbuff_bound(thm: Theorem) -> sp.Expr:
    """The theorem's expanded bound specialised to FedBuff, ``delta_c = delta_s = 1``."""
    if thm.bound is None:
        raise ValueError(f"{thm.id} has no explicit bound (it is an order claim)")
    return thm.expand(thm.bound).subs(FEDBUFF).doit()
