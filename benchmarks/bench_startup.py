"""Start-up time and peak memory of ``boundcheck --version``, ``boundcheck --help`` and every
command's ``--help``: lazy imports (now) against eager imports (before: torch, SymPy, SciPy and
every command module imported up front, as the CLI did), each in a fresh interpreter.

Each figure is the median over ``--repeat`` runs of a child process: wall time from start to exit
and its peak resident memory (``wait4``'s ``ru_maxrss``). The ratio eager/lazy is measured in the
same run, so the machine's load affects both sides alike. The interpreter's own start-up
(``python -c pass``) is printed as the floor.

    python benchmarks/bench_startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from boundcheck.cli.app import COMMANDS

EAGER = (
    "import torch, sympy, scipy.optimize, importlib\n"
    "from boundcheck.cli.app import COMMANDS\n"
    "for t in COMMANDS.values(): importlib.import_module(t.partition(':')[0])\n"
)
RUN = "import sys\nfrom boundcheck.cli import main\nsys.exit(main({argv!r}))\n"


def measure(code: str, repeat: int) -> tuple[float, float]:
    """Median wall seconds and peak RSS (MiB) of ``python -c code``."""
    times, rss = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - t0)
        rss.append(usage.ru_maxrss / 1024)  # KiB on Linux
        if os.waitstatus_to_exitcode(status) not in (0, 1):
            raise SystemExit(f"child failed: {code!r}")
    return statistics.median(times), statistics.median(rss)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    floor_t, floor_m = measure("pass", args.repeat)
    print(f"python -c pass: {floor_t * 1000:.0f} ms, {floor_m:.0f} MiB (the floor)")
    print(
        f"{'command':22s} {'lazy ms':>8s} {'MiB':>6s} {'eager ms':>9s} {'MiB':>6s} "
        f"{'time x':>7s} {'mem x':>6s}"
    )
    cases = [["--version"], ["--help"]] + [[c, "--help"] for c in sorted(COMMANDS)]
    for argv in cases:
        lazy_t, lazy_m = measure(RUN.format(argv=argv), args.repeat)
        eager_t, eager_m = measure(EAGER + RUN.format(argv=argv), args.repeat)
        print(
            f"{' '.join(argv):22s} {lazy_t * 1000:8.0f} {lazy_m:6.0f} {eager_t * 1000:9.0f} "
            f"{eager_m:6.0f} {eager_t / lazy_t:7.1f} {eager_m / lazy_m:6.1f}"
        )


if __name__ == "__main__":
    main()
