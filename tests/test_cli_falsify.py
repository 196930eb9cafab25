"""``boundcheck falsify``: exit codes, JSON, bad input (issue 13)."""

from __future__ import annotations

import json

import pytest

from boundcheck.cli import main


def test_violation_exits_1_and_json_is_strict(capsys):
    code = main(["falsify", "asyncbc.thm3", "--budget", "8", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1 and out["exit_code"] == 1
    (r,) = out["results"]
    assert r["theorem"] == "asyncbc.thm3" and r["verdict"] == "violated"
    assert r["method"] == "exact" and r["best_ratio"] > 1
    cert = r["certificate"]
    assert cert["replay"]["agrees"] is True
    assert {h["id"] for h in cert["hypotheses"]} >= {"single_concurrency", "eta_lt_1"}


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
