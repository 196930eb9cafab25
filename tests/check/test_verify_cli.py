"""``boundcheck verify``: the verdict table fits 80 columns, --json is strict JSON of the
RunResult, exit 1 when a bound is violated, 0 otherwise, 2 on bad input."""

from __future__ import annotations

import json

from boundcheck.check.results import RunResult
from boundcheck.cli import main

SPEC = """
theorem = "fedpaq.thm2"
replicas = 32
seed = 0

[problem]
family = "quadratic_toy"
n = 4
d = 10
mu = 0.1
L = 1.0
zeta = 0.0
oracle = "gaussian"
noise_var = 0.01

[algorithm]
name = "fedpaq"
eta = "theorem"
tau = 1
r = 4
x0 = 1.0

[sweep]
T = [100]
"""


def test_verify_table_and_exit_0(tmp_path, capsys):
    p = tmp_path / "ok.toml"
    p.write_text(SPEC)
    assert main(["verify", str(p), "--quiet", "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert "holds" in out and "ok" in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_verify_exit_1_on_a_violated_bound(tmp_path, capsys):
    p = tmp_path / "planted.toml"
    p.write_text(SPEC + "\n[check]\nbound_factor = 0.25\n")
    assert main(["verify", str(p), "--quiet", "--no-cache"]) == 1
    out = capsys.readouterr().out
    assert "violated" in out and "bound violated: measured" in out


def test_verify_json_is_strict_and_complete(tmp_path, capsys):
    p = tmp_path / "ok.toml"
    p.write_text(SPEC)
    assert main(["verify", str(p), "--json", "--no-cache"]) == 0
    text = capsys.readouterr().out
    d = json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    run = RunResult.from_dict(d)
    (pt,) = run.checks[0].points
    assert pt.verdict == "holds" and pt.measured < pt.bound and pt.ci_high <= pt.bound
    assert {v.name for v in pt.values} >= {"F0", "L", "T", "eta", "n", "q", "r", "sigma", "tau"}
    assert run.n_comparisons == 1 and run.environment["torch"]


def test_verify_bad_input_exits_2(capsys):
    assert main(["verify", "no_such_spec", "--quiet"]) == 2
    assert main(["verify", "--scale", "huge"]) == 2
    err = capsys.readouterr().err
    assert "no_such_spec" in err and "huge" in err


def test_verify_list_names_the_shipped_specs(capsys):
    assert main(["verify", "--list"]) == 0
    names = capsys.readouterr().out.split()
    assert "saef_thm2" in names and "asyncbc_lemma1" in names
