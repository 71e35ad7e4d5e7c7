"""How a Neoway request fails: :class:`Fail` ends it with a kind of the shared model.  Which kind
a module's answer stands for is the one error table's (bridge/at/errors.py)."""
from __future__ import annotations

from bridge.at.errors import ErrorTable
from bridge.model import ErrorKind

__all__ = ["ErrorTable", "Fail"]


class Fail(Exception):
    """Ends a request with Failure(kind)."""

    def __init__(self, kind: ErrorKind, detail: str = "") -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
