"""The bound-versus-measured engine (issue 11): specs -> tasks -> executor -> verdicts.

:func:`run_specs` loads the specs, turns every sweep point into an independent task
(:func:`boundcheck.check.point.run_point`), takes cached results where the content key matches,
runs the rest on an executor, and then computes every statistic and verdict at the run's level:
one-sided tests at ``alpha / n_comparisons`` (Bonferroni over every point that is tested and every
order claim; ``RunResult.n_comparisons``).

Verdicts per point: ``outside hypotheses`` (a stated condition, a prescribed stepsize, a checkable
assumption or a ball-certified constant fails; the point runs only with ``force``), ``diverged``
(a replica holds a non-finite value; the steps are listed), ``error``, and otherwise the one-sided
test of :func:`boundcheck.check.stats.verdict` (``inconclusive`` also when the top 1% of replicas
carry more than half the sum). Conditions that only the proof needs are reported beside the verdict
(``proof_conditions_failing``), never used to excuse a violation.
"""

from __future__ import annotations

import datetime as _dt
import math
import platform
import sys
import time
from typing import Any

import numpy as np

from boundcheck.check import stats
from boundcheck.check.cache import Cache, key_of
from boundcheck.check.executor import TaskFailure, make_executor
from boundcheck.check.point import decode_array, run_point
from boundcheck.check.results import (
    CheckResult,
    PointResult,
    RunResult,
    SymbolValue,
    aggregate_verdict,
)
from boundcheck.check.specs import SCALES, Spec, load_spec, resolve_specs
from boundcheck.errors import ParameterError, SpecError

__all__ = ["calibrate", "calibration_specs", "default_calibration", "run_specs"]


def run_specs(
    specs: list[str] | None = None,
    *,
    scale: str = "default",
    seed: int | None = None,
    replicas: int | None = None,
    device: str | None = None,
    dtype: str | None = None,
    executor: str = "serial",
    jobs: int | None = None,
    force: bool = False,
    cache_dir: str | None = None,
    progress: bool = True,
    alpha: float = 0.05,
    address: str | None = None,
) -> RunResult:
    """Run ``specs`` (file paths or shipped spec ids; ``None`` = every shipped spec) at ``scale``
    ("ci" | "default" | "full"); ``seed``, ``replicas``, ``device``, ``dtype`` override every spec.
    ``cache_dir=None`` uses the user cache directory (``$BOUNDCHECK_CACHE`` or
    ``~/.cache/boundcheck``); ``cache_dir=""`` disables the cache. ``executor`` is ``"serial"``,
    ``"process"`` (``jobs`` local processes) or ``"ray"`` (a local Ray, or the cluster at
    ``address``; ``boundcheck[ray]``): every backend gives the same numbers, and a task that fails
    on every try becomes an ``error`` point (a finding), never a hole in the run."""
    t0 = time.perf_counter()
    if scale not in SCALES:
        raise ParameterError(f"scale {scale!r} is not allowed; allowed: {', '.join(SCALES)}")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ParameterError(f"alpha={alpha!r} is not allowed: expected a number in (0, 1)")
    if replicas is not None and (not isinstance(replicas, int) or replicas < 2):
        raise ParameterError(f"replicas={replicas!r} is not allowed: expected an integer >= 2")
    if seed is not None and (not isinstance(seed, int) or seed < 0):
        raise ParameterError(f"seed={seed!r} is not allowed: expected an integer >= 0")
    loaded = [
        _override(load_spec(p, scale), seed, replicas, device, dtype) for p in resolve_specs(specs)
    ]
    files: dict[str, str] = {}
    for s in loaded:  # users' theorem files: one id, one statement per run
        if s.theorem_file and files.setdefault(s.theorem, s.theorem_file) != s.theorem_file:
            raise SpecError(
                f"{s.theorem_file}: key 'theorem.id': {s.theorem!r} is also the id of "
                f"{files[s.theorem]}; give each theorem file its own id"
            )
    tasks = [{"spec": s, "point": pt, "force": force} for s in loaded for pt in s.points()]
    cache = None if cache_dir == "" else Cache(cache_dir)
    keys = [
        key_of({"spec": t["spec"].content(), "point": t["point"], "force": force}) for t in tasks
    ]
    results: list[Any] = [cache.get(k) if cache else None for k in keys]
    todo = [i for i, r in enumerate(results) if r is None]
    _check_planned_work([tasks[i] for i in todo])
    wants_gpu = any(str(t["spec"].device).startswith("cuda") for t in tasks)
    ex = make_executor(
        executor, jobs, address=address, quiet=not progress, gpus_per_task=1.0 if wants_gpu else 0.0
    )
    try:
        with _Progress(progress, len(todo)) as bar:
            fresh = ex.map(run_point, [tasks[i] for i in todo], on_done=lambda _i: bar.advance())
    finally:
        if hasattr(ex, "shutdown"):
            ex.shutdown()  # a local Ray started for this run stops with it
    for i, r in zip(todo, fresh, strict=True):
        if isinstance(r, TaskFailure):  # raised outside run_point's own guard, or a lost worker
            r = {"error": r.error, "traceback": r.traceback[-2000:]}
        results[i] = r
        if cache and "error" not in r:
            cache.put(keys[i], r)
    run = _assemble(loaded, tasks, results, alpha, force)
    run.wall_s = time.perf_counter() - t0
    run.command = "boundcheck verify " + " ".join(
        [*(specs or []), f"--scale {scale}"]
        + ([f"--seed {seed}"] if seed is not None else [])
        + (["--force"] if force else [])
    )
    run.environment = _environment(loaded, executor)
    return run


