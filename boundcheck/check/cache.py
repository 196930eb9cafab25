"""Content-addressed cache of sweep-point results (issue 11, "Execution").

A point's key hashes everything that determines its numbers: the spec content, the point, the
seed, ``force`` and the package version. Values are the small summaries the tasks return (JSON).
Re-rendering a report reads them instead of rerunning. Writes go through a temporary file and a
rename, so a crash never leaves half a file.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["Cache", "default_cache_dir", "key_of"]


def default_cache_dir() -> Path:
    env = os.environ.get("BOUNDCHECK_CACHE")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "boundcheck"


def key_of(obj: Any) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        v = version("boundcheck")
    except PackageNotFoundError:  # pragma: no cover
        v = "unknown"
    text = json.dumps({"v": v, "obj": obj}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class Cache:
    def __init__(self, directory: str | Path | None = None):
        self.dir = Path(directory) if directory is not None else default_cache_dir()

    def _path(self, key: str) -> Path:
        return self.dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> Any | None:
        p = self._path(key)
        try:
            return json.loads(p.read_text())
        except (OSError, ValueError):
            return None

    def put(self, key: str, value: Any) -> None:
        from boundcheck.jsonutil import dumps

        p = self._path(key)
        try:
            p.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=p.parent, suffix=".tmp")
            with os.fdopen(fd, "w") as f:
                f.write(dumps(value, indent=None))
            os.replace(tmp, p)
        except OSError:  # a cache that cannot be written is only slower
            pass
