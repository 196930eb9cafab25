"""``boundcheck pep ID``: the exact worst case over the function class (PEPit) of a theorem's
deterministic special case against its encoded bound (:mod:`boundcheck.check.pep`).

PEPit is an optional extra; nothing here imports it (the library functions do, when they run).
"""

from __future__ import annotations

import math
from typing import Any

import click
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from boundcheck.cli.app import app
from boundcheck.errors import ParameterError

_VERDICT_STYLE = {
    "holds": "green",
    "tight": "green",
    "violated": "bold red",
    "inconclusive": "yellow",
}


def _ids() -> list[str]:
    from boundcheck.check.pep import REDUCTIONS

    return list(REDUCTIONS)


def _parse_T(text: str | None) -> list[int] | None:
    if text is None:
        return None
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise ParameterError(
                f"--T {text!r}: {part!r} is not allowed; give integers >= 1 separated by commas"
            )
        out.append(int(part))
    return out


def _parse_params(args: list[str], defaults: dict[str, Any], theorem: str) -> dict[str, Any]:
    """``--name value`` / ``--name=value`` pairs (split as ``boundcheck stepsize`` does), typed
    like each parameter's default."""
    from boundcheck.cli.theory import _parse_params as split_pairs

    out: dict[str, Any] = {}
    for name, val in split_pairs(args).items():
        if name not in defaults:
            raise ParameterError(
                f"unknown parameter --{name} for {theorem}; it takes: "
                + ", ".join(f"--{p}" for p in defaults)
            )
        kind = int if isinstance(defaults[name], int) else float
        try:
            out[name] = kind(val)
        except ValueError:
            what = "an integer" if kind is int else "a number"
            raise ParameterError(f"--{name} {val!r} is not allowed; it must be {what}") from None
        if kind is float and not math.isfinite(out[name]):
            raise ParameterError(f"--{name} {val!r} is not allowed; it must be finite")
    return out


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.5g}"


_EPILOG = (
    "\b\nIDs (the theorems with a deterministic special case):\n"
    "  fedpaq.thm2   GD at 1/(L sqrt T), L-smooth       params --L --F0 --n\n"
    "  fedpaq.thm1   GD, eta_k = 4/(mu(k+1)) from k0    params --L --mu --n --D\n"
    "  saef.thm1     SAEF-SGD, K=1, delta-compressor    params --L --F0 --M --delta --eta\n"
    "  saef.thm2     (same, gradient at x_t)            params --L --F0 --M --delta --eta\n"
    "  asyncbc.thm1  AsyncBC-GD, one client, delays     params --L --delta_H --F0 --tau_C\n"
    "                (rows: asyncbc.thm1(tau_C,tau_max))        --tau_max\n"
    "  qafel.thm_f1  FedBuff, K=1, one client           params --L --F0 --G --P --eta_l\n"
    "                                                          --eta_g --tau_max\n"
    "  all           every one of them at its defaults (asyncbc.thm1 twice: tau_C = tau_max = 1\n"
    "                and tau_C = tau_max = 2)\n"
    "\b\nThe table: primal = the worst-case instance's value, dual = PEPit's certified upper bound\n"
    "of the SDP, bound = the encoded theorem at the same parameters, ratio = primal/bound.\n"
    "verdict: holds (dual + tol <= bound), tight (both within tol of the bound), violated (an\n"
    "exact class and primal - tol > bound, or a replayed instance), inconclusive otherwise\n"
    "(tol: the duality gap plus the solver's feasibility tolerance). 'exact' cases can refute a\n"
    "bound; 'relaxed' ones (necessary conditions only) can only confirm it. A '*' marks rows\n"
    "outside the theorem's stated conditions (the bound is not claimed there).\n"
    "\b\nThe SDP grows with T (about 3 s at T = 20, 19 s at T = 40 on a laptop core); the default\n"
    "sweeps are small on purpose.\n"
    "\b\nExamples:\n"
    "  boundcheck pep fedpaq.thm2 --T 1,2,4,8\n"
    "  boundcheck pep fedpaq.thm1 --T 1,2 --replay   # a second witness: boundcheck's FedPAQ\n"
    "  boundcheck pep asyncbc.thm1 --T 4,6 --tau_C 2 --tau_max 2 --json\n"
    '\b\nNeeds the optional extra: pip install "boundcheck[pep]".\n'
    "Exit codes: 0 no violation inside the stated conditions; 1 a violation (a finding);\n"
    "2 bad input or PEPit missing."
)


