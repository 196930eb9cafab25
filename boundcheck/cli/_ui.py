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
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    # spinner and elapsed time keep moving while a step is long (e.g. the adversarial compressor's
    # structured pool, evaluated before the first counted step)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda completed, *_a: bar.update(task, completed=completed)


@contextmanager
def status(message: str) -> Iterator[None]:
    """A spinner on stderr while a single long call runs (terminals only, not with --quiet)."""
    if not show_progress():
        yield
        return
    with console(stderr=True).status(message):
        yield


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


def _env_number(name: str) -> float | None:
    try:
        v = float(os.environ.get(name, ""))
    except ValueError:
        return None
    return v if v > 0 else None


def memory_limit() -> float:
    """Bytes a command may plan to allocate: MEMORY_FRACTION of the available memory, or
    ``BOUNDCHECK_MEMORY_LIMIT`` (bytes) when that is set and smaller."""
    limit = MEMORY_FRACTION * available_memory()
    env = _env_number("BOUNDCHECK_MEMORY_LIMIT")
    return min(limit, env) if env is not None else limit


def check_memory(estimate: float, what: str) -> None:
    """Refuse (bad input, exit 2) a size whose estimated allocation cannot fit in memory."""
    limit = memory_limit()
    if estimate > limit:
        raise ParameterError(
            f"{what} would allocate about {_gib(estimate)}; the limit is {_gib(limit)} "
            "(half the available memory, or BOUNDCHECK_MEMORY_LIMIT): choose smaller sizes"
        )


#: element operations a command may plan (about a few minutes on one core); BOUNDCHECK_WORK_LIMIT
#: lowers (or raises) it
MAX_WORK = 2e11


def check_work(estimate: float, what: str) -> None:
    """Refuse (bad input, exit 2) a run whose planned work exceeds the limit."""
    env = _env_number("BOUNDCHECK_WORK_LIMIT")
    limit = env if env is not None else MAX_WORK
    if estimate > limit:
        raise ParameterError(
            f"{what} needs about {estimate:.2g} operations; the limit is {limit:.2g} "
            "(BOUNDCHECK_WORK_LIMIT): choose fewer steps, draws or a smaller dimension"
        )
