"""Installed users get the shipped specs: the wheel carries problems/*.toml as boundcheck/specs."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from boundcheck.check.specs import shipped_specs

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_contains_every_spec(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(tmp_path)],
        check=True,
    )  # fmt: skip
    (whl,) = tmp_path.glob("boundcheck-*.whl")
    names = set(zipfile.ZipFile(whl).namelist())
    want = {f"boundcheck/specs/{p.relative_to(ROOT / 'problems')}"
            for p in (ROOT / "problems").rglob("*.toml")}  # fmt: skip
    assert len(want) >= 20
    assert want <= names, sorted(want - names)


def test_source_tree_specs_are_the_shipped_ones():
    assert {p.name for p in shipped_specs()} == {p.name for p in (ROOT / "problems").glob("*.toml")}
