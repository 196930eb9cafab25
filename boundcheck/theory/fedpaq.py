"""FedPAQ (Reisizadeh, Mokhtari, Hassani, Jadbabaie, Pedarsani, AISTATS 2020), encoded as published.

Algorithm 1: in each period ``k = 0, ..., K-1`` the server picks ``r`` of the ``n`` nodes uniformly
without replacement, each runs ``tau`` local SGD steps ``x_{k,t+1}^(i) = x_{k,t}^(i) - eta_{k,t}
grad~f_i(x_{k,t}^(i))`` from ``x_k`` and uploads ``Q(x_{k,tau}^(i) - x_k)``; the server sets
``x_{k+1} = x_k + 1/r sum_{i in S_k} Q(...)`` (eq. (8)). ``T = K tau`` iterations in all.

Encoded here (ids ``fedpaq.*``):

* Assumptions 1-4, plus the homogeneity the proofs use (:data:`A_HOMOGENEOUS`);
* Theorem 1 (strongly convex): ``B_1`` eq. (12), stepsize ``eta_k = 4 mu^-1/(k tau + 1)``, the
  ``k_0`` condition (13), bound (14) with ``C_1..C_3`` eq. (15), and the stepsize facts (67) that
  Appendix A.6 claims (13) implies (PROOF conditions);
* Remark 1 eq. (16) and Remark 2 as order claims;
* Theorem 2 (non-convex): ``B_2`` eq. (17), conditions (18), stepsize ``1/(L sqrt(T))``, bound (19)
  with ``N_1, N_2``, and the proof's conditions (83), (91) and ``eta <= 0.9/L`` (Appendix B.1);
* Remarks 3 and 4 as order claims;
* Lemmas 1 (decomposition (21), as two '<=' halves), 2-4, 5 (sequences), 6-7 (Theorem 2's descent)
  and 8-9.

Dimensions follow the update equations: ``eta`` multiplies a gradient (``[X]^2/[F]``); ``q``, ``r``,
``n``, ``tau``, ``k`` are dimensionless; ``sigma`` is a gradient standard deviation (Assumption 3
bounds the variance by ``sigma^2``). Readings are recorded in each theorem's ``notes``; the audit of
the paper's derivations is ``derivations/fedpaq.py`` (``boundcheck derive FedPAQ``).
"""

from __future__ import annotations

import math
from fractions import Fraction

import sympy as sp

from boundcheck.dims import DIMENSIONLESS, GRAD2, SMOOTH, STEP, F, X
from boundcheck.errors import ParameterError
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

PAPER = "FedPAQ"

# --- paper-specific symbols -----------------------------------------------------------------------
q = S.define(
    "q",
    "nonneg",
    DIMENSIONLESS,
    "FedPAQ quantizer variance parameter: E||Q(x) - x||^2 <= q ||x||^2 (Assumption 1, eq. (9))",
    "q",
)
r = S.define("r", "count", DIMENSIONLESS, "FedPAQ: number of nodes active in each period", "r")
tau = S.define(
    "tau",
    "count",
    DIMENSIONLESS,
    "FedPAQ period length: local SGD steps between two averagings (same concept as P)",
    r"\tau",
)
k = S.define(
    "k", "count", DIMENSIONLESS, "FedPAQ period index: x_k is the server model after k periods", "k"
)
D_k0 = S.define(
    "D_k0",
    "nonneg",
    X**2,
    "FedPAQ Theorem 1: E||x_{k0} - x*||^2, the server model's squared error at period k0",
    r"\mathbb{E}\|x_{k_0}-x^{*}\|^{2}",
)
# auxiliary constants (entries of ``definitions``), declared with the dimension their definition has
B1 = S.define("B1", "nonneg", SMOOTH**2, "FedPAQ Theorem 1 constant B_1, eq. (12)", "B_{1}")
k0 = S.define(
    "k0",
    "count",
    DIMENSIONLESS,
    "FedPAQ Theorem 1: first period of the bound, the smallest integer satisfying (13)",
    "k_{0}",
)
eta_k0 = S.define(
    "eta_k0",
    "positive",
    STEP,
    "FedPAQ Theorem 1: the stepsize at period k0, 4/(mu (k0 tau + 1))",
    r"\eta_{k_0}",
)
C1 = S.define("C1", "nonneg", X**2, "FedPAQ Theorem 1 constant C_1, eq. (15)", "C_{1}")
C2 = S.define("C2", "nonneg", GRAD2, "FedPAQ Theorem 1 constant C_2, eq. (15)", "C_{2}")
C3 = S.define("C3", "nonneg", X**2, "FedPAQ Theorem 1 constant C_3, eq. (15)", "C_{3}")
B2 = S.define("B2", "nonneg", DIMENSIONLESS, "FedPAQ Theorem 2 constant B_2, eq. (17)", "B_{2}")
N1 = S.define("N1", "nonneg", GRAD2, "FedPAQ Theorem 2 constant N_1, after eq. (19)", "N_{1}")
N2 = S.define("N2", "nonneg", GRAD2, "FedPAQ Theorem 2 constant N_2, after eq. (19)", "N_{2}")

L, mu, n, T, sigma, eta, F0 = S.L, S.mu, S.n, S.T, S.sigma, S.eta, S.F0
e = sp.E  # Euler's number, as in C_2 and C_3 (from (1 + tau L^2 eta^2)^tau <= e)

#: the partial-participation factor (n - r)/(r (n - 1)) of eqs. (12), (15), (17); 0/0 at n = 1
PP = (n - r) / (r * (n - 1))

# --- measured quantities --------------------------------------------------------------------------
DIST_SQ_SERVER = Quantity(
    id="fedpaq.dist_sq_server",
    text="E||x_k - x^*||^2",
    definition=(
        "squared Euclidean distance between the parameter server's model x_k after k periods "
        "(eq. (8): x_{k+1} = x_k + 1/r sum_{i in S_k} Q(x_{k,tau}^(i) - x_k), x_0 given) and the "
        "minimiser x^* of f = 1/n sum_i f_i, in expectation over node sampling S_0..S_{k-1}, "
        "quantization and SGD noise (mean over independent replicas)"
    ),
    dim=X**2,
)

AVG_GRAD_SQ_NODE_MEAN = Quantity(
    id="fedpaq.avg_grad_sq_node_mean",
    text=(
        "1/T sum_{k=0}^{K-1} sum_{t=0}^{tau-1} E||grad f(xbar_{k,t})||^2, "
        "xbar_{k,t} = 1/n sum_{i in [n]} x_{k,t}^(i)"
    ),
    definition=(
        "ergodic mean over all T = K tau local iterations of the squared gradient norm of f at "
        "xbar_{k,t} of eq. (20): the average over ALL n nodes (not only the r active ones) of the "
        "local iterates x_{k,t}^(i), where every node i in [n] runs the local SGD recursion (7) "
        "from x_k in period k (inactive nodes virtually, with their own independent samples; they "
        "do not affect x_{k+1}), t = 0..tau-1 (so xbar_{k,0} = x_k); expectation over sampling, "
        "quantization and SGD noise"
    ),
    dim=GRAD2,
)

