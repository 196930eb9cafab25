"""The self-contained HTML report: Jinja2 template, figures inline as SVG, math as MathML.

Nothing in the file points outside it (no stylesheet, script, font or image URL), so it reads the
same offline as online.
"""

from __future__ import annotations

from typing import Any

from boundcheck.check.results import RunResult

__all__ = ["latex_to_mathml", "render_html"]


def latex_to_mathml(latex: str) -> str:
    """One display-math line as MathML (``latex2mathml``); the LaTeX source in a ``<code>`` element
    when the converter cannot read it."""
    from latex2mathml.converter import convert
    from markupsafe import escape

    try:
        return convert(latex, display="block")
    except Exception:  # latex2mathml raises assorted exception types on unknown input
        return f"<code>{escape(latex)}</code>"


def _env() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("boundcheck.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(run: RunResult, model: dict[str, Any], svgs: list[str]) -> str:
    """The HTML text of the report for ``run`` (``model`` from :func:`boundcheck.report.model.build`,
    ``svgs`` one figure per check, in order)."""
    from markupsafe import Markup

    from boundcheck import __version__

    checks = []
    for c, svg in zip(model["checks"], svgs, strict=True):
        c = dict(c)
        c["mathml"] = [Markup(latex_to_mathml(line)) for line in c["statement_lines"]]
        c["svg"] = Markup(svg)
        checks.append(c)
    return (
        _env()
        .get_template("report.html.j2")
        .render(m={**model, "checks": checks}, version=__version__)
    )
