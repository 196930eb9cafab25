"""Tests of the asynchronous event simulator (QAFeL App. D / FedBuff timing; AsyncBC Section 5)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.algorithms.async_sim import (
    Schedule,
    ScheduleBatch,
    asyncbc_schedule,
    asyncbc_schedules,
    fedbuff_schedule,
    fedbuff_schedules,
)
from boundcheck.errors import ParameterError


def test_manual_schedule_staleness_and_tau_max():
    # step 0 applies updates that read version 0; step 1 applies one stale (read 0) and one fresh.
    s = Schedule.from_events(
        n=3, K=2, clients=[0, 1, 2, 0], read_versions=[0, 0, 0, 1], applied_steps=[0, 0, 1, 1]
    )
    assert s.T == 2
    assert s.staleness.tolist() == [0, 0, 1, 0]
    assert s.tau_max == 1
    assert s.staleness_histogram() == [3, 1]
    assert s.step_indices(1).tolist() == [2, 3]
    groups = s.read_at()
    assert groups[0].tolist() == [0, 1, 2] and groups[1].tolist() == [3]


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"clients": [0, 3], "read_versions": [0, 0], "applied_steps": [0, 0]}, "client id 3"),
        ({"clients": [0, 1], "read_versions": [0, 1], "applied_steps": [0, 0]}, "read version 1"),
        ({"clients": [0, 1], "read_versions": [0, 0], "applied_steps": [0, 1]}, "applied step 1"),
        ({"clients": [0], "read_versions": [0], "applied_steps": [0]}, "multiple"),
        ({"clients": [0, 1], "read_versions": [-1, 0], "applied_steps": [0, 0]}, "read version -1"),
    ],
)
def test_manual_schedule_refuses_bad_events(kwargs, word):
    with pytest.raises(ParameterError, match=word):
        Schedule.from_events(n=3, K=2, **kwargs)


def test_synchronous_schedule():
    s = Schedule.synchronous(n=4, T=3)
    assert s.K == 4 and s.T == 3 and s.tau_max == 0
    assert s.client.tolist() == [0, 1, 2, 3] * 3
    assert s.read_version.tolist() == [0] * 4 + [1] * 4 + [2] * 4


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n": 0, "T": 5, "K": 1, "rate": 10.0},
        {"n": 5, "T": 5, "K": 0, "rate": 10.0},
        {"n": 5, "T": 5, "K": 1},
        {"n": 5, "T": 5, "K": 1, "rate": 10.0, "concurrency": 3.0},
        {"n": 5, "T": 5, "K": 1, "rate": -1.0},
        {"n": 5, "T": 5, "K": 1, "rate": 1.0, "sigma": float("nan")},
    ],
)
def test_fedbuff_schedule_refuses_bad_parameters(kwargs):
    with pytest.raises(ParameterError):
        fedbuff_schedule(**kwargs)


def test_asyncbc_schedule_refuses_bad_parameters():
    with pytest.raises(ParameterError, match="tau_C=5"):
        asyncbc_schedule(n=4, T=3, tau_C=5)
    with pytest.raises(ParameterError, match="busy"):
        asyncbc_schedule(n=4, T=3, tau_C=2, busy="lifo")


def test_fedbuff_schedule_is_seeded():
    a = fedbuff_schedule(n=50, T=20, K=3, concurrency=20, seed=7)
    b = fedbuff_schedule(n=50, T=20, K=3, concurrency=20, seed=7)
    c = fedbuff_schedule(n=50, T=20, K=3, concurrency=20, seed=8)
    assert np.array_equal(a.client, b.client) and np.array_equal(a.read_version, b.read_version)
    assert np.array_equal(a.arrival_time, b.arrival_time)
    assert not np.array_equal(a.arrival_time, c.arrival_time)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(2, 60),
    T=st.integers(1, 25),
    K=st.integers(1, 6),
    concurrency=st.floats(0.5, 40.0),
    seed=st.integers(0, 10_000),
)
def test_fedbuff_schedule_contract(n, T, K, concurrency, seed):
    s = fedbuff_schedule(n=n, T=T, K=K, concurrency=concurrency, seed=seed)
    assert s.num_events == T * K
    assert (s.staleness >= 0).all()
    # arrivals are in time order, steps are consecutive with K each
    assert (np.diff(s.arrival_time) >= 0).all()
    assert np.array_equal(s.applied_step, np.repeat(np.arange(T), K))
    # a client is never training twice at once (it is drawn among the idle clients)
    for c in np.unique(s.client):
        idx = np.flatnonzero(s.client == c)
        order = idx[np.argsort(s.start_time[idx])]
        assert (s.start_time[order][1:] >= s.arrival_time[order][:-1]).all()
    # the version read is the number of server steps completed before the start
    arrivals_before = np.searchsorted(np.sort(s.arrival_time), s.start_time, side="left")
    assert np.array_equal(s.read_version, np.minimum(arrivals_before, T * K) // K)
    # Nguyen et al. (2022) App. A, quoted after QAFeL Assumption 3.4: tau_{max,K} <= ceil(tau_{max,1}/K)
    assert s.tau_max <= math.ceil(s.tau_max_1 / K)


def test_fedbuff_concurrency_and_half_normal_durations():
    # QAFeL App. D: concurrency = rate * sigma * sqrt(2/pi); durations |X|, X ~ N(0, sigma^2).
    sigma = 2.0
    s = fedbuff_schedule(n=10_000, T=400, K=10, concurrency=50, sigma=sigma, seed=3)
    assert s.params["rate"] == pytest.approx(50 / (sigma * math.sqrt(2 / math.pi)))
    dur = s.arrival_time - s.start_time
    # arrivals are biased towards short durations near the end; compare on early starts only
    early = s.start_time < 0.5 * s.arrival_time.max() - 3 * sigma
    mean = dur[early].mean()
    se = dur[early].std() / math.sqrt(early.sum())
    assert abs(mean - sigma * math.sqrt(2 / math.pi)) < 5 * se
    assert 40 < s.concurrency_mean < 55  # the ramp-up at t = 0 lowers the time average a little
    assert s.concurrency_max >= 50


def test_fedbuff_waits_when_all_clients_busy():
    # 2 clients but a target concurrency of 20: never more than 2 training at once.
    s = fedbuff_schedule(n=2, T=30, K=1, concurrency=20, seed=0)
    assert s.concurrency_max <= 2
    assert s.concurrency_mean > 1.9  # a waiting start begins as soon as a client is free


def test_asyncbc_concurrency_one_is_synchronous():
    s = asyncbc_schedule(n=8, T=40, tau_C=1, seed=5)
    assert s.first_step == 1 and s.K == 1
    assert s.tau_max == 0
    assert np.array_equal(s.read_version, np.arange(1, 41))


def test_asyncbc_constant_speed_one_worker():
    # n = 1: the single worker takes tau per task; with tau_C = 1 arrivals are at tau, 2 tau, ...
    s = asyncbc_schedule(n=1, T=5, tau_C=1, tau=3.0, seed=0)
    assert np.allclose(s.arrival_time, 3.0 * np.arange(1, 6))
    assert s.client.tolist() == [0] * 5


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 30),
    T=st.integers(1, 60),
    frac=st.floats(0.01, 1.0),
    busy=st.sampled_from(["queue", "parallel"]),
    seed=st.integers(0, 10_000),
)
def test_asyncbc_schedule_contract(n, T, frac, busy, seed):
    tau_C = max(1, min(n, round(frac * n)))
    tau = 10.0
    s = asyncbc_schedule(n=n, T=T, tau_C=tau_C, tau=tau, seed=seed, busy=busy)
    assert np.array_equal(s.applied_step, np.arange(1, T + 1))
    assert (s.staleness >= 0).all()
    assert (np.diff(s.arrival_time) >= 0).all()
    speed = (s.client + 1) * tau / n  # worker i = client + 1 takes i * tau / n
    took = s.arrival_time - s.start_time
    if busy == "parallel":
        assert np.allclose(took, speed)
    else:
        assert (took >= speed - 1e-9).all()
    # initial tasks read version 1 and go to distinct workers; later ones read t + 1 after step t
    init = s.read_version == 1
    assert (
        len(np.unique(s.client[init & (s.start_time == 0)])) == (init & (s.start_time == 0)).sum()
    )
    # tau_C tasks in flight: at most tau_C updates read version 1, and each later version once
    counts = np.bincount(s.read_version)
    assert counts[1] <= tau_C
    assert (counts[2:] <= 1).all()
    if tau_C == 1:
        assert s.tau_max == 0


# --- per-replica batches (issue 8) -------------------------------------------------------------
@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(2, 30),
    T=st.integers(1, 15),
    K=st.integers(1, 4),
    concurrency=st.floats(0.5, 30.0),
    seed=st.integers(0, 10_000),
    first=st.integers(0, 50),
)
def test_fedbuff_batch_replica_r_is_the_single_run_with_first_replica_r(
    n, T, K, concurrency, seed, first
):
    R = 4
    b = fedbuff_schedules(n=n, T=T, K=K, R=R, concurrency=concurrency, seed=seed,
                          first_replica=first)  # fmt: skip
    assert b.client.shape == b.read_version.shape == (R, T * K)
    assert np.array_equal(b.applied_step, np.repeat(np.arange(T), K))
    for r in range(R):
        s = fedbuff_schedule(n=n, T=T, K=K, concurrency=concurrency, seed=seed,
                             first_replica=first + r)  # fmt: skip
        assert np.array_equal(s.client, b.client[r])
        assert np.array_equal(s.read_version, b.read_version[r])
        assert np.array_equal(s.arrival_time, b.arrival_time[r])
        assert np.array_equal(s.staleness_k1, b.staleness_k1[r])
        assert s.concurrency_mean == pytest.approx(b.concurrency_mean[r], rel=1e-12)  # sum order
        assert s.concurrency_max == b.concurrency_max[r]
    assert b.tau_max == int(b.tau_max_per_replica.max())


@settings(max_examples=10, deadline=None)
@given(
    n=st.integers(1, 20),
    T=st.integers(1, 40),
    frac=st.floats(0.01, 1.0),
    busy=st.sampled_from(["queue", "parallel"]),
    seed=st.integers(0, 10_000),
)
def test_asyncbc_batch_replica_r_is_the_single_run_with_first_replica_r(n, T, frac, busy, seed):
    tau_C = max(1, min(n, round(frac * n)))
    b = asyncbc_schedules(n=n, T=T, tau_C=tau_C, R=3, seed=seed, busy=busy, first_replica=2)
    for r in range(3):
        s = asyncbc_schedule(n=n, T=T, tau_C=tau_C, seed=seed, busy=busy, first_replica=2 + r)
        assert np.array_equal(s.client, b.client[r])
        assert np.array_equal(s.read_version, b.read_version[r])
        assert np.array_equal(s.arrival_time, b.arrival_time[r])
        assert b.replica(r).tau_max == s.tau_max == b.tau_max_per_replica[r]


def test_replicas_draw_their_own_schedules_and_summary_reports_them():
    b = fedbuff_schedules(n=50, T=30, K=5, R=16, concurrency=20, seed=1)
    assert len({tuple(c) for c in b.client}) == 16  # client choices differ per replica
    assert len({tuple(a) for a in np.round(b.arrival_time, 12)}) == 16  # durations too
    s = b.summary()
    assert s["shared_across_replicas"] is False
    assert s["tau_max"] == b.tau_max == max(s["tau_max_per_replica"])
    assert len(s["tau_max_per_replica"]) == len(s["concurrency_mean_per_replica"]) == 16
    assert s["staleness_mean"] == pytest.approx(float(b.staleness.mean()))
    assert sum(s["staleness_histogram"]) == 16 * 150
    json.dumps(s)  # JSON-friendly
    assert len(set(s["tau_max_per_replica"])) > 1 or len(set(s["staleness_mean_per_replica"])) > 1


def test_pin_and_stack():
    one = asyncbc_schedule(n=5, T=20, tau_C=3, seed=4)
    pinned = ScheduleBatch.pin(one, 4)
    assert pinned.shared and pinned.R == 4 and pinned.summary()["shared_across_replicas"]
    assert all(np.array_equal(pinned.client[r], one.client) for r in range(4))
    assert pinned.tau_max == one.tau_max
    scheds = [asyncbc_schedule(n=5, T=20, tau_C=3, seed=4, first_replica=r) for r in range(3)]
    st_ = ScheduleBatch.stack(scheds)
    ref = asyncbc_schedules(n=5, T=20, tau_C=3, R=3, seed=4)
    assert np.array_equal(st_.client, ref.client)
    assert np.array_equal(st_.read_version, ref.read_version)
    assert st_.tau_max_per_replica.tolist() == ref.tau_max_per_replica.tolist()
    with pytest.raises(ParameterError, match="schedule 1 has"):
        ScheduleBatch.stack([one, asyncbc_schedule(n=5, T=21, tau_C=3, seed=4)])
    with pytest.raises(ParameterError, match="schedules="):
        ScheduleBatch.stack([])
    with pytest.raises(ParameterError, match="r=4"):
        pinned.replica(4)
    with pytest.raises(ParameterError, match="seed="):
        fedbuff_schedules(n=3, T=2, K=1, rate=1.0, seed=np.random.default_rng(0))
