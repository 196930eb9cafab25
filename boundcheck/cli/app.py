"""The click group that every command module registers on."""

from __future__ import annotations

import click


@click.group(
    name="boundcheck",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="boundcheck")
def app() -> None:
    """Check published convergence theorems of communication-efficient and asynchronous
    distributed optimisation (QAFeL/FedBuff, FedPAQ, SAEF, AsyncBC), symbolically and empirically.

    \b
    Exit codes: 0 all good, 1 a bound or condition fails, 2 bad input.
    """
