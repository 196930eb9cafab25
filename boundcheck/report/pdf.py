"""The PDF report: the same view model as the HTML, typeset by Typst (the ``typst`` package).

The template (``templates/report.typ``) reads the view model from a JSON file, so no text from a
result is ever parsed as Typst markup. Figures are matplotlib SVGs (glyphs as paths) and the
statement's math is typeset by matplotlib's mathtext as SVG, from the same LaTeX the HTML turns into
MathML; a long statement is broken into lines at top-level relations and signs
(:func:`boundcheck.report.model.split_latex`) and each line is scaled down only if it is still wider
than the text column.
"""

from __future__ import annotations

import json
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from boundcheck.check.results import RunResult

__all__ = ["render_pdf"]

_TEXT_WIDTH_PT = 500.0  # A4 minus 2 x 17 mm margins, minus the statement box's inset


def _write_math(root: Path, name: str, latex: str) -> dict[str, Any]:
    from boundcheck.report.figures import math_svg

    try:
        svg, w, _h = math_svg(latex, fontsize=12.5)
    except ValueError:  # mathtext cannot parse it: show the source, marked as such
        return {"path": None, "latex": latex, "w": 0.0}
    (root / name).write_text(svg)
    return {"path": name, "latex": latex, "w": min(w, _TEXT_WIDTH_PT)}


def render_pdf(
    run: RunResult, model: dict[str, Any], svgs: list[str], *, fmt: str = "pdf", ppi: float = 110
) -> bytes | list[bytes]:
    """The report for ``run`` as PDF bytes (``fmt="png"``: one PNG per page, for previews).
    ``svgs`` holds one figure per check, glyphs as paths (``figures.check_svg(text_as_paths=True)``)."""
    import typst

    with tempfile.TemporaryDirectory(prefix="boundcheck-pdf-") as tmp:
        root = Path(tmp)
        checks = []
        for i, (c, svg) in enumerate(zip(model["checks"], svgs, strict=True)):
            c = dict(c)
            fig = f"fig{i}.svg"
            (root / fig).write_text(svg)
            c["fig"] = fig
            c["math"] = [
                _write_math(root, f"math{i}_{j}.svg", line)
                for j, line in enumerate(c["statement_lines"])
            ]
            checks.append(c)
        data = {**model, "checks": checks}
        (root / "model.json").write_text(json.dumps(data, ensure_ascii=False))
        template = resources.files("boundcheck.report").joinpath("templates/report.typ")
        (root / "main.typ").write_text(template.read_text(encoding="utf-8"))
        kw: dict[str, Any] = {"root": str(root), "ignore_system_fonts": True}
        if fmt == "png":
            out = typst.compile(str(root / "main.typ"), format="png", ppi=ppi, **kw)
            return out if isinstance(out, list) else [out]
        return typst.compile(str(root / "main.typ"), format="pdf", **kw)
