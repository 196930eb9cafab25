"""PEPit worst cases (boundcheck.check.pep): PEPit's known tight values, then every reduction with
its verdict. Skipped cleanly without the ``pep`` extra (CI installs it: ``.[test,pep]``)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.check import pep
from boundcheck.check.pep import EXACT, RELAXED, delay_patterns
from boundcheck.cli import main
from boundcheck.errors import ParameterError


@pytest.fixture(scope="module", autouse=True)
def _needs_pepit():
    pytest.importorskip("PEPit")


def _close(r: pep.PepResult, value: float) -> bool:
    """Both PEPit values within the verdict's own tolerance of ``value``."""
    return abs(r.primal - value) <= r.tolerance and abs(r.dual - value) <= r.tolerance


# --- PEPit's known tight values ------------------------------------------------------------------
@pytest.mark.parametrize(("L", "N"), [(1.0, 1), (1.0, 2), (1.0, 5), (2.0, 3), (0.5, 4)])
def test_gd_nonconvex_tight_value(L, N):
    # PEPit example nonconvex_optimization/gradient_descent.py: min_{i<=N} ||grad f(x_i)||^2 <=
    # 4L/(3N) (f(x_0) - f(x_N)) at gamma = 1/L, empirically tight
    r = pep.gd_nonconvex_min_grad(L, N)
    assert r.status == "optimal" and r.solver == "CLARABEL"
    assert _close(r, 4 * L / (3 * N)), (r.primal, r.dual)
    assert r.verdict == "tight"


def test_gd_nonconvex_short_step_below_the_step_one_value():
    # a shorter step (gamma = 1/(2L)) is slower: its worst case exceeds 4L/(3N)
    r = pep.gd_nonconvex_min_grad(1.0, 3, gamma=0.5)
    assert r.primal > 4 / 9 + r.tolerance


@settings(max_examples=12, deadline=None)
@given(
    L=st.floats(0.5, 5.0),
    kappa=st.floats(1.5, 50.0),
    N=st.integers(1, 4),
)
def test_gd_strongly_convex_contraction_is_tight(L, kappa, N):
    # ||x_N - x*||^2 <= (1 - mu/L)^(2N) ||x_0 - x*||^2 at step 1/L, attained by mu/2 ||x||^2
    r = pep.gd_strongly_convex_distance(L, L / kappa, N)
    assert r.case == EXACT
    assert _close(r, (1 - 1 / kappa) ** (2 * N)), (r.primal, r.dual, r.bound)


@settings(max_examples=10, deadline=None)
@given(h=st.floats(0.1, 1.9), kappa=st.floats(1.5, 20.0), N=st.integers(1, 3))
def test_gd_strongly_convex_any_step_is_tight(h, kappa, N):
    # PEPit composite_convex_minimization/proximal_gradient.py (zero nonsmooth part):
    # max{(1 - L gamma)^2, (1 - mu gamma)^2}^N, here with L = 1, gamma = h
    r = pep.gd_strongly_convex_distance(1.0, 1 / kappa, N, gamma=h)
    value = max((1 - h) ** 2, (1 - h / kappa) ** 2) ** N
    assert _close(r, value), (r.primal, r.dual, value)


def test_verdict_refutes_only_with_exact_interpolation():
    r = pep.gd_strongly_convex_distance(1.0, 0.1, 3)
    lower = dataclasses.replace(r, bound=0.9 * r.primal)
    assert lower.verdict == "violated" and lower.finding
    assert dataclasses.replace(lower, case=RELAXED).verdict == "inconclusive"
    assert dataclasses.replace(r, bound=1.1 * r.dual).verdict == "holds"
    assert dataclasses.replace(r, status="infeasible").verdict == "inconclusive"


# --- the reductions --------------------------------------------------------------------------------
def test_fedpaq_thm2_gd_holds_and_reports_condition_18():
    rs = pep.sweep("fedpaq.thm2", [1, 2, 4])
    assert [r.verdict for r in rs] == ["tight", "holds", "holds"]
    # at T = 1 the bound 2 L F0 is exactly ||grad f(x_0)||^2 <= 2 L (f(x_0) - f*)
    assert rs[0].bound == pytest.approx(2.0)
    for r in rs:  # (18) at tau = 1, q = 0, r = n needs T >= 80: outside the stated conditions
        assert "tau_le" in r.failed_conditions and not r.finding
        assert r.case == RELAXED and r.params["eta"] == pytest.approx(1 / r.T**0.5)


def test_fedpaq_thm1_holds_from_k0_with_its_schedule():
    rs = pep.sweep("fedpaq.thm1", [1, 2, 4])
    for r in rs:
        assert r.params["k0"] == 40 and r.params["k"] == 40 + r.T  # (13) at L=10, mu=1, n=2
        assert r.case == EXACT and r.failed_conditions == []
        assert r.verdict == "holds" and r.ratio < 1
    # exact class: the worst case of GD with step 4/(mu(k0+1)) over one step is the slow mode,
    # (1 - 4/(k0+1))^2 = (37/41)^2
    assert rs[0].primal == pytest.approx((37 / 41) ** 2, rel=1e-6)


