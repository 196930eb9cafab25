"""Theorem files (issue 15): loading, the one resolver, malformed files refused with file, line and
key (exit 2, nothing written), a dimension error flagged by `boundcheck dims FILE`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sympy as sp

from boundcheck.cli import main
from boundcheck.theory import registry
from boundcheck.theory import symbols as S
from boundcheck.theory.userfile import load_user, locate, parse_dim, resolve_theorem

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
GOOD = (EXAMPLES / "sgd_smooth.toml").read_text()


class _Result:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.exit_code, self.output, self.err = code, out + err, err


@pytest.fixture
def cli(capsys):
    def run(*args: str) -> _Result:
        capsys.readouterr()
        code = main(list(args))
        c = capsys.readouterr()
        return _Result(code, c.out, c.err)

    return run


def test_example_loads_with_the_catalogue_symbols() -> None:
    ut = load_user(EXAMPLES / "sgd_smooth.toml")
    t = ut.theorem
    F0, eta, T, L, sigma = (S.info(n).symbol for n in ("F0", "eta", "T", "L", "sigma"))
    assert sp.simplify(t.bound - (2 * F0 / (eta * T) + L * eta * sigma**2)) == 0
    assert [c.id for c in t.conditions] == ["stepsize"]
    assert t.conditions[0].relation == sp.Le(eta, 1 / L)
    assert [a.id for a in t.assumptions][:2] == ["smooth", "lower_bounded"]
    assert t.parameters() == ["F0", "L", "T", "eta", "sigma"]
    assert registry.get("user.sgd_smooth") is t  # registered for the engine
    assert ut.bind == {"sigma": "sqrt:sigma2"}


def test_resolver_takes_ids_and_files() -> None:
    assert resolve_theorem("saef.thm2") is registry.get("saef.thm2")
    assert resolve_theorem(str(EXAMPLES / "sgd_smooth.toml")).id == "user.sgd_smooth"


def test_parse_dim() -> None:
    from boundcheck.dims import GRAD2, SMOOTH, STEP, Dim

    assert parse_dim("F/X^2") == SMOOTH
    assert parse_dim("[X]^2/[F]") == STEP
    assert parse_dim("F**2/X**2") == GRAD2
    assert parse_dim("1") == Dim()
    with pytest.raises(ValueError, match="dimension"):
        parse_dim("2*F")


def test_locate_finds_tables_keys_and_inline_tables() -> None:
    text = 'a = 1\n[theorem]\nid = "x"\nbound = "L"\n\n[symbols]\nc = { dim = "F" }\n'
    assert locate(text, "theorem.bound") == 4
    assert locate(text, "symbols.c.dim") == 7
    assert locate(text, "symbols") == 6
    assert locate(text, "a") == 1


#: (edit of the good file, the key the error must name, a phrase of the reason)
MALFORMED = [
    (("[theorem]\n", "[theorem]\nbogus = 1\n"), "theorem.bogus", "unknown key"),
    (("assumptions = [", 'assumptions = ["smoth", '), "theorem.assumptions", "unknown assumption"),
    (('lhs = "avg_grad_norm_sq"', 'lhs = "avg_grad_nrm"'), "theorem.lhs", "unknown left-hand side"),
    (('bound = "2*F0', "bound = \"__import__('os') + 2*F0"), "theorem.bound", "unknown function"),
    (
        ('bound = "2*F0', "bound = \"__import__('os').system('true') + 2*F0"),
        "theorem.bound",
        "only the named functions",
    ),
    (('bound = "2*F0/(eta*T)', 'bound = "2*F0/(eta*T) + L.real'), "theorem.bound", "not allowed"),
    (
        ('bound = "2*F0/(eta*T)', 'bound = "2*F0/(eta*T) + qq_undeclared'),
        "theorem.bound",
        "unknown symbol",
    ),
    (('bound = "2*F0/(eta*T)', 'bound = "2*F0/(eta*T +'), "theorem.bound", "not an expression"),
    (('stepsize = "eta <= 1/L"', 'stepsize = "eta + 1/L"'), "conditions.stepsize", "comparison"),
    (('name = "momentum_sgd"', 'name = "momentum_sdg"'), "algorithm.name", "not allowed"),
    (("K = 1\n", "K = 1\nwarp = 2\n"), "algorithm.warp", "unknown key"),
    (("replicas = 64", 'replicas = "many"'), "replicas", "expected an integer"),
    (('sigma = "sqrt:sigma2"', 'sigma = "sqrd:sigma2"'), "bind.sigma", "not a source"),
    (("[bind]\n", '[symbols]\nL = { dim = "F" }\n\n[bind]\n'), "symbols.L", "catalogue"),
    (
        ("[bind]\n", '[symbols]\nc = { domain = "positive" }\n\n[bind]\n'),
        "symbols.c.dim",
        "missing",
    ),
    (('id = "user.sgd_smooth"', 'id = "saef.thm2"'), "theorem.id", "shipped"),
]


@pytest.mark.parametrize(
    ("edit", "key", "reason"), MALFORMED, ids=[m[1] + ":" + m[2] for m in MALFORMED]
)
def test_malformed_file_refused_with_line_and_key(tmp_path: Path, edit, key, reason, cli) -> None:
    old, new = edit
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    p = tmp_path / "bad.toml"
    p.write_text(text)
    out = tmp_path / "report"
    r = cli("report", str(p), "--scale", "ci", "--out", str(out))
    assert r.exit_code == 2, r.output
    msg = r.output.strip().splitlines()[-1]
    m = re.search(rf"{re.escape(str(p))}:(\d+): key '{re.escape(key)}'", msg)
    assert m, msg
    assert reason in msg
    line = text.splitlines()[int(m.group(1)) - 1]
    # the line that assigns the key, or (a missing key) the one that opens its table
    assert any(part in line for part in key.split(".")[-2:]), (line, msg)
    assert not out.exists()  # nothing written
    assert "Traceback" not in r.output


def test_toml_syntax_error_has_the_line(tmp_path: Path, cli) -> None:
    p = tmp_path / "bad.toml"
    p.write_text(GOOD.replace("seed = 0", "seed = = 0"))
    r = cli("show", str(p))
    assert r.exit_code == 2
    assert f"{p}:5: not valid TOML" in r.output


def test_missing_file_is_bad_input(tmp_path: Path, cli) -> None:
    r = cli("dims", str(tmp_path / "nope.toml"))
    assert r.exit_code == 2 and "no such theorem file" in r.output


def test_dims_flags_a_dimension_error(tmp_path: Path, cli) -> None:
    p = tmp_path / "dims.toml"
    # eta dropped from the first term: F0/T is an objective value, not a squared gradient
    p.write_text(GOOD.replace('bound = "2*F0/(eta*T)', 'bound = "2*F0/T'))
    r = cli("dims", str(p), "--json")
    assert r.exit_code == 1
    found = json.loads(r.output)
    assert found and all(f["subject"] == "user.sgd_smooth" for f in found)
    assert any("mix dimensions" in f["message"] for f in found)
    ok = cli("dims", str(EXAMPLES / "sgd_smooth.toml"))
    assert ok.exit_code == 0 and "0 finding(s)" in ok.output


def test_stepsize_and_show_work_on_a_file(cli) -> None:
    f = str(EXAMPLES / "sgd_smooth.toml")
    r = cli("stepsize", f, "--L", "2", "--eta", "0.25", "--T", "100", "--F0", "1", "--sigma", "0.3",
             "--json")  # fmt: skip
    assert r.exit_code == 0, r.output
    d = json.loads(r.output)
    assert d["bound"] == pytest.approx(2 * 1 / (0.25 * 100) + 2 * 0.25 * 0.09)
    bad = cli("stepsize", f, "--L", "2", "--eta", "0.75", "--T", "100", "--F0", "1", "--sigma", "0")
    assert bad.exit_code == 1  # eta > 1/L
    solved = json.loads(cli("stepsize", f, "--solve-for", "eta", "--L", "4", "--T", "10", "--F0",
                             "1", "--sigma", "1", "--json").output)  # fmt: skip
    assert solved["required"]["largest"] == pytest.approx(0.25)
    shown = json.loads(cli("show", f, "--json").output)
    assert shown["bound"] == "2*F0/(T*eta) + L*eta*sigma**2"


def test_user_symbols_and_definitions(tmp_path: Path, cli) -> None:
    p = tmp_path / "defs.toml"
    text = GOOD.replace("[conditions]", "[symbols]\nc_user = { dim = \"F/X^2\", domain = "
                        "\"positive\" }\nA_user = { dim = \"1\" }\n\n[definitions]\nA_user = "
                        "\"c_user*eta\"\n\n[conditions]")  # fmt: skip
    text = text.replace('bound = "2*F0/(eta*T) + L*eta*sigma**2"',
                        'bound = "2*F0/(eta*T) + A_user*sigma**2"')  # fmt: skip
    p.write_text(text)
    t = load_user(p).theorem
    assert S.info("c_user").dim == parse_dim("F/X^2")
    assert "c_user" in t.parameters() and "A_user" not in t.parameters()
    assert cli("dims", str(p)).exit_code == 0
    # the definition has a dimension error: A is declared dimensionless, c*eta is too; c*T is not
    p.write_text(text.replace('A_user = "c_user*eta"', 'A_user = "c_user*T"'))
    assert cli("dims", str(p)).exit_code == 1


def test_python_theorem_file(tmp_path: Path) -> None:
    (tmp_path / "thm.py").write_text(
        "from boundcheck import api\n"
        "def step(x, g, *, t, rng, eta=0.1):\n    return x - eta * g\n"
        "THEOREM = api.theorem(\n"
        "    theorem={'id': 'user.py_sgd', 'lhs': 'avg_grad_norm_sq',\n"
        "             'bound': '2*F0/(eta*T) + L*eta*sigma**2', 'assumptions': ['smooth']},\n"
        "    conditions={'stepsize': 'eta <= 1/L'}, bind={'sigma': 'sqrt:sigma2'},\n"
        "    replicas=8, seed=0, problem={'family': 'iid_least_squares', 'n': 1, 'd': 4},\n"
        "    algorithm={'name': api.numpy_algorithm(step, name='py_sgd'), 'eta': 0.2},\n"
        "    sweep={'T': [10]}, search={'eta': [0.01, 1.0]})\n"
    )
    ut = load_user(tmp_path / "thm.py")
    assert ut.theorem.id == "user.py_sgd" and ut.search == {"eta": [0.01, 1.0]}
    from boundcheck.check.engine import run_specs

    run = run_specs([str(tmp_path / "thm.py")], scale="ci", cache_dir="", progress=False)
    (pt,) = run.checks[0].points
    assert pt.verdict == "holds", pt
    assert pt.measured < pt.bound


def test_editing_the_bound_is_never_answered_from_the_cache(tmp_path: Path) -> None:
    """The cache key holds the theorem file's digest: same id, same experiment, another bound."""
    from boundcheck.check.engine import run_specs

    p = tmp_path / "t.toml"
    small = GOOD.replace("T = [20, 100]", "T = [10]")
    p.write_text(small)
    kw = {"scale": "ci", "cache_dir": str(tmp_path / "cache"), "progress": False, "replicas": 4}
    b1 = run_specs([str(p)], **kw).checks[0].points[0].bound
    p.write_text(small.replace("2*F0/(eta*T)", "3*F0/(eta*T)") + "\n")
    b2 = run_specs([str(p)], **kw).checks[0].points[0].bound
    assert b2 > b1


