"""``boundcheck falsify``: search a theorem's hypotheses for the instance that breaks it (issue 13).

:func:`falsify` maximises ``measured / bound`` (``bound / measured`` for a lower bound) over
everything the theorem's *stated* hypotheses leave free, with SciPy's differential evolution (a
well-kept derivative-free optimiser; the objective is ``-log ratio``), and certifies the best
instance with two independent witnesses.

**Search space** (a plain dict, so that it can come from a ``[search]`` TOML table; the shipped
theorems declare theirs in :mod:`boundcheck.check.bindings.search`)::

    {
      "spec": "fedpaq_thm2",          # a shipped spec id (its CI scale), or a spec table (dict)
      "binding": "fedpaq.thm2",       # optional: whose empirical meaning (default: the theorem)
      "replicas": 64,                 # Monte Carlo replicas per candidate (default 32)
      "set": {"problem.L": 1.0},      # dotted keys fixed over the search
      "free": {                       # dotted keys searched, each with its range
        "problem.d": {"int": [1, 4]},
        "problem.mu": {"log": [1e-3, 1.0]},
        "algorithm.x0": {"float": [-3.0, 3.0]},
        "algorithm.quantizer": {"choice": ["none", {"name": "randk_unbiased", "k": 1}]},
        "sweep.T": {"int": [2, 40]}
      },
      "require": ["proof_eta_ge_1_2T"]  # optional: conditions of another kind that the
    }                                    # statement makes hypotheses (a reading; see below)

Dotted keys name a spec entry: ``problem.<param>``, ``algorithm.<setting>``, ``sweep.<key>`` (one
value: the point), ``check.<option>``, or a top-level key (``batches``). ``"none"`` removes a key
(e.g. no quantizer). ``require`` lists conditions that the theorem's *statement* makes
hypotheses although the encoding records them with another kind (a regime named in the
statement, recorded as a proof condition): a candidate that fails one is outside. It is a
reading, recorded in the space and in the result; without it the search uses the stated
conditions alone, exactly as ``boundcheck verify`` does.

**Hypotheses are constraints.** Every candidate goes through the engine's own
:func:`boundcheck.check.point.prepare` -- the same code that decides, in ``boundcheck verify``,
whether a point is inside the theorem: its stated conditions and stepsize rule, its assumptions
that code can decide, every constant finite -- and, for the Monte Carlo path, the engine's run
(:func:`~boundcheck.check.point.run_point`), which adds the conditions known only after the run
(measured ``tau_max``, ball membership). A candidate outside is never reported; it scores worst.

**Left-hand side.** Exact, by moment propagation (:mod:`boundcheck.check.moments`), where the
instance allows it (:data:`EXACT`: FedPAQ Theorems 1-2 with identity or rand-k quantizers on
quadratics; AsyncBC Theorem 3 and its variance identity (SARAH); AsyncBC Theorems 1-2 and their
eta-forms averaged over every random Section 5 schedule where at most :data:`ASYNC_MAX_PATHS`
client-choice sequences exist); elsewhere the engine's batched Monte Carlo run, whose replica mean
is the estimate. A candidate whose left-hand side and bound are both below
:data:`ROUNDING_FLOOR` is float64 rounding: it neither breaks nor confirms the bound.

**Certificate.** For the best instance: every number of it, every stated hypothesis evaluated there,
the exact value (or the Monte Carlo value with its one-sided interval), the bound, and a replay of
the same instance through the batched implementation (:mod:`boundcheck.algorithms`, via the engine)
with a fresh seed and more replicas. Verdicts: ``violated`` -- the exact value exceeds the bound
beyond rounding (relative ``1e-9``) and the replay's interval agrees with it, or (Monte Carlo) the
replay's one-sided confidence bound at level ``alpha`` lies beyond the bound (for a pathwise
lemma: a replay replica breaks it); ``holds`` -- no candidate broke the bound (within the budget:
a search, not a proof); ``inconclusive`` otherwise. Where the exact expectation exceeds the bound
but the replay's median and quantiles lie below it, the certificate says so and gives the
probability mass (the fraction of replicas above the bound, and the share of the mean they carry).
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from boundcheck.check.bindings import search
from boundcheck.errors import BoundcheckError, ParameterError

__all__ = [
    "EXACT",
    "FalsifyResult",
    "evaluate_candidate",
    "falsifiable_ids",
    "falsify",
    "falsify_summary",
    "file_space",
    "parse_space",
]

#: relative rounding allowance of an exact (float64 moment) comparison
EXACT_RTOL = 1e-9
#: absolute level below which a left-hand side and its bound are float64 rounding: the search
#: spaces use O(1) data (L = 1, starts and centres O(1)), and an iterate that converged to x* to
#: machine precision gives ||x - x*||^2 ~ 1e-32; such a candidate can neither break nor confirm
ROUNDING_FLOOR = 1e-20
_BAD = 1e3  # objective of a candidate outside the hypotheses (ratio e^-1000)
_RANGE_KINDS = ("int", "logint", "float", "log", "choice")


# --- the search space -----------------------------------------------------------------------
@dataclass(frozen=True)
class _Dim:
    key: str
    kind: str
    lo: float = 0.0
    hi: float = 1.0
    choices: tuple[Any, ...] = ()

    def value(self, u: float) -> Any:
        u = min(max(float(u), 0.0), 1.0)
        if self.kind == "choice":
            return copy.deepcopy(
                self.choices[min(int(u * len(self.choices)), len(self.choices) - 1)]
            )
        if self.kind == "int":
            return int(min(self.hi, math.floor(self.lo + u * (self.hi - self.lo + 1))))
        if self.kind == "logint":
            lo, hi = math.log(self.lo), math.log(self.hi + 1)
            v = math.floor(math.exp(lo + u * (hi - lo)) * (1 + 1e-12))  # exp(log 5) = 4.99...
            return int(max(self.lo, min(self.hi, v)))
        if self.kind == "log":
            v = math.exp(math.log(self.lo) + u * (math.log(self.hi) - math.log(self.lo)))
            return float(max(self.lo, min(self.hi, v)))
        return float(self.lo + u * (self.hi - self.lo))


@dataclass
class Space:
    """A parsed search space (:func:`parse_space`)."""

    base: dict[str, Any]
    set: dict[str, Any]
    dims: list[_Dim]
    replicas: int
    binding: str | None
    raw: dict[str, Any]
    require: list[str] = field(default_factory=list)


def _spec_raw(spec: Any) -> dict[str, Any]:
    """A shipped spec id (CI scale) or a spec table -> the raw spec dict (no ``scale``)."""
    from boundcheck.check import specs as S

    if isinstance(spec, Mapping):
        raw = copy.deepcopy(dict(spec))
    elif isinstance(spec, str):
        (path,) = S.resolve_specs([spec])
        try:
            raw = S.tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, S.tomllib.TOMLDecodeError) as e:
            raise ParameterError(f"search space: spec {spec!r} cannot be read: {e}") from None
    else:
        raise ParameterError(
            f"search space: 'spec' = {spec!r} is not allowed: expected a shipped spec id or a table"
        )
    over = raw.pop("scale", {}).get("ci", {})
    return S._merge(raw, over)


def parse_space(space: Mapping[str, Any]) -> Space:
    """Validate a search-space dict (module docstring); :class:`ParameterError` names the value."""
    if not isinstance(space, Mapping):
        raise ParameterError(f"search space {space!r} is not allowed: expected a table")
    allowed = {"spec", "binding", "replicas", "set", "free", "require"}
    for k in space:
        if k not in allowed:
            raise ParameterError(
                f"search space key {k!r} is not allowed; allowed: {', '.join(sorted(allowed))}"
            )
    if "spec" not in space:
        raise ParameterError("search space: key 'spec' is missing (a shipped spec id or a table)")
    base = _spec_raw(space["spec"])
    replicas = space.get("replicas", 32)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or replicas < 2:
        raise ParameterError(f"search space: replicas={replicas!r} is not allowed: an integer >= 2")
    sets = space.get("set", {})
    free = space.get("free", {})
    for name, tab in (("set", sets), ("free", free)):
        if not isinstance(tab, Mapping):
            raise ParameterError(
                f"search space: {name!r} = {tab!r} is not allowed: expected a table"
            )
    dims = []
    for key, rng in free.items():
        _check_key(key)
        if not isinstance(rng, Mapping) or len(rng) != 1 or next(iter(rng)) not in _RANGE_KINDS:
            raise ParameterError(
                f"search space: free.{key} = {rng!r} is not allowed: expected one of "
                + ", ".join(f"{{{k} = [...]}}" for k in _RANGE_KINDS)
            )
        ((kind, vals),) = rng.items()
        if kind == "choice":
            if not isinstance(vals, (list, tuple)) or not vals:
                raise ParameterError(
                    f"search space: free.{key}.choice = {vals!r}: a non-empty list"
                )
            dims.append(_Dim(key, kind, choices=tuple(vals)))
            continue
        ok = (
            isinstance(vals, (list, tuple))
            and len(vals) == 2
            and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals)
            and all(math.isfinite(v) for v in vals)
            and vals[0] <= vals[1]
            and (kind not in ("log", "logint") or vals[0] > 0)
            and (kind not in ("int", "logint") or all(float(v).is_integer() for v in vals))
        )
        if not ok:
            what = {"log": "positive ", "int": "integer ", "logint": "positive integer "}.get(
                kind, ""
            )
            raise ParameterError(
                f"search space: free.{key}.{kind} = {vals!r} is not allowed: expected [lo, hi] "
                f"with {what}finite lo <= hi"
            )
        dims.append(_Dim(key, kind, float(vals[0]), float(vals[1])))
    for key in sets:
        _check_key(key)
    require = space.get("require", [])
    if not isinstance(require, (list, tuple)) or not all(isinstance(r, str) for r in require):
        raise ParameterError(f"search space: require={require!r} is not allowed: condition ids")
    binding = space.get("binding")
    if binding is not None and not isinstance(binding, str):
        raise ParameterError(f"search space: binding={binding!r} is not allowed: a theorem id")
    return Space(
        base, dict(sets), dims, int(replicas), binding, copy.deepcopy(dict(space)), list(require)
    )


_SECTIONS = ("problem", "algorithm", "sweep", "check")
_TOPS = ("batches", "seed", "replicas", "dtype")


def _check_key(key: Any) -> None:
    if not isinstance(key, str):
        raise ParameterError(f"search space key {key!r} is not allowed: a dotted string")
    head, _, rest = key.partition(".")
    if (head in _SECTIONS and rest) or (key in _TOPS):
        return
    raise ParameterError(
        f"search space key {key!r} is not allowed: expected problem.X, algorithm.X, sweep.X, "
        f"check.X or one of {', '.join(_TOPS)}"
    )


def _assign(raw: dict[str, Any], key: str, value: Any) -> None:
    head, _, rest = key.partition(".")
    if not rest:
        raw[head] = value
        return
    if head == "sweep":
        if isinstance(value, str) and value == "none":
            raw.setdefault("sweep", {}).pop(rest, None)
        else:
            raw.setdefault("sweep", {})[rest] = [value]
        return
    tab = raw.setdefault(head, {})
    if isinstance(value, str) and value == "none":
        tab.pop(rest, None)
    else:
        tab[rest] = value


def _candidate_raw(sp: Space, assign: Mapping[str, Any], seed: int, replicas: int) -> dict:
    raw = copy.deepcopy(sp.base)
    sweep_keys = [k for k in list(sp.set) + [d.key for d in sp.dims] if k.startswith("sweep.")]
    if sweep_keys:
        raw["sweep"] = {}
    else:  # no swept key searched: the spec's first point
        raw["sweep"] = {k: [v[0]] for k, v in raw.get("sweep", {}).items()}
    for k, v in sp.set.items():
        _assign(raw, k, v)
    for k, v in assign.items():
        _assign(raw, k, v)
    raw["seed"] = int(seed)
    raw["replicas"] = int(replicas)
    raw.pop("title", None)
    return raw


def _spec_of(raw: dict[str, Any], name: str):
    from boundcheck.check.specs import _validate

    return _validate(name, name, raw, "ci")


# --- evaluating one candidate ---------------------------------------------------------------
def _direction(thm) -> str:
    return "upper" if thm.direction.value == "upper" else "lower"


def _ratio(lhs: float, bound: float, direction: str) -> float:
    num, den = (lhs, bound) if direction == "upper" else (bound, lhs)
    if not (math.isfinite(num) or math.isnan(num)) and num > 0:
        return math.inf
    if den > 0:
        return num / den
    return math.inf if num > 0 else 0.0


def _hypotheses(pr) -> list[dict[str, Any]]:
    """Every condition and checkable assumption of the theorem at the candidate."""
    from boundcheck.theory.evaluate import evaluate_slack, slack_function

    out = []
    for c in pr.thm.conditions:
        names = slack_function(pr.thm, c)[1]
        row: dict[str, Any] = {
            "id": c.id,
            "kind": c.kind.value,
            "source": c.source,
            "relation": str(c.relation),
        }
        if all(n in pr.values for n in names):
            s = float(evaluate_slack(pr.thm, c, pr.values))
            row["slack"] = s
            row["holds"] = c.id in pr.cond["checked"] and not any(
                line.startswith(c.id + " ")
                for k in pr.cond
                if k != "checked"
                for line in pr.cond[k]
            )
        else:
            row["slack"] = None
            row["holds"] = None  # needs a value known only after the run
        out.append(row)
    for aid, chk in pr.binding.assumptions.items():
        why = chk(pr.ctx)
        out.append({"id": aid, "kind": "assumption", "holds": why is None, "why": why or ""})
    return out


def _recheck(pr, vals: dict[str, float], require: Any) -> list[str]:
    """The stated conditions and stepsize rules (and the space's required ones) at ``vals``:
    where an exact evaluation replaces a value (the ``tau_max`` over all schedules), the
    hypotheses are checked again at it, with the engine's own condition check."""
    from boundcheck.check.point import _conditions

    if not any(vals.get(k) != pr.values.get(k) for k in vals):
        return []
    res = _conditions(pr.thm, vals, set())
    out = list(res["stated"]) + list(res["stepsize"])
    req = set(require)
    out += [line for line in res["proof"] + res["simplified"] if line.split(" ")[0] in req]
    return out


def _required(pr, ids: Any) -> list[str]:
    """The search space's ``require``: conditions (by id) the theorem's statement makes
    hypotheses although they are encoded with another kind (e.g. a regime the statement names
    but the encoding records as a proof condition); each that fails, as one line."""
    from boundcheck.theory.evaluate import evaluate_slack, slack_function

    out = []
    conds = {c.id: c for c in pr.thm.conditions}
    for cid in ids:
        c = conds.get(cid)
        if c is None:
            raise ParameterError(
                f"search space: require {cid!r} is not a condition of {pr.thm.id}; its conditions: "
                + ", ".join(conds)
            )
        if not all(n in pr.values for n in slack_function(pr.thm, c)[1]):
            continue
        s = float(evaluate_slack(pr.thm, c, pr.values))
        if not (math.isfinite(s) and (s > 0 if c.strict else s >= 0)):
            out.append(f"{c.id} ({c.source}): {c.relation} [required by the search space]")
    return out


def _violation(pr) -> float:
    """How far outside the hypotheses a candidate lies (guides the search back inside): the sum
    of the relative violations of the failed stated conditions and stepsize rules, plus one per
    failed assumption or undefined constant."""
    from boundcheck.theory.evaluate import check_conditions

    total = float(sum(o.split(" ")[0] not in {c.id for c in pr.thm.conditions} for o in pr.outside))
    try:
        for r in check_conditions(pr.thm, pr.values):
            required = any(o.startswith(r.condition.id + " ") for o in pr.outside)
            if (r.condition.kind.value in ("stated", "stepsize") or required) and not r.holds:
                m = abs(r.relative_margin)
                total += min(m, 10.0) if math.isfinite(m) else 10.0
    except Exception:  # a condition that cannot be evaluated here: counted once
        total += 1.0
    return total


def _exact_fedpaq2(pr) -> dict[str, float]:
    from boundcheck.check import moments as M
    from boundcheck.check.bindings.base import start_point

    s = pr.ctx.settings
    K, tau = int(s["K"]), int(s["tau"])
    _, bar = M.fedpaq_moments(
        pr.ctx.problem, K=K, tau=tau, r=int(s["r"]), eta=float(s["eta"]),
        quantizer=s.get("quantizer"), x0=start_point(pr.ctx),
    )  # fmt: skip
    q = M.quad_problem(pr.ctx.problem).full()
    return {"lhs": float(np.mean(bar.grad_norm_sq(q)[: K * tau]))}


def _exact_fedpaq1(pr) -> dict[str, float]:
    from boundcheck.check import moments as M
    from boundcheck.check.bindings.base import start_point

    s = pr.ctx.settings
    K, tau = int(s["K"]), int(s["tau"])
    eta = s["eta"]
    etas = [float(eta(k)) for k in range(K)] if callable(eta) else float(eta)
    xs, _ = M.fedpaq_moments(
        pr.ctx.problem, K=K, tau=tau, r=int(s["r"]), eta=etas, quantizer=s.get("quantizer"),
        x0=start_point(pr.ctx),
    )  # fmt: skip
    xstar = np.asarray(pr.ctx.problem.x_star_np, dtype=float)
    dist = xs.dist_sq(xstar)
    k0 = int(pr.ctx.scratch["k0"])
    return {"lhs": float(dist[K]), "D_k0": float(dist[k0])}


def _exact_sarah(pr) -> dict[str, float]:
    from boundcheck.check import moments as M
    from boundcheck.check.bindings.base import start_point

    s = pr.ctx.settings
    T = int(s["T"])
    rows = M.sarah_moments(
        pr.ctx.problem, T=T + 1, eta=float(s["eta"]), x0=start_point(pr.ctx),
        stochastic=bool(s.get("stochastic", False)), sampling=s.get("sampling", "shared"),
    )  # fmt: skip
    return {"lhs": float(np.trace(rows.second[-1]))}


#: at most this many client-choice sequences are enumerated for an exact AsyncBC expectation
ASYNC_MAX_PATHS = 4096


def _exact_asyncbc(pr) -> dict[str, float]:
    """AsyncBC Theorems 1-2 (and their eta-forms): ``1/T sum_{t<T} E||grad f(x_t)||^2`` averaged
    exactly over the random Section 5 schedules (every client-choice sequence enumerated,
    :func:`~boundcheck.check.moments.random_schedule_moments`), with ``tau_max`` the largest
    staleness over *all* of them -- applied and still in flight, measured as the binding measures a
    batch (Assumption 3 bounds every schedule's delays). With the stated stepsize (``"theorem"``)
    only where that ``tau_max`` is the one the engine's sampled schedules give (the replay then
    runs the same stepsize); otherwise Monte Carlo."""
    import itertools

    from boundcheck.algorithms import asyncbc as A
    from boundcheck.algorithms.async_sim import ScheduleBatch, _asyncbc_lockstep
    from boundcheck.check import moments as M
    from boundcheck.check.bindings.asyncbc import _stated_eta
    from boundcheck.check.bindings.base import start_point

    ctx = pr.ctx
    s = ctx.settings
    n, T, tau_C = ctx.problem.n, int(s["T"]), int(s["tau_C"])
    paths = math.perm(n, tau_C) * n ** max(T - 2, 0)
    if paths > ASYNC_MAX_PATHS:
        raise ParameterError(f"{paths} client-choice sequences: Monte Carlo instead")
    busy, tau = s.get("busy", "queue"), float(s.get("tau", 10.0))
    firsts, news = [], []
    for first in itertools.permutations(range(n), tau_C):
        for picks in itertools.product(range(n), repeat=max(T - 2, 0)):
            w = np.zeros(T, dtype=np.int64)
            w[: len(picks)] = picks
            firsts.append(first)
            news.append(w)
    speed = (np.arange(1, n + 1) * tau) / n
    cl, rv, _, _ = _asyncbc_lockstep(speed, np.array(firsts), np.array(news), T, busy)
    P = len(firsts)
    batch = ScheduleBatch(
        kind="asyncbc-speeds", n=n, K=1, T=T, R=P, client=cl, read_version=rv,
        applied_step=np.arange(1, T + 1), first_step=1,
    )  # fmt: skip
    steps = T - 1
    st = batch.staleness[:, :steps]
    in_flight = A._in_flight_tau(batch, steps, tau_C, last_version=steps + 1)
    tau_max = max(int(st.max()) if steps else 0, int(in_flight.max()))
    ctx.scratch["tau_max"] = tau_max
    eta = ctx.spec.algorithm.get("eta")
    if eta == "theorem" and tau_max != pr.values.get("tau_max"):
        # the stated stepsize at the tau_max of all schedules differs from the one the batched
        # replay would use (its sampled schedules' tau_max): no common instance, Monte Carlo
        raise ParameterError("the stated stepsize depends on the sampled tau_max")
    eta = _stated_eta(ctx) if eta == "theorem" else float(s["eta"])
    method = "asyncbc"
    rows = M.random_schedule_moments(
        ctx.problem, method=method, T=T, eta=eta, tau_C=tau_C, tau=tau, busy=busy,
        x0=start_point(ctx), stochastic=ctx.spec.algorithm["name"] == "asyncbc_sgd",
        sampling=s.get("sampling", "shared"), max_paths=ASYNC_MAX_PATHS,
    )  # fmt: skip
    q = M.quad_problem(ctx.problem).full()
    return {"lhs": float(np.mean(rows.grad_norm_sq(q)[:T])), "tau_max": float(tau_max), "eta": eta}


#: binding id -> exact left-hand side (and measured symbols) by moment propagation
EXACT: dict[str, Callable[[Any], dict[str, float]]] = {
    "fedpaq.thm1": _exact_fedpaq1,
    "fedpaq.thm2": _exact_fedpaq2,
    "asyncbc.thm3": _exact_sarah,
    "asyncbc.thm3_var": _exact_sarah,
    **{
        t: _exact_asyncbc
        for t in ("asyncbc.thm1", "asyncbc.thm1_eta", "asyncbc.thm2", "asyncbc.thm2_eta")
    },
}


def _rounding(lhs: float, bound: float) -> dict[str, Any]:
    return {
        "status": "rounding",
        "outside": [
            f"lhs {lhs:.3g} and bound {bound:.3g} are below the rounding floor {ROUNDING_FLOOR:g}"
        ],
    }


def _mc_estimate(summary: dict[str, Any], direction: str) -> tuple[float, float]:
    """(lhs estimate, bound) from a run_point summary."""
    from boundcheck.check.point import decode_array

    kind = summary.get("kind")
    if kind == "pathwise":
        return float(summary["pathwise"]["max_ratio"]), 1.0
    if kind == "step_mean":
        return float(summary["step_ratio"]), 1.0
    x = decode_array(summary["samples"])
    return float(np.mean(x)), float(summary["bound"])


def evaluate_candidate(task: dict[str, Any]) -> dict[str, Any]:
    """Evaluate one candidate (a picklable task: ``spec``, ``point``, optional ``theorem`` object
    and ``binding`` id, ``exact``): ``status`` ``ok`` / ``outside`` / ``error``, and for ``ok`` the
    left-hand side, the bound, the ratio and the ``method`` (``exact`` or ``monte carlo``)."""
    from boundcheck.check.point import bound_value, prepare, run_point

    t0 = time.perf_counter()
    base = {"spec": task["spec"], "point": task["point"], "force": False}
    for k in ("theorem", "binding"):
        if task.get(k) is not None:
            base[k] = task[k]
    try:
        pr = prepare(base)
    except BoundcheckError as e:
        return {"status": "outside", "outside": [str(e)], "wall_s": time.perf_counter() - t0}
    except Exception as e:  # a numerical failure of a candidate: never a crash of the search
        return {"status": "error", "error": f"{type(e).__name__}: {e}"}
    direction = _direction(pr.thm)
    if pr.thm.bound is None or pr.thm.direction.value == "order":
        return {"status": "error", "error": f"{pr.thm.id} has no explicit bound to falsify"}
    outside = list(pr.outside) + _required(pr, task.get("require", ()))
    if outside:
        pr.outside = outside
        return {
            "status": "outside",
            "outside": pr.outside,
            "violation": _violation(pr),
            "wall_s": time.perf_counter() - t0,
        }
    exact_fn = EXACT.get(pr.binding.theorem) if task.get("exact", True) else None
    if exact_fn is not None:
        try:
            ex = exact_fn(pr)
        except (BoundcheckError, AttributeError, TypeError):
            ex = None  # not a linear instance (a QSGD quantizer, a non-quadratic problem): MC
        if ex is not None:
            vals = {**pr.values, **{k: v for k, v in ex.items() if k != "lhs"}}
            again = _recheck(pr, vals, task.get("require", ()))
            if again:  # the exact tau_max (all schedules) moved the candidate outside
                return {"status": "outside", "outside": again, "violation": float(len(again))}
            b = bound_value(pr.thm, vals, pr.ctx.spec.check)
            if max(abs(ex["lhs"]), abs(b)) < ROUNDING_FLOOR:
                return _rounding(ex["lhs"], b)
            return {
                "status": "ok",
                "method": "exact",
                "lhs": ex["lhs"],
                "bound": b,
                "measured_symbols": {k: v for k, v in ex.items() if k != "lhs"},
                "ratio": _ratio(ex["lhs"], b, direction),
                "wall_s": time.perf_counter() - t0,
            }
    summ = run_point(base)
    if summ.get("error") and "traceback" not in summ:  # bad input for this instance
        return {"status": "outside", "outside": [summ["error"]], "wall_s": summ["wall_s"]}
    if summ.get("error"):
        return {"status": "error", "error": summ["error"]}
    if summ.get("outside"):
        return {"status": "outside", "outside": summ["outside"], "wall_s": summ["wall_s"]}
    if summ.get("n_diverged"):
        return {"status": "error", "error": f"{summ['n_diverged']} replicas diverged"}
    lhs, b = _mc_estimate(summ, direction)
    if math.isnan(lhs) or math.isnan(b):
        return {"status": "error", "error": f"lhs {lhs} or bound {b} is not a number"}
    if summ.get("kind") not in ("pathwise", "step_mean") and max(abs(lhs), abs(b)) < ROUNDING_FLOOR:
        return _rounding(lhs, b)
    return {
        "status": "ok",
        "method": "monte carlo",
        "lhs": lhs,
        "bound": b,
        "ratio": _ratio(lhs, b, direction)
        if summ.get("kind") not in ("pathwise", "step_mean")
        else lhs,
        "summary": summ,
        "wall_s": summ.get("wall_s", time.perf_counter() - t0),
    }


# --- the result -----------------------------------------------------------------------------
@dataclass
class FalsifyResult:
    """The outcome of :func:`falsify` (``to_dict`` is JSON-serialisable via
    :mod:`boundcheck.jsonutil`)."""

    theorem: str
    source: str
    direction: str
    budget: int
    seed: int
    evaluations: int
    inside: int
    outside: int
    errors: int
    best_ratio: float | None
    method: str | None
    instance: dict[str, Any] | None
    verdict: str  # violated / holds / inconclusive / no candidate
    certificate: dict[str, Any] | None = None
    space: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def violated(self) -> bool:
        return self.verdict == "violated"


def _theorem_and_space(theorem: Any, space: Mapping[str, Any] | None):
    from boundcheck.theory import registry
    from boundcheck.theory.core import Theorem

    if isinstance(theorem, str):
        thm = registry.get(theorem)
    elif isinstance(theorem, Theorem):
        thm = theorem
    else:
        raise ParameterError(f"theorem {theorem!r} is not allowed: expected an id or a Theorem")
    if space is None:
        space = search.space(thm.id)
        if space is None:
            raise ParameterError(
                f"{thm.id} has no declared search space; falsifiable: {', '.join(falsifiable_ids())}"
            )
    return thm, parse_space(space)


def _registered(thm) -> bool:
    from boundcheck.theory import registry

    try:
        return registry.get(thm.id) is thm
    except BoundcheckError:
        return False


def file_space(path: str) -> tuple[str, dict[str, Any] | None]:
    """A user's theorem file (issue 15), loaded and registered with its binding: its theorem id
    and its ``[search]`` table as a search space over the file's own experiment (``None`` when
    the file has no ``[search]`` table)."""
    from boundcheck.check.bindings import user
    from boundcheck.theory.userfile import load_user

    ut = load_user(path)
    user.register(ut)  # its binding: the empirical meaning the search evaluates
    if not ut.search:
        return ut.theorem.id, None
    space = dict(ut.search)
    space.setdefault("spec", {**ut.experiment, "theorem": ut.theorem.id})
    return ut.theorem.id, space


def falsifiable_ids() -> list[str]:
    """The encoded upper (and lower) bounds with a declared search space."""

    return list(search.SPACES)


def _instance(sp: Space, assign: dict[str, Any], spec) -> dict[str, Any]:
    return {
        "assignment": assign,
        "spec": {
            "theorem": spec.theorem,
            "problem": spec.problem,
            "algorithm": spec.algorithm,
            "point": spec.points()[0],
            "batches": spec.batches,
            "check": spec.check,
        },
    }


def falsify(
    theorem: Any,
    *,
    budget: int = 40,
    seed: int = 0,
    executor: str | Any = "serial",
    space: Mapping[str, Any] | None = None,
    alpha: float = 0.05,
    replay_replicas: int | None = None,
    jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> FalsifyResult:
    """Search ``theorem`` (an id or a :class:`~boundcheck.theory.core.Theorem`; with a user's
    theorem give ``space`` and its ``binding``) for the instance maximising measured / bound
    (bound / measured for a lower bound) within ``budget`` candidate evaluations, and certify the
    best (module docstring). ``executor``: ``serial`` / ``process`` / ``ray`` or an
    :class:`~boundcheck.check.executor.Executor`; ``seed`` fixes everything."""
    from boundcheck.check.executor import Executor, make_executor

    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ParameterError(f"budget={budget!r} is not allowed: expected an integer >= 1")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ParameterError(f"seed={seed!r} is not allowed: expected an integer >= 0")
    if not (isinstance(alpha, float | int) and 0 < alpha < 1):
        raise ParameterError(f"alpha={alpha!r} is not allowed: expected a number in (0, 1)")
    thm, sp = _theorem_and_space(theorem, space)
    own = not isinstance(executor, Executor)
    ex = make_executor(str(executor), jobs) if own else executor
    try:
        return _falsify(thm, sp, theorem, ex, budget, seed, alpha, replay_replicas, progress)
    finally:
        if own and hasattr(ex, "shutdown"):
            ex.shutdown()  # a local Ray started for this search stops with it


def _falsify(thm, sp, theorem, ex, budget, seed, alpha, replay_replicas, progress):
    from scipy.optimize import differential_evolution

    from boundcheck.check.executor import TaskFailure

    t_start = time.perf_counter()
    from boundcheck.check import bindings as B

    custom = not isinstance(theorem, str) and not (
        sp.binding is None and B.get(thm.id) is not None and _registered(thm)
    )
    # the spec names the theorem whose binding gives the empirical meaning; a user's (or a
    # planted) theorem object travels with the task and replaces the registry entry
    binding = sp.binding or (thm.id if not custom else sp.base.get("theorem"))
    if B.get(str(binding)) is None:
        raise ParameterError(
            f"{thm.id}: no binding {binding!r} gives it an empirical meaning; name one in the "
            "search space ('binding' = a theorem id with a binding, `boundcheck verify --list`)"
        )
    log: list[dict[str, Any]] = []
    cache: dict[str, dict[str, Any]] = {}

    def make_task(assign: dict[str, Any], rseed: int, replicas: int, exact: bool = True):
        raw = _candidate_raw(sp, assign, rseed, replicas)
        raw["theorem"] = binding
        spec = _spec_of(raw, f"falsify:{thm.id}")
        return spec, {
            "spec": spec,
            "point": spec.points()[0],
            "theorem": thm if custom else None,
            "binding": None,
            "exact": exact,
            "require": sp.require,
        }

    def objective_batch(_func, X) -> list[float]:
        X = [np.asarray(x, dtype=float) for x in X]
        todo, keys, out = [], [], []
        for x in X:
            if len(log) + len(todo) >= budget:
                keys.append(None)
                continue
            assign = {d.key: d.value(u) for d, u in zip(sp.dims, x, strict=True)}
            key = repr(sorted(assign.items(), key=lambda kv: kv[0]))
            keys.append((key, assign))
            if key in cache:
                continue
            try:
                _spec, task = make_task(assign, seed + 1000 + len(log) + len(todo), sp.replicas)
            except BoundcheckError as e:
                cache[key] = {"status": "outside", "outside": [str(e)]}
                log.append({"assignment": assign, **cache[key]})
                continue
            cache[key] = {"pending": True}
            todo.append((key, assign, task))
        if todo:
            results = ex.map(evaluate_candidate, [t for _, _, t in todo])
            for (key, assign, task), r in zip(todo, results, strict=True):
                if isinstance(r, TaskFailure):
                    r = {"status": "error", "error": r.error}
                r["assignment"] = assign
                r["task_seed"] = task["spec"].seed
                cache[key] = r
                log.append(r)
                if progress:
                    progress(min(len(log), budget), budget)
        for k in keys:
            if k is None:
                out.append(_BAD)
                continue
            r = cache[k[0]]
            ratio = r.get("ratio") if r.get("status") == "ok" else None
            if r.get("status") == "rounding":
                out.append(_BAD / 4)
            elif ratio is None and r.get("status") == "outside":
                out.append(_BAD / 2 + min(float(r.get("violation", 100.0)), 100.0))
            elif ratio is None or not ratio > 0:
                out.append(_BAD)
            elif math.isinf(ratio):
                out.append(-_BAD)
            else:
                out.append(-math.log(ratio))
        return out

    m = max(1, len(sp.dims))
    popsize = max(1, min(15, budget // (3 * m)))
    while popsize * m < 5 and popsize < budget:
        popsize += 1
    maxiter = max(0, budget // (popsize * m) - 1)
    if sp.dims:
        differential_evolution(
            lambda x: 0.0,
            [(0.0, 1.0)] * len(sp.dims),
            popsize=popsize,
            maxiter=maxiter,
            seed=seed,
            polish=False,
            init="sobol" if popsize * m >= 4 else "latinhypercube",
            updating="deferred",
            workers=objective_batch,
            tol=0.0,
        )
    while len(log) < budget and sp.dims:  # spend what the generations left (random points)
        rng = np.random.default_rng([seed, len(log)])
        n = min(budget - len(log), max(1, popsize * m))
        before = len(log)
        objective_batch(None, rng.random((n, len(sp.dims))))
        if len(log) == before:
            break
    if not sp.dims:
        objective_batch(None, [np.zeros(0)])
    inside = [r for r in log if r.get("status") == "ok"]
    n_out = sum(r.get("status") == "outside" for r in log)
    n_err = sum(r.get("status") == "error" for r in log)
    n_round = sum(r.get("status") == "rounding" for r in log)
    res = FalsifyResult(
        theorem=thm.id,
        source=thm.source,
        direction=_direction(thm),
        budget=budget,
        seed=seed,
        evaluations=len(log),
        inside=len(inside),
        outside=n_out,
        errors=n_err,
        best_ratio=None,
        method=None,
        instance=None,
        verdict="no candidate",
        space=sp.raw,
    )
    if not inside:
        reasons = sorted({o for r in log for o in r.get("outside", [])[:1]})[:3]
        res.notes.append(
            "no candidate inside the hypotheses"
            + (f" (e.g. {'; '.join(reasons)})" if reasons else "")
        )
        res.wall_s = time.perf_counter() - t_start
        return res
    best = max(inside, key=lambda r: r["ratio"])
    res.best_ratio = float(best["ratio"])
    res.method = best["method"]
    spec, task = make_task(best["assignment"], best["task_seed"], sp.replicas)
    res.instance = _instance(sp, best["assignment"], spec)
    R = replay_replicas or max(4 * sp.replicas, 256 if best["method"] == "exact" else 64)
    res.certificate = _certificate(thm, task, best, R, seed, alpha, make_task)
    res.verdict = res.certificate["verdict"]
    if n_round:
        res.notes.append(
            f"{n_round} candidate(s) converged to rounding level (lhs and bound below "
            f"{ROUNDING_FLOOR:g}): neither a violation nor a confirmation"
        )
    if n_err:
        res.notes.append(
            f"{n_err} candidate(s) failed to run (divergence or a numerical error), e.g. "
            + next(r["error"] for r in log if r.get("status") == "error")[:160]
        )
    res.wall_s = time.perf_counter() - t_start
    return res


def _replay_stats(summ: dict[str, Any], alpha: float):
    """Mean and one-sided bounds (the engine's statistics) of a replay's left-hand side, and of
    ``lhs - c S`` against the base bound where the bound is linear in a measured symbol."""
    from boundcheck.check import stats
    from boundcheck.check.engine import _rows_bounds
    from boundcheck.check.point import decode_array

    kind = summ["kind"]
    x = decode_array(summ["samples"])
    if kind in ("min_t", "max_t"):
        rows = summ["rows"]
        b = _rows_bounds(
            decode_array(rows["mean"]), decode_array(rows["sd"]), rows["R"], alpha, kind
        )
        return b, x, float(summ["bound"])
    if "linear" in summ:
        lin = summ["linear"]
        S = decode_array(lin["samples"])
        return stats.mean_bounds(x - lin["coef"] * S, alpha), x, float(lin["base"])
    return stats.mean_bounds(x, alpha), x, float(summ["bound"])


def _certificate(thm, task, best, R, seed, alpha, make_task) -> dict[str, Any]:
    from boundcheck.check import stats
    from boundcheck.check.point import prepare, run_point

    direction = _direction(thm)
    pr = prepare(
        {k: v for k, v in task.items() if k not in ("exact", "require")} | {"force": False}
    )
    hyps = _hypotheses(pr)
    for h in hyps:
        if h["id"] in task.get("require", ()):
            h["required"] = True  # a hypothesis by the space's reading of the statement
    cert: dict[str, Any] = {
        "values": pr.vals_out,
        "hypotheses": hyps,
        "method": best["method"],
        "lhs": best["lhs"],
        "bound": best["bound"],
        "ratio": best["ratio"],
    }
    if best.get("measured_symbols"):
        cert["measured_symbols"] = best["measured_symbols"]
    # the replay: the same instance through the batched implementation, a fresh seed
    rseed = int(np.random.SeedSequence([seed, 7727]).generate_state(1)[0] % (2**31 - 1))
    _, rtask = make_task(best["assignment"], rseed, R, exact=False)
    summ = run_point(
        {k: v for k, v in rtask.items() if k not in ("exact", "require")} | {"force": False}
    )
    if summ.get("error") or not summ.get("ran"):
        cert["replay"] = {"error": summ.get("error") or "; ".join(summ.get("outside", []))}
        cert["verdict"] = "inconclusive"
        cert["note"] = "the replay did not run: " + cert["replay"]["error"][:200]
        return cert
    replay: dict[str, Any] = {"replicas": summ["n_replicas"], "seed": rseed, "kind": summ["kind"]}
    if summ.get("outside"):
        replay["outside"] = summ["outside"]
    kind = summ["kind"]
    if kind == "pathwise":
        pw = summ["pathwise"]
        replay.update(pw)
        cert["replay"] = replay
        broke = pw["n_violations"] > 0 and not summ.get("outside")
        cert["verdict"] = (
            "violated" if broke else ("holds" if best["ratio"] <= 1 else "inconclusive")
        )
        return cert
    if kind == "step_mean":
        from boundcheck.check.engine import _rows_bounds
        from boundcheck.check.point import decode_array

        rows = summ["rows"]
        b = _rows_bounds(
            decode_array(rows["mean"]), decode_array(rows["sd"]), rows["R"], alpha, "max_t"
        )
        replay.update({"mean": b.estimate, "low": b.low, "high": b.high, "bound": 0.0,
                       "step_ratio": summ.get("step_ratio")})  # fmt: skip
        cert["replay"] = replay
        viol = b.low > 0 and not summ.get("outside")
        cert["verdict"] = (
            "violated" if viol else ("holds" if best["ratio"] <= 1 else "inconclusive")
        )
        return cert
    b, x, base_bound = _replay_stats(summ, alpha)
    sp_ = stats.spread(x)
    replay.update({"mean": b.estimate, "low": b.low, "high": b.high, "bound": base_bound,
                   "method": b.method, **sp_})  # fmt: skip
    cert["replay"] = replay
    bound = float(summ["bound"])
    if best["method"] == "exact":
        # the two witnesses agree when the exact value lies in the replay's two-sided interval
        b2 = _replay_stats(summ, alpha / 2)[0] if "linear" not in summ else None
        if b2 is not None:
            lo, hi = b2.low, b2.high
        else:
            bb = stats.mean_bounds(x, alpha / 2)
            lo, hi = bb.low, bb.high
        agrees = lo <= best["lhs"] <= hi
        replay["agrees"] = bool(agrees)
        replay["interval_lhs"] = [lo, hi]
        above = best["ratio"] > 1 + EXACT_RTOL
        if above and not agrees:
            cert["verdict"] = "inconclusive"
            cert["note"] = (
                f"the exact value {best['lhs']:.6g} lies outside the replay's interval "
                f"[{lo:.6g}, {hi:.6g}]: the two witnesses disagree (a bug to report)"
            )
        else:
            cert["verdict"] = "violated" if above else "holds"
        if above and direction == "upper":
            bnd = best["bound"]
            frac = float(np.mean(x > bnd))
            share = float(x[x > bnd].sum() / x.sum()) if x.sum() > 0 else 0.0
            replay["above_bound_fraction"] = frac
            replay["above_bound_share"] = share
            if sp_["median"] <= bnd and sp_["q90"] <= bnd:
                cert["note"] = (
                    f"typical runs stay below the bound (median {sp_['median']:.4g}, q90 "
                    f"{sp_['q90']:.4g} <= {bnd:.4g}); the expectation {best['lhs']:.4g} exceeds it, "
                    f"carried by the {100 * frac:.2g}% of replay replicas above the bound "
                    f"({100 * share:.3g}% of the mean): the statement is about the expectation"
                )
        return cert
    # Monte Carlo: the replay's one-sided bound decides, at level alpha
    viol = b.low > base_bound if direction == "upper" else b.high < base_bound
    viol = viol and not summ.get("outside")
    cert["verdict"] = "violated" if viol else ("holds" if best["ratio"] <= 1 else "inconclusive")
    cert["replay"]["ratio"] = _ratio(b.estimate, base_bound, direction) if base_bound else None
    if bound != base_bound:
        cert["replay"]["bound_at_mean"] = bound
    return cert


def falsify_summary(
    theorem_id: str, budget: int = 20, seed: int = 0, alpha: float = 0.05
) -> dict[str, Any] | None:
    """A small summary for the findings list and the report (``None``: no declared space):
    ``ratio``, ``method``, ``verdict``, ``instance`` (one line) and ``findings``."""

    if theorem_id not in search.SPACES:
        return None
    r = falsify(theorem_id, budget=budget, seed=seed, alpha=alpha)
    summary = {
        "theorem": theorem_id,
        "ratio": r.best_ratio,
        "method": r.method,
        "verdict": r.verdict,
        "instance": instance_line(r),
        "budget": budget,
        "findings": [],
    }
    if r.violated:
        cert = r.certificate or {}
        summary["findings"].append(
            {
                "kind": "falsified",
                "subject": theorem_id,
                "severity": "error",
                "message": (
                    f"{theorem_id}: worst case found {r.best_ratio:.4g} x the bound ({r.method}; "
                    f"replay {cert.get('replay', {}).get('mean', float('nan')):.4g}) at "
                    f"{instance_line(r)} (`boundcheck falsify {theorem_id} --seed {seed} "
                    f"--budget {budget}`)"
                ),
            }
        )
    return summary


def instance_line(r: FalsifyResult) -> str:
    """The best instance's free values, compactly (``key=value`` of the searched keys)."""
    if r.instance is None:
        return "-"
    parts = []
    for k, v in r.instance["assignment"].items():
        short = k.split(".", 1)[-1]
        if isinstance(v, dict):
            v = v.get("name", "") + "".join(f",{a}={b}" for a, b in v.items() if a != "name")
        elif isinstance(v, float):
            v = f"{v:.3g}"
        parts.append(f"{short}={v}")
    return " ".join(parts)