@pytest.mark.parametrize("tid", ["saef.thm1", "saef.thm2"])
def test_saef_theorems_hold_for_an_adversarial_deterministic_compressor(tid):
    rs = pep.sweep(tid, [1, 2, 4])
    assert all(r.verdict == "holds" and r.case == RELAXED for r in rs)
    assert all(r.failed_conditions == [] for r in rs)


def test_saef_without_compression_is_gradient_descent():
    # "uselessly complexified": SAEF with delta = 1 compresses nothing (c = Delta, e = 0), so its
    # worst case is that of GD at the same eta with the same metric, written directly here
    from PEPit import PEP, Expression
    from PEPit.functions import SmoothFunction

    T, L, eta, F0 = 3, 1.0, 0.5, 1.0
    problem = PEP()
    func = problem.declare_function(SmoothFunction, L=L)
    fstar = Expression()
    x = problem.set_initial_point()
    g, f0 = func.oracle(x)
    for _ in range(T):
        problem.set_performance_metric(g**2)
        x = x - eta * g
        g, _ = func.oracle(x)
    problem.set_initial_condition(f0 - fstar <= F0)
    for _x, gi, fi in func.list_of_points:
        problem.add_constraint(fi - fstar >= gi**2 / (2 * L))
    gd = problem.solve(wrapper="cvxpy", solver="CLARABEL", verbose=0)
    r = pep.saef_thm(T, which=2, L=L, F0=F0, eta=eta, delta=1.0)
    assert r.dual == pytest.approx(gd, rel=1e-6)


def test_asyncbc_concurrency_one_is_gradient_descent_and_holds():
    r = pep.asyncbc_thm1(4, tau_C=1, tau_max=1)
    assert r.verdict == "holds" and r.instance["pattern"] == [1, 2]  # staleness 0 throughout
    # the same PEP written as plain GD at the stated eta (fedpaq_thm2's construction)
    eta = r.params["eta"]
    from PEPit import PEP

    problem = PEP()
    func, fs = pep._smooth_with_fstar(problem, 1.0)
    x = problem.set_initial_point()
    g, f0 = func.oracle(x)
    total = g**2
    for _ in range(3):
        x = x - eta * g
        g, _ = func.oracle(x)
        total = total + g**2
    problem.set_initial_condition(f0 - fs <= 1.0)
    pep._lower_bound(problem, func, fs, 1.0)
    problem.set_performance_metric(0.25 * total)
    assert problem.solve(wrapper="cvxpy", solver="CLARABEL", verbose=0) == pytest.approx(
        r.dual, rel=1e-6
    )


def test_asyncbc_worst_delivery_order_holds():
    r = pep.asyncbc_thm1(6, tau_C=2, tau_max=2)
    assert r.verdict == "holds" and r.variant == "2,2"
    assert "T=6: worst of 5 delivery order(s)" in r.note
    # "any delay up to tau_max" is the maximum over orders: no order does worse than the reported
    values = []
    for pat in delay_patterns(6, 2, 2):
        problem, _ = pep._asyncbc_pep(6, 1.0, 1.0, r.params["eta"], 2, pat)
        values.append(problem.solve(wrapper="cvxpy", solver="CLARABEL", verbose=0))
    assert max(values) == pytest.approx(r.dual, rel=1e-6)
    assert tuple(r.instance["pattern"]) == delay_patterns(6, 2, 2)[values.index(max(values))]


@settings(max_examples=30, deadline=None)
@given(T=st.integers(2, 7), tau_C=st.integers(1, 3), extra=st.integers(0, 2))
def test_delay_patterns_respect_bounded_staleness(T, tau_C, extra):
    tau_max = tau_C - 1 + extra
    pats = delay_patterns(T, tau_C, max(tau_max, 0)) if tau_max >= 0 else []
    for pat in pats:
        assert len(pat) == max(T - 2, 0)
        active = [1] * tau_C
        for t, s in enumerate(pat, start=1):
            assert s in active and t - s <= tau_max  # AsyncBC Assumption 3
            active.remove(s)
            active.append(t + 1)
    if tau_C == 1:
        assert pats == [tuple(range(1, T - 1))]


def test_delay_patterns_refuse_impossible_concurrency():
    with pytest.raises(ParameterError, match="tau_C"):
        delay_patterns(4, 3, 1)


def test_qafel_fedbuff_holds():
    rs = pep.sweep("qafel.thm_f1", [1, 2])
    assert all(r.verdict == "holds" and r.failed_conditions == [] for r in rs)
    assert rs[0].params["tau_max"] == 1 and rs[0].params["delta_c"] == 1


def test_replay_fedpaq_thm1_agrees_with_pepit():
    from boundcheck.check.pep_replay import replay_fedpaq_thm1

    out = replay_fedpaq_thm1(2)
    # boundcheck's FedPAQ on the interpolated worst-case function reaches PEPit's value
    assert out["rel_diff"] < 1e-3 and out["x_star_error_bound"] < 1e-3
    assert not out["violated"] and out["replay_lhs"] < out["bound_at_replay_D_k0"]


