"""Placeholder: the theorems of this paper are being encoded."""

from boundcheck.theory.core import Theorem

THEOREMS: list[Theorem] = []
