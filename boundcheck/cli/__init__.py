"""The ``boundcheck`` command line: thin wrappers that parse, call the library, format, exit.

One module per command group keeps each small: :mod:`.theory` (``list``, ``show``, ``stepsize``,
``dims``, ``findings``), :mod:`.compressor` (``compressor``), :mod:`.problems` (``problem``),
:mod:`.verify` (``verify``). A command returns its exit code: 0 all good, 1 a bound
or condition fails, 2 bad input (one line on stderr, no traceback).
"""

from __future__ import annotations

import importlib
import sys

import click

from boundcheck.cli.app import app
from boundcheck.errors import BoundcheckError

# importing a command module registers its commands on ``app``
for _name in ("theory", "compressor", "problems", "verify", "report"):
    try:
        importlib.import_module(f"boundcheck.cli.{_name}")
    except ModuleNotFoundError as _e:  # only a missing command module may be skipped
        if _e.name != f"boundcheck.cli.{_name}":
            raise

__all__ = ["app", "main", "run"]


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (0 good, 1 a check fails, 2 bad input)."""
    try:
        rv = app.main(args=argv, prog_name="boundcheck", standalone_mode=False)
    except click.exceptions.UsageError as err:
        where = err.ctx.command_path if err.ctx else "boundcheck"
        print(f"boundcheck: error: {err.format_message()} (see `{where} --help`)", file=sys.stderr)
        return 2
    except click.exceptions.Abort:
        print("boundcheck: aborted", file=sys.stderr)
        return 130
    except BoundcheckError as err:
        print(f"boundcheck: error: {err}", file=sys.stderr)
        return 2
    return rv if isinstance(rv, int) else 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
