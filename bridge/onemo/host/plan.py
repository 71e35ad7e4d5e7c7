"""What a request of the shared model asks of a OneMO module, before any command is sent: its
target, its header lines (one bare "Name: value" per AT+MHTTPHEADER), its body -- bytes for
Content-Length mode, a stream for chunked mode -- cut into data-mode pieces, and the command lines
(:func:`at`).  What cannot be carried raises :class:`~bridge.onemo.host.errors.Fail`.
"""
from __future__ import annotations

import functools
import itertools
from typing import Iterable, Iterator, Optional, Union

import h11

from bridge.at.dialect import ModelProfile
from bridge.at.encode import Unwritable, command_line
from bridge.http import FRAMING_HEADERS, Target, basic_authorization
from bridge.model import ErrorKind, Method, Request
from bridge.onemo.host.errors import Fail

CHUNKED_METHODS = ("POST", "PUT")  # a module streams a chunked body for these (the manual's example is a POST)


def target_of(url: str) -> Target:
    try:
        return Target.parse(url)
    except ValueError as exc:
        raise Fail(ErrorKind.URL_INVALID, str(exc), terminate=False) from None


def method_of(request: Request) -> str:
    value = request.method
    return (value.value if isinstance(value, Method) else str(value)).upper()


def at(name: str, *params: Union[int, str, None]) -> bytes:
    """AT+NAME=p1,p2,... (bridge.at.encode.command_line); a string no command line can carry fails
    the request before anything is sent."""
    try:
        return _line(name, *params)
    except Unwritable as exc:
        raise Fail(ErrorKind.INVALID_PARAMETER, str(exc), terminate=False) from None


@functools.lru_cache(maxsize=128, typed=True)  # typed: a Bare string is written unquoted
def _line(name: str, *params: Union[int, str, None]) -> bytes:
    """command_line, kept for the same command asked for again (MHTTPREQUEST of a polled URL)."""
    return command_line(name, *params)


def need_data_mode(profile: ModelProfile, what: str) -> None:
    """Data goes after ">" (any byte, no quoting rules); MN models have no data mode (fn 5)."""
    if not profile.get("data_mode", True):
        raise Fail(ErrorKind.UNSUPPORTED, f"{what} need data mode, which {profile.name} has not", terminate=False)


def header_lines(request: Request, method: str, target: Target, header_max: int) -> list[bytes]:
    """One bare "Name: value" per header (one AT+MHTTPHEADER call each: the module ends the line,
    and a CRLF of ours would read as an early end of the header block), checked by h11."""
    headers = [(n, v) for n, v in request.headers if n.lower() not in FRAMING_HEADERS]  # the module frames the body itself
    if target.credentials and request.header("authorization") is None:
        headers.append(basic_authorization(target.credentials))
    if request.byte_range is not None:
        headers.append(("Range", request.byte_range.header_value()))
    try:
        host = [] if request.header("host") is not None else [("Host", "module")]
        _check_head(method, target.path, tuple(host + headers))
        lines = [f"{name}: {value}".encode("latin-1") for name, value in headers]
    except (h11.LocalProtocolError, UnicodeEncodeError) as exc:
        raise Fail(ErrorKind.INVALID_PARAMETER, f"request header: {exc}", terminate=False) from None
    if any(len(line) > header_max for line in lines):
        raise Fail(ErrorKind.INVALID_PARAMETER, f"a header line is longer than {header_max}", terminate=False)
    return lines


def _check_head(method: str, path: str, headers: tuple) -> None:
    """h11's checks of a request head; raises h11.LocalProtocolError."""
    try:
        hash(headers)
    except TypeError:
        h11.Request(method=method, target=path, headers=list(headers))
    else:
        _checked_head(method, path, headers)


@functools.lru_cache(maxsize=64)
def _checked_head(method: str, path: str, headers: tuple) -> None:
    """_check_head, kept for a head asked for again (what passed once passes again)."""
    h11.Request(method=method, target=path, headers=list(headers))


def declared_length(request: Request, content_total: int) -> Optional[int]:
    """The Content-Length a request with a streamed body states, if the module can collect
    that much before MHTTPREQUEST (Content-Length mode); else None (chunked mode)."""
    value = request.header("content-length")
    if value is None or not value.strip().isdigit():
        return None
    length = int(value.strip())
    return length if 0 < length <= content_total else None


def body_of(request: Request) -> tuple[Optional[memoryview], Optional[Iterator[memoryview]]]:
    """(bytes for Content-Length mode, or a stream for chunked mode); an empty stream is no body."""
    body = request.body
    if body is None:
        return None, None
    if isinstance(body, (bytes, bytearray, memoryview)):
        view = memoryview(body).cast("B")
        return (view if len(view) else None), None
    pieces = _pull(body)
    first = next(pieces, None)  # one piece ahead: an empty stream is no body at all
    if first is None:
        return None, None
    return None, itertools.chain((first,), pieces)


def _pull(chunks: Iterable[Union[bytes, bytearray, memoryview]]) -> Iterator[memoryview]:
    """The caller's body pieces as byte views; a failing or non-bytes iterable ends the request."""
    try:
        iterator = iter(chunks)
        while True:
            try:
                chunk = next(iterator)
            except StopIteration:
                return
            view = memoryview(chunk).cast("B")
            if len(view):
                yield view
    except Exception as exc:  # the caller's iterable is no business of the module
        raise Fail(ErrorKind.SEND_FAILED, f"request body: {exc!r}") from exc


def slices(views: Iterable[memoryview], size: int) -> Iterator[tuple[memoryview, bool]]:
    """Pieces of at most `size` bytes, each with whether it is the last (one piece looked ahead)."""
    held: Optional[memoryview] = None
    for view in views:
        for start in range(0, len(view), size):
            if held is not None:
                yield held, False
            held = view[start:start + size]
    if held is not None:
        yield held, True


def counted(views: Iterable[memoryview], length: int) -> Iterator[memoryview]:
    """`views`, checked to add up to `length` bytes: a body that does not fails the request
    before its last piece goes out (slices looks one piece ahead)."""
    total = 0
    for view in views:
        total += len(view)
        if total > length:
            raise Fail(ErrorKind.SEND_FAILED, f"the request body is longer than its Content-Length {length}")
        yield view
    if total != length:
        raise Fail(ErrorKind.SEND_FAILED, f"the request body has {total} of its {length} bytes")