def planned_work(spec: Spec, point: dict[str, Any]) -> float:
    """A rough count of the element operations one sweep point plans: replicas x batches x steps x
    dimension x clients (each read from the point, the algorithm settings or the problem; 1 where a
    spec does not say). Used only to refuse a run above ``BOUNDCHECK_WORK_LIMIT``."""

    def num(*vals: Any) -> float:
        for v in vals:
            if isinstance(v, int | float) and not isinstance(v, bool) and v > 0:
                return float(v)
        return 1.0

    prob, alg = spec.problem, spec.algorithm
    target = spec.comparison.get("target", {}) if spec.comparison else {}
    steps = num(point.get("T"), alg.get("T"), target.get("horizon"), point.get("K"))
    return (
        spec.replicas
        * max(spec.batches, 1)
        * steps
        * num(point.get("d"), prob.get("d"))
        * num(point.get("n"), prob.get("n"))
    )


def _check_planned_work(tasks: list[dict[str, Any]]) -> None:
    """Refuse (bad input) a run whose uncached points plan more than ``BOUNDCHECK_WORK_LIMIT``
    element operations, when that variable is set (unset: no limit; a full-scale run may take
    hours on purpose)."""
    import os

    try:
        limit = float(os.environ.get("BOUNDCHECK_WORK_LIMIT", ""))
    except ValueError:
        return
    if not limit > 0:
        return
    work = sum(planned_work(t["spec"], t["point"]) for t in tasks)
    if work > limit:
        raise ParameterError(
            f"the run plans about {work:.2g} operations over {len(tasks)} point(s); the limit is "
            f"{limit:.2g} (BOUNDCHECK_WORK_LIMIT): choose --scale ci, fewer specs or replicas"
        )


def _override(s: Spec, seed, replicas, device, dtype) -> Spec:
    from dataclasses import replace

    ch: dict[str, Any] = {}
    if seed is not None:
        ch["seed"] = seed
    if replicas is not None:
        ch["replicas"] = replicas
    if device is not None:
        ch["device"] = device
    if dtype is not None:
        if dtype not in ("float64", "float32"):
            raise ParameterError(f"dtype {dtype!r} is not allowed; allowed: float64, float32")
        ch["dtype"] = dtype
    return replace(s, **ch) if ch else s


