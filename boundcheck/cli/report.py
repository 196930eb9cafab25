"""``boundcheck report``: run the specs (or re-read a saved run) and write the HTML and PDF reports."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import click

from boundcheck.cli.app import app
from boundcheck.errors import ParameterError

FAILING = ("violated", "diverged")


def _command_line(specs: tuple[str, ...], opts: dict[str, object]) -> str:
    """The ``boundcheck report`` line that reproduces this run."""
    argv = ["boundcheck", "report", *specs]
    for k, v in opts.items():
        if v is None or v is False:
            continue
        argv += [f"--{k}"] if v is True else [f"--{k}", str(v)]
    return shlex.join(argv)


@app.command("report")
@click.argument("specs", nargs=-1)
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
    help="Directory for report.html, report.pdf and results.json (created if missing).",
)  # fmt: skip
@click.option(
    "--scale", type=click.Choice(["ci", "default", "full"]), default="default", show_default=True,
    help="Run size: ci (seconds), default (minutes on a laptop CPU), full (the papers' scale).",
)  # fmt: skip
@click.option("--seed", type=int, default=None, help="Override every spec's seed.")
@click.option("--jobs", type=int, default=None, help="Run sweep points in this many processes.")
@click.option("--force", is_flag=True, help="Also run points outside the theorems' hypotheses.")
@click.option(
    "--calibrate", "calibrate_spec", default=None, metavar="SPEC",
    help="Also measure how often a true and two planted false bounds of SPEC are called violated "
    "(3 x --calibration-seeds runs) and show the rates in the report.",
)  # fmt: skip
@click.option(
    "--calibration-seeds", type=int, default=50, show_default=True,
    help="Seeds per variant for --calibrate.",
)  # fmt: skip
@click.option(
    "--from-json", "from_json", type=click.Path(path_type=Path), default=None,
    help="Re-render a saved results.json instead of running anything.",
)  # fmt: skip
@click.option(
    "--executor",
    type=click.Choice(["serial", "process", "ray"]),
    default=None,
    help="Where sweep points run: serial (default), a local process pool (--jobs), or Ray "
    "(pip install 'boundcheck[ray]'; a local Ray unless --address).",
)
@click.option("--address", default=None, help="Ray cluster address (with --executor ray).")
@click.option(
    "--pep",
    "with_pep",
    is_flag=True,
    help="Add the worst case over the function class (PEPit) for every theorem with a "
    "deterministic special case (pip install 'boundcheck[pep]'; a few seconds).",
)
@click.option(
    "--falsify",
    "with_falsify",
    is_flag=True,
    help="Add the worst case found by `boundcheck falsify` (a search over each theorem's stated "
    "hypotheses, exact expectations where the instance allows) beside the measured tightness.",
)
@click.option(
    "--falsify-budget",
    default=16,
    show_default=True,
    metavar="N",
    help="Candidate evaluations per theorem for --falsify.",
)
@click.option("--quiet", is_flag=True, help="No progress bars; print only where the files are.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def report_cmd(
    specs: tuple[str, ...],
    out: Path,
    scale: str,
    seed: int | None,
    jobs: int | None,
    force: bool,
    calibrate_spec: str | None,
    calibration_seeds: int,
    from_json: Path | None,
    executor: str | None,
    address: str | None,
    with_pep: bool,
    with_falsify: bool,
    falsify_budget: int,
    quiet: bool,
    as_json: bool,
) -> int:
    """Bound versus measured for every spec: a self-contained HTML report and a PDF.

    SPEC is a shipped spec name or a spec file (TOML); none means every shipped spec. Writes
    OUT/report.html (offline: inline SVG figures, MathML), OUT/report.pdf (the same content) and
    OUT/results.json (re-render it with --from-json without rerunning). Exit 1 when a bound is
    violated or replicas diverged, 0 otherwise, 2 on bad input (nothing written).

    \b
    Examples:
      boundcheck report                          # every shipped spec, default scale, into reports/
      boundcheck report qafel_thm_f1 --scale ci --out /tmp/r
      boundcheck report --from-json reports/results.json --out /tmp/again
    """
    from boundcheck import report

    if from_json is not None:
        if (
            specs
            or seed is not None
            or jobs is not None
            or force
            or calibrate_spec
            or executor
            or address
            or with_pep
            or with_falsify
            or (scale != "default")
        ):
            raise ParameterError(
                "--from-json re-renders a saved run; it takes no SPEC, --scale, --seed, --jobs, "
                "--force or --calibrate"
            )
        report.check_out_dir(out)
        run = report.load_results(from_json)
    else:
        if jobs is not None and jobs < 1:
            raise ParameterError(f"--jobs {jobs} is not allowed; allowed: an integer >= 1")
        if calibration_seeds < 1:
            raise ParameterError(
                f"--calibration-seeds {calibration_seeds} is not allowed; allowed: an integer >= 1"
            )
        if falsify_budget < 1:
            raise ParameterError(
                f"--falsify-budget {falsify_budget} is not allowed; allowed: an integer >= 1"
            )
        report.check_out_dir(out)
        from boundcheck.check.engine import calibrate, run_specs

        executor = executor or ("process" if jobs and jobs > 1 else "serial")
        run = run_specs(
            list(specs) or None,
            scale=scale,
            seed=seed,
            executor=executor,
            jobs=jobs,
            address=address,
            force=force,
            progress=not (quiet or as_json),
        )
        if calibrate_spec:
            run.calibration = calibrate(
                calibrate_spec, seeds=calibration_seeds, scale=scale, executor=executor, jobs=jobs
            )
        opts: dict[str, object] = {
            "scale": scale, "seed": seed, "jobs": jobs, "force": force, "pep": with_pep,
            "falsify": with_falsify,
        }  # fmt: skip
        if with_falsify:
            opts["falsify-budget"] = falsify_budget
        if calibrate_spec:
            opts |= {"calibrate": calibrate_spec, "calibration-seeds": calibration_seeds}
        run.command = _command_line(specs, opts)
        from boundcheck.report.findings import attach_pep, attach_theory_findings

        attach_theory_findings(run)
        if with_pep:
            attach_pep(run)
        if with_falsify:
            from boundcheck.report.findings import attach_falsify

            attach_falsify(run, budget=falsify_budget, seed=seed or 0)
    files = report.render(run, out)
    bad = [c for c in run.checks if c.verdict in FAILING]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "files": {k: str(v) for k, v in files.items()},
                    "checks": [
                        {
                            "spec_id": c.spec_id,
                            "theorem_id": c.theorem_id,
                            "verdict": c.verdict,
                            "tightness": c.tightness,
                        }
                        for c in run.checks
                    ],
                },
                indent=2,
                allow_nan=False,
            )
        )
    else:
        if not quiet:
            _print_summary(run)
        for k in ("html", "pdf", "json"):
            p = files[k]
            click.echo(f"wrote {p} ({p.stat().st_size / 1024:.0f} kB)")
    return 1 if bad else 0


def _print_summary(run: object) -> None:
    from rich.console import Console
    from rich.markup import escape as esc
    from rich.table import Table

    from boundcheck.report.model import fmt

    style = {"holds": "green", "violated": "bold red", "diverged": "bold red"}
    table = Table(show_header=True, header_style="bold", box=None)
    for col in ("spec", "theorem", "verdict", "tightness"):
        table.add_column(col, overflow="fold")
    for c in run.checks:  # type: ignore[attr-defined]
        s = style.get(c.verdict, "yellow")
        table.add_row(
            esc(c.spec_id), esc(c.theorem_id), f"[{s}]{esc(c.verdict)}[/]", fmt(c.tightness, 3)
        )
    Console(highlight=False, soft_wrap=True).print(table)
