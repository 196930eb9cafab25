"""Build hook: ship the top-level ``problems/`` specs inside the package as ``boundcheck/specs``
(package data, copied at build time; no symlink). Everything else is in pyproject.toml."""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildPyWithSpecs(build_py):
    def run(self) -> None:
        super().run()
        src = Path(__file__).resolve().parent / "problems"
        dst = Path(self.build_lib) / "boundcheck" / "specs"
        for f in sorted(src.rglob("*.toml")):
            target = dst / f.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(str(f), str(target))


setup(cmdclass={"build_py": BuildPyWithSpecs})
