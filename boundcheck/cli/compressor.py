"""``boundcheck compressor NAME``: a compressor's declared and published parameters against an
empirical worst case (:mod:`boundcheck.check.compressor_search`)."""

from __future__ import annotations

import math

import click
import torch
from rich.markup import escape as esc
from rich.table import Table

from boundcheck import compressors
from boundcheck.check.compressor_search import SearchResult, worst_case
from boundcheck.cli import _ui
from boundcheck.errors import ParameterError

#: most hill-climbing steps, Monte Carlo draws per estimate, parallel climbers
MAX_STEPS, MAX_MC_SAMPLES, MAX_POPULATION = 100_000, 1_000_000, 100_000
#: the largest dimension and count parameters (k, s, block size): exact in float64
MAX_D, MAX_COUNT = 10**9, 2**53
#: draws of the final Monte Carlo estimate of the worst input (compressor_search)
FINAL_MC = 4096

_CLI_PARAMS = ("k", "ratio", "s", "bits", "sign_in_bits", "delta")


def _options(name: str) -> str:
    """A compressor's parameters as this command's options (``--k | --ratio`` for sparsifiers)."""
    ps = [p for p in compressors.parameters(name) if p in _CLI_PARAMS]
    sep = " | " if set(ps) == {"k", "ratio"} else ", "
    return sep.join("--" + p.replace("_", "-") for p in ps) or "-"


_EPILOG = (
    "\b\nExamples:\n"
    "  boundcheck compressor qsgd --d 1000 --s 15\n"
    "  boundcheck compressor qsgd_bits --d 1000 --bits 4            # QAFeL's 4-bit qsgd\n"
    "  boundcheck compressor randk_unbiased --d 1000 --k 100 --json  # exits 1: beaten\n"
    "  boundcheck compressor topk --d 1000 --ratio 0.1 --block-size 250\n"
    "  boundcheck compressor qsgd --d 1000 --s 4 --rescale          # Q/(1+q), a contraction\n"
    "\b\nNames (and their parameters):\n"
    + "".join(
        f"  {n:<15} {_options(n):<23} {compressors.summary(n)}\n" for n in compressors.names()
    )
    + "\b\nThe table: one row per parameter, checked against the worst input found.\n"
    "  origin       declared = proven in boundcheck.compressors for this very compressor;\n"
    "               published = as stated in a paper (possibly wrong)\n"
    "  param        delta (QAFeL Def. 2.1, SAEF Assumption 4) or q (FedPAQ Assumption 1)\n"
    "  value        the parameter's value at --d\n"
    "  ratio bound  what it asserts about E||Q(x)-x||^2/||x||^2: 1 - delta, or q\n"
    "  status       holds = no input found exceeds the bound (a search, not a proof);\n"
    "               BEATEN = an input exceeds it (exact closed form beyond float64\n"
    "               rounding, or Monte Carlo lower confidence bound above it);\n"
    "               n/a = claimed for another compressor (e.g. Q/(1+q) beside Q), not compared;\n"
    "               'delta <= 0' = no contraction at this d\n"
    "  applies to   the compressor the value is claimed for; source: where it comes from\n"
    "\b\nBelow the table: the worst ratio found (and how: exact closed-form expectation, or\n"
    "Monte Carlo with a confidence interval), the exact supremum where known, and the worst input.\n"
    "A progress bar (stderr, terminals only; not with --quiet) follows the hill climbing;\n"
    "--json prints one strict JSON object.\n"
    "\b\nLimits (one-line error above them, exit 2): --steps <= 100,000, --mc-samples <=\n"
    "1,000,000, --population <= 100,000, --d <= 1e9, and every size whose estimated memory\n"
    "(pool x d x draws, float64) exceeds half the available memory. The population is at most\n"
    "the number of structured starting inputs at --d; the JSON reports the one used. Runs\n"
    "planning more than 2e11 element operations (8 d x draws x (inputs + steps x climbers))\n"
    "are refused too. BOUNDCHECK_MEMORY_LIMIT and BOUNDCHECK_WORK_LIMIT (numbers) lower them.\n"
    "\b\nExit codes: 0 no parameter beaten; 1 a declared or published parameter is beaten by\n"
    "the worst input found (a counterexample to the claim); 2 bad input (one line on stderr)."
)


