"""SAEF: Xu, Huo, Huang, *Step-Ahead Error Feedback for Distributed Training with Compressed
Gradient* (AAAI 2021), encoded exactly as published (errors included).

Numbering. The main text and the supplement number their *assumptions* differently (main: 1 smooth,
2 variance, 3 bounded gradient, 4 compressor; supplement: 1 compressor, 2 smooth, 3 variance,
4 bounded gradient); the assumption objects below use the main-text numbering and cite both. The
*lemma* ids use the supplement's numbering (``saef.lemma1`` ... ``saef.lemma5``, supplement eqs.
(36)-(55)); the main text's Lemma 1, eq. (15) (a restatement of supplement Lemma 5) is
``saef.lemma1_main``. Theorems 1-3 carry the same numbers in both parts.

Symbols. SAEF's ``K`` (number of workers; all K contribute to every server step) is the catalogue's
``K``. SAEF's momentum constant ``mu`` (Algorithm 1, ``m_{t+1} = mu m_t + grad``) is *not* a strong
convexity constant: it is ``mu_m`` here (dimensionless, in [0, 1)). ``M`` bounds the full gradient
(Assumption 3), ``eta_max = max_t eta_t``. A stepsize multiplies the momentum buffer (a gradient) to
give a step, so ``eta``, ``eta_max`` and the corollaries' ``c_eta`` have dimension [X]^2/[F]. The
compression errors ``e_t``, ``e_t^(k)`` are differences of parameters, dimension [X].

Findings (computed by ``derivations/saef.py``, ``boundcheck derive SAEF``; details in the notes):

* Lemma 2, eq. (39) is false: ``h(beta_1*) = (1-delta)/(1-sqrt(1-delta))^2``, not
  ``(1-delta)/(2(1-sqrt(1-delta)))``; a one-dimensional run of Algorithm 1 violates (39).
* Lemma 4, eq. (47) (claimed for every admissible beta_1) and Lemma 5, eq. (53) = main-text Lemma 1, eq. (15)
  are false: a fixed deterministic delta-approximate compressor with delta = 3/4 on a constant
  gradient gives a server error E||e_4||^2 = 49/16 (eta = M = 1, sigma = mu = 0) above both bounds.
  The proofs of Theorems 1-3 use these lemmas; the theorems themselves are not refuted here.
* Theorem 2, eq. (17): the F0 term is half of what the paper's own proof (73) gives with rho = 1/2.
* Corollaries 2-3 need eta = Theta(sqrt(K/T)), not only eta < c sqrt(K/T), and T >= K^3 for the
  stated K-dependence.
"""

from __future__ import annotations

import sympy as sp

from boundcheck.dims import DIMENSIONLESS, GRAD, GRAD2, STEP, X
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

PAPER = "SAEF"

# --- symbols ------------------------------------------------------------------------------------
L, T, K, d, F0, sigma, eta, delta = S.L, S.T, S.K, S.d, S.F0, S.sigma, S.eta, S.delta
mu_m = S.define(
    "mu_m",
    "unit0",
    DIMENSIONLESS,
    "SAEF momentum constant mu of Algorithm 1 (m_{t+1} = mu m_t + grad); not strong convexity",
    r"\mu",
)
M = S.define(
    "M", "nonneg", GRAD, "SAEF bound on the full gradient: ||grad F(x)||^2 <= M^2 (Assumption 3)"
)
eta_max = S.define("eta_max", "positive", STEP, "largest stepsize max_t eta_t", r"\eta_{\max}")
beta_1 = S.define(
    "beta_1",
    "positive",
    DIMENSIONLESS,
    "SAEF free Young-inequality parameter beta_1 of supplement Lemmas 2-5",
    r"\beta_{1}",
)
beta_2 = S.define(
    "beta_2",
    "positive",
    DIMENSIONLESS,
    "SAEF free Young-inequality parameter beta_2 of supplement Lemma 4",
    r"\beta_{2}",
)
c_eta = S.define(
    "c_eta",
    "positive",
    STEP,
    "SAEF Corollaries 2-3 constant c in the stepsize eta < c sqrt(K)/sqrt(T)",
    "c",
)
C_saef = S.define(
    "C_saef",
    "positive",
    DIMENSIONLESS,
    "SAEF constant C = (2-delta)/(1-sqrt(1-delta)) + (K-1)/K (main-text Lemma 1)",
    "C",
)
alpha_saef = S.define(
    "alpha_saef",
    "real",
    DIMENSIONLESS,
    "SAEF Theorem 3 alpha = 1 - eta L/(1-mu) - 2 mu^2 eta^2 L^2/(1-mu)^4",
    r"\alpha",
)

# --- recurring expressions ----------------------------------------------------------------------
SQ = sp.sqrt(1 - delta)
#: (1 - delta)/(1 - sqrt(1 - delta)), the compression factor of every SAEF bound.
RATIO = (1 - delta) / (1 - SQ)
#: C of main-text Lemma 1, eq. (15).
C_EXPR = (2 - delta) / (1 - SQ) + (K - 1) / K
#: alpha of Theorem 3, eq. (21) / supplement eq. (87).
ALPHA_EXPR = 1 - eta * L / (1 - mu_m) - 2 * mu_m**2 * eta**2 * L**2 / (1 - mu_m) ** 4
#: eta_max^2 (M^2 + sigma^2)/(1 - mu)^2, the scale of every error lemma.
G_ERR = eta_max**2 * (M**2 + sigma**2) / (1 - mu_m) ** 2
#: the paper's choice beta_1* = beta_2* = -1 + 1/sqrt(1 - delta) (Lemma 2 and Lemma 4).
BETA_STAR = -1 + 1 / SQ
#: worst-case delta of the scaled sign compressor of eq. (2): 1/d, the infimum over v (approached by
#: one dominant coordinate; Karimireddy et al. 2019). SAEF says only that SignSGD must be scaled to
#: satisfy Assumption 4.
DELTA_SCALED_SIGN = 1 / d


