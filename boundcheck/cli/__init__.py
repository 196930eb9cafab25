"""The ``boundcheck`` command line: thin wrappers that parse, call the library, format, exit.

Commands live in one module per group and are imported lazily from the table
:data:`boundcheck.cli.app.COMMANDS` (adding a command is one line there): :mod:`.theory` (``list``,
``show``, ``stepsize``, ``dims``, ``findings``), :mod:`.compressor` (``compressor``),
:mod:`.problems` (``problem``). ``boundcheck --help``, ``--version`` and the symbolic commands do
not import torch.

Exit codes, one meaning each (:func:`main`):

* 0 -- all good;
* 1 -- a bound, condition or finding fails (the command's answer, not an error);
* 2 -- bad input: one line on stderr naming the value and what is allowed
  (:class:`boundcheck.errors.BoundcheckError` and click's usage errors);
* 3 -- an internal error, i.e. a bug: one line on stderr saying so; ``boundcheck --debug ...`` or
  ``BOUNDCHECK_DEBUG=1`` shows the traceback;
* 130 -- interrupted (Ctrl-C).
"""

from __future__ import annotations

import sys
import traceback

import click

from boundcheck.cli import _ui
from boundcheck.cli.app import COMMANDS, app
from boundcheck.errors import BoundcheckError

__all__ = ["COMMANDS", "EXIT_BAD_INPUT", "EXIT_BUG", "EXIT_FAIL", "EXIT_OK", "app", "main", "run"]

EXIT_OK, EXIT_FAIL, EXIT_BAD_INPUT, EXIT_BUG = 0, 1, 2, 3


def _err(msg: str) -> None:
    print(f"boundcheck: {msg}", file=sys.stderr)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` and return the exit code (see the module docstring)."""
    _ui.SETTINGS.reset()
    if argv is None:
        argv = sys.argv[1:]
    argv = list(argv)
    if "--debug" in argv[: argv.index("--") if "--" in argv else len(argv)]:
        _ui.SETTINGS.debug = True  # also for errors raised while parsing
    bad = next((a for a in argv if "\x00" in a), None)
    if bad is not None:  # only a Python caller can pass one (a shell cannot): no path holds it
        _err(f"error: argument {bad!r} holds a NUL byte; no file name, id or number may")
        return EXIT_BAD_INPUT
    try:
        rv = app.main(args=argv, prog_name="boundcheck", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.UsageError as err:
        where = err.ctx.command_path if err.ctx else "boundcheck"
        _err(f"error: {_one_line(err.format_message())} (see `{where} --help`)")
        return EXIT_BAD_INPUT
    except click.exceptions.Abort:
        _err("aborted")
        return 130
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BoundcheckError as err:
        _err(f"error: {_one_line(str(err))}")
        return EXIT_BAD_INPUT
    except MemoryError:
        _err(
            "error: out of memory; choose smaller sizes (this input should have been refused "
            "up front: please report it as a bug)"
        )
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # `boundcheck ... | head`
        return EXIT_OK
    except Exception as exc:  # anything else is a bug
        if _ui.SETTINGS.debug:
            traceback.print_exc()
        _err(
            f"internal error ({type(exc).__name__}: {_one_line(str(exc))[:200]}); this is a bug "
            "in boundcheck; rerun with `boundcheck --debug ...` or BOUNDCHECK_DEBUG=1 for the "
            "traceback"
        )
        return EXIT_BUG
    if rv is None:
        return EXIT_OK
    return rv if isinstance(rv, int) else EXIT_OK


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
