"""Synthetic problem families with certified constants (issue 4).

``make(name, **params)`` builds a family by name (``names()`` lists them); every problem follows the
contract of :class:`boundcheck.problems.base.Problem` and reports its constants with provenance.
"""

from boundcheck.problems.base import Constant, Problem
from boundcheck.problems.iid import IID, iid_least_squares
from boundcheck.problems.least_squares import asyncbc_least_squares, least_squares
from boundcheck.problems.logistic import Logistic, asyncbc_logistic, logistic
from boundcheck.problems.nonconvex import indefinite_quadratic
from boundcheck.problems.oracles import (
    ORACLES,
    Exact,
    GaussianNoise,
    IndependentNoise,
    Minibatch,
    Oracle,
    SyntheticProblem,
    make_oracle,
)
from boundcheck.problems.quadratic import (
    DiagonalLeastSquares,
    LeastSquares,
    Quadratic,
    diagonal_quadratic,
)
from boundcheck.problems.registry import make, names, parameters
from boundcheck.problems.sarah import sarah_counterexample
from boundcheck.problems.toys import linear_toy, quadratic_toy

__all__ = [
    "IID",
    "ORACLES",
    "Constant",
    "DiagonalLeastSquares",
    "Exact",
    "GaussianNoise",
    "IndependentNoise",
    "LeastSquares",
    "Logistic",
    "Minibatch",
    "Oracle",
    "Problem",
    "Quadratic",
    "SyntheticProblem",
    "asyncbc_least_squares",
    "asyncbc_logistic",
    "diagonal_quadratic",
    "iid_least_squares",
    "indefinite_quadratic",
    "least_squares",
    "linear_toy",
    "logistic",
    "make",
    "make_oracle",
    "names",
    "parameters",
    "quadratic_toy",
    "sarah_counterexample",
]
