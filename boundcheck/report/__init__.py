"""Reports of a bound-versus-measured run: one self-contained HTML file, a PDF with the same
content, and the run's results as strict JSON (re-render with ``boundcheck report --from-json``).

``render(run, out_dir)`` writes ``report.html``, ``report.pdf`` and ``results.json``. Every file is
first written to a temporary directory beside ``out_dir`` and moved into place only when all three
are complete, so an error leaves nothing half-written. The rendering stack: Jinja2 templates,
matplotlib figures as inline SVG, math as MathML (``latex2mathml``) in the HTML; Typst (the ``typst``
package) for the PDF, with the same figures and the same math typeset by matplotlib's mathtext.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from boundcheck.check.results import RunResult
from boundcheck.errors import ParameterError

__all__ = ["FILES", "check_out_dir", "load_results", "render"]

FILES = {"html": "report.html", "pdf": "report.pdf", "json": "results.json"}


def _writable_base(out_dir: Path) -> Path:
    """The nearest existing ancestor of ``out_dir`` (itself included), checked to be a writable
    directory; ``ParameterError`` naming ``out_dir`` otherwise."""
    if out_dir.exists() and not out_dir.is_dir():
        raise ParameterError(f"--out {out_dir}: exists and is not a directory; give a directory")
    base = out_dir
    while not base.exists():
        base = base.parent
    if not base.is_dir():
        raise ParameterError(f"--out {out_dir}: {base} is not a directory; give a directory")
    if not os.access(base, os.W_OK | os.X_OK):
        raise ParameterError(f"--out {out_dir}: {base} is not writable; give a writable directory")
    return base


def render(run: RunResult, out_dir: str | Path) -> dict[str, Path]:
    """Write the report of ``run`` into ``out_dir`` (created if missing) and return the written
    files as ``{"html": ..., "pdf": ..., "json": ...}``. An existing report there is replaced."""
    from boundcheck.jsonutil import dumps
    from boundcheck.report import figures, html, model, pdf

    out_dir = Path(out_dir)
    base = _writable_base(out_dir)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".boundcheck-report-", dir=base))
    except OSError as err:
        raise ParameterError(f"--out {out_dir}: cannot write there ({err.strerror})") from None
    try:
        m = model.build(run)
        (tmp / FILES["json"]).write_text(dumps(run.to_dict()) + "\n", encoding="utf-8")
        # one drawing per check serves both files: glyphs as paths look the same in every browser
        # and in Typst, and drawing (log-axis tick labels) is most of the render time
        svgs = [figures.check_svg(c) for c in run.checks]
        (tmp / FILES["html"]).write_text(html.render_html(run, m, svgs), encoding="utf-8")
        (tmp / FILES["pdf"]).write_bytes(pdf.render_pdf(run, m, svgs))  # type: ignore[arg-type]
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ParameterError(f"--out {out_dir}: cannot create it ({err.strerror})") from None
        written = {}
        for key, name in FILES.items():
            os.replace(tmp / name, out_dir / name)
            written[key] = out_dir / name
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def check_out_dir(out_dir: str | Path) -> None:
    """Raise ``ParameterError`` unless a report can be written to ``out_dir`` (checked before a
    long run, so the run does not end in an unwritable directory)."""
    _writable_base(Path(out_dir))


_NUMBERS = ("measured", "ci_low", "ci_high", "median", "q10", "q90", "max", "top_share", "bound")


def _restore_nonfinite(obj: Any) -> Any:
    """Undo :func:`boundcheck.jsonutil.to_strict`'s ``null`` + ``k_nonfinite`` for every value,
    so a re-rendered report shows ``∞`` where the first one did."""
    if isinstance(obj, list):
        return [_restore_nonfinite(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        if k.endswith("_nonfinite") and k[: -len("_nonfinite")] in obj:
            continue
        name = obj.get(k + "_nonfinite")
        out[k] = (
            float(name) if v is None and name in ("inf", "-inf", "nan") else _restore_nonfinite(v)
        )
    return out


def load_results(path: str | Path) -> RunResult:
    """A :class:`RunResult` read back from a ``results.json`` that :func:`render` wrote;
    ``ParameterError`` naming the file and the problem when it is missing or not such a file."""
    import json

    path = Path(path)
    where = f"--from-json {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ParameterError(f"{where}: no such file; give a results.json") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ParameterError(f"{where}: cannot read it ({err})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ParameterError(f"{where}: not JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("checks"), list):
        raise ParameterError(f"{where}: not a boundcheck results file (no 'checks' list)")
    data = _restore_nonfinite(data)
    try:
        run = RunResult.from_dict(data)
    except (TypeError, AttributeError, ValueError) as err:
        raise ParameterError(f"{where}: not a boundcheck results file ({err})") from None
    for i, c in enumerate(run.checks):
        for j, p in enumerate(c.points):
            for name in _NUMBERS:
                v = getattr(p, name)
                if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
                    raise ParameterError(
                        f"{where}: checks[{i}].points[{j}].{name} is {v!r}; allowed: a number or null"
                    )
            if not isinstance(p.point, dict) or not isinstance(p.verdict, str):
                raise ParameterError(f"{where}: checks[{i}].points[{j}] is malformed")
    return run
