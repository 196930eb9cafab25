"""One sweep point as an independent task: build the problem, bind the symbols, check the
hypotheses, run the algorithm, measure the left-hand side, evaluate the bound.

:func:`run_point` is a top-level function of a picklable task and returns a small JSON-able
summary (never a trace), so any executor can run it and the cache can store it. Statistics and
verdicts are computed by the engine afterwards, at the run's corrected level.
"""

from __future__ import annotations

import math
import time
import traceback
from dataclasses import dataclass
from typing import Any

import numpy as np

from boundcheck.check.bindings import algorithm_function
from boundcheck.check.bindings import get as get_binding
from boundcheck.check.bindings.base import Ctx, ball_check
from boundcheck.errors import BoundcheckError

__all__ = ["Prepared", "decode_array", "encode_array", "prepare", "run_point"]


def encode_array(x: Any) -> list[Any]:
    """A float array as a strict-JSON list (non-finite values as the strings nan / inf / -inf)."""
    out: list[Any] = []
    for v in np.asarray(x, dtype=float).ravel().tolist():
        out.append(
            v if math.isfinite(v) else ("nan" if math.isnan(v) else ("inf" if v > 0 else "-inf"))
        )
    return out


def decode_array(x: list[Any]) -> np.ndarray:
    return np.asarray([float(v) for v in x], dtype=float)


def _batch_seed(seed: int, b: int) -> int:
    if b == 0:
        return seed
    return int(np.random.SeedSequence([seed, b]).generate_state(1)[0] % (2**31 - 1))


def _torch_dtype(name: str):
    import torch

    return {"float64": torch.float64, "float32": torch.float32}[name]


def _build(spec, point, force) -> Ctx:
    from boundcheck import compressors
    from boundcheck.problems import registry as problems

    fam = spec.problem["family"]
    pparams = {k: v for k, v in spec.problem.items() if k != "family"}
    allowed_p = problems.parameters(fam)
    settings: dict[str, Any] = {k: v for k, v in spec.algorithm.items() if k != "name"}
    from boundcheck.check.bindings import algorithm_parameters

    alg_keys = algorithm_parameters(spec.algorithm["name"])
    for k, v in point.items():
        if k in allowed_p:
            pparams[k] = v
        elif k in alg_keys:
            settings[k] = v  # else a binding's own sweep key (e.g. FedPAQ's T or k)
    problem = problems.make(fam, dtype=_torch_dtype(spec.dtype), device=spec.device, **pparams)
    for k, v in list(settings.items()):
        if isinstance(v, dict) and "name" in v:
            settings[k] = compressors.get(v["name"], **{a: b for a, b in v.items() if a != "name"})
    ctx = Ctx(spec=spec, point=dict(point), problem=problem, settings=settings, force=force)
    ctx.batch_kwargs = [{"seed": _batch_seed(spec.seed, b)} for b in range(spec.batches)]
    return ctx


def _resolve(ctx: Ctx, binding, after: bool) -> tuple[dict[str, float], list[dict[str, Any]]]:
    values: dict[str, float] = {}
    out: list[dict[str, Any]] = []
    for name, sym in binding.symbols.items():
        if sym.kind == "measured" or (sym.after_run and not after):
            continue
        prov, src = "chosen", sym.describe()
        if sym.kind == "constant":
            c = ctx.problem.constant(sym.ref)
            v = math.sqrt(c.value) if sym.sqrt else float(c.value)
            prov, src = c.provenance, f"{sym.describe()} ({c.provenance}: {c.how[:120]})"
        elif sym.kind == "setting":
            v = ctx.settings.get(sym.ref)
            if isinstance(v, str) or v is None:
                continue  # resolved by prepare (theorem stepsize, scaling)
            v = float(v)
        elif sym.kind == "fixed":
            v, prov = float(sym.value), "exact"
        else:
            try:
                v, prov, src = sym.fn(ctx)
                v = float(v)
            except (KeyError, TypeError, ValueError):
                if after:
                    raise
                continue  # needs a value that prepare sets (a theorem stepsize)
        values[name] = v
        out.append({"name": name, "value": v, "provenance": prov, "source": src})
    return values, out


