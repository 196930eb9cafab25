"""AsyncBC: Gao, Takezawa, Stich, *A Bias Correction Mechanism for Distributed Asynchronous
Optimization* (TMLR) -- the paper's statements encoded exactly as published.

Encoded (ids ``asyncbc.*``):

* Assumptions 1-5 (module constants ``A1`` ... ``A5``), Fact 1 (``asyncbc.fact1``);
* Lemma 1, eq. (5): the virtual-iterate error (``lemma1``) and virtual-momentum error
  (``lemma1_m``) of AsyncBC-GD; Lemma 5, eq. (10): the same for AsyncBC-SGD (``lemma5``,
  ``lemma5_m``);
* Lemma 2, eq. (7): the two error identities as 'squared residual <= 0' (``lemma2_m``,
  ``lemma2_x``); Lemma 3, eq. (8): the descent of the virtual gap (``lemma3``); Lemmas 4 and 6;
* Theorem 1 (AsyncBC-GD): the explicit bound of its proof at the stated stepsize (``thm1``), the
  proof's bound ``2 F0 / (eta T)`` for any stepsize meeting the proof's conditions (``thm1_eta``),
  and the ``O(.)`` statement (``thm1_order``); the same three for Theorem 2 (AsyncBC-SGD);
* Theorem 3 (SARAH / AsyncBC-SGD with independent noise): the lower bound
  ``E||x_T||^2 >= sigma^2 floor(T/2) / 25`` for ``1/(2T) <= eta <= 1`` (``thm3``), the exact
  variance bound it is derived from (``thm3_var``), and the ``eta <= 1/(2T)`` branch
  ``||x_T||^2 >= ||x_0||^2 / 2`` of the noiseless homogeneous instance (``thm3_small_eta``);
* Table 1 rates (order claims): Async-GD (Koloskova et al. 2022), AsGrad (Islamov et al. 2023) and
  AsyncBC-GD, in terms of ``L_max``.

Dimensions follow the algorithm's update equations: ``x_{t+1} = x_t - eta m_t`` where ``m_t`` is a
sum of gradient differences, so ``eta`` is a stepsize ``[X]^2/[F]``; ``delta_H`` and ``ell``
(Assumptions 2 and 5) bound gradient differences by distances, so they are ``[F]/[X]^2`` like ``L``.

Everything doubtful is in each theorem's ``notes``; the findings, in short:

* Theorem 1: the stated stepsize does not satisfy the proof's condition
  ``eta <= 1/(10 delta_H sqrt(T))`` when ``100 delta_H^2 > 144 L (delta_H + L) tau_max`` and ``T``
  is large (e.g. the paper's own footnote-1 instance); "by Fact 1" does not bridge it, so the
  ``O(.)`` rate drops a ``delta_H F0 / sqrt(T)`` term the proof needs;
* both proofs assume ``eta <= L/4``: dimensionally inconsistent (``1/(4L)`` is what the step
  needs);
* Theorem 3: ``||x_T||^2 = (1-eta)^T ||x_0||^2`` should have exponent ``2T``; with it the branch
  bound ``||x_0||^2 / 2`` is false at ``eta = 1/(2T)`` for every ``T`` (true value
  ``(1 - 1/(2T))^(2T) ||x_0||^2 < ||x_0||^2 / 2``); "``(1-eta)^(T-s) <= 5/4``" is a typo for 4/5.
"""

from __future__ import annotations

import math
from dataclasses import replace

import sympy as sp

from boundcheck.dims import DIMENSIONLESS, GRAD, GRAD2, SMOOTH, F, X
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

PAPER = "AsyncBC"

# --- symbols --------------------------------------------------------------------------------------
L, T, F0, D0 = S.L, S.T, S.F0, S.D0
eta, sigma, zeta = S.eta, S.sigma, S.zeta
tau_C, tau_max = S.tau_C, S.tau_max

delta_H = S.define(
    "delta_H",
    "positive",
    SMOOTH,
    "Hessian dissimilarity (AsyncBC Assumption 2): ||grad f(x) - grad f(y) - (grad f_i(x) - "
    "grad f_i(y))|| <= delta_H ||x - y|| for every client i",
    r"\delta_{H}",
)
ell = S.define(
    "ell",
    "positive",
    SMOOTH,
    "mean-squared smoothness (AsyncBC Assumption 5): E_xi||grad f_i(x, xi) - grad f_i(y, xi)||^2 "
    "<= ell^2 ||x - y||^2",
    r"\ell",
)
L_max = S.define(
    "L_max",
    "positive",
    SMOOTH,
    "largest smoothness constant of the local functions, max_i L_i",
    r"L_{\max}",
)
G_bg = S.define(
    "G_bg",
    "nonneg",
    GRAD,
    "bounded gradients (AsyncBC Table 1, BG): ||grad f_i(x)||^2 <= G_bg^2 for every i "
    "(a bound on the norm, not on the squared norm)",
    r"G",
)
t_idx = S.define(
    "t_idx",
    "count",
    DIMENSIONLESS,
    "iteration index t at which a per-iterate bound (AsyncBC Lemmas 1 and 5) is evaluated",
    r"t",
)
sum_m2_active = S.define(
    "sum_m2_active",
    "nonneg",
    GRAD2,
    "sum over the active worker-timestamp pairs (k, i) in C_t of ||m_{i-1}||^2 (AsyncBC Lemmas 1 "
    "and 5; its expectation in Lemma 5)",
    r"\sum_{(k,i)\in\mathcal{C}_t}\|\mathbf{m}_{i-1}\|^{2}",
)
sum_m2_past = S.define(
    "sum_m2_past",
    "nonneg",
    GRAD2,
    "sum_{i=1}^{t-1} ||m_{i-1}||^2, the squared server momenta m_0 .. m_{t-2} (AsyncBC Lemmas 1 "
    "and 5; its expectation in Lemma 5)",
    r"\sum_{i=1}^{t-1}\|\mathbf{m}_{i-1}\|^{2}",
)
# the summation index of Theorem 3's variance sum (a bound variable, not a parameter)
s = sp.Symbol("s", integer=True, positive=True)

