"""The virtual iterates of AsyncBC Lemmas 1 and 5, rebuilt from a recorded run and its schedule
(AsyncBC Lemma 2), against closed forms."""

from __future__ import annotations

import torch

from boundcheck.algorithms.asyncbc import asyncbc_gd
from boundcheck.check.bindings import asyncbc as B
from boundcheck.check.point import _build
from boundcheck.check.specs import load_spec

SPEC = """
theorem = "asyncbc.lemma1"
replicas = 1
seed = 3
[problem]
family = "{family}"
n = 4
d = 3
zeta = {zeta}
[algorithm]
name = "asyncbc_gd"
eta = 0.05
tau_C = {tau_C}
x0 = 1.0
[sweep]
T = [60]
"""


def _rebuild(tmp_path, family="sarah_counterexample", zeta=0.0, tau_C=4):
    p = tmp_path / "s.toml"
    p.write_text(SPEC.format(family=family, zeta=zeta, tau_C=tau_C))
    spec = load_spec(p)
    ctx = _build(spec, {"T": 60}, False)
    B._prepare_lemma(ctx)
    kw = dict(ctx.settings)
    kw["x0"] = torch.full((ctx.problem.d,), 1.0, dtype=torch.float64)
    for bkw in ctx.batch_kwargs:
        ctx.traces.append(asyncbc_gd(ctx.problem, R=1, record_x=True, **kw, **bkw))
    return ctx, B._virtual(ctx, 0)


def test_identical_clients_give_the_exact_gradient_as_virtual_momentum(tmp_path):
    """With identical f_i = ||x||^2/2 the gradient differences telescope: every task handed out
    up to t sums to grad f(x_t) - grad f(x_0), so m~_t = grad f(x_t) = x_t exactly, however
    stale the deliveries (tau_max > 0 here)."""
    ctx, (X, _xt, M, mt, _m2, _active) = _rebuild(tmp_path)
    assert ctx.scratch["tau_max"] > 0
    assert torch.allclose(mt, X, atol=1e-12)
    assert not torch.allclose(M, X, atol=1e-6)  # the true momentum lags: the check is not vacuous


def test_synchronous_run_has_no_virtual_error(tmp_path):
    """tau_C = 1: every task is delivered at the next step, the active sets are empty."""
    _, (X, xt, M, mt, _m2, active) = _rebuild(tmp_path, family="asyncbc_least_squares", zeta=1.0,
                                             tau_C=1)  # fmt: skip
    assert torch.allclose(mt[1:], M[1:], atol=1e-12) and torch.allclose(xt, X, atol=1e-12)
    assert float(active.abs().max()) == 0.0
