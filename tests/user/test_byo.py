"""Bring your own algorithm (issue 15): the protocol's shape and independence checks, and the NumPy
step helper (vectorised or looped, equal to the shipped momentum SGD with one worker)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from boundcheck.algorithms.numpy_step import SlowStepWarning, numpy_algorithm
from boundcheck.algorithms.saef import momentum_sgd
from boundcheck.algorithms.trace import Trace
from boundcheck.check.bindings.user import check_independence, checked_algorithm
from boundcheck.errors import BoundcheckError
from boundcheck.problems import registry as problems
from boundcheck.rng import replica_seed


@pytest.fixture(scope="module")
def problem():
    return problems.make("iid_least_squares", n=2, d=4)


def _trace(series, R, diverged=None):
    return Trace("mine", {}, series=series, diverged_at=diverged)


def independent(problem, *, T, R, seed, device=None, first_replica=0, eta=0.1):
    """Noisy GD whose replica r draws from its own seed: follows the contract."""
    x = torch.zeros(R, problem.d, dtype=torch.float64)
    gens = [torch.Generator().manual_seed(replica_seed(seed, "noise", first_replica + r))
            for r in range(R)]  # fmt: skip
    rows = []
    for _ in range(T):
        rows.append((problem.grad(x) ** 2).sum(-1))
        noise = torch.stack(
            [torch.randn(problem.d, generator=g, dtype=torch.float64) for g in gens]
        )
        x = x - eta * (problem.grad(x) + noise)
    return _trace({"grad_norm_sq": torch.stack(rows)}, R)


def shared_stream(problem, *, T, R, seed, device=None, first_replica=0, eta=0.1):
    """One generator for every replica, seeded by the seed only: replica r is not its own draw."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(R, problem.d, dtype=torch.float64)
    rows = []
    for _ in range(T):
        rows.append((problem.grad(x) ** 2).sum(-1))
        x = x - eta * (
            problem.grad(x) + torch.randn(R, problem.d, generator=g, dtype=torch.float64)
        )
    return _trace({"grad_norm_sq": torch.stack(rows)}, R)


def same_noise_everywhere(problem, *, T, R, seed, device=None, first_replica=0, eta=0.1):
    """Every replica gets the same noise (one draw broadcast): identical replicas, seed-dependent."""
    g = torch.Generator().manual_seed(seed)
    x = torch.zeros(R, problem.d, dtype=torch.float64)
    rows = []
    for _ in range(T):
        rows.append((problem.grad(x) ** 2).sum(-1))
        x = x - eta * (problem.grad(x) + torch.randn(problem.d, generator=g, dtype=torch.float64))
    return _trace({"grad_norm_sq": torch.stack(rows)}, R)


def seed_ignored(problem, *, T, R, seed, device=None, first_replica=0, eta=0.1):
    """Per-replica streams from first_replica + r only: distinct replicas, but every seed the same."""
    x = torch.zeros(R, problem.d, dtype=torch.float64)
    gens = [torch.Generator().manual_seed(first_replica + r) for r in range(R)]
    rows = []
    for _ in range(T):
        rows.append((problem.grad(x) ** 2).sum(-1))
        noise = torch.stack(
            [torch.randn(problem.d, generator=g, dtype=torch.float64) for g in gens]
        )
        x = x - eta * (problem.grad(x) + noise)
    return _trace({"grad_norm_sq": torch.stack(rows)}, R)


def deterministic(problem, *, T, R, seed, device=None, first_replica=0, eta=0.1):
    x = torch.zeros(R, problem.d, dtype=torch.float64)
    rows = []
    for _ in range(T):
        rows.append((problem.grad(x) ** 2).sum(-1))
        x = x - eta * problem.grad(x)
    return _trace({"grad_norm_sq": torch.stack(rows)}, R)


def test_a_correct_algorithm_passes_the_contract(problem) -> None:
    note = check_independence(independent, problem, 0, {"T": 5}, "independent")
    assert "first_replica" in note
    run = checked_algorithm(independent, "independent")
    tr = run(problem, R=3, seed=1, T=4, dtype=torch.float64, record_x=False)
    assert tr.series["grad_norm_sq"].shape == (4, 3)
    assert tr.diverged_at.tolist() == [-1, -1, -1]  # filled from the series


def test_a_deterministic_algorithm_is_allowed(problem) -> None:
    assert "deterministic" in check_independence(deterministic, problem, 0, {"T": 3}, "gd")