# --- measured quantities --------------------------------------------------------------------------
GRAD_AVG = Quantity(
    "asyncbc.avg_grad_sq",
    "1/T sum_{t=0}^{T-1} E||grad f(x_t)||^2",
    "x_0, ..., x_{T-1}: the server's parameter iterates of AsyncBC (Algorithm 1, AsyncBC-GD, for "
    "Theorem 1; Algorithm 2, AsyncBC-SGD, for Theorem 2; the Async-GD baseline for its Table 1 "
    "row); uniform average over t. For AsyncBC these rows take m_0 = grad f(x_0) and T - 1 "
    "received messages (steps t = 1..T-1; the proofs sum over m_0..m_{T-1}, x_T is not used); "
    "for the Async-GD baseline T messages (x_1..x_T, of which x_T is not averaged). E over the "
    "uniform client sampling, the delays' randomness and (Algorithm 2) the stochastic oracle",
    GRAD2,
)
ITER_ERR = Quantity(
    "asyncbc.iter_err",
    "||x_t - x~_t||^2",
    "squared distance at iteration t between the server iterate x_t of Algorithm 1 and the "
    "virtual iterate x~_t of eq. (3) (x~_0 = x_0, x~_1 = x_1, x~_{t+1} = x~_t - eta m~_t); "
    "pathwise, for every realisation of sampling and delays (no expectation)",
    X**2,
)
MOM_ERR = Quantity(
    "asyncbc.mom_err",
    "||m_t - m~_t||^2",
    "squared distance at iteration t between the server momentum m_t of Algorithm 1 and the "
    "virtual momentum m~_t of eq. (4) (m~_0 = m_0, m~_t = m~_{t-1} + g_t^{k_t}); pathwise",
    GRAD2,
)
ITER_ERR_E = Quantity(
    "asyncbc.iter_err_sgd",
    "E||x_t - x~_t||^2",
    "as asyncbc.iter_err, for Algorithm 2 (AsyncBC-SGD), in expectation over sampling, delays "
    "and the stochastic oracle",
    X**2,
)
MOM_ERR_E = Quantity(
    "asyncbc.mom_err_sgd",
    "E||m_t - m~_t||^2",
    "as asyncbc.mom_err, for Algorithm 2 (AsyncBC-SGD), in expectation",
    GRAD2,
)
XT_SQ = Quantity(
    "asyncbc.xT_sq",
    "E||x_T||^2",
    "squared norm of the T-th server iterate of Algorithm 2 with concurrency 1 (= stochastic "
    "SARAH) on f_i(x) = ||x + b_i||^2 / 2 with oracle g_t = grad f_i(x_t) - grad f_i(x_{t-1}) + "
    "xi_t; E over the noise xi_t (and the client sampling)",
    X**2,
)
DELTA_MIN = Quantity(
    "asyncbc.delta_min",
    "delta_H*",
    "the smallest delta for which Assumption 2 holds: sup over i, x != y of ||grad f(x) - "
    "grad f(y) - (grad f_i(x) - grad f_i(y))|| / ||x - y||",
    SMOOTH,
)

# --- assumptions ----------------------------------------------------------------------------------
A1 = Assumption(
    "asyncbc.A1",
    "AsyncBC Assumption 1",
    "f = (1/n) sum_i f_i is L-smooth: ||grad f(x) - grad f(y)|| <= L ||x - y||",
)
A2 = Assumption(
    "asyncbc.A2",
    "AsyncBC Assumption 2",
    "Hessian dissimilarity: ||grad f(x) - grad f(y) - (grad f_i(x) - grad f_i(y))|| <= delta_H "
    "||x - y|| for all i, x, y (printed with a strict '<', read as '<=')",
)
A3 = Assumption(
    "asyncbc.A3",
    "AsyncBC Assumption 3",
    "bounded staleness: a message received at server time t was computed at time t - tau_t >= "
    "t - tau_max",
)
A4 = Assumption(
    "asyncbc.A4",
    "AsyncBC Assumption 4",
    "unbiased stochastic gradients: E[grad f_i(x, xi)] = grad f_i(x)",
)
A5 = Assumption(
    "asyncbc.A5",
    "AsyncBC Assumption 5",
    "ell-mean-squared smoothness: E_xi||grad f_i(x, xi) - grad f_i(y, xi)||^2 <= ell^2 ||x - y||^2,"
    " and the oracle is called at (x_{t+1}, x_t) with the same randomness xi_{t+1}",
)
A_LI = Assumption(
    "asyncbc.Li_smooth",
    "AsyncBC Fact 1",
    "each local function f_i is L_i-smooth; L_max := max_i L_i",
)
A_BGD = Assumption(
    "asyncbc.BGD",
    "AsyncBC Table 1 (b); Section 3",
    "bounded gradient dissimilarity: ||grad f_i(x) - grad f_j(x)||^2 <= zeta^2 (Table 1) or "
    "||grad f_i(x) - grad f(x)||^2 <= zeta^2 (Section 3)",
)
A_BG = Assumption(
    "asyncbc.BG",
    "AsyncBC Table 1 (a)",
    "bounded gradients: ||grad f_i(x)||^2 <= G^2 for all i",
)
A_T3 = Assumption(
    "asyncbc.thm3_instance",
    "AsyncBC Theorem 3",
    "concurrency tau_C = 1; f_i(x) = ||x + b_i||^2 / 2; x_0 not stationary; each client output is "
    "g_t = grad f_i(x_t) - grad f_i(x_{t-1}) + xi_t with independent xi_t ~ N(0, sigma I), read as "
    "E xi_t = 0, E||xi_t||^2 = sigma^2",
)

#: the hypotheses of Theorem 1 (AsyncBC-GD) and of Theorem 2 (AsyncBC-SGD), Assumption 3 included
ASSUMPTIONS_THM1 = (A1, A2, A3)
ASSUMPTIONS_THM2 = (A1, A3, A4, A5)

# --- shared pieces of Theorems 1 and 2 ------------------------------------------------------------
_THM1_A = 1 / (6 * (delta_H + L) * sp.sqrt(tau_C * tau_max))
_THM1_B = 1 / (12 * sp.sqrt(L * (delta_H + L) * tau_max * T))
ETA_THM1 = sp.Min(_THM1_A, _THM1_B)
"""Theorem 1's stated stepsize: min{1/(6(delta+L) sqrt(tau_C tau_max)), 1/(12 sqrt(L(delta+L) tau_max T))}."""

_THM2_A = 1 / (ell * sp.sqrt(6 * tau_C * tau_max))
_THM2_B = 1 / (10 * ell * sp.sqrt(T))
_THM2_C = 1 / (2 * sp.sqrt(2 * L * ell * tau_max * (T - 1)))
ETA_THM2 = sp.Min(_THM2_A, _THM2_B, _THM2_C)
"""Theorem 2's stated stepsize: min{1/(ell sqrt(6 tau_C tau_max)), 1/(10 ell sqrt T), 1/(2 sqrt(2 L ell tau_max (T-1)))}."""

_SRC1 = "AsyncBC Theorem 1, proof (Appendix A)"
_SRC2 = "AsyncBC Theorem 2, proof (Appendix B)"

_ETA_L4_NOTE = (
    "Both proofs say 'Assume that eta <= L/4' (encoded as printed, condition proof_eta_L4). It is "
    "dimensionally inconsistent (eta is [X]^2/[F], L is [F]/[X]^2) and it is not what the step "
    "needs: replacing eta/4 - L eta^2/2 by eta/8 needs eta <= 1/(4L). Theorem 1's stated stepsize "
    "implies eta <= 1/(6L) < 1/(4L); Theorem 2's implies eta <= 1/(10 ell) <= 1/(10 L) when "
    "L <= ell (which Assumption 5 gives by Jensen for the best L). Neither implies eta <= L/4 "
    "(take L small)."
)
_TAU0_NOTE = (
    "Reading: tau_max >= 1. Assumption 3 allows tau_max = 0 (and with tau_C = 1 Algorithm 1 has "
    "tau_t = 0), where the stated stepsize is 1/0 and the explicit bound is 0, which cannot hold "
    "(the left side is at least ||grad f(x_0)||^2 / T). The proof's count 'each m_{i-1} appears at "
    "most tau_max times in A' already assumes every message counts as delayed at least once."
)
_ASSUMPTION3_NOTE = (
    "The statement lists Assumptions {listed} only; the bound and the proof use tau_max, i.e. "
    "Assumption 3, which is included in `assumptions` here."
)


