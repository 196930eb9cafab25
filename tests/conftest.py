"""Test-wide settings: one torch thread per test process (CI runs two processes on two cores)."""

from __future__ import annotations

import torch
from hypothesis import settings

torch.set_num_threads(1)

# CI machines are shared and slow: Hypothesis deadlines would make timing, not maths, fail a test.
settings.register_profile("boundcheck", deadline=None)
settings.load_profile("boundcheck")
