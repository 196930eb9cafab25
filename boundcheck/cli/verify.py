"""``boundcheck verify SPEC...``: bound versus measured for experiment specs, in the terminal.

Exit codes: 0 no bound violated; 1 a bound is violated; 2 bad input (a malformed spec, an unknown
spec id, a bad option).
"""

from __future__ import annotations

import math

import click

from boundcheck.cli.app import app


def _num(v: float | None) -> str:
    if v is None:
        return "-"
    if isinstance(v, float) and not math.isfinite(v):
        return "inf" if v > 0 else ("-inf" if v < 0 else "nan")
    return f"{v:.3g}"


_SHORT = {"outside hypotheses": "outside", "inconclusive": "inconcl."}


def _point_label(point: dict) -> str:
    return ",".join(
        f"{k}={v:g}" if isinstance(v, float | int) else f"{k}={v}" for k, v in point.items()
    )


@app.command("verify")
@click.argument("specs", nargs=-1)
@click.option(
    "--scale",
    type=click.Choice(["ci", "default", "full"]),
    default="default",
    show_default=True,
    help="Sweep size and replicas of every spec.",
)
@click.option("--seed", type=click.IntRange(min=0), help="Override every spec's seed.")
@click.option("--json", "as_json", is_flag=True, help="Strict JSON (the RunResult) on stdout.")
@click.option("--force", is_flag=True, help="Also run points outside the theorem's hypotheses.")
@click.option("--jobs", type=click.IntRange(min=1), help="Worker processes (default: serial).")
@click.option(
    "--executor",
    type=click.Choice(["serial", "process", "ray"]),
    default=None,
    help="Where sweep points run: serial (default), a local process pool (--jobs), or Ray "
    "(pip install 'boundcheck[ray]'; a local Ray unless --address).",
)
@click.option("--address", default=None, help="Ray cluster address (with --executor ray).")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.option("--list", "list_specs", is_flag=True, help="List the shipped spec ids and exit.")
@click.option("--no-cache", is_flag=True, help="Rerun instead of reading cached points.")
def verify_cmd(
    specs: tuple[str, ...],
    scale: str,
    seed: int | None,
    as_json: bool,
    force: bool,
    jobs: int | None,
    quiet: bool,
    list_specs: bool,
    no_cache: bool,
    executor: str | None,
    address: str | None,
) -> int:
    """Run experiment specs (files or shipped ids; none = every shipped spec) and print the
    verdict per sweep point: measured, bound, ratio, verdict.

    \b
    Examples:
      boundcheck verify --list
      boundcheck verify saef_thm2 --scale ci
      boundcheck verify my_spec.toml --json
      boundcheck verify --executor ray --scale ci      # a local Ray
    """
    from boundcheck.check.specs import shipped_specs

    if list_specs:
        if as_json:
            from boundcheck.jsonutil import dumps

            click.echo(dumps([p.stem for p in shipped_specs()]))
        else:
            for p in shipped_specs():
                click.echo(p.stem)
        return 0
    from boundcheck.check.engine import run_specs
    from boundcheck.jsonutil import dumps

    run = run_specs(
        list(specs) or None,
        scale=scale,
        seed=seed,
        force=force,
        executor=executor or ("process" if jobs and jobs > 1 else "serial"),
        jobs=jobs,
        address=address,
        progress=not quiet and not as_json,
        cache_dir="" if no_cache else None,
    )
    if as_json:
        click.echo(dumps(run.to_dict()))
    else:
        _table(run)
    violated = any(p.verdict == "violated" for c in run.checks for p in c.points)
    return 1 if violated else 0


def _table(run) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, width=80)
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col, just in (
        ("check", "left"),
        ("point", "left"),
        ("measured", "right"),
        ("bound", "right"),
        ("ratio", "right"),
        ("verdict", "left"),
    ):
        t.add_column(col, justify=just, overflow="fold")
    for c in run.checks:
        if c.comparison:
            continue  # an empirical comparison claim: its own table below
        for i, p in enumerate(c.points):
            t.add_row(
                escape(c.spec_id if i == 0 else ""),
                escape(_point_label(p.point)),
                _num(p.measured),
                _num(p.bound),
                _num(p.ratio),
                _SHORT.get(p.verdict, p.verdict),
            )
        if c.order:
            o = c.order
            fitted = o.get("fitted_slope")
            t.add_row(
                "",
                "slope",
                _num(fitted),
                _num(o.get("claimed_slope")),
                "",
                _SHORT.get(o["verdict"], o["verdict"]),
            )
    if t.row_count:
        console.print(t)
    for c in run.checks:
        if c.comparison:
            _comparison_table(console, c)
    for c in run.checks:
        for f in c.findings:
            console.print(escape(f"{c.spec_id}: {f}"), soft_wrap=True)
    n_viol = sum(p.verdict == "violated" for c in run.checks for p in c.points)
    console.print(
        f"{len(run.checks)} checks, {sum(len(c.points) for c in run.checks)} points, "
        f"{n_viol} violated; one-sided tests at alpha = {run.alpha:g} / "
        f"{run.n_comparisons} comparisons (Bonferroni); {run.wall_s:.1f} s"
    )


def _comparison_table(console, c) -> None:
    """An empirical comparison claim (QAFeL Figure 3): per point and quantity, both
    configurations' means, the ratio candidate / baseline with its bounds, the claimed range and
    the verdict (reproduced / not reproduced / inconclusive)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, width=max(console.width, 104))
    cmp_ = c.comparison
    console.print(
        escape(f"{c.spec_id}: {c.source} -- on a synthetic stand-in, not the paper's experiment"),
        soft_wrap=True,
    )
    t = Table(box=None, pad_edge=False, show_edge=False)
    for col, just in (
        ("point", "left"),
        ("quantity", "left"),
        ("baseline", "right"),
        ("candidate", "right"),
        ("ratio [bounds]", "right"),
        ("claimed", "right"),
        ("verdict", "left"),
    ):
        t.add_column(col, justify=just, overflow="fold")
    mean_key = {"uploads": "uploads_mean", "mb_up": "mb_up_mean", "mb_down": "mb_down_mean"}
    for row in cmp_["points"]:
        label = _point_label(row["point"])
        if "ratios" not in row:
            t.add_row(escape(label), "-", "-", "-", "-", "-", row["verdict"])
            continue
        for i, q in enumerate(cmp_["quantities"]):
            r = row["ratios"][q["key"]]
            t.add_row(
                escape(label if i == 0 else ""),
                q["key"],
                _num(row["arms"]["baseline"][mean_key[q["key"]]]),
                _num(row["arms"]["candidate"][mean_key[q["key"]]]),
                f"{_num(r['estimate'])} [{_num(r['low'])}, {_num(r['high'])}]",
                f"[{_num(r['claimed'][0])}, {_num(r['claimed'][1])}]",
                _SHORT.get(r["verdict"], r["verdict"]),
            )
        cens = [
            f"{a}: {row['arms'][a]['censored']}/{row['arms'][a]['R']} censored"
            for a in ("baseline", "candidate")
            if row["arms"][a]["censored"]
        ]
        if cens:
            t.add_row("", escape("; ".join(cens)), "", "", "", "", "")
    console.print(t)
    console.print(
        escape(f"{c.spec_id}: {c.verdict} (candidate / baseline; MB = 10^6 bytes)"),
        soft_wrap=True,
    )
