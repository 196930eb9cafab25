"""boundcheck: checks published convergence theorems of distributed optimisation."""

__version__ = "0.1.0"
