"""boundcheck's pytest plugin (issue 15): check a theorem in CI, the way Hypothesis checks a program.

Registered under the ``pytest11`` entry point, so installing boundcheck makes it available; it
imports nothing heavy (no torch, SymPy or cvxpy) until a test uses it. In a test file::

    def test_my_bound(boundcheck):
        boundcheck.assert_bound_holds("specs/my_sgd_bound.toml")  # a spec or a theorem file

    @pytest.mark.boundcheck_slow
    def test_at_publication_scale(boundcheck):
        boundcheck.assert_bound_holds("specs/my_sgd_bound.toml", scale="default")

or, without the fixture, ``from boundcheck.pytest_plugin import assert_bound_holds``. A failure
shows the verdict table (point, measured, one-sided interval, bound, ratio, verdict) and the command
that reproduces it. Options: ``--boundcheck-scale ci|default|full`` (default ``ci``),
``--boundcheck-device``, ``--boundcheck-seed``, ``--boundcheck-run-slow`` (run the tests marked
``boundcheck_slow``, skipped otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

__all__ = ["BoundViolationError", "Checker", "assert_bound_holds"]

_BAD = ("violated", "diverged", "error")


class BoundViolationError(AssertionError):
    """A bound that does not hold at some point of the spec (the message holds the table)."""


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def verdict_table(run: Any) -> str:
    """The points of every check as a plain-text table (fits 100 columns)."""
    lines = []
    for c in run.checks:
        lines.append(f"{c.theorem_id} ({c.source}) on {c.problem.get('family', '?')}: {c.verdict}")
        lines.append(f"  {'point':22s} {'measured':>10s} {'lower':>10s} {'upper':>10s} "
                     f"{'bound':>10s} {'ratio':>7s}  verdict")  # fmt: skip
        for p in c.points:
            pt = ", ".join(f"{k}={_fmt(v)}" for k, v in p.point.items())
            lines.append(
                f"  {pt[:22]:22s} {_fmt(p.measured):>10s} {_fmt(p.ci_low):>10s} "
                f"{_fmt(p.ci_high):>10s} {_fmt(p.bound):>10s} {_fmt(p.ratio):>7s}  {p.verdict}"
            )
            for cond in p.failing_conditions:
                lines.append(f"    outside hypotheses: {cond}")
            for note in p.notes[:3]:
                lines.append(f"    note: {note}")
        if c.command:
            lines.append(f"  reproduce: {c.command}")
    return "\n".join(lines)


def assert_bound_holds(
    spec: Any,
    *,
    scale: str = "ci",
    seed: int | None = None,
    replicas: int | None = None,
    device: str | None = None,
    alpha: float = 0.05,
    force: bool = False,
    allow_inconclusive: bool = True,
    falsify_budget: int = 0,
) -> Any:
    """Run the check ``spec`` (a spec file, a theorem file -- TOML or Python, see
    :mod:`boundcheck.theory.userfile` -- or a shipped spec id) and fail with the verdict table
    if a bound is violated, a replica diverged or a point errored (and, with
    ``allow_inconclusive=False``, if a point is inconclusive). With ``falsify_budget > 0`` the
    theorem's hypotheses are also searched (``boundcheck falsify``, over a theorem file's
    ``[search]`` table or a shipped theorem's declared space) and a certified violation fails the
    test with the counterexample instance. Returns the ``RunResult``."""
    from boundcheck.check.engine import run_specs

    run = run_specs(
        [str(spec)], scale=scale, seed=seed, replicas=replicas, device=device,
        force=force, progress=False, alpha=alpha,
    )  # fmt: skip
    bad = _BAD if allow_inconclusive else (*_BAD, "inconclusive")
    failed = any(p.verdict in bad for c in run.checks for p in c.points)
    found = _counterexamples(spec, run, falsify_budget, seed, alpha) if falsify_budget else []
    if failed or found:
        head = "the bound does not hold" if failed else "falsify found a counterexample"
        raise BoundViolationError(
            f"boundcheck: {head}\n" + verdict_table(run) + "".join("\n" + f for f in found)
        )
    return run


def _counterexamples(spec: Any, run: Any, budget: int, seed: int | None, alpha: float) -> list:
    """``boundcheck falsify`` on the run's theorem(s): one text block per certified violation."""
    from boundcheck.check import falsify as F
    from boundcheck.theory import userfile

    out = []
    for c in run.checks:
        space = None
        if str(spec).endswith((".toml", ".py")) and userfile.is_theorem_file(str(spec)):
            _, space = F.file_space(str(spec))
            if space is None:
                continue
        elif c.theorem_id not in F.falsifiable_ids():
            continue
        r = F.falsify(c.theorem_id, budget=budget, seed=seed or 0, alpha=alpha, space=space)
        if r.violated:
            cert = r.certificate or {}
            out.append(
                f"counterexample ({c.theorem_id}, falsify budget {budget}): "
                f"{F.instance_line(r)}\n  {cert.get('method', r.method)} value "
                f"{cert.get('lhs')} > bound {cert.get('bound')} (ratio {r.best_ratio:.4g}); "
                f"replay {cert.get('replay', {}).get('low')}..{cert.get('replay', {}).get('high')}"
                f"\n  reproduce: boundcheck falsify {spec} --budget {budget} --seed {seed or 0}"
            )
    return out


@dataclass
class Checker:
    """What the ``boundcheck`` fixture gives a test: :func:`assert_bound_holds` with the session's
    ``--boundcheck-*`` options as defaults."""

    scale: str = "ci"
    device: str | None = None
    seed: int | None = None

    def assert_bound_holds(self, spec: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("scale", self.scale)
        kwargs.setdefault("device", self.device)
        kwargs.setdefault("seed", self.seed)
        return assert_bound_holds(spec, **kwargs)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("boundcheck", "boundcheck: theorem checks")
    group.addoption("--boundcheck-scale", default="ci", choices=("ci", "default", "full"),
                    help="scale of boundcheck checks (default: ci)")  # fmt: skip
    group.addoption("--boundcheck-device", default=None, help="torch device for the simulations")
    group.addoption("--boundcheck-seed", type=int, default=None, help="override every spec's seed")
    group.addoption("--boundcheck-run-slow", action="store_true",
                    help="run tests marked boundcheck_slow")  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "boundcheck_slow: a slow theorem check, run with --boundcheck-run-slow"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--boundcheck-run-slow"):
        return
    skip = pytest.mark.skip(reason="slow boundcheck check: run with --boundcheck-run-slow")
    for item in items:
        if "boundcheck_slow" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def boundcheck(request: pytest.FixtureRequest) -> Checker:
    """A :class:`Checker` configured by the ``--boundcheck-*`` command-line options."""
    opt = request.config.getoption
    return Checker(
        scale=opt("--boundcheck-scale"), device=opt("--boundcheck-device"),
        seed=opt("--boundcheck-seed"),
    )  # fmt: skip
