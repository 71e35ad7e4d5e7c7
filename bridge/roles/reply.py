"""What a command handler answers through: the narrow part of a module side that writes
responses, so that handlers depend on it and not on the side that holds them."""
from __future__ import annotations

from typing import Protocol, Union

from bridge.model import ErrorKind


class Reply(Protocol):
    def write(self, data: bytes) -> None:
        """Bytes as they are (a response the handler framed itself)."""

    def line(self, text: Union[str, bytes]) -> None:
        """An information response or URC line."""

    def ok(self) -> None: ...

    def error(self) -> None: ...

    def fail(self, kind: ErrorKind) -> None:
        """The final result the dialect gives for `kind`."""

    def fail_token(self, token: str) -> None:
        """The final result for the dialect's error `token`, in the AT+CMEE format."""
