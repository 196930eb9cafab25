"""``boundcheck problem``: the synthetic problem families and their certified constants."""

from __future__ import annotations

import json
import math

import click
import torch
from rich.console import Console
from rich.markup import escape as esc
from rich.table import Table

from boundcheck.cli.app import app
from boundcheck.cli.theory import _parse_params
from boundcheck.errors import ParameterError
from boundcheck.problems import registry

console = Console(highlight=False, soft_wrap=True)
DTYPES = {"float64": torch.float64, "float32": torch.float32}


def _convert(family: str, name: str, raw: str, default: object) -> object:
    """A command-line string as the type of the factory's default for ``name``."""
    if isinstance(default, torch.dtype) or name == "dtype":
        if raw not in DTYPES:
            raise ParameterError(f"--dtype {raw!r} is not allowed; allowed: {', '.join(DTYPES)}")
        return DTYPES[raw]
    if isinstance(default, bool):
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ParameterError(f"--{name} {raw!r} is not allowed; allowed: true, false")
        return raw.lower() in ("true", "1")
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ParameterError(f"--{name} {raw!r} is not an integer") from None
    if isinstance(default, float) or default is None:
        if default is None and raw.lower() == "none":
            return None
        try:
            return float(raw)
        except ValueError:
            raise ParameterError(f"--{name} {raw!r} is not a number") from None
    return raw


def _fmt(v: float) -> str:
    return "inf" if math.isinf(v) else f"{v:.6g}"


@app.command(
    "problem",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("family", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def problem_cmd(ctx: click.Context, family: str | None, as_json: bool) -> int:
    """The synthetic problem families, or one family's constants with their provenance.

    Without FAMILY: every family with its parameters and defaults. With FAMILY and any of its
    parameters as --NAME VALUE: the problem is built (seeded) and every constant is printed with how
    it is known -- exact (closed form, eigenvalues), certified (a proven upper bound; a lower bound
    for mu) or observed (weaker) -- and the proof or computation behind it. A constant that does not
    exist on R^d (e.g. G for a quadratic) is inf; pass --radius to certify it on a ball.

    \b
    Examples:
      boundcheck problem
      boundcheck problem asyncbc_least_squares --n 8 --d 10 --zeta 3
      boundcheck problem logistic --n 10 --d 50 --alpha 0.1 --json
    """
    if family is not None and family.startswith("-"):  # an option where FAMILY should be
        raise ParameterError("parameters need a FAMILY first; `boundcheck problem` lists them")
    if family is None:
        if ctx.args:
            raise ParameterError("parameters need a FAMILY; `boundcheck problem` lists them")
        rows = {name: registry.parameters(name) for name in registry.names()}
        if as_json:
            click.echo(json.dumps(rows, indent=2, default=str))
            return 0
        table = Table("family", "parameters (defaults)", box=None, header_style="bold")
        for name, params in rows.items():
            shown = ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("dtype", "device"))
            table.add_row(name, esc(shown))
        console.print(table)
        return 0
    defaults = registry.parameters(family)
    raw = _parse_params(ctx.args)
    unknown = [k for k in raw if k not in defaults]
    if unknown:
        raise ParameterError(
            f"{family} has no parameter {unknown[0]!r}; allowed: {', '.join(defaults)}"
        )
    params = {k: _convert(family, k, v, defaults[k]) for k, v in raw.items()}
    problem = registry.make(family, **params)
    desc = problem.describe()
    if as_json:
        click.echo(json.dumps({"family": family, "params": raw, **desc}, indent=2, default=str))
        return 0
    console.print(f"[bold]{family}[/bold] (n={problem.n}, d={problem.d})")
    table = Table("constant", "value", "provenance", "how", box=None, header_style="bold")
    for name, c in problem.constants.items():
        table.add_row(name, _fmt(c.value), c.provenance, esc(c.how))
    console.print(table)
    return 0
