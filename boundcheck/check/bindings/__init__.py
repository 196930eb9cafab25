"""Per-theorem bindings (one module per paper): theory symbol -> value source, measured lhs.

See :mod:`boundcheck.check.bindings.base` for the data types; :func:`get` returns a theorem's
binding or ``None`` where the theorem has no empirical check.
"""

from __future__ import annotations

from boundcheck.check.bindings.base import (
    ALGORITHMS,
    Binding,
    Ctx,
    Lhs,
    Sym,
    algorithm_function,
    algorithm_parameters,
)

__all__ = [
    "ALGORITHMS",
    "Binding",
    "Ctx",
    "Lhs",
    "Sym",
    "algorithm_function",
    "algorithm_parameters",
    "get",
    "ids",
    "register_user",
]

_REG: dict[str, Binding] | None = None
#: bindings of users' theorem files (:mod:`boundcheck.check.bindings.user`), by theorem id
_USER: dict[str, Binding] = {}


def register_user(binding: Binding) -> None:
    """Make a user theorem's binding known to :func:`get`."""
    _USER[binding.theorem] = binding


def _load() -> dict[str, Binding]:
    global _REG
    if _REG is None:
        from boundcheck.check.bindings import asyncbc, fedpaq, qafel, saef

        _REG = {b.theorem: b for m in (qafel, fedpaq, saef, asyncbc) for b in m.BINDINGS}
    return _REG


def get(theorem_id: str) -> Binding | None:
    return _load().get(theorem_id) or _USER.get(theorem_id)


def ids() -> list[str]:
    return list(_load())