def _proof_conditions(
    src: str, eta_a: sp.Expr, eta_b: sp.Expr, eta_c: sp.Expr, corollary: int, lemma: int
) -> tuple[Condition, ...]:
    """The stepsize conditions of the proofs of Theorems 1 and 2 (Appendices A and B).

    Both proofs assume 'eta <= L/4' and bound the terms A, B, C by eta/16 sum E||m_t||^2 under
    ``eta <= eta_a, eta_b, eta_c``; B uses Corollary ``corollary``, C Lemma ``lemma``.
    """
    abc = src + ", condition before 'A + B + C <= eta/16 sum E||m_t||^2'"
    return (
        Condition(
            "proof_eta_L4",
            src + ", 'Assume that eta <= L/4'",
            sp.Le(eta, L / 4),
            ConditionKind.PROOF,
            "as printed; dimensionally inconsistent, 1/(4L) intended",
        ),
        Condition(
            "proof_eta_A",
            abc,
            sp.Le(eta, eta_a),
            ConditionKind.PROOF,
            "controls the term A (delayed momenta of the active workers)",
        ),
        Condition(
            "proof_eta_B",
            abc,
            sp.Le(eta, eta_b),
            ConditionKind.PROOF,
            f"controls the term B (gradient error of the virtual momentum, Corollary {corollary})",
        ),
        Condition(
            "proof_eta_C",
            abc,
            sp.Le(eta, eta_c),
            ConditionKind.PROOF,
            f"controls the term C (virtual-iterate error, Lemma {lemma})",
        ),
    )


#: Theorem 1's proof: only A is a term of the stated stepsize (B and C: see _THM1_STEP_NOTE)
THM1_PROOF_CONDITIONS = _proof_conditions(
    _SRC1,
    _THM1_A,
    1 / (10 * delta_H * sp.sqrt(T)),
    1 / (8 * sp.sqrt(L * (delta_H + L) * tau_max * (T - 1))),
    corollary=2,
    lemma=1,
)
#: Theorem 2's proof: its three conditions are exactly the three terms of the stated stepsize
THM2_PROOF_CONDITIONS = _proof_conditions(_SRC2, _THM2_A, _THM2_B, _THM2_C, corollary=4, lemma=5)


def _stated_eta1(v: dict[str, float]) -> float:
    """Theorem 1's stepsize at the parameter values ``v`` (plain floats)."""
    a = 1 / (6 * (v["delta_H"] + v["L"]) * math.sqrt(v["tau_C"] * v["tau_max"]))
    b = 1 / (12 * math.sqrt(v["L"] * (v["delta_H"] + v["L"]) * v["tau_max"] * v["T"]))
    return min(a, b)


def _stated_eta2(v: dict[str, float]) -> float:
    """Theorem 2's stepsize at the parameter values ``v`` (plain floats)."""
    a = 1 / (v["ell"] * math.sqrt(6 * v["tau_C"] * v["tau_max"]))
    b = 1 / (10 * v["ell"] * math.sqrt(v["T"]))
    c = 1 / (2 * math.sqrt(2 * v["L"] * v["ell"] * v["tau_max"] * (v["T"] - 1)))
    return min(a, b, c)


_EX1 = {"L": 1.0, "delta_H": 1.0, "tau_C": 4.0, "tau_max": 4.0, "T": 10_000.0, "F0": 1.0}
_EX2 = {"L": 1.0, "ell": 2.0, "tau_C": 4.0, "tau_max": 4.0, "T": 10_000.0, "F0": 1.0}

# --- Fact 1 ---------------------------------------------------------------------------------------
FACT1 = Theorem(
    id="asyncbc.fact1",
    paper=PAPER,
    source="AsyncBC Fact 1 (Section 2)",
    title="Smooth local functions satisfy Hessian dissimilarity",
    statement="If each f_i is L_i-smooth, Assumption 2 holds with some 0 <= delta <= L + L_i.",
    lhs=DELTA_MIN,
    direction=Direction.UPPER,
    bound=L + L_max,
    assumptions=(A1, A_LI),
    notes=(
        "Assumption 2 needs one delta for all clients, so the per-client bound L + L_i is encoded "
        "through L_max = max_i L_i: delta_H* <= L + L_max (the text's chain "
        "0 <= delta <= L + L_max <= 2 L_max).",
        "Fact 1 gives 0 <= delta, Assumption 2 asks for delta > 0; delta_H is declared positive "
        "(Assumption 2), and delta_H = 0 (identical local functions) is the limit case.",
        "Footnote 1's instance f_n = a||x||^2/2, f_i = 0 otherwise has L = a/n, L_max = a and "
        "delta_H* = a(n-1)/n, i.e. delta_H / L = n - 1: Assumption 2 does not bound delta_H by a "
        "multiple of L.",
    ),
    example={"L": 1.0, "L_max": 4.0},
)

# --- Lemma 1 and Lemma 5 --------------------------------------------------------------------------
_LEMMA12_T_NOTE = (
    "The intermediate lines of the proof write (tau_C - 1)^2 where the Cauchy-Schwarz step gives "
    "(tau_C - 1); the next step (... <= (tau_1^{k,t-1})^2 / tau_C) needs (tau_C - 1)/tau_C^2 <= "
    "1/tau_C, true, whereas (tau_C - 1)^2/tau_C^2 <= 1/tau_C fails for tau_C >= 3. Reading: a typo; "
    "the lemma's final statement is consistent with (tau_C - 1)."
)
_EQ4_NOTE = (
    "Equation (4) (the virtual momentum) is missing from the text; from Lemma 2's proof it is read "
    "as m~_0 = m_0, m~_1 = m_0 + sum over the tau_C initial tasks of g_1^k, and "
    "m~_t = m~_{t-1} + g_t^{k_t} for t >= 2 (the gradient difference assigned at time t)."
)
_CT_NOTE = (
    "Audit (`boundcheck derive asyncbc.active_sets`): the active sets are printed C_{t+1} := C_t \\ {(j_{t+1}, t+1-tau_{t+1})} "
    "U {(k_{t+1}, t+1)}; read left to right, a task with staleness 0 is removed before it is "
    "added and stays in C forever (with tau_C = 1, C_2 = {(k_2, 2)} although m_t = m~_t for "
    "SARAH). Lemma 2's identity m_t - m~_t = -sum_{C_t} g needs the union first: "
    "C_{t+1} = (C_t U {(k_{t+1}, t+1)}) \\ {(j_{t+1}, t+1-tau_{t+1})}, i.e. a task of version v "
    "received at step r is in C_v..C_{r-1}, counted r - v = its staleness times (checked on runs "
    "of Algorithm 1 in tests/algorithms/test_asyncbc_algo.py)."
)
_SUMS_NOTE = (
    "The trajectory sums are parameters: sum_m2_active = sum_{(k,i) in C_t} ||m_{i-1}||^2 and "
    "sum_m2_past = sum_{i=1}^{t-1} ||m_{i-1}||^2 (measured along a run)."
)

LEMMA1 = Theorem(
    id="asyncbc.lemma1",
    paper=PAPER,
    source="AsyncBC Lemma 1, eq. (5), second line",
    title="AsyncBC-GD: virtual-iterate error",
    statement="||x_t - x~_t||^2 <= 2 eta^4 (t-1) (delta^2 + L^2) tau_max^2 sum_{i=1}^{t-1} ||m_{i-1}||^2.",
    lhs=ITER_ERR,
    direction=Direction.UPPER,
    bound=2 * eta**4 * (t_idx - 1) * (delta_H**2 + L**2) * tau_max**2 * sum_m2_past,
    conditions=(
        Condition(
            "t_ge_2",
            "AsyncBC Lemma 2, eq. (7) and the proof of Lemma 1 ('for all t >= 2')",
            sp.Ge(t_idx, 2),
            ConditionKind.PROOF,
            "range of t in the proof (at t = 1 both sides are 0)",
        ),
    ),
    assumptions=(A1, A2, A3),
    notes=(
        "Pathwise bound (no expectation), for Algorithm 1.",
        _ASSUMPTION3_NOTE.format(listed="1 and 2"),
        _EQ4_NOTE,
        _CT_NOTE,
        _LEMMA12_T_NOTE,
        _SUMS_NOTE,
    ),
    example={
        "eta": 0.01,
        "t_idx": 10.0,
        "delta_H": 1.0,
        "L": 1.0,
        "tau_max": 4.0,
        "sum_m2_past": 5.0,
    },
)

