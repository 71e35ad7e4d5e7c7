"""AT+HTTPSETUP's connect: DNS, TCP connect and (HTTPS) the TLS handshake -- and nothing sent.

The shared executor runs whole requests; it has no connect-only operation.  A probe is a
request whose timeouts object refuses to give its `response` value: the executor asks for it
first when it is about to send the request head, after resolving, connecting and handshaking.
The refusal is an OSError, which the executor reports as SEND_FAILED with the probe's mark and
closes the connection -- so the server sees a connection open and close, no bytes.

Any other failure (DNS_FAILED, CONNECT_FAILED, CONNECT_TIMEOUT, TLS_FAILED, ...) is the real
fault.  Should an executor ever send after all, any non-failure event also means "connected".
"""
from __future__ import annotations

from typing import Optional

from ..model import ErrorKind, Event, Failure, Method, Request, Timeouts, TlsSettings

MARK = "neoway link probe: connected"


class _Connected(OSError):
    pass


class ConnectOnly(Timeouts):
    """Timeouts of a probe: `connect` as given; `response` raises :class:`_Connected`."""

    def __init__(self, connect: Optional[float]) -> None:  # no dataclass __init__: `response` is ours
        self.connect = connect
        self.input = None

    @property
    def response(self) -> Optional[float]:  # type: ignore[override]
        raise _Connected(MARK)

    def __repr__(self) -> str:
        return f"ConnectOnly(connect={self.connect!r})"


def probe_request(url: str, tls: Optional[TlsSettings], connect_timeout: Optional[float]) -> Request:
    return Request(Method.HEAD, url, tls=tls, timeouts=ConnectOnly(connect_timeout))


def probe_outcome(event: Event) -> Optional[ErrorKind]:
    """None if the probe connected; else the kind of failure."""
    if isinstance(event, Failure):
        return None if event.kind is ErrorKind.SEND_FAILED and MARK in event.detail else event.kind
    return None
