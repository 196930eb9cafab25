"""Independent, reproducible random streams per replica (DESIGN.md, "Replicas are independent draws").

Every random choice a theorem's expectation averages over (client sampling, durations, oracle noise,
quantizer randomness) is drawn **per replica** from that replica's own seeded stream, one stream per
source. Replica ``r`` of a run with integer ``seed`` and ``first_replica = r0`` draws source ``name``
from the seed

    SeedSequence([seed, index(name), r0 + r])          (see :func:`replica_seed`)

so changing one source leaves the others untouched, and **replica r of a batch equals a single-replica
run with ``first_replica = r0 + r``**, number for number. A batch can therefore be split into chunks
of replicas (process pool, Ray) and reassembled with exactly the same numbers.

Speed: one torch generator per replica would cost one Python call per replica and draw. A
:class:`ReplicaGenerator` instead keeps, per dtype and kind (normal / uniform), a pool of ``block``
numbers per replica, refilled every ``block`` numbers (in two calls per replica: the first
draw's numbers at once, the rest at the next draw, so a run does not generate a tail it never
reads; the numbers are those of one call); a draw of ``m`` numbers per replica is a slice of the
pool (``m > block``: drawn directly). So the Python work per draw does not grow with ``R``; per
refill it is ``2 R`` calls that together produce ``block`` numbers each (``block = 4096`` by
default). The numbers replica ``r`` sees depend on its seed, the block size and the sequence of
draw sizes; the algorithms make the same draws for every replica, so a single-replica run
reproduces them. :func:`replica_seeds` derives a batch's seeds on arrays (SeedSequence's hash).

``ReplicaGenerator`` is accepted wherever a :class:`torch.Generator` is (compressors, oracles): the
module-level :func:`uniform`, :func:`normal` dispatch on the generator's type. With a plain
``torch.Generator`` the draw is one ``torch.rand`` / ``torch.randn`` over the whole shape (shared
stream; kept for tests, searches and single-vector use).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

__all__ = [
    "STREAMS",
    "ReplicaGenerator",
    "fill_normal_",
    "fill_uniform_",
    "integers",
    "normal",
    "numpy_generators",
    "replica_seed",
    "replica_seeds",
    "uniform",
    "without_replacement",
]

#: The sources of randomness, one stream each. New names are allowed (hashed from the name).
STREAMS = ("data", "sampling", "delays", "compressor_up", "compressor_down", "noise", "init")
DEFAULT_BLOCK = 4096


def _stream_key(name: str) -> list[int]:
    return [STREAMS.index(name)] if name in STREAMS else [len(STREAMS), *name.encode()]


def replica_seed(seed: int, name: str, replica: int) -> int:
    """The 63-bit seed of source ``name`` for replica number ``replica`` of a run with ``seed``."""
    ss = np.random.SeedSequence([int(seed), *_stream_key(name), int(replica)])
    return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))


# NumPy's SeedSequence (numpy/random/bit_generator.pyx): hash constants of its entropy mixing
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R, _M32, _POOL = 0xCA01F9DD, 0x4973F715, 0xFFFFFFFF, 4


def _words(n: int) -> list[int]:
    """``n >= 0`` as little-endian 32-bit words, ``[0]`` for 0 (SeedSequence's coercion)."""
    out = [n & _M32]
    n >>= 32
    while n:
        out.append(n & _M32)
        n >>= 32
    return out


def replica_seeds(seed: int, name: str, replicas: Sequence[int]) -> list[int]:
    """:func:`replica_seed` for many replica numbers at once: SeedSequence's hash (entropy
    ``[seed, index(name), replica]``, pool of 4 words, two output words) evaluated on arrays over
    the replicas, so a batch's set-up costs microseconds instead of one SeedSequence per replica.
    Equal to :func:`replica_seed` number for number (tested against NumPy's SeedSequence)."""
    reps = [int(r) for r in replicas]
    if not reps:
        return []
    if min(reps) < 0 or max(reps) > _M32:  # several words per replica: the scalar path
        return [replica_seed(seed, name, r) for r in reps]
    u32 = np.uint32
    prefix = _words(int(seed)) + [w for k in _stream_key(name) for w in _words(int(k))]
    entropy = [np.full(len(reps), w, dtype=u32) for w in prefix]
    entropy.append(np.asarray(reps, dtype=u32))
    hc = _INIT_A

    def hashmix(value: np.ndarray) -> np.ndarray:
        nonlocal hc
        value = value ^ u32(hc)
        hc = (hc * _MULT_A) & _M32
        value = value * u32(hc)
        return value ^ (value >> u32(16))

    def mix(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        r = u32(_MIX_L) * x - u32(_MIX_R) * y
        return r ^ (r >> u32(16))

    zero = np.zeros(len(reps), dtype=u32)
    pool = [hashmix(entropy[i] if i < len(entropy) else zero) for i in range(_POOL)]
    for i_src in range(_POOL):
        for i_dst in range(_POOL):
            if i_src != i_dst:
                pool[i_dst] = mix(pool[i_dst], hashmix(pool[i_src]))
    for i_src in range(_POOL, len(entropy)):
        for i_dst in range(_POOL):
            pool[i_dst] = mix(pool[i_dst], hashmix(entropy[i_src]))
    hb, words = _INIT_B, []
    for i in range(2):  # generate_state(1, uint64): two words, little-endian
        v = pool[i] ^ u32(hb)
        hb = (hb * _MULT_B) & _M32
        v = v * u32(hb)
        words.append((v ^ (v >> u32(16))).astype(np.uint64))
    state = words[0] | (words[1] << np.uint64(32))
    return (state >> np.uint64(1)).tolist()


def numpy_generators(seed: int, name: str, replicas: Sequence[int]) -> list[np.random.Generator]:
    """One NumPy generator per replica number (host-side schedules), same seeds as the torch side."""
    return [np.random.default_rng(s) for s in replica_seeds(seed, name, replicas)]


class ReplicaGenerator:
    """Per-replica random numbers for a batch of ``R`` replicas (see the module docstring).

    ``seeds`` holds one integer seed per replica (usually from :func:`replica_seed`). Draws return
    tensors whose first axis is the replica axis; row ``r`` depends only on ``seeds[r]``, the block
    size and the sequence of draw shapes.
    """

    def __init__(
        self, seeds: Sequence[int], device: torch.device | str = "cpu", block: int = DEFAULT_BLOCK
    ) -> None:
        if len(seeds) == 0:
            raise ValueError("ReplicaGenerator needs at least one replica seed")
        if int(block) < 16:
            raise ValueError(f"block={block!r} is not allowed: expected an integer >= 16")
        self.device = torch.device(device)
        self.block = int(block)
        self.seeds = [int(s) for s in seeds]
        self._gens = []
        for s in self.seeds:
            g = torch.Generator(device=self.device)
            g.manual_seed(s)
            self._gens.append(g)
        self._pools: dict[tuple[str, torch.dtype], list[Any]] = {}
        # the pool whose refill generated only its first draw's numbers (see _take), shared with
        # this generator's selections: they draw from the same torch generators
        self._pending: list[Any] = [None]

    @classmethod
    def for_run(
        cls,
        seed: int,
        name: str,
        R: int,
        *,
        first_replica: int = 0,
        device: torch.device | str = "cpu",
        block: int = DEFAULT_BLOCK,
    ) -> ReplicaGenerator:
        """The generator of source ``name`` for replicas ``first_replica .. first_replica + R - 1``."""
        return cls(
            replica_seeds(seed, name, range(first_replica, first_replica + R)), device, block
        )

    @property
    def R(self) -> int:
        return len(self._gens)

    # --- raw draws -------------------------------------------------------------------------------
    def _fill(self, kind: str, out: torch.Tensor) -> None:
        """Fill row ``r`` of ``out`` (``(R, m)``, rows contiguous) from replica ``r``'s generator.

        ``row.normal_()`` / ``row.uniform_()`` are the kernels ``torch.randn`` / ``torch.rand``
        run (the same numbers), at half the per-call overhead of the ``out=`` forms."""
        rows = out.unbind(0)  # R row views, one call
        if kind == "normal":
            for row, g in zip(rows, self._gens, strict=True):
                row.normal_(generator=g)
        else:
            for row, g in zip(rows, self._gens, strict=True):
                row.uniform_(generator=g)

    def _settle(self) -> None:
        """Generate the rest of a pool refilled lazily (before anything else draws from the same
        torch generators, so every generator produces its numbers in the order of full refills)."""
        pending = self._pending[0]
        if pending is not None:
            self._pending[0] = None
            owner, kind, buf, filled = pending
            owner._fill(kind, buf[:, filled:])

    def _take(self, kind: str, m: int, dtype: torch.dtype) -> torch.Tensor:
        """``(R, m)`` fresh numbers of ``kind`` (a view into the pool when ``m <= block``).

        A pool refill generates ``block`` numbers per replica; lazily, in two parts: the first
        draw's numbers (rounded up to a multiple of 16) at once, the rest at the next draw from
        this generator or its selections. The torch kernels give the same numbers in parts whose
        lengths are multiples of 16 as in one call (normals are made in groups of 16), so the
        numbers are those of full refills; a run that ends early skips generating a pool tail
        it would never read (up to ``block`` numbers per replica, stream and kind). CUDA's
        Philox offsets depend on each call's size: there a refill stays one call."""
        self._settle()
        if m > self.block:
            out = torch.empty(self.R, m, dtype=dtype, device=self.device)
            self._fill(kind, out)
            return out
        key = (kind, dtype)
        pool = self._pools.get(key)
        if pool is None or pool[1] + m > self.block:
            buf = pool[0] if pool is not None else None
            if buf is None:
                buf = torch.empty(self.R, self.block, dtype=dtype, device=self.device)
            lazy = self.block % 16 == 0 and self.device.type == "cpu"  # CPU kernels only
            first = -(-m // 16) * 16 if lazy else self.block
            self._fill(kind, buf[:, :first])
            if first < self.block:
                self._pending[0] = (self, kind, buf, first)
            pool = [buf, 0]
            self._pools[key] = pool
        buf, pos = pool
        pool[1] = pos + m
        return buf[:, pos : pos + m]

    def draw(self, kind: str, shape: Sequence[int], dtype: torch.dtype) -> torch.Tensor:
        """A fresh tensor of ``shape`` (``shape[0] == R``) of standard normals or U[0, 1)."""
        shape = tuple(map(int, shape))
        if not shape or shape[0] != self.R:
            raise ValueError(
                f"shape {shape} is not allowed: a per-replica draw needs the replica axis R = "
                f"{self.R} first"
            )
        m = math.prod(shape[1:])
        out = self._take(kind, m, dtype).reshape(shape)
        return out if m > self.block else out.clone()  # a fresh tensor needs no second copy

    def fill_(self, kind: str, out: torch.Tensor) -> torch.Tensor:
        """Fill ``out`` (contiguous, replica axis first) in place with the numbers
        ``draw(kind, out.shape, out.dtype)`` would return (same numbers, no allocation)."""
        if out.dim() == 0 or out.shape[0] != self.R or not out.is_contiguous():
            raise ValueError(
                f"out of shape {tuple(out.shape)} is not allowed: a per-replica fill needs a "
                f"contiguous tensor with the replica axis R = {self.R} first"
            )
        flat = out.view(self.R, -1)
        m = flat.shape[1]
        if m > self.block:
            self._settle()
            self._fill(kind, flat)
        else:
            flat.copy_(self._take(kind, m, out.dtype))
        return out

    def select(self, rows: torch.Tensor | Sequence[int]) -> ReplicaGenerator:
        """A generator over a subset of the replicas (sharing their generators' states)."""
        idx = rows.tolist() if isinstance(rows, torch.Tensor) else list(rows)
        sub = object.__new__(ReplicaGenerator)
        sub.device, sub.block = self.device, self.block
        sub.seeds = [self.seeds[i] for i in idx]
        sub._gens = [self._gens[i] for i in idx]
        sub._pools = {}
        sub._pending = self._pending  # the same torch generators: one pending pool at a time
        return sub


Gen = torch.Generator | ReplicaGenerator


def uniform(
    gen: Gen, shape: Sequence[int], *, dtype: torch.dtype = torch.float64, device: Any = None
) -> torch.Tensor:
    """U[0, 1) of ``shape``: per replica (axis 0) for a :class:`ReplicaGenerator`."""
    if isinstance(gen, ReplicaGenerator):
        return gen.draw("uniform", shape, dtype)
    return torch.rand(tuple(shape), generator=gen, dtype=dtype, device=device or gen.device)


def normal(
    gen: Gen, shape: Sequence[int], *, dtype: torch.dtype = torch.float64, device: Any = None
) -> torch.Tensor:
    """Standard normals of ``shape``: per replica (axis 0) for a :class:`ReplicaGenerator`."""
    if isinstance(gen, ReplicaGenerator):
        return gen.draw("normal", shape, dtype)
    return torch.randn(tuple(shape), generator=gen, dtype=dtype, device=device or gen.device)


def fill_uniform_(gen: Gen, out: torch.Tensor) -> torch.Tensor:
    """``out`` filled in place with U[0, 1): the numbers :func:`uniform` would return for
    ``out.shape`` (per replica along axis 0 for a :class:`ReplicaGenerator`)."""
    if isinstance(gen, ReplicaGenerator):
        return gen.fill_("uniform", out)
    return out.uniform_(generator=gen)


def fill_normal_(gen: Gen, out: torch.Tensor) -> torch.Tensor:
    """``out`` filled in place with standard normals (as :func:`normal` would return them)."""
    if isinstance(gen, ReplicaGenerator):
        return gen.fill_("normal", out)
    return out.normal_(generator=gen)


def integers(
    gen: Gen, high: int | torch.Tensor, shape: Sequence[int], *, device: Any = None
) -> torch.Tensor:
    """Uniform integers in ``[0, high)`` (``high`` broadcast against ``shape``), from float64
    uniforms: ``floor(u * high)``, clamped below ``high`` against rounding (exact for high < 2^52)."""
    u = uniform(gen, shape, dtype=torch.float64, device=device)
    h = torch.as_tensor(high, device=u.device, dtype=torch.float64)
    idx = torch.floor(u * h).long()
    return torch.minimum(idx, (h - 1).long())


def without_replacement(
    gen: Gen, n: int, k: int, shape: Sequence[int] = (), *, device: Any = None
) -> torch.Tensor:
    """``k`` distinct indices of ``range(n)``, uniform over ``k``-subsets and in random order, for
    every index of ``shape`` (result ``(*shape, k)``): the ``k`` smallest of ``n`` i.i.d. uniform keys."""
    u = uniform(gen, (*tuple(shape), n), dtype=torch.float64, device=device)
    return u.topk(k, dim=-1, largest=False, sorted=True).indices
