"""What a report shows, computed once from a :class:`~boundcheck.check.results.RunResult`.

The HTML and the PDF render the same view model (plain dicts and strings), so both show the same
numbers, words and order; only the markup differs. Nothing here recomputes a statistic: every number
is a field of the result types, formatted.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from typing import Any

from boundcheck.check.results import (
    CLAIM_VERDICTS,
    VERDICTS,
    CheckResult,
    PointResult,
    RunResult,
)

__all__ = ["VERDICT_HELP", "build", "fmt", "split_latex"]

VERDICT_HELP = {
    "holds": "the one-sided confidence bound on the measured quantity lies on the bound's side",
    "violated": "the opposite one-sided confidence bound crosses the bound",
    "inconclusive": "neither, or a few replicas dominate the mean",
    "outside hypotheses": "a stated condition of the theorem fails at the point (run with --force)",
    "diverged": "replicas diverged (the steps are listed)",
    "error": "the point could not be evaluated",
    "reproduced": "comparison claim: the ratio's confidence interval lies inside the claimed range",
    "not reproduced": "comparison claim: the ratio's confidence interval lies outside the claimed "
    "range (on a synthetic stand-in, not the paper's experiment)",
}

_DIRECTION_TEXT = {
    "upper": "upper bound: measured ≤ bound",
    "lower": "lower bound: measured ≥ bound",
    "nonconvergence": "non-convergence: measured ≥ bound",
    "pathwise": "pathwise: every replica and step ≤ bound",
    "order": "order claim: fitted slope against the claimed one",
    "comparison": "comparison claim: ratios candidate / baseline against the paper's ranges",
}


def fmt(v: Any, digits: int = 4) -> str:
    """A number for a table: ``digits`` significant digits, ``—`` when missing."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v == 0:
            return "0"
        a = abs(v)
        if 1e-3 <= a < 1e6:
            s = f"{v:.{digits}g}"
            if "e" in s:  # 12345.6 at 4 digits: 12350, not 1.235e+04
                s = f"{float(s):.0f}"
        else:
            m, e = f"{v:.{digits - 1}e}".split("e")
            m = m.rstrip("0").rstrip(".")
            s = f"{m}e{int(e)}"
        return s.replace("-", "−")
    return str(v)