@app.command(
    "pep",
    epilog=_EPILOG,
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("theorem_id", metavar="ID")
@click.option("--T", "T_text", metavar="T1,T2,...", help="Horizons to solve [default: per ID].")
@click.option(
    "--solver",
    default="CLARABEL",
    show_default=True,
    type=click.Choice(["CLARABEL", "SCS"], case_sensitive=False),
    help="SDP solver (through cvxpy).",
)
@click.option(
    "--replay",
    is_flag=True,
    help="fedpaq.thm1: rerun the worst case in boundcheck's FedPAQ on the interpolated function.",
)
@click.option("--json", "as_json", is_flag=True, help="Strict JSON instead of the table.")
@click.pass_context
def pep_cmd(
    ctx: click.Context,
    theorem_id: str,
    T_text: str | None,
    solver: str,
    replay: bool,
    as_json: bool,
) -> int:
    """Exact worst case over the function class (PEPit) against a theorem's encoded bound."""
    from boundcheck.check import pep

    Ts = _parse_T(T_text)
    if theorem_id == "all":
        if ctx.args:
            raise ParameterError("'all' runs every reduction at its defaults; give no parameters")
        cases = [(tid, {}) for tid in pep.REDUCTIONS]
        i = [c[0] for c in cases].index("asyncbc.thm1")
        cases.insert(i + 1, ("asyncbc.thm1", {"tau_C": 2, "tau_max": 2}))
    else:
        red = pep.reduction(theorem_id)
        cases = [(theorem_id, _parse_params(ctx.args, red.defaults(), theorem_id))]
    if replay and theorem_id != "fedpaq.thm1":
        raise ParameterError(
            "--replay is available for fedpaq.thm1 (exact class, minimiser known); "
            f"not for {theorem_id}"
        )
    pep.require_pepit()
    results = []
    for tid, params in cases:
        results += pep.sweep(tid, Ts, solver=solver, **params)
    if replay:
        from boundcheck.check.pep_replay import replay_fedpaq_thm1

        for r in results:
            r.replay = replay_fedpaq_thm1(r.T, result=r, **cases[0][1])
    code = 1 if any(r.finding for r in results) else 0
    if as_json:
        from boundcheck.jsonutil import dumps

        click.echo(dumps({"results": [r.to_dict() for r in results], "exit_code": code}))
        return code
    _table(results)
    return code


def _table(results: list[Any]) -> None:
    from boundcheck.check.pep import EXACT

    out = Console(highlight=False, width=max(80, Console().width))
    table = Table(box=None, pad_edge=False, padding=(0, 1))
    for col, justify in (
        ("reduction", "left"),
        ("T", "right"),
        ("primal", "right"),
        ("dual", "right"),
        ("bound", "right"),
        ("ratio", "right"),
        ("verdict", "left"),
        ("time s", "right"),
    ):
        table.add_column(col, justify=justify, no_wrap=True)
    marks = {}
    for r in results:
        star = "" if r.in_hypotheses else "*"
        if star:
            marks[r.theorem] = sorted(set(marks.get(r.theorem, [])) | set(r.failed_conditions))
        style = _VERDICT_STYLE.get(r.verdict, "")
        table.add_row(
            esc(r.label),
            str(r.T),
            _num(r.primal),
            _num(r.dual),
            _num(r.bound),
            "-" if r.ratio is None else f"{r.ratio:.3f}",
            f"[{style}]{r.verdict}[/{style}]{star}",
            f"{r.solve_time:.2f}",
        )
    out.print(table)
    seen = set()
    for r in results:
        key = (r.label, r.reduction)
        if key in seen:
            continue
        seen.add(key)
        case = "exact" if r.case == EXACT else "relaxed"
        out.print(esc(f"{r.label}: {r.reduction} [{case}; {r.solver}]"))
        notes = dict.fromkeys(x.note for x in results if x.label == r.label and x.note)
        for note in notes:
            out.print(esc(f"  {note}"))
        bad = {
            s for x in results if x.label == r.label and x.status != "optimal" for s in [x.status]
        }
        if bad:
            out.print(f"  solver status: {esc(', '.join(sorted(bad)))}")
    if any(r.replay is not None for r in results):
        out.print(
            "replay: boundcheck's FedPAQ run on the function interpolating PEPit's worst case"
        )
    for r in results:
        if r.replay is not None:
            rp = r.replay
            out.print(
                f"  T={r.T}: boundcheck {rp['replay_lhs']:.6g}, PEPit {rp['pep_primal']:.6g} "
                f"(rel {rp['rel_diff']:.0e}), bound {rp['bound_at_replay_D_k0']:.6g}: "
                + ("VIOLATED" if rp["violated"] else "holds")
            )
    for tid, conds in marks.items():
        out.print(f"* {esc(tid)}: stated condition(s) not met: {esc(', '.join(conds))}")