@pytest.mark.parametrize(
    ("fn", "phrase"),
    [
        (shared_stream, "replica 1 of a batch differs from a run with first_replica=1"),
        (same_noise_everywhere, "share one random stream"),
        (seed_ignored, "the seed is ignored"),
    ],
)
def test_independence_violations_refused(problem, fn, phrase) -> None:
    with pytest.raises(BoundcheckError, match=phrase):
        checked_algorithm(fn, fn.__name__)(problem, R=4, seed=0, T=3)


@pytest.mark.parametrize(
    ("series", "diverged", "phrase"),
    [
        ({"grad_norm_sq": torch.zeros(3)}, None, r"shape \(3,\)"),
        ({"grad_norm_sq": torch.zeros(3, 5)}, None, "R = 2 replicas on axis 1"),
        ({"grad_norm_sq": torch.zeros(3, 2)}, torch.zeros(3, dtype=torch.long), "diverged_at"),
        ({}, None, "without series"),
    ],
)
def test_shape_violations_refused(problem, series, diverged, phrase) -> None:
    def bad(problem, *, T, R, seed, first_replica=0):
        return _trace({k: v.clone() for k, v in series.items()}, R, diverged)

    with pytest.raises(BoundcheckError, match=phrase):
        checked_algorithm(bad, "bad")(problem, R=2, seed=0, T=3)


def test_not_a_trace_and_not_the_protocol(problem) -> None:
    with pytest.raises(BoundcheckError, match=r"not a boundcheck\.algorithms\.trace\.Trace"):
        checked_algorithm(lambda problem, *, T, R, seed, first_replica=0: {"x": 1}, "dict")(
            problem, R=2, seed=0, T=2
        )
    with pytest.raises(BoundcheckError, match="missing first_replica"):
        checked_algorithm(lambda problem, *, T, R, seed: None, "old")


def sgd_step(x, g, *, t, rng, eta=0.1):
    return x - eta * g


def looped_step(x, g, *, t, rng, eta=0.1):
    """Written for one replica only (a scalar of x): cannot take a batch."""
    return x - eta * g * (1.0 if float(np.dot(x, x)) >= 0 else 0.0)


def test_numpy_step_equals_momentum_sgd_with_one_worker(problem) -> None:
    alg = numpy_algorithm(sgd_step)
    a = alg(problem, T=12, R=5, seed=3, eta=0.2)
    b = momentum_sgd(problem, T=12, R=5, seed=3, eta=0.2, K=1)
    assert a.meta["vectorized"] is True
    for k in ("grad_norm_sq", "f_gap"):
        assert torch.equal(a.series[k], b.series[k]), k
    assert torch.equal(a.meta["x_final"], b.meta["x_final"])


def test_looped_step_warns_once_and_gives_the_same_numbers(problem) -> None:
    vec = numpy_algorithm(sgd_step)(problem, T=6, R=3, seed=0, eta=0.2)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        alg = numpy_algorithm(looped_step)
        loop = alg(problem, T=6, R=3, seed=0, eta=0.2)
        alg(problem, T=6, R=3, seed=0, eta=0.2)
    slow = [x for x in w if issubclass(x.category, SlowStepWarning)]
    assert len(slow) == 1 and "Python loop" in str(slow[0].message)
    assert loop.meta["vectorized"] is False
    assert torch.equal(vec.series["grad_norm_sq"], loop.series["grad_norm_sq"])


def test_numpy_step_with_its_own_randomness_keeps_the_contract(problem) -> None:
    def noisy(x, g, *, t, rng, eta=0.1):
        if isinstance(rng, list):
            z = np.stack([r.normal(size=x.shape[-1]) for r in rng])
        else:
            z = rng.normal(size=x.shape[-1])
        return x - eta * (g + z)

    alg = numpy_algorithm(noisy)
    assert "first_replica" in check_independence(alg, problem, 0, {"T": 4}, "noisy")
    vec = alg(problem, T=4, R=3, seed=0)
    loop = numpy_algorithm(noisy, vectorized=False)(problem, T=4, R=3, seed=0)
    assert torch.equal(vec.series["f_gap"], loop.series["f_gap"])


def test_step_signature_checked() -> None:
    with pytest.raises(BoundcheckError, match="expected step"):
        numpy_algorithm(lambda x, eta: x)
