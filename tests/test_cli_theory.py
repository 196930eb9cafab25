"""The theory CLI: exit codes, error lines and machine-readable output."""

from __future__ import annotations

import json
import math

import pytest

from boundcheck.cli import main
from boundcheck.theory import registry
from boundcheck.theory import symbols as S
from boundcheck.theory.core import ConditionKind
from boundcheck.theory.evaluate import check_conditions

THEOREMS = registry.all_theorems()
WITH_CONDITIONS = [t for t in THEOREMS if t.conditions and t.example]


def _args(values: dict) -> list[str]:
    out = []
    for k, v in values.items():
        out += [
            f"--{k}",
            repr(float(v)) if S.info(k).domain not in ("count", "count0") else str(int(v)),
        ]
    return out


def _flat(text: str) -> str:
    """Text with every run of whitespace as one space (wrapping moves line breaks only)."""
    return " ".join(text.split())


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert "Traceback" not in err[0]
    return err[0]


def test_list_json_names_every_theorem(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in rows] == [t.id for t in THEOREMS]


@pytest.mark.parametrize("thm", THEOREMS, ids=[t.id for t in THEOREMS])
def test_show_renders_unicode_latex_and_json(thm, capsys):
    assert main(["show", thm.id]) == 0
    assert _flat(thm.source) in _flat(capsys.readouterr().out)
    assert main(["show", thm.id, "--latex"]) == 0
    capsys.readouterr()
    assert main(["show", thm.id, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["id"] == thm.id and data["parameters"] == thm.parameters()
    assert set(data["symbols"]) >= set(thm.parameters())


@pytest.mark.parametrize("thm", WITH_CONDITIONS, ids=[t.id for t in WITH_CONDITIONS])
def test_stepsize_exit_code_follows_the_conditions(thm, capsys):
    code = main(["stepsize", thm.id, "--json", *_args(thm.example)])
    out = json.loads(capsys.readouterr().out)
    deciding = {k.value for k in (ConditionKind.STATED, ConditionKind.STEPSIZE)}
    required = [c for c in out["conditions"] if c["kind"] in deciding]
    assert [c["decides"] for c in out["conditions"]] == [
        c["kind"] in deciding for c in out["conditions"]
    ]
    assert code == (0 if all(c["holds"] for c in required) else 1)
    truth = {r.condition.id: r.holds for r in check_conditions(thm, thm.example)}
    assert {c["id"]: c["holds"] for c in out["conditions"]} == truth


def test_stepsize_violated_condition_exits_1(capsys):
    thm = WITH_CONDITIONS[0]
    cond = next(c for c in thm.conditions if c.kind is ConditionKind.STATED)
    # push one stepsize-like parameter far up until a stated condition fails
    param = next(
        s.name
        for s in sorted(cond.relation.free_symbols, key=str)
        if S.info(s.name).domain == "positive"
    )
    values = dict(thm.example)
    values[param] = values[param] * 1e12
    assert main(["stepsize", thm.id, *_args(values)]) == 1
    assert "violated" in capsys.readouterr().out


def test_solve_for_reports_a_largest_value_that_satisfies(capsys):
    thm = WITH_CONDITIONS[0]
    param = next(
        p for p in thm.parameters() if S.info(p).domain == "positive" and p.startswith("eta")
    )
    rest = {k: v for k, v in thm.example.items() if k != param}
    code = main(["stepsize", thm.id, "--solve-for", param, "--json", *_args(rest)])
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    top = out["required"]["largest"]
    assert top is not None and top > 0
    if math.isfinite(top):
        assert main(["stepsize", thm.id, "--json", *_args({**rest, param: top})]) in (0, 1)
        res = json.loads(capsys.readouterr().out)
        touching = [c for c in res["conditions"] if c["kind"] in ("stated", "stepsize")]
        assert all(c["holds"] for c in touching)


def test_unknown_id_suggests_the_closest(capsys):
    good = THEOREMS[0].id
    assert main(["show", good[:-1] + "x"]) == 2
    line = _one_error_line(capsys)
    assert "unknown theorem id" in line and good in line


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda v, p: v.pop(p), "missing parameter"),
        (lambda v, p: v.__setitem__("bogus", 1.0), "unknown parameter"),
        (lambda v, p: v.__setitem__(p, float("nan")), "is not allowed"),
        (lambda v, p: v.__setitem__(p, float("inf")), "is not allowed"),
        (lambda v, p: v.__setitem__(p, -1.0), "is not allowed"),
        (lambda v, p: v.__setitem__(p, "abc"), "is not a number"),
    ],
    ids=["missing", "unknown", "nan", "inf", "negative", "text"],
)
def test_bad_values_give_one_line_and_exit_2(mutate, expect, capsys):
    thm = WITH_CONDITIONS[0]
    param = next(p for p in thm.parameters() if S.info(p).domain == "positive")
    values: dict = dict(thm.example)
    mutate(values, param)
    args = []
    for k, v in values.items():
        args += [f"--{k}", str(v)]
    assert main(["stepsize", thm.id, *args]) == 2
    line = _one_error_line(capsys)
    assert expect in line
    if expect != "unknown parameter":
        assert param in line


