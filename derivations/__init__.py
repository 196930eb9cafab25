"""The derivation audit: one module per paper, each a list of checks of the paper's own steps.

``derivations.all_checks()`` lists every :class:`~derivations.core.Check`; ``derivations.run(sel)``
runs those of a paper (``"QAFeL"``, any case) or the one with a given id and returns their
:class:`~derivations.core.Outcome` objects; :func:`findings_report` is what ``boundcheck findings``
prints: the union of the symbolic registry checks (dimensions, order claims) and the refuted
derivation checks, every entry computed now, with tool limitations listed apart.

Shipped in the wheel as the top-level package ``derivations`` (DESIGN.md layout).
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass, field
from typing import Any

from boundcheck.errors import UnknownIdError
from derivations.core import SEVERITIES, VERDICTS, Check, Outcome, Result

__all__ = [
    "PAPER_MODULES",
    "Check",
    "FindingsReport",
    "Outcome",
    "Result",
    "all_checks",
    "findings_report",
    "run",
    "run_cached",
    "select",
    "source_digest",
]

PAPER_MODULES = ("qafel", "fedpaq", "saef", "asyncbc")


def all_checks() -> list[Check]:
    """Every registered check, in paper order then as each module registers them."""
    out: list[Check] = []
    for name in PAPER_MODULES:
        out += importlib.import_module(f"derivations.{name}").CHECKS
    return out


def select(selector: str | None = None) -> list[Check]:
    """The checks of a paper (case-insensitive), the one check with that id, or all (None).

    An unknown selector raises :class:`UnknownIdError` naming the papers and the closest ids.
    """
    checks = all_checks()
    if not selector:
        return checks
    papers = {c.paper.lower(): c.paper for c in checks}
    if selector.lower() in papers:
        return [c for c in checks if c.paper.lower() == selector.lower()]
    by_id = {c.id: c for c in checks}
    if selector in by_id:
        return [by_id[selector]]
    close = difflib.get_close_matches(selector, list(by_id), n=3, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownIdError(
        f"unknown paper or check id {selector!r}{hint} (papers: "
        f"{', '.join(sorted(set(papers.values())))}; `boundcheck derive --json` lists every id)"
    )


def run(selector: str | None = None) -> list[Outcome]:
    """Run the selected checks (see :func:`select`) now and return their outcomes."""
    return [c.run() for c in select(selector)]


def source_digest() -> str:
    """A digest of every ``derivations/*.py`` file (with :func:`boundcheck.check.cache.code_digest`
    it keys the cached outcomes: an edited check or package is never answered from the cache)."""
    import hashlib
    from pathlib import Path

    h = hashlib.sha256()
    for f in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def run_cached(selector: str | None = None, cache_dir: Any = None) -> list[Outcome]:
    """As :func:`run`, reading each check's outcome from the content-addressed cache
    (:class:`boundcheck.check.cache.Cache`; ``cache_dir=""`` disables it) when the same code,
    package and derivations alike, computed it before; otherwise it runs the check and stores the
    outcome. ``boundcheck derive``, ``findings`` and ``report`` share the entries. A cached outcome
    carries its details as plain data (what ``--json`` prints)."""
    from boundcheck.check.cache import Cache, key_of

    checks = select(selector)
    if cache_dir == "":
        return [c.run() for c in checks]
    cache = Cache(cache_dir)
    digest = source_digest()
    out = []
    for c in checks:
        key = key_of({"derivation": c.id, "derivations_digest": digest})
        hit = cache.get(key)
        if isinstance(hit, dict) and hit.get("id") == c.id and hit.get("verdict") in VERDICTS:
            res = Result(hit["verdict"], hit["evidence"], dict(hit.get("details") or {}))
            out.append(Outcome(c, res))
            continue
        o = c.run()
        d = o.to_dict()
        cache.put(key, {k: d[k] for k in ("id", "verdict", "evidence", "details")})
        out.append(o)
    return out


@dataclass
class FindingsReport:
    """What ``boundcheck findings`` prints: findings (count toward the exit code) and what could not
    be checked (tool limitations, with the reason; never a finding)."""

    symbolic: list[Any] = field(default_factory=list)  # boundcheck.theory.core.Finding
    derivations: list[Outcome] = field(default_factory=list)  # refuted checks
    not_checked: list[dict[str, str]] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.symbolic) + len(self.derivations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbolic": [f.to_dict() for f in self.symbolic],
            "derivations": [o.to_dict() for o in self.derivations],
            "not_checked": list(self.not_checked),
            "count": self.count,
        }


def findings_report(
    paper: str | None = None, theorems: list | None = None, cache_dir: Any = ""
) -> FindingsReport:
    """Compute every finding now: the registry's symbolic checks plus the refuted derivation checks.

    ``paper`` restricts both to one paper; ``theorems`` replaces the registry (a user's own theorems,
    or a planted clean one in the tests) -- then only the symbolic checks run on them, and no
    derivation check (the audit is about the four papers). ``cache_dir`` is that of
    :func:`run_cached` (default ``""``: compute every check now).
    """
    from boundcheck.theory import checks, registry

    if theorems is None:
        every = registry.all_theorems()
        thms = [t for t in every if paper is None or t.paper.lower() == paper.lower()]
        outcomes = run_cached(paper or None, cache_dir)
    else:
        every = thms = list(theorems)
        outcomes = []
    by_id = {t.id: t for t in every}
    found, limits = checks.symbolic_findings(thms, by_id)
    report = FindingsReport(symbolic=found, not_checked=limits)
    for o in outcomes:
        if o.verdict == "refuted":
            report.derivations.append(o)
        elif o.verdict == "undecided":
            report.not_checked.append(
                {"subject": o.check.id, "reason": f"undecided: {o.result.evidence}"}
            )
    return report


_ = SEVERITIES  # re-exported for callers that print severities
