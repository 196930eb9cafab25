"""``boundcheck list | show | stepsize | dims``: the symbolic layer from the command line."""

from __future__ import annotations

import math
import re
from functools import cache

import click
import sympy as sp
from rich.markup import escape as esc
from rich.table import Table

from boundcheck.cli import _ui
from boundcheck.cli._ui import echo_json
from boundcheck.errors import ParameterError
from boundcheck.theory import checks, registry, stepsize
from boundcheck.theory import symbols as S
from boundcheck.theory.core import Theorem
from boundcheck.theory.evaluate import (
    PRINTED_DIGITS,
    bound_function,
    check_conditions,
    evaluate_bound,
    validate,
)
from boundcheck.theory.userfile import resolve_theorem


class _Out:
    """``console.print`` on a console sized when the command runs (terminal, COLUMNS or 80)."""

    def __getattr__(self, name: str):
        return getattr(_ui.console(), name)


console = _Out()


def _id_column(table: Table, header: str, ids: list[str]) -> None:
    """An identifier column that is never cut: as wide as its longest id (other columns wrap)."""
    width = max([len(header), *(len(i) for i in ids)]) if ids else len(header)
    table.add_column(header, no_wrap=True, min_width=width, overflow="fold")


def _text_column(table: Table, header: str) -> None:
    table.add_column(header, overflow="fold", ratio=1)


def _num(v: float | None, digits: int = 6) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)
    return f"{v:.{digits}g}"


_TOP_LEVEL_SUM = re.compile(r"[+-]")


def _top_level_sum(latex: str) -> bool:
    """Whether a symbol's LaTeX name is a sum or difference at brace depth 0 (``f(x^0) - f^*``)."""
    depth = 0
    for i, ch in enumerate(latex):
        if ch in "{(":
            depth += 1
        elif ch in "})":
            depth -= 1
        elif depth == 0 and i > 0 and _TOP_LEVEL_SUM.match(ch):
            return True
    return False


def _latex_names() -> dict[sp.Symbol, str]:
    """Every symbol's LaTeX name; one that is itself a difference (F0 = ``f(x^0) - f^*``) is
    parenthesised, so ``2 L F0 / sqrt(T)`` prints as ``2L(f(x^0) - f^*)/sqrt(T)``."""
    out = {}
    for i in S.catalogue().values():
        name = i.latex
        out[i.symbol] = rf"\left({name}\right)" if _top_level_sum(name) else name
    return out


def _render(expr: sp.Basic, latex: bool) -> str:
    if latex:
        return sp.latex(expr, symbol_names=_latex_names())
    return sp.pretty(expr, use_unicode=True, num_columns=max(40, console.width - 4))


def _of_paper(thms: list[Theorem], paper: str | None) -> list[Theorem]:
    """The theorems of ``paper`` (any case), all when None; an unknown paper is bad input."""
    if paper is None:
        return thms
    papers = sorted({t.paper for t in thms})
    if paper.lower() not in {p.lower() for p in papers}:
        raise ParameterError(f"--paper {paper!r} is unknown; allowed: {', '.join(papers)}")
    return [t for t in thms if t.paper.lower() == paper.lower()]


@click.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--paper", help="Only this paper: QAFeL, FedPAQ, SAEF or AsyncBC.")
def list_cmd(as_json: bool, paper: str | None) -> int:
    """Every theorem id with its source and one-line statement.

    \b
    Example:
      boundcheck list --paper QAFeL
    """
    thms = registry.all_theorems()
    thms = _of_paper(thms, paper)
    if as_json:
        rows = [
            {"id": t.id, "paper": t.paper, "source": t.source, "statement": t.statement}
            for t in thms
        ]
        echo_json(rows)
        return 0
    table = Table(show_header=True, header_style="bold", box=None)
    _id_column(table, "id", [t.id for t in thms])
    _text_column(table, "source")
    _text_column(table, "statement")
    for t in thms:
        table.add_row(t.id, esc(t.source), esc(t.statement))
    console.print(table)
    return 0


