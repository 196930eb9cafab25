"""Parameter validation, seeding and small helpers shared by the problem families.

Every refusal is a :class:`~boundcheck.errors.ParameterError` (a ``ValueError``) that names the bad
value and what is allowed.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from boundcheck.errors import ParameterError

FLOAT_DTYPES = (torch.float64, torch.float32, torch.float16, torch.bfloat16)


def count(name: str, value: object, minimum: int = 1) -> int:
    """An integer ``>= minimum`` (bools refused)."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or int(value) < minimum:  # type: ignore[arg-type]
        raise ParameterError(
            f"{name}={value!r} is not allowed; {name} must be an integer >= {minimum}"
        )
    return int(value)  # type: ignore[arg-type]


def nonneg(name: str, value: object) -> float:
    """A finite float ``>= 0``."""
    v = _number(name, value, "a finite number >= 0")
    if v < 0:
        raise ParameterError(
            f"{name}={value!r} is not allowed; {name} must be a finite number >= 0"
        )
    return v


def positive(name: str, value: object) -> float:
    """A finite float ``> 0``."""
    v = _number(name, value, "a finite number > 0")
    if v <= 0:
        raise ParameterError(f"{name}={value!r} is not allowed; {name} must be a finite number > 0")
    return v


def _number(name: str, value: object, allowed: str) -> float:
    if isinstance(value, bool):
        raise ParameterError(f"{name}={value!r} is not allowed; {name} must be {allowed}")
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(
            f"{name}={value!r} is not a number; {name} must be {allowed}"
        ) from None
    if not math.isfinite(v):
        raise ParameterError(f"{name}={value!r} is not allowed; {name} must be {allowed}")
    return v


def choice(name: str, value: object, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError(
            f"{name}={value!r} is not allowed; {name} must be one of {', '.join(allowed)}"
        )
    return str(value)


def dtype(value: object) -> torch.dtype:
    if value not in FLOAT_DTYPES:
        raise ParameterError(
            f"dtype={value!r} is not allowed; dtype must be one of "
            f"{', '.join(str(t) for t in FLOAT_DTYPES)}"
        )
    return value  # type: ignore[return-value]


def device(value: object) -> torch.device:
    """A torch device that exists here (``"cpu"``, ``"cuda"``, ``"cuda:1"``, ...)."""
    try:
        dev = torch.device(value)  # type: ignore[arg-type]
        torch.empty(0, device=dev)  # e.g. "cuda" on a machine without CUDA fails here
    except (RuntimeError, TypeError, ValueError, AssertionError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ParameterError(
            f"device={value!r} is not allowed: {first}; use a device torch can allocate on here, "
            "e.g. 'cpu'" + (" or 'cuda'" if torch.cuda.is_available() else "")
        ) from None
    return dev


def rng(seed: object, family: str) -> np.random.Generator:
    """The NumPy generator of a family's data, derived from the integer ``seed`` and the family name.

    Data are drawn on the host in float64, so the same seed gives the same problem on every device.
    """
    s = count("seed", seed, minimum=0)
    return np.random.default_rng(np.random.SeedSequence([s, *family.encode()]))


def array(name: str, value: object, shape: tuple[int | None, ...]) -> np.ndarray:
    """A finite float64 array of the given shape (``None`` = any length)."""
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu().double().numpy()
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} is not a numeric array") from None
    if a.ndim != len(shape) or any(
        s is not None and s != t for s, t in zip(shape, a.shape, strict=False)
    ):
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ")"
        raise ParameterError(f"{name} has shape {a.shape}; it must be {want}")
    if not np.all(np.isfinite(a)):
        raise ParameterError(f"{name} holds a non-finite entry; all entries must be finite")
    return a


def sample_array(name: str, value: object) -> np.ndarray:
    """Per-sample data ``(n, m, d)`` (``n`` clients, ``m`` samples each, ``d`` features), all >= 1."""
    a = array(name, value, (None, None, None))
    if min(a.shape) < 1:
        raise ParameterError(f"{name} has shape {a.shape}; n, m and d must all be >= 1")
    return a


def centres(g: np.random.Generator, n: int, d: int, zeta: float) -> np.ndarray:
    """``u + zeta v_i`` (n, d) with ``u, v_i ~ N(0, I_d / d)`` drawn from ``g`` in that order: the
    heterogeneity knob ``zeta`` of the least-squares and toy families (``zeta = 0``: one centre)."""
    u = g.standard_normal(d) / math.sqrt(d)
    v = g.standard_normal((n, d)) / math.sqrt(d)
    return u[None, :] + zeta * v


def eig_slack(ev: np.ndarray) -> np.ndarray:
    """A bound on the rounding error of float64 eigenvalues ``ev`` (..., d) from ``eigvalsh``.

    LAPACK's symmetric eigensolvers are backward stable: each computed eigenvalue is within
    ``p(d) eps ||M||_2`` of the true one, with ``p(d)`` a modest multiple of ``d``; ``8 d eps ||M||``
    (plus the smallest normal number) covers it, so constants rounded outward by this much are never
    on the wrong side of the truth ("a check never uses a constant smaller than the truth").
    """
    d = ev.shape[-1]
    norm = np.maximum(np.abs(ev[..., 0]), np.abs(ev[..., -1]))
    return 8 * d * np.finfo(np.float64).eps * norm + np.finfo(np.float64).tiny


def eigs(M: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smallest eigenvalue(s) rounded down and largest rounded up, of symmetric ``(..., d, d)``."""
    ev = np.linalg.eigvalsh(0.5 * (M + np.swapaxes(M, -1, -2)))
    slack = eig_slack(ev)
    return ev[..., 0] - slack, ev[..., -1] + slack


def lmax(M: np.ndarray) -> np.ndarray:
    """Largest eigenvalue(s) of symmetric matrices ``(..., d, d)``, rounded up (see eig_slack)."""
    return eigs(M)[1]


def rounded(a: np.ndarray, dt: torch.dtype) -> np.ndarray:
    """``a`` rounded to ``dt`` and back to float64: constants are computed from the stored data."""
    return torch.from_numpy(np.array(a, dtype=np.float64)).to(dt).double().numpy()
