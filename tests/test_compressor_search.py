"""The worst-case search (boundcheck.check.compressor_search) and `boundcheck compressor`."""

from __future__ import annotations

import json
import math

import pytest
import torch

from boundcheck import compressors as C
from boundcheck.check.compressor_search import ratio, worst_case
from boundcheck.cli import main


@pytest.mark.parametrize(
    ("comp", "d", "sup"),
    [
        (C.QSGD(2), 64, math.sqrt(64) / 2 - 1),  # tight at constant |x_i|
        (C.TopK(k=5), 50, 1 - 5 / 50),
        (C.ScaledSign(), 40, 1 - 1 / 40),  # one-hot
        (C.RandK(k=3, unbiased=True), 30, 30 / 3 - 1),
    ],
)
def test_search_reaches_the_exact_supremum_and_beats_nothing_declared(comp, d, sup):
    res = worst_case(comp, d, steps=20, population=8)
    assert res.method == "exact"
    assert res.ratio == pytest.approx(sup, rel=1e-9)
    assert res.exact_sup == pytest.approx(sup, rel=1e-12)
    assert not any(c.beaten for c in res.checks if c.origin == "declared")
    assert abs(float(res.x.norm()) - 1.0) < 1e-12


def test_search_improves_on_the_pool_for_qsgd_above_sqrt_d_over_two():
    # s > sqrt(d)/2: no closed-form sup; the declared q = d/(4 s^2) must still hold
    comp, d = C.QSGD(6), 100
    res = worst_case(comp, d, steps=60, population=16)
    assert res.ratio <= comp.q(d) * (1 + 1e-9)
    assert res.ratio >= 0.8 * comp.q(d)  # the search gets close to the bound


class OverclaimingTopK(C.TopK):
    """A real top-k that declares more than it has: delta = 2k/d."""

    def delta(self, d: int) -> float:
        return 2 * self.k(d) / d


def test_search_catches_an_overclaimed_delta():
    res = worst_case(OverclaimingTopK(k=4), 40, steps=10, population=8)
    declared = [c for c in res.checks if c.origin == "declared"]
    assert declared and declared[0].beaten
    assert res.ratio == pytest.approx(1 - 4 / 40)


def test_search_flags_qafel_published_parameters():
    res = worst_case(C.RandK(k=10, unbiased=True), 100, steps=5, population=4)
    pub = [c for c in res.checks if c.origin == "published" and c.param == "delta"]
    assert pub[0].beaten and pub[0].value == pytest.approx(0.1)
    res = worst_case(C.QSGD(15), 1000, steps=5, population=4)
    qafel = next(c for c in res.checks if c.source == "QAFeL Example B.1")
    assert qafel.not_contraction and not qafel.beaten


def test_monte_carlo_path_for_the_adversarial_compressor():
    comp = C.Adversarial(0.4, n_random=2, steps=3)
    x = torch.randn(3, 20, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    r, exact = ratio(comp, x, torch.Generator().manual_seed(1), mc_samples=4)
    assert not exact and torch.all(r <= 0.6)
    res = worst_case(comp, 20, steps=3, population=4, mc_samples=4)
    assert res.method == "monte-carlo" and res.ci_low <= res.ratio <= res.ci_high
    assert res.ratio <= 0.6 and res.ratio > 0.59  # the default objective pushes to the boundary
    assert not res.beaten


def test_search_is_seeded():
    a = worst_case(C.QSGD(5), 80, steps=10, population=4, seed=3)
    b = worst_case(C.QSGD(5), 80, steps=10, population=4, seed=3)
    assert a.ratio == b.ratio and torch.equal(a.x, b.x)


# ------------------------------------------------------------------------------------------ CLI


def test_cli_json_holds_exit_0(capsys):
    rc = main(["compressor", "qsgd", "--d", "100", "--s", "2", "--steps", "5", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert out["worst_ratio"] == pytest.approx(math.sqrt(100) / 2 - 1, rel=1e-9)
    assert out["bits_per_message"] == 32 + 100 * (1 + 2)
    assert out["beaten"] is False and len(out["worst_input"]) == 100


def test_cli_beaten_published_parameter_exit_1(capsys):
    rc = main(["compressor", "randk_unbiased", "--d", "200", "--k", "20", "--steps", "3"])
    text = capsys.readouterr().out
    assert rc == 1
    assert "BEATEN" in text and "QAFeL Example B.1" in text and "worst input" in text


def test_cli_table_output_and_layerwise(capsys):
    rc = main(
        ["compressor", "topk", "--d", "100", "--ratio", "0.1", "--block-size", "25", "--steps", "3"]
    )
    text = capsys.readouterr().out
    assert rc == 0
    assert "blockwise_topk" in text and f"{4 * (3 * 32 + min(3 * 5, 25))} bits" in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["compressor", "nope"], "'nope' is unknown"),
        (["compressor", "qsgd", "--s", "0"], "s=0"),
        (["compressor", "topk", "--d", "10", "--k", "11"], "k=11"),
        (["compressor", "qsgd", "--s", "2", "--k", "3"], "'k' is unknown"),
        (["compressor", "qsgd_bits", "--bits", "0"], "bits=0"),
        (["compressor", "scaled_sign", "--d", "0"], "d=0"),
    ],
)
def test_cli_bad_input_one_line_exit_2(capsys, argv, needle):
    rc = main(argv)
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err and len(err.strip().splitlines()) == 1


def test_cli_help_has_an_example(capsys):
    rc = main(["compressor", "--help"])
    out = capsys.readouterr().out
    assert rc == 0 and "boundcheck compressor qsgd --d 1000 --s 15" in out