def h_beta(beta: sp.Expr) -> sp.Expr:
    """h(beta) := (1-delta)(1+1/beta)/(1-(1-delta)(1+beta)), SAEF supplement Lemma 2, before (42)."""
    return (1 - delta) * (1 + 1 / beta) / (1 - (1 - delta) * (1 + beta))


def g_beta(beta: sp.Expr) -> sp.Expr:
    """(1+1/beta)/(1-(1-delta)(1+beta)) = h(beta)/(1-delta), the factor in eqs. (47), (50)-(54)."""
    return (1 + 1 / beta) / (1 - (1 - delta) * (1 + beta))


#: the true minimum of h over beta > 0 (at BETA_STAR); the paper's (39)/(43) claims RATIO/2.
H_MIN_TRUE = (1 - delta) / (1 - SQ) ** 2

# --- assumptions (main-text numbering) ----------------------------------------------------------
A1 = Assumption(
    "saef.A1",
    "SAEF Assumption 1, eq. (7) (supplement Assumption 2, eq. (29))",
    "F is L-smooth: ||grad F(x) - grad F(y)|| <= L ||x - y|| for all x, y",
)
A2 = Assumption(
    "saef.A2",
    "SAEF Assumption 2, eq. (8) (supplement Assumption 3, eq. (30))",
    "bounded variance: E||grad f(x; xi) - grad F(x)||^2 <= sigma^2. Read as: at every point where "
    "a gradient is taken (x_t, x_{t+1/2}^(k), x~_t), unbiased, independent across workers",
)
A3 = Assumption(
    "saef.A3",
    "SAEF Assumption 3, eqs. (12)-(13) (supplement Assumption 4, eqs. (31)-(32))",
    "bounded full gradient ||grad F(x)||^2 <= M^2 (stated at x_t^(k), used at x_{t+1/2}^(k)), "
    "hence E||grad f(x; xi)||^2 <= M^2 + sigma^2",
)
A4 = Assumption(
    "saef.A4",
    "SAEF Assumption 4, eq. (14) (supplement Assumption 1, eq. (28))",
    "delta-approximate compressor, 0 < delta <= 1: ||C(v) - v||^2 <= (1 - delta) ||v||^2 for all v "
    "(one fixed, possibly random, C for workers and server). The scaled sign of eq. (2), "
    "C(v) = ||v||_1/d sign(v), satisfies it with delta = 1/d",
)
ASSUMPTIONS = (A1, A2, A3, A4)
#: the error lemmas (supplement Lemmas 2-5, main-text Lemma 1) do not use smoothness
ERROR_ASSUMPTIONS = (A2, A3, A4)

# --- measured quantities ------------------------------------------------------------------------
_ALG = (
    "Algorithm 1, SAEF branch (lines 6-12, 18-25), constant stepsize, no error averaging "
    "(p = infinity); x_t = x_t^(k) is the common model after the re-update of line 25; "
    "e_t^(k) the local and e_t the server compression error (e_0^(k) = e_0 = 0); "
    "ebar_t = (1/K) sum_k e_t^(k); x~_t = x_t - (e_t + ebar_t)"
)
MIN_GRAD_X = Quantity(
    "saef.min_grad_x",
    "min_{t=0..T-1} E||grad F(x_t^(k))||^2",
    f"{_ALG}. The minimum over t = 0..T-1 of the expected squared full-gradient norm at the model "
    "x_t^(k) (identical for all k); expectation over sampling and compressor randomness",
    GRAD2,
)
MIN_GRAD_XTILDE = Quantity(
    "saef.min_grad_xtilde",
    "min_{t=0..T-1} E||grad F(x~_t)||^2",
    f"{_ALG}. The minimum over t = 0..T-1 of the expected squared full-gradient norm at the "
    "auxiliary variable x~_t = x_t - (e_t + ebar_t)",
    GRAD2,
)
MOMENTUM_NORM = Quantity(
    "saef.momentum_norm",
    "sup_{t,k} E||m_{t+1}^(k)||^2",
    f"{_ALG}. The largest, over iterations t and workers k, expected squared norm of the "
    "momentum buffer m_{t+1}^(k) = mu m_t^(k) + grad f(x_{t+1/2}^(k); xi_t^(k))",
    GRAD2,
)
LOCAL_ERROR = Quantity(
    "saef.local_error",
    "sup_{t,k} E||e_{t+1}^(k)||^2",
    f"{_ALG}. The largest, over t and k, expected squared norm of the local compression error "
    "e_{t+1}^(k) = Delta_{t+1}^(k) - C(Delta_{t+1}^(k))",
    X**2,
)
LOCAL_ERROR_SPREAD = Quantity(
    "saef.local_error_spread",
    "sup_t (1/K) sum_k E||ebar_t - e_t^(k)||^2",
    f"{_ALG}. The largest over t of the worker average of the expected squared distance of the "
    "local error e_t^(k) to the worker mean ebar_t",
    X**2,
)
SERVER_ERROR = Quantity(
    "saef.server_error",
    "sup_t E||e_{t+1}||^2",
    f"{_ALG}. The largest over t of the expected squared norm of the server compression error "
    "e_{t+1} = Delta_{t+1} - C(Delta_{t+1})",
    X**2,
)
MISMATCH_ERROR = Quantity(
    "saef.mismatch_error",
    "sup_t (1/K) sum_k E||e_t + ebar_t - e_t^(k)||^2",
    f"{_ALG}. The largest over t of (1/K) sum_k E||e_t + ebar_t - e_t^(k)||^2 = (1/K) sum_k "
    "E||x~_t - x_{t+1/2}^(k)||^2, the error term of the SAEF gradient mismatch (10). Reading: the "
    "garbled left side of (15)/(53) is this term, as its proof (54) and its use in (63) show",
    X**2,
)
GRAD_MISMATCH_EF = Quantity(
    "saef.grad_mismatch_ef",
    "eps_t = (1/K) sum_k E||grad f(x~_t; xi_t^(k)) - grad f(x_t^(k); xi_t^(k))||^2",
    "Local error feedback (Algorithm 1, EF branch, lines 14-16): gradient mismatch of eq. (9), the "
    "same sample xi_t^(k) at x~_t and at x_t^(k); paper: <= L^2 E||e_t + ebar_t||^2 + 4 sigma^2",
    GRAD2,
)
GRAD_MISMATCH_SAEF = Quantity(
    "saef.grad_mismatch_saef",
    "eps_t = (1/K) sum_k E||grad f(x~_t; xi_t^(k)) - grad f(x_{t+1/2}^(k); xi_t^(k))||^2",
    f"{_ALG}. Gradient mismatch of eq. (10), same sample at x~_t and x_{{t+1/2}}^(k) = x_t - "
    "e_t^(k); paper: <= (L^2/K) sum_k E||e_t + ebar_t - e_t^(k)||^2 + 4 sigma^2",
    GRAD2,
)
GRAD_MISMATCH_SAEF_AVG = Quantity(
    "saef.grad_mismatch_saef_avg",
    "eps_t at an error-averaging iteration (mod(t+1, p) = 0)",
    "Algorithm 1, SAEF branch with error averaging period p (line 7): the mismatch (10) at an "
    "iteration where e_t^(k) <- ebar_t, eq. (11); paper: <= (L^2/K) sum_k E||e_t||^2 + 4 sigma^2",
    GRAD2,
)
COMPRESSION_TERM = Quantity(
    "saef.compression_term",
    "compression-error term of a bound on min_t E||grad F(x_t^(k))||^2",
    "Not a measurement: the summand of a convergence bound on min_t E||grad F(x_t^(k))||^2 that "
    "is due to compression (vanishes at delta = 1): eq. (18) for SAEF-SGD (third term of Theorem "
    "2), eq. (19) for EF-SGD (Zheng, Huang, Kwok 2019). Corollary 1 claims (18) < (19)",
    GRAD2,
)
SCALED_SIGN_ERROR = Quantity(
    "saef.scaled_sign_error",
    "||C(v) - v||^2 / ||v||^2 for C(v) = ||v||_1/d sign(v)",
    "Relative squared compression error of the scaled sign of eq. (2) on a nonzero v in R^d; "
    "equals 1 - (2d - nnz(v)) ||v||_1^2/(d^2 ||v||^2) <= 1 - 1/d (sign(0) = 0). The paper leaves "
    "sign(0) open; boundcheck.compressors.ScaledSign takes sign(+-0) = +-1, for which the ratio is "
    "1 - ||v||_1^2/(d ||v||^2), also <= 1 - 1/d; the two agree when v has no zero entry",
    DIMENSIONLESS,
)

