"""Empirical comparison claims (QAFeL Section 4 / Figure 3's bits claim): the bit count against an
explicit encoding, the to-target measurement on a case with a known answer, censoring, planted
claims, the ratio statistics, spec validation, the terminal table and the report section."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from boundcheck import compressors as C
from boundcheck.check.comparison import (
    claim_verdict,
    ratio_bounds,
    steps_to_target,
)
from boundcheck.check.engine import run_specs
from boundcheck.check.specs import load_spec, shipped_specs
from boundcheck.cli import main
from boundcheck.errors import SpecError

# a deterministic case: one client, f(x) = 1/2 ||x||^2 - c^T x (h = 1), exact gradients, a
# concurrency so low that every update has staleness 0: x^{t+1} - c = (1 - g)(x^t - c) with
# g = eta_g (1 - (1 - eta_l)^P), so f(x^t) - f* = (1 - g)^{2t} (f(x^0) - f*)
KNOWN = """
claim = "qafel.fig3_bits"
replicas = 3
seed = 0

[problem]
family = "quadratic_toy"
n = 1
d = {d}
mu = 1.0
L = 1.0
zeta = 0.0

[algorithm]
eta_l = 0.5
eta_g = 0.8
K = {K}
P = 2

[compare]
baseline = {{ name = "fedbuff" }}
candidate = {{ name = "qafel"{cand} }}

[target]
metric = "f_gap"
value = {rho}
relative = true
horizon = {H}

[sweep]
concurrency = [0.001]
{check}
"""

QSGD4 = (
    ', client_compressor = { name = "qsgd_bits", bits = 4 }, '
    'server_compressor = { name = "qsgd_bits", bits = 4 }'
)


def _spec(tmp_path: Path, name: str = "known", **kw) -> str:
    args = {"d": 1, "K": 2, "cand": "", "rho": 1e-3, "H": 40, "check": ""} | kw
    p = tmp_path / f"{name}.toml"
    p.write_text(KNOWN.format(**args))
    return str(p)


def _run(path: str, **kw):
    return run_specs([path], cache_dir="", progress=False, **kw).checks[0]


# --- bits -------------------------------------------------------------------------------------
def _bits_of(q: torch.Tensor, nrm: float, Q: C.QSGDBits) -> tuple[str, np.ndarray]:
    """Q(x) as QAFeL Example B.1 sends it: ||x|| as a float32, then per coordinate the sign bit and
    the level xi_i in n bits (``sign_in_bits``: sign * xi_i in n bits, two's complement)."""
    s = Q.s
    xi = np.rint(np.abs(q.numpy()) * s / nrm).astype(np.int64) if nrm > 0 else np.zeros(q.numel())
    assert np.all((xi >= 0) & (xi <= s))
    out = format(np.float32(nrm).view(np.uint32), "032b")
    for v, sign in zip(xi, np.signbit(q.numpy()), strict=True):
        if Q.sign_in_bits:
            w = -int(v) if sign else int(v)
            out += format(w & (2**Q.n - 1), f"0{Q.n}b")
        else:
            out += ("1" if sign else "0") + format(int(v), f"0{Q.n}b")
    return out, xi


def _decode(bits: str, d: int, Q: C.QSGDBits) -> np.ndarray:
    nrm = float(np.uint32(int(bits[:32], 2)).view(np.float32))
    out, i = [], 32
    for _ in range(d):
        if Q.sign_in_bits:
            w = int(bits[i : i + Q.n], 2)
            w = w - 2**Q.n if w >= 2 ** (Q.n - 1) else w
            i += Q.n
        else:
            w = int(bits[i + 1 : i + 1 + Q.n], 2) * (-1 if bits[i] == "1" else 1)
            i += 1 + Q.n
        out.append(nrm / Q.s * w)
    assert i == len(bits)
    return np.asarray(out)


@settings(max_examples=40, deadline=None)
@given(
    d=st.integers(1, 40),
    n=st.integers(2, 8),
    sign_in_bits=st.booleans(),
    seed=st.integers(0, 2**31 - 1),
)
def test_qsgd_bits_count_is_the_length_of_the_encoded_message(d, n, sign_in_bits, seed):
    """QSGDBits.bits(d) -- what the comparison counts per message -- is exactly the length of the
    message that carries Q(x): a float32 norm plus the per-coordinate sign and n-bit level; the
    message decodes to Q(x) (up to the norm's float32 rounding)."""
    Q = C.QSGDBits(n, sign_in_bits=sign_in_bits)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(d, generator=g, dtype=torch.float64)
    q = Q(x, torch.Generator().manual_seed(seed + 1))
    nrm = float(torch.linalg.vector_norm(x))
    bits, _ = _bits_of(q, nrm, Q)
    assert len(bits) == Q.bits(d) == 32 + d * (n if sign_in_bits else n + 1)
    np.testing.assert_allclose(_decode(bits, d, Q), q.numpy(), rtol=1e-6, atol=1e-12 * nrm)


def test_the_run_counts_the_encodings_bits(tmp_path):
    c = _run(_spec(tmp_path, d=20, cand=QSGD4, rho=0.05, H=60))
    msg = c.comparison["message"]
    assert msg["bits_per_upload"] == {"baseline": 32 * 20, "candidate": 32 + 20 * 5}
    assert msg["bits_per_broadcast"] == {"baseline": 32 * 20, "candidate": 32 + 20 * 5}
    assert msg["reduction_upload"] == pytest.approx(640 / 132)
    row = c.comparison["points"][0]
    for arm in ("baseline", "candidate"):
        a = row["arms"][arm]
        assert a["reached"] == a["R"] == 3
        # MB uploaded = uploads x bits per upload / (8 10^6); broadcast = uploads / K messages
        assert a["mb_up_mean"] == pytest.approx(a["uploads_mean"] * a["bits_per_upload"] / 8e6)
        assert a["mb_down_mean"] == pytest.approx(
            a["uploads_mean"] / a["K"] * a["bits_per_broadcast"] / 8e6
        )
    # Figure 3's caption: QAFeL's MB broadcast = MB uploaded / K when Q_c and Q_s cost the same
    assert "MB uploaded / buffer size' for QAFeL: holds" in row["caption_check"]


# --- measurement --------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.lists(
            st.one_of(st.floats(0, 10), st.just(math.nan), st.just(math.inf)),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=12,
    ),
    thr=st.floats(0, 10),
)
def test_steps_to_target_is_the_first_row_at_or_below(rows, thr):
    s = np.asarray(rows, dtype=float)
    got = steps_to_target(s, thr)
    for r in range(s.shape[1]):
        want = next((t for t in range(s.shape[0]) if s[t, r] <= thr), -1)
        assert got[r] == want


