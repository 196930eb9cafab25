"""EF-SGD and SAEF-SGD, with or without momentum: SAEF Algorithm 1 (Xu, Huo & Huang, AAAI 2021).

Distributed momentum SGD with double-way (or single-way) compression and local error feedback, for
``R`` replicas at once. One call is one run of Algorithm 1 per replica; state tensors carry the
replica axis first: ``x`` (R, d), the worker errors ``e^(k)`` and momenta ``m^(k)`` (R, K, d), the
server error ``e`` (R, d).

Per iteration ``t = 0, ..., T-1`` (the pseudocode lines of Algorithm 1):

* line 6-8 (SAEF only in the pseudocode, see ``p`` below): if ``mod(t + 1, p) = 0`` every worker
  replaces its error by the average ``e_t^(k) <- 1/K sum_k e_t^(k)``;
* SAEF, lines 9-12: ``x_{t+1/2}^(k) = x_t - e_t^(k)``, ``m_{t+1}^(k) = mu m_t^(k) + grad f(x_{t+1/2}^(k);
  xi_t^(k))``, ``Delta_{t+1}^(k) = e_t^(k) + x_{t+1/2}^(k) - x_{t+1}^(k) = e_t^(k) + eta_t m_{t+1}^(k)``;
* EF, lines 14-16: the same with the gradient taken at ``x_t^(k) = x_t``;
* line 18: ``e_{t+1}^(k) = Delta_{t+1}^(k) - C(Delta_{t+1}^(k))``; line 19: upload ``C(Delta^(k))``;
* lines 21-23 (server): ``Delta_{t+1} = e_t + 1/K sum_k C(Delta_{t+1}^(k))``,
  ``e_{t+1} = Delta_{t+1} - C(Delta_{t+1})``, broadcast ``C(Delta_{t+1})``;
* line 25: ``x_{t+1} = x_t - C(Delta_{t+1})``.

``Delta_{t+1}^(k)`` is computed as ``e_t^(k) + eta_t m_{t+1}^(k)``, which lines 11-12 (and 15-16)
equal exactly in real arithmetic (Supplement eq. (24) uses this identity; it prints it with a minus
sign, ``e - eta m``, a typo: lines 12/16 give ``+``). Computing it directly avoids the cancellation
``x_{t+1/2} - (x_{t+1/2} - eta m)`` and makes the identity-compressor runs coincide bit for bit with
(momentum) SGD.

Single-way compression ("SC" of the experiments) is ``server_compressor=None``: the server
broadcasts ``Delta_{t+1}`` uncompressed and ``e_t = 0`` throughout.

The auxiliary iterate (main text, "Gradient Mismatch"; Supplement eq. (24)) is
``tilde x_t := x_t - (e_t + 1/K sum_k e_t^(k))``; it obeys ``tilde x_{t+1} = tilde x_t - eta_t/K
sum_k m_{t+1}^(k)`` (eqs. (3), (24)-(27)). Error averaging leaves it unchanged.

Randomness and speed (issues 8-9). Every random source is drawn per replica from its own stream
(:mod:`boundcheck.rng`): ``"noise"`` the worker samples ``xi_t^(k)`` (lines 10, 14),
``"compressor_up"`` the workers' ``C`` (line 18), ``"compressor_down"`` the server's (line 22).
Replica ``r`` of a batch equals the single-replica run with ``first_replica = first_replica + r``,
number for number, so the batch runs in blocks of ``block`` replicas (default
:func:`~boundcheck.algorithms.fedpaq.auto_block`, a cache-sized working set) with the same result.
Worker state (``e^(k)``, ``m^(k)``, ``x``) is updated in place. The worker-axis norms of the state
(``err_workers_sq``, ``err_spread_sq``, ``lemma1_lhs``, ``mismatch_err``) are one reduction over a
stacked, reused ``(B, 4, K, d)`` buffer, and ``record=`` computes only the series a check asks for
(``epsilon`` costs a second oracle call per worker and step). ``dtype``: float64 by default;
float32 suffices for the theorems' Monte Carlo means (``meta['dtype_note']``).

Worker oracles. The paper assumes identically distributed worker data (``F = E_xi f(.; xi)``). With
``assignment="shared"`` (default) every worker's stochastic gradient is an unbiased estimate of the
global ``grad f``: ``grad f(x; xi^(k)) = 1/n sum_i stochastic_grad_i(x, sample_{k,i}, i)`` with an
independent draw per worker and client. ``assignment="partition"`` (requires ``K == n``) gives
worker ``k`` the local objective of client ``k`` (heterogeneous data: outside the paper's
assumption, recorded in ``meta``).

Map to the theory module (``boundcheck/theory/saef.py``) and to the problem constants. The names
differ in three places: the theory's ``mu_m`` is this module's keyword ``mu`` (the momentum
constant of Algorithm 1), *not* the problem constant ``mu`` (strong convexity); the theory's ``M``
and ``sigma`` are square roots of the problem constants ``M2`` and of ``sigma2`` scaled to a worker.

=================  ==========================================================================
theory symbol      here / problem
=================  ==========================================================================
``T``, ``K``       keywords ``T``, ``K`` (all ``K`` workers contribute to every step)
``eta``            keyword ``eta`` (constant; ``eta_max`` = ``max_t eta_t`` of a schedule)
``mu_m``           keyword ``mu`` (Theorems 1-2 and Corollaries 1-2 need ``mu = 0``)
``delta``          ``min(meta["delta_c"], meta["delta_s"])`` (one ``C`` in the paper; single-way
                   compression: ``meta["delta_c"]``, the server error stays 0)
``L``              problem ``L`` (smoothness of ``F = f = 1/n sum_i f_i``)
``M``              ``sqrt`` of problem ``M2`` (bound on ``||grad f(x)||^2``, SAEF Assumption 3;
                   certified on a ball only where the family says so)
``sigma``          ``sqrt(meta["sigma2_worker"]["value"])``: SAEF Assumption 2 bounds one
                   *worker's* oracle; with ``assignment="shared"`` a worker averages ``n``
                   independent client draws, so ``sigma^2 = sigma2 / n`` for the problem's
                   per-client ``sigma2`` (using ``sigma2`` itself is valid but ``n`` times loose)
``F0``             ``f(x_0) - f*``: row 0 of ``f_gap`` where ``f_star`` is exact; where the
                   family's ``f_star`` is only an upper bound of ``inf f`` use ``f_star_lower``
``d``              ``problem.d``
=================  ==========================================================================

:data:`LHS_SERIES` names, for every measured left-hand side (a theory ``Quantity`` id), the trace
series that records it and how to reduce it. Two deviations from the quantities' letter, both
exact in the paper's setting: the per-worker quantities (``sup_k E||m_{t+1}^(k)||^2``,
``sup_k E||e_t^(k)||^2``) are recorded as the worker mean, which equals every worker's expectation
when the workers are exchangeable (``assignment="shared"``, one compressor for all; with
``"partition"`` use ``record_x`` and the ``(T, R, K, d)`` series ``e_workers``); and row ``t`` holds
``e_t`` (``t = 0..T-1``), so a ``sup_t`` over ``e_{t+1}`` misses only the last error ``e_T``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal

import torch

from boundcheck.algorithms.common import (
    Streams,
    check_compressor,
    check_int,
    f_gap,
    initial_point,
    new_divergence,
    resolve_device,
    sq_norm,
    update_divergence,
)
from boundcheck.algorithms.fedpaq import auto_block, compress_messages
from boundcheck.algorithms.trace import Trace
from boundcheck.compressors import Compressor, Identity
from boundcheck.errors import ParameterError
from boundcheck.problems.base import Problem

Variant = Literal["ef", "saef"]
Assignment = Literal["shared", "partition"]

#: Bits of one uncompressed d-vector (error averaging messages), as counted by ``Identity``.
_FULL = Identity()

_MAX = "max over rows t of the replica mean (an upper bound is claimed for every t)"
#: theory Quantity id (boundcheck/theory/saef.py) -> (trace series, how to reduce it). Rows are
#: iterations t = 0..T-1, columns replicas; the replica mean estimates the expectation E.
LHS_SERIES: dict[str, tuple[str, str]] = {
    "saef.min_grad_x": (
        "grad_norm_sq",
        "min over rows t = 0..T-1 of the replica mean; row t: ||grad F(x_t)||^2 (Thms 2-3)",
    ),
    "saef.min_grad_xtilde": (
        "grad_norm_sq_tilde",
        "min over rows t = 0..T-1 of the replica mean; row t: ||grad F(tilde x_t)||^2 (Thms 1, 3)",
    ),
    "saef.momentum_norm": (
        "m_norm_sq",
        _MAX + "; row t: 1/K sum_k ||m_{t+1}^(k)||^2 (supp. Lemma 1)",
    ),
    "saef.local_error": (
        "err_workers_sq",
        _MAX + "; row t: 1/K sum_k ||e_t^(k)||^2 (supp. Lemma 2)",
    ),
    "saef.local_error_spread": (
        "err_spread_sq",
        _MAX + "; row t: 1/K sum_k ||ebar_t - e_t^(k)||^2 (supp. Lemma 3)",
    ),
    "saef.server_error": ("err_server_sq", _MAX + "; row t: ||e_t||^2 (supp. Lemma 4)"),
    "saef.mismatch_error": (
        "mismatch_err",
        _MAX + " of a SAEF run without averaging; row t: 1/K sum_k ||e_t + ebar_t - e_t^(k)||^2 "
        "(supp. Lemma 5 = main Lemma 1; not lemma1_lhs, the literal reading of the garbled (15))",
    ),
    "saef.grad_mismatch_ef": ("epsilon", "row t of an EF run: eps_t of eq. (9), one draw"),
    "saef.grad_mismatch_saef": ("epsilon", "row t of a SAEF run: eps_t of eq. (10), one draw"),
    "saef.grad_mismatch_saef_avg": (
        "epsilon",
        "rows with averaged == 1 of a SAEF run with period p: eps_t of eq. (11), one draw",
    ),
}


def _sigma2_worker(problem: Problem, n: int, assignment: Assignment) -> dict[str, Any] | None:
    """SAEF's sigma^2 (variance of one worker's stochastic gradient) from the problem's ``sigma2``.

    ``"shared"``: the worker's gradient is the mean of ``n`` independent client draws, each of
    variance ``<= sigma2``, so its variance is ``<= sigma2 / n`` (exact for the Gaussian oracle).
    ``"partition"``: worker ``k`` is client ``k``'s oracle, variance ``<= sigma2`` about
    ``grad f_k`` (not about ``grad F``: outside the paper's assumption).
    """
    c = problem.constants.get("sigma2")
    if c is None:
        return None
    scale = n if assignment == "shared" else 1
    how = (
        f"problem sigma2 / n (n = {n} independent client draws averaged per worker)"
        if assignment == "shared"
        else "problem sigma2 (one client per worker)"
    )
    return {"value": c.value / scale, "provenance": c.provenance, "how": how}


# --- validation -------------------------------------------------------------------------------
def _stepsizes(eta: float | Sequence[float], T: int) -> list[float]:
    """``eta_t`` for ``t = 0..T-1``: a constant or a sequence of length ``T`` (all > 0, finite)."""
    if isinstance(eta, (int, float)) and not isinstance(eta, bool):
        etas = [float(eta)] * T
    else:
        try:
            etas = [float(e) for e in eta]  # type: ignore[union-attr]
        except TypeError as err:
            raise ParameterError(
                f"eta must be a positive number or a sequence of T={T} numbers, got {eta!r}"
            ) from err
        if len(etas) != T:
            raise ParameterError(f"eta has {len(etas)} entries; a schedule needs T={T}")
    for e in etas:
        if not (math.isfinite(e) and e > 0):
            raise ParameterError(f"eta must be finite and > 0, got {e!r}")
    return etas


def _period(p: int | float | None) -> int | None:
    """Error averaging period: ``None`` or ``inf`` means none; else an integer ``>= 1``."""
    if p is None or (isinstance(p, float) and math.isinf(p) and p > 0):
        return None
    if isinstance(p, bool) or not isinstance(p, int) or p < 1:
        raise ParameterError(
            f"p must be an integer >= 1, None or math.inf (no averaging), got {p!r}"
        )
    return p


def _momentum(mu: Any) -> float:
    """The momentum ``mu``: a number (not a bool) with ``0 <= mu < 1``."""
    if not (isinstance(mu, (int, float)) and not isinstance(mu, bool) and 0 <= mu < 1):
        raise ParameterError(f"mu (momentum) must satisfy 0 <= mu < 1, got {mu!r}")
    return mu


# --- the oracle -------------------------------------------------------------------------------
class _WorkerOracle:
    """Stochastic gradients of the ``K`` workers at points of shape (R, K, d), see module doc."""

    def __init__(self, problem: Problem, K: int, assignment: Assignment) -> None:
        self.problem, self.K, self.assignment = problem, K, assignment
        n = problem.n
        if assignment == "shared":
            self.clients = torch.arange(n, device=problem.device).repeat(K)
        elif assignment == "partition":
            if problem.n != K:
                raise ParameterError(
                    f"assignment='partition' needs K == n, got K={K}, n={problem.n}"
                )
            self.clients = torch.arange(n, device=problem.device)
        else:
            raise ParameterError(f"assignment must be 'shared' or 'partition', got {assignment!r}")

    def sample(self, R: int, generator: torch.Generator) -> Any:
        return self.problem.sample(R, self.clients, generator)

    def grad(self, z: torch.Tensor, sample: Any) -> torch.Tensor:
        R, K, d = z.shape
        if self.assignment == "partition":
            return self.problem.stochastic_grad_i(z, sample, self.clients)
        n = self.problem.n
        zs = z.unsqueeze(2).expand(R, K, n, d).reshape(R, K * n, d)
        g = self.problem.stochastic_grad_i(zs, sample, self.clients)
        if n == 1:  # the mean of one client's gradient is that gradient: no pass over it
            return g.reshape(R, K, d)
        return g.reshape(R, K, n, d).mean(dim=2)


# --- the algorithm ----------------------------------------------------------------------------
_NAMES = (
    "grad_norm_sq",
    "grad_norm_sq_tilde",
    "f_gap",
    "f_gap_tilde",
    "epsilon",
    "mismatch_err",
    "err_server_sq",
    "err_workers_sq",
    "err_spread_sq",
    "lemma1_lhs",
    "m_norm_sq",
    "bits_up",
    "bits_down",
    "averaged",
)

#: The series that are means over the K workers of squared norms of (K, d) quantities of the state
#: at iteration t (computed together, :func:`_run_block`).
_K_NORMS = ("err_workers_sq", "err_spread_sq", "lemma1_lhs", "mismatch_err")
#: Recorded whatever ``record`` says (cheap bookkeeping).
_ALWAYS = ("bits_up", "bits_down", "averaged")

DTYPE_NOTE = (
    "EF/SAEF need no float64 for Theorems 1-3 and Lemmas 1-5 (Monte Carlo means far above float32 "
    "rounding); the bitwise reductions to momentum SGD hold in either dtype; use float64 where a "
    "measured error term (||e_t||^2, mismatch) is compared with a bound below ~1e-10 ||x_t||^2"
)


def _recorded(record: Sequence[str] | None) -> list[str]:
    """The series to record: all of them (``None``) or the named ones plus the bookkeeping."""
    if record is None:
        return list(_NAMES)
    if isinstance(record, str) or not all(isinstance(k, str) for k in record):
        raise ParameterError(
            f"record={record!r} is not allowed: expected None or a list of series names"
        )
    bad = [k for k in record if k not in _NAMES]
    if bad:
        raise ParameterError(
            f"record={bad[0]!r} is not allowed: expected series names from {', '.join(_NAMES)}"
        )
    return [k for k in _NAMES if k in record or k in _ALWAYS]


#: SAEF's block budget: its state (errors, momenta, the stacked norms) is several times the
#: clients' iterates of QAFeL/FedPAQ, and ``bench_sync`` measured 26 replicas (this budget) a little
#: faster than 8 (8.4e4 against 7.7e4 client-steps/s, K = 10, d = 1000, float32).
SAEF_BLOCK_BYTES = 4 << 20


def _blocks(R: int, m: int, d: int, dtype: torch.dtype, block: Any) -> int:
    """Replicas per block: ``block`` (an integer >= 1) or :func:`auto_block`'s choice."""
    if block is None:
        return auto_block(R, m, d, torch.empty((), dtype=dtype).itemsize, SAEF_BLOCK_BYTES)
    return min(check_int("block", block, 1), R)


def _run(
    variant: Variant,
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | Sequence[float],
    K: int,
    mu: float,
    p: int | float | None,
    client_compressor: Compressor | None,
    server_compressor: Compressor | None,
    assignment: Assignment,
    x0: torch.Tensor | None,
    device: torch.device | str | None,
    dtype: torch.dtype,
    record_x: bool,
    first_replica: int = 0,
    block: int | None = None,
    record: Sequence[str] | None = None,
) -> Trace:
    T, R, K = check_int("T", T, 1), check_int("R", R, 1), check_int("K", K, 1)
    seed = check_int("seed", seed, 0)
    first_replica = check_int("first_replica", first_replica, 0)
    etas = _stepsizes(eta, T)
    mu = _momentum(mu)
    period = _period(p)
    for name, c in (
        ("client_compressor", client_compressor),
        ("server_compressor", server_compressor),
    ):
        if c is not None:  # None: the identity (client) or single-way compression (server)
            check_compressor(name, c)
    C_up = client_compressor if client_compressor is not None else Identity()
    C_down = server_compressor  # None: single-way compression
    dev = resolve_device(problem, device)
    d = problem.d
    oracle = _WorkerOracle(problem, K, assignment)
    B = _blocks(R, K * (problem.n if assignment == "shared" else 1), d, dtype, block)

    x_all = initial_point(x0, R, d, dev, dtype)
    diverged_at = new_divergence(R, dev)
    z = dict(device=dev, dtype=dtype)
    S = {k: torch.empty(T, R, **z) for k in _recorded(record)}
    X: dict[str, torch.Tensor] = {}
    if record_x:
        X = {
            "x": torch.empty(T, R, d, **z),
            "x_tilde": torch.empty(T, R, d, **z),
            "e": torch.empty(T, R, d, **z),
            "e_workers": torch.empty(T, R, K, d, **z),
        }
    fin = {k: torch.empty(R, d, **z) for k in ("x", "e", "e_bar")}
    for b0 in range(0, R, B):
        b1 = min(R, b0 + B)
        _run_block(
            variant, oracle, etas, mu, period, C_up, C_down, seed, first_replica + b0,
            x_all[b0:b1], diverged_at[b0:b1],
            {k: v[:, b0:b1] for k, v in (S | X).items()}, {k: v[b0:b1] for k, v in fin.items()},
        )  # fmt: skip
    x, e = fin["x"], fin["e"]

    series: dict[str, torch.Tensor] = {**S, **X}
    params = {
        "T": T,
        "R": R,
        "K": K,
        "eta": eta if isinstance(eta, (int, float)) else list(etas),
        "mu": mu,
        "p": period,
        "variant": variant,
        "double_way": C_down is not None,
        "client_compressor": getattr(C_up, "name", type(C_up).__name__),
        "server_compressor": None if C_down is None else getattr(C_down, "name", "?"),
        "assignment": assignment,
        "first_replica": first_replica,
    }
    meta = {
        "algorithm": f"{variant}_sgd" + ("m" if mu else ""),
        "source": "SAEF Algorithm 1",
        "params": params,
        "seed": seed,
        "first_replica": first_replica,
        "device": str(dev),
        "dtype": str(dtype),
        "dtype_note": DTYPE_NOTE,
        "rng_dtypes": {
            "noise": "the problem's oracle (Gaussian noise: the run's dtype)",
            "compressor_up": str(dtype),
            "compressor_down": str(dtype),
        },
        "streams": {
            "noise": "xi_t^(k) (lines 10, 14)",
            "compressor_up": "C (line 18)",
            "compressor_down": "C (line 22)",
        },
        "block": B,
        "problem": problem.describe(),
        "delta_c": C_up.delta(d),
        "delta_s": None if C_down is None else C_down.delta(d),
        "x_final": x,
        "x_tilde_final": x - (e + fin["e_bar"]),
        "grad_norm_sq_final": sq_norm(problem.grad(x)),
        "f_gap_final": f_gap(problem, x),
        "bits": "cumulative bits spent to reach x_t (row 0 = 0): per iteration K uploads of "
        "C(Delta^(k)) and one broadcast of C(Delta) (or of Delta, single-way); error averaging "
        "adds K full-precision uploads and one full-precision broadcast",
        "grad_norm_sq": "||grad F(x_t)||^2 (Thms 2-3, eqs. (17), (21)); grad_norm_sq_tilde at "
        "tilde x_t = x_t - (e_t + mean_k e_t^(k)) (Thm 1 eq. (16), Thm 3 eq. (22))",
        "epsilon": "1/K sum_k ||grad f(tilde x_t; xi_t^k) - grad f(z_t^k; xi_t^k)||^2, one draw "
        "(no expectation); z = x_t (EF, eq. (9)) or x_{t+1/2}^(k) (SAEF, eqs. (10)-(11))",
        "assignment_in_paper_setting": assignment == "shared",
        "sigma2_worker": _sigma2_worker(problem, problem.n, assignment),
        "lhs": LHS_SERIES,
        "recorded": list(S),
        "client_steps": T * K * R,
    }
    return Trace(
        algorithm=meta["algorithm"],
        params=params,
        series=series,
        diverged_at=diverged_at,
        meta=meta,
    )


def _run_block(
    variant: Variant,
    oracle: _WorkerOracle,
    etas: list[float],
    mu: float,
    period: int | None,
    C_up: Compressor,
    C_down: Compressor | None,
    seed: int,
    first_replica: int,
    x: torch.Tensor,
    diverged_at: torch.Tensor,
    S: dict[str, torch.Tensor],
    fin: dict[str, torch.Tensor],
) -> None:
    """Algorithm 1 on one block of replicas; writes the views ``S`` (series) and ``fin`` in place."""
    problem, K = oracle.problem, oracle.K
    Bn, d = x.shape
    T = len(etas)
    dev, dtype = x.device, x.dtype
    streams = Streams(seed, dev, R=Bn, first_replica=first_replica)
    g_noise, g_up, g_down = (
        streams.replica(s) for s in ("noise", "compressor_up", "compressor_down")
    )
    x = x.clone()
    e_k = torch.zeros(Bn, K, d, device=dev, dtype=dtype)  # line 2: e_0^(k) = 0
    m_k = torch.zeros(Bn, K, d, device=dev, dtype=dtype)  # line 2: m_0^(k) = 0
    e = torch.zeros(Bn, d, device=dev, dtype=dtype)  # server error, e_0 = 0
    bits_msg_up = C_up.bits(d)
    bits_msg_down = (C_down if C_down is not None else _FULL).bits(d)
    bits_up = bits_down = 0
    record_x = "x" in S
    k_names = [k for k in _K_NORMS if k in S and (k != "mismatch_err" or variant == "saef")]
    need_x_tilde = record_x or any(k in S for k in ("grad_norm_sq_tilde", "f_gap_tilde", "epsilon"))
    need_e_bar = need_x_tilde or "mismatch_err" in S or "err_spread_sq" in S
    z_buf = torch.empty(Bn, K, d, device=dev, dtype=dtype) if variant == "saef" else None
    stack = stack_sq = None
    if k_names:
        stack = torch.empty(Bn, len(k_names), K, d, device=dev, dtype=dtype)
        stack_sq = torch.empty_like(stack)

    for t in range(T):
        # lines 6-8: error averaging (iteration t averages e_t^(k) before it is used)
        averaged = period is not None and (t + 1) % period == 0
        if averaged:
            e_k.copy_(e_k.mean(dim=1, keepdim=True).expand(Bn, K, d))
        # 1/K sum_k e_t^(k) and tilde x_t, computed only for the series that read them
        e_bar = e_k.mean(dim=1) if need_e_bar else None
        x_tilde = x - (e + e_bar) if need_x_tilde else None

        # the state at iteration t (what the theorems' left-hand sides are about)
        update_divergence(diverged_at, t, x, e, e_k)
        if "grad_norm_sq" in S:
            S["grad_norm_sq"][t] = sq_norm(problem.grad(x))
        if "grad_norm_sq_tilde" in S:
            S["grad_norm_sq_tilde"][t] = sq_norm(problem.grad(x_tilde))
        if "f_gap" in S:
            S["f_gap"][t] = f_gap(problem, x)
        if "f_gap_tilde" in S:
            S["f_gap_tilde"][t] = f_gap(problem, x_tilde)
        if "err_server_sq" in S or "lemma1_lhs" in S:
            e_sq = sq_norm(e)
            if "err_server_sq" in S:
                S["err_server_sq"][t] = e_sq
        if stack is not None:  # the worker-axis norms: one reduction over a stacked buffer
            for j, name in enumerate(k_names):
                v = stack[:, j]
                if name == "err_workers_sq":
                    v.copy_(e_k)
                elif name == "err_spread_sq":
                    torch.sub(e_bar.unsqueeze(1), e_k, out=v)
                elif name == "lemma1_lhs":
                    torch.sub(e_k, e.unsqueeze(1), out=v)
                else:  # mismatch_err, SAEF: eq. (10); eq. (11) on averaging steps
                    torch.sub((e + e_bar).unsqueeze(1), e_k, out=v)
            k_means = torch.mul(stack, stack, out=stack_sq).sum(dim=-1).mean(dim=-1)
            for j, name in enumerate(k_names):
                S[name][t] = k_means[:, j] + e_sq if name == "lemma1_lhs" else k_means[:, j]
        if variant == "ef" and "mismatch_err" in S:  # eq. (9)
            S["mismatch_err"][t] = sq_norm(e + e_bar)
        S["bits_up"][t] = bits_up
        S["bits_down"][t] = bits_down
        S["averaged"][t] = float(averaged)
        if record_x:
            S["x"][t], S["x_tilde"][t], S["e"][t], S["e_workers"][t] = x, x_tilde, e, e_k

        # worker side: lines 9-12 (SAEF) or 14-16 (EF)
        xk = x.unsqueeze(1).expand(Bn, K, d)
        z = torch.sub(xk, e_k, out=z_buf) if variant == "saef" else xk
        sample = oracle.sample(Bn, g_noise)
        g = oracle.grad(z, sample)
        if mu != 0:
            m_k.mul_(mu).add_(g)
        else:
            m_k = g
        if "m_norm_sq" in S:
            S["m_norm_sq"][t] = sq_norm(m_k).mean(dim=1)

        # gradient mismatch, eqs. (9)-(11): same sample xi_t^(k) at tilde x_t and at z (a second
        # oracle call, made only when the series is recorded; it draws no random numbers)
        if "epsilon" in S:
            g_tilde = oracle.grad(x_tilde.unsqueeze(1).expand(Bn, K, d), sample)
            S["epsilon"][t] = sq_norm(g_tilde.sub_(g)).mean(dim=1)

        # lines 12/16: Delta_{t+1}^(k) = e_t^(k) + eta_t m_{t+1}^(k), in e_k's buffer
        delta_k = e_k.add_(m_k, alpha=etas[t])
        # lines 18-19: compress, keep the error, upload
        c_k = compress_messages(C_up, delta_k, g_up)
        c_mean = c_k.mean(dim=1)
        e_k = delta_k.sub_(c_k)  # e_{t+1}^(k) (0 for the identity: then c_k is delta_k)
        # lines 21-23: server
        delta = e + c_mean
        if C_down is None:
            c = delta
        else:
            c = compress_messages(C_down, delta, g_down)
            e = delta - c
        # line 25: re-update
        x.sub_(c)

        bits_up += K * bits_msg_up  # line 19: one message per worker
        bits_down += bits_msg_down  # line 23: one broadcast
        if averaged:  # K full-precision errors up, their average broadcast back
            bits_up += K * _FULL.bits(d)
            bits_down += _FULL.bits(d)

    update_divergence(diverged_at, T, x, e, e_k)
    fin["x"].copy_(x)
    fin["e"].copy_(e)
    fin["e_bar"].copy_(e_k.mean(dim=1))


def ef_sgd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | Sequence[float],
    K: int,
    mu: float = 0.0,
    p: int | float | None = None,
    client_compressor: Compressor | None = None,
    server_compressor: Compressor | None = None,
    assignment: Assignment = "shared",
    x0: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
    first_replica: int = 0,
    block: int | None = None,
    record: Sequence[str] | None = None,
) -> Trace:
    """Local error feedback (EF-SGD; EF-SGDM when ``mu > 0``): SAEF Algorithm 1, lines 14-25.

    Parameters (names of the paper): ``T`` iterations, ``K`` workers, ``eta`` = ``eta_t`` (a
    constant or a length-``T`` schedule), momentum ``mu`` in ``[0, 1)``, error averaging period
    ``p`` (``None``/``math.inf``: none; the pseudocode places averaging, lines 6-8, in the SAEF
    branch only, but the experiments also average EF's errors (Figure 3, left), so it is offered
    here too), ``client_compressor`` = the workers' ``C`` (line 18; ``None`` = identity),
    ``server_compressor`` = the server's ``C`` (line 22; ``None`` = single-way compression);
    ``first_replica`` (the replicas' stream numbers start there) and ``block`` (replicas per block)
    as in the module docstring "Randomness and speed"; ``record`` (``None``: every series below)
    names the series to compute (``bits_up``, ``bits_down``, ``averaged`` always come): a check that
    needs only ``grad_norm_sq`` skips the other norms and, without ``epsilon``, the second oracle
    call per worker and step (the random streams are the same either way).

    Returns a :class:`Trace` whose rows ``t = 0..T-1`` describe iteration ``t`` before its update:
    ``grad_norm_sq`` = ``||grad F(x_t)||^2`` (Theorem 2-3's lhs iterate), ``grad_norm_sq_tilde`` at
    the auxiliary ``tilde x_t``, ``f_gap``/``f_gap_tilde``, ``epsilon`` (gradient mismatch of eq. (9)
    for one draw), ``mismatch_err`` = ``||e_t + 1/K sum_k e_t^(k)||^2`` (the factor of ``L^2`` in eq.
    (9)), ``err_server_sq`` = ``||e_t||^2``, ``err_workers_sq`` = ``1/K sum_k ||e_t^(k)||^2`` (Supp.
    Lemma 2), ``err_spread_sq`` = ``1/K sum_k ||mean e - e_t^(k)||^2`` (Supp. Lemma 3),
    ``lemma1_lhs`` = ``||e_t||^2 + 1/K sum_k ||e_t^(k) - e_t||^2`` (main Lemma 1, eq. (15), as
    printed; the theory module reads the garbled (15) as SAEF's ``mismatch_err``, see
    :data:`LHS_SERIES`), ``m_norm_sq`` = ``1/K sum_k ||m_{t+1}^(k)||^2`` (Supp. Lemma 1), cumulative
    ``bits_up``/``bits_down``, ``averaged`` (1 on error-averaging iterations); with ``record_x`` also
    ``x``, ``x_tilde``, ``e`` (T, R, d) and ``e_workers`` (T, R, K, d).

    Example: ``ef_sgd(problem, T=100, R=8, seed=0, eta=0.1, K=4, client_compressor=topk)``.
    """
    return _run(
        "ef", problem, T=T, R=R, seed=seed, eta=eta, K=K, mu=mu, p=p,
        client_compressor=client_compressor, server_compressor=server_compressor,
        assignment=assignment, x0=x0, device=device, dtype=dtype, record_x=record_x,
        first_replica=first_replica, block=block, record=record,
    )  # fmt: skip