# --- shared conditions --------------------------------------------------------------------------
_SUPP = "SAEF supplement"


def _beta1_conditions(src: str) -> tuple[Condition, ...]:
    return (
        Condition(
            "beta1_contraction",
            f"{src} (condition of supplement Lemma 2)",
            sp.StrictLessThan((1 - delta) * (1 + beta_1), 1),
            ConditionKind.STATED,
            "(1 - delta)(1 + beta_1) < 1 (beta_1 > 0 by its domain)",
        ),
        Condition(
            "beta1_range",
            f"{src} (condition of supplement Lemma 2, 'i.e.' form)",
            sp.StrictLessThan(beta_1, delta / (1 - delta)),
            ConditionKind.SIMPLIFIED,
            "0 < beta_1 < delta/(1 - delta), equivalent to (1 - delta)(1 + beta_1) < 1 for delta < 1",
        ),
    )


_LEMMA_EX = {"delta": 0.5, "eta_max": 0.1, "M": 1.0, "sigma": 1.0, "mu_m": 0.5}
_BETA_EX = 0.3  # inside (0, delta/(1-delta)) = (0, 1) at delta = 0.5
_CE_NOTE = (
    "Counterexample (derivations/saef.py, saef_run): d = 1, any K identical workers, sigma = 0, mu = 0, "
    "eta = M = 1, constant gradient grad F = 1 (e.g. a Huber function far from its minimum), "
    "delta = 3/4 and the fixed delta-approximate compressor C(v) = v/2 if |v| < 1.8 else 3v/2 "
    "(||C(v) - v||^2 = ||v||^2/4 for every v). Algorithm 1 (SAEF) gives local errors e^(k) = "
    "1/2, 3/4, 7/8, -15/16 and server errors e = 1/4, 1/2, 11/16, -7/4"
)

# --- supplement Lemma 1 -------------------------------------------------------------------------
lemma1 = Theorem(
    id="saef.lemma1",
    paper=PAPER,
    source="SAEF supplement Lemma 1, eq. (36)",
    title="momentum buffer bound",
    statement="E||m_{t+1}^(k)||^2 <= (M^2 + sigma^2)/(1 - mu)^2",
    lhs=MOMENTUM_NORM,
    direction=Direction.UPPER,
    bound=(M**2 + sigma**2) / (1 - mu_m) ** 2,
    assumptions=(A2, A3),
    notes=(
        "Proof (37) checked: Jensen with weights mu^(t-i) and sum_i mu^(t-i) <= 1/(1-mu). Tight "
        "for a constant gradient of norm M and sigma = 0 as t -> infinity.",
    ),
    example={"M": 1.0, "sigma": 1.0, "mu_m": 0.5},
)

