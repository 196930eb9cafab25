"""The public API for a user's own theorem (issue 15), in one import: ``from boundcheck import api``.

* :func:`theorem` -- state a theorem in a Python theorem file (``THEOREM = api.theorem(...)``): the
  same keys as a TOML theorem file (:mod:`boundcheck.theory.userfile`), tables as dicts; the
  algorithm may be a Python callable (``algorithm={"name": my_algorithm, "eta": 0.1}``) and a
  left-hand side a function of the traces (``lhs={"function": fn, "dim": "F", "kind": "mean"}``).
* :func:`resolve_theorem` -- a shipped id or a theorem file -> the ``Theorem``.
* :func:`load_theorem_file` -- the whole loaded file (theorem, binding sources, experiment, search).
* :func:`numpy_algorithm` -- a plain NumPy step function as a batched algorithm.
* :data:`ASSUMPTIONS`, :data:`LHS` -- the documented assumptions and left-hand sides.
* :class:`Trace` -- what an algorithm returns (protocol: :mod:`boundcheck.check.bindings.user`).

Nothing heavy is imported until used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from boundcheck.algorithms.trace import Trace
    from boundcheck.theory.userfile import ASSUMPTIONS, LHS

__all__ = [
    "ASSUMPTIONS",
    "LHS",
    "Trace",
    "load_theorem_file",
    "numpy_algorithm",
    "resolve_theorem",
    "theorem",
]


def theorem(**keys: Any) -> dict[str, Any]:
    """A theorem file's content as a dict (validated when the file is loaded). Keys: ``theorem``
    (a dict: id, lhs, bound, ...), ``symbols``, ``definitions``, ``conditions``, ``bind``,
    ``search`` and the experiment's (``replicas``, ``seed``, ``problem``, ``algorithm``, ``sweep``,
    ``scale``, ...)."""
    return dict(keys)


def resolve_theorem(arg: str) -> Any:
    from boundcheck.theory.userfile import resolve_theorem as _r

    return _r(arg)


def load_theorem_file(path: str) -> Any:
    from boundcheck.theory.userfile import load_user

    return load_user(path)


def numpy_algorithm(step: Any, *, name: str | None = None, vectorized: bool | None = None) -> Any:
    from boundcheck.algorithms.numpy_step import numpy_algorithm as _n

    return _n(step, name=name, vectorized=vectorized)


def __getattr__(name: str) -> Any:
    if name in ("ASSUMPTIONS", "LHS"):
        from boundcheck.theory import userfile

        return getattr(userfile, name)
    if name == "Trace":
        from boundcheck.algorithms.trace import Trace

        return Trace
    raise AttributeError(name)
