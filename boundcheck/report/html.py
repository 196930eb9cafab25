"""The self-contained HTML report: Jinja2 template, figures inline as SVG, math as MathML.

Nothing in the file points outside it (no stylesheet, script, font or image URL), so it reads the
same offline as online.
"""

from __future__ import annotations

from typing import Any

from boundcheck.check.results import RunResult

__all__ = ["latex_to_mathml", "render_html", "scope_ids"]


def latex_to_mathml(latex: str) -> str:
    """One display-math line as MathML (``latex2mathml``); the LaTeX source in a ``<code>`` element
    when the converter cannot read it."""
    from latex2mathml.converter import convert
    from markupsafe import escape

    try:
        return convert(latex, display="block")
    except Exception:  # latex2mathml raises assorted exception types on unknown input
        return f"<code>{escape(latex)}</code>"


def scope_ids(svg: str, prefix: str) -> str:
    """``svg`` with every ``id`` and every reference to one (``href="#..."``, ``url(#...)``)
    prefixed, so several inline SVGs in one page never share an id (matplotlib names glyphs and
    clip paths the same way in every figure)."""
    import re

    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}{m.group(1)}"', svg)
    svg = re.sub(r'(href=")#([^"]+)"', lambda m: f'{m.group(1)}#{prefix}{m.group(2)}"', svg)
    return re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}{m.group(1)})", svg)


def wbr(text: str) -> Any:
    """``text`` escaped, with ``<wbr>`` break opportunities after ``_ . / :`` so long ids wrap in
    narrow cells and still copy as typed (no zero-width characters)."""
    import re

    from markupsafe import Markup, escape

    return Markup(re.sub(r"([_./:])", r"\1<wbr>", str(escape(text))))


def _env() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("boundcheck.report", "templates"),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2",)),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["wbr"] = wbr
    return env


def render_html(run: RunResult, model: dict[str, Any], svgs: list[str]) -> str:
    """The HTML text of the report for ``run`` (``model`` from :func:`boundcheck.report.model.build`,
    ``svgs`` one figure per check, in order)."""
    from markupsafe import Markup

    from boundcheck import __version__

    checks = []
    for i, (c, svg) in enumerate(zip(model["checks"], svgs, strict=True)):
        c = dict(c)
        c["mathml"] = [Markup(latex_to_mathml(line)) for line in c["statement_lines"]]
        c["svg"] = Markup(scope_ids(svg, f"f{i}-"))
        checks.append(c)
    return (
        _env()
        .get_template("report.html.j2")
        .render(m={**model, "checks": checks}, version=__version__)
    )
