"""Every theorem's documented example through ``boundcheck stepsize``: the ready line that
``show`` prints passes its own check, and ``--solve-for`` works for every parameter a condition
involves (issue 10)."""

from __future__ import annotations

import json
import math
import shlex

import pytest

from boundcheck.cli import main
from boundcheck.theory import registry, stepsize
from boundcheck.theory.evaluate import EQUALITY_RTOL, check_conditions, slack_function

WITH_EXAMPLE = [t for t in registry.all_theorems() if t.example and t.conditions]
CASES = [
    (t, p)
    for t in WITH_EXAMPLE
    for p in sorted({n for c in t.conditions for n in slack_function(t, c)[1]})
    if p in t.example
]


def _example_line(thm, capsys) -> list[str]:
    assert main(["show", thm.id]) == 0
    out = capsys.readouterr().out
    start = out.index(f"boundcheck stepsize {thm.id} ")
    lines = out[start:].splitlines()
    command = lines[0]
    for more in lines[1:]:  # shell continuation lines (the line fits 80 columns)
        if not command.endswith("\\"):
            break
        command = command[:-1] + more
    return shlex.split(command)[1:]


@pytest.mark.parametrize("thm", WITH_EXAMPLE, ids=[t.id for t in WITH_EXAMPLE])
def test_show_example_line_passes_its_own_check(thm, capsys):
    argv = _example_line(thm, capsys)
    code = main([*argv, "--json"])
    out = json.loads(capsys.readouterr().out)
    deciding = [c for c in out["conditions"] if c["decides"]]
    assert code == 0, [c for c in deciding if not c["holds"]]
    assert all(c["holds"] for c in deciding)
    # the proof-only and simplified conditions are reported beside them
    assert {c["id"] for c in out["conditions"]} == {c.id for c in thm.conditions}


@pytest.mark.parametrize(("thm", "param"), CASES, ids=[f"{t.id}-{p}" for t, p in CASES])
def test_solve_for_every_parameter_at_the_example(thm, param, capsys):
    rest = [x for k, v in thm.example.items() if k != param for x in (f"--{k}", repr(float(v)))]
    code = main(["stepsize", thm.id, "--solve-for", param, "--json", *rest])
    out = json.loads(capsys.readouterr().out)
    assert code in (0, 1)
    required_hold = all(
        r.holds
        for r in check_conditions(thm, thm.example)
        if r.condition.kind in stepsize.required_kinds()
    )
    if not required_hold or out["required"] is None:
        return
    assert code == 0
    v = float(thm.example[param])
    near = [
        (a, b)
        for a, b in out["required"]["intervals"]
        if a * (1 - EQUALITY_RTOL) <= v <= (math.inf if b is None else b) * (1 + EQUALITY_RTOL)
    ]
    assert near, (v, out["required"]["intervals"])