@click.command("compressor", epilog=_EPILOG)
@click.argument("name")
@click.option(
    "--d", "d", type=click.IntRange(max=MAX_D), default=1000, show_default=True, help="Dimension."
)
@click.option(
    "--k",
    type=click.IntRange(max=MAX_COUNT),
    default=None,
    help="Coordinates kept (topk, randk, randk_unbiased).",
)
@click.option("--ratio", type=float, default=None, help="Fraction kept, k = ceil(ratio d).")
@click.option(
    "--s",
    type=click.IntRange(max=MAX_COUNT),
    default=None,
    help="Quantization levels (qsgd, lowprec).",
)
@click.option(
    "--bits", type=click.IntRange(max=52), default=None, help="Bits per coordinate (qsgd_bits)."
)
@click.option("--sign-in-bits", is_flag=True, help="qsgd_bits: the n bits include the sign.")
@click.option("--delta", type=float, default=None, help="delta (shrink, overshoot, adversarial).")
@click.option(
    "--block-size",
    type=click.IntRange(max=MAX_D),
    default=None,
    help="Apply layer-wise in blocks of this size.",
)
@click.option("--rescale", is_flag=True, help="Use Q/(1+q) of an unbiased Q (a contraction).")
@click.option(
    "--seed",
    type=click.IntRange(0, 2**63 - 2),
    default=0,
    show_default=True,
    help="Seed of the search.",
)
@click.option(
    "--steps",
    type=click.IntRange(0, MAX_STEPS),
    default=None,
    help="Hill-climbing steps [default: 200 with a closed-form expectation, 20 with Monte Carlo].",
)
@click.option(
    "--population",
    type=click.IntRange(1, MAX_POPULATION),
    default=32,
    show_default=True,
    help="Parallel climbers.",
)
@click.option(
    "--mc-samples",
    type=click.IntRange(2, MAX_MC_SAMPLES),
    default=64,
    show_default=True,
    help="Draws per Monte Carlo estimate (only without a closed form).",
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def compressor_cmd(
    name: str,
    d: int,
    k: int | None,
    ratio: float | None,
    s: int | None,
    bits: int | None,
    sign_in_bits: bool,
    delta: float | None,
    block_size: int | None,
    rescale: bool,
    seed: int,
    steps: int | None,
    population: int,
    mc_samples: int,
    as_json: bool,
) -> int:
    """Worst-case ratio E||Q(x)-x||^2/||x||^2 of compressor NAME at dimension --d.

    Searches inputs x (structured candidates, then batched hill climbing; exact closed-form
    expectations where they exist, Monte Carlo otherwise), prints the worst ratio beside the
    parameters the module declares (proven) and those the papers publish, and the worst input.
    A delta bounds the ratio by 1 - delta, a q by q.
    """
    params: dict[str, object] = {}
    for key, val in (("k", k), ("ratio", ratio), ("s", s), ("bits", bits), ("delta", delta)):
        if val is not None:
            params[key] = val
    if sign_in_bits:
        params["sign_in_bits"] = True
    for key, val in (("ratio", ratio), ("delta", delta)):
        if val is not None and not math.isfinite(val):
            raise ParameterError(f"--{key} {val} is not allowed; give a finite number")
    C = compressors.get(name, block_size=block_size, rescale=rescale, **params)
    compressors._check_d(d)  # d >= 1, before any size is computed from it
    C.bits(d)  # validates d against the compressor's parameters (k <= d, block sizes, ...)
    pool = pool_rows(d)
    used_population = min(population, pool)
    what = f"compressor {name} at d={d}"
    _ui.check_memory(8.0 * 4.0 * d * pool, what)  # the structured inputs alone (a lower bound)
    exact = C.expected_sq_error(torch.ones(1, d, dtype=torch.float64)) is not None
    if steps is None:  # Monte Carlo evaluations cost mc_samples compressions each: fewer steps
        steps = 200 if exact else 20
    draws = 1 if exact else mc_samples
    # float64 words alive at once: the batch of inputs, its compressed copies and their errors
    words = 8.0 * d * max(pool * draws, used_population * draws, 0 if exact else FINAL_MC)
    _ui.check_memory(8.0 * words, f"{what} with {draws} draw(s) per input")
    work = 8.0 * d * draws * (pool + steps * used_population) + 8.0 * d * FINAL_MC
    _ui.check_work(work, f"{what}: {steps} steps x {used_population} climbers x {draws} draw(s)")
    search = {
        "seed": seed,
        "steps": steps,
        "population": used_population,
        "population_requested": population,
        "structured_inputs": pool,
        "mc_samples": mc_samples,
    }
    with _ui.progress(f"searching {C.describe()}", steps) as update:
        res = worst_case(
            C,
            d,
            seed=seed,
            population=population,
            steps=steps,
            mc_samples=mc_samples,
            progress=update,
        )
    if as_json:
        out = {
            "name": name,
            "params": C.params(),
            "block_size": block_size,
            "rescale": rescale,
            **res.to_dict(),
            "bits_per_message": C.bits(d),
            "biased": C.biased,
            "stochastic": C.stochastic,
            "delta": C.delta(d),
            "q": C.q(d),
            "contraction": C.delta(d) is not None,
            "search": search,
            "exit_code": 1 if res.beaten else 0,
        }
        _ui.echo_json(out)
    else:
        _print(res, C, d)
    return 1 if res.beaten else 0


def pool_rows(d: int) -> int:
    """Rows of :func:`boundcheck.check.compressor_search.structured_pool` at dimension ``d``: the
    hill climbing keeps the best ``min(population, rows)`` of them."""
    ms = {max(1, round(d / 2**j)) for j in range(int(math.log2(d)) + 1)} | {d}
    return 3 + 5 * len(ms) + 3 * 32


def _print(res: SearchResult, C: compressors.Compressor, d: int) -> None:
    con = _ui.console()
    con.print(
        f"[bold]{res.compressor}[/bold] at d={d}: {'biased' if C.biased else 'unbiased'}, "
        f"{C.bits(d)} bits per message"
    )
    tab = Table(box=None, header_style="bold", pad_edge=False)
    for col in ("origin", "param", "value", "ratio bound"):
        tab.add_column(col, no_wrap=True)
    for col in ("status", "applies to", "source"):
        tab.add_column(col, overflow="fold")
    for c in res.checks:
        status = (
            "[red]BEATEN[/red]" if c.beaten else "holds" if c.applies else "n/a (other compressor)"
        ) + (" [yellow](delta <= 0: no contraction)[/yellow]" if c.not_contraction else "")
        tab.add_row(
            c.origin,
            c.param,
            f"{c.value:.6g}",
            f"{c.ratio_bound:.6g}",
            status,
            esc(c.applies_to),
            esc(c.source),
        )
    con.print(tab)
    if C.delta(d) is None:
        con.print(
            "[yellow]no contraction at this d:[/yellow] no delta > 0 is proven for this "
            "compressor itself"
        )
    how = (
        "exact closed-form expectation"
        if res.method == "exact"
        else (f"Monte Carlo, CI [{res.ci_low:.6g}, {res.ci_high:.6g}]")
    )
    con.print(f"worst ratio found: {res.ratio:.10g} ({how}; {res.evaluations} evaluations)")
    if res.exact_sup is not None:
        con.print(f"exact sup (closed form): {res.exact_sup:.10g}")
    x = res.x
    nz = int((x != 0).sum())
    ax = x.abs()
    head = ", ".join(f"{v:.4g}" for v in x[:8].tolist())
    con.print(
        f"worst input (unit norm): [{head}{', ...' if d > 8 else ''}]; {nz} nonzero, "
        f"|x_i| in [{float(ax.min()):.4g}, {float(ax.max()):.4g}]"
    )
    for c in res.beaten:
        con.print(
            f"[red]beaten:[/red] {c.origin} {c.param}={c.value:.6g} ({esc(c.source)}, for "
            f"{esc(c.applies_to)}) asserts ratio <= {c.ratio_bound:.6g}, found {res.ratio:.6g}"
        )
