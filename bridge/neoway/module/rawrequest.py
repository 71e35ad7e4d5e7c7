"""AT+HTTPACTION=99: the host writes a whole HTTP request after '>'.

A real module does not parse the packet: it sends it.  So the packet may end with its body (a
PUT or POST whose last bytes are the JSON, as the manual's own HTTPSACTION=99 example and public
tracker firmware write it) or with CRLF after the body (the manual's "add a carriage return"
advice); both are the same request.  h11 (server role) reads it, so the method, target, headers (names as written) and body go to
the executor unchanged; the executor's h11 writes them again.  The bytes on the wire are the
host's up to what HTTP/1.1 serialisation normalises: h11 puts Host first, writes
"Name: value" with one space, and re-chunks a chunked body.  Connection and framing headers
are the host's own, so the server sees the request the host wrote.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from bridge.model import Header, Method
from bridge.neoway.params import ParamError



@dataclass(frozen=True)
class RawRequest:
    method: Method
    target: str               # origin-form path and query
    headers: list[Header]
    body: bytes
    keep_alive: bool          # what the request itself asks for

    @property
    def has_connection_header(self) -> bool:
        return any(name.lower() == "connection" for name, _ in self.headers)


def parse_raw_request(data: bytes) -> RawRequest:
    """The request in `data`; raises :class:`ParamError` when it is not one complete HTTP
    request (optionally followed by CRLFs), or its method is not one the request model carries."""
    conn = h11.Connection(h11.SERVER)
    conn.receive_data(data)
    try:
        head = conn.next_event()
        body = _body(conn)
    except h11.RemoteProtocolError as exc:
        raise ParamError(f"not an HTTP request: {exc}") from None
    if not isinstance(head, h11.Request):
        raise ParamError("not a complete HTTP request")
    if conn.trailing_data[0].strip(b"\r\n"):
        raise ParamError("bytes after the request")
    return _request(head, body, conn.their_http_version)


def _body(conn: h11.Connection) -> bytes:
    parts = []
    while True:
        event = conn.next_event()
        if isinstance(event, h11.EndOfMessage):
            return b"".join(parts)
        if isinstance(event, h11.Data):
            parts.append(bytes(event.data))
        elif event is h11.NEED_DATA:
            raise ParamError("the request body is shorter than its headers say")


def _request(head: h11.Request, body: bytes, version: bytes | None) -> RawRequest:
    try:
        method = Method(head.method.decode("ascii"))
    except ValueError:
        raise ParamError(f"method {head.method!r} is not supported") from None
    target = head.target.decode("latin-1")
    if not target.startswith("/"):
        parts = urlsplit(target)  # absolute-form: keep path and query
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in head.headers.raw_items()]
    connection = ",".join(value for name, value in headers if name.lower() == "connection").lower()
    keep_alive = "close" not in connection and (version == b"1.1" or "keep-alive" in connection)
    return RawRequest(method, target, headers, body, keep_alive)