# --- assumptions ----------------------------------------------------------------------------------
A1 = Assumption(
    "fedpaq.a1",
    "FedPAQ Assumption 1, eq. (9)",
    "The quantizer is unbiased, E[Q(x)|x] = x, with E[||Q(x) - x||^2 | x] <= q ||x||^2 for all x; "
    "quantizations are independent across nodes and periods.",
)
A2 = Assumption(
    "fedpaq.a2",
    "FedPAQ Assumption 2",
    "Every sample loss l(., xi) is L-smooth: ||grad l(x, xi) - grad l(y, xi)|| <= L ||x - y||.",
)
A3 = Assumption(
    "fedpaq.a3",
    "FedPAQ Assumption 3",
    "Stochastic gradients are unbiased, E_xi grad l(x, xi) = grad L(x) (population risk), with "
    "variance E_xi ||grad l(x, xi) - grad L(x)||^2 <= sigma^2.",
)
A4 = Assumption(
    "fedpaq.a4",
    "FedPAQ Assumption 4",
    "Every sample loss l(., xi) is mu-strongly convex: <grad l(x, xi) - grad l(y, xi), x - y> >= "
    "mu ||x - y||^2.",
)
A_HOMOGENEOUS = Assumption(
    "fedpaq.homogeneous",
    "FedPAQ Section 2 (common distribution), as used in Appendix A (41), (49) and B (99), (106)",
    "The form of Assumption 3 the proofs use: at every node i, E grad~f_i(x) = grad f(x) for the "
    "global f, with E||grad~f_i(x) - grad f(x)||^2 <= sigma^2 (homogeneous nodes, no "
    "dissimilarity term).",
)
#: the hypotheses of Theorem 1 (strongly convex) and Theorem 2 (non-convex: no Assumption 4)
ASSUMPTIONS_THM1 = (A1, A2, A3, A4, A_HOMOGENEOUS)
ASSUMPTIONS_THM2 = (A1, A2, A3, A_HOMOGENEOUS)

# --- Theorem 1 (strongly convex) ------------------------------------------------------------------
B1_DEF = 2 * L**2 * (q / n + PP * 4 * (1 + q))  # eq. (12)
K0_ARGS = (L / mu, 4 * (B1 / mu**2 + 1), 1 / tau, 4 * n / (mu**2 * tau))  # eq. (13)
K0_RHS = 4 * sp.Max(*K0_ARGS)
ETA_K0_DEF = 4 / (mu * (k0 * tau + 1))
C1_DEF = 16 * sigma**2 / (mu**2 * n) * (1 + 2 * q + 8 * (1 + q) * n * PP)  # eq. (15)
C2_DEF = 16 * e * L**2 * sigma**2 / (mu**2 * n)
C3_DEF = 256 * e * L**2 * sigma**2 / (mu**4 * n) * (n + 2 * q + 8 * (1 + q) * n * PP)
STEPSIZE_1 = 4 / (mu * (k * tau + 1))  # eta_k = 4 mu^-1 / (k tau + 1)

#: C_0 of eq. (26): the contraction coefficient of E||x_k - x*||^2 in (25), as a function of eta
C0_DEF = (1 + n * eta**2) * (1 - mu * eta) ** tau + B1_DEF * tau**2 * eta**2

BOUND_1 = (
    (k0 * tau + 1) ** 2 / (k * tau + 1) ** 2 * D_k0
    + C1 * tau / (k * tau + 1)
    + C2 * (tau - 1) ** 2 / (k * tau + 1)
    + C3 * (tau - 1) / (k * tau + 1) ** 2
)  # eq. (14)

_SETUP_CONDITIONS = (
    Condition(
        "r_le_n",
        "FedPAQ Section 3.2 (r <= n)",
        sp.Le(r, n),
        ConditionKind.STATED,
        "r of the n nodes are active in each period",
    ),
    Condition(
        "n_ge_2",
        "FedPAQ eqs. (12), (15), (17) (factor (n-r)/(r(n-1)))",
        sp.Ge(n, 2),
        ConditionKind.PROOF,
        "the factor (n-r)/(r(n-1)) (from (61)) is 0/0 at n = 1; the formulas need n >= 2",
    ),
)

