"""The one catalogue of symbols: canonical ASCII name -> SymPy symbol, domain, dimension, meaning.

Names follow the papers (DESIGN.md conventions). A symbol shared by several papers (``L``, ``T``,
``K``) is defined once here. Symbols particular to one paper are declared by that paper's module with
:func:`define`, which adds them to the same catalogue and refuses a conflicting redefinition, so that
two papers can never silently give one name two meanings.

Domains say which numeric values a user may pass for the symbol:

=============  =====================================
``positive``   finite, > 0
``nonneg``     finite, >= 0
``unit``       0 < v <= 1       (compression parameters delta)
``open_unit``  0 < v < 1
``unit0``      0 <= v < 1       (momentum)
``count``      integer >= 1
``count0``     integer >= 0
``real``       finite
=============  =====================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sympy as sp

from boundcheck.dims import DIMENSIONLESS, GRAD, SMOOTH, STEP, Dim, F, X
from boundcheck.errors import ParameterError, UnknownIdError

DOMAINS = {
    "positive": "a finite number > 0",
    "nonneg": "a finite number >= 0",
    "unit": "a number in (0, 1]",
    "open_unit": "a number in (0, 1)",
    "unit0": "a number in [0, 1)",
    "count": "an integer >= 1",
    "count0": "an integer >= 0",
    "real": "a finite number",
}


@dataclass(frozen=True)
class SymbolInfo:
    """One catalogue entry."""

    name: str
    symbol: sp.Symbol
    domain: str
    dim: Dim
    meaning: str
    latex: str

    def validate(self, value: float) -> float:
        """Return ``value`` as float if it lies in the domain, else raise :class:`ParameterError`."""
        try:
            v = float(value)
        except (TypeError, ValueError):
            raise ParameterError(
                f"{self.name}={value!r} is not a number; {self.name} must be {DOMAINS[self.domain]}"
            ) from None
        allowed = DOMAINS[self.domain]
        bad = not math.isfinite(v)
        if not bad:
            bad = {
                "positive": v <= 0,
                "nonneg": v < 0,
                "unit": not (0 < v <= 1),
                "open_unit": not (0 < v < 1),
                "unit0": not (0 <= v < 1),
                "count": v < 1 or v != int(v),
                "count0": v < 0 or v != int(v),
                "real": False,
            }[self.domain]
        if bad:
            raise ParameterError(
                f"{self.name}={value!r} is not allowed; {self.name} must be {allowed}"
            )
        return v


_CATALOGUE: dict[str, SymbolInfo] = {}
_BY_SYMBOL: dict[sp.Symbol, SymbolInfo] = {}


def _assumptions(domain: str) -> dict[str, bool]:
    if domain in ("positive", "unit", "open_unit"):
        return {"positive": True}
    if domain == "count":
        return {"positive": True, "integer": True}
    if domain == "count0":
        return {"nonnegative": True, "integer": True}
    if domain in ("nonneg", "unit0"):
        return {"nonnegative": True}
    return {"real": True}


def define(name: str, domain: str, dim: Dim, meaning: str, latex: str | None = None) -> sp.Symbol:
    """Add a symbol to the catalogue (idempotent) and return its SymPy symbol.

    Redefining ``name`` with another domain or dimension raises ``ValueError``: one name, one meaning.
    """
    if domain not in DOMAINS:
        raise ValueError(f"unknown domain {domain!r}; allowed: {', '.join(DOMAINS)}")
    old = _CATALOGUE.get(name)
    if old is not None:
        if old.domain != domain or old.dim != dim:
            raise ValueError(
                f"symbol {name} already defined with domain {old.domain}, dimension {old.dim}"
            )
        return old.symbol
    sym = sp.Symbol(name, **_assumptions(domain))
    info = SymbolInfo(name, sym, domain, dim, meaning, latex or sp.latex(sym))
    _CATALOGUE[name] = info
    _BY_SYMBOL[sym] = info
    return sym


_USER_NAMES: set[str] = set()


def define_user(name: str, domain: str, dim: Dim, meaning: str) -> sp.Symbol:
    """A symbol of a user's theorem file (issue 15): like :func:`define`, but a later user file may
    redefine a name an earlier user file introduced (the last one loaded wins). A name of the
    shipped catalogue keeps its meaning: redefining it with another domain or dimension raises
    ``ValueError``."""
    old = _CATALOGUE.get(name)
    if old is not None and name in _USER_NAMES and (old.domain != domain or old.dim != dim):
        del _CATALOGUE[name]
        _BY_SYMBOL.pop(old.symbol, None)
        _USER_NAMES.discard(name)
        old = None
    if old is None:
        _USER_NAMES.add(name)
    return define(name, domain, dim, meaning)


def info(name_or_symbol: str | sp.Symbol) -> SymbolInfo:
    """Look a symbol up by name or SymPy symbol."""
    if isinstance(name_or_symbol, sp.Symbol):
        found = _BY_SYMBOL.get(name_or_symbol)
        key = name_or_symbol.name
    else:
        found = _CATALOGUE.get(name_or_symbol)
        key = name_or_symbol
    if found is None:
        raise UnknownIdError(f"unknown symbol {key!r}")
    return found


def catalogue() -> dict[str, SymbolInfo]:
    """A copy of the whole catalogue, name -> entry."""
    return dict(_CATALOGUE)


def dimensions() -> dict[sp.Symbol, Dim]:
    """Symbol -> dimension, for :func:`boundcheck.dims.check_expr`."""
    return {s: i.dim for s, i in _BY_SYMBOL.items()}


# --- shared by several papers -------------------------------------------------------------------
L = define("L", "positive", SMOOTH, "smoothness constant: ||grad f(x) - grad f(y)|| <= L ||x - y||")
mu = define("mu", "positive", SMOOTH, "strong convexity / PL constant", r"\mu")
T = define("T", "count", DIMENSIONLESS, "number of iterations (server steps)")
K = define("K", "count", DIMENSIONLESS, "buffer size / number of contributions aggregated")
P = define("P", "count", DIMENSIONLESS, "local steps per client round")
n = define("n", "count", DIMENSIONLESS, "number of clients / workers / nodes")
d = define("d", "count", DIMENSIONLESS, "dimension of the parameter vector")
F0 = define("F0", "nonneg", F, "initial suboptimality f(x^0) - f^*", r"f(x^{0}) - f^{*}")
D0 = define(
    "D0", "nonneg", X**2, "initial squared distance ||x^0 - x^*||^2", r"\|x^{0}-x^{*}\|^{2}"
)
sigma = define("sigma", "nonneg", GRAD, "stochastic gradient noise level", r"\sigma")
eta = define("eta", "positive", STEP, "stepsize", r"\eta")
delta = define("delta", "unit", DIMENSIONLESS, "compressor contraction parameter", r"\delta")
tau_max = define(
    "tau_max",
    "count0",
    DIMENSIONLESS,
    "maximal staleness / delay (in server versions)",
    r"\tau_{\max}",
)
tau_C = define(
    "tau_C", "count", DIMENSIONLESS, "concurrency: workers computing at once", r"\tau_{C}"
)
zeta = define("zeta", "nonneg", GRAD, "gradient dissimilarity between clients", r"\zeta")

__all__ = [
    "D0",
    "DOMAINS",
    "F0",
    "K",
    "L",
    "P",
    "SymbolInfo",
    "T",
    "catalogue",
    "d",
    "define",
    "define_user",
    "delta",
    "dimensions",
    "eta",
    "info",
    "mu",
    "n",
    "sigma",
    "tau_C",
    "tau_max",
    "zeta",
]
