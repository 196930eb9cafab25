"""Stochastic gradient oracles and the problem base class that delegates to them.

An oracle decides what :meth:`Problem.sample`, :meth:`Problem.stochastic_grad_i` and
:meth:`Problem.grad_difference_i` return, and which noise constants the problem certifies:

* ``exact`` -- ``g = grad f_i(x)``; ``sigma2 = 0``; ``ell = L_i``.
* ``gaussian`` -- ``g = grad f_i(x) + xi``, ``xi ~ N(0, noise_var I_d)`` drawn once per (replica,
  slot) by :meth:`sample`, in the problem's dtype. The variance of QAFeL Assumption 3.2 (``sigma_l^2``), FedPAQ Assumption 3
  and SAEF Assumption 2 (main-text numbering) is ``sigma2 = E||xi||^2 = d * noise_var``, exact and
  the same at every ``x``. With the same sample at two points the noise cancels, so AsyncBC
  Assumption 5 holds with ``ell = L_i``.
* ``independent`` -- the oracle of AsyncBC Theorem 3: the gradient difference is
  ``g^i = grad f_i(x_t) - grad f_i(x_{t-1}) + xi_t`` with ``xi_t ~ N(0, noise_var I_d)`` independent
  of everything else. ``E||xi_t||^2 = d * noise_var`` (``sigma2``); Assumption 5 fails for every
  finite ``ell`` (the difference's second moment stays ``>= d * noise_var`` as ``x_{t-1} -> x_t``),
  so ``ell = inf``.
* ``minibatch`` -- ``B = batch_size`` sample indices drawn uniformly *with replacement* from the
  client's ``m`` samples; ``g`` is the mean of their per-sample gradients. Available on finite-sum
  families (least squares, logistic), which certify its ``sigma2`` and ``ell`` themselves.

Reading of AsyncBC's "N(0, sigma I)" (Theorem 3) and "N(0, sigma)" (Appendix C): we read the
parameter as the per-coordinate variance (``noise_var``), i.e. covariance ``noise_var * I``, as
Appendix C says "variance sigma^2 = 0.01". Then ``E||xi||^2 = d * noise_var``, which is ``>=`` the
``sigma^2`` that the proof of Theorem 3 uses, so the proof's lower bound stays valid under this reading.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

import numpy as np
import torch

from boundcheck import rng
from boundcheck.errors import ParameterError
from boundcheck.problems import _params
from boundcheck.problems.base import Constant, Problem

ORACLES = ("exact", "gaussian", "independent", "minibatch")


class Oracle(ABC):
    """How a problem answers stochastic gradient queries (see the module docstring)."""

    name: str = "oracle"

    @abstractmethod
    def sample(
        self, problem: SyntheticProblem, R: int, clients: torch.Tensor, generator: rng.Gen
    ) -> Any: ...

    @abstractmethod
    def grad(
        self, problem: SyntheticProblem, x: torch.Tensor, sample: Any, clients: torch.Tensor
    ) -> torch.Tensor: ...

    def grad_difference(
        self,
        problem: SyntheticProblem,
        x_new: torch.Tensor,
        x_old: torch.Tensor,
        sample: Any,
        clients: torch.Tensor,
    ) -> torch.Tensor:
        """Shared randomness at both points (AsyncBC Assumption 5)."""
        return self.grad(problem, x_new, sample, clients) - self.grad(
            problem, x_old, sample, clients
        )

    @abstractmethod
    def constants(self, problem: SyntheticProblem) -> dict[str, Constant]:
        """``sigma2`` and ``ell`` (and oracle-specific extras) on ``problem``."""

    def describe(self) -> dict[str, Any]:
        return {"oracle": self.name}


class Exact(Oracle):
    """The deterministic oracle ``g = grad f_i(x)``."""

    name = "exact"

    def sample(self, problem, R, clients, generator):
        return None

    def grad(self, problem, x, sample, clients):
        return problem.grad_i(x, clients)

    def constants(self, problem):
        Li = problem.constants["L_i"]
        return {
            "sigma2": Constant(0.0, "exact", "deterministic oracle: g = grad f_i(x)"),
            "ell": Constant(
                Li.value,
                Li.provenance,
                "AsyncBC Assumption 5 with a deterministic oracle is L_i-smoothness of each f_i: "
                "ell = L_i = " + Li.how,
            ),
        }


class GaussianNoise(Oracle):
    """``g = grad f_i(x) + xi``, ``xi ~ N(0, noise_var I_d)``; one draw per (replica, slot)."""

    name = "gaussian"

    def __init__(self, noise_var: float) -> None:
        self.noise_var = _params.nonneg("noise_var", noise_var)

    def sample(self, problem, R, clients, generator):
        # drawn in the problem's dtype (float32 normals are ~6x cheaper than float64 ones; float16
        # and bfloat16 problems draw float32 and round)
        std = math.sqrt(self.noise_var)
        shape = (R, clients.shape[-1], problem.d)
        dt = problem.dtype if problem.dtype in (torch.float32, torch.float64) else torch.float32
        xi = rng.normal(generator, shape, dtype=dt, device=problem.device)
        return (xi.mul_(std) if std != 1.0 else xi).to(problem.dtype)

    def grad(self, problem, x, sample, clients):
        g = problem.grad_i(x, clients)
        return g if sample is None else g + _noise_like(sample, g)

    def constants(self, problem):
        Li = problem.constants["L_i"]
        return {
            "sigma2": Constant(
                problem.d * self.noise_var,
                "exact",
                f"E||xi||^2 = d * noise_var = {problem.d} * {self.noise_var} for "
                "xi ~ N(0, noise_var I_d), the same at every x (QAFeL sigma_l^2, FedPAQ/SAEF sigma^2)",
            ),
            "ell": Constant(
                Li.value,
                Li.provenance,
                "with one shared sample at both points the additive noise cancels, "
                "g(x,xi) - g(y,xi) = grad f_i(x) - grad f_i(y), so AsyncBC Assumption 5 holds with "
                "ell = L_i = " + Li.how,
            ),
        }

    def describe(self):
        return {"oracle": self.name, "noise_var": self.noise_var}


class IndependentNoise(GaussianNoise):
    """AsyncBC Theorem 3: ``g^i_t = grad f_i(x_t) - grad f_i(x_{t-1}) + xi_t``, ``xi_t`` independent."""

    name = "independent"

    def grad_difference(self, problem, x_new, x_old, sample, clients):
        g = problem.grad_i(x_new, clients) - problem.grad_i(x_old, clients)
        return g if sample is None else g + _noise_like(sample, g)

    def constants(self, problem):
        out = super().constants(problem)
        out["sigma2"] = Constant(
            problem.d * self.noise_var,
            "exact",
            f"E||xi_t||^2 = d * noise_var = {problem.d} * {self.noise_var}: the variance of both "
            "stochastic gradients and of the difference oracle g^i of AsyncBC Theorem 3 "
            "(reading: N(0, sigma I) has covariance noise_var * I)",
        )
        out["ell"] = Constant(
            math.inf if self.noise_var > 0 else out["ell"].value,
            "exact" if self.noise_var > 0 else out["ell"].provenance,
            "independent noise violates AsyncBC Assumption 5: E||g^i||^2 >= d * noise_var > 0 "
            "while ||x_t - x_{t-1}|| -> 0, so no finite ell exists"
            if self.noise_var > 0
            else out["ell"].how,
        )
        return out


class Minibatch(Oracle):
    """Mean of ``batch_size`` per-sample gradients, indices uniform with replacement."""

    name = "minibatch"

    def __init__(self, batch_size: int) -> None:
        self.batch_size = _params.count("batch_size", batch_size)

    def sample(self, problem, R, clients, generator):
        m = problem.samples_per_client(clients)  # (s,)
        u = rng.uniform(
            generator,
            (R, clients.shape[-1], self.batch_size),
            dtype=torch.float64,
            device=problem.device,
        )
        mm = m.unsqueeze(-1)  # (s, 1) shared or (R, s, 1) per replica
        idx = torch.floor(u * mm.to(torch.float64)).long()
        return torch.minimum(idx, mm - 1)

    def grad(self, problem, x, sample, clients):
        if sample is None:
            return problem.grad_i(x, clients)
        if sample.shape[:2] != x.shape[:2]:
            raise ParameterError(
                f"sample has shape {tuple(sample.shape)}; it must start with x's (R, m) = "
                f"{tuple(x.shape[:2])}"
            )
        return problem.minibatch_grad(x, clients, sample)

    def constants(self, problem):
        return problem.minibatch_constants(self.batch_size)

    def describe(self):
        return {"oracle": self.name, "batch_size": self.batch_size}


def _noise_like(sample: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
    if sample.shape != g.shape:
        raise ParameterError(
            f"sample has shape {tuple(sample.shape)}; it must match the gradients {tuple(g.shape)}"
        )
    return sample


def make_oracle(oracle: str, noise_var: float = 0.0, batch_size: int = 1) -> Oracle:
    """An oracle by name (``exact``, ``gaussian``, ``independent``, ``minibatch``).

    ``noise_var`` and ``batch_size`` are validated whichever oracle uses them: a negative variance
    or an empty batch is a mistake even where the chosen oracle ignores it.
    """
    _params.choice("oracle", oracle, ORACLES)
    _params.nonneg("noise_var", noise_var)
    _params.count("batch_size", batch_size)
    if oracle == "exact":
        return Exact()
    if oracle == "gaussian":
        return GaussianNoise(noise_var)
    if oracle == "independent":
        return IndependentNoise(noise_var)
    return Minibatch(batch_size)


class SyntheticProblem(Problem):
    """A :class:`Problem` whose stochastic oracle is an :class:`Oracle` (set by ``set_oracle``)."""

    oracle: Oracle
    finite_sum: bool = False

    def __init__(
        self, n: int, d: int, dtype: torch.dtype = torch.float64, device: torch.device | str = "cpu"
    ) -> None:
        n = _params.count("n", n)
        d = _params.count("d", d)
        super().__init__(n=n, d=d, dtype=_params.dtype(dtype), device=_params.device(device))
        self.oracle = Exact()

    # subclasses fill these two, then call ``_finish``
    def _deterministic_constants(self) -> dict[str, Constant]:
        raise NotImplementedError

    def _finish(self, oracle: Oracle) -> None:
        self.constants = self._deterministic_constants()
        self.set_oracle(oracle)

    def set_oracle(self, oracle: Oracle) -> None:
        """Use ``oracle`` from now on and replace the oracle constants (``sigma2``, ``ell``, ...)."""
        if isinstance(oracle, Minibatch) and not self.finite_sum:
            raise ParameterError(
                f"oracle='minibatch' is not allowed for {type(self).__name__}: it has no per-sample "
                "structure; use oracle='exact', 'gaussian' or 'independent'"
            )
        for k in getattr(self, "_oracle_keys", ()):
            self.constants.pop(k, None)
        self.oracle = oracle
        extra = oracle.constants(self)
        self._oracle_keys = tuple(extra)
        self.constants.update(extra)

    # --- the contract, delegated --------------------------------------------------------------
    def sample(self, R: int, clients: torch.Tensor | None, generator: rng.Gen) -> Any:
        R = _params.count("R", R)
        if isinstance(generator, rng.ReplicaGenerator) and generator.R != R:
            raise ParameterError(
                f"generator draws for {generator.R} replicas; it must draw for R={R}"
            )
        if clients is None:
            cl = self.all_clients()
        else:
            cl = torch.as_tensor(clients, device=self.device)
            cl = self._clients(cl, cl.shape[-1] if cl.dim() else -1, R)
        return self.oracle.sample(self, R, cl, generator)

    def stochastic_grad_i(
        self, x: torch.Tensor, sample: Any, clients: torch.Tensor | None = None
    ) -> torch.Tensor:
        self._check_local(x)
        cl = self._clients(clients, x.shape[1], x.shape[0])
        return self.oracle.grad(self, x, sample, cl)

    def grad_difference_i(
        self,
        x_new: torch.Tensor,
        x_old: torch.Tensor,
        sample: Any,
        clients: torch.Tensor | None = None,
    ) -> torch.Tensor:
        self._check_local(x_new)
        if x_old.shape != x_new.shape:
            raise ParameterError(
                f"x_old has shape {tuple(x_old.shape)}; it must match x_new {tuple(x_new.shape)}"
            )
        cl = self._clients(clients, x_new.shape[1], x_new.shape[0])
        return self.oracle.grad_difference(self, x_new, x_old, sample, cl)

    # --- finite-sum hooks (least squares, logistic) ---------------------------------------------
    def samples_per_client(self, clients: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def sample_grads(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        raise NotImplementedError

    def minibatch_constants(self, batch_size: int) -> dict[str, Constant]:
        raise NotImplementedError

    # --- observed constants -----------------------------------------------------------------
    def observe(self, xs: torch.Tensor) -> dict[str, Constant]:
        """Observed ``G``, ``M2`` and ``zeta2``: maxima over the points ``xs`` (any shape ``(..., d)``).

        Weaker than certified constants (DESIGN.md): they hold along the given trajectory only.
        """
        if xs.shape[-1] != self.d:
            raise ParameterError(
                f"xs has shape {tuple(xs.shape)}; its last axis must be d={self.d}"
            )
        pts = xs.reshape(-1, self.d).to(device=self.device, dtype=self.dtype)
        gi = self.grad_i(pts.unsqueeze(1).expand(-1, self.n, -1))
        g = gi.mean(dim=1)
        k = pts.shape[0]
        msg = f"max over {k} observed points"
        return {
            "G": Constant(
                float(gi.pow(2).sum(-1).max()), "observed", msg + " of max_i ||grad f_i||^2"
            ),
            "M2": Constant(float(g.pow(2).sum(-1).max()), "observed", msg + " of ||grad f||^2"),
            "zeta2": Constant(
                float((gi - g.unsqueeze(1)).pow(2).sum(-1).max()),
                "observed",
                msg + " of max_i ||grad f_i - grad f||^2",
            ),
        }

    def describe(self) -> dict[str, Any]:
        out = super().describe()
        out.update(self.oracle.describe())
        return out


class FiniteSum(SyntheticProblem):
    """A :class:`SyntheticProblem` with ``f_i = 1/m sum_j l_ij`` (``m`` samples per client), which
    enables the minibatch oracle. Subclasses set ``m`` and provide ``sample_grads``,
    ``per_sample_grads_np`` and ``minibatch_constants``."""

    finite_sum = True
    m: int

    def samples_per_client(self, clients: torch.Tensor) -> torch.Tensor:
        """Samples held by each named client: same shape as ``clients`` ((s,) or (R, s))."""
        return torch.full(tuple(clients.shape), self.m, dtype=torch.long, device=self.device)

    def per_sample_grads_np(self, x: np.ndarray) -> np.ndarray:
        """All per-sample gradients at one point ``x`` (d,) -> (n, m, d), float64."""
        raise NotImplementedError

    def minibatch_grad(
        self, x: torch.Tensor, clients: torch.Tensor, idx: torch.Tensor
    ) -> torch.Tensor:
        """The mean of the per-sample gradients ``idx`` (R, s, B): ``(R, s, d)``."""
        return self.sample_grads(x, clients, idx).mean(dim=2)

    def minibatch_variance(self, x: np.ndarray, batch_size: int) -> np.ndarray:
        """Exact per-client minibatch variance ``E||g - grad f_i(x)||^2`` at ``x`` (d,) -> (n,)."""
        g = self.per_sample_grads_np(np.asarray(x, dtype=np.float64))
        return (
            np.mean(np.sum((g - g.mean(axis=1, keepdims=True)) ** 2, axis=2), axis=1) / batch_size
        )


__all__ = [
    "ORACLES",
    "Exact",
    "FiniteSum",
    "GaussianNoise",
    "IndependentNoise",
    "Minibatch",
    "Oracle",
    "SyntheticProblem",
    "make_oracle",
]