class _Progress:
    """A rich progress bar on stderr (only on a TTY and with ``progress``)."""

    def __init__(self, enabled: bool, total: int):
        self.enabled = enabled and total > 0 and sys.stderr.isatty()
        self.total = total

    def __enter__(self):
        if self.enabled:
            from rich.console import Console
            from rich.progress import Progress

            self.p = Progress(console=Console(stderr=True), transient=True)
            self.p.__enter__()
            self.task = self.p.add_task("sweep points", total=self.total)
        return self

    def advance(self) -> None:
        if self.enabled:
            self.p.advance(self.task)

    def __exit__(self, *exc):
        if self.enabled:
            self.p.__exit__(*exc)
        return False


def _direction(thm) -> str:
    return {
        "upper": "upper",
        "lower": "lower",
        "nonconvergence": "nonconvergence",
        "order": "order",
    }[thm.direction.value]


def _tested(r: dict[str, Any], force: bool) -> bool:
    return (
        "error" not in r
        and r.get("ran")
        and r.get("bound") is not None
        and (force or not r["outside"])
        and not r.get("n_diverged")
    )


def _assemble(loaded: list[Spec], tasks, results, alpha: float, force: bool) -> RunResult:
    from boundcheck.check import comparison
    from boundcheck.theory import registry

    n_cmp = sum(1 for r in results if _tested(r, force))
    n_cmp += sum(
        1
        for s in loaded
        if not s.comparison
        and registry.get(s.theorem).order is not None
        and registry.get(s.theorem).bound is None
    )
    n_cmp += sum(comparison.n_tests(s) for s in loaded if s.comparison)
    n_cmp = max(n_cmp, 1)
    level = alpha / n_cmp
    run = RunResult(alpha=alpha, n_comparisons=n_cmp)
    i = 0
    for s in loaded:
        if s.comparison:
            k = len(s.points())
            run.checks.append(comparison.assemble(s, results[i : i + k], level, alpha))
            i += k
            continue
        thm = registry.get(s.theorem)
        chk = CheckResult(
            spec_id=s.id,
            theorem_id=thm.id,
            source=thm.source,
            paper=thm.paper,
            statement_latex=_latex(thm),
            lhs_text=thm.lhs.text,
            direction=_direction(thm),
            problem=dict(s.problem),
            algorithm=dict(s.algorithm),
            x_axis=s.x_axis,
            seed=s.seed,
            alpha=alpha,
            replicas=s.replicas * s.batches,
            device=s.device,
            dtype=s.dtype,
            command=f"boundcheck verify {s.path} --scale {s.scale} --seed {s.seed}",
        )
        for _pt in s.points():
            t, r = tasks[i], results[i]
            i += 1
            chk.points.append(_point(t["point"], r, thm, level, force, s))
        chk.wall_s = sum(p.wall_s or 0.0 for p in chk.points)
        if thm.bound is None and thm.order is not None:
            _order(chk, thm, level, s)
        chk.verdict = aggregate_verdict([p.verdict for p in chk.points])
        inside = [
            p.ratio
            for p in chk.points
            if p.ratio is not None and p.verdict not in ("outside hypotheses", "error")
        ]
        chk.tightness = max(inside) if inside else None
        for p in chk.points:
            where = ", ".join(
                f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}"
                for k, v in p.point.items()
            )
            if p.verdict == "outside hypotheses":
                chk.findings.append(
                    f"[{where}] outside hypotheses: " + "; ".join(p.failing_conditions)
                )
            if p.n_diverged:
                chk.findings.append(
                    f"[{where}] {p.n_diverged} of {p.n_replicas} replicas diverged "
                    f"(first non-finite at steps {p.diverged_steps[:10]})"
                )
            if p.verdict == "violated" and p.bound is not None:
                if c_kind_pathwise(p):
                    chk.findings.append(f"[{where}] bound violated: {p.estimator}")
                elif chk.direction == "upper":
                    chk.findings.append(
                        f"[{where}] bound violated: measured {_g(p.measured)} (one-sided lower "
                        f"confidence bound {_g(p.ci_low)}) > bound {_g(p.bound)}"
                    )
                else:
                    chk.findings.append(
                        f"[{where}] lower bound violated: measured {_g(p.measured)} (upper "
                        f"confidence bound {_g(p.ci_high)}) < bound {_g(p.bound)}"
                    )
            if p.proof_conditions_failing and p.verdict == "violated":
                chk.findings.append(
                    f"[{where}] the proof needs "
                    + "; ".join(p.proof_conditions_failing)
                    + ", which fails here"
                )
        seen: list[str] = []
        for p in chk.points:
            for n in p.notes:
                if n.startswith("finding: ") and n[9:] not in seen:
                    seen.append(n[9:])
        chk.findings.extend(seen)
        run.checks.append(chk)
    return run


