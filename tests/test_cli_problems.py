"""``boundcheck problem``: families, constants with provenance, and bad input."""

from __future__ import annotations

import json

import pytest

from boundcheck.cli import main
from boundcheck.problems import registry


def test_listing_names_every_family_with_its_defaults(capsys):
    assert main(["problem", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert list(rows) == registry.names()
    assert rows["logistic"]["alpha"] == registry.parameters("logistic")["alpha"]


@pytest.mark.parametrize("n", [2, 5, 8])
def test_asyncbc_least_squares_constants_match_the_closed_form(n, capsys):
    """A_i^2 = i^2/n I (AsyncBC Section 5): L = mu = (1/n) sum_i i^2/n = (n+1)(2n+1)/(6n)."""
    assert main(["problem", "asyncbc_least_squares", "--n", str(n), "--d", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    c = out["constants"]
    closed = (n + 1) * (2 * n + 1) / (6 * n)
    assert c["L"]["value"] == pytest.approx(closed, rel=1e-12)
    assert c["mu"]["value"] == pytest.approx(closed, rel=1e-12)
    assert c["L_i"]["value"] == pytest.approx(n, rel=1e-12)
    assert c["L"]["provenance"] == "exact" and c["L"]["how"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["problem", "logistc"], ["'logistc'", "logistic"]),
        (["problem", "logistic", "--n", "x"], ["--n", "'x'", "integer"]),
        (["problem", "logistic", "--nn", "3"], ["'nn'", "allowed"]),
        (["problem", "logistic", "--n", "0"], ["n=0", ">= 1"]),
        (["problem", "logistic", "--dtype", "float16"], ["float16", "float64"]),
        (["problem", "--n", "3"], ["FAMILY"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    for w in words:
        assert w in err[0]
