"""Test-wide settings: one torch thread per test process (CI runs two processes on two cores)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
from hypothesis import settings

torch.set_num_threads(1)

# Shared, slow machines: Hypothesis deadlines would make timing, not maths, fail a test. In CI
# (CI set) the examples are derandomised, so a submission's verdict does not depend on luck; local
# runs keep exploring new random examples (that is how the subnormal scaled-sign case was found).
settings.register_profile("boundcheck", deadline=None)
settings.register_profile("boundcheck-ci", deadline=None, derandomize=True, print_blob=True)
settings.load_profile("boundcheck-ci" if os.environ.get("CI") else "boundcheck")


@pytest.fixture(autouse=True)
def _seed_global_generators():
    """Tests that draw from the global torch/NumPy generators see the same numbers every run."""
    torch.manual_seed(0)
    np.random.seed(0)
