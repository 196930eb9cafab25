"""The pieces of a report: number formatting, statement line breaking, figures' axes."""

from __future__ import annotations

import math

import pytest
import sympy as sp
from conftest import make_run
from hypothesis import given
from hypothesis import strategies as st

from boundcheck.check.results import CheckResult, PointResult
from boundcheck.report.figures import for_mathtext
from boundcheck.report.model import build, fmt, split_latex
from boundcheck.theory import registry
from boundcheck.theory import symbols as S


@pytest.mark.parametrize(
    ("v", "s"),
    [
        (None, "—"),
        (0.0, "0"),
        (10000.0, "10000"),
        (12345.6, "12350"),
        (0.5, "0.5"),
        (-0.25, "−0.25"),
        (1.23456e-7, "1.235e−7"),
        (2.5e9, "2.5e9"),
        (math.inf, "∞"),
        (math.nan, "NaN"),
        (7, "7"),
    ],
)
def test_fmt(v, s):
    assert fmt(v) == s


def _balanced(s: str) -> bool:
    depth = 0
    for c in s.replace(r"\{", "").replace(r"\}", ""):
        depth += {"{": 1, "}": -1}.get(c, 0)
        if depth < 0:
            return False
    return depth == 0 and s.count(r"\left") == s.count(r"\right")


def _registry_statements() -> list[tuple[str, str]]:
    names = {i.symbol: i.latex for i in S.catalogue().values()}
    return [
        (t.id, r"\mathbb{E} X \le " + sp.latex(t.bound, symbol_names=names))
        for t in registry.all_theorems()
        if t.bound is not None
    ]


@pytest.mark.parametrize(("tid", "latex"), _registry_statements(), ids=lambda x: x[:30])
def test_split_latex_on_every_theorem(tid, latex):
    """Every encoded bound breaks into lines that keep every token, balance their braces and
    ``\\left``/``\\right``, and that both math renderers read."""
    from latex2mathml.converter import convert
    from matplotlib.mathtext import MathTextParser

    lines = split_latex(latex, max_chars=60)
    assert "".join(lines).replace(" ", "") == latex.replace(" ", "")
    parser = MathTextParser("path")
    for line in lines:
        assert _balanced(line), line
        parser.parse("$" + for_mathtext(line) + "$")
        assert "<math" in convert(line)


@given(
    st.lists(
        st.sampled_from(["a", r"\frac{x}{y}", r"\left(b + c\right)", "{d - e}", r"\sigma^{2}"]),
        min_size=1,
        max_size=40,
    ),
    st.lists(st.sampled_from(["+", "-"]), min_size=40, max_size=40),
    st.integers(10, 120),
)
def test_split_latex_keeps_terms_whole(terms, signs, width):
    latex = r"y \le " + " ".join(f"{t} {s}" for t, s in zip(terms, signs, strict=False)) + " z"
    lines = split_latex(latex, max_chars=width)
    assert "".join(lines).replace(" ", "") == latex.replace(" ", "")
    assert all(_balanced(line) for line in lines)
    assert all(line.strip() for line in lines)
    if len(latex) <= width:
        assert lines == [latex]
    else:  # no line longer than the width unless it is a single unbreakable piece
        assert all(len(line) <= width or split_latex(line, 1) == [line] for line in lines)


def test_view_model_counts_and_findings():
    run = make_run()
    m = build(run)
    assert m["headline"] == "6 checks: 3 holds, 1 violated, 1 inconclusive, 1 diverged"
    rows = {s["spec_id_wrap"].replace("\u200b", ""): s for s in m["summary"]}
    assert rows["asyncbc_thm3"]["findings"] == "1 point outside hypotheses"
    assert rows["fedpaq_thm1"]["points"] == "1 holds, 1 violated, 1 inconclusive"
    assert "order: holds" in rows["qafel_prop3_5_order"]["findings"]
    syms = {s["name"]: s for s in m["checks"][0]["symbols"]}
    assert syms["L"]["value"] == "1" and syms["L"]["provenance"] == "certified"
    assert syms["tau_max"]["value"] == "6 / 7 / 8 (per point)"
    assert m["checks"][2]["points"][0]["measured"] == "—"  # a missing value stays visible


