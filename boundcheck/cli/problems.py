"""``boundcheck problem``: the synthetic problem families and their certified constants.

Sizes are validated before anything is built: the memory a family would allocate (an estimate
following the family's storage -- diagonal, low rank, dense, samples: :func:`estimate`) against the
available memory, and the work (e.g. eigendecompositions of d x d matrices) against
:data:`MAX_FLOPS`; floats against :data:`MAX_ABS_FLOAT` (squares of larger values overflow
float64). Each refusal is one line naming the value, the estimate and the limit (exit 2).
"""

from __future__ import annotations

import math
import warnings

import click
from rich.markup import escape as esc
from rich.table import Table

from boundcheck.cli import _ui
from boundcheck.cli._ui import echo_json
from boundcheck.cli.theory import _parse_params
from boundcheck.errors import ParameterError

DTYPES = ("float64", "float32")
#: the largest |value| of a float parameter (zeta, noise_var, ...): its square stays finite
MAX_ABS_FLOAT = 1e100
#: the most floating-point operations a problem build may plan (about a minute on one core)
MAX_FLOPS = 5e10
#: the largest integer parameter (n, d, m, batch_size); seeds are 0 .. 2**63 - 1
MAX_INT = 10**9
#: bytes of a build beyond its arrays (Python objects, small temporaries)
BASE_BYTES = float(1 << 20)


def _convert(family: str, name: str, raw: str, default: object) -> object:
    """A command-line string as the type of the factory's default for ``name``."""
    if name == "dtype" or type(default).__name__ == "dtype":
        if raw not in DTYPES:
            raise ParameterError(f"--dtype {raw!r} is not allowed; allowed: {', '.join(DTYPES)}")
        import torch

        return getattr(torch, raw)
    if isinstance(default, bool):
        if raw.lower() not in ("true", "false", "1", "0"):
            raise ParameterError(f"--{name} {raw!r} is not allowed; allowed: true, false")
        return raw.lower() in ("true", "1")
    if isinstance(default, int):
        try:
            v = int(raw)
        except ValueError:
            raise ParameterError(f"--{name} {raw!r} is not an integer") from None
        top = 2**63 - 1 if name == "seed" else MAX_INT
        if not -top <= v <= top:
            raise ParameterError(f"--{name} {raw} is out of range; allowed: |{name}| <= {top:,}")
        return v
    if isinstance(default, float) or default is None:
        if default is None and raw.lower() == "none":
            return None
        try:
            v = float(raw)
        except ValueError:
            raise ParameterError(f"--{name} {raw!r} is not a number") from None
        if math.isfinite(v) and abs(v) > MAX_ABS_FLOAT:
            raise ParameterError(
                f"--{name} {raw} is too large: its square overflows float64; "
                f"allowed: |{name}| <= {MAX_ABS_FLOAT:g}"
            )
        return v
    if raw == "":
        raise ParameterError(f"--{name} is empty; give a value (default: {default})")
    return raw


def _low_rank(n: int, k: int, d: int) -> tuple[float, float]:
    """Words and flops of ``LowRank`` Hessians ``(n, k, d)`` (:mod:`boundcheck.problems.structure`)."""
    nk = n * k
    words = 3.0 * nk * d + 4.0 * n * k * k  # A (host, rounded, device), QR factors and Gram
    flops = 4.0 * nk * k * d + 20.0 * n * k**3  # QR of each A_i^T, k x k eigensolves
    if nk >= d:  # dense mean: Hbar0, Hbar, eigenvectors, B = A V; lstsq; secular steps
        words += 6.0 * d * d + nk * d
        flops += 4.0 * nk * d * d + 40.0 * d**3 + 60.0 * 2 * nk * k * d
        if n <= 4:  # few clients: the mean's top eigenvalue may decide, one eigensolve each
            flops += 10.0 * n * d**3
    else:  # the row space of A_flat: Q (d, nk), B (n, k, nk) and n nk x nk matrices
        words += 2.0 * d * nk + (n + 3.0) * nk * nk
        flops += 8.0 * nk * nk * d + 10.0 * (n + 2) * nk**3
    return words, flops


def estimate(family: str, params: dict[str, object]) -> tuple[float, float]:
    """Bytes and floating-point operations a family build plans at most, following the family's
    storage (:mod:`boundcheck.problems.structure`; float64, host and device copies):

    * diagonal / scaled-identity families (``quadratic_toy``, ``linear_toy``,
      ``asyncbc_least_squares``, ``sarah_counterexample``, ``indefinite_quadratic`` with
      ``structure=diagonal``): a few ``n x d`` arrays, ``O(n d)`` work (closed-form spectra);
    * low rank plus diagonal (``least_squares`` with ``m < d``; ``iid_least_squares`` stores one
      client): ``n m d`` factors and, when ``n m >= d``, the dense ``d x d`` mean with one
      eigendecomposition;
    * dense ``n x d x d`` (``least_squares`` with ``m >= d``, ``indefinite_quadratic`` with
      ``structure=dense``): the matrices, eigensolve workspace, ``n + 2`` eigensolves;
    * samples (``logistic``, ``asyncbc_logistic``): ``n m d`` data, the ``d x d`` Newton Hessian
      and the per-client eigensolves the family affords (``n d^3 <= 2e9``).
    """
    n = max(int(params.get("n", 1) or 1), 1)
    d = max(int(params.get("d", 1) or 1), 1)
    m = max(int(params.get("m", d) or 1), 1)
    b = max(int(params.get("batch_size", 1) or 1), 1)
    small = 8.0 * n * d + 2.0 * n * b * d  # c, e, b, centres, host and device copies; oracle
    dense_words = 8.0 * n * d * d + 4.0 * d * d  # drawn, symmetrised, rounded, stored, device
    dense_flops = 10.0 * (n + 2) * d**3 + 4.0 * n * m * d * d
    if family == "least_squares":
        words, flops = _low_rank(n, m, d) if m < d else (dense_words, dense_flops)
        words += 3.0 * n * m * d  # the samples A_i, b_i (host, rounded, device)
    elif family == "iid_least_squares":  # one stored client (IID wraps it n times)
        words, flops = _low_rank(1, m, d) if m < d else (dense_words / n, 10.0 * 3 * d**3)
        words += 3.0 * m * d
        flops += 4.0 * m * d * d
    elif family in ("logistic", "asyncbc_logistic"):
        words = 6.0 * n * m * d + 4.0 * d * d + 2.0 * n * min(m, d) ** 2
        flops = 2.0 * n * m * min(m, d) * d + 20.0 * (2 * n * m * d * d + 10.0 * d**3)
        if n * d**3 <= 2e9:  # per-client eigensolves of P_i
            flops += 10.0 * n * d**3 + 2.0 * n * d * d
    elif family == "indefinite_quadratic" and params.get("structure") == "dense":
        words, flops = dense_words + 4.0 * n * d * d + 2.0 * d * d, dense_flops  # + draws
    else:  # diagonal and scaled-identity storage
        words, flops = 2.0 * n * d, 50.0 * n * d
    return 8.0 * (words + small) + BASE_BYTES, flops


