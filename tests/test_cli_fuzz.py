"""Fuzz the whole command line (issue 10): several hundred generated argument lists, bad and
extreme values, across every command registered in :data:`boundcheck.cli.app.COMMANDS` (a new
command is fuzzed without touching this file).

Each input runs in-process through :func:`boundcheck.cli.main` with a memory and work cap
(``BOUNDCHECK_MEMORY_LIMIT`` 256 MiB, ``BOUNDCHECK_WORK_LIMIT`` 2e6: size cases are refused by
the same validation a user meets, before anything is allocated) and a per-input time limit.
Asserted for every input: no traceback, exit code 0, 1 or 2 (3 means a bug), a refusal (2) is
one line on stderr, and ``--json`` output parses with a strict parser (no NaN/Infinity). The
counts are printed (``pytest -s``).
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import signal

import click
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from boundcheck.cli import main
from boundcheck.cli.app import COMMANDS, app

COUNTS: collections.Counter = collections.Counter()
PER_COMMAND: collections.Counter = collections.Counter()
SECONDS_PER_INPUT = 120

VALUES = [
    "",
    " ",
    "0",
    "-0",
    "1",
    "2",
    "-1",
    "0.5",
    "3",
    "10",
    "1e-320",
    "1e308",
    "-1e308",
    "1e30",
    "nan",
    "-nan",
    "inf",
    "-inf",
    "Infinity",
    str(2**70),
    str(-(2**70)),
    "9" * 30,
    "1000000000",
    "100000",
    "1e9",
    "∞",
    "é",
    "日本",
    "true",
    "None",
    "1,5",
    "0x10",
    "--",
    "-",
    "float16",
]
IDS = [
    "",
    "x",
    "∞",
    "qafel.thm_f1",
    "fedpaq.thm1",
    "asyncbc.thm1",
    "asyncbc.thm3_var",
    "saef.lemma3",
    "qafel.thm_f4_unbiased",
    "least_squares",
    "logistic",
    "quadratic_toy",
    "qsgd",
    "topk",
    "randk",
    "adversarial",
    "qsgd_bits",
    "QAFeL",
    "saef",
]
PARAM_NAMES = [
    "--L",
    "--T",
    "--eta",
    "--tau_max",
    "--tau_C",
    "--delta_H",
    "--F0",
    "--n",
    "--d",
    "--m",
    "--zeta",
    "--seed",
    "--k",
    "--s",
    "--delta",
    "--sigma",
    "--K",
    "--P",
    "--eta_l",
    "--eta_g",
    "--radius",
    "--noise_var",
    "--dtype",
    "--oracle",
    "--q",
    "--mu",
    "--x",
    "--",
    "--solve-for",
    "--paper",
    "--steps",
    "--population",
    "--mc-samples",
    "--ratio",
    "--bits",
]


# import every command once, outside the strategies (imports may touch the `random` module)
CMDS = {name: app.get_command(click.Context(app), name) for name in sorted(COMMANDS)}


def _options(cmd: click.Command) -> list[tuple[str, bool]]:
    """(option, takes a value) for every option the command declares."""
    out = []
    for p in cmd.params:
        if isinstance(p, click.Option):
            out += [(o, not p.is_flag) for o in p.opts]
    return out


@st.composite
def argv(draw) -> list[str]:
    name = draw(st.sampled_from(sorted(CMDS)))
    cmd = CMDS[name]
    declared = _options(cmd)
    args = [name]
    if any(isinstance(p, click.Argument) for p in cmd.params) and draw(st.booleans()):
        args.append(draw(st.sampled_from(IDS) | st.text(max_size=8)))
    value = st.sampled_from(VALUES) | st.text(max_size=6) | st.integers().map(str)
    for _ in range(draw(st.integers(0, 5))):
        if declared and draw(st.booleans()):
            opt, takes = draw(st.sampled_from(declared))
        else:
            opt, takes = draw(st.sampled_from(PARAM_NAMES)), True
        args.append(opt)
        if takes and draw(st.integers(0, 9)) > 0:  # sometimes the value is missing
            args.append(draw(value))
    if draw(st.booleans()):
        args.append("--json")
    return args


class _Hang(BaseException):
    """Raised by the alarm: not an Exception, so the CLI's bug handler cannot swallow it."""


