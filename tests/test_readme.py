"""The README's examples stay true: its library block runs and its CLI tour parses."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from boundcheck.cli import main

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_library_example_runs(capsys):
    block = re.search(r"## As a library\n\n```python\n(.*?)```", README, re.S).group(1)
    exec(compile(block, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "QAFeL Theorem F.1, eq. (9)" in out and "certified" in out


def _tour_commands() -> list[list[str]]:
    block = re.search(r"## A short tour\n\n```bash\n(.*?)```", README, re.S).group(1)
    block = block.replace("\\\n", " ")
    cmds = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("boundcheck "):
            cmds.append(shlex.split(line)[1:])
    return cmds


@pytest.mark.parametrize("argv", _tour_commands(), ids=lambda a: " ".join(a[:3]))
def test_tour_commands_run_without_input_errors(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 1), err  # 2 would mean the README shows a bad command


def _verify_commands() -> list[list[str]]:
    """The README's `verify` block, minus the lines that need a user's file or start Ray/a pool
    (those are covered by tests/check/)."""
    block = re.search(r"## Checks from the command line: verify, executors\n\n```bash\n(.*?)```",
                      README, re.S).group(1)  # fmt: skip
    cmds = []
    for line in block.splitlines():
        line = line.split("#", 1)[0].strip()
        if line.startswith("boundcheck ") and not re.search(r"my_spec|--executor|--jobs", line):
            cmds.append(shlex.split(line)[1:])
    return cmds


@pytest.mark.parametrize("argv", _verify_commands(), ids=lambda a: " ".join(a[:3]))
def test_verify_commands_run(argv, capsys):
    code = main([*argv, "--quiet"] if "--list" not in argv else argv)
    err = capsys.readouterr().err
    assert code == 0, err  # the shipped spec holds at the ci scale; --list lists
    assert len(_verify_commands()) == 2
