"""Shared plumbing of the batched algorithms: seeded random streams and divergence tracking."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

STREAMS = ("data", "sampling", "delays", "compressor_up", "compressor_down", "noise")


@dataclass
class Streams:
    """One seeded generator per source of randomness (DESIGN.md), derived from one integer seed.

    Changing how many draws one source makes leaves every other source's stream untouched. Torch
    generators live on ``device`` (CUDA generators for CUDA tensors); ``numpy(name)`` gives a NumPy
    generator for host-side schedules.
    """

    seed: int
    device: torch.device | str = "cpu"
    _torch: dict[str, torch.Generator] = field(default_factory=dict, repr=False)

    def _sub_seed(self, name: str) -> int:
        ss = np.random.SeedSequence([self.seed, STREAMS.index(name) if name in STREAMS else 0])
        if name not in STREAMS:
            ss = np.random.SeedSequence([self.seed, *name.encode()])
        return int(ss.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))

    def torch(self, name: str) -> torch.Generator:
        """The torch generator of stream ``name`` (created on first use)."""
        if name not in self._torch:
            g = torch.Generator(device=self.device)
            g.manual_seed(self._sub_seed(name))
            self._torch[name] = g
        return self._torch[name]

    def numpy(self, name: str) -> np.random.Generator:
        """A fresh NumPy generator of stream ``name`` (same seed, same stream)."""
        return np.random.default_rng(self._sub_seed(name))


def update_divergence(diverged_at: torch.Tensor, step: int, *tensors: torch.Tensor) -> None:
    """Mark, in place, replicas whose tensors hold a non-finite value for the first time at ``step``.

    ``diverged_at`` has shape ``(R,)`` with -1 for replicas that have not diverged; every tensor has
    the replica axis first.
    """
    bad = torch.zeros_like(diverged_at, dtype=torch.bool)
    for t in tensors:
        bad |= ~torch.isfinite(t.reshape(t.shape[0], -1)).all(dim=1)
    newly = bad & (diverged_at < 0)
    diverged_at[newly] = step
