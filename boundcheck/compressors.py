"""Compressors and quantizers (torch, batched over replicas, any device).

Contract shared with the algorithms (issue 3 fills in the families):

* ``C(x, generator)`` maps a tensor of shape ``(..., d)`` to a tensor of the same shape, dtype and
  device; every leading index is an independent message (replica, client). Randomness comes only
  from the passed :class:`torch.Generator`.
* ``C.biased`` -- whether ``E[C(x)] != x`` is possible.
* ``C.delta(d)`` -- the contraction parameter of QAFeL Definition 2.1 / SAEF Assumption 4,
  ``E||C(x) - x||^2 <= (1 - delta) ||x||^2``, or ``None`` where the compressor is no contraction.
* ``C.q(d)`` -- the variance parameter of FedPAQ Assumption 1, ``E||C(x) - x||^2 <= q ||x||^2``
  for an unbiased ``C``, else ``None``.
* ``C.bits(d)`` -- the exact number of bits one message of a ``d``-vector costs.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


class Compressor(ABC):
    """Base class of every compressor; see the module docstring for the contract."""

    name: str = "compressor"
    biased: bool = True

    @abstractmethod
    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Compress each row (last axis) of ``x``."""

    def delta(self, d: int) -> float | None:
        return None

    def q(self, d: int) -> float | None:
        return None

    @abstractmethod
    def bits(self, d: int) -> int:
        """Bits one compressed message of a ``d``-vector costs under the stated encoding."""


class Identity(Compressor):
    """No compression: ``C(x) = x``; ``delta = 1``, ``q = 0``; 32 bits per float32 entry."""

    name = "identity"
    biased = False

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return x

    def delta(self, d: int) -> float:
        return 1.0

    def q(self, d: int) -> float:
        return 0.0

    def bits(self, d: int) -> int:
        return 32 * d
