"""``boundcheck falsify``: exit codes, JSON, bad input (issue 13)."""

from __future__ import annotations

import json

import pytest

from boundcheck.cli import main

PLANTED = """
[search]
spec = "asyncbc_thm3_var"
replicas = 64
set = { "check.bound_factor" = 2.0 }  # twice the proof's variance identity: false
free = { "algorithm.eta" = { log = [0.01, 0.9] }, "sweep.T" = { int = [2, 30] } }
"""


def test_planted_violation_exits_1_and_json_is_strict(capsys, tmp_path):
    f = tmp_path / "planted.toml"
    f.write_text(PLANTED)
    code = main(["falsify", "asyncbc.thm3_var", "--space", str(f), "--budget", "6", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["exit_code"] == 1
    (r,) = out["results"]
    assert r["theorem"] == "asyncbc.thm3_var" and r["verdict"] == "violated"
    assert r["method"] == "exact" and abs(r["best_ratio"] - 2.0) < 1e-6  # the identity, x2
    cert = r["certificate"]
    assert cert["replay"]["agrees"] is True
    assert {h["id"] for h in cert["hypotheses"]} >= {"single_concurrency", "eta_lt_1"}


def test_declared_space_json(capsys):
    code = main(["falsify", "asyncbc.thm3", "--budget", "4", "--json"])
    out = json.loads(capsys.readouterr().out)
    (r,) = out["results"]
    assert code == out["exit_code"] == (1 if r["verdict"] == "violated" else 0)
    assert r["space"]["require"] == ["proof_eta_ge_1_2T", "proof_eta_le_1"]


def test_no_violation_exits_0_and_table_fits_80_columns(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    code = main(["falsify", "asyncbc.thm3_var", "--budget", "6"])
    out = capsys.readouterr().out
    assert code == 0
    assert "asyncbc.thm3_var" in out and "holds" in out
    assert max(len(line) for line in out.splitlines()) <= 80


@pytest.mark.parametrize(
    "args, match",
    [
        (["falsify", "no.such"], "no.such"),
        (["falsify", "fedpaq.lemma2"], "no declared search space"),
        (["falsify", "fedpaq.thm2", "--budget", "0"], "--budget 0"),
        (["falsify", "fedpaq.thm2", "--seed", "-1"], "--seed -1"),
        (["falsify", "fedpaq.thm2", "--alpha", "2"], "--alpha 2"),
        (["falsify", "fedpaq.thm2", "--all"], "not both"),
        (["falsify", "fedpaq.thm2", "--executor", "gpu"], "gpu"),
        (["falsify", "fedpaq.thm2", "--budget", "x"], "x"),
        (["falsify", "fedpaq.thm2", "--space", "/no/such.toml"], "no such file"),
        (["falsify", "--all", "--space", "/no/such.toml"], "one theorem"),
    ],
)
def test_bad_input_exits_2_with_one_line(args, match, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert match in err and len(err.strip().splitlines()) == 1


def test_help_teaches():
    from click.testing import CliRunner

    from boundcheck.cli.app import app

    res = CliRunner().invoke(app, ["falsify", "--help"])
    assert res.exit_code == 0
    for word in ("--budget", "--all", "exact", "replay", "Exit codes", "Examples"):
        assert word in res.output


def test_findings_falsify_adds_the_worst_cases(capsys):
    code = main(["findings", "--paper", "AsyncBC", "--falsify", "--falsify-budget", "2", "--json"])
    out = json.loads(capsys.readouterr().out)
    ids = {r["theorem"] for r in out["falsify"]}
    assert {"asyncbc.thm3", "asyncbc.thm3_var", "asyncbc.thm1"} <= ids
    assert not any(i.startswith("fedpaq") for i in ids)
    fal = sum(len(r["findings"]) for r in out["falsify"])
    assert out["count"] == len(out["symbolic"]) + len(out["derivations"]) + fal
    assert code == (1 if out["count"] else 0)


def test_report_falsify_column(tmp_path):
    """`boundcheck report --falsify`: a 'worst case found' column beside the measured
    tightness, in HTML and PDF."""
    from pypdf import PdfReader

    from boundcheck.check.engine import run_specs
    from boundcheck.report import render
    from boundcheck.report.findings import attach_falsify

    run = run_specs(["asyncbc_thm3_var"], scale="ci", cache_dir="", progress=False)
    attach_falsify(run, budget=4)
    wc = run.checks[0].falsify
    assert wc["theorem"] == "asyncbc.thm3_var" and wc["method"] == "exact"
    assert wc["verdict"] == "holds" and 0 < wc["ratio"] <= 1 + 1e-9
    from boundcheck.check.results import RunResult

    assert RunResult.from_dict(run.to_dict()).checks[0].falsify == wc  # results.json round trip
    files = render(run, tmp_path / "out")
    html = files["html"].read_text()
    assert "worst case found" in html and "exact; budget 4" in html
    text = "".join(p.extract_text() for p in PdfReader(files["pdf"]).pages[:2])
    assert "worst case found" in text
