"""The user-facing surface of compressors and `boundcheck compressor`: refusals, --help, --json,
closed forms of layer-wise compressors, published values claimed for another compressor."""

from __future__ import annotations

import json
import math

import pytest
import torch

from boundcheck import compressors as C
from boundcheck.check.compressor_search import worst_case
from boundcheck.cli import main
from boundcheck.errors import ParameterError


def _reject_constant(c: str) -> float:
    raise AssertionError(f"invalid JSON constant {c}")


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("qsgd", "qsgd needs parameter s, an integer >= 1"),
        ("lowprec", "lowprec needs parameter s"),
        ("qsgd_bits", "qsgd_bits needs parameter bits, an integer 1..31"),
        ("shrink", "shrink needs parameter delta, a number in (0, 1]"),
        ("adversarial", "adversarial needs parameter delta"),
    ],
)
def test_missing_parameter_is_named_with_what_is_allowed(capsys, name, needle):
    with pytest.raises(ParameterError, match=r"needs parameter"):
        C.get(name)
    rc = main(["compressor", name, "--d", "10"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == ""
    assert needle in cap.err and len(cap.err.strip().splitlines()) == 1
    assert "__init__" not in cap.err and "positional argument" not in cap.err


def test_topk_without_k_or_ratio_says_what_is_allowed():
    with pytest.raises(ParameterError, match=r"k \(an integer 1\.\.d\).*ratio.*\(0, 1\].*neither"):
        C.get("topk")


def test_layerwise_topk_with_k_above_one_has_closed_forms():
    # the closed forms used to probe the inner compressor on a 1-column slice: top-k with k = 2
    # was refused ("k=2 is outside the allowed range 1..1") although every block has 25 columns
    comp = C.get("topk", k=2, block_size=25)
    x = torch.randn(3, 100, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    err = comp.expected_sq_error(x)
    assert err is not None and torch.allclose(err, ((comp(x) - x) ** 2).sum(-1), rtol=1e-12)
    assert torch.equal(comp.expectation(x), comp(x))
    res = worst_case(comp, 100, steps=3, population=4)
    assert res.method == "exact" and res.ratio == pytest.approx(1 - 2 / 25, rel=1e-9)


def test_cli_layerwise_topk_with_k_above_one_runs(capsys):
    rc = main(
        ["compressor", "topk", "--d", "100", "--k", "2", "--block-size", "25", "--steps", "2"]
    )
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert "blockwise_topk" in cap.out


def test_short_last_block_is_refused_naming_the_block(capsys):
    # d = 10 in blocks of 3: the last block has length 1, where top-2 does not exist
    with pytest.raises(ParameterError, match=r"k=2 .* in a block of length 1 .*3 x 3 \+ 1"):
        C.get("topk", k=2, block_size=3).bits(10)
    rc = main(["compressor", "topk", "--d", "10", "--k", "2", "--block-size", "3"])
    cap = capsys.readouterr()
    assert rc == 2 and cap.out == "" and "block of length 1" in cap.err
    assert len(cap.err.strip().splitlines()) == 1


@pytest.mark.parametrize("comp", [C.RandK(k=2), C.RandK(k=2, unbiased=True), C.Rescaled(C.QSGD(2))])
def test_closed_forms_refuse_non_finite_and_bad_shapes(comp):
    with pytest.raises(ParameterError, match="non-finite entry"):
        comp.expected_sq_error(torch.tensor([1.0, float("nan"), 3.0]))
    with pytest.raises(ParameterError, match="non-finite entry"):
        comp.expectation(torch.tensor([1.0, float("inf"), 3.0]))
    with pytest.raises(ParameterError, match=r"shape \(\)"):
        comp.expectation(torch.tensor(2.0))
    with pytest.raises(ParameterError, match="floating-point"):
        comp.expectation(torch.tensor([1, 2, 3]))


def test_value_claimed_for_the_rescaled_qsgd_is_not_reported_as_holding_for_qsgd(
    capsys, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line (80 columns wraps them)
    # qsgd(s=1) at d=16 has worst ratio 3; the published delta = 1/(1+q) = 0.2 asserts ratio 0.8
    # for Q/(1+q) only: it must not read "holds" beside Q itself
    res = worst_case(C.QSGD(1), 16, steps=3, population=4)
    resc = next(c for c in res.checks if "/ (1 + q)" in c.applies_to)
    assert res.ratio == pytest.approx(3.0) and resc.ratio_bound == pytest.approx(0.8)
    assert not resc.applies and not resc.beaten
    rc = main(["compressor", "qsgd", "--d", "16", "--s", "1", "--steps", "3"])
    row = next(ln for ln in capsys.readouterr().out.splitlines() if "/ (1 + q)" in ln)
    assert rc == 0 and "n/a" in row and "holds" not in row


def test_value_claimed_for_the_rescaling_is_checked_on_the_rescaled_compressor():
    res = worst_case(C.get("qsgd", s=1, rescale=True), 16, steps=3, population=4)
    resc = [c for c in res.checks if c.origin == "published"]
    assert len(resc) == 1 and resc[0].applies and resc[0].value == pytest.approx(0.2)
    assert not resc[0].beaten and res.ratio == pytest.approx(0.75)  # q/(1+q), q = 3


def test_cli_json_is_complete_and_strict(capsys):
    rc = main(["compressor", "randk_unbiased", "--d", "50", "--k", "5", "--steps", "2", "--json"])
    cap = capsys.readouterr()
    out = json.loads(cap.out, parse_constant=_reject_constant)
    assert rc == 1 and out["exit_code"] == 1 and cap.err == ""  # no progress bar in --json
    assert out["name"] == "randk_unbiased" and out["params"] == {"k": 5}
    assert out["d"] == 50 and out["biased"] is False and out["stochastic"] is True
    assert out["q"] == pytest.approx(9.0) and out["delta"] is None and out["contraction"] is False
    assert out["search"] == {
        "seed": 0,
        "steps": 2,
        "population": 32,
        "population_requested": 32,
        "structured_inputs": 129,
        "mc_samples": 64,
    }
    assert out["bits_per_message"] == 5 * 32 + 5 * 6
    assert all("applies" in c and "ratio_bound" in c for c in out["checks"])
    assert out["worst_ratio"] == pytest.approx(9.0) and len(out["worst_input"]) == 50


def test_cli_table_mode_writes_no_progress_to_a_pipe(capsys):
    rc = main(["compressor", "qsgd", "--d", "20", "--s", "2", "--steps", "3"])
    cap = capsys.readouterr()
    assert rc == 0 and cap.err == "" and "worst ratio found" in cap.out


def test_help_teaches_columns_names_and_exit_codes(capsys):
    rc = main(["compressor", "--help"])
    out = capsys.readouterr().out
    assert rc == 0
    for needle in (
        "boundcheck compressor qsgd --d 1000 --s 15",
        "ratio bound",
        "1 - delta, or q",
        "BEATEN",
        "declared",
        "published",
        "n/a",
        "a search, not a proof",
        "progress bar",
        "Exit codes: 0",
        "1 a declared or published parameter is beaten",
        "2 bad input",
    ):
        assert needle in out, needle
    for name in C.names():
        assert f"  {name} " in out, name
    assert "--k | --ratio" in out and "--bits, --sign-in-bits" in out


def test_published_parameters_match_the_papers():
    d, s, k = 100, 3, 10
    pub = {(p.source, p.param): p for p in C.QSGD(s).published(d)}
    # Alistarh et al. 2017 Lemma 3.1: min(d/s^2, sqrt(d)/s); QAFeL Example B.1 writes 2d, sqrt(2d)
    assert pub[("Alistarh et al. 2017, Lemma 3.1", "q")].value == min(d / s**2, math.sqrt(d) / s)
    qafel = pub[("QAFeL Example B.1", "delta")].value
    assert qafel == 1 - min(2 * d / s**2, math.sqrt(2 * d) / s)
    # top_k and rand_k: delta = k/d (QAFeL Example B.1, Stich et al. 2018 Lemma A.1)
    for comp in (C.TopK(k=k), C.RandK(k=k), C.RandK(k=k, unbiased=True)):
        delta = next(p for p in comp.published(d) if p.param == "delta")
        assert delta.value == k / d and "QAFeL Example B.1" in delta.source
    # FedPAQ Example 1 cites Alistarh's lemma for Q^LP
    (lp,) = C.LowPrecision(s).published(d)
    assert lp.param == "q" and lp.value == min(d / s**2, math.sqrt(d) / s)
    assert C.ScaledSign().published(d) == []  # SAEF eq. (2) states no delta


def test_unbiased_randk_variance_is_not_attributed_to_stich_lemma_a1():
    # Stich et al. 2018 Lemma A.1 (quoted by QAFeL Example B.1) is the contraction delta = k/d;
    # the variance q = d/k - 1 of the rescaled rand_k is stated in none of the four papers
    (q,) = [p for p in C.RandK(k=10, unbiased=True).published(100) if p.param == "q"]
    assert q.value == pytest.approx(9.0)
    assert "Stich" not in q.source and "not stated in the four papers" in q.source


@pytest.mark.parametrize(
    ("argv", "steps"),
    [(["qsgd", "--s", "4"], 200), (["adversarial", "--delta", "0.5"], 20)],
)
def test_default_search_steps_follow_the_cost_of_an_evaluation(argv, steps, capsys):
    """Closed-form expectations are cheap (200 steps); Monte Carlo ones cost mc_samples each (20)."""

    assert main(["compressor", *argv, "--d", "20", "--population", "4", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["search"]["steps"] == steps
