"""The problem contract shared by every family and every algorithm.

Shapes: ``R`` replicas, ``n`` clients, ``d`` parameters. A problem is ``f(x) = 1/n sum_i f_i(x)``.
Every function takes client-local points ``x`` of shape ``(R, m, d)`` together with ``clients``, a
``LongTensor`` of shape ``(m,)`` naming which client each of the ``m`` slots is (default: all ``n``
clients in order), so one call serves full participation, a sampled subset (FedPAQ) or the single
client whose update arrives in an asynchronous step.

Constants carry provenance (DESIGN.md): ``exact`` (closed form / eigenvalues), ``certified`` (a proven
upper bound; a lower bound for ``mu``), ``observed`` (the max seen along a trajectory -- weaker). A check
never uses a constant smaller than the truth.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

Provenance = Literal["exact", "certified", "observed"]


@dataclass(frozen=True)
class Constant:
    """A problem constant with how it is known and a short justification."""

    value: float
    provenance: Provenance
    how: str = ""


@dataclass
class Problem(ABC):
    """Base class; subclasses set ``n``, ``d``, ``dtype``, ``device`` and fill ``constants``.

    Constant names follow the symbol catalogue: ``L`` (of f), ``L_i`` (max over clients), ``mu``,
    ``f_star``, ``zeta``/``zeta2`` (gradient dissimilarity), ``delta_H`` (AsyncBC Hessian
    dissimilarity), ``G`` (QAFeL bound on ||grad F_n||^2), ``M2`` (SAEF bound on E||g||^2),
    ``sigma2`` (oracle variance), ``ell`` (AsyncBC mean-squared smoothness).
    """

    n: int
    d: int
    dtype: torch.dtype = torch.float64
    device: torch.device | str = "cpu"
    constants: dict[str, Constant] = field(default_factory=dict)

    def all_clients(self) -> torch.Tensor:
        return torch.arange(self.n, device=self.device)

    @abstractmethod
    def f_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        """Local objectives: ``x`` (R, m, d) -> (R, m)."""

    @abstractmethod
    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        """Local gradients: ``x`` (R, m, d) -> (R, m, d)."""

    def f(self, x: torch.Tensor) -> torch.Tensor:
        """Global objective ``1/n sum_i f_i``: ``x`` (R, d) -> (R,)."""
        xs = x.unsqueeze(1).expand(-1, self.n, -1)
        return self.f_i(xs).mean(dim=1)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """Global gradient: ``x`` (R, d) -> (R, d)."""
        xs = x.unsqueeze(1).expand(-1, self.n, -1)
        return self.grad_i(xs).mean(dim=1)

    # --- stochastic oracle -------------------------------------------------------------------
    def sample(self, R: int, clients: torch.Tensor | None, generator: torch.Generator) -> Any:
        """Draw the randomness of one oracle call per (replica, slot). Default: deterministic."""
        return None

    def stochastic_grad_i(
        self, x: torch.Tensor, sample: Any, clients: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Stochastic local gradients at ``x`` (R, m, d) with the drawn ``sample``.

        Calling it twice with the same ``sample`` at two points gives the shared randomness of
        AsyncBC Assumption 5; two samples give independent noise. Default: the exact gradient.
        """
        return self.grad_i(x, clients)

    def describe(self) -> dict[str, Any]:
        return {
            "family": type(self).__name__,
            "n": self.n,
            "d": self.d,
            "constants": {k: vars(v) for k, v in self.constants.items()},
        }