def _g(v: float | None) -> str:
    return "-" if v is None else f"{v:.6g}"


def c_kind_pathwise(p: PointResult) -> bool:
    """A point of a lemma checked step by step (AsyncBC Lemmas 1 and 5): bound 1, no interval."""
    return p.ci_low is None and p.ci_high is None and p.bound == 1.0


def _latex(thm) -> str:
    import sympy as sp

    if thm.bound is None:
        return sp.latex(thm.order.rate) if thm.order else ""
    rel = {"upper": r"\le", "lower": r"\ge", "nonconvergence": r"\ge"}[thm.direction.value]
    return rf"\mathrm{{lhs}} {rel} {sp.latex(thm.bound)}"


def _point(point, r, thm, level, force, spec) -> PointResult:
    p = PointResult(
        point={k: (float(v) if isinstance(v, int | float) else v) for k, v in point.items()}
    )
    p.wall_s = r.get("wall_s")
    if "error" in r:
        p.verdict = "error"
        p.notes.append(r["error"])
        return p
    p.values = [SymbolValue(**v) for v in r["values"]]
    p.failing_conditions = list(r["outside"])
    p.proof_conditions_failing = list(r["cond"]["proof"])
    if r["cond"]["simplified"]:
        p.notes.append(
            "the paper's simplified sufficient form fails (not required): "
            + "; ".join(r["cond"]["simplified"])
        )
    p.notes += list(r.get("notes", []))
    p.notes += ["finding: " + f for f in r.get("findings", [])]
    if not r["ran"]:
        p.verdict = "outside hypotheses"
        return p
    if p.failing_conditions and force:
        p.notes.append("run with --force although outside the hypotheses")
    p.n_replicas = r["n_replicas"]
    p.n_diverged = r["n_diverged"]
    p.diverged_steps = list(r["diverged_steps"])
    p.estimator = r.get("estimator_text", "")
    if r.get("curve"):
        p.curve = {
            "t": r["curve"]["t"],
            "mean": [v if isinstance(v, float) else None for v in r["curve"]["mean"]],
        }
    x = decode_array(r["samples"])
    direction = _direction(thm)
    kind = r["kind"]
    if kind in ("pathwise", "step_mean"):
        return _pathwise_point(p, r, x, level)
    fin = x[np.isfinite(x)]
    if fin.size:
        sp_ = stats.spread(fin)
        p.median, p.q10, p.q90, p.max, p.top_share = (
            sp_["median"],
            sp_["q10"],
            sp_["q90"],
            sp_["max"],
            sp_["top_share"],
        )
    if kind == "mean":
        b = stats.mean_bounds(x, level)
    else:
        rows = r["rows"]
        m, sd, R = decode_array(rows["mean"]), decode_array(rows["sd"]), rows["R"]
        b = _rows_bounds(m, sd, R, level, kind)
    p.measured, p.ci_low, p.ci_high = b.estimate, b.low, b.high
    p.estimator = f"{p.estimator}; {b.method}"
    p.bound = r.get("bound")
    if p.n_diverged:
        p.verdict = "diverged"
        return p
    if p.failing_conditions and not force:
        p.verdict = "outside hypotheses"
        return p
    if p.bound is None:
        p.verdict = "inconclusive"
        return p
    dominated = p.top_share is not None and p.top_share > stats.DOMINANCE and p.n_replicas >= 2
    if dominated:
        p.notes.append(
            f"the largest 1% of replicas carry {p.top_share:.0%} of the sum: "
            "a few replicas dominate the mean"
        )
    lin = r.get("linear")
    if lin is not None:
        S = decode_array(lin["samples"])
        d = stats.mean_bounds(x - lin["coef"] * S, level)
        p.verdict = stats.verdict(d, lin["base"], direction, dominated)
        p.notes.append(
            f"{lin['symbol']} is measured per replica and enters the bound linearly "
            f"(coefficient {lin['coef']:.4g}): tested E[lhs - c {lin['symbol']}] "
            f"against the rest of the bound, {lin['base']:.6g}; confidence bounds of "
            f"the difference: [{d.low:.6g}, {d.high:.6g}]"
        )
    else:
        p.verdict = stats.verdict(b, p.bound, direction, dominated)
    if p.bound and p.measured is not None and math.isfinite(p.bound):
        p.ratio = (
            (p.measured / p.bound)
            if direction == "upper"
            else (p.bound / p.measured if p.measured else None)
        )
    if p.proof_conditions_failing:
        p.notes.append(
            "the proof needs "
            + "; ".join(p.proof_conditions_failing)
            + ", which fails here (reported only)"
        )
    return p


