"""A realistic RunResult for the report tests: several checks with points over T and per-step curves,
every verdict kind, outside-hypotheses and diverged findings, missing values and long ids. The
statements are the theorems' own LaTeX from the registry."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from boundcheck.check.results import CheckResult, PointResult, RunResult, SymbolValue
from boundcheck.theory import registry
from boundcheck.theory import symbols as S


def statement(theorem_id: str, lhs: str) -> str:
    names = {i.symbol: i.latex for i in S.catalogue().values()}
    t = registry.get(theorem_id)
    rel = r"\ge" if t.direction.value in ("lower", "nonconvergence") else r"\le"
    return f"{lhs} {rel} {sp.latex(t.bound, symbol_names=names)}"


def _point(T, bound, measured, verdict, *, scale=0.1, n=256, curve=True, **kw) -> PointResult:
    values = kw.pop("values", None) or [
        SymbolValue("L", 1.0, "certified", "problem constant L (eigenvalues, rounded up)"),
        SymbolValue("sigma_l", 0.5, "exact", "sqrt of the oracle variance sigma2"),
        SymbolValue("tau_max", 4.0 + math.log10(T), "observed", "measured tau_max of the batch"),
        SymbolValue("eta_l", 1.0 / math.sqrt(T), "chosen", "the theorem's stepsize"),
        SymbolValue("F0", 2.5, "certified", "f(x0) minus a certified lower bound of f*"),
        SymbolValue("T", float(T), "chosen", "sweep"),
    ]
    p = PointResult(
        point={"T": float(T)},
        values=values,
        measured=measured,
        ci_low=None if measured is None else measured * (1 - scale),
        ci_high=None if measured is None else measured * (1 + scale),
        median=None if measured is None else measured * 0.9,
        q10=None if measured is None else measured * 0.6,
        q90=None if measured is None else measured * 1.5,
        max=None if measured is None else measured * 3.0,
        top_share=0.02,
        estimator="replica mean of the time average; one-sided t interval",
        bound=bound,
        ratio=None if measured is None or bound is None else measured / bound,
        verdict=verdict,
        n_replicas=n,
        curve={
            "t": [float(t) for t in range(1, int(T) + 1, max(1, int(T) // 40))],
            "mean": [measured * (T / t) ** 0.5 for t in range(1, int(T) + 1, max(1, int(T) // 40))],
            "bound": [bound * (T / t) ** 0.5 for t in range(1, int(T) + 1, max(1, int(T) // 40))],
        }
        if curve and measured and bound
        else None,
        wall_s=0.4,
    )
    for k, v in kw.items():
        setattr(p, k, v)
    return p


def _check(spec_id, theorem_id, source, paper, lhs, points, **kw) -> CheckResult:
    c = CheckResult(
        spec_id=spec_id,
        theorem_id=theorem_id,
        source=source,
        paper=paper,
        statement_latex=statement(theorem_id, lhs),
        lhs_text=kw.pop("lhs_text", "1/T sum_t E||grad f(x_t)||^2"),
        direction=kw.pop("direction", "upper"),
        problem={"family": "quadratic", "n": 8, "d": 20, "kappa": 10.0},
        algorithm={"name": "qafel", "K": 5, "P": 2, "compressor": "qsgd_bits(bits=4)"},
        x_axis="T",
        points=points,
        command=f"boundcheck report {spec_id} --scale default --seed 0",
        seed=0,
        replicas=256,
        wall_s=12.3,
    )
    for k, v in kw.items():
        setattr(c, k, v)
    return c


def make_run() -> RunResult:
    lhs_avg = r"\frac{1}{T}\sum_{t=0}^{T-1}\mathbb{E}\|\nabla f(x_t)\|^2"
    checks = [
        _check(
            "qafel_thm_f1",
            "qafel.thm_f1",
            "QAFeL, Theorem F.1, eq. (9)",
            "QAFeL",
            lhs_avg,
            [_point(T, 3.0 / T**0.5, 0.9 / T**0.5, "holds") for T in (100, 1000, 10000)],
            verdict="holds",
            tightness=0.3,
            derivation_findings=[
                "Lemma F.9 drops a factor K in the staleness term (see findings)."
            ],
        ),
        _check(
            "fedpaq_thm1",
            "fedpaq.thm1",
            "FedPAQ, Theorem 1",
            "FedPAQ",
            r"\mathbb{E}\|x_T - x^*\|^2",
            [
                _point(100, 0.8, 0.5, "holds"),
                _point(1000, 0.08, 0.12, "violated"),
                _point(10000, 0.008, 0.009, "inconclusive", top_share=0.4),
            ],
            verdict="violated",
            tightness=1.5,
            findings=["Measured above the bound at T = 1000: lower confidence bound 0.108 > 0.08."],
            dimension_findings=["bound term 2 has dimension [X]^2 [F]^-1, lhs [X]^2"],
        ),
        _check(
            "saef_lemma1_main_with_a_very_long_spec_identifier_that_must_wrap_in_tables",
            "saef.lemma1_main",
            "SAEF, Lemma 1 (the main reading, with x~_t)",
            "SAEF",
            r"\mathbb{E}\|e_t\|^2",
            [
                _point(100, 2.0, None, "error", notes=["oracle returned NaN at step 3"]),
                _point(1000, 2.0, 1.1, "inconclusive", top_share=0.62, scale=0.9),
            ],
            verdict="inconclusive",
            tightness=None,
        ),
        _check(
            "asyncbc_thm3",
            "asyncbc.thm3",
            "AsyncBC, Theorem 3",
            "AsyncBC",
            r"\mathbb{E}\|x_T - x^*\|^2",
            [
                _point(100, 0.5, 0.9, "holds", failing_conditions=[]),
                _point(
                    1000,
                    0.5,
                    0.7,
                    "outside hypotheses",
                    failing_conditions=["eta <= 1/(2 L tau_max) (Theorem 3, condition (12))"],
                    proof_conditions_failing=["eq. (31): eta L tau_max <= 1/4"],
                ),
            ],
            verdict="holds",
            tightness=0.56,
            direction="nonconvergence",
        ),
        _check(
            "asyncbc_lemma1",
            "asyncbc.lemma1",
            "AsyncBC, Lemma 1",
            "AsyncBC",
            r"\sup_t \|m_t - \nabla f(x_t)\|^2",
            [
                _point(100, 1.0, 0.4, "holds"),
                _point(
                    1000, 1.0, 5e7, "diverged", n_diverged=7, diverged_steps=[412, 415, 530, 531]
                ),
            ],
            verdict="diverged",
            tightness=0.4,
            direction="pathwise",
        ),
        _check(
            "qafel_prop3_5_order",
            "qafel.thm_f4_unbiased",
            "QAFeL, Proposition 3.5 (order in T)",
            "QAFeL",
            lhs_avg,
            [
                _point(T, 1.0 / T**0.5, 0.2 / T**0.45, "holds", curve=False)
                for T in (100, 300, 1000, 3000)
            ],
            verdict="holds",
            tightness=0.4,
            direction="order",
            order={
                "fitted_slope": -0.45,
                "claimed_slope": -0.5,
                "ci": [-0.49, -0.41],
                "verdict": "holds",
            },
        ),
    ]
    return RunResult(
        checks=checks,
        alpha=0.05,
        n_comparisons=sum(len(c.points) for c in checks),
        environment={
            "time": "2026-12-02T05:00:00Z",
            "boundcheck": "0.1.0",
            "python": "3.11.2",
            "torch": "2.13.0",
            "numpy": "2.1.0",
            "platform": "Linux-x86_64",
            "device": "cpu",
            "dtype": "float64",
            "seed": 0,
        },
        command="boundcheck report --scale default --seed 0",
        wall_s=95.2,
        calibration={
            "spec": "fedpaq_thm1",
            "theorem": "fedpaq.thm1",
            "seeds": 50,
            "alpha": 0.05,
            "scale": "ci",
            "false_alarm": [0.0, 0.02, 0.0],
            "power_half": [0.96, 1.0, 1.0],
            "power_drop": [1.0, 1.0, 0.98],
        },
    )


@pytest.fixture
def run() -> RunResult:
    return make_run()
