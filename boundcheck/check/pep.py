"""Exact worst case over the function class, by performance estimation (PEPit), for the
deterministic special cases of the encoded theorems.

A measured average over random problems can only show that a bound was not violated on *them*.
For a deterministic special case of a theorem (no sampling, no noise, an identity or adversarial
deterministic compressor) the worst case of the left-hand side over the whole function class is the
value of a semidefinite program (Drori & Teboulle 2014; Taylor, Hendrickx & Glineur 2017), which
PEPit (Goujaud, Moucer, Glineur, Hendrickx, Taylor, Dieuleveut) builds and solves. A published
upper bound must be at least that worst case.

One function per reduction, in PEPit's style: the docstring states the class, the method, the
guarantee with its reference, the reduction and why it is faithful to the paper. Each returns a
:class:`PepResult` with PEPit's primal (a worst-case instance's value) and dual (a certified upper
bound of the SDP) values, the solver status and time, the encoded bound at the same parameters
(through :func:`boundcheck.theory.evaluate.evaluate_bound`), the ratio and a verdict.

Reading the numbers (``case``):

* :data:`EXACT` -- every constraint is an interpolation condition of the class (smooth strongly
  convex functions, Taylor et al. 2017, Thm 4) and the initial condition is exact: the SDP value
  *is* the worst case over the class, so it can refute a bound ("violated") or confirm it.
* :data:`RELAXED` -- some hypothesis is imposed only through necessary conditions (a bounded
  gradient at the visited points only; ``f^* = inf f`` modelled as the value at a stationary point;
  a deterministic compressor modelled by free points, as in the EF/EF21 tightness study of Berg
  Thomsen et al., arXiv 2506.05271). Then the SDP value is an upper bound of the true worst case:
  below the bound it confirms the bound over the whole class, above it proves nothing (verdict
  "inconclusive") unless the worst-case instance is replayed in boundcheck's own implementation
  (:mod:`boundcheck.check.pep_replay`), which shows a real instance.

Verdict with tolerance ``tol = |dual - primal| + sum_i |lambda_i| viol_i + eps (1 + |dual|)``: the
duality gap, the primal solution's constraint violations weighted by their dual values (their
first-order effect on the objective), and the solver's relative accuracy ``eps`` (:data:`SOLVER_EPS`:
1e-7 for Clarabel as called here, 1e-4 for SCS): "holds" when
``dual + tol <= bound``; "tight" when primal and dual are both within ``tol`` of the bound (the
bound holds and is attained, to solver accuracy); "violated" when ``primal - tol > bound`` and the case is exact;
otherwise "inconclusive" (also for any solver status other than optimal or optimal_inaccurate).

PEPit is an optional extra (``pip install "boundcheck[pep]"``) and is imported inside the functions
only: importing this module costs nothing.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from boundcheck.errors import BoundcheckError, ParameterError

EXACT = "exact interpolation: can refute"
RELAXED = "necessary conditions only: can only confirm"

#: the solver passed to cvxpy explicitly (PEPit falls back to SCS, less accurate, if told nothing)
DEFAULT_SOLVER = "CLARABEL"
#: relative accuracy of each solver as called here, tying the verdict tolerance to it: Clarabel's
#: gap and feasibility tolerances are 1e-8 (cvxpy defaults), times 10 for the scaling of the PEP's
#: SDP (tight instances show relative errors up to 8e-8); SCS's eps is 1e-4
SOLVER_EPS = {"CLARABEL": 1e-7, "SCS": 1e-4, "MOSEK": 1e-7}
#: the same when the solver stops at its *reduced* tolerances (cvxpy status "optimal_inaccurate";
#: Clarabel's "AlmostSolved": reduced_tol_feas 1e-4, reduced_tol_gap 5e-5), times 10 as above
SOLVER_EPS_REDUCED = {"CLARABEL": 1e-3, "SCS": 1e-3, "MOSEK": 1e-3}
#: statuses whose values a verdict may use (with the matching tolerance)
USABLE_STATUS = ("optimal", "optimal_inaccurate")

INSTALL_HINT = 'PEPit is not installed; the worst-case checks need: pip install "boundcheck[pep]"'


class MissingExtraError(BoundcheckError):
    """An optional dependency (here PEPit) is not installed."""


def require_pepit() -> None:
    """Raise :class:`MissingExtraError` (one line, with the install command) if PEPit is missing.

    Imports PEPit (about 4 s the first time): call it only where a PEP is about to be solved.
    """
    try:
        import PEPit  # noqa: F401
    except ImportError:
        raise MissingExtraError(INSTALL_HINT) from None


@dataclass
class PepResult:
    """One solved PEP compared with the encoded bound at the same parameters."""

    reduction: str
    theorem: str
    T: int
    params: dict[str, float | int]
    primal: float | None
    dual: float | None
    status: str
    solver: str
    solve_time: float
    bound: float
    case: str
    tolerance: float | None
    failed_conditions: list[str] = field(default_factory=list)
    note: str = ""
    instance: dict[str, Any] | None = None
    replay: dict[str, Any] | None = None
    variant: str = ""

    @property
    def label(self) -> str:
        """The theorem id, with the variant in parentheses where one theorem has several."""
        return f"{self.theorem}({self.variant})" if self.variant else self.theorem

    @property
    def ratio(self) -> float | None:
        """primal / bound: above 1 means the worst-case instance exceeds the bound."""
        if self.primal is None or not math.isfinite(self.bound) or self.bound == 0:
            return None
        return self.primal / self.bound

    @property
    def verdict(self) -> str:
        """ "holds", "tight", "violated" or "inconclusive" (see the module docstring)."""
        if self.status not in USABLE_STATUS or self.primal is None or self.dual is None:
            return "inconclusive"
        tol = self.tolerance or 0.0
        if self.dual + tol <= self.bound:
            return "holds"
        if abs(self.dual - self.bound) <= tol and abs(self.primal - self.bound) <= tol:
            return "tight"
        if self.primal - tol > self.bound and self.case == EXACT:
            return "violated"
        if self.replay is not None and self.replay.get("violated"):
            return "violated"
        return "inconclusive"

    @property
    def in_hypotheses(self) -> bool:
        """True when every stated condition of the theorem holds at ``params``."""
        return not self.failed_conditions

    @property
    def finding(self) -> bool:
        """A violation inside the theorem's stated hypotheses: a counterexample to the paper."""
        return self.verdict == "violated" and self.in_hypotheses

    def to_dict(self, with_instance: bool = False) -> dict[str, Any]:
        d = {
            "reduction": self.reduction,
            "theorem": self.theorem,
            "variant": self.variant,
            "T": self.T,
            "params": dict(self.params),
            "primal": self.primal,
            "dual": self.dual,
            "status": self.status,
            "solver": self.solver,
            "solve_time_s": self.solve_time,
            "bound": self.bound,
            "ratio": self.ratio,
            "case": self.case,
            "tolerance": self.tolerance,
            "verdict": self.verdict,
            "failed_conditions": list(self.failed_conditions),
            "finding": self.finding,
            "note": self.note,
        }
        if self.replay is not None:
            d["replay"] = self.replay
        if with_instance and self.instance is not None:
            d["instance"] = self.instance
        return d