def _pathwise_point(p: PointResult, r: dict[str, Any], x: np.ndarray, level: float) -> PointResult:
    """AsyncBC Lemmas 1 and 5: measured is the largest lhs_t / bound_t (bound 1)."""
    p.bound = 1.0
    if r["kind"] == "pathwise":
        pw = r["pathwise"]
        p.measured = p.ratio = pw["max_ratio"]
        p.estimator = (
            f"{p.estimator}; checked on every replica and step ({pw['n_checked']} "
            "comparisons, no statistics: a pathwise statement); measured = max over "
            "replicas and steps of lhs_t / bound_t"
        )
        fin = x[np.isfinite(x)]
        if fin.size:
            sp_ = stats.spread(fin)
            p.median, p.q10, p.q90, p.max = sp_["median"], sp_["q10"], sp_["q90"], sp_["max"]
        if p.n_diverged:
            p.verdict = "diverged"
        elif p.failing_conditions and not p.notes.count(
            "run with --force although outside the hypotheses"
        ):
            p.verdict = "outside hypotheses"
        elif pw["n_violations"]:
            p.verdict = "violated"
            p.notes.append(
                f"finding: {pw['n_violations']} of {pw['n_checked']} (step, replica) "
                f"pairs exceed the bound; first at row/replica {pw['first']}"
            )
        else:
            p.verdict = "holds"
        return p
    rows = r["rows"]
    m, sd = decode_array(rows["mean"]), decode_array(rows["sd"])
    b = _rows_bounds(m, sd, rows["R"], level, "max_t")
    p.measured = p.ratio = r["step_ratio"]
    p.ci_low, p.ci_high = None, None
    p.estimator = (
        f"{p.estimator}; measured = max_t E[lhs_t] / E[bound_t]; tested "
        f"max_t E[lhs_t - bound_t] <= 0: {b.method}; bounds on the difference "
        f"[{b.low:.4g}, {b.high:.4g}]"
    )
    if p.n_diverged:
        p.verdict = "diverged"
    elif p.failing_conditions and not p.notes.count(
        "run with --force although outside the hypotheses"
    ):
        p.verdict = "outside hypotheses"
    else:
        p.verdict = stats.verdict(b, 0.0, "upper", False)
    return p


def _rows_bounds(m, sd, R, level, kind) -> stats.Bounds:
    """min_t / max_t bounds from per-row means and standard deviations (see stats)."""
    T = len(m)
    q1 = stats.t_quantile(level, R - 1) / math.sqrt(R) if R > 1 else math.inf
    qT = stats.t_quantile(level / T, R - 1) / math.sqrt(R) if R > 1 else math.inf
    with np.errstate(invalid="ignore"):
        if kind == "min_t":
            i = int(np.nanargmin(m))
            return stats.Bounds(
                float(m[i]),
                float(np.nanmin(m - q1 * sd)),
                float(np.nanmin(m + qT * sd)),
                f"min over {T} rows of the replica mean; lower bound min_t LCB_t "
                f"(level alpha), upper bound min_t UCB_t with Bonferroni over the "
                f"{T} rows (one-sided t)",
                i,
            )
        i = int(np.nanargmax(m))
        return stats.Bounds(
            float(m[i]),
            float(np.nanmax(m - qT * sd)),
            float(np.nanmax(m + q1 * sd)),
            f"max over {T} rows of the replica mean; upper bound max_t UCB_t "
            f"(level alpha), lower bound max_t LCB_t with Bonferroni over the "
            f"{T} rows (one-sided t)",
            i,
        )


