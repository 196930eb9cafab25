"""Figures of a report: bound versus measured over a check's sweep axis, and math as SVG.

matplotlib is imported inside the functions (a heavy import the symbolic commands never need); the
figures are :class:`matplotlib.figure.Figure` objects drawn without pyplot, so no GUI backend and no
global figure state is involved.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

from boundcheck.check.results import CheckResult, PointResult

__all__ = ["VERDICT_COLORS", "check_figure", "check_svg", "for_mathtext", "math_svg"]

VERDICT_COLORS = {
    "holds": "#2e7d32",
    "violated": "#c62828",
    "inconclusive": "#e08a00",
    "outside hypotheses": "#8d8d8d",
    "diverged": "#212121",
    "error": "#6a1b9a",
    "reproduced": "#2e7d32",
    "not reproduced": "#c62828",
}
_BOUND = "#1f3b73"
_MEAN = "#c25e00"


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _plottable(check: CheckResult) -> list[tuple[float, PointResult]]:
    pts = [(p.point.get(check.x_axis), p) for p in check.points]
    return sorted(((float(x), p) for x, p in pts if _finite(x)), key=lambda xp: xp[0])


def _or(v: float | None, default: float | None) -> float:
    return float(v) if _finite(v) else (float(default) if _finite(default) else math.nan)


def check_figure(check: CheckResult) -> Any:
    """Bound and measured mean over ``check.x_axis`` (log-log where every value is positive), the
    confidence band (``ci_low``..``ci_high``), the replica spread (q10..q90, median, max), each
    point coloured by its verdict; a second panel with the per-step curves when points carry them."""
    if check.comparison:  # an empirical comparison claim: Figure 3's counterpart
        from boundcheck.report.comparison import figure

        return figure(check)
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    curves = [
        (x, p) for x, p in _plottable(check) if p.curve and p.curve.get("t") and p.curve.get("mean")
    ]
    fig = Figure(figsize=(7.4, 2.7) if curves else (7.4, 2.4), layout="constrained")
    axes = fig.subplots(1, 2, width_ratios=(1.15, 1)) if curves else [fig.subplots()]
    ax = axes[0]
    data = _plottable(check)
    xs = [x for x, _ in data]
    ys_all: list[float] = []
    handles: list[Any] = []
    if xs:
        bound = [_or(p.bound, None) for _, p in data]
        mean = [_or(p.measured, None) for _, p in data]
        lo = [_or(p.ci_low, p.measured) for _, p in data]
        hi = [_or(p.ci_high, p.measured) for _, p in data]
        q10 = [_or(p.q10, None) for _, p in data]
        q90 = [_or(p.q90, None) for _, p in data]
        med = [_or(p.median, None) for _, p in data]
        mx = [_or(p.max, None) for _, p in data]
        ys_all = [y for y in bound + mean + lo + hi + q10 + q90 + med + mx if math.isfinite(y)]
        many = len(xs) > 1
        if any(math.isfinite(a) and math.isfinite(b) for a, b in zip(q10, q90, strict=True)):
            if many:
                ax.fill_between(xs, q10, q90, color=_MEAN, alpha=0.10, lw=0)
            else:
                ax.vlines(xs, q10, q90, color=_MEAN, alpha=0.35, lw=6)
            handles.append(
                _patch(fig, _MEAN, 0.12, "replica spread q10–q90"),
            )
        if any(
            math.isfinite(a) and math.isfinite(b) and a != b for a, b in zip(lo, hi, strict=True)
        ):
            if many:
                ax.fill_between(xs, lo, hi, color=_MEAN, alpha=0.30, lw=0)
            else:
                ax.vlines(xs, lo, hi, color=_MEAN, alpha=0.6, lw=3)
            handles.append(_patch(fig, _MEAN, 0.32, "confidence band"))
        (lb,) = ax.plot(xs, bound, color=_BOUND, lw=2.0, marker="s", ms=3.5, label="bound")
        if any(math.isfinite(b) for b in bound):  # order claims have no bound to draw
            handles.insert(0, lb)
        ax.plot(xs, mean, color=_MEAN, lw=1.2, zorder=3)
        ax.plot(xs, med, ls="none", marker="_", ms=9, mew=1.4, color=_MEAN, zorder=4)
        ax.plot(xs, mx, ls="none", marker="^", ms=4, mfc="none", color=_MEAN, mew=0.9, zorder=4)
        for (x, p), y in zip(data, mean, strict=True):
            if not math.isfinite(y):
                continue
            c = VERDICT_COLORS.get(p.verdict, "#444444")
            hollow = p.verdict == "outside hypotheses"
            mk = "X" if p.verdict == "diverged" else "o"
            ax.plot(
                [x], [y], marker=mk, ms=6.5, ls="none", color=c,
                mfc="white" if hollow else c, mec=c, mew=1.3, zorder=5,
            )  # fmt: skip
        handles += [
            Line2D([], [], color=_MEAN, lw=1.2, marker="o", ms=5, label="measured (mean)"),
            Line2D([], [], color=_MEAN, ls="none", marker="_", ms=9, mew=1.4, label="median"),
            Line2D([], [], color=_MEAN, ls="none", marker="^", mfc="none", ms=4, label="max"),
        ]
        verdicts = list(dict.fromkeys(p.verdict for _, p in data))
        handles += [
            Line2D(
                [],
                [],
                ls="none",
                marker="X" if v == "diverged" else "o",
                ms=6,
                color=VERDICT_COLORS.get(v, "#444"),
                mfc="white" if v == "outside hypotheses" else VERDICT_COLORS.get(v, "#444"),
                label=v,
            )
            for v in verdicts
        ]
    if not ys_all:
        ax.text(
            0.5, 0.5, "no finite measurement to plot", ha="center", va="center",
            transform=ax.transAxes, color="#666666",
        )  # fmt: skip
    else:
        if all(x > 0 for x in xs) and len(set(xs)) > 1:
            ax.set_xscale("log")
        if all(y > 0 for y in ys_all):
            ax.set_yscale("log")
        where = "outside lower center" if curves else "outside right upper"
        fig.legend(
            handles=handles, fontsize=6.5, loc=where, ncol=min(5, len(handles)) if curves else 1,
            frameon=False, handlelength=1.6,
        )  # fmt: skip
    ax.set_xlabel(check.x_axis or "point")
    ax.set_ylabel("value")
    if curves:
        ax.set_title("bound versus measured", fontsize=9, loc="left")
    ax.grid(True, which="major", color="#e4e4e4", lw=0.6)
    if curves:
        _curves_panel(axes[1], curves, check.x_axis)
    for a in axes:
        a.tick_params(labelsize=7)
        a.xaxis.label.set_size(8)
        a.yaxis.label.set_size(8)
        for s in ("top", "right"):
            a.spines[s].set_visible(False)
    return fig


def _patch(fig: Any, color: str, alpha: float, label: str) -> Any:
    from matplotlib.patches import Patch

    return Patch(facecolor=color, alpha=alpha, lw=0, label=label)


def _curves_panel(ax: Any, curves: list[tuple[float, PointResult]], x_axis: str) -> None:
    """Per-step mean (solid) and bound (dashed) of each point; log-log when every value at t > 0
    is positive (the step t = 0 is then left out, as a log axis cannot show it)."""
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    series = []
    for x, p in curves:
        assert p.curve is not None
        t = [float(v) if _finite(v) else math.nan for v in p.curve["t"]]
        m = [float(v) if _finite(v) else math.nan for v in p.curve["mean"]]
        b = [float(v) if _finite(v) else math.nan for v in p.curve.get("bound") or []]
        series.append((x, t, m, b))
    pos = all(
        v > 0
        for _, t, m, b in series
        for i, ti in enumerate(t)
        if ti > 0
        for v in (m[i], b[i] if i < len(b) else 1.0)
        if math.isfinite(v)
    )
    for i, (x, t, m, b) in enumerate(series):
        keep = [j for j, tj in enumerate(t) if tj > 0 or not pos]
        c = cmap(0.1 + 0.8 * i / max(1, len(series) - 1))
        xv = f"{int(x)}" if float(x).is_integer() else f"{x:.3g}"
        ax.plot(
            [t[j] for j in keep], [m[j] for j in keep], color=c, lw=1.1, label=f"{x_axis} = {xv}"
        )
        if b:
            kb = [j for j in keep if j < len(b)]
            ax.plot([t[j] for j in kb], [b[j] for j in kb], color=c, lw=1.0, ls="--")
    if pos:
        ax.set_xscale("log")
        ax.set_yscale("log")
    ax.set_xlabel("step t")
    ax.set_title("per-step mean (solid) and bound (dashed)", fontsize=9, loc="left")
    ax.grid(True, which="major", color="#e4e4e4", lw=0.6)
    ax.legend(fontsize=6.5, loc="best", framealpha=0.85, handlelength=1.6)


def _clean_svg(svg: str) -> str:
    """Drop the XML prolog, DOCTYPE (an external DTD URL) and RDF metadata, so the inline SVG names
    no external resource."""
    svg = re.sub(r"<\?xml[^>]*\?>\s*", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    return svg.strip()


def _svg(fig: Any, text_as_paths: bool) -> str:
    import matplotlib

    buf = io.StringIO()
    rc = {"svg.fonttype": "path" if text_as_paths else "none", "svg.hashsalt": "boundcheck"}
    with matplotlib.rc_context(rc):  # a fixed salt: the same run gives the same file
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return _clean_svg(buf.getvalue())


def check_svg(check: CheckResult, *, text_as_paths: bool = True) -> str:
    """The check's figure as SVG text; glyphs as paths by default, so it looks the same whatever
    fonts the browser or the PDF engine has (``text_as_paths=False``: smaller, text selectable)."""
    return _svg(check_figure(check), text_as_paths)


def for_mathtext(latex: str) -> str:
    """``latex`` in the dialect of matplotlib's mathtext, which knows ``\\leq``/``\\geq`` but
    not the short forms ``\\le``/``\\ge`` that SymPy and authors write."""
    return re.sub(r"\\(le|ge)(?![A-Za-z])", r"\\\1q", latex)


def math_svg(latex: str, fontsize: float = 11.0) -> tuple[str, float, float]:
    """``latex`` typeset by matplotlib's mathtext as SVG (glyphs as paths): ``(svg, width_pt,
    height_pt)``. Raises ``ValueError`` when mathtext cannot parse the expression."""
    import matplotlib
    from matplotlib.figure import Figure

    latex = for_mathtext(latex)
    buf = io.StringIO()
    rc = {"svg.fonttype": "path", "mathtext.fontset": "cm", "svg.hashsalt": "boundcheck"}
    with matplotlib.rc_context(rc):
        fig = Figure(figsize=(0.01, 0.01))
        fig.text(0, 0, f"${latex}$", fontsize=fontsize)
        # a small pad: the tight box alone clips the last glyph's side bearing
        fig.savefig(
            buf, format="svg", bbox_inches="tight", pad_inches=0.02, transparent=True,
            metadata={"Date": None},
        )  # fmt: skip
    svg = _clean_svg(buf.getvalue())
    w = re.search(r'width="([\d.]+)pt"', svg)
    h = re.search(r'height="([\d.]+)pt"', svg)
    return svg, float(w.group(1)) if w else 0.0, float(h.group(1)) if h else 0.0
