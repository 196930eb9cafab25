"""``fedbuff_schedules`` gives exactly the outputs of the pre-issue-9 code (issue 9).

The reference is a verbatim copy (``fedbuff_reference.py``); every array of the ScheduleBatch must
match it bit for bit (same dtype, shape and bytes), tie-breaking included, over drawn sizes, loads
(idle clients aplenty; concurrency near or above ``n``, where starts wait for a free client),
durations (``sigma`` so small that a task finishes at the instant it starts: equal finish times),
seeds and replica offsets.
"""

from __future__ import annotations

import dataclasses
from unittest import mock

import numpy as np
import pytest
from fedbuff_reference import reference_fedbuff_schedules
from hypothesis import example, given, settings
from hypothesis import strategies as st

from boundcheck.algorithms import async_sim
from boundcheck.algorithms.async_sim import ScheduleBatch, fedbuff_schedules


def differences(a: ScheduleBatch, b: ScheduleBatch) -> list[str]:
    """Names of the ScheduleBatch fields in which ``a`` and ``b`` differ (bitwise for arrays)."""
    out = []
    for f in dataclasses.fields(ScheduleBatch):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
            same = (
                isinstance(x, np.ndarray)
                and isinstance(y, np.ndarray)
                and x.dtype == y.dtype
                and x.shape == y.shape
                and np.ascontiguousarray(x).tobytes() == np.ascontiguousarray(y).tobytes()
            )
        else:
            same = type(x) is type(y) and x == y
        if not same:
            out.append(f.name)
    return out


def both(**kw):
    return fedbuff_schedules(**kw), reference_fedbuff_schedules(**kw)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 40),
    T=st.integers(1, 12),
    K=st.integers(1, 6),
    R=st.sampled_from([1, 1, 2, 3, 7]),
    load=st.one_of(
        st.tuples(st.just("concurrency"), st.floats(0.02, 3.0)),  # times n: up to all busy
        st.tuples(st.just("rate"), st.floats(1e-3, 1e4)),
    ),
    sigma=st.one_of(st.floats(0.05, 5.0), st.sampled_from([1e-300, 1e-12])),
    seed=st.integers(0, 2**31),
    first_replica=st.integers(0, 100),
    rows_only=st.sampled_from([None, -1, 10**9]),
)
@example(n=1, T=3, K=2, R=1, load=("concurrency", 3.0), sigma=1.0, seed=0, first_replica=0,
         rows_only=None)  # fmt: skip
@example(n=2, T=5, K=1, R=3, load=("concurrency", 3.0), sigma=1e-300, seed=1, first_replica=0,
         rows_only=-1)  # fmt: skip
@example(n=5, T=4, K=3, R=2, load=("rate", 1e4), sigma=1e-12, seed=2, first_replica=7,
         rows_only=10**9)  # fmt: skip
def test_fedbuff_schedules_equal_the_reference_bit_for_bit(
    n, T, K, R, load, sigma, seed, first_replica, rows_only
):
    # rows_only: the default threshold, or force the lockstep's two ways of handling a pass in
    # which some replicas wait (-1: their rows only; 10**9: all rows again)
    what, x = load
    kw = {what: x * n if what == "concurrency" else x}
    limit = async_sim._WAIT_ROWS_ONLY if rows_only is None else rows_only
    with mock.patch.object(async_sim, "_WAIT_ROWS_ONLY", limit):
        new = fedbuff_schedules(n=n, T=T, K=K, R=R, sigma=sigma, seed=seed,
                                first_replica=first_replica, **kw)  # fmt: skip
    ref = reference_fedbuff_schedules(n=n, T=T, K=K, R=R, sigma=sigma, seed=seed,
                                      first_replica=first_replica, **kw)  # fmt: skip
    assert differences(new, ref) == []


@pytest.mark.parametrize("concurrency", [20, 100, 250])
@pytest.mark.parametrize("R", [1, 16, 100])
def test_fedbuff_schedules_equal_the_reference_at_benchmark_sizes(R, concurrency):
    # the QAFeL benchmark's shape (n = 100, K = 10); concurrency 100 and 250: often all busy (at
    # R = 100 waiting replicas' rows are compared alone, at R = 16 all rows again)
    new, ref = both(n=100, T=30, K=10, R=R, concurrency=concurrency, seed=3, first_replica=5)
    assert differences(new, ref) == []
    assert new.concurrency_max.max() <= 100


def test_differences_sees_a_changed_bit():
    # the comparison above can fail: a different seed, or one float moved by one ulp, is seen
    a = fedbuff_schedules(n=10, T=4, K=2, R=2, concurrency=5, seed=1)
    assert differences(a, fedbuff_schedules(n=10, T=4, K=2, R=2, concurrency=5, seed=2))
    b = dataclasses.replace(a, arrival_time=a.arrival_time.copy())
    b.arrival_time[1, 3] = np.nextafter(b.arrival_time[1, 3], np.inf)
    assert differences(a, b) == ["arrival_time"]
    c = dataclasses.replace(a, client=a.client.astype(np.int32))
    assert differences(a, c) == ["client"]
