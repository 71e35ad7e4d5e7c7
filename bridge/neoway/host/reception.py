"""One HTTP response from the module's +HTTPRECV output into the shared model's events.

recvmode 1 ("+HTTPRECV: <len>,<data>"): the pieces, concatenated, are the raw HTTP response as
the server sent it; an h11 client connection parses it (head, Content-Length or chunked body,
HEAD and 1xx rules).  recvmode 0 (bare "+HTTPRECV:", for a module that ignores the setting): the
ResponseFramer has framed the raw response with h11 already; its HttpHead / HttpBody / HttpEnd
frames are only renamed.  A body delimited by the connection closing ends at +HTTPCLOSED; a
close before the body is complete, or bytes that are no HTTP response, raise Fail (BadResponse
with the events of the bytes before the fault).

The body pump: once the head is parsed, the pieces of the same kind that follow a piece in the
framer's buffer are taken as a run (ResponseFramer.take_payload_run), accepted by
a :class:`~bridge.at.payloads.RunBudget` while they can only be more of this body -- each of at
least one byte (an empty piece is framed and fed alone: h11 reads it as the end of the input) and,
with a Content-Length body, none past its end -- and go to h11 joined: the body bytes one call
brings become one BodyChunk, however the module cut them.

Once h11 has parsed the head of a body that Content-Length frames and holds no byte of it, the
body's bytes are counted here instead (:meth:`Reception._count`): h11 would only cut them to the
same length and give the same end, bytes after it and errors.
"""
from __future__ import annotations

import logging
import re
from typing import Callable, Optional, Union

import h11

from bridge.at.frames import HttpBody, HttpEnd, HttpHead
from bridge.at.payloads import RunBudget
from bridge.http import content_length, has_body, response_parser
from bridge.model import BodyChunk, ErrorKind, Event, ResponseEnd, ResponseHead
from bridge.roles.host import Fail

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_HEAD_MAX = 64 * 1024  # bytes of response head before it is given up as no HTTP
# h11's words (ContentLengthReader.read_eof) for a Content-Length body the input ended inside
_SHORT_BODY = "HTTP response: peer closed connection without sending complete message body (received {} bytes, expected {})"
log = logging.getLogger(__name__)


class BadResponse(Fail):
    """The bytes are no valid HTTP response from some point on; `before`: the events of the bytes
    before that point (body bytes that came before the fault are delivered, however they were cut)."""

    def __init__(self, kind: ErrorKind, detail: str, before: list[Event]) -> None:
        super().__init__(kind, detail)
        self.before = before