# --- supplement Lemma 2 -------------------------------------------------------------------------
lemma2 = Theorem(
    id="saef.lemma2",
    paper=PAPER,
    source="SAEF supplement Lemma 2, eq. (38)",
    title="local compression error, free beta_1",
    statement="E||e_{t+1}^(k)||^2 <= h(beta_1) eta_max^2 (M^2 + sigma^2)/(1 - mu)^2",
    lhs=LOCAL_ERROR,
    direction=Direction.UPPER,
    bound=h_beta(beta_1) * G_ERR,
    conditions=_beta1_conditions("SAEF supplement Lemma 2"),
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        "Proof (40)-(41) checked: Young's inequality and the geometric sum. beta_1 is a free "
        "parameter the user supplies.",
        "The infimum over beta_1 is (1-delta)/(1-sqrt(1-delta))^2 at beta_1 = -1 + "
        "1/sqrt(1-delta), attained in the limit by the compressor C(v) = (1 - sqrt(1-delta)) v on "
        "a constant gradient, so (38) is tight there.",
    ),
    example={**_LEMMA_EX, "beta_1": _BETA_EX},
)

lemma2_opt = Theorem(
    id="saef.lemma2_opt",
    paper=PAPER,
    source="SAEF supplement Lemma 2, eq. (39) (= (44))",
    title="local compression error at the paper's optimal beta_1",
    statement="E||e_{t+1}^(k)||^2 <= (1-delta)/(2(1-sqrt(1-delta))) eta_max^2 (M^2+sigma^2)/(1-mu)^2",
    lhs=LOCAL_ERROR,
    direction=Direction.UPPER,
    bound=(1 - delta) / (2 * (1 - SQ)) * G_ERR,
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        "Audit (`boundcheck derive saef.lemma2_minimum`, `saef.lemma2_eq39`): (39) claims min_beta h(beta) = h(-1 + 1/sqrt(1-delta)) = "
        "(1-delta)/(2(1-sqrt(1-delta))) (eq. (43)). The minimiser is right but the minimum is "
        "(1-delta)/(1-sqrt(1-delta))^2, larger by the factor 2/(1-sqrt(1-delta)) > 2. "
        "(39) does not follow from (38) and is false: " + _CE_NOTE + "; at t + 1 = 2, "
        "E||e_2^(k)||^2 = 9/16 > 1/4 = (39). Even C(v) = (1 - sqrt(1-delta)) v violates it.",
        "Used in the proofs of Theorems 2 and 3 (eqs. (73), (99)) and, through Lemma 4, of Lemma 5.",
    ),
    example=dict(_LEMMA_EX),
    extra={"true_minimum_over_beta_1": H_MIN_TRUE * G_ERR},
)

# --- supplement Lemma 3 -------------------------------------------------------------------------
lemma3 = Theorem(
    id="saef.lemma3",
    paper=PAPER,
    source="SAEF supplement Lemma 3, eq. (45)",
    title="spread of the local errors",
    statement="(1/K) sum_k E||ebar_t - e_t^(k)||^2 <= (K-1)/K h(beta_1) eta_max^2 (M^2+sigma^2)/(1-mu)^2",
    lhs=LOCAL_ERROR_SPREAD,
    direction=Direction.UPPER,
    bound=(K - 1) / K * h_beta(beta_1) * G_ERR,
    conditions=_beta1_conditions("SAEF supplement Lemma 3"),
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        "Reading: the first inequality of (46) treats the local errors e_t^(1..K) as independent "
        "with a common mean, which the paper justifies only informally; without it, the identity "
        "(1/K) sum_k ||ebar - e^(k)||^2 = (1/K) sum_k ||e^(k)||^2 - ||ebar||^2 gives the factor 1 "
        "instead of (K-1)/K. Not refuted here.",
    ),
    example={**_LEMMA_EX, "K": 4, "beta_1": _BETA_EX},
)

# --- supplement Lemma 4 -------------------------------------------------------------------------
lemma4 = Theorem(
    id="saef.lemma4",
    paper=PAPER,
    source="SAEF supplement Lemma 4, eq. (47) (= (52))",
    title="server compression error, free beta_1",
    statement="E||e_{t+1}||^2 <= (1-delta)/(1-sqrt(1-delta)) (2-delta) g(beta_1) eta_max^2 "
    "(M^2+sigma^2)/(1-mu)^2",
    lhs=SERVER_ERROR,
    direction=Direction.UPPER,
    bound=RATIO * (2 - delta) * g_beta(beta_1) * G_ERR,
    conditions=_beta1_conditions("SAEF supplement Lemma 4"),
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        "Audit (`boundcheck derive saef.lemma4_eq47`, `saef.lemma4_from_51`): (47) = (52) is (51) with beta_2 = -1 + 1/sqrt(1-delta) and the "
        "wrong minimum of Lemma 2 (see saef.lemma2_opt); (51) at that beta_2 is 2/(1-sqrt(1-delta)) "
        "times larger. (47) is claimed for every admissible beta_1 and is false: at delta = 3/4 "
        "(eta = M = 1, sigma = mu = 0) its minimum over beta_1 is (1-delta)(2-delta)/(1-sqrt(1-delta))"
        "^3 = 5/2 (at beta_1 = 1), and " + _CE_NOTE + ": E||e_4||^2 = 49/16 > 5/2 (violated for "
        "beta_1 in an interval around 1).",
        "Reading: the garbled first line of (48) is (1-delta) E||e_t + (1/K) sum_k C(Delta^(k))||^2.",
    ),
    example={**_LEMMA_EX, "beta_1": _BETA_EX},
)

