"""What a request of the shared model asks of a Neoway module: the target as HTTPPARA values, which
AT+HTTPACTION mode carries it (with the raw request built by h11 for mode 99), or which
AT+FILEHTTPACTION downloads it to a module file.  Nothing here talks to a module; a request that
cannot be carried raises :class:`~bridge.roles.host.Fail` before any command is sent.

Mode choice (codes and limits from :class:`~bridge.neoway.host.tables.Limits`): GET and HEAD
without headers or body go as modes 0 and 1, a GET of a closed byte range as
"0,<offset>,<size>"; a POST whose body is bytes (not a stream) of 1..2048 and whose only header is
a Content-Type the YAML's post types name goes as mode 2; everything else (PUT, DELETE, custom
headers, credentials, open ranges, streamed bodies) goes as a raw request in mode 99, at most 2048
bytes with its head.  A streamed body is collected first and framed chunked.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional, Union

import h11

from bridge.at.encode import Unwritable, command_line
from bridge.http import FRAMING_HEADERS, Target as HttpTarget, basic_authorization, framing_header
from bridge.model import ErrorKind, Header, Method, Request
from bridge.roles.host import Fail
from bridge.neoway.host.tables import Family, Limits

CRLF = b"\r\n"


# ---- command lines -------------------------------------------------------------------------


def at(name: str, *params: Union[int, str]) -> bytes:
    """AT+NAME=p1,p2,... (bridge.at.encode.command_line); raises Fail for a string no command
    line can carry."""
    try:
        return command_line(name, *params)
    except Unwritable as exc:
        raise Fail(ErrorKind.INVALID_PARAMETER, str(exc)) from None


# ---- the target ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target(HttpTarget):
    @property
    def family(self) -> Family:
        return Family(self.tls)

    @property
    def url_value(self) -> str:
        """HTTPPARA's url: host/path without scheme or port (the port goes on its own)."""
        return self.bracketed_host + self.path


def target_of(url: str, limits: Limits) -> Target:
    """The target of an http(s) URL; raises Fail(URL_INVALID)."""
    try:
        target = Target.parse(url)
    except ValueError as exc:
        raise Fail(ErrorKind.URL_INVALID, str(exc)) from None
    if len(target.url_value.encode()) > limits.url_max[target.tls]:
        raise Fail(ErrorKind.URL_INVALID, f"the url is longer than the {limits.url_max[target.tls]} bytes "
                                          f"{target.family.command('HTTPPARA')} takes")
    return target


# ---- AT+HTTPACTION -------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    method: str  # of the HTTP request: what the response answers
    params: tuple[int, ...]  # AT+HTTPACTION=<params>
    data: Optional[bytes] = None  # written after '>'


def method_of(request: Request) -> str:
    value = request.method
    return (value.value if isinstance(value, Method) else str(value)).upper()


def action_for(request: Request, target: Target, limits: Limits) -> Action:
    """The AT+HTTPACTION that carries `request`; raises Fail."""
    method = method_of(request)
    headers = custom_headers(request, target)
    body = body_bytes(request, limits.data_max)
    span = request.byte_range
    if span is not None and (span.start < 0 or (span.end is not None and span.end < span.start)):
        raise Fail(ErrorKind.INVALID_PARAMETER, f"byte range {span.header_value()}")
    modes = limits.action_modes
    if method in ("GET", "HEAD") and not headers and not body:
        if span is None:
            return Action(method, (int(modes[method]),))
        if method == "GET" and span.end is not None:
            return Action(method, (int(modes[method]), span.start, span.end - span.start + 1))
    post_type = _post_type(headers, limits)
    typed = isinstance(request.body, (bytes, bytearray, memoryview))  # a streamed body goes raw
    if method == "POST" and typed and body and span is None and post_type is not None:
        return Action(method, (int(modes["POST"]), len(body), int(post_type)), body)
    raw = raw_request(method, target, headers, body, request)
    if len(raw) > limits.data_max:
        raise Fail(ErrorKind.INVALID_PARAMETER,
                   f"the raw request is {len(raw)} bytes; AT+HTTPACTION=99 takes at most {limits.data_max}")
    return Action(method, (int(limits.raw_mode), len(raw)), raw)


def _post_type(headers: list[Header], limits: Limits) -> Optional[str]:
    """The POST <type> when Content-Type is the only header and names one of the YAML's types."""
    if len(headers) != 1 or headers[0][0].lower() != "content-type":
        return None
    return limits.post_types.get(headers[0][1].strip().lower())


