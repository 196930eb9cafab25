"""``boundcheck report``: bad input exits 2 with one line and writes nothing; the output says where
the files are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_run

from boundcheck.check.results import RunResult
from boundcheck.cli import main
from boundcheck.jsonutil import dumps


@pytest.fixture
def small_json(tmp_path) -> Path:
    full = make_run()
    run = RunResult(checks=full.checks[3:4], environment=full.environment, command="x")
    p = tmp_path / "saved.json"
    p.write_text(dumps(run.to_dict()))
    return p


def _listing(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def _bad(argv: list[str], capsys, root: Path, before: list[str]) -> str:
    code = main(argv)
    captured = capsys.readouterr()
    assert code == 2, captured
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("boundcheck: error: "), captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    assert _listing(root) == before  # nothing written, no temporary left
    return lines[0]


def test_missing_file(tmp_path, capsys):
    before = _listing(tmp_path)
    msg = _bad(
        ["report", "--from-json", str(tmp_path / "nope.json"), "--out", str(tmp_path / "o")],
        capsys, tmp_path, before,
    )  # fmt: skip
    assert "nope.json" in msg and "no such file" in msg


@pytest.mark.parametrize(
    ("content", "expect"),
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "no 'checks' list"),
        ('{"checks": [{"spec_id": "a"}]}', "not a boundcheck results file"),
        ("measured", "checks[0].points[0].measured is 'big'"),
    ],
)
def test_malformed_results_file(tmp_path, capsys, content, expect):
    if content == "measured":  # a real results file with one number turned into a string
        d = RunResult(checks=make_run().checks[:1]).to_dict()
        d["checks"][0]["points"][0]["measured"] = "big"
        content = json.dumps(d)
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    before = _listing(tmp_path)
    msg = _bad(
        ["report", "--from-json", str(bad), "--out", str(tmp_path / "o")], capsys, tmp_path, before
    )
    assert expect in msg and "bad.json" in msg


def test_unwritable_out(tmp_path, capsys, small_json):
    blocker = tmp_path / "a_file"
    blocker.write_text("x")
    before = _listing(tmp_path)
    for out in (blocker, blocker / "sub"):
        msg = _bad(
            ["report", "--from-json", str(small_json), "--out", str(out)], capsys, tmp_path, before
        )
        assert str(out) in msg and "directory" in msg
    assert blocker.read_text() == "x"


def test_from_json_refuses_run_options(tmp_path, capsys, small_json):
    before = _listing(tmp_path)
    msg = _bad(
        ["report", "qafel_thm_f1", "--from-json", str(small_json), "--out", str(tmp_path / "o")],
        capsys, tmp_path, before,
    )  # fmt: skip
    assert "--from-json" in msg and "SPEC" in msg


def test_bad_jobs_and_scale(tmp_path, capsys):
    before = _listing(tmp_path)
    msg = _bad(["report", "--jobs", "0", "--out", str(tmp_path / "o")], capsys, tmp_path, before)
    assert "--jobs 0" in msg
    msg = _bad(
        ["report", "--scale", "huge", "--out", str(tmp_path / "o")], capsys, tmp_path, before
    )
    assert "huge" in msg


def test_render_error_leaves_nothing(tmp_path, monkeypatch, small_json):
    """A failure after some files are written (here: the PDF step) leaves no file and no temp."""
    from boundcheck.report import load_results, pdf, render

    def broken(*a, **k):
        raise RuntimeError("typst failed")

    monkeypatch.setattr(pdf, "render_pdf", broken)
    before = _listing(tmp_path)
    with pytest.raises(RuntimeError, match="typst failed"):
        render(load_results(small_json), tmp_path / "out")
    assert _listing(tmp_path) == before


def test_output_says_where_the_files_are(tmp_path, capsys, small_json):
    out = tmp_path / "deep" / "er"
    code = main(["report", "--from-json", str(small_json), "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0  # asyncbc_thm3 holds
    for name in ("report.html", "report.pdf", "results.json"):
        assert f"wrote {out / name} (" in text
        assert (out / name).is_file()
    assert "asyncbc_thm3" in text and "holds" in text
    code = main(["report", "--from-json", str(small_json), "--out", str(out), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["files"]["pdf"] == str(out / "report.pdf")
    assert data["checks"] == [
        {
            "spec_id": "asyncbc_thm3",
            "theorem_id": "asyncbc.thm3",
            "verdict": "holds",
            "tightness": 0.56,
        }
    ]


README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_main_job_is_report_and_its_examples_parse():
    """The fresh-machine command runs ``boundcheck report``; every ``boundcheck report`` line the
    README shows parses (options exist, values allowed) without running anything."""
    import re
    import shlex

    from boundcheck.cli import app

    fresh = re.search(r"## Two commands for a fresh machine.*?```bash\n(.*?)```", README, re.S)
    assert fresh is not None and fresh.group(1).strip().endswith("&& boundcheck report")
    lines = [
        line.split("#", 1)[0].strip()
        for line in README.splitlines()
        if line.startswith("boundcheck report ")
    ]
    assert len(lines) >= 2
    for line in lines:
        argv = shlex.split(line)[1:]
        ctx = app.make_context("boundcheck", argv, resilient_parsing=False)
        sub = app.get_command(ctx, argv[0])
        sub.make_context("report", argv[1:])  # raises on an unknown option or a bad value