def _theorem_dict(t: Theorem) -> dict:
    return {
        "id": t.id,
        "paper": t.paper,
        "source": t.source,
        "title": t.title,
        "statement": t.statement,
        "direction": t.direction.value,
        "lhs": {"id": t.lhs.id, "text": t.lhs.text, "definition": t.lhs.definition},
        "bound": None if t.bound is None else str(t.bound),
        "bound_latex": None if t.bound is None else _render(t.bound, True),
        "definitions": [
            {"symbol": str(s), "expr": str(e), "latex": _render(e, True)} for s, e in t.definitions
        ],
        "conditions": [
            {
                "id": c.id,
                "kind": c.kind.value,
                "source": c.source,
                "relation": str(c.relation),
                "latex": _render(c.relation, True),
                "description": c.description,
            }
            for c in t.conditions
        ],
        "order": None
        if t.order is None
        else {
            "terms": [str(x) for x in t.order.terms],
            "variable": str(t.order.variable),
            "scalings": {str(k): str(v) for k, v in t.order.scalings.items()},
            "explicit": t.order.explicit,
        },
        "assumptions": [{"id": a.id, "statement": a.statement} for a in t.assumptions],
        "parameters": t.parameters(),
        "symbols": {
            p: {"meaning": S.info(p).meaning, "dimension": str(S.info(p).dim)}
            for p in _all_symbols(t)
        },
        "notes": list(t.notes),
        "example": dict(t.example),
    }


@cache
def _findings(ids: tuple[str, ...]) -> list:
    """The symbolic checks over these theorems (computed once per process)."""
    by_id = {t.id: t for t in registry.all_theorems()}
    return checks.all_findings([by_id[i] for i in ids], by_id)


def _all_symbols(t: Theorem) -> list[str]:
    names = set(t.parameters()) | {s.name for s, _ in t.definitions}
    return sorted(n for n in names if n in S.catalogue())


