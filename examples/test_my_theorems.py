"""A user's CI test of their own theorems, with boundcheck's pytest plugin (the ``boundcheck``
fixture). Run: ``pytest examples/test_my_theorems.py`` (add ``--boundcheck-scale default``)."""

from pathlib import Path

import pytest

from boundcheck.pytest_plugin import BoundViolationError

HERE = Path(__file__).parent


def test_sgd_bound_holds(boundcheck):
    boundcheck.assert_bound_holds(HERE / "sgd_smooth.toml")


def test_sgd_bound_holds_on_my_algorithm(boundcheck):
    boundcheck.assert_bound_holds(HERE / "sgd_numpy.toml")


@pytest.mark.xfail(
    raises=BoundViolationError,
    strict=True,
    reason="a deliberately wrong constant: boundcheck must catch it",
)
def test_wrong_constant_is_caught(boundcheck):
    boundcheck.assert_bound_holds(HERE / "sgd_smooth_wrong.toml")