def _scalings(ctx: Ctx, thm, values: dict[str, float]) -> None:
    """Settings given as "scaling": the order claim's scaling (e.g. eta_l = 1/(K sqrt(P T)))."""
    if thm.order is None:
        return
    for sym, expr in thm.order.scalings.items():
        if ctx.settings.get(sym.name) == "scaling":
            subs = {s: values[s.name] for s in expr.free_symbols if s.name in values}
            ctx.settings[sym.name] = float(expr.subs(subs).evalf())
    for k, v in ctx.settings.items():
        if v == "scaling":
            raise BoundcheckError(
                f"{ctx.spec.path}: key 'algorithm.{k}': \"scaling\" but {thm.id} has no scaling for {k}"
            )


def _conditions(thm, values: dict[str, float], which: set[str]) -> dict[str, list[str]]:
    """Evaluate every condition whose symbols are all known; names by kind."""
    from boundcheck.theory.evaluate import evaluate_slack, slack_function

    res: dict[str, list[str]] = {
        "stated": [],
        "proof": [],
        "simplified": [],
        "stepsize": [],
        "checked": [],
    }
    for c in thm.conditions:
        names = slack_function(thm, c)[1]
        if c.id in which or not all(n in values for n in names):
            continue
        which.add(c.id)
        s = float(evaluate_slack(thm, c, values))
        if c.is_equality:
            lhs = c.lhs
            scale = abs(values.get(getattr(lhs, "name", ""), 1.0)) or 1.0
            ok = math.isfinite(s) and abs(s) <= 1e-9 * scale
        else:
            ok = math.isfinite(s) and (s > 0 if c.strict else s >= 0)
        res["checked"].append(c.id)
        if not ok:
            res[c.kind.value].append(f"{c.id} ({c.source}): {c.relation}")
    return res


def bound_value(thm, values: dict[str, float], check: dict[str, Any]) -> float:
    """The bound at ``values``; ``check`` may plant a false one (``bound_factor``, ``drop_term``)."""
    from boundcheck.theory.evaluate import evaluate_bound

    if check.get("drop_term"):
        import sympy as sp

        from boundcheck.theory import symbols as S
        from boundcheck.theory.evaluate import sympy_number

        e = thm.expand(thm.bound)
        if e.has(sp.Sum):
            e = e.doit()
        terms = sp.Add.make_args(sp.expand(e)) if check["drop_term"] == "dominant" else ()
        vals = []
        for term in terms:
            subs = {
                S.info(s.name).symbol: sympy_number(s.name, values[s.name])
                for s in term.free_symbols
            }
            vals.append(float(term.subs(subs).evalf()))
        b = sum(vals) - max(vals)
    else:
        b = float(evaluate_bound(thm, values))
    return b * float(check.get("bound_factor", 1.0))


def run_point(task: dict[str, Any]) -> dict[str, Any]:
    """Run one sweep point (see the module docstring); errors become an ``error`` summary."""
    t0 = time.perf_counter()
    try:
        out = _run(task)
    except BoundcheckError as e:
        out = {"error": str(e)}
    except Exception as e:  # a bug or a numerical failure: reported, never a crash of the run
        out = {"error": f"{type(e).__name__}: {e}", "traceback": traceback.format_exc()[-2000:]}
    out["wall_s"] = time.perf_counter() - t0
    return out


@dataclass
class Prepared:
    """A sweep point up to the run: the problem built, the symbols bound, the theorem's stated
    hypotheses evaluated (``outside``: every stated condition, stepsize rule or assumption that
    fails, each as one line). :func:`run_point` continues from here; the search of
    :mod:`boundcheck.check.falsify` uses the same object to decide whether a candidate instance is
    inside the theorem's hypotheses before it evaluates the left-hand side exactly."""

    thm: Any
    binding: Any
    ctx: Ctx
    values: dict[str, float]
    vals_out: list[dict[str, Any]]
    cond: dict[str, list[str]]
    seen: set[str]
    outside: list[str]
    summary: dict[str, Any]