@click.command("show")
@click.argument("theorem_id", metavar="THEOREM")
@click.option("--latex", is_flag=True, help="Render the math as LaTeX instead of Unicode.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def show_cmd(theorem_id: str, latex: bool, as_json: bool) -> int:
    """Bound, conditions, assumptions and symbol table of one theorem.

    THEOREM is a shipped id (`boundcheck list`) or a theorem file (TOML or Python; see the
    README, "Check your own theorem"): the parsed expressions are shown back.

    \b
    Examples:
      boundcheck show qafel.thm_f1 --latex
      boundcheck show examples/sgd_smooth.toml
    """
    t = resolve_theorem(theorem_id)
    if as_json:
        echo_json(_theorem_dict(t))
        return 0
    out = console.print

    def mout(text: str) -> None:  # math: never re-wrapped (pretty fits the width itself)
        console.print(text, soft_wrap=True)

    out(f"[bold]{t.id}[/bold] — {esc(t.source)}: {esc(t.title)}")
    out(esc(t.statement))
    out(f"\n[bold]Bounds[/bold] ({t.direction.value}): {esc(t.lhs.text)}")
    out(f"  where {esc(t.lhs.definition)}")
    if t.bound is not None:
        rel = {"upper": "≤", "lower": "≥", "nonconvergence": "≥"}.get(t.direction.value, "=")
        out(f"\n  {t.lhs.id} {rel}\n")
        mout(esc(_indent(_render(t.bound, latex))))
    if t.order is not None:
        out(f"\n[bold]Order claim[/bold] as {t.order.variable} → ∞: O of the sum of")
        for term in t.order.terms:
            mout(esc(_indent(_render(term, latex))))
        for k, v in t.order.scalings.items():
            mout(esc(f"  with {k} = O({_render(v, latex)})" if latex else f"  with {k} ~ {v}"))
    if t.definitions:
        out("\n[bold]Definitions[/bold]")
        for s, e in t.definitions:
            mout(esc(f"  {_render(s, latex)} :="))
            mout(esc(_indent(_render(e, latex), 4)))
    if t.conditions:
        out("\n[bold]Conditions[/bold]")
        for c in t.conditions:
            out(esc(f"  [{c.kind.value}] {c.id} ({c.source}) {c.description}"))
            mout(esc(_indent(_render(c.relation, latex), 4)))
    if t.assumptions:
        out("\n[bold]Assumptions[/bold]")
        for a in t.assumptions:
            out(esc(f"  {a.source}: {a.statement}"))
    table = Table(box=None, header_style="bold")
    _id_column(table, "symbol", _all_symbols(t))
    table.add_column("dimension", overflow="fold")
    _text_column(table, "meaning")
    for name in _all_symbols(t):
        i = S.info(name)
        table.add_row(name, esc(str(i.dim)), esc(i.meaning))
    out("\n[bold]Symbols[/bold]")
    out(table)
    if t.notes:
        out("\n[bold]Notes[/bold] (readings chosen, discrepancies found)")
        for note in t.notes:
            out(esc(f"  • {note}"))
    if t.example:
        out("\n[bold]Example[/bold]:")
        console.print(esc(_shell_lines(example_command(t), console.width)), soft_wrap=True)
    return 0


def example_command(t: Theorem) -> str:
    """The ready ``boundcheck stepsize`` line for the theorem's documented example values, each
    printed with PRINTED_DIGITS significant digits (the stepsize check tolerates that rounding)."""
    ex = " ".join(f"--{k} {v:.{PRINTED_DIGITS}g}" for k, v in t.example.items())
    return f"boundcheck stepsize {t.extra.get('file', t.id)} {ex}"


def _shell_lines(command: str, width: int) -> str:
    """A command split into shell continuation lines (`` \\``) that fit ``width`` columns; an
    option stays on one line with its value, so the text still pastes into a shell."""
    words = command.split(" ")
    pairs, i = [], 0
    while i < len(words):
        if words[i].startswith("--") and i + 1 < len(words):
            pairs.append(f"{words[i]} {words[i + 1]}")
            i += 2
        else:
            pairs.append(words[i])
            i += 1
    lines, cur = [], ""
    for p in pairs:
        if cur and len(cur) + 1 + len(p) + 2 > width:
            lines.append(cur + " \\")
            cur = "    " + p
        else:
            cur = f"{cur} {p}" if cur else p
    lines.append(cur)
    return "\n".join(lines)


def _indent(text: str, k: int = 2) -> str:
    return "\n".join(" " * k + line for line in text.splitlines())


def _parse_params(args: list[str]) -> dict[str, str]:
    """``--name value`` / ``--name=value`` pairs; ``-`` and ``_`` are the same in names."""
    out: dict[str, str] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if not a.startswith("--") or len(a) <= 2:
            raise ParameterError(f"unexpected argument {a!r}; parameters are given as --name value")
        name, eq, val = a[2:].partition("=")
        if not eq:
            if i + 1 >= len(args):
                raise ParameterError(f"--{name} needs a value")
            val = args[i + 1]
            i += 1
        out[name.replace("-", "_")] = val
        i += 1
    return out


@click.command(
    "stepsize",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("theorem_id", metavar="THEOREM")
@click.option(
    "--solve-for",
    "solve_for",
    metavar="NAME",
    help="Solve every condition for this parameter with the others fixed.",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def stepsize_cmd(ctx: click.Context, theorem_id: str, solve_for: str | None, as_json: bool) -> int:
    """Evaluate a theorem's stepsize conditions (and bound) at given parameter values.

    THEOREM is a shipped id or a theorem file (TOML or Python). Pass every parameter of the theorem as --NAME VALUE (`boundcheck show ID` lists them). Each
    condition is reported as satisfied or violated with its margin (rhs - lhs for a <= condition).
    With --solve-for NAME, NAME is left out and each condition is solved for it: the admissible
    interval(s) and the largest admissible value; the bound is evaluated at that value.

    Exit code 0 when every stated condition and the prescribed stepsize hold (a prescribed value
    to the 6 significant digits `show` prints), 1 when one fails (or no admissible value exists),
    2 on bad input (a value outside its domain, or a degenerate one such as tau_max 0 where the
    theorem divides by it). The paper's simplified sufficient forms and the conditions used only
    inside a proof are reported beside them but do not decide the exit code.

    \b
    Examples:
      boundcheck stepsize qafel.thm_f1 --L 1 --K 10 --P 5 --T 1000 --eta_g 1 --eta_l 0.01 \\
          --delta_c 0.5 --delta_s 0.5 --tau_max 4 --sigma_l 1 --G 1 --F0 1
      boundcheck stepsize qafel.thm_f1 --solve-for eta_l --L 1 --K 10 ... --json
    """
    t = resolve_theorem(theorem_id)
    raw = _parse_params(ctx.args)
    needed = t.parameters()
    if not t.conditions and t.bound is None:
        raise ParameterError(f"{t.id} has neither conditions nor an explicit bound to evaluate")
    if solve_for is not None:
        solve_for = solve_for.replace("-", "_")
        if solve_for not in needed:
            raise ParameterError(
                f"--solve-for {solve_for}: {t.id} has no parameter {solve_for}; "
                f"it takes: {', '.join(needed)}"
            )
        if solve_for in raw:
            raise ParameterError(f"--{solve_for} is given and solved for; give one or the other")
        values = validate(t, raw, [p for p in needed if p != solve_for])
        with _ui.status(f"solving {t.id} for {solve_for}"):
            return _solve_report(t, solve_for, values, as_json)
    values = validate(t, raw, needed)
    results = check_conditions(t, values)
    bound = evaluate_bound(t, values) if t.bound is not None else None
    deciding = stepsize.required_kinds()
    _refuse_degenerate(t, values, results, bound)
    bound_text = None  # beyond float64's range: the value as text (mpmath has no overflow)
    if bound is not None and math.isinf(bound):
        fn, names = bound_function(t)
        bound_text = fn.exact_text(*[values[n] for n in names])
    failed = [r for r in results if not r.holds and r.condition.kind in deciding]
    if as_json:
        echo_json(
            {
                "theorem": t.id,
                "values": values,
                "conditions": [
                    {
                        "id": r.condition.id,
                        "kind": r.condition.kind.value,
                        "decides": r.condition.kind in deciding,
                        "relation": str(r.condition.relation),
                        "lhs": r.lhs,
                        "rhs": r.rhs,
                        "margin": r.slack,
                        "relative_margin": r.relative_margin,
                        "holds": r.holds,
                    }
                    for r in results
                ],
                "bound": bound,
                "bound_text": bound_text,
                "all_required_hold": not failed,
            }
        )
        return 1 if failed else 0
    table = Table(box=None, header_style="bold", pad_edge=False)
    _id_column(table, "condition", [r.condition.id for r in results])
    for col in ("kind", "lhs", "rhs", "margin"):
        table.add_column(col, overflow="fold", no_wrap=col != "kind")
    table.add_column("verdict", overflow="fold")
    notes = set()
    for r in results:
        verdict = "[green]satisfied[/green]" if r.holds else "[red]violated[/red]"
        if not r.holds and r.condition.kind not in deciding:
            verdict = "[yellow]not met*[/yellow]"
            notes.add(r.condition.kind.value)
        table.add_row(
            r.condition.id,
            r.condition.kind.value,
            _num(r.lhs),
            _num(r.rhs),
            f"{_num(100 * r.relative_margin, 2)}%",
            verdict,
        )
    console.print(f"[bold]{t.id}[/bold] — {esc(t.source)}")
    console.print(table)
    console.print("margin: (rhs - lhs)/|rhs| of a <= condition (> 0 inside), in percent")
    if notes:
        console.print(
            "* not met: a paper's simplified sufficient form or a condition used only inside "
            "the proof; reported, not required by the stated theorem"
        )
    if bound is not None:
        rel = "≤" if t.direction.value == "upper" else "≥"
        shown = _num(bound) if bound_text is None else f"{bound_text} (beyond float64)"
        console.print(f"bound: {t.lhs.id} {rel} {shown}")
    if failed:
        console.print(
            f"[red]{len(failed)} required (stated or prescribed) condition(s) violated[/red]"
        )
    return 1 if failed else 0


def _refuse_degenerate(t: Theorem, values: dict, results: list, bound: float | None) -> None:
    """A value at the edge of its domain (0 for tau_max) that leaves a deciding condition or the
    bound undefined is refused with a one-line error (bad input), not reported as a failure."""
    undefined = [
        r.condition.id
        for r in results
        if r.condition.kind in stepsize.required_kinds()
        and (math.isnan(r.slack) or math.isnan(r.rhs) or math.isnan(r.lhs))
    ]
    if bound is not None and math.isnan(bound):
        undefined.append("the bound")
    if not undefined:
        return
    zeros = [k for k, v in values.items() if v == 0]
    what = ", ".join(undefined)
    if zeros:
        raise ParameterError(
            f"{', '.join(f'{k}=0' for k in zeros)} is degenerate for {t.id}: {what} "
            f"undefined there (division by zero); allowed: {' and '.join(zeros)} > 0"
        )
    raise ParameterError(
        f"{t.id} is undefined at these values ({what} is not a number); "
        "choose values inside the theorem's hypotheses"
    )


def _solve_report(t: Theorem, param: str, values: dict, as_json: bool) -> int:
    per, required, simple = stepsize.solve(t, param, values)
    if not per:
        raise ParameterError(f"no condition of {t.id} involves {param}")
    bound = None
    best = required.largest if required is not None else None
    if t.bound is not None and best is not None and math.isfinite(best):
        bound = evaluate_bound(t, {**values, param: best})

    def sol_dict(s: stepsize.Solution | None) -> dict | None:
        if s is None:
            return None
        return {
            "label": s.label,
            "intervals": [[a, b] for a, b in s.intervals],
            "largest": s.largest,
        }

    ok = required is None or not required.empty
    if as_json:
        echo_json(
            {
                "theorem": t.id,
                "solve_for": param,
                "values": values,
                "conditions": [sol_dict(s) for s in per],
                "required": sol_dict(required),
                "simplified": sol_dict(simple),
                "bound_at_largest": bound,
            }
        )
        return 0 if ok else 1
    console.print(f"[bold]{t.id}[/bold] — solving for [bold]{param}[/bold]")
    table = Table(box=None, header_style="bold")
    labels = [s.label for s in per] + [s.label for s in (required, simple) if s is not None]
    _id_column(table, "condition", labels)
    _text_column(table, "admissible set")
    table.add_column("largest", overflow="fold")
    for s in per:
        table.add_row(s.label, _intervals(s), _num(s.largest))
    for s in (required, simple):
        if s is not None:
            table.add_row(f"[bold]{s.label}[/bold]", _intervals(s), _num(s.largest))
    console.print(table)
    if bound is not None:
        console.print(f"bound at {param} = {_num(best)}: {t.lhs.id} ≤ {_num(bound)}")
    if not ok:
        console.print("[red]no admissible value satisfies every required condition[/red]")
    return 0 if ok else 1


def _intervals(s: stepsize.Solution) -> str:
    if s.empty:
        return "empty"
    return " ∪ ".join(
        f"{{{_num(a)}}}" if a == b else f"[{_num(a)}, {_num(b)}]" for a, b in s.intervals
    )


@click.command("dims")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.argument("theorem_ids", nargs=-1)
def dims_cmd(as_json: bool, theorem_ids: tuple[str, ...]) -> int:
    """Dimensional analysis of every encoded expression (all theorems, or those named).

    A name is a shipped id or a theorem file (TOML or Python): a user's theorem is checked the
    same way.

    x has dimension [X], objective values [F]: L and mu are [F]/[X]^2, a stepsize that multiplies
    a gradient [X]^2/[F], sigma^2 and G [F]^2/[X]^2, counts and compression parameters 1. Every
    term of every sum, both sides of every (in)equality, every argument of max/min and of functions
    is checked; each inconsistency is listed with the sub-expressions that disagree. Order claims
    are also compared with the explicit bounds they summarise.

    Exit code 1 when anything is found.
    """
    thms = [resolve_theorem(i) for i in theorem_ids] if theorem_ids else registry.all_theorems()
    shipped = set(registry.ids())
    with _ui.status("checking dimensions and orders"):
        findings = _findings(tuple(dict.fromkeys(t.id for t in thms if t.id in shipped)))
        for t in dict.fromkeys(t for t in thms if t.id not in shipped):
            findings = [*findings, *checks.all_findings([t], {})]
    if as_json:
        echo_json([f.to_dict() for f in findings])
        return 1 if findings else 0
    for f in findings:
        console.print(f"[red]{esc(f.kind)}[/red] {f.subject}: {esc(f.message)}")
        for p in f.evidence.get("parts", []):
            console.print(esc(f"    {p['expr']}   ~ {p['dim']}"))
        if "ratios" in f.evidence:
            console.print(esc(f"    bound/claimed rate: {f.evidence['ratios']}"))
    console.print(f"{len(findings)} finding(s) over {len(thms)} theorem(s)")
    return 1 if findings else 0


@click.command("findings")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--paper", help="Only this paper: QAFeL, FedPAQ, SAEF or AsyncBC.")
@click.option(
    "--pep",
    "with_pep",
    is_flag=True,
    help="Also solve every deterministic special case's worst case over the function class "
    "(PEPit; pip install 'boundcheck[pep]'; a few seconds): a worst case above the bound inside "
    "the stated hypotheses is a finding.",
)
@click.option(
    "--falsify",
    "with_falsify",
    is_flag=True,
    help="Also search every encoded bound's stated hypotheses for the instance that breaks it "
    "(`boundcheck falsify --all`, exact expectations where the instance allows; about a minute "
    "at the default budget): a certified violation is a finding.",
)
@click.option(
    "--falsify-budget",
    default=16,
    show_default=True,
    metavar="N",
    help="Candidate evaluations per theorem for --falsify.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Recompute every derivation check instead of reading outcomes the same code computed.",
)
def findings_cmd(
    as_json: bool,
    paper: str | None,
    with_pep: bool,
    with_falsify: bool,
    falsify_budget: int,
    no_cache: bool,
) -> int:
    """Everything boundcheck finds wrong in the four papers' statements, computed now, with evidence.

    Two sources, both run when you ask: the symbolic checks of every encoded theorem (dimensions of
    every expression, order claims against the explicit bounds they summarise) and the refuted
    checks of the derivation audit (`boundcheck derive`: false lemmas, constants lost between proof
    and statement, stepsizes that miss a proof condition), each with its counterexample. What the
    tool could not check is listed apart, with the reason; it is not a finding.

    Exit code 1 when anything is found. The derivation outcomes are cached by content (shared with
    `boundcheck derive` and `report`; recomputed whenever the code changes); --no-cache recomputes.
    """
    import derivations

    thms = _of_paper(registry.all_theorems(), paper)  # an unknown paper is bad input
    pep_rows: list[dict] = []
    if with_pep:
        from boundcheck.check import pep

        pep.require_pepit()
        ids = {t.id for t in thms}
        with _ui.status("solving the PEPit worst cases"):
            pep_rows = [pep.worst_case_summary(t) for t in pep.REDUCTIONS if t in ids]
    pep_findings = [f for r in pep_rows for f in r["findings"]]
    fal_rows: list[dict] = []
    if with_falsify:
        if falsify_budget < 1:
            raise ParameterError(
                f"--falsify-budget {falsify_budget} is not allowed: expected an integer >= 1"
            )
        from boundcheck.check.falsify import falsifiable_ids, falsify_summary

        ids = {t.id for t in thms}
        todo = [t for t in falsifiable_ids() if t in ids]
        _ui.check_work(1e6 * falsify_budget * len(todo), f"--falsify-budget {falsify_budget}")
        with _ui.progress("falsify", len(todo)) as update:
            for i, tid in enumerate(todo):
                fal_rows.append(falsify_summary(tid, budget=falsify_budget, alpha=0.05 / len(todo)))
                update(i + 1)
    fal_findings = [f for r in fal_rows for f in r["findings"]]
    with _ui.status("checking dimensions, orders and derivations"):
        report = derivations.findings_report(paper, cache_dir="" if no_cache else None)
    count = report.count + len(pep_findings) + len(fal_findings)
    if as_json:
        out = report.to_dict()
        if with_pep:
            out["pep"] = [{k: v for k, v in r.items() if k != "results"} for r in pep_rows]
        if with_falsify:
            out["falsify"] = fal_rows
        if with_pep or with_falsify:
            out["count"] = count
        echo_json(out)
        return 1 if count else 0
    console.print(f"[bold]Symbolic checks[/bold] ({len(report.symbolic)} finding(s))")
    for f in report.symbolic:
        console.print(f"  [red]{esc(f.kind)}[/red] {f.subject}: {esc(f.message)}")
        for p in f.evidence.get("parts", []):
            console.print(esc(f"      {p['expr']}   ~ {p['dim']}"))
    console.print(
        f"\n[bold]Derivation audit[/bold] ({len(report.derivations)} refuted claim(s); "
        "`boundcheck derive ID` re-runs one)"
    )
    for o in report.derivations:
        d = o.to_dict()
        console.print(f"  [red]{esc(d['severity'])}[/red] {d['id']} ({esc(d['location'])}):")
        console.print(esc(f"      {d['evidence']}"))
    if with_pep:
        console.print(
            f"\n[bold]Worst case over the class (PEPit)[/bold] ({len(pep_findings)} finding(s); "
            "`boundcheck pep ID` shows the table)"
        )
        for r in pep_rows:
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
            console.print(esc(f"  {r['theorem']}: worst case / bound {ratio}, {r['verdict']} "
                              f"({r['case']}; T = {r['T']})"))  # fmt: skip
        for f in pep_findings:
            console.print(f"  [red]{esc(f['kind'])}[/red] {f['subject']}: {esc(f['message'])}")
    if with_falsify:
        console.print(
            f"\n[bold]Worst case found (search over the hypotheses)[/bold] ({len(fal_findings)} "
            f"finding(s); budget {falsify_budget}; `boundcheck falsify ID` shows the certificate)"
        )
        for r in fal_rows:
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.3g}"
            console.print(esc(f"  {r['theorem']}: worst found / bound {ratio}, {r['verdict']} "
                              f"({r['method'] or '-'})"))  # fmt: skip
        for f in fal_findings:
            console.print(f"  [red]{esc(f['kind'])}[/red] {f['subject']}: {esc(f['message'])}")
    if report.not_checked:
        console.print(f"\n[bold]Not checked[/bold] ({len(report.not_checked)}; not findings)")
        for n in report.not_checked:
            console.print(esc(f"  {n['subject']}: {n['reason']}"))
    return 1 if count else 0
