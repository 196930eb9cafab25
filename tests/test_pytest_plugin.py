"""The pytest plugin (issue 15), exercised the way a user's CI would: a user test file run by pytest
in a subprocess (pytester), passing on a true bound and failing, with the verdict table and the
reproducing command in the message, on a planted false one."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ("pytester",)

# the shipped calibration subject: FedPAQ Theorem 2 where the published bound is tight up to its
# factor 2 (ratio ~ 0.50), so halving the bound makes it false
SPEC = (
    Path(__file__).resolve().parents[1] / "problems" / "calibration" / "fedpaq_thm2_tight.toml"
).read_text()

USER_TESTS = """\
import pathlib

import pytest

HERE = pathlib.Path(__file__).parent


def test_true_bound(boundcheck):
    run = boundcheck.assert_bound_holds(HERE / "true_bound.toml")
    assert run.checks[0].points[0].verdict == "holds"


def test_false_bound(boundcheck):
    boundcheck.assert_bound_holds(HERE / "false_bound.toml")


@pytest.mark.boundcheck_slow
def test_slow_one(boundcheck):
    raise AssertionError("a slow check must be skipped without --boundcheck-run-slow")
"""


def test_plugin_passes_a_true_bound_and_fails_a_false_one(pytester: pytest.Pytester) -> None:
    pytester.makefile(".toml", true_bound=SPEC)
    # planted: the published bound halved, which the measured value (ratio ~0.50) exceeds
    pytester.makefile(".toml", false_bound=SPEC + "[check]\nbound_factor = 0.5\n")
    pytester.makepyfile(test_user=USER_TESTS)
    res = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "--boundcheck-seed", "1")
    res.assert_outcomes(passed=1, failed=1, skipped=1)
    out = res.stdout.str()
    assert "BoundViolationError" in out and "the bound does not hold" in out
    assert "fedpaq.thm2" in out and "violated" in out
    assert "reproduce: boundcheck verify" in out
    assert "run with --boundcheck-run-slow" in res.stdout.str() or "skipped" in out


def test_plugin_import_is_light() -> None:
    """Loading the plugin (every pytest session of an installed user) imports no torch, SymPy or
    cvxpy; the time is printed."""
    code = textwrap.dedent(
        """
        import sys, time
        t = time.perf_counter()
        import boundcheck.pytest_plugin
        dt = time.perf_counter() - t
        heavy = [m for m in ("torch", "sympy", "cvxpy", "scipy", "ray") if m in sys.modules]
        print(f"{dt:.4f}", ",".join(heavy))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    dt, _, heavy = out.stdout.strip().partition(" ")
    print(f"plugin import: {float(dt) * 1e3:.1f} ms, heavy modules: {heavy or 'none'}")
    assert heavy == ""