def claimed_slope(thm) -> float:
    """The claimed exponent of the order claim's variable: the largest exponent among its terms
    after the scalings (the slowest-decaying term), computed numerically at generic values."""
    import sympy as sp

    o = thm.order
    out = -math.inf
    for term in o.terms:
        e = term
        subs = {s: sp.Float(1.37) for s in e.free_symbols if s != o.variable}
        e = e.subs(subs)
        a = float(e.subs(o.variable, sp.Float(1e12)).evalf())
        b = float(e.subs(o.variable, sp.Float(1e13)).evalf())
        out = max(out, math.log(b / a) / math.log(10.0))
    return round(out, 6)


def _order(chk: CheckResult, thm, level: float, spec: Spec) -> None:
    """Order claim: the fitted log-log slope of the measured mean against the claimed slope."""
    claimed = spec.check.get("claimed_slope")
    claimed = float(claimed) if claimed is not None else claimed_slope(thm)
    pts = [
        p
        for p in chk.points
        if p.verdict not in ("outside hypotheses", "error", "diverged")
        and p.measured is not None
        and p.measured > 0
    ]
    if len(pts) < 2:
        chk.order = {
            "claimed_slope": claimed,
            "fitted_slope": None,
            "ci": None,
            "verdict": "inconclusive",
            "note": "fewer than two usable points",
        }
        return
    x = [p.point[chk.x_axis] for p in pts]
    y = [p.measured for p in pts]
    se = [
        max((p.ci_high - p.measured), 1e-300)
        / max(stats.t_quantile(level, max(p.n_replicas - 1, 1)), 1e-12)
        if p.ci_high is not None and math.isfinite(p.ci_high)
        else p.measured
        for p in pts
    ]
    fit = stats.fit_slope(x, y, se, level)
    # An O(.) claim is asymptotic: over a finite range a slower decay cannot refute it (the
    # constant is free), so a slope above the claim is reported, never called "violated".
    v = "holds" if fit["high"] <= claimed else "inconclusive"
    chk.order = {
        "claimed_slope": claimed,
        "fitted_slope": fit["slope"],
        "ci": [fit["low"], fit["high"]],
        "verdict": v,
        "method": "weighted least squares of log(mean) on log(" + chk.x_axis + "), "
        "delta-method standard errors, one-sided normal bounds at the run's "
        "corrected level; holds when the upper bound on the slope is at most "
        "the claimed slope, inconclusive otherwise",
    }
    for p in pts:
        p.verdict = v
    if fit["low"] > claimed:
        chk.order["note"] = (
            f"over {chk.x_axis} in [{min(x):g}, {max(x):g}] the measured mean decays slower than "
            f"the claimed rate (slope {fit['slope']:.3f}, lower bound {fit['low']:.3f} > "
            f"{claimed:g}); an asymptotic O(.) claim is not refuted by a finite range"
        )


def _environment(loaded: list[Spec], executor: str) -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    env: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "executor": executor,
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    for pkg in ("boundcheck", "torch", "numpy", "scipy", "sympy"):
        try:
            env[pkg] = version(pkg)
        except PackageNotFoundError:  # pragma: no cover
            env[pkg] = None
    env["devices"] = sorted({s.device for s in loaded})
    env["dtypes"] = sorted({s.dtype for s in loaded})
    return env


