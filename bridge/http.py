"""What HTTP/1.1 says, once for every layer: the target of an http(s) URL (scheme, host, port, the
Host header, path?query percent-encoded so that it holds no '"', which a quoted command parameter
cannot), which responses have no body, the lengths Content-Length and Content-Range state, the
framing header a sender adds, Basic credentials, an h11 reader of the response to a method, and
a plain response head read without it (:func:`plain_response_head`)."""
from __future__ import annotations

import base64
import functools
import re
import string
from dataclasses import dataclass
from typing import Iterable, Optional, TypeVar
from urllib.parse import quote, unquote, urlsplit

import h11

DEFAULT_PORTS = {"http": 80, "https": 443}
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})  # lower case
_SAYS_NO_BODY = ("POST", "PUT")  # without a body these still say Content-Length: 0
_PATH_SAFE = string.punctuation.replace('"', "")
_LENGTH = re.compile(r"[0-9]{1,18}")  # ASCII digits, bounded: int() of "²" or of 5000 digits raises
_CONTENT_RANGE = re.compile(r"bytes\s+(?:[0-9]{1,18}-[0-9]{1,18}|\*)/([0-9]{1,18})(?![0-9])", re.IGNORECASE)
_HOST = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=:-]+")
# A plain head, a strict subset of what h11 reads: the status line (status 200..999) and header
# lines joined by CR LF, printable bytes and tabs only -- no other control byte, no bare CR or LF,
# no folded or blank line.  Between its first colon and the line end a header line may hold any of
# those bytes: stripped of blanks, that is the value h11's field-value rule reads there.
_PLAIN_HEAD = re.compile(rb"HTTP/[0-9]\.[0-9] ([2-9][0-9][0-9])(?: ([\t\x20-\x7e\x80-\xff]*))?"
                         rb"((?:\r\n[-!#$%&'*+.^_`|~0-9a-zA-Z]+:[\t\x20-\x7e\x80-\xff]*)*)")
_PLAIN_LENGTH = re.compile(rb"[0-9]{1,20}")

TargetT = TypeVar("TargetT", bound="Target")


@dataclass(frozen=True)
class Target:
    scheme: str  # "http" or "https"
    host: str
    port: int
    path: str  # path?query, percent-encoded
    credentials: Optional[tuple[str, str]] = None

    @classmethod
    def parse(cls: type[TargetT], url: str) -> TargetT:
        """The target of an http(s) URL; raises ValueError saying what is wrong with it."""
        return _parsed_target(cls, url)  # type: ignore[return-value]

    @classmethod
    def _parse(cls: type[TargetT], url: str) -> TargetT:
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{url!r}: {exc}") from None
        scheme = parts.scheme.lower()
        host = parts.hostname or ""
        if scheme not in DEFAULT_PORTS or not _HOST.fullmatch(host) or port == 0:
            raise ValueError(f"{url!r} is no http(s)://host[:port]/path URL")
        path = quote((parts.path or "/") + (f"?{parts.query}" if parts.query else ""), safe=_PATH_SAFE)
        credentials = (unquote(parts.username), unquote(parts.password or "")) if parts.username else None
        return cls(scheme, host, port or DEFAULT_PORTS[scheme], path, credentials)

    @property
    def tls(self) -> bool:
        return self.scheme == "https"

    @property
    def bracketed_host(self) -> str:
        """The host as a URL or Host header writes it (an IPv6 literal in brackets)."""
        return f"[{self.host}]" if ":" in self.host else self.host

    @property
    def host_header(self) -> str:
        return self.bracketed_host + ("" if self.port == DEFAULT_PORTS[self.scheme] else f":{self.port}")

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.bracketed_host}:{self.port}"

    @property
    def url(self) -> str:
        return self.origin + self.path


@functools.lru_cache(maxsize=64)
def _parsed_target(cls: type[Target], url: str) -> Target:
    """Target.parse, kept for a URL asked for again (a Target is frozen)."""
    return cls._parse(url)


def has_body(method: str, status: int) -> bool:
    """Whether a response with `status` to a `method` request has a body (RFC 9112 6.3: not
    after HEAD, not 1xx, 204 or 304)."""
    return method.upper() != "HEAD" and status >= 200 and status not in (204, 304)


def content_length(headers: Iterable[tuple[str, str]]) -> Optional[int]:
    """The body length Content-Length states, unless Transfer-Encoding frames the body instead
    (None then, or without a valid Content-Length)."""
    length, coded = "", False
    for name, value in headers:
        lower = name.lower()
        if lower == "content-length":
            length = value  # the last one counts
        elif lower == "transfer-encoding":
            coded = True
    length = length.strip()
    if coded or not _LENGTH.fullmatch(length):
        return None
    return int(length)


def entity_length(headers: Iterable[tuple[str, str]]) -> Optional[int]:
    """The complete length a Content-Range states ("bytes 0-99/5000": 5000); None without one."""
    fields = {name.lower(): value.strip() for name, value in headers}
    match = _CONTENT_RANGE.match(fields.get("content-range", ""))
    return int(match.group(1)) if match else None


def framing_header(method: str, body: object) -> Optional[tuple[str, str]]:
    """The framing header a sender adds for `body` (None: no body; bytes; else an iterable of
    pieces, sent chunked): None when a `method` without a body needs none."""
    if body is None:
        return ("Content-Length", "0") if method.upper() in _SAYS_NO_BODY else None
    if isinstance(body, (bytes, bytearray, memoryview)):
        return ("Content-Length", str(memoryview(body).nbytes))
    return ("Transfer-Encoding", "chunked")


def basic_authorization(credentials: tuple[str, str]) -> tuple[str, str]:
    """The Authorization header for a URL's user and password."""
    token = base64.b64encode(":".join(credentials).encode("utf-8")).decode("ascii")
    return ("Authorization", f"Basic {token}")


def response_parser(method: str, **options: int) -> h11.Connection:
    """An h11 client connection that reads the response to a `method` request (the request
    itself is never sent: only its method matters, for HEAD)."""
    connection = h11.Connection(h11.CLIENT, **options)
    connection.send(h11.Request(method=method, target="/", headers=[("Host", "module")]))
    connection.send(h11.EndOfMessage())
    return connection


def plain_response_head(block: bytes) -> Optional[tuple[int, bytes, list[tuple[bytes, bytes]]]]:
    """(status, reason, [(name, value)]) of a response head (status line and header lines joined
    by CR LF, no blank line at the end) that is plainly written -- then exactly what the h11 reader
    of :func:`response_parser` gives for it -- without building one; None for anything else (read
    it with h11): a control byte, a folded or blank line, a 1xx status, a Transfer-Encoding other
    than one "chunked", a Content-Length that is not one plain number."""
    head = _PLAIN_HEAD.fullmatch(block)
    if head is None:
        return None
    headers = []
    length = coding = False
    lines = head.group(3)
    for line in lines[2:].split(b"\r\n") if lines else ():
        name, _, value = line.partition(b":")
        value = value.strip(b" \t")
        if len(name) in (14, 17):
            lower = name.lower()
            if lower == b"content-length":
                if length or not _PLAIN_LENGTH.fullmatch(value):
                    return None
                length = True
            elif lower == b"transfer-encoding":
                if coding or value != b"chunked":
                    return None
                coding = True
        headers.append((name, value))
    return int(head.group(1)), head.group(2) or b"", headers