def saef_sgd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | Sequence[float],
    K: int,
    mu: float = 0.0,
    p: int | float | None = None,
    client_compressor: Compressor | None = None,
    server_compressor: Compressor | None = None,
    assignment: Assignment = "shared",
    x0: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
    first_replica: int = 0,
    block: int | None = None,
    record: Sequence[str] | None = None,
) -> Trace:
    """Step-ahead error feedback (SAEF-SGD; SAEF-SGDM when ``mu > 0``): SAEF Algorithm 1, lines 5-12, 18-25.

    The gradient is taken one step ahead, at ``x_{t+1/2}^(k) = x_t - e_t^(k)`` (line 9), and every
    ``p`` iterations the workers' errors are averaged first (lines 6-8; ``p=None``: never; the
    paper's input line asks ``p > 1`` but Table 1 runs ``p = 1``, which is allowed here: then every
    worker holds the same error and, with single-way compression, ``x_{t+1/2} = tilde x_t`` so the
    mismatch ``epsilon_t`` vanishes and ``tilde x_t`` follows momentum SGD exactly).

    Parameters and the returned trace are those of :func:`ef_sgd`; ``epsilon`` is the mismatch of
    eq. (10) (eq. (11) on averaging iterations) and ``mismatch_err`` its factor of ``L^2``:
    ``1/K sum_k ||e_t + mean_k' e_t^(k') - e_t^(k)||^2`` (``= ||e_t||^2`` right after averaging).

    Example: ``saef_sgd(problem, T=100, R=8, seed=0, eta=0.1, K=4, mu=0.9, p=20,
    client_compressor=topk, server_compressor=topk)``.
    """
    return _run(
        "saef", problem, T=T, R=R, seed=seed, eta=eta, K=K, mu=mu, p=p,
        client_compressor=client_compressor, server_compressor=server_compressor,
        assignment=assignment, x0=x0, device=device, dtype=dtype, record_x=record_x,
        first_replica=first_replica, block=block, record=record,
    )  # fmt: skip