# --- shared machinery -----------------------------------------------------------------------------
def _positive(name: str, v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= 0:
        raise ParameterError(f"{name}={v!r} is not allowed; it must be a finite number > 0")
    return float(v)


def _count(name: str, v: int, lo: int = 1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
        raise ParameterError(f"{name}={v!r} is not allowed; it must be an integer >= {lo}")
    return int(v)


def _unit(name: str, v: float) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 < v <= 1):
        raise ParameterError(f"{name}={v!r} is not allowed; it must satisfy 0 < {name} <= 1")
    return float(v)


def _solver_name(solver: str | None) -> str:
    s = (solver or DEFAULT_SOLVER).upper()
    if s not in SOLVER_EPS:
        raise ParameterError(
            f"solver={solver!r} is not allowed; use one of {', '.join(SOLVER_EPS)}"
        )
    return s


def _solve(problem: Any, solver: str) -> tuple[float | None, float | None, str, str, float]:
    """Solve a PEPit problem with ``solver`` through cvxpy: (primal, dual, status, solver, seconds).

    Clarabel is asked for explicitly; if it is not installed cvxpy's error is turned into a fallback
    to SCS, said in the returned solver name ("SCS (fallback)").
    """
    import cvxpy as cp

    used = solver
    if solver not in cp.installed_solvers():
        used = "SCS"
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings():  # an inaccurate solve is reported through its status
            warnings.simplefilter("ignore")
            dual = problem.solve(wrapper="cvxpy", solver=used, verbose=0)
    except (cp.error.SolverError, AssertionError, ValueError) as err:
        return None, None, f"solver error: {type(err).__name__}", used, time.perf_counter() - t0
    seconds = time.perf_counter() - t0
    prob = problem.wrapper.prob
    status = str(prob.status)
    primal = None if prob.value is None else float(problem.objective.eval())
    name = used if used == solver else f"{used} (fallback)"
    if primal is not None:
        _VIOLATION[id(problem)] = _weighted_violation(problem)
    return primal, (None if dual is None else float(dual)), status, name, seconds


#: per solved problem, sum_i |lambda_i| * (violation of constraint i): the first-order effect of
#: the primal solution's infeasibility on its objective value (read by :func:`_tolerance`)
_VIOLATION: dict[int, float] = {}


def _weighted_violation(problem: Any) -> float:
    total = 0.0
    for c in problem._list_of_prepared_constraints:
        v = float(c.eval())
        v = abs(v) if c.equality_or_inequality == "equality" else max(v, 0.0)
        total += abs(float(c.eval_dual())) * v
    return total


def _tolerance(
    primal: float | None, dual: float | None, solver: str, problem: Any = None
) -> float | None:
    """``|dual - primal| + sum_i |lambda_i| viol_i + eps (1 + |dual|)`` (module docstring)."""
    if primal is None or dual is None:
        return None
    name = solver.split()[0]
    reduced = problem is not None and str(problem.wrapper.prob.status) != "optimal"
    eps = (SOLVER_EPS_REDUCED if reduced else SOLVER_EPS).get(name, 1e-3)
    viol = _VIOLATION.pop(id(problem), 0.0) if problem is not None else 0.0
    return abs(dual - primal) + viol + eps * (1.0 + abs(dual))


def _bound(theorem_id: str, values: dict[str, float]) -> tuple[float, list[str]]:
    """The encoded bound at ``values`` and the ids of the stated conditions that fail there."""
    from boundcheck.theory import registry
    from boundcheck.theory.core import ConditionKind
    from boundcheck.theory.evaluate import check_conditions, evaluate_bound

    thm = registry.get(theorem_id)
    need = thm.parameters()
    vals = {k: v for k, v in values.items() if k in need}
    missing = [p for p in need if p not in vals]
    if missing:  # a bug in a reduction, not a user error
        raise RuntimeError(f"{theorem_id}: reduction gives no value for {missing}")
    bound = float(evaluate_bound(thm, vals))
    failed = [
        r.condition.id
        for r in check_conditions(thm, vals)
        if r.condition.kind in (ConditionKind.STATED, ConditionKind.STEPSIZE) and not r.holds
    ]
    return bound, failed


def _result(
    reduction: str,
    theorem_id: str,
    T: int,
    values: dict[str, float],
    problem: Any,
    solver: str,
    case: str,
    note: str,
    instance: Callable[[], dict[str, Any]] | None = None,
) -> PepResult:
    primal, dual, status, used, seconds = _solve(problem, solver)
    bound, failed = _bound(theorem_id, values)
    inst = instance() if (instance is not None and primal is not None) else None
    return PepResult(
        reduction=reduction,
        theorem=theorem_id,
        T=T,
        params={k: (v if isinstance(v, int) else float(v)) for k, v in values.items()},
        primal=primal,
        dual=dual,
        status=status,
        solver=used,
        solve_time=seconds,
        bound=bound,
        case=case,
        tolerance=_tolerance(primal, dual, used, problem),
        failed_conditions=failed,
        note=note,
        instance=inst,
    )


def _vec(p: Any) -> list[float]:
    return [float(v) for v in np.asarray(p.eval(), dtype=float).ravel()]


def _triplets(func: Any) -> dict[str, list[Any]]:
    """The solved ``(x_i, grad f(x_i), f(x_i))`` of every point ``func`` was evaluated at."""
    out: dict[str, list[Any]] = {"x": [], "g": [], "f": []}
    for x, g, f in func.list_of_points:
        out["x"].append(_vec(x))
        out["g"].append(_vec(g))
        out["f"].append(float(f.eval()))
    return out


# --- known tight values (PEPit's own examples, used as calibration by the tests) ----------------
def gd_nonconvex_min_grad(
    L: float, N: int, gamma: float | None = None, solver: str | None = None
) -> PepResult:
    """GD on L-smooth (non-convex) functions: ``min_{0<=i<=N} ||grad f(x_i)||^2`` per unit of
    ``f(x_0) - f(x_N)``.

    Class: L-smooth functions (exact interpolation, Taylor, Hendrickx & Glineur 2017, Thm 3.10).
    Method: ``x_{t+1} = x_t - gamma grad f(x_t)``, default ``gamma = 1/L``.
    Guarantee (PEPit example ``nonconvex_optimization/gradient_descent.py``; Taylor 2017, p. 190;
    Abbaszadehpeivasti, de Klerk & Zamani 2021): for ``gamma <= 1/L``,
    ``min_{i<=N} ||grad f(x_i)||^2 <= 4 L / (3 N) (f(x_0) - f(x_N))``, empirically tight at 1/L.
    The "bound" field holds ``4L/(3N)`` (not an encoded theorem).
    """
    require_pepit()
    from PEPit import PEP
    from PEPit.functions import SmoothFunction

    L, N = _positive("L", L), _count("N", N)
    gamma = 1.0 / L if gamma is None else _positive("gamma", gamma)
    solver = _solver_name(solver)
    problem = PEP()
    func = problem.declare_function(SmoothFunction, L=L)
    x0 = problem.set_initial_point()
    x = x0
    g, f0 = func.oracle(x0)
    problem.set_performance_metric(g**2)
    fx = f0
    for _ in range(N):
        x = x - gamma * g
        g, fx = func.oracle(x)
        problem.set_performance_metric(g**2)
    problem.set_initial_condition(f0 - fx <= 1)
    primal, dual, status, used, seconds = _solve(problem, solver)
    return PepResult(
        reduction="gd_nonconvex_min_grad",
        theorem="PEPit example: GD, L-smooth, min ||grad||^2 <= 4L/(3N) (f(x0) - f(xN))",
        T=N,
        params={"L": L, "gamma": gamma},
        primal=primal,
        dual=dual,
        status=status,
        solver=used,
        solve_time=seconds,
        bound=4 * L / (3 * N),
        case=EXACT,
        tolerance=_tolerance(primal, dual, used, problem),
    )


def gd_strongly_convex_distance(
    L: float, mu: float, N: int, gamma: float | None = None, solver: str | None = None
) -> PepResult:
    """GD on L-smooth mu-strongly convex functions: ``||x_N - x_*||^2`` per unit of
    ``||x_0 - x_*||^2``.

    Class: L-smooth mu-strongly convex functions (exact interpolation, Taylor et al. 2017, Thm 4).
    Method: ``x_{t+1} = x_t - gamma grad f(x_t)``, default ``gamma = 1/L``.
    Guarantee (PEPit example ``composite_convex_minimization/proximal_gradient.py`` with a zero
    nonsmooth term; Taylor, Hendrickx & Glineur 2018): ``||x_N - x_*||^2 <= max{(1 - L gamma)^2,
    (1 - mu gamma)^2}^N ||x_0 - x_*||^2``, tight (quadratics); at gamma = 1/L,
    ``(1 - mu/L)^(2N)``. The "bound" field holds that factor.
    """
    require_pepit()
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    L, mu, N = _positive("L", L), _positive("mu", mu), _count("N", N)
    if mu > L:
        raise ParameterError(f"mu={mu!r} is not allowed; it must be <= L={L!r}")
    gamma = 1.0 / L if gamma is None else _positive("gamma", gamma)
    solver = _solver_name(solver)
    problem = PEP()
    func = problem.declare_function(SmoothStronglyConvexFunction, mu=mu, L=L)
    xs = func.stationary_point()
    x0 = problem.set_initial_point()
    x = x0
    for _ in range(N):
        x = x - gamma * func.gradient(x)
    problem.set_initial_condition((x0 - xs) ** 2 <= 1)
    problem.set_performance_metric((x - xs) ** 2)
    primal, dual, status, used, seconds = _solve(problem, solver)
    return PepResult(
        reduction="gd_strongly_convex_distance",
        theorem="GD, L-smooth mu-strongly convex: ||x_N - x*||^2 <= "
        "max{(1 - L gamma)^2, (1 - mu gamma)^2}^N ||x_0 - x*||^2",
        T=N,
        params={"L": L, "mu": mu, "gamma": gamma},
        primal=primal,
        dual=dual,
        status=status,
        solver=used,
        solve_time=seconds,
        bound=max((1 - L * gamma) ** 2, (1 - mu * gamma) ** 2) ** N,
        case=EXACT,
        tolerance=_tolerance(primal, dual, used, problem),
    )


# --- the reductions -------------------------------------------------------------------------------
def _consecutive_smooth_class() -> type:
    """PEPit's L-smooth class with interpolation constraints between consecutive points only.

    A subset of the (exact) interpolation conditions, so a relaxation: the PEP value can only grow.
    Used for long horizons, where all pairs make the SDP too large (the descent-lemma proof of a
    gradient method uses consecutive pairs only).
    """
    from PEPit.functions import SmoothFunction

    class ConsecutiveSmoothFunction(SmoothFunction):
        def add_class_constraints(self) -> None:
            pts = self.list_of_points
            for i in range(len(pts) - 1):
                self.add_constraints_from_two_lists_of_points(
                    [pts[i], pts[i + 1]],
                    [pts[i], pts[i + 1]],
                    constraint_name=f"smoothness_{i}",
                    set_class_constraint_i_j=self.set_smoothness_i_j,
                )

    return ConsecutiveSmoothFunction


def _smooth_with_fstar(problem: Any, L: float, consecutive: bool = False) -> tuple[Any, Any]:
    """An L-smooth function and a scalar ``f^*`` standing for ``inf f``.

    Call :func:`_lower_bound` once every oracle call is made: it imposes, at every visited point,
    ``f(x_i) - f^* >= ||grad f(x_i)||^2/(2L)``, which every L-smooth function with ``inf f = f^*``
    satisfies (``f^* <= f(x_i - grad f(x_i)/L) <= f(x_i) - ||grad f(x_i)||^2/(2L)``). Imposed at the
    visited points only, it is a necessary condition: the PEP value is at least the true worst case
    (case :data:`RELAXED`). (A stationary point with value ``f^*`` would not do: it may be a local
    maximum, and the SDP is then unbounded.)
    """
    from PEPit import Expression
    from PEPit.functions import SmoothFunction

    cls = _consecutive_smooth_class() if consecutive else SmoothFunction
    return problem.declare_function(cls, L=L), Expression()


def _lower_bound(problem: Any, func: Any, fstar: Any, L: float) -> None:
    for _x, g, f in func.list_of_points:
        problem.add_constraint(f - fstar >= g**2 / (2 * L))


#: above this horizon fedpaq_thm2 keeps only consecutive-pair smoothness constraints by default
ALL_PAIRS_MAX_T = 40


def fedpaq_thm2(
    T: int,
    L: float = 1.0,
    F0: float = 1.0,
    n: int = 2,
    pairs: str = "auto",
    solver: str | None = None,
) -> PepResult:
    """FedPAQ Theorem 2 (eq. (19)) in its deterministic special case: gradient descent.

    Class: L-smooth (non-convex) f with ``f(x_0) - f^* <= F0`` (Assumption 2; sigma = 0 makes every
    sample loss's gradient equal grad f, so l(., xi) = f satisfies Assumptions 1-3).
    Method: FedPAQ Algorithm 1 with tau = 1, q = 0 (identity quantizer, Assumption 1 with q = 0),
    r = n, sigma = 0 and homogeneous nodes f_i = f: every node takes one step from x_k and the
    server averages identical models, so ``x_{k+1} = x_k - eta grad f(x_k)``, gradient descent at
    the stated ``eta = 1/(L sqrt(T))``, for K = T periods.
    Guarantee (FedPAQ Theorem 2, eq. (19), N1 = N2 = 0 at sigma = 0):
    ``1/T sum_{k=0}^{T-1} ||grad f(x_k)||^2 <= 2 L (f(x_0) - f^*)/sqrt(T)``; the left side is
    eq. (20)'s xbar_{k,0} = x_k (tau = 1), so the reduction is the statement to the letter.
    Conditions: (18) needs ``T >= 80`` at tau = 1, q = 0, r = n (reported in
    ``failed_conditions`` below that: the bound is then not claimed); n >= 2 (PROOF, eqs. (12),
    (17)) is met by the default n = 2, which the bound does not depend on when r = n.
    Case: :data:`RELAXED` (``f^*`` is a lower bound imposed at the visited points).
    ``pairs``: "all" (every interpolation condition), "consecutive" (only between x_k and x_{k+1},
    a further relaxation that stays valid for "holds" and makes T >= 80 cheap), or "auto" (all
    pairs up to T = :data:`ALL_PAIRS_MAX_T`, consecutive beyond; the note says which).
    """
    require_pepit()
    from PEPit import PEP

    T, L, F0, n = _count("T", T), _positive("L", L), _positive("F0", F0), _count("n", n, 2)
    if pairs not in ("auto", "all", "consecutive"):
        raise ParameterError(f"pairs={pairs!r} is not allowed; use 'auto', 'all' or 'consecutive'")
    consecutive = pairs == "consecutive" or (pairs == "auto" and T > ALL_PAIRS_MAX_T)
    solver = _solver_name(solver)
    eta = 1.0 / (L * math.sqrt(T))
    problem = PEP()
    func, fs = _smooth_with_fstar(problem, L, consecutive)
    x = problem.set_initial_point()
    g, f0 = func.oracle(x)
    total = g**2
    for _ in range(T - 1):
        x = x - eta * g
        g, _ = func.oracle(x)
        total = total + g**2
    problem.set_initial_condition(f0 - fs <= F0)
    _lower_bound(problem, func, fs, L)
    problem.set_performance_metric((1.0 / T) * total)
    values = {"F0": F0, "L": L, "T": T, "eta": eta, "n": n, "q": 0, "r": n, "sigma": 0, "tau": 1}
    return _result(
        "FedPAQ Thm 2: GD at 1/(L sqrt T)",
        "fedpaq.thm2",
        T,
        values,
        problem,
        solver,
        RELAXED,
        "tau=1, q=0, r=n, sigma=0: gradient descent; f* a lower bound at visited points"
        + ("; smoothness between consecutive iterates only" if consecutive else ""),
    )


def fedpaq_thm1(
    T: int, L: float = 10.0, mu: float = 1.0, n: int = 2, D: float = 1.0, solver: str | None = None
) -> PepResult:
    """FedPAQ Theorem 1 (eq. (14)) in its deterministic special case: GD with eta_k = 4/(mu(k+1)).

    Class: L-smooth mu-strongly convex f (Assumptions 2, 4; sigma = 0, homogeneous nodes), exact
    interpolation (Taylor et al. 2017, Thm 4).
    Method: FedPAQ Algorithm 1 with tau = 1, q = 0, r = n, sigma = 0: ``x_{k+1} = x_k - eta_k
    grad f(x_k)`` with the stated schedule ``eta_k = 4 mu^-1/(k tau + 1) = 4/(mu (k + 1))``, run
    from period ``k_0`` (the smallest integer satisfying (13), :func:`k0_smallest`) for ``T``
    periods, to ``k = k_0 + T``.
    Guarantee (eq. (14) with C1 = C2 = C3 = 0 at sigma = 0, tau = 1):
    ``||x_k - x^*||^2 <= (k_0 + 1)^2/(k + 1)^2 ||x_{k_0} - x^*||^2`` for k >= k_0; the PEP starts
    at ``x_{k_0}`` with ``||x_{k_0} - x^*||^2 <= D`` (the bound's own reference point), so the
    reduction is the statement to the letter, including k >= k_0 and the schedule.
    Case: :data:`EXACT`.
    """
    require_pepit()
    from PEPit import PEP
    from PEPit.functions import SmoothStronglyConvexFunction

    from boundcheck.theory.fedpaq import k0_smallest

    T, L, mu = _count("T", T), _positive("L", L), _positive("mu", mu)
    n, D = _count("n", n, 2), _positive("D", D)
    if mu > L:
        raise ParameterError(f"mu={mu!r} is not allowed; it must be <= L={L!r}")
    solver = _solver_name(solver)
    k0 = k0_smallest(L, mu, 0.0, n, n, 1)
    k = k0 + T
    problem = PEP()
    func = problem.declare_function(SmoothStronglyConvexFunction, mu=mu, L=L)
    xs = func.stationary_point()
    x0 = problem.set_initial_point()
    x = x0
    for j in range(k0, k):
        x = x - (4.0 / (mu * (j + 1))) * func.gradient(x)
    problem.set_initial_condition((x0 - xs) ** 2 <= D)
    problem.set_performance_metric((x - xs) ** 2)
    values = {"D_k0": D, "L": L, "eta": 4.0 / (mu * (k + 1)), "k": k, "k0": k0, "mu": mu,
              "n": n, "q": 0, "r": n, "sigma": 0, "tau": 1}  # fmt: skip

    def instance() -> dict[str, Any]:
        return {**_triplets(func), "x0": _vec(x0), "x_star": _vec(xs), "xk": _vec(x)}

    return _result(
        f"FedPAQ Thm 1: GD, eta_k=4/(mu(k+1)), k0={k0}",
        "fedpaq.thm1",
        T,
        values,
        problem,
        solver,
        EXACT,
        f"tau=1, q=0, r=n, sigma=0: GD from period k0={k0} to k=k0+T",
        instance,
    )


def _saef_pep(
    T: int, L: float, F0: float, M: float, delta: float, eta: float, at_tilde: bool
) -> tuple[Any, Callable[[], dict[str, Any]]]:
    """The PEP of SAEF-SGD (Algorithm 1, SAEF branch, mu = 0, double-way) with K = 1, sigma = 0."""
    from PEPit import PEP, Point

    problem = PEP()
    func, fs = _smooth_with_fstar(problem, L)
    x0 = problem.set_initial_point()
    _, f0 = func.oracle(x0)
    problem.set_initial_condition(f0 - fs <= F0)
    rec: dict[str, list[Any]] = {
        "x": [],
        "z": [],
        "c_worker": [],
        "c_server": [],
        "metric_point": [],
    }

    def grad(p: Any) -> Any:
        g = func.gradient(p)
        problem.add_constraint(g**2 <= M**2)  # SAEF Assumption 3 at every visited point
        return g

    grad(x0)
    x, e, ew = x0, None, None  # e_0 = e_0^(1) = 0 (Algorithm 1, line 2)
    for _t in range(T):
        xt = x if (e is None and ew is None) else (x - e - ew if at_tilde else x)
        problem.set_performance_metric(grad(xt) ** 2)
        z = x if ew is None else x - ew  # line 9: x_{t+1/2} = x_t - e_t^(k)
        g = grad(z)  # line 10 with mu = 0: m_{t+1} = grad f(x_{t+1/2})
        dw = eta * g if ew is None else ew + eta * g  # line 11-12: Delta^(k) = e^(k) + eta m
        cw = Point()  # line 18-19: C(Delta^(k)), a free point of the delta-ball
        problem.add_constraint((dw - cw) ** 2 <= (1 - delta) * dw**2)
        ew = dw - cw
        dsv = cw if e is None else e + cw  # line 21: Delta = e_t + (1/K) sum_k C(Delta^(k))
        c = Point()  # line 22: C(Delta)
        problem.add_constraint((dsv - c) ** 2 <= (1 - delta) * dsv**2)
        e = dsv - c
        rec["x"].append(x)
        rec["z"].append(z)
        rec["metric_point"].append(xt)
        rec["c_worker"].append(cw)
        rec["c_server"].append(c)
        x = x - c  # line 25
    _lower_bound(problem, func, fs, L)

    def instance() -> dict[str, Any]:
        return {k: [_vec(p) for p in v] for k, v in rec.items()}

    return problem, instance


def saef_thm(
    T: int,
    which: int = 2,
    L: float = 1.0,
    F0: float = 1.0,
    M: float = 1.0,
    delta: float = 0.9,
    eta: float = 0.5,
    solver: str | None = None,
) -> PepResult:
    """SAEF Theorems 1 (eq. (16), at x~_t) and 2 (eq. (17), at x_t) with one worker, sigma = 0,
    a deterministic delta-compressor at worker and server, and no momentum.

    Class: L-smooth F (Assumption 1) with ``||grad F(x)||^2 <= M^2`` (Assumption 3, imposed at
    every visited point) and ``F(x_0) - F^* <= F0``; sigma = 0 (Assumption 2) makes every
    stochastic gradient exact.
    Method: SAEF Algorithm 1, SAEF branch, K = 1 worker, mu = 0 (SAEF-SGD, as Theorems 1-2
    require), no error averaging, double-way compression with one compressor C: lines 9-12,
    18-25. C is any deterministic map with ``||C(v) - v||^2 <= (1 - delta)||v||^2``
    (Assumption 4), modelled as in the EF/EF21 tightness study (arXiv 2506.05271): each output
    ``C(v)`` is a free point ``c`` with ``||v - c||^2 <= (1 - delta)||v||^2``. (PEPit's relative
    inexact gradient would model a contraction of the *gradient*; here the compressed vector is
    ``e + eta g``, not the gradient.)
    Guarantee: eq. (16) (``which=1``, ``min_t ||grad F(x~_t)||^2``, ``x~_t = x_t - e_t -
    e_t^(1)``, needs eta < 3/(4L)) or eq. (17) (``which=2``, ``min_t ||grad F(x_t)||^2``, needs
    eta < 3/(2L)), t = 0..T-1, with K = 1, sigma = 0, mu = 0.
    Case: :data:`RELAXED` -- the bounded gradient and f* only at the visited points
    and the compressor as free points (it need not be one function: equal inputs may get different
    outputs) are necessary conditions; the value can confirm the bound, and a value above it needs
    the replay.
    """
    require_pepit()
    if which not in (1, 2):
        raise ParameterError(f"which={which!r} is not allowed; SAEF Theorem 1 or 2")
    T, L, F0 = _count("T", T), _positive("L", L), _positive("F0", F0)
    M, delta, eta = _positive("M", M), _unit("delta", delta), _positive("eta", eta)
    solver = _solver_name(solver)
    problem, instance = _saef_pep(T, L, F0, M, delta, eta, at_tilde=(which == 1))
    values = {"F0": F0, "L": L, "T": T, "K": 1, "delta": delta, "eta": eta, "M": M, "sigma": 0,
              "mu_m": 0}  # fmt: skip
    where = "x~_t" if which == 1 else "x_t"
    return _result(
        f"SAEF Thm {which}: K=1, sigma=0, min at {where}",
        f"saef.thm{which}",
        T,
        values,
        problem,
        solver,
        RELAXED,
        "one worker, deterministic delta-compressor (free points), double-way, mu=0",
        instance,
    )


def delay_patterns(T: int, tau_C: int, tau_max: int) -> list[tuple[int, ...]]:
    """Every delivery order of AsyncBC Algorithm 1 with one client, concurrency ``tau_C`` and
    staleness at most ``tau_max``, over the receptions t = 1..T-2 that affect x_0..x_{T-1}.

    A pattern lists, for each reception t, the timestamp s of the task received (its staleness is
    ``t - s``, Assumption 3). At t = 1 the active tasks are tau_C tasks of timestamp 1 (lines 2-3);
    after each reception a task of timestamp t + 1 starts (line 9). A branch is kept only if the
    tasks still active can all be delivered within their staleness (earliest deadline first, one
    delivery per step), so every listed prefix extends to a full admissible schedule.
    """
    T, tau_C, tau_max = _count("T", T), _count("tau_C", tau_C), _count("tau_max", tau_max, 0)
    if tau_C > tau_max + 1:
        raise ParameterError(
            f"tau_C={tau_C} tasks of timestamp 1 cannot all arrive within tau_max={tau_max}; "
            "need tau_C <= tau_max + 1"
        )
    out: list[tuple[int, ...]] = []

    def feasible(active: list[int], t: int) -> bool:
        # deliveries at t, t+1, ...: the i-th earliest deadline must be >= t + i
        return all(s + tau_max >= t + i for i, s in enumerate(sorted(active)))

    def rec(t: int, active: list[int], chosen: tuple[int, ...]) -> None:
        if t > T - 2:
            out.append(chosen)
            return
        for s in sorted(set(active)):
            if t - s > tau_max:
                continue
            rest = list(active)
            rest.remove(s)
            rest.append(t + 1)
            if feasible(rest, t + 1):
                rec(t + 1, rest, (*chosen, s))

    if feasible([1] * tau_C, 1):
        rec(1, [1] * tau_C, ())
    return out


def _asyncbc_pep(
    T: int, L: float, F0: float, eta: float, tau_C: int, pattern: tuple[int, ...]
) -> tuple[Any, Callable[[], dict[str, Any]]]:
    """The PEP of AsyncBC-GD (Algorithm 1) with one client and a fixed delivery pattern."""
    from PEPit import PEP

    problem = PEP()
    func, fs = _smooth_with_fstar(problem, L)
    x0 = problem.set_initial_point()
    g0, f0 = func.oracle(x0)
    problem.set_initial_condition(f0 - fs <= F0)
    xs = [x0, x0 - eta * g0]  # line 1: m_0 = grad f(x_0), x_1 = x_0 - eta m_0
    grads = [g0]
    m = g0
    total = g0**2

    def grad(i: int) -> Any:
        while len(grads) <= i:
            grads.append(func.gradient(xs[len(grads)]))
        return grads[i]

    for t in range(1, T):
        total = total + grad(t) ** 2
        if t == T - 1:
            break
        s = pattern[t - 1]  # line 5: the task of timestamp s = t - tau_t arrives
        diff = grad(s) - grad(s - 1)  # lines 3 and 9: grad f(x_s) - grad f(x_{s-1})
        m = m + ((1.0 / tau_C) * diff if s == 1 else diff)  # line 6 (line 3 reweights s = 1)
        xs.append(xs[t] - eta * m)  # line 7: x_{t+1} = x_t - eta m_t
    problem.set_performance_metric((1.0 / T) * total)
    _lower_bound(problem, func, fs, L)

    def instance() -> dict[str, Any]:
        return {"x": [_vec(p) for p in xs[:T]], "pattern": list(pattern)}

    return problem, instance


def asyncbc_thm1(
    T: int,
    L: float = 1.0,
    delta_H: float = 1e-3,
    F0: float = 1.0,
    tau_C: int = 1,
    tau_max: int = 1,
    solver: str | None = None,
) -> PepResult:
    """AsyncBC Theorem 1 (explicit bound of its proof) with one client: the worst delivery order.

    Class: L-smooth f (Assumption 1) with ``f(x_0) - f^* <= F0``; with n = 1 client ``f_1 = f`` and
    Assumption 2 holds for every ``delta_H > 0`` (the bound increases with delta_H, so a small
    delta_H is the strictest reading; default 1e-3).
    Method: AsyncBC-GD (Algorithm 1) with n = 1, concurrency tau_C and the stated stepsize
    ``eta = min{1/(6(delta+L) sqrt(tau_C tau_max)), 1/(12 sqrt(L(delta+L) tau_max T))}``. With
    n = 1 the uniform client choice is deterministic, so the only freedom left is the delivery
    order (Assumption 3: staleness at most tau_max). A stale message is the gradient difference
    at the stored iterates ``(x_s, x_{s-1})`` of its timestamp s; every admissible order
    (:func:`delay_patterns`) is solved and the worst is kept: "any delay up to tau_max" is the
    maximum over patterns. tau_C = 1 gives staleness 0 and plain gradient descent (m_t = grad
    f(x_t) by telescoping); tau_max >= 1 as the encoding reads Assumption 3 (see its notes).
    Guarantee: ``1/T sum_{t=0}^{T-1} ||grad f(x_t)||^2 <= 12(delta+L) sqrt(tau_C tau_max) F0/T +
    24 sqrt(L(delta+L) tau_max) F0/sqrt(T)`` (``asyncbc.thm1``; x_0..x_{T-1} use m_0 and the
    receptions t = 1..T-2).
    Case: :data:`RELAXED` (f* at the visited points only).
    """
    require_pepit()
    T, L, F0 = _count("T", T), _positive("L", L), _positive("F0", F0)
    delta_H = _positive("delta_H", delta_H)
    tau_C, tau_max = _count("tau_C", tau_C), _count("tau_max", tau_max)
    solver = _solver_name(solver)
    eta = min(
        1 / (6 * (delta_H + L) * math.sqrt(tau_C * tau_max)),
        1 / (12 * math.sqrt(L * (delta_H + L) * tau_max * T)),
    )
    patterns = delay_patterns(T, tau_C, tau_max)
    values = {"F0": F0, "L": L, "T": T, "delta_H": delta_H, "eta": eta, "tau_C": tau_C,
              "tau_max": tau_max}  # fmt: skip
    worst: PepResult | None = None
    seconds, unsettled, usable, r_tol = 0.0, False, True, []
    for pat in patterns:
        problem, instance = _asyncbc_pep(T, L, F0, eta, tau_C, pat)
        r = _result(
            f"AsyncBC Thm 1: n=1, tau_C={tau_C}, tau_max={tau_max}",
            "asyncbc.thm1",
            T,
            values,
            problem,
            solver,
            RELAXED,
            "",
            instance,
        )
        seconds += r.solve_time
        unsettled = unsettled or r.status != "optimal"
        usable = usable and r.status in USABLE_STATUS
        r_tol.append(r.tolerance or 0.0)
        if worst is None or (
            r.primal is not None and (worst.primal is None or r.primal > worst.primal)
        ):
            worst = r
    assert worst is not None
    if unsettled:  # a pattern the solver settled less well taints the maximum over patterns
        worst.status = "optimal_inaccurate" if usable else "some pattern not solved"
        worst.tolerance = max(r_tol)
    worst.solve_time = seconds
    worst.variant = f"{tau_C},{tau_max}"
    shown = ",".join(map(str, worst.instance["pattern"])) if worst.instance else "?"
    worst.note = f"T={T}: worst of {len(patterns)} delivery order(s); " + (
        f"timestamps received at t=1..{T - 2}: {shown}" if T > 2 else "no reception before x_1"
    )
    return worst


def qafel_thm_f1(
    T: int,
    L: float = 1.0,
    F0: float = 1.0,
    G: float = 1.0,
    P: int = 2,
    eta_l: float = 0.1,
    eta_g: float = 1.0,
    tau_max: int = 1,
    solver: str | None = None,
) -> PepResult:
    """QAFeL Theorem F.1 (eq. (9)) in its deterministic special case: FedBuff with one client.

    Class: L-smooth F with ``||grad F(x)||^2 <= G`` (Assumption 3.3, imposed at every visited
    point) and ``f(x^0) - f^* <= F0``; sigma_l = 0 (Assumptions 3.1-3.2: exact local gradients).
    Method: QAFeL (Algorithms 1-3) with identity quantizers (delta_c = delta_s = 1, so the hidden
    state equals the server model: FedBuff), buffer K = 1, one client, no staleness: each server
    step runs P local steps ``y_p = y_{p-1} - eta_l grad F(y_{p-1})`` from ``y_0 = x^t`` and sets
    ``x^{t+1} = x^t + eta_g (y_P - y_0)`` (the encoding's reading of the update's sign and of P
    local steps, see ``qafel.thm_f1`` notes).
    Guarantee: eq. (9) at delta_c = delta_s = 1, sigma_l = 0, K = 1: ``1/T sum_{t=0}^{T-1}
    ||grad f(x^t)||^2 <= 2F0/(eta_g T P eta_l) + 3 L^2 P eta_l^2 (eta_g^2 tau_max^2 + 1) P G +
    L eta_g/(P eta_l) P eta_l^2 4G``. The staleness term is printed with ``1/tau_max`` and is
    undefined at tau_max = 0, so the bound is evaluated at tau_max = 1 (default): staleness 0 is
    within "staleness <= 1", so the theorem at tau_max = 1 covers the run.
    Case: :data:`RELAXED` (the gradient bound G and f* at the visited points only).
    """
    require_pepit()
    from PEPit import PEP

    T, L, F0, G = _count("T", T), _positive("L", L), _positive("F0", F0), _positive("G", G)
    P, eta_l, eta_g = _count("P", P), _positive("eta_l", eta_l), _positive("eta_g", eta_g)
    tau_max = _count("tau_max", tau_max)
    solver = _solver_name(solver)
    problem = PEP()
    func, fs = _smooth_with_fstar(problem, L)
    x = problem.set_initial_point()
    _, f0 = func.oracle(x)
    problem.set_initial_condition(f0 - fs <= F0)
    total = None
    xs = []
    for _t in range(T):
        xs.append(x)
        gx = func.gradient(x)
        total = gx**2 if total is None else total + gx**2
        y = x
        for _p in range(P):
            y = y - eta_l * func.gradient(y)
        x = x + eta_g * (y - x)
    for _x, g, _f in func.list_of_points:
        problem.add_constraint(g**2 <= G)
    _lower_bound(problem, func, fs, L)
    problem.set_performance_metric((1.0 / T) * total)
    values = {"F0": F0, "G": G, "K": 1, "L": L, "P": P, "T": T, "delta_c": 1, "delta_s": 1,
              "eta_g": eta_g, "eta_l": eta_l, "sigma_l": 0, "tau_max": tau_max}  # fmt: skip

    def instance() -> dict[str, Any]:
        return {"x": [_vec(p) for p in xs]}

    return _result(
        f"QAFeL Thm F.1: FedBuff, K=1, P={P}",
        "qafel.thm_f1",
        T,
        values,
        problem,
        solver,
        RELAXED,
        "one client, K=1, identity quantizers, sigma_l=0, staleness 0",
        instance,
    )


# --- registry: theorem id -> reduction, as the CLI and the tests use it --------------------------
@dataclass(frozen=True)
class Reduction:
    """A theorem's deterministic special case: the function solving it and its CI-sized sweep."""

    theorem: str
    fn: Callable[..., PepResult]
    params: tuple[str, ...]
    T: tuple[int, ...]
    summary: str
    fixed: tuple[tuple[str, Any], ...] = ()

    def defaults(self) -> dict[str, Any]:
        import inspect

        sig = inspect.signature(self.fn)
        return {p: sig.parameters[p].default for p in self.params}

    def __call__(self, T: int, solver: str | None = None, **params: Any) -> PepResult:
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {', '.join(unknown)} for {self.theorem}; "
                f"it takes: {', '.join(self.params)}"
            )
        return self.fn(T, **dict(self.fixed), **params, solver=solver)