LEMMA1_M = Theorem(
    id="asyncbc.lemma1_m",
    paper=PAPER,
    source="AsyncBC Lemma 1, eq. (5), first line",
    title="AsyncBC-GD: virtual-momentum error",
    statement="||m_t - m~_t||^2 <= 2 eta^2 tau_C (delta^2 + L^2) sum_{(k,i) in C_t} ||m_{i-1}||^2.",
    lhs=MOM_ERR,
    direction=Direction.UPPER,
    bound=2 * eta**2 * tau_C * (delta_H**2 + L**2) * sum_m2_active,
    assumptions=(A1, A2),
    notes=(
        "Pathwise bound (no expectation), for Algorithm 1, for all t >= 1 (proof).",
        _EQ4_NOTE,
        _CT_NOTE,
        _SUMS_NOTE,
    ),
    example={"eta": 0.01, "tau_C": 4.0, "delta_H": 1.0, "L": 1.0, "sum_m2_active": 3.0},
)

LEMMA5 = Theorem(
    id="asyncbc.lemma5",
    paper=PAPER,
    source="AsyncBC Lemma 5, eq. (10), second line",
    title="AsyncBC-SGD: virtual-iterate error",
    statement="E||x_t - x~_t||^2 <= eta^4 (t-1) ell^2 tau_max^2 sum_{i=1}^{t-1} E||m_{i-1}||^2.",
    lhs=ITER_ERR_E,
    direction=Direction.UPPER,
    bound=eta**4 * (t_idx - 1) * ell**2 * tau_max**2 * sum_m2_past,
    conditions=(
        Condition(
            "t_ge_2",
            "AsyncBC Lemma 5, proof ('for all t >= 2')",
            sp.Ge(t_idx, 2),
            ConditionKind.PROOF,
            "range of t in the proof (at t = 1 both sides are 0)",
        ),
    ),
    assumptions=(A3, A4, A5),
    notes=(
        "In expectation, for Algorithm 2; sum_m2_past stands for sum_{i=1}^{t-1} E||m_{i-1}||^2.",
        _ASSUMPTION3_NOTE.format(listed="4 and 5"),
        "Compared with Lemma 1 the factor 2 is gone: Assumption 5 bounds the gradient difference "
        "directly (E||g_t^k||^2 <= ell^2 E||x_t - x_{t-1}||^2) instead of via Young's inequality.",
        _LEMMA12_T_NOTE,
    ),
    example={"eta": 0.01, "t_idx": 10.0, "ell": 2.0, "tau_max": 4.0, "sum_m2_past": 5.0},
)

LEMMA5_M = Theorem(
    id="asyncbc.lemma5_m",
    paper=PAPER,
    source="AsyncBC Lemma 5, eq. (10), first line",
    title="AsyncBC-SGD: virtual-momentum error",
    statement="E||m_t - m~_t||^2 <= eta^2 tau_C ell^2 sum_{(k,i) in C_t} E||m_{i-1}||^2.",
    lhs=MOM_ERR_E,
    direction=Direction.UPPER,
    bound=eta**2 * tau_C * ell**2 * sum_m2_active,
    assumptions=(A4, A5),
    notes=(
        "In expectation, for Algorithm 2, for all t >= 1; sum_m2_active stands for the expectation "
        "of the sum (the last line of the printed proof drops the E).",
    ),
    example={"eta": 0.01, "tau_C": 4.0, "ell": 2.0, "sum_m2_active": 3.0},
)

# --- Lemmas 4 and 6: the gradient error of the virtual momentum --------------------------------------
grad_err_prev = S.define(
    "grad_err_prev",
    "nonneg",
    GRAD2,
    "E||grad f(x_{t-1}) - m~_{t-1}||^2, the previous gradient error of the virtual momentum "
    "(AsyncBC Lemmas 4 and 6; measured along a run)",
    r"\mathbb{E}\|\nabla f(\mathbf{x}_{t-1})-\tilde{\mathbf{m}}_{t-1}\|^{2}",
)
m2_prev = S.define(
    "m2_prev",
    "nonneg",
    GRAD2,
    "E||m_{t-1}||^2, the previous server momentum's squared norm (AsyncBC Lemmas 4 and 6)",
    r"\mathbb{E}\|\mathbf{m}_{t-1}\|^{2}",
)
GRAD_ERR_VIRTUAL = Quantity(
    "asyncbc.grad_err_virtual",
    "E||grad f(x_t) - m~_t||^2",
    "squared distance at iteration t between the full gradient at the server iterate x_t and the "
    "virtual momentum m~_t of eq. (4), in expectation over the client sampling (and, for "
    "Algorithm 2, the oracle)",
    GRAD2,
)
_L46_NOTE = (
    "A one-step recursion: the right side uses the previous error and E||m_{t-1}||^2 of the same "
    "run (parameters grad_err_prev and m2_prev). The cross term vanishes because k_t (and xi_t) "
    "is drawn after x_t = x_{t-1} - eta m_{t-1} is fixed; checked exactly on a two-client "
    "quadratic instance by `boundcheck derive asyncbc.lemma4_instance` / `asyncbc.lemma6_instance`."
)
LEMMA4 = Theorem(
    id="asyncbc.lemma4",
    paper=PAPER,
    source="AsyncBC Lemma 4, eq. (9)",
    title="AsyncBC-GD: gradient error of the virtual momentum, one step",
    statement="E||grad f(x_t) - m~_t||^2 <= E||grad f(x_{t-1}) - m~_{t-1}||^2 + eta^2 delta^2 "
    "E||m_{t-1}||^2 for all t >= 1.",
    lhs=GRAD_ERR_VIRTUAL,
    direction=Direction.UPPER,
    bound=grad_err_prev + eta**2 * delta_H**2 * m2_prev,
    assumptions=(A2,),
    notes=(_L46_NOTE, "Algorithm 1 samples k_t uniformly at random; the proof relies on it."),
    example={"grad_err_prev": 1.0, "eta": 0.01, "delta_H": 1.0, "m2_prev": 2.0},
)
LEMMA6 = Theorem(
    id="asyncbc.lemma6",
    paper=PAPER,
    source="AsyncBC Lemma 6, eq. (11)",
    title="AsyncBC-SGD: gradient error of the virtual momentum, one step",
    statement="E||grad f(x_t) - m~_t||^2 <= E||grad f(x_{t-1}) - m~_{t-1}||^2 + eta^2 ell^2 "
    "E||m_{t-1}||^2 for all t >= 1.",
    lhs=GRAD_ERR_VIRTUAL,
    direction=Direction.UPPER,
    bound=grad_err_prev + eta**2 * ell**2 * m2_prev,
    assumptions=(A4, A5),
    notes=(_L46_NOTE,),
    example={"grad_err_prev": 1.0, "eta": 0.01, "ell": 2.0, "m2_prev": 2.0},
)

