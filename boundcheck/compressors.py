"""Compressors and quantizers (torch, batched over replicas, any device).

Contract shared with the algorithms:

* ``C(x, generator)`` maps a tensor of shape ``(..., d)`` to a tensor of the same shape, dtype and
  device; every leading index is an independent message (replica, client). Randomness comes only
  from the passed :class:`torch.Generator`, or from a :class:`boundcheck.rng.ReplicaGenerator`
  (one stream per replica; the leading axis of ``x`` is then the replica axis); a stochastic
  compressor refuses ``generator=None``; same seed, same output.
* ``C.biased`` -- whether ``E[C(x)] != x`` is possible.
* ``C.delta(d)`` -- the contraction parameter of QAFeL Definition 2.1 / SAEF Assumption 4,
  ``E||C(x) - x||^2 <= (1 - delta) ||x||^2``, *of this very compressor* (no rescaling), as proven
  here; ``None`` where ``C`` is no contraction at ``d``.
* ``C.q(d)`` -- the variance parameter of FedPAQ Assumption 1, ``E||C(x) - x||^2 <= q ||x||^2``
  for an unbiased ``C``, else ``None``.
* ``C.bits(d)`` -- the exact number of bits one message of a ``d``-vector costs under the encoding
  stated in the class docstring (float32 = 32 bits; a position costs ``ceil(log2 d)`` bits).
* ``C.published(d)`` -- the parameters the papers state, with their source and the compressor they
  belong to, beside the proven ones; ``C.worst_ratio(d)`` -- the exact
  ``sup_x E||C(x) - x||^2 / ||x||^2`` where it has a closed form.
* ``C.expectation(x)`` / ``C.expected_sq_error(x)`` -- closed forms of ``E[C(x)]`` and
  ``E||C(x) - x||^2`` per message (``None`` where there is none).

An unbiased compressor with variance ``q`` is a contraction only with ``delta = 1 - q`` (when
``q < 1``); its rescaling ``Q / (1 + q)`` (:class:`Rescaled`) is a contraction with
``delta = 1 / (1 + q)`` but is biased. Every ``delta`` below says which of the two it belongs to.

Bad input (``k`` outside ``1..d``, ``s < 1``, ``bits < 1``, non-finite entries, wrong shape) raises
:class:`~boundcheck.errors.ParameterError` (a ``ValueError``) naming the value; the zero vector
compresses to zero.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from boundcheck import rng
from boundcheck.errors import ParameterError, UnknownIdError
from boundcheck.rng import Gen

__all__ = [
    "QSGD",
    "Adversarial",
    "Blockwise",
    "Compressor",
    "Identity",
    "LowPrecision",
    "Published",
    "QSGDBits",
    "RandK",
    "Rescaled",
    "Scale",
    "ScaledSign",
    "TopK",
    "get",
    "index_bits",
    "names",
    "parameters",
    "qsgd_variance",
    "safe_norm",
    "summary",
]

FLOAT_BITS = 32  # every transmitted real (norm, scale, value) is a float32


@dataclass(frozen=True)
class Published:
    """A compressor parameter as stated in a paper.

    ``param`` is ``"delta"`` (bound ``1 - delta`` on the ratio ``E||C(x)-x||^2/||x||^2``) or ``"q"``
    (bound ``q``); ``applies_to`` names the compressor the value is claimed for.
    """

    param: str
    value: float
    source: str
    applies_to: str
    note: str = ""

    @property
    def ratio_bound(self) -> float:
        """The bound on ``E||C(x) - x||^2 / ||x||^2`` this parameter asserts."""
        return 1.0 - self.value if self.param == "delta" else self.value


# ---------------------------------------------------------------------------------------------
# helpers


def index_bits(d: int) -> int:
    """Bits of one coordinate position in ``0..d-1``: ``ceil(log2 d)`` (0 for ``d = 1``)."""
    return (d - 1).bit_length()


def _positions_bits(k: int, d: int) -> int:
    """Cheaper of the two standard encodings of a ``k``-subset of ``d`` positions: ``k`` indices of
    ``ceil(log2 d)`` bits, or a ``d``-bit mask."""
    return min(k * index_bits(d), d)


def _check_int(name: str, value: object, lo: int, hi: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            ok = float(value) == int(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise ParameterError(f"{name}={value!r} is not an integer")
        value = int(value)  # type: ignore[arg-type]
    if value < lo or (hi is not None and value > hi):
        allowed = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ParameterError(f"{name}={value} is outside the allowed range {allowed}")
    return value


def _check_d(d: object) -> int:
    return _check_int("d", d, 1)


def _check_x(x: object, who: str, finite: bool = True) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise ParameterError(f"{who}: input must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise ParameterError(f"{who}: input dtype {x.dtype} is not a floating-point dtype")
    if x.ndim < 1 or x.shape[-1] < 1:
        raise ParameterError(
            f"{who}: input shape {tuple(x.shape)} is not allowed; expected (..., d) with d >= 1"
        )
    if not finite:  # the caller checks the entries itself (see _checked_norm)
        return x
    if bool(torch.isfinite(x.sum())):  # one read, no allocation: a NaN/inf entry always propagates
        return x
    finite = torch.isfinite(x)  # the sum may also overflow: look at the entries
    if not bool(finite.all()):
        bad = (~finite).nonzero()[0].tolist()
        raise ParameterError(
            f"{who}: input holds a non-finite entry {x[tuple(bad)].item()} at index {tuple(bad)};"
            " only finite entries are allowed"
        )
    return x


def _tiny_norm(dtype: torch.dtype) -> float:
    """The smallest row norm :func:`_checked_norm` / :func:`safe_norm` take as computed."""
    return math.sqrt(torch.finfo(dtype).tiny) * 2.0**30


def _fast_norm(x: torch.Tensor, ord: float = 2.0) -> torch.Tensor | None:
    """The row norms of ``x`` (keepdim) when every one is finite and at least :func:`_tiny_norm`
    (then they are what :func:`safe_norm` returns), else ``None``: one read of ``x``."""
    nrm = torch.linalg.vector_norm(x, ord=ord, dim=-1, keepdim=True)
    if bool((torch.isfinite(nrm) & (nrm >= _tiny_norm(x.dtype))).all()):
        return nrm
    return None


def _checked_norm(x: torch.Tensor, who: str, ord: float = 2.0) -> torch.Tensor:
    """:func:`safe_norm` of an input whose type and shape :func:`_check_x` has passed (called with
    ``finite=False``), refusing non-finite entries as :func:`_check_x` does; in the common case
    (every row's norm finite and normal) it reads ``x`` once, the norm doubling as the check."""
    nrm = _fast_norm(x, ord)
    if nrm is not None:
        return nrm
    _check_x(x, who)  # a non-finite entry: the one-line refusal
    return safe_norm(x, ord)


def _workspace(
    owner: object, shape: tuple[int, ...], dtype: torch.dtype, device: torch.device, count: int
) -> tuple[torch.Tensor, ...]:
    """``count`` contiguous scratch tensors of ``shape``, kept on ``owner`` and reused: a fresh
    large allocation costs about as much as a copy (page faults). One flat buffer per (dtype,
    device, count), grown to the largest request and viewed at each shape, so calls of several
    shapes (a batch's chunks of replicas, uploads and broadcasts) share it."""
    key = (dtype, device, count)
    cache = owner.__dict__.setdefault("_ws", {})
    views = cache.get((key, shape))  # the views of the last shape asked for (a loop asks again)
    if views is not None:
        return views
    numel = math.prod(shape)
    ws = cache.get(key)
    if ws is None or ws[0].numel() < numel:
        for k in [k for k in cache if k[0] == key]:  # views of the old buffers
            del cache[k]
        ws = cache[key] = tuple(
            torch.empty(numel, dtype=dtype, device=device) for _ in range(count)
        )
    views = tuple(w[:numel].view(shape) for w in ws)
    if sum(1 for k in cache if len(k) == 2) >= 8:  # a few shapes at a time
        for k in [k for k in cache if len(k) == 2]:
            del cache[k]
    cache[(key, shape)] = views
    return views


def _need_generator(g: Gen | None, who: str) -> Gen:
    if g is None:
        raise ParameterError(
            f"{who} is stochastic and needs a torch.Generator (randomness only through a passed"
            " generator), got generator=None"
        )
    return g


def safe_norm(x: torch.Tensor, ord: float = 2.0) -> torch.Tensor:
    """``||x||_ord`` over the last axis (keepdim), free of overflow and underflow for finite ``x``.

    The fast norm is used where it is safely inside the dtype's range; only the remaining rows are
    recomputed as ``m * ||x / m||`` with ``m = max |x_i|`` (so entries like 1e-300 or 1e300 in
    float64 neither underflow to a zero norm nor overflow to inf).
    """
    nrm = torch.linalg.vector_norm(x, ord=ord, dim=-1, keepdim=True)
    bad = ~torch.isfinite(nrm) | (nrm < _tiny_norm(x.dtype))
    if bool(bad.any()):
        m = x.abs().amax(dim=-1, keepdim=True)
        m_safe = torch.where(m > 0, m, torch.ones_like(m))
        scaled = m * torch.linalg.vector_norm(x / m_safe, ord=ord, dim=-1, keepdim=True)
        nrm = torch.where(bad, scaled, nrm)
        if not bool(torch.isfinite(nrm).all()):
            raise ParameterError(
                f"the {ord}-norm of an input row exceeds the range of {x.dtype}; rescale the input"
            )
    return nrm


def _sq_norm64(x: torch.Tensor) -> torch.Tensor:
    """``||x||^2`` per row in float64 (used by closed forms)."""
    return safe_norm(x.double()).squeeze(-1) ** 2


# ---------------------------------------------------------------------------------------------
# contract


class Compressor(ABC):
    """Base class of every compressor; see the module docstring for the contract."""

    name: str = "compressor"
    biased: bool = True
    stochastic: bool = False

    @abstractmethod
    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        """Compress each row (last axis) of ``x``."""

    def delta(self, d: int) -> float | None:
        return None

    def q(self, d: int) -> float | None:
        return None

    @abstractmethod
    def bits(self, d: int) -> int:
        """Bits one compressed message of a ``d``-vector costs under the stated encoding."""

    # --- declared versus published, closed forms (defaults: nothing known) -------------------

    def published(self, d: int) -> list[Published]:
        """Parameters as stated in the papers (possibly wrong; compare with ``delta``/``q``)."""
        return []

    def worst_ratio(self, d: int) -> float | None:
        """Exact ``sup_x E||C(x)-x||^2 / ||x||^2`` at ``d`` where a closed form is known."""
        return None

    def expectation(self, x: torch.Tensor) -> torch.Tensor | None:
        """Closed form of ``E[C(x)]`` (deterministic compressors: ``C(x)`` itself)."""
        if not self.stochastic:
            return self(x)
        return None

    def expected_sq_error(self, x: torch.Tensor) -> torch.Tensor | None:
        """Closed form of ``E||C(x) - x||^2`` per row, float64, shape ``x.shape[:-1]``."""
        if not self.stochastic:
            return _sq_norm64(self(x) - x)
        return None

    def params(self) -> dict[str, object]:
        """The constructor parameters (for reports and ``--json``)."""
        return {}

    def describe(self) -> str:
        p = ", ".join(f"{k}={v}" for k, v in self.params().items())
        return f"{self.name}({p})"

    def __repr__(self) -> str:
        return self.describe()


class Identity(Compressor):
    """No compression: ``C(x) = x``; ``delta = 1``, ``q = 0``; 32 bits per float32 entry."""

    name = "identity"
    biased = False

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        return x

    def delta(self, d: int) -> float:
        return 1.0

    def q(self, d: int) -> float:
        return 0.0

    def bits(self, d: int) -> int:
        return FLOAT_BITS * _check_d(d)

    def worst_ratio(self, d: int) -> float:
        return 0.0


# ---------------------------------------------------------------------------------------------
# sparsifiers


class _KSparse(Compressor):
    def __init__(self, k: int | None = None, ratio: float | None = None) -> None:
        if (k is None) == (ratio is None):
            raise ParameterError(
                f"give exactly one of k (an integer 1..d) and ratio (a fraction in (0, 1]), got "
                f"{'both' if k is not None else 'neither'}: k={k!r}, ratio={ratio!r}"
            )
        if k is not None:
            k = _check_int("k", k, 1)
        if ratio is not None:
            ratio = float(ratio)
            if not (0.0 < ratio <= 1.0):
                raise ParameterError(f"ratio={ratio} is outside the allowed range (0, 1]")
        self._k, self._ratio = k, ratio

    def k(self, d: int) -> int:
        """``k`` at dimension ``d`` (``ceil(ratio * d)`` when built from a ratio)."""
        d = _check_d(d)
        if self._k is not None:
            return _check_int("k", self._k, 1, d)
        return min(d, max(1, math.ceil(self._ratio * d - 1e-9)))  # type: ignore[operator]

    def bits(self, d: int) -> int:
        """``k`` float32 values + their positions (:func:`_positions_bits`)."""
        k = self.k(d)
        return FLOAT_BITS * k + _positions_bits(k, d)

    def params(self) -> dict[str, object]:
        return {"k": self._k} if self._k is not None else {"ratio": self._ratio}


class TopK(_KSparse):
    """``top_k``: keep the ``k`` coordinates of largest magnitude (QAFeL Example B.1; SAEF Top-K).

    Deterministic and biased. ``||C(x) - x||^2`` is the sum of the ``d - k`` smallest squares, at
    most ``(1 - k/d) ||x||^2`` (equality for constant ``|x_i|``): ``delta = k/d`` exactly
    (Stich et al. 2018 Lemma A.1, quoted in QAFeL Example B.1). Ties are broken by ``torch.topk``.

    Encoding: ``k`` float32 values + positions (``k ceil(log2 d)`` bits or a ``d``-bit mask,
    whichever is smaller).
    """

    name = "topk"

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        x = _check_x(x, self.name)
        d = x.shape[-1]
        k = self.k(d)
        if k == d:
            return x.clone()
        idx = x.abs().topk(k, dim=-1, sorted=False).indices
        return torch.zeros_like(x).scatter_(-1, idx, x.gather(-1, idx))

    def delta(self, d: int) -> float:
        return self.k(d) / d

    def worst_ratio(self, d: int) -> float:
        return 1.0 - self.k(d) / d

    def published(self, d: int) -> list[Published]:
        return [
            Published(
                "delta",
                self.k(d) / d,
                "QAFeL Example B.1 (Stich et al. 2018, Lemma A.1)",
                "top_k itself",
            ),
        ]


class RandK(_KSparse):
    """``rand_k``: keep ``k`` coordinates chosen uniformly without replacement (QAFeL Example B.1).

    ``unbiased=False`` (plain): ``C(x) = x * 1_S``; each coordinate is kept with probability
    ``k/d``, so ``E[C(x)] = (k/d) x`` (biased) and ``E||C(x) - x||^2 = (1 - k/d)||x||^2`` for every
    ``x``: ``delta = k/d`` exactly.

    ``unbiased=True``: ``C(x) = (d/k) x * 1_S``; ``E[C(x)] = x`` and
    ``E||C(x) - x||^2 = (d/k - 1)||x||^2`` for every ``x``: ``q = d/k - 1`` exactly; as a
    contraction of itself ``delta = 2 - d/k``, which is ``<= 0`` (no contraction) once ``k <= d/2``.
    QAFeL Example B.1 calls rand_k unbiased *and* gives ``delta = k/d``: no single rand_k has both.

    Encoding: ``k`` float32 values + positions as for :class:`TopK` (no shared-seed trick; the
    factor ``d/k`` is known to the receiver).
    """

    stochastic = True

    def __init__(self, k: int | None = None, ratio: float | None = None, unbiased: bool = False):
        super().__init__(k, ratio)
        self.unbiased = bool(unbiased)
        self.biased = not self.unbiased
        self.name = "randk_unbiased" if self.unbiased else "randk"

    def keep_index(self, x: torch.Tensor, generator: Gen | None) -> torch.Tensor:
        """The random kept set ``S`` as indices, ``k`` per row: the ``k`` largest of ``d`` i.i.d.
        float32 uniform keys (uniform over ``k``-subsets), keys drawn into a reused buffer."""
        g = _need_generator(generator, self.name)
        k = self.k(x.shape[-1])
        (keys,) = _workspace(self, tuple(x.shape), torch.float32, x.device, 1)
        rng.fill_uniform_(g, keys)
        return keys.topk(k, dim=-1, sorted=False).indices

    def keep_mask(self, x: torch.Tensor, generator: Gen | None) -> torch.Tensor:
        """The random kept set ``S`` as a boolean mask (``k`` per row, uniform over subsets)."""
        idx = self.keep_index(x, generator)
        return torch.zeros(x.shape, dtype=torch.bool, device=x.device).scatter_(-1, idx, True)

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        x = _check_x(x, self.name)
        d = x.shape[-1]
        idx = self.keep_index(x, generator)
        vals = x.gather(-1, idx)  # only the k kept entries are read and scaled
        if self.unbiased:
            vals.mul_(d / self.k(d))
        return torch.zeros_like(x).scatter_(-1, idx, vals)

    def _c(self, d: int) -> float:
        return d / self.k(d) if self.unbiased else 1.0

    def expectation(self, x: torch.Tensor) -> torch.Tensor:
        d = _check_x(x, self.name).shape[-1]
        return x * (self._c(d) * self.k(d) / d)

    def expected_sq_error(self, x: torch.Tensor) -> torch.Tensor:
        # coordinate i is kept w.p. p = k/d: E (C_i - x_i)^2 = x_i^2 (p (c-1)^2 + (1-p))
        d = _check_x(x, self.name).shape[-1]
        p, c = self.k(d) / d, self._c(d)
        return _sq_norm64(x) * (p * (c - 1.0) ** 2 + (1.0 - p))

    def worst_ratio(self, d: int) -> float:
        p, c = self.k(d) / d, self._c(d)
        return p * (c - 1.0) ** 2 + (1.0 - p)

    def delta(self, d: int) -> float | None:
        dl = 1.0 - self.worst_ratio(d)
        return dl if dl > 0 else None

    def q(self, d: int) -> float | None:
        return d / self.k(d) - 1.0 if self.unbiased else None

    def published(self, d: int) -> list[Published]:
        k = self.k(d)
        pubs = [
            Published(
                "delta",
                k / d,
                "QAFeL Example B.1 (Stich et al. 2018, Lemma A.1)",
                "rand_k, called unbiased there",
                "true for plain rand_k (biased); the unbiased d/k-rescaled rand_k has "
                "delta = 2 - d/k",
            ),
        ]
        if self.unbiased:
            pubs.append(
                Published(
                    "q",
                    d / k - 1.0,
                    "standard computation; not stated in the four papers",
                    "(d/k) rand_k",
                )
            )
        return pubs


# ---------------------------------------------------------------------------------------------
# stochastic quantizers


def qsgd_variance(d: int, s: int) -> float:
    """Proven tight variance of s-level QSGD: ``sup_x E||Q(x) - x||^2 / ||x||^2``.

    With ``u_i = s|x_i|/||x||`` (so ``sum u_i^2 = s^2``) the error is
    ``(||x||/s)^2 sum_i f(u_i)``, ``f(u) = frac(u)(1 - frac(u))``. As a function of ``w = u^2``,
    ``f`` lies below the concave envelope ``e(w) = sqrt(w) - w`` (``w <= 1/4``), ``1/4``
    (``w >= 1/4``); Jensen gives ``sum f(u_i) <= d e(s^2/d)``. Hence

    * ``s <= sqrt(d)/2``: ``q = sqrt(d)/s - 1``, attained by every ``x`` with constant ``|x_i|``;
    * ``s > sqrt(d)/2``: ``q <= d / (4 s^2)`` (an upper bound; attained only when levels allow).

    Both are below Alistarh et al. 2017 Lemma 3.1, ``min(d/s^2, sqrt(d)/s)``.
    """
    d, s = _check_d(d), _check_int("s", s, 1)
    if 4 * s * s <= d:
        return math.sqrt(d) / s - 1.0
    return d / (4.0 * s * s)


class QSGD(Compressor):
    """``qsgd_s`` of Alistarh et al. 2017 (QAFeL Example B.1): unbiased stochastic quantizer.

    ``Q(x)_i = ||x|| sign(x_i) xi_i / s`` where, with ``u_i = s |x_i| / ||x||`` and
    ``l_i = floor(u_i)``, ``xi_i = l_i + 1`` with probability ``u_i - l_i`` and ``l_i`` otherwise
    (a two-point distribution per coordinate, independent across coordinates). QAFeL's text writes
    ``x_i s / ||x||`` without the absolute value; with ``sign(x)`` sent separately we read
    ``|x_i|`` (as in Alistarh et al.). ``E[Q(x)] = x``; ``q`` is :func:`qsgd_variance` (proven);
    ``delta = 1 - q`` of ``Q`` itself where positive, else ``None``.

    Encoding (fixed-length): float32 ``||x||`` + 1 sign bit per coordinate + ``ceil(log2(s+1))``
    bits for ``xi_i in {0..s}``: ``32 + d (1 + ceil(log2(s+1)))``.
    """

    name = "qsgd"
    biased = False
    stochastic = True

    def __init__(self, s: int) -> None:
        self.s = _check_int("s", s, 1)

    def levels(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """The per-coordinate two-point law: values ``lo``, ``hi`` and ``P(Q(x)_i = hi)``."""
        x = _check_x(x, self.name)
        nrm, u = self._u(x)
        l = u.floor()
        p = u - l
        step = nrm / self.s
        return (l * step).copysign(x), ((l + 1) * step).copysign(x), p

    def _u(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        nrm = _checked_norm(x, self.name)
        nrm_safe = torch.where(nrm > 0, nrm, torch.ones_like(nrm))
        inv = self.s / nrm_safe
        u = x.abs()
        if bool(torch.isfinite(inv).all()):
            u.mul_(inv)
        else:  # subnormal norms: s/||x|| overflows, divide first
            u.div_(nrm_safe).mul_(self.s)
        return nrm, u.clamp_(max=self.s)  # rounding never pushes a level above s

    def compress_(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor | None:
        """``Q(x)`` written over ``x`` (a message buffer the caller gives up), with the numbers
        :meth:`__call__` returns; ``None``, with ``x`` untouched and no random number drawn, when
        a row's norm is not finite or too small for the fast path (then call :meth:`__call__`).

        The passes of :meth:`__call__` without its allocation: the level is built in reused
        scratch and the last pass, the sign, writes it over ``x``."""
        if type(self).__call__ is not QSGD.__call__:
            return None  # a subclass quantizing differently: only its own __call__ knows how
        if type(x) is not torch.Tensor or not x.is_floating_point() or x.ndim < 1:
            return None
        if x.numel() == 0:
            return None
        nrm = _fast_norm(x)
        if nrm is None:
            return None  # what _checked_norm would not pass as is: the careful path decides
        g = _need_generator(generator, self.name)
        u, p, r = _workspace(self, tuple(x.shape), x.dtype, x.device, 3)
        # as _u: nrm >= tiny > 0, so s / nrm (Tensor.__rdiv__: reciprocal, then times s) is
        # finite and u = |x| (s / nrm), clamped at s
        torch.abs(x, out=u).mul_(nrm.reciprocal().mul_(self.s)).clamp_(max=self.s)
        return self._round(u, nrm, x, g, p, r, out=x)

    def _round(self, u: torch.Tensor, nrm: torch.Tensor, x: torch.Tensor, g: Gen,
               p: torch.Tensor, r: torch.Tensor, out: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """The stochastic rounding of ``u = s|x|/||x||`` (overwritten) with scratch ``p``, ``r``:
        ``||x|| sign(x) xi / s`` into ``out`` (which may be ``u`` or ``x``)."""
        torch.frac(u, out=p)  # exact for non-negative floats
        u.sub_(p)  # l = floor(u), exact
        rng.fill_uniform_(g, r)  # per replica (axis 0) for a ReplicaGenerator
        r.lt_(p)  # 1 with probability p (r on the dtype's uniform grid), else 0
        u.add_(r).mul_(nrm / self.s)
        return torch.copysign(u, x, out=out)

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        # passes over x: one norm (doubling as the finiteness check), |x| s/||x|| (2), clamp,
        # frac, floor, the uniforms (drawn in place), compare, add, scale, sign
        x = _check_x(x, self.name, finite=False)
        g = _need_generator(generator, self.name)
        nrm, u = self._u(x)  # u = s|x|/||x|| in [0, s], a fresh tensor
        p, r = _workspace(self, tuple(x.shape), x.dtype, x.device, 2)  # reused: no page faults
        return self._round(u, nrm, x, g, p, r, out=u)

    def expectation(self, x: torch.Tensor) -> torch.Tensor:
        lo, hi, p = self.levels(x)
        return lo + p * (hi - lo)

    def expected_sq_error(self, x: torch.Tensor) -> torch.Tensor:
        x64 = _check_x(x, self.name).double()
        nrm, u = self._u(x64)
        p = u - u.floor()
        return (nrm.squeeze(-1) / self.s) ** 2 * (p * (1 - p)).sum(-1)

    def q(self, d: int) -> float:
        return qsgd_variance(d, self.s)

    def delta(self, d: int) -> float | None:
        dl = 1.0 - self.q(d)
        return dl if dl > 0 else None

    def worst_ratio(self, d: int) -> float | None:
        return qsgd_variance(d, self.s) if 4 * self.s * self.s <= d else None

    def level_bits(self) -> int:
        return (self.s).bit_length()  # ceil(log2(s + 1))

    def bits(self, d: int) -> int:
        d = _check_d(d)
        return FLOAT_BITS + d * (1 + self.level_bits())

    def published(self, d: int) -> list[Published]:
        d, s = _check_d(d), self.s
        q_a = min(d / s**2, math.sqrt(d) / s)
        dl_q = 1.0 - min(2 * d / s**2, math.sqrt(2 * d) / s)
        return [
            Published("q", q_a, "Alistarh et al. 2017, Lemma 3.1", "qsgd_s itself"),
            Published(
                "delta",
                dl_q,
                "QAFeL Example B.1",
                "qsgd_s itself",
                "QAFeL writes 2d and sqrt(2d) where Lemma 3.1 has d and sqrt(d)"
                + (
                    "; delta <= 0: not a quantizer per Definition 2.1 at this d"
                    if dl_q <= 0
                    else ""
                ),
            ),
            Published("delta", 1.0 / (1.0 + q_a), "rescaling of Alistarh's q", "qsgd_s / (1 + q)"),
        ]

    def params(self) -> dict[str, object]:
        return {"s": self.s}


class QSGDBits(QSGD):
    """The n-bit qsgd of QAFeL Example B.1 ("n bits per coordinate ... determines s").

    Reading (the text is ambiguous): ``sign_in_bits=False`` (default, the text's literal reading:
    ``xi_i in {0..s}`` takes the n bits) gives ``s = 2^n - 1`` and ``32 + d (n + 1)`` bits;
    ``sign_in_bits=True`` (the reading QAFeL Table 1's kB/message fit: their sizes are exactly
    ``a n + b`` with ``b`` far below one bit per coordinate) gives signed levels
    ``sign * xi in {-s..s}`` in n bits, ``s = 2^(n-1) - 1`` (needs ``n >= 2``) and ``32 + d n`` bits.
    """

    name = "qsgd_bits"

    def __init__(self, bits: int, sign_in_bits: bool = False) -> None:
        self.n = _check_int("bits", bits, 2 if sign_in_bits else 1, 31)
        self.sign_in_bits = bool(sign_in_bits)
        super().__init__(2 ** (self.n - 1) - 1 if self.sign_in_bits else 2**self.n - 1)

    def bits(self, d: int) -> int:
        d = _check_d(d)
        return FLOAT_BITS + d * (self.n if self.sign_in_bits else self.n + 1)

    def params(self) -> dict[str, object]:
        return {"bits": self.n, "sign_in_bits": self.sign_in_bits, "s": self.s}


class LowPrecision(QSGD):
    """FedPAQ Example 1, the low-precision quantizer ``Q^LP`` (eqs. (5)-(6)).

    ``Q_i = ||x|| sign(x_i) xi_i``, ``xi_i in {l/s, (l+1)/s}`` with ``P((l+1)/s) = s|x_i|/||x|| - l``
    and ``l in [0, s)`` such that ``|x_i|/||x|| in [l/s, (l+1)/s)``. Reading: for
    ``|x_i| = ||x||`` (one-hot input) no such ``l`` exists; we take ``l = s - 1``, which gives
    ``xi_i = 1`` with probability 1 (the only unbiased choice). The law is then QSGD's, and FedPAQ
    states no numeric ``q`` (only "satisfied"); Alistarh et al.'s ``min(p/s^2, sqrt(p)/s)`` is the
    one it cites. Encoding as :class:`QSGD` (FedPAQ Section 5 leaves ``|Q(p, s)|`` unspecified).
    """

    name = "lowprec"

    def published(self, d: int) -> list[Published]:
        d, s = _check_d(d), self.s
        return [
            Published(
                "q",
                min(d / s**2, math.sqrt(d) / s),
                "FedPAQ Example 1 / Assumption 1 via Alistarh et al. 2017, Lemma 3.1",
                "Q^LP itself",
            ),
        ]


class ScaledSign(Compressor):
    """Scaled sign, SAEF eq. (2): ``C(v) = (||v||_1 / d) sign(v)``.

    Deterministic, biased. ``||C(v) - v||^2 = ||v||^2 - ||v||_1^2 / d`` (with ``sign(0) = +-1``
    taken from the IEEE sign bit of the zero, so one bit per coordinate suffices; the identity
    holds for either sign), so ``delta(v) = ||v||_1^2 / (d ||v||_2^2) >= 1/d``: ``delta = 1/d``,
    attained by one-hot ``v``. SAEF states no value of delta for it.

    Floating point: where the scale ``||v||_1 / d`` falls below the smallest normal float of the
    dtype, the output is rounded to the subnormal grid and the identity (hence the contraction)
    holds only up to that absolute rounding; e.g. ``v = (0, 2^-1074)`` in float64 gives ``C(v) = 0``.

    Encoding: float32 scale + 1 sign bit per coordinate: ``32 + d``.
    """

    name = "scaled_sign"

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        # the 1-norm doubles as the finiteness check (_checked_norm): one read of x before the sign
        x = _check_x(x, self.name, finite=False)
        scale = _checked_norm(x, self.name, ord=1) / x.shape[-1]
        return scale.expand_as(x).copysign(x)

    def delta(self, d: int) -> float:
        return 1.0 / _check_d(d)

    def worst_ratio(self, d: int) -> float:
        return 1.0 - 1.0 / _check_d(d)

    def bits(self, d: int) -> int:
        return FLOAT_BITS + _check_d(d)


# ---------------------------------------------------------------------------------------------
# the extreme members of the class: every compressor with parameter delta


def _check_delta(delta: object) -> float:
    try:
        dl = float(delta)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ParameterError(f"delta={delta!r} is not a number") from None
    if not (0.0 < dl <= 1.0):
        raise ParameterError(f"delta={dl} is outside the allowed range (0, 1]")
    return dl


class Scale(Compressor):
    """The deterministic extreme contractions ``C(v) = c v`` with ``(1 - c)^2 = 1 - delta``.

    ``side="shrink"``: ``c = 1 - sqrt(1 - delta)``; ``side="overshoot"``: ``c = 1 + sqrt(1 - delta)``.
    Both satisfy Definition 2.1 / Assumption 4 with equality for every ``v`` (up to the rounding
    of ``c``). Biased unless ``delta = 1``. Encoding: ``d`` float32 values.
    """

    def __init__(self, delta: float, side: str = "shrink") -> None:
        self._delta = _check_delta(delta)
        if side not in ("shrink", "overshoot"):
            raise ParameterError(f"side={side!r} is unknown; allowed: shrink, overshoot")
        self.side = side
        self.name = side
        r = math.sqrt(1.0 - self._delta)
        self.c = 1.0 - r if side == "shrink" else 1.0 + r
        self.biased = self._delta < 1.0

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        return _check_x(x, self.name) * self.c

    def delta(self, d: int) -> float:
        return self._delta

    def worst_ratio(self, d: int) -> float:
        return (1.0 - self.c) ** 2

    def bits(self, d: int) -> int:
        return FLOAT_BITS * _check_d(d)

    def params(self) -> dict[str, object]:
        return {"delta": self._delta}


Objective = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _error_objective(v: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((y - v) ** 2).sum(-1)


class Adversarial(Compressor):
    """Per call, the admissible output that maximises a caller-supplied objective.

    Admissible: any ``y`` with ``||y - v||^2 <= (1 - delta) ||v||^2`` (QAFeL Definition 2.1, SAEF
    Assumption 4, deterministically). ``objective(v, y)`` maps ``(..., d)`` pairs to ``(...)``
    scores (larger is worse for the algorithm); default: ``||y - v||^2``. Search: the candidates
    ``v (1 +- sqrt(1 - delta))``, ``n_random`` random boundary points (from ``generator``), and the
    objective's gradient direction, then ``steps`` projected gradient-ascent steps with step halving
    (only improvements are kept).

    Enforced by construction: the error is projected to radius
    ``rho = sqrt(1 - delta) ||v|| - 4 eps ||v||``; rounding ``v + e`` moves ``y`` by at most
    ``eps ||v||`` more, so ``||y - v|| < sqrt(1 - delta) ||v||``. A final float64 guard replaces any
    row that still violates the inequality by ``y = v``. Encoding: ``d`` float32 values.
    """

    name = "adversarial"

    def __init__(
        self, delta: float, objective: Objective | None = None, n_random: int = 8, steps: int = 10
    ) -> None:
        self._delta = _check_delta(delta)
        self.objective = objective if objective is not None else _error_objective
        self.n_random = _check_int("n_random", n_random, 0)
        self.steps = _check_int("steps", steps, 0)
        self.stochastic = self.n_random > 0
        self.biased = self._delta < 1.0

    def _project(self, v: torch.Tensor, y: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
        e = y - v
        n = torch.linalg.vector_norm(e, dim=-1, keepdim=True)
        f = torch.where(
            n > rho, rho / torch.where(n > 0, n, torch.ones_like(n)), torch.ones_like(n)
        )
        return v + e * f

    def _score(self, v: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        out = self.objective(v, y)
        if out.shape != v.shape[:-1]:
            raise ParameterError(
                f"objective returned shape {tuple(out.shape)}; expected {tuple(v.shape[:-1])}"
            )
        return out

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        v = _check_x(x, self.name).detach()
        eps = torch.finfo(v.dtype).eps
        nv = safe_norm(v)
        rho = (math.sqrt(1.0 - self._delta) - 4 * eps) * nv
        rho = rho.clamp_min(0.0)
        unit = v / torch.where(nv > 0, nv, torch.ones_like(nv))
        cands = [v - rho * unit, v + rho * unit]
        if self.n_random:
            g = _need_generator(generator, self.name)
            for _ in range(self.n_random):
                z = rng.normal(g, v.shape, device=v.device, dtype=v.dtype)
                z = z / torch.linalg.vector_norm(z, dim=-1, keepdim=True).clamp_min(1e-30)
                cands.append(v + rho * z)
        best = cands[0]
        best_s = self._score(v, best)
        for c in cands[1:]:
            sc = self._score(v, c)
            better = (sc > best_s).unsqueeze(-1)
            best = torch.where(better, c, best)
            best_s = torch.maximum(sc, best_s)
        lr = rho.clone()
        for _ in range(self.steps):
            y = best.clone().requires_grad_(True)
            with torch.enable_grad():
                s = self._score(v, y).sum()
                (grad,) = torch.autograd.grad(s, y, allow_unused=True)
            if grad is None:
                break
            gn = torch.linalg.vector_norm(grad, dim=-1, keepdim=True)
            step = grad / torch.where(gn > 0, gn, torch.ones_like(gn))
            cand = self._project(v, best + lr * step, rho).detach()
            sc = self._score(v, cand).detach()
            better = (sc > best_s).unsqueeze(-1)
            best = torch.where(better, cand, best)
            best_s = torch.maximum(sc, best_s)
            lr = torch.where(better, lr, lr / 2)
        best = best.detach()
        # guard: the inequality in float64, scaled by a power of two to avoid under/overflow
        e = -torch.frexp(v.abs().amax(-1, keepdim=True).double())[1].double()
        h1, h2 = torch.exp2(torch.floor(e / 2)), torch.exp2(e - torch.floor(e / 2))  # 2^e exactly

        def scaled(t: torch.Tensor) -> torch.Tensor:
            return t.double() * h1 * h2

        err = ((scaled(best) - scaled(v)) ** 2).sum(-1)
        ref = (scaled(v) ** 2).sum(-1) * (1.0 - self._delta)
        bad = (err > ref).unsqueeze(-1)
        return torch.where(bad, v, best)

    def delta(self, d: int) -> float:
        return self._delta

    def bits(self, d: int) -> int:
        return FLOAT_BITS * _check_d(d)

    def expected_sq_error(self, x: torch.Tensor) -> torch.Tensor | None:
        return None if self.stochastic else super().expected_sq_error(x)

    def params(self) -> dict[str, object]:
        return {"delta": self._delta}


# ---------------------------------------------------------------------------------------------
# combinators


class Rescaled(Compressor):
    """``Q / (1 + q(d))`` of an unbiased ``Q`` with variance ``q``: a biased contraction with
    ``delta = 1 / (1 + q)``, since ``E||a Q(x) - x||^2 = a^2 E||Q(x) - x||^2 + (1 - a)^2 ||x||^2``.
    Bits as ``Q`` (the factor is known to the receiver)."""

    biased = True

    def __init__(self, inner: Compressor) -> None:
        if inner.biased:
            raise ParameterError(f"Rescaled needs an unbiased compressor, got {inner.describe()}")
        self.inner = inner
        self.stochastic = inner.stochastic
        self.name = f"rescaled_{inner.name}"

    def _a(self, d: int) -> float:
        q = self.inner.q(d)
        if q is None:
            raise ParameterError(f"{self.inner.describe()} declares no q at d={d}")
        return 1.0 / (1.0 + q)

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        x = _check_x(x, self.name)
        return self.inner(x, generator).mul_(self._a(x.shape[-1]))

    def delta(self, d: int) -> float:
        return self._a(d)

    def worst_ratio(self, d: int) -> float | None:
        w = self.inner.worst_ratio(d)
        if w is None:
            return None
        a = self._a(d)
        return a * a * w + (1 - a) ** 2

    def expectation(self, x: torch.Tensor) -> torch.Tensor:
        return x * self._a(_check_x(x, self.name).shape[-1])

    def expected_sq_error(self, x: torch.Tensor) -> torch.Tensor | None:
        e = self.inner.expected_sq_error(_check_x(x, self.name))
        if e is None:
            return None
        a = self._a(x.shape[-1])
        return a * a * e + (1 - a) ** 2 * _sq_norm64(x)

    def bits(self, d: int) -> int:
        return self.inner.bits(d)

    def published(self, d: int) -> list[Published]:
        """The inner compressor's published values that are claimed for its rescaling.

        A ``delta = 1/(1 + q')`` claimed for ``Q/(1 + q')`` with a published ``q' >= q`` also holds
        for this ``Q/(1 + q)``: its ratio ``q/(1 + q)`` is increasing in ``q``.
        """
        return [p for p in self.inner.published(d) if "/ (1 + q)" in p.applies_to]

    def params(self) -> dict[str, object]:
        return {"inner": self.inner.describe()}


class Blockwise(Compressor):
    """Apply ``inner`` to consecutive blocks of the last axis (layer-wise compression, SAEF:
    "all compression are performed in a layer-wise way").

    ``sizes`` are the block lengths (their sum must be ``d``); ``block_size=b`` instead splits any
    ``d`` into blocks of ``b`` (the last one shorter). Per block the inner inequality holds, so
    summing: ``delta = min_b delta(d_b)`` and ``q = max_b q(d_b)``; bits add up (one norm or scale
    per block). Equal blocks are compressed in one batched call.
    """

    def __init__(
        self, inner: Compressor, sizes: Sequence[int] | None = None, block_size: int | None = None
    ) -> None:
        if (sizes is None) == (block_size is None):
            raise ParameterError("give exactly one of sizes and block_size")
        if sizes is not None:
            sizes = tuple(_check_int("block size", b, 1) for b in sizes)
            if not sizes:
                raise ParameterError("sizes=() is empty; give at least one block length")
        if block_size is not None:
            block_size = _check_int("block_size", block_size, 1)
        self.inner, self._sizes, self._b = inner, sizes, block_size
        self.biased, self.stochastic = inner.biased, inner.stochastic
        self.name = f"blockwise_{inner.name}"

    def sizes(self, d: int) -> tuple[int, ...]:
        d = _check_d(d)
        if self._sizes is not None:
            if sum(self._sizes) != d:
                raise ParameterError(
                    f"d={d} differs from the sum of the block sizes {sum(self._sizes)}"
                )
            return self._sizes
        b = self._b
        assert b is not None
        return (b,) * (d // b) + ((d % b,) if d % b else ())

    def _checked_sizes(self, d: int) -> tuple[int, ...]:
        """:meth:`sizes`, each block length validated against ``inner`` (e.g. ``k <= d_b``), so a
        bad combination is refused naming the block rather than with the inner error alone."""
        sizes = self.sizes(d)
        for b in sorted(set(sizes)):
            try:
                self.inner.bits(b)
            except ParameterError as err:
                how = f"sizes={list(sizes)}" if self._sizes else f"block_size={self._b}"
                raise ParameterError(
                    f"{err} in a block of length {b} (d={d} split by {how} into blocks "
                    f"{_fmt_sizes(sizes)}); choose parameters valid for every block"
                ) from None
        return sizes

    def _map(
        self, x: torch.Tensor, f: Callable[[torch.Tensor], torch.Tensor | None], reduce: bool
    ) -> torch.Tensor | None:
        """``f`` per block (batched where the blocks are equal); ``None`` if ``f`` returns None."""
        sizes = self._checked_sizes(x.shape[-1])
        if len(set(sizes)) == 1:
            b = sizes[0]
            xb = x.reshape(*x.shape[:-1], len(sizes), b)
            out = f(xb)
            if out is None:
                return None
            return out.sum(-1) if reduce else out.reshape(x.shape)
        parts = [f(p) for p in torch.split(x, list(sizes), dim=-1)]
        if any(p is None for p in parts):
            return None
        return torch.stack(parts, -1).sum(-1) if reduce else torch.cat(parts, -1)  # type: ignore[arg-type]

    def __call__(self, x: torch.Tensor, generator: Gen | None = None) -> torch.Tensor:
        x = _check_x(x, self.name)
        return self._map(x, lambda p: self.inner(p, generator), reduce=False)  # type: ignore[return-value]

    def expectation(self, x: torch.Tensor) -> torch.Tensor | None:
        # per block of its own length: probing the inner closed form on a 1-column slice would
        # refuse e.g. top-k with k >= 2
        return self._map(_check_x(x, self.name), self.inner.expectation, reduce=False)

    def expected_sq_error(self, x: torch.Tensor) -> torch.Tensor | None:
        return self._map(_check_x(x, self.name), self.inner.expected_sq_error, reduce=True)

    def delta(self, d: int) -> float | None:
        ds = [self.inner.delta(b) for b in set(self._checked_sizes(d))]
        return None if any(v is None for v in ds) else min(ds)  # type: ignore[type-var]

    def q(self, d: int) -> float | None:
        qs = [self.inner.q(b) for b in set(self._checked_sizes(d))]
        return None if any(v is None for v in qs) else max(qs)  # type: ignore[type-var]

    def bits(self, d: int) -> int:
        return sum(self.inner.bits(b) for b in self._checked_sizes(d))

    def params(self) -> dict[str, object]:
        blocks = {"sizes": list(self._sizes)} if self._sizes else {"block_size": self._b}
        return {"inner": self.inner.describe(), **blocks}


def _fmt_sizes(sizes: tuple[int, ...]) -> str:
    """``(250, 250, 250, 3)`` as ``3 x 250 + 3`` (runs of equal lengths collapsed)."""
    runs: list[list[int]] = []
    for b in sizes:
        if runs and runs[-1][0] == b:
            runs[-1][1] += 1
        else:
            runs.append([b, 1])
    return " + ".join(f"{n} x {b}" if n > 1 else str(b) for b, n in runs)


# ---------------------------------------------------------------------------------------------
# registry

_FACTORIES: dict[str, tuple[Callable[..., Compressor], tuple[str, ...], str]] = {
    "identity": (Identity, (), "no compression"),
    "topk": (TopK, ("k", "ratio"), "top-k sparsifier (QAFeL Ex. B.1, SAEF)"),
    "randk": (lambda **p: RandK(**p, unbiased=False), ("k", "ratio"), "plain rand-k (biased)"),
    "randk_unbiased": (
        lambda **p: RandK(**p, unbiased=True),
        ("k", "ratio"),
        "rand-k rescaled by d/k (unbiased)",
    ),
    "qsgd": (QSGD, ("s",), "QSGD with s levels (Alistarh et al. 2017; QAFeL Ex. B.1)"),
    "qsgd_bits": (QSGDBits, ("bits", "sign_in_bits"), "n-bit qsgd (QAFeL Ex. B.1)"),
    "lowprec": (LowPrecision, ("s",), "low-precision quantizer (FedPAQ Ex. 1)"),
    "scaled_sign": (ScaledSign, (), "||v||_1/d sign(v) (SAEF eq. (2))"),
    "shrink": (lambda delta: Scale(delta, "shrink"), ("delta",), "(1 - sqrt(1-delta)) v"),
    "overshoot": (lambda delta: Scale(delta, "overshoot"), ("delta",), "(1 + sqrt(1-delta)) v"),
    "adversarial": (
        Adversarial,
        ("delta", "objective", "n_random", "steps"),
        "worst admissible output for an objective",
    ),
}


# parameters without a default, and what each allows (for the refusal when one is missing)
_REQUIRED: dict[str, dict[str, str]] = {
    "qsgd": {"s": "an integer >= 1"},
    "lowprec": {"s": "an integer >= 1"},
    "qsgd_bits": {"bits": "an integer 1..31 (2..31 with sign_in_bits)"},
    "shrink": {"delta": "a number in (0, 1]"},
    "overshoot": {"delta": "a number in (0, 1]"},
    "adversarial": {"delta": "a number in (0, 1]"},
}


def names() -> list[str]:
    """Every registered compressor name."""
    return list(_FACTORIES)


def parameters(name: str) -> tuple[str, ...]:
    """The keyword parameters :func:`get` accepts for ``name`` (besides block_size, rescale)."""
    return _lookup(name)[1]


def summary(name: str) -> str:
    """One line on ``name``."""
    return _lookup(name)[2]


def _lookup(name: str) -> tuple[Callable[..., Compressor], tuple[str, ...], str]:
    if name not in _FACTORIES:
        raise UnknownIdError(f"compressor {name!r} is unknown; allowed: {', '.join(names())}")
    return _FACTORIES[name]


def get(
    name: str, block_size: int | None = None, rescale: bool = False, **params: object
) -> Compressor:
    """Build compressor ``name`` with ``params``; ``block_size`` applies it layer-wise
    (:class:`Blockwise`), ``rescale`` divides an unbiased one by ``1 + q`` (:class:`Rescaled`).

    >>> get("qsgd", s=15).bits(1000)
    5032
    """
    factory, allowed, _ = _lookup(name)
    unknown = sorted(set(params) - set(allowed))
    if unknown:
        raise ParameterError(
            f"parameter {unknown[0]!r} is unknown for {name!r}; allowed: "
            f"{', '.join(allowed) or 'none'}"
        )
    for p, allowed_values in _REQUIRED.get(name, {}).items():
        if params.get(p) is None:
            raise ParameterError(f"{name} needs parameter {p}, {allowed_values}; none was given")
    try:
        c = factory(**params)
    except TypeError as err:
        raise ParameterError(f"{name}: {err}") from None
    if rescale:
        c = Rescaled(c)
    if block_size is not None:
        c = Blockwise(c, block_size=block_size)
    return c