def _coord(v: Any) -> str:
    """A sweep coordinate: integers without a decimal point."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return fmt(v)


def breakable(s: str) -> str:
    """``s`` with zero-width spaces after ``_ . / :`` so long ids wrap in narrow table cells."""
    return re.sub(r"([_./:])", "\\1\u200b", s)


# ---------------------------------------------------------------------------------------------
# LaTeX: split a long statement into lines at top-level relations and + / - signs


_RELATIONS = (r"\leq", r"\geq", r"\le", r"\ge", r"\lt", r"\gt", "<", ">", "=")


def split_latex(latex: str, max_chars: int = 110) -> list[str]:
    """Lines of ``latex`` for display: break after a top-level relation and before a top-level
    ``+``/``-`` (not inside braces, ``\\left...\\right``), packing terms greedily up to
    ``max_chars`` characters per line. Each line is valid LaTeX on its own; continuation lines start
    with the sign. Short statements come back as one line."""
    latex = latex.strip()
    if len(latex) <= max_chars:
        return [latex]
    pieces: list[str] = []
    depth = 0
    start = 0
    i = 0
    n = len(latex)
    prev_sig = ""  # last non-space character at depth 0, to tell binary from unary signs
    while i < n:
        c = latex[i]
        if c == "\\":
            m = re.match(r"\\([A-Za-z]+|.)", latex[i:])
            word = m.group(0) if m else "\\"
            if word == r"\left":
                depth += 1
            elif word == r"\right":
                depth -= 1
            elif depth == 0 and word in _RELATIONS:
                end = i + len(word)
                pieces.append(latex[start:end])
                start = end
                prev_sig = "rel"
                i = end
                continue
            i += len(word)
            prev_sig = word
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif depth == 0 and c in "+-" and prev_sig not in ("", "rel", "(", "{", "^", "_"):
            if latex[start:i].strip():
                pieces.append(latex[start:i])
                start = i
        elif depth == 0 and c in "<>=":
            pieces.append(latex[start : i + 1])
            start = i + 1
            prev_sig = "rel"
            i += 1
            continue
        if not c.isspace():
            prev_sig = c
        i += 1
    pieces.append(latex[start:])
    pieces = [p.strip() for p in pieces if p.strip()]
    lines: list[str] = []
    cur = ""
    for p in pieces:
        if cur and len(cur) + len(p) + 1 > max_chars:
            lines.append(cur)
            cur = p
        else:
            cur = f"{cur} {p}" if cur else p
    if cur:
        lines.append(cur)
    return lines


# ---------------------------------------------------------------------------------------------
# the view model


def _point_label(p: PointResult, x_axis: str) -> str:
    items = sorted(p.point.items(), key=lambda kv: kv[0] != x_axis)
    return ", ".join(f"{k} = {_coord(v)}" for k, v in items) or "—"


def _verdict_counts(verdicts: list[str]) -> str:
    c = Counter(verdicts)
    known = (*VERDICTS, *CLAIM_VERDICTS)
    order = [v for v in known if v in c] + sorted(v for v in c if v not in known)
    return ", ".join(f"{c[v]} {v}" for v in order)


def _symbols(check: CheckResult) -> list[dict[str, str]]:
    """One row per symbol: its value (or its values over the points), provenance and source."""
    rows: dict[str, dict[str, Any]] = {}
    for p in check.points:
        for sv in p.values:
            r = rows.setdefault(
                sv.name, {"values": [], "provenance": [], "source": [], "name": sv.name}
            )
            r["values"].append(sv.value)
            if sv.provenance not in r["provenance"]:
                r["provenance"].append(sv.provenance)
            if sv.source and sv.source not in r["source"]:
                r["source"].append(sv.source)
    out = []
    for r in rows.values():
        vals = r["values"]
        distinct = list(dict.fromkeys(fmt(v) for v in vals))
        if len(distinct) == 1:
            value = distinct[0]
        elif len(distinct) <= 6:
            value = " / ".join(fmt(v) for v in vals) + " (per point)"
        else:
            finite = [v for v in vals if v is not None and math.isfinite(v)]
            value = (
                f"{fmt(min(finite))} … {fmt(max(finite))} over {len(vals)} points"
                if finite
                else "—"
            )
        out.append(
            {
                "name": r["name"],
                "value": value,
                "provenance": ", ".join(r["provenance"]),
                "source": "; ".join(r["source"]),
            }
        )
    return out


def _point_row(p: PointResult, x_axis: str) -> dict[str, Any]:
    spread = "—" if p.q10 is None and p.q90 is None else f"{fmt(p.q10)} – {fmt(p.q90)}"
    ci = "—" if p.ci_low is None and p.ci_high is None else f"[{fmt(p.ci_low)}, {fmt(p.ci_high)}]"
    reps = str(p.n_replicas)
    if p.n_diverged:
        reps += f" ({p.n_diverged} div.)"
    return {
        "point": _point_label(p, x_axis),
        "bound": fmt(p.bound),
        "measured": fmt(p.measured),
        "ci": ci,
        "median": fmt(p.median),
        "spread": spread,
        "max": fmt(p.max),
        "top_share": "—" if p.top_share is None else f"{100 * p.top_share:.0f}%",
        "ratio": fmt(p.ratio, 3),
        "replicas": reps,
        "verdict": p.verdict,
    }


def _point_findings(check: CheckResult) -> list[str]:
    """Outside-hypotheses, proof-condition, divergence and note lines, one per point and kind."""
    out = []
    for p in check.points:
        where = _point_label(p, check.x_axis)
        # the engine may already state it as a finding of the check: say it once
        said = any(all(c in f for c in p.failing_conditions) for f in check.findings)
        if p.failing_conditions and not said:
            out.append(
                f"Outside hypotheses at {where}: stated condition fails: "
                + "; ".join(p.failing_conditions)
            )
        if p.proof_conditions_failing:
            out.append(
                f"At {where} the proof needs "
                + "; ".join(p.proof_conditions_failing)
                + ", which fails here (reported, not an excuse for the verdict)"
            )
        if p.n_diverged:
            steps = ", ".join(str(s) for s in p.diverged_steps[:10])
            more = f" and {len(p.diverged_steps) - 10} more" if len(p.diverged_steps) > 10 else ""
            out.append(
                f"Diverged at {where}: {p.n_diverged} of {p.n_replicas} replicas"
                + (f", at steps {steps}{more}" if steps else "")
            )
        out.extend(f"At {where}: {note}" for note in p.notes)
    return out


def _summary_sentence(check: CheckResult) -> str:
    verdicts = [p.verdict for p in check.points]
    if not verdicts:
        return "No sweep points."
    s = f"{len(verdicts)} point{'s' if len(verdicts) != 1 else ''}: {_verdict_counts(verdicts)}."
    if check.tightness is not None:
        s += f" Tightness {fmt(check.tightness, 3)} (largest measured/bound inside the hypotheses)."
    return s


def _order(check: CheckResult) -> list[tuple[str, str]] | None:
    if not check.order:
        return None
    rows = []
    for k, v in check.order.items():
        if isinstance(v, (list, tuple)):
            v = "[" + ", ".join(fmt(x) for x in v) + "]"
        rows.append((k.replace("_", " "), fmt(v) if not isinstance(v, str) else v))
    return rows


def _kv(d: dict[str, Any] | None) -> list[tuple[str, str]]:
    rows = []
    for k, v in (d or {}).items():
        if isinstance(v, dict):
            v = ", ".join(f"{kk} = {fmt(vv)}" for kk, vv in v.items())
        elif isinstance(v, (list, tuple)):
            v = ", ".join(fmt(x) for x in v)
        else:
            v = fmt(v)
        rows.append((str(k), str(v)))
    return rows


_RATE_LABELS = {
    "false_alarm": "true bound called violated (false alarm; nominal at most alpha)",
    "power_half": "planted: bound x 0.5 called violated (power; wanted at least 95%)",
    "power_drop": "planted: dominant term dropped called violated (power; wanted at least 95%)",
}


def _is_numbers(v: Any) -> bool:
    return (
        isinstance(v, list) and bool(v) and all(isinstance(x, (int, float)) or x is None for x in v)
    )


def _calibration(
    cal: dict[str, Any] | None, checks: list[CheckResult] = ()
) -> dict[str, Any] | None:
    """Planted-bound rates (:func:`boundcheck.check.engine.calibrate`): the per-point rate lists
    (``false_alarm``, ``power_half``, ``power_drop``, or any list of numbers) as a table with one
    row per rate and one column per sweep point; a list of row dicts as a table of its own; every
    other entry as key/value. The columns are named by the sweep points of the run's check of the
    same spec when there is one."""
    if not cal:
        return None
    rates = {k: v for k, v in cal.items() if _is_numbers(v)}
    table = None
    if rates:
        n = max(len(v) for v in rates.values())
        names = [f"point {i + 1}" for i in range(n)]
        same = [c for c in checks if c.spec_id == cal.get("spec") and len(c.points) == n]
        if same:
            names = [_point_label(p, same[0].x_axis) for p in same[0].points]
        table = {
            "columns": ["rate", *names],
            "rows": [
                [_RATE_LABELS.get(k, k.replace("_", " "))]
                + ["—" if i >= len(v) or v[i] is None else f"{100 * v[i]:.0f}%" for i in range(n)]
                for k, v in rates.items()
            ],
        }
    rest = {}
    for k, v in cal.items():
        if k in rates:
            continue
        if table is None and isinstance(v, list) and v and all(isinstance(r, dict) for r in v):
            cols = list(dict.fromkeys(c for r in v for c in r))
            table = {
                "columns": [c.replace("_", " ") for c in cols],
                "rows": [[fmt(r.get(c)) for c in cols] for r in v],
            }
        else:
            rest[k] = v
    return {"table": table, "items": _kv(rest)}


def _check(check: CheckResult, idx: int) -> dict[str, Any]:
    findings = list(check.findings) + _point_findings(check)
    return {
        "idx": idx,
        "anchor": "check-" + re.sub(r"[^A-Za-z0-9_-]", "-", check.spec_id or str(idx)),
        "spec_id": check.spec_id,
        "spec_id_wrap": breakable(check.spec_id),
        "theorem_id": check.theorem_id,
        "theorem_id_wrap": breakable(check.theorem_id),
        "source": check.source,
        "paper": check.paper,
        "statement_latex": check.statement_latex,
        "statement_lines": split_latex(check.statement_latex) if check.statement_latex else [],
        "lhs_text": check.lhs_text,
        "direction": _DIRECTION_TEXT.get(check.direction, check.direction),
        "verdict": check.verdict,
        "tightness": fmt(check.tightness, 3),
        "summary": _summary_sentence(check),
        "x_axis": check.x_axis,
        "symbols": _symbols(check),
        "points": [_point_row(p, check.x_axis) for p in check.points],
        "findings": findings,
        "dimension_findings": list(check.dimension_findings),
        "derivation_findings": list(check.derivation_findings),
        "n_findings": len(findings)
        + len(check.dimension_findings)
        + len(check.derivation_findings),
        "order": _order(check),
        "problem": _kv(check.problem),
        "algorithm": _kv(check.algorithm),
        "command": check.command,
        "run": [
            ("seed", str(check.seed)),
            ("replicas", str(check.replicas)),
            ("alpha", fmt(check.alpha)),
            ("device", check.device),
            ("dtype", check.dtype),
            ("wall time", "—" if check.wall_s is None else f"{check.wall_s:.1f} s"),
        ],
        "estimators": sorted({p.estimator for p in check.points if p.estimator}),
        "comparison": _comparison(check),
    }


def _comparison(check: CheckResult) -> dict[str, Any] | None:
    if not check.comparison:
        return None
    from boundcheck.report.comparison import view

    return view(check)


def _findings_short(c: dict[str, Any], check: CheckResult) -> str:
    parts = []
    outside = sum(1 for p in check.points if p.verdict == "outside hypotheses")
    div = sum(1 for p in check.points if p.n_diverged)
    if outside:
        parts.append(f"{outside} point{'s' if outside > 1 else ''} outside hypotheses")
    if div:
        parts.append(f"divergence at {div} point{'s' if div > 1 else ''}")
    if check.findings:
        parts.append(f"{len(check.findings)} computed")
    if check.dimension_findings:
        parts.append(f"{len(check.dimension_findings)} dimension")
    if check.derivation_findings:
        parts.append(f"{len(check.derivation_findings)} derivation")
    if check.order and "verdict" in check.order:
        parts.append(f"order: {check.order['verdict']}")
    if check.comparison:
        parts.insert(0, "comparison claim on a synthetic stand-in")
    return "; ".join(parts) or "none"


def build(run: RunResult) -> dict[str, Any]:
    """The view model of a whole report (see the module docstring)."""
    checks = [_check(c, i) for i, c in enumerate(run.checks)]
    summary = [
        {
            "anchor": c["anchor"],
            "spec_id": c["spec_id"],
            "theorem_id": c["theorem_id"],
            "spec_id_wrap": c["spec_id_wrap"],
            "theorem_id_wrap": c["theorem_id_wrap"],
            "source": c["source"],
            "verdict": c["verdict"],
            "tightness": c["tightness"],
            "points": _verdict_counts([p.verdict for p in rc.points]) or "—",
            "findings": _findings_short(c, rc),
            "pep": _pep_cell(rc.pep),
        }
        for c, rc in zip(checks, run.checks, strict=True)
    ]
    has_pep = any(c.pep is not None for c in run.checks)
    counts = Counter(c.verdict for c in run.checks)
    headline = (
        ", ".join(f"{counts[v]} {v}" for v in (*VERDICTS, *CLAIM_VERDICTS) if counts[v])
        or "no checks"
    )
    env = dict(run.environment)
    return {
        "has_pep": has_pep,
        "title": "boundcheck report: bound versus measured",
        "headline": f"{len(run.checks)} check{'s' if len(run.checks) != 1 else ''}: {headline}",
        "n_violated": counts["violated"],
        "generated": str(env.pop("time", env.pop("date", ""))),
        "command": run.command,
        "alpha": fmt(run.alpha),
        "n_comparisons": run.n_comparisons,
        "wall": "—" if run.wall_s is None else f"{run.wall_s:.1f} s",
        "summary": summary,
        "checks": checks,
        "environment": _kv(env),
        "calibration": _calibration(run.calibration, run.checks),
        "verdict_help": [
            (k, v)
            for k, v in VERDICT_HELP.items()
            if k not in CLAIM_VERDICTS or any(c.comparison for c in run.checks)
        ],
    }


def _pep_cell(pep: dict | None) -> str:
    """The summary's "worst case over the class" cell: PEPit's largest worst case / bound inside
    the stated hypotheses, its verdict, and whether the class is exact (can refute) or not."""
    if pep is None:
        return "—"
    can = "exact class" if str(pep.get("case", "")).startswith("exact") else "confirms only"
    ratio = pep.get("ratio")
    r = "—" if ratio is None else fmt(ratio, 3)
    return (
        f"{r} {pep.get('verdict', '')} ({can}; T = {', '.join(str(t) for t in pep.get('T', []))})"
    )
