"""How a request ends early: the internal Failure carrier, deadlines, and the cancel handle
that wakes a thread blocked on the request's socket."""
from __future__ import annotations

import socket
import ssl
import threading
import time
from typing import Optional

from bridge.model import ErrorKind

STALE_KINDS = (ErrorKind.SEND_FAILED, ErrorKind.CONNECTION_CLOSED)


class Fail(Exception):
    """Internal: ends the exchange with one Failure event.  `waited`: a timeout ran out first (a
    stale pooled connection fails at once, never by timing out)."""

    def __init__(self, kind: ErrorKind, detail: str, waited: bool = False) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.waited = waited


class Stale(Exception):
    """Internal: a reused pooled connection died before any response byte."""

    def __init__(self, failure: Fail) -> None:
        super().__init__(failure.detail)
        self.failure = failure


def deadline(seconds: Optional[float]) -> Optional[float]:
    return None if seconds is None else time.monotonic() + seconds


def remaining(deadline: Optional[float], kind: ErrorKind, what: str) -> Optional[float]:
    """Seconds left until `deadline` (None = no limit); raises `kind` once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise Fail(kind, f"{what} timed out")
    return left


def io_kind(exc: OSError, default: ErrorKind) -> ErrorKind:
    """TLS_FAILED for a TLS protocol error, else `default` (EOF-like TLS errors included)."""
    benign = (ssl.SSLEOFError, ssl.SSLZeroReturnError, ssl.SSLSyscallError)
    if isinstance(exc, ssl.SSLError) and not isinstance(exc, benign):
        return ErrorKind.TLS_FAILED
    return default


def _shutdown(sock: socket.socket) -> None:
    """Wake any thread blocked on `sock` (works for SSL sockets: acts on the fd)."""
    try:
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except OSError:
        pass


class Exchange:
    """One execute() call: its cancel flag and the socket a cancel must wake."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sock: Optional[socket.socket] = None
        self.cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True
            if self._sock is not None:
                _shutdown(self._sock)

    def check(self) -> None:
        if self.cancelled:
            raise Fail(ErrorKind.CANCELLED, "request cancelled")

    def attach(self, sock: socket.socket) -> None:
        """Make `sock` the one to wake on cancel (closing a previous, different one)."""
        with self._lock:
            old, self._sock = self._sock, sock
            if old is not None and old is not sock:
                old.close()
        self.check()

    def detach(self) -> None:
        with self._lock:
            self._sock = None

    def release(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
            if sock is not None:
                sock.close()