lemma4_general = Theorem(
    id="saef.lemma4_general",
    paper=PAPER,
    source="SAEF supplement Lemma 4 proof, eq. (51)",
    title="server compression error, free beta_1 and beta_2",
    statement="E||e_{t+1}||^2 <= h(beta_2) 2(2-delta) g(beta_1) eta_max^2 (M^2+sigma^2)/(1-mu)^2",
    lhs=SERVER_ERROR,
    direction=Direction.UPPER,
    bound=h_beta(beta_2) * 2 * (2 - delta) * g_beta(beta_1) * G_ERR,
    conditions=(
        *_beta1_conditions("SAEF supplement Lemma 4"),
        Condition(
            "beta2_contraction",
            "SAEF supplement Lemma 4 proof, eq. (51) (geometric sum)",
            sp.StrictLessThan((1 - delta) * (1 + beta_2), 1),
            ConditionKind.PROOF,
            "(1 - delta)(1 + beta_2) < 1, needed to sum the geometric series in (51)",
        ),
    ),
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        "The intermediate bound (51) before the paper's choice of beta_2; the steps (48)-(51) "
        "check. The paper does not state a condition on beta_2: the PROOF condition is the one "
        "its geometric sum needs.",
    ),
    example={**_LEMMA_EX, "beta_1": _BETA_EX, "beta_2": _BETA_EX},
)

# --- supplement Lemma 5 and main-text Lemma 1 ---------------------------------------------------
_LEMMA5_NOTES = (
    "Audit (`boundcheck derive saef.lemma5_eq53`, `saef.lemma5_at_beta_star`): "
    + _CE_NOTE
    + ". With identical workers the left side is "
    "||e_t||^2 = 49/16 at t = 4, while the bound is C (1-delta)/(1-sqrt(1-delta)) = 5/4 + "
    "(K-1)/(2K) < 7/4 for every K. The proof (54)-(55) inherits the wrong minimum of Lemma 2 "
    "(39) twice (through Lemma 4's beta_2 and through beta_1): the paper's own chain with the "
    "correct minimum gives 2(1-delta)/(1-sqrt(1-delta))^2 [2(2-delta)/(1-sqrt(1-delta))^2 + "
    "(K-1)/K] eta_max^2 (M^2+sigma^2)/(1-mu)^2.",
    "Reading: the left side of (15)/(53) is garbled ('1/K sum E||e_t|| + 1/K sum ||e^(k) - "
    "e_t||^2'); read as (1/K) sum_k E||e_t + ebar_t - e_t^(k)||^2 (proof (54), use in (63)). The "
    "counterexample refutes the literal reading E||e_t||^2 + (1/K) sum_k E||e_t^(k) - e_t||^2 too.",
    "Used by Theorems 1-3 (eqs. (63), (73), (99), (100)); their proofs are therefore unsupported.",
)
lemma5 = Theorem(
    id="saef.lemma5",
    paper=PAPER,
    source="SAEF supplement Lemma 5, eq. (53) (= (55))",
    title="gradient-mismatch error term",
    statement="(1/K) sum_k E||e_t + ebar_t - e_t^(k)||^2 <= C (1-delta)/(1-sqrt(1-delta)) "
    "eta_max^2 (M^2+sigma^2)/(1-mu)^2",
    lhs=MISMATCH_ERROR,
    direction=Direction.UPPER,
    bound=((2 - delta) / (1 - SQ) + (K - 1) / K) * RATIO * G_ERR,
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        *_LEMMA5_NOTES,
        "Agrees exactly with main-text Lemma 1, eq. (15) (saef.lemma1_main), same assumptions.",
    ),
    example={**_LEMMA_EX, "K": 4},
)

lemma5_beta = Theorem(
    id="saef.lemma5_beta",
    paper=PAPER,
    source="SAEF supplement Lemma 5 proof, eq. (54)",
    title="gradient-mismatch error term, free beta_1",
    statement="(1/K) sum_k E||e_t + ebar_t - e_t^(k)||^2 <= 2[(1-delta)(2-delta)/(1-sqrt(1-delta)) "
    "+ (K-1)(1-delta)/K] g(beta_1) eta_max^2 (M^2+sigma^2)/(1-mu)^2",
    lhs=MISMATCH_ERROR,
    direction=Direction.UPPER,
    bound=2 * (RATIO * (2 - delta) + (K - 1) / K * (1 - delta)) * g_beta(beta_1) * G_ERR,
    conditions=_beta1_conditions("SAEF supplement Lemma 5"),
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        "= 2 x Lemma 4 (47) + 2 x Lemma 3 (45), as the proof says (checked). Minimised at "
        "beta_1 = -1 + 1/sqrt(1-delta) as claimed, but its value there is 2/(1-sqrt(1-delta)) "
        "times (53), not (53): the wrong minimum of Lemma 2 again.",
    ),
    example={**_LEMMA_EX, "K": 4, "beta_1": _BETA_EX},
)

lemma1_main = Theorem(
    id="saef.lemma1_main",
    paper=PAPER,
    source="SAEF main-text Lemma 1, eq. (15) (restated as supplement Lemma 5, eq. (53))",
    title="gradient-mismatch error term (main text)",
    statement="(1/K) sum_k E||e_t + ebar_t - e_t^(k)||^2 <= C (1-delta)/(1-sqrt(1-delta)) "
    "eta_max^2 (M^2+sigma^2)/(1-mu)^2, C = (2-delta)/(1-sqrt(1-delta)) + (K-1)/K",
    lhs=MISMATCH_ERROR,
    direction=Direction.UPPER,
    bound=C_saef * RATIO * G_ERR,
    definitions=((C_saef, C_EXPR),),
    assumptions=ERROR_ASSUMPTIONS,
    notes=(
        *_LEMMA5_NOTES,
        "Agrees exactly with supplement Lemma 5, eq. (53): same constant C, same assumptions "
        "(main Assumptions 2, 3, 4 = supplement Assumptions 3, 4, 1).",
    ),
    example={**_LEMMA_EX, "K": 4},
)


# --- Theorems 1-3 -------------------------------------------------------------------------------
def _eq18(c: sp.Expr) -> sp.Expr:
    """Eq. (18), the compression term of Theorem 2, with the constant C given as ``c``."""
    return (1 + 8 * c / (3 - 2 * eta * L)) * RATIO * eta**2 * L**2 * (M**2 + sigma**2)


