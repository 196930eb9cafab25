"""Specs: every shipped spec loads at every scale; malformed specs are refused with file, key and
reason (issue 11), and the CLI maps the refusal to exit 2 with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from boundcheck.check.specs import SCALES, load_spec, resolve_specs, shipped_specs
from boundcheck.cli import main
from boundcheck.errors import SpecError

GOOD = """
theorem = "saef.thm2"
replicas = 4
seed = 0

[problem]
family = "asyncbc_logistic"
n = 4
d = 5
batch_size = 4

[algorithm]
name = "saef_sgd"
eta = 0.5
K = 2
client_compressor = { name = "topk", k = 2 }

[sweep]
T = [20]
"""


def _write(tmp_path: Path, text: str, name: str = "spec.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_every_shipped_spec_loads_at_every_scale():
    specs = shipped_specs()
    assert len(specs) >= 20
    for p in specs:
        for s in SCALES:
            spec = load_spec(p, s)
            assert spec.points(), p
            assert spec.x_axis in spec.sweep


def test_shipped_specs_cover_the_issue_list():
    theorems = {load_spec(p).theorem for p in shipped_specs()}
    need = {
        "qafel.thm_f1", "qafel.cor_f2", "qafel.thm_f4_unbiased", "qafel.thm_f4_biased",
        "qafel.prop3_5_qafel", "qafel.prop3_5_fedbuff", "fedpaq.thm1", "fedpaq.thm2",
        "saef.lemma1_main", "saef.thm1", "saef.thm2", "saef.thm3", "asyncbc.lemma1",
        "asyncbc.lemma5", "asyncbc.thm1", "asyncbc.thm2", "asyncbc.thm3",
    }  # fmt: skip
    assert need <= theorems, need - theorems
    readings = {
        load_spec(p).check.get("reading")
        for p in shipped_specs()
        if load_spec(p).theorem == "saef.lemma1_main"
    }
    assert readings == {"supplement", "printed"}


def test_scale_overrides_apply(tmp_path):
    p = _write(tmp_path, GOOD + "\n[scale.ci]\nreplicas = 2\nsweep = { T = [5, 6] }\n")
    assert load_spec(p, "ci").replicas == 2
    assert load_spec(p, "ci").sweep == {"T": [5, 6]}
    assert load_spec(p, "default").sweep == {"T": [20]}


@pytest.mark.parametrize(
    ("edit", "key", "reason"),
    [
        (lambda s: s.replace("seed = 0", 'seed = 0\ncolour = "red"'), "colour", "unknown key"),
        (
            lambda s: s.replace("replicas = 4", 'replicas = "four"'),
            "replicas",
            "expected an integer",
        ),
        (lambda s: s.replace("replicas = 4\n", ""), "replicas", "missing"),
        (lambda s: s.replace("saef.thm2", "saef.thm9"), "theorem", "unknown theorem"),
        (lambda s: s.replace("asyncbc_logistic", "rosenbrock"), "problem.family", "unknown family"),
        (
            lambda s: s.replace('"saef_sgd"', '"adam"'),
            "algorithm.name",
            "not allowed for saef.thm2",
        ),
        (lambda s: s.replace('"topk"', '"zip"'), "algorithm.client_compressor", "unknown"),
        (lambda s: s.replace("eta = 0.5", 'eta = "large"'), "algorithm.eta", "expected a number"),
        (lambda s: s.replace("n = 4", "n = 4.5"), "problem.n", "expected an integer"),
        (lambda s: s.replace("T = [20]", "T = 20"), "sweep.T", "expected an array"),
        (lambda s: s.replace("T = [20]", "T = []"), "sweep.T", "empty"),
        (lambda s: s.replace("K = 2", "K = 2\nwarp = 3"), "algorithm.warp", "unknown key"),
        (lambda s: s + "\n[scale.huge]\nreplicas = 3\n", "scale.huge", "unknown key"),
        (lambda s: s.replace("seed = 0", 'seed = 0\nx_axis = "K"'), "x_axis", "not a sweep key"),
    ],
)
def test_malformed_spec_names_file_key_and_reason(tmp_path, edit, key, reason):
    p = _write(tmp_path, edit(GOOD))
    with pytest.raises(SpecError) as e:
        load_spec(p)
    msg = str(e.value)
    assert str(p) in msg and f"key {key!r}" in msg and reason in msg, msg


def test_not_toml_and_missing_file(tmp_path):
    p = _write(tmp_path, "theorem = [")
    with pytest.raises(SpecError, match="not valid TOML"):
        load_spec(p)
    with pytest.raises(SpecError, match="no such spec file"):
        load_spec(tmp_path / "nothing.toml")
    with pytest.raises(SpecError, match="neither a spec file nor a shipped spec id"):
        resolve_specs(["no_such_spec_id"])


def test_cli_bad_spec_exits_2_with_one_line(tmp_path, capsys):
    p = _write(tmp_path, GOOD.replace("seed = 0", "seed = 0\ncolour = 1"))
    assert main(["verify", str(p), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "colour" in err and str(p) in err