THM1 = Theorem(
    id="fedpaq.thm1",
    paper=PAPER,
    source="FedPAQ Theorem 1, eqs. (12)-(15)",
    title="FedPAQ, strongly convex losses",
    statement=(
        "With eta_k = 4/(mu (k tau + 1)), for every k >= k0 (smallest integer satisfying (13)): "
        "E||x_k - x*||^2 <= (k0 tau+1)^2/(k tau+1)^2 E||x_k0 - x*||^2 + C1 tau/(k tau+1) "
        "+ C2 (tau-1)^2/(k tau+1) + C3 (tau-1)/(k tau+1)^2."
    ),
    lhs=DIST_SQ_SERVER,
    direction=Direction.UPPER,
    bound=BOUND_1,
    conditions=(
        *_SETUP_CONDITIONS,
        Condition(
            "stepsize",
            "FedPAQ Theorem 1 (eta_{k,t} = eta_k = 4 mu^-1/(k tau + 1))",
            sp.Eq(eta, STEPSIZE_1),
            ConditionKind.STEPSIZE,
            "the stepsize of period k (every local step of the period uses it)",
        ),
        Condition(
            "k0",
            "FedPAQ Theorem 1, eq. (13)",
            sp.Ge(k0, K0_RHS),
            ConditionKind.STATED,
            "k0 >= 4 max{L/mu, 4(B1/mu^2 + 1), 1/tau, 4n/(mu^2 tau)}",
        ),
        Condition(
            "k0_smallest",
            "FedPAQ Theorem 1 ('k0 is the smallest integer satisfying (13)')",
            sp.Lt(k0 - 1, K0_RHS),
            ConditionKind.STATED,
            "k0 - 1 violates (13), so k0 is the smallest integer satisfying it (see k0_smallest)",
        ),
        Condition(
            "k_ge_k0",
            "FedPAQ Theorem 1 ('for any k >= k0')",
            sp.Ge(k, k0),
            ConditionKind.STATED,
            "the bound is claimed for periods k >= k0",
        ),
        Condition(
            "mu_le_L",
            "FedPAQ Appendix A.6 (mu tau eta_k <= mu/L <= 1)",
            sp.Le(mu, L),
            ConditionKind.PROOF,
            "mu <= L, implied by Assumptions 2 and 4 and used in A.6",
        ),
        Condition(
            "a6_eta_tau_le_1_over_L",
            "FedPAQ Appendix A.6, eq. (67), and Lemmas 2-4",
            sp.Le(eta_k0 * tau, 1 / L),
            ConditionKind.PROOF,
            "eta_k tau <= 1/L for every k >= k0 (eta_k decreases, so k = k0 binds)",
        ),
        Condition(
            "a6_eta_tau_le_mu_over_4",
            "FedPAQ Appendix A.6, eq. (67)",
            sp.Le(eta_k0 * tau, mu / (4 * (mu**2 + B1))),
            ConditionKind.PROOF,
            "eta_k tau <= mu/(4(mu^2 + B1)) for every k >= k0",
        ),
        Condition(
            "a6_eta_le_mu_over_L2",
            "FedPAQ Appendix A.6, eq. (67), used in (39) and Lemmas 2-4",
            sp.Le(eta_k0, mu / L**2),
            ConditionKind.PROOF,
            "eta_k <= mu/L^2 for every k >= k0; NOT implied by (13) (see notes)",
        ),
        Condition(
            "a6_eta_le_mu_over_4n",
            "FedPAQ Appendix A.6, eq. (67), used in (72)",
            sp.Le(eta_k0, mu / (4 * n)),
            ConditionKind.PROOF,
            "eta_k <= mu/(4n) for every k >= k0 (dimensionally inconsistent, see notes)",
        ),
        Condition(
            "a6_eta_le_1_over_mu",
            "FedPAQ Appendix A.6, eq. (68)",
            sp.Le(eta_k0, 1 / mu),
            ConditionKind.PROOF,
            "eta_k <= 1/mu, used for (1 - mu eta)^tau <= exp(-mu tau eta)",
        ),
    ),
    assumptions=ASSUMPTIONS_THM1,
    definitions=(
        (B1, B1_DEF),
        (eta_k0, ETA_K0_DEF),
        (C1, C1_DEF),
        (C2, C2_DEF),
        (C3, C3_DEF),
    ),
    notes=(
        "Reading: the garbled stepsize '4\\mu^{-1}/k\\tau+1' is eta_k = 4/(mu (k tau + 1)), as "
        "Appendix A (27)-(28) substitutes it.",
        "Reading: k0 ('the smallest integer satisfying (13)') is a parameter constrained by two "
        "STATED conditions, (13) itself and minimality k0 - 1 < 4 max{...}; k0_smallest() "
        "computes it. The bound refers to the measured E||x_{k0} - x*||^2 (symbol D_k0), not to "
        "x_0.",
        "Reading: n >= 2 (PROOF condition): (n-r)/(r(n-1)) is 0/0 at n = 1.",
        "Reading: Assumption 3 is printed for the population risk L(x) with xi ~ P, but the proofs "
        "((41), (49)) use E grad~f_i(x) = grad f(x) at every node; encoded as the extra assumption "
        "fedpaq.homogeneous. Empirical checks must use homogeneous nodes.",
        "Dimensions (computed by `boundcheck dims`): the C2 term C2 (tau-1)^2/(k tau+1) has dimension [F]^2/[X]^2 while "
        "E||x_k - x*||^2 is [X]^2, and the k0 condition (13) mixes the dimensionless L/mu with "
        "4n/(mu^2 tau) ([X]^4/[F]^2). Both come from (38), Young's inequality with the "
        "dimensional weight alpha = n eta_k^2 (also the factor (1 + n eta_k^2) of Lemma 2). Each "
        "step is numerically valid, so the bound holds in any fixed units, but its value depends "
        "on the choice of units.",
        "Audit (`boundcheck derive fedpaq.a6_stepsize`): Appendix A.6 claims that (13) implies (67), including "
        "eta_k <= mu/L^2 (needed in (39) and Lemmas 2-4). It does not: with q = 0, r = n = 2, "
        "tau = 1, mu = 1, L = 10, (13) gives k0 = 40 and eta_40 = 4/41 > mu/L^2 = 0.01. The "
        "contraction (39) itself still holds for eta <= 2/(mu + L) (co-coercivity), which "
        "eta_k tau <= 1/L gives, so the gap is repairable; the other parts of (67) do follow.",
        "Check: (25)-(30) recombine Lemmas 2-4 exactly into B1, C1, C2, C3 as stated (verified "
        "symbolically in tests); Lemma 5's induction is valid when k + k1 >= 2 (k0 >= 16 here).",
        "Typos in the appendix (not affecting the statement): (38) and (52) write 1/m where "
        "Young's inequality gives 1/n; the first line of (76) drops the squares on (s+k1).",
        "Unverified step: (43) bounds E||sum_s (noise_s + drift_s)||^2 by the sum of noise "
        "variances plus E||sum_s drift_s||^2, dropping cross terms E<noise_s, drift_s'> (s' > s) "
        "that are not zero in general (they are <= 0 for quadratics with eta L <= 1).",
    ),
    example={
        "D_k0": 1.0,
        "L": 2.0,
        "eta": 4.0 / (1.0 * (200.0 * 4.0 + 1.0)),
        "k": 200.0,
        "k0": 108.0,
        "mu": 1.0,
        "n": 10.0,
        "q": 0.5,
        "r": 5.0,
        "sigma": 1.0,
        "tau": 4.0,
    },
    extra={"C0": C0_DEF},
)


def k0_smallest(L: float, mu: float, q: float, n: int, r: int, tau: int) -> int:
    """The smallest integer ``k0`` satisfying FedPAQ condition (13) (Theorem 1).

    ``k0 = ceil(4 max{L/mu, 4 (B1/mu^2 + 1), 1/tau, 4 n/(mu^2 tau)})`` with ``B1`` of eq. (12).
    Raises :class:`ParameterError` for values outside the symbols' domains or ``n < 2``, ``r > n``.
    """
    vals = {
        nm: S.info(nm).validate(v)
        for nm, v in (("L", L), ("mu", mu), ("q", q), ("n", n), ("r", r), ("tau", tau))
    }
    if vals["n"] < 2 or vals["r"] > vals["n"]:
        raise ParameterError(
            f"n={n!r}, r={r!r} not allowed; FedPAQ Theorem 1 needs n >= 2 and 1 <= r <= n"
        )
    # exact rational arithmetic on the given floats: a float rhs rounded just below an integer
    # would return a k0 that misses (13) by ~1e-14
    L_, mu_, q_, n_, r_, tau_ = (Fraction(vals[nm]) for nm in ("L", "mu", "q", "n", "r", "tau"))
    b1 = 2 * L_**2 * (q_ / n_ + (n_ - r_) / (r_ * (n_ - 1)) * 4 * (1 + q_))
    rhs = 4 * max(L_ / mu_, 4 * (b1 / mu_**2 + 1), 1 / tau_, 4 * n_ / (mu_**2 * tau_))
    return math.ceil(rhs)


