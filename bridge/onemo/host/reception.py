"""One response from the module's +MHTTPURC reports into the shared model's events: the "header"
data parsed by h11, each "content" a BodyChunk checked against the counts before it, the end at
sum_len == content_len (chunked: the piece with cur_len 0), AT+MHTTPDLFILE progress as Progress.

The body pump: once a body streams, the content URCs that follow one in the framer's buffer are
taken as a run (ResponseFramer.take_payload_run), checked by :class:`ContentRun` on their fields
as they came, and become one BodyChunk -- no frame or event per URC.  :class:`ContentPump` cuts
the same runs out of a read's bytes before they reach the framer, by the prefix the module writes.
"""
from __future__ import annotations

import re
from typing import Optional, Union

import h11

from bridge.at.dialect import Dialect
from bridge.at.frames import Info
from bridge.http import content_length, has_body, plain_response_head, response_parser
from bridge.model import BodyChunk, ErrorKind, Event, Progress, ResponseEnd, ResponseHead
from bridge.onemo.host.errors import Fail

CONTENT_FIELDS = ("httpid", "content_len", "sum_len")  # what a run checks, besides its length
_LENGTH = "cur_len"
_BLANK = re.compile(rb"[\r\n \t\x00]*+")  # what the framer steps over between two frames
_COUNTS = re.compile(rb"([0-9]{1,18}),([0-9]{1,10}),")  # sum_len and cur_len as bare digits, as ContentRun takes them
_COUNTS_MAX = 30  # their bytes at most
_COUNTS_BEGUN = re.compile(rb"[0-9]{0,18}(?:,[0-9]{0,10})?")
_SEP_MAX = 8  # blanks between two content URCs that are guessed
_NO_TOTAL = 1 << 62  # chunked: no total to stay within


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
    """The header URC's data (status line and header lines) parsed as h11 parses it (by h11
    unless it is plainly written: bridge.http.plain_response_head)."""
    block = bytes(raw).rstrip(b"\r\n")
    plain = plain_response_head(block)
    if plain is not None:
        status, reason, fields = plain
        return ResponseHead(status, reason.decode("latin-1"), block + b"\r\n",
                            tuple((n.decode("latin-1"), v.decode("latin-1")) for n, v in fields))
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
        return self.taken(data, first.offset, first.total, run.received)

    def taken(self, data: bytes, offset: int, total: Optional[int], received: int) -> list[Event]:
        """Body bytes a run took, from `offset` up to `received`, as one BodyChunk; the end if they
        complete the body (`total` known and reached)."""
        self.received = received
        events: list[Event] = [BodyChunk(data, offset, total)]
        if total and received == total:
            self.done = True
            events.append(ResponseEnd(received))
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