def prepare(task: dict[str, Any]) -> Prepared:
    """Build, bind and check the hypotheses of one point (no run). ``task`` may carry a
    ``theorem`` object (a user's or a planted theorem, used instead of the registry entry) and a
    ``binding`` id (whose binding gives the empirical meaning; default: the spec's theorem)."""
    from boundcheck.theory import registry

    spec, point, force = task["spec"], task["point"], task["force"]
    if spec.theorem_file:  # a user's theorem file: (re-)register it in this worker process
        from boundcheck.check.bindings import user
        from boundcheck.theory import userfile

        user.register(userfile.load_user(spec.theorem_file))
    thm = task.get("theorem") or registry.get(spec.theorem)
    binding = get_binding(task.get("binding") or spec.theorem)
    if binding is None:
        raise BoundcheckError(f"{thm.id}: no binding (no empirical meaning) for {spec.theorem}")
    ctx = _build(spec, point, force)
    ctx.scratch["theorem"] = thm
    if binding.settings_from_point:
        binding.settings_from_point(ctx)
    values, vals_out = _resolve(ctx, binding, after=False)
    _scalings(ctx, thm, values)
    ctx.scratch["pre_values"] = values
    if binding.prepare:
        binding.prepare(ctx)
    values, vals_out = _resolve(ctx, binding, after=False)
    seen: set[str] = set()
    cond = _conditions(thm, values, seen)
    outside = list(cond["stated"]) + list(cond["stepsize"])
    for aid, chk in binding.assumptions.items():
        why = chk(ctx)
        if why:
            outside.append(f"assumption {aid}: {why}")
    for v in vals_out:
        if not math.isfinite(v["value"]):
            outside.append(
                f"{v['name']} = {v['value']} ({v['source']}): the theorem's constant "
                "does not exist for this instance"
            )
    summary: dict[str, Any] = {
        "outside": outside,
        "cond": cond,
        "values": vals_out,
        "notes": ctx.notes,
        "findings": ctx.findings,
        "ran": False,
    }
    return Prepared(thm, binding, ctx, values, vals_out, cond, seen, outside, summary)