# --- Lemma 2 (the error identities) and Lemma 3 (the descent of the virtual gap) ----------------------
F_tilde_t = S.define(
    "F_tilde_t",
    "nonneg",
    F,
    "AsyncBC eq. (6): F~_t = E[f(x~_t) - f*], the virtual optimality gap at iteration t "
    "(Lemma 3's right-hand side; measured along a run)",
    r"\widetilde{F}_{t}",
)
gn2_t = S.define(
    "gn2_t",
    "nonneg",
    GRAD2,
    "E||grad f(x_t)||^2 at the server iterate x_t (AsyncBC Lemma 3; measured along a run)",
    r"\mathbb{E}\|\nabla f(\mathbf{x}_{t})\|^{2}",
)
mt2_t = S.define(
    "mt2_t",
    "nonneg",
    GRAD2,
    "E||m~_t||^2, the virtual momentum's squared norm (AsyncBC Lemma 3; measured along a run)",
    r"\mathbb{E}\|\widetilde{\mathbf{m}}_{t}\|^{2}",
)
gerr_t = S.define(
    "gerr_t",
    "nonneg",
    GRAD2,
    "E||grad f(x_t) - m~_t||^2 (AsyncBC Lemma 3; measured along a run)",
    r"\mathbb{E}\|\nabla f(\mathbf{x}_{t})-\widetilde{\mathbf{m}}_{t}\|^{2}",
)
xerr_t = S.define(
    "xerr_t",
    "nonneg",
    X**2,
    "E||x~_t - x_t||^2 (AsyncBC Lemma 3; measured along a run)",
    r"\mathbb{E}\|\widetilde{\mathbf{x}}_{t}-\mathbf{x}_{t}\|^{2}",
)
MOM_ID_RESIDUAL = Quantity(
    "asyncbc.mom_identity_residual",
    "||(m_t - m~_t) + sum_{(k,i) in C_t} g_i^k||^2",
    "squared norm of the difference between the two sides of Lemma 2's first identity at "
    "iteration t >= 1, with m_t from Algorithm 1, m~_t from its own recursion eq. (4) (m~_0 = m_0, "
    "m~_1 = m_0 + sum of the tau_C initial g_1^k, m~_t = m~_{t-1} + g_t^{k_t}) and C_t the tasks "
    "handed out and not yet received at t (union-first reading); pathwise",
    GRAD2,
)
ITER_ID_RESIDUAL = Quantity(
    "asyncbc.iter_identity_residual",
    "||(x_t - x~_t) - eta (sum_{i=2}^{t-1} tau_i^{t-1} g_i^{k_i} + sum_{(k,1) in C_1} "
    "tau_1^{k,t-1} g_1^k)||^2",
    "squared norm of the difference between the two sides of Lemma 2's second identity at "
    "iteration t >= 2, with x~_t from its own recursion eq. (3) (x~_1 = x_1, x~_{t+1} = x~_t - "
    "eta m~_t) and tau_i^{t-1} the number of s in 1..t-1 at which task i is in C_s; pathwise",
    X**2,
)
VIRTUAL_GAP_NEXT = Quantity(
    "asyncbc.virtual_gap_next",
    "F~_{t+1} = E[f(x~_{t+1}) - f*]",
    "the virtual optimality gap eq. (6) at iteration t+1: f at the virtual iterate x~_{t+1} = "
    "x~_t - eta m~_t (eq. (3)) minus f*, in expectation over sampling and delays",
    F,
)
_LEMMA2_READ = (
    "Lemma 2 is an exact identity, encoded as 'squared residual <= 0': the measured left-hand side "
    "is the squared norm of (left side - right side), checked on every replica and step against a "
    "rounding allowance. The virtual sequences are computed from their own recursions (3)-(4), "
    "not from Lemma 2 (which the bindings of Lemmas 1 and 5 use to rebuild them), so the check is "
    "not circular."
)
LEMMA2_M = Theorem(
    id="asyncbc.lemma2_m",
    paper=PAPER,
    source="AsyncBC Lemma 2, eq. (7), first line",
    title="AsyncBC-GD: virtual-momentum error identity",
    statement="m_t - m~_t = -sum_{(k,i) in C_t} g_i^k for all t >= 1.",
    lhs=MOM_ID_RESIDUAL,
    direction=Direction.UPPER,
    bound=sp.Integer(0),
    notes=(
        "Pathwise identity for Algorithm 1 (any schedule, any functions); no assumption used.",
        _LEMMA2_READ,
        _EQ4_NOTE,
        _CT_NOTE,
        "The proof's middle line writes sum_{C_{t-1}} g_t^{k_t} for sum_{C_{t-1}} g_i^k (typo).",
    ),
)
LEMMA2_X = Theorem(
    id="asyncbc.lemma2_x",
    paper=PAPER,
    source="AsyncBC Lemma 2, eq. (7), second line",
    title="AsyncBC-GD: virtual-iterate error identity",
    statement="x_t - x~_t = eta sum_{i=2}^{t-1} tau_i^{t-1} g_i^{k_i} + eta sum_{(k,1) in C_1} "
    "tau_1^{k,t-1} g_1^k for all t >= 2.",
    lhs=ITER_ID_RESIDUAL,
    direction=Direction.UPPER,
    bound=sp.Integer(0),
    notes=(
        "Pathwise identity for Algorithm 1; no assumption used.",
        _LEMMA2_READ,
        "Reading of tau_i^{t-1} ('the number of times g_i is delayed until time t-1'): the number "
        "of s in {1, ..., t-1} with the task in C_s, which is what the proof's exchange of sums "
        "gives (x_t - x~_t = -eta sum_{s=1}^{t-1} (m_s - m~_s)). Under the union-first reading of "
        "C_t a task of version v received at step r counts min(t-1, r-1) - max(v, 1) + 1 times.",
        "Both sums are over tasks handed out before t; the initial tasks (k, 1) in C_1 are the "
        "tau_C initial tasks except the one received at step 1 (the received one has count 0).",
    ),
)
LEMMA3 = Theorem(
    id="asyncbc.lemma3",
    paper=PAPER,
    source="AsyncBC Lemma 3, eq. (8)",
    title="AsyncBC-GD: descent of the virtual optimality gap",
    statement="F~_{t+1} <= F~_t - eta/2 E||grad f(x_t)||^2 - (eta/4 - L eta^2/2) E||m~_t||^2 + "
    "eta/2 E||grad f(x_t) - m~_t||^2 + eta L^2 E||x~_t - x_t||^2.",
    lhs=VIRTUAL_GAP_NEXT,
    direction=Direction.UPPER,
    bound=F_tilde_t
    - eta / 2 * gn2_t
    - (eta / 4 - L * eta**2 / 2) * mt2_t
    + eta / 2 * gerr_t
    + eta * L**2 * xerr_t,
    assumptions=(A1,),
    notes=(
        "The proof is pathwise: steps (i)-(iii) (smoothness, the polarisation identity, Young's "
        "inequality <a, b> <= ||a||^2 + ||b||^2/4, smoothness) hold for every realisation, and "
        "the expectation is taken at the end. The bindings check it pathwise, on every replica and "
        "step t >= 0 (which implies the expectation form); `boundcheck derive asyncbc.lemma3_steps` "
        "decides the algebra.",
        "Typo in the proof: the second and fourth displays write ||grad f(x_t)|| without the "
        "square; the statement has the square.",
        "x~_1 = x_1 = x_0 - eta m_0 and m~_0 = m_0, so x~_{t+1} = x~_t - eta m~_t holds at t = 0 "
        "too: the lemma is checked from t = 0.",
        "The five expectations are parameters (F_tilde_t, gn2_t, mt2_t, gerr_t, xerr_t); they "
        "enter the bound linearly.",
    ),
    example={
        "F_tilde_t": 1.0,
        "eta": 0.01,
        "gn2_t": 1.0,
        "L": 1.0,
        "mt2_t": 1.0,
        "gerr_t": 0.5,
        "xerr_t": 0.1,
    },
)

