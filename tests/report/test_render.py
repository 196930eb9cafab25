"""The rendered report as a reader and a parser see it: HTML structure, offline-ness, MathML, PDF
pages and text, re-rendering from results.json."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import make_run

from boundcheck.check.results import RunResult
from boundcheck.report import load_results, render


class _Doc(HTMLParser):
    """Collects what the tests look at: attributes naming resources, figures with their SVGs,
    MathML elements, and the rows of the summary and per-point verdict tables."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.ids: list[str] = []
        self.tags: dict[str, int] = {}
        self.figures: list[dict[str, int]] = []
        self.tables: list[dict] = []
        self.sections: list[str] = []
        self._cell: list[str] | None = None
        self._row: list[str] | None = None
        self._table: dict | None = None
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag, attrs):
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"])
        for k in ("src", "href", "xlink:href", "data", "action", "poster"):
            if a.get(k):
                self.urls.append(a[k])
        if tag == "style":
            self._in_style = True
        if tag == "section":
            self.sections.append(a.get("id", ""))
        if tag == "figure":
            self.figures.append({"svg": 0})
        if tag == "svg" and self.figures:
            self.figures[-1]["svg"] += 1
        if tag == "table":
            self._table = {"class": a.get("class", ""), "rows": [], "section": self.sections[-1:]}
            self.tables.append(self._table)
        if tag == "tr":
            self._row = []
        if tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "style":
            self._in_style = False
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        if tag == "tr" and self._table is not None and self._row is not None:
            self._table["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> tuple[RunResult, dict[str, Path]]:
    run = make_run()
    return run, render(run, tmp_path_factory.mktemp("report") / "out")


def test_writes_the_three_files(rendered):
    _, files = rendered
    assert sorted(files) == ["html", "json", "pdf"]
    assert {p.name for p in files.values()} == {"report.html", "report.pdf", "results.json"}
    assert all(p.stat().st_size > 1000 for p in files.values())
    assert sorted(p.name for p in files["html"].parent.iterdir()) == [
        "report.html",
        "report.pdf",
        "results.json",
    ]  # no temporary left behind


def test_html_summary_and_verdict_tables(rendered):
    run, files = rendered
    doc = _Doc()
    doc.feed(files["html"].read_text())
    summary = next(t for t in doc.tables if t["class"] == "summary")
    rows = summary["rows"][1:]
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (c.spec_id, c.theorem_id, c.verdict) for c in run.checks
    ]
    verdict_tables = [t for t in doc.tables if t["class"] == "verdicts"]
    assert len(verdict_tables) == len(run.checks)
    for t, c in zip(verdict_tables, run.checks, strict=True):
        assert [r[-1] for r in t["rows"][1:]] == [p.verdict for p in c.points]
    # the violated point shows its bound and measured value
    fedpaq = verdict_tables[1]["rows"][2]
    assert fedpaq[1] == "0.08" and fedpaq[2] == "0.12" and fedpaq[-1] == "violated"


def test_html_one_figure_per_check_and_mathml(rendered):
    run, files = rendered
    text = files["html"].read_text()
    doc = _Doc()
    doc.feed(text)
    assert len(doc.figures) == len(run.checks)
    assert all(f["svg"] == 1 for f in doc.figures)
    assert doc.tags.get("math", 0) >= len(run.checks)  # every statement as MathML
    assert doc.tags.get("mfrac", 0) > 0 and doc.tags.get("msub", 0) > 0
    assert r"\frac" not in text  # no raw LaTeX left where math should be