def _run(task: dict[str, Any]) -> dict[str, Any]:
    import torch

    from boundcheck.theory.core import Direction

    torch.set_num_threads(1)
    spec, force = task["spec"], task["force"]
    if spec.comparison:  # an empirical comparison claim (QAFeL Figure 3), not a theorem
        from boundcheck.check.comparison import run_comparison

        return run_comparison(task)
    pr = prepare(task)
    thm, binding, ctx, values = pr.thm, pr.binding, pr.ctx, pr.values
    vals_out, cond, seen, outside, summary = pr.vals_out, pr.cond, pr.seen, pr.outside, pr.summary
    if outside and not force:
        return summary
    # --- run ------------------------------------------------------------------------------------
    fn = algorithm_function(spec.algorithm["name"])
    kw = {k: v for k, v in ctx.settings.items() if k != "x0"}
    if ctx.settings.get("x0") is not None:
        kw["x0"] = torch.full((ctx.problem.d,), float(ctx.settings["x0"]), dtype=ctx.problem.dtype)
    for bkw in ctx.batch_kwargs:
        ctx.traces.append(
            fn(
                ctx.problem,
                R=spec.replicas,
                dtype=_torch_dtype(spec.dtype),
                record_x=binding.record_x,
                **kw,
                **bkw,
            )
        )
    summary["ran"] = True
    values, vals_out = _resolve(ctx, binding, after=True)
    summary["values"] = vals_out
    cond2 = _conditions(thm, values, seen)
    for k in cond:
        cond[k] += cond2[k]
    outside += cond2["stated"] + cond2["stepsize"]
    used = [s.ref for s in binding.symbols.values() if s.kind == "constant"]
    why = ball_check(ctx, used)
    if why:
        outside.append(why)
        ctx.findings.append(why)
    for v in vals_out:
        if not math.isfinite(v["value"]) and not any(
            o.startswith(v["name"] + " =") for o in outside
        ):
            outside.append(f"{v['name']} = {v['value']} ({v['source']})")
    # divergence
    div = np.concatenate([tr.diverged_at.detach().cpu().numpy().ravel() for tr in ctx.traces])
    summary["diverged_steps"] = sorted({int(s) for s in div if s >= 0})
    summary["n_diverged"] = int((div >= 0).sum())
    summary["n_replicas"] = int(div.size)
    # lhs
    ctx.scratch["values"] = values
    summary["kind"] = binding.lhs.kind
    summary["estimator_text"] = binding.lhs.text
    if binding.lhs.kind in ("pathwise", "step_mean"):
        return _pathwise_summary(summary, binding.lhs.fn(ctx), ctx)
    lhs = np.asarray(binding.lhs.fn(ctx), dtype=float)
    measured = {n: s for n, s in binding.symbols.items() if s.kind == "measured"}
    if thm.direction is Direction.ORDER or thm.bound is None:
        summary["bound"] = None
    else:
        if measured:
            # the bound is linear in a measured symbol: lhs - c * S per replica vs the rest
            ((mname, msym),) = measured.items()
            S = np.asarray(msym.fn(ctx), dtype=float)
            b0 = bound_value(thm, {**values, mname: 0.0}, spec.check)
            b1 = bound_value(thm, {**values, mname: 1.0}, spec.check)
            b2 = bound_value(thm, {**values, mname: 2.0}, spec.check)
            c = b1 - b0
            if not math.isclose(b2 - b0, 2 * c, rel_tol=1e-9, abs_tol=1e-300):
                raise BoundcheckError(f"{thm.id}: the bound is not linear in {mname}")
            summary["linear"] = {"symbol": mname, "coef": c, "base": b0, "samples": encode_array(S)}
            summary["bound"] = b0 + c * float(np.nanmean(S))
            summary["values"].append(
                {
                    "name": mname,
                    "value": float(np.nanmean(S)),
                    "provenance": "observed",
                    "source": msym.describe() + " (replica mean shown)",
                }
            )
        else:
            summary["bound"] = bound_value(thm, values, spec.check)
    if lhs.ndim == 1:
        summary["samples"] = encode_array(lhs)
    else:
        with np.errstate(all="ignore"):
            m = lhs.mean(axis=1)
            sd = lhs.std(axis=1, ddof=1) if lhs.shape[1] > 1 else np.zeros_like(m)
        summary["rows"] = {"mean": encode_array(m), "sd": encode_array(sd), "R": int(lhs.shape[1])}
        finite = np.where(np.isfinite(m), m, np.inf if binding.lhs.kind == "min_t" else -np.inf)
        i = int(np.argmin(finite) if binding.lhs.kind == "min_t" else np.argmax(finite))
        summary["samples"] = encode_array(lhs[i])
        step = max(1, len(m) // 200)
        summary["curve"] = {
            "t": [float(t) for t in range(0, len(m), step)],
            "mean": encode_array(m[::step]),
        }
    summary["notes"] = ctx.notes
    summary["findings"] = ctx.findings
    return summary


def _pathwise_summary(summary: dict[str, Any], res: dict[str, np.ndarray], ctx: Ctx) -> dict:
    """Lemmas checked at every step: ``pathwise`` on every replica too (no statistics: a single
    replica and step above the bound, beyond rounding, is a violation); ``step_mean`` as
    ``max_t E[lhs_t - bound_t] <= 0`` over the replica means."""
    lhs, bnd, tol = res["lhs"], res["bound"], res["tol"]
    diff = lhs - bnd
    with np.errstate(all="ignore"):
        ratio = np.where(bnd > 0, lhs / bnd, np.where(lhs > 0, np.inf, 0.0))
    summary["bound"] = 1.0
    if summary["kind"] == "pathwise":
        bad = diff > tol
        summary["pathwise"] = {
            "n_checked": int(diff.size),
            "n_violations": int(bad.sum()),
            "first": ([int(i) for i in np.argwhere(bad)[0]] if bad.any() else None),
            "max_ratio": float(np.nanmax(ratio)) if ratio.size else 0.0,
        }
        summary["samples"] = encode_array(np.nanmax(ratio, axis=0))  # per replica, max over t
    else:
        with np.errstate(all="ignore"):
            m = diff.mean(axis=1)
            sd = diff.std(axis=1, ddof=1) if diff.shape[1] > 1 else np.zeros_like(m)
            lm, bm = lhs.mean(axis=1), bnd.mean(axis=1)
            # as in the pathwise branch: 0 <= 0 is ratio 0, not 0/0 (rows before any delay)
            rr = np.where(bm > 0, lm / bm, np.where(lm > 0, np.inf, 0.0))
        summary["rows"] = {"mean": encode_array(m), "sd": encode_array(sd), "R": int(diff.shape[1])}
        summary["samples"] = encode_array(diff[int(np.nanargmax(m))])
        summary["step_ratio"] = float(np.nanmax(rr))
    summary["notes"] = ctx.notes
    summary["findings"] = ctx.findings
    return summary
