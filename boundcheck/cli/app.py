"""The root ``boundcheck`` group: a lazy command table, so that a command's module (and its heavy
imports: torch, SciPy) is imported only when that command runs or its own help is shown.

Adding a command is ONE line in :data:`COMMANDS`: ``"name": "boundcheck.cli.module:attr"``, where
``attr`` is the :class:`click.Command` object in that module. A module that registers its command
itself with ``@app.command("name")`` (the older pattern) can be named without ``:attr``; the
command is then looked up by name after the import. ``boundcheck --help`` lists every command of
the table with the first line of its docstring, read from the module's source without importing
it. The fuzz test (``tests/test_cli_fuzz.py``) iterates over this table, so a new command is
fuzzed automatically.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from functools import cache

import click

from boundcheck.cli import _ui

#: command name -> "module:attr" (or "module" when the module registers the command on ``app``)
COMMANDS: dict[str, str] = {
    "list": "boundcheck.cli.theory:list_cmd",
    "show": "boundcheck.cli.theory:show_cmd",
    "stepsize": "boundcheck.cli.theory:stepsize_cmd",
    "dims": "boundcheck.cli.theory:dims_cmd",
    "findings": "boundcheck.cli.theory:findings_cmd",
    "problem": "boundcheck.cli.problems:problem_cmd",
    "compressor": "boundcheck.cli.compressor:compressor_cmd",
    "derive": "boundcheck.cli.derive",
    "pep": "boundcheck.cli.pep",
    "verify": "boundcheck.cli.verify",
    "report": "boundcheck.cli.report",
    "falsify": "boundcheck.cli.falsify:falsify_cmd",
}


@cache
def short_help(name: str) -> str:
    """First line of a command's docstring, read from its module's source (nothing imported)."""
    module, _, attr = COMMANDS[name].partition(":")
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        return ""
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        named = node.name == attr or any(
            isinstance(d, ast.Call)
            and d.args
            and isinstance(d.args[0], ast.Constant)
            and d.args[0].value == name
            for d in node.decorator_list
        )
        if named:
            doc = ast.get_docstring(node) or ""
            return doc.strip().splitlines()[0] if doc.strip() else ""
    return ""


class LazyGroup(click.Group):
    """A group whose commands are imported from :data:`COMMANDS` only when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(COMMANDS) | set(self.commands))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module, _, attr = target.partition(":")
        mod = importlib.import_module(module)  # may register commands on ``app`` itself
        cmd = getattr(mod, attr, None) if attr else self.commands.get(cmd_name)
        if not isinstance(cmd, click.Command):
            raise RuntimeError(f"COMMANDS[{cmd_name!r}] = {target!r} is not a click command")
        self.commands[cmd_name] = cmd
        return cmd

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list, without importing the command modules."""
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit=200)))
            else:
                rows.append((name, short_help(name)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    name="boundcheck",
    cls=LazyGroup,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="boundcheck", message="%(prog)s, version %(version)s")
@click.option(
    "--debug",
    is_flag=True,
    help="Show the full traceback of an internal error (or set BOUNDCHECK_DEBUG=1).",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="No progress bars (they go to stderr, terminals only)."
)
@click.pass_context
def app(ctx: click.Context, debug: bool, quiet: bool) -> None:
    """Check published convergence theorems of communication-efficient and asynchronous
    distributed optimisation (QAFeL/FedBuff, FedPAQ, SAEF, AsyncBC), symbolically and empirically.

    \b
    Exit codes: 0 all good; 1 a bound, condition or finding fails; 2 bad input (one line on
    stderr naming the value and what is allowed); 3 an internal error (a bug: rerun with
    --debug or BOUNDCHECK_DEBUG=1 for the traceback).
    """
    _ui.SETTINGS.debug = _ui.SETTINGS.debug or debug
    _ui.SETTINGS.quiet = _ui.SETTINGS.quiet or quiet
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())
        ctx.exit(0)