def test_experiment_keys_are_a_specs() -> None:
    from boundcheck.check.specs import _TOP
    from boundcheck.theory.userfile import EXPERIMENT_KEYS

    # a spec's keys less the theorem id and a comparison claim's own keys (a theorem file states
    # a theorem, not a claim)
    assert set(EXPERIMENT_KEYS) == set(_TOP) - {"theorem", "claim", "compare", "target"}


def test_verify_and_report_on_the_examples(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.setenv("BOUNDCHECK_CACHE", str(tmp_path / "cache"))
    ok = cli("verify", str(EXAMPLES / "sgd_smooth.toml"), "--scale", "ci", "--json")
    assert ok.exit_code == 0, ok.output
    (chk,) = json.loads(ok.output)["checks"]
    assert chk["theorem_id"] == "user.sgd_smooth"
    assert all(p["verdict"] == "holds" for p in chk["points"])
    bad = cli("verify", str(EXAMPLES / "sgd_smooth_wrong.toml"), "--scale", "ci")
    assert bad.exit_code == 1 and "violated" in bad.output
    out = tmp_path / "rep"
    r = cli("report", str(EXAMPLES / "sgd_smooth.toml"), "--scale", "ci", "--out", str(out))
    assert r.exit_code == 0, r.output
    html = (out / "report.html").read_text()
    assert "sgd_smooth.toml --scale ci" in html and "2 points: 2 holds" in html
    assert json.loads((out / "results.json").read_text())["checks"][0]["theorem_id"] == (
        "user.sgd_smooth"
    )


def test_user_lhs_function_of_the_trace(tmp_path: Path) -> None:
    """``lhs = { function = "file.py:name", ... }``: the engine measures the user's function (here
    the last recorded squared gradient norm), number for number the value of a direct run."""
    import torch

    from boundcheck.algorithms.saef import momentum_sgd
    from boundcheck.check.engine import run_specs
    from boundcheck.problems import registry as problems

    (tmp_path / "my_lhs.py").write_text(
        "import numpy as np\n"
        "def last_grad(traces, problem):\n"
        "    return np.concatenate([t.series['grad_norm_sq'][-1].numpy() for t in traces])\n"
    )
    text = GOOD.replace(
        'lhs = "avg_grad_norm_sq"',
        'lhs = { function = "my_lhs.py:last_grad", kind = "mean", dim = "F^2/X^2", '
        'text = "E||grad f(x_{T-1})||^2" }',
    ).replace("T = [20, 100]", "T = [30]")
    p = tmp_path / "last.toml"
    p.write_text(text)
    run = run_specs([str(p)], scale="ci", replicas=8, cache_dir="", progress=False)
    (pt,) = run.checks[0].points
    prob = problems.make("iid_least_squares", n=1, d=10)
    tr = momentum_sgd(prob, T=30, R=8, seed=0, eta=0.25, K=1)
    assert pt.measured == pytest.approx(float(tr.series["grad_norm_sq"][-1].mean()), rel=1e-12)
    assert pt.verdict == "holds"
    assert torch.is_tensor(tr.series["grad_norm_sq"])
    # a function that returns the wrong shape is an error point with the reason, not a crash
    (tmp_path / "my_lhs.py").write_text(
        "def last_grad(traces, problem):\n    return [1.0]  # bad\n"
    )
    run = run_specs([str(p)], scale="ci", replicas=8, cache_dir="", progress=False)
    (pt,) = run.checks[0].points
    assert pt.verdict == "error" and "returned shape (1,)" in pt.notes[0]


def test_user_theorem_refuses_theorem_stepsize_and_shipped_names(tmp_path: Path, cli) -> None:
    p = tmp_path / "w.toml"
    p.write_text(GOOD.replace("K = 1\neta = 0.25", 'K = 1\neta = "theorem"'))
    r = cli("verify", str(p), "--scale", "ci")
    assert r.exit_code == 2 and "key 'algorithm.eta'" in r.err and "no stepsize rule" in r.err
    (tmp_path / "thm.py").write_text(
        "from boundcheck import api\n"
        "def step(x, g, *, t, rng, eta=0.1):\n    return x - eta * g\n"
        "THEOREM = api.theorem(\n"
        "    theorem={'id': 'user.hijack', 'lhs': 'avg_grad_norm_sq', 'bound': 'L*eta*sigma**2'},\n"
        "    replicas=8, seed=0, problem={'family': 'iid_least_squares', 'n': 1},\n"
        "    algorithm={'name': api.numpy_algorithm(step, name='fedpaq'), 'eta': 0.2},\n"
        "    sweep={'T': [10]})\n"
    )
    r = cli("verify", str(tmp_path / "thm.py"), "--scale", "ci")
    assert r.exit_code == 2 and "like a shipped algorithm" in r.err
    from boundcheck.check.bindings import algorithm_function

    assert algorithm_function("fedpaq").__module__ == "boundcheck.algorithms.fedpaq"


def test_two_files_with_one_id_in_one_run_refused(tmp_path: Path, cli) -> None:
    a, b = tmp_path / "a.toml", tmp_path / "b.toml"
    a.write_text(GOOD)
    b.write_text(GOOD.replace("2*F0/(eta*T)", "3*F0/(eta*T)"))
    r = cli("verify", str(a), str(b), "--scale", "ci")
    assert r.exit_code == 2 and "also the id of" in r.err


def test_theorem_file_detection(tmp_path: Path) -> None:
    from boundcheck.theory.userfile import is_theorem_file

    inline = tmp_path / "inline.toml"
    inline.write_text('theorem = { id = "user.inline", lhs = "avg_f_gap", bound = "F0" }\n')
    assert is_theorem_file(inline) and is_theorem_file(EXAMPLES / "sgd_smooth.toml")
    spec = Path(__file__).resolve().parents[2] / "problems" / "saef_thm2.toml"
    assert not is_theorem_file(spec)
    assert load_user(inline).theorem.bound == S.info("F0").symbol


def test_falsify_takes_a_theorem_file_and_breaks_only_the_wrong_constant(cli) -> None:
    """`boundcheck falsify FILE` searches the file's [search] table: the true SGD bound is never
    called violated, the one whose noise term lost a factor 10 is (exit 1, ratio above 1)."""
    true = cli("falsify", str(EXAMPLES / "sgd_smooth.toml"), "--budget", "16", "--json")
    wrong = cli("falsify", str(EXAMPLES / "sgd_smooth_wrong.toml"), "--budget", "16", "--json")
    assert true.exit_code == 0, true.output
    (r_true,) = json.loads(true.output)["results"]
    assert r_true["verdict"] == "holds" and r_true["best_ratio"] < 1
    assert wrong.exit_code == 1, wrong.output
    (r_wrong,) = json.loads(wrong.output)["results"]
    assert r_wrong["verdict"] == "violated" and r_wrong["best_ratio"] > 1
    assert r_wrong["certificate"]["replay"]["low"] > r_wrong["certificate"]["bound"]


def test_falsify_refuses_a_file_without_a_search_table(tmp_path: Path, cli) -> None:
    text = (EXAMPLES / "sgd_smooth.toml").read_text()
    f = tmp_path / "nosearch.toml"
    f.write_text(text.split("[search]")[0])
    r = cli("falsify", str(f))
    assert r.exit_code == 2 and "[search]" in r.output
