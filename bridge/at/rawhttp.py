"""A raw HTTP response inside the module's output (Neoway recvmode 0: "+HTTPRECV:" then the
response as the server sent it).  h11 does the HTTP framing; this class only finds where the
response ends in the stream -- by Content-Length or chunked framing, or, for a response that is
delimited by the connection closing, at the module's "+HTTPCLOSED:"-style URC.

Body bytes come out in blocks aligned to `block` bytes of body offset, so the frames do not
depend on how the input was chunked; a live reader calls :meth:`RawHttpResponse.release` to get
a partial block without waiting for it to fill.
"""
from __future__ import annotations

import re
from typing import Optional

import h11

from bridge.at.frames import Frame, FramingError, HttpBody, HttpEnd, HttpHead
from bridge.http import FRAMING_HEADERS, has_body, response_parser

_HEAD_END = re.compile(rb"\r?\n\r?\n")
_STATUS_START = b"HTTP/"  # how every response's status line begins (RFC 9112 4)
HEAD_MAX = 65536  # longest response head looked for; past it the response is refused


class RawHttpResponse:
    def __init__(self, method: str, closed_by: tuple[str, ...], block: int = 16384, head_max: int = HEAD_MAX):
        self.method = method
        self.block = block
        self.head_max = head_max
        self._markers = [re.compile(rb"(?:\r?\n)?" + re.escape(name.encode()) + rb":") for name in closed_by]
        self._conn = response_parser(method, max_incomplete_event_size=head_max)
        self._head: Optional[HttpHead] = None
        self._scanned = 0  # where the search for the head's end goes on
        self._until_close = False
        self._pending = bytearray()
        self._offset = 0  # body bytes already emitted
        self.done = False
        self.refused = False  # done at once: the bytes after the bare line are no response (none taken)
        self._status_seen = False  # the first bytes (blank lines aside) were "HTTP/"

    def take(self, data: bytes, at_eof: bool) -> tuple[int, list[Frame]]:
        """Frame what it can of `data`; returns (bytes consumed, frames)."""
        if self._head is None:
            return self._take_head(data, at_eof)
        if self._until_close:
            return self._take_until_marker(data, at_eof)
        return self._take_framed(data, at_eof)

    def abandon(self) -> bytes:
        """Stop here (the owner's deadline): the bytes taken but not yet given out as body."""
        self.done = True
        held, self._pending = bytes(self._pending), bytearray()
        return held

    def release(self) -> list[Frame]:
        """The body bytes held back for block alignment, now."""
        return self._body_blocks(flush=True)

    # -- head --------------------------------------------------------------------

    def _take_head(self, data: bytes, at_eof: bool) -> tuple[int, list[Frame]]:
        if not self._status_seen:
            start = data.lstrip(b"\r\n")[:len(_STATUS_START)]
            if not _STATUS_START.startswith(start):  # e.g. a command's OK: framed as what it is
                self.done = self.refused = True
                return 0, [FramingError("no HTTP response after the bare line", data[:64])]
            if len(start) < len(_STATUS_START):
                return self._short_head(data, at_eof)
            self._status_seen = True
        end = _HEAD_END.search(data, self._scanned, self.head_max + 4)
        if end is None:
            self._scanned = max(0, len(data) - 3)  # an end straddling the next read is found then
            return self._short_head(data, at_eof)
        head_bytes = data[: end.end()]
        self._conn.receive_data(head_bytes)
        try:
            event = self._conn.next_event()
        except h11.RemoteProtocolError as exc:
            return end.end(), self._fail(f"bad HTTP response head: {exc}", head_bytes)
        if not isinstance(event, h11.Response):
            return end.end(), self._fail("bad HTTP response head", head_bytes)
        raw = head_bytes[: end.start()].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n") + b"\r\n"
        headers = tuple((name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers.raw_items())
        self._head = HttpHead(event.status_code, event.reason.decode("latin-1"), headers, raw)
        self._until_close = self._body_until_close(event)
        frames: list[Frame] = [self._head]
        consumed = end.end()
        if self._no_body(event):
            self.done = True
            frames.append(HttpEnd(0, "length"))
            return consumed, frames
        more, body_frames = self.take(data[consumed:], at_eof)
        return consumed + more, frames + body_frames

    def _short_head(self, data: bytes, at_eof: bool) -> tuple[int, list[Frame]]:
        """The head is not whole in `data`: wait for more, unless the input ended or it is too long."""
        if at_eof:
            return len(data), self._fail("input ended inside an HTTP header block", data)
        if len(data) > self.head_max + 4:
            return self.head_max, self._fail(f"no end of the HTTP header block in {self.head_max} bytes", data)
        return 0, []

    def _no_body(self, event: h11.Response) -> bool:
        return not has_body(self.method, event.status_code)

    def _body_until_close(self, event: h11.Response) -> bool:
        if self._no_body(event):
            return False
        names = {name.decode("latin-1").lower() for name, _ in event.headers}
        return not FRAMING_HEADERS & names

    # -- body ----------------------------------------------------------------------

    def _take_framed(self, data: bytes, at_eof: bool) -> tuple[int, list[Frame]]:
        if not data and not at_eof:
            return 0, []  # h11 takes b"" as the peer closing
        self._conn.receive_data(data)
        frames: list[Frame] = []
        while True:
            try:
                event = self._conn.next_event()
            except h11.RemoteProtocolError as exc:
                self.done = True
                return len(data), frames + self._body_blocks(flush=True) + [FramingError(f"bad HTTP body: {exc}")]
            if isinstance(event, h11.Data):
                self._pending += event.data
                frames += self._body_blocks(flush=False)
            elif isinstance(event, h11.EndOfMessage):
                self.done = True
                leftover = len(self._conn.trailing_data[0])
                frames += self._body_blocks(flush=True)
                frames.append(HttpEnd(self._offset, "length"))
                return len(data) - leftover, frames
            else:  # NEED_DATA (or PAUSED, which cannot happen before EndOfMessage)
                if at_eof:
                    self.done = True
                    frames += self._body_blocks(flush=True)
                    frames.append(FramingError("input ended inside an HTTP body"))
                return len(data), frames

    def _take_until_marker(self, data: bytes, at_eof: bool) -> tuple[int, list[Frame]]:
        found = None
        for marker in self._markers:
            match = marker.search(data)
            if match and (found is None or match.start() < found.start()):
                found = match
        if found is not None:
            self._pending += data[: found.start()]
            self.done = True
            name = data[found.start():found.end() - 1].strip().decode()
            return found.start(), self._body_blocks(flush=True) + [HttpEnd(self._offset, name)]
        if at_eof:
            self._pending += data
            self.done = True
            return len(data), self._body_blocks(flush=True) + [HttpEnd(self._offset, "eof")]
        keep = max((len(m.pattern) for m in self._markers), default=0)  # a marker may straddle reads
        usable = max(0, len(data) - keep)
        self._pending += data[:usable]
        return usable, self._body_blocks(flush=False)

    def _body_blocks(self, flush: bool) -> list[Frame]:
        frames: list[Frame] = []
        pending, block = self._pending, self.block
        start = 0
        while len(pending) - start >= block:
            frames.append(HttpBody(bytes(pending[start:start + block]), self._offset))
            self._offset += block
            start += block
        if flush and len(pending) > start:
            frames.append(HttpBody(bytes(pending[start:]), self._offset))
            self._offset += len(pending) - start
            start = len(pending)
        del pending[:start]
        return frames

    def _fail(self, reason: str, data: bytes) -> list[Frame]:
        self.done = True
        return [FramingError(reason, data[:64])]
