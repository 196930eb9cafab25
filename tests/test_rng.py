"""boundcheck.rng (issue 9): the vectorised seed derivation and the row fills are the scalar
definitions' numbers, exactly (the golden-number tests rest on them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck.rng import STREAMS, ReplicaGenerator, numpy_generators, replica_seed, replica_seeds

NAMES = st.one_of(st.sampled_from(STREAMS), st.text(min_size=0, max_size=12))


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**128),
    name=NAMES,
    replicas=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=20),
)
def test_replica_seeds_equal_numpy_seedsequence(seed, name, replicas):
    """The array evaluation of SeedSequence's hash equals NumPy's SeedSequence, seed for seed."""
    assert replica_seeds(seed, name, replicas) == [replica_seed(seed, name, r) for r in replicas]


def test_replica_seeds_edge_cases_and_wide_replica_numbers():
    assert replica_seeds(3, "data", []) == []
    wide = [0, 2**32 - 1, 2**32, 2**40 + 5]  # beyond one 32-bit word: the scalar path
    assert replica_seeds(7, "delays", wide) == [replica_seed(7, "delays", r) for r in wide]
    seeds = replica_seeds(0, "data", range(1000))
    assert len(set(seeds)) == 1000 and all(0 <= s < 2**63 for s in seeds)
    a, b = numpy_generators(4, "sampling", [2, 9])
    assert a.random() == np.random.default_rng(replica_seed(4, "sampling", 2)).random()
    assert b.random() == np.random.default_rng(replica_seed(4, "sampling", 9)).random()


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("m", [7, 4096, 10_000])  # pooled, a whole pool, a direct draw
def test_rows_are_the_replica_generators_torch_streams(dtype, m):
    """Row r of a draw is torch.randn / torch.rand from a generator seeded with replica r's seed
    (the in-place row kernels draw the numbers the out= forms drew)."""
    g = ReplicaGenerator.for_run(11, "data", 3, first_replica=5)
    normal = g.draw("normal", (3, m), dtype)
    uniform = g.draw("uniform", (3, m), dtype)
    for r in range(3):
        ref = torch.Generator().manual_seed(replica_seed(11, "data", 5 + r))
        if m <= g.block:  # the pool: block numbers per refill, the draw its first m
            want_n = torch.randn(g.block, generator=ref, dtype=dtype)[:m]
            want_u = torch.rand(g.block, generator=ref, dtype=dtype)[:m]
        else:
            want_n = torch.randn(m, generator=ref, dtype=dtype)
            want_u = torch.rand(m, generator=ref, dtype=dtype)
        assert torch.equal(normal[r], want_n)
        assert torch.equal(uniform[r], want_u)


class _EagerPools(ReplicaGenerator):
    """The refill rule before issue 9's lazy tails: a whole pool of ``block`` numbers at once."""

    def _take(self, kind, m, dtype):
        if m > self.block:
            out = torch.empty(self.R, m, dtype=dtype)
            self._fill(kind, out)
            return out
        pool = self._pools.get((kind, dtype))
        if pool is None or pool[1] + m > self.block:
            buf = torch.empty(self.R, self.block, dtype=dtype)
            self._fill(kind, buf)
            pool = self._pools[(kind, dtype)] = [buf, 0]
        pool[1] += m
        return pool[0][:, pool[1] - m : pool[1]]


OPS = st.tuples(
    st.sampled_from(["normal", "uniform"]),
    st.sampled_from([torch.float32, torch.float64]),
    st.one_of(st.integers(1, 40), st.integers(1000, 1100), st.integers(4090, 4200)),
    st.sampled_from(["draw", "fill", "child0", "child1"]),
)


@settings(max_examples=60, deadline=None)
@given(ops=st.lists(OPS, min_size=1, max_size=14), seed=st.integers(0, 2**32))
def test_lazy_pool_tails_give_the_numbers_of_whole_refills(ops, seed):
    """Any interleaving of kinds, dtypes, sizes (pooled and direct), draws and fills, through the
    generator or its selections (which share its torch generators): the same numbers as whole-pool
    refills."""
    seeds = [seed + r for r in range(3)]
    lazy, eager = ReplicaGenerator(seeds), _EagerPools(seeds)
    kids = {g: (g.select([0, 1]), g.select([2])) for g in (lazy, eager)}
    kids[eager] = tuple(_as_eager(k) for k in kids[eager])
    for kind, dtype, m, how in ops:
        got = []
        for g in (lazy, eager):
            h = kids[g][int(how[-1])] if how.startswith("child") else g
            if how == "fill":
                got.append(h.fill_(kind, torch.empty(h.R, m, dtype=dtype)))
            else:
                got.append(h.draw(kind, (h.R, m), dtype))
        assert torch.equal(got[0], got[1]), (kind, dtype, m, how)


def _as_eager(sub: ReplicaGenerator) -> _EagerPools:
    sub.__class__ = _EagerPools
    return sub