# --- Theorem 1 ------------------------------------------------------------------------------------
_THM1_STEP_NOTE = (
    "Audit (`boundcheck derive asyncbc.thm1_stepsize`, `asyncbc.thm1_rate`): the stated stepsize does not imply the proof's condition eta <= 1/(10 delta_H "
    "sqrt(T)). Exactly: it holds iff 100 delta_H^2 <= 144 L (delta_H + L) tau_max or "
    "100 delta_H^2 T <= 36 (delta_H + L)^2 tau_C tau_max. 'By Fact 1, it suffices' does not "
    "bridge this: Fact 1 bounds delta_H by L + L_max, not by a multiple of L. Counterexample: "
    "footnote 1's instance with n = 100 (L = 0.01, delta_H = 0.99), tau_C = tau_max = 10, "
    "T = 10^6. With the proof's own conditions, 2 F0/(eta T) keeps a term 20 delta_H F0 / sqrt(T), "
    "which the O(.) rate (second term sqrt(L (delta+L) tau_max) F0 / sqrt(T)) drops; the claimed "
    "gain of sqrt(L L_max) over L_max in Table 1 rests on it."
)

THM1 = Theorem(
    id="asyncbc.thm1",
    paper=PAPER,
    source="AsyncBC Theorem 1 (Section 3.1); explicit bound from its proof (Appendix A, last display)",
    title="AsyncBC-GD converges without gradient dissimilarity (explicit)",
    statement=(
        "With eta = min{1/(6(delta+L) sqrt(tau_C tau_max)), 1/(12 sqrt(L(delta+L) tau_max T))}: "
        "1/T sum E||grad f(x_t)||^2 <= 12(delta+L) sqrt(tau_C tau_max) F0/T + "
        "24 sqrt(L(delta+L) tau_max) F0/sqrt(T)."
    ),
    lhs=GRAD_AVG,
    direction=Direction.UPPER,
    bound=12 * (delta_H + L) * sp.sqrt(tau_C * tau_max) * F0 / T
    + 24 * sp.sqrt(L * (delta_H + L) * tau_max) * F0 / sp.sqrt(T),
    conditions=(
        *THM1_PROOF_CONDITIONS,
        Condition(
            "stated_eta",
            "AsyncBC Theorem 1",
            sp.Eq(eta, ETA_THM1),
            ConditionKind.STEPSIZE,
            "the stepsize the theorem prescribes",
        ),
    ),
    assumptions=ASSUMPTIONS_THM1,
    notes=(
        _ASSUMPTION3_NOTE.format(listed="1 and 2"),
        "The bound is 2 F0/(eta T) at the stated eta with max{1/a, 1/b} <= 1/a + 1/b.",
        _THM1_STEP_NOTE,
        _ETA_L4_NOTE,
        _TAU0_NOTE,
        "Algorithm 1 samples the next client uniformly at random; Lemma 4 relies on it.",
    ),
    example={**_EX1, "eta": _stated_eta1(_EX1)},
)

THM1_ETA = Theorem(
    id="asyncbc.thm1_eta",
    paper=PAPER,
    source="AsyncBC Theorem 1, proof (Appendix A), display after 'A + B + C <= eta/16 ...'",
    title="AsyncBC-GD: the proof's bound for any admissible stepsize",
    statement=(
        "If eta <= min{1/(6(delta+L) sqrt(tau_C tau_max)), 1/(10 delta sqrt T), "
        "1/(8 sqrt(L(delta+L) tau_max (T-1)))} (and eta <= L/4), then "
        "1/T sum E||grad f(x_t)||^2 <= 2 F0/(eta T)."
    ),
    lhs=GRAD_AVG,
    direction=Direction.UPPER,
    bound=2 * F0 / (eta * T),
    conditions=THM1_PROOF_CONDITIONS,
    assumptions=ASSUMPTIONS_THM1,
    notes=(
        _ASSUMPTION3_NOTE.format(listed="1 and 2"),
        "The proof's conditions give A + B + C <= eta (1/144 + 1/200 + 1/2048) sum E||m_t||^2 "
        "<= eta/16 sum E||m_t||^2, as claimed (uses (delta^2 + L^2) <= (delta + L)^2).",
        _ETA_L4_NOTE,
        _TAU0_NOTE,
    ),
    example={**_EX1, "eta": 2.0e-4},
)

THM1_ORDER = Theorem(
    id="asyncbc.thm1_order",
    paper=PAPER,
    source="AsyncBC Theorem 1 (Section 3.1)",
    title="AsyncBC-GD rate (O-statement)",
    statement=(
        "1/T sum E||grad f(x_t)||^2 <= O((delta+L) sqrt(tau_C tau_max) F0/T + "
        "sqrt(L(delta+L) tau_max) F0/sqrt(T))."
    ),
    lhs=GRAD_AVG,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(
            (delta_H + L) * sp.sqrt(tau_C * tau_max) * F0 / T,
            sp.sqrt(L * (delta_H + L) * tau_max) * F0 / sp.sqrt(T),
        ),
        variable=T,
        scalings={eta: ETA_THM1},
        explicit="asyncbc.thm1",
    ),
    assumptions=ASSUMPTIONS_THM1,
    notes=(
        "Consistent with the explicit bound asyncbc.thm1 (constants 12 and 24), but see the "
        "finding there: the proof's conditions support a rate with an extra delta F0/sqrt(T) term.",
        "Footnote 3: the initial computation of m_0 = grad f(x_0) (n gradients) is not counted.",
    ),
)

# --- Theorem 2 ------------------------------------------------------------------------------------
THM2 = Theorem(
    id="asyncbc.thm2",
    paper=PAPER,
    source="AsyncBC Theorem 2 (Section 4.1); explicit bound from its proof (Appendix B)",
    title="AsyncBC-SGD converges under mean-squared smoothness (explicit)",
    statement=(
        "With eta = min{1/(ell sqrt(6 tau_C tau_max)), 1/(10 ell sqrt T), "
        "1/(2 sqrt(2 L ell tau_max (T-1)))}: 1/T sum E||grad f(x_t)||^2 <= "
        "2 ell sqrt(6 tau_C tau_max) F0/T + (20 ell + 4 sqrt(2 L ell tau_max)) F0/sqrt(T)."
    ),
    lhs=GRAD_AVG,
    direction=Direction.UPPER,
    bound=2 * ell * sp.sqrt(6 * tau_C * tau_max) * F0 / T
    + (20 * ell + 4 * sp.sqrt(2 * L * ell * tau_max)) * F0 / sp.sqrt(T),
    conditions=(
        *THM2_PROOF_CONDITIONS,
        Condition(
            "stated_eta",
            "AsyncBC Theorem 2",
            sp.Eq(eta, ETA_THM2),
            ConditionKind.STEPSIZE,
            "the stepsize the theorem prescribes",
        ),
    ),
    assumptions=ASSUMPTIONS_THM2,
    notes=(
        _ASSUMPTION3_NOTE.format(listed="1, 4 and 5"),
        "The stated stepsize is exactly the minimum of the proof's three conditions, so it "
        "satisfies them (checked in the tests); the bound is 2 F0/(eta T) with max <= sum and "
        "sqrt(T-1) <= sqrt(T).",
        "The proof's conditions give A + B + C <= eta (1/48 + 1/200 + 1/64) sum E||m_t||^2 "
        "<= eta/16 sum E||m_t||^2, as claimed.",
        _ETA_L4_NOTE,
        _TAU0_NOTE,
    ),
    example={**_EX2, "eta": _stated_eta2(_EX2)},
)

