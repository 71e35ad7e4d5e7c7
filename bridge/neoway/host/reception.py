"""One HTTP response from the module's +HTTPRECV output into the shared model's events.

recvmode 1 ("+HTTPRECV: <len>,<data>"): the pieces, concatenated, are the raw HTTP response as
the server sent it; an h11 client connection parses it (head, Content-Length or chunked body,
HEAD and 1xx rules).  recvmode 0 (bare "+HTTPRECV:", for a module that ignores the setting): the
ResponseFramer has framed the raw response with h11 already; its HttpHead / HttpBody / HttpEnd
frames are only renamed.  A body delimited by the connection closing ends at +HTTPCLOSED; a
close before the body is complete, or bytes that are no HTTP response, raise Fail.
"""
from __future__ import annotations

import re
from typing import Optional, Union

import h11

from bridge.at.frames import HttpBody, HttpEnd, HttpHead
from bridge.http import content_length, has_body, response_parser
from bridge.model import BodyChunk, ErrorKind, Event, ResponseEnd, ResponseHead
from bridge.roles.host import Fail

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_HEAD_MAX = 64 * 1024  # bytes of response head before it is given up as no HTTP


def _total(method: str, status: int, headers: tuple[tuple[str, str], ...]) -> Optional[int]:
    """Content-Length, when it frames the body."""
    return content_length(headers) if has_body(method, status) else None


def _raw_head(block: bytes) -> bytes:
    """Status line and header lines, each ended by CRLF, without the empty line."""
    return block.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"


class Reception:
    def __init__(self, method: str, closed_kind: ErrorKind = ErrorKind.CONNECTION_CLOSED) -> None:
        self.method = method
        self.closed_kind = closed_kind
        self.head: Optional[ResponseHead] = None
        self.total: Optional[int] = None
        self.received = 0
        self.done = False
        self.started = False
        self._conn = response_parser(method)
        self._head_bytes = bytearray()  # until the head is parsed: to cut its raw bytes out

    # ---- recvmode 1 ---------------------------------------------------------------------

    def on_piece(self, data: bytes) -> list[Event]:
        """One "+HTTPRECV: <len>," payload."""
        self.started = True
        if self.done:
            return []
        if self.head is None:
            self._head_bytes += data
            if len(self._head_bytes) > _HEAD_MAX:
                raise Fail(ErrorKind.RESPONSE_INVALID, f"no HTTP response head in {len(self._head_bytes)} bytes")
        self._conn.receive_data(data)
        return self._events(ErrorKind.RESPONSE_INVALID)

    def on_closed(self) -> list[Event]:
        """The module reported the link closed."""
        if self.done:
            return []
        if self.head is None and not self._head_bytes:
            raise Fail(self.closed_kind, "the link closed before a response came")
        self._conn.receive_data(b"")
        events = self._events(self.closed_kind)
        if not self.done:
            raise Fail(self.closed_kind, f"the link closed after {self.received} body bytes of {self.total or 'an unknown number'}")
        return events

    def _events(self, kind: ErrorKind) -> list[Event]:
        """What h11 makes of the bytes so far; a protocol error is a Failure of `kind`."""
        events: list[Event] = []
        while not self.done:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                raise Fail(kind, f"HTTP response: {exc}") from None
            if event is h11.NEED_DATA or event is h11.PAUSED:
                break
            events += self._event(event)
        return events

    def _event(self, event: object) -> list[Event]:
        if isinstance(event, h11.InformationalResponse):
            self._cut_head()  # a 100 Continue: the real response follows
            return []
        if isinstance(event, h11.Response):
            raw = self._cut_head()
            headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers.raw_items())
            return [self._head(event.status_code, event.reason.decode("latin-1"), raw, headers)]
        if isinstance(event, h11.Data):
            return [self._chunk(bytes(event.data))]
        if isinstance(event, h11.EndOfMessage):
            return [self._end()]
        return []

    def _cut_head(self) -> bytes:
        match = _HEAD_END.search(self._head_bytes)
        if match is None:  # h11 found a head, so it is there
            raise Fail(ErrorKind.RESPONSE_INVALID, "HTTP response head without its empty line")
        raw = _raw_head(bytes(self._head_bytes[:match.start()]))
        del self._head_bytes[:match.end()]
        return raw

    # ---- recvmode 0 (framed by the ResponseFramer) --------------------------------------------

    def on_frame(self, frame: Union[HttpHead, HttpBody, HttpEnd]) -> list[Event]:
        self.started = True
        if self.done:
            return []
        if isinstance(frame, HttpHead):
            if self.head is not None:
                raise Fail(ErrorKind.RESPONSE_INVALID, "a second response head")
            return [self._head(frame.status, frame.reason, frame.raw, frame.headers)]
        if self.head is None:
            raise Fail(ErrorKind.RESPONSE_INVALID, "response body before its head")
        if isinstance(frame, HttpBody):
            return [self._chunk(frame.data)] if frame.data else []
        return [self._end()]

    # ---- events ------------------------------------------------------------------------------

    def _head(self, status: int, reason: str, raw: bytes, headers: tuple[tuple[str, str], ...]) -> ResponseHead:
        self.head = ResponseHead(status, reason, raw, headers)
        self.total = _total(self.method, status, headers)
        self._head_bytes = bytearray()
        return self.head

    def _chunk(self, data: bytes) -> BodyChunk:
        chunk = BodyChunk(data, self.received, self.total)
        self.received += len(data)
        return chunk

    def _end(self) -> ResponseEnd:
        self.done = True
        return ResponseEnd(self.received)
