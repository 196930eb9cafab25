"""The engine end to end: every shipped spec at the ci scale, findings for points outside the
hypotheses and for diverged replicas, the cache, the executors, the JSON round trip."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from boundcheck.check.engine import run_specs
from boundcheck.check.results import CLAIM_VERDICTS, VERDICTS, RunResult
from boundcheck.check.specs import shipped_specs
from boundcheck.jsonutil import dumps

SAEF = """
theorem = "saef.thm2"
replicas = 8
seed = 0

[problem]
family = "asyncbc_logistic"
n = 4
d = 5
batch_size = 4

[algorithm]
name = "saef_sgd"
eta = {eta}
K = 2
client_compressor = {{ name = "topk", k = 2 }}

[sweep]
T = [20, 40]
"""


def _spec(tmp_path: Path, text: str, name: str = "s.toml") -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


@pytest.fixture(scope="module")
def ci_run() -> RunResult:
    return run_specs(None, scale="ci", cache_dir="", progress=False)


def test_every_shipped_spec_runs_at_the_ci_scale(ci_run):
    assert len(ci_run.checks) == len(shipped_specs())
    for c in ci_run.checks:
        assert c.verdict in (VERDICTS if c.comparison is None else CLAIM_VERDICTS + VERDICTS)
        for p in c.points:
            assert p.verdict != "error", (c.spec_id, p.point, p.notes)
            if p.verdict in ("holds", "violated", "inconclusive") and c.direction not in (
                "order",
                "comparison",
            ):
                assert p.measured is not None and p.bound is not None, (c.spec_id, p.point)
                assert p.values and all(
                    v.provenance in ("exact", "certified", "observed", "chosen", "derived")
                    for v in p.values
                )
    # strict JSON and a faithful round trip
    text = dumps(ci_run.to_dict())
    again = RunResult.from_dict(json.loads(text))
    assert dumps(again.to_dict()) == text
    assert (
        ci_run.n_comparisons
        >= sum(1 for c in ci_run.checks for p in c.points if p.verdict in ("holds", "violated"))
        - 10
    )


def test_outside_hypotheses_points_are_findings(ci_run):
    c = next(c for c in ci_run.checks if c.spec_id == "fedpaq_thm2")
    p = next(p for p in c.points if p.point["T"] == 100.0)
    assert p.verdict == "outside hypotheses"
    assert any("tau_le" in f for f in p.failing_conditions)
    assert p.measured is None  # not run without force
    assert any("outside hypotheses" in f and "tau_le" in f for f in c.findings)


def test_force_runs_points_outside(tmp_path):
    s = _spec(tmp_path, SAEF.format(eta=50.0))  # eta < 3/(2L) fails (L < 0.3)
    r = run_specs([s], scale="default", cache_dir="", progress=False)
    assert {p.verdict for p in r.checks[0].points} == {"outside hypotheses"}
    assert r.checks[0].points[0].measured is None
    rf = run_specs([s], scale="default", cache_dir="", progress=False, force=True)
    p = rf.checks[0].points[0]
    assert p.measured is not None and p.failing_conditions
    assert p.verdict != "outside hypotheses"


def test_diverged_replicas_are_findings_with_their_step(tmp_path):
    text = (
        SAEF.format(eta=100.0)
        .replace("T = [20, 40]", "T = [200, 400]")
        .replace('family = "asyncbc_logistic"', 'family = "least_squares"')
    )
    s = _spec(tmp_path, text.replace("batch_size = 4", 'oracle = "gaussian"\nnoise_var = 0.01'))
    r = run_specs([s], scale="default", cache_dir="", progress=False, force=True)
    c = r.checks[0]
    assert c.verdict == "diverged"
    for p in c.points:
        assert p.verdict == "diverged" and p.n_diverged == p.n_replicas and p.diverged_steps
    assert any("diverged" in f and "steps" in f for f in c.findings)


def test_cache_returns_the_same_numbers(tmp_path):
    s = _spec(tmp_path, SAEF.format(eta=0.5))
    cache = str(tmp_path / "cache")
    a = run_specs([s], cache_dir=cache, progress=False)
    assert list((tmp_path / "cache").rglob("*.json"))
    b = run_specs([s], cache_dir=cache, progress=False)
    assert [p.measured for p in a.checks[0].points] == [p.measured for p in b.checks[0].points]
    assert [p.ci_high for p in a.checks[0].points] == [p.ci_high for p in b.checks[0].points]
    c = run_specs([s], cache_dir=cache, progress=False, seed=3)
    assert [p.measured for p in a.checks[0].points] != [p.measured for p in c.checks[0].points]


def test_process_pool_gives_the_serial_numbers(tmp_path):
    s = _spec(tmp_path, SAEF.format(eta=0.5))
    a = run_specs([s], cache_dir="", progress=False)
    b = run_specs([s], cache_dir="", progress=False, executor="process", jobs=2)
    assert [p.measured for p in a.checks[0].points] == [p.measured for p in b.checks[0].points]


def test_min_over_t_uses_exactly_T_rows_of_the_right_iterate(tmp_path):
    """SAEF Theorem 2's lhs is min_t of the replica mean of ||grad F(x_t)||^2 over t = 0..T-1;
    recomputed here from the algorithm directly."""
    import torch

    from boundcheck import compressors
    from boundcheck.algorithms.saef import saef_sgd
    from boundcheck.problems.registry import make

    s = _spec(tmp_path, SAEF.format(eta=0.5))
    r = run_specs([s], cache_dir="", progress=False)
    prob = make("asyncbc_logistic", n=4, d=5, batch_size=4, dtype=torch.float64)
    for p in r.checks[0].points:
        T = int(p.point["T"])
        tr = saef_sgd(
            prob, T=T, R=8, seed=0, eta=0.5, K=2, client_compressor=compressors.get("topk", k=2)
        )
        g = tr.series["grad_norm_sq"].numpy()
        assert g.shape[0] == T
        assert np.isclose(p.measured, g.mean(1).min(), rtol=1e-12)
        assert p.ci_low <= p.measured <= p.ci_high


def test_stated_stepsize_uses_the_batch_tau_max(ci_run):
    """AsyncBC Theorem 1: eta is the stated stepsize at the tau_max of the whole batch, which is
    at least every run's measured tau_max (so the run never uses a smaller tau_max)."""
    from boundcheck.theory import registry
    from boundcheck.theory.core import ConditionKind
    from boundcheck.theory.evaluate import evaluate_slack

    thm = registry.get("asyncbc.thm1")
    cond = next(c for c in thm.conditions if c.kind is ConditionKind.STEPSIZE)
    c = next(c for c in ci_run.checks if c.spec_id == "asyncbc_thm1")
    for p in c.points:
        vals = {v.name: v.value for v in p.values}
        assert next(v for v in p.values if v.name == "tau_max").provenance == "observed"
        assert abs(evaluate_slack(thm, cond, vals)) <= 1e-12 * vals["eta"]
        assert not any("exceeds" in f for f in c.findings)


def test_ball_certified_constants_need_every_iterate_inside(tmp_path):
    """M2 of a least-squares problem is certified on the ball ||x - x*|| <= radius only: with a
    radius the run leaves, the point is outside the hypotheses and the check names the ball."""
    text = (
        SAEF.format(eta=0.05)
        .replace('family = "asyncbc_logistic"', 'family = "least_squares"')
        .replace("batch_size = 4", 'oracle = "gaussian"\nnoise_var = 0.01\nradius = RADIUS')
    )
    far = run_specs([_spec(tmp_path, text.replace("RADIUS", "0.001"), "far.toml")], cache_dir="",
                    progress=False)  # fmt: skip
    c = far.checks[0]
    assert {p.verdict for p in c.points} == {"outside hypotheses"}
    assert any("left the ball" in f for f in c.findings)
    near = run_specs([_spec(tmp_path, text.replace("RADIUS", "100.0"), "near.toml")], cache_dir="",
                     progress=False)  # fmt: skip
    assert all(p.verdict in ("holds", "inconclusive") for p in near.checks[0].points)
    assert not any("ball" in f for f in near.checks[0].findings)