def custom_headers(request: Request, target: Target) -> list[Header]:
    """The request's headers without framing ones, with Authorization from URL credentials."""
    headers = [(name, value) for name, value in request.headers if name.lower() not in FRAMING_HEADERS]
    if target.credentials and request.header("authorization") is None:
        headers.append(basic_authorization(target.credentials))
    return headers


def body_bytes(request: Request, limit: int) -> Optional[bytes]:
    """The body whole (it goes after '>' in one piece); raises Fail when it is over `limit`."""
    body = request.body
    if body is None:
        return None
    if isinstance(body, (bytes, bytearray, memoryview)):
        view = memoryview(body).cast("B")
        if len(view) > limit:
            raise Fail(ErrorKind.INVALID_PARAMETER, f"a body of {len(view)} bytes; AT+HTTPACTION takes at most {limit}")
        return bytes(view)
    return _collect(body, limit)


def _collect(pieces: Iterable[bytes], limit: int) -> bytes:
    parts, size = [], 0
    try:
        for piece in pieces:
            view = memoryview(piece).cast("B")
            size += len(view)
            if size > limit:
                raise Fail(ErrorKind.INVALID_PARAMETER, f"a body of more than {limit} bytes; AT+HTTPACTION takes at most {limit}")
            parts.append(bytes(view))
    except Fail:
        raise
    except Exception as exc:  # the caller's iterable is no business of the module
        raise Fail(ErrorKind.SEND_FAILED, f"request body: {exc!r}") from exc
    return b"".join(parts)


def _streamed(request: Request) -> bool:
    """A body given as pieces (not bytes) without a Content-Length header: it is sent whole, but
    framed chunked, as the network executor sends such a body (and a OneMO module its chunked mode)."""
    if request.header("content-length") is not None:  # the caller framed it (so does the network executor)
        return False
    return request.body is not None and not isinstance(request.body, (bytes, bytearray, memoryview))


def raw_request(method: str, target: Target, headers: list[Header], body: Optional[bytes], request: Request) -> bytes:
    """The whole HTTP/1.1 request for mode 99, serialised by h11, ending with CRLF (9.3)."""
    names = {name.lower() for name, _ in headers}
    head = ([] if "host" in names else [("Host", target.host_header)]) + list(headers)
    if request.byte_range is not None:
        head.append(("Range", request.byte_range.header_value()))
    if not request.keep_alive and "connection" not in names:
        head.append(("Connection", "close"))
    framing = framing_header(method, request.body if _streamed(request) else body or None)
    if framing:  # a streamed body is framed chunked, as it goes on the wire elsewhere
        head.append(framing)
    connection = h11.Connection(h11.CLIENT)
    try:
        out = connection.send(h11.Request(method=method, target=target.path, headers=head)) or b""
        if body:
            out += connection.send(h11.Data(data=body)) or b""
        out += connection.send(h11.EndOfMessage()) or b""
    except (h11.LocalProtocolError, UnicodeEncodeError, ValueError) as exc:
        raise Fail(ErrorKind.INVALID_PARAMETER, f"request: {exc}") from None
    return out if out.endswith(CRLF) else out + CRLF


# ---- AT+FILEHTTPACTION ---------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    """AT+FILEHTTPACTION=<GET>,<offset>,<size>,<file>: a request saved to a module file."""

    offset: int
    size: int  # <size> asked for
    known: bool  # the caller gave the size (a closed byte range)
    name: str  # the module file


def download_for(request: Request, target: Target, limits: Limits) -> Download:
    """AT+FILEHTTPACTION=<GET>,<offset>,<size>,<file> for a download to a module file.

    Without a closed byte range the size asked for is the most the command takes; a resource
    that fills it may be longer (docs/design.md, "Neoway host side")."""
    if method_of(request) != "GET" or request.body is not None or custom_headers(request, target):
        raise Fail(ErrorKind.UNSUPPORTED, "AT+FILEHTTPACTION sends a plain GET: no other method, header or body")
    if request.append:
        raise Fail(ErrorKind.UNSUPPORTED, "AT+FILEHTTPACTION overwrites its file: appending (resume) is not possible")
    assert request.save_to is not None
    at(target.family.command("FILEHTTPACTION"), request.save_to)  # a name no command line can carry fails here
    span = request.byte_range
    offset = span.start if span is not None else 0
    if span is None or span.end is None:
        return Download(offset, limits.file_max, False, request.save_to)
    size = span.end - span.start + 1
    if offset < 0 or not 1 <= size <= limits.file_max:
        raise Fail(ErrorKind.INVALID_PARAMETER, f"a range of {size} bytes; AT+FILEHTTPACTION takes 1..{limits.file_max}")
    return Download(offset, size, True, request.save_to)
