"""The parts of a OneMO request that do not depend on the instance it comes from: header
fields (general ones overridden by request-specific ones of the same name), the path as typed or
urlencoded, where a redirect leads, and the body stream of chunked mode."""
from __future__ import annotations

import dataclasses
import queue
import string
from typing import Iterator, Optional
from urllib.parse import quote, urljoin, urlsplit

from bridge.http import DEFAULT_PORTS, FRAMING_HEADERS
from bridge.model import Header, Method, Request, ResponseHead, TlsSettings

SCHEMES = tuple(DEFAULT_PORTS)
# The module frames the body itself: Content-Length, or Transfer-Encoding in chunked mode (3.1 note).
_MODULE_FRAMING = {name.encode() for name in FRAMING_HEADERS}
# Left as they are by MHTTPCFG "urlencode" (3.1 and fn 25 list these, besides letters and digits).
_URLENCODE_SAFE = "-_.!~*'();/?:@&=+$,#"
# Without urlencode the path goes as typed: only bytes a URL cannot carry at all are escaped.
_AS_TYPED_SAFE = string.punctuation
_REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5


def field_name(line: bytes) -> bytes:
    return line.split(b":", 1)[0].strip().lower()


def header_lines(data: bytes) -> list[bytes]:
    """Header fields of collected header data, one per line."""
    return [line.strip() for line in data.replace(b"\r\n", b"\n").split(b"\n") if line.strip()]


def merged_headers(general: list[bytes], specific: bytes) -> list[Header]:
    """The general header fields, those named again in `specific` replaced by its values."""
    own = header_lines(specific)
    names = {field_name(line) for line in own}
    fields = [line for line in general if field_name(line) not in names] + own
    headers: list[Header] = []
    for line in fields:
        name, sep, value = line.partition(b":")
        if sep and name.strip() and field_name(line) not in _MODULE_FRAMING:
            headers.append((name.strip().decode("latin-1"), value.strip().decode("latin-1")))
    return headers


def keep_alive(headers: list[Header]) -> bool:
    return any(name.lower() == "connection" and value.strip().lower() == "keep-alive" for name, value in headers)


def request_path(path: bytes, urlencode: bool) -> str:
    return quote(path, safe=_URLENCODE_SAFE if urlencode else _AS_TYPED_SAFE)


def redirected(request: Request, head: ResponseHead) -> Optional[Request]:
    """The request a redirect response leads to, or None when it is not followed.  An http URL
    redirected to https gets TLS with the default configuration (3.5 note)."""
    location = next((value for name, value in head.headers if name.lower() == "location"), None)
    if head.status not in _REDIRECTS or not location:
        return None
    url = urljoin(request.url, location.strip())
    if urlsplit(url).scheme.lower() not in SCHEMES:
        return None
    method, body = request.method, request.body
    if head.status == 303 or (head.status in (301, 302) and method not in (Method.GET, Method.HEAD)):
        method, body = Method.GET, None
    elif body is not None and not isinstance(body, (bytes, bytearray)):
        return None  # a streamed (chunked) body cannot be sent again
    tls = request.tls
    if urlsplit(url).scheme.lower() == "https" and tls is None:
        tls = TlsSettings()
    return dataclasses.replace(request, url=url, method=method, body=body, tls=tls)


class UploadStream:
    """A request body fed by AT+MHTTPCONTENT in chunked mode.  The executor iterates it in its
    worker thread; the module side puts pieces from the loop thread."""

    _END = object()

    def __init__(self) -> None:
        self._pieces: "queue.Queue[object]" = queue.Queue()
        self.closed = False
        self.size = 0  # bytes put so far

    def put(self, data: bytes) -> None:
        if data:
            self.size += len(data)
            self._pieces.put(data)

    def drain(self) -> list[bytes]:
        """The pieces put and not yet taken, without waiting (an executor that needs the body
        whole gets it so, once <eof> 0 has come)."""
        pieces: list[bytes] = []
        while True:
            try:
                piece = self._pieces.get_nowait()
            except queue.Empty:
                return pieces
            if piece is not self._END:
                pieces.append(piece)  # type: ignore[arg-type]

    def close(self) -> None:
        """End of the body (<eof> 0), or the request is gone: the iterator ends."""
        if not self.closed:
            self.closed = True
            self._pieces.put(self._END)

    def backlog(self) -> int:
        return self._pieces.qsize()

    def __iter__(self) -> Iterator[bytes]:
        while True:
            piece = self._pieces.get()
            if piece is self._END:
                return
            yield piece  # type: ignore[misc]