@pytest.mark.parametrize("K", [1, 3])
def test_to_target_on_a_case_with_a_known_answer(tmp_path, K):
    rho = 1e-3
    g = 0.8 * (1 - (1 - 0.5) ** 2)
    t_star = math.ceil(math.log(rho) / math.log((1 - g) ** 2))
    assert (1 - g) ** (2 * t_star) < rho < (1 - g) ** (2 * (t_star - 1))  # not on a boundary
    c = _run(_spec(tmp_path, K=K, rho=rho))
    row = c.comparison["points"][0]
    for arm in ("baseline", "candidate"):
        a = row["arms"][arm]
        assert a["uploads"] == [K * t_star] * 3, (arm, a["uploads"])
        assert a["tau_max"] == 0 and a["censored"] == 0
    # identical deterministic runs: every ratio is exactly 1 with a zero-width interval
    for key in ("uploads", "mb_up", "mb_down"):
        r = row["ratios"][key]
        assert r["estimate"] == r["low"] == r["high"] == 1.0


def test_replicas_that_miss_the_target_are_counted_not_dropped(tmp_path):
    c = _run(_spec(tmp_path, rho=1e-3, H=3))  # the target needs more than 3 steps
    row = c.comparison["points"][0]
    assert row["arms"]["baseline"]["censored"] == row["arms"]["candidate"]["censored"] == 3
    assert row["arms"]["baseline"]["R"] == 3  # still in the sample
    for r in row["ratios"].values():
        assert r["low"] == 0.0 and r["high"] == math.inf and r["verdict"] == "inconclusive"
    assert c.verdict == "inconclusive"
    assert sum("never reached the target" in f for f in c.findings) == 2


# --- verdicts ------------------------------------------------------------------------------------
def test_published_and_planted_claims(tmp_path):
    # identity quantizers: QAFeL is FedBuff here, so uploads and MB ratios are exactly 1
    c = _run(_spec(tmp_path))
    ratios = c.comparison["points"][0]["ratios"]
    assert ratios["uploads"]["verdict"] == "reproduced"  # 1 in [1, 1.5]
    assert ratios["mb_up"]["verdict"] == "not reproduced"  # 1 outside [1/8, 1/5.2]
    assert c.verdict == "not reproduced"
    assert any("mb_up" in f and "outside the claimed range" in f for f in c.findings)
    planted = "[check]\nclaimed = { uploads = [1.2, 1.5], mb_up = [0.5, 2], mb_down = [0.9, 1] }"
    c = _run(_spec(tmp_path, name="planted", check=planted))
    ratios = c.comparison["points"][0]["ratios"]
    assert ratios["uploads"]["verdict"] == "not reproduced"
    assert ratios["mb_up"]["verdict"] == ratios["mb_down"]["verdict"] == "reproduced"
    assert c.comparison["quantities"][0]["planted"] and c.comparison["quantities"][0][
        "published"
    ] == [1.0, 1.5]


