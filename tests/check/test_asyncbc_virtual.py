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


# --- Lemma 2 (identities) and Lemma 3 (descent) from the recursions (3)-(4) ------------------------
def _ctx23(tmp_path, theorem, family="asyncbc_least_squares", zeta=1.0, tau_C=4):
    p = tmp_path / "s.toml"
    p.write_text(SPEC.format(family=family, zeta=zeta, tau_C=tau_C).replace("asyncbc.lemma1",
                                                                             theorem))  # fmt: skip
    spec = load_spec(p)
    ctx = _build(spec, {"T": 60}, False)
    B._prepare_lemma(ctx)
    kw = dict(ctx.settings)
    kw["x0"] = torch.full((ctx.problem.d,), 1.0, dtype=torch.float64)
    for bkw in ctx.batch_kwargs:
        ctx.traces.append(asyncbc_gd(ctx.problem, R=1, record_x=True, **kw, **bkw))
    return ctx


def test_recursions_agree_with_the_lemma2_rebuild(tmp_path):
    """m~, x~ from their own recursions equal the Lemma-2 rebuild of Lemmas 1 and 5."""
    ctx = _ctx23(tmp_path, "asyncbc.lemma2_m")
    v = B._recursions(ctx, 0)
    _X, xt, _M, mt, _m2, _a = B._virtual(ctx, 0)
    assert ctx.scratch["tau_max"] > 0
    assert torch.allclose(v["mt"], mt, atol=1e-12) and torch.allclose(v["xt"], xt, atol=1e-12)


def test_lemma2_residuals_are_rounding_and_a_planted_error_is_caught(tmp_path, monkeypatch):
    ctx = _ctx23(tmp_path, "asyncbc.lemma2_m")
    for which in ("m", "x"):
        res, allow = B._identity_rows(ctx, which)
        assert res.shape == allow.shape and (res <= allow).all()
    # planted: forget the 1/tau_C reweighting of the initial tasks (Algorithm 1, line 3) in m~
    real = B._recursions

    def wrong(c, b):
        v = real(c, b)
        first = torch.as_tensor(v["rv"] == 1)
        v["mt"] = v["mt"] + (4 - 1) * v["g"][:, first].sum(1)[None]
        return v

    monkeypatch.setattr(B, "_recursions", wrong)
    res, allow = B._identity_rows(ctx, "m")
    assert (res > allow).any()


def test_lemma3_holds_pathwise_and_its_error_terms_are_needed(tmp_path):
    ctx = _ctx23(tmp_path, "asyncbc.lemma3")
    from boundcheck.check.bindings import get
    from boundcheck.check.point import _resolve

    values, _ = _resolve(ctx, get("asyncbc.lemma3"), after=True)
    ctx.scratch["values"] = values
    out = B._lemma3(ctx)
    assert (out["lhs"] - out["bound"] <= out["tol"]).all()
    # not vacuous: without the two error terms (eta/2 ||grad f(x_t) - m~_t||^2 + eta L^2
    # ||x~_t - x_t||^2) the inequality fails at some step of this asynchronous run
    v = B._recursions(ctx, 0)
    X, mt, xt = v["X"], v["mt"], v["xt"]
    gx = ctx.problem.grad(X.reshape(-1, X.shape[-1])).reshape(X.shape)
    eta, L = values["eta"], values["L"]
    errs = eta / 2 * ((gx - mt) ** 2).sum(-1) + eta * L**2 * ((xt - X) ** 2).sum(-1)
    assert (out["lhs"] > out["bound"] - errs[:-1].numpy()).any()