REMARK1 = Theorem(
    id="fedpaq.remark1",
    paper=PAPER,
    source="FedPAQ Remark 1, eq. (16)",
    title="FedPAQ strongly convex rate in T = K tau",
    statement=(
        "For T = K tau >= k0 tau: E||x_K - x*||^2 <= O(tau/T) + O(tau^2/T^2) + O((tau-1)^2/T) "
        "+ O((tau-1)/T^2)."
    ),
    lhs=DIST_SQ_SERVER,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(tau / T, tau**2 / T**2, (tau - 1) ** 2 / T, (tau - 1) / T**2),
        variable=T,
        scalings={k: T / tau},
        explicit="fedpaq.thm1",
        absorbed=(L, mu, sigma, q, n, r, D_k0, k0),
    ),
    assumptions=ASSUMPTIONS_THM1,
    notes=(
        "Reading: K = T/tau periods, so Theorem 1 is taken at k = T/tau; C1, C2, C3, k0 and "
        "E||x_{k0} - x*||^2 are the constants hidden in O(.) (k0 is bounded in tau).",
        "The claim that tau = o(sqrt(T)) suffices for convergence is tested: the C2 term is "
        "C2 (tau-1)^2/(T+1), which tends to 0 iff tau = o(sqrt(T)).",
    ),
)

REMARK2 = Theorem(
    id="fedpaq.remark2",
    paper=PAPER,
    source="FedPAQ Remark 2",
    title="FedPAQ with tau = 1, q = 0, r = n is parallel SGD: O(1/T)",
    statement="With tau = 1, q = 0 and r = n, Theorem 1 gives E||x_T - x*||^2 = O(1/T).",
    lhs=DIST_SQ_SERVER,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(1 / T,),
        variable=T,
        scalings={tau: sp.Integer(1), q: sp.Integer(0), r: n, k: T},
        explicit="fedpaq.thm1",
        absorbed=(L, mu, sigma, n, D_k0, k0),
    ),
    assumptions=ASSUMPTIONS_THM1,
    notes=(
        "At tau = 1, q = 0, r = n Theorem 1 reduces to E||x_k - x*||^2 <= (k0+1)^2/(k+1)^2 "
        "E||x_k0 - x*||^2 + 16 sigma^2/(mu^2 n (k+1)): parallel (mini-batch n) SGD with stepsize "
        "4/(mu (k+1)).",
    ),
)

# --- Theorem 2 (non-convex) -----------------------------------------------------------------------
B2_DEF = q / n + 4 * PP * (1 + q)  # eq. (17)
#: sqrt(B2^2 + 0.8) - B2, from the positive root of the quadratic (89); (18) and (91) scale it
_ROOT_89 = sp.sqrt(B2**2 + sp.Rational(4, 5)) - B2
TAU_MAX_18 = _ROOT_89 / 8 * sp.sqrt(T)  # eq. (18)
N1_DEF = (1 + q) * sigma**2 / n * (1 + n * PP)
N2_DEF = sigma**2 / n * (n + 1)
STEPSIZE_2 = 1 / (L * sp.sqrt(T))
BOUND_2 = 2 * L * F0 / sp.sqrt(T) + N1 / sp.sqrt(T) + N2 * (tau - 1) / T  # eq. (19)

#: N_1 as the proof's own (84)-(86) give it with eta = 1/(L sqrt(T)): the factor 4 kept
N1_PROOF = (1 + q) * (sigma**2 / n + 4 * sigma**2 / r * (n - r) / (n - 1))
#: the largest tau that (91) allows at eta = 1/(L sqrt(T)): half of what (18) states is needed
TAU_MAX_91 = _ROOT_89 / 4 * sp.sqrt(T)

THM2 = Theorem(
    id="fedpaq.thm2",
    paper=PAPER,
    source="FedPAQ Theorem 2, eqs. (17)-(19)",
    title="FedPAQ, non-convex losses",
    statement=(
        "If T >= 2, tau <= (sqrt(B2^2 + 0.8) - B2)/8 sqrt(T) and eta = 1/(L sqrt(T)): "
        "1/T sum_k sum_t E||grad f(xbar_{k,t})||^2 <= 2 L (f(x0) - f*)/sqrt(T) + N1/sqrt(T) "
        "+ N2 (tau-1)/T."
    ),
    lhs=AVG_GRAD_SQ_NODE_MEAN,
    direction=Direction.UPPER,
    bound=BOUND_2,
    conditions=(
        *_SETUP_CONDITIONS,
        Condition(
            "stepsize",
            "FedPAQ Theorem 2 (eta_{k,t} = 1/(L sqrt(T)))",
            sp.Eq(eta, STEPSIZE_2),
            ConditionKind.STEPSIZE,
            "constant stepsize for every local step",
        ),
        Condition(
            "T_ge_2", "FedPAQ Theorem 2, eq. (18)", sp.Ge(T, 2), ConditionKind.STATED, "T >= 2"
        ),
        Condition(
            "tau_le",
            "FedPAQ Theorem 2, eq. (18)",
            sp.Le(tau, TAU_MAX_18),
            ConditionKind.STATED,
            "tau <= (sqrt(B2^2 + 0.8) - B2)/8 sqrt(T)",
        ),
        Condition(
            "b1_eq83",
            "FedPAQ Appendix B, eq. (83)",
            sp.Ge(  # (83) writes B2 of (17) out: q/n + 4 (n-r)/(r(n-1)) (1+q)
                1 - L * eta - L * B2_DEF * tau * eta - 2 * L**2 * tau * (tau - 1) * eta**2,
                0,
            ),
            ConditionKind.PROOF,
            "the coefficient of sum ||grad f(x_{k,t}^(i))||^2 in (82) is non-positive",
        ),
        Condition(
            "b1_eq91",
            "FedPAQ Appendix B.1, eq. (91)",
            sp.Le(eta * tau, _ROOT_89 / (4 * L)),
            ConditionKind.PROOF,
            "eta tau <= (sqrt(B2^2 + 0.8) - B2)/(4L), the root of the quadratic (89)",
        ),
        Condition(
            "b1_eta_le_0_9_over_L",
            "FedPAQ Appendix B.1",
            sp.Le(eta, sp.Rational(9, 10) / L),
            ConditionKind.PROOF,
            "1 - L eta >= 0.1",
        ),
    ),
    assumptions=ASSUMPTIONS_THM2,
    definitions=((B2, B2_DEF), (N1, N1_DEF), (N2, N2_DEF)),
    notes=(
        "Reading: '1/L\\sqrt{T}' is eta = 1/(L sqrt(T)), as (86)-(87) substitute it.",
        "Reading: the left-hand side is on xbar_{k,t} of eq. (20), the mean over all n nodes of "
        "the local iterates (inactive nodes included, virtually); see the Quantity definition.",
        "Reading: Assumption 3 as used by the proofs ((99), (106)): every node's stochastic "
        "gradient is unbiased for grad f (fedpaq.homogeneous).",
        "Audit (`boundcheck derive fedpaq.thm2_n1`): N1 as stated, (1+q) sigma^2/n (1 + n(n-r)/(r(n-1))), drops the "
        "factor 4 that (84)-(86) carry: substituting eta = 1/(L sqrt(T)) into (86) gives "
        "N1' = (1+q)(sigma^2/n + 4 sigma^2 (n-r)/(r(n-1))) (extra['N1_proof']); the stated bound "
        "is smaller than what the proof supports by 3(1+q) sigma^2 (n-r)/(r(n-1)) / sqrt(T) "
        "whenever r < n. The same factor appears correctly in B2.",
        "Discrepancy (harmless): (91) with eta = 1/(L sqrt(T)) needs only tau <= (sqrt(B2^2+0.8) "
        "- B2)/4 sqrt(T) (extra['tau_max_proof']); (18) and (92) state /8, a stronger condition.",
        "Consequence: at tau = 1, q = 0, r = n (Remark 4), (18) requires sqrt(T) >= 8/sqrt(0.8), "
        "i.e. T >= 80.",
        "Typos in the appendix: (82) writes sigma^2/m (m+1) where (79) has sigma^2/n (n+1); (102) "
        "writes x_{k tau} for x_k.",
        "Unverified step: (103) drops the cross terms between the sampling noise of earlier local "
        "steps and the later gradients (as in (43)); so does (110), which writes it as an "
        "equality (used by Lemmas 8 and 9).",
        "Dimensions are consistent: every term of (19) is [F]^2/[X]^2 and (18) is dimensionless.",
    ),
    example={
        "F0": 1.0,
        "L": 2.0,
        "T": 10000.0,
        "eta": 1.0 / (2.0 * 100.0),
        "n": 10.0,
        "q": 0.5,
        "r": 5.0,
        "sigma": 1.0,
        "tau": 2.0,
    },
    extra={"N1_proof": N1_PROOF, "tau_max_proof": TAU_MAX_91},
)

