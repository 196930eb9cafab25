"""Per-replica clients (issue 8): ``clients`` of shape ``(R, m)`` beside the shared ``(m,)``.

Contract: with every row equal to a shared index vector the results equal the shared-clients results,
row for row; with distinct rows, row ``r`` equals a single-replica call with that row's clients; a
:class:`~boundcheck.rng.ReplicaGenerator` gives each replica its own oracle randomness.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.errors import ParameterError
from boundcheck.problems import make, names
from boundcheck.rng import ReplicaGenerator

CASES = [(name, "exact") for name in names()] + [
    ("quadratic_toy", "gaussian"),
    ("least_squares", "minibatch"),
    ("asyncbc_least_squares", "minibatch"),
    ("logistic", "minibatch"),
    ("sarah_counterexample", "independent"),
]


def _build(name, oracle):
    kw = {"n": 4, "d": 3, "seed": 2, "oracle": oracle}
    if oracle in ("gaussian", "independent"):
        kw["noise_var"] = 0.3
    if oracle == "minibatch":
        kw["batch_size"] = 3
    return make(name, **kw)


def _close(a, b):
    return torch.allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("name", "oracle"), CASES)
@settings(max_examples=8, deadline=None)
@given(R=st.integers(1, 4), m=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_equal_rows_give_the_shared_results(name, oracle, R, m, seed):
    p = _build(name, oracle)
    g = torch.Generator().manual_seed(seed)
    row = torch.randint(0, p.n, (m,), generator=g)
    rep = row.unsqueeze(0).expand(R, m)
    x = torch.randn(R, m, p.d, dtype=torch.float64, generator=g)
    y = torch.randn(R, m, p.d, dtype=torch.float64, generator=g)
    assert _close(p.f_i(x, rep), p.f_i(x, row))
    assert _close(p.grad_i(x, rep), p.grad_i(x, row))
    # the same seeded stream gives the same sample whichever way the clients are given
    s_row = p.sample(R, row, torch.Generator().manual_seed(seed))
    s_rep = p.sample(R, rep, torch.Generator().manual_seed(seed))
    assert (s_row is None and s_rep is None) or torch.equal(s_row, s_rep)
    assert _close(p.stochastic_grad_i(x, s_rep, rep), p.stochastic_grad_i(x, s_row, row))
    assert _close(p.grad_difference_i(x, y, s_rep, rep), p.grad_difference_i(x, y, s_row, row))
    if oracle == "minibatch":
        assert p.samples_per_client(rep).shape == (R, m)
        assert _close(p.sample_grads(x, rep, s_rep), p.sample_grads(x, row, s_row))


@pytest.mark.parametrize(("name", "oracle"), CASES)
@settings(max_examples=8, deadline=None)
@given(R=st.integers(1, 4), m=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_distinct_rows_equal_single_replica_calls(name, oracle, R, m, seed):
    """Row r of a per-replica call = a one-replica call with row r's clients and r's own stream."""
    p = _build(name, oracle)
    g = torch.Generator().manual_seed(seed)
    cl = torch.randint(0, p.n, (R, m), generator=g)
    x = torch.randn(R, m, p.d, dtype=torch.float64, generator=g)
    y = torch.randn(R, m, p.d, dtype=torch.float64, generator=g)
    seeds = [seed * 10 + r for r in range(R)]
    s = p.sample(R, cl, ReplicaGenerator(seeds))
    fi, gi = p.f_i(x, cl), p.grad_i(x, cl)
    sg, gd = p.stochastic_grad_i(x, s, cl), p.grad_difference_i(x, y, s, cl)
    assert gi.shape == (R, m, p.d) and fi.shape == (R, m)
    for r in range(R):
        one = x[r : r + 1]
        assert _close(fi[r], p.f_i(one, cl[r])[0])
        assert _close(gi[r], p.grad_i(one, cl[r])[0])
        s1 = p.sample(1, cl[r], ReplicaGenerator([seeds[r]]))
        if s is None:
            assert s1 is None
        else:
            assert torch.equal(s[r : r + 1], s1)
        assert _close(sg[r], p.stochastic_grad_i(one, s1, cl[r])[0])
        assert _close(gd[r], p.grad_difference_i(one, y[r : r + 1], s1, cl[r])[0])


def test_replicas_draw_different_noise_and_batches():
    p = _build("least_squares", "minibatch")
    cl = torch.zeros(64, 1, dtype=torch.long)
    s = p.sample(64, cl, ReplicaGenerator.for_run(0, "noise", 64))
    assert s.shape == (64, 1, 3)
    assert len({tuple(r.flatten().tolist()) for r in s}) > 1  # not one batch repeated 64 times


def test_per_replica_clients_are_validated():
    p = make("least_squares", n=3, d=4, seed=0)
    x = torch.zeros(2, 1, 4, dtype=torch.float64)
    with pytest.raises(ParameterError, match=r"\(2, 1\)"):
        p.grad_i(x, torch.zeros(3, 1, dtype=torch.long))  # 3 rows for 2 replicas
    with pytest.raises(ParameterError, match="clients has shape"):
        p.grad_i(x, torch.zeros(2, 1, 1, dtype=torch.long))
    with pytest.raises(ParameterError, match="index 5 outside"):
        p.grad_i(x, torch.tensor([[0], [5]]))
    with pytest.raises(ParameterError, match="clients has dtype"):
        p.f_i(x, torch.zeros(2, 1))
    with pytest.raises(ParameterError, match="R=3"):
        p.sample(3, None, ReplicaGenerator([1, 2]))
    with pytest.raises(ParameterError, match="clients has shape"):
        p.sample(3, torch.zeros(2, 1, dtype=torch.long), torch.Generator())