def test_a_planted_claim_outside_the_measured_range_is_not_reproduced(tmp_path):
    """4-bit qsgd both ways: the measured MB ratio is about 132/640 times the uploads ratio; a
    planted claim of a 1.25-2x decrease (ratio in [0.5, 0.8]) lies far above it."""
    planted = "[check]\nclaimed = { mb_up = [0.5, 0.8] }"
    c = _run(_spec(tmp_path, d=20, cand=QSGD4, rho=0.05, H=60, check=planted))
    r = c.comparison["points"][0]["ratios"]["mb_up"]
    assert r["high"] < 0.5 and r["verdict"] == "not reproduced"
    assert c.verdict == "not reproduced"
    assert c.points[0].verdict == "not reproduced"


@pytest.mark.parametrize(
    ("low", "high", "want"),
    [
        (1.1, 1.4, "reproduced"),
        (1.0, 1.5, "reproduced"),
        (0.9, 1.2, "inconclusive"),
        (1.2, math.inf, "inconclusive"),
        (1.6, 2.0, "not reproduced"),
        (0.0, 0.99, "not reproduced"),
    ],
)
def test_claim_verdict(low, high, want):
    assert claim_verdict(low, high, (1.0, 1.5)) == want


# --- statistics ----------------------------------------------------------------------------------
_samples = st.lists(st.floats(1.0, 1e4), min_size=2, max_size=12)


@settings(max_examples=80, deadline=None)
@given(x=_samples, y=_samples, c=st.floats(0.01, 100.0), level=st.floats(1e-4, 0.2))
def test_ratio_bounds_contract(x, y, c, level):
    r = ratio_bounds(np.array(x), np.array(y), level)
    assert r["low"] <= r["estimate"] * (1 + 1e-12) and r["estimate"] <= r["high"] * (1 + 1e-12)
    assert r["estimate"] == pytest.approx(np.mean(x) / np.mean(y))
    # scaling the candidate scales the ratio and its bounds
    s = ratio_bounds(c * np.array(x), np.array(y), level)
    for k in ("estimate", "low", "high"):
        assert s[k] == pytest.approx(c * r[k], rel=1e-9)
    # a censored candidate replica: no finite upper bound; a censored baseline one: no lower bound
    assert ratio_bounds(np.array(x), np.array(y), level, x_censored=1)["high"] == math.inf
    assert ratio_bounds(np.array(x), np.array(y), level, y_censored=1)["low"] == 0.0


def test_ratio_bounds_cover_at_the_nominal_level():
    """Monte Carlo over skewed (lognormal) samples of 8 replicas: each one-sided bound misses the
    true ratio of means at most about level of the time."""
    rng = np.random.default_rng(7)
    level, trials = 0.05, 4000
    mu_x, mu_y = math.exp(0.5 * 0.3**2) * 1.3, math.exp(0.5 * 0.3**2)
    miss_lo = miss_hi = 0
    for _ in range(trials):
        x = 1.3 * rng.lognormal(0.0, 0.3, 8)
        y = rng.lognormal(0.0, 0.3, 8)
        r = ratio_bounds(x, y, level)
        miss_lo += r["low"] > mu_x / mu_y
        miss_hi += r["high"] < mu_x / mu_y
    print(f"miss rates: lower {miss_lo / trials:.3f}, upper {miss_hi / trials:.3f} (level {level})")
    assert miss_lo / trials <= level + 0.02 and miss_hi / trials <= level + 0.02


# --- specs ---------------------------------------------------------------------------------------
def test_the_shipped_spec_is_a_comparison_at_every_scale():
    p = next(p for p in shipped_specs() if p.stem == "qafel_bits")
    for scale in ("ci", "default", "full"):
        s = load_spec(p, scale)
        assert s.comparison["claim"] == "qafel.fig3_bits" and s.x_axis == "concurrency"
        cand = s.comparison["candidate"]
        assert (
            cand["client_compressor"]
            == cand["server_compressor"]
            == {
                "name": "qsgd_bits",
                "bits": 4,
            }
        )
        assert s.algorithm["K"] == 10 and s.algorithm["beta"] == 0.3
        assert s.algorithm["staleness_weight"] is True
    assert load_spec(p, "full").sweep["concurrency"] == [100, 500, 1000]  # Figure 3's values
    assert (
        load_spec(p, "ci").comparison["target"]["horizon"]
        < load_spec(p).comparison["target"]["horizon"]
    )