REMARK3 = Theorem(
    id="fedpaq.remark3",
    paper=PAPER,
    source="FedPAQ Remark 3",
    title="FedPAQ non-convex rate",
    statement=(
        "Theorem 2 implies 1/T sum_k sum_t E||grad f(xbar_{k,t})||^2 <= O(1/sqrt(T)) "
        "+ O((tau-1)/T)."
    ),
    lhs=AVG_GRAD_SQ_NODE_MEAN,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(1 / sp.sqrt(T), (tau - 1) / T),
        variable=T,
        scalings={},
        explicit="fedpaq.thm2",
        absorbed=(L, F0, sigma, q, n, r),
    ),
    assumptions=ASSUMPTIONS_THM2,
    notes=("Theorem 2's bound is already explicit in T and tau; no scaling is needed.",),
)

REMARK3_TAU_SQRT_T = Theorem(
    id="fedpaq.remark3_tau_sqrt_t",
    paper=PAPER,
    source="FedPAQ Remark 3 (tau up to O(sqrt(T)))",
    title="FedPAQ non-convex rate with tau = O(sqrt(T))",
    statement=(
        "Conditions (18) allow tau to grow up to O(sqrt(T)), which still gives an overall rate "
        "O(1/sqrt(T)) with O(sqrt(T)) communication rounds."
    ),
    lhs=AVG_GRAD_SQ_NODE_MEAN,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(1 / sp.sqrt(T),),
        variable=T,
        scalings={tau: TAU_MAX_18.subs(B2, B2_DEF)},
        explicit="fedpaq.thm2",
        absorbed=(L, F0, sigma, q, n, r),
    ),
    assumptions=ASSUMPTIONS_THM2,
    notes=(
        "Reading: tau is set to the largest value (18) allows, (sqrt(B2^2+0.8) - B2)/8 sqrt(T) "
        "(integrality ignored); K = T/tau = O(sqrt(T)) rounds.",
    ),
)

REMARK4 = Theorem(
    id="fedpaq.remark4",
    paper=PAPER,
    source="FedPAQ Remark 4",
    title="FedPAQ with tau = 1, q = 0, r = n is parallel SGD: O(1/sqrt(T))",
    statement=(
        "With tau = 1, q = 0 and r = n, Theorem 2 recovers the O(1/sqrt(T)) rate of parallel SGD "
        "for non-convex losses."
    ),
    lhs=AVG_GRAD_SQ_NODE_MEAN,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(1 / sp.sqrt(T),),
        variable=T,
        scalings={tau: sp.Integer(1), q: sp.Integer(0), r: n},
        explicit="fedpaq.thm2",
        absorbed=(L, F0, sigma, n),
    ),
    assumptions=ASSUMPTIONS_THM2,
    notes=(
        "At tau = 1, q = 0, r = n Theorem 2 reads 1/T sum_k E||grad f(x_k)||^2 <= "
        "(2 L (f(x0) - f*) + sigma^2/n)/sqrt(T): the SGD bound 2F0/(eta T) + L eta sigma^2/n at "
        "eta = 1/(L sqrt(T)) with mini-batch n.",
    ),
)

# --- Lemmas 2-4 (Theorem 1) and 8-9 (Theorem 2): the pieces of one period ------------------------
D_k = S.define(
    "D_k",
    "nonneg",
    X**2,
    "FedPAQ Lemmas 2-4: E||x_k - x*||^2, the server model's squared error at the start of period k",
    r"\mathbb{E}\|x_{k}-x^{*}\|^{2}",
)
G_sum = S.define(
    "G_sum",
    "nonneg",
    GRAD2,
    "FedPAQ Lemmas 8-9: sum_{i in [n]} sum_{t<tau} E||grad f(x_{k,t}^(i))||^2 over one period",
    r"\sum_{i,t}\mathbb{E}\|\nabla f(x_{k,t}^{(i)})\|^{2}",
)
AVG_END_DIST = Quantity(
    "fedpaq.avg_end_dist",
    "E||xbar_{k,tau} - x*||^2",
    "squared distance to x* of xbar_{k,tau} of eq. (20), the average over all n nodes of the local "
    "iterates at the end of period k (inactive nodes virtually), in expectation",
    X**2,
)
QUANT_ERR = Quantity(
    "fedpaq.quant_err",
    "E||xhat_{k+1} - xbar_{k,tau}||^2",
    "squared distance between xhat_{k+1} = x_k + 1/n sum_{i in [n]} Q(x_{k,tau}^(i) - x_k) of eq. "
    "(20) (all n nodes quantized) and xbar_{k,tau}, in expectation",
    X**2,
)
SAMPLING_ERR = Quantity(
    "fedpaq.sampling_err",
    "E||x_{k+1} - xhat_{k+1}||^2",
    "squared distance between the server model x_{k+1} (r sampled nodes) and xhat_{k+1} of eq. (20) "
    "(all n nodes), in expectation over the sampling",
    X**2,
)
_LEMMA_STEP = (
    Condition(
        "eta_le_mu_over_L2",
        "FedPAQ Lemmas 2-4 (eta_k <= min{mu/L^2, 1/(L tau)})",
        sp.Le(eta, mu / L**2),
        ConditionKind.STATED,
        "eta_k <= mu/L^2",
    ),
    Condition(
        "eta_le_1_over_L_tau",
        "FedPAQ Lemmas 2-4 (eta_k <= min{mu/L^2, 1/(L tau)})",
        sp.Le(eta, 1 / (L * tau)),
        ConditionKind.STATED,
        "eta_k <= 1/(L tau)",
    ),
)
_LEMMA_EX = {"D_k": 1.0, "L": 2.0, "eta": 0.01, "mu": 1.0, "n": 10, "q": 0.5, "r": 5,
             "sigma": 1.0, "tau": 4}  # fmt: skip