def _theorem_with(domain: str):
    for t in WITH_CONDITIONS:
        for p in t.parameters():
            if S.info(p).domain == domain:
                return t, p
    pytest.skip(f"no theorem with a {domain} parameter")


@pytest.mark.parametrize(
    ("domain", "bad"), [("unit", 1.5), ("unit", 0.0), ("count", 2.5), ("count", 0)]
)
def test_domain_violations_name_the_value_and_the_allowed_range(domain, bad, capsys):
    thm, p = _theorem_with(domain)
    values = {**thm.example, p: bad}
    args = []
    for k, v in values.items():
        args += [f"--{k}", str(v)]
    assert main(["stepsize", thm.id, *args]) == 2
    line = _one_error_line(capsys)
    assert f"{p}=" in line and ("(0, 1]" in line or "integer" in line)


def test_dims_json_exit_code_matches_findings(capsys):
    code = main(["dims", "--json"])
    findings = json.loads(capsys.readouterr().out)
    assert code == (1 if findings else 0)
    for f in findings:
        assert f["kind"] in ("dimension", "order") and f["subject"] in {t.id for t in THEOREMS}


def test_findings_lists_symbolic_and_derivation_findings_apart_from_not_checked(capsys):
    code = main(["findings", "--paper", "AsyncBC", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == (1 if out["symbolic"] or out["derivations"] else 0) == 1
    assert out["count"] == len(out["symbolic"]) + len(out["derivations"])
    for d in out["derivations"]:  # every derivation finding is a refuted, re-runnable check
        assert d["verdict"] == "refuted" and d["severity"] and d["evidence"]
    assert not any("no example value" in n["reason"] for n in out["not_checked"])


def test_findings_paper_filter_and_bad_paper(capsys):
    assert main(["findings", "--paper", "SAEF", "--json"]) in (0, 1)
    out = json.loads(capsys.readouterr().out)
    assert all(f["subject"].startswith("saef.") for f in out["symbolic"])
    assert all(d["id"].startswith("saef.") for d in out["derivations"])
    assert main(["findings", "--paper", "Adam"]) == 2
    line = _one_error_line(capsys)
    assert "'Adam'" in line and "QAFeL" in line


@pytest.mark.parametrize("thm", THEOREMS, ids=[t.id for t in THEOREMS])
def test_show_prints_the_texts_verbatim(thm, capsys):
    """Bracketed text ('i in [n]', '[stated]') must not be swallowed as terminal markup."""
    assert main(["show", thm.id]) == 0
    out = _flat(capsys.readouterr().out)  # long texts wrap at the console width
    assert _flat(thm.statement) in out and _flat(thm.lhs.text) in out
    for c in thm.conditions:
        assert f"[{c.kind.value}] {c.id}" in out
    for note in thm.notes:
        assert _flat(note[:60]) in out