_THM_EX = {"F0": 1.0, "L": 1.0, "T": 1000, "K": 4, "delta": 0.5, "eta": 0.1, "M": 1.0, "sigma": 1.0,
           "mu_m": 0.0}  # fmt: skip

#: Theorems 1-2 and Corollaries 1-2 are stated "for SAEF-SGD": no momentum. Their lhs quantities are
#: shared with Theorem 3 (SAEF-SGDM), so the restriction is a condition, not only a word.
_SGD_COND = Condition(
    "sgd_no_momentum",
    "SAEF Theorems 1-2 ('for SAEF-SGD'; supplement (64), (74) set mu = 0)",
    sp.Eq(mu_m, 0),
    ConditionKind.STATED,
    "SAEF-SGD: momentum constant mu = 0 (Algorithm 1 with m_{t+1} = grad f)",
)

thm1 = Theorem(
    id="saef.thm1",
    paper=PAPER,
    source="SAEF Theorem 1, eq. (16) (supplement eq. (56))",
    title="SAEF-SGD, auxiliary variable x~_t",
    statement="SAEF-SGD (mu = 0), 0 < eta < 3/(4L): min_t E||grad F(x~_t)||^2 <= (16)",
    lhs=MIN_GRAD_XTILDE,
    direction=Direction.UPPER,
    bound=4 * F0 / (eta * (3 - 4 * eta * L) * T)
    + 2 * eta * L * sigma**2 / ((3 - 4 * eta * L) * K)
    + C_saef
    * (1 - delta)
    / (1 - SQ)
    * 4
    * (eta * L + 1)
    * eta**2
    * L**2
    / (3 - 4 * eta * L)
    * (M**2 + sigma**2),
    conditions=(
        Condition(
            "eta_max",
            "SAEF Theorem 1",
            sp.StrictLessThan(eta, sp.Rational(3, 4) / L),
            ConditionKind.STATED,
            "0 < eta_t = eta < 3/(4L) for all t (eta > 0 by its domain)",
        ),
        _SGD_COND,
    ),
    definitions=((C_saef, C_EXPR),),
    assumptions=ASSUMPTIONS,
    notes=(
        "Reading: F(x~_0) - F(x~^*) = F(x_0) - F(x^*) = F0 (x~_0 = x_0 since e_0 = e_0^(k) = 0; "
        "the server error e_0 is not initialised in Algorithm 1, read as 0; x^* a minimiser).",
        "Derivation from (63) with rho = 1/2 checked (tests). The proof uses Lemma 5 (false, see "
        "saef.lemma5); the theorem itself is not refuted here.",
        "At delta = 1 (no compression) the bound is 4F0/(eta(3-4 eta L)T) + 2 eta L sigma^2/"
        "((3-4 eta L)K), which dominates the standard mini-batch SGD bound.",
    ),
    example=dict(_THM_EX),
)

thm2 = Theorem(
    id="saef.thm2",
    paper=PAPER,
    source="SAEF Theorem 2, eq. (17) (supplement eq. (65))",
    title="SAEF-SGD, model x_t^(k)",
    statement="SAEF-SGD (mu = 0), 0 < eta < 3/(2L): min_t E||grad F(x_t^(k))||^2 <= (17)",
    lhs=MIN_GRAD_X,
    direction=Direction.UPPER,
    bound=4 * F0 / (eta * (3 - 2 * eta * L) * T)
    + 4 * eta * L * sigma**2 / ((3 - 2 * eta * L) * K)
    + _eq18(C_saef),
    conditions=(
        Condition(
            "eta_max",
            "SAEF Theorem 2",
            sp.StrictLessThan(eta, sp.Rational(3, 2) / L),
            ConditionKind.STATED,
            "0 < eta_t = eta < 3/(2L) for all t (eta > 0 by its domain)",
        ),
        _SGD_COND,
    ),
    definitions=((C_saef, C_EXPR),),
    assumptions=ASSUMPTIONS,
    notes=(
        "Audit (`boundcheck derive saef.thm2_from_73`): the proof (71)-(73) gives 2 F0/(eta(1 - rho/2 "
        "- eta L/2)T), i.e. 8 F0/(eta(3-2 eta L)T) at rho = 1/2, but (17)/(65)/(74) state "
        "4 F0/(eta(3-2 eta L)T). The sigma^2 and compression terms match the proof. (With rho = 1, "
        "as in Theorem 3, the same proof gives 4 F0/(eta(1 - eta L)T), Theorem 3 at mu = 0.) At "
        "delta = 1 the published bound still dominates the standard SGD bound, so it is not "
        "refuted there.",
        "The last line of (73) is garbled; (74) follows from the line before it.",
        "The proof uses Lemma 2 (39) and Lemma 5, both false (see saef.lemma2_opt, saef.lemma5).",
    ),
    example=dict(_THM_EX),
)

_THM3_EX = {**_THM_EX, "mu_m": 0.5}
#: the F0 and sigma^2 terms, common to (21) and (22); only the compression term differs
_THM3_F0_SIGMA = (
    4 * (1 - mu_m) * F0 / (alpha_saef * eta * T)
    + 2 * (1 + 2 * mu_m**2 * eta * L / (1 - mu_m) ** 3) * eta * L * sigma**2
    / (alpha_saef * (1 - mu_m) * K)
)  # fmt: skip