_READ_E = "Reading: the gradient sums are in expectation (the printed (80)/(81) drop the E)."
LEMMA2 = Theorem(
    id="fedpaq.lemma2",
    paper=PAPER,
    source="FedPAQ Lemma 2, eq. (22)",
    title="Optimality gap of the average model after one period",
    statement="E||xbar_{k,tau} - x*||^2 <= (1 + n eta^2)(1 - mu eta)^tau E||x_k - x*||^2 + "
    "tau(tau-1)^2 L^2 sigma^2/n e eta^2 + tau^2 sigma^2/n eta^2 + tau^2(tau-1) L^2 sigma^2 e eta^4.",
    lhs=AVG_END_DIST,
    direction=Direction.UPPER,
    bound=(1 + n * eta**2) * (1 - mu * eta) ** tau * D_k
    + tau * (tau - 1) ** 2 * L**2 * sigma**2 / n * e * eta**2
    + tau**2 * sigma**2 / n * eta**2
    + tau**2 * (tau - 1) * L**2 * sigma**2 * e * eta**4,
    conditions=_LEMMA_STEP,
    assumptions=(A2, A3, A4, A_HOMOGENEOUS),
    notes=(
        "The factor (1 + n eta^2) comes from Young's inequality with the dimensional weight "
        "n eta^2 in (38): dimensionally inconsistent (computed by `boundcheck dims`).",
    ),
    example={k: v for k, v in _LEMMA_EX.items() if k not in ("q", "r")},
)
LEMMA3 = Theorem(
    id="fedpaq.lemma3",
    paper=PAPER,
    source="FedPAQ Lemma 3, eq. (23)",
    title="Quantization error of one period",
    statement="E||xhat_{k+1} - xbar_{k,tau}||^2 <= 2q/n tau^2 L^2 eta^2 E||x_k - x*||^2 + "
    "2q tau^2 sigma^2/n eta^2 + 2q(tau-1) tau^2 L^2 sigma^2/n e eta^4.",
    lhs=QUANT_ERR,
    direction=Direction.UPPER,
    bound=2 * q / n * tau**2 * L**2 * eta**2 * D_k
    + 2 * q * tau**2 * sigma**2 / n * eta**2
    + 2 * q * (tau - 1) * tau**2 * L**2 * sigma**2 / n * e * eta**4,
    conditions=_LEMMA_STEP,
    assumptions=(A1, A2, A3, A4, A_HOMOGENEOUS),
    example={k: v for k, v in _LEMMA_EX.items() if k != "r"},
)
LEMMA4 = Theorem(
    id="fedpaq.lemma4",
    paper=PAPER,
    source="FedPAQ Lemma 4, eq. (24)",
    title="Sampling error of one period",
    statement="E||x_{k+1} - xhat_{k+1}||^2 <= (n-r)/(r(n-1)) 8(1+q) {tau^2 L^2 eta^2 E||x_k - x*||^2 "
    "+ tau^2 sigma^2 eta^2 + (tau-1) tau^2 L^2 sigma^2 e eta^4}.",
    lhs=SAMPLING_ERR,
    direction=Direction.UPPER,
    bound=PP
    * 8
    * (1 + q)
    * (
        tau**2 * L**2 * eta**2 * D_k
        + tau**2 * sigma**2 * eta**2
        + (tau - 1) * tau**2 * L**2 * sigma**2 * e * eta**4
    ),
    conditions=(*_SETUP_CONDITIONS, *_LEMMA_STEP),
    assumptions=(A1, A2, A3, A4, A_HOMOGENEOUS),
    example=dict(_LEMMA_EX),
)
LEMMA8 = Theorem(
    id="fedpaq.lemma8",
    paper=PAPER,
    source="FedPAQ Lemma 8, eq. (80)",
    title="Quantization error of one period (non-convex)",
    statement="E||xhat_{k+1} - xbar_{k,tau}||^2 <= q sigma^2/n tau eta^2 + q/n^2 tau eta^2 "
    "sum_i sum_t E||grad f(x_{k,t}^(i))||^2.",
    lhs=QUANT_ERR,
    direction=Direction.UPPER,
    bound=q * sigma**2 / n * tau * eta**2 + q / n**2 * tau * eta**2 * G_sum,
    assumptions=(A1, A3, A_HOMOGENEOUS),
    notes=(_READ_E,),
    example={"q": 0.5, "sigma": 1.0, "n": 10, "tau": 4, "eta": 0.01, "G_sum": 10.0},
)
LEMMA9 = Theorem(
    id="fedpaq.lemma9",
    paper=PAPER,
    source="FedPAQ Lemma 9, eq. (81)",
    title="Sampling error of one period (non-convex)",
    statement="E||xhat_{k+1} - x_{k+1}||^2 <= 1/(r(n-1)) (1 - r/n) 4(1+q) {n sigma^2 tau eta^2 + "
    "tau eta^2 sum_i sum_t E||grad f(x_{k,t}^(i))||^2}.",
    lhs=SAMPLING_ERR,
    direction=Direction.UPPER,
    bound=1
    / (r * (n - 1))
    * (1 - r / n)
    * 4
    * (1 + q)
    * (n * sigma**2 * tau * eta**2 + tau * eta**2 * G_sum),
    conditions=_SETUP_CONDITIONS,
    assumptions=(A1, A3, A_HOMOGENEOUS),
    notes=(_READ_E,),
    example={"q": 0.5, "sigma": 1.0, "n": 10, "r": 5, "tau": 4, "eta": 0.01, "G_sum": 10.0},
)

