"""What a bound-versus-measured check produces: the contract between the engine and the reports.

A :class:`RunResult` holds one :class:`CheckResult` per spec (one theorem, one problem family, one
sweep); a check holds one :class:`PointResult` per sweep point. Every number a report shows is a
field here, so a report can be re-rendered from the JSON file (``RunResult.to_dict`` /
``RunResult.from_dict``; strict JSON through :mod:`boundcheck.jsonutil`) without rerunning anything.

Verdicts (DESIGN.md, "Honest statistics"): ``holds`` when the one-sided confidence bound on the
measured quantity lies on the bound's side, ``violated`` when the opposite one-sided bound crosses it
(both at level ``alpha`` corrected for the number of comparisons in the run), ``inconclusive``
otherwise (also when a few replicas dominate the mean), ``outside hypotheses`` when a stated condition
fails at the point (run only with ``--force``), ``diverged`` when replicas diverged (with the steps).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

__all__ = [
    "CLAIM_VERDICTS",
    "PROVENANCES",
    "VERDICTS",
    "CheckResult",
    "PointResult",
    "RunResult",
    "SymbolValue",
    "aggregate_verdict",
]

VERDICTS = ("holds", "violated", "inconclusive", "outside hypotheses", "diverged", "error")
#: verdicts of an empirical comparison claim (boundcheck.check.comparison): never "violated"
CLAIM_VERDICTS = ("reproduced", "not reproduced")
PROVENANCES = ("exact", "certified", "observed", "chosen", "derived")


@dataclass
class SymbolValue:
    """The value a theorem symbol takes at a point, and where it comes from."""

    name: str  # the theorem's symbol name, e.g. "sigma_l"
    value: float | None
    provenance: str  # one of PROVENANCES
    source: str = (
        ""  # e.g. "problem constant L_i (eigenvalues, exact)", "measured tau_max of the batch"
    )


@dataclass
class PointResult:
    """One sweep point: the symbol values, the measured quantity and its statistics, the verdict.

    ``measured`` is the estimate of the theorem's left-hand side (for an expectation: the replica
    mean, or the estimator the check documents in ``estimator``); ``ci_low``/``ci_high`` are the
    one-sided confidence bounds at the run's corrected level (either may be ``None`` when not
    defined); ``median``, ``q10``, ``q90``, ``max`` describe the per-replica spread and
    ``top_share`` the fraction of the mean carried by the largest 1% of replicas (at least one).
    ``curve`` optionally holds per-step data for plots: ``{"t": [...], "mean": [...], "bound": [...]}``.
    """

    point: dict[str, float]  # the sweep coordinates, e.g. {"T": 1000.0}
    values: list[SymbolValue] = field(default_factory=list)
    measured: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    median: float | None = None
    q10: float | None = None
    q90: float | None = None
    max: float | None = None
    top_share: float | None = None
    estimator: str = ""
    bound: float | None = None
    ratio: float | None = None  # measured / bound (upper bounds); bound / measured (lower bounds)
    verdict: str = "inconclusive"  # one of VERDICTS
    failing_conditions: list[str] = field(default_factory=list)  # stated conditions that fail
    proof_conditions_failing: list[str] = field(default_factory=list)  # reported, never an excuse
    n_replicas: int = 0
    n_diverged: int = 0
    diverged_steps: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    curve: dict[str, list[float]] | None = None
    wall_s: float | None = None


@dataclass
class CheckResult:
    """One spec: a theorem checked over a sweep on one problem family with one algorithm."""

    spec_id: str  # file stem of the spec, e.g. "qafel_thm_f1"
    theorem_id: str  # registry id, e.g. "qafel.thm_f1"
    source: str  # the paper's numbering, e.g. "QAFeL, Theorem F.1, eq. (9)"
    paper: str  # "QAFeL" | "FedPAQ" | "SAEF" | "AsyncBC" | a user's label
    statement_latex: str  # "lhs <= bound" as LaTeX
    lhs_text: str  # the measured quantity in words / formula
    direction: str  # "upper" | "lower" | "nonconvergence" | "pathwise" | "order"
    problem: dict[str, Any]  # family and parameters
    algorithm: dict[str, Any]  # name and settings
    x_axis: str  # the sweep coordinate to plot against, e.g. "T"
    points: list[PointResult] = field(default_factory=list)
    verdict: str = "inconclusive"  # aggregate over points, see aggregate_verdict
    tightness: float | None = None  # max ratio over points inside the hypotheses
    findings: list[str] = field(default_factory=list)  # computed findings attached to this check
    dimension_findings: list[str] = field(default_factory=list)
    derivation_findings: list[str] = field(default_factory=list)
    order: dict[str, Any] | None = None  # {"fitted_slope", "claimed_slope", "ci", "verdict"}
    command: str = ""  # the exact command that reproduces this check
    seed: int = 0
    alpha: float = 0.05
    replicas: int = 0
    device: str = "cpu"
    dtype: str = "float64"
    wall_s: float | None = None
    # worst case over the function class (PEPit, ``boundcheck report --pep``): see
    # :func:`boundcheck.check.pep.worst_case_summary` (its ``results`` and ``ratio``/``verdict``)
    pep: dict[str, Any] | None = None
    # an empirical comparison claim (direction "comparison"): per point both configurations'
    # measurements, the ratios with bounds, the claimed ranges and verdicts; see
    # :func:`boundcheck.check.comparison.assemble`
    comparison: dict[str, Any] | None = None


@dataclass
class RunResult:
    """A whole run (``boundcheck verify`` / ``report``): checks plus the environment."""

    checks: list[CheckResult] = field(default_factory=list)
    alpha: float = 0.05
    n_comparisons: int = 0  # the Bonferroni denominator used for the one-sided tests
    environment: dict[str, Any] = field(default_factory=dict)  # versions, device, platform, time
    command: str = ""
    wall_s: float | None = None
    calibration: dict[str, Any] | None = None  # planted-bound rates shown in the report, if run

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RunResult:
        checks = []
        for c in d.get("checks", []):
            c = dict(c)
            pts = []
            for p in c.pop("points", []):
                p = dict(p)
                vals = [SymbolValue(**v) for v in p.pop("values", [])]
                pts.append(PointResult(values=vals, **_known(PointResult, p)))
            checks.append(CheckResult(points=pts, **_known(CheckResult, c)))
        rest = {k: v for k, v in _known(cls, d).items() if k != "checks"}
        return cls(checks=checks, **rest)


def _known(cls: type, d: dict[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    return {k: v for k, v in d.items() if k in names}


def aggregate_verdict(verdicts: list[str]) -> str:
    """A check's verdict from its points': any violated > diverged > error > inconclusive >
    outside hypotheses (only if every point is outside) > holds."""
    for v in ("violated", "diverged", "error", "inconclusive"):
        if v in verdicts:
            return v
    if verdicts and all(v == "outside hypotheses" for v in verdicts):
        return "outside hypotheses"
    return "holds" if "holds" in verdicts else "inconclusive"
