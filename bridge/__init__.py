"""atbridge: one request model over the HTTP AT-command dialects of cellular modules."""
from __future__ import annotations

from bridge.at.dialect import Dialect, DialectError, available, load
from bridge.model import (BodyChunk, ByteRange, ConnectionClosed, ErrorKind, Event, Executor, Failure, Method,
                    Progress, Request, ResponseEnd, ResponseHead, Timeouts, TlsSettings, VerifyMode)

__all__ = [
    "Dialect", "DialectError", "available", "load",
    "BodyChunk", "ByteRange", "ConnectionClosed", "ErrorKind", "Event", "Executor", "Failure", "Method",
    "Progress", "Request", "ResponseEnd", "ResponseHead", "Timeouts", "TlsSettings", "VerifyMode",
]
