"""Theorem id -> :class:`~boundcheck.theory.core.Theorem`, over the four paper modules."""

from __future__ import annotations

import difflib
import importlib

from boundcheck.errors import UnknownIdError
from boundcheck.theory.core import Theorem

PAPER_MODULES = ("qafel", "fedpaq", "saef", "asyncbc")

_REGISTRY: dict[str, Theorem] | None = None
#: theorems loaded from users' theorem files (:mod:`boundcheck.theory.userfile`), by id
_USER: dict[str, Theorem] = {}


def register_user(thm: Theorem) -> None:
    """Make a user's theorem known to :func:`get` (not to :func:`all_theorems`: the shipped
    catalogue stays the four papers). A user id may not shadow a shipped one."""
    if thm.id in _load():
        raise UnknownIdError(f"theorem id {thm.id!r} is a shipped theorem's; choose another id")
    _USER[thm.id] = thm


def _load() -> dict[str, Theorem]:
    global _REGISTRY
    if _REGISTRY is None:
        reg: dict[str, Theorem] = {}
        for name in PAPER_MODULES:
            mod = importlib.import_module(f"boundcheck.theory.{name}")
            for thm in mod.THEOREMS:
                if thm.id in reg:
                    raise RuntimeError(f"duplicate theorem id {thm.id}")
                reg[thm.id] = thm
        _REGISTRY = reg
    return _REGISTRY


def all_theorems() -> list[Theorem]:
    """Every encoded theorem, in paper order then as each module lists them."""
    return list(_load().values())


def ids() -> list[str]:
    return list(_load())


def get(theorem_id: str) -> Theorem:
    """The theorem with this id; an unknown id raises with the closest ids suggested."""
    reg = _load()
    if theorem_id in reg:
        return reg[theorem_id]
    if theorem_id in _USER:
        return _USER[theorem_id]
    close = difflib.get_close_matches(theorem_id, list(reg), n=3, cutoff=0.4)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownIdError(
        f"unknown theorem id {theorem_id!r}{hint} (`boundcheck list` shows all {len(reg)})"
    )
