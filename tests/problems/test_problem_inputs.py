"""Bad inputs to the problem families: one clear ParameterError, and exit 2 on the CLI."""

from __future__ import annotations

import pytest
import torch

from boundcheck.cli import main
from boundcheck.errors import ParameterError
from boundcheck.problems import make


@pytest.mark.parametrize(
    ("name", "params", "needle"),
    [
        # refused even where the chosen oracle ignores them (the default oracle is "exact")
        ("least_squares", {"noise_var": -1.0}, "noise_var=-1.0 is not allowed"),
        ("linear_toy", {"noise_var": float("nan")}, "noise_var=nan is not allowed"),
        ("logistic", {"batch_size": 0}, "batch_size=0 is not allowed"),
        ("asyncbc_least_squares", {"batch_size": -3}, "batch_size=-3 is not allowed"),
    ],
)
def test_noise_parameters_are_validated_whatever_the_oracle(name, params, needle):
    with pytest.raises(ParameterError, match=needle):
        make(name, **params)


@pytest.mark.parametrize(
    ("device", "needle"),
    [("nope", "device='nope' is not allowed"), (7.5, "device=7.5 is not allowed")]
    + ([] if torch.cuda.is_available() else [("cuda", "device='cuda' is not allowed")]),
)
def test_unusable_device_is_a_parameter_error(device, needle):
    with pytest.raises(ParameterError, match=needle):
        make("least_squares", device=device)


def test_cli_bad_device_and_noise_one_line_exit_2(capsys):
    for argv, needle in (
        (["problem", "least_squares", "--device", "nope"], "device='nope'"),
        (["problem", "least_squares", "--noise-var", "-1"], "noise_var=-1.0"),
    ):
        rc = main(argv)
        cap = capsys.readouterr()
        assert rc == 2 and cap.out == "", argv
        assert needle in cap.err and len(cap.err.strip().splitlines()) == 1
        assert "Traceback" not in cap.err


@pytest.mark.parametrize("R", [0, 2.5, "4", True])
def test_x0_refuses_a_bad_replica_count(R):
    with pytest.raises(ParameterError, match=r"R=.* must be an integer >= 1"):
        make("linear_toy").x0(R)