def _fmt(v: float) -> str:
    return str(v) if not math.isfinite(v) else f"{v:.6g}"


def _json_value(v: object) -> object:
    return str(v).removeprefix("torch.") if type(v).__name__ == "dtype" else v


@click.command(
    "problem",
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
)
@click.argument("family", required=False)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (strict JSON).")
@click.pass_context
def problem_cmd(ctx: click.Context, family: str | None, as_json: bool) -> int:
    """The synthetic problem families, or one family's constants with their provenance.

    Without FAMILY: every family with its parameters and defaults. With FAMILY and any of its
    parameters as --NAME VALUE: the problem is built (seeded) and every constant is printed with how
    it is known -- exact (closed form, eigenvalues), certified (a proven upper bound; a lower bound
    for mu) or observed (weaker) -- and the proof or computation behind it. A constant that does not
    exist on R^d (e.g. G for a quadratic) is inf (null with "<name>_nonfinite": "inf" in --json);
    pass --radius to certify it on a ball.

    Sizes that cannot fit in half the available memory, builds above 5e10 floating-point
    operations, integers above 1e9 and floats above 1e100 in magnitude are refused (exit 2).

    \b
    Examples:
      boundcheck problem
      boundcheck problem asyncbc_least_squares --n 8 --d 10 --zeta 3
      boundcheck problem logistic --n 10 --d 50 --alpha 0.1 --json
    """
    from boundcheck.problems import registry

    if family is not None and family.startswith("-"):  # an option where FAMILY should be
        raise ParameterError("parameters need a FAMILY first; `boundcheck problem` lists them")
    if family is None:
        if ctx.args:
            raise ParameterError("parameters need a FAMILY; `boundcheck problem` lists them")
        rows = {
            name: {k: _json_value(v) for k, v in registry.parameters(name).items()}
            for name in registry.names()
        }
        if as_json:
            echo_json(rows)
            return 0
        table = Table(box=None, header_style="bold", pad_edge=False)
        table.add_column("family", no_wrap=True)
        table.add_column("parameters (defaults)", overflow="fold")
        for name, params in rows.items():
            shown = ", ".join(f"{k}={v}" for k, v in params.items() if k not in ("dtype", "device"))
            table.add_row(name, esc(shown))
        _ui.console().print(table)
        return 0
    defaults = registry.parameters(family)
    raw = _parse_params(ctx.args)
    unknown = [k for k in raw if k not in defaults]
    if unknown:
        raise ParameterError(
            f"{family} has no parameter {unknown[0]!r}; allowed: {', '.join(defaults)}"
        )
    params = {k: _convert(family, k, v, defaults[k]) for k, v in raw.items()}
    sizes = {**{k: v for k, v in defaults.items() if isinstance(v, int)}, **params}
    nbytes, flops = estimate(family, sizes)
    shown = ", ".join(f"{k}={sizes[k]}" for k in ("n", "d", "m") if k in sizes)
    _ui.check_memory(nbytes, f"problem {family} with {shown}")
    env = _ui._env_number("BOUNDCHECK_WORK_LIMIT")
    limit = min(MAX_FLOPS, env) if env is not None else MAX_FLOPS
    if flops > limit:
        raise ParameterError(
            f"problem {family} with {shown} needs about {flops:.2g} floating-point operations "
            f"(dense d x d eigendecompositions); the limit is {limit:.0e}: choose smaller n or d"
        )
    import numpy as np

    with _ui.status(f"building {family}"), warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        problem = registry.make(family, **params)
        desc = problem.describe()
    if as_json:
        echo_json(
            {**desc, "family": family, "params": {k: _json_value(v) for k, v in params.items()}}
        )
        return 0
    con = _ui.console()
    con.print(f"[bold]{family}[/bold] (n={problem.n}, d={problem.d})")
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("constant", no_wrap=True)
    table.add_column("value", no_wrap=True)
    table.add_column("provenance", no_wrap=True)
    table.add_column("how", overflow="fold", ratio=1)
    for name, c in problem.constants.items():
        table.add_row(name, _fmt(c.value), c.provenance, esc(c.how))
    con.print(table)
    return 0
