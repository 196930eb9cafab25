"""Hypothesis strategies for boundcheck's objects (issue 15), in the style of ``hypothesis.extra.numpy``.

Use them in your own property tests::

    from hypothesis import given
    from boundcheck import strategies as bst

    @given(bst.contractions(d=8), bst.stress_vectors(d=8))
    def test_my_lemma(C, x): ...

* :func:`contractions` -- members of the delta-contraction class (QAFeL Definition 2.1, SAEF
  Assumption 4: ``E||C(x) - x||^2 <= (1 - delta)||x||^2``), each with its declared ``C.delta(d)``:
  top-k, rand-k, scaled sign, the deterministic extremes (shrink, overshoot: equality for every
  ``x``), rescaled unbiased quantizers, and adversarial members (the worst admissible output for an
  objective: deterministic, input-dependent, meeting the contraction with near equality);
* :func:`unbiased_quantizers` -- unbiased compressors with their variance ``C.q(d)`` (FedPAQ
  Assumption 1): unbiased rand-k, QSGD, n-bit qsgd, FedPAQ's low-precision quantizer;
* :func:`stress_vectors` -- vectors that break compressors: ties, zeros, one huge entry, subnormal
  and huge scales, alternating signs, plus ordinary Gaussian vectors;
* :func:`problems` -- synthetic problem instances with certified constants, from the registry's
  families, with parameters inside given ranges.

Every strategy shrinks towards the simplest member (small ``d``, the first family, plain vectors).
Hypothesis is imported with this module (it is a testing API); torch when a strategy draws.
"""

from __future__ import annotations

import math
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError as err:  # pragma: no cover - exercised only without hypothesis
    raise ImportError(
        "boundcheck.strategies needs Hypothesis: pip install hypothesis (or boundcheck[test])"
    ) from err

__all__ = ["contractions", "deltas", "problems", "stress_vectors", "unbiased_quantizers"]


def deltas(min_value: float = 1e-3, max_value: float = 1.0) -> st.SearchStrategy[float]:
    """Contraction parameters ``delta`` in ``[min_value, max_value]`` within ``(0, 1]``."""
    if not (0.0 < min_value <= max_value <= 1.0):
        raise ValueError(
            f"min_value={min_value!r}, max_value={max_value!r} is not allowed: expected "
            "0 < min_value <= max_value <= 1"
        )
    return st.floats(min_value, max_value, allow_nan=False, allow_infinity=False)


def _k_of(d: int) -> st.SearchStrategy[int]:
    return st.integers(1, d)


def contractions(
    d: int, *, include_adversarial: bool = True, min_delta: float = 1e-3
) -> st.SearchStrategy[Any]:
    """Compressors ``C`` with a declared ``C.delta(d) >= min_delta`` (see the module docstring).

    ``d`` is the message length the compressor will see (top-k's and rand-k's ``k`` is drawn in
    ``1..d``).
    """
    from boundcheck import compressors as C

    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise ValueError(f"d={d!r} is not allowed: expected an integer >= 1")
    members = [
        _k_of(d).map(lambda k: C.get("topk", k=k)),
        _k_of(d).map(lambda k: C.get("randk", k=k)),
        st.just(C.get("scaled_sign")),
        deltas(min_delta).map(lambda v: C.get("shrink", delta=v)),
        deltas(min_delta).map(lambda v: C.get("overshoot", delta=v)),
        st.integers(1, 8).map(lambda s: C.get("qsgd", s=s, rescale=True)),
        _k_of(d).map(lambda k: C.get("randk_unbiased", k=k, rescale=True)),
    ]
    if include_adversarial:
        members.append(
            deltas(min_delta).map(lambda v: C.get("adversarial", delta=v, n_random=0, steps=2))
        )
    return st.one_of(*members).filter(lambda c: (c.delta(d) or 0.0) >= min_delta)


