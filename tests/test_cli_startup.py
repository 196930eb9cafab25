"""`boundcheck --help`, `--version` and the symbolic commands do not import torch (nor SciPy
where they do not solve): each command's module is imported only when it runs (issue 10)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from boundcheck.cli.app import COMMANDS, short_help

PROBE = (
    "import sys\n"
    "from boundcheck.cli import main\n"
    "code = main({argv!r})\n"
    "print(sorted(m for m in ('torch', 'scipy', 'sympy') if m in sys.modules))\n"
    "sys.exit(code)\n"
)


def _heavy(argv: list[str]) -> tuple[int, list[str]]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, timeout=300
    )
    return proc.returncode, eval(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["--version"], []),
        (["--help"], []),
        ([], []),
        (["list", "--paper", "SAEF"], ["sympy"]),
        (["show", "asyncbc.thm1"], ["sympy"]),
        (["stepsize", "--help"], ["sympy"]),
        (
            [
                "stepsize", "asyncbc.thm1", "--L", "1", "--delta_H", "1", "--tau_C", "4",
                "--tau_max", "4", "--T", "10000", "--F0", "1", "--eta", "0.000294628",
            ],
            ["sympy"],
        ),
        (["problem", "--help"], ["sympy"]),
    ],
)  # fmt: skip
def test_no_heavy_imports(argv, allowed):
    code, loaded = _heavy(argv)
    assert code in (0, 1)
    assert set(loaded) <= set(allowed), loaded


def test_root_help_lists_every_command_without_importing_it():
    for name in COMMANDS:
        assert short_help(name), name  # the first docstring line, read from the source