# --- Lemma 1 (decomposition), Lemma 5 (sequences), Lemmas 6-7 (Theorem 2's descent) ---------------
sampling_err = S.define(
    "sampling_err",
    "nonneg",
    X**2,
    "FedPAQ Lemma 1: E||x_{k+1} - xhat_{k+1}||^2 (measured along a run)",
    r"\mathbb{E}\|x_{k+1}-\hat{x}_{k+1}\|^{2}",
)
quant_err = S.define(
    "quant_err",
    "nonneg",
    X**2,
    "FedPAQ Lemmas 1 and 6: E||xhat_{k+1} - xbar_{k,tau}||^2 (measured along a run)",
    r"\mathbb{E}\|\hat{x}_{k+1}-\bar{x}_{k,\tau}\|^{2}",
)
avg_end_err = S.define(
    "avg_end_err",
    "nonneg",
    X**2,
    "FedPAQ Lemma 1: E||xbar_{k,tau} - x*||^2 (measured along a run)",
    r"\mathbb{E}\|\bar{x}_{k,\tau}-x^{*}\|^{2}",
)
dist_next = S.define(
    "dist_next",
    "nonneg",
    X**2,
    "FedPAQ Lemma 1: E||x_{k+1} - x*||^2 (measured along a run)",
    r"\mathbb{E}\|x_{k+1}-x^{*}\|^{2}",
)
f_avg_end = S.define(
    "f_avg_end",
    "real",
    F,
    "FedPAQ Lemmas 6-7: E f(xbar_{k,tau}) (measured along a run, as a gap to a fixed reference)",
    r"\mathbb{E}f(\bar{x}_{k,\tau})",
)
f_start = S.define(
    "f_start",
    "real",
    F,
    "FedPAQ Lemma 7: E f(x_k), the server model at the start of period k (same reference)",
    r"\mathbb{E}f(x_{k})",
)
G_bar_sum = S.define(
    "G_bar_sum",
    "nonneg",
    GRAD2,
    "FedPAQ Lemma 7: sum_{t<tau} E||grad f(xbar_{k,t})||^2 over one period",
    r"\sum_{t}\mathbb{E}\|\nabla f(\bar{x}_{k,t})\|^{2}",
)
a_seq = S.define("a_seq", "positive", DIMENSIONLESS, "FedPAQ Lemma 5: constant a of (73)", "a")
b_seq = S.define("b_seq", "positive", DIMENSIONLESS, "FedPAQ Lemma 5: constant b of (73)", "b")
k1_seq = S.define("k1_seq", "positive", DIMENSIONLESS, "FedPAQ Lemma 5: shift k_1 of (73)", "k_1")
k0_seq = S.define(
    "k0_seq", "count", DIMENSIONLESS, "FedPAQ Lemma 5: first index k_0 of (73)", "k_0"
)
k_seq = S.define("k_seq", "count", DIMENSIONLESS, "FedPAQ Lemma 5: index k >= k_0", "k")
delta_k0 = S.define(
    "delta_k0",
    "nonneg",
    DIMENSIONLESS,
    "FedPAQ Lemma 5: the sequence's value delta_{k0} at k = k0",
    r"\delta_{k_0}",
)
SERVER_DIST_NEXT = Quantity(
    "fedpaq.dist_sq_next",
    "E||x_{k+1} - x*||^2",
    "squared distance to x* of the server model after period k (eq. (8)), in expectation over "
    "sampling, quantization and SGD noise",
    X**2,
)
DECOMP_SUM = Quantity(
    "fedpaq.decomposition_sum",
    "E||x_{k+1} - xhat_{k+1}||^2 + E||xhat_{k+1} - xbar_{k,tau}||^2 + E||xbar_{k,tau} - x*||^2",
    "the right-hand side of (21): the sum of the sampling error, the quantization error and the "
    "averaged model's error of period k (eq. (20)), in expectation",
    X**2,
)
SEQ_VALUE = Quantity(
    "fedpaq.sequence_value",
    "delta_k",
    "the value at index k of a non-negative sequence satisfying (73) for every k >= k_0",
    DIMENSIONLESS,
)
F_SERVER_NEXT = Quantity(
    "fedpaq.f_server_next",
    "E f(x_{k+1})",
    "f at the server model after period k, in expectation (measured as the gap f - f* or to a "
    "fixed reference: both sides shift alike)",
    F,
)
F_AVG_END = Quantity(
    "fedpaq.f_avg_end",
    "E f(xbar_{k,tau})",
    "f at the average over all n nodes of the local iterates at the end of period k (eq. (20)), in "
    "expectation (measured as a gap to a fixed reference)",
    F,
)
_L1_NOTE = (
    "An equality; encoded as two '<=' halves, fedpaq.lemma1 (E||x_{k+1} - x*||^2 <= sum) and "
    "fedpaq.lemma1_rev (sum <= E||x_{k+1} - x*||^2). On runs an exact equality can be refuted "
    "(a significant difference) but never shown to 'hold' statistically; "
    "`boundcheck derive fedpaq.lemma1_instance` decides it exactly on a small instance."
)
_L1_INDEP = (
    "The cross terms vanish because E_{S_k} x_{k+1} = xhat_{k+1} given the quantized updates (31) "
    "and E_Q xhat_{k+1} = xbar_{k,tau} given the local iterates (32): it needs xhat_{k+1} to "
    "quantize every node's update (inactive nodes virtually), with the same draws the r active "
    "nodes send, as eq. (20) and the implementation do."
)
LEMMA1 = Theorem(
    id="fedpaq.lemma1",
    paper=PAPER,
    source="FedPAQ Lemma 1, eq. (21)",
    title="Decomposition of the server's error ('<=' half)",
    statement="E||x_{k+1} - x*||^2 = E||x_{k+1} - xhat_{k+1}||^2 + E||xhat_{k+1} - xbar_{k,tau}||^2 "
    "+ E||xbar_{k,tau} - x*||^2 (the '<=' half).",
    lhs=SERVER_DIST_NEXT,
    direction=Direction.UPPER,
    bound=sampling_err + quant_err + avg_end_err,
    assumptions=(A1,),
    notes=(_L1_NOTE, _L1_INDEP),
    example={"sampling_err": 0.1, "quant_err": 0.1, "avg_end_err": 1.0},
)
LEMMA1_REV = Theorem(
    id="fedpaq.lemma1_rev",
    paper=PAPER,
    source="FedPAQ Lemma 1, eq. (21)",
    title="Decomposition of the server's error ('>=' half)",
    statement="E||x_{k+1} - xhat_{k+1}||^2 + E||xhat_{k+1} - xbar_{k,tau}||^2 + E||xbar_{k,tau} - "
    "x*||^2 <= E||x_{k+1} - x*||^2 (the '>=' half of (21)).",
    lhs=DECOMP_SUM,
    direction=Direction.UPPER,
    bound=dist_next,
    assumptions=(A1,),
    notes=(_L1_NOTE, _L1_INDEP),
    example={"dist_next": 1.0},
)
LEMMA5 = Theorem(
    id="fedpaq.lemma5",
    paper=PAPER,
    source="FedPAQ Lemma 5, eqs. (73)-(74)",
    title="Convergence of a sequence with a 1 - 2/(k + k1) contraction",
    statement="If delta_k >= 0 and delta_{k+1} <= (1 - 2/(k+k1)) delta_k + a/(k+k1)^2 + b/(k+k1)^4 "
    "for k >= k0, then delta_k <= (k0+k1)^2/(k+k1)^2 delta_k0 + a/(k+k1) + b/(k+k1)^2.",
    lhs=SEQ_VALUE,
    direction=Direction.UPPER,
    bound=(k0_seq + k1_seq) ** 2 / (k_seq + k1_seq) ** 2 * delta_k0
    + a_seq / (k_seq + k1_seq)
    + b_seq / (k_seq + k1_seq) ** 2,
    conditions=(
        Condition(
            "k_ge_k0",
            "FedPAQ Lemma 5 ('for every k >= k0')",
            sp.Ge(k_seq, k0_seq),
            ConditionKind.STATED,
            "the index range of the claim",
        ),
    ),
    notes=(
        "A statement about sequences, with no algorithm: decided by the audit. "
        "`boundcheck derive fedpaq.lemma5` refutes it as stated (k0 = 1, k1 = 1/2: the induction "
        "multiplies by 1 - 2/(k+k1) < 0); `fedpaq.lemma5_threshold` decides exactly where it holds "
        "(k0 + k1 >= (1 + sqrt 5)/2) and that Theorem 1's use (k1 = 1/tau, k0 >= 16) is inside.",
        "The statement lists 'a, b, c, k1 positive reals'; c does not occur (typo). The first line "
        "of (76) writes a/(s+k1) + b/(s+k1)^2 for the a/(s+k1)^2 + b/(s+k1)^4 of (73) (typo; the "
        "next line uses (73)).",
        "Dimensionless as printed (a, b, k1, delta_k are numbers; in Theorem 1 they carry [X]^2).",
    ),
    example={
        "k0_seq": 4,
        "k1_seq": 0.5,
        "k_seq": 10,
        "delta_k0": 1.0,
        "a_seq": 1.0,
        "b_seq": 1.0,
    },
)
LEMMA6 = Theorem(
    id="fedpaq.lemma6",
    paper=PAPER,
    source="FedPAQ Lemma 6, eq. (78) (proof (93)-(96))",
    title="Function value of the server model after one period",
    statement="E f(x_{k+1}) <= E f(xbar_{k,tau}) + L/2 E||xhat_{k+1} - xbar_{k,tau}||^2 + L/2 "
    "E||xhat_{k+1} - x_{k+1}||^2.",
    lhs=F_SERVER_NEXT,
    direction=Direction.UPPER,
    bound=f_avg_end + L / 2 * quant_err + L / 2 * sampling_err,
    assumptions=(A1, A2),
    notes=(
        "Assumption 2 makes every sample loss, hence f, L-smooth; the proof uses the descent "
        "inequality (93) twice and the unbiasedness (31)-(32) to drop the inner products.",
        "Wording slip in (95): 'xhat_{k+1} is unbiased for x_{k+1}, E_S xhat_{k+1} = x_{k+1}' "
        "reverses (31) (E_S x_{k+1} = xhat_{k+1}); the step needs (31) as printed there.",
        "On quadratics f = L/2||x - x*||^2 + c both inequalities (94), (96) are equalities: "
        "`boundcheck derive fedpaq.lemma6_instance` shows equality on an exact instance.",
        "Measured with f - f* on both sides (f* cancels); E f(xbar_{k,tau}) and the two errors "
        "are parameters (f_avg_end, quant_err, sampling_err).",
        _L1_INDEP,
    ),
    example={"f_avg_end": 1.0, "L": 2.0, "quant_err": 0.1, "sampling_err": 0.1},
)
LEMMA7 = Theorem(
    id="fedpaq.lemma7",
    paper=PAPER,
    source="FedPAQ Lemma 7, eq. (79) (proof (97)-(108))",
    title="Descent of the averaged model over one period (non-convex)",
    statement="E f(xbar_{k,tau}) <= E f(x_k) - eta/2 sum_t E||grad f(xbar_{k,t})||^2 - eta (1/(2n) - "
    "L eta/(2n) - L^2 tau(tau-1) eta^2/n) sum_t sum_i E||grad f(x_{k,t}^(i))||^2 + eta^2 L/2 "
    "sigma^2/n tau + eta^3 sigma^2/n (n+1) tau(tau-1)/2 L^2.",
    lhs=F_AVG_END,
    direction=Direction.UPPER,
    bound=f_start
    - eta / 2 * G_bar_sum
    - eta * (1 / (2 * n) - L * eta / (2 * n) - L**2 * tau * (tau - 1) * eta**2 / n) * G_sum
    + eta**2 * L / 2 * sigma**2 / n * tau
    + eta**3 * sigma**2 / n * (n + 1) * tau * (tau - 1) / 2 * L**2,
    assumptions=(A2, A3, A_HOMOGENEOUS),
    notes=(
        "Every node i in [n] runs the local recursion (inactive nodes virtually, eq. (20)); the "
        "sums are over all n nodes. (99) uses E grad~f_i(x) = grad f(x) at every node: the "
        "homogeneous reading of Assumption 3 (A_HOMOGENEOUS).",
        "(102) writes x_{k tau} for the period's start x_k and (110) grad f(x_{k,tau}) for "
        "grad f(x_k) (typos).",
        "The algebra from (98), (99), (105), (107) to (108) is decided by `boundcheck derive "
        "fedpaq.lemma7_assembly`.",
        "The expectations are parameters: f_start = E f(x_k), G_bar_sum = sum_t "
        "E||grad f(xbar_{k,t})||^2, G_sum = sum_t sum_i E||grad f(x_{k,t}^(i))||^2.",
    ),
    example={
        "f_start": 1.0,
        "eta": 0.01,
        "G_bar_sum": 1.0,
        "n": 10,
        "L": 2.0,
        "tau": 4,
        "G_sum": 10.0,
        "sigma": 1.0,
    },
)

THEOREMS: list[Theorem] = [
    THM1,
    REMARK1,
    REMARK2,
    THM2,
    REMARK3,
    REMARK3_TAU_SQRT_T,
    REMARK4,
    LEMMA1,
    LEMMA1_REV,
    LEMMA2,
    LEMMA3,
    LEMMA4,
    LEMMA5,
    LEMMA6,
    LEMMA7,
    LEMMA8,
    LEMMA9,
]

__all__ = [
    "A1",
    "A2",
    "A3",
    "A4",
    "AVG_GRAD_SQ_NODE_MEAN",
    "A_HOMOGENEOUS",
    "C0_DEF",
    "DIST_SQ_SERVER",
    "N1_PROOF",
    "REMARK1",
    "REMARK2",
    "REMARK3",
    "REMARK3_TAU_SQRT_T",
    "REMARK4",
    "TAU_MAX_91",
    "THEOREMS",
    "THM1",
    "THM2",
    "k0_smallest",
]
