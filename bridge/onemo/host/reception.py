"""One response from the module's +MHTTPURC reports into the shared model's events: the "header"
data parsed by h11, each "content" a BodyChunk checked against the counts before it, the end at
sum_len == content_len (chunked: the piece with cur_len 0), AT+MHTTPDLFILE progress as Progress.

The body pump: once a body streams, the content URCs that follow one in the framer's buffer are
taken as a run (ResponseFramer.take_payload_run), checked by :class:`ContentRun` on their fields
as they came, and become one BodyChunk -- no frame or event per URC.
"""
from __future__ import annotations

from typing import Optional

import h11

from bridge.at.dialect import Dialect
from bridge.at.frames import Info
from bridge.http import content_length, has_body, response_parser
from bridge.model import BodyChunk, ErrorKind, Event, Progress, ResponseEnd, ResponseHead
from bridge.onemo.host.errors import Fail

CONTENT_FIELDS = ("httpid", "content_len", "sum_len")  # what a run checks, besides its length


def no_body(head: ResponseHead, method: str) -> bool:
    """A response that ends with its header: HEAD, 1xx, 204, 304, Content-Length 0 (dialect-facts)."""
    return not has_body(method, head.status) or content_length(head.headers) == 0


def closes(head: Optional[ResponseHead]) -> bool:
    """The response ends its connection: "Connection: close", or HTTP/1.0 without keep-alive."""
    if head is None:
        return False
    tokens = {t.strip().lower() for n, v in head.headers if n.lower() == "connection" for t in v.split(",")}
    return "close" in tokens or (head.raw.startswith(b"HTTP/1.0") and "keep-alive" not in tokens)


def parse_head(raw: bytes, method: str) -> ResponseHead:
    """The header URC's data (status line and header lines) parsed by h11."""
    block = bytes(raw).rstrip(b"\r\n")
    connection = response_parser(method)
    try:
        connection.receive_data(block + b"\r\n\r\n")
        event = connection.next_event()
    except h11.RemoteProtocolError as exc:
        raise Fail(ErrorKind.RESPONSE_INVALID, f"response header: {exc}") from None
    if not isinstance(event, (h11.Response, h11.InformationalResponse)):
        raise Fail(ErrorKind.RESPONSE_INVALID, "response header: not a status line and header fields")
    headers = tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in event.headers.raw_items())
    return ResponseHead(event.status_code, event.reason.decode("latin-1"), block + b"\r\n", headers)


def content_positions(dialect: Dialect, urc: str) -> tuple[int, ...]:
    """Where CONTENT_FIELDS sit among the fields of the "content" URC (onemo.yaml)."""
    fields = dialect.frames[urc].variants["content"].fields
    return tuple(fields.index(name) for name in CONTENT_FIELDS)


class ContentRun:
    """The checks of :meth:`Reception.on_content` for the content URCs that follow one just taken,
    on their fields as they came: each must plainly be the next piece of the same response -- the
    same instance and total, written as bare digits, sum_len the bytes so far plus at least one
    byte and at most the total.  Any other ends the run; it is framed and checked as ever (and may
    fail the request there).  After the piece that completes the body nothing more is taken."""

    __slots__ = ("_at", "_httpid", "_total", "content_len", "received", "taken", "done")

    def __init__(self, positions: tuple[int, ...], httpid: int, content_len: int, received: int) -> None:
        self._at = positions
        self._httpid = b"%d" % httpid
        self._total = b"%d" % content_len
        self.content_len = content_len
        self.received = received
        self.taken = 0
        self.done = False

    def __call__(self, fields: tuple[bytes, ...], length: int) -> bool:
        at = self._at
        sum_len = fields[at[2]]
        if (not length or fields[at[0]] != self._httpid or fields[at[1]] != self._total
                or not sum_len.isdigit() or len(sum_len) > 18):
            return False
        received = int(sum_len)
        if received != self.received + length or (self.content_len and received > self.content_len):
            return False
        self.received = received
        self.taken += 1
        self.done = received == self.content_len
        return True


class Reception:
    """One response's URCs into events; raises Fail where they do not add up."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.head: Optional[ResponseHead] = None
        self.received = 0
        self.done = False

    def on_head(self, payload: Optional[bytes]) -> list[Event]:
        if self.head is not None:
            raise Fail(ErrorKind.RESPONSE_INVALID, "a second response header")
        self.head = parse_head(payload or b"", self.method)
        self.done = no_body(self.head, self.method)
        return [self.head, ResponseEnd(0)] if self.done else [self.head]

    def on_content(self, info: Info) -> list[Event]:
        if self.head is None:
            raise Fail(ErrorKind.RESPONSE_INVALID, "content before the response header")
        content_len, sum_len, cur_len = info.int("content_len"), info.int("sum_len"), info.int("cur_len")
        data = info.payload or b""
        if len(data) != cur_len or sum_len != self.received + cur_len or (content_len and sum_len > content_len):
            raise Fail(ErrorKind.RESPONSE_INVALID,
                       f"content report {content_len},{sum_len},{cur_len} with {len(data)} bytes after {self.received}")
        events: list[Event] = []
        if cur_len:
            events.append(BodyChunk(data, self.received, content_len or None))
            self.received = sum_len
        if (content_len and sum_len == content_len) or (not content_len and not cur_len):
            self.done = True
            events.append(ResponseEnd(self.received))
        return events

    def on_run(self, run: ContentRun, first: BodyChunk, data: bytes) -> list[Event]:
        """`first` and the run after it (`data`: their bytes joined) as one BodyChunk."""
        self.received = run.received
        events: list[Event] = [BodyChunk(data, first.offset, first.total)]
        if run.done:
            self.done = True
            events.append(ResponseEnd(self.received))
        return events

    def on_progress(self, info: Info) -> list[Event]:
        done, total, percent = info.int("downloaded"), info.int("content_length"), info.int("percent")
        entity = info.get("entity_length")
        events: list[Event] = [Progress(done, total or None, int(entity) if entity else None)]
        if percent >= 100:
            self.done = True
            self.received = done
            events.append(ResponseEnd(done))
        return events
