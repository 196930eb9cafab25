"""User-facing errors. The CLI prints ``str(err)`` on one line and exits with code 2 (bad input).

Any other exception reaching the CLI is a bug: exit code 3, one line saying so, the traceback with
``boundcheck --debug ...`` or ``BOUNDCHECK_DEBUG=1`` (:func:`boundcheck.cli.main`).
"""

from __future__ import annotations


class BoundcheckError(Exception):
    """A user mistake: unknown id, bad parameter value, malformed spec. Never a bug."""


class UnknownIdError(BoundcheckError):
    """An id (theorem, compressor, problem) that does not exist."""


class ParameterError(BoundcheckError, ValueError):
    """A parameter that is missing, unknown, non-finite, or outside its allowed range."""


class SpecError(BoundcheckError):
    """A malformed experiment spec."""
