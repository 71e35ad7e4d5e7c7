"""What one request sends, worked out before any network: the URL's parts, the h11 request head
(with the headers the caller left out) and a body that can be sent again after a stale
keep-alive connection."""
from __future__ import annotations

import base64
import dataclasses
import ssl
from typing import Iterator, Optional, Union
from urllib.parse import quote, unquote, urlsplit

import h11

from bridge.http import DEFAULT_PORTS
from bridge.model import ErrorKind, Method, Request
from bridge.net.failure import Exchange, Fail

_SEND_SLICE = 256 * 1024
_URL_SAFE = "/?&=:@!$'()*+,;%~[]"


@dataclasses.dataclass(frozen=True)
class Url:
    scheme: str
    host: str
    port: int
    target: str
    credentials: Optional[tuple[str, str]]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORTS[self.scheme] else f"{host}:{self.port}"


def parse_url(url: str) -> Url:
    """Split an http(s) URL; raises URL_INVALID."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except (ValueError, AttributeError) as exc:
        raise Fail(ErrorKind.URL_INVALID, f"cannot parse URL {url!r}: {exc}") from None
    scheme = parts.scheme.lower()
    host = parts.hostname or ""
    if scheme not in DEFAULT_PORTS:
        raise Fail(ErrorKind.URL_INVALID, f"URL {url!r}: scheme must be http or https")
    if not host or any(c.isspace() or ord(c) < 32 for c in host) or port == 0:
        raise Fail(ErrorKind.URL_INVALID, f"URL {url!r}: missing or invalid host or port")
    target = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_URL_SAFE)
    credentials = None
    if parts.username is not None:
        credentials = (unquote(parts.username), unquote(parts.password or ""))
    return Url(scheme, host, port or DEFAULT_PORTS[scheme], target, credentials)


def request_head(request: Request, url: Url) -> h11.Request:
    """The h11 request head: the caller's headers plus the ones it left out."""
    given = {name.lower() for name, _ in request.headers}
    first: list[tuple[str, str]] = [] if "host" in given else [("Host", url.host_header)]
    extra: list[tuple[str, str]] = []
    if url.credentials and "authorization" not in given:
        token = base64.b64encode(":".join(url.credentials).encode("utf-8")).decode("ascii")
        extra.append(("Authorization", f"Basic {token}"))
    framing = _framing_header(request)
    if framing and not {"content-length", "transfer-encoding"} & given:
        extra.append(framing)
    if request.byte_range is not None and "range" not in given:
        extra.append(("Range", request.byte_range.header_value()))
    if not request.keep_alive and "connection" not in given:
        extra.append(("Connection", "close"))
    try:
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in first + list(request.headers) + extra]
        return h11.Request(method=Method(request.method).value, target=url.target, headers=headers)
    except (h11.LocalProtocolError, UnicodeEncodeError, ValueError) as exc:
        raise Fail(ErrorKind.INVALID_PARAMETER, f"cannot build the request: {exc}") from None


def _framing_header(request: Request) -> Optional[tuple[str, str]]:
    body = request.body
    if body is None:
        return ("Content-Length", "0") if Method(request.method) in (Method.POST, Method.PUT) else None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return ("Content-Length", str(memoryview(body).nbytes))
    return ("Transfer-Encoding", "chunked")


class Body:
    """A request body that can be sent again after a stale-connection retry if nothing was consumed."""

    def __init__(self, body: object) -> None:
        self._bytes: Optional[bytes] = None
        self._iter: Optional[Iterator[bytes]] = None
        self.started = False
        if body is None:
            self._bytes = b""
        elif isinstance(body, (bytes, bytearray, memoryview)):
            self._bytes = bytes(body)
        else:
            self._iter = iter(body)  # type: ignore[call-overload]

    @property
    def replayable(self) -> bool:
        return self._iter is None or not self.started

    def chunks(self) -> Iterator[Union[bytes, memoryview]]:
        if self._bytes is not None:
            view = memoryview(self._bytes)
            for start in range(0, len(view), _SEND_SLICE):
                yield view[start : start + _SEND_SLICE]
            return
        assert self._iter is not None
        for chunk in self._iter:
            self.started = True
            yield chunk


@dataclasses.dataclass
class Job:
    """One request on its way: what was worked out for it, and its cancel handle."""

    request: Request
    url: Url
    head: h11.Request
    body: Body
    context: Optional[ssl.SSLContext]
    key: tuple  # of the keep-alive pool: (scheme, host, port, TLS settings)
    ex: Exchange
    early: Optional[h11.Response] = None  # a final response head that came while the body was being sent
    # When the response must have begun: set when the request first waits for its head, and kept
    # for a retry after a stale pooled connection -- a module's response time (Neoway HTTPACTION:
    # 30 s) is the request's, not each connection's.  A server that closes a kept connection
    # unanswered just before it (an idle timeout of about 30 s) doubled it to 60 s.
    deadline: Optional[float] = None

    @property
    def method(self) -> str:
        return Method(self.request.method).value
