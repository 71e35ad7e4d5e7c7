"""What one request sends, worked out before any network: the URL's target (bridge.http), the h11 request head
(with the headers the caller left out) and a body that can be sent again after a stale
keep-alive connection."""
from __future__ import annotations

import dataclasses
import ssl
from typing import Iterator, Optional, Union
from urllib.parse import quote

import h11

from bridge.http import FRAMING_HEADERS, Target, basic_authorization, framing_header
from bridge.model import ErrorKind, Method, Request
from bridge.net.failure import Exchange, Fail

_SEND_SLICE = 256 * 1024
_URL_SAFE = "/?&=:@!$'()*+,;%~[]"


def parse_url(url: str) -> Target:
    """The target of an http(s) URL (bridge.http), its path?query as the wire takes it (only
    RFC 3986's characters); raises URL_INVALID."""
    try:
        target = Target.parse(url)
    except (ValueError, AttributeError) as exc:
        raise Fail(ErrorKind.URL_INVALID, f"cannot parse URL {url!r}: {exc}") from None
    return dataclasses.replace(target, path=quote(target.path, safe=_URL_SAFE))


def request_head(request: Request, url: Target) -> h11.Request:
    """The h11 request head: the caller's headers plus the ones it left out."""
    method = Method(request.method).value
    given = {name.lower() for name, _ in request.headers}
    first: list[tuple[str, str]] = [] if "host" in given else [("Host", url.host_header)]
    extra: list[tuple[str, str]] = []
    if url.credentials and "authorization" not in given:
        extra.append(basic_authorization(url.credentials))
    framing = framing_header(method, request.body)
    if framing and not FRAMING_HEADERS & given:
        extra.append(framing)
    if request.byte_range is not None and "range" not in given:
        extra.append(("Range", request.byte_range.header_value()))
    if not request.keep_alive and "connection" not in given:
        extra.append(("Connection", "close"))
    try:
        headers = [(n.encode("latin-1"), v.encode("latin-1")) for n, v in first + list(request.headers) + extra]
        return h11.Request(method=method, target=url.path, headers=headers)
    except (h11.LocalProtocolError, UnicodeEncodeError, ValueError) as exc:
        raise Fail(ErrorKind.INVALID_PARAMETER, f"cannot build the request: {exc}") from None


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
    url: Target
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
