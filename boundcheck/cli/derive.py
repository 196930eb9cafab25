"""``boundcheck derive [PAPER|CHECK_ID] [--json]``: run the derivation audit (``derivations/``)."""

from __future__ import annotations

import click

from boundcheck.cli.app import app


def outcome_rows(outcomes: list) -> list[tuple[str, str, str, str]]:
    """(location, verdict, severity, evidence) per outcome, as printed."""
    from derivations.core import SEVERITIES

    rows = []
    for o in outcomes:
        sev = SEVERITIES[o.check.severity] if o.verdict == "refuted" else "-"
        rows.append((f"{o.check.id}\n{o.check.location}", o.verdict, sev, o.result.evidence))
    return rows


@app.command("derive")
@click.argument("selector", required=False, metavar="[PAPER|CHECK_ID]")
@click.option("--json", "as_json", is_flag=True, help="Strict JSON: every check with its evidence.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Recompute every check instead of reading outcomes the same code computed before.",
)
def derive_cmd(selector: str | None, as_json: bool, no_cache: bool) -> int:
    """Re-run the audit of the papers' own derivations, now.

    Each check states a claim of a paper (a minimum, a limit, a closed-form sum, a stepsize that
    must meet the proof's conditions, a constant obtained by substitution, an order) and decides
    it: verified (with the simplified identity or proof), refuted (with a counterexample, both
    sides evaluated, the hypotheses shown to hold) or undecided (with what was tried). A refuted
    claim has a severity: typo, changes a constant, changes an order, invalidates the claim.

    Exit code 1 when a check is refuted, 0 otherwise (undecided is not a finding), 2 on bad input.
    Outcomes are cached by content (a digest of the package and of derivations/): a check is
    recomputed whenever its code or the package changes; --no-cache recomputes all.

    \b
    Examples:
      boundcheck derive SAEF
      boundcheck derive saef.lemma2_minimum --json
    """
    import derivations
    from boundcheck import jsonutil

    outcomes = derivations.run_cached(selector, "" if no_cache else None)
    refuted = [o for o in outcomes if o.verdict == "refuted"]
    if as_json:
        click.echo(jsonutil.dumps({"checks": [o.to_dict() for o in outcomes]}))
        return 1 if refuted else 0
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    table = Table(box=None, header_style="bold", expand=False, pad_edge=False)
    table.add_column("location", max_width=22, overflow="fold")
    table.add_column("verdict", no_wrap=True)
    table.add_column("severity", max_width=11)
    table.add_column("evidence", overflow="fold", min_width=30)
    colour = {"verified": "green", "refuted": "red", "undecided": "yellow"}
    for loc, verdict, sev, evidence in outcome_rows(outcomes):
        table.add_row(
            escape(loc), f"[{colour[verdict]}]{verdict}[/]", escape(sev), escape(evidence)
        )
    console.print(table)
    counts = {
        v: sum(o.verdict == v for o in outcomes) for v in ("verified", "refuted", "undecided")
    }
    console.print(
        f"{len(outcomes)} check(s): {counts['verified']} verified, {counts['refuted']} refuted, "
        f"{counts['undecided']} undecided"
    )
    return 1 if refuted else 0
