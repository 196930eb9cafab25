"""``boundcheck list | show | stepsize | dims`` (being written)."""

from __future__ import annotations

import click

from boundcheck.cli.app import app
from boundcheck.theory import registry


@app.command("list")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
def list_cmd(as_json: bool) -> int:
    """Every theorem id with its source and one-line statement."""
    for thm in registry.all_theorems():
        click.echo(f"{thm.id:20s} {thm.source}: {thm.statement}")
    return 0