def momentum_sgd(
    problem: Problem,
    *,
    T: int,
    R: int,
    seed: int,
    eta: float | Sequence[float],
    K: int,
    mu: float = 0.0,
    assignment: Assignment = "shared",
    x0: torch.Tensor | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float64,
    record_x: bool = False,
    first_replica: int = 0,
    block: int | None = None,
) -> Trace:
    """Vanilla distributed (momentum) SGD, the paper's full-precision baseline (main text after eq. (3)):

    ``m_{t+1}^(k) = mu m_t^(k) + grad f(x_t; xi_t^(k))``, ``x_{t+1} = x_t - 1/K sum_k eta_t m_{t+1}^(k)``.

    Written separately (not via :func:`ef_sgd`) so that the reduction "SAEF/EF with identity
    compressors is momentum SGD" is a test between two implementations. Uses the same random
    stream (``"noise"``) for the worker samples. Trace: ``grad_norm_sq``, ``f_gap``, ``bits_up``,
    ``bits_down`` (cumulative; K uploads and one broadcast per iteration, 32 bits per entry) and, with ``record_x``, ``x``.
    """
    T, R, K = check_int("T", T, 1), check_int("R", R, 1), check_int("K", K, 1)
    seed = check_int("seed", seed, 0)
    first_replica = check_int("first_replica", first_replica, 0)
    etas = _stepsizes(eta, T)
    mu = _momentum(mu)
    dev = resolve_device(problem, device)
    d = problem.d
    oracle = _WorkerOracle(problem, K, assignment)
    B = _blocks(R, K * (problem.n if assignment == "shared" else 1), d, dtype, block)
    x_all = initial_point(x0, R, d, dev, dtype)
    diverged_at = new_divergence(R, dev)
    S = {
        k: torch.empty(T, R, device=dev, dtype=dtype)
        for k in ("grad_norm_sq", "f_gap", "bits_up", "bits_down")
    }
    if record_x:
        S["x"] = torch.empty(T, R, d, device=dev, dtype=dtype)
    x_fin = torch.empty(R, d, device=dev, dtype=dtype)
    for b0 in range(0, R, B):
        b1 = min(R, b0 + B)
        Sb = {k: v[:, b0:b1] for k, v in S.items()}
        x = x_all[b0:b1].clone()
        g_noise = Streams(seed, dev, R=b1 - b0, first_replica=first_replica + b0).replica("noise")
        m_k = torch.zeros(b1 - b0, K, d, device=dev, dtype=dtype)
        for t in range(T):
            update_divergence(diverged_at[b0:b1], t, x)
            Sb["grad_norm_sq"][t] = sq_norm(problem.grad(x))
            Sb["f_gap"][t] = f_gap(problem, x)
            Sb["bits_up"][t] = t * K * _FULL.bits(d)
            Sb["bits_down"][t] = t * _FULL.bits(d)  # one broadcast per iteration
            if record_x:
                Sb["x"][t] = x
            g = oracle.grad(x.unsqueeze(1).expand(b1 - b0, K, d), oracle.sample(b1 - b0, g_noise))
            if mu != 0:
                m_k.mul_(mu).add_(g)
            else:
                m_k = g
            x.sub_((etas[t] * m_k).mean(dim=1))
        update_divergence(diverged_at[b0:b1], T, x)
        x_fin[b0:b1] = x
    series = dict(S)
    params = {
        "T": T,
        "R": R,
        "K": K,
        "eta": eta,
        "mu": mu,
        "assignment": assignment,
        "first_replica": first_replica,
    }
    meta = {
        "algorithm": "momentum_sgd",
        "source": "SAEF main text, vanilla momentum SGD",
        "params": params,
        "seed": seed,
        "first_replica": first_replica,
        "device": str(dev),
        "dtype": str(dtype),
        "dtype_note": DTYPE_NOTE,
        "block": B,
        "streams": {"noise": "xi_t^(k)"},
        "x_final": x_fin,
        "client_steps": T * K * R,
    }
    return Trace(
        algorithm="momentum_sgd", params=params, series=series, diverged_at=diverged_at, meta=meta
    )
