"""Shared pieces of the command line: run settings, consoles that fit the terminal, progress bars
on stderr, strict JSON output, and the limits that every command validates against."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from boundcheck.errors import ParameterError

#: width used when output is not a terminal and COLUMNS is not set
DEFAULT_WIDTH = 80
#: the most search steps, Monte Carlo draws or climbers a command accepts (documented in --help)
MAX_BUDGET = 1_000_000
#: fraction of available memory a command may plan to allocate
MEMORY_FRACTION = 0.5


@dataclass
class Settings:
    debug: bool = False
    quiet: bool = False

    def reset(self) -> None:
        self.debug = os.environ.get("BOUNDCHECK_DEBUG", "") not in ("", "0")
        self.quiet = os.environ.get("BOUNDCHECK_QUIET", "") not in ("", "0")


SETTINGS = Settings()


def console(stderr: bool = False):
    """A rich console: terminal width on a terminal, else ``COLUMNS`` or 80 columns."""
    from rich.console import Console

    con = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not con.is_terminal:
        try:
            width = int(os.environ.get("COLUMNS", ""))
        except ValueError:
            width = DEFAULT_WIDTH
        con.width = width if width >= 40 else DEFAULT_WIDTH
    return con


def echo_json(obj: Any) -> None:
    """Strict JSON on stdout (non-finite numbers as null plus ``<key>_nonfinite``)."""
    from boundcheck.jsonutil import dumps

    click.echo(dumps(obj))


def show_progress() -> bool:
    """Progress bars only on a terminal's stderr and without --quiet."""
    return not SETTINGS.quiet and sys.stderr.isatty()


@contextmanager
def progress(description: str, total: int) -> Iterator[Any]:
    """A transient rich progress bar on stderr; yields ``update(completed)`` (a no-op when quiet)."""
    if not show_progress():
        yield lambda *_a, **_k: None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda completed, *_a: bar.update(task, completed=completed)


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable of /proc/meminfo; 4 GiB when unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 4 << 30


def _gib(b: float) -> str:
    return f"{b / 2**30:.3g} GiB" if b >= 2**30 else f"{b / 2**20:.3g} MiB"


def check_memory(estimate: float, what: str) -> None:
    """Refuse (bad input, exit 2) a size whose estimated allocation cannot fit in memory."""
    limit = MEMORY_FRACTION * available_memory()
    if estimate > limit:
        raise ParameterError(
            f"{what} would allocate about {_gib(estimate)}; the limit is {_gib(limit)} "
            f"({MEMORY_FRACTION:.0%} of available memory): choose smaller sizes"
        )


def check_budget(name: str, value: int, maximum: int = MAX_BUDGET) -> int:
    """An integer budget (steps, draws, climbers) in ``1..maximum``, else a one-line error."""
    if not 1 <= value <= maximum:
        raise ParameterError(f"--{name} {value} is not allowed; allowed: 1 .. {maximum:,}")
    return value
