"""Synthetic problem families with certified constants (issue 4)."""
