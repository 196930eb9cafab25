"""The problem contract shared by every family and every algorithm.

Shapes: ``R`` replicas, ``n`` clients, ``d`` parameters. A problem is ``f(x) = 1/n sum_i f_i(x)``.
Every function takes client-local points ``x`` of shape ``(R, m, d)`` together with ``clients``, an
integer tensor naming which client each of the ``m`` slots is: shared by all replicas, shape ``(m,)``,
or per replica, shape ``(R, m)`` (row ``r`` for replica ``r``: replicas draw their own clients,
issue 8); default all ``n`` clients in order. So one call serves full participation, a sampled subset
(FedPAQ) or the single client whose update arrives in an asynchronous step, for every replica at once
(gathers, never a Python loop over replicas). A per-replica ``clients`` whose rows are all equal gives
exactly the shared-clients result, row for row.

Constants carry provenance (DESIGN.md): ``exact`` (closed form / eigenvalues), ``certified`` (a proven
upper bound; a lower bound for ``mu`` and for ``f_star_lower``), ``observed`` (the max seen along a
trajectory -- weaker). A check never uses a constant smaller than the truth. A constant that does not
exist on ``R^d`` (e.g. ``G`` of a quadratic) is reported with value ``inf`` and provenance ``exact``.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Literal

import torch

from boundcheck.errors import ParameterError, UnknownIdError
from boundcheck.problems._params import count
from boundcheck.rng import Gen

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
        """Local objectives: ``x`` (R, m, d), ``clients`` (m,) or (R, m) -> (R, m)."""

    @abstractmethod
    def grad_i(self, x: torch.Tensor, clients: torch.Tensor | None = None) -> torch.Tensor:
        """Local gradients: ``x`` (R, m, d), ``clients`` (m,) or (R, m) -> (R, m, d)."""

    def f(self, x: torch.Tensor) -> torch.Tensor:
        """Global objective ``1/n sum_i f_i``: ``x`` (R, d) -> (R,)."""
        self._check_global(x)
        xs = x.unsqueeze(1).expand(-1, self.n, -1)
        return self.f_i(xs).mean(dim=1)

    def grad(self, x: torch.Tensor) -> torch.Tensor:
        """Global gradient: ``x`` (R, d) -> (R, d)."""
        self._check_global(x)
        xs = x.unsqueeze(1).expand(-1, self.n, -1)
        return self.grad_i(xs).mean(dim=1)

    # --- stochastic oracle -------------------------------------------------------------------
    def sample(self, R: int, clients: torch.Tensor | None, generator: Gen) -> Any:
        """Draw the randomness of one oracle call per (replica, slot). Default: deterministic.

        ``clients``: ``None`` (all n), shared ``(m,)`` or per-replica ``(R, m)``. ``generator``: a
        ``torch.Generator`` (one stream shared by the batch) or a
        :class:`boundcheck.rng.ReplicaGenerator` over exactly ``R`` replicas (replica ``r``'s
        randomness from its own stream). The result's leading axes are ``(R, m)``.
        """
        return None

    def stochastic_grad_i(
        self, x: torch.Tensor, sample: Any, clients: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Stochastic local gradients at ``x`` (R, m, d) with the drawn ``sample``.

        Calling it twice with the same ``sample`` at two points gives the shared randomness of
        AsyncBC Assumption 5; two samples give independent noise. Default: the exact gradient.
        """
        return self.grad_i(x, clients)

    def grad_difference_i(
        self,
        x_new: torch.Tensor,
        x_old: torch.Tensor,
        sample: Any,
        clients: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The gradient-difference oracle ``g^i`` of AsyncBC Algorithm 2 (line 9), ``(R, m, d)``.

        Default: ``grad f_i(x_new, xi) - grad f_i(x_old, xi)`` with one shared ``sample`` (AsyncBC
        Assumption 5). A problem with the independent-noise oracle of AsyncBC Theorem 3 overrides
        this to return ``grad f_i(x_new) - grad f_i(x_old) + xi``.
        """
        return self.stochastic_grad_i(x_new, sample, clients) - self.stochastic_grad_i(
            x_old, sample, clients
        )

    # --- conveniences --------------------------------------------------------------------------
    def constant(self, name: str) -> Constant:
        """The constant ``name``; an unknown name raises :class:`UnknownIdError` listing the known."""
        try:
            return self.constants[name]
        except KeyError:
            known = ", ".join(sorted(self.constants))
            raise UnknownIdError(
                f"{type(self).__name__} has no constant {name!r}; it certifies: {known}"
            ) from None

    @property
    def f_star(self) -> float:
        """``constants['f_star'].value`` (see each family for its provenance)."""
        return self.constant("f_star").value

    @property
    def x_star(self) -> torch.Tensor | None:
        """A minimiser of ``f`` (shape ``(d,)``) where known, else ``None``."""
        return getattr(self, "_x_star", None)

    def x0(
        self, R: int, generator: torch.Generator | None = None, scale: float = 1.0
    ) -> torch.Tensor:
        """Starting points ``(R, d)``: zeros if ``generator`` is None, else ``scale * N(0, I)``."""
        R = count("R", R)
        if generator is None:
            return torch.zeros(R, self.d, dtype=self.dtype, device=self.device)
        return scale * torch.randn(
            R, self.d, dtype=self.dtype, device=self.device, generator=generator
        )

    def describe(self) -> dict[str, Any]:
        return {
            "family": type(self).__name__,
            "n": self.n,
            "d": self.d,
            "constants": {k: vars(v) for k, v in self.constants.items()},
        }

    # --- validation helpers ----------------------------------------------------------------------
    def _clients(self, clients: torch.Tensor | None, m: int, R: int | None = None) -> torch.Tensor:
        """Validate ``clients`` against ``m`` slots (and ``R`` replicas when per-replica).

        ``clients`` is ``None`` (all ``n`` clients in order; then ``m`` must be ``n``), a shared
        index tensor of shape ``(m,)``, or a per-replica index tensor of shape ``(R, m)`` (row ``r``
        names the clients of replica ``r``'s slots). Returns a ``long`` tensor of shape ``(m,)`` or
        ``(R, m)``.
        """
        if clients is None:
            if m != self.n:
                raise ParameterError(
                    f"x has {m} client slots but clients=None means all n={self.n} clients; "
                    "pass clients of shape (m,) or (R, m)"
                )
            return self.all_clients()
        clients = torch.as_tensor(clients, device=self.device)
        if clients.dim() == 1:
            ok = clients.shape[0] == m
        elif clients.dim() == 2:
            ok = clients.shape[1] == m and (R is None or clients.shape[0] == R)
        else:
            ok = False
        if not ok:
            want = f"({m},) or ({'R' if R is None else R}, {m})"
            raise ParameterError(
                f"clients has shape {tuple(clients.shape)}; it must be {want} to match x"
            )
        if clients.dtype not in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8):
            raise ParameterError(f"clients has dtype {clients.dtype}; it must be an integer tensor")
        if clients.numel() and (int(clients.min()) < 0 or int(clients.max()) >= self.n):
            bad = clients[(clients < 0) | (clients >= self.n)]
            raise ParameterError(f"clients holds the index {int(bad[0])} outside 0..{self.n - 1}")
        return clients.long()

    def _check_local(self, x: torch.Tensor) -> None:
        if x.dim() != 3 or x.shape[-1] != self.d:
            raise ParameterError(f"x has shape {tuple(x.shape)}; it must be (R, m, d={self.d})")

    def _check_global(self, x: torch.Tensor) -> None:
        if x.dim() != 2 or x.shape[-1] != self.d:
            raise ParameterError(f"x has shape {tuple(x.shape)}; it must be (R, d={self.d})")


def finite_or_inf(v: float) -> float:
    """``v`` as a float, with NaN refused (a constant is never NaN)."""
    v = float(v)
    if math.isnan(v):
        raise ValueError("a constant evaluated to NaN")
    return v