def _alarm(signum, frame):
    raise _Hang


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(SECONDS_PER_INPUT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(args)
    except _Hang:
        pytest.fail(f"no answer within {SECONDS_PER_INPUT} s: boundcheck {' '.join(args)}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return code, out.getvalue(), err.getvalue()


def _strict(text: str):
    def reject(c):
        raise ValueError(f"non-strict JSON constant {c}")

    return json.loads(text, parse_constant=reject)


@pytest.fixture(autouse=True)
def _caps(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # `report` writes reports/ under the working directory
    monkeypatch.setenv("BOUNDCHECK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BOUNDCHECK_MEMORY_LIMIT", str(256 << 20))
    monkeypatch.setenv("BOUNDCHECK_WORK_LIMIT", "2e6")
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.delenv("BOUNDCHECK_DEBUG", raising=False)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(args=argv())
def test_every_command_survives_every_input(args):
    code, out, err = _run(args)
    COUNTS[code] += 1
    PER_COMMAND[args[0]] += 1
    where = f"boundcheck {' '.join(map(repr, args))}"
    assert "Traceback" not in err and "Traceback" not in out, where
    assert code in (0, 1, 2), f"{where}: exit {code}: {err.strip()}"
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("boundcheck: error: "), (where, err)
    elif "--json" in args and not any(a in ("-h", "--help", "--version") for a in args):
        _strict(out)


EXTREME = [
    "0",
    "-0",
    "1e-320",
    "1e-300",
    "1e-12",
    "0.999999999999",
    "1",
    "2",
    "1e12",
    "1e100",
    "1e300",
    "1e308",
    "-1",
    "nan",
    "inf",
    str(2**70),
    "",
]


@st.composite
def near_valid(draw) -> list[str]:
    """A theorem's documented example, a family's or a compressor's small valid call, with one
    or two values replaced by extremes (where numerical overflow and degenerate cases live)."""
    from boundcheck import compressors
    from boundcheck.problems import registry as problems
    from boundcheck.theory import registry

    kind = draw(st.sampled_from(["stepsize", "solve", "problem", "compressor"]))
    if kind in ("stepsize", "solve"):
        thm = draw(st.sampled_from([t for t in registry.all_theorems() if t.example]))
        values = {k: repr(float(v)) for k, v in thm.example.items()}
        args = ["stepsize", thm.id]
        if kind == "solve":
            free = draw(st.sampled_from(sorted(values)))
            del values[free]
            args += ["--solve-for", free]
    elif kind == "problem":
        family = draw(st.sampled_from(problems.names()))
        values = {"n": "3", "d": "4"}
        numeric = [k for k, v in problems.parameters(family).items() if isinstance(v, (int, float))]
        for k in draw(st.lists(st.sampled_from(numeric), max_size=2)):
            values[k] = "1"
        args = ["problem", family]
    else:
        name = draw(st.sampled_from(compressors.names()))
        values = {"d": "8", "steps": "2", "population": "2", "mc-samples": "4"}
        for k in ("k", "s", "bits", "delta", "ratio"):
            if k in compressors.parameters(name):
                values[k] = "0.5" if k in ("delta", "ratio") else "2"
        if "ratio" in values and "k" in values:
            del values["ratio"]
        args = ["compressor", name]
    if values:
        for k in draw(st.lists(st.sampled_from(sorted(values)), min_size=1, max_size=2)):
            values[k] = draw(st.sampled_from(EXTREME))
    for k, v in values.items():
        args += [f"--{k}", v]
    if draw(st.booleans()):
        args.append("--json")
    return args


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(args=near_valid())
def test_near_valid_inputs_with_extreme_values(args):
    test_every_command_survives_every_input.hypothesis.inner_test(args)


def test_fuzz_counts():
    """Runs after the fuzz (same module, in order): print the counts; every command was fuzzed."""
    total = sum(COUNTS.values())
    print(
        f"\nfuzz: {total} inputs, exit codes {dict(sorted(COUNTS.items()))}, "
        f"per command {dict(sorted(PER_COMMAND.items()))}"
    )
    if total:
        assert set(PER_COMMAND) == set(COMMANDS)
        assert total >= 600


@pytest.mark.parametrize(
    "args",
    [
        [
            "stepsize",
            "fedpaq.thm1",
            "--solve-for",
            "eta",
            "--D_k0",
            "1",
            "--L",
            "2",
            "--k",
            "200",
            "--k0",
            "108",
            "--mu",
            "1",
            "--n",
            "10",
            "--q",
            "0.5",
            "--r",
            "5",
            "--sigma",
            "1",
            "--tau",
            "4",
        ],
        [
            "stepsize",
            "asyncbc.thm1",
            "--L",
            "1",
            "--delta_H",
            "1",
            "--tau_C",
            "4",
            "--tau_max",
            "0",
            "--T",
            "10000",
            "--F0",
            "1",
            "--eta",
            "0.000294628",
        ],
        [
            "stepsize",
            "asyncbc.thm1",
            "--L",
            "1e308",
            "--delta_H",
            "1",
            "--tau_C",
            "4",
            "--tau_max",
            "4",
            "--T",
            "10000",
            "--F0",
            "1",
            "--eta",
            "0.000294628",
            "--json",
        ],
        ["problem", "least_squares", "--d", "100000"],
        ["compressor", "topk", "--d", "1000000000", "--k", "1"],
        ["compressor", "qsgd", "--mc-samples", "1000000000"],
        ["compressor", "qsgd", "--steps", "1000000000"],
        ["compressor", "qsgd", "--population", "1000000000"],
        ["compressor", "qsgd", "--s", "1e30"],
        ["compressor", "qsgd", "--seed", str(2**70)],
        ["list", "--paper", ""],
        ["findings", "--paper", ""],
        ["problem", "least_squares", "--zeta", "1e308"],
        ["problem", "logistic", "--json"],
        ["falsify", "--all", "--space", "\x00"],  # found by the fuzz: click.Path stats the name
        ["falsify", "fedpaq.thm1", "--space", "\x00"],
        ["report", "--out", "a\x00b"],
        ["report", "--from-json", "\x00"],
        [],
    ],
)
def test_the_reported_inputs(args):
    """Each input issue 10 reported (traceback, hang or wrong exit code) now answers cleanly."""
    code, out, err = _run(args)
    assert "Traceback" not in err and code in (0, 1, 2), (args, code, err)
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
    if "--json" in args and code in (0, 1):
        _strict(out)
    if args[:3] in (["list", "--paper", ""], ["findings", "--paper", ""]):
        assert code == 2  # an empty filter is bad input, not "everything"
    if args and args[0] == "compressor":
        assert code == 2  # refused up front, before allocating or running for minutes
    if any("\x00" in a for a in args):
        assert code == 2 and "NUL byte" in err  # a name no OS takes: bad input, nothing written
