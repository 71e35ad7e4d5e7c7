"""AT+HTTPSETUP's connect: DNS, TCP connect and (HTTPS) the TLS handshake -- and nothing sent.

A connect_only request: the executor answers Connected (and keeps the connection for the
HTTPACTION that follows) or one Failure with the real fault (DNS_FAILED, CONNECT_FAILED,
CONNECT_TIMEOUT, TLS_FAILED, ...).
"""
from __future__ import annotations

from typing import Optional

from bridge.model import ErrorKind, Event, Failure, Method, Request, Timeouts, TlsSettings


def probe_request(url: str, tls: Optional[TlsSettings], connect_timeout: Optional[float]) -> Request:
    return Request(Method.GET, url, tls=tls, timeouts=Timeouts(connect=connect_timeout), connect_only=True, keep_alive=True)


def probe_outcome(event: Event) -> Optional[ErrorKind]:
    """None if the probe connected; else the kind of failure."""
    return event.kind if isinstance(event, Failure) else None