def unbiased_quantizers(d: int, *, max_q: float = math.inf) -> st.SearchStrategy[Any]:
    """Unbiased compressors with a declared variance ``C.q(d) <= max_q``."""
    from boundcheck import compressors as C

    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise ValueError(f"d={d!r} is not allowed: expected an integer >= 1")
    return st.one_of(
        _k_of(d).map(lambda k: C.get("randk_unbiased", k=k)),
        st.integers(1, 16).map(lambda s: C.get("qsgd", s=s)),
        st.integers(1, 8).map(lambda b: C.get("qsgd_bits", bits=b)),
        st.integers(1, 16).map(lambda s: C.get("lowprec", s=s)),
    ).filter(lambda c: c.q(d) is not None and c.q(d) <= max_q)


_KINDS = ("gaussian", "zeros", "ties", "one_large", "alternating", "tiny", "huge", "sparse")


def stress_vectors(d: int, *, dtype: Any = None, batch: int = 1) -> st.SearchStrategy[Any]:
    """``(batch, d)`` tensors (float64 unless ``dtype``) that stress compressors: see the module
    docstring. Every entry is finite and every row's norm is representable in ``dtype``."""
    if isinstance(d, bool) or not isinstance(d, int) or d < 1:
        raise ValueError(f"d={d!r} is not allowed: expected an integer >= 1")

    @st.composite
    def _draw(draw: Any) -> Any:
        import torch

        dt = dtype or torch.float64
        kind = draw(st.sampled_from(_KINDS))
        seed = draw(st.integers(0, 2**32 - 1))
        g = torch.Generator().manual_seed(seed)
        x = torch.randn(batch, d, generator=g, dtype=torch.float64)
        if kind == "zeros":
            x.zero_()
        elif kind == "ties":
            x = torch.sign(x) * draw(st.floats(0.5, 2.0))
        elif kind == "one_large":
            x[:, draw(st.integers(0, d - 1))] = 1e6
        elif kind == "alternating":
            x = torch.tensor([(-1.0) ** i for i in range(d)], dtype=torch.float64).repeat(batch, 1)
        elif kind == "tiny":
            x = x * torch.finfo(dt).tiny * 4  # subnormal-adjacent scales
        elif kind == "huge":
            x = x * (torch.finfo(dt).max ** 0.5 / (4 * math.sqrt(d)))
        elif kind == "sparse":
            x = x * (torch.rand(batch, d, generator=g, dtype=torch.float64) < 0.2)
        return x.to(dt)

    return _draw()


def problems(
    family: str | None = None,
    *,
    n: tuple[int, int] = (1, 8),
    d: tuple[int, int] = (1, 4),
    **fixed: Any,
) -> st.SearchStrategy[Any]:
    """Synthetic problem instances with certified constants (``boundcheck.problems.make``).

    ``family``: one registered family, or ``None`` for any of them; ``n`` and ``d`` are inclusive
    ranges for the families that take them; ``fixed`` passes further parameters unchanged. The
    instance's seed is drawn, so every instance is reproducible from the example Hypothesis prints.
    """
    from boundcheck.problems import registry

    fams = [family] if family is not None else registry.names()
    for f in fams:
        registry._factory(f)  # unknown names raise UnknownIdError now, not inside a test

    @st.composite
    def _draw(draw: Any) -> Any:
        import inspect

        f = draw(st.sampled_from(fams))
        allowed = inspect.signature(registry._factory(f)).parameters
        kw: dict[str, Any] = {k: v for k, v in fixed.items() if k in allowed}
        if "n" in allowed and "n" not in kw:
            kw["n"] = draw(st.integers(*n))
        if "d" in allowed and "d" not in kw:
            kw["d"] = draw(st.integers(*d))
        if "seed" in allowed and "seed" not in kw:
            kw["seed"] = draw(st.integers(0, 2**31 - 1))
        return registry.make(f, **kw)

    return _draw()
