"""``boundcheck falsify ID``: search a theorem's hypotheses for the instance that breaks it
(:mod:`boundcheck.check.falsify`)."""

from __future__ import annotations

import math
from typing import Any

import click
from rich.markup import escape as esc
from rich.table import Table

from boundcheck.cli import _ui
from boundcheck.errors import ParameterError

_STYLE = {"holds": "green", "violated": "bold red", "inconclusive": "yellow"}

_EPILOG = (
    "\b\nWhat it does: maximises measured / bound (bound / measured for a lower\n"
    "bound) over everything the theorem's stated hypotheses leave free --\n"
    "clients, dimension 1-4, curvatures and their ratios, heterogeneity,\n"
    "centres, noise, horizon T, the theorem's stepsize or any stepsize its\n"
    "conditions allow, concurrency, compressors of the assumed class incl.\n"
    "adversarial ones -- with SciPy's differential evolution. Every candidate\n"
    "is checked against the stated conditions and assumptions by the engine's\n"
    "own code; one outside them is never reported. The search spaces are\n"
    "declared per theorem in boundcheck/check/bindings/search.py.\n"
    "\b\nThe left-hand side is exact (moment propagation: FedPAQ with identity\n"
    "or rand-k quantizers on quadratics, SARAH / AsyncBC Theorem 3, AsyncBC\n"
    "Theorems 1-2 over every schedule of a small instance) where the instance\n"
    "allows, else a batched Monte Carlo mean. The best instance is replayed\n"
    "through the batched implementation with a fresh seed: 'violated' needs\n"
    "the exact value above the bound and inside the replay's interval (or,\n"
    "Monte Carlo, the replay's one-sided confidence bound beyond the bound at\n"
    "level --alpha). 'holds' means: not broken within the budget.\n"
    "\b\nExamples:\n"
    "  boundcheck falsify fedpaq.thm2 --budget 60\n"
    "  boundcheck falsify asyncbc.thm3 --json\n"
    "  boundcheck falsify --all --budget 16   # every bound with a search space\n"
    "  boundcheck falsify asyncbc.thm3_var --space planted.toml\n"
    "  boundcheck falsify my_theorem.toml   # a theorem file with a [search] table\n"
    "\b\nExit codes: 0 no violation certified; 1 a violation certified (a\n"
    "finding); 2 bad input."
)


@click.command("falsify", epilog=_EPILOG)
@click.argument("theorem_id", metavar="[ID]", required=False)
@click.option("--all", "run_all", is_flag=True, help="Every encoded bound with a search space.")
@click.option(
    "--budget",
    default=40,
    show_default=True,
    metavar="N",
    help="Candidate evaluations per theorem (each an exact or a Monte Carlo run).",
)
@click.option("--seed", default=0, show_default=True, metavar="S", help="Seeds everything.")
@click.option(
    "--executor",
    default="serial",
    show_default=True,
    type=click.Choice(["serial", "process", "ray"]),
    help="Where candidates run (process/ray: in parallel, same numbers).",
)
@click.option("--jobs", type=int, default=None, metavar="N", help="Workers for process/ray.")
@click.option(
    "--alpha",
    default=0.05,
    show_default=True,
    metavar="A",
    help="Level of the replay's one-sided test (Monte Carlo certificates), Bonferroni-corrected "
    "over the theorems run.",
)
@click.option(
    "--space",
    "space_file",
    type=str,  # read and checked by _read_space (a click.Path stats the name: NUL bytes crash)
    default=None,
    metavar="FILE",
    help="A TOML search space (its [search] table, or the whole file) instead of the declared "
    "one; e.g. set = { 'check.bound_factor' = 0.5 } plants a false bound.",
)
@click.option("--json", "as_json", is_flag=True, help="Strict JSON (every certificate in full).")
def falsify_cmd(
    theorem_id: str | None,
    run_all: bool,
    budget: int,
    seed: int,
    executor: str,
    jobs: int | None,
    alpha: float,
    space_file: str | None,
    as_json: bool,
) -> int:
    """Search a theorem's hypotheses for the instance that breaks its bound."""
    from boundcheck.check import falsify as F
    from boundcheck.theory.userfile import looks_like_path

    if theorem_id is not None and run_all:
        raise ParameterError(f"give an ID or --all, not both (got {theorem_id!r} and --all)")
    if budget < 1:
        raise ParameterError(f"--budget {budget} is not allowed: expected an integer >= 1")
    if seed < 0:
        raise ParameterError(f"--seed {seed} is not allowed: expected an integer >= 0")
    if not (0 < alpha < 1):
        raise ParameterError(f"--alpha {alpha} is not allowed: expected a number in (0, 1)")
    if jobs is not None and jobs < 1:
        raise ParameterError(f"--jobs {jobs} is not allowed: expected an integer >= 1")
    ids = F.falsifiable_ids()
    space = None
    if theorem_id is None or theorem_id == "all":
        todo = ids
    elif looks_like_path(theorem_id):  # a user's theorem file (issue 15): its [search] table
        tid, file_sp = F.file_space(theorem_id)
        if space_file is None:
            if file_sp is None:
                raise ParameterError(
                    f"{theorem_id}: no [search] table: add one (keys free, set, replicas, "
                    "require; see boundcheck.check.falsify) or give --space FILE"
                )
            space = file_sp
        todo = [tid]
    else:
        from boundcheck.theory import registry

        registry.get(theorem_id)  # unknown id: a one-line error naming close matches
        if theorem_id not in ids and space_file is None:
            raise ParameterError(
                f"{theorem_id} has no declared search space; falsifiable: {', '.join(ids)}"
            )
        todo = [theorem_id]
    if space_file is not None:
        if len(todo) != 1:
            raise ParameterError("--space needs one theorem ID (not --all)")
        space = _read_space(space_file)
    # a candidate is an exact moment propagation or a batched run of ~1e6 element operations
    _ui.check_work(1e6 * budget * len(todo), f"falsify: {len(todo)} theorem(s) x budget {budget}")
    from boundcheck.check.executor import make_executor

    ex = make_executor(executor, jobs, quiet=as_json)
    results = []
    try:
        _run_all(todo, results, ex, budget, seed, alpha, space)
    finally:
        if hasattr(ex, "shutdown"):
            ex.shutdown()  # a local Ray started here stops here
    code = 1 if any(r.violated for r in results) else 0
    if as_json:
        _ui.echo_json({"results": [r.to_dict() for r in results], "exit_code": code})
        return code
    out = _ui.console()
    _table(out, results)
    if len(results) == 1:
        _certificate(out, results[0])
    return code