TakeRun = Callable[[RunBudget, bytes], bytes]  # (run, first) -> first and the pieces the run took, joined


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
        self._body: list[bytes] = []  # body bytes h11 gave that are not in a BodyChunk yet
        self._held = 0  # their length
        self._counting = False  # the body's bytes are counted here, h11 has the head only
        self._trailing = 0  # while counting: bytes after the end of the body

    # ---- recvmode 1 ---------------------------------------------------------------------

    def on_piece(self, data: bytes, take_run: Optional[TakeRun] = None) -> list[Event]:
        """One "+HTTPRECV: <len>," payload; with `take_run` (the body pump), also the pieces that
        follow it in the framer's buffer while a RunBudget of the body bytes still to come accepts them: once the head is known,
        `data` and they go to h11 joined; the body bytes of the call are one BodyChunk."""
        self.started = True
        if self.done:
            return []
        events: list[Event] = []
        if take_run is not None and self.head is not None:
            data, take_run = take_run(RunBudget(self.left_after(len(data))), data), None
        self._receive(data, events)
        if take_run is not None and self.head is not None and not self.done:  # the head came in `data`
            rest = take_run(RunBudget(self.left_after(0)), b"")
            if rest:
                self._receive(rest, events)
        self._flush(events)
        if self.done:
            self._note_trailing()
        return events

    def pass_on(self, data: bytes) -> bool:
        """The body pump's shortcut: bytes of a Content-Length body being counted that do not
        complete it are taken as delivered, as :meth:`on_piece` would give them in one BodyChunk
        (True); anything else is left to :meth:`on_piece` (False, nothing done)."""
        if not self._counting or self._held or not data or len(data) >= self.total - self.received:  # type: ignore[operator]
            return False
        self.received += len(data)
        return True

    def left_after(self, coming: int) -> Optional[int]:
        """Body bytes of a Content-Length body still to come after `coming` more (None: unknown)."""
        return None if self.total is None else self.total - self.received - self._held - coming

    def _receive(self, data: bytes, events: list[Event]) -> None:
        if self._counting:
            self._count(data, events)
            return
        if self.head is None:
            self._head_bytes += data
            if len(self._head_bytes) > _HEAD_MAX:
                raise Fail(ErrorKind.RESPONSE_INVALID, f"no HTTP response head in {len(self._head_bytes)} bytes")
        self._conn.receive_data(data)
        self._drain(ErrorKind.RESPONSE_INVALID, events)

    def _count(self, data: bytes, events: list[Event]) -> None:
        """Bytes of a Content-Length body, held for one BodyChunk; what comes after its end is
        trailing.  No bytes: the input ended (an empty piece), inside the body."""
        if not data:
            self._short(ErrorKind.RESPONSE_INVALID, events)
        left = self.total - self.received - self._held  # type: ignore[operator]
        if len(data) < left:
            self._body.append(data)
            self._held += len(data)
            return
        self._body.append(data if len(data) == left else data[:left])
        self._held += left
        self._trailing = len(data) - left
        self._flush(events)
        events.append(self._end())

    def _short(self, kind: ErrorKind, events: list[Event]) -> None:
        """The input ended inside a counted body: what h11 raises then."""
        self._flush(events)
        raise BadResponse(kind, _SHORT_BODY.format(self.received, self.total), events)

    def _note_trailing(self) -> None:
        trailing = self._trailing if self._counting else len(self._conn.trailing_data[0])
        if trailing:
            log.warning("Neoway module output dropped: %d bytes after the end of the HTTP response", trailing)

    def on_closed(self) -> list[Event]:
        """The module reported the link closed."""
        if self.done:
            return []
        if self.head is None and not self._head_bytes:
            raise Fail(self.closed_kind, "the link closed before a response came")
        events: list[Event] = []
        if self._counting:
            self._short(self.closed_kind, events)
        self._conn.receive_data(b"")
        self._drain(self.closed_kind, events)
        self._flush(events)
        if not self.done:
            raise Fail(self.closed_kind, f"the link closed after {self.received} body bytes of {self.total or 'an unknown number'}")
        return events

    def _drain(self, kind: ErrorKind, events: list[Event]) -> None:
        """What h11 makes of the bytes so far onto `events`, its body bytes held for one BodyChunk;
        a protocol error is a BadResponse of `kind` after the events before it."""
        while not self.done:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                self._flush(events)
                raise BadResponse(kind, f"HTTP response: {exc}", events) from None
            if event is h11.NEED_DATA or event is h11.PAUSED:
                # h11 holds no byte: the rest of a Content-Length body is counted from here
                self._counting = event is h11.NEED_DATA and self.total is not None and self.head is not None
                return
            if type(event) is h11.Data:
                self._body.append(event.data)
                self._held += len(event.data)
                continue
            self._flush(events)
            events += self._event(event)

    def _flush(self, events: list[Event]) -> None:
        """The body bytes held, as one BodyChunk."""
        if self._body:
            data = bytes(self._body[0]) if len(self._body) == 1 else b"".join(self._body)
            self._body.clear()
            self._held = 0
            events.append(self._chunk(data))

    def _event(self, event: object) -> list[Event]:
        if isinstance(event, h11.InformationalResponse):
            self._cut_head()  # a 100 Continue: the real response follows
            return []
        if isinstance(event, h11.Response):
            raw = self._cut_head()
            headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers.raw_items())
            return [self._head(event.status_code, event.reason.decode("latin-1"), raw, headers)]
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