_ALPHA_COND = Condition(
    "alpha_positive",
    "SAEF Theorem 3",
    sp.StrictGreaterThan(alpha_saef, 0),
    ConditionKind.STATED,
    "alpha := 1 - eta L/(1-mu) - 2 mu^2 eta^2 L^2/(1-mu)^4 > 0 (eta > 0 by its domain)",
)
_THM3_NOTES = (
    "Derivation from (97)-(100) with rho = 1 checked (tests): (98) has alpha/2 in the "
    "denominator, (99)/(100) reproduce (21)/(22) exactly; main text and supplement agree.",
    "The proof uses Lemma 2 (39) (for (21)) and Lemma 5, both false (see saef.lemma2_opt, "
    "saef.lemma5); the theorem itself is not refuted here.",
    "mu is the momentum constant (symbol mu_m), not a strong convexity constant.",
)
thm3 = Theorem(
    id="saef.thm3",
    paper=PAPER,
    source="SAEF Theorem 3, eq. (21) (supplement eq. (87))",
    title="SAEF-SGD with momentum, model x_t^(k)",
    statement="SAEF-SGDM, alpha > 0: min_t E||grad F(x_t^(k))||^2 <= (21)",
    lhs=MIN_GRAD_X,
    direction=Direction.UPPER,
    bound=_THM3_F0_SIGMA
    + (4 * C_saef + alpha_saef)
    * (1 - delta)
    / (1 - SQ)
    * eta**2
    * L**2
    * (M**2 + sigma**2)
    / (alpha_saef * (1 - mu_m) ** 2),
    conditions=(_ALPHA_COND,),
    definitions=((C_saef, C_EXPR), (alpha_saef, ALPHA_EXPR)),
    assumptions=ASSUMPTIONS,
    notes=_THM3_NOTES,
    example=dict(_THM3_EX),
)

thm3_xtilde = Theorem(
    id="saef.thm3_xtilde",
    paper=PAPER,
    source="SAEF Theorem 3, eq. (22) (supplement eq. (88))",
    title="SAEF-SGD with momentum, auxiliary variable x~_t",
    statement="SAEF-SGDM, alpha > 0: min_t E||grad F(x~_t)||^2 <= (22)",
    lhs=MIN_GRAD_XTILDE,
    direction=Direction.UPPER,
    bound=_THM3_F0_SIGMA
    + (4 / alpha_saef + 2)
    * C_saef
    * (1 - delta)
    / (1 - SQ)
    * eta**2
    * L**2
    * (M**2 + sigma**2)
    / (1 - mu_m) ** 2,
    conditions=(_ALPHA_COND,),
    definitions=((C_saef, C_EXPR), (alpha_saef, ALPHA_EXPR)),
    assumptions=ASSUMPTIONS,
    notes=_THM3_NOTES,
    example=dict(_THM3_EX),
)

# --- Corollary 1 --------------------------------------------------------------------------------
#: eq. (18): the compression-error term of Theorem 2 (SAEF-SGD).
EQ18 = _eq18(C_EXPR)
#: eq. (19): the EF-SGD compression-error term of Zheng, Huang, Kwok (2019), as SAEF quotes it.
EQ19 = (
    32 * L**2 * (1 - delta) * (M**2 + sigma**2) / delta**2 * (1 + 16 / delta**2)
    * eta**2 / (3 - 2 * eta * L)
)  # fmt: skip
#: Corollary 1's claim: (18) is tighter than (19) under the conditions of Theorem 2.
COR1_CLAIM = sp.StrictLessThan(EQ18, EQ19)

_THM2_COND = Condition(
    "eta_max",
    "SAEF Corollary 1 (conditions of Theorem 2)",
    sp.StrictLessThan(eta, sp.Rational(3, 2) / L),
    ConditionKind.STATED,
    "0 < eta < 3/(2L)",
)
_COR_EX = {"L": 1.0, "K": 4, "delta": 0.5, "eta": 0.1, "M": 1.0, "sigma": 1.0, "mu_m": 0.0}
cor1 = Theorem(
    id="saef.cor1",
    paper=PAPER,
    source="SAEF Corollary 1, eq. (18) (supplement eq. (75))",
    title="compression-error term of SAEF-SGD (Theorem 2)",
    statement="SAEF-SGD compression term (18) < EF-SGD compression term (19) (saef.cor1_ef)",
    lhs=COMPRESSION_TERM,
    direction=Direction.UPPER,
    bound=_eq18(C_saef),
    conditions=(_THM2_COND, _SGD_COND),
    definitions=((C_saef, C_EXPR),),
    assumptions=ASSUMPTIONS,
    notes=(
        "The comparison (18) < (19) is algebraically true for 0 < delta < 1 (proof (77)-(80) "
        "checked; tests); equality 0 = 0 at delta = 1 or M = sigma = 0. But (18) comes from "
        "Lemmas 2 (39) and 5, both false: the claimed advantage over EF-SGD rests on the wrong "
        "minimum (1-delta)/(2(1-sqrt(1-delta))) ~ 1/delta instead of ~ 4/delta^2.",
        "Reading: '1 - sqrt(1 - delta^2)' in (78) is garbled; both '1 - sqrt(1-delta)' and the "
        "literal form make (78) true.",
    ),
    example=dict(_COR_EX),
    extra={"claim": COR1_CLAIM, "tighter_than": "saef.cor1_ef"},
)

cor1_ef = Theorem(
    id="saef.cor1_ef",
    paper=PAPER,
    source="SAEF Corollary 1, eq. (19) (supplement eq. (76)), quoting Zheng, Huang, Kwok (2019)",
    title="compression-error term of EF-SGD, as quoted by SAEF",
    statement="EF-SGD compression term 32 L^2 (1-delta)(M^2+sigma^2)/delta^2 (1 + 16/delta^2) "
    "eta^2/(3 - 2 eta L)",
    lhs=COMPRESSION_TERM,
    direction=Direction.UPPER,
    bound=EQ19,
    conditions=(_THM2_COND, _SGD_COND),
    assumptions=ASSUMPTIONS,
    notes=(
        "Encoded as SAEF quotes it; not checked against Zheng et al. (2019), whose own conditions "
        "SAEF does not restate (the condition is Theorem 2's, under which Corollary 1 compares).",
    ),
    example={k: v for k, v in _COR_EX.items() if k != "K"},
)

