"""The worked example under examples/, run the way a user's CI runs it: pytest in a subprocess
(pytester) with boundcheck's plugin. The true bound passes (on the shipped SGD and on the user's
own NumPy SGD); the deliberately wrong constant fails with the verdict table (measured, interval,
bound, verdict) and the reproducing command in the message."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

FAILING = """\
import pathlib


def test_wrong_constant(boundcheck):
    boundcheck.assert_bound_holds(pathlib.Path(__file__).parent / "sgd_smooth_wrong.toml")
"""


FALSIFYING = """\
import pathlib

HERE = pathlib.Path(__file__).parent


def test_true_bound_survives_the_search(boundcheck):
    boundcheck.assert_bound_holds(HERE / "sgd_smooth.toml", falsify_budget=12)


def test_wrong_constant_gets_a_counterexample(boundcheck):
    boundcheck.assert_bound_holds(HERE / "sgd_smooth_wrong.toml", falsify_budget=12)
"""


@pytest.fixture
def example_dir(pytester: pytest.Pytester, tmp_path: Path, monkeypatch) -> pytest.Pytester:
    for f in EXAMPLES.iterdir():
        if f.suffix in (".toml", ".py"):
            shutil.copy(f, pytester.path / f.name)
    pytester.makeini("[pytest]\naddopts = -p no:cacheprovider\n")
    monkeypatch.setenv("BOUNDCHECK_CACHE", str(tmp_path / "cache"))
    return pytester


def test_user_test_file_passes_true_bounds_and_catches_the_wrong_one(example_dir) -> None:
    res = example_dir.runpytest_subprocess("-q", "test_my_theorems.py")
    res.assert_outcomes(passed=2, xfailed=1)


def test_wrong_constant_fails_with_the_verdict_table(example_dir) -> None:
    example_dir.makepyfile(test_fail=FAILING)
    res = example_dir.runpytest_subprocess("-q", "test_fail.py")
    res.assert_outcomes(failed=1)
    out = res.stdout.str()
    assert "BoundViolationError" in out and "the bound does not hold" in out
    assert "user.sgd_smooth_wrong" in out
    header = next(line for line in out.splitlines() if "measured" in line and "bound" in line)
    assert all(w in header for w in ("point", "lower", "upper", "verdict"))
    assert any("T=100" in line and "violated" in line for line in out.splitlines())
    assert "reproduce: boundcheck verify" in out and "sgd_smooth_wrong.toml" in out


def test_api_import_is_light() -> None:
    """``from boundcheck import api`` (every Python theorem file) imports no torch or SymPy."""
    code = textwrap.dedent(
        """
        import sys
        import boundcheck.api
        print(",".join(m for m in ("torch", "sympy", "cvxpy") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_falsify_budget_adds_the_counterexample_instance(example_dir) -> None:
    """With ``falsify_budget`` the assertion also searches the file's [search] table: the true
    bound passes, the wrong constant's failure message carries the certified counterexample."""
    example_dir.makepyfile(test_search=FALSIFYING)
    res = example_dir.runpytest_subprocess("-q", "test_search.py")
    res.assert_outcomes(passed=1, failed=1)
    out = res.stdout.str()
    assert "counterexample (user.sgd_smooth_wrong, falsify budget 12)" in out
    assert "reproduce: boundcheck falsify" in out and "--budget 12" in out
    assert any("eta=" in line and "T=" in line for line in out.splitlines())
