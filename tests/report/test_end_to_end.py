"""``boundcheck report`` on shipped specs at the CI scale: the engine runs, the report shows it."""

from __future__ import annotations

import json

from test_render import _Doc, _pdf_text

from boundcheck.cli import main


def test_report_runs_shipped_specs(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("BOUNDCHECK_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "r"
    specs = ["asyncbc_thm3", "saef_lemma1_printed"]
    code = main(["report", *specs, "--scale", "ci", "--out", str(out), "--json"])
    data = json.loads(capsys.readouterr().out)
    verdicts = [c["verdict"] for c in data["checks"]]
    assert code == (1 if {"violated", "diverged"} & set(verdicts) else 0)
    assert [c["spec_id"] for c in data["checks"]] == specs
    saved = json.loads((out / "results.json").read_text())
    assert saved["command"] == "boundcheck report asyncbc_thm3 saef_lemma1_printed --scale ci"
    assert all(c["statement_latex"] and c["points"] for c in saved["checks"])
    doc = _Doc()
    doc.feed((out / "report.html").read_text())
    assert len(doc.figures) == len(specs) and doc.tags.get("math", 0) >= len(specs)
    summary = next(t for t in doc.tables if t["class"] == "summary")["rows"][1:]
    assert [(r[0], r[3]) for r in summary] == list(zip(specs, verdicts, strict=True))
    n, text = _pdf_text(out / "report.pdf")
    assert n >= 1 + len(specs)
    for s, v in zip(specs, verdicts, strict=True):
        assert s in text and v.replace(" ", "") in text