class ContentPump:
    """A response's content URCs cut out of a read's bytes before the framer sees them.

    `head` is the prefix of the first content URC as the module wrote it, up to and including its
    content_len field, with httpid and content_len as bare digits: each later content URC of the
    response starts with the same bytes, then sum_len and cur_len.  A URC is taken only as
    :meth:`ResponseFramer.take_payload_run <bridge.at.responses.ResponseFramer.take_payload_run>`
    with :class:`ContentRun` would take it: `head` then bare digits, sum_len the bytes so far plus
    at least one byte and at most the total, cur_len at most `most`, the payload raw (followed by
    CR).  The prefix itself is the framer's match of a content URC, so the framer would read the
    same fields.  The next prefix is guessed (the same blanks before it and the same cur_len) and
    compared at once; only a miss costs a regex."""

    __slots__ = ("head", "content_len", "most", "received", "_sep", "_cur")

    def __init__(self, head: bytes, content_len: int, received: int, most: int) -> None:
        self.head = head
        self.content_len = content_len
        self.received = received
        self.most = most
        self._sep = b""
        self._cur = 0

    @classmethod
    def learn(cls, info: Info, httpid: int, received: int, most: int) -> Optional["ContentPump"]:
        """From a content URC framed as usual (its fields in the order ContentRun reads them); None
        when its prefix is not written plainly."""
        if tuple(name for name, _ in info.fields) != (*CONTENT_FIELDS, _LENGTH):
            return None
        content_len = info.int("content_len")
        counts = b"%d,%d," % (info.int("sum_len"), info.int(_LENGTH))
        head = info.raw[:-len(counts)]
        if not info.raw.endswith(counts) or not head.endswith(b",%d,%d," % (httpid, content_len)):
            return None
        return cls(head, content_len, received, most)

    def take(self, data: bytes, pos: int) -> tuple[list[memoryview], int]:
        """The payloads (views of `data`) of the content URCs at `pos` in `data` that are whole and
        go on the body, and where the last ends (its CR is left, as the framer leaves it)."""
        head, most, total, end = self.head, self.most, self.content_len, len(data)
        received, cur, sep = self.received, self._cur, self._sep
        payloads: list[memoryview] = []
        append, startswith, view = payloads.append, data.startswith, memoryview(data)
        while not (total and received == total):
            at = _BLANK.match(data, pos).end()  # type: ignore[union-attr]
            counts = _COUNTS.match(data, at + len(head)) if startswith(head, at) else None
            if counts is None:
                break
            length, start = int(counts[2]), counts.end()
            stop = start + length
            if (int(counts[1]) != received + length or not 0 < length <= most or (total and received + length > total)
                    or stop >= end or data[stop] != 0x0D):
                break
            append(view[start:stop])
            received, cur = received + length, length
            sep, pos = (data[pos:at] if at - pos <= _SEP_MAX else sep), stop
            # The next ones as guessed: the same blanks before them, the same cur_len; where the
            # guess puts the CR after the payload is looked at before the guess is written.
            prefix, length_field = sep + head, b",%d," % cur
            fixed, last = len(prefix) + len(length_field) + cur, (total - cur) if total else _NO_TOTAL
            digits = len(b"%d" % (received + cur))
            ceiling = 10 ** digits
            while received <= last:
                sum_len = received + cur
                while sum_len >= ceiling:
                    digits, ceiling = digits + 1, ceiling * 10
                stop = pos + fixed + digits
                if stop >= end or data[stop] != 0x0D or not startswith(b"%s%d%s" % (prefix, sum_len, length_field), pos):
                    break
                append(view[stop - cur:stop])
                received, pos = sum_len, stop
        self.received, self._sep, self._cur = received, sep, cur
        return payloads, pos

    def begun(self, rest: Union[bytes, bytearray]) -> int:
        """The payload bytes so far of the content URC that `rest` begins, when its prefix is whole
        and :meth:`take` will take it once the rest of it (and the CR after it) has come; -1: not so."""
        head, total = self.head, self.content_len
        at = _BLANK.match(rest).end()  # type: ignore[union-attr]
        counts = _COUNTS.match(rest, at + len(head)) if rest.startswith(head, at) else None
        if counts is None:
            return -1
        length = int(counts[2])
        if (int(counts[1]) != self.received + length or not 0 < length <= self.most
                or (total and self.received + length > total) or counts.end() + length < len(rest)):
            return -1
        return len(rest) - counts.end()

    def owed(self, fed: bytes, buffered: int, in_payload: bool) -> Optional[bytes]:
        """The beginning of the content URC the framer holds unfinished, when `fed` (the bytes it
        was given last) shows it all: the framer's `buffered` bytes are the payload so far after a
        whole prefix (`in_payload`), or a prefix begun.  None: something else, or not known."""
        if not 0 < buffered <= len(fed):
            return None
        head = self.head
        if not in_payload:  # a prefix begun: the framer has stepped over the blanks before it
            begun = fed[-buffered:]
            whole = begun.startswith(head) and _COUNTS_BEGUN.fullmatch(begun, len(head))
            return begun if head.startswith(begun) or whole else None
        prefix_end = len(fed) - buffered
        at = fed.rfind(head, max(0, prefix_end - len(head) - _COUNTS_MAX), prefix_end)
        if at < 0 or not _COUNTS.fullmatch(fed, at + len(head), prefix_end):
            return None
        return fed[at:]

    def rest_after(self, owed: bytes, data: Union[bytes, bytearray]) -> tuple[int, int]:
        """Where in `data` the URC `owed` begins ends (its CR), and how many bytes of `data` the
        framer needs to finish it with the blanks after it: given them, it frames that URC and
        rests between frames.  (0, 0): not plainly so."""
        head = self.head
        lead = owed if len(owed) >= len(head) + _COUNTS_MAX else owed + bytes(data[:len(head) + _COUNTS_MAX])
        counts = _COUNTS.match(lead, len(head)) if lead.startswith(head) else None
        if counts is None:
            return 0, 0
        stop = counts.end() + int(counts[2]) - len(owed)
        if not 0 <= stop < len(data) or data[stop] != 0x0D:
            return 0, 0
        return stop, _BLANK.match(data, stop).end()  # type: ignore[union-attr]
