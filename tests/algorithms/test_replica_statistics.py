"""A confidence interval over one batch of replicas covers the mean at its nominal rate (issue 8).

Every random choice a theorem's expectation averages over is drawn per replica (client sampling
``S_k``, oracle noise, quantizers), so the ``R`` replicas of a batch are i.i.d. draws of the whole
algorithm and a Student-t interval over them is a valid 95% interval for the expectation.

The check: ``N`` independent batches of ``R_b`` replicas (replicas ``b R_b .. (b+1) R_b - 1`` of one
run: by the per-replica streams each block *is* the run with ``first_replica = b R_b``). Batch ``b``'s
95% interval is compared with the mean of the other ``N - 1`` batches (leave-one-out, so the target
does not contain the batch itself); its own standard error is ``sqrt(N - 1)`` times smaller, which
lowers the nominal rate to ``p0 = 2 Phi(1.96 / sqrt(1 + 1/(N-1))) - 1`` (0.947 at N = 40). The count
of covering batches is Binomial(N, p0) when the replicas are independent; the test fails if it falls
below the binomial 1e-3 quantile (P[false failure] <= ~1e-3; 1.5e-3 even if the t-approximation cost
two points of coverage).

With FedPAQ's ``pin_sampling=True`` (one ``S_0..S_{K-1}`` shared by all replicas of a run: the old
``virtual=False`` behaviour), each batch estimates the mean *conditional* on its sampled sets and
its interval ignores the sampling variance: the same check fails (coverage near 0), which is what
issue 8 reported for shared schedules.

SAEF has no pinned option: its only random sources are the oracle noise and the compressors, and
the old implementation already drew a different number for every replica from one shared stream,
so its replicas were independent (its intervals were valid); what per-replica streams add there is
reproducibility replica by replica (batch = separate runs, ``test_saef_algo.py``).
"""

from __future__ import annotations

import math

import torch
from quad_problems import diag_quad, quad
from scipy import stats

from boundcheck.algorithms.fedpaq import fedpaq
from boundcheck.algorithms.saef import saef_sgd
from boundcheck.compressors import QSGD, RandK

N, RB = 40, 64  # batches, replicas per batch


def coverage(values: torch.Tensor, n_batches: int = N) -> int:
    """How many of the ``n_batches`` 95% t-intervals cover the mean of the other batches."""
    v = values.double().reshape(n_batches, -1)
    rb = v.shape[1]
    mean, se = v.mean(1), v.std(1) / math.sqrt(rb)
    tq = float(stats.t.ppf(0.975, rb - 1))
    ref = (v.sum() - v.sum(1)) / ((n_batches - 1) * rb)  # leave-one-out mean
    return int(((mean - ref).abs() <= tq * se).sum())


def lowest_count(n_batches: int = N) -> int:
    """The smallest count not below Binomial(n, p0)'s 1e-3 quantile."""
    p0 = 2 * stats.norm.cdf(1.96 / math.sqrt(1 + 1 / (n_batches - 1))) - 1
    return int(stats.binom.ppf(1e-3, n_batches, p0))


def fedpaq_lhs(tr) -> torch.Tensor:
    """Per replica: the mean over periods k = 1..K of f(x_k) - f* (Theorem 1/2's iterates)."""
    return tr["f_gap"][1:].mean(0)


def test_fedpaq_interval_covers_at_nominal_rate_and_fails_with_shared_sampling():
    # deterministic gradients, identity quantizer: the sampling of S_k is the only randomness
    p = quad(n=6, d=3, seed=1)
    kw = dict(K=4, tau=2, r=2, eta=0.3, virtual=False)
    tr = fedpaq(p, R=N * RB, seed=3, **kw)
    independent = coverage(fedpaq_lhs(tr))
    pinned = coverage(
        torch.cat(
            [fedpaq_lhs(fedpaq(p, R=RB, seed=100 + b, pin_sampling=True, **kw)) for b in range(N)]
        )
    )
    print(
        f"FedPAQ 95% intervals covering the mean of the other batches: {independent}/{N} with "
        f"per-replica S_k, {pinned}/{N} with S_k shared by a run's replicas "
        f"(fail below {lowest_count()})"
    )
    assert independent >= lowest_count()
    assert pinned < lowest_count()


def test_fedpaq_virtual_with_noise_and_quantizer_covers_at_nominal_rate():
    # virtual iterates (eq. (20)), Theorem 2's lhs, with oracle noise and QSGD uploads
    p = quad(n=5, d=3, noise=0.3, seed=2)
    tr = fedpaq(p, K=3, tau=2, r=2, R=N * RB, seed=4, eta=0.2, quantizer=QSGD(s=1))
    cnt = coverage(tr["grad_norm_sq"].mean(0))
    print(f"FedPAQ (virtual) coverage {cnt}/{N} (fail below {lowest_count()})")
    assert cnt >= lowest_count()


def test_saef_interval_covers_at_nominal_rate():
    p = diag_quad(n=3, d=4, sigma=0.5, seed=2)
    tr = saef_sgd(
        p, T=12, R=N * RB, seed=5, eta=0.2, K=2, client_compressor=RandK(k=1),
        server_compressor=QSGD(s=1),
    )  # fmt: skip
    cnt = coverage(tr["grad_norm_sq"].mean(0))
    print(f"SAEF coverage {cnt}/{N} (fail below {lowest_count()})")
    assert cnt >= lowest_count()


def test_the_check_detects_dependent_replicas():
    # the check itself can fail: one batch's replicas all equal (a shared stream) -> zero width
    v = torch.randn(N, 1, generator=torch.Generator().manual_seed(0)).expand(N, RB)
    v = v + 1e-9 * torch.randn(N, RB, generator=torch.Generator().manual_seed(1))
    assert coverage(v) < lowest_count()
    assert lowest_count() == 32  # Binomial(40, 0.947) 1e-3 quantile
