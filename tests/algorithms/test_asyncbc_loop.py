"""Issue 9: the pieces of AsyncBC's lean event loop against their plain definitions (the golden
numbers of ``test_async_golden.py`` check the whole run)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from quad_problems import diag_quad

from boundcheck.algorithms.async_sim import asyncbc_schedules
from boundcheck.algorithms.asyncbc import (
    _arrive_slots,
    _plan,
    async_gd,
    async_sgd,
    asyncbc_gd,
    asyncbc_sgd,
)
from boundcheck.errors import ParameterError


def _slots_by_definition(rv: np.ndarray) -> np.ndarray:
    """The buffer slots step by step, as the slot plan defines them: the k-th initial task to arrive
    has slot k; the task handed out after step t takes the slot freed at step t."""
    R, steps = rv.shape
    out = np.empty((steps, R), dtype=np.int64)
    for r in range(R):
        freed, k = {}, 0
        for j in range(steps):
            v = int(rv[r, j])
            if v == 1:
                slot, k = k, k + 1
            else:
                slot = freed[v - 1]  # handed out after step v - 1
            out[j, r] = slot
            freed[j + 1] = slot  # step j + 1 frees it
    return out


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 12),
    T=st.integers(1, 80),
    frac=st.floats(0.05, 1.0),
    R=st.integers(1, 5),
    busy=st.sampled_from(["queue", "parallel"]),
    seed=st.integers(0, 10_000),
)
def test_pointer_jumping_slots_equal_the_step_by_step_definition(n, T, frac, R, busy, seed):
    tau_C = max(1, min(n, round(frac * n)))
    b = asyncbc_schedules(n=n, T=T, tau_C=tau_C, R=R, seed=seed, busy=busy)
    rv = b.read_version
    rr, ee = np.nonzero(rv == 1)
    rank1 = np.arange(rr.size) - np.searchsorted(rr, np.arange(R))[rr]
    rows = np.arange(R) * tau_C
    got = _arrive_slots(rv, rr, ee, rank1, tau_C) - rows
    want = _slots_by_definition(rv)
    assert np.array_equal(got, want)
    assert got.min() >= 0 and got.max() < tau_C
    # the plan's hand-out rows: version v sits where the message received at step v - 1 sat
    plan = _plan(b, T, tau_C, torch.device("cpu"))
    assert torch.equal(plan.arrive_row, torch.as_tensor(want + rows))
    assert torch.equal(plan.hand_row[2:], plan.arrive_row)
    cl = torch.as_tensor(b.client)
    for r in range(R):
        for j in range(T):
            v = int(rv[r, j])
            if v >= 2:  # the client of the task reading v, at row v of the plan
                assert int(plan.hand_client[v, r]) == int(cl[r, j])


def test_a_version_delivered_before_it_is_handed_out_is_refused():
    """A batch built by hand (Schedule.from_events refuses this itself) that delivers version 3 at
    step 2, before the task reading it exists: refused, not read from an unset slot."""
    b = asyncbc_schedules(n=3, T=6, tau_C=2, R=2, seed=0)
    b.read_version = b.read_version.copy()
    b.read_version[1, 1] = 3
    with pytest.raises(ParameterError, match="version 3"):
        asyncbc_gd(diag_quad(n=3, d=2), T=6, R=2, seed=0, eta=0.1, tau_C=2, schedule=b)


@pytest.mark.parametrize("fn", [asyncbc_gd, asyncbc_sgd, async_gd, async_sgd])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_host_loop_equals_the_torch_loop_bit_for_bit(monkeypatch, fn, dtype):
    """The NumPy-view server updates (CPU) and the torch ones (every other device) round alike."""
    from golden_sync import GoldenQuad

    import boundcheck.algorithms.asyncbc as ab

    p = GoldenQuad(5, 4, 0.3, dtype, seed=3)
    kw = dict(T=60, R=3, seed=1, eta=0.07, tau_C=3, dtype=dtype, record_x=True)
    host = fn(p, **kw)
    monkeypatch.setattr(ab, "_host_arrays", lambda *ts: False)
    dev = fn(p, **kw)
    for k, v in host.series.items():
        assert torch.equal(v, dev.series[k]), k
    assert torch.equal(host.meta["x_final"], dev.meta["x_final"])


def test_a_diverging_run_warns_nothing_and_is_marked():
    """Overflow in the NumPy updates is quiet (as in torch) and the replica is marked diverged."""
    import warnings

    from golden_sync import GoldenQuad

    p = GoldenQuad(4, 3, 0.0, torch.float64, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = asyncbc_gd(p, T=400, R=2, seed=0, eta=torch.tensor([0.05, 1e3]), tau_C=2)
    assert int(tr.diverged_at[0]) == -1 and 0 < int(tr.diverged_at[1]) < 400
