"""Exit codes mean one thing each (issue 10): 0 good, 1 a check fails, 2 bad input (one line),
3 an internal error (one line saying it is a bug and how to see the traceback)."""

from __future__ import annotations

import pytest

from boundcheck.cli import EXIT_BAD_INPUT, EXIT_BUG, main
from boundcheck.theory import registry


@pytest.fixture
def broken(monkeypatch):
    """A bug inside a command: the registry raises an unexpected exception."""

    def boom():
        raise RuntimeError("deliberate")

    monkeypatch.setattr(registry, "all_theorems", boom)
    monkeypatch.delenv("BOUNDCHECK_DEBUG", raising=False)


def test_internal_error_is_exit_3_with_one_line(broken, capsys):
    assert main(["list"]) == EXIT_BUG
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and "bug" in err[0] and "--debug" in err[0] and "BOUNDCHECK_DEBUG" in err[0]
    )
    assert "RuntimeError: deliberate" in err[0] and "Traceback" not in err[0]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_shows_the_traceback(broken, capsys, monkeypatch, how):
    if how == "env":
        monkeypatch.setenv("BOUNDCHECK_DEBUG", "1")
    argv = ["--debug", "list"] if how == "flag" else ["list"]
    assert main(argv) == EXIT_BUG
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "deliberate" in err


def test_debug_does_not_leak_into_the_next_call(broken, capsys):
    assert main(["--debug", "list"]) == EXIT_BUG
    capsys.readouterr()
    assert main(["list"]) == EXIT_BUG
    assert "Traceback" not in capsys.readouterr().err


def test_bare_command_prints_help_and_exits_0(capsys):
    assert main([]) == 0
    cap = capsys.readouterr()
    assert "Commands:" in cap.out and cap.err == ""


def test_unknown_command_is_bad_input(capsys):
    assert main(["nosuchcommand"]) == EXIT_BAD_INPUT
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


@pytest.mark.parametrize("cmd", ["list", "findings"])
def test_empty_paper_filter_is_bad_input(cmd, capsys):
    assert main([cmd, "--paper", ""]) == EXIT_BAD_INPUT
    assert "QAFeL" in capsys.readouterr().err  # names what is allowed