def test_figure_axes():
    from boundcheck.report.figures import check_figure

    run = make_run()
    fig = check_figure(run.checks[0])
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(fig.axes) == 2  # the per-step curves panel
    neg = CheckResult(
        spec_id="n", theorem_id="t", source="s", paper="p", statement_latex="x", lhs_text="x",
        direction="upper", problem={}, algorithm={}, x_axis="zeta",
        points=[
            PointResult(point={"zeta": z}, measured=m, bound=1.0, verdict="holds")
            for z, m in ((0.0, -0.5), (1.0, 0.2), (2.0, 0.3))
        ],
    )  # fmt: skip
    fig = check_figure(neg)
    assert fig.axes[0].get_xscale() == "linear" and fig.axes[0].get_yscale() == "linear"
    empty = CheckResult(
        spec_id="e", theorem_id="t", source="s", paper="p", statement_latex="", lhs_text="",
        direction="upper", problem={}, algorithm={}, x_axis="T",
        points=[PointResult(point={"T": 10.0}, verdict="error")],
    )  # fmt: skip
    texts = [t.get_text() for t in check_figure(empty).axes[0].texts]
    assert texts == ["no finite measurement to plot"]


def test_outside_hypotheses_said_once():
    """A failing condition is listed from the point's fields unless the engine's findings of the
    check already state it."""
    run = make_run()
    check = run.checks[3]  # asyncbc_thm3, one point outside the hypotheses
    lines = build(run)["checks"][3]["findings"]
    assert sum("stated condition fails" in f for f in lines) == 1
    check.findings = [f"[T=1000] outside hypotheses: {check.points[1].failing_conditions[0]}"]
    lines = build(run)["checks"][3]["findings"]
    assert sum("eta <= 1/(2 L tau_max)" in f for f in lines) == 1
    assert lines[0] == check.findings[0]


def test_theory_findings_attached_per_theorem():
    from boundcheck.report.findings import attach_theory_findings

    run = make_run()
    fedpaq, saef_l1 = run.checks[1], run.checks[2]
    fedpaq.dimension_findings, fedpaq.derivation_findings = [], []
    saef_l1.theorem_id = "user.my_theorem"  # not in the registry: left alone
    kept = list(run.checks[0].derivation_findings)
    attach_theory_findings(run)
    assert any(
        f.startswith("bound: terms of a sum mix dimensions")
        and "C2*(tau - 1)**2/(k*tau + 1) ~ [F]^2 [X]^-2" in f
        for f in fedpaq.dimension_findings
    )
    # the audit's refuted check of FedPAQ Theorem 1's stepsize (A.6: (13) => (67)), computed now
    assert any("[boundcheck derive fedpaq.a6_stepsize]" in f for f in fedpaq.derivation_findings)
    assert saef_l1.dimension_findings == [] and saef_l1.derivation_findings == []
    assert run.checks[0].derivation_findings == kept  # the engine's own are not replaced
    assert not any(f.startswith("cannot ") for c in run.checks for f in c.dimension_findings)


def test_curves_panel_log_log_from_step_one():
    """Curves that start at t = 0 still get log-log axes when every value at t > 0 is positive."""
    from boundcheck.report.figures import check_figure

    run = make_run()
    c = run.checks[0]
    for p in c.points:
        assert p.curve is not None
        p.curve = {k: [v[0], *v] for k, v in p.curve.items()}
        p.curve["t"][0] = 0.0
    ax = check_figure(c).axes[1]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert min(min(line.get_xdata()) for line in ax.get_lines()) > 0
    c.points[0].curve["mean"][3] = -1.0  # a negative value: linear axes, every step shown
    ax = check_figure(c).axes[1]
    assert ax.get_xscale() == "linear" and min(ax.get_lines()[0].get_xdata()) == 0.0
