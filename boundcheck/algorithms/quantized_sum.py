"""QAFeL Lemma F.6 measured: the squared norm of a sum of independently quantized vectors.

The vectors are the clients' gradients at one point, ``x_n = grad F_n(x0)``, ``n = 1..N`` (the
shape of a client update; any fixed vectors would do). Each replica quantizes every ``x_n`` with
its own draw (stream ``"compressor_up"``, one draw per vector and replica: the independence the
proof's eq. (30) needs) and records ``||sum_n Q(x_n)||^2``; the mean over replicas estimates
``E_Q||sum_n Q(x_n)||^2``. ``meta`` holds the exact ``||sum_n x_n||^2`` and ``sum_n ||x_n||^2``.
"""

from __future__ import annotations

from typing import Any

import torch

from boundcheck.algorithms.common import Streams, check_problem, initial_point, resolve_device
from boundcheck.algorithms.fedpaq import compress_messages
from boundcheck.algorithms.trace import Trace
from boundcheck.compressors import Compressor, Identity
from boundcheck.errors import ParameterError
from boundcheck.problems.base import Problem


def quantized_sum(
    problem: Problem,
    *,
    R: int,
    seed: int,
    compressor: Compressor | None = None,
    x0: Any = None,
    device: Any = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
) -> Trace:
    """``R`` independent draws of ``||sum_n Q(x_n)||^2`` with ``x_n = grad F_n(x0)`` (QAFeL Lemma
    F.6). Series ``quant_sum_sq`` has one row, ``(1, R)``; ``meta['norm_sum_sq']`` and
    ``meta['sum_norm_sq']`` are the lemma's right-hand-side ingredients (exact up to rounding)."""
    problem = check_problem(problem)
    if not isinstance(R, int) or R < 1:
        raise ParameterError(f"R={R!r} is not allowed: expected an integer >= 1")
    Q = compressor if compressor is not None else Identity()
    if not isinstance(Q, Compressor):
        raise ParameterError(f"compressor={compressor!r} is not allowed: expected a Compressor")
    dev = resolve_device(problem, device)
    n, d = problem.n, problem.d
    x = initial_point(x0, 1, d, dev, dtype)  # (1, d)
    xs = problem.grad_i(x.unsqueeze(1).expand(1, n, d)).reshape(n, d)  # x_n = grad F_n(x0)
    streams = Streams(seed, dev, R=R)
    q = compress_messages(
        Q, xs.unsqueeze(0).expand(R, n, d).clone(), streams.replica("compressor_up")
    )
    qs = q.sum(dim=1)
    series = {"quant_sum_sq": (qs * qs).sum(dim=-1).unsqueeze(0)}
    if record_x:
        series["x"] = qs.unsqueeze(0)
    s = xs.sum(dim=0)
    meta = {
        "seed": seed,
        "device": str(dev),
        "dtype": str(dtype),
        "problem": problem.describe(),
        "norm_sum_sq": float((s * s).sum()),
        "sum_norm_sq": float((xs * xs).sum()),
        "index": {"quant_sum_sq": "one row: ||sum_n Q(x_n)||^2 per replica"},
        "streams": {"compressor_up": "Q, one draw per vector and replica"},
    }
    params = {"R": R, "n": n, "d": d, "compressor": Q.name}
    diverged = torch.full((R,), -1, dtype=torch.long, device=dev)
    return Trace(algorithm="quantized_sum", params=params, series=series, diverged_at=diverged,
                 meta=meta)  # fmt: skip