REDUCTIONS: dict[str, Reduction] = {
    "fedpaq.thm2": Reduction(
        "fedpaq.thm2", fedpaq_thm2, ("L", "F0", "n"), (1, 2, 4, 8),
        "GD at 1/(L sqrt T) on L-smooth f (tau=1, q=0, r=n, sigma=0)",
    ),
    "fedpaq.thm1": Reduction(
        "fedpaq.thm1", fedpaq_thm1, ("L", "mu", "n", "D"), (1, 2, 4, 8),
        "GD with eta_k = 4/(mu(k+1)) from k0 on L-smooth mu-strongly convex f",
    ),
    "saef.thm1": Reduction(
        "saef.thm1", saef_thm, ("L", "F0", "M", "delta", "eta"), (1, 2, 4),
        "SAEF-SGD, one worker, sigma=0, deterministic delta-compressor; min at x~_t",
        (("which", 1),),
    ),
    "saef.thm2": Reduction(
        "saef.thm2", saef_thm, ("L", "F0", "M", "delta", "eta"), (1, 2, 4),
        "SAEF-SGD, one worker, sigma=0, deterministic delta-compressor; min at x_t",
        (("which", 2),),
    ),
    "asyncbc.thm1": Reduction(
        "asyncbc.thm1", asyncbc_thm1, ("L", "delta_H", "F0", "tau_C", "tau_max"), (2, 4, 6),
        "AsyncBC-GD, one client, worst delivery order with staleness <= tau_max",
    ),
    "qafel.thm_f1": Reduction(
        "qafel.thm_f1", qafel_thm_f1, ("L", "F0", "G", "P", "eta_l", "eta_g", "tau_max"),
        (1, 2, 4), "FedBuff (identity quantizers), K=1, one client, sigma_l=0, no staleness",
    ),
}  # fmt: skip


