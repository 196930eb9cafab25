"""Strict JSON for every ``--json`` output and every file boundcheck writes (DESIGN.md: no NaN or
Infinity, numbers as numbers).

Convention: a non-finite float becomes ``null`` and, where it sits in a mapping under key ``k``, a
sibling key ``k + "_nonfinite"`` says which value it was (``"inf"``, ``"-inf"`` or ``"nan"``), so a
strict parser reads every file and a reader still learns why a value is missing. NumPy and torch
scalars become Python numbers; arrays and tensors become lists.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["dumps", "nonfinite_name", "to_strict"]


def nonfinite_name(x: float) -> str | None:
    """``"inf"``, ``"-inf"`` or ``"nan"`` for a non-finite float, ``None`` for a finite one."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return None


def _scalar(obj: Any) -> Any:
    """Python number for NumPy / torch scalars and 0-d arrays; ``obj`` itself otherwise."""
    item = getattr(obj, "item", None)
    shape = getattr(obj, "shape", None)
    if item is not None and shape is not None and tuple(shape) == ():
        return item()
    return obj


def to_strict(obj: Any) -> Any:
    """A copy of ``obj`` made of dict / list / str / int / float / bool / None, with every
    non-finite float replaced by ``None`` (see the module docstring for the sibling key)."""
    obj = _scalar(obj)
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for k, v in obj.items():
            key = str(k)
            v = _scalar(v)
            if isinstance(v, float) and not math.isfinite(v):
                out[key] = None
                out[key + "_nonfinite"] = nonfinite_name(v)
            else:
                out[key] = to_strict(v)
        return out
    tolist = getattr(obj, "tolist", None)
    if tolist is not None:  # numpy arrays, torch tensors
        return to_strict(tolist())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [to_strict(v) for v in obj]
    if hasattr(obj, "to_dict"):
        return to_strict(obj.to_dict())
    return str(obj)


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    """Strict JSON text of ``obj`` (``allow_nan=False`` after :func:`to_strict`)."""
    return json.dumps(to_strict(obj), indent=indent, allow_nan=False)