def test_html_is_offline(rendered):
    _, files = rendered
    text = files["html"].read_text()
    doc = _Doc()
    doc.feed(text)
    external = [u for u in doc.urls if re.match(r"(?i)\s*(https?:)?//", u)]
    assert external == []
    assert all(u.startswith("#") for u in doc.urls)  # only links inside the page
    assert "\u200b" not in text  # ids wrap at <wbr>, so they copy as typed
    assert len(doc.ids) == len(set(doc.ids))  # figures do not share glyph or clip-path ids
    assert {u[1:] for u in doc.urls} <= set(doc.ids)  # and every reference finds its target
    assert all(ref in doc.ids for ref in re.findall(r"url\(#([^)]+)\)", text))
    assert "script" not in doc.tags and "link" not in doc.tags and "img" not in doc.tags
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", "".join(doc.styles))
    assert "@import" not in "".join(doc.styles)
    # the only URLs in the file are XML namespace names (xmlns="http://www.w3.org/...")
    for m in re.finditer(r"https?://", text):
        assert re.search(r"xmlns(:\w+)?=\"$", text[: m.start()]), text[
            m.start() - 40 : m.end() + 40
        ]


def test_html_shows_findings_and_calibration(rendered):
    run, files = rendered
    text = files["html"].read_text()
    assert (
        "Outside hypotheses at T = 1000: stated condition fails: eta &lt;= 1/(2 L tau_max)" in text
    )
    assert "the proof needs eq. (31)" in text
    assert "Diverged at T = 1000: 7 of 256 replicas, at steps 412, 415, 530, 531" in text
    assert "Lemma F.9 drops a factor K" in text
    assert "Calibration" in text and "bound x 0.5 called violated" in text
    doc = _Doc()
    doc.feed(text)
    cal = next(t for t in doc.tables if t["class"] == "calibration")["rows"]
    assert cal[0] == ["rate", "T = 100", "T = 1000", "T = 10000"]  # fedpaq_thm1's points
    assert cal[1][1:] == ["0%", "2%", "0%"] and cal[2][1:] == ["96%", "100%", "100%"]
    for c in run.checks:
        assert c.command in text
    assert "2.13.0" in text  # environment: torch version


def _pdf_text(path: Path) -> tuple[int, str]:
    from pypdf import PdfReader

    reader = PdfReader(path)
    text = "".join(page.extract_text() or "" for page in reader.pages)
    return len(reader.pages), re.sub(r"[\s\u200b]+", "", text)


def test_pdf_pages_and_text(rendered):
    run, files = rendered
    n, text = _pdf_text(files["pdf"])
    assert files["pdf"].read_bytes().startswith(b"%PDF-")
    assert n >= 1 + len(run.checks)  # the summary, then each check on its own page(s)
    assert n <= 3 * (1 + len(run.checks))
    for c in run.checks:
        assert c.spec_id in text and c.theorem_id in text
        assert c.verdict.replace(" ", "") in text
        assert c.command.replace(" ", "") in text
    assert "Calibration" in text
    assert r"\frac" not in text  # the statements are typeset, not raw LaTeX


def test_results_json_reads_back_equal(rendered):
    run, files = rendered
    assert load_results(files["json"]) == run


@pytest.mark.parametrize("which", [(0, 2), (2, 4)])
def test_from_json_re_renders_the_same_report(tmp_path, which):
    """``--from-json`` writes the same results.json and the same report text as the first render."""
    from boundcheck.cli import main

    full = make_run()
    run = RunResult(checks=full.checks[which[0] : which[1]], environment=full.environment)
    first = render(run, tmp_path / "first")
    out = tmp_path / "again"
    code = main(["report", "--from-json", str(first["json"]), "--out", str(out), "--quiet"])
    assert code == (1 if which == (0, 2) else 0)  # fedpaq_thm1 is violated; the other two are not
    assert (out / "results.json").read_text() == first["json"].read_text()
    assert (out / "report.html").read_text() == first["html"].read_text()
    assert _pdf_text(out / "report.pdf") == _pdf_text(first["pdf"])


def test_non_finite_values_survive_results_json(tmp_path):
    import math

    from boundcheck.jsonutil import dumps

    run = make_run()
    p = run.checks[0].points[0]
    p.bound, p.ratio, p.max = math.inf, 0.0, math.nan
    path = tmp_path / "r.json"
    path.write_text(dumps(run.to_dict()))
    back = load_results(path).checks[0].points[0]
    assert back.bound == math.inf and math.isnan(back.max) and back.ratio == 0.0
    assert load_results(path).checks[1] == run.checks[1]
