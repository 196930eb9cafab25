"""The report section of an empirical comparison claim (QAFeL Section 4 / Figure 3).

:func:`view` turns a check's ``comparison`` dict (:func:`boundcheck.check.comparison.assemble`)
into the rows both templates render: one table per sweep point (client uploads, MB uploaded and MB
broadcast of both configurations, the ratio candidate / baseline with its bounds, the paper's
claimed range and the verdict); :func:`figure` draws the counterpart of the paper's Figure 3 (the
three communication metrics over the sweep axis, both configurations, and the ratios against the
claimed ranges). Nothing here recomputes a statistic.
"""

from __future__ import annotations

import math
from typing import Any

from boundcheck.check.results import CheckResult

__all__ = ["QUANTITY_TEXT", "figure", "view"]

QUANTITY_TEXT = {
    "uploads": "client uploads",
    "mb_up": "MB uploaded",
    "mb_down": "MB broadcast",
}
_MEAN = {"uploads": "uploads", "mb_up": "mb_up", "mb_down": "mb_down"}
_COL = {"baseline": "#1f3b73", "candidate": "#c25e00"}


def _fmt(v: Any, digits: int = 4) -> str:
    from boundcheck.report.model import fmt

    return fmt(v, digits)


def _coord(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return _fmt(v)


def _label(point: dict[str, Any]) -> str:
    return ", ".join(f"{k} = {_coord(v)}" for k, v in point.items()) or "—"


def view(check: CheckResult) -> dict[str, Any]:
    """The template view of ``check.comparison`` (see the module docstring)."""
    c = check.comparison or {}
    tgt = c.get("target", {})
    what = {"f_gap": "f(x^t) − f*", "grad_norm_sq": "‖∇f(x^t)‖²"}.get(tgt.get("metric"), "metric")
    thr = _fmt(tgt.get("value"))
    target = (
        f"first server step t with {what} ≤ {thr} × its value at x^0"
        if tgt.get("relative")
        else f"first server step t with {what} ≤ {thr}"
    ) + f"; horizon {tgt.get('horizon')} server steps"
    tables = []
    for row in c.get("points", []):
        t: dict[str, Any] = {"point": _label(row["point"]), "verdict": row["verdict"], "rows": []}
        if "ratios" not in row:
            t["error"] = row.get("error", "")
            tables.append(t)
            continue
        arms = row["arms"]
        for q in c["quantities"]:
            k = q["key"]
            r = row["ratios"][k]
            claimed = f"[{_fmt(r['claimed'][0])}, {_fmt(r['claimed'][1])}]"
            if q.get("planted"):
                claimed += " (planted)"
            t["rows"].append(
                {
                    "quantity": QUANTITY_TEXT.get(k, k),
                    "baseline": f"{_fmt(arms['baseline'][_MEAN[k] + '_mean'])} ± "
                    f"{_fmt(arms['baseline'][_MEAN[k] + '_sd'], 2)}",
                    "candidate": f"{_fmt(arms['candidate'][_MEAN[k] + '_mean'])} ± "
                    f"{_fmt(arms['candidate'][_MEAN[k] + '_sd'], 2)}",
                    "ratio": _fmt(r["estimate"]),
                    "ci": f"[{_fmt(r['low'])}, {_fmt(r['high'])}]",
                    "claimed": claimed,
                    "verdict": r["verdict"],
                }
            )
        t["replicas"] = "; ".join(
            f"{a} ({arms[a]['algorithm']}): {arms[a]['reached']} of {arms[a]['R']} reached the "
            f"target" + (f", {arms[a]['censored']} censored" if arms[a]["censored"] else "")
            + (f", {arms[a]['diverged']} diverged" if arms[a]["diverged"] else "")
            + f", τ_max {arms[a]['tau_max']}"
            for a in ("baseline", "candidate")
        )  # fmt: skip
        if row.get("caption_check"):
            t["replicas"] += ". " + row["caption_check"]
        tables.append(t)
    msg = c.get("message") or {}
    message = []
    if msg:
        message = [
            ("dimension d", str(msg.get("d"))),
            (
                "bits per upload",
                f"{_fmt(msg['bits_per_upload']['baseline'])} (baseline) vs "
                f"{_fmt(msg['bits_per_upload']['candidate'])} (candidate): "
                f"{_fmt(msg['reduction_upload'], 3)}× smaller",
            ),
            (
                "bits per broadcast",
                f"{_fmt(msg['bits_per_broadcast']['baseline'])} (baseline) vs "
                f"{_fmt(msg['bits_per_broadcast']['candidate'])} (candidate): "
                f"{_fmt(msg['reduction_broadcast'], 3)}× smaller",
            ),
        ]
    return {
        "statement": c.get("statement", ""),
        "stand_in": c.get("stand_in", ""),
        "baseline": c.get("baseline", ""),
        "candidate": c.get("candidate", ""),
        "target": target,
        "claims": [
            (
                QUANTITY_TEXT.get(q["key"], q["key"]),
                f"candidate / baseline in [{_fmt(q['claimed'][0])}, {_fmt(q['claimed'][1])}]"
                + (
                    f" (planted; the paper's: [{_fmt(q['published'][0])}, "
                    f"{_fmt(q['published'][1])}])"
                    if q.get("planted")
                    else ""
                )
                + f" — “{q['quote']}”",
            )
            for q in c.get("quantities", [])
        ],
        "readings": list(c.get("readings", [])),
        "tables": tables,
        "message": message,
        "method": c.get("method", ""),
        "level": _fmt(c.get("level")),
    }


def figure(check: CheckResult) -> Any:
    """Figure 3's counterpart: client uploads, MB uploaded and MB broadcast to the target over the
    sweep axis (both configurations, mean ± sd over replicas), and the ratios candidate / baseline
    with their bounds against the claimed ranges (shaded)."""
    from matplotlib.figure import Figure

    c = check.comparison or {}
    rows = [r for r in c.get("points", []) if "ratios" in r]
    fig = Figure(figsize=(7.4, 2.5), layout="constrained")
    axes = fig.subplots(1, 4)
    if not rows:
        axes[0].text(0.5, 0.5, "no measurement to plot", ha="center", va="center",
                     transform=axes[0].transAxes, color="#666666")  # fmt: skip
        return fig
    xs = [_coord(r["point"].get(check.x_axis, i)) for i, r in enumerate(rows)]
    pos = list(range(len(rows)))
    w = 0.38
    for ax, k in zip(axes[:3], ("uploads", "mb_up", "mb_down"), strict=True):
        for j, arm in enumerate(("baseline", "candidate")):
            m = [r["arms"][arm][k + "_mean"] for r in rows]
            s = [r["arms"][arm][k + "_sd"] for r in rows]
            name = rows[0]["arms"][arm]["algorithm"]
            ax.bar([p + (j - 0.5) * w for p in pos], m, w, yerr=s, color=_COL[arm],
                   alpha=0.85, label=name, error_kw={"lw": 0.8, "capsize": 2})  # fmt: skip
        ax.set_title(QUANTITY_TEXT[k], fontsize=8.5, loc="left")
        ax.set_xticks(pos, xs)
        ax.set_xlabel(check.x_axis, fontsize=7.5)
    axes[0].legend(fontsize=6.5, frameon=False, loc="upper left")
    ax = axes[3]
    quants = [q for q in c["quantities"]]
    for qi, q in enumerate(quants):
        off = (qi - (len(quants) - 1) / 2) * 0.22
        lo, hi = q["claimed"]
        for p in pos:
            ax.fill_between([p + off - 0.09, p + off + 0.09], [lo, lo], [hi, hi],
                            color="#2e7d32", alpha=0.18, lw=0)  # fmt: skip
        est = [r["ratios"][q["key"]]["estimate"] for r in rows]
        low = [r["ratios"][q["key"]]["low"] for r in rows]
        high = [r["ratios"][q["key"]]["high"] for r in rows]
        top = max([v for v in est if math.isfinite(v)] + [hi]) * 1.6
        for p, e, a, b in zip(pos, est, low, high, strict=True):
            b_ = b if math.isfinite(b) else top
            ax.plot([p + off, p + off], [max(a, 1e-3), b_], color="#333333", lw=1.0)
            ax.plot(
                [p + off], [e], marker="o", ms=3.5, color=["#1f3b73", "#c25e00", "#6a1b9a"][qi % 3]
            )
        ax.plot([], [], marker="o", ls="none", ms=3.5,
                color=["#1f3b73", "#c25e00", "#6a1b9a"][qi % 3],
                label=QUANTITY_TEXT.get(q["key"], q["key"]))  # fmt: skip
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xticks(pos, xs)
    ax.set_xlabel(check.x_axis, fontsize=7.5)
    ax.set_title("ratio, claimed", fontsize=8.5, loc="left")
    ax.legend(fontsize=6, frameon=False, loc="best")
    for a in axes:
        a.tick_params(labelsize=6.5)
        for s in ("top", "right"):
            a.spines[s].set_visible(False)
        a.grid(True, axis="y", color="#e4e4e4", lw=0.6)
    return fig