# --- calibration --------------------------------------------------------------------------------
def calibrate(
    spec: str,
    *,
    seeds: int = 50,
    scale: str = "ci",
    alpha: float = 0.05,
    cache_dir: str | None = "",
    executor: str = "serial",
    jobs: int | None = None,
) -> dict[str, Any]:
    """How often the engine calls a true bound and two planted false ones violated.

    Runs ``spec`` over ``seeds`` seeds: as published, with the bound moved by a factor 2 towards
    the measured side (x 0.5 for an upper bound, x 2 for a lower one), and, for an upper bound,
    with its dominant term dropped (``[check] bound_factor`` / ``drop_term``). Returns the rates
    per point (``false_alarm``: the true bound called violated; ``power_half`` / ``power_drop``:
    the planted bounds called violated), for ``RunResult.calibration`` (see
    :func:`default_calibration`). The planted bounds are false only where the true one is tight
    enough (ratio > 0.5 for the factor): use the calibration subjects."""
    import tempfile
    from pathlib import Path

    base = load_spec(resolve_specs([spec])[0], scale)
    if base.comparison:
        raise ParameterError(
            f"calibrate {spec}: a comparison claim ({base.theorem}) has no bound to plant; "
            "allowed: a theorem's spec (plant a claimed range with [check] claimed = ...)"
        )
    text = Path(base.path).read_text()
    rates: dict[str, Any] = {
        "spec": base.id,
        "theorem": base.theorem,
        "seeds": seeds,
        "alpha": alpha,
        "scale": scale,
    }
    with tempfile.TemporaryDirectory() as tmp:
        from boundcheck.theory import registry

        upper = registry.get(base.theorem).direction.value == "upper"
        # a planted false bound moves the true one towards the measured side: x 0.5 for an upper
        # bound, x 2 for a lower bound; dropping the dominant term only falsifies an upper bound
        variants = {"true": "", "half": f"bound_factor = {0.5 if upper else 2.0}\n"}
        if upper:
            variants["drop"] = 'drop_term = "dominant"\n'
        for name, extra in variants.items():
            p = Path(tmp) / f"{base.id}_{name}.toml"
            p.write_text(_with_check(text, extra))
            calls = []
            for sd in range(seeds):
                rr = run_specs(
                    [str(p)],
                    scale=scale,
                    seed=sd,
                    alpha=alpha,
                    cache_dir=cache_dir,
                    progress=False,
                    executor=executor,
                    jobs=jobs,
                )
                calls.append([pt.verdict for pt in rr.checks[0].points])
            viol = np.mean([[v == "violated" for v in c] for c in calls], axis=0)
            rates[{"true": "false_alarm", "half": "power_half", "drop": "power_drop"}[name]] = [
                float(v) for v in viol
            ]
    return rates


def _with_check(text: str, extra: str) -> str:
    if not extra:
        return text
    if "\n[check]\n" in text:
        return text.replace("\n[check]\n", "\n[check]\n" + extra, 1)
    # a table must come after every top-level key: append at the end
    return text.rstrip("\n") + "\n\n[check]\n" + extra


def calibration_specs() -> list[str]:
    """The shipped calibration subjects (``problems/calibration/*.toml``): true bounds that are
    tight enough for the planted false ones to be false."""
    from boundcheck.check.specs import shipped_specs

    d = [p.parent / "calibration" for p in shipped_specs()[:1]]
    return sorted(str(p) for p in d[0].glob("*.toml")) if d else []


def default_calibration(seeds: int = 50, **kw: Any) -> dict[str, Any]:
    """:func:`calibrate` over every calibration subject; the dict ``RunResult.calibration`` holds:
    per subject the rates, ``false_alarm`` per subject (max over points; a subject whose bound holds
    with equality shows about alpha, one with slack 0) and ``power`` (min over subjects, points and
    planted kinds)."""
    subjects = [calibrate(s, seeds=seeds, **kw) for s in calibration_specs()]
    fa = {r["spec"]: max(r["false_alarm"]) for r in subjects}
    power = min(min(r[k]) for r in subjects for k in ("power_half", "power_drop") if k in r)
    return {
        "subjects": subjects,
        "false_alarm": fa,
        "power": power,
        "seeds": seeds,
        "planted": "upper bounds: x 0.5 and the dominant term dropped; lower bounds: x 2",
    }
