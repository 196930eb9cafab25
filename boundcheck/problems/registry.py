"""Problem family name -> factory: :func:`make` and :func:`names`.

Every factory takes keyword parameters only (``n``, ``d``, ``seed``, ``oracle``, ``noise_var``,
``batch_size``, ``radius``, ``dtype``, ``device`` and its family's own knobs such as ``zeta``,
``alpha``, ``rho``); an unknown family raises :class:`UnknownIdError`, an unknown or bad parameter
:class:`ParameterError`.
"""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable

from boundcheck.errors import ParameterError, UnknownIdError
from boundcheck.problems.iid import iid_least_squares
from boundcheck.problems.least_squares import asyncbc_least_squares, least_squares
from boundcheck.problems.logistic import asyncbc_logistic, logistic
from boundcheck.problems.nonconvex import indefinite_quadratic
from boundcheck.problems.oracles import SyntheticProblem
from boundcheck.problems.sarah import sarah_counterexample
from boundcheck.problems.toys import linear_toy, quadratic_toy

FAMILIES: dict[str, Callable[..., SyntheticProblem]] = {
    "least_squares": least_squares,
    "asyncbc_least_squares": asyncbc_least_squares,
    "sarah_counterexample": sarah_counterexample,
    "logistic": logistic,
    "asyncbc_logistic": asyncbc_logistic,
    "linear_toy": linear_toy,
    "quadratic_toy": quadratic_toy,
    "indefinite_quadratic": indefinite_quadratic,
    "iid_least_squares": iid_least_squares,
}


def names() -> list[str]:
    """The family names :func:`make` accepts."""
    return list(FAMILIES)


def parameters(name: str) -> dict[str, object]:
    """A family's parameters and their defaults."""
    factory = _factory(name)
    return {k: p.default for k, p in inspect.signature(factory).parameters.items()}


def make(name: str, **params: object) -> SyntheticProblem:
    """Build the problem family ``name`` with ``params`` (see each factory's docstring)."""
    factory = _factory(name)
    allowed = inspect.signature(factory).parameters
    for k in params:
        if k not in allowed:
            raise ParameterError(f"{name} has no parameter {k!r}; allowed: {', '.join(allowed)}")
    return factory(**params)


def _factory(name: str) -> Callable[..., SyntheticProblem]:
    try:
        return FAMILIES[name]
    except (KeyError, TypeError):
        close = difflib.get_close_matches(str(name), FAMILIES, n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise UnknownIdError(
            f"unknown problem family {name!r}{hint}; known: {', '.join(FAMILIES)}"
        ) from None
