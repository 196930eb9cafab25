"""Batched implementations of every algorithm of the four papers (issue 5)."""