def reduction(theorem_id: str) -> Reduction:
    """The reduction of ``theorem_id``; an id without one raises naming those that have one."""
    if theorem_id not in REDUCTIONS:
        raise ParameterError(
            f"no deterministic special case for {theorem_id!r}; PEP checks exist for: "
            + ", ".join(REDUCTIONS)
        )
    return REDUCTIONS[theorem_id]


def sweep(
    theorem_id: str, Ts: Sequence[int] | None = None, solver: str | None = None, **params: Any
) -> list[PepResult]:
    """Solve ``theorem_id``'s reduction for every T in ``Ts`` (default: its CI-sized sweep)."""
    red = reduction(theorem_id)
    require_pepit()
    return [red(T, solver=solver, **params) for T in (Ts or red.T)]


def findings(results: Sequence[PepResult]) -> list[Any]:
    """The violations inside the stated hypotheses, as :class:`~boundcheck.theory.core.Finding`."""
    from boundcheck.theory.core import Finding

    return [
        Finding(
            "bound_violated",
            r.theorem,
            "error",
            f"worst case over the class exceeds the bound at T={r.T}: {r.primal:.6g} > {r.bound:.6g}",
            r.to_dict(),
        )
        for r in results
        if r.finding
    ]


def worst_case_summary(theorem_id: str, solver: str | None = None) -> dict[str, Any] | None:
    """The "worst case over the class" entry of a theorem for the findings list and the report:
    its reduction solved over the CI-sized sweep, or ``None`` when it has no deterministic special
    case. Keys: ``ratio`` (largest primal / bound over the T values *inside* the stated
    hypotheses, ``None`` if none is inside), ``verdict`` ("violated" if any in-hypotheses point is,
    else "holds"/"tight"/"inconclusive" by the worst such point), ``case`` (whether the class is
    exact, i.e. whether the value can refute), ``T``, ``results`` (each :meth:`PepResult.to_dict`)
    and ``findings`` (:func:`findings`)."""
    if theorem_id not in REDUCTIONS:
        return None
    results = sweep(theorem_id, solver=solver)
    inside = [r for r in results if r.in_hypotheses]
    ratios = [r.ratio for r in inside if r.ratio is not None]
    order = ("violated", "inconclusive", "tight", "holds")
    verdicts = [r.verdict for r in inside]
    verdict = next((v for v in order if v in verdicts), "outside hypotheses")
    return {
        "theorem": theorem_id,
        "ratio": max(ratios) if ratios else None,
        "verdict": verdict,
        "case": results[0].case if results else "",
        "T": [r.T for r in results],
        "results": [r.to_dict() for r in results],
        "findings": [f.to_dict() for f in findings(results)],
    }