def test_bad_parameters_are_refused_in_one_line():
    with pytest.raises(ParameterError, match="L=-1"):
        pep.fedpaq_thm2(2, L=-1)
    with pytest.raises(ParameterError, match="unknown parameter"):
        pep.reduction("saef.thm2")(2, tau_C=1)
    with pytest.raises(ParameterError, match="no deterministic special case"):
        pep.reduction("fedpaq.remark1")


# --- CLI ----------------------------------------------------------------------------------------
def test_cli_table_fits_80_columns(capsys):
    assert main(["pep", "fedpaq.thm2", "--T", "1,2"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["reduction", "T", "primal", "dual", "bound", "ratio", "verdict",
                                "time", "s"]  # fmt: skip
    assert max(len(line) for line in lines) <= 80
    assert "tau_le" in out and "tight*" in out


def test_cli_replay_shows_the_second_witness(capsys):
    assert main(["pep", "fedpaq.thm1", "--T", "1", "--replay"]) == 0
    out = capsys.readouterr().out
    assert "T=1: boundcheck 0.8143" in out and max(len(x) for x in out.splitlines()) <= 80
    assert main(["pep", "saef.thm2", "--replay"]) == 2


def test_cli_json_is_strict(capsys):
    assert (
        main(["pep", "asyncbc.thm1", "--T", "4", "--tau_C", "2", "--tau-max", "2", "--json"]) == 0
    )
    doc = json.loads(capsys.readouterr().out, parse_constant=lambda c: pytest.fail(c))
    (r,) = doc["results"]
    assert r["theorem"] == "asyncbc.thm1" and r["params"]["tau_C"] == 2 and r["T"] == 4
    assert r["verdict"] == "holds" and r["primal"] <= r["dual"] + r["tolerance"]


@pytest.mark.parametrize(
    ("argv", "msg"),
    [
        (["pep", "fedpaq.thm2", "--T", "0"], "--T"),
        (["pep", "fedpaq.thm2", "--mu", "1"], "unknown parameter --mu"),
        (["pep", "fedpaq.thm2", "--L", "abc"], "--L 'abc'"),
        (["pep", "qafel.thm_f4_biased"], "no deterministic special case"),
    ],
)
def test_cli_bad_input_exits_2(argv, msg, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert msg in err and len(err.strip().splitlines()) == 1


def test_without_the_extra_the_cli_says_how_to_install():
    code = (
        "import sys; sys.modules['PEPit'] = None\n"
        "from boundcheck.cli import main\n"
        "sys.exit(main(['pep', 'fedpaq.thm2', '--T', '1']))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert p.stderr.strip().count("\n") == 0 and 'pip install "boundcheck[pep]"' in p.stderr


def test_importing_boundcheck_does_not_import_pepit():
    code = (
        "import sys, boundcheck.cli, boundcheck.check.pep, boundcheck.check.pep_replay\n"
        "bad = [m for m in ('PEPit', 'cvxpy') if m in sys.modules]\n"
        "sys.exit(1 if bad else 0)\n"
    )
    assert subprocess.run([sys.executable, "-c", code], timeout=120).returncode == 0


# --- the worst case over the class joins the findings list and the report (issue 14) ------------
def test_findings_pep_lists_every_reduction_of_the_paper(capsys):
    from boundcheck.cli import main

    code = main(["findings", "--paper", "SAEF", "--pep", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert {r["theorem"] for r in out["pep"]} == {"saef.thm1", "saef.thm2"}
    assert all(r["verdict"] in ("holds", "tight") and 0 < r["ratio"] < 1 for r in out["pep"])
    pep_findings = sum(len(r["findings"]) for r in out["pep"])
    assert out["count"] == len(out["symbolic"]) + len(out["derivations"]) + pep_findings
    assert code == (1 if out["count"] else 0)


def test_report_pep_column(tmp_path):
    """`boundcheck report --pep`: the check's theorem gets PEPit's worst case / bound, its verdict
    and whether the class can refute; the summary shows it in its own column, HTML and PDF."""
    from pypdf import PdfReader

    from boundcheck.check.engine import run_specs
    from boundcheck.report import render
    from boundcheck.report.findings import attach_pep

    run = run_specs(["fedpaq_thm1"], scale="ci", cache_dir="", progress=False)
    attach_pep(run)
    wc = run.checks[0].pep
    assert wc["theorem"] == "fedpaq.thm1" and wc["case"].startswith("exact")
    assert wc["verdict"] == "holds" and 0 < wc["ratio"] < 1
    assert wc["ratio"] == max(r["ratio"] for r in wc["results"] if not r["failed_conditions"])
    files = render(run, tmp_path / "out")
    html = files["html"].read_text()
    assert "worst case over the class (PEPit)" in html and "exact class" in html
    text = "".join(p.extract_text() for p in PdfReader(files["pdf"]).pages[:2])
    assert "worst case (PEPit)" in text
