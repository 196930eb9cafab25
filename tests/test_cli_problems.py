"""``boundcheck problem``: families, constants with provenance, and bad input."""

from __future__ import annotations

import json

import pytest

from boundcheck.cli import main
from boundcheck.problems import registry


def test_listing_names_every_family_with_its_defaults(capsys):
    assert main(["problem", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert list(rows) == registry.names()
    assert rows["logistic"]["alpha"] == registry.parameters("logistic")["alpha"]


@pytest.mark.parametrize("n", [2, 5, 8])
def test_asyncbc_least_squares_constants_match_the_closed_form(n, capsys):
    """A_i^2 = i^2/n I (AsyncBC Section 5): L = mu = (1/n) sum_i i^2/n = (n+1)(2n+1)/(6n)."""
    assert main(["problem", "asyncbc_least_squares", "--n", str(n), "--d", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    c = out["constants"]
    closed = (n + 1) * (2 * n + 1) / (6 * n)
    assert c["L"]["value"] == pytest.approx(closed, rel=1e-12)
    assert c["mu"]["value"] == pytest.approx(closed, rel=1e-12)
    assert c["L_i"]["value"] == pytest.approx(n, rel=1e-12)
    assert c["L"]["provenance"] == "exact" and c["L"]["how"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["problem", "logistc"], ["'logistc'", "logistic"]),
        (["problem", "logistic", "--n", "x"], ["--n", "'x'", "integer"]),
        (["problem", "logistic", "--nn", "3"], ["'nn'", "allowed"]),
        (["problem", "logistic", "--n", "0"], ["n=0", ">= 1"]),
        (["problem", "logistic", "--dtype", "float16"], ["float16", "float64"]),
        (["problem", "--n", "3"], ["FAMILY"]),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, words, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0]
    for w in words:
        assert w in err[0]


def _stored_torch_bytes(obj, seen=None, depth=0) -> int:
    """Bytes of the torch tensors a problem keeps (attributes, one level of helper objects)."""
    import torch

    seen = set() if seen is None else seen
    total = 0
    for v in vars(obj).values():
        if isinstance(v, torch.Tensor):
            key = (v.untyped_storage().data_ptr(), v.untyped_storage().nbytes())
            if key not in seen:
                seen.add(key)
                total += v.untyped_storage().nbytes()
        elif depth < 2 and hasattr(v, "__dict__") and type(v).__module__.startswith("boundcheck"):
            total += _stored_torch_bytes(v, seen, depth + 1)
    return total


@pytest.mark.parametrize(
    ("family", "extra"),
    [
        ("quadratic_toy", {}),
        ("linear_toy", {}),
        ("asyncbc_least_squares", {}),
        ("sarah_counterexample", {}),
        ("indefinite_quadratic", {}),
        ("indefinite_quadratic", {"structure": "dense"}),
        ("least_squares", {"m": 20}),  # low rank, n m >= d: dense mean
        ("least_squares", {"m": 5}),  # low rank, n m < d
        ("least_squares", {"m": 70, "d": 60}),  # m >= d: dense Hessians
        ("iid_least_squares", {}),
        ("logistic", {}),
        ("asyncbc_logistic", {}),
    ],
)
def test_memory_estimate_follows_the_structured_storage(family, extra):
    """The size guard's estimate bounds what a build allocates (NumPy peak, traced, plus the torch
    tensors kept) and is within a small factor of it: structured families are not charged for
    dense d x d matrices they never store (issue 9)."""
    import tracemalloc

    from boundcheck.cli.problems import estimate

    params = {k: v for k, v in registry.parameters(family).items() if isinstance(v, int)}
    params.update(n=12, d=200)
    params.update(extra)
    est, _ = estimate(family, params)
    tracemalloc.start()
    try:
        p = registry.make(family, **{k: v for k, v in params.items() if k in ("n", "d", "m")},
                          **{k: v for k, v in extra.items() if k not in ("m", "d")})  # fmt: skip
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    used = peak + _stored_torch_bytes(p) + _stored_torch_bytes(getattr(p, "hess", p))
    assert used <= est, (family, used, est)
    assert est <= 40 * used + (1 << 20), (family, used, est)


def test_memory_estimate_of_diagonal_families_is_linear_in_d():
    """n = 100, d = 10^5: diagonal storage is 8 n d bytes per array (a dense estimate would be
    8 n d^2 = 8 TB and refuse the build)."""
    from boundcheck.cli.problems import estimate

    for family in ("quadratic_toy", "asyncbc_least_squares", "indefinite_quadratic"):
        est, flops = estimate(family, {"n": 100, "d": 10**5})
        assert est < 1e9 and flops < 1e9
    dense, _ = estimate("indefinite_quadratic", {"n": 100, "d": 10**5, "structure": "dense"})
    assert dense > 1e12
