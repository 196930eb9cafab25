"""The report section of an empirical comparison claim (QAFeL Figure 3's bits claim): a table per
sweep point, the Figure 3 counterpart, the stand-in notice, in the HTML and in the PDF."""

from __future__ import annotations

from test_render import _Doc, _pdf_text

from boundcheck.cli import main

SPEC = """
claim = "qafel.fig3_bits"
replicas = 3
seed = 0

[problem]
family = "quadratic_toy"
n = 1
d = 20
mu = 1.0
L = 1.0
zeta = 0.0

[algorithm]
eta_l = 0.5
eta_g = 0.8
K = 2
P = 2

[compare]
baseline = { name = "fedbuff" }
candidate = { name = "qafel", client_compressor = { name = "qsgd_bits", bits = 4 }, server_compressor = { name = "qsgd_bits", bits = 4 } }

[target]
metric = "f_gap"
value = 0.05
relative = true
horizon = 60

[sweep]
concurrency = [0.001]
"""


def test_report_renders_the_comparison_section(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BOUNDCHECK_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "known.toml"
    spec.write_text(SPEC)
    out = tmp_path / "r"
    assert main(
        ["report", str(spec), "saef_thm2", "--scale", "ci", "--out", str(out), "--quiet"]
    ) in (
        0,
        1,
    )
    capsys.readouterr()
    html = (out / "report.html").read_text()
    doc = _Doc()
    doc.feed(html)
    assert not [u for u in doc.urls if not u.startswith("#")]
    assert len(doc.figures) == 2 and all(f["svg"] == 1 for f in doc.figures)
    tables = [t for t in doc.tables if t["class"] == "comparison"]
    assert len(tables) == 1  # one per sweep point
    rows = {r[0]: r for r in tables[0]["rows"][2:] if len(r) == 7}
    assert set(rows) == {"client uploads", "MB uploaded", "MB broadcast"}
    assert rows["MB uploaded"][5] == "[0.125, 0.1923]"
    assert rows["MB uploaded"][6] in ("reproduced", "not reproduced", "inconclusive")
    summary = next(t for t in doc.tables if t["class"] == "summary")["rows"][1:]
    assert summary[0][0] == "known" and "synthetic stand-in" in summary[0][6]
    assert "Synthetic stand-in." in html and "Ratios per point" in html
    n, text = _pdf_text(out / "report.pdf")
    assert n >= 3
    for s in ("Ratiosperpoint", "Syntheticstand-in", "MBuploaded", "[0.125,0.1923]"):
        assert s in text, s


def test_censored_comparison_survives_results_json(tmp_path, capsys):
    """A horizon too short for the target: every replica censored, infinite upper bounds; the
    saved results.json reads back equal and re-renders the same report."""
    from boundcheck.check.engine import run_specs
    from boundcheck.report import load_results, render

    spec = tmp_path / "short.toml"
    spec.write_text(SPEC.replace("horizon = 60", "horizon = 1"))
    run = run_specs([str(spec)], scale="ci", cache_dir="", progress=False)
    r = run.checks[0].comparison["points"][0]["ratios"]["uploads"]
    assert r["high"] == float("inf") and r["low"] == 0.0
    files = render(run, tmp_path / "a")
    again = load_results(files["json"])
    assert again == run
    assert main(["report", "--from-json", str(files["json"]), "--out", str(tmp_path / "b")]) == 0
    capsys.readouterr()
    assert _pdf_text(tmp_path / "b" / "report.pdf") == _pdf_text(files["pdf"])
    html = (tmp_path / "b" / "report.html").read_text()
    assert "never reached the target" in html and "∞" in html


def test_calibrate_refuses_a_comparison_claim(tmp_path):
    import pytest

    from boundcheck.check.engine import calibrate
    from boundcheck.errors import ParameterError

    spec = tmp_path / "c.toml"
    spec.write_text(SPEC)
    with pytest.raises(ParameterError, match=r"comparison claim .* has no bound to plant"):
        calibrate(str(spec), seeds=1)