def _run_all(todo, results, ex, budget, seed, alpha, space) -> None:
    from boundcheck.check import falsify as F

    with _ui.progress("falsify", len(todo) * budget) as update:
        for i, tid in enumerate(todo):
            results.append(
                F.falsify(
                    tid,
                    budget=budget,
                    seed=seed,
                    executor=ex,
                    alpha=alpha / len(todo),  # Bonferroni over the theorems run
                    space=space,
                    progress=lambda done, _tot, i=i: update(i * budget + done),
                )
            )


def _read_space(path: str) -> dict[str, Any]:
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ParameterError(f"--space {path!r}: no such file") from None
    except (OSError, ValueError, tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        # ValueError: a path the OS cannot take (an embedded NUL byte)
        raise ParameterError(f"--space {path!r}: not a readable TOML file: {e}") from None
    return raw.get("search", raw)


def _num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "inf"
    return f"{x:.4g}"


def _table(out: Any, results: list[Any]) -> None:
    from boundcheck.check.falsify import instance_line

    table = Table(box=None, pad_edge=False, padding=(0, 1))
    table.add_column("theorem", no_wrap=True)
    table.add_column("ratio", justify="right", no_wrap=True)
    table.add_column("method", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("inside", justify="right", no_wrap=True)
    for r in results:
        style = _STYLE.get(r.verdict, "")
        verdict = f"[{style}]{r.verdict}[/{style}]" if style else r.verdict
        method = {"exact": "exact", "monte carlo": "MC"}.get(r.method or "", "-")
        table.add_row(
            esc(r.theorem), _num(r.best_ratio), method, verdict, f"{r.inside}/{r.evaluations}"
        )
    out.print(table)
    out.print("ratio: measured/bound (bound/measured for a lower bound), worst instance found")
    out.print("inside: candidates inside the stated hypotheses / candidates evaluated")
    if len(results) > 1:
        for r in results:
            if r.instance is not None:
                out.print(esc(f"{r.theorem}: {instance_line(r)}"))


def _certificate(out: Any, r: Any) -> None:
    from boundcheck.check.falsify import instance_line

    for n in r.notes:
        out.print(esc(f"note: {n}"))
    cert = r.certificate
    if cert is None:
        return
    out.print(f"\n[bold]Worst instance[/bold] ({esc(r.source)})")
    out.print(esc("  " + instance_line(r)))
    spec = r.instance["spec"]
    out.print(esc(f"  problem {spec['problem']}"))
    out.print(esc(f"  algorithm {spec['algorithm']}  point {spec['point']}"))
    out.print("[bold]Hypotheses at it[/bold]")
    for h in cert["hypotheses"]:
        mark = {True: "ok  ", False: "FAIL", None: "n/a "}[h["holds"]]
        what = h.get("relation") or h.get("why") or ""
        out.print(esc(f"  {mark} {h['id']} [{h['kind']}] {what}"))
    out.print("[bold]Values[/bold]")
    out.print(esc("  " + ", ".join(f"{v['name']}={v['value']:.4g}" for v in cert["values"])))
    kind = "exact expectation" if cert["method"] == "exact" else "Monte Carlo mean"
    out.print(
        esc(
            f"lhs ({kind}) {_num(cert['lhs'])}  bound {_num(cert['bound'])}  ratio {_num(cert['ratio'])}"
        )
    )
    rp = cert.get("replay", {})
    if "error" in rp:
        out.print(esc(f"replay: did not run ({rp['error'][:160]})"))
    elif "mean" in rp:
        line = (
            f"replay ({rp['replicas']} replicas, seed {rp['seed']}): mean {_num(rp['mean'])} "
            f"[{_num(rp['low'])}, {_num(rp['high'])}], median {_num(rp.get('median'))}, "
            f"q90 {_num(rp.get('q90'))}"
        )
        if "agrees" in rp:
            line += "; agrees with the exact value" if rp["agrees"] else "; DISAGREES"
        out.print(esc(line))
    elif "n_violations" in rp:
        out.print(
            esc(
                f"replay ({rp['replicas']} replicas, seed {rp['seed']}): {rp['n_violations']} of "
                f"{rp['n_checked']} (replica, step) pairs above the bound, max ratio "
                f"{_num(rp['max_ratio'])}"
            )
        )
    if cert.get("note"):
        out.print(esc(cert["note"]))
    style = _STYLE.get(r.verdict, "")
    out.print(f"verdict: [{style}]{r.verdict}[/{style}]" if style else f"verdict: {r.verdict}")
