"""What a run records: exactly the quantities the theorems' left-hand sides and proofs are about."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class Trace:
    """A batched run's record.

    ``series[name]`` has shape ``(steps, R)`` for per-step scalars (``grad_norm_sq``, ``f_gap``,
    ``bits_up``, ``bits_down``) or ``(steps, R, ...)`` for recorded vectors (``x``). ``diverged_at``
    holds, per replica, the first step with a non-finite value or -1. ``meta`` records the algorithm,
    its parameters, the seed, the device and dtype, and the schedule (staleness, tau_max) where
    asynchronous.
    """

    algorithm: str
    params: dict[str, Any]
    series: dict[str, torch.Tensor] = field(default_factory=dict)
    diverged_at: torch.Tensor | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> torch.Tensor:
        return self.series[name]