# --- Corollaries 2-3 (order claims) -------------------------------------------------------------
#: the stepsize of Corollaries 2-3, c sqrt(K)/sqrt(T) (stated as a strict upper bound on eta)
_ETA_COR = c_eta * sp.sqrt(K) / sp.sqrt(T)
_ORDER_EX = {"L": 1.0, "K": 4, "T": 10000, "eta": 0.01, "c_eta": 1.0, "mu_m": 0.0}
_COR_STEP = Condition(
    "eta_scaling",
    "SAEF Corollaries 2-3",
    sp.StrictLessThan(eta, _ETA_COR),
    ConditionKind.STATED,
    "eta < c sqrt(K)/sqrt(T), c > 0 a constant",
)
_T_K3 = Condition(
    "T_ge_K3",
    "SAEF supplement Corollary 2 proof, eq. (83)",
    sp.GreaterThan(T, K**3),
    ConditionKind.PROOF,
    "T >= K^3, so that the compression term O(K/T) is O(1/sqrt(KT))",
)
_ORDER_NOTES = (
    "Reading: 'eta < c sqrt(K)/sqrt(T)' alone does not give the rate (eta -> 0 makes the F0 term "
    "4F0/(eta T) blow up); the scaling used is eta = c sqrt(K/T) (eta = Theta(sqrt(K/T))).",
    "As T -> infinity with K fixed the explicit bound is O(1/sqrt(T)); the stated K-dependence "
    "1/sqrt(KT) holds only for T >= K^3 (proof (83)), a PROOF condition here.",
)
cor2 = Theorem(
    id="saef.cor2",
    paper=PAPER,
    source="SAEF Corollary 2, eq. (20) (supplement eqs. (81)-(83))",
    title="SAEF-SGD rate",
    statement="eta < c sqrt(K/T): min_t E||grad F(x_t^(k))||^2 = O(1/sqrt(KT))",
    lhs=MIN_GRAD_X,
    direction=Direction.ORDER,
    conditions=(
        _THM2_COND,
        _SGD_COND,
        _COR_STEP,
        Condition(
            "T_ge_c2L2K",
            "SAEF supplement Corollary 2 proof, eq. (82)",
            sp.GreaterThan(T, c_eta**2 * L**2 * K),
            ConditionKind.PROOF,
            "T >= c^2 L^2 K, so that 3 - 2 eta L >= 1",
        ),
        _T_K3,
    ),
    assumptions=ASSUMPTIONS,
    order=OrderClaim(
        terms=(1 / sp.sqrt(K * T),),
        variable=T,
        scalings={eta: _ETA_COR},
        explicit="saef.thm2",
        absorbed=(F0, L, sigma, M, delta, c_eta),
    ),
    notes=(
        *_ORDER_NOTES,
        "Typo in (83): the sigma^2 term is written eta^2 L sigma^2/K; Theorem 2 gives "
        "4 eta L sigma^2/((3-2 eta L)K) <= 4 eta L sigma^2/K. The rate is unaffected.",
    ),
    example=dict(_ORDER_EX),
)

cor3 = Theorem(
    id="saef.cor3",
    paper=PAPER,
    source="SAEF Corollary 3, eq. (23) (supplement eq. (101))",
    title="SAEF-SGD with momentum rate",
    statement="eta < c sqrt(K/T): min_t E||grad F(x_t^(k))||^2 = O(1/sqrt(KT)) for SAEF-SGDM",
    lhs=MIN_GRAD_X,
    direction=Direction.ORDER,
    conditions=(_ALPHA_COND, _COR_STEP, _T_K3),
    definitions=((alpha_saef, ALPHA_EXPR),),
    assumptions=ASSUMPTIONS,
    order=OrderClaim(
        terms=(1 / sp.sqrt(K * T),),
        variable=T,
        scalings={eta: _ETA_COR},
        explicit="saef.thm3",
        absorbed=(F0, L, sigma, M, delta, mu_m, c_eta),
    ),
    notes=(
        *_ORDER_NOTES,
        "The proof is 'similar as the proof of Corollary 2'; alpha -> 1 as T -> infinity.",
    ),
    example={**_ORDER_EX, "mu_m": 0.5},
)

THEOREMS: list[Theorem] = [
    lemma1_main,
    lemma1,
    lemma2,
    lemma2_opt,
    lemma3,
    lemma4,
    lemma4_general,
    lemma5,
    lemma5_beta,
    thm1,
    thm2,
    thm3,
    thm3_xtilde,
    cor1,
    cor1_ef,
    cor2,
    cor3,
]

QUANTITIES: tuple[Quantity, ...] = (
    MIN_GRAD_X,
    MIN_GRAD_XTILDE,
    MOMENTUM_NORM,
    LOCAL_ERROR,
    LOCAL_ERROR_SPREAD,
    SERVER_ERROR,
    MISMATCH_ERROR,
    GRAD_MISMATCH_EF,
    GRAD_MISMATCH_SAEF,
    GRAD_MISMATCH_SAEF_AVG,
    COMPRESSION_TERM,
    SCALED_SIGN_ERROR,
)

#: The compressor, run and numbers of the counterexample to Lemmas 2 (39), 4 and 5 (exact).
COUNTEREXAMPLE = {
    "delta": 0.75,
    "compressor": "C(v) = v/2 if |v| < 1.8 else 3v/2 (d = 1)",
    "gradient": "constant 1 (eta = M = 1, sigma = 0, mu = 0, K identical workers)",
    "local_errors": (0.5, 0.75, 0.875, -0.9375),
    "server_errors": (0.25, 0.5, 0.6875, -1.75),
}

__all__ = [
    "ASSUMPTIONS",
    "COR1_CLAIM",
    "COUNTEREXAMPLE",
    "QUANTITIES",
    "THEOREMS",
]