THM2_ETA = Theorem(
    id="asyncbc.thm2_eta",
    paper=PAPER,
    source="AsyncBC Theorem 2, proof (Appendix B), display after 'A + B + C <= eta/16 ...'",
    title="AsyncBC-SGD: the proof's bound for any admissible stepsize",
    statement=(
        "If eta <= min{1/(ell sqrt(6 tau_C tau_max)), 1/(10 ell sqrt T), "
        "1/(2 sqrt(2 L ell tau_max (T-1)))} (and eta <= L/4), then "
        "1/T sum E||grad f(x_t)||^2 <= 2 F0/(eta T)."
    ),
    lhs=GRAD_AVG,
    direction=Direction.UPPER,
    bound=2 * F0 / (eta * T),
    conditions=THM2_PROOF_CONDITIONS,
    assumptions=ASSUMPTIONS_THM2,
    notes=(_ASSUMPTION3_NOTE.format(listed="1, 4 and 5"), _ETA_L4_NOTE, _TAU0_NOTE),
    example={**_EX2, "eta": 4.0e-4},
)

THM2_ORDER = Theorem(
    id="asyncbc.thm2_order",
    paper=PAPER,
    source="AsyncBC Theorem 2 (Section 4.1)",
    title="AsyncBC-SGD rate (O-statement)",
    statement=(
        "1/T sum E||grad f(x_t)||^2 <= O(ell sqrt(tau_C tau_max) F0/T + "
        "(ell + sqrt(L ell tau_max)) F0/sqrt(T))."
    ),
    lhs=GRAD_AVG,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(
            ell * sp.sqrt(tau_C * tau_max) * F0 / T,
            (ell + sp.sqrt(L * ell * tau_max)) * F0 / sp.sqrt(T),
        ),
        variable=T,
        scalings={eta: ETA_THM2},
        explicit="asyncbc.thm2",
    ),
    assumptions=ASSUMPTIONS_THM2,
    notes=(
        "Consistent with the explicit bound asyncbc.thm2 (constants 2 sqrt(6), 20 and 4 sqrt(2)).",
    ),
)

# --- Theorem 3 ------------------------------------------------------------------------------------
_T3_DIM_NOTE = (
    "Dimensions: the instance f_i(x) = ||x + b_i||^2/2 has Hessian I, i.e. L = 1, which ties "
    "[F] to [X]^2; 'eta < 1' means eta L < 1 and sigma^2 ([F]^2/[X]^2) is then [X]^2 like "
    "E||x_T||^2. A checker that keeps [X] and [F] independent would report mismatches here; they "
    "are an artefact of the normalised instance, not an error of the paper, so these theorems "
    "are checked with [F] = [X]^2 (extra['unit_instance'])."
)
_T3_UNIT_INSTANCE = "f_i(x) = ||x + b_i||^2/2 has Hessian I (L = 1), so [F] = [X]^2"
_T3_SIGMA_NOTE = (
    "Reading: 'xi_t ~ N(0, sigma I)' is taken as E xi_t = 0 and E||xi_t||^2 = sigma^2, as Section "
    "4.2 ('E||xi''||^2 = sigma^2') and the proof (E||x_T||^2 >= eta^2 sigma^2 sum ...) use; "
    "literally N(0, sigma I) in R^d would give E||xi||^2 = sigma d. Appendix C has the same "
    "clash ('variance sigma^2 = 0.01', 'N(0, sigma)')."
)
_T3_REGIME_NOTE = (
    "Regimes, as the proof gives them: for 1/(2T) <= eta <= 1 (any b_i, sigma > 0) "
    "E||x_T||^2 >= sigma^2 floor(T/2)/25 (asyncbc.thm3); for eta <= 1/(2T) only the noiseless "
    "homogeneous instance b_i = 0, sigma = 0, m_0 = x_0 is treated (asyncbc.thm3_small_eta). "
    "For eta < 1/(2T) the sigma^2 floor(T/2)/25 bound can fail (the noise variance "
    "sigma^2 sum (1-(1-eta)^(T-s))^2 tends to 0 with eta). For a fixed eta the first regime "
    "applies once T >= 1/(2 eta), so non-convergence for sigma > 0 follows from it alone."
)

#: Theorem 3's stated setting, shared by the three encodings of the theorem
COND_SINGLE_CONCURRENCY = Condition(
    "single_concurrency",
    "AsyncBC Theorem 3 ('single concurrency setting')",
    sp.Eq(tau_C, 1),
    ConditionKind.STATED,
    "one active worker: Algorithm 2 is stochastic SARAH",
)
COND_ETA_LT_1 = Condition(
    "eta_lt_1",
    "AsyncBC Theorem 3 ('for any eta < 1')",
    sp.Lt(eta, 1),
    ConditionKind.STATED,
    "eta L < 1 with L = 1 for this instance",
)
_EX3 = {"sigma": 0.1, "T": 100.0, "eta": 0.1, "tau_C": 1.0}

THM3 = Theorem(
    id="asyncbc.thm3",
    paper=PAPER,
    source="AsyncBC Theorem 3 (Section 4.2); bound from its proof (Appendix B, regime 1/(2T) <= eta <= 1)",
    title="SARAH / AsyncBC-SGD with independent noise does not converge",
    statement="For tau_C = 1 and 1/(2T) <= eta <= 1: E||x_T||^2 >= sigma^2 floor(T/2)/25, which grows without bound.",
    lhs=XT_SQ,
    direction=Direction.NONCONVERGENCE,
    bound=sigma**2 * sp.floor(T / 2) / 25,
    conditions=(
        COND_SINGLE_CONCURRENCY,
        COND_ETA_LT_1,
        Condition(
            "proof_eta_ge_1_2T",
            "AsyncBC Theorem 3, proof ('For step sizes 1/(2T) <= eta <= 1')",
            sp.Ge(eta, 1 / (2 * T)),
            ConditionKind.PROOF,
            "lower end of the regime in which the sigma^2 floor(T/2)/25 bound is proved",
        ),
        Condition(
            "proof_eta_le_1",
            "AsyncBC Theorem 3, proof ('For step sizes 1/(2T) <= eta <= 1')",
            sp.Le(eta, 1),
            ConditionKind.PROOF,
            "upper end of the regime",
        ),
    ),
    assumptions=(A_T3,),
    notes=(
        _T3_REGIME_NOTE,
        "Audit (`boundcheck derive asyncbc.thm3_step`): the proof says '(1-eta)^(T-s) <= 5/4' for s <= T/2; the preceding line "
        "gives (1-eta)^(T-s) <= 1/(3/2 - s/(2T)) <= 4/5, and the next line uses "
        "(1 - 4/5)^2 = 1/25. Read as 4/5; with it the bound is correct (checked in the tests).",
        _T3_SIGMA_NOTE,
        _T3_DIM_NOTE,
    ),
    example=dict(_EX3),
    extra={"unit_instance": _T3_UNIT_INSTANCE},
)

THM3_VAR = Theorem(
    id="asyncbc.thm3_var",
    paper=PAPER,
    source="AsyncBC Theorem 3, proof (Appendix B), 'by the independence of xi_i'",
    title="SARAH with independent noise: exact noise-variance lower bound",
    statement="For tau_C = 1: E||x_T||^2 >= sigma^2 sum_{s=1}^{T-1} (1 - (1-eta)^(T-s))^2.",
    lhs=XT_SQ,
    direction=Direction.LOWER,
    bound=sigma**2 * sp.Sum((1 - (1 - eta) ** (T - s)) ** 2, (s, 1, T - 1)),
    conditions=(COND_SINGLE_CONCURRENCY, COND_ETA_LT_1),
    assumptions=(A_T3,),
    notes=(
        "The bound is the variance of the noise part of x_T = (1-eta)^(T-1) x_1 - eta (m_0 - x_0) "
        "sum_t (1-eta)^(T-t-1) - sum_s (1 - (1-eta)^(T-s)) xi_s; encoded as the paper's finite "
        "sum sp.Sum over s = 1..T-1 (the evaluator's doit() gives the closed form).",
        _T3_SIGMA_NOTE,
        _T3_DIM_NOTE,
    ),
    example=dict(_EX3),
    extra={"unit_instance": _T3_UNIT_INSTANCE},
)

