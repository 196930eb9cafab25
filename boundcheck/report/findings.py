"""The symbolic findings a report shows beside each theorem's empirical check.

For a check whose theorem is in the registry, the dimension and order-claim findings computed now
(:func:`boundcheck.theory.checks.all_findings`, what ``boundcheck dims`` prints) and the findings on
the paper's derivation recorded in the encoding (:func:`boundcheck.theory.checks.recorded_findings`,
what ``boundcheck findings`` prints). A limitation of the tool ("cannot compare ...: no example
value") is not a finding and is left out.
"""

from __future__ import annotations

from boundcheck.check.results import RunResult
from boundcheck.errors import BoundcheckError

__all__ = ["attach_theory_findings"]


def _with_parts(message: str, parts: list[dict[str, str]]) -> str:
    """The finding with the sub-expressions that disagree and their dimensions."""
    if not parts:
        return message
    return message + ": " + "; ".join(f"{p['expr']} ~ {p['dim']}" for p in parts)


def attach_theory_findings(run: RunResult) -> RunResult:
    """Fill each check's ``dimension_findings`` and ``derivation_findings`` from the theorem
    registry and the derivation audit (``boundcheck derive``), computed now, where the engine left
    them empty (in place; returns ``run``). Checks of theorems the registry does not know (a user's
    own) are left as they are. Only the audit's *refuted* checks whose subject is the theorem are
    findings; verified ones are not listed."""
    import derivations
    from boundcheck.theory import checks, registry

    by_id = {t.id: t for t in registry.all_theorems()}
    wanted = {c.theorem_id for c in run.checks if c.theorem_id in by_id}
    refuted: dict[str, list[str]] = {}
    if wanted and any(not c.derivation_findings for c in run.checks):
        for o in derivations.run_cached(None):  # shared with `derive` / `findings` (by content)
            d = o.to_dict()
            if d["verdict"] == "refuted" and d["subject"] in wanted:
                refuted.setdefault(d["subject"], []).append(
                    f"{d['claim']} ({d['location']}; {d['severity']}): {d['evidence']} "
                    f"[boundcheck derive {d['id']}]"
                )
    for c in run.checks:
        try:
            thm = registry.get(c.theorem_id)
        except BoundcheckError:
            continue
        if not c.dimension_findings:
            c.dimension_findings = [
                _with_parts(f.message, f.evidence.get("parts", []))
                for f in checks.all_findings([thm], by_id)
                if not f.message.startswith("cannot ")
            ]
        if not c.derivation_findings:
            c.derivation_findings = list(refuted.get(thm.id, []))
    return run


def attach_pep(run: RunResult) -> RunResult:
    """Fill each check's ``pep`` (worst case over the function class, PEPit) where its theorem has
    a deterministic special case, and add a violation inside the stated hypotheses to the check's
    findings (in place; returns ``run``). Needs ``boundcheck[pep]`` (a one-line error otherwise)."""
    from boundcheck.check import pep

    pep.require_pepit()
    cache: dict[str, dict | None] = {}
    for c in run.checks:
        if c.theorem_id not in cache:
            cache[c.theorem_id] = pep.worst_case_summary(c.theorem_id)
        c.pep = cache[c.theorem_id]
        if c.pep:
            c.findings.extend(f["message"] for f in c.pep["findings"])
    return run


def attach_falsify(run: RunResult, budget: int = 16, seed: int = 0) -> RunResult:
    """Fill each check's ``falsify`` (the worst case the search over the theorem's stated
    hypotheses found, :func:`boundcheck.check.falsify.falsify_summary`) where its theorem has a
    declared search space, and add a certified violation to the check's findings (in place)."""
    from boundcheck.check.falsify import falsify_summary

    cache: dict[str, dict | None] = {}
    n = max(1, len({c.theorem_id for c in run.checks}))
    for c in run.checks:
        if c.theorem_id not in cache:
            cache[c.theorem_id] = falsify_summary(
                c.theorem_id, budget=budget, seed=seed, alpha=run.alpha / n
            )
        c.falsify = cache[c.theorem_id]
        if c.falsify:
            c.findings.extend(f["message"] for f in c.falsify["findings"])
    return run