def _edit(tmp_path: Path, old: str, new: str) -> Path:
    p = tmp_path / "bad.toml"
    p.write_text(KNOWN.format(d=1, K=2, cand="", rho=1e-3, H=10, check="").replace(old, new, 1))
    return p


@pytest.mark.parametrize(
    ("old", "new", "key", "reason"),
    [
        ("qafel.fig3_bits", "qafel.fig9", "claim", "unknown claim"),
        ("seed = 0", 'seed = 0\ntheorem = "qafel.thm_f1"', "theorem", "not both"),
        ('metric = "f_gap"', 'metric = "accuracy"', "target.metric", "not allowed"),
        ("horizon = 10", "horizon = 0", "target.horizon", "expected >= 1"),
        ("horizon = 10", "", "target.horizon", "missing"),
        ("value = 0.001", "value = -1.0", "target.value", "expected a number > 0"),
        ("relative = true", 'relative = "yes"', "target.relative", "expected a boolean"),
        ('{ name = "fedbuff" }', '{ name = "saef_sgd" }', "compare.baseline.name", "not allowed"),
        ('candidate = { name = "qafel" }', "", "compare.candidate", "missing"),
        ("[compare]", '[compare]\nthird = { name = "qafel" }', "compare.third", "unknown key"),
        ("P = 2", "P = 2\nT = 5", "algorithm.T", "set by the engine"),
        ("P = 2", "", "compare.baseline", "fedbuff needs P"),
        ("P = 2", "P = 2\nwarp = 1", "algorithm.warp", "unknown key"),
        ("eta_l = 0.5", 'eta_l = "theorem"', "algorithm.eta_l", "expected a number"),
        (
            '{ name = "qafel" }',
            '{ name = "qafel", client_compressor = { name = "zip" } }',
            "compare.candidate.client_compressor",
            "unknown",
        ),
        ("concurrency = [0.001]", "tau = [1]", "sweep.tau", "unknown key"),
        ("replicas = 3", "replicas = 1", "replicas", "expected an integer >= 2"),
        (
            "[target]",
            "[check]\nclaimed = { uploads = [2, 1] }\n\n[target]",
            "check.claimed.uploads",
            "0 <= lo <= hi",
        ),
        (
            "[target]",
            "[check]\nclaimed = { speed = [1, 2] }\n\n[target]",
            "check.claimed.speed",
            "unknown key",
        ),
        (
            "[target]",
            "[check]\nbound_factor = 2.0\n\n[target]",
            "check.bound_factor",
            "unknown key",
        ),
    ],
)
def test_malformed_comparison_spec_names_file_key_and_reason(tmp_path, old, new, key, reason):
    p = _edit(tmp_path, old, new)
    with pytest.raises(SpecError) as e:
        load_spec(p)
    msg = str(e.value)
    assert str(p) in msg and f"key {key!r}" in msg and reason in msg, msg


def test_target_table_only_in_a_comparison_spec(tmp_path):
    p = tmp_path / "t.toml"
    p.write_text(
        'theorem = "saef.thm2"\nreplicas = 2\nseed = 0\n[problem]\nfamily = "asyncbc_logistic"\n'
        '[algorithm]\nname = "saef_sgd"\neta = 0.1\n[sweep]\nT = [5]\n[target]\nhorizon = 3\n'
    )
    with pytest.raises(SpecError, match="key 'target': only a comparison spec"):
        load_spec(p)


def test_cli_bad_comparison_spec_exits_2_with_one_line(tmp_path, capsys):
    p = _edit(tmp_path, 'metric = "f_gap"', 'metric = "accuracy"')
    assert main(["verify", str(p), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "target.metric" in err and str(p) in err


# --- terminal and report -------------------------------------------------------------------------
def test_verify_prints_the_comparison_and_json(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BOUNDCHECK_CACHE", str(tmp_path / "cache"))
    p = _spec(tmp_path)
    assert main(["verify", p, "--quiet"]) == 0  # "not reproduced" is no violated bound
    out = capsys.readouterr().out
    assert "synthetic stand-in" in out
    assert re.search(r"mb_up\s+.*\[0\.125, 0\.192\]\s+not reproduced", out), out
    assert re.search(r"uploads\s+.*\[1, 1\.5\]\s+reproduced", out), out
    assert main(["verify", p, "--quiet", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    cmp_ = data["checks"][0]["comparison"]
    assert cmp_["points"][0]["ratios"]["mb_up"]["verdict"] == "not reproduced"
    assert cmp_["points"][0]["arms"]["baseline"]["algorithm"] == "fedbuff"