THM3_SMALL = Theorem(
    id="asyncbc.thm3_small_eta",
    paper=PAPER,
    source="AsyncBC Theorem 3, proof (Appendix B, regime eta <= 1/(2T), b_i = 0, sigma = 0)",
    title="SARAH with tiny stepsize: no progress (noiseless homogeneous instance)",
    statement="For b_i = 0, sigma = 0, m_0 = x_0 and eta <= 1/(2T): ||x_T||^2 >= ||x_0||^2 / 2.",
    lhs=XT_SQ,
    direction=Direction.NONCONVERGENCE,
    bound=D0 / 2,
    conditions=(
        replace(COND_SINGLE_CONCURRENCY, description="one active worker"),
        COND_ETA_LT_1,
        Condition(
            "proof_eta_le_1_2T",
            "AsyncBC Theorem 3, proof ('for eta <= 1/(2T)')",
            sp.Le(eta, 1 / (2 * T)),
            ConditionKind.PROOF,
            "the small-stepsize regime",
        ),
        Condition(
            "proof_noiseless",
            "AsyncBC Theorem 3, proof ('noiseless regime (sigma^2 = 0)')",
            sp.Eq(sigma, 0),
            ConditionKind.PROOF,
            "the branch is proved for the noiseless homogeneous instance only",
        ),
    ),
    assumptions=(A_T3,),
    notes=(
        "With b_i = 0 the stationary point is x* = 0, so ||x_0||^2 = D0.",
        "Audit (`boundcheck derive asyncbc.thm3_small_eta`): the proof writes ||x_T||^2 = (1-eta)^T ||x_0||^2 after x_T = (1-eta)^T x_0; "
        "the squared norm is (1-eta)^(2T) ||x_0||^2. With the right exponent the bound "
        "||x_0||^2/2 is false at eta = 1/(2T) for every T >= 1: (1 - 1/(2T))^(2T) increases from "
        "1/4 (T = 1) to 1/e < 1/2. What holds is ||x_T||^2 >= ||x_0||^2/4 (so the qualitative "
        "non-convergence claim survives with constant 1/4).",
        _T3_REGIME_NOTE,
        _T3_DIM_NOTE,
    ),
    example={"D0": 1.0, "T": 100.0, "eta": 0.004, "tau_C": 1.0, "sigma": 0.0},
    extra={"unit_instance": _T3_UNIT_INSTANCE},
)

# --- Table 1 (order claims, rates from the literature and the paper's own) -------------------------
_TABLE_NOTE = (
    "Table 1 rates count server communications T; initialisations independent of the target "
    "error are omitted (footnote (c)). f is L-smooth and each f_i L_max-smooth."
)

TABLE1_ASYNC_GD = Theorem(
    id="asyncbc.table1_async_gd",
    paper=PAPER,
    source="AsyncBC Table 1, row Async-GD (Koloskova et al., 2022)",
    title="Async-GD baseline rate (no bias correction)",
    statement=(
        "O(L_max F0 sqrt(tau_C tau_max)/T + sqrt(L_max F0 zeta^2)/sqrt(T) + "
        "(L_max F0 tau_C zeta / T)^(2/3)) under bounded gradient dissimilarity."
    ),
    lhs=GRAD_AVG,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(
            L_max * F0 * sp.sqrt(tau_C * tau_max) / T,
            sp.sqrt(L_max * F0 * zeta**2) / sp.sqrt(T),
            (L_max * F0 * tau_C * zeta / T) ** sp.Rational(2, 3),
        ),
        variable=T,
    ),
    assumptions=(A3, A_LI, A_BGD),
    notes=(
        _TABLE_NOTE,
        "Section 3.1: AsyncBC's 1/sqrt(T) term F0 sqrt(L L_max tau_max) is at most this row's "
        "sqrt(L_max F0 zeta^2) iff zeta^2 >= L F0 tau_max (checked in the tests).",
        "Table 1 (b) defines zeta through ||grad f_i - grad f_j||^2 <= zeta^2, Section 3 through "
        "||grad f_i - grad f||^2 <= zeta^2; both are the catalogue's zeta up to a factor 2.",
    ),
)

TABLE1_ASGRAD = Theorem(
    id="asyncbc.table1_asgrad",
    paper=PAPER,
    source="AsyncBC Table 1, row AsGrad (Islamov et al., 2023)",
    title="AsGrad baseline rate (no bias correction)",
    statement=(
        "O(L_max F0 tau_C/T + sqrt(L_max F0 zeta^2)/sqrt(T) + (L_max F0 tau_C G / T)^(2/3)) "
        "under bounded gradients and bounded gradient dissimilarity."
    ),
    lhs=GRAD_AVG,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(
            L_max * F0 * tau_C / T,
            sp.sqrt(L_max * F0 * zeta**2) / sp.sqrt(T),
            (L_max * F0 * tau_C * G_bg / T) ** sp.Rational(2, 3),
        ),
        variable=T,
    ),
    assumptions=(A_LI, A_BG, A_BGD),
    notes=(
        _TABLE_NOTE,
        "G is a bound on the gradient norm (||grad f_i||^2 <= G^2), declared as G_bg ([F]/[X]).",
    ),
)

TABLE1_ASYNCBC_GD = Theorem(
    id="asyncbc.table1_asyncbc_gd",
    paper=PAPER,
    source="AsyncBC Table 1, row AsyncBC-GD",
    title="AsyncBC-GD rate in terms of L_max",
    statement="O(L_max F0 sqrt(tau_C tau_max)/T + F0 sqrt(L L_max tau_max)/sqrt(T)).",
    lhs=GRAD_AVG,
    direction=Direction.ORDER,
    order=OrderClaim(
        terms=(
            L_max * F0 * sp.sqrt(tau_C * tau_max) / T,
            F0 * sp.sqrt(L * L_max * tau_max) / sp.sqrt(T),
        ),
        variable=T,
    ),
    assumptions=(A1, A3, A_LI),
    notes=(
        _TABLE_NOTE,
        "Follows from asyncbc.thm1_order with delta_H <= L + L_max (Fact 1) and L <= L_max: the "
        "ratio is at most 3 (checked in the tests). Inherits Theorem 1's finding: the proof "
        "supports an extra delta_H F0/sqrt(T) <= (L + L_max) F0/sqrt(T) term.",
    ),
)

THEOREMS: list[Theorem] = [
    FACT1,
    LEMMA1,
    LEMMA1_M,
    LEMMA5,
    LEMMA5_M,
    LEMMA4,
    LEMMA6,
    LEMMA2_M,
    LEMMA2_X,
    LEMMA3,
    THM1,
    THM1_ETA,
    THM1_ORDER,
    THM2,
    THM2_ETA,
    THM2_ORDER,
    THM3,
    THM3_VAR,
    THM3_SMALL,
    TABLE1_ASYNC_GD,
    TABLE1_ASGRAD,
    TABLE1_ASYNCBC_GD,
]

__all__ = [
    "A1",
    "A2",
    "A3",
    "A4",
    "A5",
    "ETA_THM1",
    "ETA_THM2",
    "THEOREMS",
    "delta_H",
    "ell",
]
